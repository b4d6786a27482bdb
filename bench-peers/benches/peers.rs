//! loadring beside other consistent-hashing crates: the same keys and fleet, one run.
//!
//! `cargo bench -p loadring-bench-peers --bench peers` (from the repository root). Each group
//! holds one operation at one fleet size, so criterion's report gives the ratios directly:
//!
//! * `pick_<n>_servers`: hot, 1024 keys picked over and over (the tables stay in cache);
//! * `pick_<n>_servers_cold`: cold, 2²⁰ distinct keys each picked once a lap;
//! * `build_1000_servers`: a fresh build.
//!
//! `benches/interleaved.rs` compares the same picks with the contenders taking turns.

use std::hint::black_box;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, criterion_group, criterion_main};
use loadring::{HashRing, Maglev};

mod common;

use common::{COLD_KEYS, Contenders, HOT_KEYS, Visit, addrs, hashring_build, ids, ketama_build};

/// Benches each contender's pick as a function of one criterion group.
struct Group<'a, 'c> {
    group: BenchmarkGroup<'c, WallTime>,
    keys: &'a [[u8; 20]],
}

impl Visit for Group<'_, '_> {
    fn visit<R>(&mut self, name: &str, mut pick: impl FnMut(&[u8; 20]) -> R) {
        let (keys, mask) = (self.keys, self.keys.len() - 1);
        let mut i = 0;
        self.group.bench_function(name, |b| {
            b.iter(|| {
                i = (i + 1) & mask;
                pick(black_box(&keys[i]))
            })
        });
    }
}

fn picks(c: &mut Criterion) {
    let (hot, cold) = (common::keys(HOT_KEYS), common::keys(COLD_KEYS));
    for n in [1000, 10_000] {
        let contenders = Contenders::new(n);
        for (suffix, keys) in [("", &hot), ("_cold", &cold)] {
            let group = c.benchmark_group(format!("pick_{n}_servers{suffix}"));
            let mut group = Group { group, keys };
            contenders.each(&mut group);
            group.group.finish();
        }
    }
}

fn builds(c: &mut Criterion) {
    let addrs = addrs(1000);
    let ids = ids(&addrs);
    let mut group = c.benchmark_group("build_1000_servers");
    group.sample_size(10);
    group.bench_function("loadring HashRing", |b| {
        b.iter(|| HashRing::new(black_box(&ids).iter().map(String::as_str)).unwrap())
    });
    group.bench_function("pingora-ketama", |b| {
        b.iter(|| ketama_build(black_box(&addrs)))
    });
    group.bench_function("hashring", |b| b.iter(|| hashring_build(black_box(&addrs))));
    group.bench_function("loadring Maglev", |b| {
        b.iter(|| Maglev::new(black_box(&ids).iter().map(String::as_str)).unwrap())
    });
    group.bench_function("maglev", |b| {
        b.iter(|| maglev::Maglev::new(black_box(&addrs).clone()))
    });
    group.finish();
}

criterion_group!(benches, picks, builds);
criterion_main!(benches);
