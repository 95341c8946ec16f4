//! The end-to-end messages, carried as opaque chat data through the relay.
//!
//! Each is `type (1) || body`.

use alloc::vec::Vec;

use crate::codec::{Codec, DecodeError, EncodeError, Reader, check_len};
use crate::command::MAX_CHAT_PAYLOAD;

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

/// Bytes of a chat record before the ciphertext: type (1), ratchet key (32), previous
/// chain length (8) and counter (8). All of it is the AEAD's associated data.
pub const CHAT_RECORD_HEADER_LEN: usize = 1 + 32 + 8 + 8;

/// The shortest sealed part of a chat record: one padding block and the tag.
pub const MIN_CHAT_SEALED_LEN: usize = super::CHAT_PADDING_BLOCK + crate::record::TAG_LEN;

/// The longest sealed part of a chat record: what fits in one chat payload
/// ([`MAX_CHAT_PAYLOAD`]) after the header.
pub const MAX_CHAT_SEALED_LEN: usize = MAX_CHAT_PAYLOAD - CHAT_RECORD_HEADER_LEN;

/// The clear part of a chat record, authenticated as the AEAD's associated data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChatRecordHeader {
    /// The sender's current ratchet public key (X25519). A key the receiver has not seen
    /// yet starts a Diffie-Hellman ratchet step.
    pub ratchet_key: [u8; 32],
    /// How many records the sender sent under its previous ratchet key: with a new key,
    /// the receiver checks that it had them all.
    pub previous_chain_len: u64,
    /// The record's number under this ratchet key, from 0.
    pub counter: u64,
}

impl ChatRecordHeader {
    /// The header's bytes, as sent and as authenticated.
    pub fn to_array(&self) -> [u8; CHAT_RECORD_HEADER_LEN] {
        let mut out = [0u8; CHAT_RECORD_HEADER_LEN];
        let fields: [&[u8]; 4] = [
            &[CHAT_RECORD],
            &self.ratchet_key,
            &self.previous_chain_len.to_be_bytes(),
            &self.counter.to_be_bytes(),
        ];
        // Field by field, not byte by byte: this runs for every record sealed or opened.
        let mut rest: &mut [u8] = &mut out;
        for field in fields {
            if let Some((head, tail)) = core::mem::take(&mut rest).split_at_mut_checked(field.len())
            {
                head.copy_from_slice(field);
                rest = tail;
            }
        }
        out
    }
}

/// An encrypted chat record: the [`ChatRecordHeader`], then `ciphertext || tag (16)`; the
/// plaintext is `kind (1) || length (2) || text || zeros`, padded to a multiple of
/// [`super::CHAT_PADDING_BLOCK`] bytes. The sealed part is
/// [`MIN_CHAT_SEALED_LEN`]`..=`[`MAX_CHAT_SEALED_LEN`] bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatRecord {
    /// The clear header.
    pub header: ChatRecordHeader,
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

impl ChatHello {
    /// Appends the encoding: fixed-size fields only, so it cannot fail.
    pub(crate) fn encode_fixed(&self, out: &mut Vec<u8>) {
        out.push(CHAT_HELLO);
        out.extend_from_slice(&self.version.to_be_bytes());
        out.extend_from_slice(&self.random);
        out.extend_from_slice(&self.key_share);
    }
}

impl Codec for ChatHello {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.encode_fixed(out);
        Ok(())
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
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.encode_core(out);
        out.extend_from_slice(&self.signature);
        out.extend_from_slice(&self.mac);
        Ok(())
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
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.push(CHAT_CONFIRM);
        out.extend_from_slice(&self.signature);
        out.extend_from_slice(&self.mac);
        Ok(())
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
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        check_len(
            "chat record",
            self.sealed.len(),
            MIN_CHAT_SEALED_LEN,
            MAX_CHAT_SEALED_LEN,
        )?;
        out.extend_from_slice(&self.header.to_array());
        out.extend_from_slice(&self.sealed);
        Ok(())
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        expect(r, CHAT_RECORD)?;
        let header = ChatRecordHeader {
            ratchet_key: r.take_array()?,
            previous_chain_len: r.u64()?,
            counter: r.u64()?,
        };
        let sealed = r.rest();
        if sealed.len() < MIN_CHAT_SEALED_LEN {
            return Err(DecodeError::Truncated {
                needed: MIN_CHAT_SEALED_LEN - sealed.len(),
            });
        }
        if sealed.len() > MAX_CHAT_SEALED_LEN {
            return Err(DecodeError::BadLength {
                what: "chat record",
                got: sealed.len(),
                min: MIN_CHAT_SEALED_LEN,
                max: MAX_CHAT_SEALED_LEN,
            });
        }
        let sealed = r.take(sealed.len())?.to_vec();
        Ok(ChatRecord { header, sealed })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use core::fmt::Debug;

    fn header(counter: u64) -> ChatRecordHeader {
        ChatRecordHeader {
            ratchet_key: [7; 32],
            previous_chain_len: u64::MAX - 1,
            counter,
        }
    }

    #[test]
    fn the_header_is_laid_out_in_field_order() {
        let bytes = header(0x0102).to_array();
        assert_eq!(bytes[0], CHAT_RECORD);
        assert_eq!(bytes[1..33], [7; 32]);
        assert_eq!(bytes[33..41], (u64::MAX - 1).to_be_bytes());
        assert_eq!(bytes[41..49], 0x0102u64.to_be_bytes());
    }

    fn round_trip<T: Codec + PartialEq + Debug>(value: T) {
        let bytes = value.to_bytes().unwrap();
        assert_eq!(T::decode(&bytes), Ok(value));
    }

    #[test]
    fn every_message_round_trips_and_records_at_both_bounds() {
        round_trip(ChatHello {
            version: u16::MAX,
            random: [1; 32],
            key_share: [2; 32],
        });
        round_trip(ChatReply {
            random: [3; 32],
            key_share: [4; 32],
            signature: [5; 64],
            mac: [6; 32],
        });
        round_trip(ChatConfirm {
            signature: [7; 64],
            mac: [8; 32],
        });
        for len in [MIN_CHAT_SEALED_LEN, MAX_CHAT_SEALED_LEN] {
            round_trip(ChatRecord {
                header: header(u64::MAX),
                sealed: vec![9; len],
            });
        }
        // The longest record is exactly the longest chat payload.
        let longest = ChatRecord {
            header: header(0),
            sealed: vec![0; MAX_CHAT_SEALED_LEN],
        };
        assert_eq!(longest.to_bytes().unwrap().len(), MAX_CHAT_PAYLOAD);
    }

    #[test]
    fn a_record_the_decoder_would_reject_is_refused() {
        let record = |len| ChatRecord {
            header: header(1),
            sealed: vec![0; len],
        };
        let refused = |len| {
            Err(EncodeError {
                what: "chat record",
                len,
                min: MIN_CHAT_SEALED_LEN,
                max: MAX_CHAT_SEALED_LEN,
            })
        };
        for len in [0, MIN_CHAT_SEALED_LEN - 1, MAX_CHAT_SEALED_LEN + 1] {
            assert_eq!(record(len).to_bytes(), refused(len), "{len} bytes");
        }
    }

    #[test]
    fn a_record_longer_than_a_chat_payload_is_rejected() {
        let mut bytes = header(0).to_array().to_vec();
        bytes.resize(bytes.len() + MAX_CHAT_SEALED_LEN + 1, 0);
        assert_eq!(
            ChatRecord::decode(&bytes),
            Err(DecodeError::BadLength {
                what: "chat record",
                got: MAX_CHAT_SEALED_LEN + 1,
                min: MIN_CHAT_SEALED_LEN,
                max: MAX_CHAT_SEALED_LEN,
            })
        );
    }
}
