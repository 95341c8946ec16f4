//! The ephemeral X25519 key exchange.

use rand_core::CryptoRng;

use super::x25519::X25519Secret;
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
/// and zeroized when dropped, so it cannot be used twice.
pub(crate) struct EphemeralKeyPair {
    secret: X25519Secret,
    public: [u8; EPHEMERAL_KEY_LEN],
}

impl EphemeralKeyPair {
    /// A fresh key pair from `rng`.
    pub(crate) fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let secret = X25519Secret::generate(rng);
        let public = secret.public_key();
        EphemeralKeyPair { secret, public }
    }

    /// Our public key, to send.
    pub(crate) fn public(&self) -> &[u8; EPHEMERAL_KEY_LEN] {
        &self.public
    }

    /// Diffie-Hellman with the peer's key, then `HKDF-Extract(salt, shared)`. Refuses a
    /// small-order peer key. The raw shared secret never leaves this function (it is
    /// zeroized on drop).
    pub(crate) fn agree(
        self,
        peer: &[u8; EPHEMERAL_KEY_LEN],
        salt: &[u8],
    ) -> Result<Secret, KeyExchangeError> {
        let shared = self
            .secret
            .agree(peer)
            .ok_or(KeyExchangeError::NonContributory)?;
        Ok(extract(salt, shared.as_slice()))
    }
}
