//! The `node` target: one clustered relay, the node under test, with its users logged in
//! genuinely as bare sessions (so that, as in the `relay` target, the input writes any
//! command or record), and the rest of the cluster played by the input: two other nodes
//! that exist only as ids on the test kit's in-memory [`Bus`] and say what the input makes
//! them say, honestly framed (their own incarnation and sequence numbers) or not at all
//! (the hostile bus input of the `cluster` target).
//!
//! Where `cluster` runs every node and checks what crosses between them, this target
//! runs one, so an execution costs a third as much and reaches what honest nodes never
//! send: a request from a user who is not on the sending node, an acceptance nobody asked
//! for, chat data outside a chat, a node that restarts mid-chat, a user who logs in on two
//! nodes at once.

mod seeds;

pub(super) use seeds::seeds;

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::time::Duration;

use super::bus_input::{self, BusSide, Cluster, unix_ms};
use super::input::{self, Input, username};
use super::relay;
use super::start::{self, Copyable};
use crate::cluster::{
    BusBody, ClaimId, ClusterAction, ClusterInput, Destination, Envelope, Expect, NodeId,
    PresenceRecord, presence_key,
};
use crate::handshake::{ClientHandshake, ClientProgress};
use crate::identity::UserDirectory;
use crate::relay::{DuplicateLogin, Relay, RelayConfig};
use crate::testkit::fixtures::{self, VALID_TIME};
use crate::testkit::world::{End, Peer, World, drain_session};
use crate::time::Instant;

/// Steps per input.
const MAX_STEPS: usize = 128;
/// Delivery rounds of one honest pump: the node answers each input a bounded number of
/// times, so honest delivery must come to rest.
const MAX_ROUNDS: usize = 48;
/// The node under test's index on the bus; the played nodes follow it.
const ME: usize = 0;
/// Exchanges of a genuine login (hello, flights, the claim, the Welcome).
const MAX_LOGIN_EXCHANGES: usize = 8;

/// Step codes (the input's step byte, modulo 16). Codes 0 to 3 are a step of the `relay`
/// target on the node's connections (which reads its own step byte).
pub(super) mod op {
    pub(in crate::fuzzing) const USER: u8 = 0;
    pub(in crate::fuzzing) const SAY: u8 = 4;
    pub(in crate::fuzzing) const LIFE: u8 = 5;
    pub(in crate::fuzzing) const REMOTE: u8 = 6;
    pub(in crate::fuzzing) const FORGE: u8 = 7;
    pub(in crate::fuzzing) const PRESENCE: u8 = 8;
    pub(in crate::fuzzing) const CLAIM: u8 = 9;
    pub(in crate::fuzzing) const REPLAY: u8 = 10;
    pub(in crate::fuzzing) const EDIT: u8 = 11;
    pub(in crate::fuzzing) const PUMP: u8 = 12;
    pub(in crate::fuzzing) const LINK: u8 = 13;
    pub(in crate::fuzzing) const RAW: u8 = 14;
    pub(in crate::fuzzing) const TIME: u8 = 15;
}

/// A node the input plays: an id on the bus and the run it claims to be.
#[derive(Clone)]
struct Played {
    id: NodeId,
    incarnation: u64,
    /// The last sequence number it sent.
    seq: u64,
    /// Its index on the bus.
    link: usize,
}

/// The node under test, its sessions, the bus, and the nodes the input plays.
struct Harness {
    w: World,
    me: NodeId,
    incarnation: u64,
    side: BusSide,
    played: Vec<Played>,
    /// What the bus delivered to the node, not yet handed to it.
    pending: Vec<ClusterInput>,
    /// The played nodes' session numbers, for their claims.
    sessions: u64,
}

impl Copyable for Harness {
    fn try_copy(&self) -> Option<Harness> {
        Some(Harness {
            w: self.w.try_clone()?,
            me: self.me.clone(),
            incarnation: self.incarnation,
            side: self.side.clone(),
            played: self.played.clone(),
            pending: self.pending.clone(),
            sessions: self.sessions,
        })
    }
}

impl Cluster for Harness {
    fn side(&self) -> &BusSide {
        &self.side
    }

    fn side_mut(&mut self) -> &mut BusSide {
        &mut self.side
    }

    fn wall_ms(&self) -> u64 {
        unix_ms(self.w.now)
    }

    fn targets(&self) -> usize {
        1
    }

    fn node_count(&self) -> usize {
        1 + self.played.len()
    }

    fn node(&self, i: usize) -> Option<(&NodeId, u64)> {
        match i.checked_sub(1) {
            None => Some((&self.me, self.incarnation)),
            Some(p) => self.played.get(p).map(|p| (&p.id, p.incarnation)),
        }
    }

    fn sessions(&self, id: &NodeId) -> Vec<u64> {
        if *id == self.me {
            self.w.relay.connection_ids().map(|c| c.0).collect()
        } else {
            Vec::new()
        }
    }

    fn send(&mut self, _node: usize, later: bool, input: ClusterInput) {
        if later {
            self.pending.push(input);
        } else {
            self.give(input);
        }
    }
}

impl Harness {
    /// The node `n1` with `config`, connected to the bus; `n2` and `n3` played.
    fn new(config: RelayConfig, watch_first: bool) -> Option<Self> {
        let mut side = BusSide::new();
        let me = NodeId::new("n1").ok()?;
        let incarnation = unix_ms(Instant::ZERO);
        let relay = Relay::new_clustered(
            Arc::clone(&fixtures::get().server),
            config,
            side.node_config(me.clone()),
            Instant::ZERO,
            incarnation,
        );
        let bus = &mut side.bus;
        bus.watch_first = watch_first;
        bus.attach(me.clone());
        let mut played = Vec::new();
        for name in ["n2", "n3"] {
            let id = NodeId::new(name).ok()?;
            let link = bus.attach(id.clone());
            bus.connect(link);
            played.push(Played {
                id,
                incarnation,
                seq: 0,
                link,
            });
        }
        bus.connect(ME);
        let mut h = Harness {
            w: World::with_relay(relay),
            me,
            incarnation,
            side,
            played,
            pending: Vec::new(),
            sessions: 0,
        };
        // The played nodes announce themselves, as a starting node does.
        for p in 0..h.played.len() {
            h.say(p, false, BusBody::Heartbeat);
        }
        h.pump();
        Some(h)
    }

    /// Hands `input` to the node now, then checks its invariants.
    fn give(&mut self, input: ClusterInput) {
        let now = self.w.now;
        self.w.relay.handle_cluster_input(now, input);
        if let Err(e) = self.w.relay.check_invariants() {
            panic!("{e}");
        }
    }

    /// The node's cluster actions onto the bus, what the bus delivers to the node into the
    /// pending list, and what it delivers to the played nodes away (they react only to the
    /// input). True if anything moved.
    fn flush_bus(&mut self) -> bool {
        let mut moved = false;
        while let Some(action) = self.w.relay.poll_cluster_action() {
            moved = true;
            self.side.perform(ME, action);
        }
        while let Some(input) = self.side.bus.pop(ME) {
            self.pending.push(input);
        }
        for p in &self.played {
            while self.side.bus.pop(p.link).is_some() {}
        }
        moved
    }

    /// One round of honest transport between the sessions and the node, and the bus.
    fn flush(&mut self) -> bool {
        let moved = match self.w.round() {
            Ok(moved) => moved,
            Err(e) => panic!("{e:?}"),
        };
        self.flush_bus() || moved
    }

    /// Honest delivery of everything, until nothing moves.
    fn pump(&mut self) {
        self.deliver_all(true);
    }

    /// Honest delivery until nothing moves: of the bus, and of the sessions' bytes if
    /// `sessions`.
    fn deliver_all(&mut self, sessions: bool) {
        for _ in 0..MAX_ROUNDS {
            let mut moved = if sessions {
                self.flush()
            } else {
                self.flush_bus()
            };
            for input in core::mem::take(&mut self.pending) {
                moved = true;
                self.give(input);
            }
            if !moved {
                return;
            }
        }
        panic!("the node did not come to rest in {MAX_ROUNDS} rounds of honest delivery");
    }

    /// Fixture user `user` logs in genuinely on a new connection as a bare session: the
    /// handshake, the node's claim in the store, the Welcome. `None` if it was refused.
    fn login(&mut self, user: usize) -> Option<()> {
        let fixture = fixtures::get().user(user);
        let (name, config) = (fixture.name.clone(), Arc::clone(&fixture.config));
        let now = self.w.now;
        let mut rng = self.w.next_rng();
        let conn = self.w.relay.open_connection(now, &mut rng).ok()?;
        let mut hs = ClientHandshake::start(config, &mut rng, now, VALID_TIME);
        for _ in 0..MAX_LOGIN_EXCHANGES {
            let out = hs.output().to_vec();
            hs.consume_output(out.len());
            if !out.is_empty() {
                self.w.relay.handle_input(conn, now, &out).ok()?;
            }
            // The bus alone: the session is not among the peers yet.
            self.deliver_all(false);
            let back = self.w.relay.output(conn).to_vec();
            self.w.relay.consume_output(conn, back.len());
            match hs.handle_input(now, &back).ok()? {
                ClientProgress::Continue(next) => hs = next,
                ClientProgress::Established {
                    mut session,
                    consumed,
                    ..
                } => {
                    drain_session(&mut session, back.get(consumed..).unwrap_or(&[]));
                    let end = End::Session(Box::new(session));
                    self.w.peers.push(Peer::new(Some(name), conn, end));
                    return Some(());
                }
            }
        }
        None
    }

    // ----- the played nodes -----

    fn played_index(&self, b: u8) -> usize {
        usize::from(b) % self.played.len().max(1)
    }

    /// Played node `p` publishes `body`, honestly framed: to the node under test
    /// (`to_me`) or to every node, its run, its next sequence number, the time now.
    fn say(&mut self, p: usize, to_me: bool, body: BusBody) {
        let wall = unix_ms(self.w.now);
        let (me, my_incarnation) = (self.me.clone(), self.incarnation);
        let Some(played) = self.played.get_mut(p) else {
            return;
        };
        played.seq += 1;
        let env = Envelope {
            from: played.id.clone(),
            to: to_me.then(|| me.clone()),
            to_incarnation: if to_me { my_incarnation } else { 0 },
            incarnation: played.incarnation,
            seq: played.seq,
            unix_ms: wall,
            body,
        };
        let link = played.link;
        if let Ok(bytes) = env.seal(&self.side.keys) {
            let to = if to_me {
                Destination::Node(me)
            } else {
                Destination::All
            };
            self.side
                .bus
                .perform(link, ClusterAction::Publish { to, bytes });
        }
    }

    /// A played node's life: a heartbeat, its goodbye, a restart (a new run, whose first
    /// heartbeat announces it), or a crash (its link goes silent).
    fn life(&mut self, input: &mut Input<'_>) {
        let b = input.u8();
        let p = self.played_index(b);
        match b >> 6 {
            0 => self.say(p, false, BusBody::Heartbeat),
            1 => self.say(p, false, BusBody::Goodbye),
            2 => {
                let wall = unix_ms(self.w.now);
                if let Some(played) = self.played.get_mut(p) {
                    played.incarnation = wall.max(played.incarnation.saturating_add(1));
                    played.seq = 0;
                    self.side.bus.crash(played.link);
                    self.side.bus.connect(played.link);
                }
                self.say(p, false, BusBody::Heartbeat);
            }
            _ => {
                if let Some(played) = self.played.get(p) {
                    self.side.bus.crash(played.link);
                }
            }
        }
    }

    /// A user logs in on, or out of, a played node: its claim or release in the store,
    /// with the user's registered key (or another, rarely).
    fn remote(&mut self, input: &mut Input<'_>) {
        let b = input.u8();
        let p = self.played_index(b);
        let user = username(input);
        let store_key = presence_key(&user);
        let current = self.side.bus.entry(&store_key).cloned();
        let Some(played) = self.played.get(p).cloned() else {
            return;
        };
        if b & 0x80 != 0 {
            if let Some(entry) = current {
                let release = ClusterAction::Release {
                    key: store_key,
                    revision: entry.revision,
                };
                self.side.bus.perform(played.link, release);
            }
            return;
        }
        let key = if b & 0x40 == 0 {
            fixtures::get().server.directory.lookup(&user)
        } else {
            None
        }
        .unwrap_or_else(|| input::key(input));
        let (replaces, expect) = match current.filter(|e| e.value.is_some()) {
            // A login replacing the session elsewhere, as the replacing policy does.
            Some(e) => (e.revision, Expect::Revision(e.revision)),
            None => (0, Expect::Absent),
        };
        self.sessions += 1;
        let record = PresenceRecord {
            node: played.id,
            incarnation: played.incarnation,
            session: self.sessions,
            replaces,
            key,
        };
        if let Ok(value) = record.seal(&self.side.keys, &store_key) {
            let claim = ClusterAction::Claim {
                claim: ClaimId(self.sessions),
                key: store_key,
                value,
                expect,
            };
            self.side.bus.perform(played.link, claim);
        }
    }

    /// Edits the pending deliveries: deliver, drop, duplicate or move one entry.
    fn edit(&mut self, input: &mut Input<'_>) {
        let b = input.u8();
        let pick = usize::from(input.u8());
        if self.pending.is_empty() {
            return;
        }
        let i = pick % self.pending.len();
        match b % 4 {
            0 => {
                let entry = self.pending.remove(i);
                self.give(entry);
            }
            1 => {
                self.pending.remove(i);
            }
            2 => {
                if let Some(entry) = self.pending.get(i).cloned() {
                    self.pending.push(entry);
                }
            }
            _ => {
                let entry = self.pending.remove(i);
                self.pending.push(entry);
            }
        }
    }

    /// The node's own bus link or store: disconnect or reconnect, the store's claims
    /// answered differently, or the node shutting down.
    fn link(&mut self, input: &mut Input<'_>) {
        let b = input.u8();
        match b % 3 {
            0 => {
                if self.side.bus.is_connected(ME) {
                    self.side.bus.disconnect(ME);
                    self.pending.clear();
                } else {
                    self.side.bus.connect(ME);
                }
            }
            1 => {
                self.side.bus.watch_first = b & 4 != 0;
                self.side.bus.results_lost = b & 8 != 0;
                self.side.bus.claims_fail = b & 16 != 0;
                self.side.bus.store_silent = b & 32 != 0;
            }
            _ => {
                let now = self.w.now;
                self.w.relay.shutdown(now);
            }
        }
    }

    fn advance(&mut self, d: Duration) {
        self.w.advance(d);
        if let Err(e) = self.w.check() {
            panic!("{e:?}");
        }
    }
}

/// Start state `setup` (the first input byte, modulo 8): duplicate logins refused (bit 0
/// clear) or replacing; watch updates before claim results (bit 1); bit 2 chooses the
/// users: alice and bob on the node, carol on `n2` (clear), or alice on the node and bob
/// and carol on `n2` and `n3` (set), alice then chatting with carol across the nodes.
fn setup(setup: u8) -> Option<Harness> {
    let config = RelayConfig {
        duplicate_login: if setup & 1 == 0 {
            DuplicateLogin::RejectNew
        } else {
            DuplicateLogin::ReplaceExisting
        },
        output_high_water: 4 * 1024,
        output_hard_limit: 64 * 1024,
        max_pending_requests_per_user: 2,
        ..RelayConfig::default()
    };
    let mut h = Harness::new(config, setup & 2 != 0)?;
    let (local, remote): (&[usize], &[(usize, u8)]) = if setup & 4 == 0 {
        (&[0, 1], &[(2, 0)])
    } else {
        (&[0], &[(1, 0), (2, 1)])
    };
    for &u in local {
        h.login(u)?;
    }
    for &(u, p) in remote {
        let program = [p, u8::try_from(u).ok()?];
        h.remote(&mut Input::new(&program));
        h.pump();
    }
    if setup & 4 != 0 {
        let program = seeds::chat_with_carol();
        let mut input = Input::new(&program);
        while !input.is_empty() {
            step(&mut h, &mut input);
            h.pump();
        }
    }
    Some(h)
}

/// The node under test (fixture server, clustered as `n1` with `n2` and `n3` played by
/// the input), users logged in genuinely on it as bare sessions and on the played nodes
/// as presence entries (the first byte chooses: [`setup`]), then up to 128 steps:
///
/// - a step of the `relay` target on the node's connections: a request with fuzzed
///   fields, an arbitrary record sealed with the genuine keys, a close, raw bytes, a lost
///   connection, raw connections, time;
/// - a played node publishes a bus message of any kind with fuzzed names, keys and
///   payloads, honestly framed; heartbeats, goodbyes, restarts (a new run) and crashes
///   of played nodes; users logging in on played nodes (claims in the store, with the
///   registered key or another) and out (releases);
/// - the hostile bus input of the `cluster` target (forged envelopes and bodies,
///   presence entries, claim results, replays);
/// - the node's deliveries: deliver, drop, duplicate or move any one, or all of them;
///   its bus link lost or back, the store's claims answered differently, its shutdown;
///   raw bytes as a bus message; virtual time jumps (every timer fires).
///
/// Checks after every step and every bus input: no panic, `check_invariants()`, nothing
/// queued for or sent to a lost connection, and honest delivery comes to rest.
pub fn node(data: &[u8]) {
    let _ = node_reaches_remote_chat(data);
}

/// For the replay tests: [`node`], saying whether a local user was in a chat with a
/// user of a played node at some step (the seeds must reach chats across nodes).
pub fn node_reaches_remote_chat(data: &[u8]) -> bool {
    let mut input = Input::new(data);
    let number = input.u8() % 8;
    let Some(mut h) = start::world("node", number, || setup(number)) else {
        panic!("a start state could not be built");
    };
    let mut reached = false;
    for _ in 0..MAX_STEPS {
        if input.is_empty() {
            break;
        }
        step(&mut h, &mut input);
        // A round of honest transport checks the node (`World::round`).
        h.flush();
        reached |= remote_chat(&h);
    }
    h.pump();
    reached
}

/// True if a local user is chatting with a user who is not local.
fn remote_chat(h: &Harness) -> bool {
    let relay = &h.w.relay;
    relay
        .online_users()
        .filter_map(|u| relay.chat_peer(u))
        .any(|peer| !relay.online_users().any(|u| u == peer))
}

fn step(h: &mut Harness, input: &mut Input<'_>) {
    match input.u8() % 16 {
        0..=3 => relay::step(&mut h.w, &mut 0, input),
        op::SAY => {
            let b = input.u8();
            let p = h.played_index(b);
            let body = bus_input::body(input);
            h.say(p, b & 0x80 == 0, body);
        }
        op::LIFE => h.life(input),
        op::REMOTE => h.remote(input),
        op::FORGE => bus_input::forge(h, input),
        op::PRESENCE => bus_input::presence(h, input),
        op::CLAIM => bus_input::claim(h, input),
        op::REPLAY => bus_input::replay(h, input),
        op::EDIT => h.edit(input),
        op::PUMP => h.pump(),
        op::LINK => h.link(input),
        op::RAW => {
            let len = usize::from(input.u8());
            let bytes = input.bytes(len).to_vec();
            h.give(ClusterInput::Message(bytes));
        }
        _ => {
            let b = input.u8();
            let unit = match b >> 6 {
                0 => 50,
                1 => 500,
                2 => 5_000,
                _ => 60_000,
            };
            h.advance(Duration::from_millis(u64::from(b & 0x3f) * unit));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Username;
    use alloc::string::String;

    fn name(s: &str) -> Username {
        Username::new(s).unwrap()
    }

    fn local(h: &Harness) -> Vec<String> {
        h.w.relay
            .online_users()
            .map(|u| String::from(u.as_str()))
            .collect()
    }

    #[test]
    fn start_states_hold_their_users_and_chat() {
        for number in 0..8 {
            let h = setup(number).unwrap_or_else(|| panic!("start {number}"));
            let remote = |u: &str| {
                h.w.relay
                    .remote_node_of(&name(u))
                    .map(|n| String::from(n.as_str()))
            };
            if number & 4 == 0 {
                assert_eq!(local(&h), ["alice", "bob"], "start {number}");
                assert_eq!(remote("carol").as_deref(), Some("n2"), "start {number}");
                assert!(!remote_chat(&h), "start {number}");
            } else {
                assert_eq!(local(&h), ["alice"], "start {number}");
                assert_eq!(remote("bob").as_deref(), Some("n2"), "start {number}");
                assert_eq!(remote("carol").as_deref(), Some("n3"), "start {number}");
                assert_eq!(h.w.relay.chat_peer(&name("alice")), Some(&name("carol")));
            }
            assert!(h.try_copy().is_some(), "start {number}");
        }
    }

    #[test]
    fn a_played_node_that_restarts_ends_the_chat_with_its_user() {
        let mut h = setup(4).unwrap();
        // n3, carol's node, restarts: a new run, whose first heartbeat announces it.
        h.life(&mut Input::new(&[0x81]));
        h.pump();
        assert_eq!(h.w.relay.chat_peer(&name("alice")), None);
        assert!(h.w.check().is_ok());
    }

    #[test]
    fn a_forged_acceptance_from_the_wrong_node_starts_no_chat() {
        let run = |h: &mut Harness, program: &[u8]| {
            let mut input = Input::new(program);
            while !input.is_empty() {
                step(h, &mut input);
                h.pump();
            }
        };
        // Alice asks carol (on n2), whose node says the request arrived.
        let mut h = setup(0).unwrap();
        run(&mut h, &seeds::request(0, &[2, 2]));
        run(&mut h, &[op::SAY, 0, 3, 0, 2, 0]);
        let mut genuine = h.try_copy().unwrap();
        // n3, not carol's node, says she accepted.
        run(&mut h, &[op::SAY, 1, 4, 2, 0, 2]);
        assert_eq!(h.w.relay.chat_peer(&name("alice")), None);
        // From n2, the same acceptance starts the chat.
        run(&mut genuine, &[op::SAY, 0, 4, 2, 0, 2]);
        assert_eq!(
            genuine.w.relay.chat_peer(&name("alice")),
            Some(&name("carol"))
        );
    }

    #[test]
    fn the_seeds_reach_chats_across_nodes() {
        for (i, seed) in seeds().iter().enumerate() {
            assert!(node_reaches_remote_chat(seed), "seed {i}");
        }
    }
}
