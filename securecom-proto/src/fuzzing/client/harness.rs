//! The client target's harness: alice's client, the emulated server's end of her session,
//! the records on the wire between them, and the emulated bob.

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;

use crate::chat::{
    ChatInitiator, ChatResponder, ChatSession, OpenedChat, ResponderAwaitingConfirm,
};
use crate::client::{ChatClient, ChatStatus, ClientEvent};
use crate::codec::Codec;
use crate::command::{Notice, Request, RequestBody};
use crate::fuzzing::TestRng;
use crate::fuzzing::check::{assert_subsequence, messages};
use crate::session::{Channel, Incoming, Session};
use crate::testkit::fixtures;
use crate::time::Instant;

/// The emulated bob's side of the chat with alice.
pub(super) enum Bob {
    Idle,
    Initiating(ChatInitiator),
    Confirming(ResponderAwaitingConfirm),
    Chatting(ChatSession),
}

pub(super) struct Harness {
    pub(super) client: ChatClient,
    pub(super) server: Session,
    /// Records the server sealed and has not delivered yet, one per message.
    pub(super) wire: VecDeque<Vec<u8>>,
    pub(super) bob: Bob,
    pub(super) now: Instant,
    pub(super) rng: TestRng,
    /// Every text bob sealed for alice, in order; and how far alice's view got.
    pub(super) bob_sent: Vec<String>,
    pub(super) bob_cursor: usize,
    /// Every text alice sent, in order; and how far bob's view got.
    pub(super) alice_sent: Vec<String>,
    pub(super) alice_cursor: usize,
    pub(super) status: ChatStatus,
    pub(super) texts: u32,
    /// How many messages alice was shown.
    pub(super) shown: usize,
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
    pub(super) fn seal_notice(&mut self, notice: &Notice) {
        // A notice the encoder refuses (an empty chat payload) is not sent.
        if let Ok(bytes) = notice.to_bytes() {
            self.seal(Channel::Request, &bytes);
        }
    }

    pub(super) fn seal(&mut self, channel: Channel, payload: &[u8]) {
        if self.server.send(channel, payload).is_ok() {
            self.wire.push_back(self.server.output().to_vec());
        }
        let n = self.server.output().len();
        self.server.consume_output(n);
    }

    /// After every call: the status moved as documented, and every message shown is one
    /// bob sealed, in order.
    pub(super) fn check(&mut self) {
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
        // A blocked user is never asked about, and never gets the user busy.
        for e in &events {
            if let ClientEvent::IncomingRequest { from, .. } = e {
                assert!(!self.client.is_blocked(from), "asked about blocked {from}");
            }
        }
        if let ChatStatus::Asked(from) = &self.status {
            assert!(!self.client.is_blocked(from), "busy with blocked {from}");
        }
        let bob = &fixtures::get().user(1).name;
        for (from, text) in messages(&events) {
            assert_eq!(from, bob, "a message from someone who never chatted");
            assert_subsequence(&self.bob_sent, &mut self.bob_cursor, text);
            self.shown += 1;
        }
    }

    /// Reads what alice wrote: requests, and chat data for bob, which the emulated bob
    /// answers as the protocol says.
    pub(super) fn read_client(&mut self) {
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

    pub(super) fn bob_reads(&mut self, msg: &[u8]) {
        let u = fixtures::get();
        let bob_id = &u.user(1).identity;
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
                let responder = ChatResponder::new(u.user(1).me(), u.user(0).me(), &mut self.rng);
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

    pub(super) fn deliver(&mut self, split: u8) {
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
