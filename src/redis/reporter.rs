//! [`Reporter`]: a server publishes its figures into Redis every interval, with a
//! time-to-live, and keeps its place in the service's member set.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use ::redis::RedisResult;
use parking_lot::Mutex;

use super::backoff::{MAX_DURATION, check_jitter, check_span};
use super::connect::{Link, Replies};
use super::figures::unix_ms;
use super::keys::MAX_ID;
use super::{Connector, Figures, Keys, LinkStats};
use crate::Error;
use crate::worker::Worker;

/// Options of a [`Reporter`].
///
/// With `serde`, durations are strings of seconds or milliseconds, as every lifecycle option
/// reads them: `{"interval": "1s", "ttl": "3s"}`.
///
/// ```
/// use std::time::Duration;
/// use loadring::redis::ReportOptions;
///
/// let options = ReportOptions::default()
///     .with_interval(Duration::from_millis(500))
///     .with_ttl(Duration::from_secs(2));
/// assert_eq!(options.jitter, 0.1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
#[non_exhaustive]
pub struct ReportOptions {
    /// The wait between writes, before jitter (default 1 s; at most a day).
    #[cfg_attr(feature = "serde", serde(with = "crate::health::duration"))]
    pub interval: Duration,
    /// How long a write stays: the figures' time-to-live, and the member entry's (default
    /// 3 s; longer than the interval, so that a late write or two lose nothing; at least 1 ms
    /// and at most a day).
    #[cfg_attr(feature = "serde", serde(with = "crate::health::duration"))]
    pub ttl: Duration,
    /// Each wait is the interval less up to this fraction of it, at random, so that a fleet
    /// does not write in step (default 0.1; in `[0, 1)`).
    pub jitter: f64,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            interval: Duration::from_secs(1),
            ttl: Duration::from_secs(3),
            jitter: 0.1,
        }
    }
}

impl ReportOptions {
    /// Sets the wait between writes.
    pub fn with_interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// Sets the time-to-live of each write.
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Sets the largest fraction of the interval taken off a wait at random.
    pub fn with_jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter;
        self
    }

    fn validate(&self) -> Result<(), Error> {
        check_span("interval", self.interval)?;
        if self.ttl <= self.interval
            || self.ttl < Duration::from_millis(1)
            || self.ttl > MAX_DURATION
        {
            return Err(Error::option(
                "ttl",
                "must be longer than the interval, at least 1 ms and at most a day",
            ));
        }
        check_jitter(self.jitter)?;
        Ok(())
    }
}

/// Publishes one server's [`Figures`] into Redis: each write sets the server's figures key
/// with the [`ttl`](ReportOptions::ttl) and scores its id in the service's member set with
/// the time the entry lapses (the key layout is [`Keys`]'), in one round trip. A server that
/// stops writing drops out of both after the time-to-live; one that stops cleanly
/// ([`remove`](Reporter::remove), or dropping the [`ReporterHandle`]) leaves at once.
///
/// Run it on a thread of its own with [`spawn`](Reporter::spawn), which calls a closure
/// for the figures each round, or call [`report`](Reporter::report) from a task of your own,
/// waiting [`next_delay`](Reporter::next_delay) between rounds (on tokio, inside
/// `spawn_blocking`: a write blocks for up to the connector's timeout). After a failure the
/// connection is opened again at the next round, after a growing wait with jitter.
///
/// The member entry's lapse time is the reporting machine's clock: the machines of a fleet
/// must agree on the time to well within a time-to-live (NTP does). The figures' own
/// time-to-live is Redis's and needs no clock.
///
/// ```no_run
/// use loadring::redis::{Connector, Figures, Keys, ReportOptions, Reporter};
///
/// let connector = Connector::single("redis://127.0.0.1:6379")?;
/// let keys = Keys::new("checkout")?;
/// let reporter = Reporter::new(connector, keys, "10.0.0.1:8080", ReportOptions::default())?;
/// let cpu = || 0.35; // the server's own figure
/// let handle = reporter.spawn(move || Figures::new(0, cpu()))?;
/// // ... the server serves ...
/// handle.stop()?; // stops the thread and removes the entry
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Reporter {
    keys: Keys,
    id: Arc<str>,
    key: String,
    options: ReportOptions,
    link: Mutex<Link>,
    stats: Arc<Mutex<LinkStats>>,
}

impl Reporter {
    /// A reporter for the server `id` of the service `keys`; it connects at its first round.
    ///
    /// Errors: [`Error::InvalidOption`] for an id that is empty or longer than 1024 bytes
    /// (pollers would not read it from the member set), or an option or connector setting
    /// out of its range.
    pub fn new(
        connector: Connector,
        keys: Keys,
        id: impl Into<Arc<str>>,
        options: ReportOptions,
    ) -> Result<Self, Error> {
        let id = id.into();
        if id.is_empty() || id.len() > MAX_ID {
            return Err(Error::option("id", "must be 1 to 1024 bytes"));
        }
        options.validate()?;
        connector.validate()?;
        let link = Link::new(connector);
        Ok(Reporter {
            key: keys.server(&id),
            keys,
            id,
            options,
            stats: link.stats(),
            link: Mutex::new(link),
        })
    }

    /// The server's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The options.
    pub fn options(&self) -> &ReportOptions {
        &self.options
    }

    /// Writes `figures`, stamped with the time now, and renews the member entry; returns
    /// the round trip's time.
    ///
    /// Errors: the `redis` crate's, when Redis cannot be reached or answers an error; the
    /// connection is then opened again at the next call.
    pub fn report(&self, figures: Figures) -> RedisResult<Duration> {
        let figures = figures.stamped_now();
        let now = unix_ms(figures.at());
        let ttl = u64::try_from(self.options.ttl.as_millis()).unwrap_or(u64::MAX);
        let mut set = ::redis::cmd("SET");
        set.arg(&self.key).arg(figures.encode()).arg("PX").arg(ttl);
        let mut join = ::redis::cmd("ZADD");
        join.arg(self.keys.members())
            .arg(now.saturating_add(ttl))
            .arg(&*self.id);
        // Entries that lapsed a time-to-live ago go, whoever wrote them: the set stays the
        // size of the live fleet, with a time-to-live of slack for clocks that differ.
        let mut prune = ::redis::cmd("ZREMRANGEBYSCORE");
        prune
            .arg(self.keys.members())
            .arg("-inf")
            .arg(format!("({}", now.saturating_sub(ttl)));
        Ok(self
            .link
            .lock()
            .run(vec![set, join, prune], Replies::Strict)?
            .round_trip)
    }

    /// Removes the server's figures and member entry, so that pollers see it gone at their
    /// next round.
    ///
    /// Errors: the `redis` crate's, as for [`report`](Reporter::report).
    pub fn remove(&self) -> RedisResult<()> {
        let mut del = ::redis::cmd("DEL");
        del.arg(&self.key);
        let mut leave = ::redis::cmd("ZREM");
        leave.arg(self.keys.members()).arg(&*self.id);
        self.link.lock().run(vec![del, leave], Replies::Strict)?;
        Ok(())
    }

    /// The wait before the next round: the interval less up to its jitter after a success,
    /// a growing wait with jitter after a failure.
    pub fn next_delay(&self) -> Duration {
        let o = &self.options;
        self.link.lock().next_delay(o.interval, o.jitter)
    }

    /// How the connection has fared (read without waiting for a write in progress).
    pub fn stats(&self) -> LinkStats {
        self.stats.lock().clone()
    }

    /// Runs the reporter on a thread of its own: a write at once, then one after each
    /// [`next_delay`](Reporter::next_delay), of the figures that `figures` returns (a round
    /// whose call answers an error writes nothing, and is counted in
    /// [`LinkStats::skipped`]), until the handle is stopped or dropped.
    ///
    /// Errors: the system's, when it cannot start the thread.
    pub fn spawn<F>(self, mut figures: F) -> io::Result<ReporterHandle>
    where
        F: FnMut() -> Result<Figures, Error> + Send + 'static,
    {
        let reporter = Arc::new(self);
        let worker = {
            let reporter = Arc::clone(&reporter);
            Worker::spawn("loadring-reporter", move || {
                match figures() {
                    Ok(f) => {
                        let _ = reporter.report(f);
                    }
                    Err(e) => {
                        let mut stats = reporter.stats.lock();
                        stats.skipped += 1;
                        stats.last_error = Some(e.to_string());
                    }
                }
                reporter.next_delay()
            })?
        };
        Ok(ReporterHandle {
            reporter,
            worker: Some(worker),
        })
    }
}

impl fmt::Debug for Reporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reporter")
            .field("id", &self.id)
            .field("keys", &self.keys)
            .field("options", &self.options)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// A [`Reporter`] running on a thread of its own ([`Reporter::spawn`]). Stopping or
/// dropping it ends the thread (after a write in progress), joins it, and removes the
/// server's entry from Redis, so that pollers see it leave at once.
pub struct ReporterHandle {
    reporter: Arc<Reporter>,
    worker: Option<Worker>,
}

impl ReporterHandle {
    /// The running reporter, to read its [`stats`](Reporter::stats).
    pub fn reporter(&self) -> &Reporter {
        &self.reporter
    }

    /// Stops the thread, waits for it, and removes the server's entry (as dropping the handle
    /// does, which ignores the outcome).
    ///
    /// Errors: the `redis` crate's, when the entry could not be removed; it then lapses
    /// after its time-to-live.
    pub fn stop(mut self) -> RedisResult<()> {
        self.shut_down().unwrap_or(Ok(()))
    }

    fn shut_down(&mut self) -> Option<RedisResult<()>> {
        drop(self.worker.take()?);
        Some(self.reporter.remove())
    }
}

impl Drop for ReporterHandle {
    fn drop(&mut self) {
        let _ = self.shut_down();
    }
}

impl fmt::Debug for ReporterHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReporterHandle")
            .field("reporter", &self.reporter)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_out_of_range_are_errors() {
        let connector = Connector::single("redis://127.0.0.1:1").unwrap();
        let keys = Keys::new("svc").unwrap();
        let s = Duration::from_secs(1);
        let long = "x".repeat(MAX_ID + 1);
        let bad = [
            ("id", "", ReportOptions::default()),
            ("id", &long, ReportOptions::default()),
            (
                "interval",
                "a",
                ReportOptions::default().with_interval(Duration::ZERO),
            ),
            ("ttl", "a", ReportOptions::default().with_ttl(s)),
            (
                "ttl",
                "a",
                ReportOptions::default().with_ttl(MAX_DURATION * 2),
            ),
            ("jitter", "a", ReportOptions::default().with_jitter(-0.5)),
        ];
        for (name, id, options) in bad {
            match Reporter::new(connector.clone(), keys.clone(), id, options) {
                Err(Error::InvalidOption { name: n, .. }) => assert_eq!(n, name),
                other => panic!("{name}: {other:?}"),
            }
        }
        let longest = "x".repeat(MAX_ID);
        assert!(Reporter::new(connector, keys, longest, ReportOptions::default()).is_ok());
    }

    #[test]
    fn a_reporter_out_of_reach_counts_failures_and_backs_off() {
        let connector = Connector::single("redis://127.0.0.1:1")
            .unwrap()
            .with_backoff(Duration::from_millis(10), Duration::from_millis(40));
        let options = ReportOptions::default().with_jitter(0.0);
        let reporter = Reporter::new(connector, Keys::new("svc").unwrap(), "a", options).unwrap();
        assert_eq!(reporter.next_delay(), Duration::from_secs(1));
        for _ in 0..4 {
            assert!(reporter.report(Figures::new(1, 1.0).unwrap()).is_err());
            assert!(reporter.next_delay() <= Duration::from_millis(40));
        }
        assert!(reporter.remove().is_err());
        let stats = reporter.stats();
        assert_eq!(
            (stats.failures, stats.connects, stats.round_trips),
            (5, 0, 0)
        );
    }
}
