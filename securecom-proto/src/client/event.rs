//! What the chat client tells its user interface.

use alloc::string::String;
use alloc::vec::Vec;

use crate::chat::{ChatError, KeyStatus, KnownKeysError, SafetyNumber};
use crate::command::{CommandError, GoneReason};
use crate::identity::{Fingerprint, PublicKey, Username};
use crate::session::CloseReason;

/// Which command a response or failure belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CommandKind {
    /// `list`.
    ListUsers,
    /// `key NAME`.
    GetPublicKey,
    /// `chat NAME`.
    RequestChat,
    /// `accept` / `deny`.
    Answer,
    /// Withdrawing our request.
    Withdraw,
    /// Sending chat data.
    ChatData,
    /// `leave`.
    LeaveChat,
    /// `quit`.
    Exit,
    /// Keep-alive.
    Ping,
    /// Asking for the callback request channel.
    RegisterCallback,
}

/// Why a chat ended.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChatEndReason {
    /// We left.
    WeLeft,
    /// The peer closed the chat properly (its end-to-end close arrived).
    PeerClosed,
    /// The peer left without an end-to-end close, for the reason the relay gives (left,
    /// disconnected, stopped reading...), or the close was cut off (truncation). Messages
    /// it sent last may be missing.
    PeerGone(GoneReason),
    /// The end-to-end layer failed: tampering, a forged message, or a broken peer.
    Security(ChatError),
    /// The peer's key differs from the one we knew.
    KeyChanged,
    /// Our session with the server ended.
    Disconnected,
}

/// Why a request was refused without asking the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AutoRefusal {
    /// We are in a chat or negotiating one (the original's `isChatting`).
    Busy,
    /// The asker's key changed since we last saw it.
    KeyChanged,
    /// The asker is blocked ([`super::ChatClient::block`]).
    Blocked,
}

/// A user in a list of who is online.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct OnlineUser {
    /// The user's name.
    pub username: Username,
    /// The fingerprint of the key the server has registered for the user.
    pub fingerprint: Fingerprint,
    /// That key compared with the one we remembered ([`KnownKeys::fingerprint_status`]):
    /// [`KeyStatus::Changed`] means the server gives another key than the one a chat
    /// proved (the user re-registered, or the server is lying). Nothing is remembered.
    ///
    /// [`KnownKeys::fingerprint_status`]: crate::chat::KnownKeys::fingerprint_status
    pub key_status: KeyStatus,
}

impl OnlineUser {
    /// A user online with `fingerprint`, compared with what we knew: `key_status`.
    pub fn new(username: Username, fingerprint: Fingerprint, key_status: KeyStatus) -> Self {
        OnlineUser {
            username,
            fingerprint,
            key_status,
        }
    }
}

/// An event for the user interface.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientEvent {
    /// The users online.
    Users {
        /// Each with the fingerprint of its registered key, compared with the known keys.
        users: Vec<OnlineUser>,
        /// More were online than listed.
        truncated: bool,
    },
    /// A user's registered key, as asked, compared with the one we remembered (nothing is
    /// remembered: only a chat handshake proves a key).
    PublicKey {
        /// Whose.
        user: Username,
        /// The key the server gave.
        key: PublicKey,
        /// [`KeyStatus::FirstSeen`], [`KeyStatus::Known`], [`KeyStatus::Verified`], or
        /// [`KeyStatus::Changed`]: the server gives another key than the one we
        /// remembered (the user re-registered, or the server is lying): warn.
        key_status: KeyStatus,
    },
    /// Our chat request reached the other user.
    RequestSent {
        /// To whom.
        to: Username,
    },
    /// Someone asks to chat: answer with `accept` or `deny`.
    IncomingRequest {
        /// Who.
        from: Username,
        /// The fingerprint of their registered key.
        fingerprint: Fingerprint,
        /// Whether we knew this key: [`KeyStatus::FirstSeen`], [`KeyStatus::Known`] or
        /// [`KeyStatus::Verified`] (a changed key is [`ClientEvent::KeyChanged`] and an
        /// automatic refusal). Nothing is remembered yet.
        key_status: KeyStatus,
    },
    /// A request was refused automatically.
    AutoRefused {
        /// Who asked.
        from: Username,
        /// Why.
        reason: AutoRefusal,
    },
    /// The other user accepted: the end-to-end handshake is running.
    RequestAccepted {
        /// Who.
        peer: Username,
        /// The fingerprint of the key the relay gave for them (the handshake proves it).
        fingerprint: Fingerprint,
        /// Whether we knew this key: [`KeyStatus::FirstSeen`], [`KeyStatus::Known`] or
        /// [`KeyStatus::Verified`] (a changed key ends the chat instead). Nothing is
        /// remembered yet.
        key_status: KeyStatus,
    },
    /// The other user refused (or was busy).
    RequestDenied {
        /// Who.
        peer: Username,
    },
    /// A request expired unanswered.
    RequestExpired {
        /// The other user.
        peer: Username,
    },
    /// The asker withdrew its request (or went offline).
    RequestWithdrawn {
        /// Who.
        from: Username,
    },
    /// A user's key differs from the one we remembered: the server may be lying. The chat
    /// is refused until the user accepts the new key ([`super::ChatClient::trust_key`]).
    /// When `verified`, the user had compared the old key's safety number: warn loudly.
    KeyChanged {
        /// Whose key.
        user: Username,
        /// What we remembered.
        previous: Fingerprint,
        /// What the server gave now.
        current: Fingerprint,
        /// The new key, to [`super::ChatClient::trust_key`] once the user has verified it
        /// out of band.
        key: PublicKey,
        /// Whether the user had verified the key we remembered.
        verified: bool,
    },
    /// The end-to-end chat is established: compare the safety number with the peer, then
    /// [`super::ChatClient::verify_peer`]. The peer proved it holds its key, which is now
    /// remembered if it was not.
    ChatEstablished {
        /// With whom.
        peer: Username,
        /// The number to compare out of band.
        safety_number: SafetyNumber,
        /// The peer's key as it was before this chat: [`KeyStatus::FirstSeen`] (now
        /// remembered, not verified), [`KeyStatus::Known`] or [`KeyStatus::Verified`].
        key_status: KeyStatus,
    },
    /// The user marked the chat peer's key as verified
    /// ([`super::ChatClient::verify_peer`]).
    KeyVerified {
        /// Whose key.
        user: Username,
        /// Its fingerprint.
        fingerprint: Fingerprint,
    },
    /// The known-keys store could not keep a key (a file that cannot be written, a store
    /// that is full). The chat goes on; the key may be forgotten after this run.
    KnownKeysFailed {
        /// What went wrong, naming the store.
        error: KnownKeysError,
    },
    /// A message from the chat peer, authentic and in order.
    Message {
        /// From whom.
        from: Username,
        /// The text.
        text: String,
    },
    /// The chat ended.
    ChatEnded {
        /// With whom.
        peer: Username,
        /// Why.
        reason: ChatEndReason,
    },
    /// A command was refused by the server.
    CommandFailed {
        /// Which command.
        command: CommandKind,
        /// Why.
        error: CommandError,
    },
    /// The callback connection presented the right token; request-channel messages now
    /// arrive over it.
    CallbackAttached,
    /// The server ended our session with an authenticated close.
    Closed {
        /// Its reason.
        reason: CloseReason,
    },
    /// The connection to the server ended. `clean` is false when it ended without the
    /// server's authenticated close: a network failure, or someone cutting the stream.
    ConnectionLost {
        /// Whether the server's close record came first.
        clean: bool,
    },
}
