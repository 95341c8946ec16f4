//! The end-to-end messages, carried as opaque chat data through the relay.
//!
//! Each is `type (1) || body`.

use alloc::vec::Vec;

use crate::codec::{Codec, DecodeError, Reader};

/// Chat handshake, initiator to responder.
pub const CHAT_HELLO: u8 = 0x01;
/// Chat handshake, responder to initiator.
pub const CHAT_REPLY: u8 = 0x02;
/// Chat handshake, initiator to responder.
pub const CHAT_CONFIRM: u8 = 0x03;
/// An encrypted chat record.
pub const CHAT_RECORD: u8 = 0x10;

/// The initiator's first message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatHello {
    /// Chat protocol version.
    pub version: u16,
    /// Fresh randomness.
    pub random: [u8; 32],
    /// Ephemeral X25519 key.
    pub key_share: [u8; 32],
}

/// The responder's answer: its ephemeral key, signature and key confirmation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatReply {
    /// Fresh randomness.
    pub random: [u8; 32],
    /// Ephemeral X25519 key.
    pub key_share: [u8; 32],
    /// Signature over the transcript so far.
    pub signature: [u8; 64],
    /// Key confirmation MAC.
    pub mac: [u8; 32],
}

/// The initiator's signature and key confirmation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatConfirm {
    /// Signature over the transcript so far.
    pub signature: [u8; 64],
    /// Key confirmation MAC.
    pub mac: [u8; 32],
}

/// An encrypted chat record: `counter (8) || ciphertext || tag (16)`; the plaintext is
/// `kind (1) || length (2) || text || zeros`, padded to a multiple of
/// [`super::CHAT_PADDING_BLOCK`] bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatRecord {
    /// The sender's message counter, from 0.
    pub counter: u64,
    /// AES-256-GCM ciphertext and tag.
    pub sealed: Vec<u8>,
}

fn expect(r: &mut Reader<'_>, ty: u8) -> Result<(), DecodeError> {
    let got = r.u8()?;
    if got != ty {
        return Err(DecodeError::UnknownType {
            what: "chat message",
            code: got,
        });
    }
    Ok(())
}

impl Codec for ChatHello {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(CHAT_HELLO);
        out.extend_from_slice(&self.version.to_be_bytes());
        out.extend_from_slice(&self.random);
        out.extend_from_slice(&self.key_share);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        expect(r, CHAT_HELLO)?;
        Ok(ChatHello {
            version: r.u16()?,
            random: r.take_array()?,
            key_share: r.take_array()?,
        })
    }
}

impl ChatReply {
    /// The part of the reply the transcript covers before the signature.
    pub(crate) fn encode_core(&self, out: &mut Vec<u8>) {
        out.push(CHAT_REPLY);
        out.extend_from_slice(&self.random);
        out.extend_from_slice(&self.key_share);
    }
}

impl Codec for ChatReply {
    fn encode(&self, out: &mut Vec<u8>) {
        self.encode_core(out);
        out.extend_from_slice(&self.signature);
        out.extend_from_slice(&self.mac);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        expect(r, CHAT_REPLY)?;
        Ok(ChatReply {
            random: r.take_array()?,
            key_share: r.take_array()?,
            signature: r.take_array()?,
            mac: r.take_array()?,
        })
    }
}

impl Codec for ChatConfirm {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(CHAT_CONFIRM);
        out.extend_from_slice(&self.signature);
        out.extend_from_slice(&self.mac);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        expect(r, CHAT_CONFIRM)?;
        Ok(ChatConfirm {
            signature: r.take_array()?,
            mac: r.take_array()?,
        })
    }
}

impl Codec for ChatRecord {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(CHAT_RECORD);
        out.extend_from_slice(&self.counter.to_be_bytes());
        out.extend_from_slice(&self.sealed);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        expect(r, CHAT_RECORD)?;
        let counter = r.u64()?;
        let sealed = r.rest();
        let shortest = super::CHAT_PADDING_BLOCK + crate::record::TAG_LEN;
        if sealed.len() < shortest {
            return Err(DecodeError::Truncated {
                needed: shortest - sealed.len(),
            });
        }
        let sealed = r.take(sealed.len())?.to_vec();
        Ok(ChatRecord { counter, sealed })
    }
}
