//! Why a certificate chain, CRL or server credential was rejected.

use alloc::format;
use alloc::string::String;

use crate::time::UnixTime;

/// Why a certificate, chain, CRL or server credential was rejected.
///
/// One variant per failure, so a caller (and a test) can tell exactly what went wrong. On
/// the wire every one of these is the same "bad certificate" alert; only the local error is
/// specific.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateError {
    /// A certificate is not valid DER X.509 v3, or has a field webpki cannot parse
    /// (bad encoding, bad time, trailing data, malformed extension, notBefore after notAfter).
    #[error("malformed certificate")]
    Malformed,
    /// A CRL is not valid DER, or uses a feature webpki does not support (v1, no
    /// nextUpdate, delta or indirect CRL, partitioned by reason, unknown reason code).
    #[error("malformed or unsupported CRL")]
    MalformedCrl,
    /// PEM text could not be decoded, or did not hold what was expected.
    #[error("malformed PEM: {0}")]
    MalformedPem(String),
    /// The server sent no certificate.
    #[error("empty certificate chain")]
    EmptyChain,
    /// More certificates than [`MAX_CHAIN_CERTS`](super::MAX_CHAIN_CERTS).
    #[error("certificate chain too long: {got} certificates, at most {max}")]
    ChainTooLong {
        /// The limit.
        max: usize,
        /// How many were given.
        got: usize,
    },
    /// Two CRLs of the same issuer and scope were given; which one is current would be
    /// ambiguous, and an older one could hide a revocation.
    #[error("two CRLs from the same issuer: give only the newest")]
    DuplicateCrl,
    /// The whole chain does not fit in one handshake record.
    #[error("certificate chain of {len} bytes does not fit the handshake's {max}-byte limit")]
    ChainTooLarge {
        /// The encoded size of the chain.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// One certificate is longer than [`MAX_CERT_LEN`](super::MAX_CERT_LEN).
    #[error("certificate {index} too large: {len} bytes, at most {max}")]
    CertificateTooLarge {
        /// Position in the chain (0 = leaf).
        index: usize,
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// No path leads from the leaf to the trusted CA: signed by another CA, or a needed
    /// intermediate is missing.
    #[error("certificate not issued by the trusted CA")]
    UnknownIssuer,
    /// A certificate's signature does not verify under its issuer's key.
    #[error("bad certificate signature")]
    BadSignature,
    /// A certificate in the chain is past its notAfter.
    #[error("certificate expired at {not_after} (now {now})")]
    Expired {
        /// The time of the check.
        now: UnixTime,
        /// The certificate's notAfter.
        not_after: UnixTime,
    },
    /// A certificate in the chain is before its notBefore.
    #[error("certificate not valid before {not_before} (now {now})")]
    NotYetValid {
        /// The time of the check.
        now: UnixTime,
        /// The certificate's notBefore.
        not_before: UnixTime,
    },
    /// A certificate in the chain is listed in its issuer's CRL.
    #[error("certificate revoked")]
    Revoked,
    /// The CRL is stale: the time of the check is at or after its nextUpdate.
    #[error("CRL expired at {next_update} (now {now})")]
    CrlExpired {
        /// The time of the check.
        now: UnixTime,
        /// The CRL's nextUpdate.
        next_update: UnixTime,
    },
    /// A CRL names the issuer but its signature does not verify under the issuer's key.
    #[error("CRL signature does not verify under the issuer's key")]
    CrlBadSignature,
    /// No configured CRL comes from the issuer of a certificate in the chain, so its
    /// revocation status is unknown (and unknown is refused).
    #[error("no CRL from the certificate's issuer: revocation status unknown")]
    UnknownRevocationStatus,
    /// The CRL's issuer has a keyUsage without cRLSign.
    #[error("CRL issuer is not allowed to sign CRLs")]
    IssuerNotCrlSigner,
    /// [`RevocationPolicy::CheckCrls`](super::RevocationPolicy::CheckCrls) with no CRL, or
    /// [`ServerCertVerifier::from_pem`](super::ServerCertVerifier::from_pem) without CRL
    /// text. Not checking revocation must be chosen explicitly with
    /// [`RevocationPolicy::DangerousNoRevocationCheck`](super::RevocationPolicy::DangerousNoRevocationCheck).
    #[error("no CRL configured; not checking revocation must be chosen explicitly")]
    MissingCrl,
    /// The leaf is not valid for the expected server name (no matching DNS or IP SAN).
    #[error("certificate not valid for the server name")]
    NameMismatch,
    /// The expected server name is neither a DNS name nor an IP address literal.
    #[error("invalid server name")]
    InvalidServerName,
    /// The leaf is a CA certificate (basicConstraints CA:TRUE).
    #[error("CA certificate used as end-entity certificate")]
    CaUsedAsEndEntity,
    /// An issuer in the chain is not a CA certificate.
    #[error("end-entity certificate used as CA")]
    EndEntityUsedAsCa,
    /// A pathLenConstraint or name constraint of an issuer is violated.
    #[error("issuer constraint violated")]
    ConstraintViolated,
    /// The leaf's extendedKeyUsage does not allow server authentication (or is empty).
    #[error("certificate not valid for server authentication")]
    NotValidForServerAuth,
    /// A certificate carries a critical extension webpki does not understand.
    #[error("unsupported critical extension")]
    UnsupportedCriticalExtension,
    /// A key or signature in the chain is not (valid) Ed25519, the only algorithm accepted.
    #[error("key or signature algorithm is not Ed25519")]
    NotEd25519,
    /// The private key does not belong to the leaf certificate.
    #[error("private key does not match the certificate")]
    KeyMismatch,
    /// Any other failure reported by webpki (e.g. path-building limits reached).
    #[error("certificate error: {0}")]
    Other(String),
}

impl CertificateError {
    /// Maps a webpki error met while validating a certificate chain.
    #[allow(deprecated)] // webpki still returns its deprecated variants in some paths
    pub(crate) fn from_webpki(err: webpki::Error) -> Self {
        use webpki::Error as E;
        match err {
            E::BadDer
            | E::BadDerTime
            | E::TrailingData(_)
            | E::MalformedExtensions
            | E::ExtensionValueInvalid
            | E::InvalidCertValidity
            | E::InvalidSerialNumber
            | E::UnsupportedCertVersion
            | E::InvalidNetworkMaskConstraint
            | E::MalformedNameConstraint => CertificateError::Malformed,
            E::InvalidCrlNumber
            | E::UnsupportedCrlVersion
            | E::UnsupportedDeltaCrl
            | E::UnsupportedIndirectCrl
            | E::UnsupportedRevocationReason
            | E::UnsupportedRevocationReasonsPartitioning
            | E::UnsupportedCrlIssuingDistributionPoint => CertificateError::MalformedCrl,
            E::UnknownIssuer => CertificateError::UnknownIssuer,
            E::InvalidSignatureForPublicKey | E::SignatureAlgorithmMismatch => {
                CertificateError::BadSignature
            }
            E::UnsupportedSignatureAlgorithm
            | E::UnsupportedSignatureAlgorithmContext(_)
            | E::UnsupportedSignatureAlgorithmForPublicKey
            | E::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => {
                CertificateError::NotEd25519
            }
            E::CertExpired { time, not_after } => CertificateError::Expired {
                now: from_pki_time(time),
                not_after: from_pki_time(not_after),
            },
            E::CertNotValidYet { time, not_before } => CertificateError::NotYetValid {
                now: from_pki_time(time),
                not_before: from_pki_time(not_before),
            },
            E::CertRevoked => CertificateError::Revoked,
            E::CrlExpired { time, next_update } => CertificateError::CrlExpired {
                now: from_pki_time(time),
                next_update: from_pki_time(next_update),
            },
            E::InvalidCrlSignatureForPublicKey
            | E::UnsupportedCrlSignatureAlgorithm
            | E::UnsupportedCrlSignatureAlgorithmContext(_)
            | E::UnsupportedCrlSignatureAlgorithmForPublicKey
            | E::UnsupportedCrlSignatureAlgorithmForPublicKeyContext(_) => {
                CertificateError::CrlBadSignature
            }
            E::UnknownRevocationStatus => CertificateError::UnknownRevocationStatus,
            E::IssuerNotCrlSigner => CertificateError::IssuerNotCrlSigner,
            E::CertNotValidForName(_) => CertificateError::NameMismatch,
            E::MalformedDnsIdentifier | E::UnsupportedNameType => {
                CertificateError::InvalidServerName
            }
            E::CaUsedAsEndEntity => CertificateError::CaUsedAsEndEntity,
            E::EndEntityUsedAsCa => CertificateError::EndEntityUsedAsCa,
            E::PathLenConstraintViolated | E::NameConstraintViolation => {
                CertificateError::ConstraintViolated
            }
            E::RequiredEkuNotFound | E::RequiredEkuNotFoundContext(_) | E::EmptyEkuExtension => {
                CertificateError::NotValidForServerAuth
            }
            E::UnsupportedCriticalExtension => CertificateError::UnsupportedCriticalExtension,
            other => CertificateError::Other(format!("{other:?}")),
        }
    }

    /// Maps a webpki error met while parsing a CRL: every failure there is [`Self::MalformedCrl`].
    pub(crate) fn from_webpki_crl(_err: webpki::Error) -> Self {
        CertificateError::MalformedCrl
    }
}

fn from_pki_time(t: rustls_pki_types::UnixTime) -> UnixTime {
    UnixTime::from_secs(t.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::time::Duration;

    fn t(secs: u64) -> rustls_pki_types::UnixTime {
        rustls_pki_types::UnixTime::since_unix_epoch(Duration::from_secs(secs))
    }

    #[test]
    fn webpki_errors_map_to_their_own_variants() {
        use webpki::Error as E;
        let cases = [
            (E::BadDer, CertificateError::Malformed),
            (E::UnknownIssuer, CertificateError::UnknownIssuer),
            (E::CertRevoked, CertificateError::Revoked),
            (
                E::InvalidCrlSignatureForPublicKey,
                CertificateError::CrlBadSignature,
            ),
            (
                E::UnknownRevocationStatus,
                CertificateError::UnknownRevocationStatus,
            ),
            (E::CaUsedAsEndEntity, CertificateError::CaUsedAsEndEntity),
            (
                E::EmptyEkuExtension,
                CertificateError::NotValidForServerAuth,
            ),
            (
                E::InvalidSignatureForPublicKey,
                CertificateError::BadSignature,
            ),
            (E::UnsupportedDeltaCrl, CertificateError::MalformedCrl),
        ];
        for (webpki_err, ours) in cases {
            assert_eq!(CertificateError::from_webpki(webpki_err), ours);
        }
        assert_eq!(
            CertificateError::from_webpki(E::CertExpired {
                time: t(20),
                not_after: t(10)
            }),
            CertificateError::Expired {
                now: UnixTime::from_secs(20),
                not_after: UnixTime::from_secs(10)
            }
        );
        assert_eq!(
            CertificateError::from_webpki(E::CrlExpired {
                time: t(20),
                next_update: t(10)
            }),
            CertificateError::CrlExpired {
                now: UnixTime::from_secs(20),
                next_update: UnixTime::from_secs(10)
            }
        );
        assert!(matches!(
            CertificateError::from_webpki(E::MaximumPathBuildCallsExceeded),
            CertificateError::Other(_)
        ));
    }
}
