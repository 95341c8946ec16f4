//! Trust on first use: remembering which key each user had.

use alloc::collections::BTreeMap;

use crate::identity::{PublicKey, Username};

/// What a key is, compared with what we remembered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyStatus {
    /// We had never seen a key for this user; it is now remembered.
    FirstSeen,
    /// The same key as before.
    Known,
    /// A different key than before: the user re-registered, or the relay is lying.
    Changed {
        /// The key we remembered.
        previous: PublicKey,
    },
}

/// The keys a client has seen, per user. Implement it over a file or a database to keep
/// them across runs.
pub trait KnownKeys {
    /// Compares `key` with the one remembered for `user`, remembering it if there was none.
    /// A changed key is *not* remembered: only [`KnownKeys::trust`] replaces it.
    fn check(&mut self, user: &Username, key: &PublicKey) -> KeyStatus;
    /// Remembers `key` for `user`, replacing any previous one (after the user verified it).
    fn trust(&mut self, user: &Username, key: &PublicKey);
}

/// Known keys held in memory.
///
/// ```
/// use securecom_proto::chat::{KeyStatus, KnownKeys, MemoryKnownKeys};
/// use securecom_proto::identity::{Identity, Username};
/// let bob = Username::new("bob")?;
/// let (k1, k2) = (Identity::from_seed(&[1; 32]).public_key(), Identity::from_seed(&[2; 32]).public_key());
/// let mut known = MemoryKnownKeys::default();
/// assert_eq!(known.check(&bob, &k1), KeyStatus::FirstSeen);
/// assert_eq!(known.check(&bob, &k1), KeyStatus::Known);
/// assert_eq!(known.check(&bob, &k2), KeyStatus::Changed { previous: k1 });
/// known.trust(&bob, &k2);
/// assert_eq!(known.check(&bob, &k2), KeyStatus::Known);
/// # Ok::<(), securecom_proto::identity::IdentityError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct MemoryKnownKeys {
    keys: BTreeMap<Username, PublicKey>,
}

impl MemoryKnownKeys {
    /// Remembered users and keys.
    pub fn iter(&self) -> impl Iterator<Item = (&Username, &PublicKey)> {
        self.keys.iter()
    }
}

impl KnownKeys for MemoryKnownKeys {
    fn check(&mut self, user: &Username, key: &PublicKey) -> KeyStatus {
        match self.keys.get(user) {
            None => {
                self.keys.insert(user.clone(), *key);
                KeyStatus::FirstSeen
            }
            Some(known) if known == key => KeyStatus::Known,
            Some(known) => KeyStatus::Changed { previous: *known },
        }
    }

    fn trust(&mut self, user: &Username, key: &PublicKey) {
        self.keys.insert(user.clone(), *key);
    }
}

/// Known keys kept in a text file, one `username hex-key` line per user, rewritten
/// atomically on every change (needs the `std` feature).
///
/// ```
/// use securecom_proto::chat::{FileKnownKeys, KeyStatus, KnownKeys};
/// use securecom_proto::identity::{Identity, Username};
/// let path = std::env::temp_dir().join(format!("known-keys-doc-{}", std::process::id()));
/// let bob = Username::new("bob")?;
/// let key = Identity::from_seed(&[1; 32]).public_key();
/// let mut known = FileKnownKeys::open(&path)?;
/// assert_eq!(known.check(&bob, &key), KeyStatus::FirstSeen);
/// let mut reopened = FileKnownKeys::open(&path)?;
/// assert_eq!(reopened.check(&bob, &key), KeyStatus::Known);
/// # std::fs::remove_file(&path).ok();
/// # Ok::<(), securecom_proto::identity::IdentityError>(())
/// ```
#[cfg(feature = "std")]
#[derive(Debug)]
pub struct FileKnownKeys {
    path: std::path::PathBuf,
    keys: MemoryKnownKeys,
}

#[cfg(feature = "std")]
impl FileKnownKeys {
    /// The most lines read from a known-keys file.
    pub const MAX_ENTRIES: usize = 100_000;

    /// Opens (or starts) the file at `path`. Malformed lines are an error naming the line.
    pub fn open(
        path: impl Into<std::path::PathBuf>,
    ) -> Result<Self, crate::identity::IdentityError> {
        use crate::identity::IdentityError;
        use alloc::format;
        use alloc::string::ToString;
        let path = path.into();
        let io = |e: std::io::Error| IdentityError::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => alloc::string::String::new(),
            Err(e) => return Err(io(e)),
        };
        let mut keys = MemoryKnownKeys::default();
        for (n, line) in text.lines().enumerate().take(Self::MAX_ENTRIES) {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = || IdentityError::MalformedKey(format!("{} line {}", path.display(), n + 1));
            let (name, hex) = line.split_once(' ').ok_or_else(bad)?;
            let user = Username::new(name)?;
            let mut raw = [0u8; 32];
            if hex.len() != 64 {
                return Err(bad());
            }
            for (i, byte) in raw.iter_mut().enumerate() {
                let pair = hex.get(2 * i..2 * i + 2).ok_or_else(bad)?;
                *byte = u8::from_str_radix(pair, 16).map_err(|_| bad())?;
            }
            keys.trust(&user, &PublicKey::from_bytes(&raw)?);
        }
        Ok(FileKnownKeys { path, keys })
    }

    fn save(&self) {
        use core::fmt::Write;
        let mut text = alloc::string::String::from("# securecom known keys: username public-key\n");
        for (user, key) in self.keys.iter() {
            let _ = write!(text, "{user} ");
            for b in key.as_bytes() {
                let _ = write!(text, "{b:02x}");
            }
            text.push('\n');
        }
        let tmp = self.path.with_extension("tmp");
        // Best effort: a failed save keeps the keys in memory for this run.
        if std::fs::write(&tmp, text).is_ok() {
            let _ = std::fs::rename(&tmp, &self.path);
        }
    }
}

#[cfg(feature = "std")]
impl KnownKeys for FileKnownKeys {
    fn check(&mut self, user: &Username, key: &PublicKey) -> KeyStatus {
        let status = self.keys.check(user, key);
        if status == KeyStatus::FirstSeen {
            self.save();
        }
        status
    }

    fn trust(&mut self, user: &Username, key: &PublicKey) {
        self.keys.trust(user, key);
        self.save();
    }
}
