//! Chat requests waiting for an answer.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use crate::cluster::NodeId;
use crate::identity::Username;
use crate::time::Instant;

/// Where a requester is: `None` on this node, else the node holding it.
pub(super) type Origin = Option<NodeId>;

/// Pending chat requests waiting for a user of this node: each local user has at most one
/// outgoing request (to a local user here; to a remote one in the cluster state), and a
/// bounded number waiting for their answer, from users of any node.
#[derive(Default)]
#[cfg_attr(any(test, feature = "fuzzing"), derive(Clone))]
pub(super) struct PendingRequests {
    /// target -> (requester -> (expiry, where the requester is))
    incoming: BTreeMap<Username, BTreeMap<Username, (Instant, Origin)>>,
    /// local requester -> local target
    outgoing: BTreeMap<Username, Username>,
}

impl PendingRequests {
    pub(super) fn outgoing_of(&self, from: &Username) -> Option<&Username> {
        self.outgoing.get(from)
    }

    pub(super) fn incoming_count(&self, to: &Username) -> usize {
        self.incoming.get(to).map_or(0, BTreeMap::len)
    }

    pub(super) fn contains(&self, to: &Username, from: &Username) -> bool {
        self.incoming.get(to).is_some_and(|m| m.contains_key(from))
    }

    pub(super) fn insert(&mut self, from: &Username, to: &Username, expires: Instant) {
        self.incoming
            .entry(to.clone())
            .or_default()
            .insert(from.clone(), (expires, None));
        self.outgoing.insert(from.clone(), to.clone());
    }

    /// Records a request from `from`, a user of node `origin`, to local `to`.
    pub(super) fn insert_remote(
        &mut self,
        from: &Username,
        origin: NodeId,
        to: &Username,
        expires: Instant,
    ) {
        self.incoming
            .entry(to.clone())
            .or_default()
            .insert(from.clone(), (expires, Some(origin)));
    }

    /// Removes the request from `from` to `to`; where the requester is, if it existed.
    pub(super) fn take(&mut self, to: &Username, from: &Username) -> Option<Origin> {
        let waiting = self.incoming.get_mut(to)?;
        let existed = waiting.remove(from);
        if waiting.is_empty() {
            self.incoming.remove(to);
        }
        if self.outgoing.get(from) == Some(to) {
            self.outgoing.remove(from);
        }
        existed.map(|(_, origin)| origin)
    }

    /// Removes the request from `from` to `to`; true if it existed.
    pub(super) fn remove(&mut self, to: &Username, from: &Username) -> bool {
        self.take(to, from).is_some()
    }

    /// Where the requester of the request from `from` to `to` is, if there is one.
    pub(super) fn origin(&self, to: &Username, from: &Username) -> Option<&Origin> {
        self.incoming.get(to)?.get(from).map(|(_, o)| o)
    }

    /// Removes every request from users of `node`; returns `(from, to)` pairs.
    pub(super) fn remove_from_node(&mut self, node: &NodeId) -> Vec<(Username, Username)> {
        let mut gone = Vec::new();
        for (to, waiting) in &self.incoming {
            for (from, (_, origin)) in waiting {
                if origin.as_ref() == Some(node) {
                    gone.push((from.clone(), to.clone()));
                }
            }
        }
        for (from, to) in &gone {
            self.remove(to, from);
        }
        gone
    }

    /// Removes `from`'s outgoing request; returns its target.
    pub(super) fn remove_outgoing(&mut self, from: &Username) -> Option<Username> {
        let to = self.outgoing.get(from)?.clone();
        self.remove(&to, from);
        Some(to)
    }

    /// Removes every request waiting for `to`; returns the requesters and where they are.
    pub(super) fn remove_incoming(&mut self, to: &Username) -> Vec<(Username, Origin)> {
        let Some(waiting) = self.incoming.remove(to) else {
            return Vec::new();
        };
        let from: Vec<(Username, Origin)> = waiting
            .into_iter()
            .map(|(from, (_, origin))| (from, origin))
            .collect();
        for (f, _) in &from {
            if self.outgoing.get(f) == Some(to) {
                self.outgoing.remove(f);
            }
        }
        from
    }

    /// Removes every request whose time is up; returns `(from, to, origin)`.
    pub(super) fn expire(&mut self, now: Instant) -> Vec<(Username, Username, Origin)> {
        let mut expired = Vec::new();
        for (to, waiting) in &self.incoming {
            for (from, (expires, origin)) in waiting {
                if now >= *expires {
                    expired.push((from.clone(), to.clone(), origin.clone()));
                }
            }
        }
        for (from, to, _) in &expired {
            self.remove(to, from);
        }
        expired
    }

    pub(super) fn next_expiry(&self) -> Option<Instant> {
        self.incoming
            .values()
            .flat_map(|m| m.values().map(|(t, _)| *t))
            .min()
    }

    pub(super) fn check(&self, is_online: impl Fn(&Username) -> bool) -> Result<(), String> {
        use alloc::format;
        for (from, to) in &self.outgoing {
            if !self.contains(to, from) {
                return Err(format!("outgoing {from}->{to} without its pending entry"));
            }
        }
        for (to, waiting) in &self.incoming {
            if waiting.is_empty() {
                return Err(format!("empty request map for {to}"));
            }
            if !is_online(to) {
                return Err(format!("request waiting for offline {to}"));
            }
            for (from, (_, origin)) in waiting {
                if origin.is_some() {
                    continue;
                }
                if !is_online(from) {
                    return Err(format!("request from offline {from}"));
                }
                if self.outgoing.get(from) != Some(to) {
                    return Err(format!("pending {from}->{to} is not {from}'s outgoing"));
                }
            }
        }
        Ok(())
    }
}
