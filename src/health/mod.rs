//! A server's lifecycle beyond the health flag a caller flips: passive health from the
//! outcomes of requests, latency estimates, and the clock that times them.
//!
//! Every timer here reads a [`Clock`], so that tests drive time by hand ([`ManualClock`])
//! instead of sleeping.
//!
//! - [`Clock`]: the time the lifecycle reads.
//! - [`SystemClock`]: the system's monotonic clock.
//! - [`ManualClock`]: a clock that moves only when told, for tests.
//! - [`Outcome`]: how one request ended (success or failure) and how long it took.
//! - [`Started`]: when a request started, on a detector's clock.
//! - [`OutlierDetector`]: ejects servers that fail too much, with Envoy's rules, and feeds
//!   each server's peak-EWMA latency ([`LoadSource::PeakEwma`](crate::LoadSource::PeakEwma)).
//! - [`OutlierOptions`]: the detector's options, with Envoy's defaults.
//! - [`ServerSource`]: what a detector sweeps: a balancer, a `Shared` one, a fleet.
//! - [`Evaluation`]: what one sweep did.
//! - [`OutlierStats`]: the fleet's figures (servers ejected, ejections, overflows).
//! - [`Sweeper`]: a thread that sweeps every interval.

mod clock;
mod outcome;
mod outlier;
pub(crate) mod peak_ewma;

pub use clock::{Clock, ManualClock, SystemClock};
pub use outcome::{Outcome, Started};
pub use outlier::{
    Evaluation, OutlierDetector, OutlierOptions, OutlierStats, ServerSource, Sweeper,
};
