//! The block list file: users whose chat requests are refused without asking, kept across
//! runs (the file side of [`ChatClient::block`](securecom_proto::client::ChatClient::block)).

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};

use securecom_proto::client::MAX_BLOCKED;
use securecom_proto::identity::{IdentityError, Username};

use super::{atomic, read_at_most};

/// Blocked users kept in a text file, one username per line (`#` starts a comment line).
/// Every change rewrites the file atomically, as the known-keys file is written; a change
/// the file cannot keep is an error and is undone in memory too.
///
/// ```
/// use securecom_host::chat::FileBlockList;
/// use securecom_proto::identity::Username;
/// let path = std::env::temp_dir().join(format!("blocked-doc-{}", std::process::id()));
/// let mallory = Username::new("mallory")?;
/// let mut list = FileBlockList::open(&path)?;
/// assert!(list.block(&mallory)?);
/// assert!(FileBlockList::open(&path)?.users().any(|u| *u == mallory));
/// assert!(list.unblock(&mallory)?);
/// assert_eq!(FileBlockList::open(&path)?.users().count(), 0);
/// # std::fs::remove_file(&path).ok();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct FileBlockList {
    path: PathBuf,
    users: BTreeSet<Username>,
}

impl FileBlockList {
    /// The largest block list file read, in bytes (room for [`MAX_BLOCKED`] names).
    pub const MAX_BYTES: u64 = 256 << 10;

    /// Opens (or starts) the file at `path`.
    ///
    /// # Errors
    /// [`IdentityError::Io`] if the file exists but cannot be read;
    /// [`IdentityError::MalformedKey`] if it holds more than [`MAX_BLOCKED`] users or
    /// [`FileBlockList::MAX_BYTES`] bytes, or a line with more than a name (naming the
    /// line); the errors of [`Username::new`] for a bad name.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, IdentityError> {
        let path = path.into();
        let text = read_at_most(&path, Self::MAX_BYTES, "block list")?;
        let mut users = BTreeSet::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |why: &str| {
                IdentityError::MalformedKey(format!("{} line {}: {why}", path.display(), n + 1))
            };
            if line.split_whitespace().nth(1).is_some() {
                return Err(bad("one name per line"));
            }
            users.insert(Username::new(line)?);
            if users.len() > MAX_BLOCKED {
                return Err(bad(&format!("more than {MAX_BLOCKED} users")));
            }
        }
        Ok(FileBlockList { path, users })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The blocked users, in name order.
    pub fn users(&self) -> impl Iterator<Item = &Username> {
        self.users.iter()
    }

    /// Adds `user` and saves; false if `user` was blocked already (nothing written).
    ///
    /// # Errors
    /// The write's error if the file cannot keep it (then nothing changed), or
    /// [`io::ErrorKind::QuotaExceeded`] when [`MAX_BLOCKED`] users are blocked already.
    pub fn block(&mut self, user: &Username) -> io::Result<bool> {
        if self.users.contains(user) {
            return Ok(false);
        }
        if self.users.len() >= MAX_BLOCKED {
            return Err(io::Error::new(
                io::ErrorKind::QuotaExceeded,
                format!("{MAX_BLOCKED} users are blocked already"),
            ));
        }
        self.users.insert(user.clone());
        self.save().inspect_err(|_| {
            self.users.remove(user);
        })?;
        Ok(true)
    }

    /// Removes `user` and saves; false if `user` was not blocked (nothing written).
    ///
    /// # Errors
    /// The write's error if the file cannot keep it (then nothing changed).
    pub fn unblock(&mut self, user: &Username) -> io::Result<bool> {
        if !self.users.remove(user) {
            return Ok(false);
        }
        self.save().inspect_err(|_| {
            self.users.insert(user.clone());
        })?;
        Ok(true)
    }

    fn save(&self) -> io::Result<()> {
        let mut text = String::from("# securecom blocked users: one username per line\n");
        for user in &self.users {
            text.push_str(user.as_str());
            text.push('\n');
        }
        atomic::write(&self.path, text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("blocked-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("blocked.txt")
    }

    fn name(s: &str) -> Username {
        Username::new(s).unwrap()
    }

    #[test]
    fn blocks_are_kept_in_name_order_and_read_back() {
        let path = scratch("order");
        let mut list = FileBlockList::open(&path).unwrap();
        assert!(list.block(&name("mallory")).unwrap());
        assert!(list.block(&name("eve")).unwrap());
        assert!(!list.block(&name("eve")).unwrap());
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.ends_with("eve\nmallory\n"), "{text}");
        let reopened = FileBlockList::open(&path).unwrap();
        let names: Vec<&str> = reopened.users().map(Username::as_str).collect();
        assert_eq!(names, ["eve", "mallory"]);
        assert!(list.unblock(&name("eve")).unwrap());
        assert!(!list.unblock(&name("eve")).unwrap());
        assert_eq!(FileBlockList::open(&path).unwrap().users().count(), 1);
    }

    #[test]
    fn a_bad_file_is_an_error_naming_the_line_not_a_panic() {
        let path = scratch("bad");
        std::fs::write(&path, "# comment\neve\n\nmallory extra\n").unwrap();
        let e = FileBlockList::open(&path).unwrap_err().to_string();
        assert!(e.contains("line 4"), "{e}");
        std::fs::write(&path, "../etc\n").unwrap();
        assert!(FileBlockList::open(&path).is_err());
        let too_many: String = (0..=MAX_BLOCKED).map(|i| format!("user{i}\n")).collect();
        std::fs::write(&path, too_many).unwrap();
        let e = FileBlockList::open(&path).unwrap_err().to_string();
        assert!(e.contains("more than 1024 users"), "{e}");
        std::fs::write(&path, vec![b'a'; (FileBlockList::MAX_BYTES + 1) as usize]).unwrap();
        assert!(FileBlockList::open(&path).is_err());
    }

    #[test]
    fn a_change_the_file_cannot_keep_is_an_error_and_undone() {
        let dir = scratch("unwritable");
        // The file's directory is gone: the temporary file cannot be created.
        let path = dir.with_file_name("missing-dir").join("blocked.txt");
        let mut list = FileBlockList::open(&path).unwrap();
        assert!(list.block(&name("eve")).is_err());
        assert_eq!(list.users().count(), 0);
    }
}
