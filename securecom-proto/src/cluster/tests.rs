//! Unit tests of the cluster's pieces, without a relay: the bus envelope and the presence
//! record (round trips, authentication, bounds), the presence store's key encoding, the
//! replay and liveness rules of [`Nodes::admit`], the presence mirror's ordering, node id
//! validation and the cluster key's `Debug`. A proptest checks that opening arbitrary
//! bytes, forged or correctly tagged, never panics.

use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use proptest::prelude::*;
use sha2::Sha256;

use super::wire::MAX_BUS_MESSAGE;
use super::*;
use crate::command::{CommandError, GoneReason, MAX_CHAT_PAYLOAD};
use crate::identity::{PublicKey, Username};
use crate::testkit::fixtures;
use crate::time::Instant;

fn node(s: &str) -> NodeId {
    NodeId::new(s).expect("a valid node id")
}

fn user(s: &str) -> Username {
    Username::new(s).expect("a valid username")
}

fn key_a() -> ClusterKey {
    ClusterKey::from_bytes([0xa5; 32])
}

fn key_b() -> ClusterKey {
    ClusterKey::from_bytes([0x5a; 32])
}

fn alice_key() -> PublicKey {
    fixtures::user("alice").1.public_key()
}

/// One body of every kind the bus carries.
fn every_body() -> Vec<BusBody> {
    let (a, b) = (user("alice"), user("bob.smith-2"));
    vec![
        BusBody::Heartbeat,
        BusBody::Goodbye,
        BusBody::Request {
            from: a.clone(),
            to: b.clone(),
            key: alice_key(),
        },
        BusBody::RequestResult {
            from: a.clone(),
            to: b.clone(),
            error: None,
        },
        BusBody::RequestResult {
            from: a.clone(),
            to: b.clone(),
            error: Some(CommandError::BUSY),
        },
        BusBody::Accepted {
            from: b.clone(),
            to: a.clone(),
            key: alice_key(),
        },
        BusBody::Denied {
            from: b.clone(),
            to: a.clone(),
        },
        BusBody::Withdrawn {
            from: a.clone(),
            to: b.clone(),
        },
        BusBody::Expired {
            from: a.clone(),
            to: b.clone(),
        },
        BusBody::ChatData {
            from: a.clone(),
            to: b.clone(),
            payload: vec![1, 2, 3, 0xff],
        },
        BusBody::Left {
            from: b,
            to: a,
            reason: GoneReason::UNREACHABLE,
        },
    ]
}

fn envelope(to: Option<&str>, seq: u64, body: BusBody) -> Envelope {
    Envelope {
        from: node("n1"),
        to: to.map(node),
        to_incarnation: 1,
        incarnation: 1_000,
        seq,
        unix_ms: 1_768_435_200_000,
        body,
    }
}

fn sealed(env: &Envelope) -> Vec<u8> {
    env.seal(&Keys::new(&key_a()))
        .expect("the envelope encodes")
}

/// Tags `body` as a bus message the way the cluster does (HMAC-SHA256 under the key derived
/// for bus messages), so that tests can build authentic messages of any content.
fn tag_as_bus_message(key: &ClusterKey, mut body: Vec<u8>) -> Vec<u8> {
    let derived = key.derive(b"bus message");
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&derived).expect("any key length");
    mac.update(&body);
    body.extend_from_slice(&mac.finalize().into_bytes());
    body
}

// ----- the envelope -----

#[test]
fn every_bus_body_round_trips_direct_and_broadcast() {
    let keys = Keys::new(&key_a());
    for body in every_body() {
        for to in [Some("n2"), None] {
            let env = envelope(to, 7, body.clone());
            let bytes = env.seal(&keys).expect("the envelope encodes");
            assert!(bytes.len() <= MAX_BUS_MESSAGE, "{body:?}");
            assert_eq!(Envelope::open(&keys, &bytes), Ok(env), "{body:?}");
        }
    }
}

#[test]
fn the_test_tag_is_the_clusters_tag() {
    // The helper that lets tests make authentic messages computes exactly the real tag.
    let bytes = sealed(&envelope(Some("n2"), 1, BusBody::Heartbeat));
    let (body, _) = bytes.split_at(bytes.len() - 32);
    assert_eq!(tag_as_bus_message(&key_a(), body.to_vec()), bytes);
}

#[test]
fn a_tag_made_with_another_cluster_key_is_refused() {
    for body in every_body() {
        let bytes = envelope(Some("n2"), 1, body)
            .seal(&Keys::new(&key_b()))
            .expect("the envelope encodes");
        assert_eq!(
            Envelope::open(&Keys::new(&key_a()), &bytes),
            Err(BusError::BadTag)
        );
    }
}

#[test]
fn a_flipped_byte_anywhere_is_refused() {
    let keys = Keys::new(&key_a());
    let bytes = sealed(&envelope(
        Some("n2"),
        3,
        BusBody::ChatData {
            from: user("alice"),
            to: user("bob"),
            payload: vec![9; 40],
        },
    ));
    for i in 0..bytes.len() {
        for bit in [0x01, 0x80] {
            let mut altered = bytes.clone();
            altered[i] ^= bit;
            assert_eq!(
                Envelope::open(&keys, &altered),
                Err(BusError::BadTag),
                "byte {i}"
            );
        }
    }
}

#[test]
fn a_truncated_or_extended_message_is_refused() {
    let keys = Keys::new(&key_a());
    let bytes = sealed(&envelope(None, 1, BusBody::Goodbye));
    for len in 0..bytes.len() {
        assert_eq!(
            Envelope::open(&keys, &bytes[..len]),
            Err(BusError::BadTag),
            "{len} bytes"
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert_eq!(Envelope::open(&keys, &longer), Err(BusError::BadTag));
    // Authentic but cut short inside the body, or with bytes after it: malformed.
    let (body, _) = bytes.split_at(bytes.len() - 32);
    for len in 0..body.len() {
        let cut = tag_as_bus_message(&key_a(), body[..len].to_vec());
        assert!(
            matches!(Envelope::open(&keys, &cut), Err(BusError::Malformed(_))),
            "{len} bytes of body"
        );
    }
    let mut trailing = body.to_vec();
    trailing.push(0);
    let trailing = tag_as_bus_message(&key_a(), trailing);
    assert!(matches!(
        Envelope::open(&keys, &trailing),
        Err(BusError::Malformed(_))
    ));
}

#[test]
fn authentic_but_unknown_version_or_kind_is_malformed() {
    let keys = Keys::new(&key_a());
    let bytes = sealed(&envelope(None, 1, BusBody::Heartbeat));
    let (body, _) = bytes.split_at(bytes.len() - 32);
    let mut version = body.to_vec();
    version[0] = 2;
    let mut kind = body.to_vec();
    kind[1] = 200;
    for altered in [version, kind] {
        let tagged = tag_as_bus_message(&key_a(), altered);
        assert!(matches!(
            Envelope::open(&keys, &tagged),
            Err(BusError::Malformed(_))
        ));
    }
}

#[test]
fn the_largest_message_fits_and_anything_longer_is_too_long() {
    let keys = Keys::new(&key_a());
    let long_name = "a".repeat(crate::identity::MAX_USERNAME_LEN);
    let long_node = "n".repeat(MAX_NODE_ID_LEN);
    let env = Envelope {
        from: node(&long_node),
        to: Some(node(&long_node.replace('n', "m"))),
        to_incarnation: u64::MAX,
        incarnation: u64::MAX,
        seq: u64::MAX,
        unix_ms: u64::MAX,
        body: BusBody::ChatData {
            from: user(&long_name),
            to: user(&long_name.replace('a', "b")),
            payload: vec![0x42; MAX_CHAT_PAYLOAD],
        },
    };
    let bytes = env.seal(&keys).expect("the largest message encodes");
    assert!(bytes.len() <= MAX_BUS_MESSAGE);
    assert_eq!(Envelope::open(&keys, &bytes), Ok(env));
    // Over the bound: refused before the tag is even computed, authentic or not.
    let over = vec![0u8; MAX_BUS_MESSAGE + 1];
    assert_eq!(Envelope::open(&keys, &over), Err(BusError::TooLong));
    let authentic = tag_as_bus_message(&key_a(), vec![1; MAX_BUS_MESSAGE - 31]);
    assert_eq!(authentic.len(), MAX_BUS_MESSAGE + 1);
    assert_eq!(Envelope::open(&keys, &authentic), Err(BusError::TooLong));
}

#[test]
fn a_bus_message_and_a_presence_entry_are_not_interchangeable() {
    let keys = Keys::new(&key_a());
    let record = PresenceRecord {
        node: node("n1"),
        incarnation: 5,
        session: 9,
        replaces: 0,
        key: alice_key(),
    };
    let store_key = presence_key(&user("alice"));
    let entry = record.seal(&keys, &store_key).expect("encodes");
    assert_eq!(Envelope::open(&keys, &entry), Err(BusError::BadTag));
    let message = sealed(&envelope(None, 1, BusBody::Heartbeat));
    assert_eq!(
        PresenceRecord::open(&keys, "", &message),
        Err(BusError::BadTag)
    );
}

// ----- the presence record -----

#[test]
fn a_presence_record_round_trips_under_its_own_key_only() {
    let keys = Keys::new(&key_a());
    let record = PresenceRecord {
        node: node("node-2_b"),
        incarnation: 1_768_435_200_123,
        session: 42,
        replaces: 7,
        key: alice_key(),
    };
    let alice = presence_key(&user("alice"));
    let bytes = record.seal(&keys, &alice).expect("encodes");
    assert_eq!(PresenceRecord::open(&keys, &alice, &bytes), Ok(record));
    // The same value under another user's store key: refused.
    let bob = presence_key(&user("bob"));
    assert_eq!(
        PresenceRecord::open(&keys, &bob, &bytes),
        Err(BusError::BadTag)
    );
    // Made with another cluster's key: refused.
    assert_eq!(
        PresenceRecord::open(&Keys::new(&key_b()), &alice, &bytes),
        Err(BusError::BadTag)
    );
    for i in 0..bytes.len() {
        let mut altered = bytes.clone();
        altered[i] ^= 0x20;
        assert_eq!(
            PresenceRecord::open(&keys, &alice, &altered),
            Err(BusError::BadTag),
            "byte {i}"
        );
    }
    assert_eq!(
        PresenceRecord::open(&keys, &alice, &bytes[..bytes.len() - 1]),
        Err(BusError::BadTag)
    );
    assert_eq!(
        PresenceRecord::open(&keys, &alice, &[0; 257]),
        Err(BusError::TooLong)
    );
}

// ----- presence store keys -----

#[test]
fn presence_keys_round_trip_every_kind_of_name() {
    for name in ["alice", "a", "bob.smith-2", "x.", "Z_9-.", &"q".repeat(32)] {
        let u = user(name);
        let key = presence_key(&u);
        assert!(key.starts_with("u."), "{key}");
        // A store key: lowercase hex only after the prefix (no '.' or '-' of the name).
        assert!(
            key[2..]
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
            "{key}"
        );
        assert_eq!(key.len(), 2 + 2 * name.len());
        assert_eq!(user_of_key(&key), Some(u), "{name}");
    }
    assert_eq!(presence_key(&user("a.b")), "u.612e62");
    assert_eq!(presence_key(&user("A-1")), "u.412d31");
}

#[test]
fn other_spellings_of_presence_keys_are_refused() {
    let refused = [
        "",
        "u.",
        "u",
        "x.616c696365",
        "u616c696365",
        "U.616c696365",
        // Upper-case hex: the same name, another key.
        "u.616C696365",
        "u.616c69636",  // odd length
        "u.616c69636g", // not hex
        "u.61 6c",
        "u.+16c",
        "u.2d61",   // "-a": not a valid username
        "u.612f62", // "a/b"
        "u.00",
        &alloc::format!("u.{}", "61".repeat(33)), // too long a name
    ];
    for key in refused {
        assert_eq!(user_of_key(key), None, "{key:?}");
    }
}

// ----- node ids and the key -----

#[test]
fn node_ids_are_subject_tokens() {
    for ok in ["n1", "A", "9", "node_2-b", &"n".repeat(MAX_NODE_ID_LEN)] {
        assert_eq!(
            NodeId::new(ok).map(|n| String::from(n.as_str())),
            Ok(ok.into())
        );
    }
    for bad in [
        "",
        "-n",
        "_n",
        "a.b",
        "a*",
        "a>",
        "a b",
        "é",
        &"n".repeat(MAX_NODE_ID_LEN + 1),
    ] {
        assert_eq!(NodeId::new(bad), Err(NodeIdError), "{bad:?}");
    }
    assert_eq!(node("n1").to_string(), "n1");
}

/// The keyed HMAC states the cluster keeps (and every copy made for one tag) are key
/// material: an `Hmac<Sha256>` is two SHA-256 cores (the inner and outer key blocks
/// absorbed) and a block buffer, and each must wipe itself on drop (the `zeroize`
/// features of sha2 and hmac).
#[test]
fn keyed_hmac_states_are_wiped_on_drop() {
    use hmac::digest::block_api::{Buffer, CoreProxy};
    fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>() {}
    wiped_on_drop::<sha2::block_api::Sha256VarCore>();
    wiped_on_drop::<Buffer<<Hmac<Sha256> as CoreProxy>::Core>>();
}

#[test]
fn the_cluster_key_never_prints_its_bytes() {
    let key = ClusterKey::from_bytes([0xab; 32]);
    let printed = alloc::format!("{key:?} {:?}", ClusterConfig::new(node("n1"), key.clone()));
    assert!(!printed.contains("ab, "), "{printed}");
    assert!(!printed.contains("171"), "{printed}");
    assert!(!printed.to_lowercase().contains("abab"), "{printed}");
    assert!(printed.contains("ClusterKey(..)"), "{printed}");
    // The two derived keys differ from each other and between clusters.
    assert_ne!(key.derive(b"bus message"), key.derive(b"presence entry"));
    assert_ne!(key.derive(b"bus message"), key_b().derive(b"bus message"));
}

#[test]
fn cluster_actions_and_inputs_print_no_payload() {
    let action = ClusterAction::Publish {
        to: Destination::All,
        bytes: vec![0xcd; 10],
    };
    let claim = ClusterAction::Claim {
        claim: ClaimId(1),
        key: "u.61".into(),
        value: vec![0xcd; 10],
        expect: Expect::Absent,
    };
    let input = ClusterInput::Message(vec![0xcd; 10]);
    let printed = alloc::format!("{action:?} {claim:?} {input:?}");
    assert!(!printed.contains("205"), "{printed}");
}

// ----- admitting messages -----

const SKEW: Duration = Duration::from_secs(30);
const WALL: u64 = 1_768_435_200_000;

fn at(secs: u64) -> Instant {
    Instant::from_duration(Duration::from_secs(secs))
}

/// A message from `from` to `to` (`None`: broadcast), of incarnation `inc`, numbered `seq`,
/// stamped `WALL + skew_ms`.
fn msg(from: &str, to: Option<&str>, inc: u64, seq: u64, skew_ms: i64) -> Envelope {
    Envelope {
        from: node(from),
        to: to.map(node),
        // The receiving node of these tests is `me`, incarnation 1.
        to_incarnation: if to.is_some() { 1 } else { 0 },
        incarnation: inc,
        seq,
        unix_ms: WALL.saturating_add_signed(skew_ms),
        body: BusBody::Heartbeat,
    }
}

fn admit(nodes: &mut Nodes, env: &Envelope) -> Result<Admitted, BusError> {
    nodes.admit(env, at(100), WALL, SKEW, 64)
}

#[test]
fn admit_refuses_our_own_and_other_nodes_messages() {
    let mut nodes = Nodes::new(node("me"), 1);
    assert_eq!(
        admit(&mut nodes, &msg("me", None, 1, 1, 0)),
        Err(BusError::FromSelf)
    );
    assert_eq!(
        admit(&mut nodes, &msg("me", Some("me"), 1, 1, 0)),
        Err(BusError::FromSelf)
    );
    assert_eq!(
        admit(&mut nodes, &msg("n2", Some("n3"), 1, 1, 0)),
        Err(BusError::NotForUs)
    );
    // Refusals record nothing: the first real message still joins.
    assert_eq!(nodes.alive().count(), 0);
    assert_eq!(
        admit(&mut nodes, &msg("n2", Some("me"), 1, 1, 0)),
        Ok(Admitted::Joined)
    );
}

#[test]
fn admit_refuses_stale_stamps_both_ways() {
    let mut nodes = Nodes::new(node("me"), 1);
    let skew = i64::try_from(SKEW.as_millis()).expect("small");
    for off in [-skew - 1, skew + 1, -skew * 100, skew * 100] {
        assert_eq!(
            admit(&mut nodes, &msg("n2", None, 1, 1, off)),
            Err(BusError::Stale),
            "{off} ms"
        );
    }
    assert_eq!(
        admit(&mut nodes, &msg("n2", None, 1, 1, -skew)),
        Ok(Admitted::Joined)
    );
    assert_eq!(
        admit(&mut nodes, &msg("n2", None, 1, 2, skew)),
        Ok(Admitted::Known)
    );
    // A stale copy of a newer message does not move the sequence either.
    assert_eq!(
        admit(&mut nodes, &msg("n2", None, 1, 50, skew + 1)),
        Err(BusError::Stale)
    );
    assert_eq!(
        admit(&mut nodes, &msg("n2", None, 1, 3, 0)),
        Ok(Admitted::Known)
    );
}

#[test]
fn admit_refuses_replays_and_older_incarnations() {
    let mut nodes = Nodes::new(node("me"), 1);
    assert_eq!(
        admit(&mut nodes, &msg("n2", Some("me"), 10, 5, 0)),
        Ok(Admitted::Joined)
    );
    // The same sequence number twice, and a lower one.
    assert_eq!(
        admit(&mut nodes, &msg("n2", Some("me"), 10, 5, 0)),
        Err(BusError::Replayed)
    );
    assert_eq!(
        admit(&mut nodes, &msg("n2", Some("me"), 10, 4, 0)),
        Err(BusError::Replayed)
    );
    // Gaps are fine (a message lost on the way).
    assert_eq!(
        admit(&mut nodes, &msg("n2", Some("me"), 10, 9, 0)),
        Ok(Admitted::Known)
    );
    // An older incarnation, whatever its sequence number.
    assert_eq!(
        admit(&mut nodes, &msg("n2", Some("me"), 9, 100, 0)),
        Err(BusError::Replayed)
    );
    assert!(nodes.is_live(&node("n2"), 10));
    assert!(!nodes.is_live(&node("n2"), 9));
}

#[test]
fn admit_keeps_separate_sequences_for_direct_and_broadcast() {
    let mut nodes = Nodes::new(node("me"), 1);
    assert_eq!(
        admit(&mut nodes, &msg("n2", None, 10, 7, 0)),
        Ok(Admitted::Joined)
    );
    // Direct seq 1 after broadcast seq 7: another link, admitted.
    assert_eq!(
        admit(&mut nodes, &msg("n2", Some("me"), 10, 1, 0)),
        Ok(Admitted::Known)
    );
    assert_eq!(
        admit(&mut nodes, &msg("n2", Some("me"), 10, 1, 0)),
        Err(BusError::Replayed)
    );
    assert_eq!(
        admit(&mut nodes, &msg("n2", None, 10, 7, 0)),
        Err(BusError::Replayed)
    );
    assert_eq!(
        admit(&mut nodes, &msg("n2", None, 10, 8, 0)),
        Ok(Admitted::Known)
    );
    assert_eq!(
        admit(&mut nodes, &msg("n2", Some("me"), 10, 2, 0)),
        Ok(Admitted::Known)
    );
    // The first message of a node may be a direct one; its broadcast sequence starts fresh.
    assert_eq!(
        admit(&mut nodes, &msg("n3", Some("me"), 1, 4, 0)),
        Ok(Admitted::Joined)
    );
    assert_eq!(
        admit(&mut nodes, &msg("n3", None, 1, 1, 0)),
        Ok(Admitted::Known)
    );
}

#[test]
fn admit_sees_a_restart_and_forgets_the_old_sequences() {
    let mut nodes = Nodes::new(node("me"), 1);
    assert_eq!(
        admit(&mut nodes, &msg("n2", None, 10, 50, 0)),
        Ok(Admitted::Joined)
    );
    assert_eq!(
        admit(&mut nodes, &msg("n2", Some("me"), 10, 50, 0)),
        Ok(Admitted::Known)
    );
    assert_eq!(
        admit(&mut nodes, &msg("n2", None, 11, 1, 0)),
        Ok(Admitted::Restarted)
    );
    assert!(nodes.is_live(&node("n2"), 11));
    assert!(!nodes.is_live(&node("n2"), 10));
    // The new run numbers its direct link from 1 too.
    assert_eq!(
        admit(&mut nodes, &msg("n2", Some("me"), 11, 1, 0)),
        Ok(Admitted::Known)
    );
    // The old run is over.
    assert_eq!(
        admit(&mut nodes, &msg("n2", Some("me"), 10, 51, 0)),
        Err(BusError::Replayed)
    );
}

#[test]
fn a_silent_node_expires_and_joins_again_when_heard() {
    let mut nodes = Nodes::new(node("me"), 1);
    let timeout = Duration::from_secs(10);
    assert_eq!(
        nodes.admit(&msg("n2", None, 10, 1, 0), at(0), WALL, SKEW, 64),
        Ok(Admitted::Joined)
    );
    assert_eq!(nodes.next_expiry(timeout), Some(at(10)));
    assert!(nodes.expire(at(9), timeout).is_empty());
    assert_eq!(nodes.expire(at(10), timeout), [node("n2")]);
    assert!(nodes.expire(at(20), timeout).is_empty(), "expired once");
    assert_eq!(nodes.next_expiry(timeout), None);
    assert!(!nodes.is_live(&node("n2"), 10));
    // Its earlier messages stay replays; a new one brings it back.
    assert_eq!(
        nodes.admit(&msg("n2", None, 10, 1, 0), at(21), WALL, SKEW, 64),
        Err(BusError::Replayed)
    );
    assert_eq!(
        nodes.admit(&msg("n2", None, 10, 2, 0), at(21), WALL, SKEW, 64),
        Ok(Admitted::Joined)
    );
    assert!(nodes.is_live(&node("n2"), 10));
    assert_eq!(nodes.next_expiry(timeout), Some(at(31)));
    // A node back with a new run after it was declared dead has joined, not restarted.
    assert_eq!(nodes.expire(at(31), timeout), [node("n2")]);
    assert_eq!(
        nodes.admit(&msg("n2", None, 11, 1, 0), at(40), WALL, SKEW, 64),
        Ok(Admitted::Joined)
    );
}

#[test]
fn a_departed_node_stays_gone_until_it_restarts() {
    let mut nodes = Nodes::new(node("me"), 1);
    assert_eq!(
        admit(&mut nodes, &msg("n2", None, 10, 1, 0)),
        Ok(Admitted::Joined)
    );
    nodes.depart(&node("n2"));
    assert_eq!(nodes.alive().count(), 0);
    for seq in [2, 1_000, u64::MAX] {
        assert_eq!(
            admit(&mut nodes, &msg("n2", Some("me"), 10, seq, 0)),
            Err(BusError::Replayed)
        );
    }
    assert_eq!(
        admit(&mut nodes, &msg("n2", None, 11, 1, 0)),
        Ok(Admitted::Joined)
    );
}

#[test]
fn losing_the_bus_loses_every_node_once() {
    let mut nodes = Nodes::new(node("me"), 1);
    for n in ["n2", "n3"] {
        assert_eq!(
            admit(&mut nodes, &msg(n, None, 1, 1, 0)),
            Ok(Admitted::Joined)
        );
    }
    assert_eq!(nodes.lose_all(), [node("n2"), node("n3")]);
    assert!(nodes.lose_all().is_empty());
    assert_eq!(
        admit(&mut nodes, &msg("n3", None, 1, 2, 0)),
        Ok(Admitted::Joined)
    );
    assert_eq!(nodes.alive().cloned().collect::<Vec<_>>(), [node("n3")]);
}

#[test]
fn admit_bounds_the_nodes_tracked() {
    let mut nodes = Nodes::new(node("me"), 1);
    for n in ["n2", "n3"] {
        assert_eq!(
            nodes.admit(&msg(n, None, 1, 1, 0), at(0), WALL, SKEW, 2),
            Ok(Admitted::Joined)
        );
    }
    assert_eq!(
        nodes.admit(&msg("n4", None, 1, 1, 0), at(0), WALL, SKEW, 2),
        Err(BusError::TooManyNodes)
    );
    assert_eq!(
        nodes.admit(&msg("n2", None, 1, 2, 0), at(0), WALL, SKEW, 2),
        Ok(Admitted::Known)
    );
}

#[test]
fn outgoing_sequences_count_per_link() {
    let mut nodes = Nodes::new(node("me"), 77);
    assert_eq!(nodes.incarnation(), 77);
    assert_eq!(nodes.me(), &node("me"));
    assert_eq!(nodes.next_seq(None), 1);
    assert_eq!(nodes.next_seq(Some(&node("n2"))), 1);
    assert_eq!(nodes.next_seq(None), 2);
    assert_eq!(nodes.next_seq(Some(&node("n3"))), 1);
    assert_eq!(nodes.next_seq(Some(&node("n2"))), 2);
}

// ----- the presence mirror -----

fn record(n: &str, session: u64) -> PresenceRecord {
    PresenceRecord {
        node: node(n),
        incarnation: 1,
        session,
        replaces: 0,
        key: alice_key(),
    }
}

#[test]
fn the_mirror_keeps_the_newest_revision_and_remembers_deletions() {
    let mut mirror = PresenceMirror::default();
    let alice = user("alice");
    assert_eq!(
        mirror.apply(&alice, 5, Some(record("n1", 1)), 10),
        Applied::Changed
    );
    assert_eq!(
        mirror.apply(&alice, 4, Some(record("n2", 2)), 10),
        Applied::Ignored
    );
    assert_eq!(
        mirror.apply(&alice, 5, Some(record("n2", 2)), 10),
        Applied::Ignored
    );
    assert_eq!(mirror.get(&alice).map(|r| r.revision), Some(5));
    assert_eq!(mirror.apply(&alice, 6, None, 10), Applied::Changed);
    assert_eq!(mirror.get(&alice), None);
    // A late update from before the deletion cannot bring the entry back.
    assert_eq!(
        mirror.apply(&alice, 5, Some(record("n1", 1)), 10),
        Applied::Ignored
    );
    assert_eq!(mirror.iter().count(), 0);
    assert_eq!(
        mirror.apply(&alice, 7, Some(record("n3", 3)), 10),
        Applied::Changed
    );
    assert_eq!(mirror.get(&alice).map(|r| r.node.clone()), Some(node("n3")));
}

#[test]
fn the_mirror_is_bounded() {
    let mut mirror = PresenceMirror::default();
    assert_eq!(
        mirror.apply(&user("alice"), 1, Some(record("n1", 1)), 1),
        Applied::Changed
    );
    assert_eq!(
        mirror.apply(&user("bob"), 2, Some(record("n1", 2)), 1),
        Applied::Ignored
    );
    // Known users still update.
    assert_eq!(
        mirror.apply(&user("alice"), 3, Some(record("n2", 3)), 1),
        Applied::Changed
    );
    let names: Vec<&str> = mirror.iter().map(|(u, _)| u.as_str()).collect();
    assert_eq!(names, ["alice"]);
}

// ----- never a panic -----

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn opening_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let keys = Keys::new(&key_a());
        prop_assert!(Envelope::open(&keys, &bytes).is_err());
        let _ = PresenceRecord::open(&keys, "u.61", &bytes);
        let _ = user_of_key(&String::from_utf8_lossy(&bytes));
    }

    /// Arbitrary bodies under the right key get past the tag: the parser sees them all.
    #[test]
    fn opening_arbitrary_authentic_bodies_never_panics(
        body in proptest::collection::vec(any::<u8>(), 0..400),
        kind in 0u8..12,
    ) {
        let keys = Keys::new(&key_a());
        let mut framed = vec![1, kind];
        framed.extend_from_slice(&body);
        for candidate in [body, framed] {
            let bytes = tag_as_bus_message(&key_a(), candidate);
            match Envelope::open(&keys, &bytes) {
                Ok(env) => {
                    // Whatever parses seals back to the very same bytes.
                    prop_assert_eq!(env.seal(&keys).expect("a parsed message encodes"), bytes);
                }
                Err(e) => prop_assert!(matches!(e, BusError::Malformed(_)), "{:?}", e),
            }
        }
    }

    /// A well-formed envelope with arbitrary fields always round-trips.
    #[test]
    fn envelopes_with_arbitrary_fields_round_trip(
        inc in any::<u64>(),
        seq in any::<u64>(),
        unix_ms in any::<u64>(),
        to in proptest::option::of("[a-z0-9][a-z0-9_-]{0,31}"),
        payload in proptest::collection::vec(any::<u8>(), 1..200),
        which in 0usize..11,
    ) {
        let keys = Keys::new(&key_a());
        let mut body = every_body().swap_remove(which);
        if let BusBody::ChatData { payload: p, .. } = &mut body {
            *p = payload;
        }
        let env = Envelope {
            from: node("n1"),
            to: to.as_deref().map(node),
            to_incarnation: inc ^ 1,
            incarnation: inc,
            seq,
            unix_ms,
            body,
        };
        let bytes = env.seal(&keys).expect("encodes");
        prop_assert_eq!(Envelope::open(&keys, &bytes), Ok(env));
    }
}
