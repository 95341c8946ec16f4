//! A malicious relay inside the simulation: it flips bits in, drops, duplicates, reorders,
//! reflects and injects chat records, and substitutes public keys. The clients must detect
//! every case, and never show forged or altered text as genuine.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use super::*;
use crate::chat::KeyStatus;
use crate::chat::messages::{CHAT_RECORD, CHAT_RECORD_HEADER_LEN};
use crate::client::ChatEndReason;
use crate::identity::{Identity, PublicKey};
use crate::testkit::TestRng;
use crate::testkit::adversary::Adversary;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Attack {
    FlipBit,
    Drop,
    Duplicate,
    Reorder,
    Reflect,
    Inject,
    ReplayOld,
    /// Replaces the record's ratchet key with another valid X25519 key.
    ChangeRatchetKey,
}

/// Attacks the `nth` chat record (counting records only, not handshake messages).
struct Tamper {
    attack: Attack,
    nth: usize,
    seen: usize,
    held: Option<Vec<u8>>,
    first: Option<Vec<u8>>,
}

impl Adversary for Tamper {
    fn chat_data(
        &mut self,
        from: &Username,
        to: &Username,
        payload: Vec<u8>,
    ) -> Vec<(Username, Vec<u8>)> {
        let deliver = |p: Vec<u8>| vec![(to.clone(), p)];
        if payload.first() != Some(&CHAT_RECORD) {
            return deliver(payload);
        }
        let index = self.seen;
        self.seen += 1;
        if self.first.is_none() {
            self.first = Some(payload.clone());
        }
        if index == self.nth + 1
            && let Some(held) = self.held.take()
        {
            return vec![(to.clone(), payload), (to.clone(), held)];
        }
        if index != self.nth {
            return deliver(payload);
        }
        match self.attack {
            Attack::FlipBit => {
                let mut p = payload;
                let last = p.len() - 1;
                p[last / 2] ^= 0x20;
                deliver(p)
            }
            Attack::Drop => Vec::new(),
            Attack::Duplicate => vec![(to.clone(), payload.clone()), (to.clone(), payload)],
            Attack::Reorder => {
                self.held = Some(payload);
                Vec::new()
            }
            Attack::Reflect => vec![(from.clone(), payload)],
            Attack::Inject => {
                let mut forged = payload.clone();
                // Same header, new ciphertext: what a relay without the keys can do.
                for b in forged.iter_mut().skip(CHAT_RECORD_HEADER_LEN) {
                    *b = b.wrapping_mul(31).wrapping_add(7);
                }
                vec![(to.clone(), forged), (to.clone(), payload)]
            }
            Attack::ReplayOld => {
                let old = self.first.clone().unwrap_or_default();
                vec![(to.clone(), old)]
            }
            Attack::ChangeRatchetKey => {
                let mut p = payload;
                let stranger = crate::crypto::X25519KeyPair::generate(&mut TestRng::new(77));
                if let Some(key) = p.get_mut(1..33) {
                    key.copy_from_slice(stranger.public());
                }
                deliver(p)
            }
        }
    }
}

/// Hands out Mallory's key for one user.
struct SubstituteKey {
    victim: Username,
    fake: PublicKey,
}

impl Adversary for SubstituteKey {
    fn chat_data(&mut self, _: &Username, to: &Username, p: Vec<u8>) -> Vec<(Username, Vec<u8>)> {
        vec![(to.clone(), p)]
    }
    fn key_for(&mut self, user: &Username, key: PublicKey) -> PublicKey {
        if *user == self.victim { self.fake } else { key }
    }
}

fn security_failure(events: &[ClientEvent]) -> bool {
    events.iter().any(|e| {
        matches!(
            e,
            ClientEvent::ChatEnded {
                reason: ChatEndReason::Security(_),
                ..
            }
        )
    })
}

/// Who speaks, in order: alice, then bob (both make ratchet keys), then alice four times.
/// Record 2 is alice's second ratchet step, record 3 a record under the same key.
const SPEAKERS: [&str; 6] = ["alice", "bob", "alice", "alice", "alice", "alice"];

#[test]
fn malicious_relay_tampering_is_always_detected() {
    for nth in [2, 3] {
        for attack in [
            Attack::FlipBit,
            Attack::Drop,
            Attack::Duplicate,
            Attack::Reorder,
            Attack::Reflect,
            Attack::Inject,
            Attack::ReplayOld,
            Attack::ChangeRatchetKey,
        ] {
            tampering_is_detected(attack, nth);
        }
    }
}

fn tampering_is_detected(attack: Attack, nth: usize) {
    let what = alloc::format!("{attack:?} on record {nth}");
    let mut sim = World::with_users(&["alice", "bob"]);
    sim.relay.interfere(Tamper {
        attack,
        nth,
        seen: 0,
        held: None,
        first: None,
    });
    sim.chat("alice", "bob");
    // What each side means to say (0: alice, 1: bob); a side stops once its chat ended.
    let mut sent: [Vec<String>; 2] = [Vec::new(), Vec::new()];
    for (i, speaker) in SPEAKERS.iter().enumerate() {
        let (me, peer) = if *speaker == "alice" {
            (0, "bob")
        } else {
            (1, "alice")
        };
        let text = alloc::format!("message {i}");
        if sim.client(speaker).status() == crate::client::ChatStatus::Chatting(name(peer)) {
            sim.say(speaker, &text);
        }
        sent[me].push(text);
    }
    let (ea, eb) = (sim.events("alice"), sim.events("bob"));
    // Whatever each side was shown is exactly the start of what the other sent, in order.
    let shown = |events: &[ClientEvent]| -> Vec<String> {
        World::messages(events)
            .into_iter()
            .map(|(_, t)| t)
            .collect()
    };
    let (to_bob, to_alice) = (shown(&eb), shown(&ea));
    assert!(
        sent[0].starts_with(&to_bob),
        "{what}: bob was shown {to_bob:?}"
    );
    assert!(
        sent[1].starts_with(&to_alice),
        "{what}: alice was shown {to_alice:?}"
    );
    assert!(
        to_bob.len() < sent[0].len(),
        "{what}: went unnoticed: alice {ea:?} bob {eb:?}"
    );
    assert!(
        security_failure(&ea) || security_failure(&eb),
        "{what}: no security failure reported: alice {ea:?} bob {eb:?}"
    );
    // The relay stops; a fresh chat between the same users works.
    sim.relay.stop_interfering();
    sim.pump();
    assert_eq!(sim.relay.chat_peer(&name("alice")), None, "{what}");
    sim.chat("alice", "bob");
    sim.say("bob", "again");
    assert_eq!(
        World::messages(&sim.events("alice")),
        [("bob".into(), "again".into())],
        "{what}"
    );
}

#[test]
fn tampered_chat_handshake_is_detected() {
    struct FlipHandshake(usize);
    impl Adversary for FlipHandshake {
        fn chat_data(
            &mut self,
            _: &Username,
            to: &Username,
            mut p: Vec<u8>,
        ) -> Vec<(Username, Vec<u8>)> {
            if p.first() == Some(&(self.0 as u8)) {
                let at = p.len() - 3;
                p[at] ^= 1;
            }
            vec![(to.clone(), p)]
        }
    }
    for message in [1usize, 2, 3] {
        let mut sim = World::with_users(&["alice", "bob"]);
        sim.relay.interfere(FlipHandshake(message));
        sim.act("alice", |c, now, rng| {
            c.request_chat(now, &name("bob"), rng)
        })
        .unwrap();
        sim.act("bob", |c, now, rng| c.accept(now, rng)).unwrap();
        let (ea, eb) = (sim.events("alice"), sim.events("bob"));
        assert!(
            security_failure(&ea) || security_failure(&eb),
            "message {message}: {ea:?} {eb:?}"
        );
        let established = |e: &[ClientEvent]| {
            e.iter()
                .any(|e| matches!(e, ClientEvent::ChatEstablished { .. }))
        };
        // The responder may not see the failure before the initiator's confirm; but no
        // side may end up chatting over a tampered handshake.
        assert!(!(established(&ea) && established(&eb)), "message {message}");
        assert!(!matches!(
            sim.client("bob").status(),
            crate::client::ChatStatus::Chatting(_)
        ));
    }
}

#[test]
fn substituted_public_key_is_caught() {
    let mallory = Identity::from_seed(&[0x66; 32]).public_key();
    // First contact: the relay lies about Bob's key. Bob's signature cannot verify.
    let mut sim = World::with_users(&["alice", "bob"]);
    sim.relay.interfere(SubstituteKey {
        victim: name("bob"),
        fake: mallory,
    });
    sim.act("alice", |c, now, rng| {
        c.request_chat(now, &name("bob"), rng)
    })
    .unwrap();
    sim.act("bob", |c, now, rng| c.accept(now, rng)).unwrap();
    assert!(security_failure(&sim.events("alice")));

    // Known contact: after a genuine chat, a substituted key raises a loud key-change
    // warning and the chat is refused before any handshake.
    let mut sim = World::with_users(&["alice", "bob"]);
    sim.chat("alice", "bob");
    sim.act("alice", |c, now, _| c.leave_chat(now)).unwrap();
    let _ = (sim.events("alice"), sim.events("bob"));
    sim.relay.interfere(SubstituteKey {
        victim: name("bob"),
        fake: mallory,
    });
    sim.act("alice", |c, now, rng| {
        c.request_chat(now, &name("bob"), rng)
    })
    .unwrap();
    sim.act("bob", |c, now, rng| c.accept(now, rng)).unwrap();
    let ea = sim.events("alice");
    assert!(
        ea.iter().any(|e| matches!(
            e,
            ClientEvent::KeyChanged { user, current, .. }
                if user.as_str() == "bob" && *current == mallory.fingerprint()
        )),
        "{ea:?}"
    );
    assert!(ea.iter().any(|e| matches!(
        e,
        ClientEvent::ChatEnded {
            reason: ChatEndReason::KeyChanged,
            ..
        }
    )));
    // And in the other direction: Bob is asked by "Alice" with a changed key.
    sim.relay.interfere(SubstituteKey {
        victim: name("alice"),
        fake: mallory,
    });
    sim.act("alice", |c, now, rng| {
        c.request_chat(now, &name("bob"), rng)
    })
    .unwrap();
    let eb = sim.events("bob");
    assert!(
        eb.iter()
            .any(|e| matches!(e, ClientEvent::KeyChanged { .. })),
        "{eb:?}"
    );
    assert!(eb.iter().any(|e| matches!(
        e,
        ClientEvent::AutoRefused {
            reason: crate::client::AutoRefusal::KeyChanged,
            ..
        }
    )));
}

#[test]
fn a_request_forged_by_the_relay_with_the_genuine_key_never_becomes_a_chat() {
    let mut sim = World::with_users(&["alice", "bob"]);
    let (alice, now) = (sim.conn("alice"), sim.now);
    // The relay, not alice, asks bob in her name and with her genuine key.
    sim.relay.forge_request(alice, &name("bob"), now);
    sim.pump();
    assert!(sim.events("bob").iter().any(|e| matches!(
        e,
        ClientEvent::IncomingRequest { from, .. } if from.as_str() == "alice"
    )));
    sim.act("bob", |c, now, rng| c.accept(now, rng)).unwrap();
    // Alice asked nothing: she leaves the chat the relay opened, and starts no chat
    // handshake, which the relay cannot make in her name. Bob's chat never starts.
    let ea = sim.events("alice");
    assert!(
        !ea.iter().any(|e| matches!(
            e,
            ClientEvent::RequestAccepted { .. } | ClientEvent::ChatEstablished { .. }
        )),
        "{ea:?}"
    );
    let eb = sim.events("bob");
    assert!(
        !eb.iter()
            .any(|e| matches!(e, ClientEvent::ChatEstablished { .. })),
        "{eb:?}"
    );
    assert!(
        eb.iter()
            .any(|e| matches!(e, ClientEvent::ChatEnded { .. })),
        "{eb:?}"
    );
    assert_ne!(
        sim.client("bob").status(),
        crate::client::ChatStatus::Chatting(name("alice"))
    );
    // Nothing is left behind: a genuine chat between them works.
    sim.wait(Duration::from_secs(60));
    let _ = (sim.events("alice"), sim.events("bob"));
    sim.chat("alice", "bob");
    sim.say("alice", "genuine");
    assert_eq!(
        World::messages(&sim.events("bob")),
        [("alice".into(), "genuine".into())]
    );
}

/// Withholds every chat record from one user: the relay cutting off the end of a chat.
struct Withhold {
    from: Username,
}

impl Adversary for Withhold {
    fn chat_data(
        &mut self,
        from: &Username,
        to: &Username,
        p: Vec<u8>,
    ) -> Vec<(Username, Vec<u8>)> {
        if *from == self.from {
            Vec::new()
        } else {
            vec![(to.clone(), p)]
        }
    }
}

#[test]
fn a_withheld_close_record_ends_the_chat_as_peer_gone_never_as_closed() {
    for withhold in [false, true] {
        let mut sim = World::with_users(&["alice", "bob"]);
        sim.chat("alice", "bob");
        sim.say("alice", "first");
        if withhold {
            // Alice's last text and the close record her leaving seals never reach bob;
            // the relay still tells him she left.
            sim.relay.interfere(Withhold {
                from: name("alice"),
            });
        }
        sim.say("alice", "last");
        sim.act("alice", |c, now, _| c.leave_chat(now)).unwrap();
        let eb = sim.events("bob");
        let shown: Vec<String> = World::messages(&eb).into_iter().map(|(_, t)| t).collect();
        let ended: Vec<&ChatEndReason> = eb
            .iter()
            .filter_map(|e| match e {
                ClientEvent::ChatEnded { reason, .. } => Some(reason),
                _ => None,
            })
            .collect();
        if withhold {
            // Told that the end may be missing, not that alice closed the chat.
            assert_eq!(shown, ["first"]);
            assert_eq!(
                ended,
                [&ChatEndReason::PeerGone(crate::command::GoneReason::LEFT)],
                "{eb:?}"
            );
        } else {
            assert_eq!(shown, ["first", "last"]);
            assert_eq!(ended, [&ChatEndReason::PeerClosed], "{eb:?}");
        }
        assert_eq!(sim.client("bob").status(), crate::client::ChatStatus::Idle);
    }
}

#[test]
fn a_key_the_relay_hands_out_in_a_lookup_or_a_list_is_compared_with_the_remembered_one() {
    let mallory = Identity::from_seed(&[0x66; 32]).public_key();
    let mut sim = World::with_users(&["alice", "bob", "carol"]);
    let status_of = |sim: &mut World, user: &str| {
        let who = name(user);
        sim.act("alice", |c, now, _| c.get_public_key(now, &who))
            .unwrap();
        let events = sim.events("alice");
        let found = events.iter().find_map(|e| match e {
            ClientEvent::PublicKey {
                user,
                key,
                key_status,
            } if user.as_str() == who.as_str() => Some((*key, *key_status)),
            _ => None,
        });
        found.unwrap_or_else(|| panic!("no key for {who}: {events:?}"))
    };
    let bob = status_of(&mut sim, "bob").0;
    // Never in a chat: first seen, and looking it up remembers nothing.
    assert_eq!(status_of(&mut sim, "bob").1, KeyStatus::FirstSeen);
    sim.chat("alice", "bob");
    assert_eq!(status_of(&mut sim, "bob"), (bob, KeyStatus::Known));
    assert_eq!(status_of(&mut sim, "carol").1, KeyStatus::FirstSeen);
    // In a user list too: bob known, carol first seen.
    let listed = |sim: &mut World| {
        sim.act("alice", |c, now, _| c.list_users(now)).unwrap();
        let events = sim.events("alice");
        let users = events.iter().find_map(|e| match e {
            ClientEvent::Users { users, .. } => Some(users.clone()),
            _ => None,
        });
        let users = users.unwrap_or_else(|| panic!("no user list: {events:?}"));
        users
            .into_iter()
            .map(|u| {
                (
                    String::from(u.username.as_str()),
                    u.fingerprint,
                    u.key_status,
                )
            })
            .collect::<Vec<_>>()
    };
    let bob_fp = bob.fingerprint();
    assert_eq!(
        listed(&mut sim)[1..],
        [
            (String::from("bob"), bob_fp, KeyStatus::Known),
            (
                String::from("carol"),
                status_of(&mut sim, "carol").0.fingerprint(),
                KeyStatus::FirstSeen
            ),
        ]
    );
    // The relay hands out mallory's key for bob: flagged, with the key alice knew, in a
    // lookup and in a list.
    sim.relay.interfere(SubstituteKey {
        victim: name("bob"),
        fake: mallory,
    });
    let changed = KeyStatus::Changed {
        previous: bob,
        verified: false,
    };
    assert_eq!(
        listed(&mut sim)[1],
        (String::from("bob"), mallory.fingerprint(), changed)
    );
    assert_eq!(
        status_of(&mut sim, "bob"),
        (
            mallory,
            KeyStatus::Changed {
                previous: bob,
                verified: false
            }
        )
    );
}
