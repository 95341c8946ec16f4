//! A mirror of the cluster's presence store: who is online on which node.

use alloc::collections::BTreeMap;

use super::config::NodeId;
use super::wire::PresenceRecord;
use crate::identity::{PublicKey, Username};

/// A user online on another node, as its presence entry says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RemoteUser {
    pub(crate) node: NodeId,
    pub(crate) incarnation: u64,
    pub(crate) session: u64,
    pub(crate) key: PublicKey,
    pub(crate) revision: u64,
}

/// The latest entry seen per user, by store revision. Deleted entries stay as a
/// revision only, so an older update arriving late cannot bring them back.
#[derive(Default)]
#[cfg_attr(any(test, feature = "fuzzing"), derive(Clone))]
pub(crate) struct PresenceMirror {
    entries: BTreeMap<Username, (u64, Option<RemoteUser>)>,
}

/// What applying an update did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Applied {
    /// Older than what the mirror has, or beyond its bound: ignored.
    Ignored,
    /// The mirror changed.
    Changed,
}

impl PresenceMirror {
    /// Applies the store's entry for `user` at `revision` (`None`: deleted).
    pub(crate) fn apply(
        &mut self,
        user: &Username,
        revision: u64,
        record: Option<PresenceRecord>,
        max_entries: usize,
    ) -> Applied {
        if !self.entries.contains_key(user) && self.entries.len() >= max_entries {
            return Applied::Ignored;
        }
        let entry = self.entries.entry(user.clone()).or_insert((0, None));
        if revision <= entry.0 && entry.0 != 0 {
            return Applied::Ignored;
        }
        *entry = (
            revision,
            record.map(|r| RemoteUser {
                node: r.node,
                incarnation: r.incarnation,
                session: r.session,
                key: r.key,
                revision,
            }),
        );
        Applied::Changed
    }

    /// The current entry of `user`, if any.
    pub(crate) fn get(&self, user: &Username) -> Option<&RemoteUser> {
        self.entries.get(user).and_then(|(_, e)| e.as_ref())
    }

    /// Every current entry, in name order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&Username, &RemoteUser)> {
        self.entries
            .iter()
            .filter_map(|(u, (_, e))| e.as_ref().map(|e| (u, e)))
    }
}
