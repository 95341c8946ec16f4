//! # securecom-console
//!
//! The chat client's console language, shared by the example client's terminal screen and
//! its line mode: slash commands in ([`parse_command`] to a [`ConsoleCommand`], with the
//! [`HELP`] text), one line per event out ([`format_event`]).
//!
//! Line mode (stdin not a terminal) reads one command per line and writes one event per
//! line in a stable format, documented on [`format_event`], so the client can be scripted
//! and tested. Nothing here does I/O: the program reads the lines, runs the commands
//! against its client handle and prints the events.
//!
//! The terminal screen is [`screen::ChatScreen`]: the conversation, who is online and
//! where the chat stands, as a model the program feeds with events, keys and times and
//! draws into any ratatui backend.
//!
//! ```
//! use securecom_console::{ConsoleCommand, format_event, parse_command};
//! use securecom_proto::client::ClientEvent;
//! use securecom_proto::identity::Username;
//!
//! let bob = Username::new("bob")?;
//! assert_eq!(parse_command("/chat bob"), Ok(ConsoleCommand::Chat(bob.clone())));
//! let event = ClientEvent::Message { from: bob, text: "hello".into() };
//! assert_eq!(format_event(&event), "message bob hello");
//! # Ok::<(), securecom_proto::identity::IdentityError>(())
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod command;
mod event;
pub mod screen;

pub use command::{ConsoleCommand, HELP, parse_command};
pub use event::format_event;
