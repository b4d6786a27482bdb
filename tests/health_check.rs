//! Active health checks: rise and fall counted exactly, probes that hang timed out without
//! holding up a round or piling up threads, membership followed, picks kept off servers the
//! checker marks, the spawned thread stopped promptly, and real TCP and HTTP probes against
//! loopback listeners.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use loadring::health::{
    CheckOptions, CheckStatus, Checker, CheckerHandle, ManualClock, ProbeOutcome, RoundReport,
    TcpProbe,
};
use loadring::{
    AnyBalancer, Balancer, BalancerExt, Error, HashRing, RoundRobin, Server, Shared, Strategy,
    Update,
};

/// Each server's next answer, set by the test; servers not listed pass.
#[derive(Clone, Default)]
struct Script(Arc<Mutex<HashMap<String, bool>>>);

impl Script {
    fn set(&self, id: &str, passes: bool) {
        self.0.lock().unwrap().insert(id.to_owned(), passes);
    }

    fn probe(&self) -> impl Fn(&Server) -> bool + Send + Sync + 'static {
        let answers = Arc::clone(&self.0);
        move |s: &Server| answers.lock().unwrap().get(s.id()).copied().unwrap_or(true)
    }
}

/// A gate that probes wait at until the test opens it (five seconds at most, so that a
/// failing test cannot hang), counting the probes inside.
#[derive(Clone, Default)]
struct Gate {
    open: Arc<(Mutex<bool>, Condvar)>,
    inside: Arc<AtomicUsize>,
    most_inside: Arc<AtomicUsize>,
}

impl Gate {
    /// A probe that waits at the gate, then passes.
    fn probe(&self) -> impl Fn(&Server) -> bool + Send + Sync + 'static {
        let gate = self.clone();
        move |_: &Server| {
            gate.wait();
            true
        }
    }

    fn wait(&self) {
        let now = self.inside.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_inside.fetch_max(now, Ordering::SeqCst);
        let (lock, cvar) = &*self.open;
        let end = Instant::now() + Duration::from_secs(5);
        let mut open = lock.lock().unwrap();
        while !*open && Instant::now() < end {
            open = cvar
                .wait_timeout(open, Duration::from_millis(50))
                .unwrap()
                .0;
        }
        self.inside.fetch_sub(1, Ordering::SeqCst);
    }

    fn open(&self) {
        *self.open.0.lock().unwrap() = true;
        self.open.1.notify_all();
    }
}

/// Waits (polling, two seconds at most) until `done` holds.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(2);
    while !done() {
        assert!(Instant::now() < end, "timed out waiting until {what}");
        thread::sleep(Duration::from_millis(2));
    }
}

fn options(rise: u32, fall: u32) -> CheckOptions {
    CheckOptions::default().with_rise(rise).with_fall(fall)
}

fn status(checker: &Checker, id: &str) -> CheckStatus {
    checker
        .status(id)
        .unwrap_or_else(|| panic!("no status for {id}"))
}

fn healthy(shared: &Shared<RoundRobin>, id: &str) -> bool {
    shared.snapshot().is_healthy(id).unwrap()
}

#[test]
fn exactly_fall_failures_mark_down_and_rise_passes_mark_up() {
    let shared = Shared::new(RoundRobin::new(["a", "b"]).unwrap());
    let script = Script::default();
    let clock = ManualClock::new();
    let checker = Checker::with_options(script.probe(), options(2, 3))
        .unwrap()
        .with_clock(clock.clone());
    let round = |passes: bool| -> RoundReport {
        clock.advance(Duration::from_secs(5));
        script.set("b", passes);
        checker.run_round(&shared)
    };

    // fall − 1 failures leave b up; the fall-th marks it down.
    for failures in 1..=2 {
        let report = round(false);
        assert_eq!((report.failed, report.marked_down), (1, 0));
        assert!(healthy(&shared, "b"), "down after only {failures} failures");
    }
    let report = round(false);
    assert_eq!(
        (report.passed, report.failed, report.marked_down),
        (1, 1, 1)
    );
    assert!(!healthy(&shared, "b"));
    assert!(healthy(&shared, "a"));
    let s = status(&checker, "b");
    assert!(s.failing);
    assert_eq!((s.successes, s.failures), (0, 3));
    assert_eq!(
        s.last,
        Some(ProbeOutcome::Failed("the probe answered false".into()))
    );
    assert_eq!(
        s.last_at,
        Some(Duration::from_secs(15)),
        "times come from the clock"
    );
    assert_eq!(checker.failing(), ["b"]);

    // rise − 1 passes leave it down; the rise-th brings it back.
    let report = round(true);
    assert_eq!(report.marked_up, 0);
    assert!(!healthy(&shared, "b"));
    let report = round(true);
    assert_eq!(report.marked_up, 1);
    assert!(healthy(&shared, "b"));
    let s = status(&checker, "b");
    assert_eq!((s.failing, s.successes, s.failures), (false, 2, 0));
    assert_eq!(s.last, Some(ProbeOutcome::Passed));
    assert!(checker.failing().is_empty());
}

#[test]
fn interleaved_results_reset_the_streaks() {
    let shared = Shared::new(RoundRobin::new(["a", "b"]).unwrap());
    let script = Script::default();
    let checker = Checker::with_options(script.probe(), options(2, 3))
        .unwrap()
        .with_clock(ManualClock::new());
    let run = |answers: &str| {
        for c in answers.chars() {
            script.set("b", c == 'P');
            checker.run_round(&shared);
        }
    };
    run("FFPFF");
    assert!(healthy(&shared, "b"), "a pass broke the failures' streak");
    assert_eq!(status(&checker, "b").failures, 2);
    run("F");
    assert!(!healthy(&shared, "b"));
    run("PFP");
    assert!(!healthy(&shared, "b"), "a failure broke the passes' streak");
    assert_eq!(status(&checker, "b").successes, 1);
    run("P");
    assert!(healthy(&shared, "b"));
}

#[test]
fn the_checkers_mark_is_apart_from_the_hand_set_one() {
    let shared = Shared::new(RoundRobin::new(["a", "b"]).unwrap());
    let script = Script::default();
    let checker = Checker::with_options(script.probe(), options(1, 1)).unwrap();
    script.set("b", false);
    checker.run_round(&shared);
    shared.set_healthy("b", true).unwrap(); // clears the hand-set mark only
    assert!(!healthy(&shared, "b"));
    shared.set_healthy("b", false).unwrap();
    script.set("b", true);
    checker.run_round(&shared);
    assert!(
        !healthy(&shared, "b"),
        "the checker does not clear a mark set by hand"
    );
    shared.set_healthy("b", true).unwrap();
    assert!(healthy(&shared, "b"));
}

#[test]
fn a_hung_probe_times_out_as_a_failure_without_holding_up_the_round() {
    let shared = Shared::new(RoundRobin::new(["a", "b", "c"]).unwrap());
    let gate = Gate::default();
    let calls_on_b = Arc::new(AtomicUsize::new(0));
    let probe = {
        let (gate, calls_on_b) = (gate.clone(), Arc::clone(&calls_on_b));
        move |s: &Server| {
            if s.id() == "b" {
                calls_on_b.fetch_add(1, Ordering::SeqCst);
                gate.wait();
            }
            true
        }
    };
    let timeout = Duration::from_millis(100);
    let checker = Checker::with_options(probe, options(1, 2).with_timeout(timeout)).unwrap();

    let start = Instant::now();
    let report = checker.run_round(&shared);
    let took = start.elapsed();
    assert!(
        took >= timeout,
        "the round waited for the timeout: {took:?}"
    );
    assert!(
        took < timeout + Duration::from_millis(400),
        "round took {took:?}"
    );
    assert_eq!((report.passed, report.failed, report.timed_out), (2, 1, 1));
    assert_eq!(status(&checker, "b").last, Some(ProbeOutcome::TimedOut));
    assert_eq!(status(&checker, "b").failures, 1);

    // Still hung: counted as timed out again at once, not probed a second time.
    let start = Instant::now();
    let report = checker.run_round(&shared);
    assert!(start.elapsed() < timeout, "took {:?}", start.elapsed());
    assert_eq!(
        (report.passed, report.timed_out, report.marked_down),
        (2, 1, 1)
    );
    assert!(!healthy(&shared, "b"));
    assert_eq!(calls_on_b.load(Ordering::SeqCst), 1);
    assert_eq!(checker.probes_running(), 1, "the late probe's thread");

    // Once it returns, b is probed again, and passes.
    gate.open();
    wait_until("the late probe returned", || checker.probes_running() == 0);
    let report = checker.run_round(&shared);
    assert_eq!((report.passed, report.marked_up), (3, 1));
    assert_eq!(calls_on_b.load(Ordering::SeqCst), 2);
    assert!(healthy(&shared, "b"));
}

#[test]
fn late_probes_never_hold_more_threads_than_the_concurrency() {
    let ids = ["a", "b", "c", "d", "e", "f"];
    let shared = Shared::new(RoundRobin::new(ids).unwrap());
    let gate = Gate::default();
    let probe = gate.probe();
    let options = options(1, 1)
        .with_timeout(Duration::from_millis(30))
        .with_concurrency(2);
    let checker = Checker::with_options(probe, options).unwrap();

    let report = checker.run_round(&shared);
    assert_eq!((report.timed_out, report.skipped), (2, 4), "{report:?}");
    for _ in 0..4 {
        let start = Instant::now();
        let report = checker.run_round(&shared);
        assert!(
            start.elapsed() < Duration::from_millis(30),
            "no wait on late probes"
        );
        assert_eq!((report.timed_out, report.skipped), (2, 4), "{report:?}");
        assert!(checker.probes_running() <= 2);
    }
    assert_eq!(
        gate.most_inside.load(Ordering::SeqCst),
        2,
        "threads of late probes"
    );
    let skipped: Vec<_> = ids.iter().filter(|id| healthy(&shared, id)).collect();
    assert_eq!(skipped.len(), 4, "skipped servers keep their state");

    gate.open();
    wait_until("the late probes returned", || checker.probes_running() == 0);
    let report = checker.run_round(&shared);
    assert_eq!((report.passed, report.skipped, report.marked_up), (6, 0, 2));
    assert_eq!(gate.most_inside.load(Ordering::SeqCst), 2);
}

#[test]
fn servers_added_and_removed_are_followed() {
    let shared = Shared::new(RoundRobin::new(["a", "b"]).unwrap());
    let probed = Arc::new(Mutex::new(Vec::<String>::new()));
    let script = Script::default();
    let probe = {
        let (probed, answer) = (Arc::clone(&probed), script.probe());
        move |s: &Server| {
            probed.lock().unwrap().push(s.id().to_owned());
            answer(s)
        }
    };
    let checker = Checker::with_options(probe, options(1, 1)).unwrap();
    let round = || {
        probed.lock().unwrap().clear();
        checker.run_round(&shared);
        let mut ids = probed.lock().unwrap().clone();
        ids.sort();
        ids
    };

    script.set("b", false);
    assert_eq!(round(), ["a", "b"]);
    assert!(!healthy(&shared, "b"));

    shared.add("c").unwrap();
    assert_eq!(round(), ["a", "b", "c"]);
    assert_eq!(status(&checker, "c").successes, 1);

    // A server that leaves is forgotten, and the mark the checker set on it is cleared.
    let b = shared.remove("b").unwrap();
    assert_eq!(round(), ["a", "c"]);
    assert_eq!(checker.status("b"), None);
    assert!(b.is_healthy());

    // Back with new cells, it starts afresh.
    script.set("b", true);
    shared.add("b").unwrap();
    assert_eq!(round(), ["a", "b", "c"]);
    assert_eq!(status(&checker, "b").successes, 1);
    assert!(healthy(&shared, "b"));

    // Replaced between two rounds by a server of the same id with cells of its own: a new
    // server to the checker, and the old one's mark is cleared.
    script.set("b", false);
    round();
    let old_b = shared.snapshot().server("b").unwrap().clone();
    assert!(!old_b.is_healthy());
    shared
        .update(|rr| {
            rr.remove("b")?;
            rr.add(Server::new("b"))
        })
        .unwrap();
    script.set("b", true);
    round();
    assert!(old_b.is_healthy());
    let s = status(&checker, "b");
    assert_eq!((s.failing, s.successes, s.failures), (false, 1, 0));

    // Discovery replaces the list: the same ids keep their checks.
    shared
        .sync(["c", "d"], loadring::SyncOptions::default())
        .unwrap();
    assert_eq!(round(), ["c", "d"]);
    assert_eq!(status(&checker, "c").successes, 6);
    assert_eq!((checker.status("a"), checker.status("b")), (None, None));
}

#[test]
fn picks_avoid_servers_the_checker_marks_down_for_every_strategy() {
    let ids = ["s0", "s1", "s2", "s3", "s4"];
    for strategy in Strategy::all() {
        let servers = ids.map(|id| Server::new(id).with_capacity(1_000_000));
        let shared = Shared::new(AnyBalancer::new(strategy, servers).unwrap());
        let script = Script::default();
        let checker = Checker::with_options(script.probe(), options(1, 1)).unwrap();
        let keys: Vec<String> = (0..500).map(|i| format!("key-{i}")).collect();
        let before: Vec<String> = keys
            .iter()
            .map(|k| shared.pick(k).unwrap().id().to_owned())
            .collect();

        script.set("s2", false);
        checker.run_round(&shared);
        let name = strategy.name();
        for (k, was) in keys.iter().zip(&before) {
            let now = shared.pick(k).unwrap();
            assert_ne!(now.id(), "s2", "{name}: {k}");
            if strategy.is_keyed() && was != "s2" {
                assert_eq!(now.id(), was, "{name}: {k} moved though its server is up");
            }
        }
        for _ in 0..50 {
            assert_ne!(shared.next().unwrap().id(), "s2", "{name}");
            assert_ne!(shared.acquire_next().unwrap().id(), "s2", "{name}");
        }

        script.set("s2", true);
        checker.run_round(&shared);
        if strategy.is_keyed() {
            for (k, was) in keys.iter().zip(&before) {
                assert_eq!(shared.pick(k).unwrap().id(), was, "{name}: {k} came back");
            }
        }
        assert!(shared.snapshot().is_healthy("s2").unwrap(), "{name}");
    }
}

#[test]
fn a_keyed_ring_and_a_round_robin_skip_a_server_marked_down() {
    let ring = Shared::new(HashRing::new(["a", "b", "c"]).unwrap());
    let rr = Shared::new(RoundRobin::new(["a", "b", "c"]).unwrap());
    let checker = Checker::with_options(|s: &Server| s.id() != "b", options(1, 1)).unwrap();
    let rr_checker = Checker::with_options(|s: &Server| s.id() != "b", options(1, 1)).unwrap();
    checker.run_round(&ring);
    rr_checker.run_round(&rr);
    assert!((0..300).all(|k| ring.pick(&k).unwrap().id() != "b"));
    let turns: Vec<String> = (0..6).map(|_| rr.next().unwrap().id().to_owned()).collect();
    assert!(turns.iter().all(|id| id != "b"), "{turns:?}");
    assert!(turns.iter().any(|id| id == "a") && turns.iter().any(|id| id == "c"));
}

#[test]
fn any_balancer_or_a_list_of_servers_can_be_checked() {
    let servers = [Server::new("a"), Server::new("b")];
    let checker = Checker::with_options(|s: &Server| s.id() == "a", options(1, 1)).unwrap();
    checker.run_round(&servers[..]);
    assert!(!servers[1].is_healthy());
    // A list may name a server twice: it is probed once.
    let twice = [servers[0].clone(), servers[1].clone(), servers[1].clone()];
    let report = checker.run_round(&twice[..]);
    assert_eq!((report.passed, report.failed), (1, 1));

    let dynamic: Box<dyn Balancer> = Box::new(RoundRobin::new(["x", "y"]).unwrap());
    let checker = Checker::with_options(|s: &Server| s.id() == "x", options(1, 1)).unwrap();
    let report = checker.run_round(&*dynamic);
    assert_eq!((report.passed, report.marked_down), (1, 1));
    assert_eq!(dynamic.next().unwrap().id(), "x");
}

#[test]
fn a_panicking_probe_counts_as_a_failure() {
    let shared = Shared::new(RoundRobin::new(["a", "b"]).unwrap());
    let probe = |s: &Server| {
        assert_ne!(s.id(), "b", "a probe that panics");
        true
    };
    let checker = Checker::with_options(probe, options(1, 1)).unwrap();
    let report = checker.run_round(&shared);
    assert_eq!((report.passed, report.failed), (1, 1));
    assert_eq!(
        status(&checker, "b").last,
        Some(ProbeOutcome::Failed("the probe panicked".into()))
    );
    assert_eq!(checker.probes_running(), 0);
}

#[test]
fn a_checker_that_goes_clears_its_marks() {
    let shared = Shared::new(RoundRobin::new(["a", "b"]).unwrap());
    let checker = Checker::with_options(|s: &Server| s.id() == "a", options(1, 1)).unwrap();
    checker.run_round(&shared);
    assert!(!healthy(&shared, "b"));
    checker.reset();
    assert!(healthy(&shared, "b"));
    assert_eq!(checker.status("b"), None);
    checker.run_round(&shared);
    assert!(!healthy(&shared, "b"));
    drop(checker);
    assert!(healthy(&shared, "b"));
}

#[test]
fn the_spawned_thread_checks_on_its_interval_and_stops_promptly_when_dropped() {
    let shared = Arc::new(Shared::new(RoundRobin::new(["a", "b"]).unwrap()));
    let rounds = Arc::new(AtomicUsize::new(0));
    let probe = {
        let rounds = Arc::clone(&rounds);
        move |s: &Server| {
            if s.id() == "a" {
                rounds.fetch_add(1, Ordering::SeqCst);
            }
            s.id() == "a"
        }
    };
    let options = options(1, 1).with_interval(Duration::from_millis(20));
    let handle = Checker::with_options(probe, options)
        .unwrap()
        .spawn(Arc::clone(&shared))
        .unwrap();
    wait_until("three rounds ran", || rounds.load(Ordering::SeqCst) >= 3);
    assert!(!healthy(&shared, "b"));
    assert!(handle.checker().status("b").unwrap().failing);

    let start = Instant::now();
    drop(handle);
    assert!(
        start.elapsed() < Duration::from_millis(200),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(
        Arc::strong_count(&shared),
        1,
        "the thread ended and let go of the fleet"
    );
    assert!(healthy(&shared, "b"), "the mark went with the checker");
    let after = rounds.load(Ordering::SeqCst);
    thread::sleep(Duration::from_millis(60));
    assert_eq!(
        rounds.load(Ordering::SeqCst),
        after,
        "no round after the stop"
    );
}

#[test]
fn stopping_cuts_a_round_short() {
    let shared = Arc::new(Shared::new(RoundRobin::new(["a"]).unwrap()));
    let gate = Gate::default();
    let probe = gate.probe();
    let options = CheckOptions::default()
        .with_timeout(Duration::from_secs(10))
        .with_interval(Duration::from_secs(3600));
    let handle: CheckerHandle = Checker::with_options(probe, options)
        .unwrap()
        .spawn(Arc::clone(&shared))
        .unwrap();
    wait_until("the probe is running", || {
        gate.inside.load(Ordering::SeqCst) == 1
    });
    let start = Instant::now();
    handle.stop();
    assert!(
        start.elapsed() < Duration::from_millis(200),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(Arc::strong_count(&shared), 1);
    gate.open();
}

#[test]
fn tcp_probe_follows_a_real_listener_going_away_and_coming_back() {
    let start = Instant::now();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let shared = Shared::new(
        RoundRobin::new([Server::new("svc").with_addr(addr), Server::new("cache-7")]).unwrap(),
    );
    let options = options(2, 2).with_timeout(Duration::from_millis(300));
    let checker = Checker::with_options(TcpProbe::new(), options).unwrap();

    let report = checker.run_round(&shared);
    assert_eq!((report.passed, report.failed), (1, 1));
    assert_eq!(
        status(&checker, "cache-7").last,
        Some(ProbeOutcome::Failed(
            "server \"cache-7\" has no address".into()
        ))
    );

    drop(listener);
    checker.run_round(&shared);
    assert!(healthy(&shared, "svc"), "one refusal is not enough");
    checker.run_round(&shared);
    assert!(!healthy(&shared, "svc"), "down after fall refusals");
    assert!(matches!(
        status(&checker, "svc").last,
        Some(ProbeOutcome::Failed(_))
    ));

    // Back on the same port, or where discovery says it moved.
    let _listener = match TcpListener::bind(addr) {
        Ok(same) => same,
        Err(_) => {
            let moved = TcpListener::bind("127.0.0.1:0").unwrap();
            let servers = [
                Server::new("svc").with_addr(moved.local_addr().unwrap()),
                Server::new("cache-7"),
            ];
            shared
                .sync(servers, loadring::SyncOptions::default())
                .unwrap();
            moved
        }
    };
    checker.run_round(&shared);
    assert!(!healthy(&shared, "svc"), "one connection is not enough");
    checker.run_round(&shared);
    assert!(healthy(&shared, "svc"), "up after rise connections");
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
}

#[cfg(feature = "http-probe")]
#[test]
fn http_probe_reads_the_status_of_a_loopback_responder() {
    use loadring::health::{HttpProbe, Probe};
    use std::io::{Read, Write};
    use std::net::SocketAddr;

    // Answers one connection per status, in order, then ends; records each request line.
    let statuses = [200u16, 302, 503, 503, 200];
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let responder = thread::spawn(move || {
        let mut requests = Vec::new();
        for status in statuses {
            let (mut stream, _) = listener.accept().unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(2)))
                .unwrap();
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap() == 1 {
                head.push(byte[0]);
            }
            let head = String::from_utf8(head).unwrap();
            requests.push(head.lines().next().unwrap_or_default().to_owned());
            let reply = format!(
                "HTTP/1.1 {status} X\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\
                 Connection: close\r\n\r\n"
            );
            stream.write_all(reply.as_bytes()).unwrap();
        }
        requests
    });

    let shared = Shared::new(RoundRobin::new([Server::new("web").with_addr(addr)]).unwrap());
    let probe = HttpProbe::new("/healthz").unwrap();
    let options = options(1, 2).with_timeout(Duration::from_millis(500));
    let checker = Checker::with_options(probe, options).unwrap();
    let mut verdicts = Vec::new();
    for _ in statuses {
        checker.run_round(&shared);
        verdicts.push(healthy(&shared, "web"));
    }
    // 200 and 302 pass (the redirect is not followed), two 503s mark it down, 200 brings it up.
    assert_eq!(verdicts, [true, true, true, false, true]);
    let requests = responder.join().unwrap();
    assert_eq!(requests, ["GET /healthz HTTP/1.1"; 5]);

    // The failure names the status; the listener is gone now, so the next probe fails too.
    checker.run_round(&shared);
    assert!(matches!(
        status(&checker, "web").last,
        Some(ProbeOutcome::Failed(_))
    ));
    let answered = HttpProbe::new("/")
        .unwrap()
        .probe(&Server::new("no-addr"), Duration::from_millis(100));
    assert_eq!(
        answered.unwrap_err().to_string(),
        "server \"no-addr\" has no address"
    );
}

#[cfg(feature = "http-probe")]
#[test]
fn http_probe_rejects_bad_paths_and_status_ranges() {
    use loadring::health::HttpProbe;

    for path in ["", "healthz", "/a b", "/a\nb"] {
        assert!(
            matches!(HttpProbe::new(path), Err(Error::InvalidOption { .. })),
            "{path:?}"
        );
    }
    let probe = HttpProbe::new("/ready?deep=1").unwrap();
    for (low, high) in [(300, 200), (0, 200), (200, 600)] {
        let range = low..=high;
        let e = probe.clone().with_statuses(range.clone());
        assert!(matches!(e, Err(Error::InvalidOption { .. })), "{range:?}");
    }
    assert_eq!(
        probe.with_statuses(200..=204).unwrap().statuses(),
        200..=204
    );
}

#[test]
fn options_out_of_range_are_errors_not_panics() {
    let probe = |_: &Server| true;
    for (name, bad) in [
        ("rise", CheckOptions::default().with_rise(0)),
        ("fall", CheckOptions::default().with_fall(0)),
        (
            "interval",
            CheckOptions::default().with_interval(Duration::ZERO),
        ),
        (
            "timeout",
            CheckOptions::default().with_timeout(Duration::ZERO),
        ),
        ("jitter", CheckOptions::default().with_jitter(1.5)),
        ("concurrency", CheckOptions::default().with_concurrency(0)),
    ] {
        let err = Checker::with_options(probe, bad).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidOption { name: n, .. } if n == name),
            "{err}"
        );
    }
    let defaults = CheckOptions::default();
    assert_eq!(
        (
            defaults.rise,
            defaults.fall,
            defaults.interval,
            defaults.timeout
        ),
        (2, 3, Duration::from_secs(5), Duration::from_secs(1))
    );
}

#[cfg(feature = "serde")]
#[test]
fn options_read_strictly_from_config() {
    let options: CheckOptions =
        serde_json::from_str(r#"{"interval": "2s", "timeout": "250ms", "rise": 1}"#).unwrap();
    assert_eq!(
        options,
        CheckOptions::default()
            .with_interval(Duration::from_secs(2))
            .with_timeout(Duration::from_millis(250))
            .with_rise(1)
    );
    let back: CheckOptions =
        serde_json::from_str(&serde_json::to_string(&options).unwrap()).unwrap();
    assert_eq!(back, options);
    let unknown = serde_json::from_str::<CheckOptions>(r#"{"interval_ms": 2000}"#).unwrap_err();
    assert!(unknown.to_string().contains("unknown field"), "{unknown}");
}

#[test]
fn checker_types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Checker>();
    assert_send_sync::<CheckerHandle>();
    assert_send_sync::<CheckOptions>();
    assert_send_sync::<CheckStatus>();
    assert_send_sync::<ProbeOutcome>();
    assert_send_sync::<RoundReport>();
    assert_send_sync::<TcpProbe>();
    #[cfg(feature = "http-probe")]
    assert_send_sync::<loadring::health::HttpProbe>();
}

/// A server that discovery adds unhealthy until its first check comes up after `rise`
/// passing probes, and not before; one that fails stays down.
#[test]
fn discovery_waits_for_the_checker_to_raise_a_new_server() {
    use loadring::{InitialHealth, SyncOptions};
    let shared = Shared::new(RoundRobin::new(["a"]).unwrap());
    let options = SyncOptions::default().with_new_servers(InitialHealth::Unhealthy);
    shared.sync(["a", "b", "c"], options).unwrap();
    let script = Script::default();
    script.set("c", false);
    let checker = Checker::with_options(
        script.probe(),
        CheckOptions::default().with_rise(2).with_fall(2),
    )
    .unwrap();
    let healthy = |id: &str| shared.snapshot().server(id).unwrap().is_healthy();
    assert!(!healthy("b") && !healthy("c"));
    checker.run_round(&shared);
    assert!(!healthy("b"), "one pass of two");
    checker.run_round(&shared);
    assert!(healthy("b") && !healthy("c") && healthy("a"));
    // By hand works too.
    shared.set_healthy("c", true).unwrap();
    assert!(!healthy("c"), "the checker's own mark holds until it rises");
}
