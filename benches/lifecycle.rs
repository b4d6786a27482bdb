//! The lifecycle's costs on the request path: reporting a request's outcome to an outlier
//! detector (target: at most 50 ns), and least-loaded picks by each load source (peak-EWMA
//! latency beside requests in flight and reported loads).
//!
//! Run with `cargo bench --bench lifecycle -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use loadring::health::{Clock, ManualClock, Outcome, OutlierDetector, OutlierOptions, SystemClock};
use loadring::{Balancer, HashRing, LeastLoaded, LeastLoadedOptions, LoadSource, Server};

fn servers(n: usize) -> Vec<Server> {
    (0..n)
        .map(|i| Server::new(format!("10.0.{}.{}:8080", i / 256, i % 256)))
        .collect()
}

/// `n` outcomes timed by a detector on a manual clock, 1 ms apart, with latencies from 0.5
/// to 1.5 ms (so the estimate takes both its branches: a peak, a blend); every `every`-th
/// a failure (none for 0).
fn timed_outcomes(n: usize, every: usize) -> Vec<Outcome> {
    let clock = ManualClock::new();
    let d = OutlierDetector::with_clock(OutlierOptions::default(), clock.clone()).unwrap();
    (0..n)
        .map(|k| {
            let started = d.start();
            clock.advance(Duration::from_micros(500 + (k as u64 * 7919) % 1000));
            let outcome = d.outcome(started, every == 0 || (k + 1) % every != 0);
            clock.advance(Duration::from_micros(500));
            outcome
        })
        .collect()
}

/// Reports on one server of a 1000-server fleet.
fn reports(c: &mut Criterion) {
    let fleet = servers(1000);
    let s = &fleet[500];
    let mut g = c.benchmark_group("outcome_report");
    let cases = [
        ("success", OutlierOptions::default(), 0),
        // Failures with the run rule off: the counters and the estimate alone.
        (
            "failure",
            OutlierOptions::default().with_enforcing_consecutive_failures(false),
            1,
        ),
        // Every report a failure, with Envoy's run of 5: every fifth report takes the lock
        // to try an ejection (the cap refuses it: 0 % of the fleet).
        (
            "failure_runs_of_5",
            OutlierOptions::default().with_max_ejection_percent(0),
            1,
        ),
        // One failure in a hundred, the run rule on.
        ("one_percent_failures", OutlierOptions::default(), 100),
    ];
    for (name, options, every) in cases {
        // The outcomes carry their time: `record` reads no clock (its type does not matter).
        let d = OutlierDetector::with_clock(options, ManualClock::new()).unwrap();
        d.evaluate(&fleet[..]);
        let outcomes = timed_outcomes(4096, every);
        let mut k = 0usize;
        g.bench_function(BenchmarkId::new("record_timed", name), |b| {
            b.iter(|| {
                k = (k + 1) & 4095;
                d.record(black_box(s), black_box(outcomes[k]));
            })
        });
    }

    // On the system's clock: making a timed outcome (one reading of the clock, the one that
    // measures the request), and recording an outcome the service timed itself (`record`
    // reads the clock for it).
    let d = OutlierDetector::new(OutlierOptions::default()).unwrap();
    let started = d.start();
    g.bench_function("system_clock/outcome", |b| {
        b.iter(|| black_box(d.outcome(black_box(started), true)))
    });
    let mut k = 0u64;
    g.bench_function("system_clock/record_untimed_success", |b| {
        b.iter(|| {
            k = k.wrapping_add(7919);
            let latency = Duration::from_micros(500 + k % 1000);
            d.record(black_box(s), Outcome::success(latency));
        })
    });
    let clock = SystemClock::new();
    g.bench_function("system_clock/now", |b| b.iter(|| black_box(clock.now())));
    g.finish();
}

/// Least-loaded picks by each source over 10 and 1000 servers, with one report per server
/// so peak-EWMA has estimates to compare.
fn picks(c: &mut Criterion) {
    let mut g = c.benchmark_group("least_loaded_pick");
    for n in [10, 1000] {
        for (name, source) in [
            ("in_flight", LoadSource::InFlight),
            ("reported", LoadSource::Reported),
            ("peak_ewma", LoadSource::PeakEwma),
        ] {
            let options = LeastLoadedOptions::default()
                .with_seed(1)
                .with_load_source(source);
            let ll = LeastLoaded::with_options(servers(n), options).unwrap();
            let clock = ManualClock::new();
            let d = OutlierDetector::with_clock(OutlierOptions::default(), clock.clone()).unwrap();
            for (i, s) in ll.servers().iter().enumerate() {
                clock.advance(Duration::from_millis(1));
                d.record(
                    s,
                    Outcome::success(Duration::from_micros(500 + i as u64 % 97)),
                );
                s.report_load(i as f64 % 13.0).unwrap();
            }
            g.bench_with_input(BenchmarkId::new(name, n), &ll, |b, ll| {
                b.iter(|| black_box(ll.pick_hash(black_box(0))).is_ok())
            });
        }
    }
    g.finish();
}

/// A ring pick whose first choice is down (half the fleet is), without a panic threshold and
/// with one set but not reached: the difference is the panic check of a fallback pick.
fn panic_check(c: &mut Criterion) {
    let mut g = c.benchmark_group("panic_check");
    for threshold in [0.0, 0.4] {
        let ring = HashRing::new(servers(100)).unwrap();
        let down: Vec<&str> = ring.servers()[..50].iter().map(Server::id).collect();
        // The keys whose first choice is one of the servers about to go down.
        let hashes: Vec<u64> = (0..4096u64)
            .map(|k| k.wrapping_mul(0x9e37_79b9_7f4a_7c15))
            .filter(|&h| down.contains(&ring.pick_hash(h).unwrap().id()))
            .collect();
        for s in &ring.servers()[..50] {
            s.set_healthy(false);
        }
        ring.set_panic_threshold(threshold).unwrap();
        let mut i = 0;
        g.bench_function(format!("ring_fallback/threshold_{threshold}"), |b| {
            b.iter(|| {
                i = (i + 1) % hashes.len();
                black_box(ring.pick_hash(black_box(hashes[i])).unwrap().id().len())
            })
        });
    }
    g.finish();
}

criterion_group!(benches, reports, picks, panic_check);
criterion_main!(benches);
