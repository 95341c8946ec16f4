//! The client's side of trust on first use: key statuses in events, keys remembered only
//! after a completed chat handshake, the user's verification and trust.

use super::{ChatClient, ClientError, ClientEvent, Misuse, State};
use crate::chat::{ChatSession, KeyStatus};
use crate::identity::{Fingerprint, PublicKey, Username};

impl ChatClient {
    /// Accepts `key` as `user`'s key, unverified, after a [`ClientEvent::KeyChanged`] and
    /// an out-of-band check: the next chat with `user` is no longer refused.
    ///
    /// # Errors
    /// [`ClientError::KnownKeys`] if the store cannot keep it (nothing changed).
    pub fn trust_key(&mut self, user: &Username, key: &PublicKey) -> Result<(), ClientError> {
        Ok(self.known_keys.trust(user, key)?)
    }

    /// Marks the current chat peer's key as verified, once the users compared the chat's
    /// safety number out of band; reports [`ClientEvent::KeyVerified`]. A later change of
    /// a verified key is reported with `verified` set, for a louder warning.
    ///
    /// # Errors
    /// [`Misuse::InvalidState`] when not in an established chat; [`ClientError::KnownKeys`]
    /// if the store cannot keep the mark (nothing changed).
    pub fn verify_peer(&mut self) -> Result<(), ClientError> {
        let State::Chatting(chat) = &self.state else {
            return Err(Misuse::InvalidState("no established chat to verify").into());
        };
        let (user, key) = (chat.peer().clone(), *chat.peer_key());
        self.known_keys.verify(&user, &key)?;
        self.events.push_back(ClientEvent::KeyVerified {
            user,
            fingerprint: key.fingerprint(),
        });
        Ok(())
    }

    /// How `key` compares with what we remembered for `user`; remembers nothing.
    pub(crate) fn key_status(&self, user: &Username, key: &PublicKey) -> KeyStatus {
        self.known_keys.status(user, key)
    }

    /// The same for a key the server named by its fingerprint (a user list).
    pub(crate) fn fingerprint_status(
        &self,
        user: &Username,
        fingerprint: &Fingerprint,
    ) -> KeyStatus {
        self.known_keys.fingerprint_status(user, fingerprint)
    }

    /// Reports a changed key (the caller refuses or ends the chat).
    pub(crate) fn report_key_change(
        &mut self,
        user: &Username,
        key: PublicKey,
        previous: PublicKey,
        verified: bool,
    ) {
        self.events.push_back(ClientEvent::KeyChanged {
            user: user.clone(),
            previous: previous.fingerprint(),
            current: key.fingerprint(),
            key,
            verified,
        });
    }

    /// A chat handshake completed: the peer proved it holds its key. Remembers the key if
    /// it was first seen, reports the chat with the key's status as it was before.
    pub(crate) fn chat_established(&mut self, chat: ChatSession) {
        let (peer, key) = (chat.peer().clone(), *chat.peer_key());
        let safety_number = chat.safety_number();
        self.state = State::Chatting(chat);
        let key_status = self.key_status(&peer, &key);
        let failed = match key_status {
            KeyStatus::FirstSeen => self.known_keys.remember(&peer, &key).err(),
            _ => None,
        };
        self.events.push_back(ClientEvent::ChatEstablished {
            peer,
            safety_number,
            key_status,
        });
        if let Some(error) = failed {
            self.events
                .push_back(ClientEvent::KnownKeysFailed { error });
        }
    }
}
