//! Ed25519 key types.

use core::fmt;

use ed25519_dalek::{SigningKey, VerifyingKey};
use rand_core::CryptoRng;
use subtle::ConstantTimeEq;

use super::{Fingerprint, IdentityError};

/// Bytes in an Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;

/// An Ed25519 signature as sent on the wire.
pub type Signature = [u8; SIGNATURE_LEN];

/// A long-term Ed25519 private key: a user's or the server's.
///
/// The secret is zeroized when dropped; `Debug` shows only the public fingerprint.
///
/// ```
/// use securecom_proto::identity::{Identity, IdentityError};
/// let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
/// let alice = Identity::generate(&mut rng);
/// let sig = alice.sign(b"hello");
/// assert_eq!(alice.public_key().verify(b"hello", &sig), Ok(()));
/// assert_eq!(
///     alice.public_key().verify(b"hellp", &sig),
///     Err(IdentityError::BadSignature)
/// );
/// ```
pub struct Identity {
    key: SigningKey,
}

impl Identity {
    /// A fresh random identity.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut seed = zeroize::Zeroizing::new([0u8; 32]);
        rng.fill_bytes(seed.as_mut());
        Identity::from_seed(&seed)
    }

    /// The identity with the given 32-byte Ed25519 seed (the RFC 8032 private key).
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Identity {
            key: SigningKey::from_bytes(seed),
        }
    }

    /// The public half.
    pub fn public_key(&self) -> PublicKey {
        PublicKey {
            key: self.key.verifying_key(),
        }
    }

    /// Signs `message` (deterministic Ed25519, RFC 8032).
    pub fn sign(&self, message: &[u8]) -> Signature {
        crate::crypto::ed25519_sign(&self.key, message)
    }

    pub(crate) fn signing_key(&self) -> &SigningKey {
        &self.key
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("public_key", &self.public_key().fingerprint())
            .finish_non_exhaustive()
    }
}

/// An Ed25519 public key.
///
/// Equality is constant-time. Construction rejects encodings that are not points and the
/// weak (small-order) keys, and verification uses `verify_strict`, so a signature cannot be
/// made to verify under two keys.
#[derive(Clone, Copy)]
pub struct PublicKey {
    key: VerifyingKey,
}

impl PublicKey {
    /// Parses a raw 32-byte public key.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, IdentityError> {
        let key =
            crate::crypto::ed25519_public_key(bytes).ok_or(IdentityError::InvalidPublicKey)?;
        Ok(PublicKey { key })
    }

    /// Parses a raw public key from a slice, which must be exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, IdentityError> {
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|_| IdentityError::InvalidPublicKey)?;
        PublicKey::from_bytes(&arr)
    }

    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        self.key.as_bytes()
    }

    /// Verifies an Ed25519 signature strictly (no malleable or small-order encodings).
    pub fn verify(&self, message: &[u8], signature: &Signature) -> Result<(), IdentityError> {
        if crate::crypto::ed25519_verify(&self.key, message, signature) {
            Ok(())
        } else {
            Err(IdentityError::BadSignature)
        }
    }

    /// The human-comparable fingerprint of this key.
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::of(self)
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes().ct_eq(other.as_bytes()).into()
    }
}

impl Eq for PublicKey {}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.fingerprint())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_and_invalid_keys_are_rejected() {
        // The identity point (small order).
        let mut identity_point = [0u8; 32];
        identity_point[0] = 1;
        assert_eq!(
            PublicKey::from_bytes(&identity_point),
            Err(IdentityError::InvalidPublicKey)
        );
        assert_eq!(
            PublicKey::from_slice(&[1u8; 31]),
            Err(IdentityError::InvalidPublicKey)
        );
    }

    #[test]
    fn debug_never_prints_the_secret() {
        let seed = [0x42u8; 32];
        let id = Identity::from_seed(&seed);
        let shown = alloc::format!("{id:?}");
        assert!(!shown.contains("42, 42"));
        assert!(!shown.to_lowercase().contains("4242"));
    }
}
