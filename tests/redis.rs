//! Fleet-wide load and health through a real Redis: a `redis-server` of the test's own, and a
//! three-node Redis Cluster, serve the same scenarios. Skipped, with a message, only when the
//! binaries are absent (CI installs them).

#![cfg(feature = "redis")]

#[path = "support/redis.rs"]
mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use loadring::redis::{
    Connector, Figures, Keys, PollOptions, Poller, ReportOptions, Reporter, ReporterHandle,
};
use loadring::{Balancer, LeastLoaded, LeastLoadedOptions, LoadSource, Shared, SyncOptions};
use redis::{ConnectionLike, FromRedisValue};
use support::{RedisCluster, RedisServer};

const MS: Duration = Duration::from_millis(1);
/// Every connection attempt, write and read.
const TIMEOUT: Duration = Duration::from_millis(300);
/// Reporters write every 50 ms, with a time-to-live of 1 s.
const REPORT_EVERY: Duration = Duration::from_millis(50);
const TTL: Duration = Duration::from_secs(1);
/// Pollers read every 100 ms.
const POLL_EVERY: Duration = Duration::from_millis(100);
/// How long any wait for the fleet may take before the test fails.
const WAIT: Duration = Duration::from_secs(10);

/// A single Redis or a cluster, to run each scenario against.
enum Backend {
    Single(RedisServer),
    Cluster(RedisCluster),
}

impl Backend {
    fn connector(&self) -> Connector {
        match self {
            Backend::Single(s) => Connector::single(&s.url()),
            Backend::Cluster(c) => Connector::cluster(c.urls()),
        }
        .unwrap()
        .with_timeout(TIMEOUT)
        .with_backoff(MS * 20, MS * 200)
    }

    /// Runs one command, as another client would.
    fn raw(&self, cmd: &redis::Cmd) {
        let result = match self {
            Backend::Single(s) => s.query(cmd),
            Backend::Cluster(c) => redis::cluster::ClusterClient::new(c.urls())
                .and_then(|client| client.get_connection())
                .and_then(|mut conn| conn.req_command(cmd)),
        };
        result.expect("the command runs");
    }

    fn freeze(&self, frozen: bool) {
        match self {
            Backend::Single(s) => s.freeze(frozen),
            Backend::Cluster(c) => c.freeze(frozen),
        }
    }

    /// Kills Redis (every node) and starts it again, empty, on the same ports.
    fn restart(&mut self) {
        match self {
            Backend::Single(s) => s.restart(),
            Backend::Cluster(c) => c.restart(),
        }
    }
}

/// Least-loaded by reported loads over `ids`, each balancer with cells of its own.
fn fleet(ids: &[&str], seed: u64) -> Arc<Shared<LeastLoaded>> {
    let options = LeastLoadedOptions::default()
        .with_load_source(LoadSource::Reported)
        .with_seed(seed);
    Arc::new(Shared::new(
        LeastLoaded::with_options(ids.iter().copied(), options).unwrap(),
    ))
}

fn report_options() -> ReportOptions {
    ReportOptions::default()
        .with_interval(REPORT_EVERY)
        .with_ttl(TTL)
}

fn reporter(backend: &Backend, keys: &Keys, id: &str) -> Reporter {
    Reporter::new(backend.connector(), keys.clone(), id, report_options()).unwrap()
}

/// A reporter on a thread of its own, publishing a fixed load.
fn publish(backend: &Backend, keys: &Keys, id: &str, load: f64) -> ReporterHandle {
    reporter(backend, keys, id)
        .spawn(move || Figures::new(1, load))
        .unwrap()
}

fn poll_options() -> PollOptions {
    PollOptions::default()
        .with_interval(POLL_EVERY)
        .with_grace(MS * 300)
        .with_stale_after(Duration::from_secs(1))
}

/// Waits until `done` holds, for at most [`WAIT`]; returns the time it took.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < WAIT, "timed out waiting until {what}");
        thread::sleep(MS * 5);
    }
    started.elapsed()
}

/// Each server's load, by id.
fn loads(fleet: &Shared<LeastLoaded>) -> HashMap<String, f64> {
    let now = fleet.snapshot();
    now.servers()
        .iter()
        .map(|s| (s.id().to_owned(), s.load()))
        .collect()
}

fn expect_loads(fleet: &Shared<LeastLoaded>, want: &[(&str, f64)]) -> bool {
    let have = loads(fleet);
    want.iter().all(|(id, load)| have.get(*id) == Some(load))
}

/// Where `n` new requests go, by id.
fn route(fleet: &Shared<LeastLoaded>, n: usize) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for _ in 0..n {
        let lease = fleet.acquire_next().expect("a server");
        *counts.entry(lease.id().to_owned()).or_default() += 1;
    }
    counts
}

fn single() -> Option<Backend> {
    RedisServer::start().map(Backend::Single)
}

// The scenarios, each against any backend, under a service name of its own.

/// Reporters publish; two independent balancers converge on the same view and route by it.
fn converge_and_route(backend: &Backend, service: &str) {
    let keys = Keys::new(service).unwrap();
    let published = [("a", 1.0), ("b", 4.0), ("c", 9.0)];
    let _reporters: Vec<ReporterHandle> = published
        .iter()
        .map(|&(id, load)| publish(backend, &keys, id, load))
        .collect();
    let fleets = [fleet(&["a", "b", "c"], 1), fleet(&["a", "b", "c"], 2)];

    // One poll after the figures are in Redis, both views are the published one.
    let steppers: Vec<Poller> = fleets
        .iter()
        .map(|f| poller(backend, &keys, Arc::clone(f), poll_options()))
        .collect();
    wait_until("every reporter wrote", || {
        steppers[0].poll().is_ok_and(|r| r.updated == 3)
    });
    let report = steppers[1].poll().unwrap();
    assert_eq!((report.updated, report.missing, report.expired), (3, 0, 0));
    assert!(report.round_trip.is_some());
    for f in &fleets {
        assert!(expect_loads(f, &published), "{:?}", loads(f));
    }
    drop(steppers);

    // Pollers on threads of their own converge too, within two polls of a change.
    let fresh = [fleet(&["a", "b", "c"], 3), fleet(&["a", "b", "c"], 4)];
    let pollers: Vec<_> = fresh
        .iter()
        .map(|f| {
            poller(backend, &keys, Arc::clone(f), poll_options())
                .spawn()
                .unwrap()
        })
        .collect();
    let took = wait_until("both pollers converged", || {
        fresh.iter().all(|f| expect_loads(f, &published))
    });
    let polls: Vec<u64> = pollers.iter().map(|p| p.poller().stats().polls).collect();
    eprintln!("{service}: threaded pollers converged in {took:?} ({polls:?} polls)");

    for f in &fresh {
        let counts = route(f, 3000);
        let (a, b, c) = (counts.get("a"), counts.get("b"), counts.get("c"));
        eprintln!("{service}: 3000 requests went {counts:?}");
        let (a, b, c) = (*a.unwrap_or(&0), *b.unwrap_or(&0), *c.unwrap_or(&0));
        assert!(a > b && b > c, "the least loaded gets the most: {counts:?}");
    }
}

/// A server whose reporter stops turns unhealthy after its time-to-live, and returns when
/// the reporter resumes.
fn expiry_and_return(backend: &Backend, service: &str) {
    let keys = Keys::new(service).unwrap();
    let _others = [
        publish(backend, &keys, "a", 5.0),
        publish(backend, &keys, "c", 5.0),
    ];
    let b = reporter(backend, &keys, "b"); // driven by hand: it stops when we stop calling
    let fleet = fleet(&["a", "b", "c"], 7);
    let poller = poller(backend, &keys, Arc::clone(&fleet), poll_options())
        .spawn()
        .unwrap();

    let last_write = Instant::now();
    b.report(Figures::new(0, 1.0).unwrap()).unwrap();
    wait_until("b's figures arrived", || {
        poller.poller().figures("b").is_some()
    });
    assert!(fleet.snapshot().is_healthy("b").unwrap());

    wait_until("b turned unhealthy", || {
        !fleet.snapshot().is_healthy("b").unwrap()
    });
    let after = last_write.elapsed();
    assert!(after >= TTL, "not before its figures lapsed: {after:?}");
    eprintln!(
        "{service}: a silent reporter's server turned unhealthy {after:?} after its last write (ttl {TTL:?}, grace 300 ms)"
    );
    assert_eq!(poller.poller().stats().expired, 1);
    assert!(
        !route(&fleet, 200).contains_key("b"),
        "no request goes to b"
    );

    let resumed = Instant::now();
    b.report(Figures::new(0, 1.0).unwrap()).unwrap();
    wait_until("b returned", || fleet.snapshot().is_healthy("b").unwrap());
    eprintln!(
        "{service}: it returned {:?} after its reporter resumed",
        resumed.elapsed()
    );
    let counts = route(&fleet, 300);
    assert!(
        counts.get("b").copied().unwrap_or(0) > 100,
        "b, least loaded, is back: {counts:?}"
    );
    drop(poller);
    assert!(fleet.snapshot().is_healthy("b").unwrap());
}

/// The member set drives the fleet: reporters join it, a reporter that stops cleanly
/// leaves it, and joins again when it starts again.
fn members_drive_the_fleet(backend: &Backend, service: &str) {
    let keys = Keys::new(service).unwrap();
    let (fleet, poller) = fleet_with_members(backend, &keys);
    let poller = poller.spawn().unwrap();
    let mut reporters: HashMap<&str, ReporterHandle> = [("x", 3.0), ("y", 1.0), ("z", 2.0)]
        .into_iter()
        .map(|(id, load)| (id, publish(backend, &keys, id, load)))
        .collect();
    let took = wait_until("three servers joined with their loads", || {
        expect_loads(&fleet, &[("x", 3.0), ("y", 1.0), ("z", 2.0)])
    });
    eprintln!("{service}: three reporters joined the fleet in {took:?}");
    assert_eq!(fleet.snapshot().len(), 3);
    let counts = route(&fleet, 300);
    assert!(
        counts["y"] > counts["z"],
        "the least loaded gets the most: {counts:?}"
    );

    reporters.remove("y").unwrap().stop().unwrap();
    let took = wait_until("y left", || fleet.snapshot().len() == 2);
    eprintln!("{service}: a reporter that stopped left the fleet in {took:?}");
    assert!(fleet.snapshot().position("y").is_none());
    assert_eq!(fleet.next().unwrap().id(), "z", "of two, the less loaded");

    reporters.insert("y", publish(backend, &keys, "y", 1.0));
    wait_until("y joined again", || fleet.snapshot().len() == 3);
    wait_until("with its load", || expect_loads(&fleet, &[("y", 1.0)]));
    assert_eq!(poller.poller().stats().expired, 0);
}

/// With the member set driving the fleet, the weight in a server's figures is its weight:
/// a newcomer joins with it, a change reaches the balancer, and weight 0 drains the server.
fn members_carry_weights(backend: &Backend, service: &str) {
    let keys = Keys::new(service).unwrap();
    let (fleet, poller) = fleet_with_members(backend, &keys);
    let _poller = poller.spawn().unwrap();
    let weight = Arc::new(AtomicU32::new(3));
    let asked = Arc::clone(&weight);
    let _w = reporter(backend, &keys, "w")
        .spawn(move || Ok(Figures::new(1, 1.0)?.with_weight(asked.load(Ordering::Relaxed))))
        .unwrap();
    let _v = publish(backend, &keys, "v", 1.0);
    let server = |id: &str| fleet.snapshot().server(id).cloned();
    let took = wait_until("w joined with weight 3, v with 1", || {
        server("w").is_some_and(|s| s.weight() == 3) && server("v").is_some_and(|s| s.weight() == 1)
    });
    eprintln!("{service}: joined with their weights in {took:?}");

    weight.store(0, Ordering::Relaxed);
    let took = wait_until("w drains", || server("w").is_some_and(|s| s.is_draining()));
    eprintln!("{service}: weight 0 drained the server in {took:?}");
    let w = server("w").unwrap();
    assert_eq!(w.weight(), 3, "a drain keeps the weight");
    assert!(w.is_healthy(), "draining, not down");
    for _ in 0..50 {
        assert_eq!(
            fleet.acquire_next().unwrap().id(),
            "v",
            "a draining server takes no new request"
        );
    }

    // A drain by hand on a server that names no weight, and a drain by weight 0, both last
    // through the sync that a newcomer brings.
    server("v").unwrap().set_draining(true);
    let _u = publish(backend, &keys, "u", 1.0);
    wait_until("u joined", || server("u").is_some());
    assert!(server("w").unwrap().is_draining(), "w still reports 0");
    assert!(
        server("v").unwrap().is_draining(),
        "v's drain by hand holds"
    );
    assert_eq!(
        fleet.acquire_next().unwrap().id(),
        "u",
        "the one server not draining"
    );

    weight.store(2, Ordering::Relaxed);
    wait_until("w is back with weight 2", || {
        server("w").is_some_and(|s| !s.is_draining() && s.weight() == 2)
    });
    let v = server("v").unwrap();
    assert!(
        v.is_draining(),
        "the sync that brought w back kept v's drain"
    );
    assert_eq!(v.weight(), 1, "v names no weight and keeps its own");
}

/// Values that are not figures are ignored and counted; a server without any is marked.
fn garbage_is_counted(backend: &Backend, service: &str) {
    let keys = Keys::new(service).unwrap();
    reporter(backend, &keys, "a")
        .report(Figures::new(2, 2.0).unwrap())
        .unwrap();
    let set = |id: &str, value: &[u8]| {
        backend.raw(
            redis::cmd("SET")
                .arg(keys.server(id))
                .arg(value)
                .arg("EX")
                .arg(60),
        );
    };
    set("b", b"garbage");
    set("c", b"in_flight=1 load=NaN latency_us=0 at_ms=1");
    set("e", b"\xff\xfe not text");
    let fleet = fleet(&["a", "b", "c", "d", "e"], 11);
    fleet.report_load("b", 7.0).unwrap();
    let options = poll_options().with_grace(Duration::ZERO);
    let poller = poller(backend, &keys, Arc::clone(&fleet), options);

    let report = poller.poll().unwrap();
    assert_eq!(report.parse_errors, 3);
    assert_eq!((report.updated, report.missing, report.expired), (1, 1, 1));
    let now = fleet.snapshot();
    assert_eq!(now.servers()[0].load(), 2.0);
    assert_eq!(now.servers()[1].load(), 7.0, "garbage changes nothing");
    assert!(now.is_healthy("b").unwrap() && now.is_healthy("c").unwrap());
    assert!(!now.is_healthy("d").unwrap(), "no figures at all");
    assert!(poller.figures("b").is_none());
    poller.poll().unwrap();
    assert_eq!(poller.stats().parse_errors, 6, "counted at each poll");

    // A member-driven poller counts member ids that are not text, and lets none join.
    backend.raw(
        redis::cmd("ZADD")
            .arg(keys.members())
            .arg("+inf")
            .arg(b"\xff".as_slice()),
    );
    let members = fleet_with_members(backend, &keys);
    let report = members.1.poll().unwrap();
    assert_eq!(report.parse_errors, 1);
    assert_eq!(members.0.snapshot().len(), 1, "a alone joined");
}

/// What a poll reads is bounded, whatever else writes to the keys: a 10 MB value and a hash
/// under two servers' keys are parse errors for those two alone; a member set over its cap
/// (10 000 entries), with an id over its cap (1024 bytes), is read up to the caps.
fn oversized_is_bounded(backend: &Backend, service: &str) {
    let keys = Keys::new(service).unwrap();
    for (id, load) in [("a", 1.0), ("d", 4.0)] {
        reporter(backend, &keys, id)
            .report(Figures::new(1, load).unwrap())
            .unwrap();
    }
    // Figures, then 10 MB more: only the cap refuses them.
    let mut huge = Figures::new(1, 2.0).unwrap().to_string().into_bytes();
    huge.extend_from_slice(b" pad=");
    huge.resize(10 << 20, b'x');
    backend.raw(redis::cmd("SET").arg(keys.server("b")).arg(huge));
    backend.raw(redis::cmd("HSET").arg(keys.server("c")).arg("load").arg(3));
    let fleet = fleet(&["a", "b", "c", "d"], 15);
    fleet.report_load("b", 7.0).unwrap();
    let options = poll_options().with_grace(Duration::ZERO);
    let poller = poller(backend, &keys, Arc::clone(&fleet), options);

    let before = sent_by_redis(backend);
    let report = poller.poll().unwrap();
    let sent = sent_by_redis(backend) - before;
    assert_eq!(report.parse_errors, 2, "the long value and the hash");
    assert_eq!((report.updated, report.missing, report.expired), (2, 0, 0));
    assert!(expect_loads(&fleet, &[("a", 1.0), ("b", 7.0), ("d", 4.0)]));
    assert!(poller.figures("b").is_none() && poller.figures("c").is_none());
    assert!(fleet.snapshot().is_healthy("c").unwrap());
    assert!(sent < 1 << 20, "Redis sent {sent} bytes for a poll");
    eprintln!("{service}: a poll over a 10 MB value took {sent} bytes from Redis");

    // 10 001 entries that never lapse, after an id one byte too long.
    let keys = Keys::new(&format!("{service}-members")).unwrap();
    let lapse = SystemTime::now().duration_since(UNIX_EPOCH).unwrap() + Duration::from_secs(60);
    let mut join = redis::cmd("ZADD");
    join.arg(keys.members())
        .arg(lapse.as_millis() as u64)
        .arg("x".repeat(1025));
    for i in 0..=10_000 {
        join.arg("+inf").arg(format!("m{i:05}"));
    }
    backend.raw(&join);
    let (fleet, poller) = fleet_with_members(backend, &keys);
    let report = poller.poll().unwrap();
    assert_eq!(
        report.parse_errors, 2,
        "the long id, and the set over its cap"
    );
    assert_eq!(report.joined, 9_999, "the cap less the long id");
    let now = fleet.snapshot();
    assert_eq!(now.len(), 9_999);
    assert!(now.position("m09998").is_some() && now.position("m09999").is_none());

    // A member set of another type: counted, and the fleet stays as it is.
    backend.raw(redis::cmd("SET").arg(keys.members()).arg("not a set"));
    let report = poller.poll().unwrap();
    assert_eq!((report.parse_errors, report.left), (1, 0));
    assert_eq!(fleet.snapshot().len(), 9_999);
}

/// The bytes Redis (every node of it) has sent its clients so far.
fn sent_by_redis(backend: &Backend) -> u64 {
    let nodes = match backend {
        Backend::Single(s) => std::slice::from_ref(s),
        Backend::Cluster(c) => c.nodes(),
    };
    let sent = |node: &RedisServer| {
        let info = node.query(redis::cmd("INFO").arg("stats")).unwrap();
        let info = String::from_redis_value(info).unwrap();
        info.lines()
            .find_map(|line| line.strip_prefix("total_net_output_bytes:"))
            .and_then(|n| n.trim().parse::<u64>().ok())
            .expect("INFO stats gives total_net_output_bytes")
    };
    nodes.iter().map(sent).sum()
}

/// A poller of `keys` that feeds `fleet`.
fn poller(
    backend: &Backend,
    keys: &Keys,
    fleet: Arc<Shared<LeastLoaded>>,
    options: PollOptions,
) -> Poller {
    Poller::new(backend.connector(), keys.clone(), fleet, options).unwrap()
}

fn fleet_with_members(backend: &Backend, keys: &Keys) -> (Arc<Shared<LeastLoaded>>, Poller) {
    let fleet = fleet(&[], 12);
    let poller = Poller::with_members(
        backend.connector(),
        keys.clone(),
        Arc::clone(&fleet),
        poll_options(),
        SyncOptions::default(),
    )
    .unwrap();
    (fleet, poller)
}

/// The longest of `n` picks.
fn slowest_pick(fleet: &Shared<LeastLoaded>, n: usize) -> Duration {
    (0..n)
        .map(|_| {
            let started = Instant::now();
            let lease = fleet.acquire_next().expect("a server");
            let took = started.elapsed();
            drop(lease);
            took
        })
        .max()
        .unwrap_or_default()
}

/// Redis hangs, dies and comes back: picks go on, on the last figures and then on the
/// fallback, and figures flow again with nothing restarted by hand.
fn redis_fails_mid_run(backend: &mut Backend, service: &str) {
    let keys = Keys::new(service).unwrap();
    let published = [("a", 1.0), ("b", 4.0), ("c", 9.0)];
    let reporters: Vec<ReporterHandle> = published
        .iter()
        .map(|&(id, load)| publish(backend, &keys, id, load))
        .collect();
    let fleet = fleet(&["a", "b", "c"], 13);
    // A grace long enough for the reporters to write again after Redis restarts empty, and
    // a staleness limit past a failed poll of a hung cluster (its client tries twice).
    let options = poll_options()
        .with_grace(Duration::from_secs(2))
        .with_stale_after(Duration::from_secs(2));
    let handle = poller(backend, &keys, Arc::clone(&fleet), options)
        .spawn()
        .unwrap();
    let poller = handle.poller();
    wait_until("the figures arrived", || expect_loads(&fleet, &published));
    let up = slowest_pick(&fleet, 20_000);

    // Redis hangs: connections open, nothing answers; the poller waits out its timeouts
    // (on a cluster, a few: its client tries again) while picks go on.
    let failures = poller.stats().link.failures;
    backend.freeze(true);
    let frozen_at = Instant::now();
    let mut hung = Duration::ZERO;
    let mut picks = 0;
    while frozen_at.elapsed() < Duration::from_millis(700)
        || poller.stats().link.failures == failures
    {
        assert!(
            frozen_at.elapsed() < WAIT,
            "the poller never gave up on a hung Redis"
        );
        hung = hung.max(slowest_pick(&fleet, 1000));
        picks += 1000;
    }
    let gave_up = frozen_at.elapsed();
    assert!(expect_loads(&fleet, &published), "the last figures hold");
    let counts = route(&fleet, 3000);
    assert!(
        counts["a"] > counts["b"],
        "still by the last figures: {counts:?}"
    );
    // A pick that waited on the poller or on Redis would take a whole timeout.
    assert!(hung < TIMEOUT, "the slowest of {picks} picks took {hung:?}");
    eprintln!(
        "{service}: slowest of 20000 picks with Redis up {up:?}, of {picks} with Redis hung {hung:?} (the poller's first failure came {gave_up:?} into the hang)"
    );

    let fell_back = wait_until("the fallback", || poller.stats().in_fallback);
    let since_freeze = frozen_at.elapsed();
    assert!(expect_loads(&fleet, &[("a", 0.0), ("b", 0.0), ("c", 0.0)]));
    assert!(fleet.snapshot().servers().iter().all(|s| s.is_healthy()));
    let counts = route(&fleet, 3000);
    assert!(
        counts.values().all(|&n| n > 600),
        "equal loads spread evenly: {counts:?}"
    );
    eprintln!(
        "{service}: fallback {since_freeze:?} after Redis hung (staleness limit 2 s, {fell_back:?} of waiting); 3000 requests then went {counts:?}"
    );

    backend.freeze(false);
    let restarted_at = Instant::now();
    backend.restart();
    let back = wait_until("the figures flowed again", || {
        !poller.stats().in_fallback && expect_loads(&fleet, &published)
    });
    let stats = poller.stats();
    assert!(stats.link.reconnects >= 1, "{stats:?}");
    assert_eq!(
        stats.expired, 0,
        "the grace covered the reporters' return: {stats:?}"
    );
    for r in &reporters {
        assert!(r.reporter().stats().reconnects >= 1);
    }
    eprintln!(
        "{service}: figures flowed again {:?} after the restart began ({back:?} after it answered); poller: {} reconnects, last round trip {:?}",
        restarted_at.elapsed(),
        stats.link.reconnects,
        stats.link.round_trip
    );
    let counts = route(&fleet, 3000);
    assert!(
        counts["a"] > counts["b"],
        "by the figures again: {counts:?}"
    );
}

#[test]
fn reporters_publish_and_balancers_converge_and_route() {
    let Some(backend) = single() else { return };
    converge_and_route(&backend, "converge");
}

#[test]
fn a_silent_server_expires_and_returns() {
    let Some(backend) = single() else { return };
    expiry_and_return(&backend, "expiry");
}

#[test]
fn the_member_set_drives_the_fleet() {
    let Some(backend) = single() else { return };
    members_drive_the_fleet(&backend, "members");
}

#[test]
fn the_figures_weight_drives_the_weight_and_drain() {
    let Some(backend) = single() else { return };
    members_carry_weights(&backend, "weights");
}

#[test]
fn garbage_values_are_ignored_and_counted() {
    let Some(backend) = single() else { return };
    garbage_is_counted(&backend, "garbage");
}

#[test]
fn what_a_poll_reads_is_bounded() {
    let Some(backend) = single() else { return };
    oversized_is_bounded(&backend, "bounded");
}

#[test]
fn redis_hung_killed_and_restarted_mid_run() {
    let Some(mut backend) = single() else { return };
    redis_fails_mid_run(&mut backend, "faults");
}

#[test]
fn a_dropped_reporter_leaves_at_once() {
    let Some(backend) = single() else { return };
    let keys = Keys::new("leave").unwrap();
    let fleet = fleet(&["a"], 14);
    let poller = poller(
        &backend,
        &keys,
        Arc::clone(&fleet),
        poll_options().with_grace(Duration::ZERO),
    );
    let handle = publish(&backend, &keys, "a", 1.0);
    wait_until("a published", || {
        poller.poll().is_ok_and(|r| r.updated == 1)
    });
    drop(handle);
    let report = poller.poll().unwrap();
    assert_eq!(
        (report.missing, report.expired),
        (1, 1),
        "gone before its ttl"
    );
    assert!(!fleet.snapshot().is_healthy("a").unwrap());
}

#[test]
fn a_redis_cluster_serves_the_same_scenarios() {
    let Some(cluster) = RedisCluster::start() else {
        return;
    };
    let mut backend = Backend::Cluster(cluster);
    converge_and_route(&backend, "cluster-converge");
    expiry_and_return(&backend, "cluster-expiry");
    members_drive_the_fleet(&backend, "cluster-members");
    members_carry_weights(&backend, "cluster-weights");
    garbage_is_counted(&backend, "cluster-garbage");
    oversized_is_bounded(&backend, "cluster-bounded");
    redis_fails_mid_run(&mut backend, "cluster-faults");
}
