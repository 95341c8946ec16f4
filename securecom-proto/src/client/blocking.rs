//! Blocking users: a request from a blocked user is refused at once, without asking, so
//! that one account re-asking as soon as it is refused cannot keep the user busy (a user
//! being asked refuses everyone else automatically).

use super::{AutoRefusal, ChatClient, ClientError, Misuse, State};
use crate::identity::Username;
use crate::time::Instant;

/// Users one client can block.
pub const MAX_BLOCKED: usize = 1024;

impl ChatClient {
    /// Blocks `user`: every chat request from `user` is refused at once
    /// ([`ClientEvent::AutoRefused`](super::ClientEvent::AutoRefused) with
    /// [`AutoRefusal::Blocked`]), and a request from `user` being asked now is denied. A
    /// chat with `user` in progress goes on until it is left. The list lasts as long as
    /// this client; a program that wants it across runs keeps it and blocks again.
    ///
    /// # Errors
    /// [`Misuse::TooManyBlocked`] when [`MAX_BLOCKED`] users are blocked already; a
    /// [`ClientError`] if denying the pending request fails (the session is over).
    pub fn block(&mut self, now: Instant, user: &Username) -> Result<(), ClientError> {
        if !self.blocked.contains(user) {
            if self.blocked.len() >= MAX_BLOCKED {
                return Err(Misuse::TooManyBlocked { max: MAX_BLOCKED }.into());
            }
            self.blocked.insert(user.clone());
        }
        if matches!(&self.state, State::Asked { from, .. } if from == user) {
            self.state = State::Idle;
            self.refuse(now, user, AutoRefusal::Blocked)?;
        }
        Ok(())
    }

    /// This client with `users` blocked from the start, before any input (the first
    /// [`MAX_BLOCKED`]; a program keeping its list across sessions gives it to each new
    /// client, so no request slips in before the list is in force).
    #[must_use]
    pub fn with_blocked(mut self, users: impl IntoIterator<Item = Username>) -> Self {
        for user in users {
            if self.blocked.len() >= MAX_BLOCKED {
                break;
            }
            self.blocked.insert(user);
        }
        self
    }

    /// Unblocks `user`; false if `user` was not blocked.
    pub fn unblock(&mut self, user: &Username) -> bool {
        self.blocked.remove(user)
    }

    /// True if `user` is blocked.
    pub fn is_blocked(&self, user: &Username) -> bool {
        self.blocked.contains(user)
    }

    /// The blocked users, in name order.
    pub fn blocked(&self) -> impl Iterator<Item = &Username> {
        self.blocked.iter()
    }
}
