//! # securecom-host
//!
//! What securecom does on the host, so that the protocol core, `securecom-proto`, does
//! none of it: the system clocks, the operating system's random number generator, key
//! files, the server's user directory folder, the client's known-keys file, and the
//! client's certificate verifier loaded from CA and CRL files. The drivers
//! (`securecom-tokio`, `securecom-std`) and the programs use it; an application with its
//! own storage or clocks can use the core without it.
//!
//! The modules mirror those of the core whose values they read or write:
//!
//! | module | job |
//! |---|---|
//! | [`time`] | [`time::StdClock`] (the monotonic clock as `Instant`s) and `UnixTime::now()` ([`time::UnixTimeExt`]) |
//! | [`identity`] | key files (`Identity::load_pem_file`, [`identity::IdentityFileExt`], [`identity::PublicKeyFileExt`]) and [`identity::PemFolderDirectory`] |
//! | [`chat`] | [`chat::FileKnownKeys`]: trust on first use kept in a file |
//! | [`pki`] | [`pki::load_server_verifier`]: the client's verifier from a CA file and CRL files |
//! | [`driver`] | what both socket drivers take and return: [`driver::ClientOptions`], [`driver::ConnectError`] |
//! | [`reconnect`] | [`reconnect::Backoff`]: when a client tries again after losing the server |
//!
//! and [`os_rng`] is the randomness the core's functions take. The file-reading traits are
//! extension traits on the core's types; [`prelude`] brings them all into scope.
//!
//! ```
//! use securecom_host::prelude::*;
//! use securecom_host::pki::{RevocationFiles, load_server_verifier};
//! use securecom_proto::identity::Identity;
//! use securecom_proto::time::UnixTime;
//!
//! let folder = std::env::temp_dir().join(format!("securecom-doc-host-{}", std::process::id()));
//! std::fs::create_dir_all(&folder)?;
//!
//! // A key, saved owner-only and read back.
//! let alice = Identity::generate(&mut securecom_host::os_rng());
//! alice.save_pem_file(folder.join("alice.key"))?;
//! assert_eq!(Identity::load_pem_file(folder.join("alice.key"))?.public_key(), alice.public_key());
//!
//! // What the client checks the server's certificate with: the CA and its CRL.
//! let pki = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
//!     .join("../securecom-proto/tests/fixtures/pki");
//! let verifier =
//!     load_server_verifier(pki.join("ca.pem"), &RevocationFiles::CheckCrls(vec![pki.join("crl.pem")]))?;
//! assert!(verifier.checks_revocation());
//! assert!(UnixTime::now() > UnixTime::from_secs(0));
//! # std::fs::remove_dir_all(&folder)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod chat;
pub mod driver;
pub mod identity;
pub mod pki;
pub mod reconnect;
pub mod time;

#[cfg(test)]
mod test_folder;

/// The extension traits, to bring into scope at once: `use securecom_host::prelude::*;`.
pub mod prelude {
    pub use crate::identity::{IdentityFileExt, PublicKeyFileExt};
    pub use crate::time::UnixTimeExt;
}

/// The operating system's random number generator, as the core's functions take it
/// ([`securecom_proto::CryptoRng`]).
pub type OsRng = rand_core::UnwrapErr<getrandom::SysRng>;

/// The operating system's random number generator (see [`OsRng`]). It panics if the
/// system cannot provide randomness, which on supported systems does not happen once the
/// process runs; use `getrandom` directly to handle that as an error.
///
/// ```
/// let mut rng = securecom_host::os_rng();
/// let identity = securecom_proto::identity::Identity::generate(&mut rng);
/// # let _ = identity;
/// ```
pub fn os_rng() -> OsRng {
    rand_core::UnwrapErr(getrandom::SysRng)
}
