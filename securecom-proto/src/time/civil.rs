//! Calendar dates for [`UnixTime`](super::UnixTime): the proleptic Gregorian calendar in
//! UTC, as people read certificate dates (`2021-01-01 00:00:00 UTC`).

use core::fmt;

/// A UTC date and time of day, to the second.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Civil {
    year: u64,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
}

impl Civil {
    /// The date and time `secs` seconds after 1970-01-01 00:00:00 UTC.
    pub(super) fn from_unix_secs(secs: u64) -> Self {
        let (days, rest) = (secs / 86_400, secs % 86_400);
        let (year, month, day) = civil_from_days(days);
        // `rest` < 86 400, so every part fits a `u8`.
        let part = |v: u64| u8::try_from(v).unwrap_or(u8::MAX);
        Civil {
            year,
            month,
            day,
            hour: part(rest / 3600),
            minute: part(rest / 60 % 60),
            second: part(rest % 60),
        }
    }
}

impl fmt::Display for Civil {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

/// Year, month (1-12) and day (1-31) of the day `days` after 1970-01-01: Howard Hinnant's
/// `civil_from_days`, counting in 400-year eras (146 097 days) that start on 0000-03-01,
/// so that February, with its leap day, ends each year of the computation.
fn civil_from_days(days: u64) -> (u64, u8, u8) {
    // Days since 0000-03-01 (719 468 days before the epoch).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365], from March 1st
    let mp = (5 * doy + 2) / 153; // [0, 11], March = 0
    let day = doy - (153 * mp + 2) / 5 + 1; // [1, 31]
    let month = if mp < 10 { mp + 3 } else { mp - 9 }; // [1, 12]
    let year = yoe + era * 400 + u64::from(month <= 2);
    let small = |v: u64| u8::try_from(v).unwrap_or(u8::MAX);
    (year, small(month), small(day))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn shown(secs: u64) -> alloc::string::String {
        Civil::from_unix_secs(secs).to_string()
    }

    #[test]
    fn known_instants() {
        assert_eq!(shown(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(shown(1_609_459_200), "2021-01-01 00:00:00 UTC");
        assert_eq!(shown(1_796_284_372), "2026-12-03 07:52:52 UTC");
        assert_eq!(shown(86_399), "1970-01-01 23:59:59 UTC");
        assert_eq!(shown(4_102_444_800), "2100-01-01 00:00:00 UTC");
    }

    #[test]
    fn leap_years() {
        // 2024 is a leap year: February has 29 days.
        assert_eq!(shown(1_709_164_800), "2024-02-29 00:00:00 UTC");
        assert_eq!(shown(1_709_251_200), "2024-03-01 00:00:00 UTC");
        // 2000 is one too (divisible by 400)...
        assert_eq!(shown(951_782_400), "2000-02-29 00:00:00 UTC");
        // ...2100 is not (divisible by 100 only).
        assert_eq!(shown(4_107_456_000), "2100-02-28 00:00:00 UTC");
        assert_eq!(shown(4_107_542_400), "2100-03-01 00:00:00 UTC");
        // The last second of a leap year, and day 366.
        assert_eq!(shown(1_735_689_599), "2024-12-31 23:59:59 UTC");
    }

    #[test]
    fn every_day_follows_the_previous_one() {
        // Walk 1970..2500 day by day: dates only move forward by one day.
        let mut previous = civil_from_days(0);
        for days in 1..194_000 {
            let (y, m, d) = civil_from_days(days);
            let (py, pm, pd) = previous;
            let next_day = y == py && m == pm && d == pd + 1;
            let next_month = y == py && m == pm + 1 && d == 1 && pd >= 28;
            let next_year = y == py + 1 && m == 1 && d == 1 && pm == 12 && pd == 31;
            assert!(
                next_day || next_month || next_year,
                "{previous:?} -> {:?}",
                (y, m, d)
            );
            previous = (y, m, d);
        }
    }

    #[test]
    fn the_largest_time_does_not_panic() {
        let _ = shown(u64::MAX);
    }
}
