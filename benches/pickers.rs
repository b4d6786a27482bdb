//! Pick latency of the key-free pickers, lease cost, and how picks from a live shared
//! balancer scale across threads while the fleet changes.
//!
//! Run with `cargo bench --bench pickers -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;
use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use loadring::{
    Balancer, BalancerExt, FillFirst, HashRing, LeastLoaded, LeastLoadedOptions, RoundRobin,
    Server, Shared,
};

const SIZES: [usize; 3] = [10, 100, 1000];

fn servers(n: usize) -> Vec<Server> {
    (0..n)
        .map(|i| Server::new(format!("10.0.{}.{}:8080", i / 256, i % 256)).with_capacity(1 << 20))
        .collect()
}

fn weighted(n: usize) -> Vec<Server> {
    servers(n)
        .into_iter()
        .enumerate()
        .map(|(i, s)| s.with_weight(1 + (i % 4) as u32))
        .collect()
}

/// Least-loaded by two random choices, seeded for reproducible picks.
fn seeded(servers: Vec<Server>) -> LeastLoaded {
    LeastLoaded::with_options(servers, LeastLoadedOptions::default().with_seed(1)).unwrap()
}

fn pickers(c: &mut Criterion) {
    let mut g = c.benchmark_group("pick");
    for n in SIZES {
        let rr = RoundRobin::new(servers(n)).unwrap();
        g.bench_with_input(BenchmarkId::new("round_robin", n), &rr, |b, rr| {
            b.iter(|| black_box(rr.pick_hash(black_box(0))).is_ok())
        });
        let rr = RoundRobin::new(weighted(n)).unwrap();
        g.bench_with_input(BenchmarkId::new("round_robin_weighted", n), &rr, |b, rr| {
            b.iter(|| black_box(rr.pick_hash(black_box(0))).is_ok())
        });
        let ll = seeded(servers(n));
        g.bench_with_input(BenchmarkId::new("least_loaded_p2c", n), &ll, |b, ll| {
            b.iter(|| black_box(ll.pick_hash(black_box(0))).is_ok())
        });
        let ff = FillFirst::new(servers(n)).unwrap();
        g.bench_with_input(BenchmarkId::new("fill_first", n), &ff, |b, ff| {
            b.iter(|| black_box(ff.pick_hash(black_box(0))).is_ok())
        });
    }
    g.finish();

    let mut g = c.benchmark_group("lease_acquire_release");
    for n in SIZES {
        let ll = seeded(servers(n));
        g.bench_with_input(BenchmarkId::new("least_loaded_p2c", n), &ll, |b, ll| {
            b.iter(|| drop(black_box(ll.acquire_next())))
        });
        let ff = FillFirst::new(servers(n)).unwrap();
        g.bench_with_input(BenchmarkId::new("fill_first", n), &ff, |b, ff| {
            b.iter(|| drop(black_box(ff.acquire_next())))
        });
    }
    g.finish();
}

/// What a snapshot costs: a ring pick straight from the ring, through `Shared::snapshot` and
/// through a `Reader`.
fn snapshot_cost(c: &mut Criterion) {
    let ring = HashRing::new(servers(1000)).unwrap();
    let shared = Shared::new(ring.clone());
    let mut g = c.benchmark_group("ring_1000_pick");
    let mut h = 0u64;
    g.bench_function("direct", |b| {
        b.iter(|| {
            h = h.wrapping_add(0x9e37_79b9_7f4a_7c15);
            black_box(ring.pick_hash(black_box(h)).is_ok())
        })
    });
    g.bench_function("through_shared", |b| {
        b.iter(|| {
            h = h.wrapping_add(0x9e37_79b9_7f4a_7c15);
            black_box(shared.snapshot().pick_hash(black_box(h)).is_ok())
        })
    });
    let mut reader = shared.reader();
    g.bench_function("through_reader", |b| {
        b.iter(|| {
            h = h.wrapping_add(0x9e37_79b9_7f4a_7c15);
            black_box(reader.snapshot().pick_hash(black_box(h)).is_ok())
        })
    });
    g.finish();
}

/// Times `iters` calls of a worker, split between `threads` threads started together; each
/// thread builds its own worker with `make(thread)` before the clock starts.
fn split_between<W: FnMut(u64)>(
    threads: u64,
    iters: u64,
    make: &(impl Fn(u64) -> W + Sync),
) -> Duration {
    let per_thread = iters.div_ceil(threads);
    let start = Barrier::new(threads as usize + 1);
    thread::scope(|s| {
        for t in 0..threads {
            let start = &start;
            s.spawn(move || {
                let mut work = make(t);
                start.wait();
                for k in 0..per_thread {
                    work(k);
                }
            });
        }
        start.wait();
        // The scope joins the threads before it returns.
        Instant::now()
    })
    .elapsed()
}

/// Picks from one `Shared<HashRing>` of 1000 servers by one thread, then by two, while a
/// third thread flips a server's health every millisecond and removes or re-adds a server
/// every 100 ms (a change of a 1000-server ring costs the writer a few milliseconds, and the
/// machine has two cores). Each iteration is one pick; with two threads the picks are split
/// between them, so the ratio of the two medians is the speed-up. `load` takes a snapshot
/// with `Shared::snapshot` for every pick (the id keeps the name of 0.1's `Shared::load`, so
/// figures stay comparable), `reader` through each thread's `Reader`.
///
/// `two_thread_baseline` runs the same harness over a pure arithmetic loop, with no shared
/// state at all: its ratio is what the machine offers at the time (a shared machine may give
/// far less than two cores), the ceiling for the balancer's ratio.
fn shared_scaling(c: &mut Criterion) {
    let mut g = c.benchmark_group("two_thread_baseline");
    let spin = |t: u64| {
        move |k: u64| {
            let mut x = k ^ t;
            for _ in 0..8 {
                x = black_box(x.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(17));
            }
            black_box(x);
        }
    };
    for threads in [1u64, 2] {
        g.bench_function(BenchmarkId::new("threads", threads), |b| {
            b.iter_custom(|iters| split_between(threads, iters, &spin))
        });
    }
    g.finish();

    let ring = HashRing::new(servers(1000)).unwrap();
    let shared = Shared::new(ring);
    let hashes: Vec<u64> = (0..4096u64)
        .map(|k| k.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x2545_f491_4f6c_dd1d)
        .collect();
    let stop = AtomicBool::new(false);

    thread::scope(|s| {
        s.spawn(|| {
            let all = shared.snapshot().servers().to_vec();
            let mut removed: Option<Server> = None;
            let mut tick = 0usize;
            while !stop.load(Ordering::Relaxed) {
                thread::sleep(Duration::from_millis(1));
                tick += 1;
                let flip = &all[(tick * 7) % all.len()];
                flip.set_healthy(!flip.is_healthy());
                if tick % 100 == 0 {
                    removed = match removed.take() {
                        Some(server) => {
                            shared.add(server).unwrap();
                            None
                        }
                        None => Some(shared.remove(all[(tick * 13) % all.len()].id()).unwrap()),
                    };
                }
            }
        });

        let (shared, hashes) = (&shared, &hashes);
        let snap = |t: u64| {
            move |k: u64| {
                let h = hashes[((k + t * 2048) & 4095) as usize];
                let snapshot = shared.snapshot();
                black_box(snapshot.pick_hash(black_box(h)).is_ok());
            }
        };
        let read = |t: u64| {
            let mut reader = shared.reader();
            move |k: u64| {
                let h = hashes[((k + t * 2048) & 4095) as usize];
                black_box(reader.snapshot().pick_hash(black_box(h)).is_ok());
            }
        };
        let mut g = c.benchmark_group("shared_ring_1000_under_churn");
        for threads in [1u64, 2] {
            g.bench_function(BenchmarkId::new("load", threads), |b| {
                b.iter_custom(|iters| split_between(threads, iters, &snap))
            });
        }
        for threads in [1u64, 2] {
            g.bench_function(BenchmarkId::new("reader", threads), |b| {
                b.iter_custom(|iters| split_between(threads, iters, &read))
            });
        }
        g.finish();
        stop.store(true, Ordering::Relaxed);
    });
}

criterion_group!(benches, pickers, snapshot_cost, shared_scaling);
criterion_main!(benches);
