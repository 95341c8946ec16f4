//! Who is who: Ed25519 identities, their fingerprints, usernames, and the server's
//! directory of registered users.
//!
//! - [`Identity`]: a private signing key (zeroized on drop, never printed).
//! - [`PublicKey`]: an Ed25519 public key, with a human-comparable [`Fingerprint`].
//! - [`Username`]: a validated user name.
//! - [`UserDirectory`]: username to public key, the server's list of registered users,
//!   with [`MemoryDirectory`]; `securecom-host` has `PemFolderDirectory`, a folder of PEM
//!   files.
//!
//! Keys are read from and written to the PEM files OpenSSL uses: PKCS#8 for private keys
//! (`openssl genpkey -algorithm ed25519`), SubjectPublicKeyInfo for public keys
//! (`openssl pkey -pubout`). Private keys are written as PKCS#8 v1, which OpenSSL 3.0
//! reads; v1 and v2 are read. Passphrase-protected keys (`ENCRYPTED PRIVATE KEY`, as
//! `openssl genpkey -aes256` writes) are read and written with
//! [`Identity::from_encrypted_pkcs8_pem`] and [`Identity::to_encrypted_pkcs8_pem`]. This
//! module works on text and bytes only; `securecom-host` reads and writes the files
//! (`Identity::load_pem_file` and friends, asking for a passphrase only when the file needs
//! one).

mod directory;
mod encrypted;
mod error;
mod fingerprint;
mod keys;
mod pem;
mod username;

pub use directory::{MemoryDirectory, UserDirectory};
pub use encrypted::{MAX_PBKDF2_ITERATIONS, MAX_SCRYPT_MEMORY, PBKDF2_ITERATIONS};
pub use error::IdentityError;
pub use fingerprint::Fingerprint;
pub use keys::{Identity, PublicKey, SIGNATURE_LEN, Signature};
pub use username::{MAX_USERNAME_LEN, Username};
