//! Server to client answers on the standard channel.

use alloc::vec::Vec;

use super::{CommandError, put_username, read_public_key, read_username};
use crate::codec::{Codec, DecodeError, EncodeError, Reader, check_len};
use crate::identity::{Fingerprint, PublicKey, Username};

/// The most users one list carries; a larger server truncates the list (and says so).
pub const MAX_LISTED_USERS: usize = 256;

/// The answer to the request with the same id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// The id of the request answered.
    pub id: super::RequestId,
    /// The answer.
    pub body: ResponseBody,
}

/// One online user, as listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserEntry {
    /// The user's name.
    pub username: Username,
    /// The fingerprint of the key the server has registered for the user.
    pub fingerprint: Fingerprint,
}

/// The answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResponseBody {
    /// Users online (the asker included), and whether the list was cut at
    /// [`MAX_LISTED_USERS`].
    Users {
        /// The users.
        users: Vec<UserEntry>,
        /// True if more users are online than listed.
        truncated: bool,
    },
    /// A user's registered key.
    PublicKey {
        /// Whose.
        username: Username,
        /// The key.
        key: PublicKey,
    },
    /// The chat request was forwarded; the answer comes as a notice.
    RequestSent,
    /// The answer was delivered.
    Answered,
    /// Our request was withdrawn.
    Withdrawn,
    /// We left the chat.
    Left,
    /// The server is closing our session.
    Bye,
    /// Reply to a ping.
    Pong,
    /// The server will open the callback connection.
    CallbackRegistered,
    /// The command was refused.
    Error(CommandError),
}

const USERS: u8 = 0x01;
const PUBLIC_KEY: u8 = 0x02;
const REQUEST_SENT: u8 = 0x03;
const ANSWERED: u8 = 0x04;
const WITHDRAWN: u8 = 0x05;
const LEFT: u8 = 0x07;
const BYE: u8 = 0x08;
const PONG: u8 = 0x09;
const CALLBACK_REGISTERED: u8 = 0x0a;
const ERROR: u8 = 0x7f;

impl Codec for Response {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&self.id.to_be_bytes());
        match &self.body {
            ResponseBody::Users { users, truncated } => {
                check_len("user list", users.len(), 0, MAX_LISTED_USERS)?;
                let count = u16::try_from(users.len()).map_err(|_| EncodeError {
                    what: "user list",
                    len: users.len(),
                    min: 0,
                    max: MAX_LISTED_USERS,
                })?;
                out.push(USERS);
                out.push(u8::from(*truncated));
                out.extend_from_slice(&count.to_be_bytes());
                for user in users {
                    put_username(out, &user.username)?;
                    out.extend_from_slice(user.fingerprint.as_bytes());
                }
            }
            ResponseBody::PublicKey { username, key } => {
                out.push(PUBLIC_KEY);
                put_username(out, username)?;
                out.extend_from_slice(key.as_bytes());
            }
            ResponseBody::RequestSent => out.push(REQUEST_SENT),
            ResponseBody::Answered => out.push(ANSWERED),
            ResponseBody::Withdrawn => out.push(WITHDRAWN),
            ResponseBody::Left => out.push(LEFT),
            ResponseBody::Bye => out.push(BYE),
            ResponseBody::Pong => out.push(PONG),
            ResponseBody::CallbackRegistered => out.push(CALLBACK_REGISTERED),
            ResponseBody::Error(e) => {
                out.push(ERROR);
                out.push(e.0);
            }
        }
        Ok(())
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let id = r.u32()?;
        let body = match r.u8()? {
            USERS => {
                let truncated = match r.u8()? {
                    0 => false,
                    1 => true,
                    _ => return Err(DecodeError::InvalidValue("truncated flag")),
                };
                let count = usize::from(r.u16()?);
                if count > MAX_LISTED_USERS {
                    return Err(DecodeError::BadLength {
                        what: "user list",
                        got: count,
                        min: 0,
                        max: MAX_LISTED_USERS,
                    });
                }
                let mut users = Vec::with_capacity(count);
                for _ in 0..count {
                    users.push(UserEntry {
                        username: read_username(r)?,
                        fingerprint: Fingerprint::from_bytes(r.take_array()?),
                    });
                }
                ResponseBody::Users { users, truncated }
            }
            PUBLIC_KEY => ResponseBody::PublicKey {
                username: read_username(r)?,
                key: read_public_key(r)?,
            },
            REQUEST_SENT => ResponseBody::RequestSent,
            ANSWERED => ResponseBody::Answered,
            WITHDRAWN => ResponseBody::Withdrawn,
            LEFT => ResponseBody::Left,
            BYE => ResponseBody::Bye,
            PONG => ResponseBody::Pong,
            CALLBACK_REGISTERED => ResponseBody::CallbackRegistered,
            ERROR => ResponseBody::Error(CommandError(r.u8()?)),
            code => {
                return Err(DecodeError::UnknownType {
                    what: "response",
                    code,
                });
            }
        };
        Ok(Response { id, body })
    }
}
