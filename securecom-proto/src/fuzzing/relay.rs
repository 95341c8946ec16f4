//! The `relay` target: a [`Relay`] driven on several connections, genuine logged-in
//! sessions (so the command layer is reached) mixed with raw garbage connections.

use alloc::collections::BTreeSet;
use alloc::vec;
use alloc::vec::Vec;
use core::time::Duration;

use super::world::{login, username};
use super::{Input, TestRng, chunks, drain};
use crate::codec::Codec;
use crate::command::{Request, RequestBody};
use crate::relay::{ConnectionId, Relay, RelayConfig};
use crate::session::{Channel, CloseReason, Session};
use crate::time::Instant;

/// Connections one input may open.
const MAX_SLOTS: usize = 8;
/// Genuine logins one input may run (each costs a full handshake).
const MAX_LOGINS: usize = 4;
/// Steps per input.
const MAX_STEPS: usize = 128;

struct Slot {
    conn: ConnectionId,
    /// The emulated client's session, for a genuine login; `None` for a raw connection.
    session: Option<Session>,
}

struct Harness {
    relay: Relay,
    now: Instant,
    slots: Vec<Slot>,
    /// Connections the driver reported lost (or closed after `should_close`).
    lost: BTreeSet<ConnectionId>,
    logins: usize,
}

impl Harness {
    fn slot(&mut self, b: u8) -> Option<&mut Slot> {
        let n = self.slots.len();
        if n == 0 {
            return None;
        }
        self.slots.get_mut(usize::from(b) % n)
    }

    /// Writes out every connection the relay says has output, as a driver would, and
    /// closes those it says are finished.
    fn flush(&mut self) {
        while let Some(id) = self.relay.poll_transmit() {
            assert!(
                !self.lost.contains(&id),
                "poll_transmit named a connection already lost: {id:?}"
            );
            let out = self.relay.output(id).to_vec();
            self.relay.consume_output(id, out.len());
            let callback = self.relay.callback_output(id).len();
            self.relay.consume_callback_output(id, callback);
            if let Some(session) = self
                .slots
                .iter_mut()
                .find(|s| s.conn == id)
                .and_then(|s| s.session.as_mut())
            {
                drain(session, &out);
            }
            if self.relay.should_close(id) {
                self.relay.connection_lost(id);
                self.lost.insert(id);
            }
        }
        while self.relay.poll_event().is_some() {}
    }

    fn check(&mut self) {
        if let Err(e) = self.relay.check_invariants() {
            panic!("relay invariant broken: {e}");
        }
        for id in &self.lost {
            assert!(
                self.relay.output(*id).is_empty() && self.relay.callback_output(*id).is_empty(),
                "output queued for a closed connection {id:?}"
            );
        }
    }

    /// Sends what the slot's emulated client has written, in chunks of `size`.
    fn send_output(&mut self, b: u8, size: u8) {
        let now = self.now;
        let Some(slot) = self.slot(b) else { return };
        let conn = slot.conn;
        let Some(session) = slot.session.as_mut() else {
            return;
        };
        let out = session.output().to_vec();
        session.consume_output(out.len());
        for piece in chunks(&out, size) {
            // Refused only once the connection is gone, which is not a bug.
            let _ = self.relay.handle_input(conn, now, piece);
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

/// A [`Relay`] (fixture server knowing alice, bob and carol; default configuration with a
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
    let config = RelayConfig {
        output_high_water: 4 * 1024,
        output_hard_limit: 64 * 1024,
        max_pending_requests_per_user: 2,
        ..RelayConfig::default()
    };
    let mut h = Harness {
        relay: Relay::new(
            alloc::sync::Arc::clone(&super::world::users().server),
            config,
        ),
        now: Instant::ZERO,
        slots: Vec::new(),
        lost: BTreeSet::new(),
        logins: 0,
    };
    let mut input = Input::new(data);
    let mut rng = TestRng::new(3);
    for _ in 0..MAX_STEPS {
        if input.is_empty() {
            break;
        }
        let op = input.u8();
        match op % 12 {
            0 => {
                let user = input.u8();
                if h.slots.len() < MAX_SLOTS && h.logins < MAX_LOGINS {
                    h.logins += 1;
                    let seed = 100 + h.slots.len() as u64;
                    if let Some((conn, session, rest)) =
                        login(&mut h.relay, h.now, usize::from(user), seed)
                    {
                        let mut slot = Slot {
                            conn,
                            session: Some(session),
                        };
                        if let Some(s) = slot.session.as_mut() {
                            drain(s, &rest);
                        }
                        h.slots.push(slot);
                    }
                }
            }
            1 => {
                if h.slots.len() < MAX_SLOTS
                    && let Ok(conn) = h.relay.open_connection(h.now, &mut rng)
                {
                    h.slots.push(Slot {
                        conn,
                        session: None,
                    });
                }
            }
            2..=4 => {
                let which = input.u8();
                let id = input.u16();
                let body = request_body(&mut input);
                if let Some(session) = h.slot(which).and_then(|s| s.session.as_mut())
                    && let Ok(bytes) = (Request {
                        id: u32::from(id),
                        body,
                    })
                    .to_bytes()
                {
                    let _ = session.send(Channel::Standard, &bytes);
                }
                let size = input.u8();
                h.send_output(which, size);
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
                if let Some(session) = h.slot(which).and_then(|s| s.session.as_mut()) {
                    let _ = session.send(channel, &payload);
                }
                let size = input.u8();
                h.send_output(which, size);
            }
            6 => {
                let which = input.u8();
                let reason = input.u8();
                if let Some(session) = h.slot(which).and_then(|s| s.session.as_mut()) {
                    let _ = session.close(CloseReason(reason));
                }
                h.send_output(which, 0);
            }
            7 => {
                // Raw bytes to any connection (garbage, or breaking a genuine stream).
                let which = input.u8();
                let len = usize::from(input.u8());
                let bytes = input.bytes(len).to_vec();
                let now = h.now;
                if let Some(conn) = h.slot(which).map(|s| s.conn) {
                    let _ = h.relay.handle_input(conn, now, &bytes);
                }
            }
            8 => {
                let which = input.u8();
                if let Some(conn) = h.slot(which).map(|s| s.conn) {
                    h.relay.connection_lost(conn);
                    h.lost.insert(conn);
                }
            }
            9 => {
                let step = input.u16();
                h.now = h.now + Duration::from_millis(u64::from(step) * 50);
                let now = h.now;
                h.relay.handle_timeout(now);
            }
            10 => {
                let now = h.now;
                h.relay.handle_timeout(now);
                let _ = h.relay.poll_timeout();
            }
            _ => h.flush(),
        }
        h.check();
        if h.relay
            .online_users()
            .any(|u| h.relay.chat_peer(u).is_some())
        {
            REACHED_CHAT.with(|r| r.set(true));
        }
    }
    h.flush();
    h.check();
}

/// Seeds: logins, a chat request accepted, chat data, garbage, timeouts.
pub(super) fn seeds() -> Vec<Vec<u8>> {
    const FLUSH: u8 = 11;
    let login = |u: u8| vec![0, u];
    let req = |which: u8, body: &[u8]| [&[2, which, 0, 1][..], body, &[0]].concat();
    // Users a and b log in (slots 0 and 1), a asks b, b accepts.
    let chat = |a: u8, b: u8| {
        [
            login(a),
            login(b),
            vec![FLUSH],
            req(0, &[0]),
            req(0, &[2, b]),
            vec![FLUSH],
            req(1, &[3, a, 1]),
            vec![FLUSH],
        ]
        .concat()
    };
    vec![
        // alice and bob log in; alice lists users and asks bob; bob accepts; chat data
        // both ways; leave.
        [
            chat(0, 1),
            req(0, &[5, 3, 1, 2, 3, 4]),
            req(1, &[5, 1, 9, 9]),
            vec![FLUSH],
            req(1, &[6]),
            vec![FLUSH],
        ]
        .concat(),
        // alice logs in, sends a sealed garbage record and raw garbage; a raw connection;
        // time passes beyond every deadline; alice's connection is lost.
        [
            login(0),
            vec![5, 0, 4, 1, 2, 3, 4, 0, 1, 7, 1, 3, 0xff, 0, 1, FLUSH],
            vec![9, 0xff, 0xff, FLUSH, 8, 0, FLUSH],
        ]
        .concat(),
        // bob and carol chat; carol exits; bob is lost mid-request from alice.
        [
            chat(1, 2),
            login(0),
            req(1, &[0]),
            req(1, &[7]),
            vec![FLUSH],
            req(2, &[2, 1]),
            vec![8, 0, FLUSH, 10],
        ]
        .concat(),
        // alice registers a callback, pings, and asks carol, who is not there; requests
        // expire.
        [
            login(0),
            req(
                0,
                &[
                    9, 0x1f, 0x90, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                ],
            ),
            req(0, &[8]),
            req(0, &[2, 2]),
            vec![FLUSH, 9, 0x10, 0, FLUSH],
        ]
        .concat(),
    ]
}

/// For the replay tests: whether the relay of [`relay`] ends with a chat established
/// after `data` (the seeds must reach the command layer).
pub fn relay_reaches_chat(data: &[u8]) -> bool {
    REACHED_CHAT.with(|r| r.set(false));
    relay(data);
    REACHED_CHAT.with(core::cell::Cell::get)
}

std::thread_local! {
    static REACHED_CHAT: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
}
