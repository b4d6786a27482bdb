//! A service with four backends, one of them slow, routing every request through the one
//! generic call (`acquire`) and holding the lease while the request runs: load-aware
//! strategies send the slow backend measurably less work, through `dyn Balancer` and through
//! `Shared` alike. Round-robin, which ignores load, is the control.

use loadring::{
    AnyBalancer, Balancer, BalancerExt, BoundedOptions, Lease, LeastLoadedOptions, PickError,
    Shared, Strategy,
};

const SLOW: &str = "10.0.0.4:80";
const REQUESTS: u32 = 4000;

/// Each step one request arrives; it finishes 2 steps later on a fast backend and 40 steps
/// later on the slow one. Returns the slow backend's share of the requests.
fn slow_share<'a>(mut acquire: impl FnMut(u32) -> Result<Lease<'a>, PickError>) -> f64 {
    let mut running: Vec<(u32, Lease<'a>)> = Vec::new();
    let mut slow = 0u32;
    for step in 0..REQUESTS {
        running.retain(|(done, _)| *done > step);
        let lease = acquire(step).expect("a backend");
        let took = if lease.id() == SLOW {
            slow += 1;
            40
        } else {
            2
        };
        running.push((step + took, lease));
    }
    let share = f64::from(slow) / f64::from(REQUESTS);
    eprintln!("slow backend share: {share:.3}");
    share
}

fn backends() -> [&'static str; 4] {
    ["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80", SLOW]
}

fn strategies() -> [Strategy; 2] {
    [
        Strategy::LeastLoaded(LeastLoadedOptions::default().with_seed(5)),
        Strategy::Bounded(BoundedOptions::default()),
    ]
}

#[test]
fn load_aware_strategies_send_a_slow_backend_less_work_through_dyn() {
    for strategy in strategies() {
        let b: Box<dyn Balancer> = Box::new(AnyBalancer::new(strategy, backends()).unwrap());
        let share = slow_share(|k| b.acquire(&k));
        // A fair share is 25 %.
        assert!(
            share < 0.15,
            "{}: the slow backend got {share}",
            strategy.name()
        );
        assert!(b.servers().iter().all(|s| s.in_flight() == 0));
    }
}

#[test]
fn load_aware_strategies_send_a_slow_backend_less_work_through_shared() {
    for strategy in strategies() {
        let shared = Shared::new(AnyBalancer::new(strategy, backends()).unwrap());
        let share = slow_share(|k| shared.acquire(&k));
        assert!(
            share < 0.15,
            "{}: the slow backend got {share}",
            strategy.name()
        );
    }
    let concrete = Shared::new(loadring::LeastLoaded::new(backends()).unwrap());
    let share = slow_share(|_| concrete.acquire_next());
    assert!(
        share < 0.15,
        "Shared<LeastLoaded>: the slow backend got {share}"
    );
}

#[test]
fn round_robin_ignores_load_the_control() {
    let b: Box<dyn Balancer> =
        Box::new(AnyBalancer::new(Strategy::RoundRobin(Default::default()), backends()).unwrap());
    let share = slow_share(|k| b.acquire(&k));
    assert!(
        (share - 0.25).abs() < 0.01,
        "round-robin gave the slow backend {share}"
    );
}
