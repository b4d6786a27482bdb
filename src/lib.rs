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
//!   membership moves nearly every key.
//! - [`HashRing`]: consistent hashing with virtual nodes and weights; a change moves about 1/n.
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
//! - `serde`: `Serialize`/`Deserialize` for [`Server`] and [`RingOptions`], so a fleet can be
//!   loaded from JSON or TOML.

#![forbid(unsafe_code)]
#![deny(missing_docs, missing_debug_implementations)]

mod balancer;
mod error;
mod fill_first;
pub mod hash;
mod lease;
mod least_loaded;
mod modulo;
mod ring;
mod round_robin;
mod server;
mod shared;

pub use balancer::{Balancer, BalancerExt, MAX_CANDIDATES};
pub use error::Error;
pub use fill_first::{FillFirst, Overflow};
pub use hash::{Key, KeyHasher, Prehashed};
pub use lease::{Acquire, Lease};
pub use least_loaded::{Choice, LeastLoaded, LoadSource};
pub use modulo::Modulo;
pub use ring::{HashRing, MAX_RING_POINTS, RingOptions};
pub use round_robin::{MAX_ROUND_ROBIN_SLOTS, RoundRobin};
pub use server::Server;
pub use shared::{Reader, Rebuild, Shared, Snapshot};
