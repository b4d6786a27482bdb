//! Build and update costs, measured apart from picks.

use std::hint::black_box;

use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use loadring::{HashRing, Maglev, Modulo, Server, Update};

fn ids(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("10.{}.{}.{}:8080", i >> 16, (i >> 8) & 255, i & 255))
        .collect()
}

fn builds(c: &mut Criterion) {
    let mut group = c.benchmark_group("ring_build");
    group.sample_size(10);
    for n in [10, 100, 1000, 10_000] {
        let ids = ids(n);
        group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| HashRing::new(black_box(&ids).iter().map(String::as_str)).unwrap())
        });
    }
    group.finish();

    let mut group = c.benchmark_group("maglev_build");
    group.sample_size(10);
    for n in [100, 1000] {
        let ids = ids(n);
        group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| Maglev::new(black_box(&ids).iter().map(String::as_str)).unwrap())
        });
    }
    group.finish();

    let ids = ids(1000);
    c.bench_function("modulo_build/1000", |b| {
        b.iter(|| Modulo::new(black_box(&ids).iter().map(String::as_str)).unwrap())
    });
}

fn updates(c: &mut Criterion) {
    let all = ids(1001);
    let ring = HashRing::new(all[..1000].iter().map(String::as_str)).unwrap();
    let mut group = c.benchmark_group("ring_update_1000");
    group.sample_size(20);
    group.bench_function("add", |b| {
        b.iter_batched_ref(
            || ring.clone(),
            |r| r.add(Server::from(black_box(all[1000].as_str()))).unwrap(),
            BatchSize::LargeInput,
        )
    });
    group.bench_function("remove", |b| {
        b.iter_batched_ref(
            || ring.clone(),
            |r| r.remove(black_box(&all[500])).unwrap(),
            BatchSize::LargeInput,
        )
    });
    group.bench_function("reweight", |b| {
        b.iter_batched_ref(
            || ring.clone(),
            |r| r.set_weight(black_box(&all[500]), 2).unwrap(),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, builds, updates);
criterion_main!(benches);
