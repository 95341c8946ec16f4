//! Logging in again on the screen: `session::reconnect` (the backoff of
//! `securecom_host::reconnect`) runs while the screen stays up; its waits and failures go
//! to the model, and the keys still work: scrolling, `/help`, `/quit` and Ctrl-C (which
//! stop reconnecting; the program then exits 0, as the user chose to stop, like line
//! mode's `/quit`). Anything needing the server is refused with a notice.

use std::time::Duration;

use securecom_console::screen::ConnectionState;
use securecom_console::{ConsoleCommand, HELP};
use securecom_host::reconnect::BackoffPolicy;
use tokio::sync::mpsc;

use super::{Input, Ui};
use crate::session::{Connected, Connector, Loss, Notice, Reconnected, reconnect};

/// How reconnecting ended.
pub(super) enum Back {
    /// Logged in again; the model says so.
    Online(Connected),
    /// The user stopped it (`/quit` or Ctrl-C).
    Quit,
    /// No more attempts, or an error trying again cannot fix: the one-line reason.
    GaveUp(String),
}

/// A [`Notice`] taken out of the reconnecting loop, for the screen.
enum Progress {
    Waiting {
        attempt: u32,
        max: u32,
        delay: Duration,
    },
    Failed {
        attempt: u32,
        error: String,
    },
}

/// How often the countdown is redrawn.
const COUNTDOWN: Duration = Duration::from_millis(100);

/// Logs in again after `loss` as `policy` says, with the screen up; `Err` only when the
/// terminal fails.
pub(super) async fn run(
    ui: &mut Ui,
    connector: &Connector,
    loss: Loss,
    policy: BackoffPolicy,
) -> Result<Back, String> {
    // The loop reports through a callback; the screen is busy with keys meanwhile, so
    // the reports wait in a channel.
    let (tx, mut progress) = mpsc::unbounded_channel();
    let notify = move |notice: Notice<'_>| {
        let _ = tx.send(match notice {
            Notice::Waiting {
                attempt,
                max,
                delay,
            } => Progress::Waiting {
                attempt,
                max,
                delay,
            },
            Notice::Failed { attempt, error } => Progress::Failed {
                attempt,
                error: error.to_string(),
            },
        });
    };
    // Stopping is returning from here, which drops the attempt: no cancel signal needed.
    let attempt = reconnect(connector, loss, policy, notify, std::future::pending());
    tokio::pin!(attempt);
    let mut countdown = tokio::time::interval(COUNTDOWN);
    loop {
        ui.draw()?;
        tokio::select! {
            biased;
            Some(report) = progress.recv() => show(ui, report),
            ended = &mut attempt => {
                // Reports made on the way to the end come first.
                while let Ok(report) = progress.try_recv() {
                    show(ui, report);
                }
                return Ok(match ended {
                    Reconnected::Online(connected) => {
                        ui.model.set_connection(ConnectionState::Connected, ui.clock.now());
                        Back::Online(connected)
                    }
                    Reconnected::Cancelled => Back::Quit,
                    Reconnected::GaveUp(reason) => Back::GaveUp(reason),
                });
            }
            Some(input) = ui.terminal.keys.recv() => match ui.input(input) {
                Input::Nothing => {}
                Input::Quit => return Ok(Back::Quit),
                Input::Command(command) => {
                    if !ui.model.accepts_command(&command, ui.clock.now()) {
                        continue;
                    }
                    match command {
                        ConsoleCommand::Quit => return Ok(Back::Quit),
                        ConsoleCommand::Help => {
                            for line in HELP.lines() {
                                ui.model.push_info(line, ui.clock.now());
                            }
                        }
                        _ => {}
                    }
                }
            },
            _ = countdown.tick() => {}
        }
    }
}

fn show(ui: &mut Ui, report: Progress) {
    let now = ui.clock.now();
    match report {
        Progress::Waiting {
            attempt,
            max,
            delay,
        } => {
            let until = ui.monotonic().saturating_add(delay);
            let waiting = ConnectionState::Waiting {
                attempt,
                max,
                until,
            };
            ui.model.set_connection(waiting, now);
        }
        Progress::Failed { attempt, error } => ui.model.reconnect_failed(attempt, &error, now),
    }
}
