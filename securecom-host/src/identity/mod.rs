//! Key files and the user directory folder: the file side of
//! [`securecom_proto::identity`].
//!
//! - [`IdentityFileExt`]: `Identity::load_pem_file`, `load_pem_file_or_ask`,
//!   `save_pem_file` and friends, for PKCS#8 PEM private keys, plain or
//!   passphrase-protected, as OpenSSL writes them.
//! - [`PublicKeyFileExt`]: `PublicKey::load_pem_file` and `save_pem_file`, for
//!   SubjectPublicKeyInfo PEM public keys.
//! - [`PemFolderDirectory`]: the server's [`UserDirectory`] over a folder of
//!   `<username>.pem` files.
//!
//! Reads are bounded ([`MAX_KEY_FILE_LEN`], [`MAX_DIRECTORY_USERS`]); private keys are
//! created owner-only; no file is ever overwritten by accident; replacements are atomic.
//! Every problem is an [`IdentityError`] naming the file.
//!
//! [`UserDirectory`]: securecom_proto::identity::UserDirectory

use std::path::Path;

use securecom_proto::identity::IdentityError;

mod files;
mod folder;
mod live;

pub use files::{IdentityFileExt, MAX_KEY_FILE_LEN, PublicKeyFileExt};
pub use folder::{MAX_DIRECTORY_USERS, PemFolderDirectory};
pub use live::LiveDirectory;

/// `error` with the file it came from attached, or `error` itself if it already names a
/// file.
fn in_file(error: IdentityError, path: &Path) -> IdentityError {
    match error {
        IdentityError::InFile { .. }
        | IdentityError::Io { .. }
        | IdentityError::AlreadyExists { .. } => error,
        error => IdentityError::InFile {
            path: display_path(path),
            error: Box::new(error),
        },
    }
}

/// An I/O error on `path`.
fn io_error(path: &Path, error: &std::io::Error) -> IdentityError {
    IdentityError::Io {
        path: display_path(path),
        reason: error.to_string(),
    }
}

/// `path` as shown in errors.
fn display_path(path: &Path) -> String {
    path.display().to_string()
}
