//! The `client` target: alice's [`ChatClient`] over a genuine session, against an emulated
//! server (the other end of that session) and an emulated bob who runs the genuine chat
//! protocol inside the chat data the server forwards.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::time::Duration;

use super::world::{assert_subsequence, messages, username, users};
use super::{Input, TestRng, fixtures, session_pair};
use crate::chat::{
    ChatInitiator, ChatResponder, ChatSession, MemoryKnownKeys, OpenedChat,
    ResponderAwaitingConfirm,
};
use crate::client::{ChatClient, ChatStatus};
use crate::codec::Codec;
use crate::command::{
    CommandError, Notice, Request, RequestBody, Response, ResponseBody, UserEntry,
};
use crate::identity::PublicKey;
use crate::session::{Channel, CloseReason, Incoming, Session};
use crate::time::Instant;

/// The emulated bob's side of the chat with alice.
enum Bob {
    Idle,
    Initiating(ChatInitiator),
    Confirming(ResponderAwaitingConfirm),
    Chatting(ChatSession),
}

struct Harness {
    client: ChatClient,
    server: Session,
    /// Records the server sealed and has not delivered yet, one per message.
    wire: VecDeque<Vec<u8>>,
    bob: Bob,
    now: Instant,
    rng: TestRng,
    /// Every text bob sealed for alice, in order; and how far alice's view got.
    bob_sent: Vec<String>,
    bob_cursor: usize,
    /// Every text alice sent, in order; and how far bob's view got.
    alice_sent: Vec<String>,
    alice_cursor: usize,
    status: ChatStatus,
    texts: u32,
}

fn key(input: &mut Input<'_>) -> PublicKey {
    users().me(usize::from(input.u8())).1
}

fn response_body(input: &mut Input<'_>) -> ResponseBody {
    match input.u8() % 10 {
        0 => {
            let n = input.u8() % 4;
            let users = (0..n)
                .map(|_| UserEntry {
                    username: username(input),
                    fingerprint: key(input).fingerprint(),
                })
                .collect();
            ResponseBody::Users {
                users,
                truncated: input.u8() & 1 == 1,
            }
        }
        1 => ResponseBody::PublicKey {
            username: username(input),
            key: key(input),
        },
        2 => ResponseBody::RequestSent,
        3 => ResponseBody::Answered,
        4 => ResponseBody::Withdrawn,
        5 => ResponseBody::Left,
        6 => ResponseBody::Bye,
        7 => ResponseBody::Pong,
        8 => ResponseBody::CallbackRegistered,
        _ => ResponseBody::Error(CommandError(input.u8() % 12)),
    }
}

fn notice(input: &mut Input<'_>) -> Notice {
    match input.u8() % 7 {
        0 => Notice::IncomingRequest {
            from: username(input),
            key: key(input),
        },
        1 => Notice::RequestWithdrawn {
            from: username(input),
        },
        2 => Notice::RequestExpired {
            peer: username(input),
        },
        3 => Notice::RequestAccepted {
            peer: username(input),
            key: key(input),
        },
        4 => Notice::RequestDenied {
            peer: username(input),
        },
        5 => {
            let len = usize::from(input.u8()) + 1;
            Notice::ChatData(input.bytes(len).to_vec())
        }
        _ => Notice::PeerLeft {
            peer: username(input),
            reason: crate::command::GoneReason(input.u8()),
        },
    }
}

/// Whether `next` may follow `prev` in one step, as the client's module documentation
/// draws it: anything may fall back to `Idle`; `Idle` goes to `Requesting` or `Asked`;
/// these go on to negotiating and chatting with the same peer.
fn allowed(prev: &ChatStatus, next: &ChatStatus) -> bool {
    use ChatStatus::*;
    match (prev, next) {
        (a, b) if a == b => true,
        (_, Idle) => true,
        (Idle, Requesting(_) | Asked(_)) => true,
        (Requesting(p) | Asked(p), Negotiating(q) | Chatting(q)) => p == q,
        (Negotiating(p), Chatting(q)) => p == q,
        _ => false,
    }
}

impl Harness {
    fn seal_notice(&mut self, notice: &Notice) {
        // A notice the encoder refuses (an empty chat payload) is not sent.
        if let Ok(bytes) = notice.to_bytes() {
            self.seal(Channel::Request, &bytes);
        }
    }

    fn seal(&mut self, channel: Channel, payload: &[u8]) {
        if self.server.send(channel, payload).is_ok() {
            self.wire.push_back(self.server.output().to_vec());
        }
        let n = self.server.output().len();
        self.server.consume_output(n);
    }

    /// After every call: the status moved as documented, and every message shown is one
    /// bob sealed, in order.
    fn check(&mut self) {
        let status = self.client.status();
        assert!(
            allowed(&self.status, &status),
            "status went from {:?} to {:?}",
            self.status,
            status
        );
        self.status = status;
        let mut events = Vec::new();
        while let Some(e) = self.client.poll_event() {
            events.push(e);
        }
        let bob = users().user(1).0;
        for (from, text) in messages(&events) {
            assert_eq!(from, bob, "a message from someone who never chatted");
            assert_subsequence(&self.bob_sent, &mut self.bob_cursor, text);
            SHOWN.with(|s| s.set(s.get() + 1));
        }
    }

    /// Reads what alice wrote: requests, and chat data for bob, which the emulated bob
    /// answers as the protocol says.
    fn read_client(&mut self) {
        let out = self.client.output().to_vec();
        self.client.consume_output(out.len());
        let mut rest = &out[..];
        let mut chat_data = Vec::new();
        loop {
            let took = self.server.push_input(rest);
            rest = rest.get(took..).unwrap_or(&[]);
            while let Ok(Some(Incoming::Data { payload, .. })) = self.server.next_record() {
                if let Ok(Request {
                    body: RequestBody::ChatData(d),
                    ..
                }) = Request::decode(payload)
                {
                    chat_data.push(d);
                }
            }
            if rest.is_empty() || took == 0 {
                break;
            }
        }
        for d in chat_data {
            self.bob_reads(&d);
        }
    }

    fn bob_reads(&mut self, msg: &[u8]) {
        let u = users();
        let bob_id = u.user(1).1;
        let bob = core::mem::replace(&mut self.bob, Bob::Idle);
        self.bob = match bob {
            Bob::Initiating(init) => match init.handle_reply(bob_id, msg) {
                Ok((session, confirm)) => {
                    self.seal_notice(&Notice::ChatData(confirm));
                    Bob::Chatting(session)
                }
                Err(_) => Bob::Idle,
            },
            Bob::Confirming(resp) => match resp.handle_confirm(msg) {
                Ok(session) => Bob::Chatting(session),
                Err(_) => Bob::Idle,
            },
            Bob::Chatting(mut session) => {
                if let Ok(OpenedChat::Text(t)) = session.open(msg) {
                    assert_subsequence(&self.alice_sent, &mut self.alice_cursor, &t);
                }
                Bob::Chatting(session)
            }
            Bob::Idle => {
                let responder = ChatResponder::new(u.me(1), u.me(0), &mut self.rng);
                match responder.handle_hello(bob_id, msg) {
                    Ok((next, reply)) => {
                        self.seal_notice(&Notice::ChatData(reply));
                        Bob::Confirming(next)
                    }
                    Err(_) => Bob::Idle,
                }
            }
        };
    }

    fn deliver(&mut self, split: u8) {
        let Some(record) = self.wire.pop_front() else {
            return;
        };
        let at = usize::from(split) % (record.len() + 1);
        let (a, b) = record.split_at(at);
        for piece in [a, b] {
            if !piece.is_empty() {
                let _ = self.client.handle_input(self.now, piece);
                self.check();
            }
        }
    }
}

/// Alice's [`ChatClient`] over the genuine session of [`session_pair`]; the other end is
/// an emulated server, and an emulated bob (fixture identity) who answers alice's chat
/// handshake genuinely (as responder or initiator) and seals texts for her. Up to 128
/// steps the input chooses: user commands (list, key, request, withdraw, accept, deny,
/// send, leave, exit, trust, timeouts, connection lost); server responses and notices with
/// fuzzed fields or arbitrary payloads, sealed on either channel; bob's hello, texts and
/// close; delivering the server's records (split in two), dropping, duplicating, swapping
/// or flipping them.
///
/// Checks: no panic; `status()` only moves as documented (see `allowed`); a `Message` is
/// only shown if bob's genuine chat session sealed that text (in order, at most once), and
/// likewise for what bob's emulation opens from alice.
pub fn client(data: &[u8]) {
    let Some((session, server)) = session_pair() else {
        panic!("the genuine handshake failed");
    };
    let f = fixtures();
    let client = ChatClient::new(
        session,
        Arc::clone(&f.client_config),
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
    };
    let u = users();
    let bob_name = u.user(1).0;
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
                if h.client.send_text(now, &text).is_ok() {
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
                h.client.trust_key(&name, &k);
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
                let key = u.me(1).1;
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
                let (init, hello) = ChatInitiator::start(u.me(1), u.me(0), &mut h.rng);
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
                        let r = session.seal_text(&text);
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
}

/// Seeds: alice asks bob and chats; bob asks alice and chats; responses of every kind.
pub(super) fn seeds() -> Vec<Vec<u8>> {
    const DELIVER: [u8; 2] = [20, 0];
    let d = |n: usize| DELIVER.repeat(n);
    vec![
        // alice requests; RequestSent; bob accepted; the handshake runs; texts both ways;
        // bob closes.
        [
            vec![2, 12, 1, 2],
            d(1),
            vec![17],
            d(3),
            vec![6, 19, 0, 0, 19, 0, 0, 6],
            d(3),
            vec![19 | 0x80, 0, 0],
            d(2),
        ]
        .concat(),
        // bob asks; alice accepts; bob's hello; texts; alice leaves.
        [
            vec![17 | 0x80],
            d(1),
            vec![4, 18],
            d(3),
            vec![19, 0, 0, 6],
            d(2),
            vec![7, 12, 2, 5],
            d(1),
        ]
        .concat(),
        // Responses and notices of every kind, an arbitrary payload, a flipped record.
        [
            vec![0, 12, 1, 0, 2, 0, 0, 1, 1, 0, 1, 1, 1, 12, 2, 9, 4],
            vec![14, 0, 2, 2, 14, 5, 3, 1, 2, 3, 14, 6, 1, 16, 3, 1, 2, 3],
            d(6),
            vec![1, 1, 9, 2, 2, 10, 40],
            d(1),
            vec![22, 0, 3],
            d(1),
        ]
        .concat(),
        // A chat, then a flipped text from bob; then the server closes.
        [
            vec![2, 17],
            d(3),
            vec![19, 0x80, 0x05],
            d(1),
            vec![23, 0],
            d(1),
            vec![11 | 0x80],
        ]
        .concat(),
    ]
}

/// For the replay tests: the number of messages alice was shown after `data`.
pub fn client_messages_shown(data: &[u8]) -> usize {
    SHOWN.with(|s| s.set(0));
    client(data);
    SHOWN.with(core::cell::Cell::get)
}

std::thread_local! {
    static SHOWN: core::cell::Cell<usize> = const { core::cell::Cell::new(0) };
}
