//! The client endpoint: the handshake, then the chat client, plus every decision about the
//! connection to the server and the callback daemon's connections.

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use rand_core::CryptoRng;

use super::limits::ClientLimits;
use super::outgoing::{InFlight, WRITE_CHUNK, WriteDeadlines};
use crate::chat::KnownKeys;
use crate::client::{CallbackConnection, ChatClient, ClientError, ClientEvent, SessionEnd};
use crate::handshake::{ClientConfig, ClientHandshake, ClientProgress, HandshakeError};
use crate::identity::Username;
use crate::pki::NewerCrl;
use crate::time::{Instant, UnixTime};

/// Identifies one connection accepted by the client's callback daemon. Never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CallbackId(pub u64);

/// A socket the client endpoint owns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ClientSocket {
    /// The connection to the server.
    Server,
    /// A connection accepted by the callback daemon.
    Callback(CallbackId),
}

/// What the I/O layer must do next, from [`ClientEndpoint::poll_action`].
#[must_use = "an action left undone stalls the connection"]
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientAction {
    /// Write `bytes` to the server, then report with [`ClientEndpoint::handle_written`]
    /// (or [`ClientEndpoint::handle_closed`] if the socket failed). At most one transmit
    /// is outstanding.
    Transmit {
        /// What to write.
        bytes: Vec<u8>,
    },
    /// Close the socket and forget it; the endpoint expects no report about it any more.
    /// Once the server socket is closed, the endpoint is finished.
    Close(ClientSocket),
    /// The callback daemon may accept connections again (after
    /// [`ClientEndpoint::handle_callback_accept_failed`]).
    ResumeAccepting,
}

impl fmt::Debug for ClientAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientAction::Transmit { bytes } => f
                .debug_struct("Transmit")
                .field("len", &bytes.len())
                .finish(),
            ClientAction::Close(socket) => f.debug_tuple("Close").field(socket).finish(),
            ClientAction::ResumeAccepting => f.write_str("ResumeAccepting"),
        }
    }
}

/// Why the connection never reached the chat.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectFailure {
    /// The handshake failed (wrong server, bad certificate, refused login, deadline
    /// passed...).
    #[error("handshake failed: {0}")]
    Handshake(#[from] HandshakeError),
    /// The server closed the connection during the handshake.
    #[error("server closed the connection during the handshake")]
    Closed,
}

/// Where the client endpoint stands.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Phase {
    /// Connecting and authenticating (the I/O layer may still be opening the socket).
    Handshaking,
    /// Logged in: [`ClientEndpoint::chat`] takes commands.
    Established {
        /// The session id the server assigned.
        session_id: u64,
    },
    /// The handshake failed; the server socket is closed.
    Failed(ConnectFailure),
    /// The session is over and every socket closed.
    Finished,
}

enum Stage {
    Handshaking(Option<Box<ClientHandshake>>),
    Chatting(Box<ChatClient>),
    Failed(ConnectFailure),
    Finished,
}

/// One inbound callback connection: its state, and until it attached, its deadline.
struct CallbackSocket {
    connection: CallbackConnection,
    hello_deadline: Option<Instant>,
}

/// The client side of securecom as one sans-IO machine: the handshake, then the
/// [`ChatClient`], plus the decisions about its sockets: what to write and when, when a
/// server that takes no bytes is given up, how many callback connections the daemon
/// holds and how long one may stay silent. The I/O layer only carries out
/// [`ClientAction`]s and reports what happened.
///
/// # Driving contract
/// Create the endpoint, open the socket to the server (giving up at
/// [`ClientEndpoint::poll_timeout`]: it names the handshake deadline), then with the
/// current time in every call:
/// - [`ClientEndpoint::handle_input`] with the bytes read from the server;
/// - [`ClientEndpoint::handle_written`] when bytes of a [`ClientAction::Transmit`] were
///   written, [`ClientEndpoint::handle_closed`] when a socket ended or failed;
/// - [`ClientEndpoint::handle_callback_accepted`] for each socket the callback daemon
///   accepts (close it at once on `None`), [`ClientEndpoint::handle_callback_input`] with
///   its bytes;
/// - [`ClientEndpoint::handle_timeout`] once [`ClientEndpoint::poll_timeout`] is reached
///   (after which `poll_timeout` is never at or before that `now`);
/// - user commands through [`ClientEndpoint::chat`] once [`Phase::Established`].
///
/// After each call it carries out every [`ClientEndpoint::poll_action`] in order and
/// forwards every [`ClientEndpoint::poll_event`]; it stops once [`Phase::Failed`] or
/// [`Phase::Finished`].
pub struct ClientEndpoint {
    stage: Stage,
    config: Arc<ClientConfig>,
    known_keys: Option<Box<dyn KnownKeys + Send>>,
    /// Users the chat client blocks from its start ([`ClientEndpoint::with_blocked`]).
    blocked: Vec<Username>,
    limits: ClientLimits,
    in_flight: Option<InFlight>,
    deadlines: WriteDeadlines<ClientSocket>,
    callbacks: BTreeMap<CallbackId, CallbackSocket>,
    hello_deadlines: BTreeSet<(Instant, CallbackId)>,
    next_callback: u64,
    actions: VecDeque<ClientAction>,
    /// The chat client's last events, kept after it is gone.
    final_events: VecDeque<ClientEvent>,
    /// Why the session ended, kept after the chat client is gone.
    ended: Option<ClientError>,
    /// After a failed accept of the callback daemon: when it may accept again.
    accept_resume: Option<Instant>,
    /// The newer CRL the server delivered in the handshake, if any.
    newer_crl: Option<NewerCrl>,
    now: Instant,
}

impl fmt::Debug for ClientEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientEndpoint")
            .field("phase", &self.phase())
            .field("callbacks", &self.callbacks.len())
            .finish_non_exhaustive()
    }
}

impl ClientEndpoint {
    /// Starts connecting as `config`'s user: draws the handshake's randomness from `rng`
    /// and queues the ClientHello. `now` starts the handshake deadline; `wall_clock` is
    /// the time the server's certificate and CRL must be valid at.
    pub fn connect<R: CryptoRng + ?Sized>(
        config: Arc<ClientConfig>,
        known_keys: Box<dyn KnownKeys + Send>,
        limits: ClientLimits,
        rng: &mut R,
        now: Instant,
        wall_clock: UnixTime,
    ) -> Self {
        let handshake = ClientHandshake::start(config.clone(), rng, now, wall_clock);
        let mut endpoint = ClientEndpoint {
            stage: Stage::Handshaking(Some(Box::new(handshake))),
            config,
            known_keys: Some(known_keys),
            blocked: Vec::new(),
            limits,
            in_flight: None,
            deadlines: WriteDeadlines::new(limits.write_timeout),
            callbacks: BTreeMap::new(),
            hello_deadlines: BTreeSet::new(),
            next_callback: 0,
            actions: VecDeque::new(),
            final_events: VecDeque::new(),
            ended: None,
            accept_resume: None,
            newer_crl: None,
            now,
        };
        endpoint.flush();
        endpoint
    }

    /// Blocks `users` in the chat client from the moment it exists
    /// ([`ChatClient::with_blocked`]), so that no request from them reaches the user before
    /// the list is in force (a program that keeps a block list across reconnections).
    #[must_use]
    pub fn with_blocked(mut self, users: impl IntoIterator<Item = Username>) -> Self {
        self.blocked = users.into_iter().take(crate::client::MAX_BLOCKED).collect();
        self
    }

    /// Where the endpoint stands.
    pub fn phase(&self) -> Phase {
        match &self.stage {
            Stage::Handshaking(_) => Phase::Handshaking,
            Stage::Chatting(client) => Phase::Established {
                session_id: client.session().session_id(),
            },
            Stage::Failed(failure) => Phase::Failed(failure.clone()),
            Stage::Finished => Phase::Finished,
        }
    }

    /// The chat client, once logged in and until the connection is over: user commands go
    /// through it (their output is picked up by the next [`ClientEndpoint::poll_action`]).
    pub fn chat(&mut self) -> Option<&mut ChatClient> {
        match &mut self.stage {
            Stage::Chatting(client) => Some(client),
            _ => None,
        }
    }

    /// The chat client, for its state (status, safety number).
    pub fn chat_ref(&self) -> Option<&ChatClient> {
        match &self.stage {
            Stage::Chatting(client) => Some(client),
            _ => None,
        }
    }

    /// Why the session ended, once it has: what a command given now would fail with.
    pub fn ended(&self) -> Option<ClientError> {
        match &self.stage {
            Stage::Chatting(client) => client.ended().cloned(),
            Stage::Finished => Some(
                self.ended
                    .clone()
                    .unwrap_or(ClientError::Ended(SessionEnd::ConnectionLost)),
            ),
            _ => None,
        }
    }

    /// The CRL of the trust anchor, newer than the one the configuration's verifier
    /// holds, that the server delivered in the handshake
    /// ([`ClientProgress::Established`]): set once logged in, `None` before and when the
    /// server delivered nothing newer. The application stores it and builds the
    /// configuration of its next connection with it.
    pub fn newer_crl(&self) -> Option<&NewerCrl> {
        self.newer_crl.as_ref()
    }

    /// The limits in force.
    pub fn limits(&self) -> &ClientLimits {
        &self.limits
    }

    /// Bytes read from the server.
    pub fn handle_input(&mut self, now: Instant, data: &[u8]) {
        self.tick(now);
        match &mut self.stage {
            Stage::Handshaking(hs) => {
                let Some(handshake) = hs.take() else {
                    return;
                };
                match (*handshake).handle_input(now, data) {
                    Ok(ClientProgress::Continue(next)) => *hs = Some(Box::new(next)),
                    Ok(ClientProgress::Established {
                        session,
                        consumed,
                        newer_crl,
                    }) => {
                        self.newer_crl = newer_crl;
                        let known_keys = self
                            .known_keys
                            .take()
                            .unwrap_or_else(|| Box::new(crate::chat::MemoryKnownKeys::default()));
                        let client = ChatClient::new(session, self.config.clone(), known_keys, now)
                            .with_blocked(core::mem::take(&mut self.blocked));
                        self.stage = Stage::Chatting(Box::new(client));
                        let rest = data.get(consumed..).unwrap_or_default();
                        if !rest.is_empty() {
                            self.chat_input(now, rest);
                        }
                    }
                    Err(error) => self.fail(ConnectFailure::Handshake(error)),
                }
            }
            Stage::Chatting(_) => self.chat_input(now, data),
            Stage::Failed(_) | Stage::Finished => {}
        }
        self.flush();
    }

    /// `n` bytes of the outstanding transmit were written.
    pub fn handle_written(&mut self, now: Instant, n: usize) {
        self.tick(now);
        if let Some(in_flight) = self.in_flight.take() {
            if in_flight.counted
                && let Stage::Chatting(client) = &mut self.stage
            {
                client.consume_output(n.min(in_flight.len));
            }
            self.in_flight = self
                .deadlines
                .progress(ClientSocket::Server, in_flight, now, n);
        }
        self.flush();
    }

    /// `socket` ended or failed.
    pub fn handle_closed(&mut self, now: Instant, socket: ClientSocket) {
        self.tick(now);
        match socket {
            ClientSocket::Server => match self.stage {
                Stage::Handshaking(_) => self.fail(ConnectFailure::Closed),
                Stage::Chatting(_) => self.finish(),
                Stage::Failed(_) | Stage::Finished => {}
            },
            ClientSocket::Callback(id) => self.forget_callback(id, false),
        }
    }

    /// The callback daemon accepted a socket: its id, or `None` when the daemon is full
    /// (then close the socket at once).
    #[must_use]
    pub fn handle_callback_accepted(&mut self, now: Instant) -> Option<CallbackId> {
        self.tick(now);
        let open = matches!(self.stage, Stage::Chatting(_));
        if !open || self.callbacks.len() >= self.limits.max_callback_connections {
            return None;
        }
        self.next_callback += 1;
        let id = CallbackId(self.next_callback);
        let deadline = now + self.limits.callback_hello_timeout;
        self.hello_deadlines.insert((deadline, id));
        self.callbacks.insert(
            id,
            CallbackSocket {
                connection: CallbackConnection::new(),
                hello_deadline: Some(deadline),
            },
        );
        Some(id)
    }

    /// The callback daemon's accept failed (for example, out of file descriptors): the
    /// driver stops accepting until [`ClientAction::ResumeAccepting`],
    /// [`ACCEPT_RETRY`](super::ACCEPT_RETRY) later.
    pub fn handle_callback_accept_failed(&mut self, now: Instant) {
        self.tick(now);
        if self.accept_resume.is_none() {
            self.accept_resume = Some(now + super::ACCEPT_RETRY);
        }
    }

    /// Bytes read from callback connection `id`.
    pub fn handle_callback_input(&mut self, now: Instant, id: CallbackId, data: &[u8]) {
        self.tick(now);
        let (Stage::Chatting(client), Some(socket)) =
            (&mut self.stage, self.callbacks.get_mut(&id))
        else {
            return;
        };
        match client.handle_callback_input(now, &mut socket.connection, data) {
            Ok(()) => {
                if socket.connection.is_attached()
                    && let Some(deadline) = socket.hello_deadline.take()
                {
                    // Attached: it may stay silent for as long as the session lasts.
                    self.hello_deadlines.remove(&(deadline, id));
                }
            }
            Err(ClientError::CallbackRefused) => self.forget_callback(id, true),
            Err(_) => self.finish(),
        }
        self.flush();
    }

    /// When [`ClientEndpoint::handle_timeout`] must be called next, if ever.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let machine = match &self.stage {
            Stage::Handshaking(Some(hs)) => hs.poll_timeout(),
            Stage::Chatting(client) => client.poll_timeout(),
            _ => None,
        };
        [
            machine,
            self.deadlines.next(),
            self.hello_deadlines.first().map(|(at, _)| *at),
            self.accept_resume
                .filter(|_| matches!(self.stage, Stage::Chatting(_))),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Fires every deadline at or before `now`: the handshake's, the chat client's
    /// keep-alive and callback registration, a server that took no bytes within the write
    /// timeout, and callback connections silent past their hello deadline.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.tick(now);
        match &mut self.stage {
            Stage::Handshaking(hs) => {
                if let Some(handshake) = hs.take() {
                    match (*handshake).handle_timeout(now) {
                        Ok(handshake) => *hs = Some(Box::new(handshake)),
                        Err(error) => self.fail(ConnectFailure::Handshake(error)),
                    }
                }
            }
            Stage::Chatting(client) => {
                if client.poll_timeout().is_some_and(|t| t <= now)
                    && client.handle_timeout(now).is_err()
                {
                    self.finish();
                }
            }
            Stage::Failed(_) | Stage::Finished => {}
        }
        if self.deadlines.pop_expired(now).is_some() {
            // The server took nothing for the whole write timeout: give it up.
            self.in_flight = None;
            match self.stage {
                Stage::Handshaking(_) => {
                    self.fail(ConnectFailure::Handshake(HandshakeError::Timeout));
                }
                _ => self.finish(),
            }
        }
        while let Some(&(at, id)) = self.hello_deadlines.first() {
            if at > now {
                break;
            }
            self.forget_callback(id, true);
        }
        if self.accept_resume.is_some_and(|t| t <= now) {
            self.accept_resume = None;
            self.actions.push_back(ClientAction::ResumeAccepting);
        }
        self.flush();
    }

    /// The next thing the I/O layer must do (output of commands given through
    /// [`ClientEndpoint::chat`] included).
    #[must_use]
    pub fn poll_action(&mut self) -> Option<ClientAction> {
        if self.actions.is_empty() {
            self.flush();
        }
        self.actions.pop_front()
    }

    /// The next event for the user interface.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        match &mut self.stage {
            Stage::Chatting(client) => client.poll_event(),
            _ => None,
        }
        .or_else(|| self.final_events.pop_front())
    }

    // ----- internal plumbing -----

    fn tick(&mut self, now: Instant) {
        self.now = self.now.max(now);
    }

    fn chat_input(&mut self, now: Instant, data: &[u8]) {
        if let Stage::Chatting(client) = &mut self.stage
            && client.handle_input(now, data).is_err()
        {
            self.finish();
        }
    }

    /// Hands out the next chunk of output when none is outstanding, and ends the
    /// connection once the session is over and its last bytes are written.
    fn flush(&mut self) {
        if self.in_flight.is_none() {
            let now = self.now;
            let (out, counted): (&[u8], bool) = match &self.stage {
                Stage::Handshaking(Some(hs)) => (hs.output(), false),
                Stage::Chatting(client) => (client.output(), true),
                _ => (&[], false),
            };
            let len = out.len().min(WRITE_CHUNK);
            if let Some(chunk) = out.get(..len).filter(|c| !c.is_empty()) {
                let bytes = chunk.to_vec();
                if let Stage::Handshaking(Some(hs)) = &mut self.stage {
                    // A handshake's output is replaced when it ends: take it now.
                    hs.consume_output(len);
                }
                self.in_flight =
                    Some(
                        self.deadlines
                            .start(ClientSocket::Server, now, len, counted),
                    );
                self.actions.push_back(ClientAction::Transmit { bytes });
            }
        }
        let done = match &self.stage {
            Stage::Chatting(client) => client.is_closed() && client.output().is_empty(),
            _ => false,
        };
        if done && self.in_flight.is_none() {
            self.finish();
        }
    }

    fn forget_callback(&mut self, id: CallbackId, close: bool) {
        if let Some(socket) = self.callbacks.remove(&id) {
            if let Some(deadline) = socket.hello_deadline {
                self.hello_deadlines.remove(&(deadline, id));
            }
            if close {
                self.actions
                    .push_back(ClientAction::Close(ClientSocket::Callback(id)));
            }
        }
    }

    fn close_all_callbacks(&mut self) {
        let ids: Vec<CallbackId> = self.callbacks.keys().copied().collect();
        for id in ids {
            self.forget_callback(id, true);
        }
    }

    /// The handshake failed: close everything.
    fn fail(&mut self, failure: ConnectFailure) {
        self.stage = Stage::Failed(failure);
        self.end_sockets();
    }

    /// The session is over (closed by either side, broken, or the socket gone): the chat
    /// client reports it, and every socket closes.
    fn finish(&mut self) {
        if let Stage::Chatting(client) = &mut self.stage {
            client.connection_lost();
            self.ended = client.ended().cloned();
            while let Some(event) = client.poll_event() {
                self.final_events.push_back(event);
            }
        }
        if matches!(self.stage, Stage::Finished | Stage::Failed(_)) {
            return;
        }
        self.stage = Stage::Finished;
        self.end_sockets();
    }

    fn end_sockets(&mut self) {
        self.deadlines
            .cancel(ClientSocket::Server, self.in_flight.take());
        self.close_all_callbacks();
        self.actions
            .push_back(ClientAction::Close(ClientSocket::Server));
    }
}
