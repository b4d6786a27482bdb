//! A poller's round trip to a real Redis and to a three-node Redis Cluster (started here, on
//! loopback), for fleets of 10, 100 and 1000 servers: `poll` reads every server's figures in
//! one round trip and feeds them to a live balancer. Skipped, with a message, when
//! `redis-server` is absent.
//!
//! Run with `cargo bench --features redis --bench redis -- --warm-up-time 1 --measurement-time 3`.

#[path = "../tests/support/redis.rs"]
mod support;

use std::sync::Arc;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use loadring::redis::{Connector, Figures, Keys, PollOptions, Poller, ReportOptions, Reporter};
use loadring::{LeastLoaded, LeastLoadedOptions, LoadSource, Shared};
use support::{RedisCluster, RedisServer};

const FLEETS: [usize; 3] = [10, 100, 1000];

fn id(i: usize) -> String {
    format!("10.0.{}.{}:8080", i / 256, i % 256)
}

/// Publishes `n` servers' figures (for an hour) and returns a poller over a fleet of them.
fn poller(connector: &Connector, service: &str, n: usize) -> Poller {
    let keys = Keys::new(service).unwrap();
    let options = ReportOptions::default().with_ttl(Duration::from_secs(3600));
    for i in 0..n {
        Reporter::new(connector.clone(), keys.clone(), id(i), options)
            .unwrap()
            .report(Figures::new(i as u64, i as f64).unwrap())
            .unwrap();
    }
    let by_reports = LeastLoadedOptions::default().with_load_source(LoadSource::Reported);
    let fleet = Arc::new(Shared::new(
        LeastLoaded::with_options((0..n).map(id), by_reports).unwrap(),
    ));
    Poller::new(connector.clone(), keys, fleet, PollOptions::default()).unwrap()
}

/// The median of a poller's round trips over `polls` polls, as its reports give them.
fn median_round_trip(poller: &Poller, polls: usize) -> Duration {
    let mut times: Vec<Duration> = (0..polls)
        .map(|_| poller.poll().unwrap().round_trip.unwrap())
        .collect();
    times.sort();
    times[times.len() / 2]
}

fn bench_backend(c: &mut Criterion, name: &str, connector: &Connector) {
    let mut group = c.benchmark_group(format!("redis_poll_{name}"));
    for n in FLEETS {
        let poller = poller(connector, &format!("bench-{n}"), n);
        let report = poller.poll().unwrap();
        assert_eq!(report.updated, n, "every server's figures read");
        eprintln!(
            "{name}, {n} servers: median round trip {:?} over 200 polls",
            median_round_trip(&poller, 200)
        );
        group.bench_with_input(BenchmarkId::from_parameter(n), &poller, |b, p| {
            b.iter(|| p.poll().unwrap())
        });
    }
    group.finish();
}

fn polls(c: &mut Criterion) {
    let Some(server) = RedisServer::start() else {
        return;
    };
    bench_backend(c, "single", &Connector::single(&server.url()).unwrap());
    drop(server);
    if let Some(cluster) = RedisCluster::start() {
        bench_backend(c, "cluster", &Connector::cluster(cluster.urls()).unwrap());
    }
}

criterion_group!(benches, polls);
criterion_main!(benches);
