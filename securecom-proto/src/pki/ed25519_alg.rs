//! Ed25519 for webpki: the one signature algorithm accepted in certificates and CRLs.

use alloc::vec::Vec;
use core::fmt;

use ed25519_dalek::VerifyingKey;
use rustls_pki_types::{AlgorithmIdentifier, InvalidSignature, SignatureVerificationAlgorithm};

/// Ed25519 (RFC 8410) signature verification over ed25519-dalek, with `verify_strict`: no
/// small-order keys, no non-canonical signatures.
#[derive(Debug)]
pub(crate) struct Ed25519Verification;

impl SignatureVerificationAlgorithm for Ed25519Verification {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        let key_bytes: &[u8; 32] = public_key.try_into().map_err(|_| InvalidSignature)?;
        // A small-order key is refused here as `verify_strict` would refuse it anyway.
        let key = crate::crypto::ed25519_public_key(key_bytes).ok_or(InvalidSignature)?;
        let signature: &[u8; 64] = signature.try_into().map_err(|_| InvalidSignature)?;
        crate::crypto::ed25519_verify(&key, message, signature)
            .then_some(())
            .ok_or(InvalidSignature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        rustls_pki_types::alg_id::ED25519
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        rustls_pki_types::alg_id::ED25519
    }
}

/// One Ed25519 signature checked with `verify_strict` when the verifier was built.
struct VerifiedTriple {
    key: [u8; 32],
    message: Vec<u8>,
    signature: [u8; 64],
}

/// What a [`ServerCertVerifier`](super::ServerCertVerifier) knows before any handshake:
/// the trust anchor's decompressed key, and the exact (key, message, signature) triples
/// (the anchor's CRLs) whose signatures it has already verified. Immutable once built.
#[derive(Default)]
pub(crate) struct PreVerified {
    /// The anchor's key bytes and their decompressed point (`None` if not Ed25519 or
    /// not a valid point: then every signature is checked from the bytes, as before).
    anchor_key: Option<([u8; 32], VerifyingKey)>,
    triples: Vec<VerifiedTriple>,
}

impl fmt::Debug for PreVerified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreVerified")
            .field("anchor_key", &self.anchor_key.is_some())
            .field("triples", &self.triples.len())
            .finish()
    }
}

impl PreVerified {
    /// Caches the anchor's Ed25519 key, given as the 32 key bytes of its SPKI.
    pub(crate) fn with_anchor_key(key_bytes: Option<&[u8]>) -> Self {
        let anchor_key = key_bytes
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
            .and_then(|bytes| Some((bytes, VerifyingKey::from_bytes(&bytes).ok()?)));
        PreVerified {
            anchor_key,
            triples: Vec::new(),
        }
    }

    /// Verifies `signature` over `message` with the anchor's key now, and remembers the
    /// triple only if it verifies. Returns whether it did; a bad signature is not
    /// remembered, so webpki will verify it (and refuse it) at every use.
    pub(crate) fn verify_with_anchor(&mut self, message: &[u8], signature: &[u8]) -> bool {
        let Some((key_bytes, key)) = &self.anchor_key else {
            return false;
        };
        let Ok(signature_bytes) = <[u8; 64]>::try_from(signature) else {
            return false;
        };
        if !crate::crypto::ed25519_verify(key, message, &signature_bytes) {
            return false;
        }
        self.triples.push(VerifiedTriple {
            key: *key_bytes,
            message: message.to_vec(),
            signature: signature_bytes,
        });
        true
    }

    /// Whether `signature` over `message` verifies under the anchor's key
    /// (`verify_strict`), without remembering anything; a triple verified at construction
    /// costs a comparison.
    pub(crate) fn anchor_verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        let (Some((key_bytes, key)), Ok(signature)) =
            (&self.anchor_key, <[u8; 64]>::try_from(signature))
        else {
            return false;
        };
        self.contains(key_bytes, message, &signature)
            || crate::crypto::ed25519_verify(key, message, &signature)
    }

    /// How many triples were verified at construction.
    pub(crate) fn len(&self) -> usize {
        self.triples.len()
    }

    fn contains(&self, key: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
        self.triples
            .iter()
            .any(|t| t.signature == *signature && t.key == *key && t.message == message)
    }
}

/// The Ed25519 algorithm handed to webpki for one `verify_server` call: a triple verified
/// when the verifier was built is accepted without recomputing (it must match in every
/// byte); a signature by the anchor's key reuses its decompressed point; everything else
/// is [`Ed25519Verification`] exactly.
pub(crate) struct CachedEd25519<'a>(pub(crate) &'a PreVerified);

impl fmt::Debug for CachedEd25519<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CachedEd25519").field(self.0).finish()
    }
}

impl SignatureVerificationAlgorithm for CachedEd25519<'_> {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        let key_bytes: &[u8; 32] = public_key.try_into().map_err(|_| InvalidSignature)?;
        let signature_bytes: &[u8; 64] = signature.try_into().map_err(|_| InvalidSignature)?;
        if self.0.contains(key_bytes, message, signature_bytes) {
            return Ok(());
        }
        match &self.0.anchor_key {
            Some((anchor_bytes, anchor_key)) if anchor_bytes == key_bytes => {
                crate::crypto::ed25519_verify(anchor_key, message, signature_bytes)
                    .then_some(())
                    .ok_or(InvalidSignature)
            }
            _ => Ed25519Verification.verify_signature(public_key, message, signature),
        }
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        rustls_pki_types::alg_id::ED25519
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        rustls_pki_types::alg_id::ED25519
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use ed25519_dalek::{Signer, SigningKey};

    #[test]
    fn verifies_good_and_rejects_bad_signatures() {
        let sk = SigningKey::from_bytes(&[9u8; 32]);
        let pk = sk.verifying_key().to_bytes();
        let sig = sk.sign(b"tbs").to_bytes();
        let none = PreVerified::default();
        let anchored = PreVerified::with_anchor_key(Some(&pk));
        let algs: [&dyn SignatureVerificationAlgorithm; 3] = [
            &Ed25519Verification,
            &CachedEd25519(&none),
            &CachedEd25519(&anchored),
        ];
        // `InvalidSignature` is webpki's detail-less unit error (no `PartialEq`): matching it
        // is exact, but a wrong signature, a short one and a malformed key all look the same.
        for alg in algs {
            assert!(matches!(alg.verify_signature(&pk, b"tbs", &sig), Ok(())));
            assert!(matches!(
                alg.verify_signature(&pk, b"tbt", &sig),
                Err(InvalidSignature)
            ));
            assert!(matches!(
                alg.verify_signature(&pk, b"tbs", &sig[..63]),
                Err(InvalidSignature)
            ));
            assert!(matches!(
                alg.verify_signature(&pk[..31], b"tbs", &sig),
                Err(InvalidSignature)
            ));
            // The identity point is a small-order key: refused by verify_strict.
            let mut weak = [0u8; 32];
            weak[0] = 1;
            assert!(matches!(
                alg.verify_signature(&weak, b"tbs", &sig),
                Err(InvalidSignature)
            ));
        }
    }

    #[test]
    fn bad_signature_is_not_pre_verified() {
        let sk = SigningKey::from_bytes(&[9u8; 32]);
        let other = SigningKey::from_bytes(&[10u8; 32]);
        let mut pre = PreVerified::with_anchor_key(Some(&sk.verifying_key().to_bytes()));
        assert!(!pre.verify_with_anchor(b"crl", &other.sign(b"crl").to_bytes()));
        assert!(!pre.verify_with_anchor(b"crl", &[0u8; 63]));
        assert_eq!(pre.len(), 0);
        assert!(pre.verify_with_anchor(b"crl", &sk.sign(b"crl").to_bytes()));
        assert_eq!(pre.len(), 1);
        // Without an anchor key nothing is pre-verified.
        let mut no_key = PreVerified::with_anchor_key(None);
        assert!(!no_key.verify_with_anchor(b"crl", &sk.sign(b"crl").to_bytes()));
    }

    /// A triple in the set is accepted as it is; one byte changed anywhere, and it is
    /// verified for real. The triple planted here is *not* a valid signature, so an `Ok`
    /// can only come from the set and an `Err` only from the real check.
    #[test]
    fn pre_verified_triple_with_any_byte_changed_is_verified_for_real() {
        let sk = SigningKey::from_bytes(&[9u8; 32]);
        let key = sk.verifying_key().to_bytes();
        let message = b"tbsCertList, as DER".to_vec();
        let signature = [0x11u8; 64];
        let pre = PreVerified {
            anchor_key: None,
            triples: vec![VerifiedTriple {
                key,
                message: message.clone(),
                signature,
            }],
        };
        let alg = CachedEd25519(&pre);
        // The only error is webpki's detail-less unit `InvalidSignature` (no `PartialEq`).
        let refused = |r: Result<(), InvalidSignature>| matches!(r, Err(InvalidSignature));
        assert!(matches!(
            alg.verify_signature(&key, &message, &signature),
            Ok(())
        ));
        for i in 0..key.len() {
            let mut k = key;
            k[i] ^= 0x01;
            assert!(refused(alg.verify_signature(&k, &message, &signature)));
        }
        for i in 0..message.len() {
            let mut m = message.clone();
            m[i] ^= 0x01;
            assert!(refused(alg.verify_signature(&key, &m, &signature)));
        }
        for i in 0..signature.len() {
            let mut s = signature;
            s[i] ^= 0x01;
            assert!(refused(alg.verify_signature(&key, &message, &s)));
        }
        let mut longer = message.clone();
        longer.push(0);
        assert!(refused(alg.verify_signature(&key, &longer, &signature)));
        assert!(refused(alg.verify_signature(
            &key,
            &message[..message.len() - 1],
            &signature
        )));

        // With a genuine signature the real check accepts a message the set does not hold.
        let good = sk.sign(b"other").to_bytes();
        assert!(matches!(
            alg.verify_signature(&key, b"other", &good),
            Ok(())
        ));
    }
}
