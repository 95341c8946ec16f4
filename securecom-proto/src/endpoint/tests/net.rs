//! A loopback network in memory for endpoint tests: one server endpoint, named client
//! endpoints, byte queues between them, a virtual clock, and sockets that can be told to
//! stop reading (their transmits stay unacknowledged).

use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use crate::chat::MemoryKnownKeys;
use crate::client::ClientEvent;
use crate::endpoint::{
    ClientAction, ClientEndpoint, ClientLimits, ClientSocket, ServerAction, ServerEndpoint,
    ServerSocket,
};
use crate::identity::Username;
use crate::relay::{ConnectionId, RelayConfig, RelayEvent};
use crate::testkit::TestRng;
use crate::testkit::fixtures::{VALID_TIME, client_config, server_config};
use crate::time::Instant;

/// Rounds a drive may take before it is called a livelock.
const MAX_ROUNDS: usize = 10_000;

pub(crate) struct Peer {
    pub(crate) endpoint: ClientEndpoint,
    pub(crate) conn: ConnectionId,
    /// Bytes the server handed to this peer's socket and the peer has not read yet.
    inbound: VecDeque<(ServerSocket, Vec<u8>)>,
    /// Bytes the peer wrote and the server has not read yet (it may have paused reading).
    outbound: VecDeque<Vec<u8>>,
    /// The peer saw its server socket end.
    eof: bool,
    pub(crate) events: Vec<ClientEvent>,
    pub(crate) closed: BTreeSet<ClientSocket>,
}

pub(crate) struct Net {
    pub(crate) server: ServerEndpoint,
    pub(crate) peers: BTreeMap<String, Peer>,
    pub(crate) now: Instant,
    pub(crate) rng: TestRng,
    /// Connections whose peer reads nothing (their transmits are never acknowledged).
    pub(crate) stalled: BTreeSet<ConnectionId>,
    pub(crate) paused: BTreeSet<ConnectionId>,
    pub(crate) server_events: Vec<RelayEvent>,
    pub(crate) server_closed: BTreeSet<ServerSocket>,
    pub(crate) callback_requests: Vec<(ConnectionId, u16)>,
    /// Every server action, for assertions on the driving contract.
    pub(crate) server_actions: Vec<ServerAction>,
    /// Server sockets with a transmit handed out and not yet acknowledged.
    pub(crate) outstanding: BTreeMap<ServerSocket, Instant>,
}

impl Net {
    pub(crate) fn new(config: RelayConfig) -> Self {
        Net {
            server: ServerEndpoint::new(server_config(), config),
            peers: BTreeMap::new(),
            now: Instant::from_duration(Duration::from_secs(1)),
            rng: TestRng::new(7),
            stalled: BTreeSet::new(),
            paused: BTreeSet::new(),
            server_events: Vec::new(),
            server_closed: BTreeSet::new(),
            callback_requests: Vec::new(),
            server_actions: Vec::new(),
            outstanding: BTreeMap::new(),
        }
    }

    /// Connects `name` and drives until its handshake is over.
    pub(crate) fn connect(&mut self, name: &str, limits: ClientLimits) {
        self.connect_blocking(name, limits, &[]);
    }

    /// Connects `name`, whose chat client blocks `blocked` from its start.
    pub(crate) fn connect_blocking(&mut self, name: &str, limits: ClientLimits, blocked: &[&str]) {
        let endpoint = ClientEndpoint::connect(
            client_config(name),
            alloc::boxed::Box::new(MemoryKnownKeys::default()),
            limits,
            &mut self.rng,
            self.now,
            VALID_TIME,
        )
        .with_blocked(blocked.iter().filter_map(|b| Username::new(b).ok()));
        let conn = self.server.accept(self.now, &mut self.rng).unwrap();
        self.peers.insert(
            name.into(),
            Peer {
                endpoint,
                conn,
                inbound: VecDeque::new(),
                outbound: VecDeque::new(),
                eof: false,
                events: Vec::new(),
                closed: BTreeSet::new(),
            },
        );
        self.drive();
    }

    pub(crate) fn peer(&mut self, name: &str) -> &mut Peer {
        self.peers.get_mut(name).unwrap()
    }

    /// Advances the clock by `d` and fires every endpoint's due timers.
    pub(crate) fn advance(&mut self, d: Duration) {
        self.now = self.now + d;
        let now = self.now;
        if self.server.poll_timeout().is_some_and(|t| t <= now) {
            self.server.handle_timeout(now);
            let next = self.server.poll_timeout();
            assert!(
                next.is_none_or(|t| t > now),
                "{next:?} is not after {now:?}"
            );
        }
        for peer in self.peers.values_mut() {
            if peer.endpoint.poll_timeout().is_some_and(|t| t <= now) {
                peer.endpoint.handle_timeout(now);
                assert!(peer.endpoint.poll_timeout().is_none_or(|t| t > now));
            }
        }
        self.drive();
    }

    /// Moves bytes until nothing moves. Stalled connections keep their inbound bytes.
    pub(crate) fn drive(&mut self) {
        for _ in 0..MAX_ROUNDS {
            if !self.step() {
                return;
            }
        }
        panic!("livelock: the endpoints never settled");
    }

    fn step(&mut self) -> bool {
        let now = self.now;
        let mut moved = false;
        while let Some(action) = self.server.poll_action() {
            moved = true;
            self.server_actions.push(action.clone());
            match action {
                ServerAction::Transmit { socket, bytes } => {
                    assert!(
                        !self.server_closed.contains(&socket),
                        "transmit on closed {socket:?}"
                    );
                    assert!(
                        self.outstanding.insert(socket, now).is_none(),
                        "two transmits outstanding on {socket:?}"
                    );
                    match self
                        .peers
                        .values_mut()
                        .find(|p| p.conn == socket.connection())
                    {
                        Some(peer) => peer.inbound.push_back((socket, bytes)),
                        // A bare socket with nobody behind it: the kernel takes the bytes.
                        None => {
                            self.outstanding.remove(&socket);
                            self.server.handle_written(socket, now, bytes.len());
                        }
                    }
                }
                ServerAction::PauseReading(id) => {
                    assert!(self.paused.insert(id), "paused twice");
                }
                ServerAction::ResumeReading(id) => {
                    assert!(self.paused.remove(&id), "resumed while not paused");
                }
                ServerAction::OpenCallback { connection, port } => {
                    self.callback_requests.push((connection, port));
                }
                ServerAction::ResumeAccepting => {}
                ServerAction::Cluster(action) => panic!("a single node has no bus: {action:?}"),
                ServerAction::Close(socket) => {
                    self.outstanding.remove(&socket);
                    assert!(
                        self.server_closed.insert(socket),
                        "closed twice: {socket:?}"
                    );
                }
            }
        }
        while let Some(event) = self.server.poll_event() {
            self.server_events.push(event);
        }
        let names: Vec<String> = self.peers.keys().cloned().collect();
        for name in names {
            let Some(peer) = self.peers.get_mut(&name) else {
                continue;
            };
            let conn = peer.conn;
            // The peer reads what the server wrote (unless it stopped reading).
            if !self.stalled.contains(&conn) {
                while let Some((socket, bytes)) = peer.inbound.pop_front() {
                    moved = true;
                    if socket == ServerSocket::Main(conn) {
                        peer.endpoint.handle_input(now, &bytes);
                    }
                    self.outstanding.remove(&socket);
                    self.server.handle_written(socket, now, bytes.len());
                }
            }
            while let Some(action) = peer.endpoint.poll_action() {
                moved = true;
                match action {
                    ClientAction::Transmit { bytes } => {
                        peer.endpoint.handle_written(now, bytes.len());
                        peer.outbound.push_back(bytes);
                    }
                    ClientAction::ResumeAccepting => {}
                    ClientAction::Close(socket) => {
                        assert!(
                            peer.closed.insert(socket),
                            "client closed twice: {socket:?}"
                        );
                        if socket == ClientSocket::Server
                            && !self.server_closed.contains(&ServerSocket::Main(conn))
                        {
                            self.server.handle_closed(ServerSocket::Main(conn), now);
                        }
                    }
                }
            }
            let server_open = !self.server_closed.contains(&ServerSocket::Main(conn));
            if !server_open {
                peer.outbound.clear();
            }
            if !self.paused.contains(&conn) {
                while let Some(bytes) = peer.outbound.pop_front() {
                    moved = true;
                    self.server.handle_input(conn, now, &bytes);
                }
            }
            while let Some(event) = peer.endpoint.poll_event() {
                moved = true;
                peer.events.push(event);
            }
            // A socket the server closed ends at the client too, once read.
            if !server_open
                && peer.inbound.is_empty()
                && !peer.eof
                && !peer.closed.contains(&ClientSocket::Server)
            {
                peer.eof = true;
                peer.endpoint.handle_closed(now, ClientSocket::Server);
                moved = true;
            }
        }
        moved
    }
}
