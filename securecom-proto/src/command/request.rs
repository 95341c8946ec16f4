//! Client to server commands.

use alloc::vec::Vec;

use super::{put_chat_payload, put_username, read_chat_payload, read_username};
use crate::codec::{Codec, DecodeError, EncodeError, Reader};
use crate::identity::Username;

/// Matches a [`super::Response`] to its request.
pub type RequestId = u32;

/// One command: an id chosen by the client, echoed in the response, and the command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The client's identifier for this command.
    pub id: RequestId,
    /// What is asked.
    pub body: RequestBody,
}

/// The commands a client can send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestBody {
    /// Who is online (with the fingerprint of each one's key)?
    ListUsers,
    /// The registered public key of a user.
    GetPublicKey(Username),
    /// Ask a user to chat.
    RequestChat(Username),
    /// Answer a pending request from a user.
    Answer {
        /// Who asked.
        from: Username,
        /// Accept (true) or refuse (false).
        accept: bool,
    },
    /// Withdraw our own pending request.
    Withdraw,
    /// Opaque end-to-end bytes for the current chat peer. Answered only on error.
    ChatData(Vec<u8>),
    /// Leave the current chat.
    LeaveChat,
    /// Leave the server.
    Exit,
    /// Keep the session alive.
    Ping,
    /// Ask the server to deliver request-channel messages over a connection it opens to
    /// `port` on our address, presenting a token derived from `nonce` and the session keys.
    RegisterCallback {
        /// The port our daemon listens on.
        port: u16,
        /// Fresh randomness the token is derived from.
        nonce: [u8; 16],
    },
}

const LIST_USERS: u8 = 0x01;
const GET_PUBLIC_KEY: u8 = 0x02;
const REQUEST_CHAT: u8 = 0x03;
const ANSWER: u8 = 0x04;
const WITHDRAW: u8 = 0x05;
const CHAT_DATA: u8 = 0x06;
const LEAVE_CHAT: u8 = 0x07;
const EXIT: u8 = 0x08;
const PING: u8 = 0x09;
const REGISTER_CALLBACK: u8 = 0x0a;

impl Codec for Request {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&self.id.to_be_bytes());
        match &self.body {
            RequestBody::ListUsers => out.push(LIST_USERS),
            RequestBody::GetPublicKey(user) => {
                out.push(GET_PUBLIC_KEY);
                put_username(out, user)?;
            }
            RequestBody::RequestChat(user) => {
                out.push(REQUEST_CHAT);
                put_username(out, user)?;
            }
            RequestBody::Answer { from, accept } => {
                out.push(ANSWER);
                put_username(out, from)?;
                out.push(u8::from(*accept));
            }
            RequestBody::Withdraw => out.push(WITHDRAW),
            RequestBody::ChatData(payload) => {
                out.push(CHAT_DATA);
                put_chat_payload(out, payload)?;
            }
            RequestBody::LeaveChat => out.push(LEAVE_CHAT),
            RequestBody::Exit => out.push(EXIT),
            RequestBody::Ping => out.push(PING),
            RequestBody::RegisterCallback { port, nonce } => {
                out.push(REGISTER_CALLBACK);
                out.extend_from_slice(&port.to_be_bytes());
                out.extend_from_slice(nonce);
            }
        }
        Ok(())
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let id = r.u32()?;
        let body = match r.u8()? {
            LIST_USERS => RequestBody::ListUsers,
            GET_PUBLIC_KEY => RequestBody::GetPublicKey(read_username(r)?),
            REQUEST_CHAT => RequestBody::RequestChat(read_username(r)?),
            ANSWER => RequestBody::Answer {
                from: read_username(r)?,
                accept: match r.u8()? {
                    0 => false,
                    1 => true,
                    _ => return Err(DecodeError::InvalidValue("answer")),
                },
            },
            WITHDRAW => RequestBody::Withdraw,
            CHAT_DATA => RequestBody::ChatData(read_chat_payload(r)?),
            LEAVE_CHAT => RequestBody::LeaveChat,
            EXIT => RequestBody::Exit,
            PING => RequestBody::Ping,
            REGISTER_CALLBACK => RequestBody::RegisterCallback {
                port: r.u16()?,
                nonce: r.take_array()?,
            },
            code => {
                return Err(DecodeError::UnknownType {
                    what: "request",
                    code,
                });
            }
        };
        Ok(Request { id, body })
    }
}
