//! Routing tables from configuration: a whole table from one TOML or JSON document, strictly.

#![cfg(feature = "serde")]

use loadring::route::{KeySource, OwnedRequest, RouteTable, Sticky, TokenIn};
use loadring::{Balancer, Strategy};

const SECRET: [u8; 16] = *b"0123456789abcdef";

const TABLE: &str = r#"
default = "web"

[pools.video]
strategy = "least-loaded"
servers = ["127.0.0.1:9101", "127.0.0.1:9102"]

[pools.web]
strategy = "ring"
servers = ["127.0.0.1:9201", "127.0.0.1:9202", "127.0.0.1:9203"]
options = { points_per_weight = 100 }
key = [{ cookie = "user" }, { header = "X-User" }, { query = "u" }, { path_segment = 1 }, { client_subnet = { v4_bits = 24, v6_bits = 64 } }, "client"]
sticky = { cookie = "web-server" }

[[rules]]
pool = "video"
path_prefix = "/video/"

[[rules]]
pool = "video"
headers = [{ name = "Accept", prefix = "video/" }]

[[rules]]
pool = "web"
hosts = ["www.example.com", "*.example.org"]
methods = ["GET", "HEAD"]
cookies = [{ name = "beta" }, { name = "tier", equals = "gold" }]
"#;

fn parse(text: &str) -> Result<RouteTable, String> {
    toml::from_str::<RouteTable>(text).map_err(|e| e.to_string())
}

fn error(text: &str) -> String {
    match parse(text) {
        Ok(table) => panic!("expected an error, got {table:?}"),
        Err(e) => e,
    }
}

#[test]
fn a_whole_table_reads_from_toml() {
    let router = parse(TABLE)
        .unwrap()
        .with_sticky(Sticky::new(SECRET))
        .build()
        .unwrap();
    let names: Vec<&str> = router.pools().iter().map(|p| p.name()).collect();
    assert_eq!(names, ["video", "web"]);
    let web = router.pool("web").unwrap();
    assert_eq!(web.sticky(), Some(&TokenIn::Cookie("web-server".into())));
    assert_eq!(web.key_sources().len(), 6);
    assert_eq!(web.key_sources()[1], KeySource::Header("x-user".into()));
    let snapshot = web.balancer().snapshot();
    assert!(matches!(snapshot.strategy(), Strategy::Ring(o) if o.points_per_weight == 100));
    assert_eq!(snapshot.len(), 3);
    assert_eq!(router.default_pool().name(), "web");

    let to = |r: OwnedRequest| router.route(&r).unwrap().pool.name().to_owned();
    assert_eq!(to(OwnedRequest::new("GET", "/video/1")), "video");
    assert_eq!(
        to(OwnedRequest::new("GET", "/").with_header("accept", "video/mp4")),
        "video"
    );
    assert_eq!(to(OwnedRequest::new("GET", "/videos")), "web");
}

#[test]
fn json_reads_the_same() {
    let json = r#"{
        "default": "a",
        "pools": {
            "a": {"strategy": "round-robin", "servers": ["x", "y"]},
            "b": {"strategy": "maglev", "servers": ["z"], "options": {"table_size": 7},
                  "key": [{"header": "x-user"}, "client"], "sticky": {"header": "x-srv"}}
        },
        "rules": [{"pool": "b", "methods": ["POST"]}]
    }"#;
    let table: RouteTable = serde_json::from_str(json).unwrap();
    let router = table.with_sticky(Sticky::new(SECRET)).build().unwrap();
    let routed = router.route(&OwnedRequest::new("POST", "/")).unwrap();
    assert_eq!((routed.pool.name(), routed.server().id()), ("b", "z"));
    let (name, token) = routed.token_header().unwrap();
    assert_eq!(name, "x-srv");
    assert_eq!(Some(token.as_str()), routed.new_token.as_deref());
}

#[test]
fn unknown_fields_are_errors_that_name_them() {
    for (from, to) in [
        ("default = \"web\"", "default = \"web\"\ndefualt = \"web\""),
        ("sticky = { cookie", "stiky = { cookie"),
        (
            "options = { points_per_weight",
            "options = { points_per_wieght",
        ),
        ("path_prefix = \"/video/\"", "path_prefx = \"/video/\""),
        ("prefix = \"video/\"", "prefx = \"video/\""),
        ("{ query = \"u\" }", "{ qeury = \"u\" }"),
        ("v6_bits = 64", "v6_bits = 64, v5_bits = 1"),
        (
            "{ cookie = \"web-server\" }",
            "{ coookie = \"web-server\" }",
        ),
    ] {
        assert!(TABLE.contains(from), "{from}");
        let e = error(&TABLE.replace(from, to));
        let typo = to
            .split(|c: char| !c.is_alphanumeric() && c != '_')
            .find(|w| !from.contains(w) && !w.is_empty())
            .unwrap();
        assert!(e.contains(typo), "{typo}: {e}");
    }
    let e = error(&TABLE.replace("\"least-loaded\"", "\"least-lodaed\""));
    assert!(e.contains("least-lodaed"), "{e}");
    let e = error(&TABLE.replace("strategy = \"least-loaded\"\n", ""));
    assert!(e.contains("missing field `strategy`"), "{e}");
    // Every field a pool takes is listed, not only the balancer's.
    let e = error(&TABLE.replace("sticky = { cookie", "stiky = { cookie"));
    assert!(e.contains("`key`, `sticky`"), "{e}");
    let json = r#"{"default": "a", "pools": {"a": {"strategy": "round-robin", "servers": ["x"],
                   "key": ["client"], "key": ["client"]}}}"#;
    let e = serde_json::from_str::<RouteTable>(json)
        .unwrap_err()
        .to_string();
    assert!(e.contains("duplicate field `key`"), "{e}");
}

#[test]
fn a_rule_or_default_naming_no_pool_is_an_error_naming_it() {
    let e = error(&TABLE.replace("pool = \"video\"\nheaders", "pool = \"vidoe\"\nheaders"));
    assert!(
        e.contains("rules[1].pool") && e.contains("\"vidoe\""),
        "{e}"
    );
    assert!(e.contains("video, web"), "{e}");
    let e = error(&TABLE.replace("default = \"web\"", "default = \"wbe\""));
    assert!(e.contains("default") && e.contains("\"wbe\""), "{e}");
    let e = error(&TABLE.replace("default = \"web\"", ""));
    assert!(e.contains("missing field `default`"), "{e}");
}

#[test]
fn invalid_names_and_conditions_are_errors() {
    for (from, to, expect) in [
        (
            "name = \"Accept\"",
            "name = \"Acc ept\"",
            "not a valid header name",
        ),
        (
            "{ header = \"X-User\" }",
            "{ header = \"X:User\" }",
            "not a valid header name",
        ),
        (
            "{ cookie = \"user\" }",
            "{ cookie = \"us;er\" }",
            "not a valid cookie name",
        ),
        (
            "name = \"beta\"",
            "name = \"be ta\"",
            "not a valid cookie name",
        ),
        (
            "cookie = \"web-server\"",
            "cookie = \"web server\"",
            "not a valid cookie name",
        ),
        ("\"HEAD\"", "\"HE AD\"", "not a valid method"),
        (
            "\"www.example.com\"",
            "\"www.example.com:80\"",
            "without their port",
        ),
        ("\"*.example.org\"", "\"www.*.org\"", "not a host name"),
        (
            "path_prefix = \"/video/\"",
            "path_prefix = \"video/\"",
            "does not start with `/`",
        ),
        ("v4_bits = 24", "v4_bits = 33", "at most 32"),
        (
            "prefix = \"video/\"",
            "prefix = \"video/\", equals = \"x\"",
            "not both",
        ),
        ("path_prefix = \"/video/\"", "", "at least one condition"),
        ("[pools.web]", "[pools.video]", "duplicate key"),
    ] {
        assert!(TABLE.contains(from), "{from}");
        let e = error(&TABLE.replacen(from, to, 1));
        assert!(e.contains(expect), "{to}: {e}");
    }
    // JSON lets a key repeat; the table does not.
    let json = r#"{"default": "a", "pools": {"a": {"strategy": "round-robin", "servers": ["x"]},
                   "a": {"strategy": "round-robin", "servers": ["y"]}}}"#;
    let e = serde_json::from_str::<RouteTable>(json)
        .unwrap_err()
        .to_string();
    assert!(e.contains("two pools have this name"), "{e}");
}

#[test]
fn a_sticky_pool_needs_a_secret_given_in_code() {
    let e = parse(TABLE).unwrap().build().unwrap_err().to_string();
    assert!(
        e.contains("pools.web.sticky") && e.contains("secret"),
        "{e}"
    );
    let e = error(&TABLE.replace("default = \"web\"", "default = \"web\"\nsecret = \"00\""));
    assert!(e.contains("unknown field `secret`"), "{e}");
}
