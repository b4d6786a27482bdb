//! Golden vectors for [`Rendezvous`]: pinned key → server maps with equal and with unequal
//! weights, a compatibility promise. A change here changes where keys go in deployed fleets.

use loadring::{Balancer, BalancerExt, Rendezvous, Server};

fn ids() -> Vec<String> {
    (0..10).map(|i| format!("10.0.0.{i}:6379")).collect()
}

fn build(weighted: bool) -> Rendezvous {
    Rendezvous::new(ids().iter().enumerate().map(|(i, s)| {
        let w = if weighted { 1 + i as u32 % 3 } else { 1 };
        Server::new(s.as_str()).with_weight(w)
    }))
    .unwrap()
}

fn map(b: &Rendezvous) -> Vec<usize> {
    (0..24)
        .map(|k| {
            let id = b.pick(&format!("key-{k}")).unwrap().id();
            b.position(id).unwrap()
        })
        .collect()
}

fn fail_0_and_7(b: &Rendezvous) {
    let ids = ids();
    b.set_healthy(&ids[0], false).unwrap();
    b.set_healthy(&ids[7], false).unwrap();
}

#[test]
fn equal_weights() {
    let b = build(false);
    assert_eq!(
        map(&b),
        [
            0, 0, 1, 2, 2, 3, 6, 3, 3, 5, 8, 4, 3, 0, 7, 9, 0, 9, 7, 1, 6, 6, 5, 8
        ]
    );
    fail_0_and_7(&b);
    assert_eq!(
        map(&b),
        [
            6, 5, 1, 2, 2, 3, 6, 3, 3, 5, 8, 4, 3, 3, 2, 9, 8, 9, 1, 1, 6, 6, 5, 8
        ]
    );
}

#[test]
fn unequal_weights() {
    let b = build(true);
    assert_eq!(
        map(&b),
        [
            0, 5, 1, 2, 2, 3, 6, 3, 2, 5, 8, 4, 3, 0, 2, 2, 0, 9, 7, 1, 2, 8, 5, 8
        ]
    );
    fail_0_and_7(&b);
    assert_eq!(
        map(&b),
        [
            6, 5, 1, 2, 2, 3, 6, 3, 2, 5, 8, 4, 3, 5, 2, 2, 8, 9, 8, 1, 2, 8, 5, 8
        ]
    );
}
