//! Ed25519 signing and strict verification over ed25519-dalek: the one place the crate
//! computes them, for identities and certificates alike.
//!
//! Under cargo-fuzz (the `fuzzing` feature *and* `--cfg fuzzing`) the stand-in in
//! `fuzzing_standin/ed25519.rs` is used instead.

#[cfg(all(feature = "fuzzing", fuzzing))]
pub(crate) use super::fuzzing_standin_ed25519::{ed25519_public_key, ed25519_sign, ed25519_verify};
#[cfg(not(all(feature = "fuzzing", fuzzing)))]
pub(crate) use real::{ed25519_public_key, ed25519_sign, ed25519_verify};

#[cfg(not(all(feature = "fuzzing", fuzzing)))]
mod real {
    use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

    /// Parses a public key: a point that decompresses and is not of small order.
    pub(crate) fn ed25519_public_key(bytes: &[u8; 32]) -> Option<VerifyingKey> {
        VerifyingKey::from_bytes(bytes)
            .ok()
            .filter(|k| !k.is_weak())
    }

    /// Signs `message` (deterministic Ed25519, RFC 8032).
    pub(crate) fn ed25519_sign(key: &SigningKey, message: &[u8]) -> [u8; 64] {
        key.sign(message).to_bytes()
    }

    /// Verifies strictly (`verify_strict`: no small-order keys or malleable encodings).
    pub(crate) fn ed25519_verify(key: &VerifyingKey, message: &[u8], signature: &[u8; 64]) -> bool {
        key.verify_strict(message, &Signature::from_bytes(signature))
            .is_ok()
    }
}
