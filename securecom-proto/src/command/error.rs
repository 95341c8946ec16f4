//! Typed refusals of a command.

use core::fmt;

/// Why the relay refused a command, as a newtype over the wire byte so unknown codes from a
/// newer server still print.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CommandError(pub u8);

impl CommandError {
    /// No such registered user.
    pub const UNKNOWN_USER: CommandError = CommandError(0x01);
    /// The user is registered but not online.
    pub const OFFLINE: CommandError = CommandError(0x02);
    /// The user is already in a chat or negotiating one.
    pub const BUSY: CommandError = CommandError(0x03);
    /// The command needs a chat and there is none.
    pub const NOT_IN_CHAT: CommandError = CommandError(0x04);
    /// A request between these users is already pending, or we already have one out.
    pub const REQUEST_PENDING: CommandError = CommandError(0x05);
    /// A configured limit was reached (pending requests, users online).
    pub const LIMIT_REACHED: CommandError = CommandError(0x06);
    /// There is no pending request from that user to answer.
    pub const NO_SUCH_REQUEST: CommandError = CommandError(0x07);
    /// A user cannot chat with themselves.
    pub const SELF_REQUEST: CommandError = CommandError(0x08);
    /// We are already in a chat.
    pub const ALREADY_CHATTING: CommandError = CommandError(0x09);
    /// The server does not offer this (for example, the callback request channel).
    pub const NOT_SUPPORTED: CommandError = CommandError(0x0a);
    /// The user is on another relay node that cannot be reached now.
    pub const UNREACHABLE: CommandError = CommandError(0x0b);
    /// The callback port asked for is below the server's minimum (the privileged ports).
    pub const PORT_REFUSED: CommandError = CommandError(0x0c);

    fn name(self) -> Option<&'static str> {
        Some(match self {
            Self::UNKNOWN_USER => "unknown user",
            Self::OFFLINE => "user is offline",
            Self::BUSY => "user is busy",
            Self::NOT_IN_CHAT => "not in a chat",
            Self::REQUEST_PENDING => "a request is already pending",
            Self::LIMIT_REACHED => "limit reached",
            Self::NO_SUCH_REQUEST => "no such request",
            Self::SELF_REQUEST => "cannot chat with yourself",
            Self::ALREADY_CHATTING => "already in a chat",
            Self::NOT_SUPPORTED => "not supported by this server",
            Self::UNREACHABLE => "user is on a relay node that cannot be reached now",
            Self::PORT_REFUSED => "callback port refused (below the server's minimum)",
            _ => return None,
        })
    }
}

impl fmt::Debug for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "CommandError({n})"),
            None => write!(f, "CommandError(0x{:02x})", self.0),
        }
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "error 0x{:02x}", self.0),
        }
    }
}

impl core::error::Error for CommandError {}
