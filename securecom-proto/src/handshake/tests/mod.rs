//! Handshake tests: a flight-by-flight harness between the two machines, with hooks to
//! tamper with what crosses the wire.

mod crl;
mod failures;
mod proptests;
mod sweep;
mod vectors;

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::time::Duration;

use super::*;
use crate::codec::{FRAME_HEADER_LEN, MAX_FRAME_LEN};
use crate::session::{Channel, Incoming, Session};
use crate::testkit::fixtures::*;
use crate::testkit::{TestRng, hex};
use crate::time::Instant;

pub(super) const T0: Instant = Instant::ZERO;

/// The four flights of a handshake, in order.
pub(super) const CLIENT_HELLO: usize = 0;
pub(super) const SERVER_FLIGHT: usize = 1;
pub(super) const CLIENT_FLIGHT: usize = 2;
pub(super) const WELCOME: usize = 3;

/// How a handshake run ended.
#[derive(Debug)]
#[allow(clippy::large_enum_variant, reason = "test outcome, moved once")]
pub(super) enum Outcome {
    Established {
        client: Session,
        server: Session,
    },
    ClientFailed(HandshakeError),
    ServerFailed(HandshakeError),
    /// The post-handshake bytes broke an established session.
    SessionFailed(
        #[allow(
            dead_code,
            reason = "no test expects it: read through Debug in failures"
        )]
        crate::session::SessionError,
    ),
    /// A side waits for bytes that will never come: its timer would fire.
    Stalled,
}

impl Outcome {
    pub(super) fn established(self) -> (Session, Session) {
        match self {
            Outcome::Established { client, server } => (client, server),
            other => panic!("handshake did not complete: {other:?}"),
        }
    }

    pub(super) fn is_established(&self) -> bool {
        matches!(self, Outcome::Established { .. })
    }
}

/// The parties of one run.
pub(super) struct Run {
    pub(super) client: ClientHandshake,
    pub(super) server: ServerHandshake,
}

impl Run {
    pub(super) fn new(client: Arc<ClientConfig>, client_seed: u64, server_seed: u64) -> Self {
        Run {
            client: ClientHandshake::start(client, &mut TestRng::new(client_seed), T0, VALID_TIME),
            server: ServerHandshake::new(server_config(), &mut TestRng::new(server_seed), T0),
        }
    }

    pub(super) fn genuine(user: &str) -> Self {
        Run::new(client_config(user), 1, 2)
    }

    /// Runs the four flights, letting `tamper(flight, bytes)` change each on the wire.
    pub(super) fn drive(self, mut tamper: impl FnMut(usize, &mut Vec<u8>)) -> Outcome {
        let Run { mut client, server } = self;
        let mut flight = take_output(client.output());
        client.consume_output(flight.len());
        tamper(CLIENT_HELLO, &mut flight);
        let mut server = match server.handle_input(T0, &flight) {
            Ok(ServerProgress::Continue(s)) => s,
            Ok(ServerProgress::Authenticated { .. }) => panic!("authenticated from a hello"),
            Err(e) => return Outcome::ServerFailed(e),
        };

        let mut flight = take_output(server.output());
        server.consume_output(flight.len());
        tamper(SERVER_FLIGHT, &mut flight);
        let mut client = match client.handle_input(T0, &flight) {
            Ok(ClientProgress::Continue(c)) => c,
            Ok(ClientProgress::Established { .. }) => panic!("established before welcome"),
            Err(e) => return Outcome::ClientFailed(e),
        };

        let mut flight = take_output(client.output());
        client.consume_output(flight.len());
        tamper(CLIENT_FLIGHT, &mut flight);
        let mut server_session = match server.handle_input(T0, &flight) {
            Ok(ServerProgress::Continue(_)) => return Outcome::Stalled,
            Ok(ServerProgress::Authenticated { client, consumed }) => {
                let mut session = client.accept(7);
                if let Err(e) = feed(&mut session, &flight[consumed..]) {
                    return Outcome::SessionFailed(e);
                }
                session
            }
            Err(e) => return Outcome::ServerFailed(e),
        };

        let mut flight = take_output(server_session.output());
        server_session.consume_output(flight.len());
        tamper(WELCOME, &mut flight);
        match client.handle_input(T0, &flight) {
            Ok(ClientProgress::Continue(_)) => Outcome::Stalled,
            Ok(ClientProgress::Established {
                mut session,
                consumed,
                ..
            }) => {
                if let Err(e) = feed(&mut session, &flight[consumed..]) {
                    return Outcome::SessionFailed(e);
                }
                if session.buffered_input() > 0 || server_session.buffered_input() > 0 {
                    // Half a frame of junk is waiting: the next bytes decide its fate.
                    return Outcome::Stalled;
                }
                Outcome::Established {
                    client: session,
                    server: server_session,
                }
            }
            Err(e) => Outcome::ClientFailed(e),
        }
    }
}

fn take_output(out: &[u8]) -> Vec<u8> {
    out.to_vec()
}

/// Gives `bytes` to a session; any record in them is unexpected here.
pub(super) fn feed(
    session: &mut Session,
    mut bytes: &[u8],
) -> Result<(), crate::session::SessionError> {
    loop {
        let n = session.push_input(bytes);
        bytes = &bytes[n..];
        if let Some(record) = session.next_record()? {
            panic!("unexpected record {record:?}");
        }
        if bytes.is_empty() {
            return Ok(());
        }
    }
}

/// Sends `payload` from `from` to `to` on `channel` and returns what `to` received.
pub(super) fn transfer(
    from: &mut Session,
    to: &mut Session,
    channel: Channel,
    payload: &[u8],
) -> Vec<u8> {
    from.send(channel, payload).unwrap();
    let wire = from.output().to_vec();
    from.consume_output(wire.len());
    assert_eq!(to.push_input(&wire), wire.len());
    match to.next_record().unwrap() {
        Some(Incoming::Data {
            channel: got,
            payload,
        }) => {
            assert_eq!(got, channel);
            payload.to_vec()
        }
        other => panic!("expected data, got {other:?}"),
    }
}

/// Splits a flight into whole frames (header and payload), by the headers' lengths.
pub(super) fn split_frames(flight: &[u8]) -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    let mut rest = flight;
    while rest.len() >= FRAME_HEADER_LEN {
        let len = u32::from_be_bytes(rest[1..5].try_into().unwrap()) as usize;
        let end = (FRAME_HEADER_LEN + len.min(MAX_FRAME_LEN)).min(rest.len());
        frames.push(rest[..end].to_vec());
        rest = &rest[end..];
    }
    if !rest.is_empty() {
        frames.push(rest.to_vec());
    }
    frames
}

#[test]
fn full_handshake_then_records_both_ways_on_both_channels() {
    let (mut client, mut server) = Run::genuine("alice").drive(|_, _| {}).established();
    assert_eq!(client.session_id(), 7);
    assert_eq!(server.session_id(), 7);
    let (_, alice) = user("alice");
    assert_eq!(
        server.peer(),
        &crate::session::PeerIdentity::Client {
            username: crate::identity::Username::new("alice").unwrap(),
            key: alice.public_key(),
        }
    );
    match client.peer() {
        crate::session::PeerIdentity::Server { name, .. } => assert_eq!(name, "localhost"),
        other => panic!("{other:?}"),
    }
    for channel in [Channel::Standard, Channel::Request] {
        for i in 0..3u8 {
            let msg = [i; 100];
            assert_eq!(transfer(&mut client, &mut server, channel, &msg), msg);
            assert_eq!(transfer(&mut server, &mut client, channel, &msg), msg);
        }
    }
    // Both sides derive the same exporter output; distinct labels differ.
    let a = client.export_keying_material(b"test", b"ctx");
    assert_eq!(a, server.export_keying_material(b"test", b"ctx"));
    assert_ne!(a, server.export_keying_material(b"other", b"ctx"));
    assert_ne!(a, server.export_keying_material(b"test", b"ctx2"));
}

#[test]
fn authenticated_close_is_seen_by_the_peer() {
    let (mut client, mut server) = Run::genuine("bob").drive(|_, _| {}).established();
    client.close(crate::session::CloseReason::NORMAL).unwrap();
    let wire = client.output().to_vec();
    server.push_input(&wire);
    assert_eq!(
        server.next_record().unwrap(),
        Some(Incoming::Closed(crate::session::CloseReason::NORMAL))
    );
    assert!(server.is_closed());
    assert_eq!(
        client.send(Channel::Standard, b"late"),
        Err(crate::session::SessionError::Closed)
    );
}

#[test]
fn input_split_at_every_byte_boundary_still_completes() {
    // Deliver each flight one byte at a time: the machines must buffer partial frames.
    let Run { mut client, server } = Run::genuine("carol");
    let hello = client.output().to_vec();
    client.consume_output(hello.len());
    let mut server = Some(server);
    for b in &hello {
        server = match server
            .take()
            .unwrap()
            .handle_input(T0, core::slice::from_ref(b))
            .unwrap()
        {
            ServerProgress::Continue(s) => Some(s),
            other => panic!("{other:?}"),
        };
    }
    let mut server = server.unwrap();
    let flight = server.output().to_vec();
    server.consume_output(flight.len());
    let mut client = Some(client);
    for b in &flight {
        client = match client
            .take()
            .unwrap()
            .handle_input(T0, core::slice::from_ref(b))
            .unwrap()
        {
            ClientProgress::Continue(c) => Some(c),
            other => panic!("{other:?}"),
        };
    }
    let client = client.unwrap();
    let flight = client.output().to_vec();
    let mut server = Some(server);
    let mut authenticated = None;
    for (i, b) in flight.iter().enumerate() {
        match server
            .take()
            .unwrap()
            .handle_input(T0, core::slice::from_ref(b))
            .unwrap()
        {
            ServerProgress::Continue(s) => server = Some(s),
            ServerProgress::Authenticated { client, consumed } => {
                assert_eq!(consumed, 1);
                assert_eq!(i, flight.len() - 1);
                authenticated = Some(client);
            }
        }
    }
    assert_eq!(authenticated.unwrap().username().as_str(), "carol");
}

#[test]
fn handshake_times_out() {
    let Run { client, server } = Run::genuine("alice");
    let late = T0 + Duration::from_secs(10);
    assert_eq!(client.poll_timeout(), Some(late));
    // Waiting for the ClientHello, the server gives up after the shorter hello timeout.
    let hello_deadline = T0 + crate::handshake::DEFAULT_HELLO_TIMEOUT;
    assert_eq!(server.poll_timeout(), Some(hello_deadline));
    let server = server
        .handle_timeout(T0 + Duration::from_millis(1_999))
        .unwrap();
    assert_eq!(
        server.handle_timeout(hello_deadline).unwrap_err(),
        HandshakeError::Timeout
    );
    let server = ServerHandshake::new(server_config(), &mut TestRng::new(3), T0);
    assert_eq!(
        server.handle_timeout(late).unwrap_err(),
        HandshakeError::Timeout
    );
    // Input arriving after the deadline is not even looked at.
    let hello = client.output().to_vec();
    let server = ServerHandshake::new(server_config(), &mut TestRng::new(4), T0);
    assert_eq!(
        server.handle_input(late, &hello).unwrap_err(),
        HandshakeError::Timeout
    );
    assert_eq!(
        client.handle_timeout(late).unwrap_err(),
        HandshakeError::Timeout
    );
}
