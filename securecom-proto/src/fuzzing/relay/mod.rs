//! The `relay` target: a [`Relay`](crate::relay::Relay) in the test kit's [`World`], driven
//! on several connections: genuine logged-in sessions (so the command layer is reached)
//! mixed with raw garbage connections.
//!
//! The first input byte chooses the start: an empty relay, or one of the start states of
//! [`seeds::start_program`] (users logged in, chats, pending requests, duplicate logins),
//! each built once per thread by genuine logins and copied for every execution. The input
//! itself opens raw connections only: a login costs a whole handshake, fifty times an
//! execution.

mod seeds;

pub(super) use seeds::seeds;

use core::time::Duration;

use super::input::{Input, chunks, username};
use super::start;
use crate::codec::Codec;
use crate::command::{Request, RequestBody};
use crate::relay::RelayConfig;
use crate::session::{Channel, CloseReason};
use crate::testkit::fixtures;
use crate::testkit::world::World;

/// Connections one input may open.
const MAX_SLOTS: usize = 8;
/// Genuine logins a start state's program may run (each costs a full handshake).
const MAX_LOGINS: usize = 4;
/// Steps per input.
const MAX_STEPS: usize = 128;
/// Start states the first byte chooses from (modulo): 0 is the empty relay.
const STARTS: u8 = 10;

/// The relay every start state has: fixture server knowing alice, bob and carol; default
/// configuration with a small output limit and two pending requests per user.
fn relay_config() -> RelayConfig {
    RelayConfig {
        output_high_water: 4 * 1024,
        output_hard_limit: 64 * 1024,
        max_pending_requests_per_user: 2,
        ..RelayConfig::default()
    }
}

/// A copy of start state `number` (modulo [`STARTS`]), built at first use by running its
/// program ([`seeds::start_program`]) with genuine logins allowed.
fn start_world(number: u8) -> Option<World> {
    match number % STARTS {
        0 => Some(World::new(relay_config())),
        n => start::world("relay", n, || {
            let mut w = World::new(relay_config());
            let mut logins = MAX_LOGINS;
            let program = seeds::start_program(n);
            let mut input = Input::new(&program);
            while !input.is_empty() {
                step(&mut w, &mut logins, &mut input);
            }
            flush(&mut w);
            Some(w)
        }),
    }
}

/// The peer the input byte `b` names, if there is any.
fn slot(w: &World, b: u8) -> Option<usize> {
    let n = w.peers.len();
    (n > 0).then(|| usize::from(b) % n)
}

/// Writes out every connection the relay says has output, as a driver would (the
/// callback connections' too), delivers it, and closes what the relay says is finished.
fn flush(w: &mut World) {
    for p in &w.peers {
        let n = w.relay.callback_output(p.conn).len();
        w.relay.consume_callback_output(p.conn, n);
    }
    if let Err(e) = w.transmit() {
        panic!("{e:?}");
    }
    w.deliver_all();
}

/// Sends what peer `i`'s session has written, in chunks of `size`.
fn send_output(w: &mut World, i: Option<usize>, size: u8) {
    let Some(i) = i else { return };
    w.take_output(i);
    while let Some(out) = w.peers.get_mut(i).and_then(|p| p.up.pop_front()) {
        for piece in chunks(&out, size) {
            w.send_up(i, piece);
        }
    }
}

/// A request body the input chooses, with fuzzed fields.
fn request_body(input: &mut Input<'_>) -> RequestBody {
    match input.u8() % 10 {
        0 => RequestBody::ListUsers,
        1 => RequestBody::GetPublicKey(username(input)),
        2 => RequestBody::RequestChat(username(input)),
        3 => RequestBody::Answer {
            from: username(input),
            accept: input.u8() & 1 == 1,
        },
        4 => RequestBody::Withdraw,
        5 => {
            let len = usize::from(input.u8()) + 1;
            let mut payload = input.bytes(len).to_vec();
            payload.resize(len, 0x5a);
            RequestBody::ChatData(payload)
        }
        6 => RequestBody::LeaveChat,
        7 => RequestBody::Exit,
        8 => RequestBody::Ping,
        _ => {
            let port = input.u16();
            let mut nonce = [0u8; 16];
            for (n, b) in nonce.iter_mut().zip(input.bytes(16)) {
                *n = *b;
            }
            RequestBody::RegisterCallback { port, nonce }
        }
    }
}

/// A relay (fixture server knowing alice, bob and carol; default configuration with a
/// small output limit), started as the first input byte chooses (empty, or a copy of a
/// prepared start state), and up to 128 steps the input chooses:
///
/// - open a raw connection;
/// - on a logged-in connection: a `Request` with fuzzed fields, or an arbitrary record
///   sealed with the genuine session keys on either channel (so command decoding is
///   reached), or a close; then written to the relay in input-sized chunks;
/// - raw bytes to any connection; `connection_lost`; time advances and `handle_timeout`;
/// - the driver writing out the relay's output (and closing what `should_close` says).
///
/// Checks after every step: no panic, `check_invariants()` holds, nothing is ever queued
/// for or transmitted to a connection that was lost.
pub fn relay(data: &[u8]) {
    let _ = relay_reaches_chat(data);
}

/// For the replay tests: [`relay`], saying whether a chat was established in the relay at
/// some step (the seeds must reach the command layer).
pub fn relay_reaches_chat(data: &[u8]) -> bool {
    let mut input = Input::new(data);
    // Logins happen in the start states only.
    let mut logins = 0;
    let Some(mut w) = start_world(input.u8()) else {
        panic!("a start state could not be built");
    };
    let mut reached_chat = false;
    for _ in 0..MAX_STEPS {
        if input.is_empty() {
            break;
        }
        step(&mut w, &mut logins, &mut input);
        if let Err(e) = w.check() {
            panic!("{e:?}");
        }
        reached_chat |= w
            .relay
            .online_users()
            .any(|u| w.relay.chat_peer(u).is_some());
    }
    flush(&mut w);
    if let Err(e) = w.check() {
        panic!("{e:?}");
    }
    reached_chat
}

/// One step; `logins` is how many genuine logins the step program may still run (none for
/// a fuzz input, whose logins open raw connections).
pub(super) fn step(w: &mut World, logins: &mut usize, input: &mut Input<'_>) {
    let op = input.u8();
    match op % 12 {
        0 => {
            let user = usize::from(input.u8());
            if w.peers.len() < MAX_SLOTS && *logins == 0 {
                let _ = w.connect_raw();
            } else if w.peers.len() < MAX_SLOTS {
                *logins -= 1;
                let name = fixtures::get().user(user).name.as_str();
                // A refused login leaves its connection to the relay, as a driver would
                // until the socket ends.
                let _ = w.connect_session(name);
            }
        }
        1 => {
            if w.peers.len() < MAX_SLOTS {
                let _ = w.connect_raw();
            }
        }
        2..=4 => {
            let which = input.u8();
            let id = input.u16();
            let body = request_body(input);
            let i = slot(w, which);
            let request = Request {
                id: u32::from(id),
                body,
            };
            // A request the encoder refuses (fuzzed fields out of bounds) is not sent.
            if let Some(session) = i.and_then(|i| w.peers.get_mut(i)).and_then(|p| p.session())
                && let Ok(bytes) = request.to_bytes()
            {
                let _ = session.send(Channel::Standard, &bytes);
            }
            let size = input.u8();
            send_output(w, i, size);
        }
        5 => {
            // An arbitrary payload sealed with the genuine keys, on either channel.
            let which = input.u8();
            let len = usize::from(input.u8());
            let payload = input.bytes(len).to_vec();
            let channel = if which & 0x80 == 0 {
                Channel::Standard
            } else {
                Channel::Request
            };
            let i = slot(w, which);
            if let Some(session) = i.and_then(|i| w.peers.get_mut(i)).and_then(|p| p.session()) {
                let _ = session.send(channel, &payload);
            }
            let size = input.u8();
            send_output(w, i, size);
        }
        6 => {
            let which = input.u8();
            let reason = input.u8();
            let i = slot(w, which);
            if let Some(session) = i.and_then(|i| w.peers.get_mut(i)).and_then(|p| p.session()) {
                let _ = session.close(CloseReason(reason));
            }
            send_output(w, i, 0);
        }
        7 => {
            // Raw bytes to any connection (garbage, or breaking a genuine stream).
            let which = input.u8();
            let len = usize::from(input.u8());
            let bytes = input.bytes(len).to_vec();
            let now = w.now;
            if let Some(conn) = slot(w, which).and_then(|i| w.peers.get(i)).map(|p| p.conn) {
                let _ = w.relay.handle_input(conn, now, &bytes);
            }
        }
        8 => {
            if let Some(i) = slot(w, input.u8()) {
                w.close(i);
            }
        }
        9 => {
            let step = input.u16();
            w.now = w.now + Duration::from_millis(u64::from(step) * 50);
            let now = w.now;
            w.relay.handle_timeout(now);
        }
        10 => {
            let now = w.now;
            w.relay.handle_timeout(now);
            let _ = w.relay.poll_timeout();
        }
        _ => flush(w),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Username;

    fn name(s: &str) -> Username {
        Username::new(s).unwrap()
    }

    #[test]
    fn every_start_state_builds_and_holds_what_its_program_says() {
        for n in 0..STARTS {
            assert!(start_world(n).is_some(), "start {n} cannot be built");
        }
        let online = |n: u8| start_world(n).unwrap().relay.online_users().count();
        let peer = |n: u8, u: &str| start_world(n).unwrap().relay.chat_peer(&name(u)).cloned();
        assert_eq!(online(0), 0);
        assert_eq!(online(1), 3);
        for (start, a, b) in [
            (2, "alice", "bob"),
            (5, "alice", "bob"),
            (6, "bob", "carol"),
        ] {
            assert_eq!(peer(start, a), Some(name(b)), "start {start}");
        }
        assert_eq!(peer(1, "alice"), None);
        // A copy is a copy: what one execution does leaves the next one's start alone.
        let mut w = start_world(2).unwrap();
        w.close(0);
        assert_eq!(peer(2, "alice"), Some(name("bob")));
    }
}
