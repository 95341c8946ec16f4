//! The bytes of the cluster: bus messages and presence entries, each authenticated with a
//! key derived from the [`ClusterKey`].
//!
//! A bus message: `version (1) | kind | sender node | addressee node (empty: everyone) |
//! addressee incarnation u64 (0: everyone) | incarnation u64 | sequence u64 | unix time in
//! ms u64 | body | HMAC-SHA256 tag (32)`: naming the addressee's run means a message for a
//! node's previous run is never taken by its next.
//! A presence entry: `version (1) | node | incarnation u64 | session u64 | replaces u64 |
//! key (32) | tag (32)`, the tag also covering the store key, so an entry cannot be copied
//! to another name; `replaces` is the store revision the claim overwrote (0: created), so
//! an old entry put back later cannot pass for a claim over the current one. Node ids are one-byte length-prefixed. The tag is checked, in constant time,
//! before anything else is parsed.

use alloc::string::String;
use alloc::vec::Vec;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::config::{ClusterKey, MAX_NODE_ID_LEN, NodeId};
use crate::codec::{DecodeError, EncodeError, Reader, put_u8_prefixed};
use crate::command::{
    CommandError, GoneReason, MAX_CHAT_PAYLOAD, put_chat_payload, put_username, read_chat_payload,
    read_public_key, read_username,
};
use crate::identity::{PublicKey, Username};

const VERSION: u8 = 1;
const TAG_LEN: usize = 32;
/// The largest bus message: a full chat payload with its envelope and two usernames.
pub(crate) const MAX_BUS_MESSAGE: usize = MAX_CHAT_PAYLOAD + 256;

const BUS_LABEL: &[u8] = b"bus message";
const PRESENCE_LABEL: &[u8] = b"presence entry";

/// Why a bus message or presence entry was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BusError {
    /// Longer than any message the protocol sends.
    #[error("message too long")]
    TooLong,
    /// The tag does not verify: not made with this cluster's key, or altered.
    #[error("bad authentication tag")]
    BadTag,
    /// Authentic, but not parseable (a newer version, or a bug on the sender).
    #[error("malformed: {0}")]
    Malformed(DecodeError),
    /// Addressed to another node.
    #[error("addressed to another node")]
    NotForUs,
    /// Stamped too far from this node's clock.
    #[error("stale timestamp")]
    Stale,
    /// From an older incarnation of its sender, or a sequence number already seen.
    #[error("replayed")]
    Replayed,
    /// Sent by this node (a loop, or a copy of our own message).
    #[error("from this node")]
    FromSelf,
    /// From a node beyond the cluster's node limit.
    #[error("too many nodes")]
    TooManyNodes,
}

/// The keys of the two uses, derived once, as HMAC states already keyed: a tag then
/// hashes the message and the outer block only, not the two key blocks again. The states
/// are key material; the `zeroize` feature of `hmac` wipes them (and every copy made for
/// one tag) on drop.
#[derive(Clone)]
pub(crate) struct Keys {
    bus: Hmac<Sha256>,
    presence: Hmac<Sha256>,
}

impl Keys {
    pub(crate) fn new(key: &ClusterKey) -> Self {
        let bus = zeroize::Zeroizing::new(key.derive(BUS_LABEL));
        let presence = zeroize::Zeroizing::new(key.derive(PRESENCE_LABEL));
        Keys {
            bus: keyed(&bus),
            presence: keyed(&presence),
        }
    }
}

fn keyed(key: &[u8; 32]) -> Hmac<Sha256> {
    // HMAC takes keys of any length: new_from_slice cannot fail on 32 bytes.
    match <Hmac<Sha256> as KeyInit>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => <Hmac<Sha256> as KeyInit>::new(&Default::default()),
    }
}

fn mac(key: &Hmac<Sha256>, parts: &[&[u8]]) -> Hmac<Sha256> {
    let mut mac = key.clone();
    for part in parts {
        mac.update(part);
    }
    mac
}

/// Splits `bytes` into the authenticated part and the tag, verifying the tag.
fn verified<'a>(key: &Hmac<Sha256>, context: &[u8], bytes: &'a [u8]) -> Result<&'a [u8], BusError> {
    let split = bytes.len().checked_sub(TAG_LEN).ok_or(BusError::BadTag)?;
    let (body, tag) = bytes.split_at_checked(split).ok_or(BusError::BadTag)?;
    mac(key, &[context, body])
        .verify_slice(tag)
        .map_err(|_| BusError::BadTag)?;
    Ok(body)
}

fn seal(key: &Hmac<Sha256>, context: &[u8], mut body: Vec<u8>) -> Vec<u8> {
    let tag = mac(key, &[context, &body]).finalize().into_bytes();
    body.extend_from_slice(&tag);
    body
}

/// What one bus message says. `from` and `to` are users; the message goes to the node
/// holding `to`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum BusBody {
    /// The sender is alive (broadcast every heartbeat interval).
    Heartbeat,
    /// The sender is shutting down: its users are gone now (broadcast).
    Goodbye,
    /// `from` asks `to` to chat; `key` is `from`'s authenticated key.
    Request {
        from: Username,
        to: Username,
        key: PublicKey,
    },
    /// The verdict of `to`'s node on `from`'s request: `None` = delivered.
    RequestResult {
        from: Username,
        to: Username,
        error: Option<CommandError>,
    },
    /// `from` accepted `to`'s request; `key` is `from`'s key.
    Accepted {
        from: Username,
        to: Username,
        key: PublicKey,
    },
    /// `from` refused `to`'s request.
    Denied { from: Username, to: Username },
    /// `from` withdrew its request to `to`.
    Withdrawn { from: Username, to: Username },
    /// `from`'s request to `to` expired unanswered (said by `to`'s node).
    Expired { from: Username, to: Username },
    /// End-to-end chat data from `from` to its chat peer `to`, opaque.
    ChatData {
        from: Username,
        to: Username,
        payload: Vec<u8>,
    },
    /// `from` left its chat with `to`, for `reason`.
    Left {
        from: Username,
        to: Username,
        reason: GoneReason,
    },
}

const HEARTBEAT: u8 = 0;
const GOODBYE: u8 = 1;
const REQUEST: u8 = 2;
const REQUEST_RESULT: u8 = 3;
const ACCEPTED: u8 = 4;
const DENIED: u8 = 5;
const WITHDRAWN: u8 = 6;
const EXPIRED: u8 = 7;
const CHAT_DATA: u8 = 8;
const LEFT: u8 = 9;

impl BusBody {
    fn kind(&self) -> u8 {
        match self {
            BusBody::Heartbeat => HEARTBEAT,
            BusBody::Goodbye => GOODBYE,
            BusBody::Request { .. } => REQUEST,
            BusBody::RequestResult { .. } => REQUEST_RESULT,
            BusBody::Accepted { .. } => ACCEPTED,
            BusBody::Denied { .. } => DENIED,
            BusBody::Withdrawn { .. } => WITHDRAWN,
            BusBody::Expired { .. } => EXPIRED,
            BusBody::ChatData { .. } => CHAT_DATA,
            BusBody::Left { .. } => LEFT,
        }
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            BusBody::Heartbeat | BusBody::Goodbye => {}
            BusBody::Request { from, to, key } | BusBody::Accepted { from, to, key } => {
                put_username(out, from)?;
                put_username(out, to)?;
                out.extend_from_slice(key.as_bytes());
            }
            BusBody::RequestResult { from, to, error } => {
                put_username(out, from)?;
                put_username(out, to)?;
                out.push(error.map_or(0, |e| e.0));
            }
            BusBody::Denied { from, to }
            | BusBody::Withdrawn { from, to }
            | BusBody::Expired { from, to } => {
                put_username(out, from)?;
                put_username(out, to)?;
            }
            BusBody::ChatData { from, to, payload } => {
                put_username(out, from)?;
                put_username(out, to)?;
                put_chat_payload(out, payload)?;
            }
            BusBody::Left { from, to, reason } => {
                put_username(out, from)?;
                put_username(out, to)?;
                out.push(reason.0);
            }
        }
        Ok(())
    }

    fn read(kind: u8, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match kind {
            HEARTBEAT => BusBody::Heartbeat,
            GOODBYE => BusBody::Goodbye,
            REQUEST => BusBody::Request {
                from: read_username(r)?,
                to: read_username(r)?,
                key: read_public_key(r)?,
            },
            REQUEST_RESULT => BusBody::RequestResult {
                from: read_username(r)?,
                to: read_username(r)?,
                error: match r.u8()? {
                    0 => None,
                    code => Some(CommandError(code)),
                },
            },
            ACCEPTED => BusBody::Accepted {
                from: read_username(r)?,
                to: read_username(r)?,
                key: read_public_key(r)?,
            },
            DENIED => BusBody::Denied {
                from: read_username(r)?,
                to: read_username(r)?,
            },
            WITHDRAWN => BusBody::Withdrawn {
                from: read_username(r)?,
                to: read_username(r)?,
            },
            EXPIRED => BusBody::Expired {
                from: read_username(r)?,
                to: read_username(r)?,
            },
            CHAT_DATA => BusBody::ChatData {
                from: read_username(r)?,
                to: read_username(r)?,
                payload: read_chat_payload(r)?,
            },
            LEFT => BusBody::Left {
                from: read_username(r)?,
                to: read_username(r)?,
                reason: GoneReason(r.u8()?),
            },
            code => {
                return Err(DecodeError::UnknownType {
                    what: "bus message",
                    code,
                });
            }
        })
    }
}

/// A bus message with its envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Envelope {
    pub(crate) from: NodeId,
    /// `None`: for every node.
    pub(crate) to: Option<NodeId>,
    /// The addressee's run (its incarnation) the sender knows; 0 for every node.
    pub(crate) to_incarnation: u64,
    pub(crate) incarnation: u64,
    pub(crate) seq: u64,
    pub(crate) unix_ms: u64,
    pub(crate) body: BusBody,
}

impl Envelope {
    /// The authenticated bytes of this message.
    pub(crate) fn seal(&self, keys: &Keys) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::with_capacity(64);
        out.push(VERSION);
        out.push(self.body.kind());
        put_u8_prefixed(
            &mut out,
            "node id",
            self.from.as_str().as_bytes(),
            1,
            MAX_NODE_ID_LEN,
        )?;
        let to = self.to.as_ref().map_or("", NodeId::as_str);
        put_u8_prefixed(&mut out, "node id", to.as_bytes(), 0, MAX_NODE_ID_LEN)?;
        out.extend_from_slice(&self.to_incarnation.to_be_bytes());
        out.extend_from_slice(&self.incarnation.to_be_bytes());
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&self.unix_ms.to_be_bytes());
        self.body.encode(&mut out)?;
        Ok(seal(&keys.bus, b"", out))
    }

    /// Verifies and parses a message. Only the tag is checked here; freshness and order
    /// are the receiver's ([`super::Nodes::admit`]).
    pub(crate) fn open(keys: &Keys, bytes: &[u8]) -> Result<Self, BusError> {
        if bytes.len() > MAX_BUS_MESSAGE {
            return Err(BusError::TooLong);
        }
        let body = verified(&keys.bus, b"", bytes)?;
        Self::parse(body).map_err(BusError::Malformed)
    }

    fn parse(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        if r.u8()? != VERSION {
            return Err(DecodeError::InvalidValue("bus message version"));
        }
        let kind = r.u8()?;
        let from = read_node(&mut r)?;
        let to = r.u8_prefixed("node id", 0, MAX_NODE_ID_LEN)?;
        let to = if to.is_empty() {
            None
        } else {
            Some(NodeId::from_bytes(to).map_err(|_| DecodeError::InvalidValue("node id"))?)
        };
        let to_incarnation = r.u64()?;
        let incarnation = r.u64()?;
        let seq = r.u64()?;
        let unix_ms = r.u64()?;
        let body = BusBody::read(kind, &mut r)?;
        r.expect_empty()?;
        Ok(Envelope {
            from,
            to,
            to_incarnation,
            incarnation,
            seq,
            unix_ms,
            body,
        })
    }
}

fn read_node(r: &mut Reader<'_>) -> Result<NodeId, DecodeError> {
    let raw = r.u8_prefixed("node id", 1, MAX_NODE_ID_LEN)?;
    NodeId::from_bytes(raw).map_err(|_| DecodeError::InvalidValue("node id"))
}

/// One presence entry: `user` (named by the store key) is online on `node`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PresenceRecord {
    pub(crate) node: NodeId,
    pub(crate) incarnation: u64,
    /// The connection id on that node: tells one session of a user from the next.
    pub(crate) session: u64,
    /// The store revision this claim overwrote (0: it created the entry).
    pub(crate) replaces: u64,
    pub(crate) key: PublicKey,
}

impl PresenceRecord {
    pub(crate) fn seal(&self, keys: &Keys, store_key: &str) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::with_capacity(128);
        out.push(VERSION);
        put_u8_prefixed(
            &mut out,
            "node id",
            self.node.as_str().as_bytes(),
            1,
            MAX_NODE_ID_LEN,
        )?;
        out.extend_from_slice(&self.incarnation.to_be_bytes());
        out.extend_from_slice(&self.session.to_be_bytes());
        out.extend_from_slice(&self.replaces.to_be_bytes());
        out.extend_from_slice(self.key.as_bytes());
        Ok(seal(&keys.presence, store_key.as_bytes(), out))
    }

    pub(crate) fn open(keys: &Keys, store_key: &str, bytes: &[u8]) -> Result<Self, BusError> {
        if bytes.len() > 256 {
            return Err(BusError::TooLong);
        }
        let body = verified(&keys.presence, store_key.as_bytes(), bytes)?;
        let parse = |bytes: &[u8]| -> Result<Self, DecodeError> {
            let mut r = Reader::new(bytes);
            if r.u8()? != VERSION {
                return Err(DecodeError::InvalidValue("presence version"));
            }
            let record = PresenceRecord {
                node: read_node(&mut r)?,
                incarnation: r.u64()?,
                session: r.u64()?,
                replaces: r.u64()?,
                key: read_public_key(&mut r)?,
            };
            r.expect_empty()?;
            Ok(record)
        };
        parse(body).map_err(BusError::Malformed)
    }
}

/// The presence store's key for `user`: `u.` and the name in lowercase hex (usernames may
/// hold characters, like a final `.`, that store keys may not).
pub(crate) fn presence_key(user: &Username) -> String {
    let mut key = String::from("u.");
    for b in user.as_str().bytes() {
        key.push(hex_digit(b >> 4));
        key.push(hex_digit(b & 0x0f));
    }
    key
}

fn hex_digit(v: u8) -> char {
    char::from_digit(u32::from(v), 16).unwrap_or('0')
}

/// The user a presence store key names, if it is one of ours.
pub(crate) fn user_of_key(key: &str) -> Option<Username> {
    let hex = key.strip_prefix("u.")?.as_bytes();
    if hex.len() % 2 != 0 {
        return None;
    }
    let mut name = Vec::with_capacity(hex.len() / 2);
    for pair in hex.chunks_exact(2) {
        let (hi, lo) = (pair.first()?, pair.get(1)?);
        let hi = char::from(*hi).to_digit(16)?;
        let lo = char::from(*lo).to_digit(16)?;
        name.push(u8::try_from(hi * 16 + lo).ok()?);
    }
    let user = Username::from_bytes(&name).ok()?;
    // One key per user: refuse other spellings (upper-case hex) of the same name.
    (presence_key(&user) == key).then_some(user)
}
