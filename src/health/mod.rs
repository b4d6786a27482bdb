//! A server's lifecycle beyond the health flag a caller flips: the clock that times it.
//!
//! Every timer here reads a [`Clock`], so that tests drive time by hand ([`ManualClock`])
//! instead of sleeping.
//!
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

mod check;
mod clock;
#[cfg(feature = "http-probe")]
mod http;
mod probe;

pub use check::{
    CheckOptions, CheckStatus, CheckTarget, Checker, CheckerHandle, ProbeOutcome, RoundReport,
};
pub use clock::{Clock, ManualClock, SystemClock};
#[cfg(feature = "http-probe")]
pub use http::HttpProbe;
pub use probe::{Probe, ProbeError, TcpProbe};
