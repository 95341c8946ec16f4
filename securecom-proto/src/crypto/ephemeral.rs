//! The ephemeral X25519 key exchange.

use rand_core::CryptoRng;

use super::key_pair::X25519KeyPair;
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
#[cfg_attr(any(test, feature = "fuzzing"), derive(Clone))]
pub(crate) struct EphemeralKeyPair(X25519KeyPair);

impl EphemeralKeyPair {
    /// A fresh key pair from `rng`.
    pub(crate) fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        EphemeralKeyPair(X25519KeyPair::generate(rng))
    }

    /// Our public key, to send.
    pub(crate) fn public(&self) -> &[u8; EPHEMERAL_KEY_LEN] {
        self.0.public()
    }

    /// Diffie-Hellman with the peer's key, then `HKDF-Extract(salt, shared)`. Refuses a
    /// small-order peer key. The raw shared secret never leaves this function (it is
    /// zeroized on drop).
    pub(crate) fn agree(
        self,
        peer: &[u8; EPHEMERAL_KEY_LEN],
        salt: &[u8],
    ) -> Result<Secret, KeyExchangeError> {
        let shared = self.0.agree(peer)?;
        Ok(extract(salt, shared.as_slice()))
    }
}
