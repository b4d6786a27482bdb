//! The layer-7 router: rules in order, every condition, the default pool, key extractors and
//! their fallbacks, sticky sessions through the router, errors.

use std::collections::HashSet;

use loadring::route::{
    KeySource, Match, OwnedRequest, Pool, RequestKey, RequestView, RouteError, RouteTable, Routed,
    Router, Rule, Sticky, TokenIn,
};
use loadring::{
    AnyBalancer, Balancer, BalancerExt, BoundedOptions, Error, FillFirstOptions,
    LeastLoadedOptions, PickError, RingOptions, RoundRobinOptions, Server, Strategy, Update,
};
use proptest::prelude::*;

const SECRET: [u8; 16] = *b"0123456789abcdef";

fn balancer(strategy: Strategy, servers: &[&str]) -> AnyBalancer {
    AnyBalancer::new(strategy, servers.iter().copied()).unwrap()
}

fn ring(servers: &[&str]) -> AnyBalancer {
    balancer(Strategy::Ring(RingOptions::default()), servers)
}

fn round_robin(servers: &[&str]) -> AnyBalancer {
    balancer(Strategy::RoundRobin(RoundRobinOptions::default()), servers)
}

/// One single-server pool per name, the first the default, and `rules`.
fn pools_and_rules(names: &[&str], rules: Vec<Rule>) -> Router {
    let mut table = RouteTable::new(names[0]);
    for name in names {
        table = table.pool(Pool::new(name, round_robin(&[name])));
    }
    rules
        .into_iter()
        .fold(table, RouteTable::rule)
        .build()
        .unwrap()
}

fn get(target: &str) -> OwnedRequest {
    OwnedRequest::new("GET", target)
}

fn pool_of<R: RequestView>(router: &Router, request: &R) -> String {
    router.route(request).unwrap().pool.name().to_owned()
}

#[test]
fn the_first_matching_rule_wins_and_the_default_takes_the_rest() {
    let (broad, narrow) = (
        Rule::to("broad").path_prefix("/api"),
        Rule::to("narrow").path_prefix("/api/v2"),
    );
    let names = ["default", "broad", "narrow"];
    let router = pools_and_rules(&names, vec![broad.clone(), narrow.clone()]);
    assert_eq!(pool_of(&router, &get("/api/v2/users")), "broad");
    assert_eq!(pool_of(&router, &get("/static/x.css")), "default");
    let router = pools_and_rules(&names, vec![narrow, broad]);
    assert_eq!(pool_of(&router, &get("/api/v2/users")), "narrow");
    assert_eq!(pool_of(&router, &get("/api/v1/users")), "broad");
    assert_eq!(router.select(&get("/")).name(), "default");
    assert_eq!(router.default_pool().name(), "default");
}

#[test]
fn hosts_match_without_port_or_case_and_wildcards_take_subdomains_only() {
    let exact = Rule::to("p").host("Example.COM.").host("[::1]");
    let wild = Rule::to("p").host("*.example.org");
    let with_host = |h: &str| get("/").with_header("Host", h);
    for host in [
        "example.com",
        "EXAMPLE.com:8080",
        "example.com.",
        "[::1]:443",
    ] {
        assert!(exact.matches(&with_host(host)), "{host}");
    }
    for host in ["www.example.com", "example.co", "xample.com", "", ":80"] {
        assert!(!exact.matches(&with_host(host)), "{host}");
    }
    assert!(!exact.matches(&get("/")), "no host at all");
    for host in ["a.example.org", "A.B.Example.Org:1", "x.example.org."] {
        assert!(wild.matches(&with_host(host)), "{host}");
    }
    for host in [
        "example.org",
        ".example.org",
        "aexample.org",
        "example.org.evil.com",
    ] {
        assert!(!wild.matches(&with_host(host)), "{host}");
    }
}

#[test]
fn path_prefixes_match_at_segment_boundaries() {
    let video = Rule::to("p").path_prefix("/video");
    let slash = Rule::to("p").path_prefix("/video/");
    let root = Rule::to("p").path_prefix("/");
    for (path, v, s) in [
        ("/video", true, false),
        ("/video/", true, true),
        ("/video/42", true, true),
        ("/videos", false, false),
        ("/video.mp4", false, false),
        ("/Video/42", false, false),
        ("/a/video/42", false, false),
    ] {
        assert_eq!(video.matches(&get(path)), v, "{path}");
        assert_eq!(slash.matches(&get(path)), s, "{path}");
        assert!(root.matches(&get(path)));
    }
    assert!(
        video.matches(&get("/video?x=/y")),
        "the query is not the path"
    );
}

#[test]
fn methods_match_any_given_case_sensitively() {
    let reads = Rule::to("p").method("GET").method("HEAD");
    assert!(reads.matches(&OwnedRequest::new("GET", "/")));
    assert!(reads.matches(&OwnedRequest::new("HEAD", "/")));
    assert!(!reads.matches(&OwnedRequest::new("POST", "/")));
    assert!(!reads.matches(&OwnedRequest::new("get", "/")));
}

#[test]
fn headers_match_present_equal_or_prefix_by_line_or_list_element() {
    let present = Rule::to("p").header("X-Canary", Match::Present);
    let equals = Rule::to("p").header("x-env", Match::Equals("canary".into()));
    let video = Rule::to("p").header("ACCEPT", Match::Prefix("video/".into()));
    let with = |name: &str, value: &str| get("/").with_header(name, value);

    assert!(present.matches(&with("x-canary", "")));
    assert!(!present.matches(&with("x-canaryy", "1")));
    assert!(equals.matches(&with("X-Env", "canary")));
    assert!(equals.matches(&with("x-env", " canary ")));
    assert!(
        equals.matches(&with("x-env", "blue, canary")),
        "a list element"
    );
    assert!(!equals.matches(&with("x-env", "Canary")));
    assert!(!equals.matches(&with("x-env", "canary-2")));
    for accept in [
        "video/mp4",
        "video/*",
        "text/html, video/mp4;q=0.9",
        "text/html,video/webm",
        r#"text/html;x="a,b", video/ogg"#,
    ] {
        assert!(video.matches(&with("Accept", accept)), "{accept}");
    }
    for accept in [
        "text/html",
        "text/video/mp4",
        r#"text/html;x="a, video/ogg""#,
        "",
    ] {
        assert!(!video.matches(&with("Accept", accept)), "{accept}");
    }
    // Several lines of one header: any of them.
    let two_lines = get("/")
        .with_header("accept", "text/html")
        .with_header("Accept", "video/mp4");
    assert!(video.matches(&two_lines));
    // A whole value with commas in it (a date, a user agent) still equals.
    let agent = "Mozilla/5.0 (KHTML, like Gecko)";
    let rule = Rule::to("p").header("user-agent", Match::Equals(agent.into()));
    assert!(rule.matches(&with("User-Agent", agent)));
}

#[test]
fn cookies_match_present_equal_or_prefix_and_junk_does_not_matter() {
    let beta = Rule::to("p").cookie("beta", Match::Present);
    let gold = Rule::to("p").cookie("tier", Match::Equals("gold".into()));
    let eu = Rule::to("p").cookie("region", Match::Prefix("eu-".into()));
    let cookies = |c: &str| get("/").with_header("Cookie", c);
    let request = cookies(";;junk; =x; beta; tier=\"gold\" ; region=eu-west-1;=;");
    assert!(
        !beta.matches(&request),
        "a pair without `=` is not a cookie"
    );
    assert!(gold.matches(&request) && eu.matches(&request));
    assert!(beta.matches(&cookies("beta=")));
    assert!(!gold.matches(&cookies("tier=golden; Tier=gold")));
    assert!(!gold.matches(&get("/")));
    // HTTP/2 sends cookies in several header lines.
    let split = get("/")
        .with_header("cookie", "a=1")
        .with_header("cookie", "tier=gold");
    assert!(gold.matches(&split));
    // Non-UTF-8 bytes anywhere are only bytes.
    let bytes = get("/").with_header("cookie", b"\xff\xfe=\x80; tier=gold".to_vec());
    assert!(gold.matches(&bytes));
}

#[test]
fn every_condition_of_a_rule_must_hold() {
    let rule = Rule::to("p")
        .host("api.example.com")
        .path_prefix("/v2")
        .method("POST")
        .header("content-type", Match::Prefix("application/json".into()))
        .cookie("beta", Match::Equals("1".into()));
    let full = || {
        OwnedRequest::new("POST", "/v2/items")
            .with_header("Host", "api.example.com")
            .with_header("Content-Type", "application/json; charset=utf-8")
    };
    assert!(rule.matches(&full().with_header("Cookie", "beta=1")));
    assert!(!rule.matches(&full()), "the cookie is missing");
    assert!(!rule.matches(&full().with_header("Cookie", "beta=0")));
    let mut wrong_method = OwnedRequest::new("PUT", "/v2/items").with_header("Cookie", "beta=1");
    wrong_method = wrong_method
        .with_header("Host", "api.example.com")
        .with_header("Content-Type", "application/json");
    assert!(!rule.matches(&wrong_method));
}

/// A ring pool keyed by the `user` cookie, else the `x-user` header, else the client.
fn keyed_router(sticky: bool) -> Router {
    let mut web = Pool::new("web", ring(&["w1", "w2", "w3", "w4", "w5"])).with_key([
        KeySource::Cookie("user".into()),
        KeySource::Header("X-User".into()),
        KeySource::Client,
    ]);
    let mut table = RouteTable::new("web");
    if sticky {
        web = web.with_sticky(TokenIn::Cookie("srv".into()));
        table = table.with_sticky(Sticky::new(SECRET));
    }
    table.pool(web).build().unwrap()
}

#[test]
fn keys_fall_back_in_order_and_hash_as_the_bare_value() {
    let router = keyed_router(false);
    let web = router.pool("web").unwrap();
    let ring = web.balancer();
    let client = "192.0.2.7".parse().unwrap();

    let all = get("/")
        .with_header("Cookie", "theme=dark; user=alice")
        .with_header("X-User", "bob")
        .with_client_ip(client);
    assert_eq!(web.key(&all), Some(RequestKey::Bytes(b"alice")));
    let header_only = get("/")
        .with_header("x-user", " bob ")
        .with_client_ip(client);
    assert_eq!(web.key(&header_only), Some(RequestKey::Bytes(b"bob")));
    let empty_cookie = header_only.clone().with_header("cookie", "user=");
    assert_eq!(web.key(&empty_cookie), Some(RequestKey::Bytes(b"bob")));
    let client_only = get("/").with_header("x-user", "").with_client_ip(client);
    assert!(matches!(web.key(&client_only), Some(RequestKey::Client(c)) if c.ip() == client));
    assert_eq!(web.key(&get("/")), None);

    for (request, expect) in [(&all, "alice"), (&header_only, "bob")] {
        let routed = router.route(request).unwrap();
        assert_eq!(routed.server().id(), ring.pick(expect).unwrap().id());
    }
    let routed = router.route(&client_only).unwrap();
    assert_eq!(
        routed.server().id(),
        ring.pick(&loadring::route::ClientKey::new(client))
            .unwrap()
            .id()
    );
}

#[test]
fn every_key_source_finds_its_part_and_passes_on_missing_ones() {
    let request = OwnedRequest::new("GET", "/users//42/posts?a=1&user=eve&flag")
        .with_header("cookie", "user=carol")
        .with_client_ip("2001:db8::1:2".parse().unwrap());
    let found = |source: KeySource| source.extract(&request);
    assert_eq!(
        found(KeySource::Query("user".into())),
        Some(RequestKey::Bytes(b"eve"))
    );
    assert_eq!(found(KeySource::Query("flag".into())), None, "empty");
    assert_eq!(found(KeySource::Query("nope".into())), None);
    assert_eq!(
        found(KeySource::PathSegment(0)),
        Some(RequestKey::Bytes(b"users"))
    );
    assert_eq!(
        found(KeySource::PathSegment(1)),
        Some(RequestKey::Bytes(b"42"))
    );
    assert_eq!(found(KeySource::PathSegment(3)), None);
    assert_eq!(
        found(KeySource::Cookie("user".into())),
        Some(RequestKey::Bytes(b"carol"))
    );
    assert_eq!(found(KeySource::Header("x-user".into())), None);
    let subnet = KeySource::ClientSubnet {
        v4_bits: 24,
        v6_bits: 64,
    };
    let Some(RequestKey::Client(key)) = found(subnet.clone()) else {
        panic!("a subnet key");
    };
    assert_eq!(key.ip(), "2001:db8::".parse::<std::net::IpAddr>().unwrap());
    assert_eq!(subnet.extract(&get("/")), None, "no client address");
    assert_eq!(
        KeySource::Query("a".into()).extract(&get("/")),
        None,
        "no query"
    );
}

#[test]
fn requests_without_a_key_spread_over_a_hash_pool() {
    let router = keyed_router(false);
    let servers: HashSet<String> = (0..50)
        .map(|_| router.route(&get("/")).unwrap().server().id().to_owned())
        .collect();
    assert!(servers.len() >= 4, "{servers:?}");
}

#[test]
fn leases_count_so_least_loaded_pools_spread_held_requests() {
    let least = balancer(
        Strategy::LeastLoaded(LeastLoadedOptions::default()),
        &["v1", "v2", "v3"],
    );
    let router = RouteTable::new("video")
        .pool(Pool::new("video", least))
        .build()
        .unwrap();
    let held: Vec<Routed<'_>> = (0..30).map(|_| router.route(&get("/")).unwrap()).collect();
    let video = router.pool("video").unwrap().balancer().snapshot();
    let loads: Vec<u64> = video.servers().iter().map(Server::in_flight).collect();
    assert_eq!(loads.iter().sum::<u64>(), 30);
    assert!(loads.iter().all(|&n| (7..=13).contains(&n)), "{loads:?}");
    drop(held);
    assert!(video.servers().iter().all(|s| s.in_flight() == 0));
}

/// The cookie a client sends back after `routed`.
fn cookie_after(routed: &Routed<'_>) -> String {
    let (name, value) = routed.token_header().expect("a fresh token");
    assert_eq!(name, "set-cookie");
    assert!(
        value.ends_with("; Path=/; HttpOnly; SameSite=Lax"),
        "{value}"
    );
    value.split(';').next().unwrap().to_owned()
}

#[test]
fn a_sticky_user_stays_on_its_server_while_the_fleet_changes() {
    let router = keyed_router(true);
    let web = router.pool("web").unwrap().balancer();
    let added: Vec<String> = (0..100).step_by(10).map(|i| format!("n{i}")).collect();
    // A user whose key the additions move to another server.
    let mut grown = ring(&["w1", "w2", "w3", "w4", "w5"]);
    for id in &added {
        grown.add(id.as_str().into()).unwrap();
    }
    let user = (0..)
        .map(|i| format!("user{i}"))
        .find(|u| grown.pick(u).unwrap().id() != web.pick(u).unwrap().id())
        .unwrap();
    let request = || get("/").with_header("Cookie", format!("user={user}"));
    let first = router.route(&request()).unwrap();
    let (home, srv) = (first.server().id().to_owned(), cookie_after(&first));
    drop(first);
    for i in 0..100 {
        if i % 10 == 0 {
            web.add(added[i / 10].as_str()).unwrap();
        }
        let again = router
            .route(&request().with_header("Cookie", srv.as_str()))
            .unwrap();
        assert_eq!(again.server().id(), home, "request {i}");
        assert_eq!(again.new_token, None);
        assert_eq!(again.token_header(), None);
    }
    // The key alone has moved; the token kept the user.
    assert_ne!(web.pick(&user).unwrap().id(), home);
}

#[test]
fn forged_foreign_and_stale_tokens_get_a_fresh_pick_and_token() {
    let router = keyed_router(true);
    let web = router.pool("web").unwrap().balancer();
    let by_key = web.pick("alice").unwrap();
    let other = web
        .snapshot()
        .servers()
        .iter()
        .find(|s| s.id() != by_key.id())
        .unwrap()
        .clone();
    let real = Sticky::new(SECRET).token(&other);
    let foreign = Sticky::new(*b"another  secret!").token(&other);
    let mut forged = real.clone();
    forged.replace_range(
        real.len() - 1..,
        if real.ends_with('0') { "1" } else { "0" },
    );
    let request = |token: &str| get("/").with_header("Cookie", format!("user=alice; srv={token}"));

    let pinned = router.route(&request(&real)).unwrap();
    assert_eq!(
        (pinned.server().id(), pinned.new_token.as_ref()),
        (other.id(), None)
    );
    drop(pinned);
    for token in [
        foreign.as_str(),
        forged.as_str(),
        "",
        "zz.zz",
        "..",
        &"a".repeat(10_000),
    ] {
        let routed = router.route(&request(token)).unwrap();
        assert_eq!(routed.server().id(), by_key.id(), "{token:.20}");
        let fresh = routed.new_token.clone().expect("a fresh token");
        assert_eq!(
            Sticky::new(SECRET)
                .pinned(&*web.snapshot(), &fresh)
                .unwrap()
                .id(),
            by_key.id()
        );
    }
    // The pinned server goes down, drains, or leaves: the user moves and gets a new token.
    for change in 0..3 {
        match change {
            0 => other.set_healthy(false),
            1 => {
                other.set_healthy(true);
                other.set_draining(true);
            }
            _ => {
                web.remove(other.id()).unwrap();
            }
        }
        let routed = router.route(&request(&real)).unwrap();
        assert_ne!(routed.server().id(), other.id(), "change {change}");
        assert!(routed.new_token.is_some());
    }
}

#[test]
fn sticky_tokens_may_ride_in_a_header() {
    let pool = Pool::new("api", round_robin(&["a", "b", "c"]))
        .with_sticky(TokenIn::Header("X-Server".into()));
    let router = RouteTable::new("api")
        .pool(pool)
        .with_sticky(Sticky::new(SECRET))
        .build()
        .unwrap();
    let first = router.route(&get("/")).unwrap();
    let (name, token) = first.token_header().unwrap();
    assert_eq!(name, "x-server");
    let home = first.server().id().to_owned();
    drop(first);
    for _ in 0..10 {
        let again = router
            .route(&get("/").with_header("X-Server", token.as_str()))
            .unwrap();
        assert_eq!(again.server().id(), home, "round-robin, yet sticky");
    }
}

#[test]
fn a_retry_skips_servers_tried_even_the_pinned_one() {
    let router = keyed_router(true);
    let first = router
        .route(&get("/").with_header("cookie", "user=u1"))
        .unwrap();
    let srv = cookie_after(&first);
    let request = get("/").with_header("cookie", format!("user=u1; {srv}"));
    let mut tried = vec![first.server().id().to_owned()];
    drop(first);
    for _ in 0..4 {
        let retry = router
            .route_with(&request, |s| !tried.iter().any(|t| t == s.id()))
            .unwrap();
        assert!(!tried.iter().any(|t| t == retry.server().id()));
        assert!(
            retry.new_token.is_some(),
            "a fresh token for the new server"
        );
        tried.push(retry.server().id().to_owned());
    }
    let e = router.route_with(&request, |_| false).unwrap_err();
    assert!(matches!(e.error(), PickError::NoneAccepted { .. }), "{e}");
}

#[test]
fn pinned_requests_count_as_the_strategy_counts_them() {
    let bounded = balancer(
        Strategy::Bounded(BoundedOptions::default()),
        &["b1", "b2", "b3", "b4"],
    );
    let pool = Pool::new("p", bounded).with_sticky(TokenIn::Cookie("srv".into()));
    let router = RouteTable::new("p")
        .pool(pool)
        .with_sticky(Sticky::new(SECRET))
        .build()
        .unwrap();
    let first = router.route(&get("/")).unwrap();
    let (home, srv) = (first.server().id().to_owned(), cookie_after(&first));
    let request = get("/").with_header("cookie", srv.as_str());
    let mut held = vec![first];
    // Bounded loads cap a server at ⌈1.25 × its share⌉ of the leases in flight: the pinned
    // server takes the user while under it, and the balancer counts every pinned lease.
    while let Ok(r) = router.route(&request) {
        if r.server().id() != home {
            held.push(r);
            break;
        }
        held.push(r);
        assert!(held.len() < 100);
    }
    let snapshot = router.pool("p").unwrap().balancer().snapshot();
    let AnyBalancer::Bounded(b) = &*snapshot else {
        panic!("bounded");
    };
    assert_eq!(b.in_flight(), held.len() as u64);
    assert!(held.len() >= 2, "the user stayed while there was room");
    assert!(
        held.last().unwrap().new_token.is_some(),
        "moved, with a token"
    );

    // Fill-first's capacities hold for pinned requests too.
    let ff = AnyBalancer::new(
        Strategy::FillFirst(FillFirstOptions::default()),
        [
            Server::new("f1").with_capacity(2),
            Server::new("f2").with_capacity(2),
        ],
    )
    .unwrap();
    let leases: Vec<_> = (0..3).map(|_| ff.acquire_server("f2")).collect();
    assert!(leases[0].is_some() && leases[1].is_some() && leases[2].is_none());
    ff.server("f1").unwrap().set_draining(true);
    assert!(ff.acquire_server("f1").is_none() && ff.acquire_server("f9").is_none());
}

#[test]
fn a_pool_without_a_server_is_an_error_naming_it() {
    let empty = Pool::new("video", round_robin(&[]));
    let router = RouteTable::new("web")
        .pool(Pool::new("web", round_robin(&["w"])))
        .pool(empty)
        .rule(Rule::to("video").path_prefix("/video"))
        .build()
        .unwrap();
    let e: RouteError = router.route(&get("/video/1")).unwrap_err();
    assert_eq!((e.pool(), e.error()), ("video", PickError::NoServers));
    assert_eq!(e.to_string(), "pool \"video\": the balancer has no servers");
    router
        .pool("web")
        .unwrap()
        .balancer()
        .set_healthy("w", false)
        .unwrap();
    let e = router.route(&get("/")).unwrap_err();
    assert_eq!((e.pool(), e.error()), ("web", PickError::NoHealthyServer));
    let boxed: Box<dyn std::error::Error> = Box::new(e);
    assert!(boxed.source().is_some());
}

#[test]
fn tables_built_in_code_are_checked() {
    let table = || RouteTable::new("web").pool(Pool::new("web", round_robin(&["w"])));
    let message = |t: RouteTable| t.build().unwrap_err().to_string();
    let e = message(RouteTable::new("nowhere").pool(Pool::new("web", round_robin(&["w"]))));
    assert!(e.contains("`default`") && e.contains("\"nowhere\""), "{e}");
    let e = message(
        table()
            .rule(Rule::to("web").path_prefix("/"))
            .rule(Rule::to("vid").method("GET")),
    );
    assert!(
        e.contains("`rules[1].pool`") && e.contains("\"vid\""),
        "{e}"
    );
    let e = message(table().rule(Rule::to("web")));
    assert!(
        e.contains("`rules[0]`") && e.contains("at least one condition"),
        "{e}"
    );
    let e = message(table().rule(Rule::to("web").header("x y", Match::Present)));
    assert!(e.contains("not a valid header name"), "{e}");
    let e = message(table().pool(Pool::new("web", round_robin(&["v"]))));
    assert!(e.contains("two pools"), "{e}");
    let sticky = Pool::new("s", round_robin(&["s"])).with_sticky(TokenIn::Cookie("srv".into()));
    let e = message(table().pool(sticky));
    assert!(e.contains("pools.s.sticky") && e.contains("secret"), "{e}");
    let keyed =
        Pool::new("k", round_robin(&["k"])).with_key([KeySource::Header("bad header".into())]);
    let e = message(table().pool(keyed));
    assert!(e.contains("pools.k.key[0]"), "{e}");
    assert!(matches!(
        table().rule(Rule::to("web")).build(),
        Err(Error::InvalidOption { .. })
    ));
}

#[test]
fn public_types_are_send_and_sync() {
    fn both<T: Send + Sync>() {}
    both::<Router>();
    both::<Pool>();
    both::<RouteTable>();
    both::<Routed<'static>>();
    both::<RouteError>();
    both::<Rule>();
    both::<KeySource>();
    both::<OwnedRequest>();
}

/// Cookie and header text: printable ASCII and the bytes that break naive parsers.
fn junk() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            Just(b';'),
            Just(b'='),
            Just(b'"'),
            Just(b','),
            Just(b' '),
            Just(b'\\'),
            any::<u8>()
        ],
        0..64,
    )
}

proptest! {
    /// Extractors and rules read any bytes without panicking, and a key they find is a piece
    /// of the request.
    #[test]
    fn extractors_and_rules_never_panic(
        cookie in junk(),
        header in junk(),
        target in "[ -~]{0,40}",
        segment in 0usize..6,
    ) {
        let request = OwnedRequest::new("GET", &target)
            .with_header("cookie", cookie.clone())
            .with_header("x-user", header.clone())
            .with_header("accept", header.clone())
            .with_header("host", header.clone());
        let sources = [
            KeySource::Cookie("user".into()),
            KeySource::Header("x-user".into()),
            KeySource::Query("user".into()),
            KeySource::PathSegment(segment),
        ];
        let inputs = [&cookie[..], &header[..], target.as_bytes()];
        for source in sources {
            if let Some(RequestKey::Bytes(b)) = source.extract(&request) {
                prop_assert!(!b.is_empty());
                prop_assert!(inputs.iter().any(|i| i.windows(b.len()).any(|w| w == b)));
            }
        }
        let rule = Rule::to("p")
            .host("*.example.com")
            .header("accept", Match::Prefix("video/".into()))
            .cookie("user", Match::Equals("x".into()));
        let _ = rule.matches(&request);
    }

    /// A well-formed cookie among junk pairs is found, whatever the junk, as long as the
    /// junk holds no cookie of that name.
    #[test]
    fn a_cookie_is_found_among_junk(
        before in junk(),
        after in junk(),
        value in "[!#-+\\--:<-\\[\\]-~]{1,20}",
    ) {
        prop_assume!(!before.windows(4).any(|w| w == b"user"));
        let mut line = before.clone();
        line.extend_from_slice(b"; user=");
        line.extend_from_slice(value.as_bytes());
        line.extend_from_slice(b";");
        line.extend_from_slice(&after);
        let request = get("/").with_header("Cookie", line);
        prop_assert_eq!(request.cookie("user"), Some(value.as_bytes()));
    }

    /// A prefix condition on a list header holds exactly when some element starts with the
    /// prefix (a reference that splits the list it built).
    #[test]
    fn a_list_header_matches_when_any_element_does(
        elements in prop::collection::vec("[a-z]{1,5}/[a-z*]{1,5}(;q=0\\.[0-9])?", 0..6),
        prefix in "[a-z]{1,3}/?",
    ) {
        let request = get("/").with_header("Accept", elements.join(", "));
        let rule = Rule::to("p").header("accept", Match::Prefix(prefix.clone()));
        let expected = elements.iter().any(|e| e.starts_with(&prefix));
        prop_assert_eq!(rule.matches(&request), expected);
    }
}
