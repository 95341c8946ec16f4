//! Errors of key handling, usernames and the user directory.

use alloc::boxed::Box;
use alloc::string::String;

/// Why a key, key file, username or directory operation was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
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
    /// The PEM label is not the one expected here, e.g. a public key given where a
    /// private key was asked for.
    #[error("expected a PEM \"{expected}\" block, found \"{found}\"")]
    UnexpectedPemLabel {
        /// The label this function reads.
        expected: &'static str,
        /// The label found in the input.
        found: String,
    },
    /// The private key is encrypted (`ENCRYPTED PRIVATE KEY`, as written by
    /// `openssl genpkey -aes256`) and was read without a passphrase: read it with
    /// `Identity::from_encrypted_pkcs8_pem` or a passphrase-taking file loader.
    #[error("the private key is encrypted: a passphrase is needed")]
    EncryptedKeyNeedsPassphrase,
    /// The passphrase does not decrypt the key. (A damaged encrypted key looks the same:
    /// the two cannot be told apart.)
    #[error("wrong passphrase for the encrypted private key")]
    WrongPassphrase,
    /// An empty passphrase was given to encrypt a key.
    #[error("refusing to encrypt a key with an empty passphrase")]
    EmptyPassphrase,
    /// The key is encrypted with a scheme or parameters we do not read: PBES1, DES,
    /// PBKDF2 with HMAC-SHA1, AES-GCM, or a key derivation costlier than the limits
    /// (`MAX_PBKDF2_ITERATIONS`, `MAX_SCRYPT_MEMORY`).
    #[error("unsupported private key encryption: {0}")]
    UnsupportedKeyEncryption(String),
    /// A PKCS#8 v2 file holds a public key that does not belong to its private key.
    #[error("the public key in the PKCS#8 file does not match its private key")]
    PublicKeyMismatch,
    /// A fingerprint string is not eight space-separated groups of four hex digits.
    #[error("malformed fingerprint")]
    MalformedFingerprint,
    /// A username broke the naming rules.
    #[error("invalid username: {0}")]
    InvalidUsername(&'static str),
    /// A key file is larger than any key file we accept.
    #[error("file is {size} bytes, more than the {max} bytes allowed for a key file")]
    FileTooLarge {
        /// The file's size (at least `max + 1` if it grew while being read).
        size: u64,
        /// The largest size accepted.
        max: u64,
    },
    /// The user directory already holds its maximum number of users.
    #[error("the user directory is limited to {max} users")]
    TooManyUsers {
        /// The limit.
        max: usize,
    },
    /// `username` is already registered with a different key. Use `replace` to change
    /// a user's key deliberately.
    #[error("user {username} is already registered with another key")]
    AlreadyRegistered {
        /// The name that was taken.
        username: String,
    },
    /// A file was not written because one already exists at `path`.
    #[error("refusing to overwrite existing file {path}")]
    AlreadyExists {
        /// The file that exists.
        path: String,
    },
    /// The content or name of the file at `path` was rejected for the reason in `error`.
    #[error("{path}: {error}")]
    InFile {
        /// The file involved.
        path: String,
        /// What was wrong with it.
        error: Box<IdentityError>,
    },
    /// The key file at `path` is passphrase-protected, no passphrase was given with the
    /// programs' `--passphrase-file` or `--passphrase-env`, and there is no terminal to
    /// ask one from.
    #[error(
        "{path} is protected by a passphrase and there is no terminal to ask for it ({reason}): \
         give it with --passphrase-file FILE or --passphrase-env VARIABLE"
    )]
    PassphraseWithoutTerminal {
        /// The key file.
        path: String,
        /// Why no terminal could be used.
        reason: String,
    },
    /// A file could not be read or written.
    #[error("I/O error on {path}: {reason}")]
    Io {
        /// The file involved.
        path: String,
        /// What the operating system said.
        reason: String,
    },
}
