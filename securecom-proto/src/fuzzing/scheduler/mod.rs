//! The `scheduler` target: an adversarial scheduler over two genuine clients (alice and
//! bob) and a relay in the test kit's [`World`], owning every byte stream between them,
//! and a malicious relay ([`Interfere`]) owning the chat data inside it.
//!
//! Each execution starts from a copy of a start state built once per thread (alice and
//! bob logged in genuinely: idle, chatting, or chatting after a ratchet step each way),
//! so that its time goes to the input, not to logins.

mod interfere;
mod seeds;

pub(super) use seeds::seeds;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use super::TestRng;
use super::check::{assert_subsequence, messages};
use super::input::Input;
use super::start;
use crate::relay::RelayConfig;
use crate::testkit::fixtures;
use crate::testkit::world::{DriveError, World};
use interfere::Interfere;

/// The two users, by peer index.
const USERS: [&str; 2] = ["alice", "bob"];

/// What each user sent, and how far its peer's view of it got.
#[derive(Default)]
struct Texts {
    sent: [Vec<String>; 2],
    shown: [usize; 2],
    count: u32,
}

/// Invariants after every step: the world's own, and every message shown is a text its
/// peer sent, in order, at most once.
fn check(w: &mut World, texts: &mut Texts) {
    if let Err(e) = w.check() {
        panic!("{e:?}");
    }
    for (i, other) in [(0, 1), (1, 0)] {
        let events = w.take_events(i);
        let (Some(them), Some(sent), Some(shown)) = (
            w.peers.get(other),
            texts.sent.get(other),
            texts.shown.get_mut(other),
        ) else {
            return;
        };
        for (from, text) in messages(&events) {
            assert_eq!(
                Some(from),
                them.user.as_ref(),
                "a message from a user not in this chat"
            );
            assert_subsequence(sent, shown, text);
        }
    }
}

/// Honest delivery until nothing moves, then [`check`]; false on livelock.
fn pump(w: &mut World, texts: &mut Texts) -> bool {
    let quiet = match w.drive() {
        Ok(()) => true,
        Err(DriveError::Livelock) => false,
        Err(e) => panic!("{e:?}"),
    };
    check(w, texts);
    quiet
}

/// Two clients, alice and bob, genuinely logged in to a relay, as the first input byte
/// chooses ([`start_world`]); the second byte says how many of the following bytes are the
/// relay's plan for chat data it forwards (forward, drop, duplicate, hold, reorder, alter,
/// reflect, inject); then up to 160 actions
/// on either client: chat commands (request, accept, deny, send a unique text, leave),
/// moving its output into its up stream or the relay's output into the down streams,
/// delivering, dropping, duplicating or swapping the next chunk of a stream, reflecting a
/// chunk back where it came from, injecting bytes, misrouting a chunk to the other
/// connection, closing a connection, advancing time, or delivering honestly until quiet.
///
/// Checks after every step that reaches the relay or a client (the others cannot change
/// what is checked): no panic, the relay's invariants, and every `Message` shown
/// is a text its peer sent, in order, at most once (no forged, altered, replayed or
/// reordered text is ever shown). After the input: the scheduler stops interfering, both
/// users' connections end, and the relay must hold nothing any more (no connection, user,
/// handshake or request), so that it is as a fresh one: the replay tests go on to log
/// both users in again and chat ([`scheduler_final_chat`]).
pub fn scheduler(data: &[u8]) {
    let w = run(data);
    let _ = end_all(w);
}

/// [`scheduler`], then the fresh chat: both users log in again (two whole handshakes,
/// which is why the fuzz target checks the relay's state instead) and chat. Returns
/// whether that chat succeeded.
pub fn scheduler_final_chat(data: &[u8]) -> bool {
    let w = run(data);
    final_chat(end_all(w))
}

/// Start states the first byte chooses from (modulo).
const STARTS: u8 = 3;

/// A copy of start state `number` (modulo [`STARTS`]): alice (peer 0) and bob (peer 1)
/// logged in genuinely to an honest relay, then 0: idle; 1: chatting (alice asked); 2:
/// chatting, after a text each way (both sides have made a ratchet step).
fn start_world(number: u8) -> Option<World> {
    let number = number % STARTS;
    start::world("scheduler", number, || {
        let mut w = World::new(RelayConfig::default());
        for user in USERS {
            w.connect(user).ok()?;
        }
        let mut rng = TestRng::new(31);
        let mut texts = Texts::default();
        if number >= 1 {
            let bob = &fixtures::get().user(1).name;
            let now = w.now;
            w.peers
                .get_mut(0)?
                .client()?
                .request_chat(now, bob, &mut rng)
                .ok()?;
            pump(&mut w, &mut texts).then_some(())?;
            w.peers.get_mut(1)?.client()?.accept(now, &mut rng).ok()?;
            pump(&mut w, &mut texts).then_some(())?;
        }
        if number >= 2 {
            for i in [0, 1] {
                let now = w.now;
                w.peers
                    .get_mut(i)?
                    .client()?
                    .send_text(now, "start", &mut rng)
                    .ok()?;
                texts.sent.get_mut(i)?.push(String::from("start"));
                pump(&mut w, &mut texts).then_some(())?;
            }
        }
        // What the start showed is not the execution's to check.
        for i in [0, 1] {
            w.take_events(i);
        }
        Some(w)
    })
}

/// The input's steps from its start state; returns the world after them.
fn run(data: &[u8]) -> World {
    let mut input = Input::new(data);
    let Some(mut w) = start_world(input.u8()) else {
        panic!("a start state could not be built");
    };
    let plan_len = usize::from(input.u8());
    w.relay.interfere(Interfere::new(input.bytes(plan_len)));
    let mut texts = Texts::default();
    let mut rng = TestRng::new(33);
    for _ in 0..160 {
        if input.is_empty() {
            break;
        }
        let op = input.u8();
        step(&mut w, &mut texts, &mut rng, op, &mut input);
        if moves_into_an_endpoint(op) {
            check(&mut w, &mut texts);
        }
    }
    check(&mut w, &mut texts);
    w
}

/// Whether step `op` can change the relay or make a client show something, so that the
/// checks must run after it. The others only edit the byte streams between them or make
/// a client queue output (and `pump` checks by itself): the relay is as it was when last
/// checked, and a client's new events wait for the next check (the last one runs after
/// the input).
fn moves_into_an_endpoint(op: u8) -> bool {
    matches!((op & 0x7f) % 20, 6..=8 | 12 | 14 | 16 | 17)
}

/// One action of client `op >> 7`.
fn step(w: &mut World, texts: &mut Texts, rng: &mut TestRng, op: u8, input: &mut Input<'_>) {
    let i = usize::from(op >> 7);
    let other = 1 - i;
    let now = w.now;
    let f = fixtures::get();
    match (op & 0x7f) % 20 {
        0 => {
            if let Some(c) = w.peers.get_mut(i).and_then(|p| p.client()) {
                let _ = c.request_chat(now, &f.user(other).name, rng);
            }
        }
        1 => {
            if let Some(c) = w.peers.get_mut(i).and_then(|p| p.client()) {
                let _ = c.accept(now, rng);
            }
        }
        2 => {
            if let Some(c) = w.peers.get_mut(i).and_then(|p| p.client()) {
                let _ = c.deny(now);
            }
        }
        3 => {
            texts.count += 1;
            let text = format!("{} {}", f.user(i).name.as_str(), texts.count);
            if let Some(c) = w.peers.get_mut(i).and_then(|p| p.client())
                && c.send_text(now, &text, rng).is_ok()
                && let Some(sent) = texts.sent.get_mut(i)
            {
                sent.push(text);
            }
        }
        4 => {
            if let Some(c) = w.peers.get_mut(i).and_then(|p| p.client()) {
                let _ = c.leave_chat(now);
            }
        }
        5 => w.take_output(i),
        6 => {
            if let Err(e) = w.transmit() {
                panic!("{e:?}");
            }
        }
        7 => {
            if let Some(c) = w.peers.get_mut(i).and_then(|p| p.up.pop_front()) {
                w.send_up(i, &c);
            }
        }
        8 => {
            if let Some(c) = w.peers.get_mut(i).and_then(|p| p.down.pop_front()) {
                w.deliver(i, &c);
            }
        }
        9..=11 => {
            let down = input.u8() & 1 == 1;
            let Some(p) = w.peers.get_mut(i) else { return };
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
                if let Some(c) = w.peers.get_mut(i).and_then(|p| p.up.pop_front()) {
                    w.deliver(i, &c);
                }
            } else if let Some(c) = w.peers.get_mut(i).and_then(|p| p.down.pop_front()) {
                w.send_up(i, &c);
            }
        }
        13 => {
            // Inject bytes into a stream.
            let down = input.u8() & 1 == 1;
            let len = usize::from(input.u8());
            let bytes = input.bytes(len).to_vec();
            if let Some(p) = w.peers.get_mut(i) {
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
                if let Some(c) = w.peers.get_mut(i).and_then(|p| p.up.pop_front()) {
                    w.send_up(other, &c);
                }
            } else if let Some(c) = w.peers.get_mut(i).and_then(|p| p.down.pop_front()) {
                w.deliver(other, &c);
            }
        }
        15 => {
            // Flip a byte in the next chunk of a stream.
            let down = input.u8() & 1 == 1;
            let at = usize::from(input.u16());
            if let Some(p) = w.peers.get_mut(i) {
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
        17 => w.advance(Duration::from_secs(u64::from(input.u8()))),
        _ => {
            let _ = pump(w, texts);
        }
    }
}

/// The scheduler stops interfering and both users' connections end; then the relay must
/// hold nothing: no connection (so no session, handshake or per-source count), no user
/// online, and so no request or chat (its invariants tie those to online users).
fn end_all(mut w: World) -> World {
    w.relay.stop_interfering();
    w.close(0);
    w.close(1);
    if let Err(e) = w.transmit() {
        panic!("{e:?}");
    }
    w.now = w.now + Duration::from_secs(1);
    let now = w.now;
    w.relay.handle_timeout(now);
    if let Err(e) = w.check() {
        panic!("{e:?}");
    }
    assert_eq!(
        w.relay.connection_count(),
        0,
        "a connection outlived its socket"
    );
    assert_eq!(
        w.relay.online_users().count(),
        0,
        "a user outlived the connection"
    );
    assert_eq!(
        w.relay.handshaking_count(),
        0,
        "a handshake outlived the connection"
    );
    w.peers.clear();
    w
}

/// Both users log in again and chat. True if they did.
fn final_chat(mut w: World) -> bool {
    let now = w.now;
    for user in USERS {
        if w.connect(user).is_err() {
            return false;
        }
    }
    let mut texts = Texts::default();
    let mut rng = TestRng::new(43);
    let bob = &fixtures::get().user(1).name;
    if let Some(c) = w.peers.get_mut(0).and_then(|p| p.client()) {
        let _ = c.request_chat(now, bob, &mut rng);
    }
    if !pump(&mut w, &mut texts) {
        return false;
    }
    if let Some(c) = w.peers.get_mut(1).and_then(|p| p.client()) {
        let _ = c.accept(now, &mut rng);
    }
    if !pump(&mut w, &mut texts) {
        return false;
    }
    if let Some(c) = w.peers.get_mut(0).and_then(|p| p.client())
        && c.send_text(now, "final", &mut rng).is_ok()
        && let Some(sent) = texts.sent.first_mut()
    {
        sent.push(String::from("final"));
    }
    if !pump(&mut w, &mut texts) {
        return false;
    }
    // Bob was shown alice's "final" (the check in `pump` saw it and moved her cursor).
    texts.shown.first().is_some_and(|&n| n >= 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::ChatStatus;

    #[test]
    fn every_start_state_builds_and_holds_what_it_says() {
        let bob = &fixtures::get().user(1).name;
        for (n, chatting) in [(0, false), (1, true), (2, true)] {
            let mut w = start_world(n).unwrap_or_else(|| panic!("start {n}"));
            let status = w.peers[0].client().unwrap().status();
            assert_eq!(
                status == ChatStatus::Chatting(bob.clone()),
                chatting,
                "start {n}"
            );
            assert!(w.take_events(0).is_empty() && w.take_events(1).is_empty());
        }
    }

    #[test]
    fn an_execution_ends_with_an_empty_relay_and_a_fresh_chat_then_succeeds() {
        for n in 0..STARTS {
            assert!(
                scheduler_final_chat(&[n, 0, 3, PUMP_FOR_TESTS]),
                "start {n}"
            );
        }
    }

    const PUMP_FOR_TESTS: u8 = 19;
}
