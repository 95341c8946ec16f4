//! An established end-to-end chat: AES-256-GCM records under the Double Ratchet's keys
//! (see `dh_ratchet.rs` for which key, `ratchet.rs` for how keys are derived).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use aes_gcm::{AeadInOut, Aes256Gcm, KeyInit};
use rand_core::CryptoRng;

use super::dh_ratchet::{DhRatchet, Pending};
use super::messages::{ChatRecord, ChatRecordHeader};
use super::{CHAT_PADDING_BLOCK, ChatError, MAX_TEXT_LEN, SafetyNumber};
use crate::codec::Codec;
use crate::crypto::{Secret, X25519KeyPair};
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
///
/// Texts are sealed under the Double Ratchet: the first text after receiving makes a
/// fresh X25519 ratchet key, so a stolen state stops opening the chat once each side has
/// sent after receiving (post-compromise security), and every message key is forgotten
/// once used (forward secrecy).
#[cfg_attr(any(test, feature = "fuzzing"), derive(Clone))]
pub struct ChatSession {
    peer: (Username, PublicKey),
    safety: SafetyNumber,
    ratchet: DhRatchet,
    peer_closed: bool,
    we_closed: bool,
}

impl fmt::Debug for ChatSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (sent, received) = self.ratchet.counters();
        f.debug_struct("ChatSession")
            .field("peer", &self.peer.0)
            .field("sent", &sent)
            .field("received", &received)
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

fn cipher(key: &Secret) -> Aes256Gcm {
    Aes256Gcm::new(key.as_bytes().into())
}

impl ChatSession {
    pub(crate) fn new(
        peer: (Username, PublicKey),
        safety: SafetyNumber,
        ratchet: DhRatchet,
    ) -> Self {
        ChatSession {
            peer,
            safety,
            ratchet,
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

    /// Encrypts a text message; returns the chat data to send. The first text after
    /// receiving draws a fresh ratchet key from `rng`.
    pub fn seal_text<R: CryptoRng + ?Sized>(
        &mut self,
        text: &str,
        rng: &mut R,
    ) -> Result<Vec<u8>, ChatError> {
        if text.len() > MAX_TEXT_LEN {
            return Err(ChatError::InvalidText);
        }
        let fresh = self
            .ratchet
            .step_due()
            .then(|| X25519KeyPair::generate(rng));
        self.seal(KIND_TEXT, text.as_bytes(), fresh)
    }

    /// Encrypts the close record; nothing can be sent afterwards. The close never steps
    /// the ratchet: nothing follows it for a new key to protect.
    pub fn seal_close(&mut self) -> Result<Vec<u8>, ChatError> {
        let out = self.seal(KIND_CLOSE, &[], None)?;
        self.we_closed = true;
        Ok(out)
    }

    fn seal(
        &mut self,
        kind: u8,
        body: &[u8],
        fresh: Option<X25519KeyPair>,
    ) -> Result<Vec<u8>, ChatError> {
        if self.we_closed {
            return Err(ChatError::Closed);
        }
        let plaintext = pad(kind, body).ok_or(ChatError::InvalidText)?;
        self.seal_plaintext(plaintext, fresh)
    }

    /// Encrypts a whole plaintext (already padded) under the next message key and encodes
    /// the record; the ratchet moves only once the record is encoded.
    fn seal_plaintext(
        &mut self,
        plaintext: Vec<u8>,
        fresh: Option<X25519KeyPair>,
    ) -> Result<Vec<u8>, ChatError> {
        let pending = self.ratchet.prepare_send(fresh)?;
        let record = encrypt(&pending, plaintext)?.to_bytes()?;
        self.ratchet.commit(pending)?;
        Ok(record)
    }

    /// Seals an arbitrary plaintext, bypassing the padding and the encoder's bounds: a
    /// broken peer, for tests.
    #[cfg(test)]
    pub(crate) fn seal_plaintext_for_testing(
        &mut self,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, ChatError> {
        let pending = self.ratchet.prepare_send(None)?;
        let record = encrypt(&pending, plaintext.to_vec())?;
        self.ratchet.commit(pending)?;
        let mut out = record.header.to_array().to_vec();
        out.extend_from_slice(&record.sealed);
        Ok(out)
    }

    /// A copy of the whole state, as a thief who reads the device's memory would have it
    /// (tests of forward and post-compromise security).
    #[cfg(test)]
    pub(crate) fn snapshot(&self) -> ChatSession {
        self.clone()
    }

    /// Opens a record this side sent, with this state's sending chain: what a thief holding
    /// a copy of the state can read of the victim's own messages.
    #[cfg(test)]
    pub(crate) fn open_sent_for_testing(&mut self, msg: &[u8]) -> Result<String, ChatError> {
        let record = ChatRecord::decode(msg)?;
        let pending = self.ratchet.prepare_own(&record.header)?;
        let mut sealed = record.sealed;
        let plaintext = decrypt(&pending.message_key, &record.header, &mut sealed)?;
        let (_, body) = unpad(plaintext)?;
        let text = String::from(core::str::from_utf8(body).map_err(|_| ChatError::InvalidText)?);
        self.ratchet.commit(pending)?;
        Ok(text)
    }

    /// The ratchet state, for tests that try every key a stolen state gives.
    #[cfg(test)]
    pub(crate) fn ratchet(&self) -> &DhRatchet {
        &self.ratchet
    }

    /// Authenticates and decrypts one chat record from the peer. Nothing changes unless it
    /// is authentic and the next in sequence.
    pub fn open(&mut self, msg: &[u8]) -> Result<OpenedChat, ChatError> {
        if self.peer_closed {
            return Err(ChatError::Closed);
        }
        let record = ChatRecord::decode(msg)?;
        let pending = self.ratchet.prepare_receive(&record.header)?;
        // Zeroized when dropped, on every path: it holds the plaintext once decrypted.
        let mut sealed = zeroize::Zeroizing::new(record.sealed);
        let plaintext = decrypt(&pending.message_key, &record.header, &mut sealed)?;
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
        self.ratchet.commit(pending)?;
        if opened == OpenedChat::Closed {
            self.peer_closed = true;
        }
        Ok(opened)
    }
}

/// The record for `plaintext` under `pending`'s key and header.
fn encrypt(pending: &Pending, mut sealed: Vec<u8>) -> Result<ChatRecord, ChatError> {
    let header = pending.header;
    let tag = cipher(&pending.message_key)
        .encrypt_inout_detached(
            &nonce(header.counter).into(),
            &header.to_array(),
            sealed.as_mut_slice().into(),
        )
        .map_err(|_| ChatError::InvalidText)?;
    sealed.extend_from_slice(&tag);
    Ok(ChatRecord { header, sealed })
}

/// Authenticates and decrypts `sealed` in place; returns the plaintext part.
pub(crate) fn decrypt<'a>(
    message_key: &Secret,
    header: &ChatRecordHeader,
    sealed: &'a mut [u8],
) -> Result<&'a [u8], ChatError> {
    let split = sealed.len().saturating_sub(TAG_LEN);
    let (plaintext, tag) = sealed.split_at_mut(split);
    let tag: [u8; TAG_LEN] = (&*tag).try_into().map_err(|_| ChatError::BadRecord)?;
    cipher(message_key)
        .decrypt_inout_detached(
            &nonce(header.counter).into(),
            &header.to_array(),
            plaintext.into(),
            (&tag).into(),
        )
        .map_err(|_| ChatError::BadRecord)?;
    Ok(plaintext)
}
