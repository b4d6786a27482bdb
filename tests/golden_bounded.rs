//! Golden vectors for [`BoundedLoad`]: pinned key → server maps with nothing in flight, and
//! a pinned sequence of leases that overflow, a compatibility promise.

use loadring::{Balancer, BalancerExt, BoundedLoad, BoundedOptions};

fn build() -> BoundedLoad {
    let ids: Vec<String> = (0..5).map(|i| format!("10.0.0.{i}:6379")).collect();
    BoundedLoad::with_options(
        ids.iter().map(String::as_str),
        BoundedOptions::default().with_epsilon(0.25),
    )
    .unwrap()
}

#[test]
fn idle_keys_map_to_pinned_servers() {
    let b = build();
    let got: Vec<usize> = (0..24)
        .map(|k| {
            let id = b.pick(&format!("key-{k}")).unwrap().id();
            b.position(id).unwrap()
        })
        .collect();
    assert_eq!(
        got,
        [
            3, 4, 4, 1, 1, 2, 3, 3, 1, 2, 2, 3, 1, 2, 3, 4, 4, 3, 4, 1, 4, 3, 3, 0
        ]
    );
}

#[test]
fn held_leases_overflow_as_pinned() {
    let b = build();
    let mut held = Vec::new();
    let mut got = Vec::new();
    for k in 0..30 {
        let lease = b.acquire(&format!("key-{}", k % 3)).unwrap();
        got.push(b.position(lease.server().id()).unwrap());
        held.push(lease);
    }
    assert_eq!(
        got,
        [
            3, 4, 0, 1, 4, 0, 3, 1, 4, 3, 0, 1, 3, 4, 0, 1, 4, 0, 3, 1, 4, 3, 0, 1, 3, 4, 0, 1, 4,
            0
        ]
    );
    drop(held);
    assert_eq!(b.in_flight(), 0);
}
