//! Who is who: Ed25519 identities, their fingerprints, usernames, and the server's
//! directory of registered users.
//!
//! - [`Identity`]: a private signing key (zeroized on drop, never printed).
//! - [`PublicKey`]: an Ed25519 public key, with a human-comparable [`Fingerprint`].
//! - [`Username`]: a validated user name.
//! - [`UserDirectory`]: username to public key, the server's list of registered users,
//!   with [`MemoryDirectory`] and (with `std`) a folder of PEM files.
//!
//! Keys are read from and written to the PEM files OpenSSL uses: PKCS#8 for private keys
//! (`openssl genpkey -algorithm ed25519`), SubjectPublicKeyInfo for public keys
//! (`openssl pkey -pubout`).

mod directory;
mod error;
mod fingerprint;
mod keys;
mod pem;
mod username;

#[cfg(feature = "std")]
pub use directory::PemFolderDirectory;
pub use directory::{MemoryDirectory, UserDirectory};
pub use error::IdentityError;
pub use fingerprint::Fingerprint;
pub use keys::{Identity, PublicKey, SIGNATURE_LEN, Signature};
pub use username::{MAX_USERNAME_LEN, Username};
