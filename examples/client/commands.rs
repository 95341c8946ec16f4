//! Executing console commands against the client handle.

use securecom_console::{ConsoleCommand, HELP};
use securecom_host::chat::FileBlockList;
use std::collections::BTreeMap;

use securecom_proto::client::ClientEvent;
use securecom_proto::identity::{Fingerprint, PublicKey, Username};
use securecom_tokio::ClientHandle;

use crate::session::Blocked;

/// What the interface should do after a command.
pub(crate) enum Outcome {
    /// Show these lines (possibly none).
    Show(Vec<String>),
    /// The user wants to leave.
    Quit,
}

/// What the program keeps across reconnections (each login is a new client).
pub(crate) struct Kept {
    /// Keys that changed (from `key-changed` events), waiting for `/trust`.
    changed_keys: BTreeMap<Username, PublicKey>,
    /// Users blocked with `/block`, which the connector blocks in every new session.
    blocked: Blocked,
}

impl Kept {
    /// Nothing kept yet; `/block` adds to `blocked`, the connector's list.
    pub(crate) fn new(blocked: Blocked) -> Self {
        Kept {
            changed_keys: BTreeMap::new(),
            blocked,
        }
    }
}

/// Remembers changed keys from events so `/trust NAME` can accept them.
pub(crate) fn note_event(event: &ClientEvent, kept: &mut Kept) {
    if let ClientEvent::KeyChanged { user, key, .. } = event {
        kept.changed_keys.insert(user.clone(), *key);
    }
}

/// Whose key `event` shows as verified (`true`: `/verify` succeeded, or a request or chat
/// with a verified key) or no longer verified (`false`: the key changed).
pub(crate) fn verification(event: &ClientEvent) -> Option<(&Username, bool)> {
    match event {
        ClientEvent::KeyVerified { user, .. } => Some((user, true)),
        ClientEvent::IncomingRequest {
            from: user,
            key_status,
            ..
        }
        | ClientEvent::RequestAccepted {
            peer: user,
            key_status,
            ..
        }
        | ClientEvent::ChatEstablished {
            peer: user,
            key_status,
            ..
        } => key_status.is_verified().then_some((user, true)),
        ClientEvent::KeyChanged { user, .. } => Some((user, false)),
        _ => None,
    }
}

pub(crate) async fn execute(
    client: &ClientHandle,
    command: ConsoleCommand,
    me: &Fingerprint,
    kept: &mut Kept,
) -> Outcome {
    let result = match command {
        ConsoleCommand::Nothing => Ok(()),
        ConsoleCommand::Help => return Outcome::Show(HELP.lines().map(str::to_owned).collect()),
        ConsoleCommand::Quit => {
            let _ = client.exit().await;
            return Outcome::Quit;
        }
        ConsoleCommand::Users => client.list_users().await,
        ConsoleCommand::Chat(user) => client.request_chat(user).await,
        ConsoleCommand::Accept => client.accept().await,
        ConsoleCommand::Deny => client.deny().await,
        ConsoleCommand::Withdraw => client.withdraw_request().await,
        ConsoleCommand::Leave => client.leave_chat().await,
        ConsoleCommand::Key(user) => client.get_public_key(user).await,
        ConsoleCommand::Verify => client.verify_peer().await,
        ConsoleCommand::Trust(user) => match kept.changed_keys.remove(&user) {
            Some(key) => {
                let line = format!(
                    "trusting {user}'s new key {} (not verified: compare the safety number, then /verify)",
                    key.fingerprint()
                );
                return match client.trust_key(user, key).await {
                    Ok(()) => Outcome::Show(vec![line]),
                    Err(e) => Outcome::Show(vec![format!("error: {e}")]),
                };
            }
            None => {
                return Outcome::Show(vec![format!("no changed key to trust for {user}")]);
            }
        },
        ConsoleCommand::Block(user) => {
            let line = change_block_list(kept, &user, FileBlockList::block).map(|()| {
                format!("blocked {user}: their chat requests are refused without asking")
            });
            return Outcome::Show(vec![match line {
                Ok(line) => match client.block(user).await {
                    Ok(()) => line,
                    // Kept in the file: the next session blocks from its start.
                    Err(e) => format!("{line} from the next session ({e})"),
                },
                Err(e) => format!("error: {e}"),
            }]);
        }
        ConsoleCommand::Unblock(user) => {
            let line = change_block_list(kept, &user, FileBlockList::unblock)
                .map(|()| format!("unblocked {user}"));
            return Outcome::Show(vec![match line {
                Ok(line) => {
                    // Not connected: the next session reads the file.
                    let _ = client.unblock(user).await;
                    line
                }
                Err(e) => format!("error: {e}"),
            }]);
        }
        ConsoleCommand::Fingerprint => {
            let status = client.status().await;
            let mut lines = vec![format!("your key: {me}")];
            match status {
                Ok((_, Some(safety))) => lines.push(format!("safety number: {safety}")),
                Ok((_, None)) => lines.push("no chat: no safety number".to_owned()),
                Err(e) => lines.push(format!("error: {e}")),
            }
            return Outcome::Show(lines);
        }
        ConsoleCommand::Say(text) => client.send_text(text).await,
    };
    match result {
        Ok(()) => Outcome::Show(Vec::new()),
        Err(e) => Outcome::Show(vec![format!("error: {e}")]),
    }
}

/// Applies `change` (block or unblock) to the block list file first: a change the file
/// cannot keep is not made in the session either.
fn change_block_list(
    kept: &Kept,
    user: &Username,
    change: fn(&mut FileBlockList, &Username) -> std::io::Result<bool>,
) -> Result<(), String> {
    let mut list = kept
        .blocked
        .lock()
        .map_err(|_| "the block list is unavailable".to_owned())?;
    change(&mut list, user)
        .map(|_| ())
        .map_err(|e| format!("cannot save {}: {e}", list.path().display()))
}
