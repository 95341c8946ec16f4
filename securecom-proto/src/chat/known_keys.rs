//! Trust on first use, after proof: remembering which key each user proved it holds, and
//! which of those keys the user verified.

use alloc::collections::BTreeMap;
use alloc::string::String;

use crate::identity::{Fingerprint, PublicKey, Username};

/// What a key is, compared with what we remembered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyStatus {
    /// We had never seen a key for this user. Nothing is remembered until a chat handshake
    /// with this key completes.
    FirstSeen,
    /// The same key as before, not verified.
    Known,
    /// The same key as before, and the user verified it (compared the safety number out of
    /// band, [`KnownKeys::verify`]).
    Verified,
    /// A different key than before: the user re-registered, or the relay is lying.
    Changed {
        /// The key we remembered.
        previous: PublicKey,
        /// Whether the user had verified the key we remembered: the change needs an even
        /// louder warning.
        verified: bool,
    },
}

impl KeyStatus {
    /// True for [`KeyStatus::Verified`].
    pub fn is_verified(&self) -> bool {
        matches!(self, KeyStatus::Verified)
    }
}

/// Why a known-keys store could not keep a change. What was changed holds in memory for
/// the rest of the run, except when the store is full.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KnownKeysError {
    /// The store could not be written.
    #[error("cannot save the known keys to {store}: {reason}")]
    Save {
        /// Where the store is (a file's path).
        store: String,
        /// What went wrong.
        reason: String,
    },
    /// The store holds as many users as it can keep; the key was not remembered.
    #[error(
        "the known keys in {store} hold {max} users, the most kept; the key was not remembered"
    )]
    Full {
        /// Where the store is (a file's path).
        store: String,
        /// The most users kept.
        max: usize,
    },
}

/// The keys a client has seen, per user, and which of them the user verified. Implement it
/// over a file or a database to keep them across runs (`securecom-host` has
/// `FileKnownKeys`, a text file).
///
/// A key is remembered only after a chat handshake with it completed
/// ([`KnownKeys::remember`]): the peer proved it holds the key. A key the relay merely
/// named (in a request that was withdrawn, or in a handshake that failed) is never stored.
pub trait KnownKeys {
    /// The key remembered for `user`, and whether the user verified it.
    fn remembered(&self, user: &Username) -> Option<(PublicKey, bool)>;

    /// Compares `key` with the one remembered for `user`; remembers nothing.
    fn status(&self, user: &Username, key: &PublicKey) -> KeyStatus {
        match self.remembered(user) {
            None => KeyStatus::FirstSeen,
            Some((known, true)) if known == *key => KeyStatus::Verified,
            Some((known, false)) if known == *key => KeyStatus::Known,
            Some((previous, verified)) => KeyStatus::Changed { previous, verified },
        }
    }

    /// Compares a key known by its fingerprint only (as a user list names it) with the one
    /// remembered for `user`; remembers nothing. Fingerprints are 128 bits of SHA-256 of
    /// the key: another key with the same fingerprint is a second preimage.
    fn fingerprint_status(&self, user: &Username, fingerprint: &Fingerprint) -> KeyStatus {
        match self.remembered(user) {
            None => KeyStatus::FirstSeen,
            Some((known, true)) if known.fingerprint() == *fingerprint => KeyStatus::Verified,
            Some((known, false)) if known.fingerprint() == *fingerprint => KeyStatus::Known,
            Some((previous, verified)) => KeyStatus::Changed { previous, verified },
        }
    }

    /// Remembers `key` for `user`, unverified, if no key is remembered for `user`; a
    /// remembered key (the same or another) is kept as it is. Called once a chat handshake
    /// with `key` completed.
    ///
    /// # Errors
    /// [`KnownKeysError`] if the store cannot keep it.
    fn remember(&mut self, user: &Username, key: &PublicKey) -> Result<(), KnownKeysError>;

    /// Remembers `key` for `user`, unverified, replacing any previous one (after a key
    /// change the user accepted).
    ///
    /// # Errors
    /// [`KnownKeysError`] if the store cannot keep it.
    fn trust(&mut self, user: &Username, key: &PublicKey) -> Result<(), KnownKeysError>;

    /// Remembers `key` for `user` as verified: the user compared the safety number of a
    /// chat with this key out of band.
    ///
    /// # Errors
    /// [`KnownKeysError`] if the store cannot keep it.
    fn verify(&mut self, user: &Username, key: &PublicKey) -> Result<(), KnownKeysError>;

    /// Tests and fuzzing only: a copy of this store, if it can be copied (a fuzz target
    /// starts each execution from a copy of a logged-in client).
    #[cfg(any(test, feature = "fuzzing"))]
    #[doc(hidden)]
    fn try_clone_box(&self) -> Option<alloc::boxed::Box<dyn KnownKeys + Send>> {
        None
    }
}

/// A remembered key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    key: PublicKey,
    verified: bool,
}

/// Known keys held in memory.
///
/// ```
/// use securecom_proto::chat::{KeyStatus, KnownKeys, MemoryKnownKeys};
/// use securecom_proto::identity::{Identity, Username};
/// let bob = Username::new("bob")?;
/// let (k1, k2) = (Identity::from_seed(&[1; 32]).public_key(), Identity::from_seed(&[2; 32]).public_key());
/// let mut known = MemoryKnownKeys::default();
/// assert_eq!(known.status(&bob, &k1), KeyStatus::FirstSeen);
/// assert_eq!(known.status(&bob, &k1), KeyStatus::FirstSeen); // only a handshake remembers
/// known.remember(&bob, &k1)?;
/// assert_eq!(known.status(&bob, &k1), KeyStatus::Known);
/// known.verify(&bob, &k1)?;
/// assert_eq!(known.status(&bob, &k1), KeyStatus::Verified);
/// assert_eq!(known.status(&bob, &k2), KeyStatus::Changed { previous: k1, verified: true });
/// // A user list names keys by their fingerprints.
/// assert_eq!(known.fingerprint_status(&bob, &k1.fingerprint()), KeyStatus::Verified);
/// assert_eq!(known.remembered(&bob), Some((k1, true)));
/// known.remember(&bob, &k2)?; // keeps k1
/// known.trust(&bob, &k2)?;
/// assert_eq!(known.status(&bob, &k2), KeyStatus::Known);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct MemoryKnownKeys {
    keys: BTreeMap<Username, Entry>,
}

impl MemoryKnownKeys {
    /// Remembered users, each with its key and whether it was verified.
    pub fn iter(&self) -> impl Iterator<Item = (&Username, &PublicKey, bool)> {
        self.keys.iter().map(|(u, e)| (u, &e.key, e.verified))
    }

    /// How many users are remembered.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True if no user is remembered.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key remembered for `user`, and whether it was verified.
    pub fn get(&self, user: &Username) -> Option<(&PublicKey, bool)> {
        self.keys.get(user).map(|e| (&e.key, e.verified))
    }

    /// Forgets `user`'s key (for undoing a change a store could not keep).
    pub fn remove(&mut self, user: &Username) {
        self.keys.remove(user);
    }

    /// True if a key is remembered for `user`.
    pub fn contains(&self, user: &Username) -> bool {
        self.keys.contains_key(user)
    }

    /// Sets `user`'s key and mark, replacing any previous one (for loading a store).
    pub fn insert(&mut self, user: &Username, key: &PublicKey, verified: bool) {
        self.keys.insert(
            user.clone(),
            Entry {
                key: *key,
                verified,
            },
        );
    }
}

impl KnownKeys for MemoryKnownKeys {
    fn remembered(&self, user: &Username) -> Option<(PublicKey, bool)> {
        self.keys.get(user).map(|e| (e.key, e.verified))
    }

    fn remember(&mut self, user: &Username, key: &PublicKey) -> Result<(), KnownKeysError> {
        if !self.keys.contains_key(user) {
            self.insert(user, key, false);
        }
        Ok(())
    }

    fn trust(&mut self, user: &Username, key: &PublicKey) -> Result<(), KnownKeysError> {
        self.insert(user, key, false);
        Ok(())
    }

    fn verify(&mut self, user: &Username, key: &PublicKey) -> Result<(), KnownKeysError> {
        self.insert(user, key, true);
        Ok(())
    }

    #[cfg(any(test, feature = "fuzzing"))]
    fn try_clone_box(&self) -> Option<alloc::boxed::Box<dyn KnownKeys + Send>> {
        Some(alloc::boxed::Box::new(self.clone()))
    }
}
