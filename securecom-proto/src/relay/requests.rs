//! Chat requests waiting for an answer.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use crate::identity::Username;
use crate::time::Instant;

/// Pending chat requests: each user has at most one outgoing request, and a bounded number
/// waiting for their answer.
#[derive(Default)]
pub(super) struct PendingRequests {
    /// target -> (requester -> expiry)
    incoming: BTreeMap<Username, BTreeMap<Username, Instant>>,
    /// requester -> target
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
            .insert(from.clone(), expires);
        self.outgoing.insert(from.clone(), to.clone());
    }

    /// Removes the request from `from` to `to`; true if it existed.
    pub(super) fn remove(&mut self, to: &Username, from: &Username) -> bool {
        let Some(waiting) = self.incoming.get_mut(to) else {
            return false;
        };
        let existed = waiting.remove(from).is_some();
        if waiting.is_empty() {
            self.incoming.remove(to);
        }
        if self.outgoing.get(from) == Some(to) {
            self.outgoing.remove(from);
        }
        existed
    }

    /// Removes `from`'s outgoing request; returns its target.
    pub(super) fn remove_outgoing(&mut self, from: &Username) -> Option<Username> {
        let to = self.outgoing.get(from)?.clone();
        self.remove(&to, from);
        Some(to)
    }

    /// Removes every request waiting for `to`; returns the requesters.
    pub(super) fn remove_incoming(&mut self, to: &Username) -> Vec<Username> {
        let Some(waiting) = self.incoming.remove(to) else {
            return Vec::new();
        };
        let from: Vec<Username> = waiting.into_keys().collect();
        for f in &from {
            if self.outgoing.get(f) == Some(to) {
                self.outgoing.remove(f);
            }
        }
        from
    }

    /// Removes every request whose time is up; returns `(from, to)` pairs.
    pub(super) fn expire(&mut self, now: Instant) -> Vec<(Username, Username)> {
        let mut expired = Vec::new();
        for (to, waiting) in &self.incoming {
            for (from, expires) in waiting {
                if now >= *expires {
                    expired.push((from.clone(), to.clone()));
                }
            }
        }
        for (from, to) in &expired {
            self.remove(to, from);
        }
        expired
    }

    pub(super) fn next_expiry(&self) -> Option<Instant> {
        self.incoming
            .values()
            .flat_map(|m| m.values().copied())
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
            for from in waiting.keys() {
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
