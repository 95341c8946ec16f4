//! The system's clocks, read into the time values of [`securecom_proto::time`].
//!
//! - [`StdClock`]: the monotonic clock as [`Instant`]s, for deadlines.
//! - [`UnixTimeExt`]: the wall clock as a [`UnixTime`] (`UnixTime::now()`), for
//!   certificate and CRL validity.

use std::time::{SystemTime, UNIX_EPOCH};

use securecom_proto::time::{Instant, UnixTime};

/// Maps the operating system's monotonic clock to [`Instant`] values, for drivers. The
/// origin is the moment the clock was created.
///
/// ```
/// use securecom_host::time::StdClock;
/// let clock = StdClock::new();
/// let a = clock.now();
/// let b = clock.now();
/// assert!(b >= a);
/// let deadline = clock.to_std(a + core::time::Duration::from_secs(1));
/// assert!(deadline > std::time::Instant::now() - core::time::Duration::from_secs(1));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct StdClock {
    origin: std::time::Instant,
}

impl Default for StdClock {
    fn default() -> Self {
        StdClock::new()
    }
}

impl StdClock {
    /// A clock whose origin is now.
    pub fn new() -> Self {
        StdClock {
            origin: std::time::Instant::now(),
        }
    }

    /// The current instant.
    pub fn now(&self) -> Instant {
        Instant::from_duration(self.origin.elapsed())
    }

    /// The operating system instant of `instant`.
    pub fn to_std(&self, instant: Instant) -> std::time::Instant {
        self.origin + instant.as_duration()
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for securecom_proto::time::UnixTime {}
}

/// The wall clock for [`UnixTime`]: bring the trait into scope and call
/// `UnixTime::now()`. It is sealed: only [`UnixTime`] implements it.
///
/// ```
/// use securecom_host::time::UnixTimeExt;
/// use securecom_proto::time::UnixTime;
/// let now = UnixTime::now();
/// assert!(now > UnixTime::from_secs(1_767_225_600)); // after 2026-01-01
/// let then = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000);
/// assert_eq!(UnixTime::from_system_time(then), UnixTime::from_secs(1_800_000_000));
/// ```
pub trait UnixTimeExt: sealed::Sealed {
    /// The current wall-clock time, in whole seconds. A clock set before 1970 reads as the
    /// epoch.
    fn now() -> Self;

    /// `time` in whole seconds since the epoch (rounded down); times before 1970 are the
    /// epoch.
    fn from_system_time(time: SystemTime) -> Self;
}

impl UnixTimeExt for UnixTime {
    fn now() -> Self {
        UnixTime::from_system_time(SystemTime::now())
    }

    fn from_system_time(time: SystemTime) -> Self {
        let secs = time
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        UnixTime::from_secs(secs)
    }
}
