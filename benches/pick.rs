//! Pick latency per strategy and fleet size, with hashing alone as the floor.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use loadring::{Balancer, BalancerExt, HashRing, KeyHasher, Modulo};

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
    health_flip
);
criterion_main!(benches);
