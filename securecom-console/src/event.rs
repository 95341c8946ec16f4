//! One line per event.

use securecom_proto::chat::KeyStatus;
use securecom_proto::client::{AutoRefusal, ChatEndReason, ClientEvent, CommandKind};
use securecom_proto::session::CloseReason;

/// Formats an event as one line: a keyword, then space-separated fields. The keywords and
/// field order are stable:
///
/// | line | meaning |
/// |---|---|
/// | `users NAME:FINGERPRINT ...` | who is online (fingerprint without spaces) |
/// | `key NAME FINGERPRINT` | a user's registered key |
/// | `request-sent NAME` | our request reached NAME |
/// | `incoming-request NAME FINGERPRINT first-seen\|known` | NAME asks to chat |
/// | `auto-refused NAME busy\|key-changed` | refused without asking |
/// | `accepted NAME` | NAME accepted; the end-to-end handshake runs |
/// | `denied NAME` / `expired NAME` / `withdrawn NAME` | the request ended |
/// | `key-changed NAME PREVIOUS CURRENT` | WARNING: a user's key changed |
/// | `chat-established NAME SAFETY-NUMBER` | compare the 60 digits with NAME |
/// | `message NAME TEXT` | a message (TEXT to the end of the line, control characters escaped) |
/// | `chat-ended NAME REASON` | REASON: `we-left`, `peer-closed`, `peer-gone`, `security:DETAIL`, `key-changed`, `disconnected` |
/// | `error COMMAND CODE` | the server refused a command |
/// | `callback-attached` | server messages now come over the callback connection |
/// | `closed REASON` | the server closed our session |
/// | `disconnected clean\|unclean` | the connection ended |
///
/// ```
/// use securecom_console::format_event;
/// use securecom_proto::client::ClientEvent;
/// use securecom_proto::identity::Username;
/// let e = ClientEvent::Message { from: Username::new("bob")?, text: "hi\nthere".into() };
/// assert_eq!(format_event(&e), "message bob hi\\nthere");
/// # Ok::<(), securecom_proto::identity::IdentityError>(())
/// ```
pub fn format_event(event: &ClientEvent) -> String {
    match event {
        ClientEvent::Users { users, truncated } => {
            let mut line = String::from("users");
            for u in users {
                line.push(' ');
                line.push_str(u.username.as_str());
                line.push(':');
                line.push_str(&compact(&u.fingerprint.to_string()));
            }
            if *truncated {
                line.push_str(" ...");
            }
            line
        }
        ClientEvent::PublicKey { user, key } => {
            format!("key {user} {}", compact(&key.fingerprint().to_string()))
        }
        ClientEvent::RequestSent { to } => format!("request-sent {to}"),
        ClientEvent::IncomingRequest {
            from,
            fingerprint,
            key_status,
        } => {
            let status = match key_status {
                KeyStatus::FirstSeen => "first-seen",
                KeyStatus::Known => "known",
                KeyStatus::Changed { .. } => "changed",
                _ => "unknown",
            };
            format!(
                "incoming-request {from} {} {status}",
                compact(&fingerprint.to_string())
            )
        }
        ClientEvent::AutoRefused { from, reason } => {
            let reason = match reason {
                AutoRefusal::Busy => "busy",
                AutoRefusal::KeyChanged => "key-changed",
                _ => "other",
            };
            format!("auto-refused {from} {reason}")
        }
        ClientEvent::RequestAccepted { peer } => format!("accepted {peer}"),
        ClientEvent::RequestDenied { peer } => format!("denied {peer}"),
        ClientEvent::RequestExpired { peer } => format!("expired {peer}"),
        ClientEvent::RequestWithdrawn { from } => format!("withdrawn {from}"),
        ClientEvent::KeyChanged {
            user,
            previous,
            current,
            ..
        } => format!(
            "key-changed {user} {} {}",
            compact(&previous.to_string()),
            compact(&current.to_string())
        ),
        ClientEvent::ChatEstablished {
            peer,
            safety_number,
        } => format!("chat-established {peer} {safety_number}"),
        ClientEvent::Message { from, text } => format!("message {from} {}", escape(text)),
        ClientEvent::ChatEnded { peer, reason } => {
            let reason = match reason {
                ChatEndReason::WeLeft => "we-left".to_owned(),
                ChatEndReason::PeerClosed => "peer-closed".to_owned(),
                ChatEndReason::PeerGone(_) => "peer-gone".to_owned(),
                ChatEndReason::Security(e) => format!("security:{}", compact(&e.to_string())),
                ChatEndReason::KeyChanged => "key-changed".to_owned(),
                ChatEndReason::Disconnected => "disconnected".to_owned(),
                _ => "ended".to_owned(),
            };
            format!("chat-ended {peer} {reason}")
        }
        ClientEvent::CommandFailed { command, error } => {
            format!(
                "error {} {}",
                command_name(*command),
                compact(&error.to_string())
            )
        }
        ClientEvent::CallbackAttached => "callback-attached".to_owned(),
        ClientEvent::Closed { reason } => format!("closed {}", close_reason(*reason)),
        ClientEvent::ConnectionLost { clean } => {
            format!("disconnected {}", if *clean { "clean" } else { "unclean" })
        }
        // A newer core's event this console does not know yet.
        other => format!("event {}", escape(&format!("{other:?}"))),
    }
}

fn command_name(kind: CommandKind) -> &'static str {
    match kind {
        CommandKind::ListUsers => "users",
        CommandKind::GetPublicKey => "key",
        CommandKind::RequestChat => "chat",
        CommandKind::Answer => "answer",
        CommandKind::Withdraw => "withdraw",
        CommandKind::ChatData => "message",
        CommandKind::LeaveChat => "leave",
        CommandKind::Exit => "quit",
        CommandKind::Ping => "ping",
        CommandKind::RegisterCallback => "callback",
        _ => "command",
    }
}

fn close_reason(reason: CloseReason) -> String {
    match reason {
        CloseReason::NORMAL => "normal".into(),
        CloseReason::ALREADY_LOGGED_IN => "already-logged-in".into(),
        CloseReason::SERVER_FULL => "server-full".into(),
        CloseReason::IDLE_TIMEOUT => "idle-timeout".into(),
        CloseReason::PROTOCOL_ERROR => "protocol-error".into(),
        CloseReason::SHUTDOWN => "shutdown".into(),
        CloseReason::REPLACED => "replaced".into(),
        CloseReason::TOO_SLOW => "too-slow".into(),
        CloseReason::UNAVAILABLE => "unavailable".into(),
        CloseReason(other) => format!("0x{other:02x}"),
    }
}

/// Spaces to dashes, so a multi-word value stays one field.
fn compact(s: &str) -> String {
    s.replace(' ', "-")
}

/// Escapes control characters so one message is one line and cannot drive the terminal.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_cannot_inject_lines_or_escape_sequences() {
        let line = escape("a\nb\u{1b}[2Jc\\");
        assert!(!line.contains('\n'));
        assert!(!line.contains('\u{1b}'));
        assert_eq!(line, "a\\nb\\u{1b}[2Jc\\\\");
    }
}
