//! Stopping a server: gracefully while sessions and a chat go on, and before it ever ran.

use std::io::ErrorKind;
use std::net::TcpStream;
use std::time::Instant;

use securecom::proto::client::{ChatEndReason, ClientEvent};
use securecom::proto::command::GoneReason;
use securecom::proto::handshake::DEFAULT_HANDSHAKE_TIMEOUT;
use securecom::proto::relay::RelayConfig;
use securecom::proto::session::CloseReason;

use crate::suite::fixtures;
use crate::suite::harness::{Driver, PROMPT};
use crate::suite::net::Net;
use crate::suite::steps::{start_chat, user};

/// A server stopped gracefully, with carol idle and alice chatting with bob: `run`
/// returns `Ok`, and every session gets the server's goodbye (`Closed(SHUTDOWN)`) and a
/// clean end. The relay closes the two chatting sessions one after the other: the first
/// one closed ends its chat on the goodbye (`Disconnected`), the other first hears that
/// its peer is gone because of the shutdown.
pub(crate) fn server_shutdown_says_goodbye<D: Driver>() {
    let net = Net::<D>::start(RelayConfig::default()).unwrap();
    let mut alice = net.login("alice").unwrap();
    let mut bob = net.login("bob").unwrap();
    let mut carol = net.login("carol").unwrap();
    start_chat(&mut alice, &mut bob);

    net.stop().unwrap();
    let goodbye = [
        ClientEvent::Closed {
            reason: CloseReason::SHUTDOWN,
        },
        ClientEvent::ConnectionLost { clean: true },
    ];
    let rest = carol.events_until_closed();
    assert!(rest.ends_with(&goodbye), "carol: {rest:?}");
    let ends = [(&mut alice, "bob"), (&mut bob, "alice")].map(|(client, peer)| {
        let rest = client.events_until_closed();
        match rest.as_slice() {
            [.., ClientEvent::ChatEnded { peer: p, reason }, closed, lost]
                if *p == user(peer) && [closed, lost] == [&goodbye[0], &goodbye[1]] =>
            {
                reason.clone()
            }
            _ => panic!("{}: {rest:?}", client.user()),
        }
    });
    assert!(
        ends.contains(&ChatEndReason::Disconnected)
            && ends.contains(&ChatEndReason::PeerGone(GoneReason::SHUTDOWN)),
        "alice's and bob's chats ended with {ends:?}"
    );
}

/// A server whose shutdown was requested before it ran: `run` returns `Ok` at once, and
/// its listener is closed (a connection to its address is refused).
pub(crate) fn a_server_shut_down_before_it_runs_returns_at_once<D: Driver>() {
    let driver = D::new().unwrap();
    let config = fixtures::server_config(DEFAULT_HANDSHAKE_TIMEOUT);
    let started = Instant::now();
    let addr = driver
        .run_shut_down(config, RelayConfig::default())
        .unwrap();
    let took = started.elapsed();
    assert!(took < PROMPT, "run returned after {took:?}");
    let refused = TcpStream::connect(addr).map(|_| ()).map_err(|e| e.kind());
    assert_eq!(refused, Err(ErrorKind::ConnectionRefused));
}
