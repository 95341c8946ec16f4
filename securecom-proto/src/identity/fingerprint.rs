//! Human-comparable fingerprints of public keys.

use core::fmt;

use sha2::{Digest, Sha256};

use super::PublicKey;

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

    /// The raw 16 bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
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
