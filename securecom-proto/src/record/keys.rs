//! Record keys derived from a traffic secret.

use alloc::sync::Arc;

use aes_gcm::{Aes256Gcm, KeyInit};

use crate::crypto::Secret;

/// Bytes of the per-direction IV.
pub(crate) const IV_LEN: usize = 12;

/// One direction's AEAD key and IV, with the secret they came from so the next generation can
/// be derived at a key update. The AES key schedule zeroizes on drop (`aes-gcm`'s `zeroize`
/// feature), the secret through [`Secret`].
#[cfg_attr(any(test, feature = "fuzzing"), derive(Clone))]
pub(crate) struct TrafficKeys {
    /// Behind a pointer: an `Aes256Gcm` is about 1.1 KiB (round keys and GHASH key
    /// powers), and the handshake states and sessions holding several are moved by value;
    /// one allocation per key (never per record) saves copying them at every move. An
    /// `Arc`, so that the copies of a fuzz target's start state share the read-only key
    /// schedule instead of copying and zeroizing it in every execution (nothing else
    /// clones keys); it is zeroized when the last holder drops it.
    pub(crate) cipher: Arc<Aes256Gcm>,
    pub(crate) iv: [u8; IV_LEN],
    secret: Secret,
}

impl TrafficKeys {
    pub(crate) fn new(secret: Secret) -> Self {
        let mut key = zeroize::Zeroizing::new([0u8; 32]);
        let mut iv = [0u8; IV_LEN];
        crate::crypto::expand_labels(
            &secret,
            b"",
            &mut [(b"key", key.as_mut()), (b"iv", &mut iv)],
        );
        let key_bytes: &[u8; 32] = &key;
        let cipher = Arc::new(Aes256Gcm::new(key_bytes.into()));
        TrafficKeys { cipher, iv, secret }
    }

    /// The keys of the next generation: `secret' = Expand-Label(secret, "key update")`.
    /// The old secret is dropped (and zeroized) by the caller replacing `self`.
    pub(crate) fn next(&self) -> Self {
        TrafficKeys::new(self.secret.derive(b"key update", b""))
    }

    /// The nonce of record `seq`: IV XOR the big-endian counter in the last eight bytes.
    pub(crate) fn nonce(&self, seq: u64) -> [u8; IV_LEN] {
        let mut nonce = self.iv;
        for (n, s) in nonce.iter_mut().skip(IV_LEN - 8).zip(seq.to_be_bytes()) {
            *n ^= s;
        }
        nonce
    }
}

impl Drop for TrafficKeys {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.iv);
    }
}
