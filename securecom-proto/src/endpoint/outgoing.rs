//! The bookkeeping of bytes handed to a socket and not yet reported written, shared by
//! both endpoints: one transmit outstanding per socket, each with a write deadline.

use alloc::collections::BTreeSet;
use core::time::Duration;

use crate::time::Instant;

/// The most bytes handed to a socket at once.
pub const WRITE_CHUNK: usize = 64 * 1024;

/// A transmit handed out and not yet fully reported written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct InFlight {
    /// Bytes still unreported.
    pub(crate) len: usize,
    /// The bytes are still in the machine's output (consume them once written); false when
    /// they were taken at hand-off (handshake output, which a finished handshake replaces).
    pub(crate) counted: bool,
    /// When the socket is given up if it has taken none of them.
    pub(crate) deadline: Instant,
}

/// Write deadlines of every socket with a transmit outstanding, earliest first, so the
/// next one costs a lookup however many sockets there are.
#[derive(Debug)]
pub(crate) struct WriteDeadlines<K: Ord + Copy> {
    timeout: Duration,
    pending: BTreeSet<(Instant, K)>,
}

impl<K: Ord + Copy> WriteDeadlines<K> {
    pub(crate) fn new(timeout: Duration) -> Self {
        WriteDeadlines {
            timeout,
            pending: BTreeSet::new(),
        }
    }

    /// Records a transmit of `len` bytes to `socket` handed out at `now`.
    pub(crate) fn start(&mut self, socket: K, now: Instant, len: usize, counted: bool) -> InFlight {
        let deadline = now + self.timeout;
        self.pending.insert((deadline, socket));
        InFlight {
            len,
            counted,
            deadline,
        }
    }

    /// `n` bytes of `in_flight` were written at `now`: returns what is left outstanding
    /// (with a fresh deadline, since the socket made progress), if anything.
    pub(crate) fn progress(
        &mut self,
        socket: K,
        in_flight: InFlight,
        now: Instant,
        n: usize,
    ) -> Option<InFlight> {
        self.pending.remove(&(in_flight.deadline, socket));
        let len = in_flight.len.saturating_sub(n);
        (len > 0).then(|| self.start(socket, now, len, in_flight.counted))
    }

    /// Forgets the deadline of `in_flight` (its socket is closed).
    pub(crate) fn cancel(&mut self, socket: K, in_flight: Option<InFlight>) {
        if let Some(in_flight) = in_flight {
            self.pending.remove(&(in_flight.deadline, socket));
        }
    }

    /// The earliest deadline.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.pending.first().map(|(at, _)| *at)
    }

    /// Removes and returns a socket whose deadline is at or before `now`.
    pub(crate) fn pop_expired(&mut self, now: Instant) -> Option<K> {
        match self.pending.first() {
            Some((at, _)) if *at <= now => self.pending.pop_first().map(|(_, socket)| socket),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> Instant {
        Instant::from_duration(Duration::from_millis(ms))
    }

    #[test]
    fn progress_moves_the_deadline_and_completion_clears_it() {
        let mut deadlines = WriteDeadlines::new(Duration::from_secs(1));
        let first = deadlines.start(7u32, at(0), 100, true);
        assert_eq!(deadlines.next(), Some(at(1000)));
        let rest = deadlines.progress(7, first, at(500), 40).unwrap();
        assert_eq!((rest.len, rest.counted), (60, true));
        assert_eq!(deadlines.next(), Some(at(1500)));
        assert_eq!(deadlines.progress(7, rest, at(600), 60), None);
        assert_eq!(deadlines.next(), None);
    }

    #[test]
    fn only_expired_deadlines_pop() {
        let mut deadlines = WriteDeadlines::new(Duration::from_secs(1));
        let a = deadlines.start(1u32, at(0), 10, false);
        deadlines.start(2u32, at(300), 10, false);
        assert_eq!(deadlines.pop_expired(at(999)), None);
        assert_eq!(deadlines.pop_expired(at(1000)), Some(1));
        assert_eq!(deadlines.pop_expired(at(1000)), None);
        deadlines.cancel(1, Some(a));
        assert_eq!(deadlines.next(), Some(at(1300)));
    }
}
