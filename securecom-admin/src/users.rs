//! User key pairs and their registration in the server's user directory.

use std::path::{Path, PathBuf};

use securecom_host::identity::PemFolderDirectory;
use securecom_proto::identity::{Identity, PublicKey, Username};

use crate::{AdminError, random};

/// Creates a key pair for the user `name`: a fresh Ed25519 identity and its public key
/// as a PEM `PUBLIC KEY` block, the file the server's administrator registers with
/// [`register_user`]. The private key stays with the user (save it with
/// [`IdentityFileExt::save_pem_file`], or [`IdentityFileExt::save_encrypted_pem_file`]
/// to protect it with a passphrase).
///
/// [`IdentityFileExt::save_pem_file`]: securecom_host::identity::IdentityFileExt::save_pem_file
/// [`IdentityFileExt::save_encrypted_pem_file`]: securecom_host::identity::IdentityFileExt::save_encrypted_pem_file
///
/// ```
/// use securecom_admin::create_user;
/// let (alice, public_pem) = create_user("alice")?;
/// assert!(public_pem.starts_with("-----BEGIN PUBLIC KEY-----"));
/// println!("alice's fingerprint: {}", alice.public_key().fingerprint());
/// # Ok::<(), securecom_admin::AdminError>(())
/// ```
///
/// # Errors
/// [`AdminError::Identity`] with `InvalidUsername` if `name` breaks the username rules
/// (checked now, so the key is not made for a name the server would refuse).
pub fn create_user(name: &str) -> Result<(Identity, String), AdminError> {
    Username::new(name)?;
    let identity = random::identity()?;
    let public_pem = identity.public_key().to_public_key_pem()?;
    Ok((identity, public_pem))
}

/// Registers `username` with `public_key` in the server's user directory, the folder of
/// `<username>.pem` files that [`PemFolderDirectory`] reads, and returns the file written.
/// Registering the same key again does nothing; a different key for a registered user is
/// refused (replace the file by hand if that is meant). A running server sees the new
/// user when it reloads its directory.
///
/// ```
/// use securecom_admin::{create_user, register_user};
/// # let folder = std::env::temp_dir().join(format!("securecom-doc-users-{}", std::process::id()));
/// # std::fs::create_dir_all(&folder).unwrap();
/// let (alice, _) = create_user("alice")?;
/// let file = register_user(&folder, "alice", &alice.public_key())?;
/// assert!(file.ends_with("alice.pem"));
/// # std::fs::remove_dir_all(&folder).unwrap();
/// # Ok::<(), securecom_admin::AdminError>(())
/// ```
///
/// # Errors
/// [`AdminError::Identity`] with `InvalidUsername`, `AlreadyRegistered` (another key),
/// an I/O error, or a problem with a file already in the folder (the folder is read whole
/// first, so a damaged directory is reported rather than added to).
pub fn register_user(
    directory_folder: impl AsRef<Path>,
    username: &str,
    public_key: &PublicKey,
) -> Result<PathBuf, AdminError> {
    let username = Username::new(username)?;
    let mut directory = PemFolderDirectory::open(directory_folder.as_ref())?;
    directory.register(&username, public_key)?;
    Ok(directory.path_of(&username))
}
