//! Trust on first use: remembering which key each user had.

use alloc::collections::BTreeMap;

use crate::identity::{PublicKey, Username};

/// What a key is, compared with what we remembered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
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
/// them across runs (`securecom-host` has `FileKnownKeys`, a text file).
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
