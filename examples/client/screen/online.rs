//! A logged-in session on the screen: keys become commands for the server, the session's
//! events go to the model, until the user quits or the connection is lost.

use std::time::Duration;

use securecom_console::screen::{ConnectionState, LossReason};
use securecom_proto::client::ClientEvent;
use securecom_proto::identity::Fingerprint;
use securecom_tokio::ClientHandle;
use tokio::sync::mpsc::UnboundedReceiver;

use super::{Input, Ui};
use crate::commands::{Outcome, execute, note_event, verification};
use crate::session::Loss;

/// How a session ended.
pub(super) enum Ended {
    /// The user quit (`/quit` or Ctrl-C).
    Quit,
    /// The connection was lost, as the model already shows.
    Lost(Loss),
}

/// Runs one session until it ends; `Err` only when the terminal fails.
pub(super) async fn run(
    ui: &mut Ui,
    client: &ClientHandle,
    events: &mut UnboundedReceiver<ClientEvent>,
    fingerprint: &Fingerprint,
) -> Result<Ended, String> {
    let mut loss = None;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        ui.draw()?;
        tokio::select! {
            Some(input) = ui.terminal.keys.recv() => match ui.input(input) {
                Input::Nothing => {}
                Input::Quit => {
                    let _ = client.exit().await;
                    return Ok(Ended::Quit);
                }
                Input::Command(command) => {
                    let now = ui.clock.now();
                    // Between the server's close and the end of the stream.
                    if !ui.model.accepts_command(&command, now) {
                        continue;
                    }
                    ui.model.note_command(&command, now);
                    match execute(client, command, fingerprint, &mut ui.kept).await {
                        Outcome::Show(lines) => {
                            for line in lines {
                                match line.strip_prefix("error: ") {
                                    Some(error) => ui.model.push_error(error, ui.clock.now()),
                                    None => ui.model.push_info(&line, ui.clock.now()),
                                }
                            }
                        }
                        Outcome::Quit => return Ok(Ended::Quit),
                    }
                }
            },
            event = events.recv() => {
                let Some(event) = event else {
                    // The driver ended without saying so: the connection is gone.
                    let loss = loss.unwrap_or(Loss::Reset);
                    let lost = ConnectionState::Disconnected { reason: reason(loss) };
                    ui.model.set_connection(lost, ui.clock.now());
                    return Ok(Ended::Lost(loss));
                };
                note_event(&event, &mut ui.kept);
                // `/verify` succeeded (its event), or a verified key was seen or changed.
                if let Some((peer, verified)) = verification(&event) {
                    ui.model.set_verified(peer, verified);
                }
                ui.model.handle_event(&event, ui.clock.now());
                if let Some(next) = Loss::from_event(&event) {
                    let so_far = Loss::merge(loss, next);
                    loss = Some(so_far);
                    if matches!(event, ClientEvent::ConnectionLost { .. }) {
                        return Ok(Ended::Lost(so_far));
                    }
                }
            }
            _ = tick.tick() => {
                if ui.model.poll_refresh(ui.monotonic().as_secs()) {
                    let _ = client.list_users().await;
                }
                if let Ok((status, safety_number)) = client.status().await {
                    ui.model.set_status(status, safety_number);
                }
            }
        }
    }
}

/// The program's account of a loss in the model's terms.
fn reason(loss: Loss) -> LossReason {
    match loss {
        Loss::Closed(reason) => LossReason::Closed(reason),
        Loss::Reset => LossReason::Reset,
    }
}
