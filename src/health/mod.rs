//! A server's lifecycle beyond the health flag a caller flips: the clock that times it.
//!
//! Every timer here reads a [`Clock`], so that tests drive time by hand ([`ManualClock`])
//! instead of sleeping.

mod clock;

pub use clock::{Clock, ManualClock, SystemClock};
