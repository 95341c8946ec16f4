//! The `scheduler` target: an adversarial scheduler over two genuine clients (alice and
//! bob) and a relay, owning every byte stream between them and the chat data inside the
//! relay.

use alloc::collections::VecDeque;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::time::Duration;

use super::Input;
use super::world::{assert_subsequence, login_client, messages, users};
use crate::client::ChatClient;
use crate::identity::Username;
use crate::relay::{ConnectionId, Relay, RelayConfig};
use crate::testkit::adversary::{AdversarialRelay, Adversary};
use crate::time::Instant;

/// Rounds of honest delivery after which the final check declares a livelock.
const MAX_ROUNDS: usize = 200;

/// The relay's interference with the chat data it forwards, decided by the input.
struct Interfere {
    plan: VecDeque<u8>,
    held: Vec<(Username, Vec<u8>)>,
}

impl Adversary for Interfere {
    fn chat_data(
        &mut self,
        from: &Username,
        to: &Username,
        payload: Vec<u8>,
    ) -> Vec<(Username, Vec<u8>)> {
        let op = self.plan.pop_front().unwrap_or(0);
        match op % 8 {
            // Forward as it is.
            0 => vec![(to.clone(), payload)],
            // Drop.
            1 => Vec::new(),
            // Duplicate.
            2 => vec![(to.clone(), payload.clone()), (to.clone(), payload)],
            // Hold back (released by a later "reorder").
            3 => {
                self.held.push((to.clone(), payload));
                Vec::new()
            }
            // Reorder: this one first, then what was held.
            4 => {
                let mut out = vec![(to.clone(), payload)];
                out.append(&mut self.held);
                out
            }
            // Alter one byte.
            5 => {
                let mut payload = payload;
                let at = usize::from(self.plan.pop_front().unwrap_or(0));
                let len = payload.len().max(1);
                if let Some(b) = payload.get_mut(at % len) {
                    *b ^= self.plan.pop_front().unwrap_or(1) | 1;
                }
                vec![(to.clone(), payload)]
            }
            // Reflect to its sender.
            6 => vec![(from.clone(), payload)],
            // Inject bytes of the relay's own after it.
            _ => {
                let n = usize::from(self.plan.pop_front().unwrap_or(0) % 64) + 1;
                let injected: Vec<u8> = (0..n)
                    .map(|_| self.plan.pop_front().unwrap_or(0x42))
                    .collect();
                vec![(to.clone(), payload), (to.clone(), injected)]
            }
        }
    }
}

struct Peer {
    conn: ConnectionId,
    client: ChatClient,
    /// Chunks written by the client, not yet given to the relay.
    up: VecDeque<Vec<u8>>,
    /// Chunks written by the relay for this client, not yet delivered.
    down: VecDeque<Vec<u8>>,
    /// Texts this client sent, in order; and how far its peer's view got.
    sent: Vec<String>,
    peer_cursor: usize,
    /// False once its connection is gone.
    connected: bool,
}

struct World {
    relay: AdversarialRelay,
    now: Instant,
    peers: Vec<Peer>,
    texts: u32,
}

impl World {
    fn peer(&mut self, i: usize) -> Option<&mut Peer> {
        self.peers.get_mut(i % 2)
    }

    fn close(&mut self, i: usize) {
        let Some(p) = self.peers.get_mut(i % 2) else {
            return;
        };
        if p.connected {
            p.connected = false;
            p.client.connection_lost();
            self.relay.connection_lost(p.conn);
        }
    }

    /// Moves the relay's output for every connection into the clients' down queues.
    fn relay_transmit(&mut self) {
        while let Some(id) = self.relay.poll_transmit() {
            let out = self.relay.output(id).to_vec();
            self.relay.consume_output(id, out.len());
            let closing = self.relay.should_close(id);
            if let Some(p) = self.peers.iter_mut().find(|p| p.conn == id && p.connected) {
                if !out.is_empty() {
                    p.down.push_back(out);
                }
                if closing {
                    p.connected = false;
                    self.relay.connection_lost(id);
                }
            } else if closing {
                self.relay.connection_lost(id);
            }
        }
        while self.relay.poll_event().is_some() {}
    }

    fn send_up(&mut self, i: usize, bytes: &[u8]) {
        let now = self.now;
        let Some(p) = self.peers.get(i % 2) else {
            return;
        };
        if p.connected {
            let _ = self.relay.handle_input(p.conn, now, bytes);
        }
    }

    fn send_down(&mut self, i: usize, bytes: &[u8]) {
        let now = self.now;
        let Some(p) = self.peers.get_mut(i % 2) else {
            return;
        };
        if p.client.handle_input(now, bytes).is_err() {
            // The driver closes a broken session's socket.
            self.close(i);
        }
    }

    /// Invariants after every step: the relay's own, and every message shown is a text
    /// its peer sent, in order, at most once.
    fn check(&mut self) {
        if let Err(e) = self.relay.check_invariants() {
            panic!("relay invariant broken: {e}");
        }
        let u = users();
        for i in 0..2 {
            let mut events = Vec::new();
            if let Some(p) = self.peers.get_mut(i) {
                while let Some(e) = p.client.poll_event() {
                    events.push(e);
                }
            }
            let other = 1 - i;
            let other_name = u.user(other).0;
            let Some(them) = self.peers.get_mut(other) else {
                return;
            };
            for (from, text) in messages(&events) {
                assert_eq!(from, other_name, "a message from a user not in this chat");
                assert_subsequence(&them.sent, &mut them.peer_cursor, text);
            }
        }
    }

    /// Honest delivery until nothing moves; false on livelock.
    fn pump(&mut self) -> bool {
        for _ in 0..MAX_ROUNDS {
            let mut moved = false;
            for i in 0..2 {
                let chunk = self.peers.get_mut(i).and_then(|p| {
                    p.up.extend(Some(p.client.output().to_vec()).filter(|o| !o.is_empty()));
                    let n = p.client.output().len();
                    p.client.consume_output(n);
                    p.up.pop_front()
                });
                if let Some(c) = chunk {
                    moved = true;
                    self.send_up(i, &c);
                }
            }
            self.relay_transmit();
            for i in 0..2 {
                while let Some(c) = self.peers.get_mut(i).and_then(|p| p.down.pop_front()) {
                    moved = true;
                    self.send_down(i, &c);
                }
            }
            self.check();
            if !moved {
                return true;
            }
        }
        false
    }
}

/// Two clients, alice and bob, genuinely logged in to a relay; the first input byte says
/// how many of the following bytes are the relay's plan for chat data it forwards
/// (forward, drop, duplicate, hold, reorder, alter, reflect, inject); then up to 160 actions
/// on either client: chat commands (request, accept, deny, send a unique text, leave),
/// moving its output into its up stream or the relay's output into the down streams,
/// delivering, dropping, duplicating or swapping the next chunk of a stream, reflecting a
/// chunk back where it came from, injecting bytes, misrouting a chunk to the other
/// connection, closing a connection, advancing time, or delivering honestly until quiet.
///
/// Checks after every step: no panic, the relay's invariants, and every `Message` shown
/// is a text its peer sent, in order, at most once (no forged, altered, replayed or
/// reordered text is ever shown). After the input: the scheduler stops interfering, both
/// users' connections end, they log in again, and a fresh chat between them must succeed.
pub fn scheduler(data: &[u8]) {
    assert!(scheduler_final_chat(data), "a fresh chat failed afterwards");
}

/// [`scheduler`], returning whether the final fresh chat succeeded instead of asserting it.
pub fn scheduler_final_chat(data: &[u8]) -> bool {
    let mut input = Input::new(data);
    let plan_len = usize::from(input.u8());
    let plan: VecDeque<u8> = input.bytes(plan_len).iter().copied().collect();
    let mut relay = AdversarialRelay::new(Relay::new(
        super::fixtures::server_config(),
        RelayConfig::default(),
    ));
    relay.interfere(Interfere {
        plan,
        held: Vec::new(),
    });
    let now = Instant::ZERO;
    let mut peers = Vec::new();
    for (i, seed) in [(0, 31), (1, 32)] {
        let Some((conn, client)) = login_client(&mut relay, now, i, seed) else {
            panic!("a genuine login failed");
        };
        peers.push(Peer {
            conn,
            client,
            up: VecDeque::new(),
            down: VecDeque::new(),
            sent: Vec::new(),
            peer_cursor: 0,
            connected: true,
        });
    }
    let mut w = World {
        relay,
        now,
        peers,
        texts: 0,
    };
    let u = users();
    let mut rng = super::TestRng::new(33);
    for _ in 0..160 {
        if input.is_empty() {
            break;
        }
        let op = input.u8();
        let i = usize::from(op >> 7);
        let now = w.now;
        match (op & 0x7f) % 20 {
            0 => {
                let other = u.user(1 - i).0;
                if let Some(p) = w.peer(i) {
                    let _ = p.client.request_chat(now, other, &mut rng);
                }
            }
            1 => {
                if let Some(p) = w.peer(i) {
                    let _ = p.client.accept(now, &mut rng);
                }
            }
            2 => {
                if let Some(p) = w.peer(i) {
                    let _ = p.client.deny(now);
                }
            }
            3 => {
                w.texts += 1;
                let text = format!("{} {}", u.user(i).0.as_str(), w.texts);
                if let Some(p) = w.peer(i)
                    && p.client.send_text(now, &text).is_ok()
                {
                    p.sent.push(text);
                }
            }
            4 => {
                if let Some(p) = w.peer(i) {
                    let _ = p.client.leave_chat(now);
                }
            }
            5 => {
                if let Some(p) = w.peer(i) {
                    let out = p.client.output().to_vec();
                    p.client.consume_output(out.len());
                    if !out.is_empty() {
                        p.up.push_back(out);
                    }
                }
            }
            6 => w.relay_transmit(),
            7 => {
                if let Some(c) = w.peer(i).and_then(|p| p.up.pop_front()) {
                    w.send_up(i, &c);
                }
            }
            8 => {
                if let Some(c) = w.peer(i).and_then(|p| p.down.pop_front()) {
                    w.send_down(i, &c);
                }
            }
            9..=11 => {
                let down = input.u8() & 1 == 1;
                let Some(p) = w.peer(i) else { continue };
                let q = if down { &mut p.down } else { &mut p.up };
                match op % 3 {
                    0 => {
                        q.pop_front();
                    }
                    1 => {
                        if let Some(c) = q.front().cloned() {
                            q.push_front(c);
                        }
                    }
                    _ => {
                        if q.len() >= 2 {
                            q.swap(0, 1);
                        }
                    }
                }
            }
            12 => {
                // Reflect: a chunk goes back where it came from.
                if input.u8() & 1 == 0 {
                    if let Some(c) = w.peer(i).and_then(|p| p.up.pop_front()) {
                        w.send_down(i, &c);
                    }
                } else if let Some(c) = w.peer(i).and_then(|p| p.down.pop_front()) {
                    w.send_up(i, &c);
                }
            }
            13 => {
                // Inject bytes into a stream.
                let down = input.u8() & 1 == 1;
                let len = usize::from(input.u8());
                let bytes = input.bytes(len).to_vec();
                if let Some(p) = w.peer(i) {
                    if down {
                        p.down.push_back(bytes);
                    } else {
                        p.up.push_back(bytes);
                    }
                }
            }
            14 => {
                // Misroute: a chunk of one stream goes to the other connection.
                if input.u8() & 1 == 0 {
                    if let Some(c) = w.peer(i).and_then(|p| p.up.pop_front()) {
                        w.send_up(1 - i, &c);
                    }
                } else if let Some(c) = w.peer(i).and_then(|p| p.down.pop_front()) {
                    w.send_down(1 - i, &c);
                }
            }
            15 => {
                // Flip a byte in the next chunk of a stream.
                let down = input.u8() & 1 == 1;
                let at = usize::from(input.u16());
                if let Some(p) = w.peer(i) {
                    let q = if down { &mut p.down } else { &mut p.up };
                    if let Some(c) = q.front_mut() {
                        let len = c.len().max(1);
                        if let Some(b) = c.get_mut(at % len) {
                            *b ^= 0x04;
                        }
                    }
                }
            }
            16 => w.close(i),
            17 => {
                w.now = w.now + Duration::from_secs(u64::from(input.u8()));
                let now = w.now;
                w.relay.handle_timeout(now);
                for p in &mut w.peers {
                    let _ = p.client.handle_timeout(now);
                }
            }
            _ => {
                let _ = w.pump();
            }
        }
        w.check();
    }
    final_chat(w)
}

/// The scheduler stops interfering; both users reconnect and chat. True if they did.
fn final_chat(mut w: World) -> bool {
    w.relay.stop_interfering();
    w.close(0);
    w.close(1);
    w.relay_transmit();
    w.now = w.now + Duration::from_secs(1);
    let now = w.now;
    w.relay.handle_timeout(now);
    let mut peers = Vec::new();
    for (i, seed) in [(0, 41), (1, 42)] {
        let Some((conn, client)) = login_client(&mut w.relay, now, i, seed) else {
            return false;
        };
        peers.push(Peer {
            conn,
            client,
            up: VecDeque::new(),
            down: VecDeque::new(),
            sent: Vec::new(),
            peer_cursor: 0,
            connected: true,
        });
    }
    w.peers = peers;
    let bob = users().user(1).0.clone();
    let mut rng = super::TestRng::new(43);
    if let Some(p) = w.peers.get_mut(0) {
        let _ = p.client.request_chat(now, &bob, &mut rng);
    }
    if !w.pump() {
        return false;
    }
    if let Some(p) = w.peers.get_mut(1) {
        let _ = p.client.accept(now, &mut rng);
    }
    if !w.pump() {
        return false;
    }
    if let Some(p) = w.peers.get_mut(0)
        && p.client.send_text(now, "final").is_ok()
    {
        p.sent.push(String::from("final"));
    }
    if !w.pump() {
        return false;
    }
    // Bob was shown alice's "final" (the check in `pump` saw it and moved her cursor).
    w.peers.first().is_some_and(|p| p.peer_cursor >= 1)
}

/// Seeds: an honest chat; one with dropped, duplicated and altered chat data; one with
/// stream faults and a closed connection.
pub(super) fn seeds() -> Vec<Vec<u8>> {
    const PUMP: u8 = 19;
    const BOB: u8 = 0x80;
    vec![
        // Honest: request, accept, texts both ways, leave.
        vec![0, 0, PUMP, 1 | BOB, PUMP, 3, 3 | BOB, 3, PUMP, 4, PUMP],
        // The relay drops, duplicates, alters, reflects, injects and reorders chat data.
        [
            vec![12, 0, 0, 0, 0, 1, 2, 5, 3, 1, 6, 7, 1],
            vec![
                0,
                PUMP,
                1 | BOB,
                PUMP,
                3,
                PUMP,
                3,
                PUMP,
                3 | BOB,
                PUMP,
                3,
                PUMP,
                3,
                PUMP,
            ],
        ]
        .concat(),
        // Stream faults: a chunk is held, duplicated, swapped, flipped; time passes;
        // bob's connection is closed.
        vec![
            0,
            0,
            5,
            7,
            6,
            8 | BOB,
            1 | BOB,
            5 | BOB,
            10,
            0,
            7 | BOB,
            6,
            8,
            15,
            1,
            0,
            3,
            8,
            3,
            5,
            7,
            6,
            PUMP,
            17,
            200,
            PUMP,
            16 | BOB,
            PUMP,
        ],
        // Reflection, injection and misrouting.
        vec![
            0,
            0,
            5,
            12,
            0,
            13,
            1,
            3,
            1,
            2,
            3,
            14,
            0,
            5 | BOB,
            14 | BOB,
            0,
            6,
            14,
            1,
            PUMP,
        ],
    ]
}
