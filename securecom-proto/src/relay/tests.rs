//! The relay's pre-authentication limits: places in the handshake per source address, and
//! the short deadline for a connection that never says hello.

use alloc::sync::Arc;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use core::time::Duration;

use super::*;
use crate::handshake::{ClientHandshake, DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_HELLO_TIMEOUT};
use crate::testkit::{TestRng, fixtures};

fn relay(per_source: usize) -> Relay {
    let config = RelayConfig {
        max_handshaking: 10,
        max_handshaking_per_source: per_source,
        ..RelayConfig::default()
    };
    Relay::new(fixtures::server_config(), config)
}

fn v4(last: u8) -> Option<IpAddr> {
    Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, last)))
}

fn v6(net: u16, host: u16) -> Option<IpAddr> {
    Some(IpAddr::V6(Ipv6Addr::new(
        0x2001, 0xdb8, 0, net, 0, 0, 0, host,
    )))
}

#[test]
fn one_source_cannot_take_every_handshake_place() {
    let mut r = relay(3);
    let mut rng = TestRng::new(1);
    let now = Instant::ZERO;
    for _ in 0..3 {
        r.open_connection_from(now, v4(1), &mut rng).unwrap();
    }
    assert_eq!(
        r.open_connection_from(now, v4(1), &mut rng),
        Err(RelayError::TooManyFromSource)
    );
    // Another address still gets in, and so does a connection of unknown origin.
    r.open_connection_from(now, v4(2), &mut rng).unwrap();
    r.open_connection(now, &mut rng).unwrap();
    // IPv6 counts per /64: two hosts of one network share its places.
    for host in 1..=3 {
        r.open_connection_from(now, v6(7, host), &mut rng).unwrap();
    }
    assert_eq!(
        r.open_connection_from(now, v6(7, 99), &mut rng),
        Err(RelayError::TooManyFromSource)
    );
    r.open_connection_from(now, v6(8, 1), &mut rng).unwrap();
    r.check_invariants().unwrap();
    // The total limit still holds over every source.
    assert_eq!(r.handshaking_count(), 9);
    r.open_connection_from(now, v4(3), &mut rng).unwrap();
    assert_eq!(
        r.open_connection_from(now, v4(4), &mut rng),
        Err(RelayError::TooManyConnections)
    );
}

#[test]
fn a_silent_connection_gives_its_place_back_at_the_hello_deadline() {
    let mut r = relay(1);
    let mut rng = TestRng::new(2);
    let start = Instant::ZERO;
    let id = r.open_connection_from(start, v4(1), &mut rng).unwrap();
    assert_eq!(r.poll_timeout(), Some(start + DEFAULT_HELLO_TIMEOUT));
    assert_eq!(
        r.open_connection_from(start, v4(1), &mut rng),
        Err(RelayError::TooManyFromSource)
    );
    r.handle_timeout(start + DEFAULT_HELLO_TIMEOUT);
    assert!(matches!(
        r.poll_event(),
        Some(RelayEvent::HandshakeFailed {
            connection,
            error: crate::handshake::HandshakeError::Timeout,
        }) if connection == id
    ));
    r.check_invariants().unwrap();
    // Its place is free again, long before the whole handshake timeout.
    r.open_connection_from(start + DEFAULT_HELLO_TIMEOUT, v4(1), &mut rng)
        .unwrap();
    r.connection_lost(id);
    r.check_invariants().unwrap();
}

#[test]
fn after_the_hello_the_whole_handshake_timeout_applies() {
    let config = fixtures::server_config();
    let mut rng = TestRng::new(3);
    let start = Instant::ZERO;
    let server = crate::handshake::ServerHandshake::new(Arc::clone(&config), &mut rng, start);
    assert_eq!(server.poll_timeout(), Some(start + DEFAULT_HELLO_TIMEOUT));
    let client = ClientHandshake::start(
        fixtures::client_config("alice"),
        &mut rng,
        start,
        fixtures::VALID_TIME,
    );
    let hello = client.output().to_vec();
    let later = start + Duration::from_secs(1);
    match server.handle_input(later, &hello) {
        Ok(crate::handshake::ServerProgress::Continue(server)) => {
            assert_eq!(
                server.poll_timeout(),
                Some(start + DEFAULT_HANDSHAKE_TIMEOUT)
            );
        }
        Ok(_) => panic!("authenticated on a hello"),
        Err(e) => panic!("the hello was refused: {e}"),
    }
}

#[test]
fn the_hello_deadline_is_never_past_the_handshake_deadline() {
    let short = fixtures::server_config_with_handshake_timeout(Duration::from_secs(1));
    assert_eq!(short.hello_timeout(), Duration::from_secs(1));
}
