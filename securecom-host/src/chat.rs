//! The known-keys file: trust on first use kept across runs, the file side of
//! [`securecom_proto::chat::KnownKeys`].

pub(crate) mod atomic;
mod blocked;
#[cfg(test)]
mod tests;

pub use blocked::FileBlockList;

use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use securecom_proto::chat::{KnownKeys, KnownKeysError, MemoryKnownKeys};
use securecom_proto::identity::{IdentityError, PublicKey, Username};

/// The marker that ends the line of a verified key.
const VERIFIED: &str = "verified";

/// Known keys kept in a text file, one `username hex-key` line per user, followed by
/// ` verified` once the user verified the key (files without the marker, as earlier
/// versions wrote them, read as unverified keys).
///
/// Every change rewrites the file atomically: a temporary file with an unpredictable name
/// in the same directory, created exclusively (never through an existing file or symbolic
/// link) with mode 0600, written, synced, then renamed over the file. A change the file
/// cannot keep is an error and is undone in memory too, so what the program reports is
/// what the file holds.
///
/// ```
/// use securecom_host::chat::FileKnownKeys;
/// use securecom_proto::chat::{KeyStatus, KnownKeys};
/// use securecom_proto::identity::{Identity, Username};
/// let path = std::env::temp_dir().join(format!("known-keys-doc-{}", std::process::id()));
/// let bob = Username::new("bob")?;
/// let key = Identity::from_seed(&[1; 32]).public_key();
/// let mut known = FileKnownKeys::open(&path)?;
/// assert_eq!(known.status(&bob, &key), KeyStatus::FirstSeen);
/// known.remember(&bob, &key)?; // after a chat handshake with this key completed
/// known.verify(&bob, &key)?; // after the user compared the safety number
/// let reopened = FileKnownKeys::open(&path)?;
/// assert_eq!(reopened.status(&bob, &key), KeyStatus::Verified);
/// # std::fs::remove_file(&path).ok();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct FileKnownKeys {
    path: PathBuf,
    keys: MemoryKnownKeys,
    max_entries: usize,
}

impl FileKnownKeys {
    /// The most users a known-keys file holds: a longer file is refused when opened, and a
    /// new user past it is refused with [`KnownKeysError::Full`].
    pub const MAX_ENTRIES: usize = 100_000;

    /// The largest known-keys file read, in bytes.
    pub const MAX_BYTES: u64 = 16 << 20;

    /// Opens (or starts) the file at `path`. Malformed lines are an error naming the line.
    ///
    /// # Errors
    /// [`IdentityError::Io`] if the file exists but cannot be read;
    /// [`IdentityError::MalformedKey`] naming a malformed line, or saying the file holds
    /// more than [`FileKnownKeys::MAX_ENTRIES`] users or [`FileKnownKeys::MAX_BYTES`]
    /// bytes; the errors of [`Username::new`] and [`PublicKey::from_bytes`] for a bad name
    /// or key.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, IdentityError> {
        let path = path.into();
        let text = read_bounded(&path)?;
        let mut keys = MemoryKnownKeys::default();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = || IdentityError::MalformedKey(format!("{} line {}", path.display(), n + 1));
            let mut fields = line.split_whitespace();
            let (Some(name), Some(hex)) = (fields.next(), fields.next()) else {
                return Err(bad());
            };
            let verified = match (fields.next(), fields.next()) {
                (None, _) => false,
                (Some(VERIFIED), None) => true,
                _ => return Err(bad()),
            };
            let user = Username::new(name)?;
            let key = PublicKey::from_bytes(&parse_hex(hex).ok_or_else(bad)?)?;
            if !keys.contains(&user) && keys.len() >= Self::MAX_ENTRIES {
                return Err(IdentityError::MalformedKey(format!(
                    "{}: more than {} users, the most a known-keys file holds (line {})",
                    path.display(),
                    Self::MAX_ENTRIES,
                    n + 1
                )));
            }
            keys.insert(&user, &key, verified);
        }
        Ok(FileKnownKeys {
            path,
            keys,
            max_entries: Self::MAX_ENTRIES,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The keys as held now (what the file holds).
    pub fn keys(&self) -> &MemoryKnownKeys {
        &self.keys
    }

    /// Sets `user`'s entry, saves, and undoes the change if the file cannot keep it.
    fn change(
        &mut self,
        user: &Username,
        key: &PublicKey,
        verified: bool,
    ) -> Result<(), KnownKeysError> {
        let before = self.keys.get(user).map(|(k, v)| (*k, v));
        if before == Some((*key, verified)) {
            return Ok(());
        }
        if before.is_none() && self.keys.len() >= self.max_entries {
            return Err(KnownKeysError::Full {
                store: self.path.display().to_string(),
                max: self.max_entries,
            });
        }
        self.keys.insert(user, key, verified);
        let saved = atomic::write(&self.path, self.render().as_bytes());
        saved.map_err(|e| {
            match before {
                Some((k, v)) => self.keys.insert(user, &k, v),
                None => self.keys.remove(user),
            }
            KnownKeysError::Save {
                store: self.path.display().to_string(),
                reason: e.to_string(),
            }
        })
    }

    fn render(&self) -> String {
        let mut text = String::from("# securecom known keys: username public-key [verified]\n");
        for (user, key, verified) in self.keys.iter() {
            let _ = write!(text, "{user} ");
            for b in key.as_bytes() {
                let _ = write!(text, "{b:02x}");
            }
            if verified {
                let _ = write!(text, " {VERIFIED}");
            }
            text.push('\n');
        }
        text
    }

    #[cfg(test)]
    fn with_max_entries(mut self, max: usize) -> Self {
        self.max_entries = max;
        self
    }
}

/// The file's text, or nothing if it does not exist; at most [`FileKnownKeys::MAX_BYTES`].
fn read_bounded(path: &Path) -> Result<String, IdentityError> {
    read_at_most(path, FileKnownKeys::MAX_BYTES, "known-keys file")
}

/// The text of `path` (a `what`), or nothing if it does not exist; at most `max` bytes.
pub(crate) fn read_at_most(path: &Path, max: u64, what: &str) -> Result<String, IdentityError> {
    let io = |e: std::io::Error| IdentityError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(String::new()),
        Err(e) => return Err(io(e)),
    };
    let mut text = String::new();
    file.take(max + 1).read_to_string(&mut text).map_err(io)?;
    if text.len() as u64 > max {
        return Err(IdentityError::MalformedKey(format!(
            "{}: larger than {max} bytes, the most a {what} holds",
            path.display(),
        )));
    }
    Ok(text)
}

fn parse_hex(hex: &str) -> Option<[u8; 32]> {
    let mut raw = [0u8; 32];
    if hex.len() != 64 {
        return None;
    }
    for (i, byte) in raw.iter_mut().enumerate() {
        let pair = hex.get(2 * i..2 * i + 2)?;
        *byte = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(raw)
}

impl KnownKeys for FileKnownKeys {
    fn remembered(&self, user: &Username) -> Option<(PublicKey, bool)> {
        self.keys.remembered(user)
    }

    fn remember(&mut self, user: &Username, key: &PublicKey) -> Result<(), KnownKeysError> {
        if self.keys.contains(user) {
            return Ok(());
        }
        self.change(user, key, false)
    }

    fn trust(&mut self, user: &Username, key: &PublicKey) -> Result<(), KnownKeysError> {
        self.change(user, key, false)
    }

    fn verify(&mut self, user: &Username, key: &PublicKey) -> Result<(), KnownKeysError> {
        self.change(user, key, true)
    }
}
