//! The client endpoint's decisions: the handshake deadline, the callback daemon's limits
//! and hello deadline, the write deadline towards the server, the end of the session.

use core::time::Duration;

use super::net::Net;
use crate::client::{AutoRefusal, ChatStatus, ClientEvent};
use crate::endpoint::{ClientAction, ClientLimits, ClientSocket, ConnectFailure, Phase};
use crate::handshake::HandshakeError;
use crate::identity::Username;
use crate::relay::RelayConfig;
use crate::testkit::TestRng;

fn limits() -> ClientLimits {
    ClientLimits {
        max_callback_connections: 2,
        callback_hello_timeout: Duration::from_secs(3),
        write_timeout: Duration::from_secs(5),
    }
}

#[test]
fn logging_in_reaches_the_established_phase() {
    let mut net = Net::new(RelayConfig::default());
    net.connect("alice", limits());
    assert!(matches!(
        net.peer("alice").endpoint.phase(),
        Phase::Established { .. }
    ));
    assert_eq!(net.server.relay().online_users().count(), 1);
}

#[test]
fn a_client_blocks_from_its_first_moment_what_its_endpoint_was_given() {
    let mut net = Net::new(RelayConfig::default());
    net.connect_blocking("alice", limits(), &["carol"]);
    net.connect("carol", limits());
    let now = net.now;
    let mut rng = TestRng::new(3);
    let alice = Username::new("alice").unwrap();
    let carol = net.peer("carol").endpoint.chat().unwrap();
    carol.request_chat(now, &alice, &mut rng).unwrap();
    net.drive();
    let events = &net.peer("alice").events;
    assert!(
        events.iter().any(|e| matches!(
            e,
            ClientEvent::AutoRefused {
                reason: AutoRefusal::Blocked,
                ..
            }
        )),
        "{events:?}"
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, ClientEvent::IncomingRequest { .. }))
    );
    let alice_client = net.peer("alice").endpoint.chat().unwrap();
    assert_eq!(alice_client.status(), ChatStatus::Idle);
    assert!(alice_client.is_blocked(&Username::new("carol").unwrap()));
}

#[test]
fn the_callback_daemon_holds_at_most_its_limit() {
    let mut net = Net::new(RelayConfig::default());
    net.connect("alice", limits());
    let now = net.now;
    let endpoint = &mut net.peer("alice").endpoint;
    assert!(endpoint.handle_callback_accepted(now).is_some());
    assert!(endpoint.handle_callback_accepted(now).is_some());
    assert_eq!(endpoint.handle_callback_accepted(now), None);
}

#[test]
fn a_silent_callback_connection_is_closed_at_its_hello_deadline() {
    let mut net = Net::new(RelayConfig::default());
    net.connect("alice", limits());
    let now = net.now;
    let id = net
        .peer("alice")
        .endpoint
        .handle_callback_accepted(now)
        .unwrap();
    net.advance(Duration::from_millis(2_900));
    assert!(
        !net.peer("alice")
            .closed
            .contains(&ClientSocket::Callback(id))
    );
    net.advance(Duration::from_millis(100));
    assert!(
        net.peer("alice")
            .closed
            .contains(&ClientSocket::Callback(id))
    );
    // Its place is free again.
    let now = net.now;
    assert!(
        net.peer("alice")
            .endpoint
            .handle_callback_accepted(now)
            .is_some()
    );
}

#[test]
fn a_callback_connection_with_garbage_is_closed_at_once() {
    let mut net = Net::new(RelayConfig::default());
    net.connect("alice", limits());
    let now = net.now;
    let endpoint = &mut net.peer("alice").endpoint;
    let id = endpoint.handle_callback_accepted(now).unwrap();
    endpoint.handle_callback_input(now, id, &[0x17, 0x03, 0x03, 0x00, 0x01, 0x00]);
    assert_eq!(
        endpoint.poll_action(),
        Some(ClientAction::Close(ClientSocket::Callback(id)))
    );
    assert!(
        matches!(endpoint.phase(), Phase::Established { .. }),
        "the session goes on"
    );
}

#[test]
fn a_server_that_never_answers_fails_the_handshake_at_its_deadline() {
    let mut net = Net::new(RelayConfig::default());
    let endpoint = crate::endpoint::ClientEndpoint::connect(
        crate::testkit::fixtures::client_config("alice"),
        alloc::boxed::Box::new(crate::chat::MemoryKnownKeys::default()),
        limits(),
        &mut net.rng,
        net.now,
        crate::testkit::fixtures::VALID_TIME,
    );
    let mut endpoint = endpoint;
    assert!(matches!(
        endpoint.poll_action(),
        Some(ClientAction::Transmit { .. })
    ));
    endpoint.handle_written(net.now, usize::MAX);
    let deadline = endpoint.poll_timeout().unwrap();
    assert_eq!(
        deadline,
        net.now + crate::handshake::DEFAULT_HANDSHAKE_TIMEOUT
    );
    endpoint.handle_timeout(deadline);
    assert_eq!(
        endpoint.phase(),
        Phase::Failed(ConnectFailure::Handshake(HandshakeError::Timeout))
    );
    assert_eq!(
        endpoint.poll_action(),
        Some(ClientAction::Close(ClientSocket::Server))
    );
    assert_eq!(endpoint.poll_timeout(), None);
}

#[test]
fn a_server_that_reads_nothing_is_given_up_at_the_write_deadline() {
    let mut net = Net::new(RelayConfig::default());
    net.connect("alice", limits());
    let now = net.now;
    let peer = net.peer("alice");
    peer.endpoint.chat().unwrap().list_users(now).unwrap();
    // The transmit is handed out but never acknowledged.
    assert!(matches!(
        peer.endpoint.poll_action(),
        Some(ClientAction::Transmit { .. })
    ));
    let deadline = peer.endpoint.poll_timeout().unwrap();
    assert_eq!(deadline, now + limits().write_timeout);
    peer.endpoint.handle_timeout(deadline);
    assert_eq!(peer.endpoint.phase(), Phase::Finished);
    assert_eq!(
        peer.endpoint.poll_action(),
        Some(ClientAction::Close(ClientSocket::Server))
    );
    assert!(
        core::iter::from_fn(|| peer.endpoint.poll_event())
            .any(|e| e == ClientEvent::ConnectionLost { clean: false })
    );
    assert_eq!(peer.endpoint.poll_timeout(), None);
}

#[test]
fn exit_finishes_the_endpoint_once_the_goodbye_is_written() {
    let mut net = Net::new(RelayConfig::default());
    net.connect("alice", limits());
    let now = net.now;
    net.peer("alice")
        .endpoint
        .chat()
        .unwrap()
        .exit(now)
        .unwrap();
    net.drive();
    let peer = net.peer("alice");
    assert_eq!(peer.endpoint.phase(), Phase::Finished);
    assert!(peer.closed.contains(&ClientSocket::Server));
    assert!(
        peer.events
            .contains(&ClientEvent::ConnectionLost { clean: true })
    );
    assert_eq!(peer.endpoint.poll_timeout(), None);
}

#[test]
fn errors_name_who_is_at_fault() {
    use crate::client::{ClientError, Misuse, SessionEnd};
    let mut net = Net::new(RelayConfig {
        duplicate_login: crate::relay::DuplicateLogin::ReplaceExisting,
        ..RelayConfig::default()
    });
    net.connect("alice", limits());
    let now = net.now;
    let chat = net.peer("alice").endpoint.chat().unwrap();
    assert_eq!(
        chat.send_text(now, "", &mut crate::testkit::TestRng::new(1)),
        Err(ClientError::Misuse(Misuse::EmptyText))
    );
    let long = "x".repeat(crate::chat::MAX_TEXT_LEN + 1);
    assert_eq!(
        chat.send_text(now, &long, &mut crate::testkit::TestRng::new(1)),
        Err(ClientError::Misuse(Misuse::TextTooLong {
            len: crate::chat::MAX_TEXT_LEN + 1,
            max: crate::chat::MAX_TEXT_LEN,
        }))
    );
    assert_eq!(
        chat.send_text(now, "hello", &mut crate::testkit::TestRng::new(1)),
        Err(ClientError::Misuse(Misuse::InvalidState("not in a chat")))
    );
    // A second login replaces alice's session: the server ended it, and said why.
    let first = net.peers.remove("alice").unwrap();
    net.peers.insert("alice (old)".into(), first);
    net.connect("alice", limits());
    let old = net.peer("alice (old)");
    assert_eq!(
        old.endpoint.ended(),
        Some(ClientError::Ended(SessionEnd::ServerClosed(
            crate::session::CloseReason::REPLACED
        )))
    );
    // Our own exit is ours.
    let now = net.now;
    net.peer("alice")
        .endpoint
        .chat()
        .unwrap()
        .exit(now)
        .unwrap();
    net.drive();
    assert_eq!(
        net.peer("alice").endpoint.ended(),
        Some(ClientError::Ended(SessionEnd::WeClosed))
    );
}

#[test]
fn a_failed_callback_accept_rests_the_daemon_for_the_retry_interval() {
    let mut net = Net::new(RelayConfig::default());
    net.connect("alice", limits());
    let now = net.now;
    let endpoint = &mut net.peer("alice").endpoint;
    endpoint.handle_callback_accept_failed(now);
    let resume = now + crate::endpoint::ACCEPT_RETRY;
    assert_eq!(endpoint.poll_timeout(), Some(resume));
    endpoint.handle_timeout(resume);
    assert_eq!(endpoint.poll_action(), Some(ClientAction::ResumeAccepting));
    assert!(endpoint.poll_timeout() > Some(resume));
}
