//! The server endpoint: the relay plus every decision about the sockets it is driven over.

use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use rand_core::CryptoRng;

use super::outgoing::{InFlight, WRITE_CHUNK, WriteDeadlines};
use crate::cluster::{ClusterAction, ClusterConfig, ClusterInput};
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
    /// Something for the cluster's bus (clustered endpoints only): carry it out and report
    /// with [`ServerEndpoint::handle_cluster_input`].
    Cluster(ClusterAction),
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
            ServerAction::Cluster(action) => f.debug_tuple("Cluster").field(action).finish(),
        }
    }
}

/// The callback connection of one client connection.
enum Callback {
    /// Being opened by the I/O layer; given up at `deadline`. `hello` goes first.
    Connecting { deadline: Instant, hello: Vec<u8> },
    /// Open; the hello still to be written, if any.
    Open { hello: Vec<u8> },
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
    /// The relay, which also knows which connections exist: an idle connection costs the
    /// endpoint nothing of its own.
    relay: Relay,
    /// The transmit outstanding per socket (only sockets with one are here).
    in_flight: BTreeMap<ServerSocket, InFlight>,
    /// Callback connections, of the few sessions that registered one.
    callbacks: BTreeMap<ConnectionId, Callback>,
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
            .field("in_flight", &self.in_flight.len())
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
            in_flight: BTreeMap::new(),
            callbacks: BTreeMap::new(),
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

    /// An endpoint that is node `cluster.node` of a cluster (see [`crate::cluster`]). `now`
    /// and `unix_ms` are the same moment on the driver's monotonic and wall clocks. Until
    /// the driver reports [`ClusterInput::Connected`], logins wait for the bus (and are
    /// refused as unavailable after the claim timeout).
    pub fn new_clustered(
        server: Arc<ServerConfig>,
        config: RelayConfig,
        cluster: ClusterConfig,
        now: Instant,
        unix_ms: u64,
    ) -> Self {
        let mut endpoint = ServerEndpoint::new(server.clone(), config.clone());
        endpoint.relay = Relay::new_clustered(server, config, cluster, now, unix_ms);
        endpoint.now = now;
        endpoint
    }

    /// What the cluster's bus driver reports: messages, presence changes, claim results,
    /// the bus going and coming back.
    pub fn handle_cluster_input(&mut self, now: Instant, input: ClusterInput) {
        self.tick(now);
        self.relay.handle_cluster_input(now, input);
        self.pump();
    }

    /// The user directory changed (the I/O layer reloaded it): sessions whose key is no
    /// longer registered are closed as revoked (see [`Relay::directory_changed`]).
    /// Returns how many.
    pub fn directory_changed(&mut self, now: Instant) -> usize {
        self.tick(now);
        let revoked = self.relay.directory_changed(now);
        self.pump();
        revoked
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
        self.relay.open_connection(now, rng)
    }

    /// Registers a newly accepted socket from `source` (its peer's address), counted
    /// against the per-source handshake limit too
    /// ([`RelayConfig::max_handshaking_per_source`]). On an error the I/O layer closes the
    /// socket. Drivers that know the peer's address call this rather than
    /// [`ServerEndpoint::accept`].
    pub fn accept_from<R: CryptoRng + ?Sized>(
        &mut self,
        now: Instant,
        source: core::net::IpAddr,
        rng: &mut R,
    ) -> Result<ConnectionId, RelayError> {
        self.tick(now);
        if self.shutdown_deadline.is_some() {
            return Err(RelayError::ShuttingDown);
        }
        self.relay.open_connection_from(now, Some(source), rng)
    }

    /// Bytes read from connection `id`.
    pub fn handle_input(&mut self, id: ConnectionId, now: Instant, data: &[u8]) {
        self.tick(now);
        if self.relay.handle_input(id, now, data).is_err() {
            return;
        }
        if !self.relay.wants_input(id) && self.relay.has_connection(id) && self.paused.insert(id) {
            self.actions.push_back(ServerAction::PauseReading(id));
        }
        self.pump();
    }

    /// `n` bytes of the transmit outstanding on `socket` were written.
    pub fn handle_written(&mut self, socket: ServerSocket, now: Instant, n: usize) {
        self.tick(now);
        let id = socket.connection();
        if let Some(done) = self.in_flight.remove(&socket) {
            if done.counted {
                match socket {
                    ServerSocket::Main(_) => self.relay.consume_output(id, n.min(done.len)),
                    ServerSocket::Callback(_) => {
                        self.relay.consume_callback_output(id, n.min(done.len));
                    }
                }
            }
            if let Some(rest) = self.deadlines.progress(socket, done, now, n) {
                self.in_flight.insert(socket, rest);
            }
        }
        self.flush(id);
        self.resume_readers();
        self.pump();
    }

    /// The callback connection asked for by [`ServerAction::OpenCallback`] is open.
    pub fn handle_callback_connected(&mut self, id: ConnectionId, now: Instant) {
        self.tick(now);
        match self.callbacks.remove(&id) {
            Some(Callback::Connecting { deadline, hello }) => {
                self.callback_deadlines.remove(&(deadline, id));
                self.callbacks.insert(id, Callback::Open { hello });
            }
            // Given up already (or never asked for): close the late socket.
            _ => self
                .actions
                .push_back(ServerAction::Close(ServerSocket::Callback(id))),
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
                    self.relay.callback_failed(id, self.now);
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
            self.relay.shutdown(now);
        }
        self.pump();
    }

    /// True once a shutdown closed every socket: the I/O layer may stop.
    pub fn is_finished(&self) -> bool {
        self.shutdown_deadline.is_some() && self.relay.connection_count() == 0
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
            self.shutdown_deadline
                .filter(|_| self.relay.connection_count() > 0),
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
        while let Some(socket) = self.deadlines.pop_expired(now) {
            self.stalled(socket);
        }
        while let Some(&(at, id)) = self.callback_deadlines.first() {
            if at > now {
                break;
            }
            self.callback_deadlines.pop_first();
            if self.drop_callback(id) {
                self.relay.callback_failed(id, now);
            }
        }
        if self.accept_resume.is_some_and(|t| t <= now) {
            self.accept_resume = None;
            self.actions.push_back(ServerAction::ResumeAccepting);
        }
        if self.shutdown_deadline.is_some_and(|t| t <= now) {
            let ids: Vec<ConnectionId> = self.relay.connection_ids().collect();
            for id in ids {
                self.forget(id);
            }
        }
        // Last, so that whatever the endpoint's own deadlines made the relay schedule is
        // fired too if already due: after this call no deadline is at or before `now`.
        if self.relay.poll_timeout().is_some_and(|t| t <= now) {
            self.relay.handle_timeout(now);
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
            while let Some(action) = self.relay.poll_cluster_action() {
                moved = true;
                self.actions.push_back(ServerAction::Cluster(action));
            }
            if !moved {
                return;
            }
        }
    }

    fn open_callback(&mut self, id: ConnectionId, port: u16, hello: Vec<u8>) {
        // The relay allows one callback per session; never two sockets for one.
        if !self.relay.has_connection(id) || self.callbacks.contains_key(&id) {
            return;
        }
        let deadline = self.now + self.relay.config().callback_connect_timeout;
        self.callbacks
            .insert(id, Callback::Connecting { deadline, hello });
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
        let main = ServerSocket::Main(id);
        if !self.in_flight.contains_key(&main) {
            let out = self.relay.output(id);
            let len = out.len().min(WRITE_CHUNK);
            if let Some(chunk) = out.get(..len).filter(|c| !c.is_empty()) {
                let bytes = chunk.to_vec();
                // A handshake's output is replaced when it ends: take it now.
                let counted = !self.relay.is_handshaking(id);
                if !counted {
                    self.relay.consume_output(id, len);
                }
                let in_flight = self.deadlines.start(main, now, len, counted);
                self.in_flight.insert(main, in_flight);
                self.actions.push_back(ServerAction::Transmit {
                    socket: main,
                    bytes,
                });
            }
        }
        let callback = ServerSocket::Callback(id);
        if let Some(Callback::Open { hello }) = self.callbacks.get_mut(&id)
            && !self.in_flight.contains_key(&callback)
        {
            let (bytes, counted) = if hello.is_empty() {
                let out = self.relay.callback_output(id);
                let len = out.len().min(WRITE_CHUNK);
                (out.get(..len).unwrap_or_default().to_vec(), true)
            } else {
                (core::mem::take(hello), false)
            };
            if !bytes.is_empty() {
                let in_flight = self.deadlines.start(callback, now, bytes.len(), counted);
                self.in_flight.insert(callback, in_flight);
                self.actions.push_back(ServerAction::Transmit {
                    socket: callback,
                    bytes,
                });
            }
        }
        if !self.in_flight.contains_key(&main) && self.relay.should_close(id) {
            self.forget(id);
        }
    }

    /// Closes every socket of `id` and tells the relay the connection is gone.
    fn forget(&mut self, id: ConnectionId) {
        self.drop_callback(id);
        self.paused.remove(&id);
        let main = ServerSocket::Main(id);
        self.deadlines.cancel(main, self.in_flight.remove(&main));
        if self.relay.has_connection(id) {
            self.actions.push_back(ServerAction::Close(main));
            self.relay.connection_lost(id);
        }
    }

    /// Closes the callback socket of `id`, if it has one; true if it had.
    fn drop_callback(&mut self, id: ConnectionId) -> bool {
        let Some(callback) = self.callbacks.remove(&id) else {
            return false;
        };
        let socket = ServerSocket::Callback(id);
        if let Callback::Connecting { deadline, .. } = callback {
            self.callback_deadlines.remove(&(deadline, id));
        }
        self.deadlines
            .cancel(socket, self.in_flight.remove(&socket));
        self.actions.push_back(ServerAction::Close(socket));
        true
    }

    /// `socket` took none of its bytes within the write timeout (its deadline is gone).
    fn stalled(&mut self, socket: ServerSocket) {
        self.in_flight.remove(&socket);
        let id = socket.connection();
        match socket {
            ServerSocket::Main(_) => {
                self.drop_callback(id);
                self.paused.remove(&id);
                if self.relay.has_connection(id) {
                    self.actions.push_back(ServerAction::Close(socket));
                    self.relay.connection_stalled(id, self.now);
                }
            }
            ServerSocket::Callback(_) => {
                if self.drop_callback(id) {
                    self.relay.callback_failed(id, self.now);
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
