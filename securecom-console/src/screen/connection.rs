//! The connection to the server as the screen shows it: up, lost (and why), waiting to
//! try again, or trying; what the status line says in each state, and the notices on the
//! way from one to the next.

use core::fmt;
use core::time::Duration;

use securecom_proto::client::{ChatStatus, ClientEvent};
use securecom_proto::session::CloseReason;

use super::notice::{Level, close_words, describe};
use super::{ChatScreen, LocalTime};
use crate::ConsoleCommand;

/// Why the connection to the server ended.
///
/// ```
/// use securecom_console::screen::LossReason;
/// use securecom_proto::session::CloseReason;
/// assert_eq!(LossReason::Reset.to_string(), "connection reset");
/// assert_eq!(
///     LossReason::Closed(CloseReason::SHUTDOWN).to_string(),
///     "the server is shutting down"
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LossReason {
    /// The server closed the session, for this reason.
    Closed(CloseReason),
    /// The connection ended without the server's goodbye: the server stopped, or the
    /// network failed.
    Reset,
}

impl fmt::Display for LossReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The server's reason says it was the server's doing, except for "goodbye".
            LossReason::Closed(CloseReason::NORMAL) => f.write_str("closed by the server"),
            LossReason::Closed(reason) => f.write_str(&close_words(*reason)),
            LossReason::Reset => f.write_str("connection reset"),
        }
    }
}

/// Where the connection to the server stands, for
/// [`ChatScreen::set_connection`].
///
/// Times are on the program's monotonic clock, the one it gives
/// [`ChatScreen::set_clock`] (any origin).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectionState {
    /// Logged in.
    Connected,
    /// The connection ended, for `reason`; no attempt to log in again is planned (yet).
    Disconnected {
        /// Why it ended.
        reason: LossReason,
    },
    /// Waiting until `until` before attempt `attempt` of `max` to log in again.
    Waiting {
        /// The attempt to come, from 1.
        attempt: u32,
        /// The attempts allowed in all.
        max: u32,
        /// When the attempt starts.
        until: Duration,
    },
    /// Attempt `attempt` of `max` to log in again is under way.
    Connecting {
        /// The attempt, from 1.
        attempt: u32,
        /// The attempts allowed in all.
        max: u32,
    },
}

impl ConnectionState {
    /// Whether logged in.
    pub fn is_connected(&self) -> bool {
        matches!(self, ConnectionState::Connected)
    }

    /// Whether attempts to log in again are planned or under way.
    fn is_reconnecting(&self) -> bool {
        matches!(
            self,
            ConnectionState::Waiting { .. } | ConnectionState::Connecting { .. }
        )
    }
}

/// What the status line says about the connection (nothing while connected), `reason`
/// being why the last one ended and `now` the monotonic time. The countdown comes first,
/// so that a narrow terminal cuts the reason (also in the conversation), not the wait.
pub(super) fn status_words(
    state: &ConnectionState,
    reason: Option<LossReason>,
    now: Duration,
) -> Option<String> {
    let lost = match reason {
        Some(reason) => format!("disconnected: {reason}"),
        None => "disconnected".to_owned(),
    };
    let trying = match *state {
        ConnectionState::Connected => return None,
        ConnectionState::Disconnected { .. } => return Some(lost),
        ConnectionState::Waiting {
            attempt,
            max,
            until,
        } => match until.checked_sub(now).filter(|d| !d.is_zero()) {
            Some(left) => format!(
                "reconnecting in {} (attempt {attempt} of {max})",
                tenths(left)
            ),
            // The wait is over: the attempt is under way.
            None => format!("connecting\u{2026} (attempt {attempt} of {max})"),
        },
        ConnectionState::Connecting { attempt, max } => {
            format!("connecting\u{2026} (attempt {attempt} of {max})")
        }
    };
    Some(format!(
        "{trying} \u{2502} {lost} \u{2502} Ctrl-C or /quit to stop"
    ))
}

/// A wait in seconds with one decimal, rounded up so it reads 0.0 only once it is over.
fn tenths(wait: Duration) -> String {
    let tenths = wait.as_millis().div_ceil(100);
    format!("{}.{} s", tenths / 10, tenths % 10)
}

impl ChatScreen {
    /// Sets where the connection to the server stands, at local time `at`, and says so
    /// when it changes: a loss the events did not report (as the event would have), the
    /// start of reconnecting (how to stop it), and logging in again ("Reconnected as
    /// alice to ..."). The status line shows the state, with a countdown while waiting.
    ///
    /// The loss itself usually needs no call: [`handle_event`](Self::handle_event) with
    /// `Closed` or `ConnectionLost` moves to [`ConnectionState::Disconnected`] with the
    /// reason and its own notices. While not connected the chat is over, the list of who
    /// is online is unknown, and [`accepts_command`](Self::accepts_command) refuses what
    /// needs the server.
    ///
    /// ```
    /// use std::time::Duration;
    /// use securecom_console::screen::{ChatScreen, ConnectionState, LocalTime, LossReason};
    /// use securecom_proto::identity::Username;
    ///
    /// let mut screen = ChatScreen::new(Username::new("alice")?, "127.0.0.1:4433");
    /// let at = LocalTime::new(10, 0).unwrap();
    /// screen.set_clock(Duration::from_secs(100));
    /// screen.set_connection(ConnectionState::Disconnected { reason: LossReason::Reset }, at);
    /// let until = Duration::from_millis(103_200);
    /// screen.set_connection(ConnectionState::Waiting { attempt: 2, max: 10, until }, at);
    /// assert_eq!(
    ///     screen.connection_status().as_deref(),
    ///     Some("reconnecting in 3.2 s (attempt 2 of 10) \u{2502} disconnected: connection \
    ///           reset \u{2502} Ctrl-C or /quit to stop")
    /// );
    /// screen.set_connection(ConnectionState::Connected, at);
    /// assert_eq!(screen.connection_status(), None);
    /// # Ok::<(), securecom_proto::identity::IdentityError>(())
    /// ```
    pub fn set_connection(&mut self, state: ConnectionState, at: LocalTime) {
        let was = self.connection;
        self.connection = state;
        match state {
            ConnectionState::Connected => {
                if !was.is_connected() {
                    let text = format!("Reconnected as {} to {}.", self.me, self.server);
                    self.push_notice(Level::Info, &text, at);
                }
                self.lost = None;
                self.refresh_soon = true;
            }
            ConnectionState::Disconnected { reason } => {
                if was.is_connected() {
                    // In the words of the event that would have said it.
                    let event = match reason {
                        LossReason::Closed(reason) => ClientEvent::Closed { reason },
                        LossReason::Reset => ClientEvent::ConnectionLost { clean: false },
                    };
                    if let Some((level, text)) = describe(&event) {
                        self.push_notice(level, &text, at);
                    }
                }
                self.lost = Some(reason);
                self.went_offline();
            }
            ConnectionState::Waiting { max, .. } | ConnectionState::Connecting { max, .. } => {
                if !was.is_reconnecting() {
                    let text = format!(
                        "Reconnecting to the server (at most {max} attempts); Ctrl-C or /quit \
                         to stop."
                    );
                    self.push_notice(Level::Info, &text, at);
                }
                self.went_offline();
            }
        }
    }

    /// Where the connection stands.
    pub fn connection(&self) -> &ConnectionState {
        &self.connection
    }

    /// What the status line says about the connection at the clock's time, `None` while
    /// connected.
    pub fn connection_status(&self) -> Option<String> {
        status_words(&self.connection, self.lost, self.clock)
    }

    /// Sets the program's monotonic clock (any origin), which the countdown to the next
    /// attempt is measured on. Call it before each [`draw`](Self::draw) while waiting.
    pub fn set_clock(&mut self, now: Duration) {
        self.clock = now;
    }

    /// Says that attempt `attempt` to log in again failed, with the one-line `error`.
    pub fn reconnect_failed(&mut self, attempt: u32, error: &str, at: LocalTime) {
        let text = match self.connection {
            ConnectionState::Waiting { max, .. } | ConnectionState::Connecting { max, .. } => {
                format!("Attempt {attempt} of {max} to reconnect failed: {error}.")
            }
            _ => format!("Attempt {attempt} to reconnect failed: {error}."),
        };
        self.push_notice(Level::Error, &text, at);
    }

    /// Whether the program may run `command` now. While connected, always. While not,
    /// only what needs no server (`/help`, `/quit`, an empty line); anything else gets a
    /// notice that the client is not connected, returns `false`, and must not be run (a
    /// message is not shown as sent; Up brings it back).
    pub fn accepts_command(&mut self, command: &ConsoleCommand, at: LocalTime) -> bool {
        if self.connection.is_connected()
            || matches!(
                command,
                ConsoleCommand::Nothing | ConsoleCommand::Help | ConsoleCommand::Quit
            )
        {
            return true;
        }
        let state = if self.connection.is_reconnecting() {
            "Not connected; reconnecting\u{2026}"
        } else {
            "Not connected to the server."
        };
        let what = match command {
            ConsoleCommand::Say(_) => {
                "Your message was not sent; Up brings it back to send once reconnected."
            }
            _ => "That needs the server; try again once reconnected.",
        };
        self.push_notice(Level::Error, &format!("{state} {what}"), at);
        false
    }

    /// Follows the connection's end through the events: the first reason known stays
    /// (the server's close explains the end of the stream after it).
    pub(super) fn follow_connection(&mut self, event: &ClientEvent) {
        let reason = match event {
            ClientEvent::Closed { reason } => LossReason::Closed(*reason),
            ClientEvent::ConnectionLost { .. } => LossReason::Reset,
            _ => return,
        };
        let reason = match (self.connection, self.lost) {
            (ConnectionState::Connected, _) | (_, None) => reason,
            (_, Some(first)) => first,
        };
        self.connection = ConnectionState::Disconnected { reason };
        self.lost = Some(reason);
        self.went_offline();
    }

    /// Off the server: no chat, and nobody known to be online.
    fn went_offline(&mut self) {
        self.status = ChatStatus::Idle;
        self.safety_number = None;
        self.users.clear();
        self.users_truncated = false;
    }
}
