//! [`Clock`]: the time that the lifecycle's timers read.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Monotonic time since a fixed origin. The lifecycle reads time only through this trait, so
/// a test can move it by hand ([`ManualClock`]) instead of sleeping.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The time since the clock's origin; it never goes backwards.
    fn now(&self) -> Duration;
}

/// The system's monotonic clock ([`Instant`]), counted from when it was made.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    origin: Instant,
}

impl SystemClock {
    /// A clock whose origin is now.
    pub fn new() -> Self {
        SystemClock {
            origin: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }
}

/// A clock that moves only when told, for tests; clones share one time.
///
/// ```
/// use std::time::Duration;
/// use loadring::health::{Clock, ManualClock};
///
/// let clock = ManualClock::new();
/// let seen_by_a_checker = clock.clone();
/// clock.advance(Duration::from_secs(5));
/// assert_eq!(seen_by_a_checker.now(), Duration::from_secs(5));
/// ```
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    nanos: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock at time zero.
    pub fn new() -> Self {
        ManualClock::default()
    }

    /// Moves the clock forward by `by` (saturating at about 584 years).
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        let _ = self
            .nanos
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                Some(n.saturating_add(by))
            });
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::Acquire))
    }
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> Duration {
        (**self).now()
    }
}
