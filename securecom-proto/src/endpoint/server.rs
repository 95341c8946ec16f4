//! The server endpoint: the relay plus every decision about the sockets it is driven over.

use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use rand_core::CryptoRng;

use super::outgoing::{InFlight, WRITE_CHUNK, WriteDeadlines};
use crate::handshake::ServerConfig;
use crate::relay::{ConnectionId, Relay, RelayConfig, RelayError, RelayEvent};
use crate::time::Instant;

/// A socket the server endpoint owns: a client's connection, or the callback connection
/// the server opens to that client's daemon (the request channel of seed section 2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ServerSocket {
    /// The connection the client opened.
    Main(ConnectionId),
    /// The connection the server opened to the client's callback daemon.
    Callback(ConnectionId),
}

impl ServerSocket {
    /// The client connection this socket belongs to.
    pub fn connection(self) -> ConnectionId {
        match self {
            ServerSocket::Main(id) | ServerSocket::Callback(id) => id,
        }
    }
}

/// What the I/O layer must do next, from [`ServerEndpoint::poll_action`].
#[must_use = "an action left undone stalls the connection it is for"]
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerAction {
    /// Write `bytes` to `socket`, then report with [`ServerEndpoint::handle_written`] (or
    /// [`ServerEndpoint::handle_closed`] if the socket failed). A socket has at most one
    /// transmit outstanding.
    Transmit {
        /// Where to write.
        socket: ServerSocket,
        /// What to write.
        bytes: Vec<u8>,
    },
    /// Stop reading this connection until [`ServerAction::ResumeReading`]: its chat peer
    /// is not keeping up (backpressure). Bytes already read may still be handed in.
    PauseReading(ConnectionId),
    /// Read this connection again.
    ResumeReading(ConnectionId),
    /// Open a TCP connection to the host `connection` came from, on `port`, then report
    /// [`ServerEndpoint::handle_callback_connected`] (or [`ServerEndpoint::handle_closed`]
    /// with [`ServerSocket::Callback`] if it cannot be opened).
    OpenCallback {
        /// The client connection that asked for it.
        connection: ConnectionId,
        /// The port of the client's daemon.
        port: u16,
    },
    /// Close the socket (abandoning any write or connect in progress) and forget it; the
    /// endpoint expects no report about it any more.
    Close(ServerSocket),
    /// Accept connections again (after [`ServerEndpoint::handle_accept_failed`]).
    ResumeAccepting,
}

impl fmt::Debug for ServerAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerAction::Transmit { socket, bytes } => f
                .debug_struct("Transmit")
                .field("socket", socket)
                .field("len", &bytes.len())
                .finish(),
            ServerAction::PauseReading(id) => f.debug_tuple("PauseReading").field(id).finish(),
            ServerAction::ResumeReading(id) => f.debug_tuple("ResumeReading").field(id).finish(),
            ServerAction::OpenCallback { connection, port } => f
                .debug_struct("OpenCallback")
                .field("connection", connection)
                .field("port", port)
                .finish(),
            ServerAction::Close(socket) => f.debug_tuple("Close").field(socket).finish(),
            ServerAction::ResumeAccepting => f.write_str("ResumeAccepting"),
        }
    }
}

/// The callback connection of one client connection.
enum Callback {
    /// Being opened by the I/O layer; given up at `deadline`. `hello` goes first.
    Connecting { deadline: Instant, hello: Vec<u8> },
    /// Open: the hello (still to be written, if any) and the transmit outstanding.
    Open {
        hello: Vec<u8>,
        in_flight: Option<InFlight>,
    },
}

/// What the endpoint knows of one client connection's sockets.
struct Sockets {
    in_flight: Option<InFlight>,
    callback: Option<Callback>,
}

/// The server side of securecom as one sans-IO machine: the [`Relay`] (handshakes,
/// presence, routing) plus every decision about the sockets it runs over: what to write
/// where and when, which connection to stop reading, when a socket that takes no bytes is
/// given up, when a callback connection that does not open is, and how long a shutdown
/// waits. The I/O layer (`securecom-tokio`, `securecom-std`, or your own) only carries
/// out [`ServerAction`]s and reports what happened.
///
/// # Driving contract
/// The I/O layer calls, with the current time in every call:
/// - [`ServerEndpoint::accept`] for each accepted socket (on an error, close the socket);
/// - [`ServerEndpoint::handle_input`] with the bytes read from a connection;
/// - [`ServerEndpoint::handle_written`] when bytes of a [`ServerAction::Transmit`] were
///   written, [`ServerEndpoint::handle_callback_connected`] when a callback connection
///   opened, [`ServerEndpoint::handle_closed`] when a socket ended or failed;
/// - [`ServerEndpoint::handle_timeout`] once [`ServerEndpoint::poll_timeout`] is reached
///   (after which `poll_timeout` is never at or before that `now`);
/// - [`ServerEndpoint::shutdown`] to stop, then keeps driving until
///   [`ServerEndpoint::is_finished`].
///
/// After each call it drains [`ServerEndpoint::poll_action`] (carrying out every action in
/// order) and may read [`ServerEndpoint::poll_event`] for logs; then it sleeps until the
/// next socket event or [`ServerEndpoint::poll_timeout`]. It decides nothing itself.
///
/// ```
/// # use securecom_proto::endpoint::{ServerAction, ServerEndpoint};
/// # fn drive(endpoint: &mut ServerEndpoint) {
/// while let Some(action) = endpoint.poll_action() {
///     match action {
///         ServerAction::Transmit { socket, bytes } => { /* write, then handle_written */ }
///         ServerAction::Close(socket) => { /* drop the socket */ }
///         _ => { /* pause, resume, open a callback connection */ }
///     }
/// }
/// # }
/// ```
pub struct ServerEndpoint {
    relay: Relay,
    sockets: BTreeMap<ConnectionId, Sockets>,
    /// Connections told to stop reading (few: only senders to a slow reader).
    paused: BTreeSet<ConnectionId>,
    deadlines: WriteDeadlines<ServerSocket>,
    callback_deadlines: BTreeSet<(Instant, ConnectionId)>,
    actions: VecDeque<ServerAction>,
    events: VecDeque<RelayEvent>,
    /// Set by [`ServerEndpoint::shutdown`]: when every socket is closed regardless.
    shutdown_deadline: Option<Instant>,
    /// After a failed accept: when the driver may accept again.
    accept_resume: Option<Instant>,
    now: Instant,
}

impl fmt::Debug for ServerEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerEndpoint")
            .field("relay", &self.relay)
            .field("sockets", &self.sockets.len())
            .field("shutting_down", &self.shutdown_deadline.is_some())
            .finish_non_exhaustive()
    }
}

impl ServerEndpoint {
    /// An endpoint serving with `server` (credentials and user directory) under `config`.
    pub fn new(server: Arc<ServerConfig>, config: RelayConfig) -> Self {
        let deadlines = WriteDeadlines::new(config.write_timeout);
        ServerEndpoint {
            relay: Relay::new(server, config),
            sockets: BTreeMap::new(),
            paused: BTreeSet::new(),
            deadlines,
            callback_deadlines: BTreeSet::new(),
            actions: VecDeque::new(),
            events: VecDeque::new(),
            shutdown_deadline: None,
            accept_resume: None,
            now: Instant::ZERO,
        }
    }

    /// The relay, for its state (who is online, counts).
    pub fn relay(&self) -> &Relay {
        &self.relay
    }

    /// Registers a newly accepted socket; draws its handshake randomness from `rng`. On an
    /// error the I/O layer closes the socket.
    pub fn accept<R: CryptoRng + ?Sized>(
        &mut self,
        now: Instant,
        rng: &mut R,
    ) -> Result<ConnectionId, RelayError> {
        self.tick(now);
        if self.shutdown_deadline.is_some() {
            return Err(RelayError::ShuttingDown);
        }
        let id = self.relay.open_connection(now, rng)?;
        self.sockets.insert(
            id,
            Sockets {
                in_flight: None,
                callback: None,
            },
        );
        Ok(id)
    }

    /// Bytes read from connection `id`.
    pub fn handle_input(&mut self, id: ConnectionId, now: Instant, data: &[u8]) {
        self.tick(now);
        if !self.sockets.contains_key(&id) {
            return;
        }
        let _ = self.relay.handle_input(id, now, data);
        if !self.relay.wants_input(id) && self.sockets.contains_key(&id) && self.paused.insert(id) {
            self.actions.push_back(ServerAction::PauseReading(id));
        }
        self.pump();
    }

    /// `n` bytes of the transmit outstanding on `socket` were written.
    pub fn handle_written(&mut self, socket: ServerSocket, now: Instant, n: usize) {
        self.tick(now);
        let id = socket.connection();
        let Some(sockets) = self.sockets.get_mut(&id) else {
            return;
        };
        match socket {
            ServerSocket::Main(_) => {
                if let Some(in_flight) = sockets.in_flight.take() {
                    if in_flight.counted {
                        self.relay.consume_output(id, n.min(in_flight.len));
                    }
                    sockets.in_flight = self.deadlines.progress(socket, in_flight, now, n);
                }
            }
            ServerSocket::Callback(_) => {
                if let Some(Callback::Open { in_flight, .. }) = sockets.callback.as_mut()
                    && let Some(done) = in_flight.take()
                {
                    if done.counted {
                        self.relay.consume_callback_output(id, n.min(done.len));
                    }
                    *in_flight = self.deadlines.progress(socket, done, now, n);
                }
            }
        }
        self.flush(id);
        self.resume_readers();
        self.pump();
    }

    /// The callback connection asked for by [`ServerAction::OpenCallback`] is open.
    pub fn handle_callback_connected(&mut self, id: ConnectionId, now: Instant) {
        self.tick(now);
        let Some(sockets) = self.sockets.get_mut(&id) else {
            return;
        };
        if let Some(Callback::Connecting { deadline, hello }) = sockets.callback.take() {
            self.callback_deadlines.remove(&(deadline, id));
            sockets.callback = Some(Callback::Open {
                hello,
                in_flight: None,
            });
        } else {
            sockets.callback = None;
            self.actions
                .push_back(ServerAction::Close(ServerSocket::Callback(id)));
        }
        self.flush(id);
        self.pump();
    }

    /// `socket` ended or failed (end of stream, a read or write error, a refused connect).
    pub fn handle_closed(&mut self, socket: ServerSocket, now: Instant) {
        self.tick(now);
        match socket {
            ServerSocket::Main(id) => self.forget(id),
            ServerSocket::Callback(id) => {
                if self.drop_callback(id) {
                    // The request channel of that session is lost: the session ends.
                    self.relay.callback_failed(id);
                }
            }
        }
        self.resume_readers();
        self.pump();
    }

    /// Accepting failed (for example, out of file descriptors): the driver stops accepting
    /// until [`ServerAction::ResumeAccepting`], [`ACCEPT_RETRY`](super::ACCEPT_RETRY) later.
    pub fn handle_accept_failed(&mut self, now: Instant) {
        self.tick(now);
        if self.accept_resume.is_none() {
            self.accept_resume = Some(now + super::ACCEPT_RETRY);
        }
    }

    /// Stops serving: says goodbye to every client, refuses new connections, and closes
    /// every socket once its goodbye is written or [`RelayConfig::shutdown_grace`] passed.
    pub fn shutdown(&mut self, now: Instant) {
        self.tick(now);
        if self.shutdown_deadline.is_none() {
            self.shutdown_deadline = Some(now + self.relay.config().shutdown_grace);
            self.relay.shutdown();
        }
        self.pump();
    }

    /// True once a shutdown closed every socket: the I/O layer may stop.
    pub fn is_finished(&self) -> bool {
        self.shutdown_deadline.is_some() && self.sockets.is_empty()
    }

    /// When [`ServerEndpoint::handle_timeout`] must be called next, if ever.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.is_finished() {
            return None;
        }
        [
            self.relay.poll_timeout(),
            self.deadlines.next(),
            self.callback_deadlines.first().map(|(at, _)| *at),
            self.shutdown_deadline.filter(|_| !self.sockets.is_empty()),
            self.accept_resume,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Fires every deadline at or before `now`: the relay's (handshakes, idle sessions,
    /// chat requests), sockets that took no bytes within the write timeout, callback
    /// connections that did not open in time, and the end of a shutdown's grace.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.tick(now);
        if self.relay.poll_timeout().is_some_and(|t| t <= now) {
            self.relay.handle_timeout(now);
        }
        while let Some(socket) = self.deadlines.pop_expired(now) {
            self.stalled(socket);
        }
        while let Some(&(at, id)) = self.callback_deadlines.first() {
            if at > now {
                break;
            }
            self.callback_deadlines.pop_first();
            if self.drop_callback(id) {
                self.relay.callback_failed(id);
            }
        }
        if self.accept_resume.is_some_and(|t| t <= now) {
            self.accept_resume = None;
            self.actions.push_back(ServerAction::ResumeAccepting);
        }
        if self.shutdown_deadline.is_some_and(|t| t <= now) {
            let ids: Vec<ConnectionId> = self.sockets.keys().copied().collect();
            for id in ids {
                self.forget(id);
            }
        }
        self.resume_readers();
        self.pump();
    }

    /// The next thing the I/O layer must do.
    #[must_use]
    pub fn poll_action(&mut self) -> Option<ServerAction> {
        self.actions.pop_front()
    }

    /// The next event for logs and metrics.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<RelayEvent> {
        self.events.pop_front()
    }

    // ----- internal plumbing -----

    fn tick(&mut self, now: Instant) {
        self.now = self.now.max(now);
    }

    /// Moves whatever the relay produced into actions and events.
    fn pump(&mut self) {
        loop {
            let mut moved = false;
            while let Some(event) = self.relay.poll_event() {
                moved = true;
                if let RelayEvent::CallbackRequested {
                    connection,
                    port,
                    hello,
                } = &event
                {
                    self.open_callback(*connection, *port, hello.clone());
                }
                self.events.push_back(event);
            }
            while let Some(id) = self.relay.poll_transmit() {
                moved = true;
                self.flush(id);
            }
            if !moved {
                return;
            }
        }
    }

    fn open_callback(&mut self, id: ConnectionId, port: u16, hello: Vec<u8>) {
        let Some(sockets) = self.sockets.get_mut(&id) else {
            return;
        };
        if sockets.callback.is_some() {
            // The relay allows one callback per session; never two sockets for one.
            return;
        }
        let deadline = self.now + self.relay.config().callback_connect_timeout;
        sockets.callback = Some(Callback::Connecting { deadline, hello });
        self.callback_deadlines.insert((deadline, id));
        self.actions.push_back(ServerAction::OpenCallback {
            connection: id,
            port,
        });
    }

    /// Hands out the next chunk of output of each socket of `id` that has none
    /// outstanding, and closes the connection once the relay is done with it.
    fn flush(&mut self, id: ConnectionId) {
        let now = self.now;
        let Some(sockets) = self.sockets.get_mut(&id) else {
            return;
        };
        if sockets.in_flight.is_none() {
            let out = self.relay.output(id);
            let len = out.len().min(WRITE_CHUNK);
            if let Some(chunk) = out.get(..len).filter(|c| !c.is_empty()) {
                let bytes = chunk.to_vec();
                // A handshake's output is replaced when it ends: take it now.
                let counted = !self.relay.is_handshaking(id);
                if !counted {
                    self.relay.consume_output(id, len);
                }
                let socket = ServerSocket::Main(id);
                sockets.in_flight = Some(self.deadlines.start(socket, now, len, counted));
                self.actions
                    .push_back(ServerAction::Transmit { socket, bytes });
            }
        }
        if let Some(Callback::Open { hello, in_flight }) = sockets.callback.as_mut()
            && in_flight.is_none()
        {
            let socket = ServerSocket::Callback(id);
            if !hello.is_empty() {
                let bytes = core::mem::take(hello);
                *in_flight = Some(self.deadlines.start(socket, now, bytes.len(), false));
                self.actions
                    .push_back(ServerAction::Transmit { socket, bytes });
            } else {
                let out = self.relay.callback_output(id);
                let len = out.len().min(WRITE_CHUNK);
                if let Some(chunk) = out.get(..len).filter(|c| !c.is_empty()) {
                    let bytes = chunk.to_vec();
                    *in_flight = Some(self.deadlines.start(socket, now, len, true));
                    self.actions
                        .push_back(ServerAction::Transmit { socket, bytes });
                }
            }
        }
        if sockets.in_flight.is_none() && self.relay.should_close(id) {
            self.forget(id);
        }
    }

    /// Closes every socket of `id` and tells the relay the connection is gone.
    fn forget(&mut self, id: ConnectionId) {
        self.drop_callback(id);
        self.paused.remove(&id);
        if let Some(sockets) = self.sockets.remove(&id) {
            self.deadlines
                .cancel(ServerSocket::Main(id), sockets.in_flight);
            self.actions
                .push_back(ServerAction::Close(ServerSocket::Main(id)));
        }
        self.relay.connection_lost(id);
    }

    /// Closes the callback socket of `id`, if it has one; true if it had.
    fn drop_callback(&mut self, id: ConnectionId) -> bool {
        let Some(callback) = self.sockets.get_mut(&id).and_then(|s| s.callback.take()) else {
            return false;
        };
        match callback {
            Callback::Connecting { deadline, .. } => {
                self.callback_deadlines.remove(&(deadline, id));
            }
            Callback::Open { in_flight, .. } => {
                self.deadlines.cancel(ServerSocket::Callback(id), in_flight);
            }
        }
        self.actions
            .push_back(ServerAction::Close(ServerSocket::Callback(id)));
        true
    }

    /// `socket` took none of its bytes within the write timeout.
    fn stalled(&mut self, socket: ServerSocket) {
        let id = socket.connection();
        match socket {
            ServerSocket::Main(_) => {
                if let Some(sockets) = self.sockets.get_mut(&id) {
                    // Its deadline already fired: nothing left to cancel.
                    sockets.in_flight = None;
                }
                self.relay.connection_stalled(id);
                self.forget(id);
            }
            ServerSocket::Callback(_) => {
                if let Some(Callback::Open { in_flight, .. }) =
                    self.sockets.get_mut(&id).and_then(|s| s.callback.as_mut())
                {
                    *in_flight = None;
                }
                if self.drop_callback(id) {
                    self.relay.callback_failed(id);
                }
            }
        }
    }

    /// Lets paused connections read again once their chat peer caught up.
    fn resume_readers(&mut self) {
        if self.paused.is_empty() {
            return;
        }
        let relay = &self.relay;
        let actions = &mut self.actions;
        self.paused.retain(|id| {
            let resume = relay.wants_input(*id);
            if resume {
                actions.push_back(ServerAction::ResumeReading(*id));
            }
            !resume
        });
    }
}
