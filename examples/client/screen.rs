//! The terminal chat screen: `securecom_console::screen::ChatScreen` on a real terminal.
//! This file only moves things: terminal keys and client events into the model, the
//! user-list refresh out to the server, the model onto the terminal.

mod clock;
mod keys;

use std::io;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crossterm::event::Event;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use securecom_console::parse_command;
use securecom_console::screen::{ChatScreen, Key};
use securecom_proto::client::ClientEvent;
use securecom_proto::identity::Fingerprint;
use securecom_tokio::ClientHandle;
use tokio::sync::mpsc::{self, UnboundedReceiver};

use crate::commands::{ChangedKeys, Outcome, execute, note_event, verification};
use clock::Clock;
use keys::Pressed;

/// The screen of a session that lost its connection, shown again (conversation and all)
/// when the program opens the screen for the next session.
static KEPT: Mutex<Option<ChatScreen>> = Mutex::new(None);

/// Restores the terminal however the screen ends.
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let _ = disable_raw_mode();
        let _ = crossterm::execute!(io::stdout(), LeaveAlternateScreen);
    }
}

/// Runs the screen for one session, until the user quits or the connection ends.
pub(crate) async fn run(
    client: ClientHandle,
    mut events: UnboundedReceiver<ClientEvent>,
    fingerprint: Fingerprint,
    server: &str,
) -> Result<(), String> {
    enable_raw_mode().map_err(|e| e.to_string())?;
    crossterm::execute!(io::stdout(), EnterAlternateScreen).map_err(|e| e.to_string())?;
    let _guard = TerminalGuard;
    let mut terminal =
        Terminal::new(CrosstermBackend::new(io::stdout())).map_err(|e| e.to_string())?;

    // Keys come from a blocking reader thread.
    let (keys_tx, mut keys) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        while let Ok(event) = crossterm::event::read() {
            if keys_tx.send(event).is_err() {
                return;
            }
        }
    });

    let clock = Clock::new();
    let kept = KEPT.lock().unwrap_or_else(PoisonError::into_inner).take();
    let mut screen = kept.unwrap_or_else(|| ChatScreen::new(client.username().clone(), server));
    screen.set_connected(true);
    screen.push_info(
        &format!(
            "Connected as {} to {server} (session {}); type /help for commands.",
            client.username(),
            client.session_id()
        ),
        clock.now(),
    );
    let mut changed_keys = ChangedKeys::new();
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        // Every pass redraws; after a resize the terminal takes its new size here.
        terminal
            .draw(|f| screen.draw(f))
            .map_err(|e| e.to_string())?;
        tokio::select! {
            Some(input) = keys.recv() => {
                let key = match input {
                    Event::Key(key) => keys::map(&key),
                    Event::Paste(text) => {
                        text.chars().for_each(|c| { screen.handle_key(Key::Char(c)); });
                        continue;
                    }
                    // A resize needs only the redraw above.
                    _ => continue,
                };
                let key = match key {
                    Pressed::Screen(key) => key,
                    Pressed::Quit => {
                        let _ = client.exit().await;
                        return Ok(());
                    }
                    Pressed::Ignored => continue,
                };
                let Some(line) = screen.handle_key(key) else { continue };
                match parse_command(&line) {
                    Ok(command) => {
                        screen.note_command(&command, clock.now());
                        match execute(&client, command, &fingerprint, &mut changed_keys).await {
                            Outcome::Show(lines) => {
                                for line in lines {
                                    match line.strip_prefix("error: ") {
                                        Some(error) => screen.push_error(error, clock.now()),
                                        None => screen.push_info(&line, clock.now()),
                                    }
                                }
                            }
                            Outcome::Quit => return Ok(()),
                        }
                    }
                    Err(e) => screen.push_error(&e.to_string(), clock.now()),
                }
            }
            event = events.recv() => {
                let Some(event) = event else {
                    return keep(screen);
                };
                note_event(&event, &mut changed_keys);
                // `/verify` succeeded (its event), or a verified key was seen or changed.
                if let Some((peer, verified)) = verification(&event) {
                    screen.set_verified(peer, verified);
                }
                screen.handle_event(&event, clock.now());
                if matches!(event, ClientEvent::ConnectionLost { .. }) {
                    // Let the user read why before the terminal is handed back.
                    terminal.draw(|f| screen.draw(f)).map_err(|e| e.to_string())?;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    return keep(screen);
                }
            }
            _ = tick.tick() => {
                if screen.poll_refresh(started.elapsed().as_secs()) {
                    let _ = client.list_users().await;
                }
                if let Ok((status, safety_number)) = client.status().await {
                    screen.set_status(status, safety_number);
                }
            }
        }
    }
}

/// Keeps the screen of a lost session for the next one.
fn keep(screen: ChatScreen) -> Result<(), String> {
    *KEPT.lock().unwrap_or_else(PoisonError::into_inner) = Some(screen);
    Ok(())
}
