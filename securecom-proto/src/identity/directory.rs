//! The server's directory of registered users: the trait and the in-memory directory.
//! The folder-backed one is in `folder.rs`.

use alloc::collections::BTreeMap;

use super::{PublicKey, Username};

/// Maps a username to the public key registered for it.
///
/// The server consults it once per handshake, after the client's username arrives
/// encrypted. Implement it over a database to embed securecom in a larger system.
pub trait UserDirectory {
    /// The key registered for `username`, if any.
    fn lookup(&self, username: &Username) -> Option<PublicKey>;
}

impl<T: UserDirectory + ?Sized> UserDirectory for &T {
    fn lookup(&self, username: &Username) -> Option<PublicKey> {
        (**self).lookup(username)
    }
}

impl<T: UserDirectory + ?Sized> UserDirectory for alloc::sync::Arc<T> {
    fn lookup(&self, username: &Username) -> Option<PublicKey> {
        (**self).lookup(username)
    }
}

/// A directory held in memory.
///
/// ```
/// use securecom_proto::identity::{Identity, MemoryDirectory, UserDirectory, Username};
/// let alice = Identity::from_seed(&[1; 32]);
/// let mut dir = MemoryDirectory::new();
/// dir.insert(Username::new("alice")?, alice.public_key());
/// assert_eq!(dir.lookup(&Username::new("alice")?), Some(alice.public_key()));
/// assert_eq!(dir.lookup(&Username::new("bob")?), None);
/// # Ok::<(), securecom_proto::identity::IdentityError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct MemoryDirectory {
    users: BTreeMap<Username, PublicKey>,
}

impl MemoryDirectory {
    /// An empty directory.
    pub fn new() -> Self {
        MemoryDirectory::default()
    }

    /// Registers (or replaces) `username`'s key.
    pub fn insert(&mut self, username: Username, key: PublicKey) -> Option<PublicKey> {
        self.users.insert(username, key)
    }

    /// Removes `username`.
    pub fn remove(&mut self, username: &Username) -> Option<PublicKey> {
        self.users.remove(username)
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

impl UserDirectory for MemoryDirectory {
    fn lookup(&self, username: &Username) -> Option<PublicKey> {
        self.users.get(username).copied()
    }
}
