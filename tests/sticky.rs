//! Sticky sessions: a token pins a user to its server while that server can serve; a forged,
//! foreign, stale or malformed token falls back to a normal pick and a fresh token.

use loadring::route::Sticky;
use loadring::{Balancer, BalancerExt, HashRing, RoundRobin, Server, Shared, Update};

const SECRET: [u8; 16] = *b"0123456789abcdef";

fn fleet() -> RoundRobin {
    RoundRobin::new(["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"]).unwrap()
}

/// With its token a user stays on one server across 100 requests, through a key-free strategy
/// and through membership changes that move other servers around.
#[test]
fn a_token_keeps_a_user_on_its_server() {
    let sticky = Sticky::new(SECRET);
    let shared = Shared::new(fleet());
    let snapshot = shared.snapshot();
    let first = sticky.pick(&*snapshot, None, "user-1").unwrap();
    let (pinned, token) = (first.server.id().to_owned(), first.new_token.unwrap());
    drop(snapshot);
    for i in 0..100 {
        if i == 50 {
            shared.add("10.0.0.0:80").unwrap(); // a new server ahead of the others
        }
        let snapshot = shared.snapshot();
        let again = sticky.pick(&*snapshot, Some(&token), "user-1").unwrap();
        assert_eq!(again.server.id(), pinned, "request {i}");
        assert!(again.new_token.is_none());
    }
    assert!(
        !token.contains(|c: char| !c.is_ascii_hexdigit() && c != '.'),
        "{token}"
    );
}

/// A token whose server went down, is draining or left falls back, with a fresh token naming
/// the new server; back up, the old token pins again.
#[test]
fn a_stale_token_falls_back_to_a_normal_pick() {
    let sticky = Sticky::new(SECRET);
    let mut rr = fleet();
    let server = rr.servers()[1].clone();
    let token = sticky.token(&server);
    assert_eq!(sticky.pinned(&rr, &token).unwrap().id(), server.id());
    for (down, draining) in [(true, false), (false, true)] {
        server.set_healthy(!down);
        server.set_draining(draining);
        let pick = sticky.pick(&rr, Some(&token), "user-1").unwrap();
        assert_ne!(pick.server.id(), server.id());
        let fresh = pick.new_token.expect("a fresh token");
        assert_eq!(sticky.pinned(&rr, &fresh).unwrap().id(), pick.server.id());
    }
    server.set_healthy(true);
    server.set_draining(false);
    assert_eq!(sticky.pinned(&rr, &token).unwrap().id(), server.id());
    rr.remove(server.id()).unwrap();
    assert!(sticky.pinned(&rr, &token).is_none());
    assert!(
        sticky
            .pick(&rr, Some(&token), "user-1")
            .unwrap()
            .new_token
            .is_some()
    );
}

/// Forged, foreign and malformed tokens never pin, never panic, and get a fresh token.
#[test]
fn forged_foreign_and_malformed_tokens_never_pin() {
    let sticky = Sticky::new(SECRET);
    let rr = fleet();
    let real = sticky.token(&rr.servers()[2]);
    let (id, mac) = real.split_once('.').unwrap();
    let flipped = format!(
        "{id}.{}{}",
        if mac.starts_with('0') { '1' } else { '0' },
        &mac[1..]
    );
    let other_server = format!(
        "{}.{mac}",
        sticky.token(&rr.servers()[0]).split_once('.').unwrap().0
    );
    let foreign = Sticky::new(*b"another secret!!").token(&rr.servers()[2]);
    let huge = format!("{}.{mac}", "ab".repeat(100_000));
    let bad = [
        flipped.as_str(),
        other_server.as_str(),
        foreign.as_str(),
        "",
        ".",
        "zz.zz",
        "abc",
        id,
        "61.",
        huge.as_str(),
        "3130.0",
        "\u{1F600}.\u{1F600}",
    ];
    for token in bad {
        assert!(sticky.pinned(&rr, token).is_none(), "{token:.40}");
        let pick = sticky.pick(&rr, Some(token), "user-1").unwrap();
        assert!(pick.new_token.is_some(), "{token:.40}");
    }
    assert_eq!(
        sticky.pinned(&rr, &real.to_uppercase()).unwrap().id(),
        "10.0.0.3:80"
    );
}

/// Without a token, the user's key picks through the pool's strategy, so a keyed strategy
/// sends the same user to the same server even before it holds a token.
#[test]
fn without_a_token_the_key_picks() {
    let sticky = Sticky::new(SECRET);
    let ring = HashRing::new((1..=5).map(|i| Server::new(format!("10.0.0.{i}:80")))).unwrap();
    for user in ["alice", "bob", "carol"] {
        let pick = sticky.pick(&ring, None, user).unwrap();
        assert_eq!(pick.server.id(), ring.pick(user).unwrap().id());
        assert_eq!(
            sticky.pinned(&ring, &pick.new_token.unwrap()).unwrap().id(),
            pick.server.id()
        );
    }
    assert_eq!(format!("{sticky:?}"), "Sticky { secret: <secret> }");
}
