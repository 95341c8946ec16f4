//! Hostile bus input, for the `cluster` and `node` targets: messages and presence entries
//! authenticated with the cluster key (as a compromised node, or a bug on one, would send
//! them) but with fields the input chooses, replays, and claim results for arbitrary
//! claims.

use alloc::string::String;
use alloc::vec::Vec;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::input::{Input, username};
use crate::cluster::{
    BusBody, ClaimId, ClusterAction, ClusterConfig, ClusterInput, ClusterKey, Envelope, Keys,
    NodeId, PresenceRecord, presence_key,
};
use crate::command::{CommandError, GoneReason};
use crate::identity::PublicKey;
use crate::testkit::bus::Bus;
use crate::testkit::fixtures;
use crate::time::Instant;

/// The key the nodes share.
const CLUSTER_KEY: [u8; 32] = [0x17; 32];
/// The wall clock at virtual time zero (when the fixtures are valid).
const EPOCH_MS: u64 = 1_768_435_200_000;
/// Claimed presence entries remembered per input.
const MAX_ENTRIES: usize = 64;

/// The wall clock at virtual time `now`, in milliseconds since the Unix epoch.
pub(super) fn unix_ms(now: Instant) -> u64 {
    let ms = u64::try_from(now.as_duration().as_millis()).unwrap_or(u64::MAX);
    EPOCH_MS.saturating_add(ms)
}

/// A target's bus, its cluster key, and what hostile input remembers of it.
#[derive(Clone)]
pub(super) struct BusSide {
    pub(super) bus: Bus,
    pub(super) key: ClusterKey,
    pub(super) keys: Keys,
    /// Every presence entry a node claimed with (store key, value), for putting old ones
    /// back into the store.
    entries: Vec<(String, Vec<u8>)>,
    /// Sequence numbers of forged messages: above anything honest, increasing.
    forged_seq: u64,
}

impl BusSide {
    pub(super) fn new() -> Self {
        let key = ClusterKey::from_bytes(CLUSTER_KEY);
        BusSide {
            bus: Bus::new(),
            keys: Keys::new(&key),
            key,
            entries: Vec::new(),
            forged_seq: 1 << 40,
        }
    }

    /// The configuration of node `id`: the shared key, and small bounds, so that hostile
    /// input reaches them.
    pub(super) fn node_config(&self, id: NodeId) -> ClusterConfig {
        let mut cluster = ClusterConfig::new(id, self.key.clone());
        cluster.max_nodes = 4;
        cluster.max_remote_users = 8;
        cluster
    }

    /// Carries out node `n`'s `action` on the bus, remembering what a claim wrote.
    pub(super) fn perform(&mut self, n: usize, action: ClusterAction) {
        if let ClusterAction::Claim { key, value, .. } = &action
            && self.entries.len() < MAX_ENTRIES
        {
            self.entries.push((key.clone(), value.clone()));
        }
        self.bus.perform(n, action);
    }

    fn next_forged_seq(&mut self) -> u64 {
        self.forged_seq += 1;
        self.forged_seq
    }
}

/// What hostile bus input needs of a target's cluster besides its [`BusSide`]: the nodes
/// and where input for them goes.
pub(super) trait Cluster {
    fn side(&self) -> &BusSide;
    fn side_mut(&mut self) -> &mut BusSide;
    /// The wall clock now ([`unix_ms`]).
    fn wall_ms(&self) -> u64;
    /// How many nodes are under test: nodes `0..targets()`, which the input sends to.
    fn targets(&self) -> usize;
    /// How many nodes the cluster has, those under test first.
    fn node_count(&self) -> usize;
    /// Node `i`'s id and incarnation.
    fn node(&self, i: usize) -> Option<(&NodeId, u64)>;
    /// The connections of node `id`, if it is under test.
    fn sessions(&self, id: &NodeId) -> Vec<u64>;
    /// Hands `input` to node under test `n` now, or (`later`) queues it among the bus's
    /// deliveries.
    fn send(&mut self, n: usize, later: bool, input: ClusterInput);
}

/// The node under test the input byte `b` names.
fn target(h: &impl Cluster, b: u8) -> usize {
    usize::from(b) % h.targets().max(1)
}

fn node_id_of(h: &impl Cluster, i: usize) -> Option<NodeId> {
    h.node(i).map(|(id, _)| id.clone())
}

/// The derivation labels of `cluster/wire.rs`, so that arbitrary bodies can carry a valid
/// tag (the core seals only what it can encode).
const BUS_LABEL: &[u8] = b"bus message";
const PRESENCE_LABEL: &[u8] = b"presence entry";

fn u64_of(input: &mut Input<'_>) -> u64 {
    let mut b = [0u8; 8];
    for (d, s) in b.iter_mut().zip(input.bytes(8)) {
        *d = *s;
    }
    u64::from_be_bytes(b)
}

/// `body` followed by its HMAC-SHA256 tag under `label`'s key, over `context` and `body`.
fn authenticate(h: &impl Cluster, label: &[u8], context: &[u8], mut body: Vec<u8>) -> Vec<u8> {
    let key = h.side().key.derive(label);
    if let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(&key) {
        mac.update(context);
        mac.update(&body);
        body.extend_from_slice(&mac.finalize().into_bytes());
    }
    body
}

/// A node id: one of the cluster's, a stranger's, or arbitrary bytes that are a valid id.
fn node_id(h: &impl Cluster, input: &mut Input<'_>) -> NodeId {
    let b = input.u8();
    let ours = |i: usize| node_id_of(h, i % h.node_count().max(1));
    let id = match b >> 6 {
        0 | 1 => ours(usize::from(b)),
        2 => NodeId::new(match b & 3 {
            0 => "n4",
            1 => "n5",
            2 => "x",
            _ => "n1-old",
        })
        .ok(),
        _ => NodeId::from_bytes(input.bytes(usize::from(b & 0x1f) + 1)).ok(),
    };
    id.or_else(|| ours(0))
        .or_else(|| NodeId::new("n1").ok())
        .unwrap_or_else(|| panic!("n1 is a node id"))
}

/// The incarnation of `node` as its relay runs it, or 0 for a stranger, edited.
fn incarnation(h: &impl Cluster, node: &NodeId, how: u8, input: &mut Input<'_>) -> u64 {
    let known = incarnation_of(h, node);
    match how & 3 {
        0 => known,
        1 => known.saturating_add(1 + u64::from(input.u8())),
        2 => known.saturating_sub(1 + u64::from(input.u8())),
        _ => u64_of(input),
    }
}

/// A key: mostly a fixture user's registered one, else arbitrary bytes that are a key.
fn any_key(input: &mut Input<'_>) -> PublicKey {
    let b = input.u8();
    if b >= 0xf0 {
        let mut raw = [0u8; 32];
        for (d, s) in raw.iter_mut().zip(input.bytes(32)) {
            *d = *s;
        }
        if let Ok(k) = PublicKey::from_bytes(&raw) {
            return k;
        }
    }
    fixtures::get().user(usize::from(b)).me().1
}

/// The incarnation of `node`, or 0 for a stranger.
fn incarnation_of(h: &impl Cluster, node: &NodeId) -> u64 {
    (0..h.node_count())
        .filter_map(|i| h.node(i))
        .find(|(id, _)| *id == node)
        .map_or(0, |(_, incarnation)| incarnation)
}

/// A bus body of any kind with fuzzed names, keys, payloads and codes.
pub(super) fn body(input: &mut Input<'_>) -> BusBody {
    let kind = input.u8() % 10;
    if kind < 2 {
        return if kind == 0 {
            BusBody::Heartbeat
        } else {
            BusBody::Goodbye
        };
    }
    let from = username(input);
    let to = username(input);
    match kind {
        2 => BusBody::Request {
            from,
            to,
            key: any_key(input),
        },
        3 => BusBody::RequestResult {
            from,
            to,
            error: match input.u8() {
                0 => None,
                code => Some(CommandError(code)),
            },
        },
        4 => BusBody::Accepted {
            from,
            to,
            key: any_key(input),
        },
        5 => BusBody::Denied { from, to },
        6 => BusBody::Withdrawn { from, to },
        7 => BusBody::Expired { from, to },
        8 => {
            let len = usize::from(input.u8()) + 1;
            let mut payload = input.bytes(len).to_vec();
            payload.resize(len, 0x5a);
            BusBody::ChatData { from, to, payload }
        }
        _ => BusBody::Left {
            from,
            to,
            reason: GoneReason(input.u8()),
        },
    }
}

/// A bus message authenticated with the cluster key: a well-formed envelope with fuzzed
/// fields and body, or an arbitrary body (after a valid version and kind, or not).
pub(super) fn forge(h: &mut impl Cluster, input: &mut Input<'_>) {
    let n = target(h, input.u8());
    let mode = input.u8();
    let later = mode & 0x80 != 0;
    let bytes = match mode % 4 {
        0 | 1 => {
            let flags = input.u8();
            let from = node_id(h, input);
            let to = match flags & 3 {
                0 => None,
                1 => Some(node_id(h, input)),
                _ => node_id_of(h, n),
            };
            // The addressee's run as the sender would name it, or another.
            let how = input.u8();
            let to_incarnation = match (&to, how >> 6) {
                (_, 1) => u64::from(how),
                (_, 2) => u64_of(input),
                (Some(to), _) => incarnation(h, &to.clone(), how, input),
                (None, _) => 0,
            };
            let incarnation = incarnation(h, &from, flags >> 2, input);
            let seq = match (flags >> 4) & 3 {
                0 => h.side_mut().next_forged_seq(),
                1 => u64::from(input.u8()),
                2 => u64::MAX,
                _ => u64_of(input),
            };
            let wall = h.wall_ms();
            let unix_ms = match flags >> 6 {
                0 => wall,
                1 => {
                    let b = input.u8();
                    let off = u64::from(b & 0x7f) * 1_000;
                    if b & 0x80 == 0 {
                        wall.saturating_add(off)
                    } else {
                        wall.saturating_sub(off)
                    }
                }
                2 => 0,
                _ => u64_of(input),
            };
            let env = Envelope {
                from,
                to,
                to_incarnation,
                incarnation,
                seq,
                unix_ms,
                body: body(input),
            };
            match env.seal(&h.side().keys) {
                Ok(bytes) => bytes,
                Err(_) => return,
            }
        }
        2 => {
            // A valid header, then arbitrary bytes: the body parsers of every kind.
            let kind = input.u8() % 12;
            let from = node_id(h, input);
            let (to, to_incarnation) = h
                .node(n)
                .map_or(("", 0), |(id, incarnation)| (id.as_str(), incarnation));
            let mut raw = Vec::with_capacity(64);
            raw.extend_from_slice(&[1, kind]);
            raw.push(u8::try_from(from.as_str().len()).unwrap_or(0));
            raw.extend_from_slice(from.as_str().as_bytes());
            raw.push(u8::try_from(to.len()).unwrap_or(0));
            raw.extend_from_slice(to.as_bytes());
            raw.extend_from_slice(&to_incarnation.to_be_bytes());
            let inc = incarnation_of(h, &from);
            raw.extend_from_slice(&inc.to_be_bytes());
            let seq = h.side_mut().next_forged_seq();
            raw.extend_from_slice(&seq.to_be_bytes());
            raw.extend_from_slice(&h.wall_ms().to_be_bytes());
            let len = usize::from(input.u8());
            raw.extend_from_slice(input.bytes(len));
            authenticate(h, BUS_LABEL, b"", raw)
        }
        _ => {
            let len = usize::from(input.u8());
            let raw = input.bytes(len).to_vec();
            authenticate(h, BUS_LABEL, b"", raw)
        }
    };
    h.send(n, later, ClusterInput::Message(bytes));
}

/// A presence change with a fuzzed store key, revision and value: none, raw bytes, a
/// record sealed with fuzzed fields (possibly for another key), or arbitrary authenticated
/// bytes.
pub(super) fn presence(h: &mut impl Cluster, input: &mut Input<'_>) {
    let n = target(h, input.u8());
    let mode = input.u8();
    if mode & 0x40 != 0 {
        // Another client of the store puts a genuine entry claimed earlier back (under
        // its own key, or another's), at a new revision every watch sees.
        let pick = usize::from(input.u8());
        let Some((key, value)) = h
            .side()
            .entries
            .get(pick % h.side().entries.len().max(1))
            .cloned()
        else {
            return;
        };
        let key = if mode & 1 == 0 {
            key
        } else {
            presence_key(&username(input))
        };
        h.side_mut().bus.put_raw(&key, value);
        return;
    }
    let user = username(input);
    let key = match mode & 3 {
        0 | 1 => presence_key(&user),
        2 => presence_key(&user).to_uppercase(),
        _ => {
            let len = usize::from(input.u8() % 40);
            String::from_utf8_lossy(input.bytes(len)).into_owned()
        }
    };
    let current = h.side().bus.entry(&key).map_or(0, |e| e.revision);
    let revision = match (mode >> 2) & 3 {
        0 => current.saturating_add(u64::from(input.u8())),
        1 => current.saturating_sub(u64::from(input.u8())),
        2 => u64::from(input.u8()),
        _ => u64_of(input),
    };
    let value = match (mode >> 4) & 3 {
        0 => None,
        1 => {
            let len = usize::from(input.u8());
            Some(input.bytes(len).to_vec())
        }
        2 => {
            let node = node_id(h, input);
            let how = input.u8();
            let incarnation = incarnation(h, &node, how, input);
            // A session of that node, or any number.
            let pick = input.u8();
            let ids = h.sessions(&node);
            let session = match ids.get(usize::from(pick) % ids.len().max(1)) {
                Some(id) if pick & 0x80 == 0 => *id,
                _ => u64_of(input),
            };
            // The revision the claim overwrote: the store's current one, none, or any.
            let replaces = match input.u8() >> 6 {
                0 => h.side().bus.entry(&key).map_or(0, |e| e.revision),
                1 => 0,
                2 => revision.saturating_sub(1),
                _ => u64_of(input),
            };
            let record = PresenceRecord {
                node,
                incarnation,
                session,
                replaces,
                key: any_key(input),
            };
            // Sealed for this key, or copied from another user's entry.
            let store_key = if how & 0x80 == 0 {
                key.clone()
            } else {
                presence_key(&username(input))
            };
            record.seal(&h.side().keys, &store_key).ok()
        }
        _ => {
            let len = usize::from(input.u8());
            let raw = input.bytes(len).to_vec();
            Some(authenticate(h, PRESENCE_LABEL, key.as_bytes(), raw))
        }
    };
    let later = mode & 0x80 != 0;
    h.send(
        n,
        later,
        ClusterInput::Presence {
            key,
            revision,
            value,
        },
    );
}

/// `Claimed`, `ClaimConflict` or `ClaimFailed` for a connection of the node, or any claim.
pub(super) fn claim(h: &mut impl Cluster, input: &mut Input<'_>) {
    let n = target(h, input.u8());
    let b = input.u8();
    let pick = input.u8();
    let ids = node_id_of(h, n).map_or_else(Vec::new, |id| h.sessions(&id));
    let claim = match ids.get(usize::from(pick) % ids.len().max(1)) {
        Some(id) if b & 0x80 == 0 => ClaimId(*id),
        _ => ClaimId(u64_of(input)),
    };
    let result = match b % 3 {
        0 => {
            let revision = match (b >> 2) & 3 {
                0 | 1 => u64::from(input.u8()),
                2 => 0,
                _ => u64_of(input),
            };
            ClusterInput::Claimed { claim, revision }
        }
        1 => ClusterInput::ClaimConflict { claim },
        _ => ClusterInput::ClaimFailed { claim },
    };
    h.send(n, b & 0x40 != 0, result);
}

/// A message the bus carried earlier, to any node: as it was, or sealed afresh with a new
/// sequence number and time (a node replaying it), possibly from another sender.
pub(super) fn replay(h: &mut impl Cluster, input: &mut Input<'_>) {
    let n = target(h, input.u8());
    let k = usize::from(input.u16());
    let mode = input.u8();
    let log = &h.side().bus.log;
    let Some(bytes) = log.get(k % log.len().max(1)).map(|p| p.bytes.clone()) else {
        return;
    };
    let bytes = match mode % 3 {
        0 => bytes,
        how => {
            let Ok(mut env) = Envelope::open(&h.side().keys, &bytes) else {
                return;
            };
            env.seq = h.side_mut().next_forged_seq();
            env.unix_ms = h.wall_ms();
            if mode & 4 != 0 {
                env.to = node_id_of(h, n);
                env.to_incarnation = h.node(n).map_or(0, |(_, incarnation)| incarnation);
            }
            if how == 2 {
                env.from = node_id(h, input);
                env.incarnation = incarnation(h, &env.from.clone(), mode >> 3, input);
            }
            match env.seal(&h.side().keys) {
                Ok(bytes) => bytes,
                Err(_) => return,
            }
        }
    };
    h.send(n, mode & 0x80 != 0, ClusterInput::Message(bytes));
}
