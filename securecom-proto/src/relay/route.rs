//! Where the relay's routing decisions pass: chat data it forwards, and keys it hands out.
//!
//! Every command runs with a [`Route`]. [`Relay::handle_input`] passes [`Honest`], which
//! forwards chat data to the sender's chat peer and hands out the authenticated keys. The
//! crate's test kit passes a malicious route instead, by wrapping the relay (its
//! `AdversarialRelay`), so the relay itself carries no test hook.

use alloc::vec::Vec;

use super::{Online, Relay};
use crate::cluster::BusBody;
use crate::command::Notice;
use crate::identity::{PublicKey, Username};

/// The relay's routing decisions.
pub(crate) trait Route {
    /// Chat data `from` sent to its chat peer `to`: make the deliveries through `relay`.
    fn chat_data(&mut self, from: &Username, to: &Username, payload: Vec<u8>, relay: Deliver<'_>);

    /// The key to hand out for `user`, whose authenticated key is `key`.
    fn key_for(&mut self, user: &Username, key: PublicKey) -> PublicKey;
}

/// The relay's side of a chat data forward from one user: delivers to an online user of
/// this node, or to the sender's chat peer on another node.
pub(crate) struct Deliver<'r>(pub(super) &'r mut Relay, pub(super) &'r Username);

impl Deliver<'_> {
    /// Sends `payload` to `to` as chat data (nothing if `to` is offline).
    pub(crate) fn chat_data(&mut self, to: &Username, payload: Vec<u8>) {
        let Deliver(relay, from) = self;
        let remote = relay
            .online_by_name(from)
            .filter(|o| o.chat.as_ref() == Some(to))
            .and_then(|o| o.chat_node.clone());
        match remote {
            Some(node) => relay.publish(
                &node,
                BusBody::ChatData {
                    from: (*from).clone(),
                    to: to.clone(),
                    payload,
                },
            ),
            None => relay.notify(to, &Notice::ChatData(payload)),
        }
    }
}

/// What the relay does: chat data to the peer, as sent; keys as authenticated.
pub(crate) struct Honest;

impl Route for Honest {
    fn chat_data(
        &mut self,
        _from: &Username,
        to: &Username,
        payload: Vec<u8>,
        mut relay: Deliver<'_>,
    ) {
        relay.chat_data(to, payload);
    }

    fn key_for(&mut self, _user: &Username, key: PublicKey) -> PublicKey {
        key
    }
}

impl Relay {
    fn online_by_name(&self, user: &Username) -> Option<&Online> {
        let id = self.online.get(user)?;
        match &self.connections.get(id)?.state {
            super::ConnState::Online(o) => Some(o),
            _ => None,
        }
    }
}
