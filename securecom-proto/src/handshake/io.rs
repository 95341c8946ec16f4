//! What both handshake machines share: the output buffer, the transcript
//! and the reading of frames as handshake messages.

use alloc::vec::Vec;

use crate::codec::{Codec, ContentType, Frame, encode_frame_header};
use crate::crypto::Transcript;
use crate::record::{OpenedRecord, RecordOpener, RecordSealer};
use crate::time::Instant;

use super::HandshakeError;
use super::messages::{HandshakeType, message_type};

/// Tests only: which outgoing message to rewrite, and how.
#[cfg(test)]
pub(crate) type Tamper = (HandshakeType, fn(&mut [u8]));

#[derive(Default)]
#[cfg_attr(any(test, feature = "fuzzing"), derive(Clone))]
pub(crate) struct HandshakeIo {
    pub(crate) out: Vec<u8>,
    pub(crate) transcript: Transcript,
    /// Tests only: rewrites one outgoing message after it entered our own transcript, as an
    /// active attacker who could forge the handshake keys would.
    #[cfg(test)]
    pub(crate) tamper: Option<Tamper>,
}

/// How the frame the current state waits for is protected.
pub(crate) enum Expect<'s> {
    /// A plaintext handshake frame.
    Plaintext,
    /// A record under these keys (handshake keys, or the session's standard channel).
    Sealed(&'s mut RecordOpener),
}

/// A frame read as the current state expects it.
pub(crate) enum Received<'a> {
    /// A handshake message (type byte and body).
    Message(&'a [u8]),
    /// An authenticated close record (only meaningful while waiting for the Welcome).
    Close(&'a [u8]),
}

impl HandshakeIo {
    /// Marks the first `n` bytes of the output as written.
    pub(crate) fn consume_output(&mut self, n: usize) {
        crate::codec::discard_written(&mut self.out, n);
    }

    /// Sends `msg` in a plaintext frame and adds it to the transcript.
    pub(crate) fn send_plaintext(&mut self, msg: &impl Codec) -> Result<(), HandshakeError> {
        let bytes = msg.to_bytes()?;
        self.transcript.add(&bytes);
        #[cfg(test)]
        let bytes = self.tampered(bytes);
        self.out
            .extend_from_slice(&encode_frame_header(ContentType::HANDSHAKE, bytes.len())?);
        self.out.extend_from_slice(&bytes);
        Ok(())
    }

    /// Seals `msg` under the handshake keys and adds it to the transcript.
    pub(crate) fn send_sealed(
        &mut self,
        sealer: &mut RecordSealer,
        msg: &impl Codec,
    ) -> Result<(), HandshakeError> {
        let bytes = msg.to_bytes()?;
        self.transcript.add(&bytes);
        #[cfg(test)]
        let bytes = self.tampered(bytes);
        sealer.seal_data(&bytes, &mut self.out)?;
        Ok(())
    }

    #[cfg(test)]
    fn tampered(&self, mut bytes: Vec<u8>) -> Vec<u8> {
        if let Some((ty, f)) = self.tamper
            && message_type(&bytes).ok() == Some(ty)
        {
            f(&mut bytes);
        }
        bytes
    }
}

/// Reads one frame as the state expects: alerts end the handshake, plaintext must be a
/// handshake frame, sealed frames must open under the given keys.
pub(crate) fn read_frame<'a>(
    frame: Frame<'a>,
    expect: Expect<'_>,
) -> Result<Received<'a>, HandshakeError> {
    if frame.content_type == ContentType::ALERT {
        let code = frame.payload.first().copied().unwrap_or(0);
        return Err(HandshakeError::PeerAlert(code));
    }
    match expect {
        Expect::Plaintext => {
            if frame.content_type != ContentType::HANDSHAKE {
                return Err(HandshakeError::UnexpectedFrame {
                    expected: ContentType::HANDSHAKE,
                    got: frame.content_type,
                });
            }
            Ok(Received::Message(frame.payload))
        }
        Expect::Sealed(opener) => {
            if frame.content_type != opener.channel() {
                return Err(HandshakeError::UnexpectedFrame {
                    expected: opener.channel(),
                    got: frame.content_type,
                });
            }
            match opener.open(&frame.header, frame.payload)? {
                OpenedRecord::Data(msg) => Ok(Received::Message(msg)),
                OpenedRecord::Close(reason) => Ok(Received::Close(reason)),
                // No key update is legitimate this early; treat it as out of place.
                OpenedRecord::KeyUpdated => Err(HandshakeError::UnexpectedFrame {
                    expected: opener.channel(),
                    got: frame.content_type,
                }),
            }
        }
    }
}

/// Fails with [`HandshakeError::Timeout`] once `deadline` has passed.
pub(crate) fn check_deadline(now: Instant, deadline: Instant) -> Result<(), HandshakeError> {
    if now >= deadline {
        return Err(HandshakeError::Timeout);
    }
    Ok(())
}

/// Checks that `msg` is of type `expected`.
pub(crate) fn expect_message(msg: &[u8], expected: HandshakeType) -> Result<(), HandshakeError> {
    let got = message_type(msg)?;
    if got != expected {
        return Err(HandshakeError::UnexpectedMessage { expected, got });
    }
    Ok(())
}

/// Only a handshake message is acceptable here, not a close.
pub(crate) fn message(received: Received<'_>) -> Result<&[u8], HandshakeError> {
    match received {
        Received::Message(m) => Ok(m),
        Received::Close(_) => Err(HandshakeError::UnexpectedFrame {
            expected: ContentType::ENCRYPTED_HANDSHAKE,
            got: ContentType::STANDARD,
        }),
    }
}
