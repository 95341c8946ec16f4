//! The server endpoint's decisions: one transmit per socket, write deadlines, backpressure,
//! callback connections, shutdown.

use core::time::Duration;

use super::net::Net;
use crate::client::{ChatEndReason, ClientEvent};
use crate::command::GoneReason;
use crate::endpoint::{ClientLimits, ServerAction, ServerSocket};
use crate::identity::Username;
use crate::relay::{OfflineReason, RelayConfig, RelayError, RelayEvent};
use crate::testkit::TestRng;

fn name(s: &str) -> Username {
    Username::new(s).unwrap()
}

fn config() -> RelayConfig {
    RelayConfig {
        write_timeout: Duration::from_secs(5),
        output_high_water: 8 * 1024,
        output_hard_limit: 1024 * 1024,
        ..RelayConfig::default()
    }
}

/// alice and bob logged in and chatting end to end.
fn chatting() -> Net {
    let mut net = Net::new(config());
    net.connect("alice", ClientLimits::default());
    net.connect("bob", ClientLimits::default());
    let now = net.now;
    let mut rng = TestRng::new(1);
    net.peer("alice")
        .endpoint
        .chat()
        .unwrap()
        .request_chat(now, &name("bob"), &mut rng)
        .unwrap();
    net.drive();
    net.peer("bob")
        .endpoint
        .chat()
        .unwrap()
        .accept(now, &mut rng)
        .unwrap();
    net.drive();
    for who in ["alice", "bob"] {
        assert!(
            net.peer(who)
                .events
                .iter()
                .any(|e| matches!(e, ClientEvent::ChatEstablished { .. })),
            "{who} is not chatting"
        );
    }
    net
}

fn send(net: &mut Net, from: &str, text: &str) {
    let now = net.now;
    net.peer(from)
        .endpoint
        .chat()
        .unwrap()
        .send_text(now, text, &mut crate::testkit::TestRng::new(7))
        .unwrap();
    net.drive();
}

#[test]
fn a_socket_has_one_transmit_outstanding_until_it_is_acknowledged() {
    let mut net = chatting();
    let bob = net.peer("bob").conn;
    net.stalled.insert(bob);
    net.server_actions.clear();
    for i in 0..5 {
        send(&mut net, "alice", &alloc::format!("message {i}"));
    }
    let to_bob = net
        .server_actions
        .iter()
        .filter(|a| matches!(a, ServerAction::Transmit { socket, .. } if *socket == ServerSocket::Main(bob)))
        .count();
    assert_eq!(to_bob, 1, "only one transmit may be outstanding");
    net.stalled.remove(&bob);
    net.drive();
    let texts: alloc::vec::Vec<_> = net
        .peer("bob")
        .events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Message { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        texts.len(),
        5,
        "every message arrives once acknowledged: {texts:?}"
    );
    assert_eq!(
        texts.last().map(alloc::string::String::as_str),
        Some("message 4")
    );
}

#[test]
fn a_peer_that_stops_reading_is_dropped_at_the_write_deadline_and_its_partner_told() {
    let mut net = chatting();
    let bob = net.peer("bob").conn;
    net.stalled.insert(bob);
    send(&mut net, "alice", "are you there?");
    net.advance(Duration::from_millis(4_900));
    assert!(
        !net.server_closed.contains(&ServerSocket::Main(bob)),
        "dropped too early"
    );
    net.advance(Duration::from_millis(200));
    assert!(net.server_closed.contains(&ServerSocket::Main(bob)));
    assert!(net.server_events.iter().any(|e| matches!(
        e,
        RelayEvent::UserOffline {
            reason: OfflineReason::Stalled,
            ..
        }
    )));
    assert!(net.peer("alice").events.iter().any(|e| *e
        == ClientEvent::ChatEnded {
            peer: name("bob"),
            reason: ChatEndReason::PeerGone(GoneReason::STALLED),
        }));
    // The server still serves alice.
    let now = net.now;
    net.peer("alice")
        .endpoint
        .chat()
        .unwrap()
        .list_users(now)
        .unwrap();
    net.drive();
    assert!(matches!(
        net.peer("alice").events.last(),
        Some(ClientEvent::Users { .. })
    ));
}

#[test]
fn a_fast_sender_is_paused_while_its_peer_is_behind_and_resumed_after() {
    let mut net = chatting();
    let (alice, bob) = (net.peer("alice").conn, net.peer("bob").conn);
    net.stalled.insert(bob);
    let text = "x".repeat(1000);
    for _ in 0..20 {
        send(&mut net, "alice", &text);
    }
    assert!(net.paused.contains(&alice), "alice must be paused");
    assert!(
        net.server_actions
            .contains(&ServerAction::PauseReading(alice))
    );
    net.stalled.remove(&bob);
    net.drive();
    assert!(!net.paused.contains(&alice), "alice must be resumed");
    let received = net
        .peer("bob")
        .events
        .iter()
        .filter(|e| matches!(e, ClientEvent::Message { .. }))
        .count();
    assert_eq!(received, 20);
}

#[test]
fn a_callback_connection_that_never_opens_ends_the_session_at_its_deadline() {
    let mut net = Net::new(config());
    net.connect("alice", ClientLimits::default());
    let alice = net.peer("alice").conn;
    let now = net.now;
    let mut rng = TestRng::new(3);
    net.peer("alice")
        .endpoint
        .chat()
        .unwrap()
        .register_callback(now, 4242, &mut rng)
        .unwrap();
    net.drive();
    assert_eq!(net.callback_requests, [(alice, 4242)]);
    net.advance(config().callback_connect_timeout);
    assert!(net.server_closed.contains(&ServerSocket::Callback(alice)));
    assert!(net.server_events.iter().any(|e| matches!(
        e,
        RelayEvent::UserOffline { connection, .. } if *connection == alice
    )));
}

#[test]
fn shutdown_closes_every_socket_once_goodbyes_are_written_or_the_grace_passed() {
    let mut net = chatting();
    let (alice, bob) = (net.peer("alice").conn, net.peer("bob").conn);
    net.stalled.insert(bob);
    let now = net.now;
    net.server.shutdown(now);
    net.drive();
    assert!(net.server_closed.contains(&ServerSocket::Main(alice)));
    assert!(
        !net.server.is_finished(),
        "bob's goodbye is still unwritten"
    );
    assert_eq!(
        net.server.accept(now, &mut TestRng::new(4)),
        Err(RelayError::ShuttingDown)
    );
    net.advance(config().shutdown_grace);
    assert!(net.server_closed.contains(&ServerSocket::Main(bob)));
    assert!(net.server.is_finished());
    assert_eq!(net.server.poll_timeout(), None);
}

#[test]
fn a_connection_that_never_says_hello_is_closed_at_the_hello_deadline() {
    let mut net = Net::new(config());
    let now = net.now;
    let id = net.server.accept(now, &mut TestRng::new(5)).unwrap();
    let deadline = net.server.poll_timeout().unwrap();
    assert_eq!(deadline, now + crate::handshake::DEFAULT_HELLO_TIMEOUT);
    net.advance(crate::handshake::DEFAULT_HELLO_TIMEOUT);
    assert!(net.server_closed.contains(&ServerSocket::Main(id)));
    assert_eq!(net.server.relay().connection_count(), 0);
}

#[test]
fn a_failed_accept_rests_the_listener_for_the_retry_interval() {
    let mut net = Net::new(config());
    let now = net.now;
    net.server.handle_accept_failed(now);
    // A second failure while resting does not push the resumption back.
    net.server
        .handle_accept_failed(now + Duration::from_millis(50));
    assert_eq!(
        net.server.poll_timeout(),
        Some(now + crate::endpoint::ACCEPT_RETRY)
    );
    net.advance(crate::endpoint::ACCEPT_RETRY - Duration::from_millis(1));
    assert!(!net.server_actions.contains(&ServerAction::ResumeAccepting));
    net.advance(Duration::from_millis(1));
    assert_eq!(
        net.server_actions
            .iter()
            .filter(|a| **a == ServerAction::ResumeAccepting)
            .count(),
        1
    );
}
