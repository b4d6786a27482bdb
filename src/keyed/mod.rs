//! Strategies that route by key: the same key goes to the same server.
//!
//! - [`Modulo`]: the key's hash mapped straight onto the servers.
//! - [`HashRing`]: consistent hashing with virtual nodes and weights.
//! - [`Jump`]: jump consistent hash over numbered buckets.
//! - [`Maglev`]: a prime-sized lookup table.
//! - [`Rendezvous`]: highest random weight.
//! - [`BoundedLoad`]: a ring that caps each server's requests in flight.
//! - `KetamaRing` (feature `ketama`): libketama's and libmemcached's ring.

mod bounded;
mod jump;
#[cfg(feature = "ketama")]
mod ketama;
mod maglev;
mod modulo;
mod rendezvous;
mod ring;

pub use bounded::{BoundedLoad, BoundedOptions, DEFAULT_EPSILON};
pub use jump::{Jump, JumpOptions, jump_hash};
#[cfg(feature = "ketama")]
pub use ketama::{KetamaFlavor, KetamaOptions, KetamaRing, ketama_hash};
pub use maglev::{DEFAULT_MAGLEV_TABLE_SIZE, MAX_MAGLEV_TABLE_SIZE, Maglev, MaglevOptions};
pub use modulo::{Modulo, ModuloOptions};
pub use rendezvous::{Rendezvous, RendezvousOptions};
pub use ring::{HashRing, MAX_RING_POINTS, RingOptions};
