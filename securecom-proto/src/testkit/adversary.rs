//! A malicious relay: the real [`Relay`], wrapped, with an [`Adversary`] interposed where
//! the relay forwards chat data and hands out keys.
//!
//! The relay routes every command through a route (`relay::Route`); the production path
//! ([`Relay::handle_input`]) routes honestly. [`AdversarialRelay::handle_input`] passes the
//! adversary instead, so everything else (handshakes, sessions, requests, timers, backpressure)
//! is the production code, unchanged. Without an adversary it is the honest relay.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::ops::{Deref, DerefMut};

use crate::identity::{PublicKey, Username};
use crate::relay::{ConnectionId, Deliver, Relay, RelayError, Route};
use crate::time::Instant;

/// How a malicious relay tampers with the chat traffic it forwards and the keys it hands
/// out.
pub(crate) trait Adversary {
    /// Chat data from `from` to its chat peer `to`: what to deliver instead, to whom.
    fn chat_data(
        &mut self,
        from: &Username,
        to: &Username,
        payload: Vec<u8>,
    ) -> Vec<(Username, Vec<u8>)>;

    /// The key to hand out for `user` instead of its authenticated `key`.
    fn key_for(&mut self, user: &Username, key: PublicKey) -> PublicKey {
        let _ = user;
        key
    }
}

/// A [`Relay`] whose forwarding an [`Adversary`] may take over. Everything but
/// [`AdversarialRelay::handle_input`] is the relay's own (through `Deref`).
pub(crate) struct AdversarialRelay {
    relay: Relay,
    adversary: Option<Box<dyn Adversary>>,
}

impl AdversarialRelay {
    /// `relay`, honest until [`AdversarialRelay::interfere`].
    pub(crate) fn new(relay: Relay) -> Self {
        AdversarialRelay {
            relay,
            adversary: None,
        }
    }

    /// From now on, `adversary` decides what is forwarded and which keys are handed out.
    pub(crate) fn interfere(&mut self, adversary: impl Adversary + 'static) {
        self.adversary = Some(Box::new(adversary));
    }

    /// From now on, the relay is honest again.
    pub(crate) fn stop_interfering(&mut self) {
        self.adversary = None;
    }

    /// A copy, if there is no adversary (one is set on the copy, after it is taken) and
    /// the relay is at rest ([`Relay::try_clone`]).
    #[cfg(feature = "fuzzing")]
    pub(crate) fn try_clone(&self) -> Option<Self> {
        if self.adversary.is_some() {
            return None;
        }
        Some(AdversarialRelay::new(self.relay.try_clone()?))
    }

    /// [`Relay::handle_input`], with the adversary (if any) routing the commands.
    pub(crate) fn handle_input(
        &mut self,
        id: ConnectionId,
        now: Instant,
        data: &[u8],
    ) -> Result<(), RelayError> {
        match self.adversary.as_deref_mut() {
            Some(adversary) => {
                self.relay
                    .handle_input_routed(id, now, data, &mut Interposed(adversary))
            }
            None => self.relay.handle_input(id, now, data),
        }
    }
}

impl Deref for AdversarialRelay {
    type Target = Relay;

    fn deref(&self) -> &Relay {
        &self.relay
    }
}

impl DerefMut for AdversarialRelay {
    fn deref_mut(&mut self) -> &mut Relay {
        &mut self.relay
    }
}

/// The relay's route, taken over by an adversary.
struct Interposed<'a>(&'a mut dyn Adversary);

impl Route for Interposed<'_> {
    fn chat_data(
        &mut self,
        from: &Username,
        to: &Username,
        payload: Vec<u8>,
        mut relay: Deliver<'_>,
    ) {
        for (to, payload) in self.0.chat_data(from, to, payload) {
            relay.chat_data(&to, payload);
        }
    }

    fn key_for(&mut self, user: &Username, key: PublicKey) -> PublicKey {
        self.0.key_for(user, key)
    }
}
