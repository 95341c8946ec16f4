//! Framing of the byte stream: `content_type (1) || length (4, big-endian) || payload`.
//!
//! The length is checked against [`MAX_FRAME_LEN`] as soon as the five header bytes are
//! here, before a single payload byte is buffered, so a peer claiming a 4 GiB frame costs us
//! five bytes and an error.

use alloc::vec::Vec;
use core::fmt;
use core::ops::Range;

/// Bytes in a frame header: content type (1) and payload length (4).
pub const FRAME_HEADER_LEN: usize = 5;

/// The largest frame payload accepted, in bytes (64 KiB). Handshake flights carrying a
/// certificate chain are the largest frames; records are far smaller.
pub const MAX_FRAME_LEN: usize = 64 * 1024;

/// The largest plaintext carried by one record (16 KiB, as in TLS).
pub const MAX_PLAINTEXT_LEN: usize = 16 * 1024;

/// The type of a frame, as a newtype over the wire byte so unknown codes survive a
/// round trip and print as hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ContentType(pub u8);

impl ContentType {
    /// A plaintext handshake message (ClientHello, ServerHello).
    pub const HANDSHAKE: ContentType = ContentType(0x01);
    /// A plaintext alert: the generic failure sent when a handshake is aborted.
    pub const ALERT: ContentType = ContentType(0x02);
    /// An encrypted handshake message, under the handshake traffic keys.
    pub const ENCRYPTED_HANDSHAKE: ContentType = ContentType(0x03);
    /// A record on the standard channel (client requests and their responses).
    pub const STANDARD: ContentType = ContentType(0x04);
    /// A record on the request channel (messages the server initiates).
    pub const REQUEST: ContentType = ContentType(0x05);

    fn name(self) -> Option<&'static str> {
        Some(match self {
            Self::HANDSHAKE => "Handshake",
            Self::ALERT => "Alert",
            Self::ENCRYPTED_HANDSHAKE => "EncryptedHandshake",
            Self::STANDARD => "Standard",
            Self::REQUEST => "Request",
            _ => return None,
        })
    }
}

impl fmt::Debug for ContentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "ContentType(0x{:02x})", self.0),
        }
    }
}

/// Why the byte stream could not be split into frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// A header announced a payload larger than [`MAX_FRAME_LEN`].
    #[error("frame of {announced} bytes exceeds the maximum of {MAX_FRAME_LEN}")]
    TooLarge {
        /// The length the header announced.
        announced: u32,
    },
    /// A frame payload larger than [`MAX_FRAME_LEN`] was handed to the encoder.
    #[error("refusing to send a frame of {0} bytes (maximum {MAX_FRAME_LEN})")]
    PayloadTooLarge(usize),
}

/// The five header bytes of a frame with `payload_len` bytes of payload.
pub fn encode_frame_header(
    content_type: ContentType,
    payload_len: usize,
) -> Result<[u8; FRAME_HEADER_LEN], FrameError> {
    if payload_len > MAX_FRAME_LEN {
        return Err(FrameError::PayloadTooLarge(payload_len));
    }
    let len = u32::try_from(payload_len).map_err(|_| FrameError::PayloadTooLarge(payload_len))?;
    let [a, b, c, d] = len.to_be_bytes();
    Ok([content_type.0, a, b, c, d])
}

/// A frame's header and the position of its payload in the [`Deframer`]'s buffer.
pub type FramePosition = ([u8; FRAME_HEADER_LEN], Range<usize>);

/// One frame, borrowed mutably from the [`Deframer`] so it can be decrypted in place.
#[derive(Debug)]
pub struct Frame<'a> {
    /// The content type byte.
    pub content_type: ContentType,
    /// The header as received, authenticated as associated data by the record layer.
    pub header: [u8; FRAME_HEADER_LEN],
    /// The payload.
    pub payload: &'a mut [u8],
}

/// Splits a byte stream into frames, buffering at most one frame.
///
/// Feed bytes with [`Deframer::push`], which takes only what fits, then drain complete
/// frames with [`Deframer::next_frame`]; repeat until all input is taken. The buffer never
/// holds more than `FRAME_HEADER_LEN + MAX_FRAME_LEN` bytes.
///
/// ```
/// use securecom_proto::codec::{ContentType, Deframer, encode_frame_header};
/// let mut wire = encode_frame_header(ContentType::STANDARD, 3)?.to_vec();
/// wire.extend_from_slice(b"abc");
/// let mut d = Deframer::new();
/// assert_eq!(d.push(&wire), wire.len());
/// let frame = d.next_frame()?.expect("a whole frame");
/// assert_eq!(frame.content_type, ContentType::STANDARD);
/// assert_eq!(&*frame.payload, b"abc");
/// assert!(d.next_frame()?.is_none());
/// # Ok::<(), securecom_proto::codec::FrameError>(())
/// ```
#[derive(Clone, Default)]
pub struct Deframer {
    buf: Vec<u8>,
    /// Start of the bytes not yet returned as a frame.
    start: usize,
}

impl fmt::Debug for Deframer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Deframer")
            .field("buffered", &self.buffered())
            .finish()
    }
}

impl Deframer {
    /// An empty deframer.
    pub fn new() -> Self {
        Deframer::default()
    }

    /// Bytes held that have not been returned as a frame yet.
    pub fn buffered(&self) -> usize {
        self.buf.len().saturating_sub(self.start)
    }

    /// The bytes held that have not been returned as a frame yet (a partial frame).
    pub fn pending(&self) -> &[u8] {
        self.buf.get(self.start..).unwrap_or(&[])
    }

    /// True when no partial frame is buffered.
    pub fn is_empty(&self) -> bool {
        self.buffered() == 0
    }

    /// Copies as much of `data` as the buffer may hold and returns how many bytes it took.
    ///
    /// It takes nothing only while a complete frame waits in the buffer; drain it with
    /// [`Deframer::next_frame`] and push the rest.
    pub fn push(&mut self, data: &[u8]) -> usize {
        self.compact();
        let room = (FRAME_HEADER_LEN + MAX_FRAME_LEN).saturating_sub(self.buf.len());
        let take = data.len().min(room);
        if let Some(head) = data.get(..take) {
            self.buf.extend_from_slice(head);
        }
        take
    }

    /// Returns the next complete frame, `None` if more bytes are needed, or an error if the
    /// header announces a payload over [`MAX_FRAME_LEN`]. Errors are final: the stream
    /// cannot be resynchronised.
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>, FrameError> {
        let Some((header, range)) = self.next_frame_range()? else {
            return Ok(None);
        };
        let [content_type, ..] = header;
        let content_type = ContentType(content_type);
        Ok(Some(Frame {
            content_type,
            header,
            payload: self.buf.get_mut(range).unwrap_or(&mut []),
        }))
    }

    /// Like [`Deframer::next_frame`], but returns the frame's header and the position of its
    /// payload in the buffer instead of a borrow; read it with [`Deframer::slice_mut`].
    /// Callers that decide only after decryption whether to hand the payload out use this to
    /// keep the borrow short. Positions stay valid until the next [`Deframer::push`].
    pub fn next_frame_range(&mut self) -> Result<Option<FramePosition>, FrameError> {
        let pending = self.buf.get(self.start..).unwrap_or(&[]);
        let Some(header) = pending.get(..FRAME_HEADER_LEN) else {
            return Ok(None);
        };
        let mut h = [0u8; FRAME_HEADER_LEN];
        h.copy_from_slice(header);
        let [_, a, b, c, d] = h;
        let announced = u32::from_be_bytes([a, b, c, d]);
        let len = usize::try_from(announced).unwrap_or(usize::MAX);
        if len > MAX_FRAME_LEN {
            return Err(FrameError::TooLarge { announced });
        }
        let payload_start = self.start + FRAME_HEADER_LEN;
        let end = payload_start + len;
        if end > self.buf.len() {
            return Ok(None);
        }
        self.start = end;
        Ok(Some((h, payload_start..end)))
    }

    /// The buffered bytes at `range` (a range from [`Deframer::next_frame_range`]); empty if
    /// the range is stale.
    pub fn slice_mut(&mut self, range: Range<usize>) -> &mut [u8] {
        self.buf.get_mut(range).unwrap_or(&mut [])
    }

    /// Shared view of [`Deframer::slice_mut`].
    pub fn slice(&self, range: Range<usize>) -> &[u8] {
        self.buf.get(range).unwrap_or(&[])
    }

    /// Drops the bytes of frames already returned, keeping a partial frame at the front.
    fn compact(&mut self) {
        if self.start == 0 {
            return;
        }
        if self.start >= self.buf.len() {
            // The steady path: the buffer held whole frames only, all consumed. Nothing to
            // move: reset, keeping the capacity.
            self.buf.clear();
        } else {
            self.buf.drain(..self.start);
        }
        self.start = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::{format, vec};

    fn frame(ct: ContentType, payload: &[u8]) -> Vec<u8> {
        let mut v = encode_frame_header(ct, payload.len()).unwrap().to_vec();
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn frames_split_across_pushes_byte_by_byte() {
        let mut wire = frame(ContentType::HANDSHAKE, b"hello");
        wire.extend(frame(ContentType::ALERT, b""));
        wire.extend(frame(ContentType(0x7f), b"xyz"));
        let mut d = Deframer::new();
        let mut got = Vec::new();
        for byte in &wire {
            assert_eq!(d.push(core::slice::from_ref(byte)), 1);
            while let Some(f) = d.next_frame().unwrap() {
                got.push((f.content_type, f.payload.to_vec()));
            }
        }
        assert_eq!(
            got,
            [
                (ContentType::HANDSHAKE, b"hello".to_vec()),
                (ContentType::ALERT, Vec::new()),
                (ContentType(0x7f), b"xyz".to_vec()),
            ]
        );
        assert!(d.is_empty());
    }

    #[test]
    fn frame_length_over_maximum_is_rejected_before_allocation() {
        for announced in [MAX_FRAME_LEN as u32 + 1, 0x0100_0000, u32::MAX] {
            let mut d = Deframer::new();
            let mut wire = vec![ContentType::STANDARD.0];
            wire.extend_from_slice(&announced.to_be_bytes());
            assert_eq!(d.push(&wire), 5);
            assert_eq!(
                d.next_frame().unwrap_err(),
                FrameError::TooLarge { announced }
            );
            // Only the header was ever buffered.
            assert!(d.buf.capacity() < 64);
        }
    }

    #[test]
    fn maximum_frame_is_accepted_and_buffer_stays_bounded() {
        let wire = frame(ContentType::STANDARD, &vec![7u8; MAX_FRAME_LEN]);
        let mut d = Deframer::new();
        let mut doubled = wire.clone();
        doubled.extend_from_slice(&wire);
        let took = d.push(&doubled);
        assert_eq!(took, wire.len(), "takes exactly one maximal frame");
        assert_eq!(
            d.next_frame().unwrap().unwrap().payload.len(),
            MAX_FRAME_LEN
        );
        assert_eq!(d.push(&doubled[took..]), wire.len());
        assert_eq!(
            d.next_frame().unwrap().unwrap().payload.len(),
            MAX_FRAME_LEN
        );
    }

    #[test]
    fn encoder_refuses_oversized_payloads() {
        assert_eq!(
            encode_frame_header(ContentType::STANDARD, MAX_FRAME_LEN + 1),
            Err(FrameError::PayloadTooLarge(MAX_FRAME_LEN + 1))
        );
    }

    #[test]
    fn unknown_content_types_print_as_hex() {
        assert_eq!(format!("{:?}", ContentType(0xab)), "ContentType(0xab)");
        assert_eq!(format!("{:?}", ContentType::REQUEST), "Request");
    }
}
