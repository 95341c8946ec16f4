//! The symmetric ratchet: one key per message, and no way back.
//!
//! ```text
//! message_key[n] = Expand-Label(chain[n], "message key", "")
//! chain[n+1]     = Expand-Label(chain[n], "chain", "")
//! ```
//!
//! After a message is sealed or opened, `chain[n]` and `message_key[n]` are zeroized: someone
//! who steals the state later can derive future keys but not past ones.

use crate::crypto::Secret;

/// One direction's chain.
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
        (
            self.key.derive(b"message key", b""),
            self.key.derive(b"chain", b""),
        )
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
