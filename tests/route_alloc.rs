//! Routing allocates nothing but a fresh sticky token: rules, keys, a sticky pin and the
//! lease cost no allocation, for the crate's own request view and for `http::Request`.
//!
//! The binary counts every allocation, so it holds this one test alone.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use loadring::route::{
    KeySource, Match, OwnedRequest, Pool, RequestView, RouteTable, Router, Rule, Sticky, TokenIn,
};
use loadring::{AnyBalancer, RingOptions, Strategy};

/// The system allocator, counting allocations.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed to `System` unchanged; the counter only watches.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract for `alloc`, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract for `dealloc`, passed on.
        unsafe { System.dealloc(p, layout) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// Allocations made by `f`.
fn allocations(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    f();
    ALLOCATIONS.load(Ordering::Relaxed) - before
}

fn router() -> Router {
    let ring = |ids: &[&str]| {
        AnyBalancer::new(Strategy::Ring(RingOptions::default()), ids.iter().copied()).unwrap()
    };
    RouteTable::new("web")
        .pool(Pool::new("video", ring(&["v1", "v2"])).with_key([KeySource::Query("id".into())]))
        .pool(
            Pool::new("web", ring(&["w1", "w2", "w3"]))
                .with_key([
                    KeySource::Header("x-user".into()),
                    KeySource::Cookie("user".into()),
                ])
                .with_sticky(TokenIn::Cookie("srv".into())),
        )
        .rule(
            Rule::to("video")
                .host("*.example.com")
                .path_prefix("/video"),
        )
        .rule(Rule::to("video").header("accept", Match::Prefix("video/".into())))
        .rule(
            Rule::to("web")
                .method("POST")
                .cookie("beta", Match::Present),
        )
        .with_sticky(Sticky::new(*b"0123456789abcdef"))
        .build()
        .unwrap()
}

/// Routes a video request, a user's first request (a fresh token: allocated) and the same
/// user with the token (`again` builds that request).
fn route_all<R: RequestView>(router: &Router, video: &R, first: &R, again: impl Fn(&str) -> R) {
    let warm = router.route(first).unwrap(); // the thread's first snapshot may allocate
    let token = warm.new_token.clone().unwrap();
    let again = again(&token);
    drop(warm);
    assert_eq!(
        allocations(|| drop(router.route(video).unwrap())),
        0,
        "video"
    );
    let matching = allocations(|| assert_eq!(router.select(first).name(), "web"));
    assert_eq!(matching, 0, "matching");
    let fresh = allocations(|| assert!(router.route(first).unwrap().new_token.is_some()));
    assert!((1..=2).contains(&fresh), "a fresh token: {fresh}");
    let pinned = allocations(|| assert!(router.route(&again).unwrap().new_token.is_none()));
    assert_eq!(pinned, 0, "a sticky pin");
}

#[test]
fn routing_allocates_only_fresh_tokens() {
    let router = router();
    let video =
        OwnedRequest::new("GET", "/clip?id=7").with_header("Accept", "text/html, video/mp4");
    let first = OwnedRequest::new("GET", "/").with_header("Cookie", "theme=dark; user=alice");
    let again = |token: &str| {
        OwnedRequest::new("GET", "/").with_header("Cookie", format!("user=alice; srv={token}"))
    };
    route_all(&router, &video, &first, again);

    #[cfg(feature = "http")]
    {
        let request = |uri: &str, name: &str, value: &str| {
            http::Request::get(uri)
                .header(name, value)
                .body(())
                .unwrap()
        };
        let video = request("http://cdn.example.com/video/1?id=7", "x-user", "bob");
        let first = request("/", "cookie", "user=bob");
        let again = |token: &str| request("/", "cookie", &format!("user=bob; srv={token}"));
        route_all(&router, &video, &first, again);
    }
}
