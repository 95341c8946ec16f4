//! Human-comparable fingerprints of public keys.

use core::fmt;

use sha2::{Digest, Sha256};

use super::{IdentityError, PublicKey};

/// Domain separation for fingerprints, so they never collide with another use of SHA-256.
const FINGERPRINT_LABEL: &[u8] = b"securecom/1 fingerprint";

/// A short, human-comparable digest of a [`PublicKey`]: the first 16 bytes of
/// `SHA-256("securecom/1 fingerprint" || key)`, shown as eight groups of four hex digits.
///
/// ```
/// use securecom_proto::identity::Identity;
/// let key = Identity::from_seed(&[7; 32]).public_key();
/// let shown = key.fingerprint().to_string();
/// assert_eq!(shown.len(), 39);
/// assert_eq!(shown.split(' ').count(), 8);
/// assert_eq!(shown.parse(), Ok(key.fingerprint()));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 16]);

impl Fingerprint {
    /// The fingerprint of `key`.
    pub fn of(key: &PublicKey) -> Self {
        let digest = Sha256::new()
            .chain_update(FINGERPRINT_LABEL)
            .chain_update(key.as_bytes())
            .finalize();
        let mut out = [0u8; 16];
        for (o, d) in out.iter_mut().zip(digest.iter()) {
            *o = *d;
        }
        Fingerprint(out)
    }

    /// The fingerprint with these raw bytes, e.g. as stored by a client that pinned it.
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Fingerprint(bytes)
    }

    /// The raw 16 bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

/// Parses the [`Display`](fmt::Display) form: eight groups of four hex digits separated
/// by single spaces. Upper-case digits are accepted too, since people retype these.
impl core::str::FromStr for Fingerprint {
    type Err = IdentityError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = [0u8; 16];
        let mut groups = s.split(' ');
        for pair in out.chunks_exact_mut(2) {
            let group = groups.next().ok_or(IdentityError::MalformedFingerprint)?;
            if group.len() != 4 {
                return Err(IdentityError::MalformedFingerprint);
            }
            for (byte, digits) in pair.iter_mut().zip(group.as_bytes().chunks_exact(2)) {
                *byte = hex_byte(digits).ok_or(IdentityError::MalformedFingerprint)?;
            }
        }
        if groups.next().is_some() {
            return Err(IdentityError::MalformedFingerprint);
        }
        Ok(Fingerprint(out))
    }
}

fn hex_byte(digits: &[u8]) -> Option<u8> {
    match digits {
        [high, low] => Some(hex_digit(*high)? << 4 | hex_digit(*low)?),
        _ => None,
    }
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, pair) in self.0.chunks(2).enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            for b in pair {
                write!(f, "{b:02x}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

#[cfg(test)]
mod tests {
    use alloc::string::ToString;

    use super::*;

    #[test]
    fn display_form_round_trips() {
        let fp = Fingerprint::from_bytes([
            0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54,
            0x32, 0x10,
        ]);
        let shown = fp.to_string();
        assert_eq!(shown, "0123 4567 89ab cdef fedc ba98 7654 3210");
        assert_eq!(shown.parse(), Ok(fp));
        assert_eq!(shown.to_uppercase().parse(), Ok(fp));
    }

    #[test]
    fn malformed_forms_are_rejected() {
        for bad in [
            "",
            "0123 4567 89ab cdef fedc ba98 7654",
            "0123 4567 89ab cdef fedc ba98 7654 3210 ",
            "0123 4567 89ab cdef fedc ba98 7654 3210 0000",
            "0123  4567 89ab cdef fedc ba98 7654 3210",
            "01234567 89ab cdef fedc ba98 7654 3210 0000",
            "0123 4567 89ab cdef fedc ba98 7654 321g",
            "0123 4567 89ab cdef fedc ba98 7654 +210",
            "0123 4567 89ab cdef fedc ba98 7654 \u{e9}10",
        ] {
            assert_eq!(
                bad.parse::<Fingerprint>(),
                Err(IdentityError::MalformedFingerprint),
                "{bad:?}"
            );
        }
    }
}
