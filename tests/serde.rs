//! A fleet and ring options load from JSON and write back the same.
#![cfg(feature = "serde")]

use loadring::{Balancer, BalancerExt, HashRing, Modulo, RingOptions, Server};

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
