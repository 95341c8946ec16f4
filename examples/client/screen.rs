//! The terminal chat screen: `securecom_console::screen::ChatScreen` on a real terminal,
//! for the whole program: the terminal is set up once and the key reader started once;
//! the screen stays up while the client logs in again after losing the server.
//! This file and its modules only move things: terminal keys and client events into the
//! model, commands and the user-list refresh out to the server, the model onto the
//! terminal; the model decides what is said.

mod clock;
mod keys;
mod offline;
mod online;
mod terminal;

use std::time::{Duration, Instant};

use crossterm::event::Event;
use securecom_console::screen::{ChatScreen, Key};
use securecom_console::{ConsoleCommand, parse_command};
use securecom_host::reconnect::BackoffPolicy;
use securecom_proto::identity::Fingerprint;

use crate::commands::Kept;
use crate::session::{Connected, Connector};
use clock::Clock;
use keys::Pressed;
use offline::Back;
use online::Ended;
use terminal::Screen;

/// Runs the screen from the first login to the end. `Ok` when the user quit (`/quit` or
/// Ctrl-C, also while reconnecting); the one-line reason otherwise: the connection was
/// lost and `reconnecting` is `None`, reconnecting gave up, or the terminal failed. The
/// terminal is restored before this returns, so the reason can go to stderr.
pub(crate) async fn run(
    connector: &Connector,
    first: Connected,
    fingerprint: Fingerprint,
    reconnecting: Option<BackoffPolicy>,
) -> Result<(), String> {
    let (client, events) = first;
    let mut ui = Ui {
        terminal: Screen::open()?,
        model: ChatScreen::new(client.username().clone(), &connector.server),
        clock: Clock::new(),
        started: Instant::now(),
        kept: Kept::new(connector.blocked.clone()),
    };
    ui.model.push_info(
        &format!(
            "Connected as {} to {} (session {}); type /help for commands.",
            client.username(),
            connector.server,
            client.session_id()
        ),
        ui.clock.now(),
    );
    let mut session = (client, events);
    loop {
        let (client, mut events) = session;
        let loss = match online::run(&mut ui, &client, &mut events, &fingerprint).await? {
            Ended::Quit => return Ok(()),
            Ended::Lost(loss) => loss,
        };
        // The old session is over; its handle has nothing more to do.
        drop((client, events));
        let Some(policy) = reconnecting else {
            return Err(format!("{loss}; not reconnecting (--no-reconnect)"));
        };
        session = match offline::run(&mut ui, connector, loss, policy).await? {
            Back::Online(connected) => connected,
            Back::Quit => return Ok(()),
            Back::GaveUp(reason) => return Err(reason),
        };
    }
}

/// What both phases share: the terminal (with its key reader), the model and the clocks.
struct Ui {
    terminal: Screen,
    model: ChatScreen,
    /// Local times of day for the conversation.
    clock: Clock,
    /// The origin of the monotonic clock the model counts down and refreshes on.
    started: Instant,
    /// Changed keys waiting for `/trust` and blocked users, kept across reconnections.
    kept: Kept,
}

/// What a terminal input amounts to.
enum Input {
    /// Nothing to run: an edit, a scroll, a resize, a bad command (already shown).
    Nothing,
    /// Ctrl-C.
    Quit,
    /// A command the user entered.
    Command(ConsoleCommand),
}

impl Ui {
    /// Redraws the whole screen (after any change; a resize takes its new size here).
    fn draw(&mut self) -> Result<(), String> {
        self.model.set_clock(self.monotonic());
        let model = &mut self.model;
        self.terminal.draw(|frame| model.draw(frame))
    }

    fn monotonic(&self) -> Duration {
        self.started.elapsed()
    }

    /// Feeds a terminal input to the model; a finished line comes back parsed.
    fn input(&mut self, input: Event) -> Input {
        let key = match input {
            Event::Key(key) => keys::map(&key),
            Event::Paste(text) => {
                text.chars().for_each(|c| {
                    self.model.handle_key(Key::Char(c));
                });
                return Input::Nothing;
            }
            // A resize needs only the redraw.
            _ => return Input::Nothing,
        };
        let key = match key {
            Pressed::Screen(key) => key,
            Pressed::Quit => return Input::Quit,
            Pressed::Ignored => return Input::Nothing,
        };
        let Some(line) = self.model.handle_key(key) else {
            return Input::Nothing;
        };
        match parse_command(&line) {
            Ok(command) => Input::Command(command),
            Err(e) => {
                self.model.push_error(&e.to_string(), self.clock.now());
                Input::Nothing
            }
        }
    }
}
