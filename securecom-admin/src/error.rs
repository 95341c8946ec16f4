//! The one error type of the admin functions.

use std::path::Path;

use securecom_proto::identity::IdentityError;
use securecom_proto::pki::CertificateError;

/// Why an administration step (making a CA, a certificate, a CRL, a user, the
/// development PKI) failed.
///
/// Files handed to these functions may be damaged or hostile: every problem with them is
/// one of these variants, never a panic.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AdminError {
    /// A key, key file, username or user directory problem.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// A certificate or CRL PEM file could not be read, or a certificate we made did not
    /// verify.
    #[error("certificate: {0}")]
    Certificate(#[from] CertificateError),
    /// A certificate or CRL that is PEM but not the X.509 structure expected.
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// What was being read ("CA certificate", "CRL", ...).
        what: &'static str,
        /// The parser's complaint.
        reason: String,
    },
    /// A PEM file should hold exactly one certificate.
    #[error("expected exactly one certificate in the {what} PEM, found {found}")]
    CertificateCount {
        /// What was being read.
        what: &'static str,
        /// How many `CERTIFICATE` blocks there were.
        found: usize,
    },
    /// A CA name is empty, too long, or has control characters.
    #[error("invalid CA name: {0}")]
    InvalidCaName(&'static str),
    /// A server name is neither an IP address nor a valid DNS name.
    #[error("invalid server name {name:?}: {reason}")]
    InvalidServerName {
        /// The name given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A server certificate needs at least one name.
    #[error("a server certificate needs at least one DNS name or IP address")]
    NoServerNames,
    /// A serial number is not 1 to 20 bytes of hexadecimal, or is zero.
    #[error("invalid serial number {0:?}: expected hexadecimal such as 4F1A0C or 4f:1a:0c")]
    InvalidSerial(String),
    /// The start of a validity period or CRL is not before its end, or a time cannot be
    /// written in a certificate.
    #[error("invalid time: {0}")]
    InvalidTime(&'static str),
    /// The CA's private key is not the key of the CA certificate.
    #[error("the CA private key does not belong to the CA certificate")]
    KeyMismatch,
    /// The certificate given as the CA is not a CA certificate (basicConstraints CA:TRUE).
    #[error("the certificate given as CA is not a CA certificate")]
    NotACaCertificate,
    /// The CRL was not issued (or not signed) by the CA given.
    #[error("the CRL was not issued by this CA")]
    CrlFromAnotherIssuer,
    /// The CRL's number cannot be increased (over 128 bits).
    #[error("the CRL number is too large to increase")]
    CrlNumberTooLarge,
    /// The running server could not be told to reload (its pid file, or the signal).
    #[error("cannot reload the server of {pid_file}: {reason}")]
    Reload {
        /// The server's pid file.
        pid_file: String,
        /// What went wrong, in words.
        reason: String,
    },
    /// The operating system's random number generator failed.
    #[error("the random number generator failed: {0}")]
    Random(String),
    /// DER encoding of something we built failed.
    #[error("encoding {what}: {reason}")]
    Encoding {
        /// What was being encoded.
        what: &'static str,
        /// The encoder's complaint.
        reason: String,
    },
    /// A file or folder could not be read or written.
    #[error("I/O error on {path}: {reason}")]
    Io {
        /// The file involved.
        path: String,
        /// What the operating system said.
        reason: String,
    },
    /// The development PKI folder holds some files of a pair but not the other (say
    /// `ca.pem` without `ca.key`), or files that do not belong together.
    #[error("development PKI in {folder}: {reason}; remove the folder to start afresh")]
    InconsistentDevPki {
        /// The folder.
        folder: String,
        /// What does not fit.
        reason: String,
    },
}

impl AdminError {
    pub(crate) fn io(path: &Path, error: &std::io::Error) -> Self {
        AdminError::Io {
            path: path.display().to_string(),
            reason: error.to_string(),
        }
    }

    pub(crate) fn malformed(what: &'static str, error: impl std::fmt::Display) -> Self {
        AdminError::Malformed {
            what,
            reason: error.to_string(),
        }
    }

    pub(crate) fn encoding(what: &'static str, error: impl std::fmt::Display) -> Self {
        AdminError::Encoding {
            what,
            reason: error.to_string(),
        }
    }
}
