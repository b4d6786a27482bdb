//! Golden vectors for [`Maglev`]: pinned slot shares and key → server maps, a compatibility
//! promise. A change here changes where keys go in deployed fleets.

use loadring::{Balancer, BalancerExt, Maglev, Server};

fn fleet() -> (Vec<String>, Maglev) {
    let ids: Vec<String> = (0..10).map(|i| format!("10.0.0.{i}:6379")).collect();
    let maglev = Maglev::new(
        ids.iter()
            .enumerate()
            .map(|(i, s)| Server::new(s.as_str()).with_weight(1 + i as u32 % 3)),
    )
    .unwrap();
    (ids, maglev)
}

fn map(b: &Maglev) -> Vec<usize> {
    (0..24)
        .map(|k| {
            let id = b.pick(&format!("key-{k}")).unwrap().id();
            b.position(id).unwrap()
        })
        .collect()
}

#[test]
fn slot_shares_are_pinned() {
    let (_, maglev) = fleet();
    assert_eq!(
        maglev.slot_counts(),
        [
            3450, 6899, 10348, 3450, 6899, 10348, 3449, 6898, 10347, 3449
        ]
    );
}

#[test]
fn keys_map_to_pinned_servers() {
    let (ids, maglev) = fleet();
    assert_eq!(
        map(&maglev),
        [
            2, 2, 1, 6, 5, 5, 7, 4, 2, 7, 1, 1, 5, 1, 5, 1, 2, 7, 9, 2, 9, 1, 0, 0
        ]
    );
    maglev.set_healthy(&ids[0], false).unwrap();
    maglev.set_healthy(&ids[7], false).unwrap();
    assert_eq!(
        map(&maglev),
        [
            2, 2, 1, 6, 5, 5, 3, 4, 2, 6, 1, 1, 5, 1, 5, 1, 2, 9, 9, 2, 9, 1, 4, 5
        ]
    );
}
