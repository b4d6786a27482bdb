//! Fleet-wide load and health through Redis (feature `redis`): each server publishes its
//! figures in a loop, and every balancer of the fleet reads them, so that least-loaded
//! routing sees the servers' real load, not just the requests one balancer sent.
//!
//! - [`Reporter`]: a server writes its [`Figures`] every interval with a time-to-live, and
//!   keeps its place in the service's member set; [`ReporterHandle`] runs it on a thread.
//! - [`Poller`]: a balancer reads every server's figures in one round trip every interval
//!   and feeds their loads ([`Server::report_load`](crate::Server::report_load)) and health;
//!   optionally the member set drives the fleet. [`PollerHandle`] runs it on a thread.
//! - [`Figures`]: requests in flight, a load, a latency, a time; one line of text in Redis.
//! - [`Keys`]: the key layout: `loadring:{<service>}:…`, one hash tag a service.
//! - [`Connector`]: one Redis or a Redis Cluster, timeouts and the waits between retries.
//! - [`ReportOptions`], [`PollOptions`]: intervals, time-to-live, staleness limit, grace.
//! - [`PollReport`]: what one poll did.
//! - [`LinkStats`], [`PollStats`]: round-trip time, failures, reconnects, parse errors,
//!   stale age.
//!
//! **Picks never touch the network.** They read the servers' cells, which the poller writes
//! between picks; a Redis that is slow, down or restarting delays no pick. When Redis is out
//! of reach the last figures hold until they are older than the staleness limit, then the
//! documented fallback (every load equal, health from the other sources alone) holds until
//! Redis answers again; reporters and pollers reconnect by themselves.
//!
//! **What a poll reads is bounded**, whatever else writes to the service's keys: at most
//! 513 bytes of each server's figures (longer ones do not parse), and at most 10 000 entries
//! of the member set, ids of at most 1024 bytes; a key of another type is a parse error for
//! its server alone. See [`Poller`].
//!
//! Reporters and pollers run on threads of their own ([`Reporter::spawn`],
//! [`Poller::spawn`]), or as a step that a task calls ([`Reporter::report`],
//! [`Poller::poll`], each followed by a wait of `next_delay()`): the crate holds no async
//! runtime, and on tokio a step goes in `spawn_blocking`, since it blocks for up to the
//! connector's timeout:
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use loadring::redis::Poller;
//! async fn drive(poller: Arc<Poller>) {
//!     loop {
//!         let step = Arc::clone(&poller);
//!         let wait = tokio::task::spawn_blocking(move || {
//!             let _ = step.poll(); // errors are counted in its stats
//!             step.next_delay()
//!         });
//!         match wait.await {
//!             Ok(wait) => tokio::time::sleep(wait).await,
//!             Err(_) => return, // the runtime is shutting down
//!         }
//!     }
//! }
//! ```
//!
//! ```no_run
//! use std::sync::Arc;
//! use loadring::redis::{Connector, Figures, Keys, PollOptions, Poller, ReportOptions, Reporter};
//! use loadring::{LeastLoaded, LeastLoadedOptions, LoadSource, Shared};
//!
//! let connector = Connector::single("redis://127.0.0.1:6379")?;
//! let keys = Keys::new("checkout")?;
//!
//! // On each server: publish its figures every second.
//! let reporter = Reporter::new(connector.clone(), keys.clone(), "10.0.0.1:8080", ReportOptions::default())?;
//! let _publishing = reporter.spawn(|| Figures::new(4, 0.6))?;
//!
//! // In each balancer: route by the published loads.
//! let by_reports = LeastLoadedOptions::default().with_load_source(LoadSource::Reported);
//! let fleet = Arc::new(Shared::new(LeastLoaded::with_options(
//!     ["10.0.0.1:8080", "10.0.0.2:8080"],
//!     by_reports,
//! )?));
//! let poller = Poller::new(connector, keys, Arc::clone(&fleet), PollOptions::default())?;
//! let polling = poller.spawn()?;
//! let lease = fleet.acquire_next()?;
//! println!("{} (round trip {:?})", lease.id(), polling.poller().stats().link.round_trip);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod backoff;
mod connect;
mod figures;
mod keys;
mod poller;
mod reporter;
mod stats;

pub use connect::Connector;
pub use figures::Figures;
pub use keys::Keys;
pub use poller::{PollOptions, PollReport, Poller, PollerHandle};
pub use reporter::{ReportOptions, Reporter, ReporterHandle};
pub use stats::{LinkStats, PollStats};
