//! The test kit's own tests: the parts of the world only the fuzz targets use otherwise.

use super::pair::{SESSION_ID, genuine, session_pair};
use super::world::login::LoginError;
use super::world::{DriveError, End, World};
use crate::codec::Codec;
use crate::command::{Request, RequestBody};
use crate::handshake::HandshakeError;
use crate::relay::{OfflineReason, RelayConfig, RelayError, RelayEvent};
use crate::session::{Channel, CloseReason};

#[test]
fn the_genuine_handshake_completes_in_four_flights() {
    let run = genuine();
    assert_eq!(run.flights.len(), 4);
    assert!(run.flights.iter().all(|f| !f.is_empty()));
    let (client, server) = session_pair().unwrap();
    assert_eq!(client.session_id(), SESSION_ID);
    assert_eq!(server.session_id(), SESSION_ID);
}

#[test]
fn a_bare_session_reaches_the_command_layer() {
    let mut w = World::new(RelayConfig::default());
    let i = w.connect_session("alice").unwrap();
    let conn = w.peers[i].conn;
    let exit = Request {
        id: 1,
        body: RequestBody::Exit,
    };
    let session = w.peers[i].session().unwrap();
    session
        .send(Channel::Standard, &exit.to_bytes().unwrap())
        .unwrap();
    w.drive().unwrap();
    let exited = |e: &RelayEvent| {
        matches!(e, RelayEvent::UserOffline { connection, reason, .. }
            if *connection == conn && *reason == OfflineReason::Exit)
    };
    assert!(w.relay_events.iter().any(exited));
    assert!(!w.peers[i].connected);
    assert!(w.lost.contains(&conn));
    assert_eq!(w.check(), Ok(()));
}

#[test]
fn a_raw_connection_sending_garbage_is_closed_alone() {
    let mut w = World::new(RelayConfig::default());
    let alice = w.connect("alice").unwrap();
    let raw = w.connect_raw().unwrap();
    assert!(matches!(w.peers[raw].end, End::Raw));
    w.send_up(raw, &[0xff; 64]);
    w.drive().unwrap();
    let conn = w.peers[raw].conn;
    assert!(w.relay_events.iter().any(
        |e| matches!(e, RelayEvent::HandshakeFailed { connection, .. } if *connection == conn)
    ));
    assert!(!w.peers[raw].connected);
    assert!(w.peers[alice].connected);
    assert!(w.relay.is_online(w.peers[alice].conn));
}

#[test]
fn logins_fail_with_their_reason() {
    let mut w = World::new(RelayConfig {
        max_handshaking: 1,
        ..RelayConfig::default()
    });
    assert_eq!(w.connect("mallory").err(), Some(LoginError::UnknownUser));
    w.connect("alice").unwrap();
    assert_eq!(
        w.connect("alice").err(),
        Some(LoginError::Handshake(HandshakeError::Rejected(
            CloseReason::ALREADY_LOGGED_IN
        )))
    );
    w.connect_raw().unwrap();
    assert_eq!(
        w.connect("bob").err(),
        Some(LoginError::Relay(RelayError::TooManyConnections))
    );
    assert_eq!(w.connect_raw().err(), Some(RelayError::TooManyConnections));
}

#[test]
fn output_for_a_lost_connection_is_reported() {
    let mut w = World::new(RelayConfig::default());
    let i = w.connect("alice").unwrap();
    let conn = w.peers[i].conn;
    // The test claims the connection was lost without telling the relay.
    w.lost.insert(conn);
    w.peers[i].client().unwrap().list_users(w.now).unwrap();
    assert_eq!(w.drive(), Err(DriveError::TransmitToLost(conn)));
    assert_eq!(w.check(), Err(DriveError::OutputForLost(conn)));
}
