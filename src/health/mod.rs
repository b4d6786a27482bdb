//! A server's lifecycle beyond the health flag a caller flips. Every timer here reads a
//! [`Clock`], so that tests drive time by hand ([`ManualClock`]) instead of sleeping.
//!
//! - Draining, apart from health: [`Server::set_draining`](crate::Server::set_draining).
//! - The panic threshold: [`Balancer::set_panic_threshold`](crate::Balancer::set_panic_threshold).
//! - [`SlowStart`]: a server that joins or recovers ramps up to its share over a window.
//! - [`SlowStartOptions`]: a slow start's window, aggression and starting share.
//! - [`Checker`]: active health checks: a server fails after `fall` failures, rises after `rise`.
//! - [`CheckerHandle`]: a checker on a thread of its own; dropping it stops it, marks cleared.
//! - [`CheckOptions`]: a checker's interval, timeout, rise, fall, jitter and concurrency.
//! - [`CheckTarget`]: what a checker probes: a [`Shared`](crate::Shared), a balancer, a list.
//! - [`CheckStatus`]: one server's streaks, last outcome and mark, as its checker sees them.
//! - [`ProbeOutcome`]: how one probe went: passed, failed (and why) or timed out.
//! - [`RoundReport`]: what one round of checks did.
//! - [`Probe`]: how a checker asks a server if it is well; `Fn(&Server) -> bool` closures are.
//! - [`ProbeError`]: why a probe failed.
//! - [`TcpProbe`]: passes when a TCP connection to the server's address opens in time.
//! - `HttpProbe` (feature `http-probe`): passes when a GET on the address answers a good status.
//! - [`Clock`], [`SystemClock`], [`ManualClock`]: the time the lifecycle's timers read.

mod check;
mod clock;
#[cfg(feature = "http-probe")]
mod http;
mod panic;
mod probe;
mod slow_start;

pub use check::{
    CheckOptions, CheckStatus, CheckTarget, Checker, CheckerHandle, ProbeOutcome, RoundReport,
};
pub use clock::{Clock, ManualClock, SystemClock};
#[cfg(feature = "http-probe")]
pub use http::HttpProbe;
pub(crate) use panic::{PanicGate, marks_changed};
pub use probe::{Probe, ProbeError, TcpProbe};
pub use slow_start::{SlowStart, SlowStartOptions};
