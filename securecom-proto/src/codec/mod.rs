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

/// Why a value could not be encoded: a field whose length (or an item count) is outside
/// what its length prefix and the protocol allow.
///
/// Encoders refuse such a field rather than clamp or truncate it, so they never write
/// something the peer's decoder would reject. It is always the local side's fault: the
/// value was built with a field the protocol cannot carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot encode {what} of length {len}: allowed {min}..={max}")]
pub struct EncodeError {
    /// The field that does not fit (named as the decoder's [`DecodeError::BadLength`] names it).
    pub what: &'static str,
    /// Its length (or item count).
    pub len: usize,
    /// The shortest allowed.
    pub min: usize,
    /// The longest allowed.
    pub max: usize,
}

/// A message with one canonical encoding.
///
/// `read` must consume exactly the bytes that `encode` writes; use [`Codec::decode`] to parse
/// a whole buffer and reject trailing bytes. `encode` refuses a value that `read` would
/// reject (a field too long or too short for the protocol), with an [`EncodeError`].
pub trait Codec: Sized {
    /// Appends the encoding of `self` to `out`.
    ///
    /// On error, `out` may hold part of the encoding: discard it (as [`Codec::to_bytes`]
    /// does).
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError>;

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
    fn to_bytes(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::new();
        self.encode(&mut out)?;
        Ok(out)
    }
}

/// Checks that a field of `len` bytes (or items) is within `min..=max`.
pub(crate) fn check_len(
    what: &'static str,
    len: usize,
    min: usize,
    max: usize,
) -> Result<(), EncodeError> {
    if len < min || len > max {
        return Err(EncodeError {
            what,
            len,
            min,
            max,
        });
    }
    Ok(())
}

/// The length of a `what` field of `len` bytes as its prefix type `L`, if it is within
/// `min..=max` (`max` capped at what `L` holds, so the error names the real bound).
fn prefix<L: TryFrom<usize>>(
    what: &'static str,
    len: usize,
    min: usize,
    max: usize,
    prefix_max: L,
) -> Result<L, EncodeError>
where
    usize: From<L>,
{
    let max = max.min(usize::from(prefix_max));
    check_len(what, len, min, max)?;
    L::try_from(len).map_err(|_| EncodeError {
        what,
        len,
        min,
        max,
    })
}

/// Appends `bytes` with a one-byte length prefix, refusing a length outside `min..=max`
/// (and `max` is never more than 255): the bounds [`Reader::u8_prefixed`] checks.
pub(crate) fn put_u8_prefixed(
    out: &mut Vec<u8>,
    what: &'static str,
    bytes: &[u8],
    min: usize,
    max: usize,
) -> Result<(), EncodeError> {
    out.push(prefix(what, bytes.len(), min, max, u8::MAX)?);
    out.extend_from_slice(bytes);
    Ok(())
}

/// Appends `bytes` with a two-byte big-endian length prefix, refusing a length outside
/// `min..=max` (and `max` is never more than 65535): the bounds [`Reader::u16_prefixed`]
/// checks.
pub(crate) fn put_u16_prefixed(
    out: &mut Vec<u8>,
    what: &'static str,
    bytes: &[u8],
    min: usize,
    max: usize,
) -> Result<(), EncodeError> {
    let len = prefix(what, bytes.len(), min, max, u16::MAX)?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn u8_prefixed_refuses_what_it_cannot_carry_and_round_trips_the_longest() {
        let mut out = Vec::new();
        assert_eq!(
            put_u8_prefixed(&mut out, "name", &[7; 256], 0, 255),
            Err(EncodeError {
                what: "name",
                len: 256,
                min: 0,
                max: 255
            })
        );
        // A maximum beyond the prefix is cut to what the prefix can say.
        assert_eq!(
            put_u8_prefixed(&mut out, "name", &[7; 256], 0, 1000),
            Err(EncodeError {
                what: "name",
                len: 256,
                min: 0,
                max: 255
            })
        );
        assert_eq!(
            put_u8_prefixed(&mut out, "name", &[7; 5], 1, 4),
            Err(EncodeError {
                what: "name",
                len: 5,
                min: 1,
                max: 4
            })
        );
        assert_eq!(
            put_u8_prefixed(&mut out, "name", &[], 1, 4),
            Err(EncodeError {
                what: "name",
                len: 0,
                min: 1,
                max: 4
            })
        );
        // Nothing was written by the refusals.
        assert_eq!(out, Vec::<u8>::new());

        put_u8_prefixed(&mut out, "name", &[7; 255], 0, 255).unwrap();
        let mut r = Reader::new(&out);
        assert_eq!(r.u8_prefixed("name", 0, 255), Ok(&[7; 255][..]));
        assert_eq!(r.expect_empty(), Ok(()));
    }

    #[test]
    fn u16_prefixed_refuses_what_it_cannot_carry_and_round_trips_the_longest() {
        let mut out = Vec::new();
        let too_long = vec![7; 65_536];
        assert_eq!(
            put_u16_prefixed(&mut out, "blob", &too_long, 0, usize::MAX),
            Err(EncodeError {
                what: "blob",
                len: 65_536,
                min: 0,
                max: 65_535
            })
        );
        assert_eq!(
            put_u16_prefixed(&mut out, "blob", &[1; 11], 1, 10),
            Err(EncodeError {
                what: "blob",
                len: 11,
                min: 1,
                max: 10
            })
        );
        assert_eq!(out, Vec::<u8>::new());

        let longest = vec![7; 65_535];
        put_u16_prefixed(&mut out, "blob", &longest, 0, 65_535).unwrap();
        let mut r = Reader::new(&out);
        assert_eq!(r.u16_prefixed("blob", 0, 65_535), Ok(&longest[..]));
        assert_eq!(r.expect_empty(), Ok(()));
    }

    #[test]
    fn encode_errors_say_what_did_not_fit() {
        let e = EncodeError {
            what: "chat payload",
            len: 20_000,
            min: 1,
            max: 16_320,
        };
        assert_eq!(
            alloc::format!("{e}"),
            "cannot encode chat payload of length 20000: allowed 1..=16320"
        );
    }
}
