//! Routing: what a service keys its picks by, sticky sessions, and fail-over.
//!
//! - [`ClientKey`]: the client's address alone (the usual affinity key), optionally a whole
//!   subnet; an IPv4-mapped IPv6 address is its IPv4 address.
//! - [`FlowKey`]: a connection's five-tuple, optionally the same for both directions.
//! - [`Protocol`]: the transport protocol of a five-tuple.
//! - [`Sticky`]: authenticated tokens that keep a user on one server while it can serve.
//! - [`StickyPick`]: a sticky pick's server, and the token to set when a fresh one is due.
//! - [`Failover`]: one request tried against its key's ranked candidates, within a budget,
//!   reporting each attempt's outcome to the lifecycle; [`FailoverError`] says why it gave up.
//! - `Balance` (feature `tower`): a `tower::Service` that routes each request to one of a
//!   live fleet's endpoint services through any strategy, holding a lease for the request's
//!   life and reporting its outcome; `BalanceLayer` builds it and is its `Layer`, with
//!   `MakeEndpoint`, `KeyOf` and `NoKey`, `Classify` and `OkIsSuccess`, `BalanceError` and
//!   `ResponseFuture`.

mod failover;
mod l4;
mod sticky;
#[cfg(feature = "tower")]
mod tower;

#[cfg(feature = "tower")]
pub use self::tower::{
    Balance, BalanceError, BalanceLayer, Classify, KeyOf, MakeEndpoint, NoKey, OkIsSuccess,
    ResponseFuture,
};
pub use failover::{Failover, FailoverError};
pub use l4::{ClientKey, FlowKey, Protocol};
pub use sticky::{Sticky, StickyPick};
