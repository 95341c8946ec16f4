//! The ephemeral X25519 key exchange.

use rand_core::CryptoRng;
use x25519_dalek::{EphemeralSecret, PublicKey};

use super::{Secret, extract};

/// Bytes in an X25519 public key.
pub(crate) const EPHEMERAL_KEY_LEN: usize = 32;

/// Why a key exchange was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyExchangeError {
    /// The peer's key is of small order: the shared secret would be all zero and known to
    /// anyone.
    NonContributory,
}

/// A one-time X25519 key pair. The secret half is consumed by [`EphemeralKeyPair::agree`]
/// and zeroized by `x25519-dalek` when dropped, so it cannot be used twice.
pub(crate) struct EphemeralKeyPair {
    secret: EphemeralSecret,
    public: [u8; EPHEMERAL_KEY_LEN],
}

impl EphemeralKeyPair {
    pub(crate) fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let secret = EphemeralSecret::random_from_rng(rng);
        let public = PublicKey::from(&secret).to_bytes();
        EphemeralKeyPair { secret, public }
    }

    pub(crate) fn public(&self) -> &[u8; EPHEMERAL_KEY_LEN] {
        &self.public
    }

    /// Diffie-Hellman with the peer's key, then `HKDF-Extract(salt, shared)`. The raw shared
    /// secret never leaves this function (it is zeroized on drop by `x25519-dalek`).
    pub(crate) fn agree(
        self,
        peer: &[u8; EPHEMERAL_KEY_LEN],
        salt: &[u8],
    ) -> Result<Secret, KeyExchangeError> {
        let shared = self.secret.diffie_hellman(&PublicKey::from(*peer));
        if !shared.was_contributory() {
            return Err(KeyExchangeError::NonContributory);
        }
        Ok(extract(salt, shared.as_bytes()))
    }
}
