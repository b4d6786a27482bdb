//! Fleet-wide load through Redis: three servers publish their load, two balancers route by
//! it. The loads change half way, and then one server shuts down; both balancers follow.
//!
//! ```sh
//! cargo run --example redis_fleet --features redis                            # redis://127.0.0.1:6379
//! cargo run --example redis_fleet --features redis -- redis://127.0.0.1:7000  # any node of a cluster
//! ```
//!
//! Runs for about four seconds and exits 0; a Redis it cannot reach is an error (exit 1).

use std::collections::BTreeMap;
use std::error::Error;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use loadring::redis::{
    Connector, Figures, Keys, PollOptions, Poller, PollerHandle, ReportOptions, Reporter,
    ReporterHandle,
};
use loadring::{Balancer as _, LeastLoaded, LeastLoadedOptions, LoadSource, Shared};

const SERVERS: [&str; 3] = ["10.0.0.1:8080", "10.0.0.2:8080", "10.0.0.3:8080"];

fn main() -> ExitCode {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "redis://127.0.0.1:6379".into());
    match run(&url) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("redis_fleet: {e}");
            ExitCode::FAILURE
        }
    }
}

/// One server's side: its load (an `f64` in an atomic, so the demo can change it) and the
/// reporter thread that publishes it.
struct Backend {
    load: Arc<AtomicU64>,
    reporter: Option<ReporterHandle>,
}

/// One balancer's side: a live least-loaded fleet, fed by its own poller.
struct Balancer {
    fleet: Arc<Shared<LeastLoaded>>,
    poller: PollerHandle,
}

fn run(url: &str) -> Result<(), Box<dyn Error>> {
    let connector = connect(url)?;
    println!(
        "Redis at {url} ({})",
        if connector.is_cluster() {
            "cluster"
        } else {
            "single"
        }
    );
    // A service name of this run's own, so that runs never see each other's servers.
    let keys = Keys::new(&format!("redis-fleet-example-{}", std::process::id()))?;

    let report = ReportOptions::default()
        .with_interval(Duration::from_millis(200))
        .with_ttl(Duration::from_secs(1));
    let mut backends = Vec::new();
    for (id, load) in SERVERS.iter().zip([0.2, 0.5, 0.9]) {
        let cell = Arc::new(AtomicU64::new(f64::to_bits(load)));
        let reporter = Reporter::new(connector.clone(), keys.clone(), *id, report)?;
        let published = Arc::clone(&cell);
        let handle = reporter
            .spawn(move || Figures::new(0, f64::from_bits(published.load(Ordering::Relaxed))))?;
        backends.push(Backend {
            load: cell,
            reporter: Some(handle),
        });
    }

    let poll = PollOptions::default()
        .with_interval(Duration::from_millis(200))
        .with_grace(Duration::from_millis(500));
    let by_reports = LeastLoadedOptions::default().with_load_source(LoadSource::Reported);
    let balancers = (0..2)
        .map(|_| -> Result<Balancer, Box<dyn Error>> {
            let fleet = Arc::new(Shared::new(LeastLoaded::with_options(SERVERS, by_reports)?));
            let poller =
                Poller::new(connector.clone(), keys.clone(), Arc::clone(&fleet), poll)?.spawn()?;
            Ok(Balancer { fleet, poller })
        })
        .collect::<Result<Vec<_>, _>>()?;

    thread::sleep(Duration::from_secs(1));
    phase("loads 0.2 / 0.5 / 0.9", &balancers);

    for (backend, load) in backends.iter().zip([0.9, 0.5, 0.1]) {
        backend.load.store(f64::to_bits(load), Ordering::Relaxed);
    }
    thread::sleep(Duration::from_secs(1));
    phase("loads 0.9 / 0.5 / 0.1", &balancers);

    // One server shuts down: its reporter stops and removes its entry (a crashed one's would
    // lapse after its time-to-live), and after the poll grace both balancers pass it by.
    if let Some(handle) = backends[2].reporter.take() {
        handle.stop()?;
    }
    thread::sleep(Duration::from_secs(1));
    phase(&format!("{} shut down", SERVERS[2]), &balancers);

    for (i, b) in balancers.iter().enumerate() {
        let stats = b.poller.poller().stats();
        println!(
            "balancer {i}: {} polls, last round trip {:?}, {} reconnects, {} parse errors, {} servers without figures",
            stats.polls,
            stats.link.round_trip,
            stats.link.reconnects,
            stats.parse_errors,
            stats.expired
        );
    }
    Ok(())
}

/// A connector for `url`, a cluster's if the server there says it is one; an error if
/// nothing answers there.
fn connect(url: &str) -> Result<Connector, Box<dyn Error>> {
    let timeout = Duration::from_secs(2);
    let unreachable = |e: redis::RedisError| format!("cannot reach Redis at {url}: {e}");
    let mut conn = redis::Client::open(url)
        .map_err(unreachable)?
        .get_connection_with_timeout(timeout)
        .map_err(unreachable)?;
    conn.set_read_timeout(Some(timeout)).map_err(unreachable)?;
    let info: String = redis::cmd("INFO")
        .arg("cluster")
        .query(&mut conn)
        .map_err(unreachable)?;
    let connector = if info.contains("cluster_enabled:1") {
        Connector::cluster([url])?
    } else {
        Connector::single(url)?
    };
    connector.check().map_err(unreachable)?;
    Ok(connector)
}

/// Routes 1000 requests through each balancer and prints where they went.
fn phase(title: &str, balancers: &[Balancer]) {
    println!("\n{title}:");
    for (i, b) in balancers.iter().enumerate() {
        let mut went: BTreeMap<String, usize> = BTreeMap::new();
        for _ in 0..1000 {
            match b.fleet.acquire_next() {
                Ok(lease) => *went.entry(lease.id().to_owned()).or_default() += 1,
                Err(e) => *went.entry(format!("({e})")).or_default() += 1,
            }
        }
        let loads: Vec<String> = b
            .fleet
            .snapshot()
            .servers()
            .iter()
            .map(|s| {
                let health = if s.is_healthy() { "" } else { ", unhealthy" };
                format!("{} {:.1}{health}", s.id(), s.load())
            })
            .collect();
        println!("  balancer {i} sees [{}]", loads.join("; "));
        println!("  balancer {i} sent 1000 requests: {went:?}");
    }
}
