//! What the relay tells the application.

use alloc::vec::Vec;

use super::ConnectionId;
use crate::cluster::{BusError, NodeId};
use crate::command::GoneReason;
use crate::handshake::HandshakeError;
use crate::identity::Username;
use crate::session::SessionError;

/// Why a user went offline.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OfflineReason {
    /// The user said goodbye.
    Exit,
    /// The connection ended without a goodbye.
    Disconnected,
    /// The user was silent for longer than the idle timeout.
    Idle,
    /// A newer login with the same identity replaced this one.
    Replaced,
    /// The session broke the protocol.
    ProtocolError,
    /// The connection could not keep up with its output.
    TooSlow,
    /// The socket took none of the bytes handed to it within the write timeout.
    Stalled,
    /// The server is shutting down.
    Shutdown,
    /// The key of the session is no longer registered (the directory changed).
    Revoked,
}

impl OfflineReason {
    /// What the chat partner of a user gone offline for this reason is told.
    pub fn gone_reason(&self) -> GoneReason {
        match self {
            OfflineReason::Exit => GoneReason::EXITED,
            OfflineReason::Disconnected => GoneReason::DISCONNECTED,
            OfflineReason::Idle => GoneReason::IDLE,
            OfflineReason::Replaced => GoneReason::REPLACED,
            OfflineReason::ProtocolError => GoneReason::PROTOCOL_ERROR,
            OfflineReason::TooSlow | OfflineReason::Stalled => GoneReason::STALLED,
            OfflineReason::Shutdown => GoneReason::SHUTDOWN,
            OfflineReason::Revoked => GoneReason::REVOKED,
        }
    }
}

/// An event for the application (logs, metrics, the driver).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RelayEvent {
    /// A client completed the handshake and is online.
    UserOnline {
        /// Its connection.
        connection: ConnectionId,
        /// Who.
        user: Username,
    },
    /// A user left.
    UserOffline {
        /// Its connection.
        connection: ConnectionId,
        /// Who.
        user: Username,
        /// Why.
        reason: OfflineReason,
    },
    /// A login was refused after authentication (second login, server full).
    LoginRefused {
        /// The connection.
        connection: ConnectionId,
        /// Who tried.
        user: Username,
    },
    /// Two users started chatting.
    ChatStarted {
        /// The requester.
        initiator: Username,
        /// The one who accepted.
        responder: Username,
    },
    /// A chat ended.
    ChatEnded {
        /// One side.
        a: Username,
        /// The other.
        b: Username,
    },
    /// A handshake failed (the peer got only the generic alert).
    HandshakeFailed {
        /// The connection.
        connection: ConnectionId,
        /// What failed, precisely.
        error: HandshakeError,
    },
    /// An established session failed (bad record, malformed command).
    SessionFailed {
        /// The connection.
        connection: ConnectionId,
        /// What failed.
        error: SessionFailure,
    },
    /// The cluster's bus is reachable (at start, or again after an outage).
    BusConnected,
    /// The cluster's bus is unreachable: users of other nodes are unreachable.
    BusDisconnected,
    /// Another relay node was heard from (first, again, or after a restart).
    NodeJoined {
        /// Its id.
        node: NodeId,
    },
    /// Another relay node said goodbye or fell silent for longer than the node timeout;
    /// its users' chat peers here were told they are gone.
    NodeLost {
        /// Its id.
        node: NodeId,
    },
    /// A bus message or presence entry was dropped: forged, altered, replayed, stale, or
    /// not for this node.
    BusMessageDropped {
        /// Why.
        error: BusError,
    },
    /// A client asked for the callback request channel: the driver must connect to the
    /// client's address on `port`, write `hello`, then write
    /// [`super::Relay::callback_output`] on that connection (or report
    /// [`super::Relay::callback_failed`]).
    CallbackRequested {
        /// The client's main connection.
        connection: ConnectionId,
        /// The port its daemon listens on.
        port: u16,
        /// The first bytes to write on the new connection (the token).
        hello: Vec<u8>,
    },
}

/// Why an established session was dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionFailure {
    /// The record layer or framing failed.
    Session(SessionError),
    /// A command could not be decoded.
    MalformedCommand,
    /// A record on a channel the client may not send on.
    WrongChannel,
}
