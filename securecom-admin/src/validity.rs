//! Validity periods and the conversion of times to X.509.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use x509_cert::time::Time;

use crate::AdminError;

/// Seconds in a day.
const DAY: u64 = 86_400;

/// How far before "now" [`Validity::days_from_now`] starts a certificate, so that a
/// client whose clock is a little behind still accepts it.
pub const BACKDATE: Duration = Duration::from_secs(3600);

/// When a certificate is valid: from `not_before` to `not_after`, whole seconds.
///
/// ```
/// use securecom_admin::Validity;
/// let ten_years = Validity::days_from_now(3650)?;
/// assert!(ten_years.not_before() < ten_years.not_after());
/// # Ok::<(), securecom_admin::AdminError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Validity {
    not_before: SystemTime,
    not_after: SystemTime,
}

impl Validity {
    /// The period from `not_before` to `not_after`.
    ///
    /// # Errors
    /// [`AdminError::InvalidTime`] unless `not_before` is before `not_after` and both are
    /// after 1970 and before the year 10000.
    pub fn new(not_before: SystemTime, not_after: SystemTime) -> Result<Self, AdminError> {
        if not_before >= not_after {
            return Err(AdminError::InvalidTime("the start is not before the end"));
        }
        x509_time(not_before)?;
        x509_time(not_after)?;
        Ok(Validity {
            not_before,
            not_after,
        })
    }

    /// From an hour ago ([`BACKDATE`]) to `days` days from now.
    ///
    /// # Errors
    /// [`AdminError::InvalidTime`] for zero days or a period ending after the year 9999.
    pub fn days_from_now(days: u32) -> Result<Self, AdminError> {
        if days == 0 {
            return Err(AdminError::InvalidTime("a validity of zero days"));
        }
        let now = SystemTime::now();
        let start = now.checked_sub(BACKDATE).unwrap_or(now);
        Validity::new(start, add_days(now, days)?)
    }

    /// The first second of validity.
    pub fn not_before(&self) -> SystemTime {
        self.not_before
    }

    /// The last second of validity.
    pub fn not_after(&self) -> SystemTime {
        self.not_after
    }

    pub(crate) fn to_x509(self) -> Result<x509_cert::time::Validity, AdminError> {
        Ok(x509_cert::time::Validity::new(
            x509_time(self.not_before)?,
            x509_time(self.not_after)?,
        ))
    }
}

/// `time` plus `days` days, for validity periods and CRL update times.
///
/// # Errors
/// [`AdminError::InvalidTime`] if the result cannot be represented.
pub fn add_days(time: SystemTime, days: u32) -> Result<SystemTime, AdminError> {
    time.checked_add(Duration::from_secs(u64::from(days) * DAY))
        .ok_or(AdminError::InvalidTime("too far in the future"))
}

/// `time`, truncated to the second, as an X.509 time: UTCTime up to 2049 and
/// GeneralizedTime after, as RFC 5280 requires.
pub(crate) fn x509_time(time: SystemTime) -> Result<Time, AdminError> {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .map_err(|_| AdminError::InvalidTime("before 1970"))?
        .as_secs();
    let dt = der::DateTime::from_unix_duration(Duration::from_secs(secs))
        .map_err(|_| AdminError::InvalidTime("after the year 9999"))?;
    Ok(Time::from(dt))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_range_are_checked() {
        let t = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let not_before_end = Err(AdminError::InvalidTime("the start is not before the end"));
        assert_eq!(Validity::new(t, t), not_before_end);
        assert_eq!(Validity::new(t + Duration::from_secs(1), t), not_before_end);
        assert!(Validity::new(t, t + Duration::from_secs(1)).is_ok());
        assert_eq!(
            Validity::new(UNIX_EPOCH - Duration::from_secs(1), t),
            Err(AdminError::InvalidTime("before 1970"))
        );
        assert_eq!(
            Validity::days_from_now(0),
            Err(AdminError::InvalidTime("a validity of zero days"))
        );
        assert_eq!(
            Validity::days_from_now(u32::MAX),
            Err(AdminError::InvalidTime("after the year 9999"))
        );
    }

    #[test]
    fn utc_time_until_2049_then_generalized() {
        let in_2049 = UNIX_EPOCH + Duration::from_secs(2_524_607_999); // 2049-12-31T23:59:59Z
        assert!(matches!(x509_time(in_2049).unwrap(), Time::UtcTime(_)));
        let in_2050 = in_2049 + Duration::from_secs(1);
        assert!(matches!(x509_time(in_2050).unwrap(), Time::GeneralTime(_)));
    }
}
