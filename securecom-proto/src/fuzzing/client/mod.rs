//! The `client` target: alice's [`ChatClient`] over a genuine session, against an emulated
//! server (the other end of that session) and an emulated bob who runs the genuine chat
//! protocol inside the chat data the server forwards.

mod harness;
mod seeds;
mod server;

pub(super) use seeds::seeds;

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::time::Duration;

use super::input::{Input, key, username};
use super::{TestRng, session_pair};
use crate::chat::{ChatInitiator, MemoryKnownKeys};
use crate::client::{ChatClient, ChatStatus};
use crate::codec::Codec;
use crate::command::{Notice, Response};
use crate::session::{Channel, CloseReason};
use crate::testkit::fixtures;
use crate::time::Instant;
use harness::{Bob, Harness};
use server::{notice, response_body};

/// Alice's [`ChatClient`] over the genuine session of [`session_pair`]; the other end is
/// an emulated server, and an emulated bob (fixture identity) who answers alice's chat
/// handshake genuinely (as responder or initiator) and seals texts for her. Up to 128
/// steps the input chooses: user commands (list, key, request, withdraw, accept, deny,
/// send, leave, exit, trust, block and unblock, timeouts, connection lost); server
/// responses and notices with fuzzed fields or arbitrary payloads, sealed on either
/// channel; bob's hello, texts and close; delivering the server's records (split in
/// two), dropping, duplicating, swapping or flipping them.
///
/// Checks: no panic; `status()` only moves as documented (see `allowed`); a `Message` is
/// only shown if bob's genuine chat session sealed that text (in order, at most once), and
/// likewise for what bob's emulation opens from alice.
pub fn client(data: &[u8]) {
    let _ = client_messages_shown(data);
}

/// For the replay tests: [`client`], returning the number of messages alice was shown.
pub fn client_messages_shown(data: &[u8]) -> usize {
    let Some((session, server)) = session_pair() else {
        panic!("the genuine handshake failed");
    };
    let f = fixtures::get();
    let client = ChatClient::new(
        session,
        Arc::clone(&f.user(0).config),
        Box::new(MemoryKnownKeys::default()),
        Instant::ZERO,
    );
    let mut h = Harness {
        client,
        server,
        wire: VecDeque::new(),
        bob: Bob::Idle,
        now: Instant::ZERO,
        rng: TestRng::new(21),
        bob_sent: Vec::new(),
        bob_cursor: 0,
        alice_sent: Vec::new(),
        alice_cursor: 0,
        status: ChatStatus::Idle,
        texts: 0,
        shown: 0,
    };
    let u = fixtures::get();
    let bob_name = &u.user(1).name;
    let mut input = Input::new(data);
    let mut rng = TestRng::new(22);
    for _ in 0..128 {
        if input.is_empty() {
            break;
        }
        let now = h.now;
        let op = input.u8();
        match (op & 0x7f) % 24 {
            0 => {
                let _ = h.client.list_users(now);
            }
            1 => {
                let name = username(&mut input);
                let _ = h.client.get_public_key(now, &name);
            }
            2 => {
                let name = if op & 0x80 == 0 {
                    bob_name.clone()
                } else {
                    username(&mut input)
                };
                let _ = h.client.request_chat(now, &name, &mut rng);
            }
            3 if op & 0x80 != 0 => {
                // Block the user the input names, or unblock them if blocked.
                let name = username(&mut input);
                if !h.client.unblock(&name) {
                    let _ = h.client.block(now, &name);
                }
            }
            3 => {
                let _ = h.client.withdraw_request(now);
            }
            4 => {
                let _ = h.client.accept(now, &mut rng);
            }
            5 => {
                let _ = h.client.deny(now);
            }
            6 => {
                h.texts += 1;
                let text = format!("alice {}", h.texts);
                if h.client.send_text(now, &text, &mut rng).is_ok() {
                    h.alice_sent.push(text);
                }
            }
            7 => {
                let _ = h.client.leave_chat(now);
            }
            8 => {
                let _ = h.client.exit(now);
            }
            9 => {
                let name = username(&mut input);
                let k = key(&mut input);
                if op & 0x80 != 0 {
                    let _ = h.client.verify_peer();
                } else {
                    let _ = h.client.trust_key(&name, &k);
                }
            }
            10 => {
                h.now = h.now + Duration::from_secs(u64::from(input.u8()));
                let now = h.now;
                let _ = h.client.handle_timeout(now);
                let _ = h.client.poll_timeout();
            }
            11 => {
                if op & 0x80 != 0 {
                    h.client.connection_lost();
                }
            }
            12 | 13 => {
                let id = u32::from(input.u8() % 8);
                let body = response_body(&mut input);
                if let Ok(bytes) = (Response { id, body }).to_bytes() {
                    h.seal(Channel::Standard, &bytes);
                }
            }
            14 | 15 => {
                let n = notice(&mut input);
                h.seal_notice(&n);
            }
            16 => {
                // An arbitrary payload, sealed on either channel: the decoders.
                let len = usize::from(input.u8());
                let payload = input.bytes(len).to_vec();
                let channel = if op & 0x80 == 0 {
                    Channel::Standard
                } else {
                    Channel::Request
                };
                h.seal(channel, &payload);
            }
            17 => {
                // The genuine notices of a relay: bob accepted, or bob asks.
                let key = u.user(1).me().1;
                let n = if op & 0x80 == 0 {
                    Notice::RequestAccepted {
                        peer: bob_name.clone(),
                        key,
                    }
                } else {
                    Notice::IncomingRequest {
                        from: bob_name.clone(),
                        key,
                    }
                };
                h.seal_notice(&n);
            }
            18 => {
                // Bob starts the chat handshake as initiator.
                let (init, hello) =
                    ChatInitiator::start(u.user(1).me(), u.user(0).me(), &mut h.rng);
                h.bob = Bob::Initiating(init);
                h.seal_notice(&Notice::ChatData(hello));
            }
            19 => {
                // Bob sends a text (or a close), possibly with one byte flipped.
                let flip = input.u16();
                if let Bob::Chatting(session) = &mut h.bob {
                    h.texts += 1;
                    let text = format!("bob {}", h.texts);
                    let sealed = if op & 0x80 == 0 {
                        let r = session.seal_text(&text, &mut h.rng);
                        if r.is_ok() {
                            h.bob_sent.push(text);
                        }
                        r
                    } else {
                        session.seal_close()
                    };
                    if let Ok(mut record) = sealed {
                        if flip & 0x8000 != 0 {
                            let at = usize::from(flip) % record.len().max(1);
                            if let Some(b) = record.get_mut(at) {
                                *b ^= 0x01;
                            }
                        }
                        h.seal_notice(&Notice::ChatData(record));
                    }
                }
            }
            20 => {
                let split = input.u8();
                h.deliver(split);
            }
            21 => {
                // Lose, duplicate, or swap the next records: the session must notice.
                match input.u8() % 3 {
                    0 => {
                        let _ = h.wire.pop_front();
                    }
                    1 => {
                        if let Some(r) = h.wire.front().cloned() {
                            h.wire.push_front(r);
                        }
                    }
                    _ => {
                        if h.wire.len() >= 2 {
                            h.wire.swap(0, 1);
                        }
                    }
                }
            }
            22 => {
                let at = usize::from(input.u16());
                if let Some(r) = h.wire.front_mut() {
                    let len = r.len().max(1);
                    if let Some(b) = r.get_mut(at % len) {
                        *b ^= 0x80;
                    }
                }
            }
            _ => {
                let reason = input.u8();
                let _ = h.server.close(CloseReason(reason));
                h.wire.push_back(h.server.output().to_vec());
                let n = h.server.output().len();
                h.server.consume_output(n);
            }
        }
        h.check();
        h.read_client();
    }
    while !h.wire.is_empty() {
        h.deliver(0);
        h.read_client();
    }
    h.check();
    h.shown
}
