//! The `cluster` target: two or three clustered relays on the test kit's in-memory
//! [`Bus`], a few users logged in genuinely (real handshakes, real chat clients) and more
//! logins held just before their end, all in a start state copied for every execution,
//! and a schedule the input chooses of user commands, bus deliveries and failures, time, and
//! hostile bus input: raw bytes, messages and presence entries authenticated with the
//! cluster's key but carrying arbitrary fields, and claim results for arbitrary claims.
//!
//! The bus is honest (`testkit/bus.rs`), but what it delivers waits in one pending list
//! that the input edits: deliver, drop, duplicate or move any entry, or deliver all of it.

mod seeds;

pub(super) use seeds::seeds;

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::time::Duration;

use super::bus_input::{self, BusSide, Cluster, unix_ms};
use super::check::{assert_subsequence, messages};
use super::input::{Input, username};
use super::start::{self, Copyable};
use crate::client::{ChatClient, ChatStatus, ClientEvent};
use crate::cluster::{ClusterInput, NodeId};
use crate::handshake::{ClientConfig, ClientHandshake};
use crate::identity::Username;
use crate::relay::{ConnectionId, DuplicateLogin, Relay, RelayConfig};
use crate::testkit::TestRng;
use crate::testkit::fixtures::{self, VALID_TIME};
use crate::testkit::login_end::ClientEnd as End;
use crate::time::Instant;

/// Steps per input.
const MAX_STEPS: usize = 128;
/// Delivery rounds of one honest pump. The cluster's exchanges are bounded (claims are
/// tried a few times, messages are answered at most once), so once the hostile steps are
/// done honest delivery must come to rest: more rounds are a livelock, a finding.
const MAX_ROUNDS: usize = 48;

/// Step codes (the input's step byte, modulo 16).
pub(super) mod op {
    pub(in crate::fuzzing) const USER: u8 = 0;
    pub(in crate::fuzzing) const DELIVER: u8 = 1;
    pub(in crate::fuzzing) const DROP: u8 = 2;
    pub(in crate::fuzzing) const DUPLICATE: u8 = 3;
    pub(in crate::fuzzing) const REORDER: u8 = 4;
    pub(in crate::fuzzing) const PUMP: u8 = 5;
    pub(in crate::fuzzing) const LINK: u8 = 6;
    pub(in crate::fuzzing) const NODE: u8 = 7;
    pub(in crate::fuzzing) const FLAGS: u8 = 8;
    pub(in crate::fuzzing) const TIME: u8 = 9;
    pub(in crate::fuzzing) const RAW: u8 = 10;
    pub(in crate::fuzzing) const FORGE: u8 = 11;
    pub(in crate::fuzzing) const PRESENCE: u8 = 12;
    pub(in crate::fuzzing) const CLAIM: u8 = 13;
    pub(in crate::fuzzing) const REPLAY: u8 = 14;
    pub(in crate::fuzzing) const LOGIN: u8 = 15;
}

/// User commands (the command byte, modulo 9).
pub(super) mod cmd {
    pub(in crate::fuzzing) const LIST: u8 = 0;
    pub(in crate::fuzzing) const REQUEST: u8 = 1;
    pub(in crate::fuzzing) const ACCEPT: u8 = 2;
    pub(in crate::fuzzing) const DENY: u8 = 3;
    pub(in crate::fuzzing) const WITHDRAW: u8 = 4;
    pub(in crate::fuzzing) const SAY: u8 = 5;
    pub(in crate::fuzzing) const LEAVE: u8 = 6;
    pub(in crate::fuzzing) const EXIT: u8 = 7;
    pub(in crate::fuzzing) const GET_KEY: u8 = 8;
}

/// One relay node.
struct Node {
    id: NodeId,
    relay: Relay,
    /// False while frozen: not driven, deaf and mute.
    running: bool,
    incarnation: u64,
}

impl Node {
    fn try_clone(&self) -> Option<Node> {
        Some(Node {
            id: self.id.clone(),
            relay: self.relay.try_clone()?,
            running: self.running,
            incarnation: self.incarnation,
        })
    }
}

/// One user's connection to one node.
struct User {
    name: Username,
    node: usize,
    conn: ConnectionId,
    config: Arc<ClientConfig>,
    end: End,
    connected: bool,
}

impl User {
    fn try_clone(&self) -> Option<User> {
        Some(User {
            name: self.name.clone(),
            node: self.node,
            conn: self.conn,
            config: Arc::clone(&self.config),
            end: self.end.try_clone()?,
            connected: self.connected,
        })
    }

    /// Hands `bytes` from the relay to this end; false if the end failed on them.
    fn deliver(&mut self, now: Instant, bytes: &[u8]) -> bool {
        self.end.deliver(&self.config, now, bytes)
    }

    fn lose(&mut self) {
        if !self.connected {
            return;
        }
        self.connected = false;
        self.end.connection_lost();
    }

    fn take_output(&mut self) -> Vec<u8> {
        self.end.take_output()
    }

    fn client(&mut self) -> Option<&mut ChatClient> {
        match &mut self.end {
            End::Client(c) if self.connected => Some(c),
            _ => None,
        }
    }
}

/// The clustered relays, the bus, the users, and what the checks remember.
struct Harness {
    now: Instant,
    config: RelayConfig,
    nodes: Vec<Node>,
    side: BusSide,
    /// What the bus delivered, not yet handed to its node: (node, input).
    pending: Vec<(usize, ClusterInput)>,
    users: Vec<User>,
    /// Logins prepared in the start state and not yet let go: each client has sent its
    /// final flight, which waits here until the input releases it (its node then
    /// authenticates it and claims the name), so that an input's login costs no
    /// handshake. Apart from `users`, whose indices the input names.
    held: Vec<User>,
    /// Every text sent, by (sender, the chat peer it was sent to).
    sent: BTreeMap<(Username, Username), Vec<String>>,
    /// How far each user (by index) has read each sender's texts.
    cursors: BTreeMap<(usize, Username), usize>,
    texts: u32,
    seed: u64,
    /// Messages shown, in total.
    shown: usize,
}

impl Copyable for Harness {
    fn try_copy(&self) -> Option<Harness> {
        Some(Harness {
            now: self.now,
            config: self.config.clone(),
            nodes: self
                .nodes
                .iter()
                .map(Node::try_clone)
                .collect::<Option<_>>()?,
            side: self.side.clone(),
            pending: self.pending.clone(),
            users: self
                .users
                .iter()
                .map(User::try_clone)
                .collect::<Option<_>>()?,
            held: self
                .held
                .iter()
                .map(User::try_clone)
                .collect::<Option<_>>()?,
            sent: self.sent.clone(),
            cursors: self.cursors.clone(),
            texts: self.texts,
            seed: self.seed,
            shown: self.shown,
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
        unix_ms(self.now)
    }

    fn targets(&self) -> usize {
        self.nodes.len()
    }

    fn node_count(&self) -> usize {
        self.nodes.len()
    }

    fn node(&self, i: usize) -> Option<(&NodeId, u64)> {
        self.nodes.get(i).map(|n| (&n.id, n.incarnation))
    }

    fn sessions(&self, id: &NodeId) -> Vec<u64> {
        self.nodes
            .iter()
            .find(|n| n.id == *id)
            .map(|n| n.relay.connection_ids().map(|c| c.0).collect())
            .unwrap_or_default()
    }

    fn send(&mut self, n: usize, later: bool, input: ClusterInput) {
        if later {
            self.pending.push((n, input));
        } else {
            self.give(n, input);
        }
    }
}

impl Harness {
    fn new(setup: u8) -> Self {
        let config = RelayConfig {
            duplicate_login: if setup & 2 == 0 {
                DuplicateLogin::RejectNew
            } else {
                DuplicateLogin::ReplaceExisting
            },
            max_pending_requests_per_user: 2,
            ..RelayConfig::default()
        };
        let mut h = Harness {
            now: Instant::ZERO,
            config,
            nodes: Vec::new(),
            side: BusSide::new(),
            pending: Vec::new(),
            users: Vec::new(),
            held: Vec::new(),
            sent: BTreeMap::new(),
            cursors: BTreeMap::new(),
            texts: 0,
            seed: 0,
            shown: 0,
        };
        h.side.bus.watch_first = setup & 4 != 0;
        let n = if setup & 1 == 0 { 3 } else { 2 };
        for i in 0..n {
            let Ok(id) = NodeId::new(&format!("n{}", i + 1)) else {
                continue;
            };
            let incarnation = unix_ms(h.now);
            let relay = h.relay(&id, incarnation);
            let index = h.side.bus.attach(id.clone());
            h.nodes.push(Node {
                id,
                relay,
                running: true,
                incarnation,
            });
            h.side.bus.connect(index);
        }
        h.pump();
        h
    }

    fn relay(&self, id: &NodeId, wall_ms: u64) -> Relay {
        Relay::new_clustered(
            Arc::clone(&fixtures::get().server),
            self.config.clone(),
            self.side.node_config(id.clone()),
            self.now,
            wall_ms,
        )
    }

    fn next_rng(&mut self) -> TestRng {
        self.seed += 1;
        TestRng::new(self.seed)
    }

    fn node_index(&self, b: u8) -> usize {
        usize::from(b) % self.nodes.len().max(1)
    }

    fn user_index(&self, b: u8) -> Option<usize> {
        let n = self.users.len();
        (n > 0).then(|| usize::from(b) % n)
    }

    // ----- users -----

    /// Starts fixture user `user`'s login on node `node` (moves nothing).
    fn start_login(&mut self, user: usize, node: usize) {
        let fixture = fixtures::get().user(user);
        let (name, config) = (fixture.name.clone(), Arc::clone(&fixture.config));
        let mut rng = self.next_rng();
        let now = self.now;
        let Some(n) = self.nodes.get_mut(node).filter(|n| n.running) else {
            return;
        };
        let Ok(conn) = n.relay.open_connection(now, &mut rng) else {
            return;
        };
        let hs = ClientHandshake::start(Arc::clone(&config), &mut rng, now, VALID_TIME);
        self.users.push(User {
            name,
            node,
            conn,
            config,
            end: End::Handshake(Some(Box::new(hs))),
            connected: true,
        });
    }

    /// Prepares fixture user `user`'s login on node `node` up to the client's final
    /// flight, which is held back ([`Harness::held`]).
    fn prepare_login(&mut self, user: usize, node: usize) {
        let before = self.users.len();
        self.start_login(user, node);
        if self.users.len() == before {
            return;
        }
        // The hello to the node and the node's flight back: the client's final flight
        // waits in its output.
        self.flush();
        if let Some(user) = self.users.pop() {
            self.held.push(user);
        }
        self.pump();
    }

    /// Lets a held login go on: user `user`'s on node `node` if there is one, else the
    /// one `user` counts to. Its final flight reaches its node at the next flush.
    fn release_login(&mut self, user: u8, node: u8) {
        if self.held.is_empty() {
            return;
        }
        let name = &fixtures::get().user(usize::from(user)).name;
        let node = self.node_index(node);
        let i = self
            .held
            .iter()
            .position(|h| &h.name == name && h.node == node)
            .unwrap_or(usize::from(user) % self.held.len());
        let released = self.held.remove(i);
        self.users.push(released);
    }

    /// Alice asks bob, who accepts, and, if `texts`, each sends a text: a chat across
    /// their nodes, both sides past a ratchet step. `None` if the chat did not start.
    fn start_chat(&mut self, texts: bool) -> Option<()> {
        let bob = self.users.get(1)?.name.clone();
        let now = self.now;
        let mut rng = self.next_rng();
        let alice = self.users.get_mut(0)?.client()?;
        alice.request_chat(now, &bob, &mut rng).ok()?;
        self.pump();
        self.users
            .get_mut(1)?
            .client()?
            .accept(now, &mut rng)
            .ok()?;
        self.pump();
        if texts {
            for u in [0, 1] {
                self.say(u, &mut rng)?;
                self.pump();
            }
        }
        let chatting = self.users.get_mut(0)?.client()?.status() == ChatStatus::Chatting(bob);
        chatting.then_some(())
    }

    /// User `u` sends a new text in its chat, remembered for the checks. `None` if it
    /// could not.
    fn say(&mut self, u: usize, rng: &mut TestRng) -> Option<()> {
        let now = self.now;
        self.texts += 1;
        let text = format!("text {}", self.texts);
        let user = self.users.get_mut(u)?;
        let sender = user.name.clone();
        let c = user.client()?;
        let peer = match c.status() {
            ChatStatus::Chatting(peer) => Some(peer),
            _ => None,
        };
        c.send_text(now, &text, rng).ok()?;
        if let Some(peer) = peer {
            self.sent.entry((sender, peer)).or_default().push(text);
        }
        Some(())
    }

    /// A user command on user `u`'s client.
    fn command(&mut self, u: usize, input: &mut Input<'_>) {
        let what = input.u8() % 9;
        let target = username(input);
        let now = self.now;
        let mut rng = self.next_rng();
        if what == cmd::SAY {
            let _ = self.say(u, &mut rng);
            return;
        }
        let Some(c) = self.users.get_mut(u).and_then(User::client) else {
            return;
        };
        let _ = match what {
            cmd::LIST => c.list_users(now),
            cmd::REQUEST => c.request_chat(now, &target, &mut rng),
            cmd::ACCEPT => c.accept(now, &mut rng),
            cmd::DENY => c.deny(now),
            cmd::WITHDRAW => c.withdraw_request(now),
            cmd::LEAVE => c.leave_chat(now),
            cmd::EXIT => c.exit(now),
            _ => c.get_public_key(now, &target),
        };
    }

    /// Checks every message shown since the last call: a text its chat peer sent to this
    /// user, in order, at most once.
    fn check_messages(&mut self) {
        for u in 0..self.users.len() {
            let Some(user) = self.users.get_mut(u) else {
                continue;
            };
            let me = user.name.clone();
            let End::Client(c) = &mut user.end else {
                continue;
            };
            let mut events: Vec<ClientEvent> = Vec::new();
            while let Some(e) = c.poll_event() {
                events.push(e);
            }
            for (from, text) in messages(&events) {
                let sent = self
                    .sent
                    .get(&(from.clone(), me.clone()))
                    .map_or(&[][..], Vec::as_slice);
                let cursor = self.cursors.entry((u, from.clone())).or_insert(0);
                assert_subsequence(sent, cursor, text);
                self.shown += 1;
            }
        }
    }

    // ----- moving bytes -----

    /// Client transport (honest), relay events, and the relays' cluster actions onto the
    /// bus, whose deliveries join the pending list. True if anything moved.
    fn flush(&mut self) -> bool {
        let now = self.now;
        let mut moved = false;
        for user in &mut self.users {
            let Some(node) = self.nodes.get_mut(user.node).filter(|n| n.running) else {
                continue;
            };
            if !user.connected {
                continue;
            }
            let out = user.take_output();
            if !out.is_empty() {
                moved = true;
                if node.relay.handle_input(user.conn, now, &out).is_err() {
                    user.lose();
                }
            }
        }
        for (n, node) in self.nodes.iter_mut().enumerate() {
            if !node.running {
                continue;
            }
            while let Some(conn) = node.relay.poll_transmit() {
                let out = node.relay.output(conn).to_vec();
                node.relay.consume_output(conn, out.len());
                let mut lost = node.relay.should_close(conn);
                let user = self
                    .users
                    .iter_mut()
                    .chain(&mut self.held)
                    .find(|u| u.node == n && u.conn == conn && u.connected);
                if let Some(user) = user {
                    if !out.is_empty() {
                        moved = true;
                        lost |= !user.deliver(now, &out);
                    }
                    if lost {
                        user.lose();
                    }
                }
                if lost {
                    node.relay.connection_lost(conn);
                }
            }
            while node.relay.poll_event().is_some() {}
            while let Some(action) = node.relay.poll_cluster_action() {
                moved = true;
                self.side.perform(n, action);
            }
        }
        for n in 0..self.nodes.len() {
            while let Some(input) = self.side.bus.pop(n) {
                self.pending.push((n, input));
            }
        }
        moved
    }

    /// Hands `input` to node `n` now (if it runs), then checks it (the only node it can
    /// change).
    fn give(&mut self, n: usize, input: ClusterInput) {
        let now = self.now;
        if let Some(node) = self.nodes.get_mut(n).filter(|n| n.running) {
            node.relay.handle_cluster_input(now, input);
            if let Err(e) = node.relay.check_invariants() {
                panic!("{}: {e}", node.id);
            }
        }
    }

    /// Delivers the pending entry the input byte names.
    fn deliver_pending(&mut self, b: u8) {
        if self.pending.is_empty() {
            return;
        }
        let (n, input) = self.pending.remove(usize::from(b) % self.pending.len());
        self.give(n, input);
    }

    /// Honest delivery of everything, until nothing moves.
    fn pump(&mut self) {
        for _ in 0..MAX_ROUNDS {
            let mut moved = self.flush();
            for (n, input) in core::mem::take(&mut self.pending) {
                moved = true;
                self.give(n, input);
            }
            if !moved {
                return;
            }
        }
        panic!("the cluster did not come to rest in {MAX_ROUNDS} rounds of honest delivery");
    }

    /// Every running node's invariants.
    fn check(&self) {
        for node in self.nodes.iter().filter(|n| n.running) {
            if let Err(e) = node.relay.check_invariants() {
                panic!("{}: {e}", node.id);
            }
        }
    }

    // ----- nodes -----

    fn freeze(&mut self, n: usize) {
        if let Some(node) = self.nodes.get_mut(n) {
            node.running = false;
            self.side.bus.crash(n);
            self.pending.retain(|(m, _)| *m != n);
        }
    }

    fn restart(&mut self, n: usize) {
        let Some(id) = self.nodes.get(n).map(|node| node.id.clone()) else {
            return;
        };
        for user in self.users.iter_mut().chain(&mut self.held) {
            if user.node == n {
                user.lose();
            }
        }
        self.side.bus.crash(n);
        self.pending.retain(|(m, _)| *m != n);
        let old = self.nodes.get(n).map_or(0, |node| node.incarnation);
        let incarnation = unix_ms(self.now).max(old.saturating_add(1));
        let relay = self.relay(&id, incarnation);
        if let Some(node) = self.nodes.get_mut(n) {
            node.relay = relay;
            node.incarnation = incarnation;
            node.running = true;
        }
        self.side.bus.connect(n);
    }

    fn advance(&mut self, d: Duration) {
        self.now = self.now + d;
        let now = self.now;
        for node in self.nodes.iter_mut().filter(|n| n.running) {
            node.relay.handle_timeout(now);
        }
        self.check();
        for user in &mut self.users {
            let running = self.nodes.get(user.node).is_some_and(|n| n.running);
            if let (true, Some(c)) = (running, user.client()) {
                let _ = c.handle_timeout(now);
            }
        }
    }
}

/// Two or three clustered relays (the first byte chooses how many, the duplicate-login
/// policy, whether claim results or watch updates come first, where the users are and
/// whether alice and bob are chatting: `setup`), alice and bob (and carol with three
/// nodes) logged in genuinely, each user's second login held before its final flight
/// reaches its node, then up to 128 steps:
///
/// - a user command: list, request (a fuzzed name), accept, deny, withdraw, a text in the
///   chat, leave, exit, get a key;
/// - the bus: deliver, drop, duplicate or move any pending delivery, or deliver all until
///   quiet; a node's bus disconnected or reconnected; a node frozen (silent), restarted
///   (a new incarnation) or shut down (its goodbye); the store's claims answered with the
///   update first, lost, failed, or never answered;
/// - virtual time jumps (every timer fires);
/// - hostile input: raw bytes as a bus message; a message sealed with the cluster key with
///   fuzzed envelope (sender, addressee, incarnation, sequence, timestamp) and body (any
///   kind, names, keys, payloads, codes), or an arbitrary authenticated body; a presence
///   change with a fuzzed key, revision and value (raw, or sealed with fuzzed fields);
///   `Claimed` / `ClaimConflict` / `ClaimFailed` for any claim; a logged message replayed
///   as is or sealed afresh;
/// - a held login let go (its node authenticates it and claims the name, against the
///   session elsewhere, or against another held login of carol's), or a user's socket
///   dying.
///
/// Checks after every step and every bus input: no panic, `check_invariants()` on every
/// running node, every chat message shown is a text its chat peer sent, in order, at most
/// once, and honest delivery comes to rest (no livelock).
pub fn cluster(data: &[u8]) {
    let _ = cluster_messages_shown(data);
}

/// For the replay tests: [`cluster`], returning how many chat messages were shown (the
/// seeds must reach chats across nodes).
pub fn cluster_messages_shown(data: &[u8]) -> usize {
    let mut input = Input::new(data);
    let number = input.u8();
    let Some(mut h) = start::world("cluster", number, || setup(number)) else {
        panic!("a start state could not be built");
    };
    for _ in 0..MAX_STEPS {
        if input.is_empty() {
            break;
        }
        step(&mut h, &mut input);
        h.flush();
        h.check();
        h.check_messages();
    }
    h.pump();
    h.check_messages();
    h.shown
}

/// The nodes, logins and chat the first input byte `setup` chooses, built once per
/// thread and copied for every execution: 3 nodes (bit 0 clear) or 2; duplicate logins
/// refused (bit 1 clear) or replacing; watch updates before claim results (bit 2);
/// alice and bob logged in, and carol too with 3 nodes or bit 3, user `u` on node
/// `u + shift` (shift: bits 5 and 6); alice and bob chatting across their nodes (bit 4),
/// after a text each way (bit 7 too). Then the held logins ([`Harness::held`]): every
/// user logged in again on the next node, and carol, when she is not logged in, on
/// every node (a race for a new name).
fn setup(setup: u8) -> Option<Harness> {
    let mut h = Harness::new(setup);
    let nodes = h.nodes.len().max(1);
    let users = if nodes == 3 || setup & 8 != 0 { 3 } else { 2 };
    let shift = usize::from(setup >> 5 & 3);
    for u in 0..users {
        h.start_login(u, (u + shift) % nodes);
        h.pump();
    }
    if setup & 0x10 != 0 {
        h.start_chat(setup & 0x80 != 0)?;
    }
    h.check_messages();
    // What the start showed is not the execution's.
    h.shown = 0;
    for u in 0..3 {
        if u < users {
            h.prepare_login(u, (u + shift + 1) % nodes);
        } else {
            for n in 0..nodes {
                h.prepare_login(u, n);
            }
        }
    }
    Some(h)
}

fn step(h: &mut Harness, input: &mut Input<'_>) {
    match input.u8() % 16 {
        op::USER => {
            let b = input.u8();
            if let Some(u) = h.user_index(b) {
                h.command(u, input);
            }
        }
        op::DELIVER => {
            let b = input.u8();
            h.deliver_pending(b);
        }
        op::DROP => {
            let b = input.u8();
            if !h.pending.is_empty() {
                h.pending.remove(usize::from(b) % h.pending.len());
            }
        }
        op::DUPLICATE => {
            let b = input.u8();
            if let Some(entry) = h.pending.get(usize::from(b) % h.pending.len().max(1)) {
                let entry = entry.clone();
                h.pending.push(entry);
            }
        }
        op::REORDER => {
            let b = input.u8();
            if !h.pending.is_empty() {
                let entry = h.pending.remove(usize::from(b) % h.pending.len());
                h.pending.push(entry);
            }
        }
        op::PUMP => h.pump(),
        op::LINK => {
            let n = h.node_index(input.u8());
            if h.nodes.get(n).is_some_and(|node| node.running) {
                if h.side.bus.is_connected(n) {
                    h.side.bus.disconnect(n);
                    // What was in flight to it is lost; only its Disconnected remains.
                    h.pending.retain(|(m, _)| *m != n);
                } else {
                    h.side.bus.connect(n);
                }
            }
        }
        op::NODE => {
            let n = h.node_index(input.u8());
            match input.u8() % 3 {
                0 => h.freeze(n),
                1 => h.restart(n),
                _ => {
                    let now = h.now;
                    if let Some(node) = h.nodes.get_mut(n).filter(|n| n.running) {
                        node.relay.shutdown(now);
                    }
                    h.check();
                }
            }
        }
        op::FLAGS => {
            let b = input.u8();
            h.side.bus.watch_first = b & 1 != 0;
            h.side.bus.results_lost = b & 2 != 0;
            h.side.bus.claims_fail = b & 4 != 0;
            h.side.bus.store_silent = b & 8 != 0;
        }
        op::TIME => {
            let b = input.u8();
            let unit = match b >> 6 {
                0 => 50,
                1 => 500,
                2 => 5_000,
                _ => 60_000,
            };
            h.advance(Duration::from_millis(u64::from(b & 0x3f) * unit));
        }
        op::RAW => {
            let n = h.node_index(input.u8());
            let len = usize::from(input.u8());
            let bytes = input.bytes(len).to_vec();
            h.give(n, ClusterInput::Message(bytes));
        }
        op::FORGE => bus_input::forge(h, input),
        op::PRESENCE => bus_input::presence(h, input),
        op::CLAIM => bus_input::claim(h, input),
        op::REPLAY => bus_input::replay(h, input),
        _ => {
            let b = input.u8();
            let node = input.u8();
            if b & 0x80 == 0 {
                h.release_login(b, node);
            } else if let Some(u) = h.user_index(b & 0x7f) {
                let (n, conn) = match h.users.get_mut(u) {
                    Some(user) if user.connected => {
                        user.lose();
                        (user.node, user.conn)
                    }
                    _ => return,
                };
                if let Some(node) = h.nodes.get_mut(n).filter(|n| n.running) {
                    node.relay.connection_lost(conn);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logged_in(u: &User) -> bool {
        u.connected && matches!(u.end, End::Client(_))
    }

    #[test]
    fn start_states_hold_their_logins_chat_and_held_logins() {
        for number in [0x00, 0x01, 0x09, 0x10, 0x12, 0x90, 0x31, 0x73] {
            let mut h = setup(number).unwrap_or_else(|| panic!("start {number:#x}"));
            let users = if number & 1 == 0 || number & 8 != 0 {
                3
            } else {
                2
            };
            assert_eq!(h.users.len(), users, "start {number:#x}");
            assert!(h.users.iter().all(logged_in), "start {number:#x}");
            let held = if users == 3 { 3 } else { 2 + h.nodes.len() };
            assert_eq!(h.held.len(), held, "start {number:#x}");
            let bob = h.users[1].name.clone();
            let status = h.users[0].client().unwrap().status();
            assert_eq!(
                status == ChatStatus::Chatting(bob),
                number & 0x10 != 0,
                "start {number:#x}"
            );
            assert_eq!(h.shown, 0, "start {number:#x}");
            assert!(h.try_copy().is_some(), "start {number:#x}");
        }
    }

    #[test]
    fn a_released_login_completes_as_the_duplicate_policy_says() {
        for (number, replaces) in [(0, false), (2, true)] {
            let mut h = setup(number).unwrap();
            // Alice's held login, on n2 (she is on n1).
            h.release_login(0, 1);
            h.pump();
            let second = h.users.last().unwrap();
            assert_eq!(second.name, h.users[0].name);
            assert_eq!(logged_in(second), replaces, "start {number}");
            assert_eq!(logged_in(&h.users[0]), !replaces, "start {number}");
            h.check();
        }
    }

    #[test]
    fn held_logins_race_for_a_new_name_and_one_wins() {
        let mut h = setup(1).unwrap();
        h.release_login(2, 0);
        h.release_login(2, 1);
        h.pump();
        let carol = &fixtures::get().user(2).name;
        let winners = h
            .users
            .iter()
            .filter(|u| &u.name == carol && logged_in(u))
            .count();
        assert_eq!(winners, 1);
        assert!(h.held.len() == 2);
        h.check();
    }
}
