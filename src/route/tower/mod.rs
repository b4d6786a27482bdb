//! The tower integration (feature `tower`): a [`Service`](::tower::Service) that routes each
//! request to one of a fleet's endpoint services through any strategy.
//!
//! - [`Balance`]: the service; [`BalanceLayer`] builds it (key, outcome reports) and is its
//!   [`Layer`](::tower::Layer).
//! - [`MakeEndpoint`]: makes the endpoint service of a server (any `Fn(&Server) -> S`).
//! - [`KeyOf`]: what a request is keyed by (any `Fn(&Req) -> K` with `K: Key`);
//!   [`NoKey`] for key-free strategies.
//! - [`Classify`]: whether an endpoint's result was a success (any `Fn(&Result<T, E>) ->
//!   bool`); [`OkIsSuccess`] by default.
//! - [`BalanceError`]: no server to route to, or the endpoint's error.
//! - [`ResponseFuture`]: the response, with the request's lease held until it is in.

mod classify;
mod endpoints;
mod error;
mod future;
mod key;
mod layer;
mod service;

pub use classify::{Classify, OkIsSuccess};
pub use endpoints::MakeEndpoint;
pub use error::BalanceError;
pub use future::ResponseFuture;
pub use key::{KeyOf, NoKey};
pub use layer::BalanceLayer;
pub use service::Balance;
