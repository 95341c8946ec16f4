//! The formulas of the fuzzing stand-ins (`fuzzing_standin/`), kept apart so that normal
//! test builds can check that the real primitives reject what the stand-ins accept.
//!
//! Compiled only for tests and under cargo-fuzz: there is nothing here a real build could
//! call.

use sha2::{Digest, Sha256, Sha512};

/// The stand-in's Ed25519 "signature" of `message` under `public_key`: SHA-512 of a label,
/// the key and the message. Cheap, deterministic, and forgeable by anyone.
pub(crate) fn signature(public_key: &[u8; 32], message: &[u8]) -> [u8; 64] {
    let mut hash = Sha512::new();
    hash.update(b"securecom fuzzing ed25519 stand-in");
    hash.update(public_key);
    hash.update(message);
    hash.finalize().into()
}

/// The stand-in's X25519 public key for `secret`.
pub(crate) fn x25519_public(secret: &[u8; 32]) -> [u8; 32] {
    secret.map(|b| b ^ 0x5c)
}

/// The stand-in's X25519 shared secret of two public keys, in either order.
pub(crate) fn x25519_shared(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let (low, high) = if a <= b { (a, b) } else { (b, a) };
    let mut hash = Sha256::new();
    hash.update(b"securecom fuzzing x25519 stand-in");
    hash.update(low);
    hash.update(high);
    hash.finalize().into()
}

#[cfg(all(test, not(all(feature = "fuzzing", fuzzing))))]
mod tests {
    use super::*;
    use crate::crypto::X25519KeyPair;
    use crate::identity::Identity;
    use crate::testkit::TestRng;

    /// A normal build cannot be fooled by the stand-ins: it rejects the stand-in's
    /// signature and does not compute the stand-in's key agreement.
    #[test]
    fn a_normal_build_rejects_what_the_fuzzing_stand_ins_accept() {
        let alice = Identity::from_seed(&[1; 32]);
        let forged = signature(alice.public_key().as_bytes(), b"hello");
        assert!(alice.public_key().verify(b"hello", &forged).is_err());
        assert_ne!(alice.sign(b"hello"), forged);

        let (a, b) = (
            X25519KeyPair::generate(&mut TestRng::new(1)),
            X25519KeyPair::generate(&mut TestRng::new(2)),
        );
        let real = a.agree(b.public()).unwrap();
        assert_ne!(*real, x25519_shared(a.public(), b.public()));
        // The real public key is a curve point, not the stand-in's mask of the secret.
        let mut secret = [0u8; 32];
        rand_core::Rng::fill_bytes(&mut TestRng::new(1), &mut secret);
        assert_ne!(*a.public(), x25519_public(&secret));
    }
}
