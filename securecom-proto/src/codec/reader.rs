//! A cursor over untrusted bytes whose every read is checked.

/// Why a message could not be decoded. Decoding errors are always the peer's fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended before the value did.
    #[error("message truncated: needed {needed} more bytes")]
    Truncated {
        /// How many more bytes the value needed.
        needed: usize,
    },
    /// Bytes were left after the value.
    #[error("{0} trailing bytes after the message")]
    TrailingBytes(usize),
    /// A type code that this version does not know.
    #[error("unknown {what} code 0x{code:02x}")]
    UnknownType {
        /// Which kind of code it was.
        what: &'static str,
        /// The code received.
        code: u8,
    },
    /// A length or count outside what the protocol allows.
    #[error("{what} length {got} outside the allowed {min}..={max}")]
    BadLength {
        /// What was being read.
        what: &'static str,
        /// The length received.
        got: usize,
        /// The smallest allowed.
        min: usize,
        /// The largest allowed.
        max: usize,
    },
    /// A field whose value is not allowed (for example, an invalid username).
    #[error("invalid {0}")]
    InvalidValue(&'static str),
}

/// A checked cursor over a byte slice.
///
/// ```
/// use securecom_proto::codec::{DecodeError, Reader};
/// let mut r = Reader::new(&[0x00, 0x02, 0xaa, 0xbb, 0xcc]);
/// assert_eq!(r.u16()?, 2);
/// assert_eq!(r.take(2)?, &[0xaa, 0xbb]);
/// assert_eq!(r.expect_empty(), Err(DecodeError::TrailingBytes(1)));
/// # Ok::<(), DecodeError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { rest: bytes }
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// The unread bytes, without consuming them.
    pub fn rest(&self) -> &'a [u8] {
        self.rest
    }

    /// Takes the next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.rest.len() {
            return Err(DecodeError::Truncated {
                needed: n - self.rest.len(),
            });
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    /// Takes the next `N` bytes as an array.
    pub fn take_array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let bytes = self.take(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    /// Reads one byte.
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(u8::from_be_bytes(self.take_array()?))
    }

    /// Reads a big-endian `u16`.
    pub fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.take_array()?))
    }

    /// Reads a big-endian `u32`.
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.take_array()?))
    }

    /// Reads a big-endian `u64`.
    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.take_array()?))
    }

    /// Reads a one-byte length, checks it against `min..=max`, then takes that many bytes.
    pub fn u8_prefixed(
        &mut self,
        what: &'static str,
        min: usize,
        max: usize,
    ) -> Result<&'a [u8], DecodeError> {
        let len = usize::from(self.u8()?);
        check_len(what, len, min, max)?;
        self.take(len)
    }

    /// Reads a two-byte length, checks it against `min..=max`, then takes that many bytes.
    pub fn u16_prefixed(
        &mut self,
        what: &'static str,
        min: usize,
        max: usize,
    ) -> Result<&'a [u8], DecodeError> {
        let len = usize::from(self.u16()?);
        check_len(what, len, min, max)?;
        self.take(len)
    }

    /// Fails unless every byte has been read.
    pub fn expect_empty(&self) -> Result<(), DecodeError> {
        match self.rest.len() {
            0 => Ok(()),
            n => Err(DecodeError::TrailingBytes(n)),
        }
    }
}

fn check_len(what: &'static str, got: usize, min: usize, max: usize) -> Result<(), DecodeError> {
    if got < min || got > max {
        return Err(DecodeError::BadLength {
            what,
            got,
            min,
            max,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_checked() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.u16(), Ok(0x0102));
        assert_eq!(r.u16(), Err(DecodeError::Truncated { needed: 1 }));
        // A failed read consumes nothing.
        assert_eq!(r.u8(), Ok(3));
        assert_eq!(r.expect_empty(), Ok(()));
    }

    #[test]
    fn length_prefix_bounds_are_enforced_before_taking() {
        let mut r = Reader::new(&[5, 0, 0]);
        assert_eq!(
            r.u8_prefixed("name", 1, 4),
            Err(DecodeError::BadLength {
                what: "name",
                got: 5,
                min: 1,
                max: 4
            })
        );
        let mut r = Reader::new(&[0xff, 0xff]);
        assert_eq!(
            r.u16_prefixed("blob", 0, 10),
            Err(DecodeError::BadLength {
                what: "blob",
                got: 0xffff,
                min: 0,
                max: 10
            })
        );
    }
}
