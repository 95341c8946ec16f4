//! The record layer: AES-256-GCM with per-direction keys and implicit sequence numbers.
//!
//! A record is one frame:
//!
//! ```text
//! content_type (1) || length (4) || kind (1) || AES-256-GCM(payload) || tag (16)
//! ```
//!
//! - The nonce is the direction's 12-byte IV XOR the 64-bit record counter (big-endian,
//!   right-aligned), as in TLS 1.3: never sent, never repeated.
//! - The five header bytes and the kind are the associated data, so the content type (which
//!   channel), the length and the kind are authenticated. The kind travels in clear: the
//!   record's length and the connection's end already tell an observer a key update or a
//!   close from data, and a clear kind keeps the AEAD input block-aligned for the common
//!   payload sizes (docs/PROTOCOL.md, section 3).
//! - A record that fails to authenticate is fatal and changes nothing: the counter only moves
//!   after the tag checked out (verify, then commit).
//! - After [`KEY_UPDATE_INTERVAL`] records a sender rekeys on its own (a `KeyUpdate` record,
//!   then the next key derived from the current secret), so a counter never wraps and no key
//!   sees more than 2^24 records, well inside AES-GCM's limits.
//! - A [`RecordKind::CLOSE`] record ends the direction: a peer that sees the connection end
//!   without it knows the stream was truncated.

mod keys;
mod opener;
mod sealer;

pub use opener::{OpenedRecord, RecordOpener};
pub use sealer::RecordSealer;

pub(crate) use keys::TrafficKeys;

use core::fmt;

/// Bytes of the AES-GCM authentication tag.
pub const TAG_LEN: usize = 16;

/// Bytes of a record's associated data: the frame header and the kind.
const AAD_LEN: usize = crate::codec::FRAME_HEADER_LEN + 1;

/// The associated data (header, then kind) in the first [`AAD_LEN`] of eight bytes, built
/// as one integer so it is stored whole: assembled byte by byte and read back as wider
/// words, it stalls the CPU's store forwarding, which costs several percent of a 64-byte
/// record.
fn aad_bytes(header: [u8; crate::codec::FRAME_HEADER_LEN], kind: RecordKind) -> [u8; 8] {
    let [content_type, a, b, c, d] = header;
    let length = u32::from_be_bytes([a, b, c, d]);
    let word =
        (u64::from(content_type) << 56) | (u64::from(length) << 24) | (u64::from(kind.0) << 16);
    word.to_be_bytes()
}

/// Bytes a record adds to its payload: frame header, kind byte and tag.
pub const RECORD_OVERHEAD: usize = crate::codec::FRAME_HEADER_LEN + 1 + TAG_LEN;

/// Records sealed under one key before the sender must rekey (2^24).
pub const KEY_UPDATE_INTERVAL: u64 = 1 << 24;

/// The (authenticated, not encrypted) type of a record, as a newtype over the wire byte.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecordKind(pub u8);

impl RecordKind {
    /// Application data for the layer above.
    pub const DATA: RecordKind = RecordKind(0x01);
    /// The sender closes this direction; nothing may follow.
    pub const CLOSE: RecordKind = RecordKind(0x02);
    /// The sender switches to its next key; the record after this one uses it.
    pub const KEY_UPDATE: RecordKind = RecordKind(0x03);
}

impl fmt::Debug for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::DATA => f.write_str("Data"),
            Self::CLOSE => f.write_str("Close"),
            Self::KEY_UPDATE => f.write_str("KeyUpdate"),
            RecordKind(other) => write!(f, "RecordKind(0x{other:02x})"),
        }
    }
}

/// Why a record could not be sealed or opened. Every opening error is fatal for the
/// connection and sticky: the opener returns it again for every later record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The tag did not verify: the record was altered, replayed, reordered, reflected or
    /// injected. The four cases are indistinguishable by design.
    #[error("record failed authentication (tampered, replayed, reordered or reflected)")]
    BadRecordMac,
    /// The frame is too short to hold a kind byte and a tag.
    #[error("record too short ({0} bytes)")]
    TooShort(usize),
    /// A record arrived on a channel other than this opener's.
    #[error("record for channel {got:?} handed to the opener of {expected:?}")]
    WrongChannel {
        /// This opener's content type.
        expected: crate::codec::ContentType,
        /// The frame's content type.
        got: crate::codec::ContentType,
    },
    /// The payload to seal is larger than [`crate::codec::MAX_PLAINTEXT_LEN`], or a received
    /// record decrypted to more than that.
    #[error("record payload of {0} bytes exceeds the maximum")]
    PayloadTooLarge(usize),
    /// The record authenticated but its kind byte is not one we know.
    #[error("unknown record kind 0x{0:02x}")]
    UnknownKind(u8),
    /// A key update carried a payload, or the peer overran its key's record budget.
    #[error("key update protocol violated")]
    KeyUpdateViolation,
    /// A record arrived (or was to be sent) after this direction was closed.
    #[error("record after close")]
    Closed,
}

#[cfg(test)]
mod tests;
