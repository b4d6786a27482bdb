//! The panic threshold: when too few servers are healthy, picks ignore health.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use crate::server::{WHOLE, millionths};
use crate::{Error, Server};

/// Changes of any server's marks (health, ejection, draining), counted, so that a fleet
/// recounts its healthy share only after one.
static MARKS_CHANGED: AtomicU64 = AtomicU64::new(0);

/// Notes that some server's marks changed.
pub(crate) fn marks_changed() {
    MARKS_CHANGED.fetch_add(1, Ordering::Release);
}

/// A fleet's panic threshold (Envoy's): while fewer than this share of the servers that are
/// not draining are healthy, picks ignore health and spread over all of them instead of
/// piling everything onto the few survivors. Off (0) by default.
///
/// The share is recounted (O(n)) only after some server's marks changed, and only by a pick
/// whose first choice is unavailable, so a fleet with every server up never pays for it.
#[derive(Debug, Default)]
pub(crate) struct PanicGate {
    /// The threshold in millionths; 0 is off.
    threshold: AtomicU32,
    /// `changes << 1 | in panic`, for the count of mark changes it was computed at, or
    /// `u64::MAX` before the first count.
    seen: AtomicU64,
}

impl Clone for PanicGate {
    fn clone(&self) -> Self {
        PanicGate {
            threshold: AtomicU32::new(self.threshold.load(Ordering::Relaxed)),
            seen: AtomicU64::new(u64::MAX),
        }
    }
}

impl PanicGate {
    /// The threshold as a share in [0, 1].
    pub(crate) fn threshold(&self) -> f64 {
        f64::from(self.threshold.load(Ordering::Relaxed)) / f64::from(WHOLE)
    }

    /// Sets the threshold: a share in [0, 1], 0 turning it off.
    pub(crate) fn set_threshold(&self, share: f64) -> Result<(), Error> {
        if !(0.0..=1.0).contains(&share) {
            return Err(Error::option(
                "panic_threshold",
                format!("must be a share from 0 (off) to 1, not {share}"),
            ));
        }
        self.threshold.store(millionths(share), Ordering::Relaxed);
        self.forget();
        Ok(())
    }

    /// Forgets the last count (the fleet changed).
    pub(crate) fn forget(&self) {
        self.seen.store(u64::MAX, Ordering::Relaxed);
    }

    /// Whether the fleet `servers` is in panic now: two loads and a compare while no mark
    /// changed since the last count.
    #[inline]
    pub(crate) fn in_panic(&self, servers: &[Server]) -> bool {
        let threshold = self.threshold.load(Ordering::Relaxed);
        if threshold == 0 {
            return false;
        }
        // 63 bits: `seen` keeps the last bit for the answer, and u64::MAX for "never".
        let changes = MARKS_CHANGED.load(Ordering::Acquire) & (u64::MAX >> 1);
        let seen = self.seen.load(Ordering::Relaxed);
        if seen >> 1 == changes && seen != u64::MAX {
            return seen & 1 == 1;
        }
        self.recount(servers, threshold, changes)
    }

    /// Counts the healthy share anew, for the count of mark changes `changes`.
    #[cold]
    fn recount(&self, servers: &[Server], threshold: u32, changes: u64) -> bool {
        let (mut serving, mut healthy) = (0u64, 0u64);
        for s in servers.iter().filter(|s| !s.is_draining()) {
            serving += 1;
            healthy += u64::from(s.is_available());
        }
        // Both at most 2⁶⁴ / 2²⁰ servers in any real fleet; saturate rather than wrap.
        let panic =
            healthy.saturating_mul(u64::from(WHOLE)) < serving.saturating_mul(u64::from(threshold));
        self.seen
            .store(changes << 1 | u64::from(panic), Ordering::Relaxed);
        panic
    }
}
