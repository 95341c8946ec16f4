//! One plain sentence per event, for people (line mode keeps its own format).

use securecom_proto::chat::KeyStatus;
use securecom_proto::client::{AutoRefusal, ChatEndReason, ClientEvent, CommandKind};
use securecom_proto::command::GoneReason;
use securecom_proto::session::CloseReason;

/// How loudly a notice is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Level {
    /// Something happened.
    Info,
    /// Something the user must look at: a changed key, a security failure.
    Warning,
    /// Something failed.
    Error,
}

/// The sentence for `event`, unless the event is shown another way (messages, and user
/// lists, which only update the side panel).
pub(crate) fn describe(event: &ClientEvent) -> Option<(Level, String)> {
    use Level::{Error, Info, Warning};
    Some(match event {
        ClientEvent::Users { .. } | ClientEvent::Message { .. } => return None,
        ClientEvent::PublicKey {
            user,
            key,
            key_status,
        } => match key_status {
            KeyStatus::Changed { previous, .. } => (
                Warning,
                format!(
                    "The server gives {user}'s key as {}, but it CHANGED: you knew {}. \
                     Check it with {user} before you chat.",
                    key.fingerprint(),
                    previous.fingerprint()
                ),
            ),
            status => (
                Info,
                format!(
                    "{user}'s key is {} ({}).",
                    key.fingerprint(),
                    key_status_words(status)
                ),
            ),
        },
        ClientEvent::RequestSent { to } => (
            Info,
            format!("Asked {to} to chat; waiting for an answer (/withdraw to cancel)."),
        ),
        ClientEvent::IncomingRequest {
            from,
            fingerprint,
            key_status,
        } => match key_status {
            KeyStatus::Changed { previous, .. } => (
                Warning,
                format!(
                    "{from} wants to chat, but their key CHANGED (was {}, now {fingerprint}). \
                     Check it with {from} before you /accept.",
                    previous.fingerprint()
                ),
            ),
            status => (
                Info,
                format!(
                    "{from} wants to chat (key {fingerprint}, {}). /accept or /deny",
                    key_status_words(status)
                ),
            ),
        },
        ClientEvent::AutoRefused { from, reason } => (
            Info,
            match reason {
                AutoRefusal::Busy => {
                    format!("{from} asked to chat; refused automatically because you are busy.")
                }
                AutoRefusal::KeyChanged => format!(
                    "{from} asked to chat; refused automatically because their key changed."
                ),
                AutoRefusal::Blocked => {
                    format!("{from} asked to chat; refused because you blocked them.")
                }
                _ => format!("{from} asked to chat; refused automatically."),
            },
        ),
        ClientEvent::RequestAccepted {
            peer,
            fingerprint,
            key_status,
        } => (
            Info,
            format!(
                "{peer} accepted (key {fingerprint}, {}); securing the chat...",
                key_status_words(key_status)
            ),
        ),
        ClientEvent::RequestDenied { peer } => (Info, format!("{peer} declined the chat.")),
        ClientEvent::RequestExpired { peer } => (
            Info,
            format!("The request to {peer} expired without an answer."),
        ),
        ClientEvent::RequestWithdrawn { from } => {
            (Info, format!("{from} withdrew the request to chat."))
        }
        ClientEvent::KeyChanged {
            user,
            previous,
            current,
            verified: true,
            ..
        } => (
            Warning,
            format!(
                "WARNING! {user}'s VERIFIED key CHANGED (was {previous}, now {current}). You \
                 compared safety numbers with {user} for the old key: the server may be \
                 impersonating {user}. Chats with {user} are blocked. Check the new key with \
                 {user} in person or by phone; only then /trust {user}."
            ),
        ),
        ClientEvent::KeyChanged {
            user,
            previous,
            current,
            ..
        } => (
            Warning,
            format!(
                "WARNING: {user}'s key changed (was {previous}, now {current}). The server may \
                 be impersonating {user}. Check the new key with {user} out of band, then \
                 /trust {user}."
            ),
        ),
        ClientEvent::ChatEstablished {
            peer,
            safety_number,
            key_status: KeyStatus::Verified,
        } => (
            Info,
            format!(
                "Chat with {peer} started; their key is the one you verified. Safety number: \
                 {safety_number}."
            ),
        ),
        ClientEvent::ChatEstablished {
            peer,
            safety_number,
            ..
        } => (
            Info,
            format!(
                "Chat with {peer} started. Safety number: {safety_number}. Compare it with \
                 {peer}, then /verify"
            ),
        ),
        ClientEvent::KeyVerified { user, fingerprint } => (
            Info,
            format!("You verified {user}'s key ({fingerprint}): a later change will be flagged."),
        ),
        ClientEvent::KnownKeysFailed { error } => {
            (Error, format!("The known keys could not be kept: {error}."))
        }
        ClientEvent::ChatEnded { peer, reason } => chat_ended(&peer.to_string(), reason),
        ClientEvent::CommandFailed { command, error } => (
            Error,
            format!("The server refused {}: {error}.", command_words(*command)),
        ),
        ClientEvent::CallbackAttached => (
            Info,
            "The server now reaches you over the callback connection.".to_owned(),
        ),
        ClientEvent::Closed { reason } => (
            Error,
            format!("The server closed the session: {}.", close_words(*reason)),
        ),
        ClientEvent::ConnectionLost { clean } => (
            Error,
            if *clean {
                "Connection closed by the server.".to_owned()
            } else {
                "Connection lost: it was reset or cut without the server's goodbye.".to_owned()
            },
        ),
        other => (Info, format!("Event: {other:?}")),
    })
}

/// How a key compares with the one remembered.
pub(crate) fn key_status_words(status: &KeyStatus) -> String {
    match status {
        KeyStatus::FirstSeen => "first time seen".to_owned(),
        KeyStatus::Known => "known".to_owned(),
        KeyStatus::Verified => "verified".to_owned(),
        KeyStatus::Changed { .. } => "CHANGED".to_owned(),
        // A status a newer core added: its name.
        other => format!("{other:?}").to_lowercase(),
    }
}

fn chat_ended(peer: &str, reason: &ChatEndReason) -> (Level, String) {
    use Level::{Info, Warning};
    match reason {
        ChatEndReason::WeLeft => (Info, format!("You left the chat with {peer}.")),
        ChatEndReason::PeerClosed => (Info, format!("{peer} left the chat.")),
        ChatEndReason::PeerGone(gone) => (
            Info,
            format!(
                "{peer} {}; the chat ended (their last messages may be missing).",
                gone_words(*gone)
            ),
        ),
        ChatEndReason::Security(e) => (
            Warning,
            format!("The chat with {peer} was closed by a security failure: {e}."),
        ),
        ChatEndReason::KeyChanged => (
            Warning,
            format!("The chat with {peer} ended: their key changed."),
        ),
        ChatEndReason::Disconnected => (
            Info,
            format!("The chat with {peer} ended: the connection to the server was lost."),
        ),
        _ => (Info, format!("The chat with {peer} ended.")),
    }
}

fn gone_words(reason: GoneReason) -> &'static str {
    match reason {
        GoneReason::LEFT => "left",
        GoneReason::EXITED => "quit",
        GoneReason::DISCONNECTED => "lost their connection",
        GoneReason::IDLE => "timed out",
        GoneReason::REPLACED => "logged in somewhere else",
        GoneReason::STALLED => "stopped reading",
        GoneReason::SHUTDOWN => "was disconnected: their server shut down",
        GoneReason::UNREACHABLE => "is on a server this one cannot reach now",
        GoneReason::REVOKED => "was disconnected: their key was revoked",
        _ => "is gone",
    }
}

fn command_words(kind: CommandKind) -> &'static str {
    match kind {
        CommandKind::ListUsers => "the user list",
        CommandKind::GetPublicKey => "/key",
        CommandKind::RequestChat => "the chat request",
        CommandKind::Answer => "the answer",
        CommandKind::Withdraw => "/withdraw",
        CommandKind::ChatData => "the message",
        CommandKind::LeaveChat => "/leave",
        CommandKind::Exit => "/quit",
        CommandKind::Ping => "a keep-alive",
        CommandKind::RegisterCallback => "the callback connection",
        _ => "a command",
    }
}

pub(super) fn close_words(reason: CloseReason) -> String {
    match reason {
        CloseReason::NORMAL => "goodbye".into(),
        CloseReason::ALREADY_LOGGED_IN => "you are already logged in elsewhere".into(),
        CloseReason::SERVER_FULL => "the server is full".into(),
        CloseReason::IDLE_TIMEOUT => "idle for too long".into(),
        CloseReason::PROTOCOL_ERROR => "protocol error".into(),
        CloseReason::SHUTDOWN => "the server is shutting down".into(),
        CloseReason::REPLACED => "a newer login replaced this one".into(),
        CloseReason::TOO_SLOW => "this client read too slowly".into(),
        CloseReason::UNAVAILABLE => "the server cannot serve this login now".into(),
        CloseReason::REVOKED => "your key is no longer registered on the server".into(),
        CloseReason(other) => format!("reason 0x{other:02x}"),
    }
}
