//! Pick latency of every keyed strategy per fleet size, with hashing alone as the floor, in
//! two regimes. (The key-free pickers are in `pickers.rs`.)
//!
//! * Hot (`<strategy>_pick/<servers>`): 1024 keys picked over and over, so the tables stay
//!   in the core's caches.
//! * Cold (`<strategy>_pick_cold/<servers>`): 2²⁰ distinct keys, each picked once a lap (a
//!   lap reads 20 MB of keys), so most lines a pick reads come from the shared cache or
//!   memory, as in a service that picks between other work, for ids it has not seen.
//!
//! `cargo bench --all-features --bench pick -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use std::hash::{BuildHasher, RandomState};

use loadring::{
    Balancer, BalancerExt, BoundedLoad, HashRing, Jump, KeyHasher, Maglev, Modulo, Rendezvous,
    Server,
};

const SIZES: [usize; 4] = [10, 100, 1000, 10_000];

/// Fleet sizes of the cold regime.
const COLD_SIZES: [usize; 2] = [1000, 10_000];

/// Keys of the hot regime: 1024, walked in turn.
const HOT_KEYS: usize = 1 << 10;

/// Keys of the cold regime: 2²⁰ (20 MB), each picked once a lap.
const COLD_KEYS: usize = 1 << 20;

#[path = "support/keys.rs"]
mod support;
use support::keys;

fn ids(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("10.{}.{}.{}:8080", i >> 16, (i >> 8) & 255, i & 255))
        .collect()
}

/// Picks through the strategy `build` makes, hot at every size of [`SIZES`] (group `name`)
/// and cold at every size of [`COLD_SIZES`] (group `name_cold`).
fn bench_pick<B: Balancer>(c: &mut Criterion, name: &str, build: impl Fn(&[String]) -> B) {
    for (group, sizes, keys) in [
        (name.to_owned(), &SIZES[..], keys(HOT_KEYS)),
        (format!("{name}_cold"), &COLD_SIZES[..], keys(COLD_KEYS)),
    ] {
        let mut group = c.benchmark_group(group);
        let mask = keys.len() - 1;
        for &n in sizes {
            let b = build(&ids(n));
            let mut i = 0;
            group.bench_function(BenchmarkId::from_parameter(n), |bench| {
                bench.iter(|| {
                    i = (i + 1) & mask;
                    b.pick(black_box(&keys[i])).map(|s| s.weight())
                })
            });
        }
        group.finish();
    }
}

fn hashing(c: &mut Criterion) {
    let keys = keys(HOT_KEYS);
    let mut group = c.benchmark_group("hash_20_bytes");
    for (name, h) in [
        ("xxh3", KeyHasher::default()),
        ("siphash13", KeyHasher::siphash13(*b"0123456789abcdef")),
    ] {
        let mut i = 0;
        group.bench_function(name, |bench| {
            bench.iter(|| {
                i = (i + 1) & 1023;
                h.hash(black_box(&keys[i]))
            })
        });
    }
    // std's default hasher (SipHash-1-3 with a random key), as a point of reference.
    let std_hasher = RandomState::new();
    let mut i = 0;
    group.bench_function("std_default_hasher", |bench| {
        bench.iter(|| {
            i = (i + 1) & 1023;
            std_hasher.hash_one(black_box(&keys[i]))
        })
    });
    // The floor of the cold regime: reading each key of the lap and hashing it.
    let keys = self::keys(COLD_KEYS);
    let h = KeyHasher::default();
    group.bench_function("xxh3_cold", |bench| {
        bench.iter(|| {
            i = (i + 1) & (COLD_KEYS - 1);
            h.hash(black_box(&keys[i]))
        })
    });
    group.finish();
}

fn modulo(c: &mut Criterion) {
    bench_pick(c, "modulo_pick", |ids| {
        Modulo::new(ids.iter().map(String::as_str)).unwrap()
    });
}

fn ring(c: &mut Criterion) {
    bench_pick(c, "ring_pick", |ids| {
        HashRing::new(ids.iter().map(String::as_str)).unwrap()
    });
}

fn jump(c: &mut Criterion) {
    bench_pick(c, "jump_pick", |ids| {
        Jump::new(ids.iter().map(String::as_str)).unwrap()
    });
}

fn maglev(c: &mut Criterion) {
    bench_pick(c, "maglev_pick", |ids| {
        Maglev::new(ids.iter().map(String::as_str)).unwrap()
    });
}

fn rendezvous(c: &mut Criterion) {
    bench_pick(c, "rendezvous_pick", |ids| {
        Rendezvous::new(ids.iter().map(String::as_str)).unwrap()
    });
    bench_pick(c, "rendezvous_weighted_pick", |ids| {
        let weighted = ids.iter().enumerate();
        Rendezvous::new(
            weighted.map(|(i, s)| Server::new(s.as_str()).with_weight(1 + i as u32 % 3)),
        )
        .unwrap()
    });
}

fn bounded(c: &mut Criterion) {
    bench_pick(c, "bounded_pick", |ids| {
        BoundedLoad::new(ids.iter().map(String::as_str)).unwrap()
    });
    // A lease taken and released: the compare-exchange and the counters included.
    let keys = keys(HOT_KEYS);
    let mut group = c.benchmark_group("bounded_lease");
    for n in SIZES {
        let b = BoundedLoad::new(ids(n).iter().map(String::as_str)).unwrap();
        let mut i = 0;
        group.bench_function(BenchmarkId::from_parameter(n), |bench| {
            bench.iter(|| {
                i = (i + 1) & 1023;
                b.acquire(black_box(&keys[i])).map(|lease| lease.weight())
            })
        });
    }
    group.finish();
}

#[cfg(feature = "ketama")]
fn ketama(c: &mut Criterion) {
    bench_pick(c, "ketama_pick", |ids| {
        loadring::KetamaRing::new(ids.iter().map(String::as_str)).unwrap()
    });
}

#[cfg(not(feature = "ketama"))]
fn ketama(_: &mut Criterion) {}

fn ring_one_unhealthy(c: &mut Criterion) {
    bench_pick(c, "ring_pick_one_unhealthy", |ids| {
        let ring = HashRing::new(ids.iter().map(String::as_str)).unwrap();
        ring.set_healthy(&ids[0], false).unwrap();
        ring
    });
}

fn health_flip(c: &mut Criterion) {
    let ids = ids(1000);
    let ring = HashRing::new(ids.iter().map(String::as_str)).unwrap();
    let mut up = false;
    c.bench_function("health_flip_1000", |bench| {
        bench.iter(|| {
            up = !up;
            ring.set_healthy(black_box(&ids[500]), up)
        })
    });
}

criterion_group!(
    benches,
    hashing,
    modulo,
    ring,
    ring_one_unhealthy,
    jump,
    maglev,
    rendezvous,
    bounded,
    ketama,
    health_flip
);
criterion_main!(benches);
