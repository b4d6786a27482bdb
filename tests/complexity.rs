//! Complexity: builds and rankings grow with their input as documented, never quadratically.
//!
//! Each test compares an input with one several times larger in one run: small and large
//! alternate and each keeps its best time, so a busy machine slows both alike. No test reads
//! an absolute time, and the tests take turns, so that they do not slow one another.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use loadring::{
    AnyBalancer, Balancer, BalancerExt, Maglev, MaglevOptions, RingOptions, RoundRobin, Server,
    Strategy,
};

/// How many times longer `large` takes than `small`, each at its best of `runs`.
fn growth(runs: usize, mut small: impl FnMut(), mut large: impl FnMut()) -> f64 {
    static TURN: Mutex<()> = Mutex::new(());
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let time = |f: &mut dyn FnMut()| {
        let started = Instant::now();
        f();
        started.elapsed()
    };
    let (mut best_small, mut best_large) = (Duration::MAX, Duration::MAX);
    for _ in 0..runs {
        best_small = best_small.min(time(&mut small));
        best_large = best_large.min(time(&mut large));
    }
    best_large.as_secs_f64() / best_small.as_secs_f64().max(1e-9)
}

/// `n` servers with distinct addresses as ids, and a capacity for fill-first.
fn servers(n: usize) -> Vec<Server> {
    (0..n)
        .map(|i| {
            Server::new(format!("10.{}.{}.{}:80", i >> 16, (i >> 8) & 255, i & 255))
                .with_capacity(100)
        })
        .collect()
}

/// Every strategy builds in O(n log n) at most: 8× the servers take about 8× the time (10×
/// for n log n, up to twice that where the larger fleet leaves the cache), where a quadratic
/// build takes 64×.
#[test]
fn no_build_is_quadratic_in_the_fleet() {
    let strategies = Strategy::all().into_iter().map(|s| match s {
        Strategy::Ring(_) => Strategy::Ring(RingOptions::default().with_points_per_weight(40)),
        Strategy::Bounded(o) => Strategy::Bounded(o.with_points_per_weight(40)),
        other => other,
    });
    let (small, large) = (servers(1_000), servers(8_000));
    for strategy in strategies {
        let build = |fleet: &Vec<Server>| {
            let fleet = fleet.clone();
            move || drop(AnyBalancer::new(strategy, fleet.clone()).unwrap())
        };
        let ratio = growth(5, build(&small), build(&large));
        eprintln!("{}: 1000 -> 8000 servers: {ratio:.1}x", strategy.name());
        assert!(ratio < 32.0, "{}: {ratio:.1}x", strategy.name());
    }
}

/// A Maglev table of M slots fills in O(M log n), whatever the weights: with one server far
/// heavier than the rest, 4× the light servers cost little more, where a fill that scans
/// every server for every slot costs 4×.
#[test]
fn maglev_fills_by_the_table_not_the_fleet_with_skewed_weights() {
    let build = |n: usize| {
        let mut fleet = servers(n);
        fleet[0] = fleet[0].clone().with_weight(u32::MAX);
        let options = MaglevOptions::default().with_table_size(1_000_003);
        move || drop(Maglev::with_options(fleet.clone(), options).unwrap())
    };
    let ratio = growth(3, build(250), build(1_000));
    eprintln!("maglev, one heavy server, 250 -> 1000 servers: {ratio:.1}x");
    assert!(ratio < 2.5, "{ratio:.1}x");
}

/// A round-robin period of W slots is laid out in O(W log d) for d distinct weights: at the
/// same W, 4× the distinct weights cost little more, where comparing every distinct weight at
/// every slot costs 4×.
#[test]
fn round_robin_lays_out_by_slots_not_distinct_weights() {
    const SLOTS: u32 = 1 << 17;
    let build = |distinct: u32| {
        // Weights 1..=distinct, and one more server that brings the total to SLOTS.
        let filler = SLOTS - distinct * (distinct + 1) / 2;
        let fleet: Vec<Server> = (1..=distinct)
            .chain([filler])
            .map(|w| Server::new(format!("s{w}")).with_weight(w))
            .collect();
        move || {
            assert_eq!(
                RoundRobin::new(fleet.clone()).unwrap().period(),
                SLOTS.into()
            )
        }
    };
    let ratio = growth(3, build(64), build(256));
    eprintln!("round-robin, 64 -> 256 distinct weights over {SLOTS} slots: {ratio:.1}x");
    assert!(ratio < 2.5, "{ratio:.1}x");
}

/// Asking for every candidate is linear (or n log n) in the fleet, never quadratic: going
/// from n to 8n servers multiplies the time by about 8 (10 for n log n), where a quadratic
/// walk multiplies it by 64. Small and large runs alternate, and each keeps its best of five,
/// so that a busy machine slows both alike.
#[test]
fn ranking_every_server_is_not_quadratic() {
    let strategies = [
        Strategy::Ring(RingOptions::default().with_points_per_weight(4)),
        Strategy::Maglev(MaglevOptions::default().with_table_size(40_009)),
        Strategy::Rendezvous(Default::default()),
        Strategy::Modulo(Default::default()),
        Strategy::Jump(Default::default()),
        Strategy::RoundRobin(Default::default()),
        Strategy::LeastLoaded(Default::default()),
    ];
    let rank_all = |b: AnyBalancer| {
        let mut key = 0u32;
        move || {
            key += 1;
            assert_eq!(b.candidates(&key, b.len()).len(), b.len());
        }
    };
    for strategy in strategies {
        let build = |n| AnyBalancer::new(strategy, servers(n)).unwrap();
        let ratio = growth(5, rank_all(build(1_000)), rank_all(build(8_000)));
        eprintln!("{}: 1000 -> 8000 servers: {ratio:.1}x", strategy.name());
        assert!(ratio < 32.0, "{}: {ratio:.1}x", strategy.name());
    }
}
