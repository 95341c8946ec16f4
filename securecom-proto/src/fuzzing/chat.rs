//! The `chat` target: the client-to-client messages and the end-to-end chat handshake and
//! records, with input-mutated genuine messages.

use alloc::collections::VecDeque;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use super::TestRng;
use super::input::Input;
use super::messages::round_trip;
use crate::chat::messages::{ChatConfirm, ChatHello, ChatRecord, ChatReply};
use crate::chat::{ChatInitiator, ChatResponder, ChatSession, OpenedChat};
use crate::testkit::fixtures;

/// Up to `input`-many edits of `msg`: flip a byte, truncate, insert bytes, or replace it.
/// Returns whether the bytes changed.
fn mutate(msg: &mut Vec<u8>, input: &mut Input<'_>) -> bool {
    let original = msg.clone();
    let edits = input.u8() % 4;
    for _ in 0..edits {
        let kind = input.u8();
        let at = usize::from(input.u16()) % (msg.len() + 1);
        match kind % 4 {
            0 => {
                let x = input.u8() | 1;
                if let Some(b) = msg.get_mut(at) {
                    *b ^= x;
                }
            }
            1 => msg.truncate(at),
            2 => {
                let len = usize::from(input.u8() % 16);
                let bytes = input.bytes(len).to_vec();
                msg.splice(at..at, bytes);
            }
            _ => {
                let len = usize::from(input.u8());
                *msg = input.bytes(len).to_vec();
            }
        }
    }
    *msg != original
}

/// The input through the four chat message decoders (whatever decodes must encode back to
/// the same bytes). Then the first byte chooses the start: even, the established chat
/// between alice and bob, built once per process and copied (so that executions spend
/// their time on records, not on a handshake); odd, a genuine chat handshake whose three
/// messages the input edits. If both sides are established, up to 32 records either way,
/// each edited, dropped, duplicated, held back or reflected as the input says; the
/// speakers alternate as the input chooses, so the Diffie-Hellman ratchet steps.
///
/// Checks: if both sides accept the (edited) handshake, they share keys (each opens the
/// other's records); a record is only ever opened as text the peer sealed, in order, each
/// at most once: no `OpenedChat::Text` with altered text.
pub fn chat(data: &[u8]) {
    round_trip::<ChatHello>(data);
    round_trip::<ChatReply>(data);
    round_trip::<ChatConfirm>(data);
    round_trip::<ChatRecord>(data);

    let mut input = Input::new(data);
    let sides = if input.u8() & 1 == 0 {
        established()
    } else {
        match edited_handshake(&mut input) {
            Some(sides) => sides,
            None => return,
        }
    };
    records(sides, &mut input);
}

/// The unedited chat between alice and bob, built once.
fn established() -> [ChatSession; 2] {
    static PAIR: std::sync::OnceLock<Option<[ChatSession; 2]>> = std::sync::OnceLock::new();
    let pair = PAIR.get_or_init(|| {
        let u = fixtures::get();
        let (initiator, hello) =
            ChatInitiator::start(u.user(0).me(), u.user(1).me(), &mut TestRng::new(11));
        let responder = ChatResponder::new(u.user(1).me(), u.user(0).me(), &mut TestRng::new(12));
        let (responder, reply) = responder.handle_hello(&u.user(1).identity, &hello).ok()?;
        let (alice, confirm) = initiator.handle_reply(&u.user(0).identity, &reply).ok()?;
        let bob = responder.handle_confirm(&confirm).ok()?;
        Some([alice, bob])
    });
    match pair {
        Some(pair) => pair.clone(),
        None => panic!("the genuine chat handshake failed"),
    }
}

/// A genuine chat handshake whose three messages the input edits; both sides if both
/// accepted it.
fn edited_handshake(input: &mut Input<'_>) -> Option<[ChatSession; 2]> {
    let u = fixtures::get();
    let (alice_id, bob_id) = (&u.user(0).identity, &u.user(1).identity);
    let (initiator, mut hello) =
        ChatInitiator::start(u.user(0).me(), u.user(1).me(), &mut TestRng::new(11));
    mutate(&mut hello, input);
    let responder = ChatResponder::new(u.user(1).me(), u.user(0).me(), &mut TestRng::new(12));
    let (responder, mut reply) = responder.handle_hello(bob_id, &hello).ok()?;
    mutate(&mut reply, input);
    let (mut alice, mut confirm) = initiator.handle_reply(alice_id, &reply).ok()?;
    mutate(&mut confirm, input);
    match responder.handle_confirm(&confirm) {
        Ok(bob) => Some([alice, bob]),
        Err(_) => {
            // Alice thinks the chat is up: garbage to her must not open as text.
            let mut garbage = alice
                .seal_text("x", &mut TestRng::new(13))
                .unwrap_or_default();
            mutate(&mut garbage, input);
            if let Ok(OpenedChat::Text(t)) = alice.open(&garbage) {
                panic!("alice opened a record nobody sealed for her: {t:?}");
            }
            None
        }
    }
}

/// Records between two established sides, with the wire in the input's hands.
fn records(mut sides: [ChatSession; 2], input: &mut Input<'_>) {
    // Per direction (0: alice to bob, 1: bob to alice): texts sealed and not yet opened.
    let mut pending: [VecDeque<String>; 2] = [VecDeque::new(), VecDeque::new()];
    let mut held: [Option<Vec<u8>>; 2] = [None, None];
    let mut n = 0u32;
    let mut rng = TestRng::new(14);
    for _ in 0..32 {
        if input.is_empty() {
            break;
        }
        let op = input.u8();
        let from = usize::from(op & 1);
        n += 1;
        let text = format!("{}{n}", if from == 0 { "a" } else { "b" });
        let Some(sender) = sides.get_mut(from) else {
            return;
        };
        let (mut record, sealed_text) = if op & 0x40 != 0 {
            (sender.seal_close().unwrap_or_default(), None)
        } else {
            match sender.seal_text(&text, &mut rng) {
                Ok(r) => (r, Some(text)),
                Err(_) => continue,
            }
        };
        if let (Some(t), Some(p)) = (sealed_text, pending.get_mut(from)) {
            p.push_back(t);
        }
        mutate(&mut record, input);
        let deliveries: Vec<(usize, Vec<u8>)> = match (op >> 1) % 6 {
            0 => vec![(1 - from, record)],
            1 => vec![],
            2 => vec![(1 - from, record.clone()), (1 - from, record)],
            3 => {
                // Hold this one back, deliver the one held before (reordering).
                let slot = held.get_mut(from).and_then(Option::take);
                if let Some(h) = held.get_mut(from) {
                    *h = Some(record);
                }
                slot.map(|r| vec![(1 - from, r)]).unwrap_or_default()
            }
            4 => vec![(from, record)],
            _ => {
                let mut v = vec![(1 - from, record)];
                if let Some(r) = held.get_mut(from).and_then(Option::take) {
                    v.push((1 - from, r));
                }
                v
            }
        };
        for (to, bytes) in deliveries {
            let Some(receiver) = sides.get_mut(to) else {
                return;
            };
            if let Ok(OpenedChat::Text(t)) = receiver.open(&bytes) {
                // What `to` opens came from the other side.
                let Some(queue) = pending.get_mut(1 - to) else {
                    return;
                };
                match queue.iter().position(|s| *s == t) {
                    Some(i) => {
                        queue.drain(..=i);
                    }
                    None => panic!("opened text its peer did not seal, or twice: {t:?}"),
                }
            }
        }
    }
    // The two sides share keys: a fresh record each way opens as sent (unless a side
    // already saw a close or failed, which the ratchet makes sticky).
    let [alice, bob] = &mut sides;
    check_fresh(alice, bob, "fresh from alice");
    check_fresh(bob, alice, "fresh from bob");
}

fn check_fresh(from: &mut ChatSession, to: &mut ChatSession, text: &str) {
    if let Ok(record) = from.seal_text(text, &mut TestRng::new(15))
        && let Ok(opened) = to.open(&record)
    {
        assert_eq!(opened, OpenedChat::Text(String::from(text)), "keys differ");
    }
}

/// Seeds: the unedited handshake and exchanges of every kind.
pub(super) fn seeds() -> Vec<Vec<u8>> {
    let u = fixtures::get();
    let (_, hello) = ChatInitiator::start(u.user(0).me(), u.user(1).me(), &mut TestRng::new(11));
    vec![
        // The edited handshake with no edits, then records.
        vec![1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0],
        // Flip a byte of the reply's signature region.
        vec![1, 0, 1, 0, 0, 0x00, 0x40, 0x01],
        // From the established chat: duplicate, hold, deliver, reflect, close.
        vec![0, 4, 0, 5, 0, 6, 0, 0, 0, 1, 0, 8, 0, 10, 0, 0x40, 0],
        // Records with a flipped byte.
        vec![0, 0, 0, 1, 0, 0, 5, 0x10, 1, 1, 0, 0, 20, 0x80],
        // Speakers alternating, every record delivered: a ratchet step each turn.
        vec![0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0],
        hello,
    ]
}
