//! The known-keys file: trust on first use kept across runs, the file side of
//! [`securecom_proto::chat::KnownKeys`].

use std::fmt::Write as _;
use std::path::PathBuf;

use securecom_proto::chat::{KeyStatus, KnownKeys, MemoryKnownKeys};
use securecom_proto::identity::{IdentityError, PublicKey, Username};

/// Known keys kept in a text file, one `username hex-key` line per user, rewritten
/// atomically on every change.
///
/// ```
/// use securecom_host::chat::FileKnownKeys;
/// use securecom_proto::chat::{KeyStatus, KnownKeys};
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
#[derive(Debug)]
pub struct FileKnownKeys {
    path: PathBuf,
    keys: MemoryKnownKeys,
}

impl FileKnownKeys {
    /// The most lines read from a known-keys file.
    pub const MAX_ENTRIES: usize = 100_000;

    /// Opens (or starts) the file at `path`. Malformed lines are an error naming the line.
    ///
    /// # Errors
    /// [`IdentityError::Io`] if the file exists but cannot be read;
    /// [`IdentityError::MalformedKey`] naming a malformed line; the errors of
    /// [`Username::new`] and [`PublicKey::from_bytes`] for a bad name or key.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, IdentityError> {
        let path = path.into();
        let io = |e: std::io::Error| IdentityError::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
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
        let mut text = String::from("# securecom known keys: username public-key\n");
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
