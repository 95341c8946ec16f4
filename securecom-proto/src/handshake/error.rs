//! Handshake errors: precise locally, generic on the wire.

use crate::codec::{ContentType, DecodeError, EncodeError, FrameError};
use crate::identity::Username;
use crate::pki::{CertificateError, FlightCrlError};
use crate::record::RecordError;
use crate::session::CloseReason;

use super::messages::HandshakeType;

/// The alert code sent for every handshake failure, whatever its cause, so a peer learns
/// nothing about which check failed.
pub const ALERT_HANDSHAKE_FAILURE: u8 = 0x28;

/// The alert frame for a failed handshake.
const FAILURE_ALERT_FRAME: [u8; 6] = [ContentType::ALERT.0, 0, 0, 0, 1, ALERT_HANDSHAKE_FAILURE];

/// Why a handshake failed. The variants are for the local side only; on the wire every
/// failure is the same [`ALERT_HANDSHAKE_FAILURE`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// A handshake message was malformed.
    #[error("malformed handshake message: {0}")]
    Decode(#[from] DecodeError),
    /// One of our own messages could not be encoded (for example, a certificate chain
    /// longer than the protocol carries): a local failure, not the peer's.
    #[error("cannot encode our handshake message: {0}")]
    Encode(#[from] EncodeError),
    /// The byte stream could not be framed (for example, an oversized frame).
    #[error("framing error: {0}")]
    Frame(#[from] FrameError),
    /// An encrypted handshake record failed to open: tampered, replayed or misdirected.
    #[error("encrypted handshake record rejected: {0}")]
    Record(#[from] RecordError),
    /// A message arrived that is not the one the state machine expects now.
    #[error("unexpected handshake message: expected {expected:?}, got {got:?}")]
    UnexpectedMessage {
        /// What this state waits for.
        expected: HandshakeType,
        /// What came.
        got: HandshakeType,
    },
    /// A frame of a content type that has no place at this point.
    #[error("unexpected frame: expected {expected:?}, got {got:?}")]
    UnexpectedFrame {
        /// The content type this state waits for.
        expected: ContentType,
        /// The content type received.
        got: ContentType,
    },
    /// The peer speaks another protocol version. There is no fallback.
    #[error("unsupported protocol version {theirs} (we speak {ours})")]
    UnsupportedVersion {
        /// Our version.
        ours: u16,
        /// The peer's.
        theirs: u16,
    },
    /// The server's certificate chain failed validation.
    #[error("server certificate rejected: {0}")]
    Certificate(#[from] CertificateError),
    /// The server, authenticated, carried a CRL in its flight that cannot be the trust
    /// anchor's current list (malformed, another issuer, a bad signature, no number, a
    /// partial CRL): a misconfigured or hostile server. A CRL that is merely not newer
    /// than the client's, or not current, is ignored instead
    /// ([`FlightCrlError::fails_handshake`]).
    #[error(
        "the server sent a CRL that is not your CA's: {0} (the server is misconfigured or hostile)"
    )]
    FlightCrl(FlightCrlError),
    /// The server's signature over the transcript did not verify.
    #[error("server signature over the transcript is invalid")]
    BadServerSignature,
    /// The server's Finished MAC did not verify.
    #[error("server Finished MAC is invalid")]
    BadServerFinished,
    /// The username is not registered (reported to the server's operator only).
    #[error("unknown user {0}")]
    UnknownUser(Username),
    /// The client's signature did not verify under the key registered for its username.
    #[error("client signature does not verify under the registered key")]
    BadClientSignature,
    /// The client's Finished MAC did not verify.
    #[error("client Finished MAC is invalid")]
    BadClientFinished,
    /// The peer's ephemeral key was of small order (an all-zero shared secret).
    #[error("peer's key share is not contributory")]
    NonContributoryKeyShare,
    /// The server's Welcome named another user than the one that logged in.
    #[error("server welcomed another username")]
    UsernameMismatch,
    /// The server authenticated us but refused the session (for example, a second login).
    #[error("the server refused the login: {0}")]
    Rejected(CloseReason),
    /// The handshake did not finish before its deadline.
    #[error("handshake timed out")]
    Timeout,
    /// The peer aborted the handshake with an alert.
    #[error("peer aborted the handshake (alert 0x{0:02x})")]
    PeerAlert(u8),
}

impl HandshakeError {
    /// The bytes to send the peer after this error: the generic failure alert, or `None`
    /// when the peer itself aborted or closed.
    pub fn wire_alert(&self) -> Option<&'static [u8]> {
        match self {
            HandshakeError::PeerAlert(_) | HandshakeError::Rejected(_) => None,
            _ => Some(&FAILURE_ALERT_FRAME),
        }
    }
}
