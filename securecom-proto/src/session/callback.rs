//! The request channel's optional second transport (the original design's "daemon"):
//! the server connects to a port the client listens on and delivers request-channel
//! messages there.
//!
//! 1. The client draws a 16-byte nonce and sends it, with its port, over the standard
//!    channel ([`crate::command::RequestBody::RegisterCallback`]).
//! 2. Both sides derive from the session's exporter a token,
//!    `export("securecom/1 callback token", nonce)`, and the keys of the new stream,
//!    `export("securecom/1 callback keys", nonce)`. Only the holders of this session's keys
//!    can compute them.
//! 3. The server opens the connection and first sends a [`CallbackHello`] frame with the
//!    session id and the token; the client checks it in constant time, once, within its
//!    deadline, and only then accepts request-channel records on that connection.
//!
//! The callback stream has its own record keys and counter, so records sent before and
//! after the switch can never be confused.

use alloc::vec::Vec;

use subtle::ConstantTimeEq;

use super::{Channel, Incoming, Session, SessionError};
use crate::codec::{
    Codec, ContentType, DecodeError, Deframer, EncodeError, Reader, encode_frame_header,
};
use crate::crypto::Secret;
use crate::record::{OpenedRecord, RecordOpener, RecordSealer, TrafficKeys};

/// Bytes of the callback token.
pub const CALLBACK_TOKEN_LEN: usize = 32;

const CALLBACK_HELLO: u8 = 0x30;
const TOKEN_LABEL: &[u8] = b"securecom/1 callback token";
const KEYS_LABEL: &[u8] = b"securecom/1 callback keys";

/// The first frame the server sends on a callback connection.
#[derive(Clone, PartialEq, Eq)]
pub struct CallbackHello {
    /// The session this connection belongs to.
    pub session_id: u64,
    /// `export("securecom/1 callback token", nonce)`.
    pub token: [u8; CALLBACK_TOKEN_LEN],
}

impl core::fmt::Debug for CallbackHello {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CallbackHello")
            .field("session_id", &self.session_id)
            .finish_non_exhaustive()
    }
}

impl CallbackHello {
    /// Appends the encoding: fixed-size fields only, so it cannot fail.
    fn encode_fixed(&self, out: &mut Vec<u8>) {
        out.push(CALLBACK_HELLO);
        out.extend_from_slice(&self.session_id.to_be_bytes());
        out.extend_from_slice(&self.token);
    }
}

impl Codec for CallbackHello {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.encode_fixed(out);
        Ok(())
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let ty = r.u8()?;
        if ty != CALLBACK_HELLO {
            return Err(DecodeError::UnknownType {
                what: "callback hello",
                code: ty,
            });
        }
        Ok(CallbackHello {
            session_id: r.u64()?,
            token: r.take_array()?,
        })
    }
}

/// The callback stream's state inside a session.
#[cfg_attr(any(test, feature = "fuzzing"), derive(Clone))]
pub(super) struct CallbackStream {
    /// Server side: seals request-channel records for the callback connection.
    pub(super) sealer: Option<RecordSealer>,
    /// Server side: bytes for the callback connection.
    pub(super) out: Vec<u8>,
    /// Client side: opens records from the callback connection, once the hello checked out.
    opener: Option<RecordOpener>,
    /// Client side: the token and keys expected, until the hello arrives.
    expected: Option<([u8; CALLBACK_TOKEN_LEN], Secret)>,
    deframer: Deframer,
}

fn derive(session: &Session, nonce: &[u8; 16]) -> ([u8; CALLBACK_TOKEN_LEN], Secret) {
    let token = session.export_keying_material(TOKEN_LABEL, nonce);
    let keys = Secret::from_array(session.export_keying_material(KEYS_LABEL, nonce));
    (token, keys)
}

impl Session {
    /// Server side: the hello frame to send on a new callback connection for `nonce`, and
    /// from now on, request-channel records go to [`Session::callback_output`].
    pub fn attach_callback(&mut self, nonce: &[u8; 16]) -> Vec<u8> {
        let (token, keys) = derive(self, nonce);
        let mut hello = Vec::new();
        CallbackHello {
            session_id: self.session_id,
            token,
        }
        .encode_fixed(&mut hello);
        let mut frame = Vec::with_capacity(5 + hello.len());
        // A callback hello is 41 bytes: the header cannot fail.
        if let Ok(header) = encode_frame_header(ContentType::HANDSHAKE, hello.len()) {
            frame.extend_from_slice(&header);
        }
        frame.extend_from_slice(&hello);
        self.callback = Some(CallbackStream {
            sealer: Some(RecordSealer::new(
                ContentType::REQUEST,
                TrafficKeys::new(keys),
            )),
            out: Vec::new(),
            opener: None,
            expected: None,
            deframer: Deframer::new(),
        });
        frame
    }

    /// True once a callback transport was set up (server) or is expected (client).
    pub fn has_callback(&self) -> bool {
        self.callback.is_some()
    }

    /// Server side: bytes waiting for the callback connection.
    pub fn callback_output(&self) -> &[u8] {
        self.callback.as_ref().map_or(&[], |c| &c.out)
    }

    /// Server side: marks the first `n` bytes of [`Session::callback_output`] as written.
    pub fn consume_callback_output(&mut self, n: usize) {
        if let Some(c) = self.callback.as_mut() {
            crate::codec::discard_written(&mut c.out, n);
        }
    }

    /// Client side: expects a callback connection for `nonce` (sent in a
    /// `RegisterCallback`). Replaces any earlier expectation.
    pub fn expect_callback(&mut self, nonce: &[u8; 16]) {
        let expected = derive(self, nonce);
        self.callback = Some(CallbackStream {
            sealer: None,
            out: Vec::new(),
            opener: None,
            expected: Some(expected),
            deframer: Deframer::new(),
        });
    }

    /// Client side: true once a callback connection has presented the right token.
    pub fn callback_attached(&self) -> bool {
        self.callback.as_ref().is_some_and(|c| c.opener.is_some())
    }

    /// Client side: checks the hello of an incoming callback connection. The token is
    /// compared in constant time and consumed by the first success, so it works once.
    pub fn accept_callback_hello(&mut self, hello: &CallbackHello) -> Result<(), SessionError> {
        let session_id = self.session_id;
        let Some(cb) = self.callback.as_mut() else {
            return Err(SessionError::CallbackRefused);
        };
        let Some((token, _)) = cb.expected.as_ref() else {
            return Err(SessionError::CallbackRefused);
        };
        let token_ok: bool = token.ct_eq(&hello.token).into();
        if !token_ok || hello.session_id != session_id {
            return Err(SessionError::CallbackRefused);
        }
        if let Some((_, keys)) = cb.expected.take() {
            cb.opener = Some(RecordOpener::new(
                ContentType::REQUEST,
                TrafficKeys::new(keys),
            ));
            cb.deframer = Deframer::new();
        }
        Ok(())
    }

    /// Client side: forgets a pending callback expectation (for example, when it expired).
    pub fn cancel_callback(&mut self) {
        if self.callback.as_ref().is_some_and(|c| c.opener.is_none()) {
            self.callback = None;
        }
    }

    /// Client side: buffers bytes from the attached callback connection; returns how many
    /// were taken. Drain with [`Session::next_callback_record`].
    pub fn push_callback_input(&mut self, data: &[u8]) -> usize {
        match self.callback.as_mut() {
            Some(cb) if cb.opener.is_some() => cb.deframer.push(data),
            _ => data.len(),
        }
    }

    /// Client side: the next request-channel record from the callback connection.
    pub fn next_callback_record(&mut self) -> Result<Option<Incoming<'_>>, SessionError> {
        self.check()?;
        let Some(cb) = self.callback.as_mut() else {
            return Ok(None);
        };
        let Some(opener) = cb.opener.as_mut() else {
            return Ok(None);
        };
        loop {
            let (header, range) = match cb.deframer.next_frame_range() {
                Ok(Some(f)) => f,
                Ok(None) => return Ok(None),
                Err(e) => return Err(self.fail(SessionError::Frame(e))),
            };
            let [content_type, ..] = header;
            if ContentType(content_type) != ContentType::REQUEST {
                return Err(self.fail(SessionError::UnexpectedFrame(ContentType(content_type))));
            }
            let len = match opener.open(&header, cb.deframer.slice_mut(range.clone())) {
                Ok(OpenedRecord::Data(payload)) => payload.len(),
                Ok(OpenedRecord::KeyUpdated) => continue,
                Ok(OpenedRecord::Close(_)) => {
                    return Err(self.fail(SessionError::UnexpectedFrame(ContentType::REQUEST)));
                }
                Err(e) => return Err(self.fail(SessionError::Record(e))),
            };
            let start = range.start + 1;
            let Some(cb) = self.callback.as_ref() else {
                return Ok(None);
            };
            return Ok(Some(Incoming::Data {
                channel: Channel::Request,
                payload: cb.deframer.slice(start..start + len),
            }));
        }
    }
}
