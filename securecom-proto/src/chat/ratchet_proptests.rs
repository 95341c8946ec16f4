//! The ratchet under every interleaving: both sides send whenever they like, records cross
//! in flight, and each direction is delivered in order (as the relay does). Every record
//! must open as sent, and the ratchet key must change exactly when a side sends a text
//! after having received a new key.

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;

use proptest::prelude::*;

use super::messages::ChatRecord;
use super::tests::{established, seal, text};
use super::{ChatError, ChatSession, OpenedChat};
use crate::codec::Codec;

#[derive(Clone, Copy, Debug)]
enum Op {
    /// Side 0 (alice) or 1 (bob) sends a text.
    Send(usize),
    /// The oldest record in flight towards side 0 or 1 arrives.
    Deliver(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..2usize).prop_map(Op::Send),
        (0..2usize).prop_map(Op::Deliver)
    ]
}

fn ratchet_key(record: &[u8]) -> [u8; 32] {
    ChatRecord::decode(record).unwrap().header.ratchet_key
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_interleaving_opens_in_order(ops in proptest::collection::vec(op(), 1..80)) {
        let (alice, bob) = established();
        let mut sides: [ChatSession; 2] = [alice, bob];
        // Records in flight towards each side, with their text.
        let mut flight: [VecDeque<(Vec<u8>, String)>; 2] = [VecDeque::new(), VecDeque::new()];
        // Whether each side received a ratchet key it had not seen since its last text;
        // the initiator received the responder's key in the handshake.
        let mut received_new = [true, false];
        for (n, op) in ops.into_iter().enumerate() {
            match op {
                Op::Send(from) => {
                    let t = alloc::format!("{from}:{n}");
                    let before = *sides[from].ratchet().our_public();
                    let record = seal(&mut sides[from], &t).unwrap();
                    let changed = ratchet_key(&record) != before;
                    prop_assert_eq!(changed, received_new[from], "op {}", n);
                    received_new[from] = false;
                    flight[1 - from].push_back((record, t));
                }
                Op::Deliver(to) => {
                    if let Some((record, t)) = flight[to].pop_front() {
                        if ratchet_key(&record) != *sides[to].ratchet().their_public() {
                            received_new[to] = true;
                        }
                        prop_assert_eq!(sides[to].open(&record), Ok(text(&t)));
                    }
                }
            }
        }
        // Drain, then each side closes and the other sees it.
        for to in 0..2 {
            while let Some((record, t)) = flight[to].pop_front() {
                prop_assert_eq!(sides[to].open(&record), Ok(text(&t)));
            }
        }
        let close = sides[0].seal_close().unwrap();
        prop_assert_eq!(sides[1].open(&close), Ok(OpenedChat::Closed));
        prop_assert_eq!(seal(&mut sides[0], "late"), Err(ChatError::Closed));
    }
}
