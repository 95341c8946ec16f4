//! Server-initiated messages, carried on the request channel.

use alloc::vec::Vec;

use super::{put_chat_payload, put_username, read_chat_payload, read_public_key, read_username};
use crate::codec::{Codec, DecodeError, EncodeError, Reader};
use crate::identity::{PublicKey, Username};

/// What the server tells a client without being asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// `from` asks to chat; `key` is the public key the server has registered for them.
    IncomingRequest {
        /// The asker.
        from: Username,
        /// The asker's registered key.
        key: PublicKey,
    },
    /// The asker withdrew the request or went offline.
    RequestWithdrawn {
        /// The asker.
        from: Username,
    },
    /// A request between us and `peer` expired unanswered.
    RequestExpired {
        /// The other user.
        peer: Username,
    },
    /// `peer` accepted our request; `key` is their registered key. The chat is open at the
    /// relay: start the end-to-end handshake.
    RequestAccepted {
        /// Who accepted.
        peer: Username,
        /// Their registered key.
        key: PublicKey,
    },
    /// `peer` refused our request (or refused automatically, being busy).
    RequestDenied {
        /// Who refused.
        peer: Username,
    },
    /// Opaque end-to-end bytes from the chat peer.
    ChatData(Vec<u8>),
    /// The chat peer left the chat or went offline.
    PeerLeft {
        /// Who left.
        peer: Username,
        /// Why, as the relay saw it.
        reason: GoneReason,
    },
}

/// Why a chat peer is gone, as the relay tells the partner (a wire code, so unknown values
/// from a newer relay still decode and print).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct GoneReason(pub u8);

impl GoneReason {
    /// The peer left the chat and stays online.
    pub const LEFT: GoneReason = GoneReason(0x00);
    /// The peer left the server.
    pub const EXITED: GoneReason = GoneReason(0x01);
    /// The peer's connection ended without a goodbye.
    pub const DISCONNECTED: GoneReason = GoneReason(0x02);
    /// The peer was silent for longer than the relay's idle timeout.
    pub const IDLE: GoneReason = GoneReason(0x03);
    /// A newer login with the peer's identity replaced their session.
    pub const REPLACED: GoneReason = GoneReason(0x04);
    /// The peer stopped reading (or fell too far behind), so the relay dropped them.
    pub const STALLED: GoneReason = GoneReason(0x05);
    /// The peer broke the protocol.
    pub const PROTOCOL_ERROR: GoneReason = GoneReason(0x06);
    /// The server is shutting down.
    pub const SHUTDOWN: GoneReason = GoneReason(0x07);
    /// The peer is on another relay node that this one can no longer reach (the cluster's
    /// bus is down).
    pub const UNREACHABLE: GoneReason = GoneReason(0x08);
    /// The peer's key was revoked by the server (no longer registered).
    pub const REVOKED: GoneReason = GoneReason(0x09);
}

impl core::fmt::Debug for GoneReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let name = match *self {
            Self::LEFT => "Left",
            Self::EXITED => "Exited",
            Self::DISCONNECTED => "Disconnected",
            Self::IDLE => "Idle",
            Self::REPLACED => "Replaced",
            Self::STALLED => "Stalled",
            Self::PROTOCOL_ERROR => "ProtocolError",
            Self::SHUTDOWN => "Shutdown",
            Self::UNREACHABLE => "Unreachable",
            Self::REVOKED => "Revoked",
            GoneReason(other) => return write!(f, "GoneReason(0x{other:02x})"),
        };
        f.write_str(name)
    }
}

const INCOMING_REQUEST: u8 = 0x01;
const REQUEST_WITHDRAWN: u8 = 0x02;
const REQUEST_EXPIRED: u8 = 0x03;
const REQUEST_ACCEPTED: u8 = 0x04;
const REQUEST_DENIED: u8 = 0x05;
const CHAT_DATA: u8 = 0x06;
const PEER_LEFT: u8 = 0x07;

impl Codec for Notice {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            Notice::IncomingRequest { from, key } => {
                out.push(INCOMING_REQUEST);
                put_username(out, from)?;
                out.extend_from_slice(key.as_bytes());
            }
            Notice::RequestWithdrawn { from } => {
                out.push(REQUEST_WITHDRAWN);
                put_username(out, from)?;
            }
            Notice::RequestExpired { peer } => {
                out.push(REQUEST_EXPIRED);
                put_username(out, peer)?;
            }
            Notice::RequestAccepted { peer, key } => {
                out.push(REQUEST_ACCEPTED);
                put_username(out, peer)?;
                out.extend_from_slice(key.as_bytes());
            }
            Notice::RequestDenied { peer } => {
                out.push(REQUEST_DENIED);
                put_username(out, peer)?;
            }
            Notice::ChatData(payload) => {
                out.push(CHAT_DATA);
                put_chat_payload(out, payload)?;
            }
            Notice::PeerLeft { peer, reason } => {
                out.push(PEER_LEFT);
                put_username(out, peer)?;
                out.push(reason.0);
            }
        }
        Ok(())
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match r.u8()? {
            INCOMING_REQUEST => Notice::IncomingRequest {
                from: read_username(r)?,
                key: read_public_key(r)?,
            },
            REQUEST_WITHDRAWN => Notice::RequestWithdrawn {
                from: read_username(r)?,
            },
            REQUEST_EXPIRED => Notice::RequestExpired {
                peer: read_username(r)?,
            },
            REQUEST_ACCEPTED => Notice::RequestAccepted {
                peer: read_username(r)?,
                key: read_public_key(r)?,
            },
            REQUEST_DENIED => Notice::RequestDenied {
                peer: read_username(r)?,
            },
            CHAT_DATA => Notice::ChatData(read_chat_payload(r)?),
            PEER_LEFT => Notice::PeerLeft {
                peer: read_username(r)?,
                reason: GoneReason(r.u8()?),
            },
            code => {
                return Err(DecodeError::UnknownType {
                    what: "notice",
                    code,
                });
            }
        })
    }
}
