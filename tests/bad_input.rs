//! Extreme and bad input gives an answer or a clear error, never a panic.

use loadring::{
    Balancer, BalancerExt, BoundedLoad, Error, FillFirst, HashRing, Jump, LeastLoaded, Maglev,
    Modulo, Rendezvous, RoundRobin, Server,
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

#[test]
fn empty_duplicate_and_zero_weight_fleets_are_errors() {
    for (name, build) in all() {
        assert_eq!(build(vec![]).unwrap_err(), Error::NoServers, "{name}");
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
                for k in 0..100u32 {
                    assert!(b.pick(&k).is_ok(), "{name}");
                }
                assert_eq!(b.candidates("k", 5).len(), 2, "{name}");
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
        assert!(b.select_with("k", 0, |_| true).is_err(), "{name}");
        assert_eq!(
            b.select_with("k", 3, |_| false).unwrap_err(),
            Error::NoneAccepted { tried: 3 },
            "{name}"
        );
    }
}

#[test]
fn select_with_reports_why_there_is_no_candidate() {
    let ff = FillFirst::new([Server::new("a").with_capacity(1)]).unwrap();
    let lease = ff.acquire().unwrap();
    assert_eq!(
        ff.select_with("k", 4, |_| true).unwrap_err(),
        Error::Saturated
    );
    drop(lease);
    assert_eq!(ff.select_with("k", 4, |_| true).unwrap().id(), "a");
    ff.set_healthy("a", false).unwrap();
    assert_eq!(
        ff.select_with("k", 4, |_| true).unwrap_err(),
        Error::NoHealthyServer
    );
}
