//! Routing: what a service keys its picks by, rules that send requests to pools, sticky
//! sessions, fail-over, and a tower service.
//!
//! Layer 4, a connection:
//!
//! - [`ClientKey`]: the client's address alone (the usual affinity key), optionally a whole
//!   subnet; an IPv4-mapped IPv6 address is its IPv4 address.
//! - [`FlowKey`]: a connection's five-tuple, optionally the same for both directions.
//! - [`Protocol`]: the transport protocol of a five-tuple.
//!
//! Layer 7, an HTTP request:
//!
//! - [`RequestView`]: what rules and keys read of a request; implemented for
//!   `http::Request` (feature `http`) and [`OwnedRequest`].
//! - [`Rule`] and [`Match`]: conditions on host, path prefix, method, headers and cookies
//!   that send a request to a pool.
//! - [`Pool`]: a named live balancer of any strategy, its [`KeySource`]s (header, cookie,
//!   query parameter, path segment, client address, tried in order) and its sticky
//!   [`TokenIn`].
//! - [`RouteTable`]: pools, rules and a default pool, in code or (feature `serde`) from one
//!   TOML or JSON document; it builds the [`Router`].
//! - [`Router`]: the first matching rule's pool, or the default, leases a server:
//!   [`Routed`], or a [`RouteError`] that names the pool.
//!
//! Sticky sessions, fail-over, and a tower service:
//!
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
#[cfg(feature = "http")]
mod http;
mod key;
mod l4;
mod owned;
mod parse;
mod pool;
mod request;
mod router;
mod rule;
mod sticky;
mod table;
#[cfg(feature = "tower")]
mod tower;

#[cfg(feature = "tower")]
pub use self::tower::{
    Balance, BalanceError, BalanceLayer, Classify, KeyOf, MakeEndpoint, NoKey, OkIsSuccess,
    ResponseFuture,
};
pub use failover::{Attempts, Failover, FailoverError};
pub use key::{KeySource, RequestKey};
pub use l4::{ClientKey, FlowKey, Protocol};
pub use owned::OwnedRequest;
pub use pool::{Pool, TokenIn};
pub use request::RequestView;
pub use router::{RouteError, Routed, Router};
pub use rule::{Match, Rule};
pub use sticky::{Sticky, StickyPick};
pub use table::RouteTable;
