//! The fuzzing stand-in for X25519: a deterministic, cheap, *insecure* key agreement with
//! the real one's interface (`crypto/x25519.rs`). Compiled only with the `fuzzing` feature
//! under `--cfg fuzzing` (cargo-fuzz), in place of the real one.
//!
//! The formulas are in `crypto/fuzzing_pattern.rs`. Both sides get the same secret, the
//! all-zero key stays "non-contributory" so that the refusal path is still reached, and
//! anyone can compute it: never for real use.

use rand_core::CryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::fuzzing_pattern::{x25519_public, x25519_shared};

#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub(crate) struct X25519Secret([u8; 32]);

impl X25519Secret {
    pub(crate) fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut secret = [0u8; 32];
        rng.fill_bytes(&mut secret);
        X25519Secret(secret)
    }

    pub(crate) fn public_key(&self) -> [u8; 32] {
        x25519_public(&self.0)
    }

    pub(crate) fn agree(&self, peer: &[u8; 32]) -> Option<Zeroizing<[u8; 32]>> {
        (*peer != [0; 32]).then(|| Zeroizing::new(x25519_shared(&self.public_key(), peer)))
    }
}
