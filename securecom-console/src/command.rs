//! Parsing what the user types.

use securecom_proto::identity::Username;

/// What a line of input asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConsoleCommand {
    /// `/users`: list who is online.
    Users,
    /// `/chat NAME`: ask NAME to chat.
    Chat(Username),
    /// `/accept`: accept the pending request.
    Accept,
    /// `/deny`: refuse the pending request.
    Deny,
    /// `/withdraw`: withdraw our own request.
    Withdraw,
    /// `/leave`: leave the chat.
    Leave,
    /// `/fingerprint`: show the chat's safety number (and our key's fingerprint).
    Fingerprint,
    /// `/key NAME`: show the key the server has for NAME.
    Key(Username),
    /// `/verify`: mark the chat peer's key as verified, after comparing the safety number
    /// out of band.
    Verify,
    /// `/trust NAME`: accept NAME's changed key (unverified) after checking it out of band.
    Trust(Username),
    /// `/block NAME`: refuse every chat request from NAME at once, without asking.
    Block(Username),
    /// `/unblock NAME`: ask again about NAME's requests.
    Unblock(Username),
    /// `/help`.
    Help,
    /// `/quit`.
    Quit,
    /// Plain text: a message to the chat peer.
    Say(String),
    /// Nothing (an empty line).
    Nothing,
}

/// The help text.
pub const HELP: &str = "\
/users          who is online
/chat NAME      ask NAME to chat
/accept /deny   answer a chat request
/withdraw       withdraw your request
/leave          leave the chat
/fingerprint    the chat's safety number, to compare with your peer
/verify         mark your peer's key verified, once the safety numbers match
/key NAME       the key the server has for NAME
/trust NAME     accept NAME's changed key (unverified) after checking it
/block NAME     refuse NAME's chat requests without asking (/unblock NAME)
/help           this help
/quit           leave the server
anything else   a message to your chat peer";

/// Parses one line of input.
///
/// ```
/// use securecom_console::{ConsoleCommand, parse_command};
/// assert_eq!(parse_command("/users"), Ok(ConsoleCommand::Users));
/// assert_eq!(parse_command("hello"), Ok(ConsoleCommand::Say("hello".into())));
/// assert_eq!(parse_command("/chat"), Err("/chat needs a user name".into()));
/// assert_eq!(
///     parse_command("/chat ../x"),
///     Err("invalid username: must start with a letter or digit".into())
/// );
/// assert_eq!(
///     parse_command("/dance"),
///     Err("unknown command /dance (try /help)".into())
/// );
/// ```
pub fn parse_command(line: &str) -> Result<ConsoleCommand, String> {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.trim().is_empty() {
        return Ok(ConsoleCommand::Nothing);
    }
    let Some(rest) = line.strip_prefix('/') else {
        return Ok(ConsoleCommand::Say(line.to_owned()));
    };
    let mut words = rest.split_whitespace();
    let verb = words.next().unwrap_or("");
    let arg = words.next();
    if words.next().is_some() {
        return Err(format!("/{verb}: too many arguments"));
    }
    let user = |arg: Option<&str>| -> Result<Username, String> {
        let name = arg.ok_or_else(|| format!("/{verb} needs a user name"))?;
        Username::new(name).map_err(|e| e.to_string())
    };
    let no_arg = |cmd: ConsoleCommand| match arg {
        None => Ok(cmd),
        Some(_) => Err(format!("/{verb} takes no argument")),
    };
    match verb {
        "users" | "list" => no_arg(ConsoleCommand::Users),
        "chat" => Ok(ConsoleCommand::Chat(user(arg)?)),
        "accept" => no_arg(ConsoleCommand::Accept),
        "deny" => no_arg(ConsoleCommand::Deny),
        "withdraw" => no_arg(ConsoleCommand::Withdraw),
        "leave" => no_arg(ConsoleCommand::Leave),
        "fingerprint" | "safety" => no_arg(ConsoleCommand::Fingerprint),
        "verify" => no_arg(ConsoleCommand::Verify),
        "key" => Ok(ConsoleCommand::Key(user(arg)?)),
        "trust" => Ok(ConsoleCommand::Trust(user(arg)?)),
        "block" => Ok(ConsoleCommand::Block(user(arg)?)),
        "unblock" => Ok(ConsoleCommand::Unblock(user(arg)?)),
        "help" => no_arg(ConsoleCommand::Help),
        "quit" | "exit" => no_arg(ConsoleCommand::Quit),
        other => Err(format!("unknown command /{other} (try /help)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_parses() {
        let bob = || Username::new("bob").unwrap();
        for (line, cmd) in [
            ("/users", ConsoleCommand::Users),
            ("/chat bob", ConsoleCommand::Chat(bob())),
            ("/accept", ConsoleCommand::Accept),
            ("/deny", ConsoleCommand::Deny),
            ("/withdraw", ConsoleCommand::Withdraw),
            ("/leave", ConsoleCommand::Leave),
            ("/fingerprint", ConsoleCommand::Fingerprint),
            ("/verify", ConsoleCommand::Verify),
            ("/key bob", ConsoleCommand::Key(bob())),
            ("/trust bob", ConsoleCommand::Trust(bob())),
            ("/block bob", ConsoleCommand::Block(bob())),
            ("/unblock bob", ConsoleCommand::Unblock(bob())),
            ("/help", ConsoleCommand::Help),
            ("/quit\n", ConsoleCommand::Quit),
            ("  ", ConsoleCommand::Nothing),
            (
                "hi there /users",
                ConsoleCommand::Say("hi there /users".into()),
            ),
        ] {
            assert_eq!(parse_command(line), Ok(cmd), "{line:?}");
        }
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        // The error is the text shown to the user: compared whole.
        for (line, error) in [
            ("/", "unknown command / (try /help)"),
            ("/chat", "/chat needs a user name"),
            ("/chat a b", "/chat: too many arguments"),
            ("/users x", "/users takes no argument"),
            ("/verify bob", "/verify takes no argument"),
            ("/trust", "/trust needs a user name"),
            (
                "/chat \u{1b}[2J",
                "invalid username: must start with a letter or digit",
            ),
            ("/nope", "unknown command /nope (try /help)"),
        ] {
            assert_eq!(parse_command(line), Err(error.to_owned()), "{line:?}");
        }
    }
}
