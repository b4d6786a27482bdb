//! A whole balancer from one configuration document (JSON or TOML), strictly.
#![cfg(feature = "serde")]

use loadring::{AnyBalancer, Balancer, BalancerExt, Shared, Strategy, Update};

fn from_json(text: &str) -> Result<AnyBalancer, String> {
    serde_json::from_str(text).map_err(|e| e.to_string())
}

#[test]
fn every_strategy_reads_from_json_and_toml_by_name() {
    for strategy in Strategy::all() {
        let name = strategy.name();
        let servers = r#"[{"id": "a:1", "capacity": 5}, {"id": "b:1", "capacity": 5}]"#;
        let json = format!(r#"{{"strategy": "{name}", "servers": {servers}}}"#);
        let b = from_json(&json).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            b.strategy(),
            strategy,
            "{name}: defaults when options are left out"
        );
        assert_eq!(b.len(), 2);

        let toml = format!(
            "strategy = \"{name}\"\n[[servers]]\nid = \"a:1\"\ncapacity = 5\n[[servers]]\nid = \"b:1\"\ncapacity = 5\n"
        );
        let t: AnyBalancer = toml::from_str(&toml).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(t.strategy(), strategy);
        if strategy.is_keyed() {
            for k in 0..200u32 {
                assert_eq!(b.pick(&k).unwrap().id(), t.pick(&k).unwrap().id());
            }
        }

        // Written back, it reads as the same balancer.
        let text = serde_json::to_string(&b).unwrap();
        let again = from_json(&text).unwrap();
        assert_eq!(again.strategy(), strategy, "{text}");
        assert_eq!(again.len(), 2);
    }
}

#[test]
fn options_servers_and_addresses_are_read() {
    let b = from_json(
        r#"{
            "strategy": "maglev",
            "servers": ["10.0.0.1:80", {"id": "cache-2", "addr": "10.0.0.2:80", "weight": 2}],
            "options": {"table_size": 5003}
        }"#,
    )
    .unwrap();
    let AnyBalancer::Maglev(m) = &b else {
        panic!("not a Maglev: {b:?}");
    };
    assert_eq!(m.options().table_size, 5003);
    assert_eq!(
        b.server("10.0.0.1:80").unwrap().weight(),
        1,
        "a plain string is weight 1"
    );
    let two = b.server("cache-2").unwrap();
    assert_eq!(two.weight(), 2);
    assert_eq!(two.addr(), "10.0.0.2:80".parse().ok());
    assert_eq!(m.slot_counts().iter().sum::<usize>(), 5003);

    let toml = r#"
        strategy = "least-loaded"
        servers = ["a", "b"]
        [options]
        choice = "full-scan"
        load_source = "reported"
        seed = 7
    "#;
    let ll: AnyBalancer = toml::from_str(toml).unwrap();
    let Strategy::LeastLoaded(o) = ll.strategy() else {
        panic!("{ll:?}");
    };
    assert_eq!(o.seed, Some(7));
    assert_eq!(o.choice, loadring::Choice::FullScan);
    assert_eq!(o.load_source, loadring::LoadSource::Reported);
}

#[test]
fn mistakes_are_errors_that_name_them() {
    let cases = [
        (r#"{"strategy": "maglve", "servers": ["a"]}"#, "maglve"),
        (
            r#"{"strategy": "ring", "servers": ["a"], "options": {"points_per_wieght": 40}}"#,
            "points_per_wieght",
        ),
        (
            r#"{"strategy": "ring", "servers": [{"id": "a", "wieght": 5}]}"#,
            "wieght",
        ),
        (
            r#"{"strategy": "ring", "servers": ["a"], "extra": 1}"#,
            "extra",
        ),
        (
            r#"{"strategy": "modulo", "servers": ["a"], "options": {"points_per_weight": 1}}"#,
            "points_per_weight",
        ),
        (
            r#"{"strategy": "jump", "servers": [{"id": "a", "weight": 9}, "b"]}"#,
            "jump cannot honour weights",
        ),
        (
            r#"{"strategy": "maglev", "servers": ["a"], "options": {"table_size": 1000}}"#,
            "table_size",
        ),
        (
            r#"{"strategy": "bounded", "servers": ["a"], "options": {"epsilon": -1.0}}"#,
            "epsilon",
        ),
        (
            r#"{"strategy": "ring", "servers": ["a", "a"]}"#,
            "appears more than once",
        ),
        (r#"{"servers": ["a"]}"#, "strategy"),
    ];
    for (text, needle) in cases {
        let err = from_json(text).expect_err(text);
        assert!(
            err.contains(needle),
            "{text}: {err:?} does not name {needle:?}"
        );
    }
}

#[test]
fn a_configured_balancer_lives_in_shared_and_takes_updates() {
    let b = from_json(r#"{"strategy": "bounded", "servers": ["a", "b", "c"]}"#).unwrap();
    let shared = Shared::new(b);
    let held: Vec<_> = (0..8u32).map(|k| shared.acquire(&k).unwrap()).collect();
    shared.add("d").unwrap();
    shared.remove("a").unwrap();
    shared.set_weight("b", 3).unwrap();
    let more: Vec<_> = (0..8u32).map(|k| shared.acquire(&k).unwrap()).collect();
    let AnyBalancer::Bounded(now) = &*shared.snapshot() else {
        panic!("not bounded");
    };
    assert_eq!(now.in_flight(), 16, "the lease group survived the updates");
    drop((held, more));
    assert_eq!(now.in_flight(), 0);
    let mut copy = (*shared.snapshot()).clone();
    copy.remove("b").unwrap();
    assert_eq!((copy.len(), shared.snapshot().len()), (2, 3));
}
