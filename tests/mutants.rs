//! Tests that a mutation audit (`cargo mutants` over the core files) showed missing: each
//! fails on a planted change that the rest of the suite let through.

use loadring::{
    Balancer, BalancerExt, BoundedLoad, BoundedOptions, FillFirst, FillFirstOptions, LeastLoaded,
    Overflow, PickError, Server,
};

/// The option a builder sets is the option the balancer runs with.
#[test]
fn bounded_loads_build_with_the_points_per_weight_asked_for() {
    let options = BoundedOptions::default().with_points_per_weight(40);
    let b = BoundedLoad::with_options(["a", "b", "c"], options).unwrap();
    assert_eq!(b.options().points_per_weight, 40);
    assert_eq!(b.ring().point_count(), 120);
}

fn full_pair(overflow: Overflow) -> FillFirst {
    let servers = ["a", "b"].map(|id| Server::new(id).with_capacity(1));
    FillFirst::with_options(servers, FillFirstOptions::default().with_overflow(overflow)).unwrap()
}

/// When `accept` turns some servers down and every one it takes is full, the overflow policy
/// decides, not "none accepted".
#[test]
fn fill_first_applies_its_overflow_among_the_accepted_when_they_are_full() {
    let reject = full_pair(Overflow::Reject);
    let _b = reject.acquire_with("k", |s| s.id() == "b").unwrap();
    let refused = reject.acquire_with("k", |s| s.id() != "a").unwrap_err();
    assert_eq!(refused, PickError::Saturated);

    let spill = full_pair(Overflow::Spill);
    let _b = spill.acquire_with("k", |s| s.id() == "b").unwrap();
    let lease = spill.acquire_with("k", |s| s.id() != "a").unwrap();
    assert_eq!(lease.id(), "b", "spills onto the one accepted server");
}

/// With every server full and spilling, the candidates are the healthy servers, each once.
#[test]
fn fill_first_spill_candidates_list_each_healthy_server_once() {
    let servers = ["a", "b", "c"].map(|id| Server::new(id).with_capacity(1));
    let options = FillFirstOptions::default().with_overflow(Overflow::Spill);
    let ff = FillFirst::with_options(servers, options).unwrap();
    ff.set_healthy("c", false).unwrap();
    let _held = [ff.acquire_next().unwrap(), ff.acquire_next().unwrap()];
    let ranked: Vec<&str> = ff.candidates("k", 3).iter().map(|s| s.id()).collect();
    assert_eq!(ranked.len(), 2, "{ranked:?}");
    assert!(ranked.contains(&"a") && ranked.contains(&"b"), "{ranked:?}");
}

/// Between 64 ranks (one pass each) and the whole fleet, ranking sorts once: any count in
/// that range gives distinct healthy servers, as many as asked.
#[test]
fn least_loaded_ranks_any_number_of_candidates_past_64() {
    let ll = LeastLoaded::new((0..100).map(|i| format!("s{i}"))).unwrap();
    for want in [65, 70, 99, 100, 150] {
        let ranked = ll.candidates("k", want);
        let mut ids: Vec<&str> = ranked.iter().map(|s| s.id()).collect();
        assert_eq!(ids.len(), want.min(100), "{want}");
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), want.min(100), "{want}: repeats");
    }
}
