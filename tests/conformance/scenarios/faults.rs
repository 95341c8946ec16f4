//! Connections that fail under a chat: one cut abruptly, one whose client stops reading.

use std::thread;
use std::time::Duration;

use securecom::host::driver::ClientOptions;
use securecom::proto::client::{ChatEndReason, ClientError, ClientEvent, Misuse, SessionEnd};
use securecom::proto::command::GoneReason;
use securecom::proto::relay::RelayConfig;

use crate::suite::harness::{Driver, Handle};
use crate::suite::net::Net;
use crate::suite::proxy::Proxy;
use crate::suite::steps::{chat_ended, expect_message, start_chat, users};

/// Scenario 4: bob's connection is cut without a goodbye; alice's chat ends with the
/// relay's reason, bob's client notices the unclean end.
pub(crate) fn abrupt_disconnect_ends_the_partners_chat<D: Driver>() {
    let net = Net::<D>::start(RelayConfig::default()).unwrap();
    let proxy = Proxy::start(net.addr()).unwrap();
    let mut alice = net.login("alice").unwrap();
    let mut bob = net
        .login_via(proxy.addr(), "bob", ClientOptions::default())
        .unwrap();
    start_chat(&mut alice, &mut bob);
    bob.h().send_text("about to vanish").unwrap();
    expect_message(&mut alice, "bob", "about to vanish");

    proxy.cut();
    assert_eq!(
        chat_ended(&mut alice, "bob"),
        ChatEndReason::PeerGone(GoneReason::DISCONNECTED)
    );
    assert_eq!(chat_ended(&mut bob, "alice"), ChatEndReason::Disconnected);
    let rest = bob.events_until_closed();
    assert_eq!(
        rest.last(),
        Some(&ClientEvent::ConnectionLost { clean: false }),
        "{rest:?}"
    );
    assert_eq!(
        bob.h().list_users(),
        Err(ClientError::Ended(SessionEnd::ConnectionLost))
    );
    assert_eq!(users(&mut alice), ["alice"]);
}

/// Scenario 5's write deadline.
const WRITE_TIMEOUT: Duration = Duration::from_secs(1);
/// Scenario 5's high-water mark: small, so the relay soon stops reading alice.
const HIGH_WATER: usize = 8 * 1024;
/// Scenario 5's hard limit: out of reach, so that the write deadline alone must end the
/// stall. (Within reach, the relay would drop bob as too slow, also `STALLED`, or not,
/// depending on how far the driver read alice ahead of the relay: a race, and no test of
/// the deadline.)
const HARD_LIMIT: usize = 1 << 30;

/// Scenario 5: bob's client stops reading (its proxy holds) while alice keeps sending to
/// him. The relay stops reading alice once bob's output passes the high-water mark, so
/// only bob's write deadline can free her. Bob must be dropped, alice told he stalled and
/// served again, and the server serve on.
pub(crate) fn a_peer_that_stops_reading_is_dropped<D: Driver>() {
    let relay = RelayConfig {
        write_timeout: WRITE_TIMEOUT,
        output_high_water: HIGH_WATER,
        output_hard_limit: HARD_LIMIT,
        ..RelayConfig::default()
    };
    let net = Net::<D>::start(relay).unwrap();
    let proxy = Proxy::start(net.addr()).unwrap();
    let mut alice = net.login("alice").unwrap();
    let mut bob = net
        .login_via(proxy.addr(), "bob", ClientOptions::default())
        .unwrap();
    start_chat(&mut alice, &mut bob);
    alice.h().send_text("can you read me?").unwrap();
    expect_message(&mut bob, "alice", "can you read me?");

    proxy.hold();
    // Alice sends until her client refuses, outside a chat.
    let sender = alice.h().clone();
    let sending = thread::spawn(move || {
        let mut sent = 0usize;
        loop {
            let text = format!("{sent:06} {}", "x".repeat(4000));
            match sender.send_text(text) {
                Ok(()) => sent += 1,
                Err(e) => return (sent, e),
            }
        }
    });
    assert_eq!(
        chat_ended(&mut alice, "bob"),
        ChatEndReason::PeerGone(GoneReason::STALLED)
    );
    let (sent, stopped) = sending.join().unwrap();
    assert_eq!(
        stopped,
        ClientError::Misuse(Misuse::InvalidState("not in a chat"))
    );
    assert!(sent > 0);

    // Alice is served again, and bob is gone; a fresh login works.
    assert_eq!(users(&mut alice), ["alice"]);
    let mut carol = net.login("carol").unwrap();
    assert_eq!(users(&mut carol), ["alice", "carol"]);

    // Once its bytes flow again, bob's client sees its connection end.
    proxy.release();
    let rest = bob.events_until_closed();
    assert!(
        matches!(rest.last(), Some(ClientEvent::ConnectionLost { .. })),
        "{:?}",
        rest.last()
    );
}
