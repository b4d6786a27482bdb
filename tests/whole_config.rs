//! Property tests over whole configurations: any weights (up to `u32::MAX`), points per weight,
//! ε, capacities and table sizes, for every strategy. A build is an error, or a balancer whose
//! every pick, lease, ranking and update behaves: no panic, a server of its own fleet, counts
//! released. Values that the documented caps reject are drawn often, so that the checks
//! against overflow run too.

use loadring::Strategy as Kind;
use loadring::{
    AnyBalancer, Balancer, BalancerExt, BoundedOptions, Error, FillFirstOptions, KeyHasher,
    LeastLoadedOptions, MaglevOptions, Overflow, PickError, RingOptions, Server, Update,
};
use proptest::prelude::*;

/// Weights: mostly small, sometimes huge (far past every cap), sometimes 0 (an error).
fn weight() -> impl Strategy<Value = u32> {
    prop_oneof![
        6 => 1u32..=64,
        2 => (1u32 << 26)..=u32::MAX,
        1 => Just(u32::MAX),
        1 => Just(0u32),
    ]
}

/// A fleet of 1 to 7 servers: any weights and capacities, or (a third of the time) weight 1
/// and a positive capacity for each, so that jump and fill-first build too.
fn servers() -> impl Strategy<Value = Vec<(u32, Option<u64>)>> {
    let capacity = prop_oneof![
        3 => (1u64..=8).prop_map(Some),
        1 => Just(Some(0u64)),
        1 => Just(Some(u64::MAX)),
        1 => Just(None),
    ];
    let unit_capacity = prop_oneof![3 => (1u64..=8).prop_map(Some), 1 => Just(Some(u64::MAX))];
    prop_oneof![
        2 => prop::collection::vec((weight(), capacity), 1..8),
        1 => prop::collection::vec((Just(1u32), unit_capacity), 1..8),
    ]
}

/// A strategy with options drawn across their whole range, where building stays cheap: the
/// values that would build huge tables lie past the caps and must be refused.
fn strategy() -> impl Strategy<Value = Kind> {
    let ppw = prop_oneof![4 => 1u32..=64, 1 => ((1u32 << 24) + 1)..=u32::MAX, 1 => Just(0u32)];
    let table = prop_oneof![
        3 => prop::sample::select(vec![2u32, 7, 13, 101, 5003]),
        1 => 0u32..20_000,
        1 => (loadring::MAX_MAGLEV_TABLE_SIZE + 1)..=u32::MAX,
    ];
    let epsilon = prop_oneof![
        3 => 0.01f64..4.0,
        1 => prop::sample::select(vec![0.0, -1.0, 1e20, f64::MAX, f64::NAN, f64::INFINITY]),
    ];
    let seed = any::<u64>();
    let overflow = prop::sample::select(vec![Overflow::Reject, Overflow::Spill]);
    prop_oneof![
        Just(Kind::Modulo(Default::default())),
        ppw.clone()
            .prop_map(|p| Kind::Ring(RingOptions::default().with_points_per_weight(p))),
        Just(Kind::Jump(Default::default())),
        table.prop_map(|m| Kind::Maglev(MaglevOptions::default().with_table_size(m))),
        Just(Kind::Rendezvous(Default::default())),
        (epsilon, ppw).prop_map(|(e, p)| Kind::Bounded(
            BoundedOptions::default()
                .with_epsilon(e)
                .with_points_per_weight(p)
        )),
        Just(Kind::RoundRobin(Default::default())),
        seed.prop_map(|s| Kind::LeastLoaded(LeastLoadedOptions::default().with_seed(s))),
        overflow.prop_map(|o| Kind::FillFirst(FillFirstOptions::default().with_overflow(o))),
    ]
}

fn build(strategy: Kind, spec: &[(u32, Option<u64>)]) -> Result<AnyBalancer, Error> {
    let servers = spec.iter().enumerate().map(|(i, &(w, c))| {
        let s = Server::new(format!("10.8.0.{i}:80")).with_weight(w);
        match c {
            Some(c) => s.with_capacity(c),
            None => s,
        }
    });
    AnyBalancer::new(strategy, servers)
}

/// Everything a built balancer offers stays within its fleet and its counts.
fn exercise(b: &mut AnyBalancer, keys: &[u64]) -> Result<(), TestCaseError> {
    let ids: Vec<String> = b.servers().iter().map(|s| s.id().to_owned()).collect();
    for &k in keys {
        match b.pick(&k) {
            Ok(s) => prop_assert!(ids.iter().any(|id| id == s.id())),
            Err(e) => prop_assert!(matches!(e, PickError::Saturated), "{e}"),
        }
        let ranked = b.candidates(&k, 4);
        for (i, s) in ranked.iter().enumerate() {
            prop_assert!(ranked[..i].iter().all(|t| t.id() != s.id()));
        }
    }
    let held: Vec<_> = keys.iter().filter_map(|k| b.acquire(k).ok()).collect();
    let counted: u64 = b.servers().iter().map(|s| s.in_flight()).sum();
    prop_assert_eq!(counted, held.len() as u64);
    drop(held);
    prop_assert!(b.servers().iter().all(|s| s.in_flight() == 0));
    // An update is an error or leaves a working balancer.
    let before = b.len();
    match b.add(Server::new("10.8.1.1:80").with_weight(3).with_capacity(2)) {
        Ok(()) => prop_assert_eq!(b.len(), before + 1),
        Err(_) => prop_assert_eq!(b.len(), before),
    }
    let _ = b.set_weight("10.8.0.0:80", u32::MAX);
    for &k in keys.iter().take(8) {
        let _ = b.pick(&k);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn any_configuration_builds_or_is_refused_and_never_panics(
        strategy in strategy(),
        spec in servers(),
        keys in prop::collection::vec(any::<u64>(), 1..24),
    ) {
        match build(strategy, &spec) {
            Ok(mut b) => {
                exercise(&mut b, &keys)?;
                let mut keyed = b.clone().with_hasher(KeyHasher::siphash13([7; 16]));
                exercise(&mut keyed, &keys)?;
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }
}
