//! Golden vectors: the mapping from key to server is a compatibility promise.
//!
//! A change that fails here would remap users' keys (and flush their caches). The values
//! were computed independently of this crate from the documented rules: XXH3-64 and
//! SipHash-1-3 from separate implementations, the ring and modulo assignments by a separate
//! transcription of the mappings written in the docs of `HashRing` and `Modulo`.

use loadring::{Balancer, BalancerExt, HashRing, KeyHasher, Modulo, RingOptions, Server};

const IDS: [&str; 5] = [
    "10.0.0.1:8080",
    "10.0.0.2:8080",
    "10.0.0.3:8080",
    "10.0.0.4:8080",
    "10.0.0.5:8080",
];
const WEIGHTS: [u32; 5] = [1, 1, 2, 1, 3];

fn keys() -> Vec<Vec<u8>> {
    let mut keys: Vec<Vec<u8>> = (0..12).map(|i| format!("user-{i}").into_bytes()).collect();
    keys.push(Vec::new());
    keys.push(vec![0x00, 0xff]);
    keys.push("ключ".as_bytes().to_vec());
    keys
}

fn fleet(weights: [u32; 5]) -> Vec<Server> {
    IDS.iter()
        .zip(weights)
        .map(|(id, w)| Server::new(*id).with_weight(w))
        .collect()
}

/// The last octet of the server each key goes to.
fn assignment(b: &dyn Balancer) -> Vec<u8> {
    keys()
        .iter()
        .map(|k| {
            let id = b.pick(k.as_slice()).unwrap().id();
            id["10.0.0.".len()..id.len() - ":8080".len()]
                .parse()
                .unwrap()
        })
        .collect()
}

#[test]
fn xxh3_with_the_default_seed() {
    let h = KeyHasher::default();
    let pinned: [(&[u8], u64); 5] = [
        (b"", 0x3a24bbdae28550f6),
        (b"a", 0x372069628baadbcd),
        (b"req-8f1c", 0x02bdfeef993eb360),
        (b"user-42", 0xec47dbdfc0d42c62),
        (&[b'x'; 100], 0x1058897fb85507ab),
    ];
    for (key, hash) in pinned {
        assert_eq!(h.hash(key), hash, "key {key:?}");
    }
    assert_eq!(h.hash("user-0"), 0x2b119bb642284693);
    assert_eq!(h.hash(&[0x00u8, 0xff]), 0xfda34dbd14ba287b);
}

#[test]
fn siphash13_with_a_key() {
    let h = KeyHasher::siphash13(*b"0123456789abcdef");
    let pinned: [(&[u8], u64); 5] = [
        (b"", 0xe5781a9a4d909a8c),
        (b"a", 0x9272dcffeb9130a0),
        (b"req-8f1c", 0x6cc373eda184d629),
        (b"user-42", 0xc922ce44059e848a),
        (&[b'x'; 100], 0xeab3b0305e79116a),
    ];
    for (key, hash) in pinned {
        assert_eq!(h.hash(key), hash, "key {key:?}");
    }
}

#[test]
fn ring_assignments() {
    let equal = HashRing::new(fleet([1; 5])).unwrap();
    assert_eq!(
        assignment(&equal),
        [5, 5, 5, 5, 4, 3, 3, 1, 3, 5, 4, 5, 2, 3, 2]
    );

    equal.set_healthy("10.0.0.3:8080", false).unwrap();
    assert_eq!(
        assignment(&equal),
        [5, 5, 5, 5, 4, 4, 1, 1, 1, 5, 4, 5, 2, 1, 2]
    );

    let weighted = HashRing::new(fleet(WEIGHTS)).unwrap();
    assert_eq!(
        assignment(&weighted),
        [5, 5, 5, 3, 5, 3, 3, 1, 3, 5, 4, 5, 2, 5, 3]
    );

    let one_point = HashRing::with_options(
        fleet([1; 5]),
        RingOptions::default().with_points_per_weight(1),
    )
    .unwrap();
    assert_eq!(
        assignment(&one_point),
        [4, 4, 5, 1, 2, 4, 1, 4, 5, 4, 5, 5, 4, 3, 1]
    );
}

#[test]
fn modulo_assignments() {
    let equal = Modulo::new(fleet([1; 5])).unwrap();
    assert_eq!(
        assignment(&equal),
        [1, 2, 3, 4, 1, 2, 3, 1, 3, 1, 3, 3, 2, 5, 4]
    );

    equal.set_healthy("10.0.0.3:8080", false).unwrap();
    assert_eq!(
        assignment(&equal),
        [1, 2, 1, 4, 1, 2, 5, 1, 4, 1, 4, 2, 2, 5, 4]
    );

    for id in ["10.0.0.1:8080", "10.0.0.2:8080", "10.0.0.5:8080"] {
        equal.set_healthy(id, false).unwrap();
    }
    assert_eq!(assignment(&equal), [4; 15]);

    let weighted = Modulo::new(fleet(WEIGHTS)).unwrap();
    assert_eq!(
        assignment(&weighted),
        [2, 2, 3, 5, 1, 2, 4, 2, 3, 2, 3, 3, 2, 5, 5]
    );
}
