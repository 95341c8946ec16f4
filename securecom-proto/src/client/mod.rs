//! The client's chat logic: a state machine over an established [`Session`].
//!
//! A [`ChatClient`] turns user commands into requests, and responses and notices into
//! [`ClientEvent`]s for the user interface. It runs the end-to-end chat handshake and
//! ratchet itself, so the server only ever sees ciphertext. Its states:
//!
//! ```text
//!            request_chat            RequestAccepted             ChatReply ok
//!   Idle ──────────────────▶ Requesting ───────────▶ Initiating ─────────────▶ Chatting
//!    │ IncomingRequest                                                          ▲
//!    ▼            accept                 ChatHello              ChatConfirm ok  │
//!   Asked ────────────────▶ Responding ───────────▶ Confirming ─────────────────┘
//! ```
//!
//! Any state other than `Idle` is busy: an incoming request is refused automatically,
//! without asking the user (the original's `isChatting`).
//!
//! ## Driving
//! Drivers run it inside a [`ClientEndpoint`](crate::endpoint::ClientEndpoint), which adds
//! the handshake before it and every decision about sockets (see the contract there).
//! Like every machine of this crate: user commands append output; bytes go in through
//! [`ChatClient::handle_input`] (and [`ChatClient::handle_callback_input`] for the optional
//! callback connection); [`ChatClient::output`] / [`ChatClient::consume_output`] give the
//! bytes to write; [`ChatClient::poll_event`] gives events; [`ChatClient::poll_timeout`] /
//! [`ChatClient::handle_timeout`] keep the session alive.

mod blocking;
mod event;
mod inbound;
mod keys;
#[cfg(feature = "fuzzing")]
mod snapshot;

pub use blocking::MAX_BLOCKED;
pub use event::{AutoRefusal, ChatEndReason, ClientEvent, CommandKind, OnlineUser};

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::sync::Arc;
use core::fmt;
use core::time::Duration;

use rand_core::CryptoRng;

use crate::chat::{
    ChatError, ChatInitiator, ChatResponder, ChatSession, KnownKeys, KnownKeysError, MAX_TEXT_LEN,
    PreparedInitiator, ResponderAwaitingConfirm, SafetyNumber,
};
use crate::codec::{Codec, EncodeError};
use crate::command::{Request, RequestBody, RequestId};
use crate::handshake::ClientConfig;
use crate::identity::{PublicKey, Username};
use crate::session::{Channel, CloseReason, Session, SessionError};
use crate::time::Instant;

/// Commands awaiting their response, at most.
pub const MAX_PENDING_COMMANDS: usize = 64;

/// How long a callback registration waits for the server's connection.
pub const CALLBACK_TIMEOUT: Duration = Duration::from_secs(30);

/// A ping is sent after this much silence, well inside the relay's idle timeout.
pub const DEFAULT_PING_INTERVAL: Duration = Duration::from_secs(30);

/// Why a client call failed, layered by who is at fault.
///
/// - The caller: [`ClientError::Misuse`]; nothing was sent and the session goes on.
/// - The end-to-end chat: [`ClientError::Chat`]; the chat cannot seal the message.
/// - The session is over: [`ClientError::Ended`] says who ended it (we, the server, or the
///   connection), [`ClientError::ProtocolViolation`] and [`ClientError::Session`] that the
///   server or the record layer broke it. These are sticky: every later command returns
///   the same error.
/// - A callback connection: [`ClientError::CallbackRefused`]; close it, the session goes on.
/// - Our own command did not fit the wire: [`ClientError::Encode`]; nothing was sent and
///   the session goes on.
/// - The known-keys store could not keep a change: [`ClientError::KnownKeys`]; the session
///   goes on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The caller asked for something the current state or the limits do not allow.
    #[error("{0}")]
    Misuse(#[from] Misuse),
    /// The end-to-end chat could not seal the message.
    #[error("chat: {0}")]
    Chat(#[from] ChatError),
    /// The session with the server is over.
    #[error("{0}")]
    Ended(#[from] SessionEnd),
    /// The server broke the command protocol (the session is over).
    #[error("server sent an invalid or unexpected message")]
    ProtocolViolation,
    /// The record layer failed: a record did not authenticate, or came out of order (the
    /// session is over).
    #[error("session: {0}")]
    Session(#[from] SessionError),
    /// A callback connection was refused; close that connection (the session goes on).
    #[error("callback connection refused")]
    CallbackRefused,
    /// A command could not be encoded (a field longer than the protocol carries): a local
    /// failure; nothing was sent and the session goes on.
    #[error("cannot encode the command: {0}")]
    Encode(#[from] EncodeError),
    /// The known-keys store could not keep a change (the session goes on).
    #[error("{0}")]
    KnownKeys(#[from] KnownKeysError),
}

/// A command the caller should not have given now; nothing was sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Misuse {
    /// The command does not fit the current state (for example, `accept` with no request).
    #[error("not possible now: {0}")]
    InvalidState(&'static str),
    /// Too many commands are waiting for a response.
    #[error("too many commands in flight")]
    TooManyPending,
    /// An empty message.
    #[error("empty message")]
    EmptyText,
    /// A message longer than [`MAX_TEXT_LEN`] bytes.
    #[error("message of {len} bytes, longer than {max}")]
    TextTooLong {
        /// Its length in bytes.
        len: usize,
        /// The most allowed.
        max: usize,
    },
    /// [`MAX_BLOCKED`] users are blocked already.
    #[error("{max} users are blocked already, the most a client blocks")]
    TooManyBlocked {
        /// The most users blocked.
        max: usize,
    },
}

/// Who ended the session with the server.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionEnd {
    /// We left ([`ChatClient::exit`]) and the server confirmed.
    #[error("we left the server")]
    WeClosed,
    /// The server closed the session, for this reason.
    #[error("the server closed the session: {0}")]
    ServerClosed(CloseReason),
    /// The connection ended without a close from either side.
    #[error("the connection to the server was lost")]
    ConnectionLost,
}

/// One inbound connection to the client's callback daemon. Create one per accepted socket
/// and pass it to [`ChatClient::handle_callback_input`] with that socket's bytes.
#[derive(Debug, Default)]
pub struct CallbackConnection {
    deframer: crate::codec::Deframer,
    attached: bool,
}

impl CallbackConnection {
    /// A connection that has not presented its token yet.
    pub fn new() -> Self {
        CallbackConnection::default()
    }

    /// True once this connection presented the right token.
    pub fn is_attached(&self) -> bool {
        self.attached
    }
}

/// Where the client stands, for display.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChatStatus {
    /// Not chatting.
    Idle,
    /// Waiting for `to` to answer our request.
    Requesting(Username),
    /// `from` asks us to chat.
    Asked(Username),
    /// The end-to-end handshake with this user is running.
    Negotiating(Username),
    /// In a chat with this user.
    Chatting(Username),
}

enum State {
    Idle,
    Requesting {
        to: Username,
        prepared: PreparedInitiator,
    },
    Asked {
        from: Username,
        key: PublicKey,
    },
    Initiating(ChatInitiator),
    Responding(ChatResponder),
    Confirming(ResponderAwaitingConfirm),
    Chatting(ChatSession),
}

/// The client's chat logic. See the [module documentation](self).
pub struct ChatClient {
    session: Session,
    config: Arc<ClientConfig>,
    state: State,
    known_keys: Box<dyn KnownKeys + Send>,
    /// Users whose requests are refused at once ([`ChatClient::block`]).
    blocked: BTreeSet<Username>,
    next_id: RequestId,
    pending: BTreeMap<RequestId, CommandKind>,
    events: VecDeque<ClientEvent>,
    last_sent: Instant,
    ping_interval: Duration,
    callback_deadline: Option<Instant>,
    /// We sent `Exit`: the server's close that follows is ours.
    exiting: bool,
    /// Why the session is over, once it is (returned by every later command).
    ended: Option<ClientError>,
}

impl fmt::Debug for ChatClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatClient")
            .field("user", self.username())
            .field("status", &self.status())
            .finish_non_exhaustive()
    }
}

impl ChatClient {
    /// Wraps an established session. `known_keys` remembers the keys seen per user.
    pub fn new(
        session: Session,
        config: Arc<ClientConfig>,
        known_keys: Box<dyn KnownKeys + Send>,
        now: Instant,
    ) -> Self {
        ChatClient {
            session,
            config,
            state: State::Idle,
            known_keys,
            blocked: BTreeSet::new(),
            next_id: 1,
            pending: BTreeMap::new(),
            events: VecDeque::new(),
            last_sent: now,
            ping_interval: DEFAULT_PING_INTERVAL,
            callback_deadline: None,
            exiting: false,
            ended: None,
        }
    }

    /// Replaces the keep-alive interval.
    pub fn with_ping_interval(mut self, interval: Duration) -> Self {
        self.ping_interval = interval;
        self
    }

    /// Our username.
    pub fn username(&self) -> &Username {
        &self.config.username
    }

    /// The session with the server.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Where we stand.
    pub fn status(&self) -> ChatStatus {
        match &self.state {
            State::Idle => ChatStatus::Idle,
            State::Requesting { to, .. } => ChatStatus::Requesting(to.clone()),
            State::Asked { from, .. } => ChatStatus::Asked(from.clone()),
            State::Initiating(h) => ChatStatus::Negotiating(h.peer().clone()),
            State::Responding(h) => ChatStatus::Negotiating(h.peer().clone()),
            State::Confirming(h) => ChatStatus::Negotiating(h.peer().clone()),
            State::Chatting(c) => ChatStatus::Chatting(c.peer().clone()),
        }
    }

    /// The safety number of the current chat.
    pub fn safety_number(&self) -> Option<SafetyNumber> {
        match &self.state {
            State::Chatting(c) => Some(c.safety_number()),
            _ => None,
        }
    }

    /// True once the session with the server has ended.
    pub fn is_closed(&self) -> bool {
        self.ended.is_some()
    }

    /// Why the session ended, once it has: the error every command now returns.
    pub fn ended(&self) -> Option<&ClientError> {
        self.ended.as_ref()
    }

    /// Records why the session ended (the first reason sticks) and returns it.
    pub(crate) fn end(&mut self, why: ClientError) -> ClientError {
        self.ended.get_or_insert(why).clone()
    }

    /// The driver's socket to the server ended (EOF or error): ends any chat and reports
    /// whether the end was authenticated.
    pub fn connection_lost(&mut self) {
        let clean = self.ended.is_some();
        if !clean {
            self.end(ClientError::Ended(SessionEnd::ConnectionLost));
            if let Some(peer) = self.chat_peer() {
                self.end_chat(peer, ChatEndReason::Disconnected);
            }
            self.state = State::Idle;
        }
        self.events.push_back(ClientEvent::ConnectionLost { clean });
    }

    /// The next event for the user interface.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    /// Bytes to write to the server.
    pub fn output(&self) -> &[u8] {
        self.session.output()
    }

    /// Marks the first `n` bytes of [`ChatClient::output`] as written.
    pub fn consume_output(&mut self, n: usize) {
        self.session.consume_output(n);
    }

    // ----- commands -----

    /// Asks the server who is online.
    pub fn list_users(&mut self, now: Instant) -> Result<(), ClientError> {
        self.command(now, CommandKind::ListUsers, RequestBody::ListUsers)
    }

    /// Asks the server for a user's registered key.
    pub fn get_public_key(&mut self, now: Instant, user: &Username) -> Result<(), ClientError> {
        self.command(
            now,
            CommandKind::GetPublicKey,
            RequestBody::GetPublicKey(user.clone()),
        )
    }

    /// Asks `user` to chat. Draws the end-to-end handshake's randomness now.
    pub fn request_chat<R: CryptoRng + ?Sized>(
        &mut self,
        now: Instant,
        user: &Username,
        rng: &mut R,
    ) -> Result<(), ClientError> {
        if !matches!(self.state, State::Idle) {
            return Err(Misuse::InvalidState("already requesting or chatting").into());
        }
        self.command(
            now,
            CommandKind::RequestChat,
            RequestBody::RequestChat(user.clone()),
        )?;
        self.state = State::Requesting {
            to: user.clone(),
            prepared: PreparedInitiator::new(rng),
        };
        Ok(())
    }

    /// Withdraws our pending request.
    pub fn withdraw_request(&mut self, now: Instant) -> Result<(), ClientError> {
        if !matches!(self.state, State::Requesting { .. }) {
            return Err(Misuse::InvalidState("no request pending").into());
        }
        self.command(now, CommandKind::Withdraw, RequestBody::Withdraw)?;
        self.state = State::Idle;
        Ok(())
    }

    /// Accepts the request we are being asked.
    pub fn accept<R: CryptoRng + ?Sized>(
        &mut self,
        now: Instant,
        rng: &mut R,
    ) -> Result<(), ClientError> {
        let State::Asked { from, key } = &self.state else {
            return Err(Misuse::InvalidState("nobody is asking").into());
        };
        let (from, key) = (from.clone(), *key);
        self.command(
            now,
            CommandKind::Answer,
            RequestBody::Answer {
                from: from.clone(),
                accept: true,
            },
        )?;
        let me = (&self.config.username, self.config.identity.public_key());
        self.state = State::Responding(ChatResponder::new(me, (&from, key), rng));
        Ok(())
    }

    /// Refuses the request we are being asked.
    pub fn deny(&mut self, now: Instant) -> Result<(), ClientError> {
        let State::Asked { from, .. } = &self.state else {
            return Err(Misuse::InvalidState("nobody is asking").into());
        };
        let from = from.clone();
        self.command(
            now,
            CommandKind::Answer,
            RequestBody::Answer {
                from,
                accept: false,
            },
        )?;
        self.state = State::Idle;
        Ok(())
    }

    /// Sends a text message to the chat peer, encrypted end to end. The first text after
    /// the peer spoke draws a fresh ratchet key from `rng` (post-compromise security).
    pub fn send_text<R: CryptoRng + ?Sized>(
        &mut self,
        now: Instant,
        text: &str,
        rng: &mut R,
    ) -> Result<(), ClientError> {
        if let Some(ended) = &self.ended {
            return Err(ended.clone());
        }
        if text.is_empty() {
            return Err(Misuse::EmptyText.into());
        }
        if text.len() > MAX_TEXT_LEN {
            return Err(Misuse::TextTooLong {
                len: text.len(),
                max: MAX_TEXT_LEN,
            }
            .into());
        }
        let State::Chatting(chat) = &mut self.state else {
            return Err(Misuse::InvalidState("not in a chat").into());
        };
        let sealed = chat.seal_text(text, rng)?;
        self.chat_data(now, sealed)
    }

    /// Leaves the chat (or abandons one being negotiated), with an end-to-end close.
    pub fn leave_chat(&mut self, now: Instant) -> Result<(), ClientError> {
        let peer = match core::mem::replace(&mut self.state, State::Idle) {
            State::Chatting(mut chat) => {
                if let Ok(close) = chat.seal_close() {
                    self.chat_data(now, close)?;
                }
                chat.peer().clone()
            }
            State::Initiating(h) => h.peer().clone(),
            State::Responding(h) => h.peer().clone(),
            State::Confirming(h) => h.peer().clone(),
            other => {
                self.state = other;
                return Err(Misuse::InvalidState("not in a chat").into());
            }
        };
        self.command(now, CommandKind::LeaveChat, RequestBody::LeaveChat)?;
        self.events.push_back(ClientEvent::ChatEnded {
            peer,
            reason: ChatEndReason::WeLeft,
        });
        Ok(())
    }

    /// Leaves the server.
    pub fn exit(&mut self, now: Instant) -> Result<(), ClientError> {
        if matches!(self.state, State::Chatting(_)) {
            self.leave_chat(now)?;
        }
        self.command(now, CommandKind::Exit, RequestBody::Exit)?;
        self.exiting = true;
        Ok(())
    }

    /// Asks the server to deliver request-channel messages over a connection to `port`
    /// (the original design's daemon). Hand that connection's bytes to
    /// [`ChatClient::handle_callback_input`].
    pub fn register_callback<R: CryptoRng + ?Sized>(
        &mut self,
        now: Instant,
        port: u16,
        rng: &mut R,
    ) -> Result<(), ClientError> {
        // One callback connection per session, as the relay allows: a second registration
        // would replace the stream the notices arrive on while the relay keeps the first.
        if self.callback_deadline.is_some() || self.session.callback_attached() {
            return Err(Misuse::InvalidState("a callback is already registered").into());
        }
        let mut nonce = [0u8; 16];
        rng.fill_bytes(&mut nonce);
        self.command(
            now,
            CommandKind::RegisterCallback,
            RequestBody::RegisterCallback { port, nonce },
        )?;
        self.session.expect_callback(&nonce);
        self.callback_deadline = Some(now + CALLBACK_TIMEOUT);
        Ok(())
    }

    /// When [`ChatClient::handle_timeout`] must be called next; `None` once the session
    /// has ended. After `handle_timeout(now)` it is never at or before `now`.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.ended.is_some() {
            return None;
        }
        let ping = self.last_sent + self.ping_interval;
        Some(match self.callback_deadline {
            Some(d) if d < ping => d,
            _ => ping,
        })
    }

    /// Sends a keep-alive when due and expires an unanswered callback registration.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), ClientError> {
        if let Some(deadline) = self.callback_deadline
            && now >= deadline
        {
            self.session.cancel_callback();
            self.callback_deadline = None;
        }
        if now >= self.last_sent + self.ping_interval && self.ended.is_none() {
            // The deadline moves even if the ping cannot be queued (too many commands in
            // flight already prove the session is busy), so a driver never spins.
            self.last_sent = now;
            match self.command(now, CommandKind::Ping, RequestBody::Ping) {
                Ok(()) | Err(ClientError::Misuse(Misuse::TooManyPending)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn chat_data(&mut self, now: Instant, payload: alloc::vec::Vec<u8>) -> Result<(), ClientError> {
        self.command(now, CommandKind::ChatData, RequestBody::ChatData(payload))
    }

    fn command(
        &mut self,
        now: Instant,
        kind: CommandKind,
        body: RequestBody,
    ) -> Result<(), ClientError> {
        if let Some(ended) = &self.ended {
            return Err(ended.clone());
        }
        if self.pending.len() >= MAX_PENDING_COMMANDS && kind != CommandKind::ChatData {
            return Err(Misuse::TooManyPending.into());
        }
        let id = self.next_id;
        let request = Request { id, body }.to_bytes()?;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        if let Err(e) = self.session.send(Channel::Standard, &request) {
            return Err(self.end(e.into()));
        }
        // Chat data is answered only on error; remember it only by kind.
        if kind != CommandKind::ChatData {
            self.pending.insert(id, kind);
        }
        self.last_sent = now;
        Ok(())
    }

    fn end_chat(&mut self, peer: Username, reason: ChatEndReason) {
        self.state = State::Idle;
        self.events
            .push_back(ClientEvent::ChatEnded { peer, reason });
    }

    fn server_closed(&mut self, reason: CloseReason) {
        let end = if self.exiting && reason == CloseReason::NORMAL {
            SessionEnd::WeClosed
        } else {
            SessionEnd::ServerClosed(reason)
        };
        self.end(end.into());
        if let Some(peer) = self.chat_peer() {
            self.end_chat(peer, ChatEndReason::Disconnected);
        }
        self.state = State::Idle;
        self.events.push_back(ClientEvent::Closed { reason });
    }

    fn chat_peer(&self) -> Option<Username> {
        match self.status() {
            ChatStatus::Negotiating(p) | ChatStatus::Chatting(p) => Some(p),
            _ => None,
        }
    }
}
