//! Opening incoming records.

use core::fmt;

use aes_gcm::AeadInOut;

use super::{AAD_LEN, KEY_UPDATE_INTERVAL, RecordError, RecordKind, TAG_LEN, TrafficKeys};
use crate::codec::{ContentType, FRAME_HEADER_LEN, MAX_PLAINTEXT_LEN};

/// What an opened record carried.
#[derive(Debug, PartialEq, Eq)]
pub enum OpenedRecord<'a> {
    /// Application data, decrypted in place.
    Data(&'a [u8]),
    /// The peer closed this direction, with an optional reason.
    Close(&'a [u8]),
    /// The peer moved to its next key; nothing for the application.
    KeyUpdated,
}

/// The receiving half of one channel of a connection.
#[cfg_attr(any(test, feature = "fuzzing"), derive(Clone))]
pub struct RecordOpener {
    channel: ContentType,
    keys: TrafficKeys,
    seq: u64,
    state: Result<bool, RecordError>,
}

impl fmt::Debug for RecordOpener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordOpener")
            .field("channel", &self.channel)
            .field("seq", &self.seq)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl RecordOpener {
    pub(crate) fn new(channel: ContentType, keys: TrafficKeys) -> Self {
        RecordOpener {
            channel,
            keys,
            seq: 0,
            state: Ok(false),
        }
    }

    /// The channel (content type) this opener reads.
    pub fn channel(&self) -> ContentType {
        self.channel
    }

    /// Records opened under the current key.
    pub fn sequence(&self) -> u64 {
        self.seq
    }

    /// True once the peer's close record has been opened.
    pub fn is_closed(&self) -> bool {
        matches!(self.state, Ok(true))
    }

    /// Authenticates and decrypts one frame in place.
    ///
    /// Nothing changes unless the tag verifies; any error is fatal and returned again for
    /// every later call.
    pub fn open<'a>(
        &mut self,
        header: &[u8; FRAME_HEADER_LEN],
        body: &'a mut [u8],
    ) -> Result<OpenedRecord<'a>, RecordError> {
        match self.state {
            Err(e) => return Err(e),
            Ok(true) => return Err(self.fail(RecordError::Closed)),
            Ok(false) => {}
        }
        match self.open_inner(header, body) {
            Ok(record) => Ok(record),
            Err(e) => Err(self.fail(e)),
        }
    }

    fn fail(&mut self, e: RecordError) -> RecordError {
        self.state = Err(e);
        e
    }

    fn open_inner<'a>(
        &mut self,
        header: &[u8; FRAME_HEADER_LEN],
        body: &'a mut [u8],
    ) -> Result<OpenedRecord<'a>, RecordError> {
        let [content_type, ..] = *header;
        let got = ContentType(content_type);
        if got != self.channel {
            return Err(RecordError::WrongChannel {
                expected: self.channel,
                got,
            });
        }
        let body_len = body.len();
        if body_len < 1 + TAG_LEN {
            return Err(RecordError::TooShort(body_len));
        }
        if body_len > 1 + MAX_PLAINTEXT_LEN + TAG_LEN {
            return Err(RecordError::PayloadTooLarge(body_len - 1 - TAG_LEN));
        }
        let (kind, rest) = body
            .split_first_mut()
            .ok_or(RecordError::TooShort(body_len))?;
        let kind = RecordKind(*kind);
        let split = rest.len().saturating_sub(TAG_LEN);
        let (payload, tag) = rest
            .split_at_mut_checked(split)
            .ok_or(RecordError::TooShort(body_len))?;
        let tag: [u8; TAG_LEN] = (&*tag)
            .try_into()
            .map_err(|_| RecordError::TooShort(body_len))?;
        let aad_word = super::aad_bytes(*header, kind);
        let aad = aad_word.get(..AAD_LEN).unwrap_or_default();
        let nonce = self.keys.nonce(self.seq);
        self.keys
            .cipher
            .decrypt_inout_detached(&nonce.into(), aad, (&mut *payload).into(), (&tag).into())
            .map_err(|_| RecordError::BadRecordMac)?;

        // Authentic from here on: commit the counter, then interpret.
        self.seq += 1;
        let payload: &'a [u8] = payload;
        // Only the last record of a key's budget may (and must) be a key update.
        let budget_spent = self.seq > KEY_UPDATE_INTERVAL;
        match kind {
            RecordKind::KEY_UPDATE if payload.is_empty() => {
                self.keys = self.keys.next();
                self.seq = 0;
                Ok(OpenedRecord::KeyUpdated)
            }
            RecordKind::KEY_UPDATE => Err(RecordError::KeyUpdateViolation),
            _ if budget_spent => Err(RecordError::KeyUpdateViolation),
            RecordKind::DATA => Ok(OpenedRecord::Data(payload)),
            RecordKind::CLOSE => {
                self.state = Ok(true);
                Ok(OpenedRecord::Close(payload))
            }
            RecordKind(other) => Err(RecordError::UnknownKind(other)),
        }
    }

    #[cfg(test)]
    pub(crate) fn set_sequence_for_testing(&mut self, seq: u64) {
        self.seq = seq;
    }
}
