//! Model checks with loom: every interleaving (up to three preemptions) of the lease counters,
//! the bounded-load cap, fill-first's cap, round-robin's rotation through `Shared`, and
//! `Shared`'s writer turn, not a lucky run.
//!
//! `RUSTFLAGS="--cfg loom" cargo test --release --test loom` (the crate's atomics, mutex
//! and swap cell become loom's models; see `src/sync.rs`).
#![cfg(loom)]

use std::sync::Arc;

use loadring::{
    Balancer, BalancerExt, BoundedLoad, BoundedOptions, FillFirst, LeastLoaded, LeastLoadedOptions,
    Modulo, PickError, RoundRobin, Server, Shared,
};
use loom::thread;

fn check(model: impl Fn() + Send + Sync + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    builder.check(model);
}

/// Runs `each` on two threads against one balancer and returns what they returned.
fn two_threads<B, T>(b: &Arc<B>, each: fn(&B) -> T) -> [T; 2]
where
    B: Send + Sync + 'static,
    T: Send + 'static,
{
    let spawn = || {
        let b = Arc::clone(b);
        thread::spawn(move || each(&b))
    };
    let (x, y) = (spawn(), spawn());
    [x.join().unwrap(), y.join().unwrap()]
}

fn in_flight<B: Balancer>(b: &B) -> u64 {
    b.servers().iter().map(Server::in_flight).sum()
}

/// A lease counts on its server from the moment it is returned until it is dropped.
#[test]
fn leases_count_while_held_and_return_to_zero() {
    check(|| {
        // A fixed seed: loom replays each interleaving, so every run must draw alike.
        let options = LeastLoadedOptions::default().with_seed(7);
        let b = Arc::new(LeastLoaded::with_options(["a", "b"], options).unwrap());
        let leases = two_threads(&b, |b| b.acquire_next().unwrap().into_owned());
        assert_eq!(in_flight(&*b), 2);
        drop(leases);
        assert_eq!(in_flight(&*b), 0);
    });
}

/// When only this balancer counts, some server always qualifies: racing acquires never
/// answer `Saturated`, and the balancer's count matches its servers'.
#[test]
fn bounded_loads_never_saturate_racing_acquires() {
    for epsilon in [1e-17, 0.25] {
        check(move || {
            let options = BoundedOptions::default().with_epsilon(epsilon);
            let b = Arc::new(BoundedLoad::with_options(["a"], options).unwrap());
            let leases = two_threads(&b, |b| b.acquire("key").map(|l| l.into_owned()));
            assert!(leases.iter().all(Result::is_ok), "{leases:?}");
            assert_eq!((b.in_flight(), in_flight(&*b)), (2, 2));
            drop(leases);
            assert_eq!((b.in_flight(), in_flight(&*b)), (0, 0));
        });
    }
}

/// Fill-first never puts more requests on a server than its capacity, however acquires race.
#[test]
fn fill_first_holds_its_caps_under_racing_acquires() {
    check(|| {
        let b = Arc::new(FillFirst::new([Server::new("a").with_capacity(1)]).unwrap());
        let got = two_threads(&b, |b| b.acquire_next().map(|l| l.into_owned()));
        let ok = got.iter().filter(|r| r.is_ok()).count();
        assert_eq!(ok, 1, "{got:?}");
        assert!(got.iter().any(|r| matches!(r, Err(PickError::Saturated))));
        assert_eq!(in_flight(&*b), 1);
    });
    check(|| {
        let servers = ["a", "b"].map(|id| Server::new(id).with_capacity(1));
        let b = Arc::new(FillFirst::new(servers).unwrap());
        let [x, y] = two_threads(&b, |b| b.acquire_next().unwrap().into_owned());
        assert_ne!(x.id(), y.id());
    });
}

/// Writers take turns: two concurrent changes through `Shared` both land.
#[test]
fn concurrent_writers_lose_no_change() {
    check(|| {
        let shared = Arc::new(Shared::new(Modulo::new(["a"]).unwrap()));
        let add = |id: &'static str| {
            let shared = Arc::clone(&shared);
            thread::spawn(move || shared.add(id).unwrap())
        };
        let (b, c) = (add("b"), add("c"));
        b.join().unwrap();
        c.join().unwrap();
        let ids: Vec<String> = shared
            .snapshot()
            .servers()
            .iter()
            .map(|s| s.id().into())
            .collect();
        assert_eq!(ids, ["a", "b", "c"]);
    });
}

/// A change through `Shared` neither replays nor loses the round-robin slots taken while it
/// ran: two picks and a change leave the rotation two steps on.
#[test]
fn round_robin_slots_survive_a_concurrent_change() {
    check(|| {
        let shared = Arc::new(Shared::new(RoundRobin::new(["a", "b", "c"]).unwrap()));
        let picker = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                let first = shared.next().unwrap();
                let second = shared.next().unwrap();
                assert_ne!(first.id(), second.id());
            })
        };
        shared.set_weight("c", 1).unwrap();
        picker.join().unwrap();
        assert_eq!(shared.snapshot().step(), 2);
    });
}
