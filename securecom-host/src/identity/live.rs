//! A folder directory the server can reload while it runs.

use std::path::PathBuf;
use std::sync::RwLock;

use securecom_proto::identity::{IdentityError, PublicKey, UserDirectory, Username};

use super::PemFolderDirectory;

/// A [`PemFolderDirectory`] shared with a running server and reloaded in place: the server
/// looks keys up through it, and after [`LiveDirectory::reload`] the driver tells its
/// endpoint (`ServerEndpoint::directory_changed`) so that sessions whose key is no longer
/// registered are closed as revoked.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("securecom-live-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// use securecom_host::identity::LiveDirectory;
/// use securecom_proto::identity::{UserDirectory, Username};
/// let live = LiveDirectory::open(&dir)?;
/// assert_eq!(live.lookup(&Username::new("alice")?), None);
/// live.reload()?; // after files were added or removed
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), securecom_proto::identity::IdentityError>(())
/// ```
#[derive(Debug)]
pub struct LiveDirectory {
    folder: PathBuf,
    inner: RwLock<PemFolderDirectory>,
}

impl LiveDirectory {
    /// Reads every `<username>.pem` file in `folder`.
    ///
    /// # Errors
    /// As [`PemFolderDirectory::open`].
    pub fn open(folder: impl Into<PathBuf>) -> Result<Self, IdentityError> {
        let folder = folder.into();
        let inner = RwLock::new(PemFolderDirectory::open(folder.clone())?);
        Ok(LiveDirectory { folder, inner })
    }

    /// Reads the folder again. On error (a bad file, an unreadable folder) the directory
    /// keeps its previous contents, so a broken edit never locks everyone out.
    ///
    /// # Errors
    /// As [`PemFolderDirectory::reload`], naming the file at fault.
    pub fn reload(&self) -> Result<(), IdentityError> {
        let fresh = PemFolderDirectory::open(self.folder.clone())?;
        match self.inner.write() {
            Ok(mut inner) => *inner = fresh,
            // A panic elsewhere while holding the lock: the data is a whole directory
            // either way, so take it over.
            Err(poisoned) => *poisoned.into_inner() = fresh,
        }
        Ok(())
    }

    /// Users registered now.
    pub fn len(&self) -> usize {
        match self.inner.read() {
            Ok(inner) => inner.len(),
            Err(poisoned) => poisoned.into_inner().len(),
        }
    }

    /// True when no user is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl UserDirectory for LiveDirectory {
    fn lookup(&self, username: &Username) -> Option<PublicKey> {
        match self.inner.read() {
            Ok(inner) => inner.lookup(username),
            Err(poisoned) => poisoned.into_inner().lookup(username),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::PublicKeyFileExt;
    use securecom_proto::identity::Identity;

    #[test]
    fn reload_sees_keys_added_and_removed_and_keeps_the_old_on_error() {
        let dir = std::env::temp_dir().join(format!("securecom-live-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let alice = Username::new("alice").unwrap();
        let key = Identity::from_seed(&[3; 32]).public_key();
        let live = LiveDirectory::open(&dir).unwrap();
        assert_eq!(live.lookup(&alice), None);
        key.save_pem_file(dir.join("alice.pem")).unwrap();
        live.reload().unwrap();
        assert_eq!(live.lookup(&alice), Some(key));
        // A broken file: the reload fails and the directory is unchanged.
        std::fs::write(dir.join("bob.pem"), "not a key").unwrap();
        assert!(live.reload().is_err());
        assert_eq!(live.lookup(&alice), Some(key));
        std::fs::remove_file(dir.join("bob.pem")).unwrap();
        std::fs::remove_file(dir.join("alice.pem")).unwrap();
        live.reload().unwrap();
        assert_eq!(live.lookup(&alice), None);
        assert!(live.is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
