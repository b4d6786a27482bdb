//! Layer-4 keys: the client address keeps a client on one server across connections and
//! address families, a prefix keys a subnet, a five-tuple spreads flows and can be symmetric,
//! and the canonical bytes are pinned.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use loadring::route::{ClientKey, FlowKey, Protocol};
use loadring::{BalancerExt, Error, HashRing, KeyHasher, Maglev};

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// 20 clients, each on 10 connections from random ports: keyed by `ClientKey` every client
/// keeps one server (keyed by `SocketAddr`, the port moves them).
#[test]
fn every_connection_of_a_client_goes_to_one_server() {
    let ring = HashRing::new((1..=8).map(|i| format!("10.0.0.{i}:80"))).unwrap();
    let (mut kept_by_client, mut kept_by_socket) = (0, 0);
    for c in 0..20u16 {
        let servers = |key: &dyn Fn(SocketAddr) -> String| -> usize {
            let mut seen: Vec<String> = (0..10u16)
                .map(|k| key(addr(&format!("192.0.2.{}:{}", c + 1, 40_000 + k * 997))))
                .collect();
            seen.sort();
            seen.dedup();
            seen.len()
        };
        if servers(&|a| ring.pick(&ClientKey::of(a)).unwrap().id().into()) == 1 {
            kept_by_client += 1;
        }
        if servers(&|a| ring.pick(&a).unwrap().id().into()) == 1 {
            kept_by_socket += 1;
        }
    }
    assert_eq!(kept_by_client, 20);
    assert!(kept_by_socket < 5, "{kept_by_socket}");
}

/// An IPv4 client and its IPv4-mapped IPv6 form are one key, as a client address and inside
/// a five-tuple; a `ClientKey` hashes as the bare address.
#[test]
fn an_ipv4_mapped_address_is_its_ipv4_address() {
    let h = KeyHasher::default();
    let v4 = addr("192.0.2.7:1000");
    let mapped = addr("[::ffff:192.0.2.7]:2000");
    assert_eq!(h.hash(&ClientKey::of(v4)), h.hash(&ClientKey::of(mapped)));
    assert_eq!(ClientKey::of(mapped).ip(), v4.ip());
    assert_eq!(h.hash(&ClientKey::of(v4)), h.hash(&v4.ip()));
    let server = addr("198.51.100.1:443");
    assert_eq!(
        h.hash(&FlowKey::new(Protocol::Tcp, v4, server)),
        h.hash(&FlowKey::new(
            Protocol::Tcp,
            addr("[::ffff:192.0.2.7]:1000"),
            server
        )),
    );
    let v6 = addr("[2001:db8::7]:1000");
    assert_ne!(h.hash(&ClientKey::of(v6)), h.hash(&ClientKey::of(v4)));
}

/// A prefix keys the whole subnet, and only it.
#[test]
fn a_prefix_keys_a_subnet() {
    let h = KeyHasher::default();
    let key = |ip: &str| {
        let ip: IpAddr = ip.parse().unwrap();
        ClientKey::new(ip).subnet(24, 64).unwrap()
    };
    assert_eq!(h.hash(&key("10.1.2.3")), h.hash(&key("10.1.2.250")));
    assert_ne!(h.hash(&key("10.1.2.3")), h.hash(&key("10.1.3.3")));
    assert_eq!(key("10.1.2.3").ip(), "10.1.2.0".parse::<IpAddr>().unwrap());
    assert_eq!(
        h.hash(&key("2001:db8:1:2::7")),
        h.hash(&key("2001:db8:1:2:ffff::1"))
    );
    assert_ne!(
        h.hash(&key("2001:db8:1:2::7")),
        h.hash(&key("2001:db8:1:3::7"))
    );
    let whole = ClientKey::new("10.1.2.3".parse::<IpAddr>().unwrap());
    assert_eq!(whole.subnet(32, 128).unwrap(), whole);
    assert_eq!(
        whole.subnet(0, 0).unwrap().ip(),
        "0.0.0.0".parse::<IpAddr>().unwrap()
    );
    assert!(matches!(
        whole.subnet(33, 64),
        Err(Error::InvalidOption { .. })
    ));
    assert!(matches!(
        whole.subnet(24, 129),
        Err(Error::InvalidOption { .. })
    ));
}

/// A five-tuple tells flows apart by every part; its symmetric form is one key for both
/// directions and nothing else.
#[test]
fn five_tuples_tell_flows_apart_and_symmetric_ones_join_directions() {
    let h = KeyHasher::default();
    let (c, s) = (addr("192.0.2.7:51000"), addr("198.51.100.1:443"));
    let base = h.hash(&FlowKey::new(Protocol::Tcp, c, s));
    for other in [
        FlowKey::new(Protocol::Udp, c, s),
        FlowKey::new(Protocol::Tcp, addr("192.0.2.7:51001"), s),
        FlowKey::new(Protocol::Tcp, c, addr("198.51.100.1:444")),
        FlowKey::new(Protocol::Tcp, addr("192.0.2.8:51000"), s),
        FlowKey::new(Protocol::Tcp, s, c),
    ] {
        assert_ne!(h.hash(&other), base, "{other:?}");
    }
    let out = FlowKey::new(Protocol::Tcp, c, s).symmetric();
    let back = FlowKey::new(Protocol::Tcp, s, c).symmetric();
    assert_eq!(h.hash(&out), h.hash(&back));
    assert_eq!(out, back);
    assert_ne!(
        h.hash(&out),
        h.hash(&FlowKey::new(Protocol::Udp, s, c).symmetric())
    );
}

/// The canonical bytes are a compatibility promise: pinned here byte for byte.
#[test]
fn canonical_bytes_are_pinned() {
    let h = KeyHasher::default();
    let v4 = FlowKey::new(
        Protocol::Tcp,
        addr("192.0.2.7:51000"),
        addr("198.51.100.1:443"),
    );
    let bytes = [6, 4, 192, 0, 2, 7, 0xc7, 0x38, 198, 51, 100, 1, 0x01, 0xbb];
    assert_eq!(h.hash(&v4), h.hash_bytes(&bytes));
    let mixed = FlowKey::new(
        Protocol::Other(132),
        addr("192.0.2.7:1"),
        addr("[2001:db8::1]:2"),
    );
    let mut bytes = vec![132, 6];
    bytes.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 7, 0, 1]);
    bytes.extend_from_slice(&[
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2,
    ]);
    assert_eq!(h.hash(&mixed), h.hash_bytes(&bytes));
    let client = ClientKey::of(addr("[::ffff:192.0.2.7]:9"));
    assert_eq!(h.hash(&client), h.hash_bytes(&[192, 0, 2, 7]));
}

/// Clients spread over the servers as any keys do: 10 000 client addresses over 10 Maglev
/// servers, none above 1.2 × its share.
#[test]
fn client_keys_spread_over_the_servers() {
    let maglev = Maglev::new((1..=10).map(|i| format!("10.0.0.{i}:80"))).unwrap();
    let mut count: HashMap<String, usize> = HashMap::new();
    for i in 0..10_000u32 {
        let ip = IpAddr::from([100, (i >> 16) as u8, (i >> 8) as u8, i as u8]);
        *count
            .entry(maglev.pick(&ClientKey::new(ip)).unwrap().id().into())
            .or_default() += 1;
    }
    assert_eq!(count.len(), 10);
    assert!(count.values().all(|&c| c < 1_200), "{count:?}");
}
