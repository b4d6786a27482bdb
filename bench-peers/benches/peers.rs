//! loadring beside other consistent-hashing crates: the same keys and fleet, one run.
//!
//! `cargo bench -p loadring-bench-peers` (from the repository root). Each group holds one
//! operation at 1000 servers, so criterion's report gives the ratios directly.

use std::hint::black_box;
use std::net::SocketAddr;

use criterion::{Criterion, criterion_group, criterion_main};
use loadring::{BalancerExt, HashRing, Jump, KeyHasher, Maglev};
use maglev::ConsistentHasher;

const SERVERS: usize = 1000;
const POINTS: u32 = 160;

fn keys() -> Vec<[u8; 20]> {
    (0..1024u32)
        .map(|i| {
            let mut k = *b"req-0000000000000000";
            k[4..].copy_from_slice(format!("{:016x}", u64::from(i) * 0x9e37_79b9).as_bytes());
            k
        })
        .collect()
}

fn addrs() -> Vec<SocketAddr> {
    (0..SERVERS)
        .map(|i| format!("10.0.{}.{}:8080", i >> 8, i & 255).parse().unwrap())
        .collect()
}

fn ids() -> Vec<String> {
    addrs().iter().map(ToString::to_string).collect()
}

/// One virtual node of the `hashring` crate: a server and the point's number.
#[derive(Hash, Clone, PartialEq)]
struct VNode(SocketAddr, u32);

fn hashring_build(addrs: &[SocketAddr]) -> hashring::HashRing<VNode> {
    let mut ring = hashring::HashRing::new();
    ring.batch_add(
        addrs
            .iter()
            .flat_map(|&a| (0..POINTS).map(move |i| VNode(a, i)))
            .collect(),
    );
    ring
}

fn ketama_build(addrs: &[SocketAddr]) -> pingora_ketama::Continuum {
    let buckets: Vec<_> = addrs
        .iter()
        .map(|&a| pingora_ketama::Bucket::new(a, 1))
        .collect();
    pingora_ketama::Continuum::new(&buckets)
}

fn picks(c: &mut Criterion) {
    let keys = keys();
    let ids = ids();
    let addrs = addrs();
    let mut group = c.benchmark_group("pick_1000_servers");

    let hasher = KeyHasher::default();
    let mut i = 0;
    group.bench_function("xxh3 of the key alone", |b| {
        b.iter(|| {
            i = (i + 1) & 1023;
            hasher.hash(black_box(&keys[i]))
        })
    });

    let ring = HashRing::new(ids.iter().map(String::as_str)).unwrap();
    group.bench_function("loadring HashRing", |b| {
        b.iter(|| {
            i = (i + 1) & 1023;
            ring.pick(black_box(&keys[i])).map(|s| s.weight())
        })
    });

    let ketama = ketama_build(&addrs);
    group.bench_function("pingora-ketama", |b| {
        b.iter(|| {
            i = (i + 1) & 1023;
            ketama.node(black_box(&keys[i]))
        })
    });

    let hr = hashring_build(&addrs);
    group.bench_function("hashring", |b| {
        b.iter(|| {
            i = (i + 1) & 1023;
            hr.get(black_box(&keys[i])).map(|v| v.1)
        })
    });

    let ours = Maglev::new(ids.iter().map(String::as_str)).unwrap();
    group.bench_function("loadring Maglev", |b| {
        b.iter(|| {
            i = (i + 1) & 1023;
            ours.pick(black_box(&keys[i])).map(|s| s.weight())
        })
    });
    let theirs = maglev::Maglev::new(addrs.clone());
    group.bench_function("maglev", |b| {
        b.iter(|| {
            i = (i + 1) & 1023;
            theirs.get(black_box(&keys[i])).map(|a| a.port())
        })
    });

    let ours = Jump::new(ids.iter().map(String::as_str)).unwrap();
    group.bench_function("loadring Jump", |b| {
        b.iter(|| {
            i = (i + 1) & 1023;
            ours.pick(black_box(&keys[i])).map(|s| s.weight())
        })
    });
    let theirs = jumphash::JumpHasher::new();
    group.bench_function("jumphash", |b| {
        b.iter(|| {
            i = (i + 1) & 1023;
            theirs.slot(black_box(&keys[i]), SERVERS as u32)
        })
    });
    group.finish();
}

fn builds(c: &mut Criterion) {
    let ids = ids();
    let addrs = addrs();
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
