//! End-to-end tests of the blocking driver over real TCP on loopback: a server and the
//! fixture users alice, bob and carol.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use securecom_std::proto::chat::SafetyNumber;
use securecom_std::proto::client::{
    AutoRefusal, ChatEndReason, ChatStatus, ClientError, ClientEvent, CommandKind, Misuse,
    SessionEnd,
};
use securecom_std::proto::command::{CommandError, GoneReason};
use securecom_std::proto::handshake::HandshakeError;
use securecom_std::proto::pki::CertificateError;
use securecom_std::proto::relay::RelayConfig;
use securecom_std::proto::session::CloseReason;
use securecom_std::{Client, ClientOptions, ConnectError, ServerOptions};
use support::{Proxy, TestClient, TestServer, WAIT, client_config_for, contains, user};

/// `a` asks `b` to chat; `b` sees the request.
fn ask(a: &mut TestClient, b: &mut TestClient) {
    let a_name = a.user();
    a.h().request_chat(b.user()).unwrap();
    b.expect("the request", |e| match e {
        ClientEvent::IncomingRequest { from, .. } if *from == a_name => Some(()),
        _ => None,
    });
}

/// `b` accepts `a`'s request; both see the same safety number.
fn accept(a: &mut TestClient, b: &mut TestClient) -> SafetyNumber {
    let (a_name, b_name) = (a.user(), b.user());
    b.h().accept().unwrap();
    let ours = a.expect("the chat", |e| match e {
        ClientEvent::ChatEstablished {
            peer,
            safety_number,
        } if *peer == b_name => Some(*safety_number),
        _ => None,
    });
    let theirs = b.expect("the chat", |e| match e {
        ClientEvent::ChatEstablished {
            peer,
            safety_number,
        } if *peer == a_name => Some(*safety_number),
        _ => None,
    });
    assert_eq!(ours, theirs, "both sides compute the same safety number");
    ours
}

/// `a` asks `b` to chat, `b` accepts.
fn start_chat(a: &mut TestClient, b: &mut TestClient) -> SafetyNumber {
    ask(a, b);
    accept(a, b)
}

/// The next chat message `to` receives, which must be `text` from `from`.
fn expect_message(to: &mut TestClient, from: &TestClient, text: &str) {
    let from = from.user();
    let (sender, got) = to.expect("a message", |e| match e {
        ClientEvent::Message { from, text } => Some((from.clone(), text.clone())),
        _ => None,
    });
    assert_eq!((sender, got.as_str()), (from, text));
}

fn expect_users(client: &mut TestClient) -> Vec<String> {
    client.h().list_users().unwrap();
    client.expect("the user list", |e| match e {
        ClientEvent::Users {
            users,
            truncated: false,
        } => Some(
            users
                .iter()
                .map(|u| u.username.as_str().to_owned())
                .collect(),
        ),
        _ => None,
    })
}

fn expect_chat_ended(client: &mut TestClient, peer: &TestClient) -> ChatEndReason {
    let peer = peer.user();
    client.expect("the end of the chat", |e| match e {
        ClientEvent::ChatEnded { peer: p, reason } if *p == peer => Some(reason.clone()),
        _ => None,
    })
}

#[test]
fn login_and_list_users() {
    let server = TestServer::start();
    let mut alice = TestClient::connect(server.addr, "alice");
    let bob = TestClient::connect(server.addr, "bob");
    let carol = TestClient::connect(server.addr, "carol");
    assert_eq!(alice.h().username(), &user("alice"));
    let ids = [
        alice.h().session_id(),
        bob.h().session_id(),
        carol.h().session_id(),
    ];
    assert!(ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2]);
    assert_eq!(expect_users(&mut alice), ["alice", "bob", "carol"]);
    assert_eq!(alice.h().status().unwrap(), (ChatStatus::Idle, None));
}

#[test]
fn chat_both_ways_busy_refusal_leave_and_exit() {
    let server = TestServer::start();
    let mut alice = TestClient::connect(server.addr, "alice");
    let mut bob = TestClient::connect(server.addr, "bob");
    let mut carol = TestClient::connect(server.addr, "carol");

    // Bob is asked by alice: while he has not answered, his client refuses carol
    // without asking him.
    ask(&mut alice, &mut bob);
    carol.h().request_chat(user("bob")).unwrap();
    bob.expect("the automatic refusal", |e| {
        matches!(e, ClientEvent::AutoRefused { from, reason: AutoRefusal::Busy } if *from == user("carol"))
            .then_some(())
    });
    carol.expect("the refusal", |e| {
        matches!(e, ClientEvent::RequestDenied { peer } if *peer == user("bob")).then_some(())
    });

    let safety = accept(&mut alice, &mut bob);
    assert_eq!(
        alice.h().status().unwrap(),
        (ChatStatus::Chatting(user("bob")), Some(safety))
    );
    alice.h().send_text("hello bob").unwrap();
    expect_message(&mut bob, &alice, "hello bob");
    bob.h().send_text("hi alice").unwrap();
    expect_message(&mut alice, &bob, "hi alice");
    for i in 0..20 {
        alice.h().send_text(format!("message {i}")).unwrap();
    }
    for i in 0..20 {
        expect_message(&mut bob, &alice, &format!("message {i}"));
    }

    // Bob is chatting: the server itself answers that he is busy.
    carol.h().request_chat(user("bob")).unwrap();
    carol.expect("the busy answer", |e| {
        matches!(
            e,
            ClientEvent::CommandFailed { command: CommandKind::RequestChat, error }
                if *error == CommandError::BUSY
        )
        .then_some(())
    });
    bob.h().send_text("still here").unwrap();
    expect_message(&mut alice, &bob, "still here");

    // Alice leaves the chat; bob sees an authenticated end.
    alice.h().leave_chat().unwrap();
    assert_eq!(expect_chat_ended(&mut alice, &bob), ChatEndReason::WeLeft);
    assert_eq!(
        expect_chat_ended(&mut bob, &alice),
        ChatEndReason::PeerClosed
    );
    assert_eq!(bob.h().status().unwrap(), (ChatStatus::Idle, None));
    assert_eq!(
        bob.h().send_text("anyone?"),
        Err(ClientError::Misuse(Misuse::InvalidState("not in a chat")))
    );

    // Alice exits: the server closes her session cleanly and her events end.
    alice.h().exit().unwrap();
    let rest = alice.expect_end();
    assert!(
        rest.contains(&ClientEvent::ConnectionLost { clean: true }),
        "{rest:?}"
    );
    assert!(
        rest.iter().any(|e| matches!(e, ClientEvent::Closed { .. })),
        "{rest:?}"
    );
    assert_eq!(
        alice.h().list_users(),
        Err(ClientError::Ended(SessionEnd::WeClosed))
    );
    assert_eq!(expect_users(&mut bob), ["bob", "carol"]);

    // Carol drops her only handle: that exits too.
    carol.drop_handle();
    let rest = carol.expect_end();
    assert!(
        rest.contains(&ClientEvent::ConnectionLost { clean: true }),
        "{rest:?}"
    );
    assert_eq!(expect_users(&mut bob), ["bob"]);
}

#[test]
fn abrupt_disconnect_ends_the_peers_chat() {
    let server = TestServer::start();
    let proxy = Proxy::start(server.addr);
    let mut alice = TestClient::connect(server.addr, "alice");
    let mut bob = TestClient::connect(proxy.addr, "bob");
    start_chat(&mut alice, &mut bob);
    bob.h().send_text("about to vanish").unwrap();
    expect_message(&mut alice, &bob, "about to vanish");

    proxy.cut();
    assert_eq!(
        expect_chat_ended(&mut alice, &bob),
        ChatEndReason::PeerGone(GoneReason::DISCONNECTED)
    );
    assert_eq!(
        expect_chat_ended(&mut bob, &alice),
        ChatEndReason::Disconnected
    );
    let rest = bob.expect_end();
    assert!(
        rest.contains(&ClientEvent::ConnectionLost { clean: false }),
        "{rest:?}"
    );
    assert_eq!(
        bob.h().list_users(),
        Err(ClientError::Ended(SessionEnd::ConnectionLost))
    );
    assert_eq!(expect_users(&mut alice), ["alice"]);
}

#[test]
fn callback_channel_carries_notices() {
    let server = TestServer::start();
    let options = ClientOptions {
        callback_listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        ..ClientOptions::default()
    };
    let mut alice = TestClient::connect_with(server.addr, "alice", options);
    let mut bob = TestClient::connect(server.addr, "bob");
    let port = alice.h().callback_addr().unwrap().port();
    assert_ne!(port, 0);
    alice.h().register_callback(port).unwrap();
    alice.expect("the callback connection", |e| {
        matches!(e, ClientEvent::CallbackAttached).then_some(())
    });

    // Bob's request is a notice: it now reaches alice over the callback connection.
    start_chat(&mut bob, &mut alice);
    bob.h().send_text("over the callback").unwrap();
    expect_message(&mut alice, &bob, "over the callback");
    alice.h().send_text("and back").unwrap();
    expect_message(&mut bob, &alice, "and back");

    // A stranger connecting to the daemon is refused and closed.
    let mut stranger = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stranger.write_all(&[0x01, 0, 0, 0, 1, 0]).unwrap();
    stranger.set_read_timeout(Some(WAIT)).unwrap();
    let mut sink = Vec::new();
    match stranger.read_to_end(&mut sink) {
        Ok(_) => assert!(sink.is_empty()),
        Err(e) => assert!(
            !matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
            "the daemon kept the stranger's connection open"
        ),
    }
    bob.h().send_text("still attached").unwrap();
    expect_message(&mut alice, &bob, "still attached");
}

#[test]
fn oversized_frame_header_closes_only_that_connection() {
    let server = TestServer::start();
    let mut alice = TestClient::connect(server.addr, "alice");
    let mut bob = TestClient::connect(server.addr, "bob");
    start_chat(&mut alice, &mut bob);

    // A handshake frame header announcing 4 GiB - 1 bytes.
    let mut raw = TcpStream::connect(server.addr).unwrap();
    raw.write_all(&[0x01, 0xff, 0xff, 0xff, 0xff]).unwrap();
    raw.set_read_timeout(Some(WAIT)).unwrap();
    let mut answer = Vec::new();
    match raw.read_to_end(&mut answer) {
        // At most the generic alert, then the end.
        Ok(_) => assert!(answer.len() < 64, "{answer:?}"),
        Err(e) => assert!(
            !matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
            "the server kept the connection open"
        ),
    }

    alice.h().send_text("unaffected").unwrap();
    expect_message(&mut bob, &alice, "unaffected");
    bob.h().send_text("likewise").unwrap();
    expect_message(&mut alice, &bob, "likewise");
    assert_eq!(expect_users(&mut alice), ["alice", "bob"]);
}

#[test]
fn wire_carries_no_plaintext() {
    let server = TestServer::start();
    let alice_wire = Proxy::start(server.addr);
    let carol_wire = Proxy::start(server.addr);
    let mut alice = TestClient::connect(alice_wire.addr, "alice");
    let mut carol = TestClient::connect(carol_wire.addr, "carol");
    assert_eq!(expect_users(&mut alice), ["alice", "carol"]);
    start_chat(&mut alice, &mut carol);
    let secrets = ["the eagle lands at midnight", "bring the blue folder"];
    alice.h().send_text(secrets[0]).unwrap();
    expect_message(&mut carol, &alice, secrets[0]);
    carol.h().send_text(secrets[1]).unwrap();
    expect_message(&mut alice, &carol, secrets[1]);
    alice.h().exit().unwrap();
    alice.expect_end();

    for wire in [alice_wire.recorded(), carol_wire.recorded()] {
        assert!(wire.len() > 1000, "the proxy saw the traffic");
        for plain in secrets.iter().chain(&["alice", "carol"]) {
            assert!(
                !contains(&wire, plain.as_bytes()),
                "{plain:?} appears on the wire"
            );
        }
    }
}

#[test]
fn server_shutdown_says_goodbye() {
    let server = TestServer::start();
    let mut alice = TestClient::connect(server.addr, "alice");
    let mut bob = TestClient::connect(server.addr, "bob");
    start_chat(&mut alice, &mut bob);

    let took = server.stop();
    assert!(took < WAIT, "shutdown took {took:?}");
    for (client, peer) in [(&mut alice, "bob"), (&mut bob, "alice")] {
        client.expect("the server's goodbye", |e| {
            matches!(e, ClientEvent::Closed { reason } if *reason == CloseReason::SHUTDOWN)
                .then_some(())
        });
        let reason = client.expect("the end of the chat", |e| match e {
            ClientEvent::ChatEnded { peer: p, reason } if *p == user(peer) => Some(reason.clone()),
            _ => None,
        });
        // The first one closed ends its chat itself; the other hears the peer left first.
        assert!(
            matches!(
                reason,
                ChatEndReason::Disconnected | ChatEndReason::PeerGone(_)
            ),
            "{reason:?}"
        );
        let rest = client.expect_end();
        assert!(
            rest.contains(&ClientEvent::ConnectionLost { clean: true }),
            "{rest:?}"
        );
    }
}

#[test]
fn backpressure_keeps_a_bulk_transfer_whole_and_in_order() {
    // A tiny high-water mark makes the relay pause alice's reader again and again.
    let server = TestServer::start_with(ServerOptions {
        relay: RelayConfig {
            output_high_water: 4 * 1024,
            ..RelayConfig::default()
        },
    });
    let mut alice = TestClient::connect(server.addr, "alice");
    let mut bob = TestClient::connect(server.addr, "bob");
    start_chat(&mut alice, &mut bob);
    const COUNT: usize = 200;
    let text = |i: usize| format!("{i:05}{}", "x".repeat(4000));
    let sender = alice.h().clone();
    let sending = std::thread::spawn(move || {
        for i in 0..COUNT {
            sender.send_text(text(i)).unwrap();
        }
    });
    for i in 0..COUNT {
        expect_message(&mut bob, &alice, &text(i));
    }
    sending.join().unwrap();
}

#[test]
fn wrong_server_name_fails_the_handshake() {
    let server = TestServer::start();
    let result = Client::connect(
        server.addr,
        client_config_for("alice", "example.com"),
        ClientOptions::default(),
    );
    match result {
        Err(ConnectError::Handshake(HandshakeError::Certificate(
            CertificateError::NameMismatch,
        ))) => {}
        other => panic!("expected a certificate error, got {:?}", other.map(|_| ())),
    }
    // The server is fine.
    let mut alice = TestClient::connect(server.addr, "alice");
    assert_eq!(expect_users(&mut alice), ["alice"]);
}
