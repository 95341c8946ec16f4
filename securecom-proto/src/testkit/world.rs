//! One simulated world: a relay, the clients connected to it and a virtual clock, all in
//! memory, no sockets (quinn-proto's test `Pair`, here one relay and any number of peers).
//!
//! Bytes move only when asked. [`World::drive`] delivers in both directions until nothing
//! moves and fails on livelock after [`MAX_ROUNDS`] rounds, checking the relay's
//! invariants after every round. The finer steps ([`World::take_output`],
//! [`World::send_up`], [`World::transmit`], [`World::deliver`]) let a fuzz target own every
//! stream and hold, drop, duplicate, alter or misroute what crosses it: each peer keeps its
//! `up` stream (written, not yet given to the relay) and `down` stream (written by the
//! relay, not yet delivered) as queues of chunks.
//!
//! The relay is an [`AdversarialRelay`]: honest until a test makes it interfere.
//!
//! The simulation tests and the `relay` and `scheduler` fuzz targets run in this world.
//! Its API is fallible; the tests' panicking shorthands live with the tests.

use alloc::boxed::Box;
use alloc::collections::{BTreeSet, VecDeque};
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::time::Duration;

use super::TestRng;
use super::adversary::AdversarialRelay;
use super::fixtures::{self, VALID_TIME};
use crate::chat::MemoryKnownKeys;
use crate::client::{ChatClient, ClientEvent};
use crate::handshake::{ClientConfig, ClientHandshake, ClientProgress, HandshakeError};
use crate::identity::Username;
use crate::relay::{ConnectionId, Relay, RelayConfig, RelayError, RelayEvent};
use crate::session::Session;
use crate::time::Instant;

/// Rounds of delivery after which [`World::drive`] declares a livelock.
pub(crate) const MAX_ROUNDS: usize = 1_000;

/// Exchanges of a login handshake after which it counts as stalled.
const MAX_LOGIN_EXCHANGES: usize = 8;

/// What is at the client end of a connection.
pub(crate) enum End {
    /// A user's chat client.
    Client(Box<ChatClient>),
    /// A logged-in session that the test writes records into itself (the `relay` fuzz
    /// target): what arrives is read and dropped.
    Session(Box<Session>),
    /// A connection that never logged in: raw bytes only.
    Raw,
}

/// One connection to the relay and what is at its other end.
pub(crate) struct Peer {
    /// The user logged in on it, if any.
    pub(crate) user: Option<Username>,
    pub(crate) conn: ConnectionId,
    pub(crate) end: End,
    /// Chunks the end wrote, not yet given to the relay.
    pub(crate) up: VecDeque<Vec<u8>>,
    /// Chunks the relay wrote for the end, not yet delivered.
    pub(crate) down: VecDeque<Vec<u8>>,
    /// The client's events, as collected while driving.
    pub(crate) events: Vec<ClientEvent>,
    /// False once the socket is gone (closed, lost, or the test cut it).
    pub(crate) connected: bool,
    /// False while the end does not read: the relay's output for it piles up.
    pub(crate) reading: bool,
}

impl Peer {
    fn new(user: Option<Username>, conn: ConnectionId, end: End) -> Self {
        Peer {
            user,
            conn,
            end,
            up: VecDeque::new(),
            down: VecDeque::new(),
            events: Vec::new(),
            connected: true,
            reading: true,
        }
    }

    /// The chat client at this end, if it is one.
    pub(crate) fn client(&mut self) -> Option<&mut ChatClient> {
        match &mut self.end {
            End::Client(c) => Some(c),
            _ => None,
        }
    }

    /// The bare session at this end, if it is one.
    pub(crate) fn session(&mut self) -> Option<&mut Session> {
        match &mut self.end {
            End::Session(s) => Some(s),
            _ => None,
        }
    }

    fn collect_events(&mut self) {
        if let End::Client(c) = &mut self.end {
            while let Some(e) = c.poll_event() {
                self.events.push(e);
            }
        }
    }
}

/// Why a login failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LoginError {
    /// The fixtures have no such user.
    UnknownUser,
    /// The relay refused the connection, or lost it.
    Relay(RelayError),
    /// The handshake failed at the client (the relay's refusal arrives this way too).
    Handshake(HandshakeError),
    /// The handshake did not finish in a bounded number of exchanges.
    Stalled,
}

/// Why driving the world failed: each is a bug in the machines, or a livelock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum DriveError {
    /// Bytes were still moving after [`MAX_ROUNDS`] rounds.
    Livelock,
    /// `Relay::check_invariants` failed.
    Invariant(String),
    /// The relay named a connection it had been told was lost.
    TransmitToLost(ConnectionId),
    /// The relay queued output for a connection it had been told was lost.
    OutputForLost(ConnectionId),
}

/// A completed login handshake.
struct Login {
    conn: ConnectionId,
    name: Username,
    config: Arc<ClientConfig>,
    /// The client's established session.
    session: Session,
    /// What the relay sent after the Welcome.
    rest: Vec<u8>,
}

/// A relay (fixture server), its peers and a virtual clock.
pub(crate) struct World {
    pub(crate) now: Instant,
    pub(crate) relay: AdversarialRelay,
    pub(crate) peers: Vec<Peer>,
    /// Every event of the relay, in order.
    pub(crate) relay_events: Vec<RelayEvent>,
    /// Connections reported lost to the relay.
    pub(crate) lost: BTreeSet<ConnectionId>,
    /// The seed of the last connection's randomness.
    next_seed: u64,
}

impl World {
    /// A relay with `config` serving the fixture server (alice, bob and carol), no peers,
    /// the clock at zero.
    pub(crate) fn new(config: RelayConfig) -> Self {
        World {
            now: Instant::ZERO,
            relay: AdversarialRelay::new(Relay::new(fixtures::server_config(), config)),
            peers: Vec::new(),
            relay_events: Vec::new(),
            lost: BTreeSet::new(),
            next_seed: 1_000,
        }
    }

    // ----- connecting -----

    /// Logs `user` in with a chat client: a genuine handshake through the relay on a new
    /// connection (only this connection's bytes move). Returns the peer's index.
    pub(crate) fn connect(&mut self, user: &str) -> Result<usize, LoginError> {
        let login = self.handshake(user)?;
        let mut client = ChatClient::new(
            login.session,
            login.config,
            Box::new(MemoryKnownKeys::default()),
            self.now,
        );
        let failed = client.handle_input(self.now, &login.rest).is_err();
        let end = End::Client(Box::new(client));
        let i = self.push(Peer::new(Some(login.name), login.conn, end));
        if failed {
            self.close(i);
        }
        Ok(i)
    }

    /// Logs `user` in genuinely, keeping the bare session: the test writes the records.
    pub(crate) fn connect_session(&mut self, user: &str) -> Result<usize, LoginError> {
        let mut login = self.handshake(user)?;
        drain_session(&mut login.session, &login.rest);
        let end = End::Session(Box::new(login.session));
        Ok(self.push(Peer::new(Some(login.name), login.conn, end)))
    }

    /// Opens a connection that never logs in.
    pub(crate) fn connect_raw(&mut self) -> Result<usize, RelayError> {
        let mut rng = self.next_rng();
        let conn = self.relay.open_connection(self.now, &mut rng)?;
        Ok(self.push(Peer::new(None, conn, End::Raw)))
    }

    /// The randomness of the next connection (its relay side and its client).
    fn next_rng(&mut self) -> TestRng {
        self.next_seed += 1;
        TestRng::new(self.next_seed)
    }

    fn push(&mut self, peer: Peer) -> usize {
        self.peers.push(peer);
        self.peers.len() - 1
    }

    /// The handshake of `user` on a new connection.
    fn handshake(&mut self, user: &str) -> Result<Login, LoginError> {
        let u = fixtures::get().named(user).ok_or(LoginError::UnknownUser)?;
        let now = self.now;
        let mut rng = self.next_rng();
        let conn = self
            .relay
            .open_connection(now, &mut rng)
            .map_err(LoginError::Relay)?;
        let mut hs = ClientHandshake::start(Arc::clone(&u.config), &mut rng, now, VALID_TIME);
        for _ in 0..MAX_LOGIN_EXCHANGES {
            let out = hs.output().to_vec();
            hs.consume_output(out.len());
            if !out.is_empty() {
                self.relay
                    .handle_input(conn, now, &out)
                    .map_err(LoginError::Relay)?;
            }
            let back = self.relay.output(conn).to_vec();
            self.relay.consume_output(conn, back.len());
            match hs.handle_input(now, &back) {
                Ok(ClientProgress::Continue(next)) => hs = next,
                Ok(ClientProgress::Established { session, consumed }) => {
                    return Ok(Login {
                        conn,
                        name: u.name.clone(),
                        config: Arc::clone(&u.config),
                        session,
                        rest: back.get(consumed..).unwrap_or(&[]).to_vec(),
                    });
                }
                Err(e) => return Err(LoginError::Handshake(e)),
            }
        }
        Err(LoginError::Stalled)
    }

    // ----- moving bytes, step by step -----

    /// Moves what peer `i`'s end wrote into its up stream.
    pub(crate) fn take_output(&mut self, i: usize) {
        let Some(p) = self.peers.get_mut(i) else {
            return;
        };
        let out = match &mut p.end {
            End::Client(c) => {
                let out = c.output().to_vec();
                c.consume_output(out.len());
                out
            }
            End::Session(s) => {
                let out = s.output().to_vec();
                s.consume_output(out.len());
                out
            }
            End::Raw => Vec::new(),
        };
        if !out.is_empty() {
            p.up.push_back(out);
        }
    }

    /// Gives `bytes` to the relay as received on peer `i`'s connection (nothing once the
    /// peer is disconnected; a refusal means the relay dropped the connection already).
    pub(crate) fn send_up(&mut self, i: usize, bytes: &[u8]) {
        let now = self.now;
        if let Some(p) = self.peers.get(i).filter(|p| p.connected) {
            let _ = self.relay.handle_input(p.conn, now, bytes);
        }
    }

    /// Writes out every connection the relay says has output, as a driver would: into the
    /// down streams of connected peers that read (the others' output waits), closing the
    /// connections the relay says are finished; collects the relay's events.
    pub(crate) fn transmit(&mut self) -> Result<(), DriveError> {
        while let Some(conn) = self.relay.poll_transmit() {
            if self.lost.contains(&conn) {
                return Err(DriveError::TransmitToLost(conn));
            }
            let i = self.peers.iter().position(|p| p.conn == conn);
            let peer = i.and_then(|i| self.peers.get_mut(i));
            if peer.as_ref().is_some_and(|p| p.connected && !p.reading) {
                continue;
            }
            let out = self.relay.output(conn).to_vec();
            self.relay.consume_output(conn, out.len());
            let closing = self.relay.should_close(conn);
            if let Some(p) = peer {
                if p.connected && !out.is_empty() {
                    p.down.push_back(out);
                }
                if closing {
                    p.connected = false;
                }
            }
            if closing {
                self.lose(conn);
            }
        }
        while let Some(e) = self.relay.poll_event() {
            self.relay_events.push(e);
        }
        Ok(())
    }

    /// Delivers `bytes` to peer `i`'s end. A client that fails is closed, as a driver
    /// closes a broken session's socket.
    pub(crate) fn deliver(&mut self, i: usize, bytes: &[u8]) {
        let now = self.now;
        let Some(p) = self.peers.get_mut(i) else {
            return;
        };
        let failed = match &mut p.end {
            End::Client(c) => c.handle_input(now, bytes).is_err(),
            End::Session(s) => {
                drain_session(s, bytes);
                false
            }
            End::Raw => false,
        };
        if failed {
            self.close(i);
        }
    }

    /// Delivers every chunk waiting in the down streams; true if there was any.
    pub(crate) fn deliver_all(&mut self) -> bool {
        let mut moved = false;
        for i in 0..self.peers.len() {
            while let Some(chunk) = self.peers.get_mut(i).and_then(|p| p.down.pop_front()) {
                moved = true;
                self.deliver(i, &chunk);
            }
        }
        moved
    }

    /// Peer `i`'s socket goes away: the client learns it, and so does the relay.
    pub(crate) fn close(&mut self, i: usize) {
        let Some(p) = self.peers.get_mut(i).filter(|p| p.connected) else {
            return;
        };
        p.connected = false;
        if let End::Client(c) = &mut p.end {
            c.connection_lost();
        }
        let conn = p.conn;
        self.lose(conn);
    }

    fn lose(&mut self, conn: ConnectionId) {
        self.relay.connection_lost(conn);
        self.lost.insert(conn);
    }

    /// Advances the clock by `d` and fires every timer, of the relay and of every client.
    pub(crate) fn advance(&mut self, d: Duration) {
        self.now = self.now + d;
        let now = self.now;
        self.relay.handle_timeout(now);
        for p in &mut self.peers {
            if let End::Client(c) = &mut p.end {
                let _ = c.handle_timeout(now);
            }
        }
    }

    /// The events of peer `i`'s client since the last call.
    pub(crate) fn take_events(&mut self, i: usize) -> Vec<ClientEvent> {
        self.peers.get_mut(i).map_or_else(Vec::new, |p| {
            p.collect_events();
            core::mem::take(&mut p.events)
        })
    }

    // ----- driving -----

    /// The relay's invariants, and nothing queued for a connection reported lost.
    pub(crate) fn check(&self) -> Result<(), DriveError> {
        self.relay
            .check_invariants()
            .map_err(DriveError::Invariant)?;
        for &id in &self.lost {
            if !self.relay.output(id).is_empty() || !self.relay.callback_output(id).is_empty() {
                return Err(DriveError::OutputForLost(id));
            }
        }
        Ok(())
    }

    /// One round of honest delivery in both directions, then [`World::check`]; true if
    /// any byte moved.
    pub(crate) fn round(&mut self) -> Result<bool, DriveError> {
        let mut moved = false;
        for i in 0..self.peers.len() {
            let Some(p) = self.peers.get_mut(i).filter(|p| p.connected) else {
                continue;
            };
            p.collect_events();
            self.take_output(i);
            while let Some(chunk) = self.peers.get_mut(i).and_then(|p| p.up.pop_front()) {
                moved = true;
                self.send_up(i, &chunk);
            }
        }
        self.transmit()?;
        moved |= self.deliver_all();
        self.check()?;
        Ok(moved)
    }

    /// Honest delivery until nothing moves.
    pub(crate) fn drive(&mut self) -> Result<(), DriveError> {
        for _ in 0..MAX_ROUNDS {
            if !self.round()? {
                return Ok(());
            }
        }
        Err(DriveError::Livelock)
    }
}

/// Feeds `bytes` to `session` and reads every record, dropping them (and stopping quietly at
/// a fatal error, which is sticky).
pub(crate) fn drain_session(session: &mut Session, bytes: &[u8]) {
    let mut rest = bytes;
    for _ in 0..=bytes.len() {
        let took = session.push_input(rest);
        rest = rest.get(took..).unwrap_or(&[]);
        while let Ok(Some(_)) = session.next_record() {}
        if rest.is_empty() {
            break;
        }
    }
}
