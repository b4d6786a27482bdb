//! Fail-over: a request tries its key's ranked candidates, each at most once, within its
//! budget, holding a lease for each attempt and reporting each outcome to the lifecycle.

use std::sync::Arc;
use std::time::Duration;

use loadring::health::{ManualClock, OutlierDetector, OutlierOptions};
use loadring::route::{Failover, FailoverError};
use loadring::{
    AnyBalancer, Balancer, BalancerExt, HashRing, LeastLoaded, PickError, Server, Shared, Strategy,
};

fn ring(n: usize) -> HashRing {
    HashRing::new((0..n).map(|i| format!("10.0.0.{i}:80"))).unwrap()
}

/// The ids `attempt` was called with, in order, when every server in `down` fails.
fn attempted(failover: &Failover<'_, HashRing>, key: &str, down: &[&str]) -> (Vec<String>, bool) {
    let mut seen = Vec::new();
    let result = failover.call_blocking(key, |s| {
        seen.push(s.id().to_owned());
        if down.contains(&s.id()) {
            Err(())
        } else {
            Ok(())
        }
    });
    (seen, result.is_ok())
}

/// Attempts follow the strategy's ranking: the pick, then the next candidates, never twice.
#[test]
fn attempts_follow_the_ranked_candidates() {
    let ring = ring(6);
    for k in 0..200 {
        let key = format!("user-{k}");
        let ranked: Vec<String> = ring
            .candidates(&key, 6)
            .iter()
            .map(|s| s.id().to_owned())
            .collect();
        let down: Vec<&str> = ranked[..2].iter().map(String::as_str).collect();
        let (seen, ok) = attempted(&Failover::new(&ring), &key, &down);
        assert!(ok, "{key}");
        assert_eq!(seen, ranked[..3], "{key}");
    }
}

/// The budget bounds the attempts; each is on a different server; the last failure returns.
#[test]
fn the_budget_bounds_the_attempts() {
    let ring = ring(6);
    for budget in [1, 2, 3, 6] {
        let mut seen = Vec::new();
        let result: Result<(), _> = Failover::new(&ring)
            .attempts(budget)
            .call_blocking("k", |s| {
                seen.push(s.id().to_owned());
                Err(seen.len())
            });
        assert_eq!(
            result,
            Err(FailoverError::Exhausted {
                attempts: budget,
                last: budget
            })
        );
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), budget);
    }
    // More attempts than servers: each server once, then the last failure.
    let result: Result<(), _> = Failover::new(&ring)
        .attempts(50)
        .call_blocking("k", |s| Err(s.id().to_owned()));
    assert!(
        matches!(result, Err(FailoverError::Exhausted { attempts: 6, .. })),
        "{result:?}"
    );
    // A budget of 0 still tries the first choice.
    assert_eq!(Failover::new(&ring).attempts(0).max_attempts(), 1);
    let first = ring.pick("k").unwrap().id().to_owned();
    let (seen, _) = attempted(&Failover::new(&ring).attempts(0), "k", &[]);
    assert_eq!(seen, [first]);
}

/// With no server to try, the pick's error says why; the attempt never runs.
#[test]
fn no_server_is_the_picks_error() {
    let ring = ring(3);
    for s in ring.servers() {
        s.set_healthy(false);
    }
    let result: Result<(), FailoverError<()>> =
        Failover::new(&ring).call_blocking("k", |_| unreachable!());
    assert_eq!(
        result,
        Err(FailoverError::NoServer(PickError::NoHealthyServer))
    );
    let empty = HashRing::new(Vec::<Server>::new()).unwrap();
    let result: Result<(), FailoverError<()>> =
        Failover::new(&empty).call_blocking("k", |_| unreachable!());
    assert_eq!(result, Err(FailoverError::NoServer(PickError::NoServers)));
    let text = FailoverError::<_>::Exhausted {
        attempts: 2,
        last: "refused",
    }
    .to_string();
    assert_eq!(text, "all 2 attempts failed; the last: refused");
}

/// Each attempt holds a lease: least-loaded counts it while it runs, and it is released after.
#[test]
fn an_attempt_is_counted_in_flight() {
    let ll = LeastLoaded::new(["a", "b", "c"]).unwrap();
    let mut during = Vec::new();
    let result: Result<(), _> = Failover::new(&ll).call_blocking("k", |s| {
        during.push((s.id().to_owned(), s.in_flight()));
        Err(())
    });
    assert!(result.is_err());
    assert_eq!(during.len(), 3);
    // One request in flight at a time: the failed attempt's lease is gone before the next.
    let total: u64 = ll.servers().iter().map(Server::in_flight).sum();
    assert_eq!(total, 0);
    assert!(during.iter().all(|(_, n)| *n == 1), "{during:?}");
}

/// Outcomes reach the outlier detector: a server that keeps failing is ejected, and later
/// requests no longer try it, while they still succeed on the others.
#[test]
fn failures_are_reported_and_eject() {
    let ring = ring(4);
    let clock = ManualClock::new();
    // Up to half the fleet may be ejected (the default 10 % of 4 servers is none).
    let options = OutlierOptions::default().with_max_ejection_percent(50);
    let outliers = OutlierDetector::with_clock(options, clock.clone()).unwrap();
    outliers.evaluate(&ring); // the first sweep: the detector learns the fleet's size
    let bad = ring.pick("user-7").unwrap().clone();
    let failover = Failover::new(&ring).report_to(&outliers);
    let mut first_tries = Vec::new();
    for _ in 0..8 {
        let answer = failover.call_blocking("user-7", |s| {
            clock.advance(Duration::from_millis(5));
            if s.id() == bad.id() {
                Err("refused")
            } else {
                Ok(s.id().to_owned())
            }
        });
        assert!(answer.is_ok());
        first_tries.push(ring.pick("user-7").unwrap().id() == bad.id());
    }
    assert!(outliers.is_ejected(&bad));
    // Five consecutive failures (the default) eject; from then on the key starts elsewhere.
    assert_eq!(
        first_tries,
        [true, true, true, true, false, false, false, false]
    );
    let good = ring.candidates("user-7", 2)[0].clone();
    assert_eq!(outliers.latency(&good), Some(Duration::from_millis(5)));
}

/// From async code, on a multi-threaded runtime: attempts that await, a future that is
/// `Send`, a live fleet through `Shared`.
#[test]
fn async_attempts_fail_over() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    let shared = Arc::new(Shared::new(
        AnyBalancer::new(Strategy::Ring(Default::default()), ["a:1", "b:1", "c:1"]).unwrap(),
    ));
    let home = shared.pick("user-1").unwrap().id().to_owned();
    let task = {
        let shared = Arc::clone(&shared);
        let home = home.clone();
        runtime.spawn(async move {
            let fleet = shared.snapshot();
            let failover = Failover::new(&*fleet).attempts(2);
            failover
                .call("user-1", |server| {
                    let home = home.clone();
                    async move {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                        if server.id() == home {
                            Err("timeout")
                        } else {
                            Ok(server.id().to_owned())
                        }
                    }
                })
                .await
        })
    };
    let answer =
        runtime.block_on(async { tokio::time::timeout(Duration::from_secs(10), task).await });
    let served = answer.unwrap().unwrap().unwrap();
    assert_ne!(served, home);
    assert_eq!(served, shared.candidates("user-1", 2)[1].id());
}

/// `Attempts` keeps fail-over's rules for callers that lease their own way: here a router's
/// pool, where the winning lease outlives the attempt.
#[test]
fn attempts_over_a_router_try_each_server_once_then_give_up() {
    use loadring::route::{Attempts, OwnedRequest, Pool, RouteError, RouteTable};

    let servers = ["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"];
    let pool = AnyBalancer::new(Strategy::Ring(Default::default()), servers).unwrap();
    let router = RouteTable::new("web")
        .pool(Pool::new("web", pool))
        .build()
        .unwrap();
    let request = OwnedRequest::new("GET", "/");

    // Budget 3 over 3 servers: three distinct servers, then the budget is spent.
    let mut attempts: Attempts<&str, RouteError> = Attempts::new(3);
    let mut tried = Vec::new();
    let spent = loop {
        let routed = router.route_with(&request, attempts.untried()).unwrap();
        tried.push(routed.server().id().to_owned());
        if let Err(spent) = attempts.fail(routed.server(), "refused") {
            break spent;
        }
    };
    tried.sort();
    tried.dedup();
    assert_eq!(tried.len(), 3, "each server once");
    assert!(matches!(
        spent,
        FailoverError::Exhausted {
            attempts: 3,
            last: "refused"
        }
    ));

    // A budget above the fleet: the router runs out of untried servers first, and the
    // give-up carries the last failure, not the router's "none accepted".
    let mut attempts: Attempts<&str, RouteError> = Attempts::new(5);
    let mut failures = 0;
    let gave_up = loop {
        match router.route_with(&request, attempts.untried()) {
            Ok(routed) => {
                failures += 1;
                attempts.fail(routed.server(), "503").unwrap();
            }
            Err(e) => break attempts.give_up(e),
        }
    };
    assert_eq!(failures, 3);
    assert_eq!(attempts.failures(), 3);
    assert!(matches!(
        gave_up,
        FailoverError::Exhausted {
            attempts: 3,
            last: "503"
        }
    ));

    // Nothing tried at all: the router's own error.
    let pool = router.pools()[0].balancer();
    for id in servers {
        pool.set_healthy(id, false).unwrap();
    }
    let mut attempts: Attempts<&str, RouteError> = Attempts::new(3);
    let e = router.route_with(&request, attempts.untried()).unwrap_err();
    assert!(matches!(attempts.give_up(e), FailoverError::NoServer(_)));
}

#[test]
fn attempts_clamp_their_budget() {
    use loadring::MAX_CANDIDATES;
    use loadring::route::Attempts;

    let ring = ring(3);
    let mut none: Attempts<()> = Attempts::new(0);
    let lease = ring.acquire_with("k", none.untried()).unwrap();
    assert!(none.fail(lease.server(), ()).is_err(), "a budget of 0 is 1");
    let mut many: Attempts<()> = Attempts::new(usize::MAX);
    for _ in 0..MAX_CANDIDATES - 1 {
        many.fail(lease.server(), ()).unwrap();
    }
    assert!(
        many.fail(lease.server(), ()).is_err(),
        "at most MAX_CANDIDATES"
    );
}
