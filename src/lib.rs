//! Client-side load balancing: decide, inside your service, which server gets each request.
//!
//! There is no proxy in between: every instance of a service embeds its own balancer, and two
//! balancers that know the same servers make the same choice for the same key.
//!
//! # Quick start
//!
//! A service routes every request the same way, whatever the strategy: it takes a [`Lease`]
//! for the request's key and holds it while the request runs. Hash strategies go by the key,
//! key-free ones ignore it, and load-aware ones count the lease, so the strategy can come
//! from configuration. [`Shared`] lets request threads pick while a control thread changes
//! the fleet.
//!
//! ```
//! use loadring::{AnyBalancer, Balancer, RingOptions, Shared, Strategy, SyncOptions};
//!
//! let strategy = Strategy::Ring(RingOptions::default()); // or from a config file (serde)
//! let fleet = Shared::new(AnyBalancer::new(
//!     strategy,
//!     ["10.0.0.1:8080", "10.0.0.2:8080", "10.0.0.3:8080"],
//! )?);
//!
//! // A request: the lease counts it in flight until it drops.
//! let lease = fleet.acquire("request-8f1c")?;
//! let addr = lease.addr().expect("the id is a socket address");
//! println!("request-8f1c -> {addr}");
//! drop(lease);
//!
//! // A health checker marks a server down from any thread; only its keys move.
//! let home = fleet.pick("request-8f1c")?;
//! fleet.set_healthy(home.id(), false)?;
//! assert_ne!(fleet.pick("request-8f1c")?.id(), home.id());
//! fleet.set_healthy(home.id(), true)?;
//!
//! // Service discovery reports the full list: one call, one swap, cells kept.
//! fleet.sync(["10.0.0.1:8080", "10.0.0.2:8080", "10.0.0.4:8080"], SyncOptions::default())?;
//! assert_eq!(fleet.snapshot().len(), 3);
//! # Ok::<(), loadring::Error>(())
//! ```
//!
//! # Strategies
//!
//! Every strategy implements [`Balancer`] (picks, leases, health, ranked candidates) and
//! [`Update`] (add, remove, reweight, sync), and builds with `new(servers)` or
//! `with_options(servers, options)`. [`AnyBalancer`] holds any of them, chosen at run time
//! by a [`Strategy`].
//!
//! - [`Modulo`]: the key's hash mapped straight onto n servers; fastest, but a change of
//!   membership moves a quarter to a half of all keys.
//! - [`HashRing`]: consistent hashing with virtual nodes and weights; a change moves about 1/n.
//! - [`Jump`]: jump consistent hash over an ordered list of buckets; no table, near-perfect
//!   balance, minimal movement when the last server is added or removed; no weights.
//! - [`Maglev`]: a prime-sized lookup table filled from per-server permutations; a pick is one
//!   table read, shares follow weights to within a slot.
//! - [`Rendezvous`]: highest random weight; exact weighting and exact 1/n movement, O(n) a pick.
//! - [`BoundedLoad`]: a ring whose servers take at most ⌈(1 + ε) × their weight's share⌉ of
//!   the requests in flight, counted by [`Lease`]s; overflow walks on clockwise.
//! - `KetamaRing` (feature `ketama`): a ring that places keys exactly as libketama and
//!   libmemcached's ketama mode do, to share a memcached pool with clients in other languages.
//!
//! Key-free pickers ([`BalancerExt::next`] and [`BalancerExt::acquire_next`] pick without a
//! key; a key given to them is ignored):
//!
//! - [`RoundRobin`]: smooth weighted round-robin (nginx's): weights 5:1:1 give `a a b a c a a`.
//! - [`LeastLoaded`]: the least requests in flight or reported load per unit of weight, by
//!   power of two choices or a full scan.
//! - [`FillFirst`]: each server filled to its capacity, in order, before the next takes any.
//!
//! To choose on evidence, `cargo run --release --example compare` measures every strategy on
//! one fleet and key set (yours, with `--keys FILE`): pick latency, build time, memory,
//! balance, and the keys moved when a server leaves, joins or fails.
//!
//! # Servers
//!
//! A [`Server`] has an id (the only thing hashed), a weight, an optional capacity, an address
//! and typed metadata; its health, requests in flight and reported load live in cells that its
//! clones share, so they survive every change of the fleet. A fleet may be empty: picks then
//! answer [`PickError::NoServers`].
//!
//! # Errors
//!
//! Picks and leases fail with a small `Copy` [`PickError`]; building and changing a balancer
//! fail with [`Error`], which names the culprit and converts from a `PickError` with `?`.
//! No call panics on bad input.
//!
//! # Keys and hashing
//!
//! Keys are anything with stable bytes ([`Key`]): strings, byte slices, integers, 16-byte
//! ids, IP and socket addresses, or a hash the caller already holds ([`Prehashed`]). They are
//! hashed with XXH3-64 and a fixed seed, or with keyed SipHash-1-3 ([`KeyHasher`]) when an
//! attacker chooses the ids. The [`hash`] module documents the canonical bytes.
//!
//! # Features
//!
//! - `serde`: `Serialize`/`Deserialize` for [`AnyBalancer`] (a whole balancer from one
//!   `{"strategy", "servers", "options"}` document, strictly: unknown names are errors),
//!   [`Server`], every options type and [`SyncOptions`]; `Deserialize` for a whole
//!   [`route::RouteTable`] (pools, rules, default pool) from one document.
//! - `ketama`: `KetamaRing`, `KetamaFlavor`, `KetamaOptions` and `ketama_hash`, with the
//!   `md-5` crate.
//! - `http-probe`: `health::HttpProbe`, an HTTP GET health check, with the `ureq` crate
//!   (plain HTTP, no TLS).
//! - `http`: [`route::RequestView`] for `http::Request`, so the layer-7 [`route::Router`]
//!   routes the `http` crate's requests (hyper's, axum's, tower's).
//! - `tower`: `route::Balance`, a `tower::Service` (and `route::BalanceLayer`, its `Layer`)
//!   that routes each request to one of a live fleet's endpoint services through any
//!   strategy, with a lease held for the request's life and outcomes reported to the
//!   lifecycle.
//! - `redis`: the `redis` module: servers publish their load and liveness into Redis (or a
//!   Redis Cluster) and every balancer of the fleet reads them, with the `redis` crate's
//!   synchronous client.
//!
//! # Lifecycle
//!
//! The [`health`] module keeps servers out of rotation the way proxies do: active health
//! checks with rise and fall, draining apart from health, a panic threshold, and slow start;
//! every strategy obeys them through the servers' marks.
//!
//! # Routing
//!
//! The [`route`] module holds what a service keys its picks by beyond its own ids: a client's
//! address ([`route::ClientKey`], a whole subnet if asked), a connection's five-tuple
//! ([`route::FlowKey`]), sticky sessions ([`route::Sticky`]), fail-over across a key's
//! ranked candidates ([`route::Failover`]), and, with the `tower` feature, a tower service
//! that routes requests to endpoint services (`route::Balance`).
//!
//! At layer 7, a [`route::Router`] sends each HTTP request to a pool by ordered rules on
//! host, path prefix, method, headers and cookies, and leases a server from that pool by the
//! request's key (a header, cookie, query parameter, path segment or the client address),
//! keeping sticky users on their server; its [`route::RouteTable`] is built in code or read
//! from one TOML or JSON file. `examples/http_router` is a reverse proxy built on it.

#![forbid(unsafe_code)]
#![deny(missing_docs, missing_debug_implementations)]

#[macro_use]
mod options;

mod balancer;
mod config;
mod error;
mod fleet;
pub mod hash;
pub mod health;
mod keyed;
mod keyless;
mod lease;
mod marks;
#[cfg(feature = "redis")]
pub mod redis;
pub mod route;
mod server;
mod shared;
mod sync;
mod update;
mod worker;

pub use balancer::{Balancer, BalancerExt, MAX_CANDIDATES};
pub use config::{AnyBalancer, Strategy};
pub use error::{Error, PickError};
pub use fleet::Fleet;
pub use hash::{Key, KeyHasher, Prehashed};
pub use keyed::{
    BoundedLoad, BoundedOptions, DEFAULT_EPSILON, DEFAULT_MAGLEV_TABLE_SIZE, HashRing, Jump,
    JumpOptions, MAX_MAGLEV_TABLE_SIZE, MAX_RING_POINTS, Maglev, MaglevOptions, Modulo,
    ModuloOptions, Rendezvous, RendezvousOptions, RingOptions, jump_hash,
};
#[cfg(feature = "ketama")]
pub use keyed::{KetamaFlavor, KetamaOptions, KetamaRing, ketama_hash};
pub use keyless::{
    Choice, FillFirst, FillFirstOptions, LeastLoaded, LeastLoadedOptions, LoadSource,
    MAX_ROUND_ROBIN_SLOTS, Overflow, RoundRobin, RoundRobinOptions,
};
pub use lease::Lease;
pub use server::Server;
pub use shared::{Reader, Shared, Snapshot};
pub use update::{InitialHealth, SyncOptions, SyncReport, Update};

/// The README's examples, compiled and run as doctests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
