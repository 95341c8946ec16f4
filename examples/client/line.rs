//! Line mode: one command per input line, one event per output line.

use securecom_console::{format_event, parse_command};
use securecom_proto::client::ClientEvent;
use securecom_tokio::ClientHandle;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc::UnboundedReceiver;

use securecom_proto::identity::Fingerprint;

use crate::commands::{ChangedKeys, Outcome, execute, note_event};

pub(crate) async fn run(
    client: ClientHandle,
    mut events: UnboundedReceiver<ClientEvent>,
    fingerprint: Fingerprint,
) -> Result<(), String> {
    println!(
        "online {} session={}",
        client.username(),
        client.session_id()
    );
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut stdin_open = true;
    let mut changed_keys = ChangedKeys::new();
    loop {
        tokio::select! {
            line = lines.next_line(), if stdin_open => match line {
                Ok(Some(line)) => match parse_command(&line) {
                    Ok(command) => match execute(&client, command, &fingerprint, &mut changed_keys).await {
                        Outcome::Show(out) => for l in out { println!("info {l}") },
                        Outcome::Quit => stdin_open = false,
                    },
                    Err(e) => println!("info error: {e}"),
                },
                // End of input: leave the server politely.
                Ok(None) | Err(_) => {
                    stdin_open = false;
                    let _ = client.exit().await;
                }
            },
            event = events.recv() => match event {
                Some(event) => {
                    note_event(&event, &mut changed_keys);
                    println!("{}", format_event(&event));
                    if matches!(event, ClientEvent::ConnectionLost { .. }) {
                        return Ok(());
                    }
                }
                None => return Ok(()),
            },
        }
    }
}
