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
//! Peers log in genuinely with [`World::connect`] (a chat client), `connect_session` (a bare
//! session the test writes into) or `connect_raw` (no login); see [`login`] and [`peer`].
//! The relay is an [`AdversarialRelay`]: honest until a test makes it interfere.
//!
//! The simulation tests and the `relay` and `scheduler` fuzz targets run in this world.
//! Its API is fallible; the tests' panicking shorthands live with the tests.

pub(crate) mod login;
mod peer;

pub(crate) use peer::{End, Peer, drain_session};

use alloc::collections::BTreeSet;
use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use super::adversary::AdversarialRelay;
use super::fixtures;
use crate::client::ClientEvent;
use crate::relay::{ConnectionId, Relay, RelayConfig, RelayEvent};
use crate::time::Instant;

/// Rounds of delivery after which [`World::drive`] declares a livelock.
pub(crate) const MAX_ROUNDS: usize = 1_000;

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
        Self::serving(fixtures::server_config(), config)
    }

    /// A relay with `config` serving `server` (its credentials and user directory).
    pub(crate) fn serving(
        server: alloc::sync::Arc<crate::handshake::ServerConfig>,
        config: RelayConfig,
    ) -> Self {
        Self::with_relay(Relay::new(server, config))
    }

    /// A world around `relay` (a clustered one, say), no peers, the clock at zero.
    pub(crate) fn with_relay(relay: Relay) -> Self {
        World {
            now: Instant::ZERO,
            relay: AdversarialRelay::new(relay),
            peers: Vec::new(),
            relay_events: Vec::new(),
            lost: BTreeSet::new(),
            next_seed: 1_000,
        }
    }

    /// A copy of this world, if it is at rest: no adversary set, no connection in the
    /// handshake, no chat client in a chat handshake. A fuzz target builds its logged-in
    /// world once and starts every execution from a copy.
    #[cfg(feature = "fuzzing")]
    pub(crate) fn try_clone(&self) -> Option<World> {
        Some(World {
            now: self.now,
            relay: self.relay.try_clone()?,
            peers: self
                .peers
                .iter()
                .map(Peer::try_clone)
                .collect::<Option<_>>()?,
            relay_events: self.relay_events.clone(),
            lost: self.lost.clone(),
            next_seed: self.next_seed,
        })
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
