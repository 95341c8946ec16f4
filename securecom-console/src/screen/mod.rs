//! The chat screen, as a model you feed and draw: no terminal, no clock, no I/O.
//!
//! [`ChatScreen`] holds what a person sees: the conversation with local times, notices in
//! plain sentences, who is online, where the chat stands, and the line being typed. The
//! program feeds it [`ClientEvent`]s, keys and the time of day, draws it into any ratatui
//! backend with [`ChatScreen::draw`], and asks [`ChatScreen::poll_refresh`] when to ask
//! the server for the list of users.
//!
//! Everything that came from the network (names, messages, the debug form of an unknown
//! event) is neutralised before it is stored: control characters, bidirectional overrides
//! and line separators are shown as `U+FFFD`, so a peer can never drive the terminal.

mod connection;
mod input;
mod notice;
mod render;
mod sanitize;
mod wrap;

#[cfg(test)]
mod tests;

use core::fmt;
use core::time::Duration;
use std::collections::BTreeSet;

use securecom_proto::chat::{KeyStatus, SafetyNumber};
use securecom_proto::client::{ChatStatus, ClientEvent};
use securecom_proto::identity::Username;

use crate::ConsoleCommand;
pub use connection::{ConnectionState, LossReason};
use input::InputLine;
use notice::Level;
use sanitize::neutralise;

/// Entries kept in the conversation; older ones are dropped.
pub const SCROLLBACK: usize = 1_000;

/// How often [`ChatScreen::poll_refresh`] asks for the user list without a reason, in
/// seconds.
pub const REFRESH_SECS: u64 = 10;

/// A local time of day, hours and minutes, as shown beside each entry (`HH:MM`). The
/// program computes it from its clock and time zone; the screen never reads a clock.
///
/// ```
/// use securecom_console::screen::LocalTime;
/// assert_eq!(LocalTime::new(9, 5).map(|t| t.to_string()), Some("09:05".to_owned()));
/// assert_eq!(LocalTime::new(24, 0), None);
/// assert_eq!(LocalTime::from_seconds(86_400 + 3_600 + 120).to_string(), "01:02");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalTime {
    hour: u8,
    minute: u8,
}

impl LocalTime {
    /// The time `hour:minute`, if `hour < 24` and `minute < 60`.
    pub fn new(hour: u8, minute: u8) -> Option<Self> {
        (hour < 24 && minute < 60).then_some(LocalTime { hour, minute })
    }

    /// The time of day `seconds` after a midnight (whole days are ignored): pass the Unix
    /// time plus the local offset from UTC.
    pub fn from_seconds(seconds: u64) -> Self {
        let of_day = seconds % 86_400;
        LocalTime {
            // Both below 24 and 60, so they fit.
            hour: u8::try_from(of_day / 3_600).unwrap_or(0),
            minute: u8::try_from(of_day % 3_600 / 60).unwrap_or(0),
        }
    }

    /// The hour, `0..24`.
    pub fn hour(self) -> u8 {
        self.hour
    }

    /// The minute, `0..60`.
    pub fn minute(self) -> u8 {
        self.minute
    }
}

impl fmt::Display for LocalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour, self.minute)
    }
}

/// A key the screen understands; the program maps its terminal library's keys to these.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Key {
    /// A printable character typed into the input line (control characters are ignored).
    Char(char),
    /// Enter: [`ChatScreen::handle_key`] returns the line.
    Enter,
    /// Delete the character before the cursor.
    Backspace,
    /// Delete the character under the cursor.
    Delete,
    /// Cursor one character left.
    Left,
    /// Cursor one character right.
    Right,
    /// Cursor to the start of the line.
    Home,
    /// Cursor to the end of the line.
    End,
    /// The previous line entered (input history).
    Up,
    /// The next line entered, or back to the line being typed.
    Down,
    /// Scroll the conversation one page back.
    PageUp,
    /// Scroll the conversation one page forward, back to the newest entries.
    PageDown,
}

/// Who an entry is from.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Sender {
    /// The chat peer (name already neutralised).
    Peer(String),
    /// The user of this screen.
    Own,
    /// The program: a sentence about an event or a command's result.
    Notice(Level),
}

/// One entry of the conversation: neutralised text, never written raw to a terminal.
#[derive(Clone, Debug)]
struct Entry {
    time: LocalTime,
    sender: Sender,
    text: String,
}

/// The chat screen's state: feed it events, keys and times, then [`draw`](Self::draw) it.
///
/// How a program drives it:
/// - **events**: each [`ClientEvent`] to [`handle_event`](Self::handle_event), with the
///   local time it arrived; what the program itself has to say (command results, errors)
///   to [`push_info`](Self::push_info) and [`push_error`](Self::push_error);
/// - **keys**: to [`handle_key`](Self::handle_key); a finished line comes back on Enter.
///   The program parses it ([`parse_command`](crate::parse_command)), tells the screen with
///   [`note_command`](Self::note_command) (a message is shown as the user's own, `/users`
///   prints the next list), then runs it;
/// - **time**: every second or so, [`poll_refresh`](Self::poll_refresh) with a monotonic
///   count of seconds; when it returns `true`, ask the server for the user list. The list
///   is also refreshed soon after anything that changes who is chatting;
/// - **state**: [`set_status`](Self::set_status) with the client's own view when it has
///   one (the screen also follows the events), [`set_verified`](Self::set_verified) once
///   a peer's safety number was compared;
/// - **the connection**: a loss is followed from the events; while logging in again,
///   [`set_connection`](Self::set_connection) with each wait and attempt (and
///   [`set_clock`](Self::set_clock) for the countdown), [`reconnect_failed`](Self::reconnect_failed)
///   for each failure, and `Connected` once back; [`accepts_command`](Self::accepts_command)
///   before running what the user typed refuses what needs the server meanwhile;
/// - **drawing**: [`draw`](Self::draw) after each change and on every resize; it fits any
///   size, a 1x1 terminal included.
///
/// ```
/// use ratatui::{Terminal, backend::TestBackend};
/// use securecom_console::screen::{ChatScreen, LocalTime};
/// use securecom_proto::client::ClientEvent;
/// use securecom_proto::identity::Username;
///
/// let (alice, bob) = (Username::new("alice")?, Username::new("bob")?);
/// let mut screen = ChatScreen::new(alice, "127.0.0.1:4433");
/// let at = LocalTime::new(12, 30).unwrap();
/// screen.handle_event(&ClientEvent::Message { from: bob, text: "hi\u{1b}[2J".into() }, at);
///
/// let mut terminal = Terminal::new(TestBackend::new(60, 8))?;
/// terminal.draw(|frame| screen.draw(frame))?;
/// let screen_text: String = terminal.backend().buffer().content().iter().map(|c| c.symbol()).collect();
/// assert!(screen_text.contains("12:30 bob: hi\u{fffd}[2J"));
/// assert!(screen_text.contains("alice @ 127.0.0.1:4433"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct ChatScreen {
    me: String,
    server: String,
    connection: ConnectionState,
    /// Why the last connection ended, until logged in again.
    lost: Option<LossReason>,
    /// The program's monotonic clock, for the countdown to the next attempt.
    clock: Duration,
    status: ChatStatus,
    safety_number: Option<SafetyNumber>,
    verified: BTreeSet<Username>,
    entries: Vec<Entry>,
    users: Vec<Username>,
    users_truncated: bool,
    /// Users whose key in the last list differs from the one a chat proved.
    changed: BTreeSet<Username>,
    input: InputLine,
    /// Rows scrolled back from the newest; 0 follows the conversation.
    scroll: usize,
    /// Entries added while scrolled back.
    unseen: usize,
    /// The conversation's inner size at the last draw (for paging and scrolling).
    view: (u16, u16),
    /// The next user list is shown as a sentence too (the user typed `/users`).
    show_next_list: bool,
    /// Ask for the user list at the next poll.
    refresh_soon: bool,
    /// When to ask next without a reason; `None` before the first poll.
    next_refresh: Option<u64>,
}

impl ChatScreen {
    /// A screen for user `me`, connected to `server` (shown in the status line as given).
    pub fn new(me: Username, server: &str) -> Self {
        ChatScreen {
            me: me.to_string(),
            server: neutralise(server, false),
            connection: ConnectionState::Connected,
            lost: None,
            clock: Duration::ZERO,
            status: ChatStatus::Idle,
            safety_number: None,
            verified: BTreeSet::new(),
            entries: Vec::new(),
            users: Vec::new(),
            users_truncated: false,
            changed: BTreeSet::new(),
            input: InputLine::default(),
            scroll: 0,
            unseen: 0,
            view: (0, 0),
            show_next_list: false,
            refresh_soon: true,
            next_refresh: None,
        }
    }

    /// Shows what `event` means: a message in the conversation, a sentence for anything
    /// else, the side panel for a user list; and follows the chat's state.
    pub fn handle_event(&mut self, event: &ClientEvent, at: LocalTime) {
        self.follow(event);
        match event {
            ClientEvent::Message { from, text } => self.push(Entry {
                time: at,
                sender: Sender::Peer(neutralise(from.as_str(), false)),
                text: neutralise(text, true),
            }),
            ClientEvent::Users { users, truncated } => {
                self.users = users.iter().map(|u| u.username.clone()).collect();
                self.users_truncated = *truncated;
                let changed: BTreeSet<Username> = users
                    .iter()
                    .filter(|u| matches!(u.key_status, KeyStatus::Changed { .. }))
                    .map(|u| u.username.clone())
                    .collect();
                // Said once per change, not at every refresh of the list.
                let new: Vec<Username> = changed.difference(&self.changed).cloned().collect();
                for user in new {
                    let text = format!(
                        "The server lists {} with a key that CHANGED since your last chat. \
                         Check it with them before you chat.",
                        neutralise(user.as_str(), false)
                    );
                    self.push_notice(Level::Warning, &text, at);
                }
                self.changed = changed;
                if std::mem::take(&mut self.show_next_list) {
                    let text = self.online_sentence();
                    self.push_notice(Level::Info, &text, at);
                }
            }
            _ => {
                if let Some((level, text)) = notice::describe(event) {
                    self.push_notice(level, &text, at);
                }
            }
        }
    }

    /// Tracks the chat's state from events, and which events call for a fresh user list.
    fn follow(&mut self, event: &ClientEvent) {
        let status = match event {
            ClientEvent::RequestSent { to } => ChatStatus::Requesting(to.clone()),
            ClientEvent::IncomingRequest { from, .. } => ChatStatus::Asked(from.clone()),
            ClientEvent::RequestAccepted { peer, .. } => ChatStatus::Negotiating(peer.clone()),
            ClientEvent::ChatEstablished {
                peer,
                safety_number,
                ..
            } => {
                self.safety_number = Some(*safety_number);
                ChatStatus::Chatting(peer.clone())
            }
            ClientEvent::RequestDenied { .. }
            | ClientEvent::RequestExpired { .. }
            | ClientEvent::RequestWithdrawn { .. }
            | ClientEvent::ChatEnded { .. } => ChatStatus::Idle,
            ClientEvent::Closed { .. } | ClientEvent::ConnectionLost { .. } => {
                self.follow_connection(event);
                return;
            }
            ClientEvent::AutoRefused { .. } => {
                self.refresh_soon = true;
                return;
            }
            _ => return,
        };
        if status == ChatStatus::Idle {
            self.safety_number = None;
        }
        self.status = status;
        self.refresh_soon = true;
    }

    /// Takes a key. Returns the entered line on [`Key::Enter`] (possibly empty); the line
    /// is remembered for Up / Down.
    pub fn handle_key(&mut self, key: Key) -> Option<String> {
        match key {
            Key::Char(c) => self.input.insert(c),
            Key::Enter => return Some(self.input.take()),
            Key::Backspace => self.input.backspace(),
            Key::Delete => self.input.delete(),
            Key::Left => self.input.left(),
            Key::Right => self.input.right(),
            Key::Home => self.input.home(),
            Key::End => self.input.end(),
            Key::Up => self.input.older(),
            Key::Down => self.input.newer(),
            Key::PageUp => self.scroll_up(),
            Key::PageDown => self.scroll_down(),
        }
        None
    }

    /// Tells the screen which command the user entered, before running it: a message is
    /// shown as the user's own at `at`; `/users` shows the next list as a sentence; a
    /// command that changes the chat refreshes the user list soon.
    pub fn note_command(&mut self, command: &ConsoleCommand, at: LocalTime) {
        match command {
            ConsoleCommand::Say(text) => self.push(Entry {
                time: at,
                sender: Sender::Own,
                text: neutralise(text, true),
            }),
            ConsoleCommand::Users => {
                self.show_next_list = true;
            }
            ConsoleCommand::Nothing
            | ConsoleCommand::Help
            | ConsoleCommand::Fingerprint
            | ConsoleCommand::Verify => {}
            _ => self.refresh_soon = true,
        }
    }

    /// Shows a message the user sent (without [`note_command`](Self::note_command)).
    pub fn push_own_message(&mut self, text: &str, at: LocalTime) {
        self.note_command(&ConsoleCommand::Say(text.to_owned()), at);
    }

    /// Shows a sentence from the program (a command's result, help text).
    pub fn push_info(&mut self, text: &str, at: LocalTime) {
        self.push_notice(Level::Info, text, at);
    }

    /// Shows that something failed.
    pub fn push_error(&mut self, text: &str, at: LocalTime) {
        self.push_notice(Level::Error, text, at);
    }

    /// Whether to ask the server for the user list now, `now_secs` being a monotonic count
    /// of seconds (any origin). True at the first call, every [`REFRESH_SECS`], and at the
    /// first call after a chat request, answer, start or end.
    pub fn poll_refresh(&mut self, now_secs: u64) -> bool {
        let due = self.next_refresh.is_none_or(|at| now_secs >= at);
        if !(due || self.refresh_soon) {
            return false;
        }
        self.refresh_soon = false;
        self.next_refresh = Some(now_secs.saturating_add(REFRESH_SECS));
        true
    }

    /// Sets the chat's state and safety number from the client (the screen also follows
    /// the events, so this only corrects it).
    pub fn set_status(&mut self, status: ChatStatus, safety_number: Option<SafetyNumber>) {
        self.status = status;
        self.safety_number = safety_number;
    }

    /// Marks `user`'s key as verified (the safety number was compared out of band) or not.
    /// The status line and the side panel show it.
    pub fn set_verified(&mut self, user: &Username, verified: bool) {
        if verified {
            self.verified.insert(user.clone());
        } else {
            self.verified.remove(user);
        }
    }

    /// The chat's state as the screen shows it.
    pub fn status(&self) -> &ChatStatus {
        &self.status
    }

    /// The safety number of the current chat, if one is established.
    pub fn safety_number(&self) -> Option<&SafetyNumber> {
        self.safety_number.as_ref()
    }

    /// Entries that arrived while the conversation was scrolled back (0 when following).
    pub fn unseen(&self) -> usize {
        self.unseen
    }

    /// The peer the chat (or request, or handshake) is with.
    fn peer(&self) -> Option<&Username> {
        match &self.status {
            ChatStatus::Idle => None,
            ChatStatus::Requesting(u)
            | ChatStatus::Asked(u)
            | ChatStatus::Negotiating(u)
            | ChatStatus::Chatting(u) => Some(u),
        }
    }

    fn online_sentence(&self) -> String {
        let mut names: Vec<String> = self
            .users
            .iter()
            .map(|u| {
                if u.as_str() == self.me {
                    format!("{u} (you)")
                } else if self.changed.contains(u) {
                    format!("{} (key changed)", neutralise(u.as_str(), false))
                } else {
                    neutralise(u.as_str(), false)
                }
            })
            .collect();
        if self.users_truncated {
            names.push("and more".to_owned());
        }
        if names.is_empty() {
            "Nobody is online.".to_owned()
        } else {
            format!("Online: {}.", names.join(", "))
        }
    }

    fn push_notice(&mut self, level: Level, text: &str, at: LocalTime) {
        self.push(Entry {
            time: at,
            sender: Sender::Notice(level),
            text: neutralise(text, true),
        });
    }

    fn push(&mut self, entry: Entry) {
        if self.scroll > 0 {
            // Keep the view where it is: the new rows are below it.
            self.scroll = self.scroll.saturating_add(self.rows_of(&entry).len());
            self.unseen = self.unseen.saturating_add(1);
        }
        self.entries.push(entry);
        if self.entries.len() > SCROLLBACK {
            self.entries.remove(0);
        }
    }

    /// One page: the conversation's height at the last draw, less one row of context.
    fn page(&self) -> usize {
        usize::from(self.view.1.saturating_sub(1).max(1))
    }

    fn scroll_up(&mut self) {
        self.scroll = self.scroll.saturating_add(self.page());
        // Clamped to the oldest row at the next draw.
    }

    fn scroll_down(&mut self) {
        self.scroll = self.scroll.saturating_sub(self.page());
        if self.scroll == 0 {
            self.unseen = 0;
        }
    }
}
