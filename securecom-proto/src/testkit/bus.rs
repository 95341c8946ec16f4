//! An in-memory bus for clustered relays: a test double of NATS, honest and exact about
//! what the cluster side relies on, and nothing more.
//!
//! - **Publish/subscribe**: each node is subscribed to its own subject and to the broadcast
//!   one. [`Destination::Node`] reaches that node only; [`Destination::All`] reaches every
//!   connected node, the sender included (which must ignore its own message). Delivery is
//!   at most once and in order per receiving node; a node not connected (or gone) misses
//!   what is published meanwhile, as a NATS subscriber does.
//! - **The presence store**: a key-value bucket with one global revision counter that
//!   increases with every change. A claim with [`Expect::Absent`] creates the entry if there
//!   is none (or only a deletion marker); with [`Expect::Revision`] it updates the entry only
//!   if its latest revision is exactly that one. A release deletes the entry only if it is
//!   still at the given revision. Every change is delivered as [`ClusterInput::Presence`] to
//!   every connected node's watch, the writer's included; a claim is answered with
//!   [`ClusterInput::Claimed`], or with the entry found (as `Presence`) followed by
//!   [`ClusterInput::ClaimConflict`], or with [`ClusterInput::ClaimFailed`] when the
//!   claimer is not connected.
//!   With [`Bus::watch_first`], the claimer's watch sees the change before the result;
//!   with [`Bus::store_silent`], claims are never answered; with [`Bus::claims_fail`],
//!   they fail; with [`Bus::results_lost`], they take effect but their claimers are told
//!   they failed.
//! - **Connections**: [`Bus::connect`] delivers [`ClusterInput::Connected`] and then, like a
//!   fresh watch delivering the last value per key, the latest state of every key (deletion
//!   markers included). [`Bus::disconnect`] drops what was in flight to the node and
//!   delivers [`ClusterInput::Disconnected`]; [`Bus::crash`] drops it silently (the process
//!   is gone).
//!
//! Every published message is also kept in [`Bus::log`], so that tests can replay,
//! misroute or inspect exact bytes. The API cannot fail: unknown node indices are ignored.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;

use crate::cluster::{ClusterAction, ClusterInput, Destination, Expect, NodeId};

/// One node's connection to the bus.
#[derive(Clone)]
struct Link {
    node: NodeId,
    connected: bool,
    /// What the bus delivered to the node, not yet handed to it.
    inbox: VecDeque<ClusterInput>,
}

/// The latest state of one key: its revision, and its value (`None`: deleted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StoreEntry {
    pub(crate) revision: u64,
    pub(crate) value: Option<Vec<u8>>,
}

/// A message as it was published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Published {
    /// The index of the publishing node.
    pub(crate) from: usize,
    /// Where it was sent.
    pub(crate) to: Destination,
    /// Its bytes.
    pub(crate) bytes: Vec<u8>,
}

/// The bus and its presence store. Nodes are named by the index [`Bus::attach`] returns.
#[derive(Clone, Default)]
pub(crate) struct Bus {
    links: Vec<Link>,
    store: BTreeMap<String, StoreEntry>,
    revision: u64,
    /// Every message published while its sender was connected, in order.
    pub(crate) log: Vec<Published>,
    /// Deliver a successful claim's watch update to the claimer before the claim's result
    /// (NATS carries the two on different subscriptions: either may come first).
    pub(crate) watch_first: bool,
    /// The store takes claims and never answers (a driver stuck on a slow store).
    pub(crate) store_silent: bool,
    /// Claims take effect (the watch sees them) but their results are lost: the claimer
    /// is told [`ClusterInput::ClaimFailed`], as a driver whose request timed out.
    pub(crate) results_lost: bool,
    /// Claims fail without taking effect (the store unavailable, or a call timing out).
    pub(crate) claims_fail: bool,
    /// Claims performed, by node index.
    pub(crate) claims: BTreeMap<usize, usize>,
}

impl Bus {
    /// An empty bus: no node, an empty store.
    pub(crate) fn new() -> Self {
        Bus::default()
    }

    /// Adds node `node` (not yet connected); returns its index.
    pub(crate) fn attach(&mut self, node: NodeId) -> usize {
        self.links.push(Link {
            node,
            connected: false,
            inbox: VecDeque::new(),
        });
        self.links.len() - 1
    }

    /// True while node `i` is connected.
    pub(crate) fn is_connected(&self, i: usize) -> bool {
        self.links.get(i).is_some_and(|l| l.connected)
    }

    /// Node `i` (re)connects: it is told so, then its new watch delivers the latest state
    /// of every key.
    pub(crate) fn connect(&mut self, i: usize) {
        let Some(link) = self.links.get_mut(i) else {
            return;
        };
        link.connected = true;
        link.inbox.push_back(ClusterInput::Connected);
        for (key, entry) in &self.store {
            link.inbox.push_back(ClusterInput::Presence {
                key: key.clone(),
                revision: entry.revision,
                value: entry.value.clone(),
            });
        }
    }

    /// Node `i` loses the bus: what was in flight to it is lost, and it is told.
    pub(crate) fn disconnect(&mut self, i: usize) {
        if let Some(link) = self.links.get_mut(i).filter(|l| l.connected) {
            link.connected = false;
            link.inbox.clear();
            link.inbox.push_back(ClusterInput::Disconnected);
        }
    }

    /// Node `i`'s process is gone: its connection closes with nobody to tell.
    pub(crate) fn crash(&mut self, i: usize) {
        if let Some(link) = self.links.get_mut(i) {
            link.connected = false;
            link.inbox.clear();
        }
    }

    /// The next input for node `i`.
    pub(crate) fn pop(&mut self, i: usize) -> Option<ClusterInput> {
        self.links.get_mut(i)?.inbox.pop_front()
    }

    /// Hands `input` to node `i` as if the bus delivered it (a test playing another bus
    /// client, or the bus misbehaving), connected or not.
    pub(crate) fn inject(&mut self, i: usize, input: ClusterInput) {
        if let Some(link) = self.links.get_mut(i) {
            link.inbox.push_back(input);
        }
    }

    /// Another client of the store writes `value` under `key` (a new revision, seen by every
    /// watch): what a bus client with write access but without the cluster key can do.
    pub(crate) fn put_raw(&mut self, key: &str, value: Vec<u8>) {
        self.change(String::from(key), Some(value));
        self.notify(key);
    }

    /// The latest state of `key` in the store.
    pub(crate) fn entry(&self, key: &str) -> Option<&StoreEntry> {
        self.store.get(key)
    }

    /// Every key with a value, in key order.
    pub(crate) fn live_keys(&self) -> impl Iterator<Item = &str> {
        self.store
            .iter()
            .filter(|(_, e)| e.value.is_some())
            .map(|(k, _)| k.as_str())
    }

    /// Carries out `action` of node `i`.
    pub(crate) fn perform(&mut self, i: usize, action: ClusterAction) {
        match action {
            ClusterAction::Publish { to, bytes } => self.publish(i, to, bytes),
            ClusterAction::Claim {
                claim,
                key,
                value,
                expect,
            } => {
                *self.claims.entry(i).or_insert(0) += 1;
                if !self.is_connected(i) {
                    self.inject(i, ClusterInput::ClaimFailed { claim });
                    return;
                }
                if self.store_silent {
                    return;
                }
                if self.claims_fail {
                    self.inject(i, ClusterInput::ClaimFailed { claim });
                    return;
                }
                let current = self.store.get(&key).cloned();
                let fits = match (expect, &current) {
                    (Expect::Absent, None) => true,
                    (Expect::Absent, Some(e)) => e.value.is_none(),
                    (Expect::Revision(r), Some(e)) => e.revision == r,
                    (Expect::Revision(_), None) => false,
                };
                if fits {
                    let revision = self.change(key.clone(), Some(value));
                    // The result travels on the claimer's request, the update on its watch.
                    let result = if self.results_lost {
                        ClusterInput::ClaimFailed { claim }
                    } else {
                        ClusterInput::Claimed { claim, revision }
                    };
                    if self.watch_first {
                        self.notify(&key);
                        self.inject(i, result);
                    } else {
                        self.inject(i, result);
                        self.notify(&key);
                    }
                } else {
                    if let Some(entry) = current {
                        self.inject(
                            i,
                            ClusterInput::Presence {
                                key,
                                revision: entry.revision,
                                value: entry.value,
                            },
                        );
                    }
                    self.inject(i, ClusterInput::ClaimConflict { claim });
                }
            }
            ClusterAction::Release { key, revision } => {
                let holds = self
                    .store
                    .get(&key)
                    .is_some_and(|e| e.revision == revision && e.value.is_some());
                if self.is_connected(i) && holds {
                    self.change(key.clone(), None);
                    self.notify(&key);
                }
            }
        }
    }

    fn publish(&mut self, from: usize, to: Destination, bytes: Vec<u8>) {
        if !self.is_connected(from) {
            return;
        }
        for link in self.links.iter_mut().filter(|l| l.connected) {
            let addressed = match &to {
                Destination::All => true,
                Destination::Node(n) => *n == link.node,
            };
            if addressed {
                link.inbox.push_back(ClusterInput::Message(bytes.clone()));
            }
        }
        self.log.push(Published { from, to, bytes });
    }

    /// Writes `value` under `key` at the next revision; returns the revision.
    fn change(&mut self, key: String, value: Option<Vec<u8>>) -> u64 {
        self.revision += 1;
        let revision = self.revision;
        self.store.insert(key, StoreEntry { revision, value });
        revision
    }

    /// Delivers the latest state of `key` to every connected node's watch.
    fn notify(&mut self, key: &str) {
        let Some(entry) = self.store.get(key) else {
            return;
        };
        for link in self.links.iter_mut().filter(|l| l.connected) {
            link.inbox.push_back(ClusterInput::Presence {
                key: String::from(key),
                revision: entry.revision,
                value: entry.value.clone(),
            });
        }
    }
}
