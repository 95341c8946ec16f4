//! Time as values: the core never reads a clock.
//!
//! Two kinds of time enter the machines:
//! - [`Instant`], a monotonic point used for deadlines (handshake timeout, idle time, request
//!   expiry). Its origin is whatever the driver chooses; only differences matter.
//! - [`UnixTime`], wall-clock seconds since the UNIX epoch, used only to check certificate
//!   and CRL validity.
//!
//! The clocks that produce these values are the host's: `securecom-host` has `StdClock`
//! for [`Instant`] and `UnixTimeExt::now` for [`UnixTime`].

use core::fmt;
use core::ops::Add;
use core::time::Duration;

mod civil;

/// A point on a monotonic clock, measured from an origin the driver picks.
///
/// ```
/// use core::time::Duration;
/// use securecom_proto::time::Instant;
/// let start = Instant::from_duration(Duration::from_secs(5));
/// let later = start + Duration::from_millis(250);
/// assert_eq!(later.saturating_duration_since(start), Duration::from_millis(250));
/// assert_eq!(start.saturating_duration_since(later), Duration::ZERO);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(Duration);

impl Instant {
    /// The origin of the clock.
    pub const ZERO: Instant = Instant(Duration::ZERO);

    /// The instant `since_origin` after the driver's origin.
    pub const fn from_duration(since_origin: Duration) -> Self {
        Instant(since_origin)
    }

    /// Time elapsed since the origin.
    pub const fn as_duration(self) -> Duration {
        self.0
    }

    /// How long after `earlier` this instant is, or zero if it is not later.
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        self.0.saturating_sub(earlier.0)
    }

    /// `self + d`, saturating instead of overflowing.
    pub fn saturating_add(self, d: Duration) -> Instant {
        Instant(self.0.saturating_add(d))
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, rhs: Duration) -> Instant {
        self.saturating_add(rhs)
    }
}

/// Wall-clock time in whole seconds since 1970-01-01T00:00:00Z, for certificate validity.
/// It is shown as a UTC date and time ([`Display`](fmt::Display)), the way certificate
/// dates are read.
///
/// ```
/// use securecom_proto::time::UnixTime;
/// let t = UnixTime::from_secs(1_800_000_000);
/// assert_eq!(t.as_secs(), 1_800_000_000);
/// assert_eq!(UnixTime::from_secs(1_609_459_200).to_string(), "2021-01-01 00:00:00 UTC");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixTime(u64);

impl UnixTime {
    /// `secs` seconds after the UNIX epoch.
    pub const fn from_secs(secs: u64) -> Self {
        UnixTime(secs)
    }

    /// Seconds since the UNIX epoch.
    pub const fn as_secs(self) -> u64 {
        self.0
    }
}

impl fmt::Display for UnixTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        civil::Civil::from_unix_secs(self.0).fmt(f)
    }
}
