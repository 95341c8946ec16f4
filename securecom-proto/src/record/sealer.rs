//! Sealing outgoing records.

use alloc::vec::Vec;
use core::fmt;

use aes_gcm::AeadInOut;

use super::{AAD_LEN, KEY_UPDATE_INTERVAL, RecordError, RecordKind, TrafficKeys};
use crate::codec::{ContentType, MAX_PLAINTEXT_LEN, encode_frame_header};

/// The sending half of one channel of a connection.
#[cfg_attr(any(test, feature = "fuzzing"), derive(Clone))]
pub struct RecordSealer {
    channel: ContentType,
    keys: TrafficKeys,
    seq: u64,
    closed: bool,
}

impl fmt::Debug for RecordSealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordSealer")
            .field("channel", &self.channel)
            .field("seq", &self.seq)
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

impl RecordSealer {
    pub(crate) fn new(channel: ContentType, keys: TrafficKeys) -> Self {
        RecordSealer {
            channel,
            keys,
            seq: 0,
            closed: false,
        }
    }

    /// The channel (content type) this sealer writes.
    pub fn channel(&self) -> ContentType {
        self.channel
    }

    /// Records sealed under the current key.
    pub fn sequence(&self) -> u64 {
        self.seq
    }

    /// True once a close record has been sealed.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Appends one data record carrying `payload` to `out`. When the key's budget is spent it
    /// first appends a key update record and moves to the next key.
    ///
    /// Reuses `out`'s capacity: no allocation once `out` is large enough.
    pub fn seal_data(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Result<(), RecordError> {
        self.seal(RecordKind::DATA, payload, out)
    }

    /// Appends a close record to `out`; nothing can be sealed afterwards.
    pub fn seal_close(&mut self, reason: &[u8], out: &mut Vec<u8>) -> Result<(), RecordError> {
        self.seal(RecordKind::CLOSE, reason, out)?;
        self.closed = true;
        Ok(())
    }

    fn seal(
        &mut self,
        kind: RecordKind,
        payload: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), RecordError> {
        if self.closed {
            return Err(RecordError::Closed);
        }
        if payload.len() > MAX_PLAINTEXT_LEN {
            return Err(RecordError::PayloadTooLarge(payload.len()));
        }
        if self.seq >= KEY_UPDATE_INTERVAL {
            self.seal_one(RecordKind::KEY_UPDATE, &[], out)?;
            self.keys = self.keys.next();
            self.seq = 0;
        }
        self.seal_one(kind, payload, out)
    }

    pub(super) fn seal_one(
        &mut self,
        kind: RecordKind,
        payload: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), RecordError> {
        let body_len = 1 + payload.len() + super::TAG_LEN;
        let header = encode_frame_header(self.channel, body_len)
            .map_err(|_| RecordError::PayloadTooLarge(payload.len()))?;
        let aad_word = super::aad_bytes(header, kind);
        let aad = aad_word.get(..AAD_LEN).unwrap_or_default();
        let start = out.len();
        out.reserve(AAD_LEN + body_len);
        // The header and the kind travel in clear; the payload is copied once, encrypted in
        // place where it lies, and the tag appended into the reserved room.
        out.extend_from_slice(aad);
        out.extend_from_slice(payload);
        let nonce = self.keys.nonce(self.seq);
        let plaintext = out.get_mut(start + AAD_LEN..).unwrap_or(&mut []);
        match self
            .keys
            .cipher
            .encrypt_inout_detached(&nonce.into(), aad, plaintext.into())
        {
            Ok(tag) => {
                out.extend_from_slice(&tag);
                self.seq += 1;
                Ok(())
            }
            Err(_) => {
                // Only possible for inputs far beyond our size limits; leave `out` as it was.
                out.truncate(start);
                Err(RecordError::PayloadTooLarge(payload.len()))
            }
        }
    }

    #[cfg(test)]
    pub(crate) fn set_sequence_for_testing(&mut self, seq: u64) {
        self.seq = seq;
    }
}
