//! Checks shared by the verifier and the credentials: chain shape and the leaf's key.

use webpki::EndEntityCert;

use super::{CertificateError, MAX_CERT_LEN, MAX_CHAIN_CERTS};
use crate::identity::PublicKey;

/// The DER of an Ed25519 SubjectPublicKeyInfo (RFC 8410) up to the 32 key bytes:
/// `SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING (0 unused bits) }`. RFC 8410 forbids
/// parameters, so every Ed25519 SPKI is exactly this prefix plus the key.
pub(crate) const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// 1 ..= [`MAX_CHAIN_CERTS`] certificates, each at most [`MAX_CERT_LEN`] bytes.
pub(crate) fn check_shape<T: AsRef<[u8]>>(chain: &[T]) -> Result<(), CertificateError> {
    if chain.is_empty() {
        return Err(CertificateError::EmptyChain);
    }
    if chain.len() > MAX_CHAIN_CERTS {
        return Err(CertificateError::ChainTooLong {
            max: MAX_CHAIN_CERTS,
            got: chain.len(),
        });
    }
    for (index, cert) in chain.iter().enumerate() {
        let len = cert.as_ref().len();
        if len > MAX_CERT_LEN {
            return Err(CertificateError::CertificateTooLarge {
                index,
                len,
                max: MAX_CERT_LEN,
            });
        }
    }
    Ok(())
}

/// The leaf's Ed25519 public key.
pub(crate) fn leaf_public_key(leaf: &EndEntityCert<'_>) -> Result<PublicKey, CertificateError> {
    let spki = leaf.subject_public_key_info();
    let key = spki
        .as_ref()
        .strip_prefix(ED25519_SPKI_PREFIX.as_slice())
        .ok_or(CertificateError::NotEd25519)?;
    PublicKey::from_slice(key).map_err(|_| CertificateError::NotEd25519)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;

    #[test]
    fn shape_limits() {
        let empty: [&[u8]; 0] = [];
        assert_eq!(check_shape(&empty), Err(CertificateError::EmptyChain));
        let six = vec![vec![0u8; 10]; MAX_CHAIN_CERTS + 1];
        assert_eq!(
            check_shape(&six),
            Err(CertificateError::ChainTooLong { max: 5, got: 6 })
        );
        let big: Vec<Vec<u8>> = vec![vec![0; 10], vec![0; MAX_CERT_LEN + 1]];
        assert_eq!(
            check_shape(&big),
            Err(CertificateError::CertificateTooLarge {
                index: 1,
                len: MAX_CERT_LEN + 1,
                max: MAX_CERT_LEN
            })
        );
        assert_eq!(check_shape(&[vec![0u8; MAX_CERT_LEN]]), Ok(()));
    }
}
