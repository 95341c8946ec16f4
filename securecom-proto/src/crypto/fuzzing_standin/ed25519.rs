//! The fuzzing stand-in for Ed25519 (`crypto/ed25519.rs`): compiled only with the
//! `fuzzing` feature under `--cfg fuzzing` (cargo-fuzz).
//!
//! Signing makes the pattern of `crypto/fuzzing_pattern.rs` (a hash of the key and the
//! message), which verification accepts: cheap, deterministic, forgeable, never for real
//! use. Verification also accepts genuine signatures, checked for real once and
//! remembered, because the fixtures' certificates and CRLs carry real ones; a fuzzed
//! certificate is new bytes, so it is checked for real, as in a normal build.
//!
//! Parsing a public key (a point decompression) is exact, only remembered: the fuzz
//! targets' keys are the few fixture keys, parsed over and over.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};

use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use super::fuzzing_pattern::signature;

/// Genuine verifications (and parsed keys) remembered, at most this many.
const MEMO_LIMIT: usize = 1 << 16;

pub(crate) fn ed25519_public_key(bytes: &[u8; 32]) -> Option<VerifyingKey> {
    static MEMO: OnceLock<Mutex<HashMap<[u8; 32], Option<VerifyingKey>>>> = OnceLock::new();
    let memo = MEMO.get_or_init(Mutex::default);
    if let Some(known) = memo
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(bytes)
    {
        return *known;
    }
    let parsed = VerifyingKey::from_bytes(bytes)
        .ok()
        .filter(|k| !k.is_weak());
    let mut memo = memo.lock().unwrap_or_else(PoisonError::into_inner);
    if memo.len() < MEMO_LIMIT {
        memo.insert(*bytes, parsed);
    }
    parsed
}

pub(crate) fn ed25519_sign(key: &SigningKey, message: &[u8]) -> [u8; 64] {
    signature(key.verifying_key().as_bytes(), message)
}

pub(crate) fn ed25519_verify(key: &VerifyingKey, message: &[u8], sig: &[u8; 64]) -> bool {
    if signature(key.as_bytes(), message) == *sig {
        return true;
    }
    static MEMO: OnceLock<Mutex<HashMap<[u8; 32], bool>>> = OnceLock::new();
    let id: [u8; 32] = Sha256::new()
        .chain_update(key.as_bytes())
        .chain_update(sig)
        .chain_update(message)
        .finalize()
        .into();
    let memo = MEMO.get_or_init(Mutex::default);
    if let Some(known) = memo.lock().unwrap_or_else(PoisonError::into_inner).get(&id) {
        return *known;
    }
    let genuine = key
        .verify_strict(message, &Signature::from_bytes(sig))
        .is_ok();
    let mut memo = memo.lock().unwrap_or_else(PoisonError::into_inner);
    if memo.len() < MEMO_LIMIT {
        memo.insert(id, genuine);
    }
    genuine
}
