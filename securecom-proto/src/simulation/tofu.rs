//! Trust on first use, after proof: keys enter the known-keys store only once a chat
//! handshake with them completed; a relay's forged requests, failed handshakes and a
//! first-contact man in the middle are each shown for what they are.

use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;

use super::*;
use crate::chat::messages::{CHAT_CONFIRM, CHAT_HELLO, CHAT_REPLY};
use crate::chat::{
    ChatInitiator, ChatResponder, ChatSession, KeyStatus, PreparedInitiator,
    ResponderAwaitingConfirm, SafetyNumber,
};
use crate::client::{AutoRefusal, ChatEndReason};
use crate::identity::{Fingerprint, Identity, PublicKey};
use crate::testkit::adversary::Adversary;
use crate::testkit::fixtures;

fn key_of(user: &str) -> PublicKey {
    fixtures::user(user).1.public_key()
}

fn mallory() -> Identity {
    Identity::from_seed(&[0x66; 32])
}

/// Hands out Mallory's key for `victim` and forwards chat data untouched (Mallory cannot
/// answer a handshake for the key it names).
struct PlantKey {
    victim: Username,
    fake: PublicKey,
}

impl Adversary for PlantKey {
    fn chat_data(&mut self, _: &Username, to: &Username, p: Vec<u8>) -> Vec<(Username, Vec<u8>)> {
        vec![(to.clone(), p)]
    }
    fn key_for(&mut self, user: &Username, key: PublicKey) -> PublicKey {
        if *user == self.victim { self.fake } else { key }
    }
}

/// A relay in the middle of a first contact: it hands each side Mallory's key for the
/// other and runs one chat handshake with each, as the other.
struct Mitm {
    identity: Identity,
    real: BTreeMap<Username, PublicKey>,
    rng: TestRng,
    /// Facing the initiator, as the responder.
    facing_initiator: Option<ResponderAwaitingConfirm>,
    /// Facing the responder, as the initiator.
    facing_responder: Option<ChatInitiator>,
    /// Mallory's two chats: with the initiator, with the responder.
    sessions: Vec<ChatSession>,
}

impl Adversary for Mitm {
    fn chat_data(
        &mut self,
        from: &Username,
        to: &Username,
        payload: Vec<u8>,
    ) -> Vec<(Username, Vec<u8>)> {
        let mine = self.identity.public_key();
        let (Some(from_key), Some(to_key)) = (self.real.get(from), self.real.get(to)) else {
            return Vec::new();
        };
        match payload.first().copied() {
            Some(CHAT_HELLO) => {
                // As `to` toward the initiator, as `from` toward the responder.
                let responder = ChatResponder::new((to, mine), (from, *from_key), &mut self.rng);
                let (awaiting, reply) = responder.handle_hello(&self.identity, &payload).unwrap();
                self.facing_initiator = Some(awaiting);
                let prepared = PreparedInitiator::new(&mut self.rng);
                let (initiator, hello) = prepared.start((from, mine), (to, *to_key));
                self.facing_responder = Some(initiator);
                vec![(from.clone(), reply), (to.clone(), hello)]
            }
            Some(CHAT_REPLY) => {
                let initiator = self.facing_responder.take().unwrap();
                let (session, confirm) = initiator.handle_reply(&self.identity, &payload).unwrap();
                self.sessions.push(session);
                vec![(from.clone(), confirm)]
            }
            Some(CHAT_CONFIRM) => {
                let awaiting = self.facing_initiator.take().unwrap();
                self.sessions
                    .push(awaiting.handle_confirm(&payload).unwrap());
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn key_for(&mut self, user: &Username, key: PublicKey) -> PublicKey {
        self.real.insert(user.clone(), key);
        self.identity.public_key()
    }
}

fn established(events: &[ClientEvent]) -> Option<(SafetyNumber, KeyStatus)> {
    events.iter().find_map(|e| match e {
        ClientEvent::ChatEstablished {
            safety_number,
            key_status,
            ..
        } => Some((*safety_number, *key_status)),
        _ => None,
    })
}

fn incoming(events: &[ClientEvent]) -> Option<(Fingerprint, KeyStatus)> {
    events.iter().find_map(|e| match e {
        ClientEvent::IncomingRequest {
            fingerprint,
            key_status,
            ..
        } => Some((*fingerprint, *key_status)),
        _ => None,
    })
}

#[test]
fn a_forged_request_then_withdrawn_leaves_the_known_keys_unchanged() {
    let fake = mallory().public_key();
    let mut sim = World::with_users(&["alice", "bob"]);
    sim.relay.interfere(PlantKey {
        victim: name("alice"),
        fake,
    });
    sim.act("alice", |c, now, rng| {
        c.request_chat(now, &name("bob"), rng)
    })
    .unwrap();
    assert_eq!(
        incoming(&sim.events("bob")),
        Some((fake.fingerprint(), KeyStatus::FirstSeen))
    );
    sim.act("alice", |c, now, _| c.withdraw_request(now))
        .unwrap();
    let eb = sim.events("bob");
    assert!(
        eb.iter()
            .any(|e| matches!(e, ClientEvent::RequestWithdrawn { .. })),
        "{eb:?}"
    );
    // Nothing was stored: neither the planted key nor anything else.
    let bob = sim.client("bob");
    assert_eq!(bob.key_status(&name("alice"), &fake), KeyStatus::FirstSeen);
    assert_eq!(
        bob.key_status(&name("alice"), &key_of("alice")),
        KeyStatus::FirstSeen
    );

    // The genuine first chat is first seen on both sides, not known and not changed.
    sim.relay.stop_interfering();
    sim.act("alice", |c, now, rng| {
        c.request_chat(now, &name("bob"), rng)
    })
    .unwrap();
    assert_eq!(
        incoming(&sim.events("bob")),
        Some((key_of("alice").fingerprint(), KeyStatus::FirstSeen))
    );
    sim.act("bob", |c, now, rng| c.accept(now, rng)).unwrap();
    let (ea, eb) = (sim.events("alice"), sim.events("bob"));
    assert!(
        ea.iter().any(|e| matches!(
            e,
            ClientEvent::RequestAccepted { key_status: KeyStatus::FirstSeen, fingerprint, .. }
                if *fingerprint == key_of("bob").fingerprint()
        )),
        "{ea:?}"
    );
    assert_eq!(established(&ea).map(|e| e.1), Some(KeyStatus::FirstSeen));
    assert_eq!(established(&eb).map(|e| e.1), Some(KeyStatus::FirstSeen));
    // Now, and only now, remembered.
    let known = |sim: &mut World, who: &str, whom: &str| {
        sim.client(who).key_status(&name(whom), &key_of(whom))
    };
    assert_eq!(known(&mut sim, "bob", "alice"), KeyStatus::Known);
    assert_eq!(known(&mut sim, "alice", "bob"), KeyStatus::Known);
}

#[test]
fn keys_from_failed_handshakes_are_never_stored() {
    let fake = mallory().public_key();
    for victim in ["alice", "bob"] {
        let mut sim = World::with_users(&["alice", "bob"]);
        sim.relay.interfere(PlantKey {
            victim: name(victim),
            fake,
        });
        sim.act("alice", |c, now, rng| {
            c.request_chat(now, &name("bob"), rng)
        })
        .unwrap();
        sim.act("bob", |c, now, rng| c.accept(now, rng)).unwrap();
        let (ea, eb) = (sim.events("alice"), sim.events("bob"));
        assert!(
            established(&ea).is_none() && established(&eb).is_none(),
            "{victim}"
        );
        for (who, whom) in [("alice", "bob"), ("bob", "alice")] {
            let client = sim.client(who);
            assert_eq!(client.key_status(&name(whom), &fake), KeyStatus::FirstSeen);
            assert_eq!(
                client.key_status(&name(whom), &key_of(whom)),
                KeyStatus::FirstSeen,
                "{victim}: {who} stored a key for {whom}"
            );
        }
    }
}

#[test]
fn a_first_contact_man_in_the_middle_is_first_seen_unverified_with_different_safety_numbers() {
    let mut sim = World::with_users(&["alice", "bob"]);
    sim.relay.interfere(Mitm {
        identity: mallory(),
        real: BTreeMap::new(),
        rng: TestRng::new(7),
        facing_initiator: None,
        facing_responder: None,
        sessions: Vec::new(),
    });
    sim.act("alice", |c, now, rng| {
        c.request_chat(now, &name("bob"), rng)
    })
    .unwrap();
    let fake = mallory().public_key().fingerprint();
    assert_eq!(
        incoming(&sim.events("bob")),
        Some((fake, KeyStatus::FirstSeen))
    );
    sim.act("bob", |c, now, rng| c.accept(now, rng)).unwrap();
    let (ea, eb) = (sim.events("alice"), sim.events("bob"));
    let (sa, status_a) = established(&ea).unwrap();
    let (sb, status_b) = established(&eb).unwrap();
    assert_eq!(
        (status_a, status_b),
        (KeyStatus::FirstSeen, KeyStatus::FirstSeen)
    );
    assert!(!status_a.is_verified() && !status_b.is_verified());
    // Comparing the safety numbers (and /verify only when they match) is what catches it.
    assert_ne!(sa, sb, "the safety numbers differ");
    let fake = mallory().public_key();
    assert_eq!(
        sim.client("alice").key_status(&name("bob"), &fake),
        KeyStatus::Known
    );
    assert_eq!(
        sim.client("bob").key_status(&name("alice"), &fake),
        KeyStatus::Known
    );
}

#[test]
fn verify_marks_the_peer_and_a_later_change_is_a_loud_refusal_until_trusted() {
    let mut sim = World::with_users(&["alice", "bob"]);
    // Verifying needs an established chat.
    assert!(matches!(
        sim.client("alice").verify_peer(),
        Err(ClientError::Misuse(_))
    ));
    sim.chat("alice", "bob");
    sim.client("alice").verify_peer().unwrap();
    let ea = sim.events("alice");
    assert!(
        ea.iter().any(|e| matches!(
            e,
            ClientEvent::KeyVerified { user, fingerprint }
                if user.as_str() == "bob" && *fingerprint == key_of("bob").fingerprint()
        )),
        "{ea:?}"
    );
    sim.act("alice", |c, now, _| c.leave_chat(now)).unwrap();
    let _ = (sim.events("alice"), sim.events("bob"));

    // The next chat reports the verified key on Alice's side, known on Bob's.
    sim.chat_with_statuses("alice", "bob", KeyStatus::Verified, KeyStatus::Known);
    sim.act("alice", |c, now, _| c.leave_chat(now)).unwrap();
    let _ = (sim.events("alice"), sim.events("bob"));

    // Bob's key changes (or the relay lies): Alice, who verified, is warned loudly and
    // the chat is refused both ways.
    let fake = mallory().public_key();
    sim.relay.interfere(PlantKey {
        victim: name("bob"),
        fake,
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
            ClientEvent::KeyChanged { verified: true, current, .. } if *current == fake.fingerprint()
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
    let _ = sim.events("bob");
    sim.act("bob", |c, now, rng| {
        c.request_chat(now, &name("alice"), rng)
    })
    .unwrap();
    let ea = sim.events("alice");
    assert!(ea.iter().any(|e| matches!(
        e,
        ClientEvent::AutoRefused {
            reason: AutoRefusal::KeyChanged,
            ..
        }
    )));
    assert!(
        ea.iter()
            .any(|e| matches!(e, ClientEvent::KeyChanged { verified: true, .. }))
    );
    let _ = sim.events("bob");

    // `/trust` accepts the new key, unverified.
    sim.client("alice").trust_key(&name("bob"), &fake).unwrap();
    assert_eq!(
        sim.client("alice").key_status(&name("bob"), &fake),
        KeyStatus::Known
    );
}

impl World {
    /// Like `chat`, checking the key status each side reports.
    fn chat_with_statuses(&mut self, a: &str, b: &str, at_a: KeyStatus, at_b: KeyStatus) {
        let bn = name(b);
        self.act(a, |c, now, rng| c.request_chat(now, &bn, rng))
            .unwrap();
        let eb = self.events(b);
        assert_eq!(incoming(&eb).map(|i| i.1), Some(at_b), "{eb:?}");
        self.act(b, |c, now, rng| c.accept(now, rng)).unwrap();
        let (ea, eb) = (self.events(a), self.events(b));
        assert!(
            ea.iter().any(|e| matches!(
                e,
                ClientEvent::RequestAccepted { key_status, .. } if *key_status == at_a
            )),
            "{ea:?}"
        );
        assert_eq!(established(&ea).map(|e| e.1), Some(at_a), "{ea:?}");
        assert_eq!(established(&eb).map(|e| e.1), Some(at_b), "{eb:?}");
    }
}
