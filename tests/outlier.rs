//! Outlier detection, with Envoy's rules: ejection on failures in a row (exactly at the
//! threshold) and on a failure percentage over a window (only with the request volume),
//! ejection times that grow and are capped, returns after the ejection time, the cap on
//! ejected servers even when every server fails, and picks that pass ejected servers by and
//! take their keys back. Time is a `ManualClock`; nothing sleeps.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use loadring::health::{
    Evaluation, ManualClock, Outcome, OutlierDetector, OutlierOptions, OutlierStats, ServerSource,
    Sweeper,
};
use loadring::{Balancer, BalancerExt, Error, HashRing, RoundRobin, Server, Shared};

const LATENCY: Duration = Duration::from_millis(5);

fn ids(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("10.0.0.{i}:80")).collect()
}

fn detector(options: OutlierOptions) -> (OutlierDetector<ManualClock>, ManualClock) {
    let clock = ManualClock::new();
    (
        OutlierDetector::with_clock(options, clock.clone()).unwrap(),
        clock,
    )
}

fn fail(d: &OutlierDetector<ManualClock>, s: &Server, times: u32) {
    for _ in 0..times {
        d.record(s, Outcome::failure(LATENCY));
    }
}

fn succeed(d: &OutlierDetector<ManualClock>, s: &Server, times: u32) {
    for _ in 0..times {
        d.record(s, Outcome::success(LATENCY));
    }
}

fn ejected(servers: &[Server], d: &OutlierDetector<ManualClock>) -> usize {
    servers.iter().filter(|s| d.is_ejected(s)).count()
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

#[test]
fn failures_in_a_row_eject_exactly_at_the_threshold() {
    // Envoy's defaults: 5 in a row, 10 % of 10 servers = 1.
    let rr = RoundRobin::new(ids(10)).unwrap();
    let (d, _clock) = detector(OutlierOptions::default());
    d.evaluate(&rr);
    let s = &rr.servers()[3];

    fail(&d, s, 4);
    assert!(!d.is_ejected(s), "4 failures do not eject");
    assert_eq!(d.failure_run(s), 4);
    succeed(&d, s, 1);
    assert_eq!(d.failure_run(s), 0, "a success ends the run");
    fail(&d, s, 4);
    assert!(!d.is_ejected(s), "the run started again after the success");
    fail(&d, s, 1);
    assert!(
        d.is_ejected(s),
        "the 5th failure in a row ejects, in the report"
    );
    assert!(!s.is_available() && !s.is_healthy());
    assert_eq!(d.ejections(s), 1);
    assert_eq!(
        d.failure_run(s),
        0,
        "the run starts again after an ejection"
    );
    assert_eq!(d.stats().ejected, 1);
    // Other servers' runs are their own.
    assert!(
        rr.servers()
            .iter()
            .filter(|o| !o.shares_state_with(s))
            .all(|o| o.is_healthy())
    );

    // Another threshold, and the rule turned off.
    let (d3, _) = detector(OutlierOptions::default().with_consecutive_failures(3));
    d3.evaluate(&rr);
    let t = &rr.servers()[5];
    fail(&d3, t, 2);
    assert!(!d3.is_ejected(t));
    fail(&d3, t, 1);
    assert!(d3.is_ejected(t));
    let off = OutlierOptions::default().with_enforcing_consecutive_failures(false);
    let (d_off, _) = detector(off);
    let u = Server::new("u");
    fail(&d_off, &u, 100);
    assert!(!d_off.is_ejected(&u));
}

/// Ten servers with enough traffic; `plan` gives (requests, failures) for some of them, the
/// others answer 60 successes. Failures come first, so the share is exact; runs of failures
/// do not eject (that rule is off here).
fn failure_percentage_sweep(
    hosts: usize,
    plan: &[(usize, u32, u32)],
    options: OutlierOptions,
) -> (Vec<Server>, OutlierDetector<ManualClock>, Evaluation) {
    let rr = RoundRobin::new(ids(hosts)).unwrap();
    let (d, clock) = detector(
        options
            .with_enforcing_consecutive_failures(false)
            .with_enforcing_failure_percentage(true)
            .with_max_ejection_percent(50),
    );
    d.evaluate(&rr);
    let servers = rr.servers().to_vec();
    for (i, s) in servers.iter().enumerate() {
        match plan.iter().find(|p| p.0 == i) {
            Some(&(_, requests, failures)) => {
                fail(&d, s, failures);
                succeed(&d, s, requests - failures);
            }
            None => succeed(&d, s, 60),
        }
    }
    assert_eq!(
        ejected(&servers, &d),
        0,
        "percentages eject only at a sweep"
    );
    clock.advance(secs(10));
    let out = d.evaluate(&rr);
    (servers, d, out)
}

#[test]
fn a_failure_percentage_ejects_at_the_sweep_with_the_request_volume() {
    // Envoy's figures: 85 % or more of at least 50 requests, 5 servers with that volume.
    let plan = [
        (0, 50, 43),  // 86 %: ejected
        (1, 49, 49),  // 100 % of 49: below the volume, stays
        (2, 50, 42),  // 84 %: below the threshold, stays
        (3, 100, 85), // exactly 85 %: ejected
        (4, 100, 84), // 84 %: stays
    ];
    let (servers, d, out) = failure_percentage_sweep(10, &plan, OutlierOptions::default());
    let who: Vec<usize> = (0..10).filter(|&i| d.is_ejected(&servers[i])).collect();
    assert_eq!(who, [0, 3]);
    assert_eq!((out.ejected, out.ejected_now), (2, 2));

    // The window starts again: a sweep with no new outcomes ejects nobody more.
    let rr = RoundRobin::new(servers.clone()).unwrap();
    assert_eq!(d.evaluate(&rr).ejected, 0);

    // A threshold of 50 % takes server 2 (84 %) too.
    let (servers, d, _) = failure_percentage_sweep(
        10,
        &plan,
        OutlierOptions::default().with_failure_percentage_threshold(50),
    );
    let who: Vec<usize> = (0..10).filter(|&i| d.is_ejected(&servers[i])).collect();
    assert_eq!(who, [0, 2, 3, 4]);
}

#[test]
fn a_failure_percentage_needs_enough_servers_with_the_volume() {
    // Only 4 servers reach 50 requests: fewer than the 5 required, nobody is ejected.
    let plan = [(0, 60, 60), (1, 60, 0), (2, 60, 0), (3, 60, 0)];
    let options = OutlierOptions::default();
    let quiet: Vec<(usize, u32, u32)> = (4..10).map(|i| (i, 10, 0)).collect();
    let all: Vec<_> = plan.iter().chain(&quiet).copied().collect();
    let (servers, d, out) = failure_percentage_sweep(10, &all, options);
    assert_eq!((out.ejected, ejected(&servers, &d)), (0, 0));
    // With a fifth server at the volume, the failing one goes.
    let mut five = all.clone();
    five[4] = (4, 50, 0);
    let (servers, d, out) = failure_percentage_sweep(10, &five, options);
    assert_eq!(out.ejected, 1);
    assert!(d.is_ejected(&servers[0]));
    // And off by default, as in Envoy.
    let rr = RoundRobin::new(ids(10)).unwrap();
    let (d, clock) = detector(OutlierOptions::default().with_consecutive_failures(1000));
    d.evaluate(&rr);
    for s in rr.servers() {
        fail(&d, s, 60);
    }
    clock.advance(secs(10));
    assert_eq!(d.evaluate(&rr).ejected, 0);
}

/// Ejects `s` with five failures at the clock's time, then sweeps until it returns, and
/// returns how long it stayed out (checking it was still out one millisecond before).
fn ejection_length(
    d: &OutlierDetector<ManualClock>,
    clock: &ManualClock,
    rr: &RoundRobin,
    s: &Server,
) -> Duration {
    fail(d, s, 5);
    assert!(d.is_ejected(s));
    let mut out = Duration::ZERO;
    loop {
        clock.advance(secs(1));
        out += secs(1);
        d.evaluate(rr);
        if !d.is_ejected(s) {
            break;
        }
        assert!(out < secs(10_000), "never returned");
    }
    // It returned at this sweep, not at the one a second before.
    assert!(out >= secs(1));
    out
}

#[test]
fn ejection_time_grows_with_each_ejection_and_is_capped() {
    // Envoy's 30 s base and 300 s cap; sweeps every second so the return is seen at once.
    let options = OutlierOptions::default().with_interval(secs(1));
    let rr = RoundRobin::new(ids(10)).unwrap();
    let (d, clock) = detector(options);
    d.evaluate(&rr);
    let s = &rr.servers()[0];
    let lengths: Vec<u64> = (0..12)
        .map(|_| ejection_length(&d, &clock, &rr, s).as_secs())
        .collect();
    assert_eq!(
        lengths,
        [30, 60, 90, 120, 150, 180, 210, 240, 270, 300, 300, 300]
    );
    assert_eq!(d.ejections(s), 12);

    // A cap of its own, and exactly at the ejection time: out at 44.999 s, back at 45 s.
    let options = OutlierOptions::default()
        .with_base_ejection_time(secs(15))
        .with_max_ejection_time(secs(40));
    let (d, clock) = detector(options);
    d.evaluate(&rr);
    let t = &rr.servers()[1];
    for expected in [15, 30, 40, 40] {
        fail(&d, t, 5);
        clock.advance(secs(expected) - Duration::from_millis(1));
        d.evaluate(&rr);
        assert!(d.is_ejected(t), "still out 1 ms before {expected} s");
        clock.advance(Duration::from_millis(1));
        let out = d.evaluate(&rr);
        assert!(!d.is_ejected(t), "back at {expected} s");
        assert_eq!(out.returned, 1);
    }
}

#[test]
fn a_server_returns_after_its_ejection_time_and_is_forgiven_step_by_step() {
    let rr = RoundRobin::new(ids(10)).unwrap();
    let (d, clock) = detector(OutlierOptions::default());
    d.evaluate(&rr);
    let s = &rr.servers()[2];
    fail(&d, s, 5);
    assert!((0..20).all(|_| rr.next().unwrap().id() != s.id()));
    clock.advance(secs(30));
    assert_eq!(d.evaluate(&rr).returned, 1);
    assert!(s.is_healthy());
    assert!((0..10).any(|_| rr.next().unwrap().id() == s.id()));
    // It comes back with a clean run: four failures do not eject it again.
    fail(&d, s, 4);
    assert!(!d.is_ejected(s));
    succeed(&d, s, 1);

    // Ejected three times in a row: the next would last 4 × 30 s. Healthy sweeps, each an
    // interval or more after its return, take one off per sweep (Envoy's backoff).
    let (d, clock) = detector(OutlierOptions::default());
    d.evaluate(&rr);
    let t = &rr.servers()[4];
    for k in 1..=3 {
        fail(&d, t, 5);
        clock.advance(secs(30 * k));
        d.evaluate(&rr);
        assert!(!d.is_ejected(t));
    }
    clock.advance(secs(5));
    d.evaluate(&rr); // less than an interval after its return: no forgiveness
    clock.advance(secs(5));
    d.evaluate(&rr); // 10 s: 3 -> 2
    clock.advance(secs(10));
    d.evaluate(&rr); // 2 -> 1
    fail(&d, t, 5); // the next ejection lasts 2 × 30 s
    clock.advance(secs(59));
    d.evaluate(&rr);
    assert!(d.is_ejected(t));
    clock.advance(secs(1));
    d.evaluate(&rr);
    assert!(!d.is_ejected(t));
}

/// Every server fails every request, round after round, with sweeps between: the ejected
/// servers never exceed the cap, and picks never run out of servers.
fn everyone_fails(hosts: usize, options: OutlierOptions) -> (usize, OutlierStats) {
    let rr = RoundRobin::new(ids(hosts)).unwrap();
    let (d, clock) = detector(options.with_enforcing_failure_percentage(true));
    d.evaluate(&rr);
    let mut most = 0;
    for _round in 0..40 {
        for s in rr.servers() {
            fail(&d, s, 60);
            most = most.max(ejected(rr.servers(), &d));
        }
        assert!(rr.next().is_ok(), "the cap leaves servers to pick");
        clock.advance(secs(10));
        d.evaluate(&rr);
        most = most.max(ejected(rr.servers(), &d));
        assert_eq!(d.stats().ejected, ejected(rr.servers(), &d));
    }
    (most, d.stats())
}

#[test]
fn the_cap_holds_when_every_server_fails() {
    // Envoy's 10 %: one of 10 at a time, and ejections refused beyond it.
    let (most, stats) = everyone_fails(10, OutlierOptions::default());
    assert_eq!(most, 1);
    assert!(stats.overflows > 0);
    assert!(stats.ejections > 1, "servers take turns: {stats:?}");
    // 25 % of 8: two at a time.
    let (most, _) = everyone_fails(8, OutlierOptions::default().with_max_ejection_percent(25));
    assert_eq!(most, 2);
    // 10 % of 4 is less than one server: none, as in Envoy since 1.27 ...
    let (most, stats) = everyone_fails(4, OutlierOptions::default());
    assert_eq!((most, stats.ejections), (0, 0));
    // ... unless one may always go.
    let (most, _) = everyone_fails(4, OutlierOptions::default().with_always_eject_one(true));
    assert_eq!(most, 1);
    // 100 % allows the whole fleet: then picks answer that no server is available.
    let rr = RoundRobin::new(ids(3)).unwrap();
    let (d, _) = detector(OutlierOptions::default().with_max_ejection_percent(100));
    d.evaluate(&rr);
    for s in rr.servers() {
        fail(&d, s, 5);
    }
    assert_eq!(d.stats().ejected, 3);
    assert!(rr.next().is_err());
}

#[test]
fn the_cap_holds_with_reports_and_sweeps_racing_on_threads() {
    // Four threads fail every request on every server while a fifth sweeps, moving the
    // clock on: one server of 10 at most, at every sweep and at the end.
    let rr = RoundRobin::new(ids(10)).unwrap();
    let options = OutlierOptions::default()
        .with_interval(secs(1))
        .with_base_ejection_time(secs(2))
        .with_enforcing_failure_percentage(true)
        .with_failure_percentage_request_volume(10);
    let (d, clock) = detector(options);
    d.evaluate(&rr);
    std::thread::scope(|scope| {
        for t in 0..4 {
            let (d, rr) = (&d, &rr);
            scope.spawn(move || {
                for k in 0..20_000 {
                    let s = &rr.servers()[(k + t) % 10];
                    d.record(s, Outcome::failure(LATENCY));
                }
            });
        }
        let (d, rr, clock) = (&d, &rr, &clock);
        scope.spawn(move || {
            for _ in 0..200 {
                clock.advance(secs(1));
                let out = d.evaluate(rr);
                assert!(out.ejected_now <= 1, "{out:?}");
                assert!(d.stats().ejected <= 1);
            }
        });
    });
    let stats = d.stats();
    assert_eq!(stats.ejected, ejected(rr.servers(), &d));
    assert!(stats.ejected <= 1 && stats.ejections > 0, "{stats:?}");
}

#[test]
fn ring_picks_pass_an_ejected_server_by_and_its_keys_come_back() {
    let ring = Shared::new(HashRing::new(ids(10)).unwrap());
    let (d, clock) = detector(OutlierOptions::default());
    d.evaluate(&ring);
    let keys: Vec<String> = (0..2000).map(|k| format!("user-{k}")).collect();
    let home: HashMap<&str, String> = keys
        .iter()
        .map(|k| (k.as_str(), ring.pick(k).unwrap().id().to_owned()))
        .collect();
    let victim = ring.pick("user-0").unwrap();

    // Its requests fail: five in a row, reported through leases.
    for _ in 0..5 {
        let lease = ring.acquire("user-0").unwrap();
        d.record(&lease, Outcome::failure(LATENCY));
    }
    assert!(d.is_ejected(&victim));
    let mut moved = 0;
    for k in &keys {
        let now = ring.pick(k).unwrap();
        assert_ne!(now.id(), victim.id());
        if home[k.as_str()] == victim.id() {
            moved += 1;
        } else {
            assert_eq!(
                now.id(),
                home[k.as_str()],
                "only the ejected server's keys move"
            );
        }
    }
    assert!(moved > 0);

    clock.advance(secs(30));
    d.evaluate(&ring);
    for k in &keys {
        assert_eq!(
            ring.pick(k).unwrap().id(),
            home[k.as_str()],
            "{k} came back"
        );
    }
}

#[test]
fn round_robin_passes_an_ejected_server_by_until_it_returns() {
    let rr = RoundRobin::new(ids(10)).unwrap();
    let (d, clock) = detector(OutlierOptions::default());
    d.evaluate(&rr);
    let victim = rr.servers()[7].clone();
    fail(&d, &victim, 5);
    let picks: Vec<String> = (0..90)
        .map(|_| rr.next().unwrap().id().to_owned())
        .collect();
    assert!(picks.iter().all(|id| id != victim.id()));
    assert_eq!(rr.available_count(), 9);
    clock.advance(secs(30));
    d.evaluate(&rr);
    let picks: Vec<String> = (0..10)
        .map(|_| rr.next().unwrap().id().to_owned())
        .collect();
    assert!(picks.iter().any(|id| id == victim.id()));
}

#[test]
fn a_sweep_forgets_servers_that_left_and_returns_them() {
    // 10 % of 11 servers: one at a time.
    let shared = Shared::new(RoundRobin::new(ids(11)).unwrap());
    let (d, _) = detector(OutlierOptions::default());
    assert_eq!(d.evaluate(&shared).ejected_now, 0);
    assert_eq!(d.stats().servers, 11);
    let (gone, next) = {
        let snapshot = shared.snapshot();
        (snapshot.servers()[0].clone(), snapshot.servers()[1].clone())
    };
    fail(&d, &gone, 5);
    fail(&d, &next, 5);
    assert!(
        d.is_ejected(&gone) && !d.is_ejected(&next),
        "one of 11 at a time"
    );
    assert_eq!(d.stats().overflows, 1);

    shared.remove(gone.id()).unwrap();
    let out = d.evaluate(&shared);
    assert_eq!((out.returned, out.ejected_now), (1, 0));
    assert!(!d.is_ejected(&gone), "a server that left is not held down");
    assert_eq!(d.stats().servers, 10);
    // The cap counts the fleet as it is now: the other one may go.
    fail(&d, &next, 5);
    assert!(d.is_ejected(&next));

    // Any source of servers will do: a slice, a fleet, a balancer, `dyn` or not.
    let snapshot = shared.snapshot();
    assert_eq!(d.evaluate(snapshot.servers()).ejected_now, 1);
    let sources: [&dyn ServerSource; 2] = [snapshot.fleet(), &*snapshot];
    for source in sources {
        assert_eq!(d.evaluate(source).ejected_now, 1);
    }
    let boxed: Box<dyn Balancer> = Box::new(RoundRobin::new(snapshot.servers().to_vec()).unwrap());
    assert_eq!(d.evaluate(&*boxed).ejected_now, 1);
}

#[test]
fn a_sweeper_thread_learns_the_fleet_and_stops_when_dropped() {
    let fleet = Arc::new(Shared::new(RoundRobin::new(ids(5)).unwrap()));
    let d = Arc::new(OutlierDetector::new(OutlierOptions::default()).unwrap());
    let sweeper: Sweeper = d.spawn(Arc::clone(&fleet)).unwrap();
    drop(sweeper); // joins: its first sweep (at once) is done
    assert_eq!(d.stats().servers, 5);
}

#[test]
fn options_out_of_range_are_errors_not_panics() {
    let bad = [
        (
            "consecutive_failures",
            OutlierOptions::default().with_consecutive_failures(0),
        ),
        (
            "interval",
            OutlierOptions::default().with_interval(Duration::ZERO),
        ),
        (
            "base_ejection_time",
            OutlierOptions::default().with_base_ejection_time(Duration::ZERO),
        ),
        (
            "max_ejection_time",
            OutlierOptions::default().with_max_ejection_time(secs(10)),
        ),
        (
            "max_ejection_percent",
            OutlierOptions::default().with_max_ejection_percent(101),
        ),
        (
            "failure_percentage_threshold",
            OutlierOptions::default().with_failure_percentage_threshold(101),
        ),
        (
            "latency_decay",
            OutlierOptions::default().with_latency_decay(Duration::ZERO),
        ),
    ];
    for (name, options) in bad {
        match OutlierDetector::new(options) {
            Err(Error::InvalidOption { name: n, reason }) => {
                assert_eq!(n, name, "{reason}");
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    // Envoy's rule for the cap: 300 s, or the base if it is longer.
    let long = OutlierOptions::default().with_base_ejection_time(secs(400));
    assert_eq!(long.effective_max_ejection_time(), secs(400));
    assert!(OutlierDetector::new(long).is_ok());
    let o = OutlierOptions::default();
    assert_eq!(
        (
            o.consecutive_failures,
            o.interval,
            o.base_ejection_time,
            o.effective_max_ejection_time(),
            o.max_ejection_percent,
            o.failure_percentage_threshold,
            o.failure_percentage_minimum_hosts,
            o.failure_percentage_request_volume,
            o.enforcing_failure_percentage,
            o.always_eject_one,
        ),
        (
            5,
            secs(10),
            secs(30),
            secs(300),
            10,
            85,
            5,
            50,
            false,
            false
        ),
        "Envoy's defaults"
    );
}

#[test]
#[cfg(feature = "serde")]
fn options_read_strictly_with_durations_as_text() {
    let o: OutlierOptions = serde_json::from_str(
        r#"{"consecutive_failures": 3, "interval": "0.5s", "base_ejection_time": "250ms",
            "max_ejection_time": "60s", "enforcing_failure_percentage": true}"#,
    )
    .unwrap();
    assert_eq!(o.consecutive_failures, 3);
    assert_eq!(o.interval, Duration::from_millis(500));
    assert_eq!(o.base_ejection_time, Duration::from_millis(250));
    assert_eq!(o.max_ejection_time, Some(secs(60)));
    assert!(o.enforcing_failure_percentage);
    assert_eq!(o.max_ejection_percent, 10, "the rest are the defaults");
    let text = serde_json::to_string(&o).unwrap();
    assert!(text.contains(r#""interval":"0.5s""#), "{text}");
    assert_eq!(serde_json::from_str::<OutlierOptions>(&text).unwrap(), o);
    let err = serde_json::from_str::<OutlierOptions>(r#"{"consecutive_5xx": 3}"#).unwrap_err();
    assert!(err.to_string().contains("consecutive_5xx"), "{err}");
    assert!(serde_json::from_str::<OutlierOptions>(r#"{"interval": 10}"#).is_err());
    assert!(serde_json::from_str::<OutlierOptions>(r#"{"interval": "10"}"#).is_err());
    let t: OutlierOptions = toml::from_str("interval = \"2s\"\nmax_ejection_percent = 50").unwrap();
    assert_eq!((t.interval, t.max_ejection_percent), (secs(2), 50));
}

#[test]
fn the_new_types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<OutlierDetector>();
    assert_send_sync::<OutlierDetector<ManualClock>>();
    assert_send_sync::<OutlierOptions>();
    assert_send_sync::<Outcome>();
    assert_send_sync::<Evaluation>();
    assert_send_sync::<OutlierStats>();
    assert_send_sync::<Sweeper>();
}
