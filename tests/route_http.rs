//! The router reads `http::Request`s (feature `http`): host from the URI or the `Host`
//! header, headers of every line, cookies, and the client address from the extensions.

#![cfg(feature = "http")]

use std::net::{IpAddr, SocketAddr};

use http::{HeaderValue, Request};
use loadring::route::{KeySource, Match, Pool, RequestKey, RequestView, RouteTable, Rule};
use loadring::{AnyBalancer, RoundRobinOptions, Strategy};
use proptest::prelude::*;

fn request(uri: &str) -> http::request::Builder {
    Request::builder().uri(uri)
}

#[test]
fn the_host_comes_from_the_uri_else_the_host_header() {
    let origin_form = request("/a")
        .header("Host", "Example.com:8080")
        .body(())
        .unwrap();
    assert_eq!(RequestView::host(&origin_form), Some("Example.com"));
    let absolute = request("http://media.example.com:81/a?x=1")
        .header("Host", "other.example.com")
        .body(())
        .unwrap();
    assert_eq!(RequestView::host(&absolute), Some("media.example.com"));
    assert_eq!(RequestView::path(&absolute), "/a");
    assert_eq!(RequestView::query(&absolute), Some("x=1"));
    let v6 = request("/").header("host", "[::1]:8443").body(()).unwrap();
    assert_eq!(RequestView::host(&v6), Some("[::1]"));
    assert_eq!(RequestView::host(&request("/").body(()).unwrap()), None);
    let binary = request("/")
        .header("host", HeaderValue::from_bytes(b"\xffexample").unwrap())
        .body(())
        .unwrap();
    assert_eq!(RequestView::host(&binary), None);
}

#[test]
fn methods_headers_and_cookies_of_every_line() {
    let req = Request::post("/upload")
        .header("accept", "text/html")
        .header("Accept", "video/mp4")
        .header("cookie", "a=1")
        .header("cookie", "user=\"alice\"")
        .body(())
        .unwrap();
    assert_eq!(RequestView::method(&req), "POST");
    let lines: Vec<&[u8]> = req.header("accept").collect();
    assert_eq!(lines, [&b"text/html"[..], b"video/mp4"]);
    assert_eq!(req.header("not a header name").count(), 0);
    assert_eq!(req.cookie("user"), Some(&b"alice"[..]));
    let video = Rule::to("v").header("Accept", Match::Prefix("video/".into()));
    assert!(video.matches(&req));
}

#[test]
fn the_client_address_comes_from_the_extensions() {
    let peer: SocketAddr = "[::ffff:192.0.2.7]:51000".parse().unwrap();
    let mut req = request("/").body(()).unwrap();
    assert_eq!(req.client_ip(), None);
    req.extensions_mut().insert(peer);
    assert_eq!(req.client_ip(), Some(peer.ip()));
    let Some(RequestKey::Client(key)) = KeySource::Client.extract(&req) else {
        panic!("a client key");
    };
    assert_eq!(
        key.ip(),
        "192.0.2.7".parse::<IpAddr>().unwrap(),
        "v4-mapped is v4"
    );
    // An address the service determined itself (a trusted X-Forwarded-For) comes first.
    let forwarded: IpAddr = "198.51.100.9".parse().unwrap();
    req.extensions_mut().insert(forwarded);
    assert_eq!(req.client_ip(), Some(forwarded));
}

#[test]
fn an_http_request_routes_through_the_router() {
    let rr = |ids: &[&str]| {
        AnyBalancer::new(
            Strategy::RoundRobin(RoundRobinOptions::default()),
            ids.iter().copied(),
        )
        .unwrap()
    };
    let router = RouteTable::new("web")
        .pool(Pool::new("web", rr(&["w"])))
        .pool(Pool::new("video", rr(&["v"])))
        .rule(
            Rule::to("video")
                .host("*.example.com")
                .path_prefix("/video"),
        )
        .build()
        .unwrap();
    let video = request("https://cdn.example.com/video/1").body(()).unwrap();
    assert_eq!(router.route(&video).unwrap().server().id(), "v");
    let other_host = request("/video/1")
        .header("host", "example.com")
        .body(())
        .unwrap();
    assert_eq!(router.route(&other_host).unwrap().server().id(), "w");
}

proptest! {
    /// Any header bytes that `http` accepts are read without a panic.
    #[test]
    fn any_header_value_reads_without_panic(value in prop::collection::vec(any::<u8>(), 0..80)) {
        let Ok(value) = HeaderValue::from_bytes(&value) else {
            return Ok(());
        };
        let req = request("/a/b?user=1")
            .header("cookie", value.clone())
            .header("x-user", value.clone())
            .header("host", value.clone())
            .header("accept", value)
            .body(())
            .unwrap();
        for source in [KeySource::Cookie("user".into()), KeySource::Header("x-user".into())] {
            let _ = source.extract(&req);
        }
        let rule = Rule::to("p")
            .host("*.example.com")
            .header("accept", Match::Prefix("video/".into()))
            .cookie("user", Match::Present);
        let _ = rule.matches(&req);
    }
}
