//! The client's callback daemon: the server's callback connection carrying notices, and
//! connections that are not the server's (a stranger, one that stays silent, more than the
//! daemon holds).

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use securecom::host::driver::ClientOptions;
use securecom::proto::client::{ChatEndReason, ClientEvent};
use securecom::proto::codec::ContentType;
use securecom::proto::endpoint::ClientLimits;
use securecom::proto::relay::RelayConfig;

use crate::suite::harness::{Driver, Handle, PROMPT};
use crate::suite::net::Net;
use crate::suite::steps::{ask, chat_ended, expect_message, start_chat, users};
use crate::suite::tcp::{self, Closing};

/// Options with a callback daemon on an ephemeral loopback port, under `limits`.
fn with_daemon(limits: ClientLimits) -> ClientOptions {
    ClientOptions {
        callback_listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        limits,
        ..ClientOptions::default()
    }
}

/// True for a connection closed without a byte sent.
fn closed_silently(outcome: &Closing) -> bool {
    matches!(outcome, Closing::Closed { received, .. } if received.is_empty())
}

/// Alice's daemon takes the server's callback connection: bob's chat request, a notice,
/// reaches her over it, and their chat works both ways. A stranger connecting to the
/// daemon with a frame that is not the server's hello is closed at once, without a byte;
/// alice's session and callback connection go on (bob's next message arrives, and so does
/// carol's request, another notice, once that chat is over).
pub(crate) fn callback_channel_carries_notices<D: Driver>() {
    let net = Net::<D>::start(RelayConfig::default()).unwrap();
    let mut alice = net
        .login_with("alice", with_daemon(ClientLimits::default()))
        .unwrap();
    let mut bob = net.login("bob").unwrap();
    let mut carol = net.login("carol").unwrap();
    let daemon = alice.h().callback_addr().unwrap();
    alice.h().register_callback(daemon.port()).unwrap();
    let attached = alice.expect("the callback connection", |e| {
        matches!(e, ClientEvent::CallbackAttached)
    });
    assert_eq!(attached, ClientEvent::CallbackAttached);

    start_chat(&mut bob, &mut alice);
    bob.h().send_text("over the callback").unwrap();
    expect_message(&mut alice, "bob", "over the callback");
    alice.h().send_text("and back").unwrap();
    expect_message(&mut bob, "alice", "and back");

    // A one-byte handshake frame: not the server's hello.
    let opened = Instant::now();
    let mut stranger = TcpStream::connect(daemon).unwrap();
    stranger
        .write_all(&[ContentType::HANDSHAKE.0, 0, 0, 0, 1, 0])
        .unwrap();
    let outcome = tcp::wait_closed(&mut stranger, opened + PROMPT).unwrap();
    assert!(
        closed_silently(&outcome),
        "the stranger, {outcome:?} after {:?}: it should be closed at once",
        opened.elapsed()
    );

    bob.h().send_text("still attached").unwrap();
    expect_message(&mut alice, "bob", "still attached");
    bob.h().leave_chat().unwrap();
    assert_eq!(chat_ended(&mut alice, "bob"), ChatEndReason::PeerClosed);
    ask(&mut carol, &mut alice);
}

/// Scenario 6: a connection to alice's daemon that never presents the server's hello is
/// closed at the configured hello timeout (not before, and well before the default one).
pub(crate) fn a_silent_callback_connection_is_closed_at_its_hello_timeout<D: Driver>() {
    let hello_timeout = Duration::from_millis(300);
    let net = Net::<D>::start(RelayConfig::default()).unwrap();
    let limits = ClientLimits {
        callback_hello_timeout: hello_timeout,
        ..ClientLimits::default()
    };
    let mut alice = net.login_with("alice", with_daemon(limits)).unwrap();
    let daemon = alice.h().callback_addr().unwrap();

    // Taken before connecting: the daemon's timer cannot start earlier.
    let opened = Instant::now();
    let mut silent = TcpStream::connect(daemon).unwrap();
    let outcome = tcp::wait_closed(&mut silent, opened + hello_timeout + PROMPT).unwrap();
    let took = opened.elapsed();
    assert!(
        closed_silently(&outcome),
        "a silent connection, {outcome:?} after {took:?}: its hello timeout is {hello_timeout:?}"
    );
    assert!(
        took >= hello_timeout,
        "closed after {took:?}, within its hello timeout of {hello_timeout:?}"
    );
    assert_eq!(users(&mut alice), ["alice"]);
}

/// Scenario 7: alice's daemon holds two connections; a third is closed at once, the two
/// stay open. Bob, under the same limits with one place taken, still gets the server's
/// callback connection and his notices over it.
pub(crate) fn callback_connections_beyond_the_limit_are_closed_at_once<D: Driver>() {
    let limits = ClientLimits {
        max_callback_connections: 2,
        callback_hello_timeout: Duration::from_secs(120),
        ..ClientLimits::default()
    };
    let net = Net::<D>::start(RelayConfig::default()).unwrap();
    let mut alice = net.login_with("alice", with_daemon(limits)).unwrap();
    let daemon = alice.h().callback_addr().unwrap();

    let held = tcp::connect_silent(daemon, 2).unwrap();
    let opened = Instant::now();
    let mut third = TcpStream::connect(daemon).unwrap();
    let outcome = tcp::wait_closed(&mut third, opened + PROMPT).unwrap();
    assert!(
        closed_silently(&outcome),
        "the third connection, {outcome:?} after {:?}: it should be closed at once",
        opened.elapsed()
    );
    for (i, stream) in held.iter().enumerate() {
        assert!(
            tcp::is_quiet(stream).unwrap(),
            "connection {i}, within the limit, was closed"
        );
    }

    let mut bob = net.login_with("bob", with_daemon(limits)).unwrap();
    let bob_daemon = bob.h().callback_addr().unwrap();
    let taken = TcpStream::connect(bob_daemon).unwrap();
    bob.h().register_callback(bob_daemon.port()).unwrap();
    let attached = bob.expect("the callback connection", |e| {
        matches!(e, ClientEvent::CallbackAttached)
    });
    assert_eq!(attached, ClientEvent::CallbackAttached);
    // The request is a notice: it reaches bob over the callback connection.
    ask(&mut alice, &mut bob);
    assert!(tcp::is_quiet(&taken).unwrap(), "the place taken was closed");
    assert_eq!(users(&mut bob), ["alice", "bob"]);
}
