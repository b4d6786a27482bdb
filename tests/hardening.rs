//! Regression tests for defects found by an adversarial review: each test reproduces one, so
//! that the class of defect cannot come back.

use std::sync::atomic::{AtomicU64, Ordering};

use loadring::{
    Balancer, BalancerExt, BoundedLoad, BoundedOptions, Error, HashRing, PickError, RingOptions,
    Server, Update,
};

/// Bounded loads promise that some server always qualifies when only this balancer counts:
/// racing acquires must never see a cap computed from a count that misses their own.
#[test]
fn bounded_loads_never_answer_saturated_to_racing_acquires() {
    for servers in [1usize, 2] {
        let ids: Vec<String> = (0..servers).map(|i| format!("s{i}")).collect();
        let b = BoundedLoad::new(ids.iter().map(String::as_str)).unwrap();
        let saturated = AtomicU64::new(0);
        std::thread::scope(|s| {
            for t in 0..8u32 {
                let (b, saturated) = (&b, &saturated);
                s.spawn(move || {
                    for k in 0..50_000u32 {
                        match b.acquire(&(k ^ t)) {
                            Ok(lease) => drop(lease),
                            Err(PickError::Saturated) => {
                                saturated.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(e) => panic!("{e}"),
                        }
                    }
                });
            }
        });
        assert_eq!(saturated.into_inner(), 0, "{servers} servers");
        assert_eq!(b.in_flight(), 0);
    }
}

/// A huge but finite ε means no bound; it must not overflow the cap.
#[test]
fn a_huge_epsilon_bounds_nothing_and_panics_nowhere() {
    for epsilon in [1e20, f64::MAX] {
        let options = BoundedOptions::default().with_epsilon(epsilon);
        let b = BoundedLoad::with_options(["a", "b", "c"], options).unwrap();
        let held: Vec<_> = (0..100u32).map(|k| b.acquire(&k).unwrap()).collect();
        // With no bound every key stays on its ring server.
        for (k, lease) in (0..100u32).zip(&held) {
            assert_eq!(lease.id(), b.ring().pick(&k).unwrap().id());
        }
    }
}

/// Ring point totals are summed and cast with checks: no panic, no wrap, no huge allocation.
#[test]
fn ring_point_totals_never_overflow() {
    let max = u32::MAX;
    let cases: [(&[u32], u32); 4] = [
        (&[max, max], max),
        (&[max - 1, max - 1, 4], 1 << 31),
        (&[max, max, 2], 1 << 31),
        (&[1, 1], max),
    ];
    for (weights, ppw) in cases {
        let servers = weights
            .iter()
            .enumerate()
            .map(|(i, &w)| Server::new(format!("s{i}")).with_weight(w));
        let options = RingOptions::default().with_points_per_weight(ppw);
        assert!(
            matches!(
                HashRing::with_options(servers, options),
                Err(Error::TooManyPoints { .. })
            ),
            "{weights:?} at {ppw}"
        );
    }
    // Updates check the new total the same way.
    let options = RingOptions::default().with_points_per_weight(1 << 20);
    let mut ring = HashRing::with_options(["a"], options).unwrap();
    assert!(matches!(
        ring.set_weight("a", max),
        Err(Error::TooManyPoints { .. })
    ));
    assert!(matches!(
        ring.add(Server::new("b").with_weight(max)),
        Err(Error::TooManyPoints { .. })
    ));
    assert_eq!(ring.point_count(), 1 << 20);
    assert!(ring.pick("k").is_ok());
}

/// Round-robin's exact shares survive changes through `Shared` (a change works on a clone
/// that shares the rotation, so picks made meanwhile are neither replayed nor lost) and ranked
/// candidates only look.
#[test]
fn round_robin_shares_stay_exact_through_changes_and_candidates() {
    use loadring::{RoundRobin, Shared};

    let shared = Shared::new(RoundRobin::new(["a", "b", "c"]).unwrap());
    let counts: [AtomicU64; 3] = Default::default();
    let picks_per_thread = 30_000u64;
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..picks_per_thread {
                    let id = shared.next().unwrap();
                    let i = usize::from(id.id().as_bytes()[0] - b'a');
                    counts[i].fetch_add(1, Ordering::Relaxed);
                    // Looking at the ranking takes no slot.
                    assert_eq!(shared.candidates("any", 3).len(), 3);
                }
            });
        }
        s.spawn(|| {
            for _ in 0..2_000 {
                shared.update(|_| Ok(())).unwrap();
            }
        });
    });
    let counts = counts.map(AtomicU64::into_inner);
    assert_eq!(counts, [20_000; 3], "{counts:?}");

    let rr = RoundRobin::new(["a", "b", "c"]).unwrap();
    rr.next().unwrap();
    let ranked: Vec<String> = rr
        .candidates("k", 3)
        .iter()
        .map(|s| s.id().into())
        .collect();
    assert_eq!(ranked, ["b", "c", "a"], "the coming slots, in order");
    assert_eq!(rr.select_with("k", 3, |s| s.id() == "c").unwrap().id(), "c");
    assert_eq!(rr.next().unwrap().id(), "b", "looking took no slot");
}

/// Ketama: the last resort among servers without points goes by id, not by the order the
/// servers came in; two ids that the flavour hashes alike are an error.
#[cfg(feature = "ketama")]
#[test]
fn ketama_is_deterministic_at_its_edges() {
    use loadring::{KetamaFlavor, KetamaOptions, KetamaRing};

    let big = || Server::new("big:1").with_weight(u32::MAX);
    let pick_with_big_down = |servers: Vec<Server>| {
        let ring = KetamaRing::new(servers).unwrap();
        ring.set_healthy("big:1", false).unwrap();
        ring.pick("k").unwrap().id().to_owned()
    };
    let xy = pick_with_big_down(vec![big(), Server::new("x:1"), Server::new("y:1")]);
    let yx = pick_with_big_down(vec![big(), Server::new("y:1"), Server::new("x:1")]);
    assert_eq!((xy.as_str(), yx.as_str()), ("x:1", "x:1"));

    let memcached = KetamaOptions::default().with_flavor(KetamaFlavor::Libmemcached);
    assert_eq!(
        KetamaRing::with_options(["10.0.0.1:11211", "10.0.0.1"], memcached).unwrap_err(),
        Error::SameHash {
            id: "10.0.0.1".into(),
            other: "10.0.0.1:11211".into()
        }
    );
    // libketama names every server by its whole id: no clash.
    assert!(KetamaRing::new(["10.0.0.1:11211", "10.0.0.1"]).is_ok());
}

/// Many ranked candidates (sorted once) agree with a few (one pass per rank).
#[test]
fn rendezvous_ranks_alike_however_many_are_asked() {
    use loadring::Rendezvous;
    let servers = (0..100).map(|i| Server::new(format!("s{i}")).with_weight(1 + i % 3));
    let hrw = Rendezvous::new(servers).unwrap();
    hrw.servers()[7].set_healthy(false);
    for k in 0..200u32 {
        let few: Vec<&str> = hrw.candidates(&k, 64).iter().map(|s| s.id()).collect();
        let all: Vec<&str> = hrw.candidates(&k, 100).iter().map(|s| s.id()).collect();
        assert_eq!(all.len(), 99);
        assert_eq!(few, all[..64], "key {k}");
        assert_eq!(all[0], hrw.pick(&k).unwrap().id());
    }
}

/// Least-loaded honours weights in its draws and its tie-breaks, at low and at high load.
#[test]
fn least_loaded_honours_weights_in_both_modes() {
    use loadring::{Choice, LeastLoaded, LeastLoadedOptions};

    let fleet = || {
        std::iter::once(Server::new("heavy").with_weight(100))
            .chain((0..9).map(|i| Server::new(format!("light-{i}"))))
    };
    for choice in [Choice::PowerOfTwo, Choice::FullScan] {
        let options = LeastLoadedOptions::default()
            .with_seed(11)
            .with_choice(choice);
        let ll = LeastLoaded::with_options(fleet(), options).unwrap();
        // High load: 1090 leases held, fair share 1000.
        let held: Vec<_> = (0..1090).map(|_| ll.acquire_next().unwrap()).collect();
        let heavy = ll.server("heavy").unwrap().in_flight();
        assert!(
            (950..=1050).contains(&heavy),
            "{choice:?}: heavy holds {heavy}"
        );
        drop(held);
        // Low load: acquire and release, fair share 10 000 × 100/109 ≈ 9 174.
        let mut on_heavy = 0;
        for _ in 0..10_000 {
            on_heavy += u32::from(ll.acquire_next().unwrap().id() == "heavy");
        }
        assert!(
            (8_900..=9_400).contains(&on_heavy),
            "{choice:?}: heavy got {on_heavy}"
        );
    }
}

/// A power-of-two pair is always two distinct servers: with one idle server beside a busy
/// one, the idle one wins every time.
#[test]
fn a_power_of_two_pair_never_draws_one_server_twice() {
    use loadring::{LeastLoaded, LeastLoadedOptions};

    for weights in [[1, 1], [1, 5], [5, 1]] {
        let servers = [
            Server::new("busy").with_weight(weights[0]),
            Server::new("idle").with_weight(weights[1]),
        ];
        let ll =
            LeastLoaded::with_options(servers, LeastLoadedOptions::default().with_seed(3)).unwrap();
        let _held: Vec<_> = (0..20)
            .map(|_| ll.acquire_with("k", |s| s.id() == "busy").unwrap())
            .collect();
        for _ in 0..1000 {
            assert_eq!(ll.next().unwrap().id(), "idle", "weights {weights:?}");
        }
    }
}

/// Reported loads are compared per unit of weight: divided by it, not multiplied.
#[test]
fn reported_loads_are_compared_per_unit_of_weight() {
    use loadring::{Choice, LeastLoaded, LeastLoadedOptions, LoadSource};
    for choice in [Choice::FullScan, Choice::PowerOfTwo] {
        let options = LeastLoadedOptions::default()
            .with_choice(choice)
            .with_load_source(LoadSource::Reported)
            .with_seed(1);
        let servers = [Server::new("a"), Server::new("b").with_weight(4)];
        let ll = LeastLoaded::with_options(servers, options).unwrap();
        ll.report_load("a", 1.0).unwrap();
        ll.report_load("b", 2.0).unwrap(); // 0.5 per unit of weight
        for _ in 0..100 {
            assert_eq!(ll.next().unwrap().id(), "b", "{choice:?}");
        }
    }
}

/// Bounded loads: a pick answers exactly where the next lease goes, at the cap too.
#[test]
fn a_bounded_pick_agrees_with_the_lease_at_the_cap() {
    let b = BoundedLoad::with_options(
        ["a", "b", "c", "d"],
        BoundedOptions::default().with_points_per_weight(16),
    )
    .unwrap();
    let mut held = Vec::new();
    for k in 0..400u32 {
        let key = k % 3; // hot keys, so servers reach their caps
        let looked = b.pick(&key).unwrap().id().to_owned();
        let lease = b.acquire(&key).unwrap();
        assert_eq!(lease.id(), looked, "lease {k}");
        held.push(lease);
        if k % 5 == 4 {
            drop(held.remove(0));
        }
    }
}

/// Round-robin: a long run of unhealthy servers does not shift shares between the others.
#[test]
fn round_robin_keeps_shares_across_a_long_unhealthy_run() {
    use loadring::RoundRobin;
    let rr = RoundRobin::new((0..12).map(|i| format!("s{i}"))).unwrap();
    for i in 1..11 {
        rr.set_healthy(&format!("s{i}"), false).unwrap();
    }
    let mut first = 0;
    for _ in 0..1200 {
        first += u32::from(rr.next().unwrap().id() == "s0");
    }
    assert_eq!(first, 600);
}

/// Two writers at once lose no change.
#[test]
fn concurrent_writers_lose_no_change() {
    use loadring::{HashRing, Shared};
    let shared = Shared::new(HashRing::new(["seed"]).unwrap());
    std::thread::scope(|s| {
        for t in 0..3 {
            let shared = &shared;
            s.spawn(move || {
                for i in 0..200 {
                    shared.add(format!("w{t}-{i}")).unwrap();
                }
            });
        }
    });
    assert_eq!(shared.snapshot().len(), 601);
}

/// Every update keeps a keyed strategy's hasher: picks equal a fresh build with it.
#[test]
fn updates_keep_the_keyed_hasher() {
    use loadring::{AnyBalancer, KeyHasher, Strategy};
    let hasher = KeyHasher::siphash13(*b"0123456789abcdef");
    for strategy in Strategy::all() {
        if !strategy.is_keyed() || strategy.name() == "ketama" {
            continue;
        }
        let servers = (0..8).map(|i| Server::new(format!("s{i}")));
        let mut b = AnyBalancer::new(strategy, servers)
            .unwrap()
            .with_hasher(hasher);
        b.add(Server::new("s8")).unwrap();
        b.remove("s3").unwrap();
        b.set_servers(b.servers().to_vec()).unwrap();
        let fresh = AnyBalancer::new(strategy, b.servers().to_vec())
            .unwrap()
            .with_hasher(hasher);
        assert_eq!(b.hasher(), &hasher, "{}", strategy.name());
        for k in 0..500u32 {
            assert_eq!(b.pick(&k).unwrap().id(), fresh.pick(&k).unwrap().id());
        }
    }
}

/// Narrow hashes: the ketama key hash outside the ketama ring, and a prehashed value below
/// 2³² wrapped with `Prehashed::mixed`, spread over the servers instead of collapsing onto one.
#[test]
fn narrow_hashes_spread_over_the_servers() {
    use loadring::{AnyBalancer, Prehashed, Strategy};
    use std::collections::HashMap;

    for strategy in Strategy::all() {
        if !strategy.is_keyed() || strategy.name() == "ketama" {
            continue;
        }
        let b = AnyBalancer::new(strategy, (0..10).map(|i| format!("s{i}"))).unwrap();
        let mut seen: HashMap<&str, u32> = HashMap::new();
        for crc in 0..10_000u64 {
            *seen
                .entry(b.pick(&Prehashed::mixed(crc)).unwrap().id())
                .or_default() += 1;
        }
        let max = seen.values().max().copied().unwrap_or(0);
        assert!(
            seen.len() == 10 && max < 1_400,
            "{}: {seen:?}",
            strategy.name()
        );

        #[cfg(feature = "ketama")]
        {
            let md5 = b.clone().with_hasher(loadring::KeyHasher::Md5Ketama);
            let mut seen: HashMap<&str, u32> = HashMap::new();
            for k in 0..10_000u32 {
                *seen.entry(md5.pick(&k).unwrap().id()).or_default() += 1;
            }
            assert_eq!(
                seen.len(),
                10,
                "{} with the ketama hash: {seen:?}",
                strategy.name()
            );
        }
    }
}

/// Least-loaded ranks by load per weight, from the least loaded up, whether few ranks are
/// asked (one pass each) or many (one sort).
#[test]
fn least_loaded_ranks_by_load_few_or_many() {
    use loadring::{Choice, LeastLoaded, LeastLoadedOptions, LoadSource};
    let options = LeastLoadedOptions::default()
        .with_choice(Choice::FullScan)
        .with_load_source(LoadSource::Reported);
    let ll = LeastLoaded::with_options((0..100).map(|i| format!("s{i:02}")), options).unwrap();
    // Server i reports 99 − i: s99 is the least loaded, s00 the most.
    for i in 0..100 {
        ll.report_load(&format!("s{i:02}"), f64::from(99 - i))
            .unwrap();
    }
    let want: Vec<String> = (0..100).rev().map(|i| format!("s{i:02}")).collect();
    let few: Vec<&str> = ll.candidates("k", 10).iter().map(|s| s.id()).collect();
    let many: Vec<&str> = ll.candidates("k", 100).iter().map(|s| s.id()).collect();
    assert_eq!(few, want[..10]);
    assert_eq!(many, want);
}
