//! Validation of the server's X.509 certificate chain against the trusted CA and its CRL.
//!
//! The client trusts one CA certificate. The server sends its chain (leaf first, then up to
//! four intermediates); [`ServerCertVerifier::verify_server`] checks it with
//! [rustls-webpki](webpki) and returns the leaf's Ed25519 key, which the handshake then uses
//! to authenticate the server. The server side holds its chain and key as
//! [`ServerCredentials`].
//!
//! - Only Ed25519 is accepted, for keys and signatures, in certificates and CRLs
//!   (signatures checked with `verify_strict`).
//! - Time is a value ([`UnixTime`](crate::time::UnixTime)): "expired" is simply a check at a
//!   time after notAfter.
//! - Revocation is an explicit choice ([`RevocationPolicy`]): CRLs are checked for the whole
//!   chain, an unknown status is refused, and a CRL past its nextUpdate is refused. Not
//!   checking must be asked for by name
//!   ([`RevocationPolicy::DangerousNoRevocationCheck`]).
//! - Every failure is its own [`CertificateError`] variant; nothing panics on any input.
//! - A server may carry its CA's current CRL in its handshake flight ([`ServedCrl`]); a
//!   client adopts it only if the anchor signed it and it is newer than the CRL it holds
//!   ([`ServerCertVerifier::check_flight_crl`], [`NewerCrl`]).
//! - Certificates, keys and CRLs made by the OpenSSL command line work as they are; PEM
//!   text is read with [`certificates_from_pem`] and [`crls_from_pem`].
//!
//! The test fixtures in `tests/fixtures/pki/` (made by `make-fixtures.sh`, dates in its
//! `README.md`) show a complete OpenSSL setup.

mod chain;
mod credentials;
mod ed25519_alg;
mod error;
mod flight_crl;
mod pem;
mod verifier;

pub use credentials::ServerCredentials;
pub use error::CertificateError;
pub use flight_crl::{
    CrlNumber, FlightCrlError, FlightCrlSource, MAX_CRL_LEN, NewerCrl, ServedCrl,
};
pub use pem::{certificates_from_pem, crls_from_pem};
pub use verifier::{RevocationPolicy, ServerCertVerifier};

/// The most certificates a server may send: the leaf and up to four intermediates.
pub const MAX_CHAIN_CERTS: usize = 5;

/// The most bytes of one DER certificate.
pub const MAX_CERT_LEN: usize = 8 * 1024;
