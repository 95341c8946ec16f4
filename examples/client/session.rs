//! Logging in, and logging in again after losing the server: what both the screen and the
//! line mode use. The waits come from [`securecom_host::reconnect::Backoff`].

use std::fmt;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use securecom_host::chat::{FileBlockList, FileKnownKeys};
use securecom_host::reconnect::{Backoff, BackoffPolicy};
use securecom_proto::client::ClientEvent;
use securecom_proto::handshake::HandshakeError;
use securecom_proto::session::CloseReason;
use securecom_tokio::{Client, ClientHandle, ClientOptions, ConnectError};
use tokio::sync::mpsc::UnboundedReceiver;

use crate::crl_update::CrlUpdates;

/// A logged-in session: the handle for commands and its events.
pub(crate) type Connected = (ClientHandle, UnboundedReceiver<ClientEvent>);

/// Everything needed to log in, again and again.
pub(crate) struct Connector {
    /// The server's address, as given with `--server`.
    pub(crate) server: String,
    /// The configuration, replaced after a login that delivered a newer CRL.
    pub(crate) config: CrlUpdates,
    pub(crate) callback_port: Option<u16>,
    pub(crate) known_keys: PathBuf,
    /// Users blocked with `/block` (shared with the commands): every new session blocks
    /// them from its first moment.
    pub(crate) blocked: Blocked,
}

/// The users blocked with `/block`, kept in their file (`--blocked`).
pub(crate) type Blocked = Arc<Mutex<FileBlockList>>;

/// Why logging in failed.
#[derive(Debug)]
pub(crate) enum LoginError {
    /// The known-keys file (`--known-keys`) cannot be used.
    KnownKeys(String),
    /// Connecting or the handshake failed.
    Connect(ConnectError),
    /// The callback connection (`--callback-port`) could not be set up.
    Callback(String),
}

impl fmt::Display for LoginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoginError::KnownKeys(e) => write!(f, "known-keys file (--known-keys) {e}"),
            LoginError::Connect(e) => write!(f, "{e}"),
            LoginError::Callback(e) => write!(f, "--callback-port: {e}"),
        }
    }
}

impl LoginError {
    /// Whether trying again later may succeed: the server is away, busy or restarting.
    /// A refused login, a bad certificate or a local file problem stays as it is.
    fn is_transient(&self) -> bool {
        match self {
            LoginError::Connect(ConnectError::Io(_) | ConnectError::Closed) => true,
            LoginError::Connect(ConnectError::Handshake(HandshakeError::Timeout)) => true,
            LoginError::Connect(ConnectError::Handshake(HandshakeError::Rejected(reason))) => {
                *reason != CloseReason::REPLACED
            }
            _ => false,
        }
    }
}

impl Connector {
    /// Connects, logs in and, with `--callback-port`, asks for the callback connection.
    pub(crate) async fn connect(&self) -> Result<Connected, LoginError> {
        let known_keys = FileKnownKeys::open(&self.known_keys)
            .map_err(|e| LoginError::KnownKeys(format!("{}: {e}", self.known_keys.display())))?;
        let (client, events) = Client::connect(
            self.server.as_str(),
            self.config.config(),
            ClientOptions {
                callback_listen: self
                    .callback_port
                    .map(|port| SocketAddr::from(([0, 0, 0, 0], port))),
                known_keys: Box::new(known_keys),
                blocked: self
                    .blocked
                    .lock()
                    .map(|b| b.users().cloned().collect())
                    .unwrap_or_default(),
                ..ClientOptions::default()
            },
        )
        .await
        .map_err(LoginError::Connect)?;
        if let Some(crl) = client.newer_crl() {
            self.config.adopt(crl);
        }
        if let Some(port) = self.callback_port {
            client
                .register_callback(port)
                .await
                .map_err(|e| LoginError::Callback(e.to_string()))?;
        }
        Ok((client, events))
    }
}

/// How a connection to the server was lost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Loss {
    /// The server closed the session, for this reason.
    Closed(CloseReason),
    /// The connection ended without the server's close: the server stopped, or the
    /// network failed.
    Reset,
}

impl Loss {
    /// How the session ended, from the event that says so.
    pub(crate) fn from_event(event: &ClientEvent) -> Option<Loss> {
        match event {
            ClientEvent::Closed { reason } => Some(Loss::Closed(*reason)),
            ClientEvent::ConnectionLost { .. } => Some(Loss::Reset),
            _ => None,
        }
    }

    /// Keeps the first reason known: a close explains the end of the connection after it.
    pub(crate) fn merge(first: Option<Loss>, next: Loss) -> Loss {
        first.unwrap_or(next)
    }

    /// Whether logging in again makes sense: not when a newer login of ours replaced us.
    pub(crate) fn worth_reconnecting(self) -> bool {
        self != Loss::Closed(CloseReason::REPLACED)
    }
}

impl fmt::Display for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Loss::Closed(reason) => write!(f, "the server closed the connection: {reason}"),
            Loss::Reset => f.write_str(
                "the connection to the server was cut (the server stopped, or the network failed)",
            ),
        }
    }
}

/// What the reconnecting loop tells the user interface.
pub(crate) enum Notice<'a> {
    /// Waiting `delay` before attempt `attempt` of `max`.
    Waiting {
        attempt: u32,
        max: u32,
        delay: Duration,
    },
    /// Attempt `attempt` failed.
    Failed { attempt: u32, error: &'a LoginError },
}

/// How reconnecting ended.
pub(crate) enum Reconnected {
    /// Logged in again.
    Online(Connected),
    /// The user stopped it.
    Cancelled,
    /// No more attempts, or an error that trying again cannot fix: the one-line reason.
    GaveUp(String),
}

/// Logs in again after `loss`, waiting between attempts as `policy` says, until logged
/// in, given up, or `cancel` completes (the user quit).
pub(crate) async fn reconnect(
    connector: &Connector,
    loss: Loss,
    policy: BackoffPolicy,
    mut notify: impl FnMut(Notice<'_>),
    cancel: impl Future<Output = ()>,
) -> Reconnected {
    if !loss.worth_reconnecting() {
        return Reconnected::GaveUp(format!("{loss}; not reconnecting"));
    }
    tokio::pin!(cancel);
    let started = tokio::time::Instant::now();
    let mut backoff = Backoff::new(policy);
    let mut last_error = None;
    loop {
        let Some(delay) = backoff.next_delay(started.elapsed(), jitter()) else {
            let why = match last_error {
                Some(e) => format!(": the last attempt failed: {e}"),
                None => String::new(),
            };
            return Reconnected::GaveUp(format!(
                "{loss}; gave up reconnecting after {} attempts{why}",
                backoff.attempts()
            ));
        };
        let attempt = backoff.attempts();
        notify(Notice::Waiting {
            attempt,
            max: policy.max_attempts,
            delay,
        });
        let result = tokio::select! {
            () = &mut cancel => return Reconnected::Cancelled,
            result = async {
                tokio::time::sleep(delay).await;
                connector.connect().await
            } => result,
        };
        match result {
            Ok(connected) => return Reconnected::Online(connected),
            Err(error) => {
                notify(Notice::Failed {
                    attempt,
                    error: &error,
                });
                if !error.is_transient() {
                    return Reconnected::GaveUp(format!(
                        "{loss}; logging in again failed: {error}"
                    ));
                }
                last_error = Some(error);
            }
        }
    }
}

/// A random number for the backoff's jitter, from the standard library's randomly keyed
/// hasher (no generator needed for spreading clients out).
fn jitter() -> u32 {
    let hash = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    (hash >> 32) as u32
}
