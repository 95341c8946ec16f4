//! 32-byte secrets and the HKDF-SHA256 label scheme.
//!
//! Every derived key is `HKDF-Expand(secret, info)` with
//! `info = u16 length || u8 len || "securecom/1 " || label || u8 len || context`,
//! the shape of TLS 1.3's `HkdfLabel`, so that no two purposes can ever share an `info`.

use core::fmt;

use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Bytes in a SHA-256 output, and in every secret of the key schedule.
pub(crate) const HASH_LEN: usize = 32;

/// Prefix of every HKDF label: the protocol name and version.
const LABEL_PREFIX: &[u8] = b"securecom/1 ";

/// A 32-byte secret of the key schedule. Zeroized on drop; `Debug` prints nothing of it.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub(crate) struct Secret([u8; HASH_LEN]);

impl Secret {
    pub(crate) fn from_array(bytes: [u8; HASH_LEN]) -> Self {
        Secret(bytes)
    }

    pub(crate) fn as_bytes(&self) -> &[u8; HASH_LEN] {
        &self.0
    }

    /// `HKDF-Expand-Label(self, label, context)` into a new secret.
    pub(crate) fn derive(&self, label: &[u8], context: &[u8]) -> Secret {
        // Written in place: no copy of the key is left behind on the stack.
        let mut out = Secret([0u8; HASH_LEN]);
        expand_label(self, label, context, &mut out.0);
        out
    }

    /// [`Secret::derive`] for two labels with one context: the same two secrets, with
    /// HMAC keyed once instead of twice (a chain step, a root step).
    pub(crate) fn derive_pair(
        &self,
        first: &[u8],
        second: &[u8],
        context: &[u8],
    ) -> (Secret, Secret) {
        let mut a = Secret([0u8; HASH_LEN]);
        let mut b = Secret([0u8; HASH_LEN]);
        expand_labels(self, context, &mut [(first, &mut a.0), (second, &mut b.0)]);
        (a, b)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// `HKDF-Extract(salt, ikm)`.
pub(crate) fn extract(salt: &[u8], ikm: &[u8]) -> Secret {
    let (mut prk, _) = Hkdf::<Sha256>::extract(Some(salt), ikm);
    let mut out = [0u8; HASH_LEN];
    out.copy_from_slice(&prk);
    prk.as_mut_slice().zeroize();
    Secret(out)
}

/// `HKDF-Expand-Label(secret, label, context)` filling `out` (at most 255 bytes of label and
/// context, at most 8160 bytes of output: all our uses are constants far below).
pub(crate) fn expand_label(secret: &Secret, label: &[u8], context: &[u8], out: &mut [u8]) {
    expand_labels(secret, context, &mut [(label, out)]);
}

/// [`expand_label`] for each `(label, out)` with one `context`, keying HMAC with `secret`
/// once for all of them.
pub(crate) fn expand_labels(secret: &Secret, context: &[u8], outputs: &mut [(&[u8], &mut [u8])]) {
    let context_len = [u8::try_from(context.len()).unwrap_or(u8::MAX)];
    // A 32-byte PRK is always long enough and our outputs are short, so neither call can
    // fail; if one ever did, the output stays zero and every MAC and AEAD check fails.
    let Ok(hkdf) = Hkdf::<Sha256>::from_prk(secret.as_bytes()) else {
        return;
    };
    for (label, out) in outputs.iter_mut() {
        let out_len = u16::try_from(out.len()).unwrap_or(u16::MAX).to_be_bytes();
        let label_len = [u8::try_from(LABEL_PREFIX.len() + label.len()).unwrap_or(u8::MAX)];
        let info: [&[u8]; 6] = [
            &out_len,
            &label_len,
            LABEL_PREFIX,
            label,
            &context_len,
            context,
        ];
        if hkdf.expand_multi_info(&info, out).is_err() {
            out.zeroize();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pair_is_the_two_single_derivations() {
        let s = Secret::from_array([7; 32]);
        let (a, b) = s.derive_pair(b"message key", b"chain", b"ctx");
        assert_eq!(a.as_bytes(), s.derive(b"message key", b"ctx").as_bytes());
        assert_eq!(b.as_bytes(), s.derive(b"chain", b"ctx").as_bytes());
        let mut key = [0u8; 32];
        let mut iv = [0u8; 12];
        expand_labels(&s, b"", &mut [(b"key", &mut key), (b"iv", &mut iv)]);
        let (mut key1, mut iv1) = ([0u8; 32], [0u8; 12]);
        expand_label(&s, b"key", b"", &mut key1);
        expand_label(&s, b"iv", b"", &mut iv1);
        assert_eq!((key, iv), (key1, iv1));
    }

    #[test]
    fn labels_separate_outputs() {
        let s = Secret::from_array([9; 32]);
        let a = s.derive(b"client standard", b"ctx");
        let b = s.derive(b"server standard", b"ctx");
        let c = s.derive(b"client standard", b"ctx2");
        assert_ne!(a.as_bytes(), b.as_bytes());
        assert_ne!(a.as_bytes(), c.as_bytes());
        assert_eq!(
            a.as_bytes(),
            s.derive(b"client standard", b"ctx").as_bytes()
        );
    }

    #[test]
    fn debug_hides_secret() {
        assert_eq!(
            alloc::format!("{:?}", Secret::from_array([7; 32])),
            "Secret(..)"
        );
    }
}
