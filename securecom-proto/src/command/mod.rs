//! The command layer: what clients and the relay say to each other inside a session.
//!
//! - [`Request`]: client to server on the standard channel, each with a request id.
//! - [`Response`]: server to client on the standard channel, echoing the request id, with a
//!   typed answer or a typed [`CommandError`].
//! - [`Notice`]: server to client on the request channel, never solicited: an incoming chat
//!   request, a request withdrawn or expired, the peer's answer, relayed chat data, a peer
//!   that left.
//!
//! Chat data ([`RequestBody::ChatData`], [`Notice::ChatData`]) is opaque to the relay: it carries
//! the end-to-end handshake and records of [`crate::chat`].

mod error;
mod notice;
mod request;
mod response;

pub use error::CommandError;
pub use notice::{GoneReason, Notice};
pub use request::{Request, RequestBody, RequestId};
pub use response::{MAX_LISTED_USERS, Response, ResponseBody, UserEntry};

use crate::codec::{DecodeError, EncodeError, Reader, put_u8_prefixed, put_u16_prefixed};
use crate::identity::{MAX_USERNAME_LEN, PublicKey, Username};
use alloc::vec::Vec;

/// The largest opaque chat payload one command carries: a record's worth, less headroom for
/// the command header and the relay's framing.
pub const MAX_CHAT_PAYLOAD: usize = crate::codec::MAX_PLAINTEXT_LEN - 64;

pub(crate) fn put_username(out: &mut Vec<u8>, name: &Username) -> Result<(), EncodeError> {
    put_u8_prefixed(
        out,
        "username",
        name.as_str().as_bytes(),
        1,
        MAX_USERNAME_LEN,
    )
}

pub(crate) fn read_username(r: &mut Reader<'_>) -> Result<Username, DecodeError> {
    let raw = r.u8_prefixed("username", 1, MAX_USERNAME_LEN)?;
    Username::from_bytes(raw).map_err(|_| DecodeError::InvalidValue("username"))
}

pub(crate) fn read_public_key(r: &mut Reader<'_>) -> Result<PublicKey, DecodeError> {
    let raw: [u8; 32] = r.take_array()?;
    PublicKey::from_bytes(&raw).map_err(|_| DecodeError::InvalidValue("public key"))
}

pub(crate) fn put_chat_payload(out: &mut Vec<u8>, payload: &[u8]) -> Result<(), EncodeError> {
    put_u16_prefixed(out, "chat payload", payload, 1, MAX_CHAT_PAYLOAD)
}

pub(crate) fn read_chat_payload(r: &mut Reader<'_>) -> Result<Vec<u8>, DecodeError> {
    Ok(r.u16_prefixed("chat payload", 1, MAX_CHAT_PAYLOAD)?
        .to_vec())
}

#[cfg(test)]
mod tests;
