//! What an observer of the wire sees: no chat text and no username.

use securecom::host::driver::ClientOptions;
use securecom::proto::relay::RelayConfig;

use crate::suite::harness::{Driver, Handle};
use crate::suite::net::Net;
use crate::suite::proxy::Proxy;
use crate::suite::steps::{expect_message, start_chat, users};

/// What alice and carol say to each other.
const SECRETS: [&str; 2] = ["the eagle lands at midnight", "bring the blue folder"];

/// True when `needle` occurs in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// `name` as the protocol carries a username: its length byte, then the name. (Searched
/// for bare, a three-letter name would turn up by chance in the kilobytes of ciphertext
/// about once in two thousand runs.)
fn encoded(name: &str) -> Vec<u8> {
    let len = u8::try_from(name.len()).unwrap();
    [&[len], name.as_bytes()].concat()
}

/// Alice and carol connect through recording proxies, bob directly. They log in, list
/// who is online (every name is in the answer), chat both ways, and alice leaves the
/// server. Neither proxy saw a chat text or any username on the wire: the handshake sends
/// the username only encrypted, and everything after it is encrypted.
pub(crate) fn the_wire_shows_no_chat_text_and_no_username<D: Driver>() {
    let net = Net::<D>::start(RelayConfig::default()).unwrap();
    let (alice_wire, carol_wire) = (
        Proxy::start(net.addr()).unwrap(),
        Proxy::start(net.addr()).unwrap(),
    );
    let mut alice = net
        .login_via(alice_wire.addr(), "alice", ClientOptions::default())
        .unwrap();
    let _bob = net.login("bob").unwrap();
    let mut carol = net
        .login_via(carol_wire.addr(), "carol", ClientOptions::default())
        .unwrap();
    assert_eq!(users(&mut alice), ["alice", "bob", "carol"]);
    assert_eq!(users(&mut carol), ["alice", "bob", "carol"]);

    start_chat(&mut alice, &mut carol);
    alice.h().send_text(SECRETS[0]).unwrap();
    expect_message(&mut carol, "alice", SECRETS[0]);
    carol.h().send_text(SECRETS[1]).unwrap();
    expect_message(&mut alice, "carol", SECRETS[1]);
    alice.h().exit().unwrap();
    // Her connection is over: everything she sent and received went through her proxy.
    // Whatever carol received came through hers before she saw it.
    alice.events_until_closed();

    for (whose, wire) in [
        ("alice", alice_wire.recorded()),
        ("carol", carol_wire.recorded()),
    ] {
        assert!(
            wire.len() > 1000,
            "{whose}'s proxy saw {} bytes: not the traffic",
            wire.len()
        );
        for text in SECRETS {
            assert!(
                !contains(&wire, text.as_bytes()),
                "{text:?} appears on {whose}'s wire"
            );
        }
        for name in ["alice", "bob", "carol"] {
            assert!(
                !contains(&wire, &encoded(name)),
                "the username {name} appears on {whose}'s wire"
            );
        }
    }
}
