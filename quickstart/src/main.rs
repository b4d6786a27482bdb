//! How a service routes its requests: a fleet built from its configuration, shared by every
//! thread, each request sent through a lease held while it runs. A server fails and recovers,
//! one joins, discovery syncs the list, and a least-loaded pool steers work off a slow server.
//!
//! Run with `cargo run -p quickstart`.

use std::collections::BTreeMap;

use loadring::{
    AnyBalancer, Balancer, Error, Lease, LeastLoadedOptions, RingOptions, Shared, Strategy,
    SyncOptions,
};

const REQUESTS: usize = 20_000;

/// Sends every request through the fleet and returns the server each ran on. A real service
/// keeps the lease until the answer is in; these requests end at once.
fn route(fleet: &Shared<AnyBalancer>, ids: &[String]) -> Result<Vec<String>, Error> {
    let mut ran_on = Vec::with_capacity(ids.len());
    for id in ids {
        let lease = fleet.acquire(id)?; // counted in flight on its server...
        ran_on.push(lease.id().to_owned());
        drop(lease); // ...until the request is done
    }
    Ok(ran_on)
}

/// How many requests run elsewhere in `after` than in `before`, and whether all of them
/// moved to or from `server`.
fn moved(before: &[String], after: &[String], server: &str) -> (usize, bool) {
    let changed: Vec<_> = before.iter().zip(after).filter(|(b, a)| b != a).collect();
    let only = changed.iter().all(|(b, a)| *b == server || *a == server);
    (changed.len(), only)
}

fn percent(n: usize) -> f64 {
    100.0 * n as f64 / REQUESTS as f64
}

fn main() -> Result<(), Error> {
    // The strategy and the servers come from configuration (with the `serde` feature,
    // `AnyBalancer` reads them from JSON or TOML); `Shared` lets every thread route while
    // others change the fleet.
    let servers = [
        "10.0.0.1:8080",
        "10.0.0.2:8080",
        "10.0.0.3:8080",
        "10.0.0.4:8080",
    ];
    let ring = AnyBalancer::new(Strategy::Ring(RingOptions::default()), servers)?;
    let fleet = Shared::new(ring);
    println!(
        "a {} of {} servers",
        fleet.snapshot().strategy().name(),
        servers.len()
    );

    let ids: Vec<String> = (0..REQUESTS).map(|i| format!("req-{i:05x}")).collect();
    for id in &ids[..3] {
        let lease = fleet.acquire(id)?;
        println!("  {id} -> {} ({} in flight)", lease.id(), lease.in_flight());
    }
    let before = route(&fleet, &ids)?;
    let again = route(&fleet, &ids)?;
    println!(
        "key affinity: every request goes where it went before: {}",
        before == again
    );

    // A health checker marks a server down from any thread: only its requests move.
    let failed = "10.0.0.3:8080";
    fleet.set_healthy(failed, false)?;
    let during = route(&fleet, &ids)?;
    let (n, only) = moved(&before, &during, failed);
    println!(
        "{failed} fails: {n} requests move ({:.1}%), all of them its own: {only}",
        percent(n)
    );
    fleet.set_healthy(failed, true)?;
    let (n, _) = moved(&before, &route(&fleet, &ids)?, failed);
    println!("{failed} recovers: {n} requests differ from before it failed");

    // A server joins: it takes about 1/5 of the requests, from every other server.
    let joining = "10.0.0.5:8080";
    fleet.add(joining)?;
    let grown = route(&fleet, &ids)?;
    let (n, only) = moved(&before, &grown, joining);
    println!(
        "{joining} joins: {n} requests move ({:.1}%), all to it: {only}",
        percent(n)
    );

    // Service discovery reports the full list: 10.0.0.1 is gone, 10.0.0.6 is new. Servers
    // that stay keep their health and their requests in flight.
    fleet.set_healthy("10.0.0.2:8080", false)?;
    let listed = [
        "10.0.0.2:8080",
        "10.0.0.3:8080",
        "10.0.0.4:8080",
        "10.0.0.5:8080",
        "10.0.0.6:8080",
    ];
    let report = fleet.sync(listed, SyncOptions::default())?;
    let now = fleet.snapshot();
    println!(
        "discovery sync: {} added, {} removed, {} kept; {} servers, {} healthy (10.0.0.2 is still down)",
        report.added,
        report.removed,
        report.kept,
        now.len(),
        now.healthy_count()
    );

    // A least-loaded pool counts the leases in flight. app-3 is slow: its requests end only
    // every 10th step, the others' at the end of the step they started in.
    let options = LeastLoadedOptions::default().with_seed(1);
    let pool = Shared::new(AnyBalancer::new(
        Strategy::LeastLoaded(options),
        ["app-1", "app-2", "app-3"],
    )?);
    let mut running: Vec<Lease<'static>> = Vec::new();
    let mut served: BTreeMap<String, usize> = BTreeMap::new();
    for step in 0..3_000 {
        for r in 0..3 {
            let lease = pool.acquire(&format!("job-{step}-{r}"))?; // key-free: the key is ignored
            *served.entry(lease.id().to_owned()).or_default() += 1;
            running.push(lease);
        }
        running.retain(|lease| lease.id() == "app-3" && step % 10 != 0); // the rest end
    }
    drop(running);
    let total: usize = served.values().sum();
    println!("least-loaded, app-3 slow, {total} requests:");
    for (id, n) in &served {
        println!("  {id}  {n:5}  ({:.0}%)", 100.0 * *n as f64 / total as f64);
    }
    Ok(())
}
