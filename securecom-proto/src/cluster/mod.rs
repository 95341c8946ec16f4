//! The relay's cluster side: several relay nodes that behave as one chat service.
//!
//! A clustered [`Relay`](crate::relay::Relay) (built with
//! [`Relay::new_clustered`](crate::relay::Relay::new_clustered)) still does no I/O. It
//! learns about the other nodes only through [`ClusterInput`]s and reaches them only
//! through [`ClusterAction`]s, which a bus driver (`securecom-nats` maps them onto NATS)
//! carries out:
//!
//! - [`ClusterAction::Publish`]: an authenticated bus message for one node (a chat request,
//!   an answer, chat data, a leave) or for all (the heartbeat, a goodbye);
//! - [`ClusterAction::Claim`] / [`ClusterAction::Release`]: the presence store, a
//!   key-value bucket with compare-and-set, where a login claims its username atomically;
//! - [`ClusterInput`]: messages received, presence entries watched, claim results, and the
//!   bus going away and coming back.
//!
//! Every byte on the bus is authenticated with the [`ClusterKey`] shared by the nodes, and
//! carries its sender, its addressee, the sender's incarnation, a per-link sequence number
//! and a timestamp: a message injected or replayed by another bus client is dropped
//! ([`crate::relay::RelayEvent::BusMessageDropped`]). What the bus carries is what the
//! relay sees anyway: end-to-end chat records stay opaque. `docs/CLUSTER.md` has the
//! set-up and the trust model; `docs/PROTOCOL.md` section 14 the byte layouts.

mod config;
mod nodes;
mod presence;
mod wire;

pub use config::{ClusterConfig, ClusterKey, MAX_NODE_ID_LEN, NodeId, NodeIdError};
pub use wire::BusError;

pub(crate) use nodes::{Admitted, Nodes};
pub(crate) use presence::{Applied, PresenceMirror, RemoteUser};
pub(crate) use wire::{BusBody, Envelope, Keys, PresenceRecord, presence_key, user_of_key};

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// Where a bus message goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    /// The one node named.
    Node(NodeId),
    /// Every node (heartbeats, goodbyes).
    All,
}

/// What a presence claim expects to find in the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// No entry for the key (create-if-absent).
    Absent,
    /// The entry at exactly this revision (compare-and-set).
    Revision(u64),
}

/// Identifies one claim, so its result finds the login it was for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClaimId(pub u64);

/// What the bus driver must do, from [`crate::relay::Relay::poll_cluster_action`].
#[must_use = "an action left undone leaves the other nodes uninformed"]
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClusterAction {
    /// Publish `bytes` (already authenticated) to `to`. Best effort: a message lost while
    /// the bus is down is not resent.
    Publish {
        /// The addressee.
        to: Destination,
        /// The message.
        bytes: Vec<u8>,
    },
    /// Write `value` under `key` in the presence store if the store holds what `expect`
    /// says, then report [`ClusterInput::Claimed`], or [`ClusterInput::ClaimConflict`]
    /// after reporting the entry found as [`ClusterInput::Presence`], or
    /// [`ClusterInput::ClaimFailed`] if the store could not be asked.
    Claim {
        /// Which claim (echo it in the result).
        claim: ClaimId,
        /// The store key (a username, encoded as a valid key).
        key: String,
        /// The authenticated presence record.
        value: Vec<u8>,
        /// What must be there now.
        expect: Expect,
    },
    /// Delete `key` from the presence store if it is still at `revision` (no report: a
    /// newer entry is someone else's claim and stays).
    Release {
        /// The store key.
        key: String,
        /// The revision this node wrote.
        revision: u64,
    },
}

impl fmt::Debug for ClusterAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClusterAction::Publish { to, bytes } => f
                .debug_struct("Publish")
                .field("to", to)
                .field("len", &bytes.len())
                .finish(),
            ClusterAction::Claim {
                claim, key, expect, ..
            } => f
                .debug_struct("Claim")
                .field("claim", claim)
                .field("key", key)
                .field("expect", expect)
                .finish_non_exhaustive(),
            ClusterAction::Release { key, revision } => f
                .debug_struct("Release")
                .field("key", key)
                .field("revision", revision)
                .finish(),
        }
    }
}

/// What the bus driver reports, to [`crate::relay::Relay::handle_cluster_input`].
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClusterInput {
    /// The bus is reachable (first connection or after an outage): subscriptions are in
    /// place and the presence watch delivers the store's current entries from now on.
    Connected,
    /// The bus is unreachable: remote users are unreachable until [`ClusterInput::Connected`].
    Disconnected,
    /// A message arrived on this node's subjects (its own or the broadcast one).
    Message(Vec<u8>),
    /// The presence store's entry for `key` changed (from the watch, or read after a
    /// conflicting claim); `value` is `None` when the entry was deleted.
    Presence {
        /// The store key.
        key: String,
        /// The store's revision of this change.
        revision: u64,
        /// The new value, if any.
        value: Option<Vec<u8>>,
    },
    /// The claim succeeded; the entry now has `revision`.
    Claimed {
        /// Which claim.
        claim: ClaimId,
        /// The new revision.
        revision: u64,
    },
    /// The store did not hold what the claim expected.
    ClaimConflict {
        /// Which claim.
        claim: ClaimId,
    },
    /// The store could not be asked (bus down, timeout).
    ClaimFailed {
        /// Which claim.
        claim: ClaimId,
    },
}

impl fmt::Debug for ClusterInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClusterInput::Connected => f.write_str("Connected"),
            ClusterInput::Disconnected => f.write_str("Disconnected"),
            ClusterInput::Message(bytes) => f.debug_tuple("Message").field(&bytes.len()).finish(),
            ClusterInput::Presence {
                key,
                revision,
                value,
            } => f
                .debug_struct("Presence")
                .field("key", key)
                .field("revision", revision)
                .field("deleted", &value.is_none())
                .finish(),
            ClusterInput::Claimed { claim, revision } => f
                .debug_struct("Claimed")
                .field("claim", claim)
                .field("revision", revision)
                .finish(),
            ClusterInput::ClaimConflict { claim } => f
                .debug_struct("ClaimConflict")
                .field("claim", claim)
                .finish(),
            ClusterInput::ClaimFailed { claim } => {
                f.debug_struct("ClaimFailed").field("claim", claim).finish()
            }
        }
    }
}

#[cfg(test)]
mod tests;
