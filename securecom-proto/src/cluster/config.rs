//! A node's identity in the cluster, the key the nodes share, and the cluster's bounds.

use alloc::string::String;
use core::fmt;
use core::time::Duration;

use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// The longest node id.
pub const MAX_NODE_ID_LEN: usize = 32;

/// A relay node's name in the cluster: 1 to 32 characters from `a-z A-Z 0-9 _ -`, starting
/// with a letter or digit (it is a NATS subject token, so no dots or wildcards).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(String);

/// Why a node id was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a node id is 1 to 32 characters from a-z A-Z 0-9 _ -, starting with a letter or digit")]
pub struct NodeIdError;

impl NodeId {
    /// Checks and wraps `name`.
    ///
    /// ```
    /// use securecom_proto::cluster::NodeId;
    /// assert!(NodeId::new("n1").is_ok());
    /// assert!(NodeId::new("a.b").is_err());
    /// ```
    pub fn new(name: &str) -> Result<Self, NodeIdError> {
        Self::from_bytes(name.as_bytes())
    }

    pub(crate) fn from_bytes(bytes: &[u8]) -> Result<Self, NodeIdError> {
        let first = bytes.first().ok_or(NodeIdError)?;
        if bytes.len() > MAX_NODE_ID_LEN
            || !first.is_ascii_alphanumeric()
            || !bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
        {
            return Err(NodeIdError);
        }
        core::str::from_utf8(bytes)
            .map(|s| NodeId(String::from(s)))
            .map_err(|_| NodeIdError)
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The secret every node of one cluster shares: it authenticates each bus message and
/// each presence entry, so that another client of the bus cannot speak for a node.
/// 32 random bytes; two keys are derived from it with HKDF-SHA256, one per use.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct ClusterKey([u8; 32]);

impl ClusterKey {
    /// The key from its 32 bytes (read from the cluster key file).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        ClusterKey(bytes)
    }

    /// The key authenticating one use (`label`), derived so that a tag made for a bus
    /// message can never pass as one for a presence entry.
    pub(crate) fn derive(&self, label: &[u8]) -> [u8; 32] {
        let mut out = [0u8; 32];
        // 32 bytes is far below HKDF-SHA256's 8160-byte limit: expand cannot fail.
        let _ = Hkdf::<Sha256>::new(Some(b"securecom cluster v1"), &self.0).expand(label, &mut out);
        out
    }
}

impl fmt::Debug for ClusterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClusterKey(..)")
    }
}

/// A node's place in the cluster and the cluster's timing and bounds.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ClusterConfig {
    /// This node's id (unique in the cluster).
    pub node: NodeId,
    /// The key the nodes share.
    pub key: ClusterKey,
    /// How often the node says it is alive.
    pub heartbeat_interval: Duration,
    /// A node not heard from for this long is dead: its users are gone, their chat peers
    /// are told so, and their names may be claimed elsewhere.
    pub node_timeout: Duration,
    /// Bus messages stamped further than this from this node's clock are dropped (the
    /// bound on a replay, and on the clock difference between nodes).
    pub max_clock_skew: Duration,
    /// How long a login waits for the presence store to confirm its claim before it is
    /// refused as unavailable.
    pub claim_timeout: Duration,
    /// How long a chat request to a user on another node waits for that node's verdict
    /// before it fails as unreachable.
    pub remote_reply_timeout: Duration,
    /// Users of other nodes remembered at once (presence entries beyond are ignored).
    pub max_remote_users: usize,
    /// Other nodes tracked at once.
    pub max_nodes: usize,
}

impl ClusterConfig {
    /// Node `node` of the cluster sharing `key`, with the default bounds: heartbeat every
    /// second, a node dead after 10 s of silence, 30 s of clock skew, 5 s for claims and
    /// remote replies, 100,000 remote users, 64 nodes.
    pub fn new(node: NodeId, key: ClusterKey) -> Self {
        ClusterConfig {
            node,
            key,
            heartbeat_interval: Duration::from_secs(1),
            node_timeout: Duration::from_secs(10),
            max_clock_skew: Duration::from_secs(30),
            claim_timeout: Duration::from_secs(5),
            remote_reply_timeout: Duration::from_secs(5),
            max_remote_users: 100_000,
            max_nodes: 64,
        }
    }
}
