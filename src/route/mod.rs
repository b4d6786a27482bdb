//! Routing: what a service keys its picks by.
//!
//! - [`ClientKey`]: the client's address alone (the usual affinity key), optionally a whole
//!   subnet; an IPv4-mapped IPv6 address is its IPv4 address.
//! - [`FlowKey`]: a connection's five-tuple, optionally the same for both directions.
//! - [`Protocol`]: the transport protocol of a five-tuple.

mod l4;

pub use l4::{ClientKey, FlowKey, Protocol};
