//! The terminal, set up once for the program: raw mode and the alternate screen, restored
//! however the program ends, and one thread reading keys for the program's whole life
//! (one reader per session would leave old readers competing for the keys).

use std::io::{self, Stdout};

use crossterm::event::Event;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::backend::CrosstermBackend;
use ratatui::{Frame, Terminal};
use tokio::sync::mpsc::{self, UnboundedReceiver};

/// The terminal in screen mode, and the keys typed on it.
pub(super) struct Screen {
    terminal: Terminal<CrosstermBackend<Stdout>>,
    /// Keys, pastes and resizes, from the reader thread.
    pub(super) keys: UnboundedReceiver<Event>,
    /// Last: restores the terminal when the screen is dropped.
    _restore: Restore,
}

/// Restores the terminal however the screen ends.
struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        let _ = disable_raw_mode();
        let _ = crossterm::execute!(io::stdout(), LeaveAlternateScreen);
    }
}

impl Screen {
    /// Enters raw mode and the alternate screen, and starts the key reader.
    pub(super) fn open() -> Result<Screen, String> {
        enable_raw_mode().map_err(|e| format!("the terminal: {e}"))?;
        let restore = Restore;
        crossterm::execute!(io::stdout(), EnterAlternateScreen)
            .map_err(|e| format!("the terminal: {e}"))?;
        let terminal = Terminal::new(CrosstermBackend::new(io::stdout()))
            .map_err(|e| format!("the terminal: {e}"))?;
        // crossterm's reader blocks, so it gets a thread; it ends with the program (or
        // when the screen, and with it the receiver, is gone and a key arrives).
        let (keys_tx, keys) = mpsc::unbounded_channel();
        std::thread::spawn(move || {
            while let Ok(event) = crossterm::event::read() {
                if keys_tx.send(event).is_err() {
                    return;
                }
            }
        });
        Ok(Screen {
            terminal,
            keys,
            _restore: restore,
        })
    }

    /// Draws a frame (after a resize, at the terminal's new size).
    pub(super) fn draw(&mut self, render: impl FnOnce(&mut Frame<'_>)) -> Result<(), String> {
        self.terminal
            .draw(render)
            .map(|_| ())
            .map_err(|e| format!("the terminal: {e}"))
    }
}
