//! What the server presents: its certificate chain and the matching private key.

use alloc::vec::Vec;
use core::fmt;

use rustls_pki_types::CertificateDer;
use webpki::EndEntityCert;

use super::{CertificateError, chain};
use crate::identity::Identity;

/// The server's certificate chain (leaf first) and its private key, checked to belong
/// together.
///
/// Construction checks the chain's shape (1 ..= [`MAX_CHAIN_CERTS`](super::MAX_CHAIN_CERTS)
/// certificates of at most [`MAX_CERT_LEN`](super::MAX_CERT_LEN) bytes), that every
/// certificate parses, that the leaf's key is Ed25519, and that it is the public half of
/// `key`. It does not check the chain against a CA: that is the client's job
/// ([`ServerCertVerifier`](super::ServerCertVerifier)).
///
/// `Debug` prints the certificate sizes and the key's fingerprint, never the secret.
///
/// ```
/// use securecom_proto::identity::Identity;
/// use securecom_proto::pki::{CertificateError, ServerCredentials, certificates_from_pem};
///
/// let chain = certificates_from_pem(include_str!(concat!(
///     env!("CARGO_MANIFEST_DIR"),
///     "/tests/fixtures/pki/server.pem"
/// )))?;
/// // Any key other than the one the certificate was issued for is refused.
/// let wrong_key = Identity::from_seed(&[1; 32]);
/// assert_eq!(
///     ServerCredentials::new(chain, wrong_key).unwrap_err(),
///     CertificateError::KeyMismatch
/// );
/// # Ok::<(), CertificateError>(())
/// ```
pub struct ServerCredentials {
    chain: Vec<Vec<u8>>,
    identity: Identity,
}

impl ServerCredentials {
    /// Pairs `chain_der` (DER, leaf first) with the leaf's private `key`.
    ///
    /// Errors: [`CertificateError::EmptyChain`], [`CertificateError::ChainTooLong`],
    /// [`CertificateError::CertificateTooLarge`], [`CertificateError::Malformed`],
    /// [`CertificateError::NotEd25519`] (leaf key), [`CertificateError::KeyMismatch`].
    pub fn new(chain_der: Vec<Vec<u8>>, key: Identity) -> Result<Self, CertificateError> {
        chain::check_shape(&chain_der)?;
        // The ServerCertificate message (type, count, u16-prefixed certificates) must fit
        // one record; refuse here rather than fail every handshake later.
        let encoded = 2 + chain_der.iter().map(|c| 2 + c.len()).sum::<usize>();
        if encoded > crate::codec::MAX_PLAINTEXT_LEN {
            return Err(CertificateError::ChainTooLarge {
                len: encoded,
                max: crate::codec::MAX_PLAINTEXT_LEN,
            });
        }
        let ders: Vec<CertificateDer<'_>> = chain_der
            .iter()
            .map(|der| CertificateDer::from(der.as_slice()))
            .collect();
        let mut parsed = Vec::with_capacity(ders.len());
        for der in &ders {
            parsed.push(EndEntityCert::try_from(der).map_err(CertificateError::from_webpki)?);
        }
        let leaf = parsed.first().ok_or(CertificateError::EmptyChain)?;
        if chain::leaf_public_key(leaf)? != key.public_key() {
            return Err(CertificateError::KeyMismatch);
        }
        drop(parsed);
        drop(ders);
        Ok(ServerCredentials {
            chain: chain_der,
            identity: key,
        })
    }

    /// The certificate chain, leaf first, as DER.
    pub fn chain(&self) -> &[Vec<u8>] {
        &self.chain
    }

    /// The server's private key, the public half of which is in the leaf certificate.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }
}

impl fmt::Debug for ServerCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ServerCredentials { chain, identity } = self;
        let sizes: Vec<usize> = chain.iter().map(Vec::len).collect();
        f.debug_struct("ServerCredentials")
            .field("chain_der_lens", &sizes)
            .field("identity", identity)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::certificates_from_pem;
    use alloc::vec;

    #[test]
    fn shape_and_parse_errors() {
        let id = || Identity::from_seed(&[3; 32]);
        assert_eq!(
            ServerCredentials::new(vec![], id()).unwrap_err(),
            CertificateError::EmptyChain
        );
        assert_eq!(
            ServerCredentials::new(vec![vec![0xde, 0xad]], id()).unwrap_err(),
            CertificateError::Malformed
        );
    }

    #[test]
    fn chain_larger_than_one_record_is_refused_at_configuration() {
        // Three certificates within the per-certificate bound but too big together.
        let chain = vec![vec![0x30; 6000]; 3];
        assert!(matches!(
            ServerCredentials::new(chain, Identity::from_seed(&[3; 32])),
            Err(CertificateError::ChainTooLarge { .. })
        ));
    }

    #[test]
    fn debug_hides_the_secret() {
        let chain = certificates_from_pem(crate::testkit::fixtures::SERVER_CHAIN).unwrap();
        // Not the server's key, so build the value directly to test Debug alone.
        let creds = ServerCredentials {
            chain,
            identity: Identity::from_seed(&[0x42; 32]),
        };
        let shown = alloc::format!("{creds:?}");
        assert!(shown.contains("chain_der_lens"));
        assert!(!shown.contains("42, 42"));
        assert!(!shown.to_lowercase().contains("4242"));
    }
}
