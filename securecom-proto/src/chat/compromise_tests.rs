//! A thief copies one side's whole chat state at some moment and reads every record the
//! relay forwards: what can it read? Before the victim's next ratchet step, what that
//! state can open; once each side has sent after receiving, nothing (post-compromise
//! security); and never anything from before the theft (forward secrecy).
//!
//! The thief is modelled two ways, and both must fail where the protocol says so:
//! - it runs the protocol on its copy: it opens what the victim receives, and the
//!   victim's own records under the sending chain it holds, following every step it can;
//! - it tries every key its copy gives: every chain it holds, 64 messages ahead, and a root
//!   step from its root with its ratchet secret and the record's ratchet key, both roles.

use alloc::string::String;
use alloc::vec::Vec;

use super::dh_ratchet::StolenKeys;
use super::messages::ChatRecord;
use super::ratchet::root_step;
use super::session::decrypt;
use super::tests::{established, seal, text};
use super::{ChatSession, OpenedChat};
use crate::codec::Codec;

/// Whether any key derivable from `stolen` alone opens `record`.
fn any_stolen_key_opens(stolen: StolenKeys, record: &[u8]) -> bool {
    let record = ChatRecord::decode(record).unwrap();
    let theirs = record.header.ratchet_key;
    let mut chains = stolen.chains;
    if let Some(ours) = &stolen.ours
        && let Ok(shared) = ours.agree(&theirs)
    {
        chains.push(root_step(&stolen.root, &shared, &theirs, ours.public()).1);
        chains.push(root_step(&stolen.root, &shared, ours.public(), &theirs).1);
    }
    chains.into_iter().any(|mut chain| {
        (0..64).any(|_| {
            let (message_key, next) = chain.peek();
            let mut sealed = record.sealed.clone();
            let opened = decrypt(&message_key, &record.header, &mut sealed).is_ok();
            chain.advance(next).unwrap();
            opened
        })
    })
}

/// The thief: a copy of the victim's state, following what the relay forwards.
struct Thief {
    copy: ChatSession,
}

impl Thief {
    fn steal(victim: &ChatSession) -> Self {
        Thief {
            copy: victim.snapshot(),
        }
    }

    /// Reads a record the victim received, if it can.
    fn read_incoming(&mut self, record: &[u8]) -> Option<String> {
        let by_brute_force = any_stolen_key_opens(self.copy.ratchet().stolen_keys(), record);
        let read = match self.copy.open(record) {
            Ok(OpenedChat::Text(t)) => Some(t),
            _ => None,
        };
        assert_eq!(read.is_some(), by_brute_force, "the two thieves disagree");
        read
    }

    /// Reads a record the victim sent, if it can.
    fn read_outgoing(&mut self, record: &[u8]) -> Option<String> {
        let by_brute_force = any_stolen_key_opens(self.copy.ratchet().stolen_keys(), record);
        let read = self.copy.open_sent_for_testing(record).ok();
        assert_eq!(read.is_some(), by_brute_force, "the two thieves disagree");
        read
    }
}

/// `from` seals `t` and `to` opens it.
fn send(from: &mut ChatSession, to: &mut ChatSession, t: &str) -> Vec<u8> {
    let record = seal(from, t).unwrap();
    assert_eq!(to.open(&record).unwrap(), text(t));
    record
}

#[test]
fn a_stolen_state_reads_until_each_side_has_sent_after_receiving() {
    let (mut alice, mut bob) = established();
    // Both have made ratchet keys already.
    send(&mut alice, &mut bob, "a0");
    send(&mut bob, &mut alice, "b0");
    send(&mut alice, &mut bob, "a1");

    let mut thief = Thief::steal(&alice);

    // (a) Until alice's next step: her own next text (same chain), and bob's texts, even
    // bob's step, which is made against alice's key the thief holds.
    let a2 = send(&mut alice, &mut bob, "a2");
    assert_eq!(thief.read_outgoing(&a2).as_deref(), Some("a2"));
    let b1 = send(&mut bob, &mut alice, "b1");
    assert_eq!(thief.read_incoming(&b1).as_deref(), Some("b1"));
    let b2 = send(&mut bob, &mut alice, "b2");
    assert_eq!(thief.read_incoming(&b2).as_deref(), Some("b2"));

    // (b) Alice sends after receiving: a fresh key the thief does not have.
    let a3 = send(&mut alice, &mut bob, "a3");
    assert_eq!(thief.read_outgoing(&a3), None);
    // Bob sends after receiving: his new key meets alice's new key. Healed both ways.
    let b3 = send(&mut bob, &mut alice, "b3");
    assert_eq!(thief.read_incoming(&b3), None);
    for round in 0..4 {
        let a = send(&mut alice, &mut bob, &alloc::format!("a{round} later"));
        assert_eq!(thief.read_outgoing(&a), None, "round {round}");
        let b = send(&mut bob, &mut alice, &alloc::format!("b{round} later"));
        assert_eq!(thief.read_incoming(&b), None, "round {round}");
        // Also with a copy of the state as it was stolen.
        let mut fresh = Thief::steal(&thief.copy);
        assert_eq!(fresh.read_incoming(&b), None);
    }
}

#[test]
fn stealing_the_responder_heals_the_same_way() {
    let (mut alice, mut bob) = established();
    // Bob has not stepped yet: his first key is his handshake key.
    let b0 = send(&mut bob, &mut alice, "b0");
    let mut thief = Thief::steal(&bob);
    let b1 = send(&mut bob, &mut alice, "b1");
    assert_eq!(thief.read_outgoing(&b1).as_deref(), Some("b1"));
    // Alice's first step is made against bob's handshake key, which the thief holds.
    let a0 = send(&mut alice, &mut bob, "a0");
    assert_eq!(thief.read_incoming(&a0).as_deref(), Some("a0"));
    // Bob steps: healed towards alice; alice steps: healed both ways.
    let b2 = send(&mut bob, &mut alice, "b2");
    assert_eq!(thief.read_outgoing(&b2), None);
    let a1 = send(&mut alice, &mut bob, "a1");
    assert_eq!(thief.read_incoming(&a1), None);
    drop(b0);
}

#[test]
fn a_state_stolen_later_reads_nothing_earlier() {
    let (mut alice, mut bob) = established();
    let mut wire = Vec::new();
    for round in 0..5 {
        wire.push(send(&mut alice, &mut bob, &alloc::format!("a{round}")));
        wire.push(send(&mut alice, &mut bob, &alloc::format!("a{round}'")));
        wire.push(send(&mut bob, &mut alice, &alloc::format!("b{round}")));
    }
    for victim in [&alice, &bob] {
        for (i, record) in wire.iter().enumerate() {
            assert!(
                !any_stolen_key_opens(victim.ratchet().stolen_keys(), record),
                "record {i} opened by a later state"
            );
            let mut copy = victim.snapshot();
            assert!(copy.open(record).is_err(), "record {i}");
            let mut copy = victim.snapshot();
            assert!(copy.open_sent_for_testing(record).is_err(), "record {i}");
        }
    }
}
