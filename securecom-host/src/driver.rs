//! What the socket drivers (`securecom-tokio`, `securecom-std`) share, so the two present
//! one API: the options of a client connection and why connecting failed. The drivers
//! re-export both; nothing here does I/O itself.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use securecom_proto::chat::{KnownKeys, MemoryKnownKeys};
use securecom_proto::client::{ClientError, SessionEnd};
use securecom_proto::endpoint::{ClientLimits, ConnectFailure};
use securecom_proto::handshake::{ALERT_HANDSHAKE_FAILURE, HandshakeError};
use securecom_proto::identity::Username;
use securecom_proto::relay::ConnectionId;

/// Options of a client connection.
///
/// ```
/// use securecom_host::driver::ClientOptions;
/// let options = ClientOptions {
///     callback_listen: Some("127.0.0.1:0".parse().unwrap()),
///     ..ClientOptions::default()
/// };
/// assert!(options.callback_listen.is_some());
/// ```
pub struct ClientOptions {
    /// The keys remembered per user (trust on first use). In memory by default; give a
    /// persistent implementation, such as [`FileKnownKeys`](crate::chat::FileKnownKeys),
    /// to keep them across runs.
    pub known_keys: Box<dyn KnownKeys + Send>,
    /// Receive server-initiated messages over a connection the server opens to this
    /// address (the original design's daemon, port 4242 by default) instead of the main
    /// connection. Port 0 picks a free port; the driver's client handle tells which.
    pub callback_listen: Option<SocketAddr>,
    /// Bounds on the connection to the server and on the callback daemon.
    pub limits: ClientLimits,
    /// Users whose chat requests are refused without asking from the first moment of the
    /// session ([`ChatClient::block`](securecom_proto::client::ChatClient::block)): a
    /// program keeping a block list across reconnections gives it to every connection.
    pub blocked: Vec<Username>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            known_keys: Box::new(MemoryKnownKeys::default()),
            callback_listen: None,
            limits: ClientLimits::default(),
            blocked: Vec::new(),
        }
    }
}

impl core::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ClientOptions")
            .field("callback_listen", &self.callback_listen)
            .finish_non_exhaustive()
    }
}

/// Why connecting failed. Its message is written for the client's user: the server's
/// generic handshake alert, which a server sends when the username is unknown or the
/// signature does not verify under the registered key, reads "the server refused the
/// login: unknown user or wrong key".
///
/// ```
/// use securecom_host::driver::ConnectError;
/// use securecom_proto::handshake::{ALERT_HANDSHAKE_FAILURE, HandshakeError};
/// let refused = ConnectError::Handshake(HandshakeError::PeerAlert(ALERT_HANDSHAKE_FAILURE));
/// assert_eq!(refused.to_string(), "the server refused the login: unknown user or wrong key");
/// ```
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The socket failed.
    #[error("connection failed: {0}")]
    Io(#[from] io::Error),
    /// The handshake failed (wrong server, bad certificate, refused login, deadline
    /// passed...).
    #[error("{}", HandshakeWords(.0))]
    Handshake(#[from] HandshakeError),
    /// The server closed the connection during the handshake.
    #[error("server closed the connection during the handshake")]
    Closed,
}

impl ConnectError {
    /// The error for a handshake that ended in `failure`, given the socket's own error if
    /// the socket failed: a connection cut by a socket error is that error, not a close.
    ///
    /// ```
    /// use std::io;
    /// use securecom_host::driver::ConnectError;
    /// use securecom_proto::endpoint::ConnectFailure;
    /// let reset = io::Error::from(io::ErrorKind::ConnectionReset);
    /// let e = ConnectError::from_failure(ConnectFailure::Closed, Some(reset));
    /// assert!(matches!(e, ConnectError::Io(e) if e.kind() == io::ErrorKind::ConnectionReset));
    /// assert!(matches!(
    ///     ConnectError::from_failure(ConnectFailure::Closed, None),
    ///     ConnectError::Closed
    /// ));
    /// ```
    pub fn from_failure(failure: ConnectFailure, socket_error: Option<io::Error>) -> Self {
        match (failure, socket_error) {
            (ConnectFailure::Handshake(e), _) => ConnectError::Handshake(e),
            (_, Some(e)) => ConnectError::Io(e),
            (_, None) => ConnectError::Closed,
        }
    }
}

/// A client's handshake failure in its user's words.
struct HandshakeWords<'a>(&'a HandshakeError);

impl std::fmt::Display for HandshakeWords<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            HandshakeError::PeerAlert(ALERT_HANDSHAKE_FAILURE) => {
                f.write_str("the server refused the login: unknown user or wrong key")
            }
            HandshakeError::PeerAlert(code) => {
                write!(f, "the server aborted the login (alert 0x{code:02x})")
            }
            // Already "the server refused the login: REASON".
            HandshakeError::Rejected(_) => write!(f, "{}", self.0),
            HandshakeError::Certificate(e) => {
                write!(f, "the server's certificate was rejected: {e}")
            }
            HandshakeError::Timeout => f.write_str("the login timed out"),
            other => write!(f, "handshake failed: {other}"),
        }
    }
}

/// Logs one of the server endpoint's events the way both drivers do: logins, logouts and
/// failed handshakes at `info`, the rest at `debug`. The callback hello (it holds the
/// session's single-use token) is never logged, and chat payloads never reach the events.
///
/// A driver that knows who is logged in on each connection uses [`log_relay_event_as`],
/// which names the user in every line about a connection.
pub fn log_relay_event(event: &securecom_proto::relay::RelayEvent) {
    log_relay_event_as(event, |_| None);
}

/// [`log_relay_event`], naming the user logged in on a connection (`user_of`, `None`
/// before the login) in every line about that connection. Every such line carries the
/// fields `connection` and, once known, `user`.
pub fn log_relay_event_as<'a>(
    event: &securecom_proto::relay::RelayEvent,
    user_of: impl Fn(ConnectionId) -> Option<&'a Username>,
) {
    use securecom_proto::relay::RelayEvent;
    use tracing::field::display;
    match event {
        RelayEvent::UserOnline { connection, user } => {
            tracing::info!(%connection, %user, "online");
        }
        RelayEvent::UserOffline {
            connection,
            user,
            reason,
        } => tracing::info!(%connection, %user, ?reason, "offline"),
        RelayEvent::HandshakeFailed { connection, error } => {
            let user = user_of(*connection).map(display);
            tracing::info!(%connection, user, %error, "handshake failed");
        }
        RelayEvent::SessionFailed { connection, error } => {
            let user = user_of(*connection).map(display);
            tracing::debug!(%connection, user, ?error, "session failed");
        }
        RelayEvent::CallbackRequested {
            connection, port, ..
        } => {
            let user = user_of(*connection).map(display);
            tracing::debug!(%connection, user, port, "callback requested");
        }
        RelayEvent::LoginRefused { connection, user } => {
            tracing::info!(%connection, %user, "login refused");
        }
        // The cluster's events matter to whoever runs it: a forged or replayed bus message
        // is an attack, or a misconfigured node, and must show in the default log.
        RelayEvent::BusMessageDropped { error } => {
            tracing::warn!(%error, "cluster bus message dropped");
        }
        RelayEvent::NodeJoined { node } => tracing::info!(%node, "cluster node joined"),
        RelayEvent::NodeLost { node } => tracing::warn!(%node, "cluster node lost"),
        RelayEvent::BusConnected => tracing::info!("cluster bus connected"),
        RelayEvent::BusDisconnected => {
            tracing::warn!("cluster bus lost: users of other nodes are unreachable");
        }
        other => tracing::debug!(?other, "relay event"),
    }
}

/// Why a client's session ended, shared between its driver (which records it once, when
/// the endpoint finishes) and its handles (which return it for every later command).
#[derive(Clone, Debug, Default)]
pub struct SessionEnded(Arc<OnceLock<ClientError>>);

impl SessionEnded {
    /// The error a command gets once the driver is gone: what ended the session, or a
    /// lost connection if the driver ended before it could say.
    pub fn error(&self) -> ClientError {
        self.0
            .get()
            .cloned()
            .unwrap_or(ClientError::Ended(SessionEnd::ConnectionLost))
    }
}

/// What a client driver reports after carrying out its endpoint's actions.
#[derive(Debug)]
#[must_use]
pub struct AfterActions {
    /// How connecting ended, once: give it to the caller of `connect`.
    pub connected: Option<Result<u64, ConnectError>>,
    /// False once the endpoint is done: the driver stops.
    pub running: bool,
}

/// The bookkeeping both client drivers share around a
/// [`ClientEndpoint`](securecom_proto::endpoint::ClientEndpoint): the socket's own error
/// (so a handshake cut by one reports it), whether `connect` was answered, and why the
/// session ended.
#[derive(Debug, Default)]
pub struct ClientProgress {
    socket_error: Option<io::Error>,
    answered: bool,
    ended: SessionEnded,
}

impl ClientProgress {
    /// Bookkeeping for a new connection.
    pub fn new() -> Self {
        ClientProgress::default()
    }

    /// The handles' view of why the session ended.
    pub fn session_ended(&self) -> SessionEnded {
        self.ended.clone()
    }

    /// The socket to the server ended, with its error if it failed (the first one kept).
    pub fn socket_ended(&mut self, error: Option<io::Error>) {
        if self.socket_error.is_none() {
            self.socket_error = error;
        }
    }

    /// Reads where `endpoint` stands after its actions were carried out.
    pub fn after_actions(
        &mut self,
        endpoint: &securecom_proto::endpoint::ClientEndpoint,
    ) -> AfterActions {
        use securecom_proto::endpoint::Phase;
        let (connected, running) = match endpoint.phase() {
            Phase::Handshaking => (None, true),
            Phase::Established { session_id } => (Some(Ok(session_id)), true),
            Phase::Failed(failure) => (
                Some(Err(ConnectError::from_failure(
                    failure,
                    self.socket_error.take(),
                ))),
                false,
            ),
            _ => {
                if let Some(error) = endpoint.ended() {
                    let _ = self.ended.0.set(error);
                }
                (None, false)
            }
        };
        let connected = connected.filter(|_| !core::mem::replace(&mut self.answered, true));
        AfterActions { connected, running }
    }
}
