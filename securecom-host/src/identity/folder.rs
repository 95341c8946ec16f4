//! The user directory over a folder of `<username>.pem` public-key files.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};

use securecom_proto::identity::{
    IdentityError, MemoryDirectory, PublicKey, UserDirectory, Username,
};

use super::files::{PublicKeyFileExt, replace_file_atomically};
use super::{in_file, io_error};

/// The most users a [`PemFolderDirectory`] holds, so a folder cannot make the server
/// read without bound.
pub const MAX_DIRECTORY_USERS: usize = 100_000;

/// The extension of user key files, matched exactly (lower case).
const KEY_FILE_EXTENSION: &str = "pem";

/// A [`UserDirectory`] over a folder holding one SubjectPublicKeyInfo PEM file per user,
/// named `<username>.pem` (what `openssl pkey -pubout` writes).
///
/// The folder is read whole by [`open`](Self::open) and [`reload`](Self::reload); lookups
/// are then served from memory. Loading is all or nothing: one bad `.pem` file (a name
/// that is not a valid [`Username`], a file over
/// [`MAX_KEY_FILE_LEN`](super::MAX_KEY_FILE_LEN) bytes, or content that is not an Ed25519
/// public key) fails the whole load with an error naming the file, so a server never
/// starts with some users silently missing. Files not ending in `.pem` are ignored.
///
/// [`register`](Self::register) and [`replace`](Self::replace) write the file through a
/// temporary file and a rename, so a concurrent reader sees the old file or the new one,
/// never half of one.
///
/// ```
/// use securecom_host::identity::PemFolderDirectory;
/// use securecom_proto::identity::{Identity, UserDirectory, Username};
/// let folder = std::env::temp_dir().join(format!("securecom-doc-dir-{}", std::process::id()));
/// std::fs::create_dir(&folder).unwrap();
///
/// let alice = Username::new("alice")?;
/// let key = Identity::from_seed(&[1; 32]).public_key();
/// let mut dir = PemFolderDirectory::open(&folder)?;
/// dir.register(&alice, &key)?;
/// assert!(folder.join("alice.pem").is_file());
///
/// let reopened = PemFolderDirectory::open(&folder)?;
/// assert_eq!(reopened.lookup(&alice), Some(key));
/// # std::fs::remove_dir_all(&folder).unwrap();
/// # Ok::<(), securecom_proto::identity::IdentityError>(())
/// ```
#[derive(Clone, Debug)]
pub struct PemFolderDirectory {
    folder: PathBuf,
    users: MemoryDirectory,
}

impl PemFolderDirectory {
    /// Reads every `<username>.pem` file in `folder`.
    ///
    /// # Errors
    /// [`IdentityError::Io`] if the folder or a file cannot be read;
    /// [`IdentityError::InFile`] naming a file whose name or content was rejected;
    /// [`IdentityError::TooManyUsers`] past [`MAX_DIRECTORY_USERS`] key files.
    pub fn open(folder: impl Into<PathBuf>) -> Result<Self, IdentityError> {
        let folder = folder.into();
        let users = read_folder(&folder)?;
        Ok(PemFolderDirectory { folder, users })
    }

    /// Reads the folder again, picking up files added, changed or removed by others. On
    /// error the directory keeps its previous contents.
    ///
    /// # Errors
    /// As [`PemFolderDirectory::open`].
    pub fn reload(&mut self) -> Result<(), IdentityError> {
        self.users = read_folder(&self.folder)?;
        Ok(())
    }

    /// Registers a new user, writing `<folder>/<username>.pem`.
    ///
    /// Registering a user again with the same key does nothing. A user's key is never
    /// changed by accident: use [`replace`](Self::replace) for that.
    ///
    /// # Errors
    /// [`IdentityError::AlreadyRegistered`] if `username` has another key;
    /// [`IdentityError::AlreadyExists`] if the file appeared in the folder since it was
    /// read (call [`reload`](Self::reload)); [`IdentityError::TooManyUsers`];
    /// [`IdentityError::Io`] if the file cannot be written.
    pub fn register(&mut self, username: &Username, key: &PublicKey) -> Result<(), IdentityError> {
        match self.users.lookup(username) {
            Some(existing) if existing == *key => return Ok(()),
            Some(_) => {
                return Err(IdentityError::AlreadyRegistered {
                    username: username.to_string(),
                });
            }
            None => {}
        }
        let path = self.path_of(username);
        // The check and the rename are not one atomic step: the folder is expected to be
        // written through this type, or by hand by an administrator.
        if fs::symlink_metadata(&path).is_ok() {
            return Err(IdentityError::AlreadyExists {
                path: path.display().to_string(),
            });
        }
        self.write(username, key, path)?;
        Ok(())
    }

    /// Sets `username`'s key, registering the user if needed, and returns the key it
    /// replaced.
    ///
    /// # Errors
    /// [`IdentityError::TooManyUsers`] for a new user past the limit;
    /// [`IdentityError::Io`] if the file cannot be written.
    pub fn replace(
        &mut self,
        username: &Username,
        key: &PublicKey,
    ) -> Result<Option<PublicKey>, IdentityError> {
        let path = self.path_of(username);
        self.write(username, key, path)
    }

    /// Writes the file, then (only once it is on disk) updates the map.
    fn write(
        &mut self,
        username: &Username,
        key: &PublicKey,
        path: PathBuf,
    ) -> Result<Option<PublicKey>, IdentityError> {
        if self.users.lookup(username).is_none() && self.users.len() >= MAX_DIRECTORY_USERS {
            return Err(IdentityError::TooManyUsers {
                max: MAX_DIRECTORY_USERS,
            });
        }
        let pem = key.to_public_key_pem()?;
        replace_file_atomically(&path, pem.as_bytes())?;
        Ok(self.users.insert(username.clone(), *key))
    }

    /// The folder this directory reads.
    pub fn folder(&self) -> &Path {
        &self.folder
    }

    /// The file that holds (or would hold) `username`'s key.
    pub fn path_of(&self, username: &Username) -> PathBuf {
        self.folder
            .join(format!("{}.{KEY_FILE_EXTENSION}", username.as_str()))
    }

    /// Number of registered users.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// True when nobody is registered.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// Registered users in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&Username, &PublicKey)> {
        self.users.iter()
    }
}

impl UserDirectory for PemFolderDirectory {
    fn lookup(&self, username: &Username) -> Option<PublicKey> {
        self.users.lookup(username)
    }
}

/// Reads all `*.pem` files of `folder`; see [`PemFolderDirectory`] for the rules.
fn read_folder(folder: &Path) -> Result<MemoryDirectory, IdentityError> {
    let entries = fs::read_dir(folder).map_err(|e| io_error(folder, &e))?;
    let mut users = MemoryDirectory::new();
    for entry in entries {
        let path = entry.map_err(|e| io_error(folder, &e))?.path();
        if path.extension() != Some(OsStr::new(KEY_FILE_EXTENSION)) {
            continue;
        }
        let username = username_of(&path).map_err(|e| in_file(e, &path))?;
        if users.len() >= MAX_DIRECTORY_USERS {
            return Err(IdentityError::TooManyUsers {
                max: MAX_DIRECTORY_USERS,
            });
        }
        let key = PublicKey::load_pem_file(&path)?;
        users.insert(username, key);
    }
    Ok(users)
}

/// The username a key file is named after: its name without `.pem`.
fn username_of(path: &Path) -> Result<Username, IdentityError> {
    let stem = path
        .file_stem()
        .and_then(OsStr::to_str)
        .ok_or(IdentityError::InvalidUsername("file name is not UTF-8"))?;
    Username::new(stem)
}

#[cfg(test)]
mod tests;
