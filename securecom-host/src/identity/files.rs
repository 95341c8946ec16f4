//! Key files on disk: bounded reads, private keys created with mode 0600, no silent
//! overwrites, atomic replacement.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rand_core::CryptoRng;
use securecom_proto::identity::{Identity, IdentityError, PublicKey};
use zeroize::Zeroizing;

use super::{display_path, in_file, io_error};

/// The largest key file read, in bytes, checked before the file is read.
///
/// An Ed25519 key file is about 120 bytes; 4 KiB still admits an RSA-4096 private key, so
/// such a file is reported as [`IdentityError::WrongAlgorithm`] rather than as too large.
pub const MAX_KEY_FILE_LEN: u64 = 4096;

/// [`MAX_KEY_FILE_LEN`] and the one byte more that shows a file is too long.
const READ_BUFFER_LEN: usize = MAX_KEY_FILE_LEN as usize + 1;

mod sealed {
    pub trait Sealed {}
    impl Sealed for securecom_proto::identity::Identity {}
    impl Sealed for securecom_proto::identity::PublicKey {}
}

/// Private key files for [`Identity`]: PKCS#8 PEM, plain or passphrase-protected, as
/// OpenSSL reads and writes them.
///
/// Bring the trait into scope and call its functions on the type, as if they were
/// `Identity`'s own: `Identity::load_pem_file(path)`, `identity.save_pem_file(path)`.
/// It is sealed: only [`Identity`] implements it.
pub trait IdentityFileExt: Sized + sealed::Sealed {
    /// Reads a PKCS#8 PEM private key file, such as one written by
    /// `openssl genpkey -algorithm ed25519 -out key.pem` or by
    /// [`IdentityFileExt::save_pem_file`].
    ///
    /// # Errors
    /// [`IdentityError::Io`] if the file cannot be read, otherwise
    /// [`IdentityError::InFile`] naming the file and wrapping the reason (see
    /// [`Identity::from_pkcs8_pem`]), including [`IdentityError::FileTooLarge`] for files
    /// over [`MAX_KEY_FILE_LEN`] bytes.
    fn load_pem_file(path: impl AsRef<Path>) -> Result<Self, IdentityError>;

    /// Reads a private key file that may be passphrase-protected: an `ENCRYPTED PRIVATE
    /// KEY` is decrypted with `passphrase`; an unencrypted `PRIVATE KEY` is read as it is
    /// and the passphrase ignored (the key is no less safe for it).
    ///
    /// For scripts that take the passphrase from a file or an environment variable. A
    /// program that asks a person should use [`IdentityFileExt::load_pem_file_or_ask`],
    /// so that nobody is asked for a passphrase the file does not need.
    ///
    /// # Errors
    /// As [`IdentityFileExt::load_pem_file`], plus those of
    /// [`Identity::from_encrypted_pkcs8_pem`] (notably [`IdentityError::WrongPassphrase`])
    /// wrapped in [`IdentityError::InFile`].
    fn load_pem_file_with_passphrase(
        path: impl AsRef<Path>,
        passphrase: &[u8],
    ) -> Result<Self, IdentityError>;

    /// Reads a private key file, calling `ask` for the passphrase only if the file is
    /// encrypted. `ask` gets the file's path, to name it in a prompt; what it returns is
    /// used once and should be wiped by the caller (return a `Zeroizing` buffer).
    ///
    /// ```
    /// use securecom_host::identity::IdentityFileExt;
    /// use securecom_proto::identity::{Identity, IdentityError};
    /// let path = std::env::temp_dir().join(format!("securecom-doc-ask-{}.pem", std::process::id()));
    /// let mut rng = securecom_host::os_rng();
    /// let id = Identity::generate(&mut rng);
    /// id.save_encrypted_pem_file(&path, b"open sesame", &mut rng)?;
    ///
    /// let loaded = Identity::load_pem_file_or_ask(&path, |file| {
    ///     // A real program prompts without echo here.
    ///     eprintln!("passphrase for {}:", file.display());
    ///     Ok(zeroize::Zeroizing::new(b"open sesame".to_vec()))
    /// })?;
    /// assert_eq!(loaded.public_key(), id.public_key());
    /// # std::fs::remove_file(&path).unwrap();
    /// # Ok::<(), IdentityError>(())
    /// ```
    ///
    /// # Errors
    /// As [`IdentityFileExt::load_pem_file_with_passphrase`], and whatever `ask` returns.
    fn load_pem_file_or_ask<P, F>(path: impl AsRef<Path>, ask: F) -> Result<Self, IdentityError>
    where
        P: AsRef<[u8]>,
        F: FnOnce(&Path) -> Result<P, IdentityError>;

    /// Writes the key as a passphrase-protected PKCS#8 PEM file (see
    /// [`Identity::to_encrypted_pkcs8_pem`]), with the care of
    /// [`IdentityFileExt::save_pem_file`]: mode 0600 from creation, never overwriting a
    /// file.
    ///
    /// # Errors
    /// [`IdentityError::EmptyPassphrase`]; [`IdentityError::AlreadyExists`] if `path`
    /// exists; [`IdentityError::Io`] if the file cannot be written.
    fn save_encrypted_pem_file<R: CryptoRng + ?Sized>(
        &self,
        path: impl AsRef<Path>,
        passphrase: &[u8],
        rng: &mut R,
    ) -> Result<(), IdentityError>;

    /// Writes the key as a PKCS#8 v1 PEM file (see [`Identity::to_pkcs8_pem`]).
    ///
    /// The file is created new, readable by its owner only (mode 0600 on Unix, set
    /// when the file is created, so the key is never readable by others even briefly).
    /// An existing file is **never overwritten**, because that would destroy an identity
    /// for good: remove it first if that is really meant.
    ///
    /// ```
    /// use securecom_host::identity::IdentityFileExt;
    /// use securecom_proto::identity::{Identity, IdentityError};
    /// let path = std::env::temp_dir().join(format!("securecom-doc-{}.pem", std::process::id()));
    /// let id = Identity::from_seed(&[5; 32]);
    /// id.save_pem_file(&path)?;
    /// assert!(matches!(id.save_pem_file(&path), Err(IdentityError::AlreadyExists { .. })));
    /// assert_eq!(Identity::load_pem_file(&path)?.public_key(), id.public_key());
    /// # std::fs::remove_file(&path).unwrap();
    /// # Ok::<(), IdentityError>(())
    /// ```
    ///
    /// # Errors
    /// [`IdentityError::AlreadyExists`] if `path` exists; [`IdentityError::Io`] if the
    /// file cannot be written (a partly written file is removed).
    fn save_pem_file(&self, path: impl AsRef<Path>) -> Result<(), IdentityError>;
}

impl IdentityFileExt for Identity {
    fn load_pem_file(path: impl AsRef<Path>) -> Result<Self, IdentityError> {
        let path = path.as_ref();
        let text = read_key_file(path)?;
        Identity::from_pkcs8_pem(&text).map_err(|e| in_file(e, path))
    }

    fn load_pem_file_with_passphrase(
        path: impl AsRef<Path>,
        passphrase: &[u8],
    ) -> Result<Self, IdentityError> {
        Identity::load_pem_file_or_ask(path, |_| Ok(passphrase))
    }

    fn load_pem_file_or_ask<P, F>(path: impl AsRef<Path>, ask: F) -> Result<Self, IdentityError>
    where
        P: AsRef<[u8]>,
        F: FnOnce(&Path) -> Result<P, IdentityError>,
    {
        let path = path.as_ref();
        let text = read_key_file(path)?;
        if !Identity::is_encrypted_pkcs8_pem(&text) {
            return Identity::from_pkcs8_pem(&text).map_err(|e| in_file(e, path));
        }
        let passphrase = ask(path)?;
        Identity::from_encrypted_pkcs8_pem(&text, passphrase.as_ref()).map_err(|e| in_file(e, path))
    }

    fn save_encrypted_pem_file<R: CryptoRng + ?Sized>(
        &self,
        path: impl AsRef<Path>,
        passphrase: &[u8],
        rng: &mut R,
    ) -> Result<(), IdentityError> {
        let pem = self.to_encrypted_pkcs8_pem(passphrase, rng)?;
        write_new_file(path.as_ref(), pem.as_bytes(), FileMode::OwnerOnly)
    }

    fn save_pem_file(&self, path: impl AsRef<Path>) -> Result<(), IdentityError> {
        let pem = self.to_pkcs8_pem()?;
        write_new_file(path.as_ref(), pem.as_bytes(), FileMode::OwnerOnly)
    }
}

/// Public key files for [`PublicKey`]: SubjectPublicKeyInfo PEM, as `openssl pkey
/// -pubout` writes them.
///
/// Bring the trait into scope and call its functions on the type:
/// `PublicKey::load_pem_file(path)`, `key.save_pem_file(path)`. It is sealed: only
/// [`PublicKey`] implements it.
///
/// ```
/// use securecom_host::identity::PublicKeyFileExt;
/// use securecom_proto::identity::{Identity, PublicKey};
/// let path = std::env::temp_dir().join(format!("securecom-doc-pub-{}.pem", std::process::id()));
/// let key = Identity::from_seed(&[6; 32]).public_key();
/// key.save_pem_file(&path)?;
/// assert_eq!(PublicKey::load_pem_file(&path)?, key);
/// # std::fs::remove_file(&path).unwrap();
/// # Ok::<(), securecom_proto::identity::IdentityError>(())
/// ```
pub trait PublicKeyFileExt: Sized + sealed::Sealed {
    /// Reads a SubjectPublicKeyInfo PEM public key file, such as one written by
    /// `openssl pkey -in key.pem -pubout -out pub.pem`.
    ///
    /// # Errors
    /// As [`IdentityFileExt::load_pem_file`], with the reasons of
    /// [`PublicKey::from_public_key_pem`].
    fn load_pem_file(path: impl AsRef<Path>) -> Result<Self, IdentityError>;

    /// Writes the key as a SubjectPublicKeyInfo PEM file. Like
    /// [`IdentityFileExt::save_pem_file`] it refuses to overwrite an existing file; the
    /// file gets the usual permissions (0644 less the umask on Unix).
    ///
    /// # Errors
    /// [`IdentityError::AlreadyExists`] if `path` exists; [`IdentityError::Io`] if the
    /// file cannot be written.
    fn save_pem_file(&self, path: impl AsRef<Path>) -> Result<(), IdentityError>;
}

impl PublicKeyFileExt for PublicKey {
    fn load_pem_file(path: impl AsRef<Path>) -> Result<Self, IdentityError> {
        let path = path.as_ref();
        let text = read_key_file(path)?;
        PublicKey::from_public_key_pem(&text).map_err(|e| in_file(e, path))
    }

    fn save_pem_file(&self, path: impl AsRef<Path>) -> Result<(), IdentityError> {
        let pem = self.to_public_key_pem()?;
        write_new_file(path.as_ref(), pem.as_bytes(), FileMode::Public)
    }
}

/// Who may read a file we create.
#[derive(Clone, Copy)]
pub(crate) enum FileMode {
    /// The owner only: private keys.
    OwnerOnly,
    /// Everyone (less the umask): public keys.
    Public,
}

/// Reads the key file at `path` as UTF-8 text, refusing anything over
/// [`MAX_KEY_FILE_LEN`] bytes and anything but a regular file. The text is wiped on drop
/// since it may be a private key.
pub(crate) fn read_key_file(path: &Path) -> Result<Zeroizing<String>, IdentityError> {
    // Checked before opening: opening a FIFO or device could block or never end.
    let metadata = fs::metadata(path).map_err(|e| io_error(path, &e))?;
    if !metadata.is_file() {
        return Err(IdentityError::Io {
            path: display_path(path),
            reason: "not a regular file".to_string(),
        });
    }
    let too_large = |size| {
        in_file(
            IdentityError::FileTooLarge {
                size,
                max: MAX_KEY_FILE_LEN,
            },
            path,
        )
    };
    if metadata.len() > MAX_KEY_FILE_LEN {
        return Err(too_large(metadata.len()));
    }
    let file = File::open(path).map_err(|e| io_error(path, &e))?;
    // Room for one byte over the limit, so reading never reallocates (which would leave
    // copies of a secret behind) and a file that grew since the check is still caught.
    let mut bytes = Zeroizing::new(Vec::with_capacity(READ_BUFFER_LEN));
    file.take(MAX_KEY_FILE_LEN + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io_error(path, &e))?;
    let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if len > MAX_KEY_FILE_LEN {
        return Err(too_large(len));
    }
    let text = core::str::from_utf8(&bytes).map_err(|_| {
        in_file(
            IdentityError::MalformedKey("not a PEM text file".to_string()),
            path,
        )
    })?;
    Ok(Zeroizing::new(String::from(text)))
}

/// Creates `path` with `contents`, failing if it exists. A partly written file is
/// removed.
pub(crate) fn write_new_file(
    path: &Path,
    contents: &[u8],
    mode: FileMode,
) -> Result<(), IdentityError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(match mode {
            FileMode::OwnerOnly => 0o600,
            FileMode::Public => 0o644,
        });
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path).map_err(|e| match e.kind() {
        ErrorKind::AlreadyExists => IdentityError::AlreadyExists {
            path: display_path(path),
        },
        _ => io_error(path, &e),
    })?;
    if let Err(e) = file.write_all(contents).and_then(|()| file.sync_all()) {
        drop(file);
        // Best effort: the write error is the one worth reporting.
        let _ = fs::remove_file(path);
        return Err(io_error(path, &e));
    }
    Ok(())
}

/// Replaces (or creates) `path` with `contents` so that readers see either the old or
/// the new file, never a partial one: write a temporary file beside it, then rename.
pub(crate) fn replace_file_atomically(path: &Path, contents: &[u8]) -> Result<(), IdentityError> {
    let temp = temp_path_beside(path)?;
    write_new_file(&temp, contents, FileMode::Public)?;
    if let Err(e) = fs::rename(&temp, path) {
        let _ = fs::remove_file(&temp);
        return Err(io_error(path, &e));
    }
    sync_parent_folder(path);
    Ok(())
}

/// A fresh hidden name in `path`'s folder: `.<name>.tmp-<pid>-<n>`. It does not end in
/// `.pem`, so a concurrent directory scan ignores it.
fn temp_path_beside(path: &Path) -> Result<PathBuf, IdentityError> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().ok_or_else(|| IdentityError::Io {
        path: display_path(path),
        reason: "not a file path".to_string(),
    })?;
    let mut temp = OsString::from(".");
    temp.push(name);
    temp.push(format!(
        ".tmp-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    Ok(path.with_file_name(temp))
}

/// Makes a rename in `path`'s folder durable. Best effort: some file systems refuse to
/// sync a folder, and the rename itself has already happened.
fn sync_parent_folder(path: &Path) {
    #[cfg(unix)]
    if let Some(folder) = path.parent() {
        let folder = if folder.as_os_str().is_empty() {
            Path::new(".")
        } else {
            folder
        };
        if let Ok(folder) = File::open(folder) {
            let _ = folder.sync_all();
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(test)]
mod tests;
