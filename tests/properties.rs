//! One property suite, written once and run against every strategy.
//!
//! A hash strategy joins with one line of `hash_strategy!`, a picker that ignores keys with
//! one line of `picker_strategy!`; strategies that cannot honour weights add
//! `weights = false`, and their fleets all have weight 1.

use loadring::{
    Balancer, BalancerExt, Error, HashRing, Modulo, PickError, RingOptions, Server, Update,
};
use proptest::prelude::*;

/// The largest weight a generated fleet holds, by whether the strategy honours weights.
const fn max_weight(weighted: bool) -> u32 {
    if weighted { 4 } else { 1 }
}

/// Cases of the properties that change the fleet, which rebuild several times each.
const UPDATE_CASES: u32 = 64;

/// A fleet: distinct ids with weights 1 to `max_weight`.
fn fleet(max: usize, max_weight: u32) -> impl Strategy<Value = Vec<(String, u32)>> {
    prop::collection::btree_map("[a-z0-9.:]{1,12}", 1u32..=max_weight, 1..=max)
        .prop_map(|m| m.into_iter().collect())
}

fn servers(spec: &[(String, u32)]) -> Vec<Server> {
    spec.iter()
        .map(|(id, w)| Server::new(id.as_str()).with_weight(*w))
        .collect()
}

fn keys() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 0..24), 1..200)
}

/// Checks every pick and candidate list against the health flags.
fn check_health(b: &dyn Balancer, keys: &[Vec<u8>]) -> Result<(), TestCaseError> {
    let any_healthy = b.servers().iter().any(Server::is_healthy);
    for k in keys {
        match b.pick(k.as_slice()) {
            Ok(s) => prop_assert!(s.is_healthy(), "picked unhealthy {}", s.id()),
            Err(e) => {
                prop_assert!(!any_healthy, "error {e} while a server is healthy");
                prop_assert_eq!(e, PickError::NoHealthyServer);
            }
        }
        let ranked = b.candidates(k.as_slice(), 8);
        prop_assert!(ranked.iter().all(|s| s.is_healthy()));
        for (i, s) in ranked.iter().enumerate() {
            prop_assert!(
                ranked[..i].iter().all(|t| t.id() != s.id()),
                "repeated candidate"
            );
        }
        prop_assert_eq!(ranked.is_empty(), !any_healthy);
    }
    Ok(())
}

/// Properties that every strategy keeps.
macro_rules! picker_properties {
    ($build:expr, weights = $weighted:expr) => {
        const MAX_WEIGHT: u32 = max_weight($weighted);

        fn build_typed(servers: Vec<Server>) -> impl Update + 'static {
            ($build)(servers).expect("valid fleet")
        }

        fn build(spec: &[(String, u32)]) -> Box<dyn Balancer> {
            Box::new(build_typed(servers(spec)))
        }

        proptest! {
            #[test]
            fn never_unhealthy_while_a_healthy_exists(
                spec in fleet(24, MAX_WEIGHT),
                down in prop::collection::vec(any::<bool>(), 24),
                keys in keys(),
            ) {
                let b = build(&spec);
                for (s, &d) in b.servers().iter().zip(&down) {
                    b.set_healthy(s.id(), !d).unwrap();
                }
                check_health(b.as_ref(), &keys)?;
            }

            #[test]
            fn all_unhealthy_is_an_error(spec in fleet(12, MAX_WEIGHT), keys in keys()) {
                let b = build(&spec);
                for s in b.servers() {
                    b.set_healthy(s.id(), false).unwrap();
                }
                for k in &keys {
                    prop_assert_eq!(
                        b.pick(k.as_slice()).unwrap_err(),
                        PickError::NoHealthyServer
                    );
                }
                prop_assert!(b.candidates("k", 4).is_empty());
            }

            #[test]
            fn unknown_ids_are_errors(spec in fleet(6, MAX_WEIGHT)) {
                let b = build(&spec);
                let err = b.set_healthy("no-such-server-id-at-all", false).unwrap_err();
                prop_assert_eq!(err, Error::UnknownServer { id: "no-such-server-id-at-all".into() });
            }
        }

        proptest! {
            // Each case rebuilds many times (a Maglev table of 65 537 slots, in a debug build).
            #![proptest_config(ProptestConfig::with_cases(UPDATE_CASES))]

            #[test]
            fn the_last_server_may_go_and_come_back(spec in fleet(8, MAX_WEIGHT), keys in keys()) {
                let mut b = build_typed(servers(&spec));
                let mut gone = Vec::new();
                for (id, _) in &spec {
                    gone.push(b.remove(id).unwrap());
                }
                prop_assert!(b.is_empty());
                for k in &keys {
                    prop_assert_eq!(b.pick(k.as_slice()).unwrap_err(), PickError::NoServers);
                    prop_assert_eq!(b.acquire(k.as_slice()).unwrap_err(), PickError::NoServers);
                }
                prop_assert!(b.candidates("k", 4).is_empty());
                let back = gone.swap_remove(0);
                b.add(back.clone()).unwrap();
                for k in &keys {
                    prop_assert_eq!(b.pick(k.as_slice()).unwrap().id(), back.id());
                }
            }
        }
    };
}

/// Properties of strategies that map keys: determinism and minimal movement on health flips.
macro_rules! hash_properties {
    ($build:expr, ordered = $ordered:expr, weights = $weighted:expr) => {
        picker_properties!($build, weights = $weighted);

        proptest! {
            #[test]
            fn same_key_same_server_across_instances(
                spec in fleet(24, MAX_WEIGHT),
                rotate in any::<prop::sample::Index>(),
                keys in keys(),
            ) {
                let a = build(&spec);
                let mut other = spec.clone();
                if !$ordered {
                    other.reverse();
                    let r = rotate.index(other.len());
                    other.rotate_left(r);
                }
                let b = build(&other);
                for k in &keys {
                    prop_assert_eq!(a.pick(k.as_slice())?.id(), b.pick(k.as_slice())?.id());
                }
            }

            #[test]
            fn a_health_flip_moves_only_that_servers_keys(
                spec in fleet(24, MAX_WEIGHT),
                victim in any::<prop::sample::Index>(),
                keys in keys(),
            ) {
                let b = build(&spec);
                let before: Vec<String> =
                    keys.iter().map(|k| b.pick(k.as_slice()).unwrap().id().to_owned()).collect();
                let victim = b.servers()[victim.index(b.len())].id().to_owned();
                b.set_healthy(&victim, false).unwrap();
                for (k, was) in keys.iter().zip(&before) {
                    let now = b.pick(k.as_slice());
                    if *was == victim {
                        match now {
                            Ok(s) => prop_assert_ne!(s.id(), victim.as_str()),
                            Err(e) => {
                                prop_assert_eq!(b.len(), 1);
                                prop_assert_eq!(e, PickError::NoHealthyServer);
                            }
                        }
                    } else {
                        prop_assert_eq!(now.unwrap().id(), was.as_str(), "a bystander key moved");
                    }
                }
                b.set_healthy(&victim, true).unwrap();
                for (k, was) in keys.iter().zip(&before) {
                    prop_assert_eq!(b.pick(k.as_slice()).unwrap().id(), was.as_str());
                }
            }

            #[test]
            fn the_first_candidate_is_the_pick(spec in fleet(24, MAX_WEIGHT), keys in keys()) {
                let b = build(&spec);
                for k in &keys {
                    let ranked = b.candidates(k.as_slice(), 3);
                    prop_assert_eq!(ranked[0].id(), b.pick(k.as_slice()).unwrap().id());
                    prop_assert_eq!(ranked.len(), b.len().min(3));
                }
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(UPDATE_CASES))]

            #[test]
            fn updates_map_as_a_fresh_build(
                spec in fleet(24, MAX_WEIGHT),
                victim in any::<prop::sample::Index>(),
                other in any::<prop::sample::Index>(),
                weight in 1u32..=MAX_WEIGHT,
                keys in keys(),
            ) {
                let mut b = build_typed(servers(&spec));
                let gone = b.servers()[victim.index(b.len())].id().to_owned();
                let gone = b.remove(&gone).unwrap();
                if !b.is_empty() {
                    let id = b.servers()[other.index(b.len())].id().to_owned();
                    b.set_weight(&id, weight).unwrap();
                }
                b.add(Server::new("Joined-server")).unwrap(); // not a generated id
                b.add(gone).unwrap();
                let fresh = build_typed(b.servers().to_vec());
                for k in &keys {
                    prop_assert_eq!(
                        b.pick(k.as_slice()).unwrap().id(),
                        fresh.pick(k.as_slice()).unwrap().id()
                    );
                }
            }
        }
    };
}

/// A strategy that maps keys; `ordered = true` where the order of servers is part of the
/// membership (as for jump hash's buckets).
macro_rules! hash_strategy {
    ($name:ident, $build:expr) => {
        hash_strategy!($name, $build, ordered = false, weights = true);
    };
    ($name:ident, $build:expr, ordered = $ordered:expr, weights = $weighted:expr) => {
        mod $name {
            use super::*;
            hash_properties!($build, ordered = $ordered, weights = $weighted);
        }
    };
}

/// A strategy that ignores keys.
#[allow(unused_macros)]
macro_rules! picker_strategy {
    ($name:ident, $build:expr) => {
        picker_strategy!($name, $build, weights = true);
    };
    ($name:ident, $build:expr, weights = $weighted:expr) => {
        mod $name {
            use super::*;
            picker_properties!($build, weights = $weighted);
        }
    };
}

hash_strategy!(modulo, Modulo::new);
hash_strategy!(ring, HashRing::new);
hash_strategy!(ring_one_point, |s| HashRing::with_options(
    s,
    RingOptions::default().with_points_per_weight(1)
));
hash_strategy!(jump, loadring::Jump::new, ordered = true, weights = false);
hash_strategy!(maglev, loadring::Maglev::new);
hash_strategy!(maglev_small_table, |s| loadring::Maglev::with_options(
    s,
    loadring::MaglevOptions::default().with_table_size(101)
));
hash_strategy!(rendezvous, loadring::Rendezvous::new);
hash_strategy!(bounded, loadring::BoundedLoad::new);
#[cfg(feature = "ketama")]
hash_strategy!(ketama, loadring::KetamaRing::new);
picker_strategy!(round_robin, loadring::RoundRobin::new);
picker_strategy!(least_loaded, loadring::LeastLoaded::new);
picker_strategy!(
    fill_first,
    |s: Vec<Server>| loadring::FillFirst::new(s.into_iter().map(|s| s.with_capacity(8))),
    weights = false
);
