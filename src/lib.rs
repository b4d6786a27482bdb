//! Client-side load balancing: decide, inside your service, which server gets each request.
//!
//! There is no proxy in between: every instance of a service embeds its own balancer, and two
//! balancers that know the same servers make the same choice for the same key.
//!
//! # Strategies
//!
//! Every strategy implements [`Balancer`]; pick with [`BalancerExt::pick`].
//!
//! - [`Modulo`]: the key's hash mapped straight onto n servers; fastest, but a change of
//!   membership moves a quarter to a half of all keys.
//! - [`HashRing`]: consistent hashing with virtual nodes and weights; a change moves about 1/n.
//! - [`Jump`]: jump consistent hash over an ordered list of buckets; no table, near-perfect
//!   balance, minimal movement when the last server is added or removed.
//! - [`Maglev`]: a prime-sized lookup table filled from per-server permutations; a pick is one
//!   table read, shares follow weights to within a slot.
//! - [`BoundedLoad`]: a ring whose servers take at most ⌈(1 + ε) × their weight's share⌉ of
//!   the requests in flight, counted by [`Lease`]s; overflow walks on clockwise.
//! - [`Rendezvous`]: highest random weight; exact weighting and exact 1/n movement, O(n) a pick.
//! - `KetamaRing` (feature `ketama`): a ring that places keys exactly as libketama and
//!   libmemcached's ketama mode do, to share a memcached pool with clients in other languages.
//!
//! Key-free pickers:
//!
//! - [`RoundRobin`]: smooth weighted round-robin (nginx's): weights 5:1:1 give `a a b a c a a`.
//! - [`LeastLoaded`]: the least requests in flight or reported load per unit of weight, by
//!   power of two choices or a full scan.
//! - [`FillFirst`]: each server filled to its capacity, in order, before the next takes any.
//!
//! The key-free pickers ignore the key: pick with any key, or `pick_hash(0)`.
//! [`LeastLoaded::acquire`] and [`FillFirst::acquire`] also count the request in flight until
//! its [`Lease`] is dropped.
//!
//! [`Shared`] wraps any strategy that implements [`Rebuild`] in a handle that many threads
//! pick from while others add, remove and reweight servers.
//!
//! To choose on evidence, `cargo run --release --example compare` measures every strategy on
//! one fleet and key set (yours, with `--keys FILE`): pick latency, build time, memory,
//! balance, and the keys moved when a server leaves, joins or fails.
//!
//! # Quick start
//!
//! ```
//! use loadring::{Balancer, BalancerExt, HashRing};
//!
//! let ring = HashRing::new(["10.0.0.1:8080", "10.0.0.2:8080", "10.0.0.3:8080"])?;
//! let server = ring.pick("request-8f1c")?;
//! println!("request-8f1c -> {}", server.id());
//!
//! // A health checker marks a server down from any thread; only its keys move.
//! ring.set_healthy(server.id(), false)?;
//! assert_ne!(ring.pick("request-8f1c")?.id(), server.id());
//! ring.set_healthy(server.id(), true)?;
//! assert_eq!(ring.pick("request-8f1c")?.id(), server.id());
//! # Ok::<(), loadring::Error>(())
//! ```
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
//! - `serde`: `Serialize`/`Deserialize` for [`Server`], [`RingOptions`] and
//!   [`MaglevOptions`], so a fleet can be loaded from JSON or TOML.
//! - `ketama`: `KetamaRing`, `KetamaFlavor` and `ketama_hash`, with the `md-5` crate.

#![forbid(unsafe_code)]
#![deny(missing_docs, missing_debug_implementations)]

mod balancer;
mod config;
mod error;
mod fleet;
pub mod hash;
mod keyed;
mod keyless;
mod lease;
mod server;
mod shared;
mod update;

pub use balancer::{Balancer, BalancerExt, MAX_CANDIDATES};
pub use config::{AnyBalancer, Strategy};
pub use error::{Error, PickError};
pub use fleet::Fleet;
pub use hash::{Key, KeyHasher, Prehashed};
#[cfg(feature = "ketama")]
pub use keyed::{KetamaFlavor, KetamaOptions, KetamaRing, ketama_hash};
pub use keyed::{
    BoundedLoad, BoundedOptions, DEFAULT_EPSILON, DEFAULT_MAGLEV_TABLE_SIZE, HashRing, Jump,
    MAX_MAGLEV_TABLE_SIZE, MAX_RING_POINTS, Maglev, MaglevOptions, Modulo, Rendezvous,
    RingOptions, jump_hash,
};
pub use keyless::{
    Choice, FillFirst, FillFirstOptions, LeastLoaded, LeastLoadedOptions, LoadSource,
    MAX_ROUND_ROBIN_SLOTS, Overflow, RoundRobin,
};
pub use lease::Lease;
pub use server::Server;
pub use shared::{Reader, Shared, Snapshot};
pub use update::{InitialHealth, SyncOptions, SyncReport, Update};

/// The README's examples, compiled and run as doctests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
