//! Drawing the screen into a ratatui frame: a status line, the conversation beside the
//! list of who is online, and the input line.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use securecom_proto::client::ChatStatus;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::notice::Level;
use super::wrap::{Segment, wrap};
use super::{ChatScreen, Entry, Sender};

/// Width of the side panel of who is online.
const PANEL_WIDTH: u16 = 24;
/// Below this width the side panel is left out, so the conversation keeps its room.
const PANEL_MIN_TOTAL: u16 = 60;

impl ChatScreen {
    /// Draws the whole screen into `frame`, sized to it, and places the cursor in the
    /// input line. Call it after every change and on every resize; any size works, down to
    /// 1x1 (parts that do not fit are left out).
    pub fn draw(&mut self, frame: &mut Frame<'_>) {
        let [status, middle, input] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(0),
            Constraint::Length(1),
        ])
        .areas(frame.area());
        let (conversation, panel) = if middle.width >= PANEL_MIN_TOTAL {
            let [c, p] = Layout::horizontal([Constraint::Min(0), Constraint::Length(PANEL_WIDTH)])
                .areas(middle);
            (c, Some(p))
        } else {
            (middle, None)
        };
        // The conversation first: it settles the scroll position the status line shows.
        self.draw_conversation(frame, conversation);
        frame.render_widget(self.status_line(), status);
        if let Some(panel) = panel {
            frame.render_widget(self.panel(panel.height), panel);
        }
        self.draw_input(frame, input);
    }

    fn status_line(&self) -> Paragraph<'static> {
        let bar = Style::default().bg(Color::Blue).fg(Color::White);
        let mut parts = vec![format!(" {} @ {}", self.me, self.server)];
        // Off the server there is no chat to speak of: the connection is the news.
        match self.connection_status() {
            Some(connection) => parts.push(connection),
            None => parts.push(match &self.status {
                ChatStatus::Idle => "no chat: /chat NAME".to_owned(),
                ChatStatus::Requesting(u) => format!("asking {u} to chat..."),
                ChatStatus::Asked(u) => format!("{u} asks to chat: /accept or /deny"),
                ChatStatus::Negotiating(u) => format!("securing the chat with {u}..."),
                ChatStatus::Chatting(u) => format!("chatting with {u}"),
            }),
        }
        if let ChatStatus::Chatting(peer) = &self.status {
            parts.push(if self.verified.contains(peer) {
                "safety number verified \u{2713}".to_owned()
            } else {
                "safety number NOT verified (/verify)".to_owned()
            });
        }
        if self.scroll > 0 && self.unseen > 0 {
            parts.push(format!("\u{2193} {} new", self.unseen));
        }
        Paragraph::new(Line::from(parts.join(" \u{2502} "))).style(bar.add_modifier(Modifier::BOLD))
    }

    fn panel(&self, height: u16) -> Paragraph<'static> {
        let peer = self.peer();
        let mut lines: Vec<Line<'static>> = Vec::new();
        // The peer first, so a long list never hides it.
        let users = self
            .users
            .iter()
            .filter(|u| Some(*u) == peer)
            .chain(self.users.iter().filter(|u| Some(*u) != peer));
        for user in users {
            let mark = if self.changed.contains(user) {
                " !"
            } else if self.verified.contains(user) {
                " \u{2713}"
            } else {
                ""
            };
            lines.push(if Some(user) == peer {
                Line::from(Span::styled(
                    format!("\u{25b6} {user}{mark}"),
                    Style::default()
                        .fg(Color::Green)
                        .add_modifier(Modifier::BOLD),
                ))
            } else if user.as_str() == self.me {
                Line::from(Span::styled(
                    format!("  {user} (you)"),
                    Style::default().fg(Color::DarkGray),
                ))
            } else {
                Line::from(format!("  {user}{mark}"))
            });
        }
        if self.users_truncated {
            lines.push(Line::from("  ..."));
        }
        let inner = usize::from(height.saturating_sub(2));
        lines.truncate(inner);
        let title = if self.connection.is_connected() {
            format!(" online ({}) ", self.users.len())
        } else {
            " not connected ".to_owned()
        };
        Paragraph::new(lines).block(Block::bordered().title(title))
    }

    fn draw_conversation(&mut self, frame: &mut Frame<'_>, area: Rect) {
        let block = Block::bordered().title(" conversation ");
        let inner = block.inner(area);
        self.view = (inner.width, inner.height);
        let height = usize::from(inner.height);
        let wanted = self.scroll.saturating_add(height);
        // Rows from the newest back, only as many as the view needs.
        let mut rows: Vec<Line<'static>> = Vec::new();
        for entry in self.entries.iter().rev() {
            rows.extend(self.rows_of(entry).into_iter().rev());
            if rows.len() >= wanted {
                break;
            }
        }
        self.scroll = self.scroll.min(rows.len().saturating_sub(height));
        if self.scroll == 0 {
            self.unseen = 0;
        }
        let mut visible: Vec<Line<'static>> =
            rows.into_iter().skip(self.scroll).take(height).collect();
        visible.reverse();
        let block = if self.scroll == 0 {
            block
        } else if self.unseen > 0 {
            block.title_bottom(
                Line::from(format!(
                    " \u{2014} {} new below: PageDown \u{2014} ",
                    self.unseen
                ))
                .right_aligned()
                .style(
                    Style::default()
                        .fg(Color::Yellow)
                        .add_modifier(Modifier::BOLD),
                ),
            )
        } else {
            block.title_bottom(Line::from(" more below: PageDown ").right_aligned())
        };
        frame.render_widget(Paragraph::new(visible).block(block), area);
    }

    /// An entry as rows of the conversation's width at the last draw.
    pub(super) fn rows_of(&self, entry: &Entry) -> Vec<Line<'static>> {
        let time = (
            format!("{} ", entry.time),
            Style::default().fg(Color::DarkGray),
        );
        let (prefix, body): (Segment, Style) = match &entry.sender {
            Sender::Peer(name) => (
                (
                    format!("{name}: "),
                    Style::default()
                        .fg(Color::Green)
                        .add_modifier(Modifier::BOLD),
                ),
                Style::default(),
            ),
            Sender::Own => (
                (
                    "you: ".to_owned(),
                    Style::default()
                        .fg(Color::Cyan)
                        .add_modifier(Modifier::BOLD),
                ),
                Style::default().fg(Color::Cyan),
            ),
            Sender::Notice(level) => {
                let (mark, style) = match level {
                    Level::Info => ("* ", Style::default().fg(Color::Gray)),
                    Level::Warning => (
                        "! ",
                        Style::default()
                            .fg(Color::Yellow)
                            .add_modifier(Modifier::BOLD),
                    ),
                    Level::Error => ("! ", Style::default().fg(Color::Red)),
                };
                ((mark.to_owned(), style), style)
            }
        };
        let indent = time.0.width() + prefix.0.width();
        wrap(
            &[time, prefix, (entry.text.clone(), body)],
            self.view.0,
            indent,
        )
    }

    fn draw_input(&self, frame: &mut Frame<'_>, area: Rect) {
        if area.width == 0 || area.height == 0 {
            return;
        }
        let prompt = "> ";
        let room = usize::from(area.width)
            .saturating_sub(prompt.len() + 1)
            .max(1);
        let chars = self.input.chars();
        let cursor = self.input.cursor().min(chars.len());
        // Scroll the line so the cursor stays in view.
        let mut start = cursor;
        let mut used = 0;
        while start > 0 {
            let w = chars.get(start - 1).and_then(|c| c.width()).unwrap_or(0);
            if used + w > room {
                break;
            }
            used += w;
            start -= 1;
        }
        let shown: String = chars.iter().skip(start).collect();
        let line = if chars.is_empty() {
            Line::from(vec![
                Span::styled(prompt, Style::default().add_modifier(Modifier::BOLD)),
                Span::styled(
                    "type a message, or /help",
                    Style::default().fg(Color::DarkGray),
                ),
            ])
        } else {
            Line::from(vec![
                Span::styled(prompt, Style::default().add_modifier(Modifier::BOLD)),
                Span::raw(shown),
            ])
        };
        frame.render_widget(Paragraph::new(line), area);
        let x = area
            .x
            .saturating_add(u16::try_from(prompt.len() + used).unwrap_or(u16::MAX))
            .min(area.right().saturating_sub(1));
        frame.set_cursor_position(Position::new(x, area.y));
    }
}
