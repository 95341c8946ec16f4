//! An X25519 key pair usable for several agreements: the chat's ratchet keys (the sender's
//! step when it is made, and the receiver's step against every new key the peer sends
//! before we replace ours). [`EphemeralKeyPair`](super::EphemeralKeyPair) wraps one for a
//! single agreement. The secret is zeroized when dropped.

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::ephemeral::{EPHEMERAL_KEY_LEN, KeyExchangeError};
use super::x25519::X25519Secret;

/// An X25519 secret and its public key.
#[cfg_attr(any(test, feature = "fuzzing"), derive(Clone))]
pub(crate) struct X25519KeyPair {
    secret: X25519Secret,
    public: [u8; EPHEMERAL_KEY_LEN],
}

impl X25519KeyPair {
    pub(crate) fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let secret = X25519Secret::generate(rng);
        let public = secret.public_key();
        X25519KeyPair { secret, public }
    }

    pub(crate) fn public(&self) -> &[u8; EPHEMERAL_KEY_LEN] {
        &self.public
    }

    /// The raw shared secret with `peer`, refused if `peer` is of small order (the result
    /// would not depend on our secret).
    pub(crate) fn agree(
        &self,
        peer: &[u8; EPHEMERAL_KEY_LEN],
    ) -> Result<Zeroizing<[u8; 32]>, KeyExchangeError> {
        self.secret
            .agree(peer)
            .ok_or(KeyExchangeError::NonContributory)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::TestRng;

    #[test]
    fn both_sides_agree_and_small_order_keys_are_refused() {
        let a = X25519KeyPair::generate(&mut TestRng::new(1));
        let b = X25519KeyPair::generate(&mut TestRng::new(2));
        assert_eq!(*a.agree(b.public()).unwrap(), *b.agree(a.public()).unwrap());
        // Reusable: a second agreement with the same key gives the same secret.
        assert_eq!(*a.agree(b.public()).unwrap(), *a.agree(b.public()).unwrap());
        assert_eq!(a.agree(&[0; 32]), Err(KeyExchangeError::NonContributory));
    }
}
