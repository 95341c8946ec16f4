//! When to try again after losing the server: exponential backoff with jitter, bounded.
//!
//! [`Backoff`] is only arithmetic: it is told how long the client has been trying and is
//! given a random number, and answers how long to wait before the next attempt, or that
//! it is time to give up. The program sleeps, and cancels by simply not trying again, so
//! the policy is tested without sleeping and without a random generator.
//!
//! ```
//! use std::time::Duration;
//! use securecom_host::reconnect::{Backoff, BackoffPolicy};
//! let mut backoff = Backoff::new(BackoffPolicy::default());
//! // With the smallest jitter the first wait is half of the initial delay...
//! let first = backoff.next_delay(Duration::ZERO, 0).unwrap();
//! assert_eq!(first, Duration::from_millis(500));
//! // ...and the waits double (before jitter) up to the cap.
//! let second = backoff.next_delay(first, u32::MAX).unwrap();
//! assert_eq!(second, Duration::from_secs(2));
//! assert_eq!(backoff.attempts(), 2);
//! ```

use std::time::Duration;

/// The bounds of reconnecting. The defaults ([`BackoffPolicy::default`]): the first wait
/// about 1 second, each next one twice as long up to 30 seconds, at most 10 attempts and
/// at most 5 minutes in all; every wait is drawn between half and all of its nominal
/// length, so clients cut off together do not come back together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BackoffPolicy {
    /// The nominal wait before the first attempt.
    pub initial_delay: Duration,
    /// The longest nominal wait.
    pub max_delay: Duration,
    /// Attempts allowed before giving up (0: never try).
    pub max_attempts: u32,
    /// Time allowed from the loss of the connection to the start of the last attempt.
    pub max_total: Duration,
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        BackoffPolicy {
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            max_attempts: 10,
            max_total: Duration::from_secs(5 * 60),
        }
    }
}

/// One run of reconnecting: counts the attempts made since the connection was lost.
#[derive(Clone, Debug)]
pub struct Backoff {
    policy: BackoffPolicy,
    attempts: u32,
}

impl Backoff {
    /// A run that has made no attempt yet.
    pub fn new(policy: BackoffPolicy) -> Self {
        Backoff {
            policy,
            attempts: 0,
        }
    }

    /// The policy this run follows.
    pub fn policy(&self) -> &BackoffPolicy {
        &self.policy
    }

    /// The attempts granted so far (each [`Self::next_delay`] that returned a wait).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// How long to wait before the next attempt, or `None` to give up. `elapsed` is the
    /// time since the connection was lost; `random` is a uniformly random number (any
    /// `u32`), which places the wait between half and all of its nominal length: the
    /// nominal length is the initial delay doubled once per earlier attempt, at most the
    /// maximum delay. Gives up once the attempts are used, or when the attempt would
    /// start after the total time allowed.
    pub fn next_delay(&mut self, elapsed: Duration, random: u32) -> Option<Duration> {
        if self.attempts >= self.policy.max_attempts {
            return None;
        }
        let nominal = self.nominal_delay();
        // Between half and all of the nominal wait: half + half * random / u32::MAX.
        let half = nominal / 2;
        let extra_nanos = u128::from(random) * half.as_nanos() / u128::from(u32::MAX);
        let extra = Duration::from_nanos(u64::try_from(extra_nanos).unwrap_or(u64::MAX));
        let delay = half.saturating_add(extra);
        if elapsed.saturating_add(delay) > self.policy.max_total {
            return None;
        }
        self.attempts += 1;
        Some(delay)
    }

    fn nominal_delay(&self) -> Duration {
        let mut delay = self.policy.initial_delay;
        for _ in 0..self.attempts {
            if delay >= self.policy.max_delay {
                break;
            }
            delay = delay.saturating_mul(2);
        }
        delay.min(self.policy.max_delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> BackoffPolicy {
        BackoffPolicy {
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(8),
            max_attempts: 6,
            max_total: Duration::from_secs(3600),
        }
    }

    #[test]
    fn waits_double_up_to_the_cap() {
        let mut backoff = Backoff::new(policy());
        let waits: Vec<_> = (0..6)
            .map(|_| backoff.next_delay(Duration::ZERO, u32::MAX))
            .collect();
        let secs = |s: u64| Some(Duration::from_secs(s));
        assert_eq!(
            waits,
            [secs(1), secs(2), secs(4), secs(8), secs(8), secs(8)]
        );
    }

    #[test]
    fn jitter_stays_between_half_and_all_of_the_wait() {
        for random in [0, 1, u32::MAX / 3, u32::MAX / 2, u32::MAX - 1, u32::MAX] {
            let mut backoff = Backoff::new(policy());
            backoff.next_delay(Duration::ZERO, 0);
            backoff.next_delay(Duration::ZERO, 0);
            // The third nominal wait is 4 s.
            let wait = backoff.next_delay(Duration::ZERO, random).unwrap();
            assert!(wait >= Duration::from_secs(2), "{wait:?}");
            assert!(wait <= Duration::from_secs(4), "{wait:?}");
        }
        let mut a = Backoff::new(policy());
        let mut b = Backoff::new(policy());
        assert_ne!(
            a.next_delay(Duration::ZERO, 0),
            b.next_delay(Duration::ZERO, u32::MAX / 2),
            "different draws spread the clients"
        );
    }

    #[test]
    fn gives_up_after_the_attempts() {
        let mut backoff = Backoff::new(policy());
        for _ in 0..6 {
            assert!(backoff.next_delay(Duration::ZERO, 7).is_some());
        }
        assert_eq!(backoff.next_delay(Duration::ZERO, 7), None);
        assert_eq!(backoff.attempts(), 6);
    }

    #[test]
    fn gives_up_when_the_total_time_would_pass() {
        let mut backoff = Backoff::new(BackoffPolicy {
            max_total: Duration::from_secs(10),
            ..policy()
        });
        assert!(
            backoff
                .next_delay(Duration::from_secs(8), u32::MAX)
                .is_some()
        );
        // 9 s gone; the next nominal wait is 2 s: past the 10 s allowed.
        assert_eq!(backoff.next_delay(Duration::from_secs(9), u32::MAX), None);
        assert_eq!(backoff.attempts(), 1);
    }

    #[test]
    fn no_attempts_means_never_trying() {
        let mut backoff = Backoff::new(BackoffPolicy {
            max_attempts: 0,
            ..policy()
        });
        assert_eq!(backoff.next_delay(Duration::ZERO, 0), None);
    }

    #[test]
    fn huge_settings_do_not_overflow() {
        let mut backoff = Backoff::new(BackoffPolicy {
            initial_delay: Duration::MAX,
            max_delay: Duration::MAX,
            max_attempts: u32::MAX,
            max_total: Duration::MAX,
        });
        for _ in 0..100 {
            assert!(backoff.next_delay(Duration::ZERO, u32::MAX).is_some());
        }
    }
}
