//! The keys, fleets and contenders that both benches of this crate run.

use std::net::SocketAddr;

use loadring::{BalancerExt, HashRing, Jump, KeyHasher, Maglev, Modulo};
use maglev::ConsistentHasher;

/// Points per server on the rings.
pub const POINTS: u32 = 160;

/// Keys of the hot regime: 1024, picked over and over, so the tables stay in cache.
pub const HOT_KEYS: usize = 1 << 10;

/// Keys of the cold regime: 2²⁰ (20 MB), each picked once a lap, so most lines a pick reads
/// come from the shared cache or memory.
pub const COLD_KEYS: usize = 1 << 20;

/// The largest fleet the `maglev` crate is built for: its build holds a permutation of every
/// slot for every server (8 bytes × 100 n² for n servers: 800 MB at 1000 servers).
pub const MAGLEV_CRATE_MAX: usize = 1000;

#[path = "../../../benches/support/keys.rs"]
mod keys;
pub use keys::keys;

/// `n` server addresses (n ≤ 65 536).
pub fn addrs(n: usize) -> Vec<SocketAddr> {
    (0..n)
        .map(|i| SocketAddr::from(([10, 0, (i >> 8) as u8, i as u8], 8080)))
        .collect()
}

/// The addresses written out, as loadring's server ids.
pub fn ids(addrs: &[SocketAddr]) -> Vec<String> {
    addrs.iter().map(ToString::to_string).collect()
}

/// One virtual node of the `hashring` crate: a server and the point's number.
#[derive(Hash, Clone, PartialEq)]
pub struct VNode(SocketAddr, u32);

pub fn hashring_build(addrs: &[SocketAddr]) -> hashring::HashRing<VNode> {
    let mut ring = hashring::HashRing::new();
    ring.batch_add(
        addrs
            .iter()
            .flat_map(|&a| (0..POINTS).map(move |i| VNode(a, i)))
            .collect(),
    );
    ring
}

pub fn ketama_build(addrs: &[SocketAddr]) -> pingora_ketama::Continuum {
    let buckets: Vec<_> = addrs
        .iter()
        .map(|&a| pingora_ketama::Bucket::new(a, 1))
        .collect();
    pingora_ketama::Continuum::new(&buckets)
}

/// Something that runs one contender's pick, named, over keys.
pub trait Visit {
    /// Runs `pick`, the contender called `name`.
    fn visit<R>(&mut self, name: &str, pick: impl FnMut(&[u8; 20]) -> R);
}

/// Every contender, built over one fleet.
pub struct Contenders {
    hasher: KeyHasher,
    ring: HashRing,
    ketama: pingora_ketama::Continuum,
    hashring: hashring::HashRing<VNode>,
    maglev: Maglev,
    maglev_crate: Option<maglev::Maglev<SocketAddr>>,
    jump: Jump,
    jumphash: jumphash::JumpHasher,
    modulo: Modulo,
    servers: u32,
}

impl Contenders {
    /// All of them over `n` servers (the `maglev` crate up to [`MAGLEV_CRATE_MAX`]).
    pub fn new(n: usize) -> Self {
        let addrs = addrs(n);
        let ids = ids(&addrs);
        let ids = || ids.iter().map(String::as_str);
        Contenders {
            hasher: KeyHasher::default(),
            ring: HashRing::new(ids()).unwrap(),
            ketama: ketama_build(&addrs),
            hashring: hashring_build(&addrs),
            maglev: Maglev::new(ids()).unwrap(),
            maglev_crate: (n <= MAGLEV_CRATE_MAX).then(|| maglev::Maglev::new(addrs.clone())),
            jump: Jump::new(ids()).unwrap(),
            jumphash: jumphash::JumpHasher::new(),
            modulo: Modulo::new(ids()).unwrap(),
            servers: n as u32,
        }
    }

    /// Hands each contender's pick to `v`, loadring's beside its peer.
    pub fn each(&self, v: &mut impl Visit) {
        v.visit("xxh3 of the key alone", |k| self.hasher.hash(k));
        v.visit("loadring HashRing", |k| {
            self.ring.pick(k).map(|s| s.weight())
        });
        v.visit("pingora-ketama", |k| self.ketama.node(k));
        v.visit("hashring", |k| self.hashring.get(k).map(|v| v.1));
        v.visit("loadring Maglev", |k| {
            self.maglev.pick(k).map(|s| s.weight())
        });
        if let Some(theirs) = &self.maglev_crate {
            v.visit("maglev", |k| theirs.get(k).map(|a| a.port()));
        }
        v.visit("loadring Jump", |k| self.jump.pick(k).map(|s| s.weight()));
        v.visit("jumphash", |k| self.jumphash.slot(k, self.servers));
        v.visit("loadring Modulo", |k| {
            self.modulo.pick(k).map(|s| s.weight())
        });
        // What modulo placement is without a crate: the hash's high bits scaled to the
        // fleet, with no health check and no weights.
        v.visit("xxh3 by hand, scaled", |k| {
            ((u128::from(self.hasher.hash(k)) * u128::from(self.servers)) >> 64) as u32
        });
    }
}
