//! Line mode: one command per input line, one event per output line.
//!
//! Besides the events of `securecom_console::format_event`, the program prints:
//!
//! | line | meaning |
//! |---|---|
//! | `online NAME session=ID` | logged in (at start, and again after reconnecting) |
//! | `reconnecting ATTEMPT DELAY_MS` | the connection was lost: attempt ATTEMPT starts in DELAY_MS milliseconds |
//! | `reconnect-failed ATTEMPT REASON` | that attempt failed (REASON to the end of the line) |
//! | `info TEXT` | the answer to a command such as `/help` or `/fingerprint` |

use securecom_console::{ConsoleCommand, format_event, parse_command};
use securecom_host::reconnect::BackoffPolicy;
use securecom_proto::client::ClientEvent;
use securecom_proto::identity::Fingerprint;
use securecom_tokio::ClientHandle;
use tokio::io::{AsyncBufReadExt, BufReader, Lines, Stdin};
use tokio::sync::mpsc::UnboundedReceiver;

use crate::commands::{Kept, Outcome, execute, note_event};
use crate::session::{Connected, Connector, Loss, Notice, Reconnected, reconnect};

type Input = Lines<BufReader<Stdin>>;

/// How one session ended.
enum Ended {
    /// The user quit (`/quit` or the end of input).
    Quit,
    /// The connection was lost.
    Lost(Loss),
}

/// Runs line mode from the first login to the end: reconnects after a loss unless
/// `reconnecting` is `None`. `Ok` when the user quit; the one-line reason otherwise.
pub(crate) async fn run(
    connector: &Connector,
    first: Connected,
    fingerprint: Fingerprint,
    reconnecting: Option<BackoffPolicy>,
) -> Result<(), String> {
    let mut input = BufReader::new(tokio::io::stdin()).lines();
    let mut kept = Kept::new(connector.blocked.clone());
    let (mut client, mut events) = first;
    loop {
        println!(
            "online {} session={}",
            client.username(),
            client.session_id()
        );
        let loss = match session(&client, &mut events, &mut input, &fingerprint, &mut kept).await {
            Ended::Quit => return Ok(()),
            Ended::Lost(loss) => loss,
        };
        let Some(policy) = reconnecting else {
            return Err(format!("{loss}; not reconnecting (--no-reconnect)"));
        };
        let notify = |notice: Notice<'_>| match notice {
            Notice::Waiting { attempt, delay, .. } => {
                println!("reconnecting {attempt} {}", delay.as_millis());
            }
            Notice::Failed { attempt, error } => println!("reconnect-failed {attempt} {error}"),
        };
        match reconnect(connector, loss, policy, notify, until_quit(&mut input)).await {
            Reconnected::Online(connected) => (client, events) = connected,
            Reconnected::Cancelled => return Ok(()),
            Reconnected::GaveUp(reason) => return Err(reason),
        }
    }
}

/// One logged-in session: commands in, events out, until the user quits or the
/// connection is lost.
async fn session(
    client: &ClientHandle,
    events: &mut UnboundedReceiver<ClientEvent>,
    input: &mut Input,
    fingerprint: &Fingerprint,
    kept: &mut Kept,
) -> Ended {
    let mut leaving = false;
    let mut loss = None;
    loop {
        tokio::select! {
            line = input.next_line(), if !leaving => match line {
                Ok(Some(line)) => match parse_command(&line) {
                    Ok(command) => match execute(client, command, fingerprint, kept).await {
                        Outcome::Show(out) => for l in out { println!("info {l}") },
                        Outcome::Quit => leaving = true,
                    },
                    Err(e) => println!("info error: {e}"),
                },
                // End of input: leave the server politely.
                Ok(None) | Err(_) => {
                    leaving = true;
                    let _ = client.exit().await;
                }
            },
            event = events.recv() => match event {
                Some(event) => {
                    note_event(&event, kept);
                    println!("{}", format_event(&event));
                    if let Some(next) = Loss::from_event(&event) {
                        let so_far = Loss::merge(loss, next);
                        loss = Some(so_far);
                        if matches!(event, ClientEvent::ConnectionLost { .. }) {
                            return if leaving { Ended::Quit } else { Ended::Lost(so_far) };
                        }
                    }
                }
                // The driver ended without saying so: the connection is gone.
                None if leaving => return Ended::Quit,
                None => {
                    if loss.is_none() {
                        println!("disconnected unclean");
                    }
                    return Ended::Lost(loss.unwrap_or(Loss::Reset));
                }
            },
        }
    }
}

/// Reads input while not connected, until `/quit` or its end; anything else is answered
/// with a line saying there is no connection.
async fn until_quit(input: &mut Input) {
    loop {
        match input.next_line().await {
            Ok(Some(line)) => match parse_command(&line) {
                Ok(ConsoleCommand::Quit) => return,
                Ok(ConsoleCommand::Nothing) => {}
                _ => println!(
                    "info error: not connected to the server (reconnecting; /quit to stop)"
                ),
            },
            Ok(None) | Err(_) => return,
        }
    }
}
