//! Strategies that ignore keys and spread requests by rotation, load or capacity.
//!
//! - [`RoundRobin`]: smooth weighted round-robin, as nginx does it.
//! - [`LeastLoaded`]: the least load per unit of weight, by two random choices or a scan.
//! - [`FillFirst`]: each server filled to its capacity, in order.

mod fill_first;
mod least_loaded;
mod round_robin;
mod smooth;

pub use fill_first::{FillFirst, FillFirstOptions, Overflow};
pub use least_loaded::{Choice, LeastLoaded, LeastLoadedOptions, LoadSource};
pub use round_robin::{MAX_ROUND_ROBIN_SLOTS, RoundRobin, RoundRobinOptions};
