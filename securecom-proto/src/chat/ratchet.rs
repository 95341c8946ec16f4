//! The two key schedules of the chat's Double Ratchet: the symmetric chain that gives
//! every message its own key, and the root step that starts a new chain from a fresh
//! Diffie-Hellman secret.
//!
//! ```text
//! message_key[n] = Expand-Label(chain[n], "message key", "")
//! chain[n+1]     = Expand-Label(chain[n], "chain", "")
//!
//! prk            = HKDF-Extract(salt = root, ikm = X25519(new key, other key))
//! root'          = Expand-Label(prk, "ratchet root",  new_public || other_public)
//! chain[0]       = Expand-Label(prk, "ratchet chain", new_public || other_public)
//! ```
//!
//! After a message is sealed or opened, `chain[n]` and `message_key[n]` are zeroized:
//! someone who steals the state later can derive future keys but not past ones. The root
//! step mixes in a secret the thief does not know (a fresh X25519 key), so future keys
//! escape them too once both sides have stepped.

use crate::crypto::{EPHEMERAL_KEY_LEN, Secret, extract};

/// One direction's chain.
#[cfg_attr(any(test, feature = "fuzzing"), derive(Clone))]
pub(crate) struct Chain {
    key: Secret,
    counter: u64,
}

impl Chain {
    pub(crate) fn new(key: Secret) -> Self {
        Chain { key, counter: 0 }
    }

    /// The counter of the next message.
    pub(crate) fn counter(&self) -> u64 {
        self.counter
    }

    /// The next message key and the chain after it, without changing `self`: the caller
    /// commits with [`Chain::advance`] only once the message checked out.
    pub(crate) fn peek(&self) -> (Secret, Secret) {
        self.key.derive_pair(b"message key", b"chain", b"")
    }

    /// Moves to `next` (from [`Chain::peek`]); the old chain key is zeroized on drop.
    pub(crate) fn advance(&mut self, next: Secret) -> Result<(), super::ChatError> {
        self.counter = self
            .counter
            .checked_add(1)
            .ok_or(super::ChatError::CounterExhausted)?;
        self.key = next;
        Ok(())
    }
}

/// One Diffie-Hellman ratchet step: the next root key and the first chain of the party
/// whose new ratchet key is `new_public`, from the current root and the X25519 secret
/// between that key and `other_public`. Both public keys are in the derivation, so a
/// step binds which key replaced which.
pub(crate) fn root_step(
    root: &Secret,
    shared: &[u8; 32],
    new_public: &[u8; EPHEMERAL_KEY_LEN],
    other_public: &[u8; EPHEMERAL_KEY_LEN],
) -> (Secret, Chain) {
    let prk = extract(root.as_bytes(), shared);
    let mut keys = [0u8; 2 * EPHEMERAL_KEY_LEN];
    let (new, other) = keys.split_at_mut(EPHEMERAL_KEY_LEN);
    new.copy_from_slice(new_public);
    other.copy_from_slice(other_public);
    let (root, chain) = prk.derive_pair(b"ratchet root", b"ratchet chain", &keys);
    (root, Chain::new(chain))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_root_step_depends_on_every_input() {
        let root = Secret::from_array([1; 32]);
        let base = root_step(&root, &[2; 32], &[3; 32], &[4; 32]);
        let variants = [
            root_step(&Secret::from_array([9; 32]), &[2; 32], &[3; 32], &[4; 32]),
            root_step(&root, &[9; 32], &[3; 32], &[4; 32]),
            root_step(&root, &[2; 32], &[9; 32], &[4; 32]),
            root_step(&root, &[2; 32], &[3; 32], &[9; 32]),
            // The roles matter: swapping the keys is another step.
            root_step(&root, &[2; 32], &[4; 32], &[3; 32]),
        ];
        for (root, chain) in &variants {
            assert_ne!(root.as_bytes(), base.0.as_bytes());
            assert_ne!(chain.peek().0.as_bytes(), base.1.peek().0.as_bytes());
        }
        // The root and the chain are independent outputs.
        assert_ne!(base.0.as_bytes(), base.1.peek().0.as_bytes());
        assert_eq!(base.1.counter(), 0);
    }
}
