//! Fuzzing only: a copy of a chat client at rest, so that a fuzz target logs in
//! once and starts every execution from a copy.

use super::{ChatClient, State};

impl ChatClient {
    /// A copy of this client, or `None` in the middle of a chat handshake (a copy is taken
    /// idle, asked or chatting) or if its known-keys store cannot be copied.
    pub(crate) fn try_clone(&self) -> Option<ChatClient> {
        let state = match &self.state {
            State::Idle => State::Idle,
            State::Asked { from, key } => State::Asked {
                from: from.clone(),
                key: *key,
            },
            State::Chatting(chat) => State::Chatting(chat.clone()),
            State::Requesting { .. }
            | State::Initiating(_)
            | State::Responding(_)
            | State::Confirming(_) => return None,
        };
        Some(ChatClient {
            session: self.session.clone(),
            config: self.config.clone(),
            state,
            known_keys: self.known_keys.try_clone_box()?,
            blocked: self.blocked.clone(),
            next_id: self.next_id,
            pending: self.pending.clone(),
            events: self.events.clone(),
            last_sent: self.last_sent,
            ping_interval: self.ping_interval,
            callback_deadline: self.callback_deadline,
            exiting: self.exiting,
            ended: self.ended.clone(),
        })
    }
}
