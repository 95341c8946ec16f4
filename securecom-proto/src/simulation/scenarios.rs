//! The chat system end to end in memory: the scenarios of the original design and more.

use alloc::vec::Vec;
use core::time::Duration;

use super::*;
use crate::client::{AutoRefusal, ChatEndReason, ChatStatus};
use crate::command::CommandError;
use crate::command::GoneReason;
use crate::relay::{ConnectionId, DuplicateLogin, OfflineReason, RelayEvent};
use crate::session::CloseReason;
use crate::testkit::fixtures;
use alloc::sync::Arc;

fn has(events: &[ClientEvent], f: impl Fn(&ClientEvent) -> bool) -> bool {
    events.iter().any(f)
}

#[test]
fn login_list_request_accept_chat_both_ways_leave_exit() {
    let mut sim = World::with_users(&["alice", "bob"]);
    sim.act("alice", |c, now, _| c.list_users(now)).unwrap();
    let events = sim.events("alice");
    let Some(ClientEvent::Users { users, truncated }) = events
        .iter()
        .find(|e| matches!(e, ClientEvent::Users { .. }))
    else {
        panic!("{events:?}")
    };
    assert!(!truncated);
    let names: Vec<&str> = users.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(names, ["alice", "bob"]);
    let (_, bob_identity) = crate::testkit::fixtures::user("bob");
    assert_eq!(
        users[1].fingerprint,
        bob_identity.public_key().fingerprint()
    );

    sim.act("alice", |c, now, rng| {
        c.request_chat(now, &name("bob"), rng)
    })
    .unwrap();
    let bob_events = sim.events("bob");
    assert!(has(&bob_events, |e| matches!(
        e,
        ClientEvent::IncomingRequest { from, key_status: crate::chat::KeyStatus::FirstSeen, .. }
            if from.as_str() == "alice"
    )));
    assert_eq!(sim.client("bob").status(), ChatStatus::Asked(name("alice")));
    sim.act("bob", |c, now, rng| c.accept(now, rng)).unwrap();
    let (ea, eb) = (sim.events("alice"), sim.events("bob"));
    let sn = |events: &[ClientEvent]| {
        events.iter().find_map(|e| match e {
            ClientEvent::ChatEstablished { safety_number, .. } => Some(*safety_number),
            _ => None,
        })
    };
    assert_eq!(sn(&ea).unwrap(), sn(&eb).unwrap(), "safety numbers agree");
    assert_eq!(
        sim.client("alice").status(),
        ChatStatus::Chatting(name("bob"))
    );

    // Who speaks first is not restricted.
    sim.say("bob", "hello alice");
    sim.say("alice", "hi bob");
    sim.say("alice", "how are you?");
    assert_eq!(
        World::messages(&sim.events("alice")),
        [("bob".into(), "hello alice".into())]
    );
    assert_eq!(
        World::messages(&sim.events("bob")),
        [
            ("alice".into(), "hi bob".into()),
            ("alice".into(), "how are you?".into())
        ]
    );

    sim.act("alice", |c, now, _| c.leave_chat(now)).unwrap();
    assert!(has(&sim.events("bob"), |e| matches!(
        e,
        ClientEvent::ChatEnded {
            reason: ChatEndReason::PeerClosed,
            ..
        }
    )));
    assert_eq!(sim.client("bob").status(), ChatStatus::Idle);
    assert_eq!(sim.relay.chat_peer(&name("alice")), None);

    sim.act("alice", |c, now, _| c.exit(now)).unwrap();
    assert!(!sim.is_online("alice"));
    assert!(sim.relay_events.iter().any(|e| matches!(
        e,
        crate::relay::RelayEvent::UserOffline {
            reason: OfflineReason::Exit,
            ..
        }
    )));
    assert_eq!(sim.relay.online_users().count(), 1);
}

#[test]
fn third_client_is_refused_automatically_while_two_chat() {
    let mut sim = World::with_users(&["alice", "bob", "carol"]);
    sim.chat("alice", "bob");
    // The relay itself knows bob is chatting: carol gets "busy" at once.
    sim.act("carol", |c, now, rng| {
        c.request_chat(now, &name("bob"), rng)
    })
    .unwrap();
    assert!(has(&sim.events("carol"), |e| matches!(
        e,
        ClientEvent::CommandFailed {
            error: CommandError::BUSY,
            ..
        }
    )));
    assert_eq!(sim.client("carol").status(), ChatStatus::Idle);
    // A request that reaches a client negotiating a chat is refused by the client itself.
    let mut sim = World::with_users(&["alice", "bob", "carol"]);
    sim.act("alice", |c, now, rng| {
        c.request_chat(now, &name("bob"), rng)
    })
    .unwrap();
    sim.act("carol", |c, now, rng| {
        c.request_chat(now, &name("alice"), rng)
    })
    .unwrap();
    assert!(has(&sim.events("alice"), |e| matches!(
        e,
        ClientEvent::AutoRefused {
            reason: AutoRefusal::Busy,
            ..
        }
    )));
    assert!(has(&sim.events("carol"), |e| matches!(
        e,
        ClientEvent::RequestDenied { peer } if peer.as_str() == "alice"
    )));
}

#[test]
fn request_expires_unanswered() {
    let mut sim = World::with_users(&["alice", "bob"]);
    sim.act("alice", |c, now, rng| {
        c.request_chat(now, &name("bob"), rng)
    })
    .unwrap();
    sim.wait(Duration::from_secs(29));
    assert_eq!(
        sim.client("alice").status(),
        ChatStatus::Requesting(name("bob"))
    );
    sim.wait(Duration::from_secs(2));
    assert!(has(&sim.events("alice"), |e| matches!(
        e,
        ClientEvent::RequestExpired { .. }
    )));
    assert!(has(&sim.events("bob"), |e| matches!(
        e,
        ClientEvent::RequestExpired { .. }
    )));
    assert_eq!(sim.client("alice").status(), ChatStatus::Idle);
    assert_eq!(sim.client("bob").status(), ChatStatus::Idle);
    // Accepting now is too late.
    assert_eq!(
        sim.act("bob", |c, now, rng| c.accept(now, rng)),
        Err(ClientError::Misuse(crate::client::Misuse::InvalidState(
            "nobody is asking"
        )))
    );
}

#[test]
fn peer_that_disappears_mid_chat_ends_the_chat() {
    let mut sim = World::with_users(&["alice", "bob"]);
    sim.chat("alice", "bob");
    sim.say("alice", "are you there?");
    sim.kill("bob");
    assert!(has(&sim.events("alice"), |e| matches!(
        e,
        ClientEvent::ChatEnded {
            reason: ChatEndReason::PeerGone(crate::command::GoneReason::DISCONNECTED),
            ..
        }
    )));
    assert_eq!(sim.client("alice").status(), ChatStatus::Idle);
    assert_eq!(sim.relay.online_users().count(), 1);
    // A fresh chat with someone else works.
    sim.login("carol");
    sim.chat("alice", "carol");
}

#[test]
fn silent_client_is_dropped_and_its_peer_told() {
    let mut sim = World::with_users(&["alice", "bob"]);
    sim.chat("alice", "bob");
    // Bob's socket stays open but he sends nothing (no pings either).
    sim.peer_mut("bob").unwrap().connected = false;
    for _ in 0..5 {
        sim.wait(Duration::from_secs(30));
    }
    assert!(has(&sim.events("alice"), |e| matches!(
        e,
        ClientEvent::ChatEnded { .. }
    )));
    assert!(sim.relay_events.iter().any(|e| matches!(
        e,
        crate::relay::RelayEvent::UserOffline {
            reason: OfflineReason::Idle,
            ..
        }
    )));
    // Alice pinged all along and is still online.
    assert!(sim.relay.online_users().any(|u| u.as_str() == "alice"));
}

#[test]
fn second_login_with_same_identity_is_refused_by_default() {
    let mut sim = World::with_users(&["alice"]);
    let first = sim.remove("alice").unwrap();
    sim.login("alice");
    assert!(!sim.is_online("alice"));
    assert!(
        sim.relay_events
            .iter()
            .any(|e| matches!(e, crate::relay::RelayEvent::LoginRefused { .. }))
    );
    // The first session is untouched.
    sim.insert(first);
    sim.act("alice", |c, now, _| c.list_users(now)).unwrap();
    assert!(has(&sim.events("alice"), |e| matches!(
        e,
        ClientEvent::Users { .. }
    )));
}

#[test]
fn second_login_can_replace_the_first() {
    let mut sim = World::new(RelayConfig {
        duplicate_login: DuplicateLogin::ReplaceExisting,
        ..RelayConfig::default()
    });
    sim.login("alice");
    sim.login("bob");
    sim.chat("alice", "bob");
    let first = sim.remove("alice").unwrap();
    sim.login("alice");
    assert!(sim.is_online("alice"));
    // The chat of the replaced session ended for bob.
    assert!(has(&sim.events("bob"), |e| matches!(
        e,
        ClientEvent::ChatEnded { .. }
    )));
    let _ = first;
}

#[test]
fn typed_errors_for_bad_requests() {
    let mut sim = World::with_users(&["alice", "bob"]);
    let cases: [(&str, CommandError); 3] = [
        ("nobody", CommandError::UNKNOWN_USER),
        ("carol", CommandError::OFFLINE),
        ("alice", CommandError::SELF_REQUEST),
    ];
    for (who, expected) in cases {
        let n = name(who);
        sim.act("alice", move |c, now, rng| c.request_chat(now, &n, rng))
            .unwrap();
        let events = sim.events("alice");
        assert!(
            has(
                &events,
                |e| matches!(e, ClientEvent::CommandFailed { error, .. } if *error == expected)
            ),
            "{who}: {events:?}"
        );
        assert_eq!(sim.client("alice").status(), ChatStatus::Idle);
    }
    sim.act("alice", |c, now, _| c.get_public_key(now, &name("carol")))
        .unwrap();
    assert!(has(&sim.events("alice"), |e| matches!(
        e,
        ClientEvent::PublicKey { .. }
    )));
    assert_eq!(
        sim.act("alice", |c, now, rng| c.send_text(now, "x", rng)),
        Err(ClientError::Misuse(crate::client::Misuse::InvalidState(
            "not in a chat"
        )))
    );
}

#[test]
fn pending_requests_per_user_are_bounded() {
    let mut sim = World::new(RelayConfig {
        max_pending_requests_per_user: 1,
        ..RelayConfig::default()
    });
    for u in ["alice", "bob", "carol"] {
        sim.login(u);
    }
    sim.act("alice", |c, now, rng| {
        c.request_chat(now, &name("carol"), rng)
    })
    .unwrap();
    // Carol is being asked: a second request to her is refused by the relay's bound
    // before it could reach her.
    sim.act("bob", |c, now, rng| {
        c.request_chat(now, &name("carol"), rng)
    })
    .unwrap();
    assert!(has(&sim.events("bob"), |e| matches!(
        e,
        ClientEvent::CommandFailed {
            error: CommandError::LIMIT_REACHED,
            ..
        }
    )));
}

#[test]
fn denied_request_returns_both_to_idle() {
    let mut sim = World::with_users(&["alice", "bob"]);
    sim.act("alice", |c, now, rng| {
        c.request_chat(now, &name("bob"), rng)
    })
    .unwrap();
    sim.act("bob", |c, now, _| c.deny(now)).unwrap();
    assert!(has(&sim.events("alice"), |e| matches!(
        e,
        ClientEvent::RequestDenied { .. }
    )));
    assert_eq!(sim.client("alice").status(), ChatStatus::Idle);
    assert_eq!(sim.client("bob").status(), ChatStatus::Idle);
}

#[test]
fn withdrawn_request_clears_the_prompt() {
    let mut sim = World::with_users(&["alice", "bob"]);
    sim.act("alice", |c, now, rng| {
        c.request_chat(now, &name("bob"), rng)
    })
    .unwrap();
    sim.act("alice", |c, now, _| c.withdraw_request(now))
        .unwrap();
    assert!(has(&sim.events("bob"), |e| matches!(
        e,
        ClientEvent::RequestWithdrawn { .. }
    )));
    assert_eq!(sim.client("bob").status(), ChatStatus::Idle);
}

#[test]
fn relay_shutdown_closes_every_session() {
    let mut sim = World::with_users(&["alice", "bob"]);
    sim.chat("alice", "bob");
    let now = sim.now;
    sim.relay.shutdown(now);
    sim.pump();
    for u in ["alice", "bob"] {
        assert!(has(&sim.events(u), |e| matches!(
            e,
            ClientEvent::Closed { reason } if *reason == crate::session::CloseReason::SHUTDOWN
        )));
    }
    assert_eq!(sim.relay.online_users().count(), 0);
}

#[test]
fn unauthenticated_connections_are_bounded_and_time_out() {
    let mut sim = World::new(RelayConfig {
        max_handshaking: 3,
        ..RelayConfig::default()
    });
    let mut rng = TestRng::new(5);
    let ids: Vec<_> = (0..3)
        .map(|_| sim.relay.open_connection(sim.now, &mut rng).unwrap())
        .collect();
    assert_eq!(
        sim.relay.open_connection(sim.now, &mut rng),
        Err(crate::relay::RelayError::TooManyConnections)
    );
    sim.wait(Duration::from_secs(11));
    for id in &ids {
        assert!(sim.relay.is_closing(*id));
        sim.relay.connection_lost(*id);
    }
    assert_eq!(sim.relay.handshaking_count(), 0);
    sim.login("alice");
    assert!(sim.is_online("alice"));
}

#[test]
fn garbage_after_the_handshake_closes_only_that_connection() {
    let mut sim = World::with_users(&["alice", "bob", "carol"]);
    sim.chat("alice", "bob");
    let carol = sim.conn("carol");
    let now = sim.now;
    sim.relay
        .handle_input(
            carol,
            now,
            &[crate::codec::ContentType::STANDARD.0, 0, 0, 0, 20, 1, 2, 3],
        )
        .unwrap();
    sim.relay.handle_input(carol, now, &[0u8; 17]).unwrap();
    sim.pump();
    assert!(sim.relay.is_closing(carol));
    assert!(
        sim.relay_events
            .iter()
            .any(|e| matches!(e, crate::relay::RelayEvent::SessionFailed { .. }))
    );
    sim.say("alice", "still here");
    assert_eq!(
        World::messages(&sim.events("bob")),
        [("alice".into(), "still here".into())]
    );
}

#[test]
fn acceptance_crossing_a_withdrawal_leaves_the_chat_cleanly() {
    let mut sim = World::with_users(&["alice", "bob"]);
    sim.act("alice", |c, now, rng| {
        c.request_chat(now, &name("bob"), rng)
    })
    .unwrap();
    // Bob accepts and Alice withdraws at the same time: the relay sees Bob's answer first.
    let now = sim.now;
    let mut rng = TestRng::new(8);
    sim.client("bob").accept(now, &mut rng).unwrap();
    sim.client("alice").withdraw_request(now).unwrap();
    let bob_out = {
        let c = sim.client("bob");
        let out = c.output().to_vec();
        c.consume_output(out.len());
        out
    };
    let bob_conn = sim.conn("bob");
    sim.relay.handle_input(bob_conn, now, &bob_out).unwrap();
    sim.pump();
    // Alice's session survives, the chat is gone at the relay, both are idle.
    assert!(sim.is_online("alice"));
    assert_eq!(sim.relay.chat_peer(&name("alice")), None);
    assert_eq!(sim.client("alice").status(), ChatStatus::Idle);
    assert_eq!(sim.client("bob").status(), ChatStatus::Idle);
    assert!(has(&sim.events("bob"), |e| matches!(
        e,
        ClientEvent::ChatEnded { .. }
    )));
}

#[test]
fn crossing_requests_point_to_the_pending_one() {
    let mut sim = World::with_users(&["alice", "bob"]);
    sim.act("bob", |c, now, rng| {
        c.request_chat(now, &name("alice"), rng)
    })
    .unwrap();
    // Alice, being asked, is busy at the client level; her own request to Bob is refused
    // by the client state machine before it leaves.
    assert_eq!(
        sim.act("alice", |c, now, rng| c.request_chat(
            now,
            &name("bob"),
            rng
        )),
        Err(ClientError::Misuse(crate::client::Misuse::InvalidState(
            "already requesting or chatting"
        )))
    );
}

#[test]
fn closing_connection_that_never_reads_is_dropped_after_the_linger() {
    let mut sim = World::with_users(&["alice"]);
    // Alice stops reading; the relay closes her idle session, and her goodbye never leaves.
    sim.peer_mut("alice").unwrap().connected = false;
    let conn = sim.conn("alice");
    sim.now = sim.now + Duration::from_secs(121);
    sim.relay.handle_timeout(sim.now);
    assert!(sim.relay.is_closing(conn));
    assert!(!sim.relay.output(conn).is_empty());
    assert!(!sim.relay.should_close(conn));
    let next = sim.relay.poll_timeout().unwrap();
    assert!(next <= sim.now + crate::relay::CLOSE_LINGER);
    sim.relay.handle_timeout(next);
    assert!(sim.relay.should_close(conn));
}

#[test]
fn pings_never_leave_a_timer_in_the_past() {
    let mut sim = World::with_users(&["alice"]);
    // Fill the command window without letting anything through.
    let now = sim.now;
    for _ in 0..crate::client::MAX_PENDING_COMMANDS {
        sim.client("alice").list_users(now).unwrap();
    }
    let later = now + Duration::from_secs(31);
    sim.client("alice").handle_timeout(later).unwrap();
    assert!(sim.client("alice").poll_timeout() > Some(later));
}

#[test]
fn a_reader_that_falls_behind_slows_its_sender_then_is_dropped() {
    let mut sim = World::new(RelayConfig {
        output_high_water: 4 * 1024,
        output_hard_limit: 16 * 1024,
        ..RelayConfig::default()
    });
    sim.login("alice");
    sim.login("bob");
    sim.chat("alice", "bob");
    sim.peer_mut("bob").unwrap().reading = false;
    let alice = sim.conn("alice");
    let text = "x".repeat(1000);
    let mut paused_at = None;
    for i in 0..40 {
        if !sim.relay.wants_input(alice) && paused_at.is_none() {
            // Backpressure: the driver would stop reading Alice here.
            paused_at = Some(i);
        }
        if sim.client("alice").status() != ChatStatus::Chatting(name("bob")) {
            break;
        }
        sim.say("alice", &text);
    }
    assert!(
        paused_at.is_some(),
        "the relay never asked to stop reading the sender"
    );
    // Past the hard limit, the slow reader is dropped and its peer told.
    assert!(sim.relay_events.iter().any(|e| matches!(
        e,
        crate::relay::RelayEvent::UserOffline {
            reason: OfflineReason::TooSlow,
            ..
        }
    )));
    assert!(has(&sim.events("alice"), |e| matches!(
        e,
        ClientEvent::ChatEnded { .. }
    )));
    assert!(sim.relay.wants_input(alice));
}

#[test]
fn server_full_refuses_after_authentication() {
    let mut sim = World::new(RelayConfig {
        max_users: 1,
        ..RelayConfig::default()
    });
    sim.login("alice");
    sim.login("bob");
    assert!(sim.is_online("alice"));
    assert!(!sim.is_online("bob"));
    assert!(sim.relay_events.iter().any(|e| matches!(
        e,
        crate::relay::RelayEvent::LoginRefused { user, .. } if user.as_str() == "bob"
    )));
}

#[test]
fn records_on_the_request_channel_from_a_client_close_its_session() {
    use crate::codec::Codec;
    use crate::command::{Request, RequestBody};
    use crate::session::Channel;
    // alice speaks through a bare session (no chat client), so she can misuse a channel.
    let mut sim = World::new(RelayConfig::default());
    sim.login("bob");
    let alice = sim.connect_session("alice").unwrap();
    let ask = Request {
        id: 1,
        body: RequestBody::RequestChat(name("bob")),
    };
    let session = sim.peers[alice].session().unwrap();
    session
        .send(Channel::Standard, &ask.to_bytes().unwrap())
        .unwrap();
    sim.pump();
    sim.act("bob", |c, now, rng| c.accept(now, rng)).unwrap();
    let session = sim.peers[alice].session().unwrap();
    session.send(Channel::Request, b"not yours to use").unwrap();
    sim.pump();
    assert!(sim.relay_events.iter().any(|e| matches!(
        e,
        crate::relay::RelayEvent::SessionFailed {
            error: crate::relay::SessionFailure::WrongChannel,
            ..
        }
    )));
    assert!(has(&sim.events("bob"), |e| matches!(
        e,
        ClientEvent::ChatEnded { .. }
    )));
}

#[test]
fn callback_can_be_refused_by_configuration() {
    let mut sim = World::new(RelayConfig {
        allow_callback: false,
        ..RelayConfig::default()
    });
    sim.login("alice");
    sim.act("alice", |c, now, rng| c.register_callback(now, 4242, rng))
        .unwrap();
    assert!(has(&sim.events("alice"), |e| matches!(
        e,
        ClientEvent::CommandFailed {
            error: CommandError::NOT_SUPPORTED,
            ..
        }
    )));
    assert!(
        !sim.relay_events
            .iter()
            .any(|e| matches!(e, crate::relay::RelayEvent::CallbackRequested { .. }))
    );
}

#[test]
fn poll_timeout_is_never_later_than_a_pending_deadline() {
    let mut sim = World::with_users(&["alice", "bob"]);
    sim.act("alice", |c, now, rng| {
        c.request_chat(now, &name("bob"), rng)
    })
    .unwrap();
    let expiry = sim.now + RelayConfig::default().request_timeout;
    // Driving the relay only by its own timer fires the request's expiry on time.
    let mut fired = false;
    for _ in 0..100 {
        let next = sim.relay.poll_timeout().unwrap();
        assert!(
            next <= expiry,
            "timer {next:?} after the request's expiry {expiry:?}"
        );
        sim.now = next;
        sim.relay.handle_timeout(next);
        sim.pump();
        if has(&sim.events("alice"), |e| {
            matches!(e, ClientEvent::RequestExpired { .. })
        }) {
            fired = true;
            break;
        }
    }
    assert!(fired);
    assert_eq!(sim.now, expiry);
}

/// A user directory the test edits while the relay runs.
struct LiveDirectory(std::sync::RwLock<crate::identity::MemoryDirectory>);

impl crate::identity::UserDirectory for LiveDirectory {
    fn lookup(&self, username: &Username) -> Option<crate::identity::PublicKey> {
        self.0.read().ok()?.lookup(username)
    }
}

#[test]
fn a_revoked_key_loses_its_session_when_the_directory_changes() {
    let directory = Arc::new(LiveDirectory(std::sync::RwLock::new(fixtures::directory())));
    let server = fixtures::server_config_with_directory(directory.clone());
    let mut sim = World::serving(server, RelayConfig::default());
    for user in ["alice", "bob", "carol"] {
        sim.login(user);
    }
    sim.chat("alice", "bob");
    // Nothing changed: nobody is closed.
    let now = sim.now;
    assert_eq!(sim.relay.directory_changed(now), 0);
    // Alice's key is removed (stolen, say), carol's replaced by a new one.
    {
        let mut dir = directory.0.write().unwrap();
        dir.remove(&name("alice"));
        dir.insert(
            name("carol"),
            crate::identity::Identity::from_seed(&[0x77; 32]).public_key(),
        );
    }
    assert_eq!(sim.relay.directory_changed(now), 2);
    sim.pump();
    assert!(has(&sim.events("alice"), |e| matches!(
        e,
        ClientEvent::Closed {
            reason: CloseReason::REVOKED
        }
    )));
    assert!(has(&sim.events("carol"), |e| matches!(
        e,
        ClientEvent::Closed {
            reason: CloseReason::REVOKED
        }
    )));
    // Bob is told why his chat ended, and stays online.
    assert!(has(&sim.events("bob"), |e| matches!(
        e,
        ClientEvent::ChatEnded {
            reason: ChatEndReason::PeerGone(GoneReason::REVOKED),
            ..
        }
    )));
    assert!(sim.is_online("bob"));
    assert!(sim.relay_events.iter().any(|e| matches!(
        e,
        RelayEvent::UserOffline {
            reason: OfflineReason::Revoked,
            ..
        }
    )));
    sim.relay.check_invariants().unwrap();
}

#[test]
fn the_owner_of_a_stolen_name_takes_it_back_with_the_newly_registered_key() {
    let directory = Arc::new(LiveDirectory(std::sync::RwLock::new(fixtures::directory())));
    let server = fixtures::server_config_with_directory(directory.clone());
    // The default policy refuses a second login; the thief holds alice's old key.
    let mut sim = World::serving(server, RelayConfig::default());
    sim.login("alice");
    let thief = sim.conn("alice");
    let fresh = crate::identity::Identity::from_seed(&[0x66; 32]);
    directory
        .0
        .write()
        .unwrap()
        .insert(name("alice"), fresh.public_key());
    // Before any reload, the owner logs in with the key now registered.
    let owner = Arc::new(crate::handshake::ClientConfig::new(
        fixtures::verifier(),
        fixtures::SERVER_NAME,
        name("alice"),
        fresh,
    ));
    sim.connect_with(owner).expect("the owner's handshake");
    sim.pump();
    let offline: Vec<ConnectionId> = sim
        .relay_events
        .iter()
        .filter_map(|e| match e {
            RelayEvent::UserOffline {
                connection,
                reason: OfflineReason::Revoked,
                ..
            } => Some(*connection),
            _ => None,
        })
        .collect();
    assert_eq!(offline, [thief], "the thief's session is closed as revoked");
    let online: Vec<ConnectionId> = sim
        .relay_events
        .iter()
        .filter_map(|e| match e {
            RelayEvent::UserOnline { connection, .. } => Some(*connection),
            _ => None,
        })
        .collect();
    let owner_conn = *online.last().unwrap();
    assert_ne!(owner_conn, thief);
    assert!(sim.relay.is_online(owner_conn));
    // The thief's old key no longer logs in at all.
    assert!(sim.connect("alice").is_err());
    assert!(sim.relay.is_online(owner_conn));
    sim.relay.check_invariants().unwrap();
}

#[test]
fn a_blocked_user_is_refused_at_once_and_cannot_keep_the_user_busy() {
    let mut sim = World::with_users(&["alice", "bob", "carol"]);
    let ask = |sim: &mut World, from: &str, to: &str| {
        let to = name(to);
        sim.act(from, |c, now, rng| c.request_chat(now, &to, rng))
            .unwrap();
    };
    let asked_by = |events: &[ClientEvent], who: &str| {
        events
            .iter()
            .any(|e| matches!(e, ClientEvent::IncomingRequest { from, .. } if from.as_str() == who))
    };
    let refused_as_blocked = |events: &[ClientEvent], who: &str| {
        events.iter().any(|e| {
            matches!(e, ClientEvent::AutoRefused { from, reason: AutoRefusal::Blocked }
                if from.as_str() == who)
        })
    };
    // Carol asks; alice, being asked, is busy for bob.
    ask(&mut sim, "carol", "alice");
    assert!(asked_by(&sim.events("alice"), "carol"));
    assert_eq!(
        sim.client("alice").status(),
        ChatStatus::Asked(name("carol"))
    );
    // Blocking carol denies her pending request at once: alice is free again.
    sim.act("alice", |c, now, _| c.block(now, &name("carol")))
        .unwrap();
    assert!(refused_as_blocked(&sim.events("alice"), "carol"));
    assert_eq!(sim.client("alice").status(), ChatStatus::Idle);
    assert!(has(&sim.events("carol"), |e| matches!(
        e,
        ClientEvent::RequestDenied { .. }
    )));
    // Carol asks again and again: refused each time without alice being asked.
    for _ in 0..3 {
        ask(&mut sim, "carol", "alice");
        let ea = sim.events("alice");
        assert!(refused_as_blocked(&ea, "carol"), "{ea:?}");
        assert!(!asked_by(&ea, "carol"), "{ea:?}");
        assert_eq!(sim.client("alice").status(), ChatStatus::Idle);
        let _ = sim.events("carol");
    }
    // Bob reaches alice, and they chat.
    ask(&mut sim, "bob", "alice");
    assert!(asked_by(&sim.events("alice"), "bob"));
    sim.act("alice", |c, now, rng| c.accept(now, rng)).unwrap();
    assert_eq!(
        sim.client("alice").status(),
        ChatStatus::Chatting(name("bob"))
    );
    sim.act("alice", |c, now, _| c.leave_chat(now)).unwrap();
    let _ = (sim.events("alice"), sim.events("bob"));
    // Unblocked, carol's requests are asked about again.
    assert!(sim.client("alice").unblock(&name("carol")));
    assert!(!sim.client("alice").is_blocked(&name("carol")));
    ask(&mut sim, "carol", "alice");
    assert!(asked_by(&sim.events("alice"), "carol"));
}

#[test]
fn the_block_list_is_bounded() {
    let mut sim = World::with_users(&["alice"]);
    let now = sim.now;
    let alice = sim.client("alice");
    for i in 0..crate::client::MAX_BLOCKED {
        let user = Username::new(&alloc::format!("user{i}")).unwrap();
        alice.block(now, &user).unwrap();
    }
    // Blocking someone blocked already changes nothing; one more is refused.
    alice.block(now, &name("user0")).unwrap();
    assert_eq!(
        alice.block(now, &name("mallory")),
        Err(ClientError::Misuse(crate::client::Misuse::TooManyBlocked {
            max: crate::client::MAX_BLOCKED
        }))
    );
    assert_eq!(alice.blocked().count(), crate::client::MAX_BLOCKED);
    assert!(!alice.is_blocked(&name("mallory")));
}
