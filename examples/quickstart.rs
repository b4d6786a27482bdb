//! A consistent-hash ring routing requests while a server fails, recovers, and the fleet grows.
//!
//! Run with `cargo run --example quickstart`.

use loadring::{Balancer, BalancerExt, Error, HashRing};

const REQUESTS: usize = 100_000;

fn route(ring: &HashRing, ids: &[String]) -> Result<Vec<String>, Error> {
    ids.iter()
        .map(|id| ring.pick(id).map(|s| s.id().to_owned()))
        .collect()
}

fn moved(before: &[String], after: &[String]) -> usize {
    before.iter().zip(after).filter(|(b, a)| b != a).count()
}

fn percent(n: usize) -> f64 {
    100.0 * n as f64 / REQUESTS as f64
}

fn main() -> Result<(), Error> {
    let mut ring = HashRing::new([
        "10.0.0.1:8080",
        "10.0.0.2:8080",
        "10.0.0.3:8080",
        "10.0.0.4:8080",
        "10.0.0.5:8080",
    ])?;
    println!(
        "a ring of {} servers, {} points",
        ring.len(),
        ring.point_count()
    );

    let ids: Vec<String> = (0..REQUESTS).map(|i| format!("req-{i:06x}")).collect();
    println!("\nfirst requests:");
    for id in &ids[..5] {
        println!("  {id} -> {}", ring.pick(id)?.id());
    }

    let before = route(&ring, &ids)?;
    println!("\nload over {REQUESTS} requests:");
    for s in ring.servers() {
        let n = before.iter().filter(|id| *id == s.id()).count();
        println!("  {}  {:5.1}%", s.id(), percent(n));
    }

    let failed = "10.0.0.3:8080";
    ring.set_healthy(failed, false)?;
    let during = route(&ring, &ids)?;
    let held = before.iter().filter(|id| *id == failed).count();
    println!(
        "\n{failed} fails: {} requests move ({:.1}%); it held {held}",
        moved(&before, &during),
        percent(moved(&before, &during)),
    );
    for (i, id) in ids
        .iter()
        .enumerate()
        .filter(|(i, _)| before[*i] == failed)
        .take(3)
    {
        println!("  {id}: {failed} -> {}", during[i]);
    }

    ring.set_healthy(failed, true)?;
    let after = route(&ring, &ids)?;
    println!(
        "{failed} recovers: {} requests differ from before it failed",
        moved(&before, &after)
    );

    ring.add("10.0.0.6:8080")?;
    let grown = route(&ring, &ids)?;
    println!(
        "10.0.0.6:8080 joins: {} requests move ({:.1}%, about 1/6), all to it: {}",
        moved(&after, &grown),
        percent(moved(&after, &grown)),
        after
            .iter()
            .zip(&grown)
            .all(|(a, g)| a == g || g == "10.0.0.6:8080"),
    );

    for s in ring.servers() {
        ring.set_healthy(s.id(), false)?;
    }
    match ring.pick("req-000000") {
        Err(e) => println!("every server down: {e}"),
        Ok(s) => println!("unexpected: {}", s.id()),
    }
    Ok(())
}
