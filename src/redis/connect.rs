//! [`Connector`]: where Redis is, one server or a cluster, and how reporters and pollers reach
//! it; and the connection each of them keeps, reopened after failures.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ::redis::cluster::{ClusterClient, ClusterConnection, ClusterPipeline};
use ::redis::{
    Client, Cmd, Connection, ConnectionInfo, ConnectionLike, IntoConnectionInfo, RedisError,
    RedisResult, ServerError, Value,
};

use parking_lot::Mutex;

use super::backoff::{MAX_DURATION, Waits, check_span};
use super::stats::LinkStats;
use crate::Error;

/// Where Redis is (one server, or the nodes of a Redis Cluster to start from) and how to
/// reach it: a timeout on every connection attempt, write and read (default 1 s), and the
/// waits between retries after a failure, growing from 100 ms to 1 s (by default) with
/// jitter.
///
/// Reporters and pollers each keep one connection, opened at their first round and again
/// after any failure; a cluster connection follows the cluster's slots as the `redis` crate's
/// cluster client does (with few retries of its own, so that a round stays within a few
/// timeouts).
///
/// ```
/// use std::time::Duration;
/// use loadring::redis::Connector;
///
/// let single = Connector::single("redis://127.0.0.1:6379")?;
/// let cluster = Connector::cluster(["redis://10.0.0.1:7000", "redis://10.0.0.2:7000"])?
///     .with_timeout(Duration::from_millis(250))
///     .with_backoff(Duration::from_millis(50), Duration::from_secs(2));
/// assert!(!single.is_cluster() && cluster.is_cluster());
/// assert!(Connector::single("not a url").is_err());
/// # Ok::<(), loadring::Error>(())
/// ```
#[derive(Clone)]
pub struct Connector {
    nodes: Vec<ConnectionInfo>,
    cluster: bool,
    timeout: Duration,
    min_backoff: Duration,
    max_backoff: Duration,
}

impl Connector {
    /// One Redis server, by URL (`redis://host:port/db`, with a user and password if need be).
    ///
    /// Errors: [`Error::InvalidOption`] (`url`) for a URL the `redis` crate cannot read.
    pub fn single(url: &str) -> Result<Self, Error> {
        Connector::build([url], false)
    }

    /// A Redis Cluster, by the URLs of one or more of its nodes; the others are found from
    /// them.
    ///
    /// Errors: [`Error::InvalidOption`] (`url`) for no URL or one that does not read.
    pub fn cluster<I>(nodes: I) -> Result<Self, Error>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        Connector::build(nodes, true)
    }

    fn build<I>(urls: I, cluster: bool) -> Result<Self, Error>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let nodes = urls
            .into_iter()
            .map(|url| {
                let url = url.as_ref();
                url.into_connection_info()
                    .map_err(|e| Error::option("url", format!("{url:?} does not read: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if nodes.is_empty() {
            return Err(Error::option("url", "a cluster needs at least one node"));
        }
        Ok(Connector {
            nodes,
            cluster,
            timeout: Duration::from_secs(1),
            min_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
        })
    }

    /// Sets the timeout of each connection attempt, write and read (above 0, at most a day).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the waits after a failure: `min` after the first, twice as long after each next
    /// one, up to `max`; each wait is between half and all of that, at random
    /// (`0 < min ≤ max ≤` a day).
    pub fn with_backoff(mut self, min: Duration, max: Duration) -> Self {
        self.min_backoff = min;
        self.max_backoff = max;
        self
    }

    /// Whether this is a Redis Cluster.
    pub fn is_cluster(&self) -> bool {
        self.cluster
    }

    /// The timeout of each connection attempt, write and read.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Connects and sends a `PING`, to tell at start-up whether Redis is there.
    ///
    /// Errors: the `redis` crate's, when Redis cannot be reached or does not answer within
    /// the timeout.
    pub fn check(&self) -> RedisResult<()> {
        let mut conn = self.connect()?;
        let pong = match &mut conn {
            Conn::Single(c) => c.req_command(&::redis::cmd("PING")),
            Conn::Cluster(c) => c.req_command(&::redis::cmd("PING")),
        };
        pong.map(drop)
    }

    /// Checks the timeout and the waits against their ranges.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        check_span("timeout", self.timeout)?;
        let backoff_ok = !self.min_backoff.is_zero()
            && self.min_backoff <= self.max_backoff
            && self.max_backoff <= MAX_DURATION;
        if !backoff_ok {
            return Err(Error::option("backoff", "needs 0 < min <= max <= a day"));
        }
        Ok(())
    }

    /// Opens a connection with the timeouts set.
    fn connect(&self) -> RedisResult<Conn> {
        let t = Some(self.timeout);
        if self.cluster {
            let conn = ClusterClient::builder(self.nodes.clone())
                .connection_timeout(self.timeout)
                .response_timeout(self.timeout)
                .retries(1)
                .min_retry_wait(10)
                .max_retry_wait(100)
                .build()?
                .get_connection()?;
            conn.set_write_timeout(t)?;
            return Ok(Conn::Cluster(Box::new(conn)));
        }
        let conn =
            Client::open(self.nodes[0].clone())?.get_connection_with_timeout(self.timeout)?;
        conn.set_read_timeout(t)?;
        conn.set_write_timeout(t)?;
        Ok(Conn::Single(conn))
    }
}

impl fmt::Debug for Connector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nodes: Vec<String> = self.nodes.iter().map(|n| n.addr().to_string()).collect();
        f.debug_struct("Connector")
            .field("nodes", &nodes)
            .field("cluster", &self.cluster)
            .field("timeout", &self.timeout)
            .field("min_backoff", &self.min_backoff)
            .field("max_backoff", &self.max_backoff)
            .finish()
    }
}

/// An open connection, to one server or a cluster.
enum Conn {
    Single(Connection),
    /// Boxed: a cluster connection is several times the size of a single one.
    Cluster(Box<ClusterConnection>),
}

impl Conn {
    /// Sends `cmds` as one pipeline and reads every answer: one round trip when they go to
    /// one node (on a cluster, when their keys share a slot). An error reply to any of them
    /// fails the whole pipeline, as the `redis` crate's cluster pipelines answer.
    fn query(&mut self, cmds: &[Cmd]) -> RedisResult<Vec<Value>> {
        match self {
            Conn::Single(c) => {
                let mut pipe = ::redis::pipe();
                for cmd in cmds {
                    pipe.add_command(cmd.clone());
                }
                pipe.query(c)
            }
            Conn::Cluster(c) => {
                let mut pipe = ClusterPipeline::with_capacity(cmds.len());
                for cmd in cmds {
                    pipe.add_command(cmd.clone());
                }
                pipe.query(c)
            }
        }
    }

    /// Sends `cmds` again but those that `failed`, and puts their error replies in their
    /// places among the answers.
    fn query_around(
        &mut self,
        cmds: &[Cmd],
        mut failed: HashMap<usize, ServerError>,
    ) -> RedisResult<Vec<Value>> {
        let rest: Vec<Cmd> = (0..cmds.len())
            .filter(|i| !failed.contains_key(i))
            .map(|i| cmds[i].clone())
            .collect();
        let mut answers = if rest.is_empty() {
            Vec::new().into_iter()
        } else {
            self.query(&rest)?.into_iter()
        };
        let answers = (0..cmds.len()).map(|i| match failed.remove(&i) {
            Some(e) => Value::ServerError(e),
            None => answers.next().unwrap_or(Value::Nil),
        });
        Ok(answers.collect())
    }
}

/// Which error replies fail a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Replies {
    /// Every one.
    Strict,
    /// Every one but `WRONGTYPE`, which is about its key alone (a key that holds another
    /// type than the command reads) and stays among the answers, as a
    /// [`Value::ServerError`], for the caller to count.
    KeepWrongType,
}

impl Replies {
    /// The commands that failed with an error reply this keeps, by index, when no other
    /// error did.
    fn kept(self, e: &RedisError) -> Option<HashMap<usize, ServerError>> {
        if self == Replies::Strict {
            return None;
        }
        let failed = e.clone().into_server_errors()?;
        let wrong_type = failed.iter().all(|(_, e)| e.code() == "WRONGTYPE");
        wrong_type.then(|| failed.iter().cloned().collect())
    }
}

/// A reporter's or poller's connection: opened when needed, dropped on any failure (a late
/// reply must never be read as the answer to the next request), with the waits between
/// attempts and the figures of how it fared.
pub(crate) struct Link {
    connector: Connector,
    conn: Option<Conn>,
    waits: Waits,
    /// How it fared, in a cell of its own: readable while a round trip is in progress.
    stats: Arc<Mutex<LinkStats>>,
}

/// One round trip's answers.
pub(crate) struct Exchange {
    pub(crate) answers: Vec<Value>,
    /// Whether the connection was opened for it.
    pub(crate) fresh: bool,
    pub(crate) round_trip: Duration,
}

impl Link {
    pub(crate) fn new(connector: Connector) -> Self {
        Link {
            waits: Waits::new(connector.min_backoff, connector.max_backoff),
            connector,
            conn: None,
            stats: Arc::default(),
        }
    }

    /// The cell of the link's figures.
    pub(crate) fn stats(&self) -> Arc<Mutex<LinkStats>> {
        Arc::clone(&self.stats)
    }

    /// Sends `cmds` in one round trip, opening a connection first if there is none. An
    /// error reply fails the round as a lost connection does, unless `replies` keeps it.
    pub(crate) fn run(&mut self, cmds: Vec<Cmd>, replies: Replies) -> RedisResult<Exchange> {
        let fresh = self.conn.is_none();
        match self.attempt(cmds, replies) {
            Ok((answers, round_trip)) => {
                self.waits.succeeded();
                let mut stats = self.stats.lock();
                stats.round_trips += 1;
                stats.round_trip = Some(round_trip);
                Ok(Exchange {
                    answers,
                    fresh,
                    round_trip,
                })
            }
            Err(e) => {
                self.conn = None;
                self.waits.failed();
                let mut stats = self.stats.lock();
                stats.failures += 1;
                stats.last_error = Some(e.to_string());
                Err(e)
            }
        }
    }

    fn attempt(&mut self, cmds: Vec<Cmd>, replies: Replies) -> RedisResult<(Vec<Value>, Duration)> {
        let conn = match &mut self.conn {
            Some(conn) => conn,
            None => {
                let conn = self.connector.connect()?;
                let mut stats = self.stats.lock();
                stats.connects += 1;
                if stats.connects > 1 {
                    stats.reconnects += 1;
                }
                self.conn.insert(conn)
            }
        };
        let started = Instant::now();
        let answers = match conn.query(&cmds) {
            // The `redis` crate's cluster pipelines answer all or nothing: the others are
            // asked again, a second round trip only while such keys exist.
            Err(e) => match replies.kept(&e) {
                Some(failed) => conn.query_around(&cmds, failed)?,
                None => return Err(e),
            },
            answers => answers?,
        };
        Ok((answers, started.elapsed()))
    }

    /// The wait before the next round: `interval` with jitter after a success, a growing
    /// wait after failures.
    pub(crate) fn next_delay(&mut self, interval: Duration, jitter: f64) -> Duration {
        self.waits.next(interval, jitter)
    }

    /// Whether the last attempt failed.
    pub(crate) fn failing(&self) -> bool {
        self.waits.failing()
    }
}

impl fmt::Debug for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Link")
            .field("connector", &self.connector)
            .field("connected", &self.conn.is_some())
            .finish_non_exhaustive()
    }
}
