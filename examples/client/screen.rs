//! The terminal chat screen: a status bar, the conversation, and an input line that
//! incoming messages never disturb.

use std::io;
use std::time::Duration;

use crossterm::event::{Event, KeyCode, KeyEventKind, KeyModifiers};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use securecom_console::parse_command;
use securecom_proto::client::{ChatStatus, ClientEvent};
use securecom_proto::identity::Fingerprint;
use securecom_tokio::ClientHandle;
use tokio::sync::mpsc::{self, UnboundedReceiver};
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

use crate::commands::{ChangedKeys, Outcome, execute, note_event};

/// Lines of conversation kept on screen.
const SCROLLBACK: usize = 1_000;

struct Screen {
    log: Vec<Line<'static>>,
    input: Input,
    status: ChatStatus,
    me: String,
}

/// Restores the terminal however the screen ends.
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let _ = disable_raw_mode();
        let _ = crossterm::execute!(io::stdout(), LeaveAlternateScreen);
    }
}

pub(crate) async fn run(
    client: ClientHandle,
    mut events: UnboundedReceiver<ClientEvent>,
    fingerprint: Fingerprint,
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

    let mut screen = Screen {
        log: Vec::new(),
        input: Input::default(),
        status: ChatStatus::Idle,
        me: client.username().to_string(),
    };
    let mut changed_keys = ChangedKeys::new();
    screen.info(format!(
        "connected as {} (session {}); type /help for commands",
        client.username(),
        client.session_id()
    ));
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        terminal
            .draw(|f| screen.draw(f))
            .map_err(|e| e.to_string())?;
        tokio::select! {
            Some(key) = keys.recv() => {
                if let Some(line) = screen.key(&key) {
                    match parse_command(&line) {
                        Ok(command) => {
                            if let securecom_console::ConsoleCommand::Say(text) = &command {
                                screen.said(text);
                            }
                            match execute(&client, command, &fingerprint, &mut changed_keys).await {
                                Outcome::Show(lines) => lines.into_iter().for_each(|l| screen.info(l)),
                                Outcome::Quit => return Ok(()),
                            }
                        }
                        Err(e) => screen.error(e),
                    }
                } else if matches!(key, Event::Key(k) if k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL)) {
                    let _ = client.exit().await;
                    return Ok(());
                }
            }
            event = events.recv() => match event {
                Some(event) => {
                    note_event(&event, &mut changed_keys);
                    let lost = matches!(event, ClientEvent::ConnectionLost { .. });
                    screen.event(&event);
                    if lost {
                        terminal.draw(|f| screen.draw(f)).map_err(|e| e.to_string())?;
                        tokio::time::sleep(Duration::from_secs(2)).await;
                        return Ok(());
                    }
                }
                None => return Ok(()),
            },
            _ = tick.tick() => {
                if let Ok((status, _)) = client.status().await {
                    screen.status = status;
                }
            }
        }
    }
}

impl Screen {
    fn push(&mut self, line: Line<'static>) {
        self.log.push(line);
        if self.log.len() > SCROLLBACK {
            self.log.remove(0);
        }
    }

    fn info(&mut self, text: String) {
        self.push(Line::from(Span::styled(
            format!("* {text}"),
            Style::default().fg(Color::DarkGray),
        )));
    }

    fn error(&mut self, text: String) {
        self.push(Line::from(Span::styled(
            format!("! {text}"),
            Style::default().fg(Color::Red),
        )));
    }

    fn said(&mut self, text: &str) {
        let me = self.me.clone();
        self.push(Line::from(vec![
            Span::styled(format!("{me}: "), Style::default().fg(Color::Cyan)),
            Span::raw(sanitize(text)),
        ]));
    }

    fn event(&mut self, event: &ClientEvent) {
        match event {
            ClientEvent::Message { from, text } => self.push(Line::from(vec![
                Span::styled(
                    format!("{from}: "),
                    Style::default()
                        .fg(Color::Green)
                        .add_modifier(Modifier::BOLD),
                ),
                Span::raw(sanitize(text)),
            ])),
            ClientEvent::KeyChanged { user, current, .. } => {
                self.push(Line::from(Span::styled(
                    format!(
                        "!!! WARNING: {user}'s key changed (now {current}). The server may be \
                         impersonating {user}. Verify out of band, then /trust {user}."
                    ),
                    Style::default()
                        .fg(Color::Yellow)
                        .add_modifier(Modifier::BOLD),
                )));
            }
            ClientEvent::IncomingRequest { from, .. } => {
                self.info(format!("{from} asks to chat: /accept or /deny"));
                self.info(securecom_console::format_event(event));
            }
            ClientEvent::ChatEstablished {
                peer,
                safety_number,
            } => {
                self.info(format!("chatting with {peer}"));
                self.info(format!(
                    "safety number {safety_number} - compare it with {peer} out of band"
                ));
            }
            other => self.info(securecom_console::format_event(other)),
        }
    }

    /// Handles a key; returns a finished input line on Enter.
    fn key(&mut self, event: &Event) -> Option<String> {
        if let Event::Key(k) = event {
            if k.kind != KeyEventKind::Press {
                return None;
            }
            if k.code == KeyCode::Enter {
                let line = self.input.value().to_owned();
                self.input.reset();
                return Some(line);
            }
            if k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL) {
                return None;
            }
        }
        self.input.handle_event(event);
        None
    }

    fn draw(&self, frame: &mut ratatui::Frame<'_>) {
        let [status, log, input] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(3),
            Constraint::Length(3),
        ])
        .areas(frame.area());
        let state = match &self.status {
            ChatStatus::Idle => "idle".to_owned(),
            ChatStatus::Requesting(u) => format!("asking {u}..."),
            ChatStatus::Asked(u) => format!("request from {u}: /accept or /deny"),
            ChatStatus::Negotiating(u) => format!("securing chat with {u}..."),
            ChatStatus::Chatting(u) => format!("chatting with {u}"),
        };
        frame.render_widget(
            Paragraph::new(format!(" securecom | {} | {state}", self.me)).style(
                Style::default()
                    .bg(Color::Blue)
                    .fg(Color::White)
                    .add_modifier(Modifier::BOLD),
            ),
            status,
        );
        let height = log.height.saturating_sub(2) as usize;
        let start = self.log.len().saturating_sub(height);
        frame.render_widget(
            Paragraph::new(self.log[start..].to_vec())
                .wrap(Wrap { trim: false })
                .block(Block::default().borders(Borders::ALL)),
            log,
        );
        let width = input.width.saturating_sub(2) as usize;
        let scroll = self.input.visual_scroll(width);
        frame.render_widget(
            Paragraph::new(self.input.value())
                .scroll((0, scroll as u16))
                .block(
                    Block::default()
                        .borders(Borders::ALL)
                        .title(" message or /command "),
                ),
            input,
        );
        frame.set_cursor_position((
            input.x + 1 + (self.input.visual_cursor().saturating_sub(scroll)) as u16,
            input.y + 1,
        ));
    }
}

/// Removes control characters so a peer cannot drive the terminal.
fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}
