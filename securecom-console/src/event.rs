//! One line per event.

use securecom_proto::chat::KeyStatus;
use securecom_proto::client::{AutoRefusal, ChatEndReason, ClientEvent, CommandKind};
use securecom_proto::session::CloseReason;

/// Formats an event as one line: a keyword, then space-separated fields. The keywords and
/// field order are stable:
///
/// | line | meaning |
/// |---|---|
/// | `users NAME:FINGERPRINT:STATUS ...` | who is online (fingerprint without spaces); STATUS compares the key with the known keys: `first-seen`, `known`, `verified`, or `changed` (not the key a chat proved: warn) |
/// | `key NAME FINGERPRINT STATUS` | a user's registered key, STATUS as for `users` |
/// | `request-sent NAME` | our request reached NAME |
/// | `incoming-request NAME FINGERPRINT first-seen\|known\|verified` | NAME asks to chat; its key is new to us, known, or known and verified (nothing is remembered before a chat handshake completes) |
/// | `auto-refused NAME busy\|key-changed\|blocked` | refused without asking |
/// | `accepted NAME FINGERPRINT first-seen\|known\|verified` | NAME accepted; the end-to-end handshake runs (the key status as for `incoming-request`) |
/// | `denied NAME` / `expired NAME` / `withdrawn NAME` | the request ended |
/// | `key-changed NAME PREVIOUS CURRENT verified\|unverified` | WARNING: a user's key changed; the chat is refused until `/trust NAME`. `verified`: the previous key had been verified (the loudest warning) |
/// | `chat-established NAME SAFETY-NUMBER` | compare the 60 digits with NAME, then `/verify`; NAME's key is now remembered |
/// | `key-verified NAME FINGERPRINT` | `/verify` marked NAME's key as verified |
/// | `known-keys-error TEXT` | the known-keys store could not keep a key (TEXT names the file) |
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
                line.push(':');
                line.push_str(status_word(&u.key_status));
            }
            if *truncated {
                line.push_str(" ...");
            }
            line
        }
        ClientEvent::PublicKey {
            user,
            key,
            key_status,
        } => {
            format!(
                "key {user} {} {}",
                compact(&key.fingerprint().to_string()),
                status_word(key_status)
            )
        }
        ClientEvent::RequestSent { to } => format!("request-sent {to}"),
        ClientEvent::IncomingRequest {
            from,
            fingerprint,
            key_status,
        } => {
            format!(
                "incoming-request {from} {} {}",
                compact(&fingerprint.to_string()),
                status_word(key_status)
            )
        }
        ClientEvent::AutoRefused { from, reason } => {
            let reason = match reason {
                AutoRefusal::Busy => "busy",
                AutoRefusal::KeyChanged => "key-changed",
                AutoRefusal::Blocked => "blocked",
                _ => "other",
            };
            format!("auto-refused {from} {reason}")
        }
        ClientEvent::RequestAccepted {
            peer,
            fingerprint,
            key_status,
        } => format!(
            "accepted {peer} {} {}",
            compact(&fingerprint.to_string()),
            status_word(key_status)
        ),
        ClientEvent::RequestDenied { peer } => format!("denied {peer}"),
        ClientEvent::RequestExpired { peer } => format!("expired {peer}"),
        ClientEvent::RequestWithdrawn { from } => format!("withdrawn {from}"),
        ClientEvent::KeyChanged {
            user,
            previous,
            current,
            verified,
            ..
        } => format!(
            "key-changed {user} {} {} {}",
            compact(&previous.to_string()),
            compact(&current.to_string()),
            if *verified { "verified" } else { "unverified" }
        ),
        ClientEvent::ChatEstablished {
            peer,
            safety_number,
            ..
        } => format!("chat-established {peer} {safety_number}"),
        ClientEvent::KeyVerified { user, fingerprint } => {
            format!("key-verified {user} {}", compact(&fingerprint.to_string()))
        }
        ClientEvent::KnownKeysFailed { error } => {
            format!("known-keys-error {}", escape(&error.to_string()))
        }
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

/// A key's status as one word.
fn status_word(status: &KeyStatus) -> &'static str {
    match status {
        KeyStatus::FirstSeen => "first-seen",
        KeyStatus::Known => "known",
        KeyStatus::Verified => "verified",
        KeyStatus::Changed { .. } => "changed",
        _ => "unknown",
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
        CloseReason::REVOKED => "revoked".into(),
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
    use securecom_proto::chat::KnownKeysError;
    use securecom_proto::client::OnlineUser;
    use securecom_proto::identity::{Identity, Username};

    #[test]
    fn key_statuses_and_verification_have_their_lines() {
        let bob = Username::new("bob").unwrap();
        let (k1, k2) = (
            Identity::from_seed(&[1; 32]).public_key(),
            Identity::from_seed(&[2; 32]).public_key(),
        );
        let fp = |k: &securecom_proto::identity::PublicKey| compact(&k.fingerprint().to_string());
        let line = |e: ClientEvent| format_event(&e);
        assert_eq!(
            line(ClientEvent::IncomingRequest {
                from: bob.clone(),
                fingerprint: k1.fingerprint(),
                key_status: KeyStatus::Verified,
            }),
            format!("incoming-request bob {} verified", fp(&k1))
        );
        assert_eq!(
            line(ClientEvent::RequestAccepted {
                peer: bob.clone(),
                fingerprint: k1.fingerprint(),
                key_status: KeyStatus::FirstSeen,
            }),
            format!("accepted bob {} first-seen", fp(&k1))
        );
        assert_eq!(
            line(ClientEvent::KeyChanged {
                user: bob.clone(),
                previous: k1.fingerprint(),
                current: k2.fingerprint(),
                key: k2,
                verified: true,
            }),
            format!("key-changed bob {} {} verified", fp(&k1), fp(&k2))
        );
        assert_eq!(
            line(ClientEvent::Users {
                users: vec![
                    OnlineUser::new(bob.clone(), k1.fingerprint(), KeyStatus::Verified),
                    OnlineUser::new(bob.clone(), k2.fingerprint(), KeyStatus::FirstSeen),
                ],
                truncated: true,
            }),
            format!(
                "users bob:{}:verified bob:{}:first-seen ...",
                fp(&k1),
                fp(&k2)
            )
        );
        assert_eq!(
            line(ClientEvent::PublicKey {
                user: bob.clone(),
                key: k2,
                key_status: KeyStatus::Changed {
                    previous: k1,
                    verified: false,
                },
            }),
            format!("key bob {} changed", fp(&k2))
        );
        assert_eq!(
            line(ClientEvent::KeyVerified {
                user: bob.clone(),
                fingerprint: k1.fingerprint(),
            }),
            format!("key-verified bob {}", fp(&k1))
        );
        assert_eq!(
            line(ClientEvent::KnownKeysFailed {
                error: KnownKeysError::Save {
                    store: "/home/a/known_keys".into(),
                    reason: "Permission denied\n".into(),
                },
            }),
            "known-keys-error cannot save the known keys to /home/a/known_keys: \
             Permission denied\\n"
        );
    }

    #[test]
    fn messages_cannot_inject_lines_or_escape_sequences() {
        let line = escape("a\nb\u{1b}[2Jc\\");
        assert!(!line.contains('\n'));
        assert!(!line.contains('\u{1b}'));
        assert_eq!(line, "a\\nb\\u{1b}[2Jc\\\\");
    }
}
