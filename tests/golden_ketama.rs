//! Compatibility vectors for [`KetamaRing`] (feature `ketama`).
//!
//! Derived independently of this crate from the published algorithm (MD5 with Python's
//! `hashlib`, single precision emulated), and for the libmemcached flavour also checked
//! against libmemcached 1.1.4 itself, with `MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED`, over
//! thousands of keys and random fleets, when these tests were written.
#![cfg(feature = "ketama")]

use loadring::{
    Balancer, BalancerExt, KetamaFlavor, KetamaOptions, KetamaRing, Server, ketama_hash,
};

/// libketama's sample server file: 8 servers on port 11211 with unequal weights.
fn sample() -> Vec<Server> {
    [600, 300, 200, 350, 1000, 800, 950, 100]
        .iter()
        .enumerate()
        .map(|(i, &w)| Server::new(format!("10.0.1.{}:11211", i + 1)).with_weight(w))
        .collect()
}

fn flavor(f: KetamaFlavor) -> KetamaOptions {
    KetamaOptions::default().with_flavor(f)
}

fn map(ring: &KetamaRing) -> Vec<usize> {
    (0..32)
        .map(|k| {
            let id = ring.pick(&format!("key-{k}")).unwrap().id();
            ring.position(id).unwrap()
        })
        .collect()
}

#[test]
fn key_points_and_server_points() {
    assert_eq!(ketama_hash(b"key-0"), 0x7e8b_42b4);
    assert_eq!(ketama_hash(b"user:1234"), 0xe7f6_5f01);
    assert_eq!(ketama_hash(b""), 0xd98c_1dd4);
    // The 4 points of a server's first digest, MD5("10.0.1.1:11211-0"), show as pick
    // results at exactly those values.
    let ring = KetamaRing::new(["10.0.1.1:11211", "10.0.1.2:11211"]).unwrap();
    for p in [2_431_485_715u32, 4_123_933_443, 100_894_374, 2_720_740_989] {
        assert_eq!(ring.pick_hash(u64::from(p)).unwrap().id(), "10.0.1.1:11211");
    }
}

#[test]
fn unequal_weights_libketama() {
    let ring = KetamaRing::new(sample()).unwrap();
    let digests: Vec<usize> = ring
        .servers()
        .iter()
        .map(|s| ring.points_of(s.id()).unwrap() / 4)
        .collect();
    assert_eq!(digests, [44, 22, 14, 26, 74, 59, 70, 7]);
    assert_eq!(
        map(&ring),
        [
            2, 2, 5, 0, 5, 6, 4, 6, 6, 2, 4, 6, 0, 5, 1, 6, 4, 6, 5, 6, 0, 6, 4, 3, 6, 0, 5, 6, 0,
            4, 5, 5
        ]
    );
}

#[test]
fn unequal_weights_libmemcached() {
    // Port 11211 is the default: libmemcached hashes "10.0.1.1-0", not "10.0.1.1:11211-0".
    let ring = KetamaRing::with_options(sample(), flavor(KetamaFlavor::Libmemcached)).unwrap();
    assert_eq!(
        map(&ring),
        [
            4, 6, 4, 4, 5, 4, 6, 6, 2, 4, 0, 4, 0, 1, 6, 4, 0, 1, 7, 1, 2, 6, 6, 2, 3, 6, 6, 0, 6,
            0, 4, 6
        ]
    );
}

#[test]
fn equal_weights_25_servers() {
    let servers: Vec<String> = (1..=25).map(|i| format!("10.0.2.{i}:11211")).collect();
    let ketama = KetamaRing::new(servers.iter().map(String::as_str)).unwrap();
    let memcached = KetamaRing::with_options(
        servers.iter().map(String::as_str),
        flavor(KetamaFlavor::Libmemcached),
    )
    .unwrap();
    // Single precision: libketama gives 40 digests each, libmemcached 39.
    assert_eq!(ketama.point_count(), 25 * 160);
    assert_eq!(memcached.point_count(), 25 * 156);
    assert_eq!(
        map(&ketama),
        [
            24, 18, 1, 6, 6, 6, 10, 17, 17, 24, 0, 24, 16, 16, 22, 6, 3, 19, 0, 15, 5, 18, 6, 9,
            15, 22, 4, 20, 4, 23, 16, 4
        ]
    );
    assert_eq!(
        map(&memcached),
        [
            13, 15, 2, 4, 6, 21, 21, 22, 9, 18, 5, 1, 21, 16, 4, 17, 6, 10, 1, 0, 3, 12, 2, 14, 19,
            12, 4, 19, 11, 23, 8, 15
        ]
    );
}

#[test]
fn equal_weights_other_port_both_flavours_agree() {
    let servers: Vec<String> = (0..3).map(|i| format!("cache-{i}.example:11212")).collect();
    let want = [
        1, 0, 1, 1, 1, 1, 1, 0, 0, 2, 0, 2, 1, 1, 1, 0, 1, 1, 2, 2, 2, 1, 2, 0, 0, 0, 1, 2, 0, 2,
        1, 0,
    ];
    for f in [KetamaFlavor::Libketama, KetamaFlavor::Libmemcached] {
        let ring = KetamaRing::with_options(servers.iter().map(String::as_str), flavor(f)).unwrap();
        assert_eq!(map(&ring), want, "{f:?}");
    }
}
