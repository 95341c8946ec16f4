//! The other nodes as this node sees them: alive or not, and which of their messages are
//! fresh. Also the sequence numbers of this node's own messages.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::time::Duration;

use super::config::NodeId;
use super::wire::{BusError, Envelope};
use crate::time::Instant;

#[cfg_attr(any(test, feature = "fuzzing"), derive(Clone))]
struct Peer {
    /// The sender's boot time in ms: a restarted node has a higher one.
    incarnation: u64,
    /// The last sequence number seen on the link to this node, and on the broadcast.
    last_direct: u64,
    last_broadcast: u64,
    last_heard: Instant,
    alive: bool,
}

/// What admitting a message changed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Admitted {
    /// A node already alive.
    Known,
    /// A node not heard from before, or heard again after it was declared dead.
    Joined,
    /// The node restarted: everything of its previous incarnation is gone.
    Restarted,
}

/// Liveness and replay state of every other node, and this node's outgoing sequences.
#[cfg_attr(any(test, feature = "fuzzing"), derive(Clone))]
pub(crate) struct Nodes {
    me: NodeId,
    incarnation: u64,
    peers: BTreeMap<NodeId, Peer>,
    /// The next sequence number per link (`None`: the broadcast).
    next_seq: BTreeMap<Option<NodeId>, u64>,
}

impl Nodes {
    pub(crate) fn new(me: NodeId, incarnation: u64) -> Self {
        Nodes {
            me,
            incarnation,
            peers: BTreeMap::new(),
            next_seq: BTreeMap::new(),
        }
    }

    pub(crate) fn me(&self) -> &NodeId {
        &self.me
    }

    pub(crate) fn incarnation(&self) -> u64 {
        self.incarnation
    }

    /// The sequence number for the next message to `to` (`None`: everyone).
    pub(crate) fn next_seq(&mut self, to: Option<&NodeId>) -> u64 {
        let seq = self.next_seq.entry(to.cloned()).or_insert(0);
        *seq = seq.saturating_add(1);
        *seq
    }

    /// The run of `node` this node knows (0: none).
    pub(crate) fn incarnation_of(&self, node: &NodeId) -> u64 {
        self.peers.get(node).map_or(0, |p| p.incarnation)
    }

    /// True when `node`'s incarnation `incarnation` is alive.
    pub(crate) fn is_live(&self, node: &NodeId, incarnation: u64) -> bool {
        self.peers
            .get(node)
            .is_some_and(|p| p.alive && p.incarnation == incarnation)
    }

    /// Checks that `env` is for this node, fresh, and new; records it. `wall_ms` is this
    /// node's clock.
    pub(crate) fn admit(
        &mut self,
        env: &Envelope,
        now: Instant,
        wall_ms: u64,
        max_skew: Duration,
        max_nodes: usize,
    ) -> Result<Admitted, BusError> {
        if env.from == self.me {
            return Err(BusError::FromSelf);
        }
        if env
            .to
            .as_ref()
            .is_some_and(|to| *to != self.me || env.to_incarnation != self.incarnation)
        {
            return Err(BusError::NotForUs);
        }
        let skew = u64::try_from(max_skew.as_millis()).unwrap_or(u64::MAX);
        if env.unix_ms.abs_diff(wall_ms) > skew {
            return Err(BusError::Stale);
        }
        let direct = env.to.is_some();
        let Some(peer) = self.peers.get_mut(&env.from) else {
            if self.peers.len() >= max_nodes {
                return Err(BusError::TooManyNodes);
            }
            self.peers.insert(
                env.from.clone(),
                Peer {
                    incarnation: env.incarnation,
                    last_direct: if direct { env.seq } else { 0 },
                    last_broadcast: if direct { 0 } else { env.seq },
                    last_heard: now,
                    alive: true,
                },
            );
            return Ok(Admitted::Joined);
        };
        let mut admitted = Admitted::Known;
        if env.incarnation < peer.incarnation {
            return Err(BusError::Replayed);
        }
        if env.incarnation > peer.incarnation {
            peer.incarnation = env.incarnation;
            peer.last_direct = 0;
            peer.last_broadcast = 0;
            admitted = if peer.alive {
                Admitted::Restarted
            } else {
                Admitted::Joined
            };
        }
        let last = if direct {
            &mut peer.last_direct
        } else {
            &mut peer.last_broadcast
        };
        if env.seq <= *last {
            return Err(BusError::Replayed);
        }
        *last = env.seq;
        peer.last_heard = now;
        if !peer.alive {
            peer.alive = true;
            admitted = Admitted::Joined;
        }
        Ok(admitted)
    }

    /// Declares `node` dead now (it said goodbye). Only a message of a newer incarnation
    /// brings it back.
    pub(crate) fn depart(&mut self, node: &NodeId) {
        if let Some(peer) = self.peers.get_mut(node) {
            peer.alive = false;
            // Anything more from this incarnation is a replay.
            peer.last_direct = u64::MAX;
            peer.last_broadcast = u64::MAX;
        }
    }

    /// Declares every node dead (the bus is gone); returns those that were alive.
    pub(crate) fn lose_all(&mut self) -> Vec<NodeId> {
        let mut lost = Vec::new();
        for (id, peer) in &mut self.peers {
            if peer.alive {
                peer.alive = false;
                lost.push(id.clone());
            }
        }
        lost
    }

    /// Declares dead every node silent for `timeout`; returns them.
    pub(crate) fn expire(&mut self, now: Instant, timeout: Duration) -> Vec<NodeId> {
        let mut lost = Vec::new();
        for (id, peer) in &mut self.peers {
            if peer.alive && now >= peer.last_heard + timeout {
                peer.alive = false;
                lost.push(id.clone());
            }
        }
        lost
    }

    /// When the next node would be declared dead.
    pub(crate) fn next_expiry(&self, timeout: Duration) -> Option<Instant> {
        self.peers
            .values()
            .filter(|p| p.alive)
            .map(|p| p.last_heard + timeout)
            .min()
    }

    /// The nodes alive, in id order.
    pub(crate) fn alive(&self) -> impl Iterator<Item = &NodeId> {
        self.peers.iter().filter(|(_, p)| p.alive).map(|(id, _)| id)
    }
}
