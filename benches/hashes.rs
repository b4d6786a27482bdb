//! Pick latency of the hash strategies at 10 to 10 000 servers, and build costs.
//!
//! Run with `cargo bench --bench hashes -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use loadring::{
    Balancer, BalancerExt, BoundedLoad, Jump, KeyHasher, Maglev, Modulo, Rendezvous, Server,
};

const SIZES: [usize; 4] = [10, 100, 1000, 10_000];

fn ids(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("10.{}.{}.{}:8080", i / 65_536, (i / 256) % 256, i % 256))
        .collect()
}

/// 1024 keys of 20 bytes, like request ids.
fn keys() -> Vec<String> {
    (0..1024).map(|i| format!("req-{i:016x}")).collect()
}

fn pick_group<B: Balancer>(c: &mut Criterion, name: &str, build: impl Fn(&[String]) -> B) {
    let keys = keys();
    let mut group = c.benchmark_group(format!("pick/{name}"));
    for n in SIZES {
        let b = build(&ids(n));
        let mut i = 0;
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |bench, _| {
            bench.iter(|| {
                i = (i + 1) & 1023;
                black_box(b.pick(black_box(keys[i].as_str())).map(|s| s.weight()))
            })
        });
    }
    group.finish();
}

fn picks(c: &mut Criterion) {
    // Points of reference: the key's hash alone, and simple hashing.
    let keys = keys();
    let h = KeyHasher::default();
    let mut i = 0;
    c.bench_function("hash/xxh3", |b| {
        b.iter(|| {
            i = (i + 1) & 1023;
            black_box(h.hash(black_box(keys[i].as_str())))
        })
    });
    pick_group(c, "modulo", |ids| {
        Modulo::new(ids.iter().map(String::as_str)).unwrap()
    });
    pick_group(c, "jump", |ids| {
        Jump::new(ids.iter().map(String::as_str)).unwrap()
    });
    pick_group(c, "maglev", |ids| {
        Maglev::new(ids.iter().map(String::as_str)).unwrap()
    });
    pick_group(c, "rendezvous", |ids| {
        Rendezvous::new(ids.iter().map(String::as_str)).unwrap()
    });
    pick_group(c, "rendezvous_weighted", |ids| {
        Rendezvous::new(
            ids.iter()
                .enumerate()
                .map(|(i, s)| Server::new(s.as_str()).with_weight(1 + i as u32 % 3)),
        )
        .unwrap()
    });
    #[cfg(feature = "ketama")]
    pick_group(c, "ketama", |ids| {
        loadring::KetamaRing::new(ids.iter().map(String::as_str)).unwrap()
    });
    pick_group(c, "bounded", |ids| {
        BoundedLoad::new(ids.iter().map(String::as_str)).unwrap()
    });
    // A lease taken and released: the compare-exchange and the counters included.
    let mut group = c.benchmark_group("lease/bounded");
    for n in SIZES {
        let b = BoundedLoad::new(ids(n).iter().map(String::as_str)).unwrap();
        let mut i = 0;
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |bench, _| {
            bench.iter(|| {
                i = (i + 1) & 1023;
                let lease = b.acquire(black_box(keys[i].as_str())).unwrap();
                black_box(lease.server().weight())
            })
        });
    }
    group.finish();
}

fn builds(c: &mut Criterion) {
    let mut group = c.benchmark_group("build/maglev");
    for n in [100, 1000] {
        let ids = ids(n);
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |bench, _| {
            bench.iter(|| Maglev::new(black_box(&ids).iter().map(String::as_str)).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, picks, builds);
criterion_main!(benches);
