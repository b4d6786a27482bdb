//! A server's lifecycle beyond the health flag a caller flips.
//!
//! - Draining, apart from health: [`Server::set_draining`](crate::Server::set_draining).
//! - The panic threshold: [`Balancer::set_panic_threshold`](crate::Balancer::set_panic_threshold).
//! - [`SlowStart`]: a server that joins or recovers ramps up to its share over a window.
//! - [`Clock`], [`SystemClock`], [`ManualClock`]: the time the lifecycle's timers read.
//!
//! Every timer here reads a [`Clock`], so that tests drive time by hand ([`ManualClock`])
//! instead of sleeping.

mod clock;
mod panic;
mod slow_start;

pub use clock::{Clock, ManualClock, SystemClock};
pub(crate) use panic::{PanicGate, marks_changed};
pub use slow_start::{SlowStart, SlowStartOptions};
