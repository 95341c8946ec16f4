//! The client's callback daemon against connections that are not the server's: one that
//! stays silent, and more than the daemon holds.

use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use securecom::host::driver::ClientOptions;
use securecom::proto::client::ClientEvent;
use securecom::proto::endpoint::ClientLimits;
use securecom::proto::relay::RelayConfig;

use crate::suite::harness::{Driver, Handle, PROMPT};
use crate::suite::net::Net;
use crate::suite::steps::{ask, users};
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
