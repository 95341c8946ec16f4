//! An established end-to-end chat: ratcheted AES-256-GCM records.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use aes_gcm::{AeadInOut, Aes256Gcm, KeyInit};

use super::messages::{CHAT_RECORD, ChatRecord};
use super::ratchet::Chain;
use super::{CHAT_PADDING_BLOCK, ChatError, MAX_TEXT_LEN, SafetyNumber};
use crate::codec::Codec;
use crate::crypto::Secret;
use crate::identity::{PublicKey, Username};
use crate::record::TAG_LEN;

const KIND_TEXT: u8 = 0x01;
const KIND_CLOSE: u8 = 0x02;

/// Kind (1) and body length (2) before the body.
const PLAINTEXT_HEADER: usize = 3;

/// The plaintext length for a body: header and body, rounded up to the padding block.
fn padded_len(body_len: usize) -> usize {
    (PLAINTEXT_HEADER + body_len).div_ceil(CHAT_PADDING_BLOCK) * CHAT_PADDING_BLOCK
}

/// `kind (1) || length (2) || body || zeros`, padded to the block; `None` for a body
/// longer than the length field.
fn pad(kind: u8, body: &[u8]) -> Option<Vec<u8>> {
    let len = u16::try_from(body.len()).ok()?;
    let padded = padded_len(body.len());
    let mut plaintext = Vec::with_capacity(padded + TAG_LEN);
    plaintext.push(kind);
    plaintext.extend_from_slice(&len.to_be_bytes());
    plaintext.extend_from_slice(body);
    plaintext.resize(padded, 0);
    Some(plaintext)
}

/// Splits an authentic plaintext into kind and body. Strict: one encoding per message,
/// so the padding must be zeros and the shortest that reaches a whole block.
fn unpad(plaintext: &[u8]) -> Result<(u8, &[u8]), ChatError> {
    let [kind, l0, l1, rest @ ..] = plaintext else {
        return Err(ChatError::BadPadding);
    };
    let len = usize::from(u16::from_be_bytes([*l0, *l1]));
    let (body, padding) = rest.split_at_checked(len).ok_or(ChatError::BadPadding)?;
    let nonzero = padding.iter().fold(0u8, |acc, b| acc | b);
    if nonzero != 0 || plaintext.len() != padded_len(len) {
        return Err(ChatError::BadPadding);
    }
    Ok((*kind, body))
}

/// What an opened chat record carried.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpenedChat {
    /// A text message, authentic and in order.
    Text(String),
    /// The peer closed the chat: nothing more will come, and nothing was cut off before.
    Closed,
}

/// An end-to-end chat with one peer. Every error is fatal: drop the session.
pub struct ChatSession {
    peer: (Username, PublicKey),
    safety: SafetyNumber,
    send: Chain,
    recv: Chain,
    peer_closed: bool,
    we_closed: bool,
}

impl fmt::Debug for ChatSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatSession")
            .field("peer", &self.peer.0)
            .field("sent", &self.send.counter())
            .field("received", &self.recv.counter())
            .finish_non_exhaustive()
    }
}

fn nonce(counter: u64) -> [u8; 12] {
    let mut n = [0u8; 12];
    for (d, s) in n.iter_mut().skip(4).zip(counter.to_be_bytes()) {
        *d = s;
    }
    n
}

fn aad(counter: u64) -> [u8; 9] {
    let c = counter.to_be_bytes();
    [CHAT_RECORD, c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]
}

fn cipher(key: &Secret) -> Aes256Gcm {
    Aes256Gcm::new(key.as_bytes().into())
}

impl ChatSession {
    pub(crate) fn new(
        peer: (Username, PublicKey),
        safety: SafetyNumber,
        send: Chain,
        recv: Chain,
    ) -> Self {
        ChatSession {
            peer,
            safety,
            send,
            recv,
            peer_closed: false,
            we_closed: false,
        }
    }

    /// The peer's username.
    pub fn peer(&self) -> &Username {
        &self.peer.0
    }

    /// The peer's identity key, as the relay gave it and the handshake proved.
    pub fn peer_key(&self) -> &PublicKey {
        &self.peer.1
    }

    /// The number both users can compare out of band.
    pub fn safety_number(&self) -> SafetyNumber {
        self.safety
    }

    /// True once the peer sent its close.
    pub fn peer_closed(&self) -> bool {
        self.peer_closed
    }

    /// Encrypts a text message; returns the chat data to send.
    pub fn seal_text(&mut self, text: &str) -> Result<Vec<u8>, ChatError> {
        if text.len() > MAX_TEXT_LEN {
            return Err(ChatError::InvalidText);
        }
        self.seal(KIND_TEXT, text.as_bytes())
    }

    /// Encrypts the close record; nothing can be sent afterwards.
    pub fn seal_close(&mut self) -> Result<Vec<u8>, ChatError> {
        let out = self.seal(KIND_CLOSE, &[])?;
        self.we_closed = true;
        Ok(out)
    }

    fn seal(&mut self, kind: u8, body: &[u8]) -> Result<Vec<u8>, ChatError> {
        if self.we_closed {
            return Err(ChatError::Closed);
        }
        let plaintext = pad(kind, body).ok_or(ChatError::InvalidText)?;
        self.seal_plaintext(plaintext)
    }

    /// Encrypts a whole plaintext (already padded) under the next message key and encodes
    /// the record; the ratchet moves only once the record is encoded.
    fn seal_plaintext(&mut self, plaintext: Vec<u8>) -> Result<Vec<u8>, ChatError> {
        let (record, next) = self.encrypt(plaintext)?;
        let record = record.to_bytes()?;
        self.send.advance(next)?;
        Ok(record)
    }

    /// The record for `plaintext` under the next message key, and the chain after it;
    /// nothing changes.
    fn encrypt(&self, mut sealed: Vec<u8>) -> Result<(ChatRecord, Secret), ChatError> {
        let counter = self.send.counter();
        let (message_key, next) = self.send.peek();
        let tag = cipher(&message_key)
            .encrypt_inout_detached(
                &nonce(counter).into(),
                &aad(counter),
                sealed.as_mut_slice().into(),
            )
            .map_err(|_| ChatError::InvalidText)?;
        sealed.extend_from_slice(&tag);
        Ok((ChatRecord { counter, sealed }, next))
    }

    /// Seals an arbitrary plaintext, bypassing the padding and the encoder's bounds: a
    /// broken peer, for tests.
    #[cfg(test)]
    pub(crate) fn seal_plaintext_for_testing(
        &mut self,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, ChatError> {
        let (record, next) = self.encrypt(plaintext.to_vec())?;
        self.send.advance(next)?;
        let mut out = alloc::vec![CHAT_RECORD];
        out.extend_from_slice(&record.counter.to_be_bytes());
        out.extend_from_slice(&record.sealed);
        Ok(out)
    }

    /// Authenticates and decrypts one chat record from the peer. Nothing changes unless it
    /// is authentic and the next in sequence.
    pub fn open(&mut self, msg: &[u8]) -> Result<OpenedChat, ChatError> {
        if self.peer_closed {
            return Err(ChatError::Closed);
        }
        let record = ChatRecord::decode(msg)?;
        let expected = self.recv.counter();
        if record.counter != expected {
            return Err(ChatError::OutOfSequence {
                expected,
                got: record.counter,
            });
        }
        let (message_key, next) = self.recv.peek();
        // Zeroized when dropped, on every path: it holds the plaintext once decrypted.
        let mut sealed = zeroize::Zeroizing::new(record.sealed);
        let split = sealed.len().saturating_sub(TAG_LEN);
        let (plaintext, tag) = sealed.split_at_mut(split);
        let tag: [u8; TAG_LEN] = (&*tag).try_into().map_err(|_| ChatError::BadRecord)?;
        cipher(&message_key)
            .decrypt_inout_detached(
                &nonce(record.counter).into(),
                &aad(record.counter),
                plaintext.into(),
                (&tag).into(),
            )
            .map_err(|_| ChatError::BadRecord)?;
        // Authentic: now the ratchet may move (and the used key is dropped).
        let (kind, body) = unpad(plaintext)?;
        let opened = match kind {
            KIND_TEXT => {
                let text = core::str::from_utf8(body).map_err(|_| ChatError::InvalidText)?;
                if text.len() > MAX_TEXT_LEN {
                    return Err(ChatError::InvalidText);
                }
                OpenedChat::Text(String::from(text))
            }
            KIND_CLOSE if body.is_empty() => OpenedChat::Closed,
            other => return Err(ChatError::UnexpectedMessage(other)),
        };
        self.recv.advance(next)?;
        if opened == OpenedChat::Closed {
            self.peer_closed = true;
        }
        Ok(opened)
    }
}
