//! Golden vectors for [`Jump`]: pinned key → server maps, a compatibility promise. A change
//! here changes where keys go in deployed fleets.

use loadring::{Balancer, BalancerExt, Jump};

fn fleet() -> Vec<String> {
    (0..10).map(|i| format!("10.0.0.{i}:6379")).collect()
}

fn map(b: &Jump) -> Vec<usize> {
    (0..24)
        .map(|k| {
            let id = b.pick(&format!("key-{k}")).unwrap().id();
            b.position(id).unwrap()
        })
        .collect()
}

#[test]
fn keys_map_to_pinned_buckets() {
    let ids = fleet();
    let b = Jump::new(ids.iter().map(String::as_str)).unwrap();
    assert_eq!(
        map(&b),
        [
            0, 7, 0, 7, 4, 9, 4, 4, 6, 6, 5, 3, 8, 0, 8, 3, 2, 7, 0, 2, 3, 5, 3, 9
        ]
    );
}

#[test]
fn fallbacks_are_pinned_too() {
    let ids = fleet();
    let b = Jump::new(ids.iter().map(String::as_str)).unwrap();
    b.set_healthy(&ids[0], false).unwrap();
    b.set_healthy(&ids[7], false).unwrap();
    assert_eq!(
        map(&b),
        [
            3, 2, 5, 1, 4, 9, 4, 4, 6, 6, 5, 3, 8, 9, 8, 3, 2, 8, 1, 2, 3, 5, 3, 9
        ]
    );
}
