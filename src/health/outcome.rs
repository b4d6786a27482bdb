//! [`Outcome`]: how one request to a server ended, as the service reports it.

use std::time::Duration;

/// How one request to a server ended: a success or a failure, and how long it took.
///
/// The service decides what a failure is (a 5xx answer, a refused connection, a timeout:
/// what Envoy counts as a "5xx" for its outlier detection) and reports it with
/// [`OutlierDetector::record`](crate::health::OutlierDetector::record). The latency feeds
/// the server's peak-EWMA estimate (see
/// [`LoadSource::PeakEwma`](crate::LoadSource::PeakEwma)).
///
/// Make one from a latency the service measured ([`success`](Outcome::success),
/// [`failure`](Outcome::failure), [`new`](Outcome::new)), or let the detector time the
/// request ([`OutlierDetector::start`](crate::health::OutlierDetector::start) and
/// [`outcome`](crate::health::OutlierDetector::outcome)): then the outcome also carries
/// when it ended, and recording it reads no clock.
///
/// Small and `Copy`: times are held in whole nanoseconds (up to about 584 years).
///
/// ```
/// use std::time::{Duration, Instant};
/// use loadring::health::Outcome;
///
/// let started = Instant::now();
/// let answer: Result<&str, &str> = Ok("200 OK"); // the call to the server
/// let outcome = Outcome::new(answer.is_ok(), started.elapsed());
/// assert!(outcome.is_success());
///
/// let timeout = Outcome::failure(Duration::from_secs(2));
/// assert_eq!((timeout.is_success(), timeout.latency()), (false, Duration::from_secs(2)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Outcome {
    nanos: u64,
    /// When the request ended, in nanoseconds on the clock of the detector that timed it,
    /// plus one; 0 for an outcome the service timed itself.
    ended: u64,
    success: bool,
}

impl Outcome {
    /// A request that succeeded after `latency`.
    #[inline]
    pub fn success(latency: Duration) -> Self {
        Outcome::new(true, latency)
    }

    /// A request that failed after `latency`.
    #[inline]
    pub fn failure(latency: Duration) -> Self {
        Outcome::new(false, latency)
    }

    /// A request that succeeded or not after `latency`.
    #[inline]
    pub fn new(success: bool, latency: Duration) -> Self {
        Outcome {
            nanos: nanos(latency),
            ended: 0,
            success,
        }
    }

    /// The same outcome, ended at `now` on the clock of the detector that timed it.
    #[inline]
    pub(crate) fn ended_at(mut self, now: Duration) -> Self {
        self.ended = nanos(now).saturating_add(1);
        self
    }

    /// When the request ended on the clock of the detector that timed it, in nanoseconds.
    #[inline]
    pub(crate) fn ended(&self) -> Option<u64> {
        self.ended.checked_sub(1)
    }

    /// Whether the request succeeded.
    #[inline]
    pub fn is_success(&self) -> bool {
        self.success
    }

    /// How long the request took.
    #[inline]
    pub fn latency(&self) -> Duration {
        Duration::from_nanos(self.nanos)
    }

    /// The latency in nanoseconds.
    #[inline]
    pub(crate) fn latency_nanos(&self) -> u64 {
        self.nanos
    }
}

/// A duration in whole nanoseconds, saturated at `u64::MAX` (about 584 years).
#[inline]
pub(crate) fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// When a request started, on the clock of the detector that handed it out
/// ([`OutlierDetector::start`](crate::health::OutlierDetector::start)); the detector's
/// [`outcome`](crate::health::OutlierDetector::outcome) turns it into the request's
/// [`Outcome`] with one reading of the clock, which times both the request and the sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Started(pub(crate) Duration);
