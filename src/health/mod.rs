//! A server's lifecycle beyond the health flag a caller flips: active checks, passive health
//! from the outcomes of requests, latency estimates, draining, a panic threshold and slow
//! start. Every timer here reads a [`Clock`], so that tests drive time by hand
//! ([`ManualClock`]) instead of sleeping.
//!
//! - Draining, apart from health: [`Server::set_draining`](crate::Server::set_draining).
//! - The panic threshold: [`Balancer::set_panic_threshold`](crate::Balancer::set_panic_threshold).
//! - [`Checker`]: active health checks: a server fails after `fall` failures, rises after `rise`.
//! - [`CheckerHandle`]: a checker on a thread of its own; dropping it stops it, marks cleared.
//! - [`CheckOptions`]: a checker's interval, timeout, rise, fall, jitter and concurrency.
//! - [`CheckStatus`]: one server's streaks, last outcome and mark, as its checker sees them.
//! - [`ProbeOutcome`]: how one probe went: passed, failed (and why) or timed out.
//! - [`RoundReport`]: what one round of checks did.
//! - [`Probe`]: how a checker asks a server if it is well; `Fn(&Server) -> bool` closures are.
//! - [`ProbeError`]: why a probe failed.
//! - [`TcpProbe`]: passes when a TCP connection to the server's address opens in time.
//! - `HttpProbe` (feature `http-probe`): passes when a GET on the address answers a good status.
//! - [`Outcome`]: how one request ended (success or failure) and how long it took.
//! - [`Started`]: when a request started, on a detector's clock.
//! - [`OutlierDetector`]: ejects servers that fail too much, with Envoy's rules, and feeds
//!   each server's peak-EWMA latency ([`LoadSource::PeakEwma`](crate::LoadSource::PeakEwma)).
//! - [`OutlierOptions`]: the detector's options, with Envoy's defaults.
//! - [`ServerSource`]: what a checker probes and a detector sweeps: a balancer, a `Shared`
//!   one, a fleet, a list of servers.
//! - [`Evaluation`]: what one sweep did.
//! - [`OutlierStats`]: the fleet's figures (servers ejected, ejections, overflows).
//! - [`Sweeper`]: a thread that sweeps every interval.
//! - [`SlowStart`]: a server that joins or recovers ramps up to its share over a window.
//! - [`SlowStartOptions`]: a slow start's window, aggression and starting share.
//! - [`Clock`], [`SystemClock`], [`ManualClock`]: the time the lifecycle's timers read.

mod check;
mod clock;
#[cfg(feature = "serde")]
pub(crate) mod duration;
#[cfg(feature = "http-probe")]
mod http;
mod outcome;
mod outlier;
mod panic;
pub(crate) mod peak_ewma;
mod probe;
mod slow_start;
mod source;

pub use check::{CheckOptions, CheckStatus, Checker, CheckerHandle, ProbeOutcome, RoundReport};
pub use clock::{Clock, ManualClock, SystemClock};
#[cfg(feature = "http-probe")]
pub use http::HttpProbe;
pub use outcome::{Outcome, Started};
pub use outlier::{Evaluation, OutlierDetector, OutlierOptions, OutlierStats, Sweeper};
pub(crate) use panic::{PanicGate, marks_changed};
pub use probe::{Probe, ProbeError, TcpProbe};
pub use slow_start::{SlowStart, SlowStartOptions};
pub use source::ServerSource;
