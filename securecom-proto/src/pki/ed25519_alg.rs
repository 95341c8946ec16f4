//! Ed25519 for webpki: the one signature algorithm accepted in certificates and CRLs.

use ed25519_dalek::{Signature, VerifyingKey};
use rustls_pki_types::{AlgorithmIdentifier, InvalidSignature, SignatureVerificationAlgorithm};

/// Ed25519 (RFC 8410) signature verification over ed25519-dalek, with `verify_strict`: no
/// small-order keys, no non-canonical signatures.
#[derive(Debug)]
pub(crate) struct Ed25519Verification;

/// The algorithm list handed to webpki: Ed25519 only.
pub(crate) static SUPPORTED_ALGS: &[&dyn SignatureVerificationAlgorithm] = &[&Ed25519Verification];

impl SignatureVerificationAlgorithm for Ed25519Verification {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        let key_bytes: &[u8; 32] = public_key.try_into().map_err(|_| InvalidSignature)?;
        let key = VerifyingKey::from_bytes(key_bytes).map_err(|_| InvalidSignature)?;
        let signature = Signature::from_slice(signature).map_err(|_| InvalidSignature)?;
        key.verify_strict(message, &signature)
            .map_err(|_| InvalidSignature)
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
    use ed25519_dalek::{Signer, SigningKey};

    #[test]
    fn verifies_good_and_rejects_bad_signatures() {
        let sk = SigningKey::from_bytes(&[9u8; 32]);
        let pk = sk.verifying_key().to_bytes();
        let sig = sk.sign(b"tbs").to_bytes();
        let alg = Ed25519Verification;
        assert!(alg.verify_signature(&pk, b"tbs", &sig).is_ok());
        assert!(alg.verify_signature(&pk, b"tbt", &sig).is_err());
        assert!(alg.verify_signature(&pk, b"tbs", &sig[..63]).is_err());
        assert!(alg.verify_signature(&pk[..31], b"tbs", &sig).is_err());
        // The identity point is a small-order key: refused by verify_strict.
        let mut weak = [0u8; 32];
        weak[0] = 1;
        assert!(alg.verify_signature(&weak, b"tbs", &sig).is_err());
    }
}
