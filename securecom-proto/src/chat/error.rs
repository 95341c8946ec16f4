//! Errors of the end-to-end chat.

use crate::codec::{DecodeError, EncodeError};

/// Why an end-to-end chat operation failed. Every error from the peer's data is fatal for
/// the chat: the session must be discarded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChatError {
    /// A chat message was malformed.
    #[error("malformed chat message: {0}")]
    Decode(#[from] DecodeError),
    /// A message other than the one expected now.
    #[error("unexpected chat message 0x{0:02x}")]
    UnexpectedMessage(u8),
    /// The peer speaks another chat version.
    #[error("unsupported chat version {0}")]
    UnsupportedVersion(u16),
    /// The peer's ephemeral key is of small order.
    #[error("peer's key share is not contributory")]
    NonContributoryKeyShare,
    /// The peer's signature does not verify under the key the relay gave us.
    #[error("peer's signature does not verify under its public key")]
    BadSignature,
    /// The peer's key confirmation MAC is wrong.
    #[error("peer's key confirmation failed")]
    BadFinished,
    /// A chat record did not authenticate: altered, injected, reflected, or from a broken
    /// ratchet.
    #[error("chat record failed authentication")]
    BadRecord,
    /// A chat record carried another counter than the next one: a message was dropped,
    /// reordered or replayed.
    #[error("chat record out of sequence: expected {expected}, got {got}")]
    OutOfSequence {
        /// The counter we expected.
        expected: u64,
        /// The counter received.
        got: u64,
    },
    /// A chat record authenticated, but its length field or padding is malformed (padding
    /// not all zeros, not the shortest to a multiple of [`super::CHAT_PADDING_BLOCK`], or a
    /// length past the end): the peer is broken.
    #[error("chat record with malformed padding")]
    BadPadding,
    /// A record under a new ratchet key we cannot step to: our own key reflected back,
    /// or a key from an initiator that has not yet made a ratchet key of its own.
    #[error("chat record under an unexpected ratchet key")]
    UnexpectedRatchetKey,
    /// A record after the peer's close.
    #[error("chat record after close")]
    Closed,
    /// The text is longer than [`super::MAX_TEXT_LEN`] or not UTF-8.
    #[error("invalid chat text")]
    InvalidText,
    /// A chat message could not be encoded (a record whose ciphertext does not fit a chat
    /// payload): a local failure, nothing was sent and the ratchet did not move.
    #[error("cannot encode chat message: {0}")]
    Encode(#[from] EncodeError),
    /// The message counter is exhausted; the chat must be restarted (2^64 messages).
    #[error("chat counter exhausted")]
    CounterExhausted,
}
