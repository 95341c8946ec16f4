//! Where the relay's routing decisions pass: chat data it forwards, and keys it hands out.
//!
//! Every command runs with a [`Route`]. [`Relay::handle_input`] passes [`Honest`], which
//! forwards chat data to the sender's chat peer and hands out the authenticated keys. The
//! crate's test kit passes a malicious route instead, by wrapping the relay (its
//! `AdversarialRelay`), so the relay itself carries no test hook.

use alloc::vec::Vec;

use super::Relay;
use crate::cluster::{BusBody, NodeId};
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
pub(crate) struct Deliver<'r> {
    pub(super) relay: &'r mut Relay,
    pub(super) from: &'r Username,
    /// The sender's chat peer, and its node when it is not this one.
    pub(super) peer: &'r Username,
    pub(super) peer_node: Option<NodeId>,
}

impl Deliver<'_> {
    /// Sends `payload` to `to` as chat data (nothing if `to` is offline).
    pub(crate) fn chat_data(&mut self, to: &Username, payload: Vec<u8>) {
        match &self.peer_node {
            Some(node) if to == self.peer => self.relay.publish(
                node,
                BusBody::ChatData {
                    from: self.from.clone(),
                    to: to.clone(),
                    payload,
                },
            ),
            _ => self.relay.notify(to, &Notice::ChatData(payload)),
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
