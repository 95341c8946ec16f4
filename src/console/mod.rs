//! The chat client's console language, shared by the example client's terminal screen and
//! its line mode: slash commands in, one line per event out.
//!
//! Line mode (stdin not a terminal) reads one command per line and writes one event per
//! line in a stable format, documented on [`format_event`], so the client can be scripted
//! and tested.

mod command;
mod event;

pub use command::{ConsoleCommand, HELP, parse_command};
pub use event::format_event;
