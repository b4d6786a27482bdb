//! The tower service (`route::Balance`): requests sent with `ServiceExt::oneshot` to mock
//! endpoint services go where the strategy picks, hold a lease while the endpoint runs,
//! report their outcomes, follow the fleet, and wait for an endpoint's readiness.

#![cfg(feature = "tower")]

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::future::{Future, Ready, ready};
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use loadring::health::{ManualClock, OutlierDetector, OutlierOptions};
use loadring::route::{Balance, BalanceError, BalanceLayer, NoKey};
use loadring::{
    AnyBalancer, Balancer, BalancerExt, Choice, HashRing, LeastLoaded, LeastLoadedOptions,
    PickError, RoundRobin, Server, Shared, Strategy, SyncOptions,
};
use tower::{Layer, Service, ServiceExt, service_fn};

/// Runs `body` to its end on a runtime of one thread, or fails the test after 20 s.
fn bounded<F: Future>(body: F) -> F::Output {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(20), body)
            .await
            .expect("the test ran out of time")
    })
}

/// What a mock endpoint answers: its server, and the requests in flight on it as it ran.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Served {
    id: String,
    in_flight: u64,
}

/// The mock endpoints a test's services make, and what became of them.
#[derive(Clone, Default)]
struct Backends {
    /// Endpoints made.
    made: Arc<AtomicUsize>,
    /// Each server's newest endpoint, alive while a clone of it is.
    endpoints: Arc<Mutex<HashMap<String, Weak<()>>>>,
    /// The servers whose endpoints fail.
    failing: Arc<Mutex<HashSet<String>>>,
    /// Moved on by 5 ms in every call, for a detector that reads it.
    clock: ManualClock,
}

/// A mock endpoint: answers [`Served`], or fails with "<id> refused" when its server is one
/// of [`Backends::failing`].
#[derive(Clone)]
struct Mock {
    server: Server,
    backends: Backends,
    _alive: Arc<()>,
}

impl Service<String> for Mock {
    type Response = Served;
    type Error = String;
    type Future = Ready<Result<Served, String>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), String>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: String) -> Self::Future {
        self.backends.clock.advance(Duration::from_millis(5));
        let id = self.server.id().to_owned();
        if self.backends.failing.lock().unwrap().contains(&id) {
            return ready(Err(format!("{id} refused")));
        }
        let in_flight = self.server.in_flight();
        ready(Ok(Served { id, in_flight }))
    }
}

impl Backends {
    /// The endpoint maker.
    fn maker(&self) -> impl Fn(&Server) -> Mock + Clone + Send + Sync + 'static {
        let backends = self.clone();
        move |server: &Server| {
            backends.made.fetch_add(1, Ordering::Relaxed);
            let alive = Arc::new(());
            let mut endpoints = backends.endpoints.lock().unwrap();
            endpoints.insert(server.id().to_owned(), Arc::downgrade(&alive));
            Mock {
                server: server.clone(),
                backends: backends.clone(),
                _alive: alive,
            }
        }
    }

    fn made(&self) -> usize {
        self.made.load(Ordering::Relaxed)
    }

    /// Whether the newest endpoint made for `id` still exists.
    fn is_alive(&self, id: &str) -> bool {
        let endpoints = self.endpoints.lock().unwrap();
        endpoints.get(id).is_some_and(|e| e.strong_count() > 0)
    }

    fn fail(&self, id: &str, failing: bool) {
        let mut set = self.failing.lock().unwrap();
        if failing {
            set.insert(id.to_owned());
        } else {
            set.remove(id);
        }
    }
}

/// Requests keyed by themselves.
fn by_request() -> impl Fn(&String) -> String + Clone + Send + Sync + 'static {
    |request: &String| request.clone()
}

/// Sends `request` through a clone of `service`.
async fn send<S>(service: &S, request: &str) -> Result<Served, BalanceError>
where
    S: Service<String, Response = Served, Error = BalanceError> + Clone,
{
    service.clone().oneshot(request.to_owned()).await
}

/// Sends `n` requests and counts where they went.
async fn spread<S>(service: &S, n: usize) -> HashMap<String, usize>
where
    S: Service<String, Response = Served, Error = BalanceError> + Clone,
{
    let mut counts = HashMap::new();
    for i in 0..n {
        let served = send(service, &format!("req-{i}")).await.unwrap();
        *counts.entry(served.id).or_default() += 1;
    }
    counts
}

fn ids(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("10.0.0.{i}:80")).collect()
}

/// Each request goes to the server that `Shared::pick` gives its key; each server's
/// endpoint is made once, on its first request.
#[test]
fn routes_by_key_as_the_fleet_picks() {
    let fleet = Arc::new(Shared::new(HashRing::new(ids(5)).unwrap()));
    let backends = Backends::default();
    let service = BalanceLayer::new(Arc::clone(&fleet))
        .key(by_request())
        .layer(backends.maker());
    bounded(async {
        for u in 0..300 {
            let user = format!("user-{u}");
            let served = send(&service, &user).await.unwrap();
            assert_eq!(served.id, fleet.pick(&user).unwrap().id(), "{user}");
        }
    });
    assert_eq!(backends.made(), 5);
    assert_eq!(service.endpoints(), 5);
    assert!(
        fleet
            .snapshot()
            .servers()
            .iter()
            .all(|s| s.in_flight() == 0)
    );
}

/// Every strategy: each request reaches the server a twin balancer (same strategy, same
/// servers, same seed) acquires for its key, and is counted in flight while it runs.
#[test]
fn every_strategy_routes_each_request_to_its_pick() {
    for strategy in Strategy::all() {
        let strategy = match strategy {
            Strategy::LeastLoaded(options) => Strategy::LeastLoaded(options.with_seed(11)),
            other => other,
        };
        let name = strategy.name();
        let servers = || {
            ids(6)
                .into_iter()
                .map(|id| Server::new(id).with_capacity(4))
        };
        let twin = AnyBalancer::new(strategy, servers()).unwrap();
        let fleet = Arc::new(Shared::new(AnyBalancer::new(strategy, servers()).unwrap()));
        let service = BalanceLayer::new(Arc::clone(&fleet))
            .key(by_request())
            .layer(Backends::default().maker());
        let mut seen = HashSet::new();
        bounded(async {
            for k in 0..120 {
                let key = format!("key-{k}");
                let expected = twin.acquire(&key).unwrap().id().to_owned();
                let served = send(&service, &key).await.unwrap();
                assert_eq!(
                    served,
                    Served {
                        id: expected,
                        in_flight: 1
                    },
                    "{name} {key}"
                );
                seen.insert(served.id);
            }
        });
        assert!(seen.len() > 1 || name == "fill-first", "{name}: {seen:?}");
        let snapshot = fleet.snapshot();
        assert!(
            snapshot.servers().iter().all(|s| s.in_flight() == 0),
            "{name}"
        );
    }
}

/// The lease lives as long as the request: requests held open at once are counted, so
/// least-loaded spreads them one to a server, and every count is released at the end.
#[test]
fn a_lease_is_held_until_the_answer_is_in() {
    let options = LeastLoadedOptions::default().with_choice(Choice::FullScan);
    let fleet = Arc::new(Shared::new(
        LeastLoaded::with_options(ids(4), options).unwrap(),
    ));
    let inside = Arc::new(tokio::sync::Barrier::new(5));
    let release = Arc::new(tokio::sync::Barrier::new(5));
    let make = {
        let (inside, release) = (Arc::clone(&inside), Arc::clone(&release));
        move |server: &Server| {
            let (server, inside, release) = (server.clone(), inside.clone(), release.clone());
            service_fn(move |_: ()| {
                let (server, inside, release) = (server.clone(), inside.clone(), release.clone());
                async move {
                    inside.wait().await;
                    release.wait().await;
                    Ok::<_, Infallible>(server.id().to_owned())
                }
            })
        }
    };
    let service = Balance::new(Arc::clone(&fleet), make);
    let served = bounded(async {
        let tasks: Vec<_> = (0..4)
            .map(|_| tokio::spawn(service.clone().oneshot(())))
            .collect();
        inside.wait().await;
        let counts: Vec<u64> = fleet
            .snapshot()
            .servers()
            .iter()
            .map(|s| s.in_flight())
            .collect();
        assert_eq!(counts, [1, 1, 1, 1]);
        release.wait().await;
        let mut served = Vec::new();
        for task in tasks {
            served.push(task.await.unwrap().unwrap());
        }
        served
    });
    let distinct: HashSet<_> = served.iter().collect();
    assert_eq!(distinct.len(), 4, "{served:?}");
    assert!(
        fleet
            .snapshot()
            .servers()
            .iter()
            .all(|s| s.in_flight() == 0)
    );
}

/// A detector for a fleet of four on `clock`, that may eject half of it.
fn detector(fleet: &Shared<HashRing>, clock: &ManualClock) -> Arc<OutlierDetector<ManualClock>> {
    let options = OutlierOptions::default().with_max_ejection_percent(50);
    let outliers = OutlierDetector::with_clock(options, clock.clone()).unwrap();
    outliers.evaluate(fleet); // the first sweep: the detector learns the fleet's size
    Arc::new(outliers)
}

/// An endpoint's errors are reported: five in a row eject its server, whose key then goes
/// elsewhere; successes report their latency.
#[test]
fn endpoint_errors_are_reported_and_eject() {
    let fleet = Arc::new(Shared::new(HashRing::new(ids(4)).unwrap()));
    let backends = Backends::default();
    let outliers = detector(&fleet, &backends.clock);
    let service = BalanceLayer::new(Arc::clone(&fleet))
        .key(by_request())
        .report_to(Arc::clone(&outliers))
        .layer(backends.maker());
    let bad = fleet.pick("user-7").unwrap();
    backends.fail(bad.id(), true);
    let answers = bounded(async {
        let mut answers = Vec::new();
        for _ in 0..8 {
            answers.push(send(&service, "user-7").await);
        }
        answers
    });
    for answer in &answers[..5] {
        let Err(BalanceError::Endpoint { server, error }) = answer else {
            panic!("{answer:?}")
        };
        assert_eq!(server.id(), bad.id());
        let refused = format!("{} refused", bad.id());
        assert_eq!(error.to_string(), refused);
        let text = answer.as_ref().unwrap_err().to_string();
        assert_eq!(text, format!("server {:?} failed: {refused}", bad.id()));
    }
    assert!(outliers.is_ejected(&bad));
    let good = fleet.pick("user-7").unwrap();
    assert_ne!(good.id(), bad.id());
    for answer in &answers[5..] {
        assert_eq!(answer.as_ref().unwrap().id, good.id());
    }
    assert_eq!(outliers.latency(&good), Some(Duration::from_millis(5)));
}

/// A classifier turns answers into failures (say an HTTP 5xx): they eject as errors do.
#[test]
fn a_classifier_decides_what_fails() {
    let fleet = Arc::new(Shared::new(HashRing::new(ids(4)).unwrap()));
    let backends = Backends::default();
    let outliers = detector(&fleet, &backends.clock);
    let bad = fleet.pick("user-9").unwrap().id().to_owned();
    let unhealthy = bad.clone();
    let service = BalanceLayer::new(Arc::clone(&fleet))
        .key(by_request())
        .report_to(Arc::clone(&outliers))
        .classify(move |answer: &Result<Served, String>| {
            answer.as_ref().is_ok_and(|served| served.id != unhealthy)
        })
        .layer(backends.maker());
    bounded(async {
        for _ in 0..5 {
            assert_eq!(send(&service, "user-9").await.unwrap().id, bad); // answered, but 5xx
        }
        assert_ne!(send(&service, "user-9").await.unwrap().id, bad);
    });
    assert!(outliers.is_ejected(&fleet.snapshot().server(&bad).unwrap().clone()));
}

/// Servers added, marked down and up, and removed are obeyed from the next request on.
#[test]
fn the_fleet_is_followed() {
    let fleet = Arc::new(Shared::new(RoundRobin::new(["a", "b", "c"]).unwrap()));
    let service = Balance::new(Arc::clone(&fleet), Backends::default().maker());
    bounded(async {
        let counts = spread(&service, 30).await;
        assert_eq!(
            counts,
            HashMap::from([("a".into(), 10), ("b".into(), 10), ("c".into(), 10)])
        );

        fleet.add("d").unwrap();
        let counts = spread(&service, 40).await;
        assert!(counts.values().all(|&n| n == 10), "{counts:?}");
        assert_eq!(counts.len(), 4);

        fleet.set_healthy("b", false).unwrap();
        let counts = spread(&service, 30).await;
        assert_eq!(counts.get("b"), None);
        assert_eq!(counts.len(), 3);

        fleet.remove("a").unwrap();
        let counts = spread(&service, 30).await;
        assert_eq!(
            counts.keys().collect::<HashSet<_>>(),
            HashSet::from([&"c".into(), &"d".into()])
        );

        fleet.set_healthy("b", true).unwrap();
        let counts = spread(&service, 30).await;
        assert_eq!(counts.len(), 3);
        assert_eq!(counts.get("b"), Some(&10));
    });
}

/// The endpoint of a server that leaves is dropped; one that comes back with new cells
/// gets a new endpoint; the service never keeps more endpoints than the fleet has servers.
#[test]
fn endpoints_of_servers_that_left_are_dropped() {
    let fleet = Arc::new(Shared::new(RoundRobin::new(["a", "b", "c"]).unwrap()));
    let backends = Backends::default();
    let service = Balance::new(Arc::clone(&fleet), backends.maker());
    bounded(async {
        spread(&service, 6).await;
        assert_eq!(backends.made(), 3);
        assert!(["a", "b", "c"].iter().all(|id| backends.is_alive(id)));

        // Removed: dropped at the next request.
        fleet.remove("a").unwrap();
        assert!(backends.is_alive("a"));
        send(&service, "x").await.unwrap();
        assert!(!backends.is_alive("a"));
        assert_eq!(service.endpoints(), 2);

        // Replaced in one swap (discovery): dropped once the newcomer's endpoint is made.
        fleet.sync(["b", "d"], SyncOptions::default()).unwrap();
        let counts = spread(&service, 4).await;
        assert_eq!(counts.len(), 2);
        assert!(!backends.is_alive("c"));
        assert!(backends.is_alive("b") && backends.is_alive("d"));
        assert_eq!((service.endpoints(), backends.made()), (2, 4));

        // Back with new cells: a new endpoint, made once.
        fleet.add("a").unwrap();
        spread(&service, 6).await;
        assert!(backends.is_alive("a"));
        assert_eq!((service.endpoints(), backends.made()), (3, 5));

        // Replaced under the same id before a request saw it go: the old endpoint is not
        // the new server's.
        fleet.remove("b").unwrap();
        fleet.add("b").unwrap();
        spread(&service, 6).await;
        assert_eq!((service.endpoints(), backends.made()), (3, 6));
    });
    // The last clone of the service drops every endpoint.
    drop(service);
    assert!(["a", "b", "d"].iter().all(|id| !backends.is_alive(id)));
}

/// With no server to take the request, the pick's error comes back and no endpoint is made.
#[test]
fn no_server_is_a_pick_error() {
    let fleet = Arc::new(Shared::new(HashRing::new(ids(3)).unwrap()));
    let backends = Backends::default();
    let service = BalanceLayer::new(Arc::clone(&fleet))
        .key(by_request())
        .layer(backends.maker());
    for s in fleet.snapshot().servers() {
        s.set_healthy(false);
    }
    let down = bounded(send(&service, "k")).unwrap_err();
    assert!(
        matches!(down, BalanceError::Pick(PickError::NoHealthyServer)),
        "{down:?}"
    );
    let source = std::error::Error::source(&down).unwrap();
    assert_eq!(source.to_string(), PickError::NoHealthyServer.to_string());
    assert_eq!(
        down.to_string(),
        format!("no server to route to: {}", PickError::NoHealthyServer)
    );
    for id in ids(3) {
        fleet.remove(&id).unwrap();
    }
    let empty = bounded(send(&service, "k")).unwrap_err();
    assert!(
        matches!(empty, BalanceError::Pick(PickError::NoServers)),
        "{empty:?}"
    );
    assert_eq!(backends.made(), 0);
}

/// A mock endpoint that is not ready at its first `poll_ready` (a clone starts over), and
/// fails a call made before it was ready.
struct ReadyOnSecondPoll {
    polls: Arc<AtomicUsize>,
    ready: bool,
}

impl Clone for ReadyOnSecondPoll {
    fn clone(&self) -> Self {
        ReadyOnSecondPoll {
            polls: Arc::clone(&self.polls),
            ready: false,
        }
    }
}

impl Service<u32> for ReadyOnSecondPoll {
    type Response = u32;
    type Error = &'static str;
    type Future = Ready<Result<u32, &'static str>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), &'static str>> {
        self.polls.fetch_add(1, Ordering::Relaxed);
        if self.ready {
            return Poll::Ready(Ok(()));
        }
        self.ready = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    fn call(&mut self, request: u32) -> Self::Future {
        ready(if self.ready {
            Ok(request)
        } else {
            Err("called before it was ready")
        })
    }
}

/// The service is always ready; the response waits for its endpoint's readiness.
#[test]
fn an_endpoint_that_is_not_ready_is_awaited() {
    let fleet = Arc::new(Shared::new(RoundRobin::new(["a", "b"]).unwrap()));
    let polls = Arc::new(AtomicUsize::new(0));
    let make = {
        let polls = Arc::clone(&polls);
        move |_: &Server| ReadyOnSecondPoll {
            polls: Arc::clone(&polls),
            ready: false,
        }
    };
    let mut service = Balance::new(fleet, make);
    let mut cx = Context::from_waker(Waker::noop());
    assert!(matches!(
        Service::<u32>::poll_ready(&mut service, &mut cx),
        Poll::Ready(Ok(()))
    ));

    let mut response = pin!(service.call(7));
    assert!(response.as_mut().poll(&mut cx).is_pending());
    assert_eq!(polls.load(Ordering::Relaxed), 1);
    assert!(matches!(
        response.as_mut().poll(&mut cx),
        Poll::Ready(Ok(7))
    ));
    assert_eq!(polls.load(Ordering::Relaxed), 2);

    let answers = bounded(async {
        let mut answers = Vec::new();
        for i in 0..10 {
            answers.push(service.clone().oneshot(i).await.unwrap());
        }
        answers
    });
    assert_eq!(answers, (0..10).collect::<Vec<_>>());
    assert_eq!(polls.load(Ordering::Relaxed), 22);
}

/// The service, its layer and errors cross threads; its futures run under `tokio::spawn`
/// on a multi-threaded runtime while the fleet changes.
#[test]
fn futures_are_send_and_run_on_many_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    type Routed = Balance<AnyBalancer, fn(&Server) -> Mock, fn(&String) -> String>;
    assert_send_sync::<Routed>();
    assert_send_sync::<BalanceLayer<AnyBalancer>>();
    assert_send_sync::<BalanceError>();
    assert_send_sync::<NoKey>();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    let strategy = Strategy::Maglev(Default::default());
    let fleet = Arc::new(Shared::new(AnyBalancer::new(strategy, ids(4)).unwrap()));
    let backends = Backends::default();
    let service = BalanceLayer::new(Arc::clone(&fleet))
        .key(by_request())
        .layer(backends.maker());
    let served = runtime.block_on(async {
        let tasks: Vec<_> = (0..200)
            .map(|i| tokio::spawn(service.clone().oneshot(format!("user-{i}"))))
            .collect();
        fleet.add("10.0.0.9:80").unwrap();
        let mut served = 0;
        for task in tasks {
            let answer = tokio::time::timeout(Duration::from_secs(20), task).await;
            served += usize::from(answer.unwrap().unwrap().is_ok());
        }
        served
    });
    assert_eq!(served, 200);
    assert!(
        fleet
            .snapshot()
            .servers()
            .iter()
            .all(|s| s.in_flight() == 0)
    );
    assert!(service.endpoints() <= fleet.snapshot().len());
}
