//! The running transcript hash and Finished MACs.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{HASH_LEN, Secret};

/// A snapshot of the transcript hash.
pub(crate) type TranscriptHash = [u8; HASH_LEN];

/// SHA-256 over every handshake message so far, each as encoded on the wire (type byte and
/// body), in order. Every signature, MAC and key is bound to a snapshot of it.
#[derive(Clone, Default)]
pub(crate) struct Transcript {
    hash: Sha256,
}

impl Transcript {
    pub(crate) fn add(&mut self, message: &[u8]) {
        self.hash.update(message);
    }

    pub(crate) fn current(&self) -> TranscriptHash {
        let mut out = [0u8; HASH_LEN];
        out.copy_from_slice(&self.hash.clone().finalize());
        out
    }
}

/// `HMAC-SHA256(finished_key, transcript_hash)`.
pub(crate) fn finished_mac(finished_key: &Secret, transcript: &TranscriptHash) -> [u8; HASH_LEN] {
    let mut out = [0u8; HASH_LEN];
    if let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(finished_key.as_bytes()) {
        mac.update(transcript);
        out.copy_from_slice(&mac.finalize().into_bytes());
    }
    out
}

/// Constant-time check of a received Finished MAC.
pub(crate) fn verify_finished(
    finished_key: &Secret,
    transcript: &TranscriptHash,
    received: &[u8; HASH_LEN],
) -> bool {
    finished_mac(finished_key, transcript)
        .ct_eq(received)
        .into()
}
