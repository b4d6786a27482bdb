//! The contract of `Balancer` and `Update`, written once and checked for every strategy of
//! `Strategy::all()`: a new strategy is checked by adding it to that list.

use std::panic::{AssertUnwindSafe, catch_unwind};

use loadring::{
    AnyBalancer, Balancer, BalancerExt, Error, InitialHealth, PickError, Server, Shared, Strategy,
    SyncOptions, Update,
};

/// `n` servers of weight 1 with room for 1000 requests each (fill-first needs a capacity).
fn servers(n: usize) -> Vec<Server> {
    (0..n)
        .map(|i| Server::new(format!("10.9.0.{i}:80")).with_capacity(1000))
        .collect()
}

fn build(strategy: Strategy, servers: Vec<Server>) -> AnyBalancer {
    AnyBalancer::new(strategy, servers).unwrap_or_else(|e| panic!("{}: {e}", strategy.name()))
}

fn in_flight(b: &dyn Balancer) -> Vec<u64> {
    b.servers().iter().map(Server::in_flight).collect()
}

fn keys() -> impl Iterator<Item = String> {
    (0..2000).map(|k| format!("key-{k}"))
}

#[test]
fn an_empty_fleet_answers_no_servers_then_grows() {
    for strategy in Strategy::all() {
        let name = strategy.name();
        let mut b = build(strategy, Vec::new());
        assert!(b.is_empty(), "{name}");
        assert_eq!(b.pick("k").unwrap_err(), PickError::NoServers, "{name}");
        assert_eq!(b.next().unwrap_err(), PickError::NoServers, "{name}");
        assert_eq!(b.acquire("k").unwrap_err(), PickError::NoServers, "{name}");
        assert_eq!(
            b.acquire_with("k", |_| true).unwrap_err(),
            PickError::NoServers,
            "{name}"
        );
        assert_eq!(
            b.select_with("k", 3, |_| true).unwrap_err(),
            PickError::NoServers,
            "{name}"
        );
        assert!(b.candidates("k", 3).is_empty(), "{name}");
        b.add(servers(1).remove(0)).unwrap();
        assert_eq!(b.acquire("k").unwrap().id(), "10.9.0.0:80", "{name}");
        b.remove("10.9.0.0:80").unwrap();
        assert_eq!(b.pick("k").unwrap_err(), PickError::NoServers, "{name}");
    }
}

#[test]
fn every_strategy_counts_leases_through_dyn_and_releases_them_on_unwind() {
    for strategy in Strategy::all() {
        let name = strategy.name();
        let b: Box<dyn Balancer> = Box::new(build(strategy, servers(5)));
        let held: Vec<_> = keys().take(40).map(|k| b.acquire(&k).unwrap()).collect();
        assert_eq!(in_flight(&*b).iter().sum::<u64>(), 40, "{name}");
        assert!(held.iter().all(|l| l.in_flight() >= 1), "{name}");
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let _lease = b.acquire_next().unwrap();
            panic!("the request failed");
        }));
        assert!(outcome.is_err());
        assert_eq!(in_flight(&*b).iter().sum::<u64>(), 40, "{name}");
        drop(held);
        assert!(in_flight(&*b).iter().all(|&n| n == 0), "{name}");
    }
}

#[test]
fn all_unhealthy_is_an_error_and_health_moves_only_the_failed_servers_keys() {
    for strategy in Strategy::all() {
        let name = strategy.name();
        let b = build(strategy, servers(8));
        for s in b.servers() {
            s.set_healthy(false);
        }
        assert_eq!(
            b.pick("k").unwrap_err(),
            PickError::NoHealthyServer,
            "{name}"
        );
        assert_eq!(
            b.acquire("k").unwrap_err(),
            PickError::NoHealthyServer,
            "{name}"
        );
        assert!(b.candidates("k", 4).is_empty(), "{name}");
        for s in b.servers() {
            s.set_healthy(true);
        }
        if !strategy.is_keyed() {
            continue;
        }
        let before: Vec<String> = keys().map(|k| b.pick(&k).unwrap().id().into()).collect();
        let victim = b.servers()[3].id().to_owned();
        b.set_healthy(&victim, false).unwrap();
        for (k, was) in keys().zip(&before) {
            let now = b.pick(&k).unwrap().id();
            if *was == victim {
                assert_ne!(now, victim, "{name}: {k}");
            } else {
                assert_eq!(now, was, "{name}: {k} moved though its server is healthy");
            }
        }
        b.set_healthy(&victim, true).unwrap();
        let after: Vec<String> = keys().map(|k| b.pick(&k).unwrap().id().into()).collect();
        assert_eq!(after, before, "{name}: recovery restores every key");
    }
}

#[test]
fn updates_equal_a_fresh_build_and_failed_ones_change_nothing() {
    for strategy in Strategy::all() {
        let name = strategy.name();
        let mut b = build(strategy, servers(6));
        b.add(Server::new("10.9.1.1:80").with_capacity(1000))
            .unwrap();
        b.remove("10.9.0.2:80").unwrap();
        let reweighted = b.set_weight("10.9.0.4:80", 3);
        match &reweighted {
            Ok(()) => assert_eq!(b.server("10.9.0.4:80").unwrap().weight(), 3),
            Err(e) => assert!(
                matches!(e, Error::WeightsUnsupported { strategy, .. } if *strategy == name),
                "{name}: {e}"
            ),
        }
        let fresh = build(strategy, b.servers().to_vec());
        let ids = |b: &AnyBalancer| -> Vec<String> {
            b.servers().iter().map(|s| s.id().to_owned()).collect()
        };
        assert_eq!(ids(&b), ids(&fresh), "{name}");
        if strategy.is_keyed() {
            for k in keys() {
                assert_eq!(
                    b.pick(&k).unwrap().id(),
                    fresh.pick(&k).unwrap().id(),
                    "{name}"
                );
            }
        }
        let before = ids(&b);
        assert_eq!(
            b.add(Server::new("10.9.0.0:80")).unwrap_err(),
            Error::DuplicateServer {
                id: "10.9.0.0:80".into()
            },
            "{name}"
        );
        assert!(matches!(b.remove("nope"), Err(Error::UnknownServer { .. })));
        assert!(matches!(
            b.set_weight("10.9.0.0:80", 0),
            Err(Error::ZeroWeight { .. })
        ));
        assert_eq!(ids(&b), before, "{name}: failed changes leave it as it was");
    }
}

#[test]
fn leases_and_cells_survive_every_update_through_shared() {
    for strategy in Strategy::all() {
        let name = strategy.name();
        let shared = Shared::new(build(strategy, servers(4)));
        let held: Vec<_> = keys()
            .take(8)
            .map(|k| shared.acquire(&k).unwrap())
            .collect();
        let counts = |shared: &Shared<AnyBalancer>| -> Vec<(String, u64)> {
            let snapshot = shared.snapshot();
            let mut v: Vec<_> = snapshot
                .servers()
                .iter()
                .map(|s| (s.id().to_owned(), s.in_flight()))
                .collect();
            v.sort();
            v
        };
        let before = counts(&shared);
        shared.set_healthy("10.9.0.1:80", false).unwrap();
        shared.report_load("10.9.0.1:80", 2.5).unwrap();
        shared
            .add(Server::new("10.9.1.1:80").with_capacity(1000))
            .unwrap();
        let gone = shared.remove("10.9.0.3:80").unwrap();
        let _ = shared.set_weight("10.9.0.0:80", 2); // refused by unweighted strategies
        let mut list = shared.snapshot().servers().to_vec();
        list.push(Server::new("10.9.1.2:80").with_capacity(1000));
        let report = shared.sync(list, SyncOptions::default()).unwrap();
        assert_eq!((report.added, report.removed), (1, 0), "{name}");

        let after = counts(&shared);
        for (id, n) in &before {
            if id != gone.id() {
                assert!(
                    after.contains(&(id.clone(), *n)),
                    "{name}: {id} lost its count"
                );
            }
        }
        let s1 = shared.snapshot().server("10.9.0.1:80").unwrap().clone();
        assert_eq!((s1.is_healthy(), s1.load()), (false, 2.5), "{name}");
        // Counting still works after the updates (bounded loads keep their lease group).
        let more: Vec<_> = keys()
            .take(8)
            .map(|k| shared.acquire(&k).unwrap())
            .collect();
        drop(held);
        drop(more);
        assert!(counts(&shared).iter().all(|(_, n)| *n == 0), "{name}");
        assert_eq!(
            gone.in_flight(),
            0,
            "{name}: the removed server's leases released"
        );
        if let AnyBalancer::Bounded(b) = &*shared.snapshot() {
            assert_eq!(b.in_flight(), 0);
        }
    }
}

#[test]
fn sync_keeps_cells_adds_and_removes_in_one_step() {
    for strategy in Strategy::all() {
        let name = strategy.name();
        let mut b = build(strategy, servers(4));
        let kept = b.server("10.9.0.1:80").unwrap().clone();
        kept.set_healthy(false);
        let lease = b
            .acquire_with("k", |s| s.id() == "10.9.0.2:80")
            .unwrap()
            .into_owned();
        let wanted = vec![
            Server::new("10.9.0.1:80").with_capacity(1000),
            Server::new("10.9.0.2:80").with_capacity(7),
            Server::new("10.9.2.1:80").with_capacity(1000),
        ];
        let options = SyncOptions::default().with_new_servers(InitialHealth::Unhealthy);
        let report = b.sync(wanted, options).unwrap();
        assert_eq!(
            (
                report.added,
                report.removed,
                report.kept,
                report.redescribed
            ),
            (1, 2, 2, 1),
            "{name}"
        );
        assert_eq!(b.len(), 3, "{name}");
        let now = b.server("10.9.0.1:80").unwrap();
        assert!(now.shares_state_with(&kept), "{name}");
        assert!(!now.is_healthy(), "{name}");
        assert_eq!(
            b.server("10.9.0.2:80").unwrap().capacity(),
            Some(7),
            "{name}"
        );
        assert!(
            !b.is_healthy("10.9.2.1:80").unwrap(),
            "{name}: new servers start down"
        );
        assert!(b.server("10.9.0.0:80").is_none(), "{name}");
        assert_eq!(b.server("10.9.0.2:80").unwrap().in_flight(), 1, "{name}");
        drop(lease);

        let dup = vec![Server::new("a"), Server::new("a")];
        assert_eq!(
            b.sync(dup, SyncOptions::default()).unwrap_err(),
            Error::DuplicateServer { id: "a".into() }
        );
        assert_eq!(b.len(), 3, "{name}: a failed sync changes nothing");
        let same = b.servers().to_vec();
        assert!(
            !b.sync(same, SyncOptions::default()).unwrap().changed(),
            "{name}"
        );
        let report = b.sync(Vec::new(), SyncOptions::default()).unwrap();
        assert_eq!(
            (report.removed, b.len()),
            (3, 0),
            "{name}: discovery may say zero"
        );
    }
}

#[test]
fn a_retry_that_excludes_tried_servers_visits_each_once() {
    for strategy in Strategy::all() {
        let name = strategy.name();
        let b = build(strategy, servers(5));
        let mut tried: Vec<String> = Vec::new();
        for _ in 0..5 {
            let lease = b
                .acquire_with("req-1", |s| !tried.iter().any(|t| t == s.id()))
                .unwrap_or_else(|e| panic!("{name}: {e} after {tried:?}"));
            tried.push(lease.id().to_owned());
        }
        tried.sort();
        tried.dedup();
        assert_eq!(tried.len(), 5, "{name}");
        let mut asked = 0;
        let refused = b.acquire_with("req-1", |s| {
            asked += 1;
            !tried.iter().any(|t| t == s.id())
        });
        assert_eq!(
            refused.unwrap_err(),
            PickError::NoneAccepted { tried: 5 },
            "{name}"
        );
        assert_eq!(asked, 5, "{name}: each server is offered once");
        assert!(b.servers().iter().all(|s| s.in_flight() == 0), "{name}");
    }
}

#[test]
fn select_with_zero_iterations_still_offers_the_pick() {
    for strategy in Strategy::all() {
        let b = build(strategy, servers(3));
        assert!(
            b.select_with("k", 0, |_| true).is_ok(),
            "{}",
            strategy.name()
        );
    }
}

/// A draining server takes no new request or key while another server can serve, keeps its
/// health, lets its leases finish, and its keys move exactly as if it were down.
#[test]
fn a_draining_server_takes_nothing_new_and_its_count_reaches_zero() {
    for strategy in Strategy::all() {
        let name = strategy.name();
        let b = build(strategy, servers(6));
        let draining = b.servers()[2].clone();
        let picks = || -> Vec<String> { keys().map(|k| b.pick(&k).unwrap().id().into()).collect() };
        let before = picks();
        draining.set_healthy(false);
        let while_down = picks();
        draining.set_healthy(true);
        draining.set_draining(true);
        assert!(draining.is_healthy() && !draining.is_available(), "{name}");
        assert_eq!(b.available_count(), 5, "{name}");
        if strategy.is_keyed() {
            let moved = picks()
                .iter()
                .zip(&while_down)
                .filter(|(a, b)| a != b)
                .count();
            assert_eq!(moved, 0, "{name}: draining moves keys as being down does");
        }
        draining.set_draining(false);
        if strategy.is_keyed() {
            let moved = picks().iter().zip(&before).filter(|(a, b)| a != b).count();
            assert_eq!(moved, 0, "{name}: the end of a drain restores every key");
        }

        let held: Vec<_> = keys().take(60).map(|k| b.acquire(&k).unwrap()).collect();
        let on_it = held.iter().filter(|l| l.id() == draining.id()).count() as u64;
        draining.set_draining(true);
        let mut new = Vec::new();
        for k in keys() {
            assert_ne!(b.pick(&k).unwrap().id(), draining.id(), "{name}: {k}");
            let lease = b.acquire(&k).unwrap();
            assert_ne!(lease.id(), draining.id(), "{name}: {k}");
            new.push(lease);
            let ranked = b.candidates(&k, 6);
            assert!(!ranked.iter().any(|s| s.id() == draining.id()), "{name}");
        }
        assert_eq!(draining.in_flight(), on_it, "{name}: its leases run on");
        drop((new, held));
        assert_eq!(draining.in_flight(), 0, "{name}");
    }
}

/// A discovery list that gives a server weight 0 drains it (IPVS's and keepalived's meaning)
/// instead of failing the update; weight above 0 ends that drain, and no sync ends a drain set
/// by hand.
#[test]
fn sync_drains_servers_listed_with_weight_zero() {
    for strategy in Strategy::all() {
        let name = strategy.name();
        let b = Shared::new(build(strategy, servers(4)));
        let lease = b.acquire_with("k", |s| s.id() == "10.9.0.1:80").unwrap();
        let mut list = servers(5);
        list[1] = list[1].clone().with_weight(0);
        list[4] = list[4].clone().with_weight(0);
        let report = b.sync(list, SyncOptions::default()).unwrap();
        assert_eq!(
            (report.added, report.kept, report.draining),
            (1, 4, 2),
            "{name}"
        );
        let snapshot = b.snapshot();
        let weights: Vec<u32> = snapshot.servers().iter().map(Server::weight).collect();
        assert_eq!(
            weights,
            [1, 1, 1, 1, 1],
            "{name}: a drained server keeps its weight"
        );
        let ids: Vec<&str> = snapshot.servers().iter().map(Server::id).collect();
        let drained: Vec<bool> = snapshot.servers().iter().map(Server::is_draining).collect();
        assert_eq!(
            drained,
            [false, true, false, false, true],
            "{name}: {ids:?}"
        );
        for k in keys() {
            let id = b.pick(&k).unwrap();
            assert!(
                id.id() != "10.9.0.1:80" && id.id() != "10.9.0.4:80",
                "{name}"
            );
        }
        assert_eq!(
            lease.in_flight(),
            1,
            "{name}: the lease finishes on its drained server"
        );
        drop(lease);
        assert_eq!(snapshot.servers()[1].in_flight(), 0, "{name}");
        // A drain by hand is apart: setting it off leaves discovery's drain on.
        let snapshot = b.snapshot();
        snapshot.servers()[1].set_draining(false);
        assert!(snapshot.servers()[1].is_draining(), "{name}");
        snapshot.servers()[2].set_draining(true);
        let report = b.sync(servers(5), SyncOptions::default()).unwrap();
        assert_eq!(report.draining, 0, "{name}");
        let drained: Vec<bool> = b
            .snapshot()
            .servers()
            .iter()
            .map(Server::is_draining)
            .collect();
        assert_eq!(
            drained,
            [false, false, true, false, false],
            "{name}: weight above 0 ends discovery's drains, not one set by hand"
        );
        b.snapshot().servers()[2].set_draining(false);
        assert!(
            b.snapshot().servers().iter().all(Server::is_available),
            "{name}"
        );
    }
}

/// With a panic threshold, a fleet with too few healthy servers spreads over all of them
/// (draining ones aside) instead of piling onto the survivors; with enough healthy, picks keep
/// to the healthy; updates keep the threshold.
#[test]
fn below_the_panic_threshold_picks_ignore_health() {
    for strategy in Strategy::all() {
        let name = strategy.name();
        let b = Shared::new(build(strategy, servers(10)));
        assert!(b.snapshot().set_panic_threshold(1.5).is_err(), "{name}");
        assert!(
            b.snapshot().set_panic_threshold(f64::NAN).is_err(),
            "{name}"
        );
        b.set_panic_threshold(0.5).unwrap();
        let ids: Vec<String> = servers(10).iter().map(|s| s.id().into()).collect();
        let spread_over = |b: &Shared<AnyBalancer>, n: usize| -> Vec<usize> {
            let mut count = vec![0; 10];
            let mut held = Vec::new();
            for k in keys().take(n) {
                let lease = b.acquire(&k).unwrap_or_else(|e| panic!("{name}: {e}"));
                count[ids.iter().position(|id| id == lease.id()).unwrap()] += 1;
                held.push(lease);
            }
            count
        };
        let spread = |b: &Shared<AnyBalancer>| spread_over(b, 2000);
        // 6 of 10 healthy: above the threshold, only the healthy serve.
        for id in &ids[6..] {
            b.set_healthy(id, false).unwrap();
        }
        assert!(!b.snapshot().in_panic(), "{name}");
        let count = spread(&b);
        assert!(count[6..].iter().all(|&c| c == 0), "{name}: {count:?}");
        // 1 of 10: panic, the load spreads over all ten (fill-first fills in order).
        for id in &ids[1..6] {
            b.set_healthy(id, false).unwrap();
        }
        assert!(b.snapshot().in_panic(), "{name}");
        let count = spread(&b);
        if strategy == Strategy::FillFirst(Default::default()) {
            assert_eq!(count[1], 1000, "{name}: {count:?}");
        } else {
            assert!(count.iter().all(|&c| c > 20), "{name}: {count:?}");
        }
        // A draining server stays out, panic or not.
        b.snapshot().servers()[3].set_draining(true);
        assert_eq!(spread(&b)[3], 0, "{name}");
        // Updates keep the threshold and the panic.
        b.add(Server::new("10.9.0.99:80").with_capacity(1000))
            .unwrap();
        b.remove("10.9.0.99:80").unwrap();
        assert_eq!(b.snapshot().panic_threshold(), 0.5, "{name}");
        assert!(b.snapshot().in_panic(), "{name}");
        // Off again: the one healthy server takes everything.
        b.set_panic_threshold(0.0).unwrap();
        assert!(!b.snapshot().in_panic(), "{name}");
        let count = spread_over(&b, 500);
        assert_eq!(count[0], 500, "{name}: {count:?}");
    }
}
