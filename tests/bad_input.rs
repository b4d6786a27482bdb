//! Extreme and bad input gives an answer or a clear error, never a panic.

use loadring::{
    Balancer, BalancerExt, BoundedLoad, Error, FillFirst, HashRing, Jump, LeastLoaded, Maglev,
    Modulo, PickError, Rendezvous, RoundRobin, Server,
};

type Build = fn(Vec<Server>) -> Result<Box<dyn Balancer>, Error>;

fn boxed<B: Balancer + 'static>(b: Result<B, Error>) -> Result<Box<dyn Balancer>, Error> {
    b.map(|b| Box::new(b) as Box<dyn Balancer>)
}

fn all() -> Vec<(&'static str, Build)> {
    vec![
        ("modulo", |s| boxed(Modulo::new(s))),
        ("ring", |s| boxed(HashRing::new(s))),
        ("jump", |s| boxed(Jump::new(s))),
        ("maglev", |s| boxed(Maglev::new(s))),
        ("rendezvous", |s| boxed(Rendezvous::new(s))),
        ("bounded", |s| boxed(BoundedLoad::new(s))),
        ("round-robin", |s| boxed(RoundRobin::new(s))),
        ("least-loaded", |s| boxed(LeastLoaded::new(s))),
        ("fill-first", |s| {
            boxed(FillFirst::new(
                s.into_iter().map(|s| s.with_capacity(u64::MAX)),
            ))
        }),
    ]
}

/// Strategies that cannot honour weights, and reject any weight other than 1.
const UNWEIGHTED: [&str; 2] = ["jump", "fill-first"];

#[test]
fn empty_fleets_build_and_answer_no_servers() {
    // Since 0.2 an empty fleet is valid: it builds, and its picks say why they find nothing.
    for (name, build) in all() {
        let b = build(vec![]).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(b.is_empty(), "{name}");
        assert_eq!(b.len(), 0, "{name}");
        assert_eq!(b.healthy_count(), 0, "{name}");
        assert_eq!(b.pick("k").unwrap_err(), PickError::NoServers, "{name}");
        assert_eq!(b.next().unwrap_err(), PickError::NoServers, "{name}");
        assert_eq!(b.acquire("k").unwrap_err(), PickError::NoServers, "{name}");
        assert_eq!(
            b.acquire_next().unwrap_err(),
            PickError::NoServers,
            "{name}"
        );
        assert!(b.candidates("k", 4).is_empty(), "{name}");
        assert_eq!(
            b.select_with("k", 4, |_| true).unwrap_err(),
            PickError::NoServers,
            "{name}"
        );
        assert_eq!(
            b.acquire_with("k", |_| true).unwrap_err(),
            PickError::NoServers,
            "{name}"
        );
    }
}

#[test]
fn duplicate_and_zero_weight_fleets_are_errors() {
    for (name, build) in all() {
        let dup = vec![Server::new("a"), Server::new("a")];
        assert_eq!(
            build(dup).unwrap_err(),
            Error::DuplicateServer { id: "a".into() },
            "{name}"
        );
        let zero = vec![Server::new("a"), Server::new("b").with_weight(0)];
        assert_eq!(
            build(zero).unwrap_err(),
            Error::ZeroWeight { id: "b".into() },
            "{name}"
        );
    }
}

#[test]
fn huge_weights_pick_or_fail_cleanly() {
    for (name, build) in all() {
        let fleet = vec![
            Server::new("big").with_weight(u32::MAX),
            Server::new("small").with_weight(1),
        ];
        match build(fleet) {
            Ok(b) => {
                assert!(!UNWEIGHTED.contains(&name), "{name} took a weight");
                for k in 0..100u32 {
                    assert!(b.pick(&k).is_ok(), "{name}");
                }
                assert_eq!(b.candidates("k", 5).len(), 2, "{name}");
            }
            Err(Error::WeightsUnsupported {
                strategy,
                id,
                weight,
            }) => {
                assert!(UNWEIGHTED.contains(&name), "{name} refused weights");
                assert_eq!((strategy, id.as_str(), weight), (name, "big", u32::MAX));
            }
            Err(e) => assert!(
                matches!(e, Error::TooManyPoints { .. } | Error::InvalidOption { .. }),
                "{name}: {e}"
            ),
        }
    }
}

#[test]
fn keys_of_any_bytes_and_ids_of_any_text() {
    let odd_ids = ["", " ", "ключ", "a\0b", "\u{1F600}"];
    for (name, build) in all() {
        let b = build(odd_ids.iter().map(|&id| Server::new(id)).collect()).unwrap();
        for key in [&b""[..], b"\0", b"\xff\xfe", &[7u8; 4096]] {
            let s = b.pick(key).unwrap();
            assert!(odd_ids.contains(&s.id()), "{name}");
        }
        assert_eq!(b.candidates(b"".as_slice(), 0).len(), 0, "{name}");
        // Since 0.2 the number of candidates is clamped to 1..=64: asking for none still
        // offers the pick itself.
        let s = b.select_with("k", 0, |_| true).unwrap();
        assert!(odd_ids.contains(&s.id()), "{name}");
        assert_eq!(
            b.select_with("k", 0, |_| false).unwrap_err(),
            PickError::NoneAccepted { tried: 1 },
            "{name}"
        );
        assert_eq!(
            b.select_with("k", 3, |_| false).unwrap_err(),
            PickError::NoneAccepted { tried: 3 },
            "{name}"
        );
    }
}

#[test]
fn select_with_reports_why_there_is_no_candidate() {
    let ff = FillFirst::new([Server::new("a").with_capacity(1)]).unwrap();
    let lease = ff.acquire_next().unwrap();
    assert_eq!(
        ff.select_with("k", 4, |_| true).unwrap_err(),
        PickError::Saturated
    );
    drop(lease);
    assert_eq!(ff.select_with("k", 4, |_| true).unwrap().id(), "a");
    ff.set_healthy("a", false).unwrap();
    assert_eq!(
        ff.select_with("k", 4, |_| true).unwrap_err(),
        PickError::NoHealthyServer
    );
}
