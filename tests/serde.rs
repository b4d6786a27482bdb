//! A fleet and ring options load from JSON and write back the same; unknown fields are
//! errors. (Whole balancers from a configuration: `tests/config.rs`.)
#![cfg(feature = "serde")]

use loadring::{Balancer, BalancerExt, HashRing, MaglevOptions, Modulo, RingOptions, Server};

#[test]
fn servers_and_options_round_trip() {
    let json = r#"{
        "options": { "points_per_weight": 40 },
        "servers": [
            { "id": "10.0.0.1:80" },
            { "id": "10.0.0.2:80", "weight": 3, "capacity": 100 }
        ]
    }"#;
    #[derive(serde::Deserialize, serde::Serialize)]
    struct Config {
        options: RingOptions,
        servers: Vec<Server>,
    }
    let config: Config = serde_json::from_str(json).unwrap();
    assert_eq!(config.options.points_per_weight, 40);
    assert_eq!(config.servers[0].weight(), 1);
    assert_eq!(config.servers[1].weight(), 3);
    assert_eq!(config.servers[1].capacity(), Some(100));
    assert!(config.servers[1].is_healthy());

    let text = serde_json::to_string(&config).unwrap();
    assert_eq!(
        text,
        r#"{"options":{"points_per_weight":40},"servers":[{"id":"10.0.0.1:80","weight":1},{"id":"10.0.0.2:80","weight":3,"capacity":100}]}"#
    );
    let again: Config = serde_json::from_str(&text).unwrap();
    let a = HashRing::with_options(config.servers, config.options).unwrap();
    let b = HashRing::with_options(again.servers, again.options).unwrap();
    for k in 0..500u32 {
        assert_eq!(a.pick(&k).unwrap().id(), b.pick(&k).unwrap().id());
    }
}

#[test]
fn missing_options_take_defaults_and_bad_weights_fail_at_build() {
    let options: RingOptions = serde_json::from_str("{}").unwrap();
    assert_eq!(options, RingOptions::default());
    let servers: Vec<Server> = serde_json::from_str(r#"[{"id": "a", "weight": 0}]"#).unwrap();
    assert!(Modulo::new(servers).is_err());
    assert!(serde_json::from_str::<Server>(r#"{"weight": 1}"#).is_err());
    let m = Modulo::new(serde_json::from_str::<Vec<Server>>(r#"[{"id":"a"},{"id":"b"}]"#).unwrap())
        .unwrap();
    assert_eq!(m.len(), 2);
}

#[test]
fn servers_read_from_plain_ids_and_strict_maps() {
    let servers: Vec<Server> = serde_json::from_str(
        r#"["10.0.0.1:80", {"id": "cache-7", "weight": 2, "addr": "10.0.0.7:11211"}]"#,
    )
    .unwrap();
    assert_eq!(servers[0].id(), "10.0.0.1:80");
    assert_eq!(servers[0].weight(), 1);
    assert_eq!(servers[0].addr(), "10.0.0.1:80".parse().ok());
    assert_eq!(servers[1].id(), "cache-7");
    assert_eq!(servers[1].weight(), 2);
    assert_eq!(servers[1].addr(), "10.0.0.7:11211".parse().ok());
    // The address is written only where it is not the id itself.
    assert_eq!(
        serde_json::to_string(&servers).unwrap(),
        r#"[{"id":"10.0.0.1:80","weight":1},{"id":"cache-7","weight":2,"addr":"10.0.0.7:11211"}]"#
    );
    let moved = Server::new("10.0.0.1:80").with_addr("10.0.0.9:80".parse().unwrap());
    assert_eq!(
        serde_json::to_string(&moved).unwrap(),
        r#"{"id":"10.0.0.1:80","weight":1,"addr":"10.0.0.9:80"}"#
    );
    let err = serde_json::from_str::<Server>(r#"{"id": "a", "wieght": 2}"#).unwrap_err();
    assert!(err.to_string().contains("wieght"), "{err}");
    assert!(serde_json::from_str::<Server>(r#"{"id": "a", "addr": "nowhere"}"#).is_err());
}

#[test]
fn unknown_options_are_errors() {
    let err = serde_json::from_str::<RingOptions>(r#"{"points_per_weigth": 40}"#).unwrap_err();
    assert!(err.to_string().contains("points_per_weigth"), "{err}");
    let err = serde_json::from_str::<MaglevOptions>(r#"{"size": 101}"#).unwrap_err();
    assert!(err.to_string().contains("size"), "{err}");
}
