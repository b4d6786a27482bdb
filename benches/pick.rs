//! Pick latency of every keyed strategy per fleet size, on one key set, with hashing alone
//! as the floor. (The key-free pickers are in `pickers.rs`.)
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

/// 1024 distinct 20-byte request ids, walked in turn so caches see realistic spread.
fn keys() -> Vec<[u8; 20]> {
    (0..1024u32)
        .map(|i| {
            let mut k = *b"req-0000000000000000";
            k[4..].copy_from_slice(format!("{:016x}", u64::from(i) * 0x9e37_79b9).as_bytes());
            k
        })
        .collect()
}

fn ids(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("10.{}.{}.{}:8080", i >> 16, (i >> 8) & 255, i & 255))
        .collect()
}

fn bench_pick<B: Balancer>(c: &mut Criterion, name: &str, build: impl Fn(&[String]) -> B) {
    let keys = keys();
    let mut group = c.benchmark_group(name);
    for n in SIZES {
        let b = build(&ids(n));
        let mut i = 0;
        group.bench_function(BenchmarkId::from_parameter(n), |bench| {
            bench.iter(|| {
                i = (i + 1) & 1023;
                b.pick(black_box(&keys[i])).map(|s| s.weight())
            })
        });
    }
    group.finish();
}

fn hashing(c: &mut Criterion) {
    let keys = keys();
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
    let keys = keys();
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
