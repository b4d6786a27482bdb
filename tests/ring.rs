//! Membership changes and weights on the consistent-hash ring.

use std::collections::HashMap;

use loadring::{Balancer, BalancerExt, HashRing, Server, Update};

const KEYS: u32 = 100_000;

fn ids(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("cache-{i:03}.internal:11211"))
        .collect()
}

fn assign(ring: &HashRing) -> Vec<String> {
    (0..KEYS)
        .map(|k| ring.pick(&k).unwrap().id().to_owned())
        .collect()
}

#[test]
fn removing_one_of_n_moves_only_its_keys() {
    let all = ids(50);
    let mut ring = HashRing::new(all.iter().map(String::as_str)).unwrap();
    let before = assign(&ring);
    let gone = &all[17];
    ring.remove(gone).unwrap();
    let after = assign(&ring);
    let mut moved = 0;
    for (b, a) in before.iter().zip(&after) {
        if b != a {
            assert_eq!(b, gone, "a key of another server moved");
            moved += 1;
        } else {
            assert_ne!(a, gone);
        }
    }
    let share = f64::from(moved) / f64::from(KEYS);
    // 1/50 = 0.02; one server's share of a 160-point ring varies by about ±20%.
    assert!((0.01..0.03).contains(&share), "moved {share}");
}

#[test]
fn adding_one_moves_about_one_in_n_only_to_it() {
    let all = ids(51);
    let mut ring = HashRing::new(all[..50].iter().map(String::as_str)).unwrap();
    let before = assign(&ring);
    ring.add(all[50].as_str().into()).unwrap();
    let after = assign(&ring);
    let mut moved = 0;
    for (b, a) in before.iter().zip(&after) {
        if b != a {
            assert_eq!(a, &all[50], "a key moved between old servers");
            moved += 1;
        }
    }
    let share = f64::from(moved) / f64::from(KEYS);
    assert!((0.01..0.03).contains(&share), "moved {share}");
}

#[test]
fn weights_one_two_three_get_their_shares() {
    let ring = HashRing::new([
        Server::new("a").with_weight(1),
        Server::new("b").with_weight(2),
        Server::new("c").with_weight(3),
    ])
    .unwrap();
    let mut counts: HashMap<String, u32> = HashMap::new();
    for k in 0..KEYS {
        *counts
            .entry(ring.pick(&k).unwrap().id().to_owned())
            .or_default() += 1;
    }
    for (id, w) in [("a", 1.0), ("b", 2.0), ("c", 3.0)] {
        let share = f64::from(counts[id]) / f64::from(KEYS);
        let want = w / 6.0;
        // With 160 to 480 points per server the share is within 10% of its weight.
        assert!(
            (share - want).abs() / want < 0.10,
            "{id}: share {share}, want {want}"
        );
    }
}

#[test]
fn a_failed_servers_keys_spread_over_many_servers() {
    let all = ids(20);
    let ring = HashRing::new(all.iter().map(String::as_str)).unwrap();
    let before = assign(&ring);
    ring.set_healthy(&all[3], false).unwrap();
    let mut heirs: HashMap<String, u32> = HashMap::new();
    for (k, was) in (0..KEYS).zip(&before) {
        if *was == all[3] {
            *heirs
                .entry(ring.pick(&k).unwrap().id().to_owned())
                .or_default() += 1;
        }
    }
    let orphans: u32 = heirs.values().sum();
    let largest = *heirs.values().max().unwrap();
    assert!(
        heirs.len() >= 15,
        "keys went to {} servers only",
        heirs.len()
    );
    assert!(
        f64::from(largest) / f64::from(orphans) < 0.2,
        "one heir took {largest} of {orphans}"
    );
}

#[test]
fn health_flips_from_other_threads_hold_on_the_next_pick() {
    let ring = HashRing::new(ids(8).iter().map(String::as_str)).unwrap();
    let target = ring.pick("k").unwrap().id().to_owned();
    std::thread::scope(|s| {
        s.spawn(|| ring.set_healthy(&target, false).unwrap());
    });
    assert_ne!(ring.pick("k").unwrap().id(), target);
}
