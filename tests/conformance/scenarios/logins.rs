//! Scenario 9: a user logging in while already online, under both policies of the relay.

use securecom::host::driver::ConnectError;
use securecom::proto::client::{ChatEndReason, ClientEvent};
use securecom::proto::command::GoneReason;
use securecom::proto::handshake::HandshakeError;
use securecom::proto::relay::{DuplicateLogin, RelayConfig};
use securecom::proto::session::CloseReason;

use crate::suite::harness::{Driver, Handle};
use crate::suite::net::Net;
use crate::suite::steps::{chat_ended, expect_message, start_chat, user, users};

fn policy(duplicate_login: DuplicateLogin) -> RelayConfig {
    RelayConfig {
        duplicate_login,
        ..RelayConfig::default()
    }
}

/// `RejectNew`: the second login is refused in its handshake, and the first session goes
/// on as if nothing happened.
pub(crate) fn second_login_rejected<D: Driver>() {
    let net = Net::<D>::start(policy(DuplicateLogin::RejectNew)).unwrap();
    let mut first = net.login("alice").unwrap();
    let mut bob = net.login("bob").unwrap();
    start_chat(&mut first, &mut bob);

    match net.login("alice") {
        Err(ConnectError::Handshake(HandshakeError::Rejected(CloseReason::ALREADY_LOGGED_IN))) => {}
        Err(other) => panic!("the second login failed otherwise: {other:?}"),
        Ok(_) => panic!("the second login was let in"),
    }
    first.h().send_text("still me").unwrap();
    expect_message(&mut bob, "alice", "still me");
    bob.h().send_text("still you").unwrap();
    expect_message(&mut first, "bob", "still you");
    assert_eq!(users(&mut first), ["alice", "bob"]);
}

/// `ReplaceExisting`: the first session is closed (its chat partner told why) and the
/// second one works.
pub(crate) fn second_login_replaces_the_first<D: Driver>() {
    let net = Net::<D>::start(policy(DuplicateLogin::ReplaceExisting)).unwrap();
    let mut first = net.login("alice").unwrap();
    let mut bob = net.login("bob").unwrap();
    start_chat(&mut first, &mut bob);

    let mut second = net.login("alice").unwrap();
    let rest = first.events_until_closed();
    assert!(
        rest.ends_with(&[
            ClientEvent::ChatEnded {
                peer: user("bob"),
                reason: ChatEndReason::Disconnected,
            },
            ClientEvent::Closed {
                reason: CloseReason::REPLACED,
            },
            ClientEvent::ConnectionLost { clean: true },
        ]),
        "{rest:?}"
    );
    assert_eq!(
        chat_ended(&mut bob, "alice"),
        ChatEndReason::PeerGone(GoneReason::REPLACED)
    );

    assert_eq!(users(&mut second), ["alice", "bob"]);
    start_chat(&mut second, &mut bob);
    second.h().send_text("new device").unwrap();
    expect_message(&mut bob, "alice", "new device");
}
