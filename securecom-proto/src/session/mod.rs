//! An established, mutually authenticated connection between a client and the server.
//!
//! A [`Session`] exists only as the result of a completed handshake
//! ([`crate::handshake::ClientHandshake`] or [`crate::handshake::AuthenticatedClient::accept`]),
//! so holding one means every check passed. It carries two channels, each with its own keys
//! and counters in each direction:
//!
//! - [`Channel::Standard`]: the client's requests and the server's responses;
//! - [`Channel::Request`]: messages the server initiates (an incoming chat request, a peer
//!   that left), kept apart as the original design's "request channel".
//!
//! ## Driving a session
//!
//! 1. Append outgoing records with [`Session::send`] / [`Session::close`]; write
//!    [`Session::output`] to the socket and call [`Session::consume_output`] with how much
//!    was written.
//! 2. Give received bytes to [`Session::push_input`] (it takes what fits and says how much),
//!    then call [`Session::next_record`] until it returns `None`; repeat with the rest.
//!
//! Records are decrypted in place in the input buffer, so the steady path allocates nothing.
//! Any error is fatal and sticky.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

mod callback;

pub use callback::{CALLBACK_TOKEN_LEN, CallbackHello};

use crate::codec::{ContentType, Deframer, FrameError};
use crate::crypto::Secret;
use crate::identity::{PublicKey, Username};
use crate::record::{OpenedRecord, RecordError, RecordOpener, RecordSealer, TrafficKeys};

/// Which side of the connection we are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The side that connected and authenticated with its username and key.
    Client,
    /// The relay server, authenticated by its certificate.
    Server,
}

/// The two logical channels of a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Channel {
    /// Client requests and server responses.
    Standard,
    /// Server-initiated messages.
    Request,
}

/// Why a session is closed, sent in the authenticated close record.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CloseReason(pub u8);

impl CloseReason {
    /// An orderly goodbye.
    pub const NORMAL: CloseReason = CloseReason(0x00);
    /// The server refused a second login with the same identity.
    pub const ALREADY_LOGGED_IN: CloseReason = CloseReason(0x01);
    /// The server has no room for another user.
    pub const SERVER_FULL: CloseReason = CloseReason(0x02);
    /// The peer was silent for too long.
    pub const IDLE_TIMEOUT: CloseReason = CloseReason(0x03);
    /// The peer broke the protocol.
    pub const PROTOCOL_ERROR: CloseReason = CloseReason(0x04);
    /// The server is shutting down.
    pub const SHUTDOWN: CloseReason = CloseReason(0x05);
    /// A newer login with the same identity replaced this session.
    pub const REPLACED: CloseReason = CloseReason(0x06);
    /// The peer did not read its output fast enough.
    pub const TOO_SLOW: CloseReason = CloseReason(0x07);
    /// The server cannot serve this login now (a clustered relay could not confirm the
    /// login with the other nodes); try again later.
    pub const UNAVAILABLE: CloseReason = CloseReason(0x08);
    /// The key this session logged in with is no longer registered (the server's user
    /// directory was changed while it ran).
    pub const REVOKED: CloseReason = CloseReason(0x09);
}

impl fmt::Debug for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match *self {
            Self::NORMAL => "Normal",
            Self::ALREADY_LOGGED_IN => "AlreadyLoggedIn",
            Self::SERVER_FULL => "ServerFull",
            Self::IDLE_TIMEOUT => "IdleTimeout",
            Self::PROTOCOL_ERROR => "ProtocolError",
            Self::SHUTDOWN => "Shutdown",
            Self::REPLACED => "Replaced",
            Self::TOO_SLOW => "TooSlow",
            Self::UNAVAILABLE => "Unavailable",
            Self::REVOKED => "Revoked",
            CloseReason(other) => return write!(f, "CloseReason(0x{other:02x})"),
        };
        f.write_str(name)
    }
}

/// The reason in words, as the server's user reads it.
///
/// ```
/// use securecom_proto::session::CloseReason;
/// assert_eq!(CloseReason::SHUTDOWN.to_string(), "the server is shutting down");
/// assert_eq!(CloseReason(0x7f).to_string(), "closed for an unknown reason (0x7f)");
/// ```
impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words = match *self {
            Self::NORMAL => "the session ended normally",
            Self::ALREADY_LOGGED_IN => "this user is already logged in from elsewhere",
            Self::SERVER_FULL => "the server is full",
            Self::IDLE_TIMEOUT => "the connection was idle for too long",
            Self::PROTOCOL_ERROR => "the server saw a protocol error",
            Self::SHUTDOWN => "the server is shutting down",
            Self::REPLACED => "a newer login of this user replaced this session",
            Self::TOO_SLOW => "the connection did not keep up with the server",
            Self::UNAVAILABLE => "the server cannot serve this login now; try again later",
            CloseReason(other) => {
                return write!(f, "closed for an unknown reason (0x{other:02x})");
            }
        };
        f.write_str(words)
    }
}

/// Who is on the other end, as the handshake proved it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeerIdentity {
    /// The server, as seen by a client.
    Server {
        /// The name its certificate was checked against.
        name: String,
        /// The key of its certificate.
        key: PublicKey,
    },
    /// A client, as seen by the server.
    Client {
        /// The username it proved.
        username: Username,
        /// The registered key it signed with.
        key: PublicKey,
    },
}

enum Opened {
    Data(usize),
    Close(u8),
}

/// A record received on a session.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming<'a> {
    /// Application bytes on a channel.
    Data {
        /// The channel it came on.
        channel: Channel,
        /// The decrypted payload (borrowed from the input buffer).
        payload: &'a [u8],
    },
    /// The peer closed the session with an authenticated close record.
    Closed(CloseReason),
}

/// Why a session failed. Fatal and sticky.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The byte stream could not be framed.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// A record failed to open or seal.
    #[error(transparent)]
    Record(#[from] RecordError),
    /// A frame of a type that has no place in an established session.
    #[error("unexpected frame {0:?} in an established session")]
    UnexpectedFrame(ContentType),
    /// The session was closed; nothing more can be sent or received.
    #[error("session closed")]
    Closed,
    /// A callback connection presented a wrong, replayed or unexpected token.
    #[error("callback connection refused")]
    CallbackRefused,
}

/// The traffic secrets a completed handshake hands to the session.
pub(crate) struct SessionSecrets {
    pub(crate) client_standard: Secret,
    pub(crate) server_standard: Secret,
    pub(crate) client_request: Secret,
    pub(crate) server_request: Secret,
    pub(crate) exporter: Secret,
}

/// The record protection of both channels in both directions, built from the secrets for
/// one role. The handshakes use it for the first record (the Welcome) before the session
/// exists.
#[cfg_attr(any(test, feature = "fuzzing"), derive(Clone))]
pub(crate) struct SessionKeys {
    pub(crate) tx_standard: RecordSealer,
    pub(crate) tx_request: RecordSealer,
    pub(crate) rx_standard: RecordOpener,
    pub(crate) rx_request: RecordOpener,
    exporter: Secret,
}

impl SessionKeys {
    pub(crate) fn new(role: Role, secrets: SessionSecrets) -> Self {
        let SessionSecrets {
            client_standard,
            server_standard,
            client_request,
            server_request,
            exporter,
        } = secrets;
        let (tx_std, rx_std, tx_req, rx_req) = match role {
            Role::Client => (
                client_standard,
                server_standard,
                client_request,
                server_request,
            ),
            Role::Server => (
                server_standard,
                client_standard,
                server_request,
                client_request,
            ),
        };
        SessionKeys {
            tx_standard: RecordSealer::new(ContentType::STANDARD, TrafficKeys::new(tx_std)),
            tx_request: RecordSealer::new(ContentType::REQUEST, TrafficKeys::new(tx_req)),
            rx_standard: RecordOpener::new(ContentType::STANDARD, TrafficKeys::new(rx_std)),
            rx_request: RecordOpener::new(ContentType::REQUEST, TrafficKeys::new(rx_req)),
            exporter,
        }
    }
}

/// An established session: see the [module documentation](self).
#[cfg_attr(any(test, feature = "fuzzing"), derive(Clone))]
pub struct Session {
    role: Role,
    session_id: u64,
    peer: PeerIdentity,
    keys: SessionKeys,
    deframer: Deframer,
    out: Vec<u8>,
    error: Option<SessionError>,
    closed_by_peer: bool,
    /// The request channel's second transport, once attached (see [`callback`]).
    callback: Option<callback::CallbackStream>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("role", &self.role)
            .field("session_id", &self.session_id)
            .field("peer", &self.peer)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl Session {
    pub(crate) fn new(
        role: Role,
        session_id: u64,
        peer: PeerIdentity,
        keys: SessionKeys,
        deframer: Deframer,
        out: Vec<u8>,
    ) -> Self {
        Session {
            role,
            session_id,
            peer,
            keys,
            deframer,
            out,
            error: None,
            closed_by_peer: false,
            callback: None,
        }
    }

    /// Our side of the connection.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The session identifier the server assigned (sent in its first record).
    pub fn session_id(&self) -> u64 {
        self.session_id
    }

    /// The authenticated peer.
    pub fn peer(&self) -> &PeerIdentity {
        &self.peer
    }

    /// The first fatal error, if any.
    pub fn error(&self) -> Option<SessionError> {
        self.error
    }

    /// True once either side closed the session.
    pub fn is_closed(&self) -> bool {
        self.closed_by_peer || self.keys.tx_standard.is_closed()
    }

    /// Derives 32 bytes of keying material bound to this session (both sides get the same),
    /// as TLS exporters do. Distinct labels or contexts give independent outputs; label and
    /// context are hashed first, so they may be of any length.
    ///
    /// `Expand-Label(Expand-Label(exporter, SHA-256(label), ""), "exporter", SHA-256(context))`
    pub fn export_keying_material(&self, label: &[u8], context: &[u8]) -> [u8; 32] {
        use sha2::{Digest, Sha256};
        let per_label = self.keys.exporter.derive(&Sha256::digest(label), b"");
        *per_label
            .derive(b"exporter", &Sha256::digest(context))
            .as_bytes()
    }

    /// Appends one record carrying `payload` on `channel` to the output.
    pub fn send(&mut self, channel: Channel, payload: &[u8]) -> Result<(), SessionError> {
        self.check()?;
        if self.keys.tx_standard.is_closed() {
            return Err(SessionError::Closed);
        }
        if channel == Channel::Request
            && let Some(cb) = self.callback.as_mut()
            && let Some(sealer) = cb.sealer.as_mut()
        {
            return Ok(sealer.seal_data(payload, &mut cb.out)?);
        }
        let sealer = match channel {
            Channel::Standard => &mut self.keys.tx_standard,
            Channel::Request => &mut self.keys.tx_request,
        };
        // Sealing errors (payload too large) are the caller's, not the peer's: not fatal.
        Ok(sealer.seal_data(payload, &mut self.out)?)
    }

    /// Appends an authenticated close record: the peer can tell an orderly end from a cut
    /// connection. Nothing can be sent afterwards.
    pub fn close(&mut self, reason: CloseReason) -> Result<(), SessionError> {
        self.check()?;
        if self.keys.tx_standard.is_closed() {
            return Ok(());
        }
        Ok(self
            .keys
            .tx_standard
            .seal_close(&[reason.0], &mut self.out)?)
    }

    /// Bytes waiting to be written to the peer.
    pub fn output(&self) -> &[u8] {
        &self.out
    }

    /// Marks the first `n` bytes of [`Session::output`] as written.
    pub fn consume_output(&mut self, n: usize) {
        crate::codec::discard_written(&mut self.out, n);
    }

    /// True when output is waiting.
    pub fn wants_write(&self) -> bool {
        !self.out.is_empty()
    }

    /// Buffers as much of `data` as fits and returns how many bytes were taken; then drain
    /// records with [`Session::next_record`] and push the rest.
    pub fn push_input(&mut self, data: &[u8]) -> usize {
        if self.error.is_some() || self.closed_by_peer {
            // Nothing after a fatal error or the peer's close can matter: swallow it.
            return data.len();
        }
        self.deframer.push(data)
    }

    /// Bytes of an incomplete record held in the input buffer.
    pub fn buffered_input(&self) -> usize {
        self.deframer.buffered()
    }

    /// Authenticates and decrypts the next buffered record, if a whole one is here.
    pub fn next_record(&mut self) -> Result<Option<Incoming<'_>>, SessionError> {
        self.check()?;
        if self.closed_by_peer {
            return Ok(None);
        }
        loop {
            let (header, range) = match self.deframer.next_frame_range() {
                Ok(Some(frame)) => frame,
                Ok(None) => return Ok(None),
                Err(e) => return Err(self.fail(SessionError::Frame(e))),
            };
            let [content_type, ..] = header;
            let (channel, opener) = match ContentType(content_type) {
                ContentType::STANDARD => (Channel::Standard, &mut self.keys.rx_standard),
                ContentType::REQUEST => (Channel::Request, &mut self.keys.rx_request),
                other => return Err(self.fail(SessionError::UnexpectedFrame(other))),
            };
            // Decide with a short borrow, then hand out the payload with a fresh one.
            let outcome = match opener.open(&header, self.deframer.slice_mut(range.clone())) {
                Ok(OpenedRecord::Data(payload)) => Opened::Data(payload.len()),
                Ok(OpenedRecord::KeyUpdated) => continue,
                Ok(OpenedRecord::Close(reason)) => {
                    Opened::Close(reason.first().copied().unwrap_or(CloseReason::NORMAL.0))
                }
                Err(e) => return Err(self.fail(SessionError::Record(e))),
            };
            return match outcome {
                Opened::Data(len) => {
                    // The payload follows the one-byte record kind.
                    let start = range.start + 1;
                    let payload = self.deframer.slice(start..start + len);
                    Ok(Some(Incoming::Data { channel, payload }))
                }
                Opened::Close(_) if channel != Channel::Standard => {
                    Err(self.fail(SessionError::UnexpectedFrame(ContentType::REQUEST)))
                }
                Opened::Close(reason) => {
                    self.closed_by_peer = true;
                    Ok(Some(Incoming::Closed(CloseReason(reason))))
                }
            };
        }
    }

    fn fail(&mut self, e: SessionError) -> SessionError {
        self.error = Some(e);
        e
    }

    fn check(&self) -> Result<(), SessionError> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}
