//! Server-initiated messages, carried on the request channel.

use alloc::vec::Vec;

use super::{put_chat_payload, put_username, read_chat_payload, read_public_key, read_username};
use crate::codec::{Codec, DecodeError, Reader};
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
    /// The chat peer left the chat or disconnected.
    PeerLeft {
        /// Who left.
        peer: Username,
    },
}

const INCOMING_REQUEST: u8 = 0x01;
const REQUEST_WITHDRAWN: u8 = 0x02;
const REQUEST_EXPIRED: u8 = 0x03;
const REQUEST_ACCEPTED: u8 = 0x04;
const REQUEST_DENIED: u8 = 0x05;
const CHAT_DATA: u8 = 0x06;
const PEER_LEFT: u8 = 0x07;

impl Codec for Notice {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Notice::IncomingRequest { from, key } => {
                out.push(INCOMING_REQUEST);
                put_username(out, from);
                out.extend_from_slice(key.as_bytes());
            }
            Notice::RequestWithdrawn { from } => {
                out.push(REQUEST_WITHDRAWN);
                put_username(out, from);
            }
            Notice::RequestExpired { peer } => {
                out.push(REQUEST_EXPIRED);
                put_username(out, peer);
            }
            Notice::RequestAccepted { peer, key } => {
                out.push(REQUEST_ACCEPTED);
                put_username(out, peer);
                out.extend_from_slice(key.as_bytes());
            }
            Notice::RequestDenied { peer } => {
                out.push(REQUEST_DENIED);
                put_username(out, peer);
            }
            Notice::ChatData(payload) => {
                out.push(CHAT_DATA);
                put_chat_payload(out, payload);
            }
            Notice::PeerLeft { peer } => {
                out.push(PEER_LEFT);
                put_username(out, peer);
            }
        }
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
