//! The wire codec: a checked [`Reader`] that never indexes, a [`Codec`] trait for typed
//! messages, and the stream [`Deframer`].
//!
//! Decoding never panics: every read is bounds-checked, every length prefix has a named
//! maximum checked before anything is allocated, and trailing bytes are an error.

mod frame;
mod reader;

pub use frame::{
    ContentType, Deframer, FRAME_HEADER_LEN, Frame, FrameError, FramePosition, MAX_FRAME_LEN,
    MAX_PLAINTEXT_LEN, encode_frame_header,
};
pub use reader::{DecodeError, Reader};

use alloc::vec::Vec;

/// A message with one canonical encoding.
///
/// `read` must consume exactly the bytes that `encode` writes; use [`Codec::decode`] to parse
/// a whole buffer and reject trailing bytes.
pub trait Codec: Sized {
    /// Appends the encoding of `self` to `out`.
    fn encode(&self, out: &mut Vec<u8>);

    /// Reads one value from `r`, advancing it.
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError>;

    /// Parses exactly one value from `bytes`; trailing bytes are an error.
    fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let value = Self::read(&mut r)?;
        r.expect_empty()?;
        Ok(value)
    }

    /// The encoding of `self` as a new vector.
    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }
}

/// Appends `bytes` with a one-byte length prefix. The caller guarantees `bytes.len() <= 255`.
pub(crate) fn put_u8_prefixed(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(u8::try_from(bytes.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(bytes.get(..usize::from(u8::MAX)).unwrap_or(bytes));
}

/// Appends `bytes` with a two-byte big-endian length prefix. The caller guarantees
/// `bytes.len() <= 65535`.
pub(crate) fn put_u16_prefixed(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&u16::try_from(bytes.len()).unwrap_or(u16::MAX).to_be_bytes());
    out.extend_from_slice(bytes.get(..usize::from(u16::MAX)).unwrap_or(bytes));
}

/// Drops the first `n` bytes of an output buffer (those written to the socket). When all
/// were written, the buffer is reset without moving anything, keeping its capacity: the
/// steady path allocates and copies nothing.
pub(crate) fn discard_written(buf: &mut Vec<u8>, n: usize) {
    if n >= buf.len() {
        buf.clear();
    } else {
        buf.drain(..n);
    }
}
