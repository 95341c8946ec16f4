//! Feeding the handshake machines a wire in chunks, and what the handshake targets share
//! about the genuine handshake.

use alloc::vec::Vec;

use super::input::chunks;
use crate::codec::{ContentType, FRAME_HEADER_LEN};
use crate::handshake::{
    ClientHandshake, ClientProgress, HandshakeError, ServerHandshake, ServerProgress,
};
use crate::session::Session;
use crate::testkit::fixtures;
use crate::testkit::pair::{SESSION_ID, T0, USER};
use crate::testkit::world::drain_session as drain;

/// How far a handshake target drove the machine under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reached {
    /// The emulated peer could not go on (its peer's reply was not what it expected).
    Stopped,
    /// The machine failed the handshake.
    Failed,
    /// The machine waits for more input.
    Waiting,
    /// The handshake completed.
    Established,
}

/// A client handshake after a wire of input.
#[allow(clippy::large_enum_variant, reason = "moved once per input")]
pub(super) enum ClientFed {
    Continue(ClientHandshake),
    Established(Session),
    Failed(HandshakeError),
}

pub(super) fn feed_client(mut hs: ClientHandshake, wire: &[u8], size: u8) -> ClientFed {
    let mut pieces = chunks(wire, size);
    while let Some(piece) = pieces.next() {
        match hs.handle_input(T0, piece) {
            Ok(ClientProgress::Continue(next)) => hs = next,
            Ok(ClientProgress::Established {
                mut session,
                consumed,
                ..
            }) => {
                assert!(consumed <= piece.len());
                drain(&mut session, piece.get(consumed..).unwrap_or(&[]));
                for piece in pieces {
                    drain(&mut session, piece);
                }
                return ClientFed::Established(session);
            }
            Err(e) => return ClientFed::Failed(e),
        }
    }
    ClientFed::Continue(hs)
}

/// A server handshake after a wire of input.
#[allow(clippy::large_enum_variant, reason = "moved once per input")]
pub(super) enum ServerFed {
    Continue(ServerHandshake),
    Authenticated(Session),
    Failed(HandshakeError),
}

pub(super) fn feed_server(mut hs: ServerHandshake, wire: &[u8], size: u8) -> ServerFed {
    let mut pieces = chunks(wire, size);
    while let Some(piece) = pieces.next() {
        match hs.handle_input(T0, piece) {
            Ok(ServerProgress::Continue(next)) => hs = next,
            Ok(ServerProgress::Authenticated { client, consumed }) => {
                assert!(consumed <= piece.len());
                assert_eq!(client.username().as_str(), USER);
                assert_eq!(
                    client.public_key(),
                    &fixtures::get().user(0).identity.public_key()
                );
                let mut session = client.accept(SESSION_ID);
                drain(&mut session, piece.get(consumed..).unwrap_or(&[]));
                for piece in pieces {
                    drain(&mut session, piece);
                }
                return ServerFed::Authenticated(session);
            }
            Err(e) => return ServerFed::Failed(e),
        }
    }
    ServerFed::Continue(hs)
}

/// The wire alert of a handshake error is the one generic alert, except when the peer
/// itself ended the handshake.
pub(super) fn check_alert(e: &HandshakeError) {
    match e {
        HandshakeError::PeerAlert(_) | HandshakeError::Rejected(_) => {
            assert!(e.wire_alert().is_none());
        }
        _ => assert!(e.wire_alert().is_some()),
    }
}

/// The first frame's payload (if it is a plaintext handshake frame) and everything after.
pub(super) fn split_first_frame(wire: &[u8]) -> Option<(&[u8], &[u8])> {
    let header = wire.get(..FRAME_HEADER_LEN)?;
    if header.first() != Some(&ContentType::HANDSHAKE.0) {
        return None;
    }
    let len = u32::from_be_bytes(header.get(1..5)?.try_into().ok()?);
    let end = FRAME_HEADER_LEN.checked_add(usize::try_from(len).ok()?)?;
    Some((wire.get(FRAME_HEADER_LEN..end)?, wire.get(end..)?))
}

/// The four flights of the genuine handshake, as on the wire: ClientHello, the server's
/// flight, the client's flight, the Welcome.
pub(super) fn genuine_flights() -> Vec<Vec<u8>> {
    crate::testkit::pair::genuine().flights
}
