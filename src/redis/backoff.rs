//! Waits: the interval between rounds, less a random part, and the growing wait after a
//! failure, with jitter, so that a fleet that lost Redis together does not return in step;
//! and the checks of the options that set them.

use std::hash::{BuildHasher, RandomState};
use std::time::Duration;

use crate::Error;
use crate::hash::mix64;

/// The SplitMix64 increment.
const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// The longest interval, timeout or wait: one day.
pub(crate) const MAX_DURATION: Duration = Duration::from_secs(86_400);

/// Checks that the option `name` is above 0 and at most a day.
pub(crate) fn check_span(name: &str, d: Duration) -> Result<(), Error> {
    if d.is_zero() || d > MAX_DURATION {
        return Err(Error::option(name, "must be above 0 and at most a day"));
    }
    Ok(())
}

/// Checks a share of an interval taken off at random: in `[0, 1)`.
pub(crate) fn check_jitter(jitter: f64) -> Result<(), Error> {
    if !(0.0..1.0).contains(&jitter) {
        return Err(Error::option("jitter", "must be at least 0 and below 1"));
    }
    Ok(())
}

/// The waits of one connection: its rounds' and its retries'.
#[derive(Debug)]
pub(crate) struct Waits {
    min: Duration,
    max: Duration,
    /// Failures in a row.
    failures: u32,
    /// The SplitMix64 state of the jitter.
    rng: u64,
}

impl Waits {
    /// Retries that wait `min` after a first failure, twice as long after each next one, up
    /// to `max`.
    pub(crate) fn new(min: Duration, max: Duration) -> Self {
        Waits {
            min,
            max,
            failures: 0,
            rng: RandomState::new().hash_one(GOLDEN),
        }
    }

    /// A draw in [0, 1).
    fn unit(&mut self) -> f64 {
        self.rng = self.rng.wrapping_add(GOLDEN);
        (mix64(self.rng) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Counts a failure.
    pub(crate) fn failed(&mut self) {
        self.failures = self.failures.saturating_add(1);
    }

    /// Ends the run of failures.
    pub(crate) fn succeeded(&mut self) {
        self.failures = 0;
    }

    /// Whether the last attempt failed.
    pub(crate) fn failing(&self) -> bool {
        self.failures > 0
    }

    /// The wait before the next attempt: after a success, `interval` less up to `jitter` of
    /// it; after `k` failures in a row, between half and all of `min × 2^(k-1)` (capped at
    /// `max`), drawn at random ("equal jitter").
    pub(crate) fn next(&mut self, interval: Duration, jitter: f64) -> Duration {
        if self.failures == 0 {
            let cut = jitter * self.unit();
            return interval.mul_f64(1.0 - cut);
        }
        let doublings = (self.failures - 1).min(31);
        let base = self
            .min
            .checked_mul(1 << doublings)
            .map_or(self.max, |d| d.min(self.max));
        base.mul_f64(0.5 + 0.5 * self.unit())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn retries_double_up_to_the_cap_with_jitter() {
        let mut w = Waits::new(MS * 100, MS * 1000);
        assert_eq!(w.next(MS * 500, 0.0), MS * 500);
        let mut seen = Vec::new();
        for k in 1..=40u32 {
            w.failed();
            assert!(w.failing());
            let cap = (MS * 100 * 2u32.pow((k - 1).min(4))).min(MS * 1000);
            let d = w.next(MS * 500, 0.0);
            assert!(
                d >= cap / 2 && d <= cap,
                "failure {k}: {d:?} against {cap:?}"
            );
            seen.push(d);
        }
        seen.sort();
        assert!(
            seen[seen.len() - 1] - seen[seen.len() / 2] > MS,
            "the waits vary"
        );
        w.succeeded();
        let d = w.next(MS * 500, 0.5);
        assert!(d > MS * 250 && d <= MS * 500, "{d:?}");
    }
}
