//! The local time of day for the screen's time stamps.
//!
//! The standard library knows only UTC, and asking the C library for the local offset is
//! not allowed here (`forbid(unsafe_code)`) nor sound in a multi-threaded process, so the
//! offset is asked of `date +%z` once per screen; without it the times are UTC.

use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use securecom_console::screen::LocalTime;

/// Turns the system clock into local times of day.
pub(crate) struct Clock {
    /// Seconds east of UTC.
    offset: i64,
}

impl Clock {
    /// Learns the local offset from UTC (UTC when it cannot be learned).
    pub(crate) fn new() -> Clock {
        let offset = Command::new("date")
            .arg("+%z")
            .output()
            .ok()
            .and_then(|out| parse_offset(String::from_utf8_lossy(&out.stdout).trim()))
            .unwrap_or(0);
        Clock { offset }
    }

    /// The local time now.
    pub(crate) fn now(&self) -> LocalTime {
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let local = i64::try_from(unix)
            .unwrap_or(0)
            .saturating_add(self.offset)
            .rem_euclid(86_400);
        LocalTime::from_seconds(u64::try_from(local).unwrap_or(0))
    }
}

/// `+0200` or `-0530` to seconds east of UTC.
fn parse_offset(text: &str) -> Option<i64> {
    let (sign, digits) = match text.split_at_checked(1)? {
        ("+", d) => (1, d),
        ("-", d) => (-1, d),
        _ => return None,
    };
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i64 = digits.get(..2)?.parse().ok()?;
    let minutes: i64 = digits.get(2..)?.parse().ok()?;
    Some(sign * (hours * 3_600 + minutes * 60))
}
