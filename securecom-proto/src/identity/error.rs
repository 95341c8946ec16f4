//! Errors of key handling and user names.

use alloc::string::String;

/// Why a key, key file or username was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    /// The bytes are not a valid Ed25519 public key (or are a weak, small-order key).
    #[error("invalid Ed25519 public key")]
    InvalidPublicKey,
    /// A signature did not verify.
    #[error("signature verification failed")]
    BadSignature,
    /// A PEM or DER file could not be parsed as the expected key type.
    #[error("malformed key file: {0}")]
    MalformedKey(String),
    /// The key is of another algorithm than Ed25519.
    #[error("key algorithm is not Ed25519")]
    WrongAlgorithm,
    /// A username broke the naming rules.
    #[error("invalid username: {0}")]
    InvalidUsername(&'static str),
    /// A file could not be read or written.
    #[error("I/O error on {path}: {reason}")]
    Io {
        /// The file involved.
        path: String,
        /// What the operating system said.
        reason: String,
    },
}
