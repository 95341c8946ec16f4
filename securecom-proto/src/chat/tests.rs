//! The end-to-end chat between two parties, and every way a relay can tamper with it.

use alloc::string::String;
use alloc::vec::Vec;

use super::*;
use crate::codec::DecodeError;
use crate::identity::{Identity, Username};
use crate::testkit::TestRng;

/// A fresh RNG for every text, so that every ratchet key the tests make is distinct.
pub(super) fn fresh_rng() -> TestRng {
    static SEED: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(1000);
    TestRng::new(SEED.fetch_add(1, core::sync::atomic::Ordering::Relaxed))
}

/// Seals `text` with a fresh RNG.
pub(super) fn seal(session: &mut ChatSession, text: &str) -> Result<Vec<u8>, ChatError> {
    session.seal_text(text, &mut fresh_rng())
}

pub(super) struct Party {
    name: Username,
    identity: Identity,
}

pub(super) fn party(name: &str, seed: u8) -> Party {
    Party {
        name: Username::new(name).unwrap(),
        identity: Identity::from_seed(&[seed; 32]),
    }
}

pub(super) fn me(p: &Party) -> (&Username, crate::identity::PublicKey) {
    (&p.name, p.identity.public_key())
}

/// A full handshake; `relay` may rewrite each of the three messages in transit.
pub(super) fn handshake_with(
    a: &Party,
    b: &Party,
    a_sees_b: (&Username, crate::identity::PublicKey),
    b_sees_a: (&Username, crate::identity::PublicKey),
    mut relay: impl FnMut(usize, &mut Vec<u8>),
) -> Result<(ChatSession, ChatSession), ChatError> {
    let (initiator, mut hello) = ChatInitiator::start(me(a), a_sees_b, &mut TestRng::new(1));
    let responder = ChatResponder::new(me(b), b_sees_a, &mut TestRng::new(2));
    relay(0, &mut hello);
    let (responder, mut reply) = responder.handle_hello(&b.identity, &hello)?;
    relay(1, &mut reply);
    let (alice, mut confirm) = initiator.handle_reply(&a.identity, &reply)?;
    relay(2, &mut confirm);
    let bob = responder.handle_confirm(&confirm)?;
    Ok((alice, bob))
}

pub(super) fn established() -> (ChatSession, ChatSession) {
    let (a, b) = (party("alice", 1), party("bob", 2));
    handshake_with(&a, &b, me(&b), me(&a), |_, _| {}).unwrap()
}

pub(super) fn text(s: &str) -> OpenedChat {
    OpenedChat::Text(String::from(s))
}

#[test]
fn chat_both_ways_either_side_first() {
    let (mut alice, mut bob) = established();
    assert_eq!(alice.safety_number(), bob.safety_number());
    assert_eq!(alice.peer().as_str(), "bob");
    assert_eq!(bob.peer().as_str(), "alice");
    // The responder speaks first: nothing restricts who starts.
    let m = seal(&mut bob, "hi alice").unwrap();
    assert_eq!(alice.open(&m).unwrap(), text("hi alice"));
    for i in 0..5 {
        let m = seal(&mut alice, &alloc::format!("a{i}")).unwrap();
        assert_eq!(bob.open(&m).unwrap(), text(&alloc::format!("a{i}")));
        let m = seal(&mut bob, &alloc::format!("b{i}")).unwrap();
        assert_eq!(alice.open(&m).unwrap(), text(&alloc::format!("b{i}")));
    }
    let close = alice.seal_close().unwrap();
    assert_eq!(bob.open(&close).unwrap(), OpenedChat::Closed);
    assert!(bob.peer_closed());
    assert_eq!(seal(&mut alice, "late"), Err(ChatError::Closed));
}

#[test]
fn every_ciphertext_has_its_own_key() {
    let (mut alice, _) = established();
    let one = seal(&mut alice, "same").unwrap();
    let two = seal(&mut alice, "same").unwrap();
    // Same text, different bytes (other key, other counter).
    assert_ne!(one[49..], two[49..]);
}

#[test]
fn flipped_bit_is_rejected_and_advances_nothing() {
    let (mut alice, mut bob) = established();
    let m = seal(&mut alice, "pay 10 euros").unwrap();
    for bit in 8..m.len() * 8 {
        let mut bad = m.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        let err = bob.open(&bad).unwrap_err();
        if bit >= 8 * 49 {
            // The ciphertext or tag.
            assert_eq!(err, ChatError::BadRecord, "bit {bit}");
        }
    }
    // The genuine message still opens: nothing advanced on the failures.
    assert_eq!(bob.open(&m).unwrap(), text("pay 10 euros"));
}

#[test]
fn dropped_message_is_detected() {
    let (mut alice, mut bob) = established();
    let _lost = seal(&mut alice, "one").unwrap();
    let two = seal(&mut alice, "two").unwrap();
    assert_eq!(
        bob.open(&two),
        Err(ChatError::OutOfSequence {
            expected: 0,
            got: 1
        })
    );
}

#[test]
fn replayed_and_reordered_messages_are_rejected() {
    let (mut alice, mut bob) = established();
    let one = seal(&mut alice, "one").unwrap();
    let two = seal(&mut alice, "two").unwrap();
    assert_eq!(bob.open(&one).unwrap(), text("one"));
    assert_eq!(
        bob.open(&one),
        Err(ChatError::OutOfSequence {
            expected: 1,
            got: 0
        })
    );
    assert_eq!(bob.open(&two).unwrap(), text("two"));
}

#[test]
fn counter_rewritten_by_the_relay_is_rejected() {
    let (mut alice, mut bob) = established();
    let _ = seal(&mut alice, "one").unwrap();
    let mut two = seal(&mut alice, "two").unwrap();
    // Claim it is message 0: the key and AAD of message 0 do not open it.
    two[41..49].copy_from_slice(&0u64.to_be_bytes());
    assert_eq!(bob.open(&two), Err(ChatError::BadRecord));
}

#[test]
fn reflected_message_is_rejected() {
    let (mut alice, _) = established();
    let m = seal(&mut alice, "to bob").unwrap();
    assert_eq!(alice.open(&m), Err(ChatError::UnexpectedRatchetKey));
    // Also before alice made a ratchet key of her own (her close is under her handshake
    // key), and for the responder, whose first key is its handshake key.
    let (mut alice, mut bob) = established();
    let close = alice.seal_close().unwrap();
    assert_eq!(alice.open(&close), Err(ChatError::UnexpectedRatchetKey));
    let m = seal(&mut bob, "to alice").unwrap();
    assert_eq!(bob.open(&m), Err(ChatError::UnexpectedRatchetKey));
}

#[test]
fn injected_message_is_rejected() {
    let (_, mut bob) = established();
    let (mut mallory_session, _) = {
        let (a, b) = (party("alice", 1), party("bob", 2));
        // Another chat between the same users: its keys are independent.
        let (initiator, hello) = ChatInitiator::start(me(&a), me(&b), &mut TestRng::new(7));
        let responder = ChatResponder::new(me(&b), me(&a), &mut TestRng::new(8));
        let (responder, reply) = responder.handle_hello(&b.identity, &hello).unwrap();
        let (s, confirm) = initiator.handle_reply(&a.identity, &reply).unwrap();
        (s, responder.handle_confirm(&confirm).unwrap())
    };
    let forged = seal(&mut mallory_session, "from another chat").unwrap();
    assert_eq!(bob.open(&forged), Err(ChatError::BadRecord));
}

#[test]
fn tampered_handshake_fails() {
    let (a, b) = (party("alice", 1), party("bob", 2));
    for (step, expect) in [(1, ChatError::BadSignature), (2, ChatError::BadSignature)] {
        let r = handshake_with(&a, &b, me(&b), me(&a), |i, m| {
            if i == step {
                // Inside the signature.
                let at = if step == 1 { 70 } else { 5 };
                m[at] ^= 1;
            }
        });
        assert_eq!(r.unwrap_err(), expect, "step {step}");
    }
    // A flipped MAC.
    let r = handshake_with(&a, &b, me(&b), me(&a), |i, m| {
        if i == 1 {
            let last = m.len() - 1;
            m[last] ^= 1;
        }
    });
    assert_eq!(r.unwrap_err(), ChatError::BadFinished);
    // A low-order key share.
    let r = handshake_with(&a, &b, me(&b), me(&a), |i, m| {
        if i == 0 {
            m[35..67].copy_from_slice(&[0; 32]);
        }
    });
    assert_eq!(r.unwrap_err(), ChatError::NonContributoryKeyShare);
}

#[test]
fn relay_substituting_a_key_is_caught() {
    let (a, b, mallory) = (party("alice", 1), party("bob", 2), party("mallory", 3));
    // The relay tells Alice that Bob's key is Mallory's, but Bob really answers: his
    // signature does not verify under the substituted key.
    let r = handshake_with(
        &a,
        &b,
        (&b.name, mallory.identity.public_key()),
        me(&a),
        |_, _| {},
    );
    assert_eq!(r.unwrap_err(), ChatError::BadSignature);

    // A relay that runs a full man-in-the-middle with its own key towards both sides
    // succeeds cryptographically, but the safety numbers differ.
    let bob_as_mallory = Party {
        name: b.name.clone(),
        identity: Identity::from_seed(&[3; 32]),
    };
    let alice_as_mallory = Party {
        name: a.name.clone(),
        identity: Identity::from_seed(&[3; 32]),
    };
    let (alice_side, _) =
        handshake_with(&a, &bob_as_mallory, me(&bob_as_mallory), me(&a), |_, _| {}).unwrap();
    let (_, bob_side) = handshake_with(
        &alice_as_mallory,
        &b,
        me(&b),
        me(&alice_as_mallory),
        |_, _| {},
    )
    .unwrap();
    assert_ne!(alice_side.safety_number(), bob_side.safety_number());
    let (genuine_alice, genuine_bob) = established();
    assert_eq!(genuine_alice.safety_number(), genuine_bob.safety_number());
    assert_ne!(alice_side.safety_number(), genuine_alice.safety_number());
}

#[test]
fn identities_are_bound_to_the_transcript() {
    // Carol cannot pass Bob's reply off as her own: the transcript names the responder.
    let (a, b, c) = (party("alice", 1), party("bob", 2), party("carol", 4));
    let (initiator, hello) = ChatInitiator::start(me(&a), me(&c), &mut TestRng::new(1));
    let responder = ChatResponder::new(me(&b), me(&a), &mut TestRng::new(2));
    let (_, reply) = responder.handle_hello(&b.identity, &hello).unwrap();
    assert_eq!(
        initiator.handle_reply(&a.identity, &reply).unwrap_err(),
        ChatError::BadSignature
    );
}

#[test]
fn overlong_text_is_refused() {
    let (mut alice, _) = established();
    let long = "x".repeat(MAX_TEXT_LEN + 1);
    assert_eq!(seal(&mut alice, &long), Err(ChatError::InvalidText));
}

#[test]
fn texts_are_padded_to_the_block() {
    // kind + length + text, rounded up to 64 bytes, then the 16-byte tag and the 49-byte
    // header: the relay sees one size for every text of 0 to 61 bytes.
    let (mut alice, mut bob) = established();
    let wire = |s: &mut ChatSession, len: usize| seal(s, &"x".repeat(len)).unwrap();
    let sizes: Vec<usize> = [1, 30, 61, 62, 125, 126, MAX_TEXT_LEN]
        .iter()
        .map(|&len| {
            let m = wire(&mut alice, len);
            assert_eq!(bob.open(&m).unwrap(), text(&"x".repeat(len)));
            m.len()
        })
        .collect();
    let overhead = 49 + 16;
    assert_eq!(
        sizes,
        [64, 64, 64, 128, 128, 192, 4160].map(|p| p + overhead)
    );
    // The close is padded too: it looks like a short text.
    let close = alice.seal_close().unwrap();
    assert_eq!(close.len(), 64 + overhead);
    assert_eq!(bob.open(&close).unwrap(), OpenedChat::Closed);
}

#[test]
fn malformed_padding_is_refused_after_authentication() {
    let mut good = [0u8; 64];
    good[..5].copy_from_slice(&[0x01, 0x00, 0x02, b'h', b'i']);
    let mut nonzero = good;
    nonzero[63] = 1;
    let mut long_length = good;
    long_length[1..3].copy_from_slice(&62u16.to_be_bytes());
    let mut not_shortest = [0u8; 128];
    not_shortest[..5].copy_from_slice(&good[..5]);
    // A record shorter than one block and the tag (80 bytes) is refused by the decoder
    // already, before any decryption.
    let too_short = |len: usize| ChatError::Decode(DecodeError::Truncated { needed: 80 - len });
    let cases: [(&str, &[u8], ChatError); 5] = [
        ("padding not zero", &nonzero, ChatError::BadPadding),
        ("length past the end", &long_length, ChatError::BadPadding),
        (
            "more padding than a block",
            &not_shortest,
            ChatError::BadPadding,
        ),
        ("not a whole block", &good[..63], too_short(63 + 16)),
        ("shorter than the header", &good[..2], too_short(2 + 16)),
    ];
    for (what, plaintext, expected) in cases {
        let (mut alice, mut bob) = established();
        let m = alice.seal_plaintext_for_testing(plaintext).unwrap();
        assert_eq!(bob.open(&m), Err(expected), "{what}");
        // Verify, then commit: the receiving ratchet did not move.
        assert!(
            alloc::format!("{bob:?}").contains("received: 0"),
            "{what}: {bob:?}"
        );
    }
    // The well-formed one opens.
    let (mut alice, mut bob) = established();
    let m = alice.seal_plaintext_for_testing(&good).unwrap();
    assert_eq!(bob.open(&m).unwrap(), text("hi"));
}

/// A valid X25519 public key nobody in these tests holds the secret of.
fn stranger_key() -> [u8; 32] {
    *crate::crypto::X25519KeyPair::generate(&mut TestRng::new(99)).public()
}

#[test]
fn a_ratchet_key_changed_in_transit_is_rejected_and_changes_nothing() {
    let (mut alice, mut bob) = established();
    let a0 = seal(&mut alice, "a0").unwrap();
    assert_eq!(bob.open(&a0).unwrap(), text("a0"));
    let b0 = seal(&mut bob, "b0").unwrap();
    assert_eq!(alice.open(&b0).unwrap(), text("b0"));
    // Alice's next text steps: a new ratchet key.
    let a1 = seal(&mut alice, "a1").unwrap();
    assert_ne!(a1[1..33], a0[1..33]);
    let with_key = |key: &[u8]| {
        let mut m = a1.clone();
        m[1..33].copy_from_slice(key);
        m
    };
    for (what, forged, expected) in [
        (
            "another valid key",
            with_key(&stranger_key()),
            ChatError::BadRecord,
        ),
        (
            "a key of small order",
            with_key(&[0; 32]),
            ChatError::NonContributoryKeyShare,
        ),
        // Alice's previous key: then it claims to be the first record of that chain again.
        (
            "the previous key",
            with_key(&a0[1..33]),
            ChatError::OutOfSequence {
                expected: 1,
                got: 0,
            },
        ),
        (
            "bob's own key",
            with_key(&b0[1..33]),
            ChatError::UnexpectedRatchetKey,
        ),
    ] {
        assert_eq!(bob.open(&forged), Err(expected), "{what}");
    }
    // Nothing moved: the genuine record opens, and the chat goes on both ways.
    assert_eq!(bob.open(&a1).unwrap(), text("a1"));
    let b1 = seal(&mut bob, "b1").unwrap();
    assert_eq!(alice.open(&b1).unwrap(), text("b1"));
}

#[test]
fn a_record_dropped_at_the_end_of_a_chain_is_detected_by_the_next_key() {
    let (mut alice, mut bob) = established();
    let a0 = seal(&mut alice, "a0").unwrap();
    let _dropped = seal(&mut alice, "a0'").unwrap();
    assert_eq!(bob.open(&a0).unwrap(), text("a0"));
    let b0 = seal(&mut bob, "b0").unwrap();
    assert_eq!(alice.open(&b0).unwrap(), text("b0"));
    // Alice's new chain says her previous one had 2 records; bob got 1.
    let a1 = seal(&mut alice, "a1").unwrap();
    assert_eq!(
        bob.open(&a1),
        Err(ChatError::OutOfSequence {
            expected: 1,
            got: 2
        })
    );
}

#[test]
fn a_new_key_before_the_initiator_made_its_own_is_refused() {
    // An honest responder steps only after the initiator's first key; a record claiming a
    // new responder key before that cannot be opened (the initiator holds no secret for
    // its handshake key) and is refused as such.
    let (mut alice, mut bob) = established();
    let mut b0 = seal(&mut bob, "b0").unwrap();
    b0[1..33].copy_from_slice(&stranger_key());
    assert_eq!(alice.open(&b0), Err(ChatError::UnexpectedRatchetKey));
}

#[test]
fn each_change_of_speaker_changes_the_ratchet_key_and_only_then() {
    let (mut alice, mut bob) = established();
    let key = |m: &[u8]| <[u8; 32]>::try_from(&m[1..33]).unwrap();
    let mut keys = Vec::new();
    for (speaker, count) in [(0, 3), (1, 2), (0, 1), (1, 3)] {
        let mut round = Vec::new();
        for i in 0..count {
            let (from, to) = if speaker == 0 {
                (&mut alice, &mut bob)
            } else {
                (&mut bob, &mut alice)
            };
            let m = seal(from, &alloc::format!("{speaker}/{i}")).unwrap();
            assert_eq!(to.open(&m).unwrap(), text(&alloc::format!("{speaker}/{i}")));
            round.push(key(&m));
        }
        assert!(round.windows(2).all(|w| w[0] == w[1]), "one key per turn");
        keys.push(round[0]);
    }
    for (i, k) in keys.iter().enumerate() {
        assert!(!keys[..i].contains(k), "turn {i} reused a key");
    }
}
