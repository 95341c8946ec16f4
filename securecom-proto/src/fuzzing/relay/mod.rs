//! The `relay` target: a [`Relay`](crate::relay::Relay) in the test kit's [`World`], driven
//! on several connections: genuine logged-in sessions (so the command layer is reached)
//! mixed with raw garbage connections.

mod seeds;

pub(super) use seeds::seeds;

use core::time::Duration;

use super::input::{Input, chunks, username};
use crate::codec::Codec;
use crate::command::{Request, RequestBody};
use crate::relay::RelayConfig;
use crate::session::{Channel, CloseReason};
use crate::testkit::fixtures;
use crate::testkit::world::World;

/// Connections one input may open.
const MAX_SLOTS: usize = 8;
/// Genuine logins one input may run (each costs a full handshake).
const MAX_LOGINS: usize = 4;
/// Steps per input.
const MAX_STEPS: usize = 128;

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
/// small output limit) and up to 128 steps the input chooses:
///
/// - open a connection and log a user in through it genuinely (at most four logins), or
///   open a raw connection;
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
    let config = RelayConfig {
        output_high_water: 4 * 1024,
        output_hard_limit: 64 * 1024,
        max_pending_requests_per_user: 2,
        ..RelayConfig::default()
    };
    let mut w = World::new(config);
    let mut logins = 0;
    let mut reached_chat = false;
    let mut input = Input::new(data);
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

fn step(w: &mut World, logins: &mut usize, input: &mut Input<'_>) {
    let op = input.u8();
    match op % 12 {
        0 => {
            let user = usize::from(input.u8());
            if w.peers.len() < MAX_SLOTS && *logins < MAX_LOGINS {
                *logins += 1;
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
