//! X25519 (RFC 7748) over x25519-dalek: the one place the crate computes it.
//!
//! Under cargo-fuzz (the `fuzzing` feature *and* `--cfg fuzzing`, which only cargo-fuzz
//! sets) `fuzzing_standin/x25519.rs` takes this file's place, so that fuzz targets reach
//! the protocol logic without paying for curve arithmetic.

use rand_core::CryptoRng;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

/// An X25519 secret key; zeroized on drop (x25519-dalek's `zeroize` feature).
#[cfg_attr(any(test, feature = "fuzzing"), derive(Clone))]
pub(crate) struct X25519Secret(StaticSecret);

impl X25519Secret {
    pub(crate) fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        X25519Secret(StaticSecret::random_from_rng(rng))
    }

    pub(crate) fn public_key(&self) -> [u8; 32] {
        PublicKey::from(&self.0).to_bytes()
    }

    /// The shared secret with `peer`, or `None` if `peer` is of small order (the result
    /// would not depend on our secret).
    pub(crate) fn agree(&self, peer: &[u8; 32]) -> Option<Zeroizing<[u8; 32]>> {
        let shared = self.0.diffie_hellman(&PublicKey::from(*peer));
        shared
            .was_contributory()
            .then(|| Zeroizing::new(shared.to_bytes()))
    }
}
