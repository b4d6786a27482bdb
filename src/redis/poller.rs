//! [`Poller`]: a balancer reads its servers' figures from Redis every interval, in one round
//! trip, and feeds their loads and health.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use ::redis::{FromRedisValue, RedisResult, Value};
use parking_lot::Mutex;

use super::backoff::{MAX_DURATION, check_jitter, check_span};
use super::connect::{Link, Replies};
use super::figures::{MAX_TEXT, Unparsable, unix_ms};
use super::keys::{MAX_ID, MAX_MEMBERS};
use super::{Connector, Figures, Keys, LinkStats, PollStats};
use crate::health::{Clock, ServerSource, SystemClock};
use crate::server::Flag;
use crate::worker::Worker;
use crate::{Balancer, Error, Server, Shared, SyncOptions, SyncReport, Update};

/// Options of a [`Poller`].
///
/// With `serde`, durations are strings of seconds or milliseconds, as every lifecycle option
/// reads them: `{"interval": "1s", "stale_after": "10s", "grace": "3s"}`.
///
/// ```
/// use std::time::Duration;
/// use loadring::redis::PollOptions;
///
/// let options = PollOptions::default()
///     .with_interval(Duration::from_millis(500))
///     .with_stale_after(Duration::from_secs(5))
///     .with_mark_expired(false);
/// assert_eq!(options.grace, Duration::from_secs(3));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
#[non_exhaustive]
pub struct PollOptions {
    /// The wait between polls, before jitter (default 1 s; at most a day).
    #[cfg_attr(feature = "serde", serde(with = "crate::health::duration"))]
    pub interval: Duration,
    /// The staleness limit: once Redis has been out of reach this long, the fallback holds
    /// (every load 0, no server marked for missing figures) until it answers again
    /// (default 10 s; above 0, at most a day). It starts at the limit, or when an attempt
    /// under way then gives up (within the connector's timeout; on a cluster, whose client
    /// tries once more, within two or three).
    #[cfg_attr(feature = "serde", serde(with = "crate::health::duration"))]
    pub stale_after: Duration,
    /// How long a server's figures (or, with a member-driven fleet, its member entry) must
    /// have been missing, from a Redis that answers, before the poller marks the server
    /// unhealthy (or lets it leave): the time reporters have to publish again after Redis
    /// restarts empty, counted from each new connection (default 3 s; at most a day).
    #[cfg_attr(feature = "serde", serde(with = "crate::health::duration"))]
    pub grace: Duration,
    /// Whether a server whose figures are missing counts as unhealthy (default `true`);
    /// off, it keeps its last load and its health comes from other sources alone.
    pub mark_expired: bool,
    /// Each wait is the interval less up to this fraction of it, at random (default 0.1; in
    /// `[0, 1)`).
    pub jitter: f64,
}

impl Default for PollOptions {
    fn default() -> Self {
        PollOptions {
            interval: Duration::from_secs(1),
            stale_after: Duration::from_secs(10),
            grace: Duration::from_secs(3),
            mark_expired: true,
            jitter: 0.1,
        }
    }
}

impl PollOptions {
    /// Sets the wait between polls.
    pub fn with_interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// Sets the staleness limit.
    pub fn with_stale_after(mut self, stale_after: Duration) -> Self {
        self.stale_after = stale_after;
        self
    }

    /// Sets how long figures must be missing before they count.
    pub fn with_grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// Sets whether missing figures mark a server unhealthy.
    pub fn with_mark_expired(mut self, mark: bool) -> Self {
        self.mark_expired = mark;
        self
    }

    /// Sets the largest fraction of the interval taken off a wait at random.
    pub fn with_jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter;
        self
    }

    fn validate(&self) -> Result<(), Error> {
        check_span("interval", self.interval)?;
        check_span("stale_after", self.stale_after)?;
        if self.grace > MAX_DURATION {
            return Err(Error::option("grace", "must be at most a day"));
        }
        check_jitter(self.jitter)?;
        Ok(())
    }
}

/// What one poll did.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct PollReport {
    /// The time the read took (one round trip; `None` when there was nothing to read).
    pub round_trip: Option<Duration>,
    /// Servers fed.
    pub servers: usize,
    /// Servers whose figures were read and applied.
    pub updated: usize,
    /// Servers without figures in Redis.
    pub missing: usize,
    /// Servers the poller marks unhealthy now, their figures missing past the grace.
    pub expired: usize,
    /// Values that did not parse this poll (figures, member ids, keys of another type, a
    /// member set over its cap: see [`Poller`]); they change nothing.
    pub parse_errors: usize,
    /// Servers that joined the fleet from the member set.
    pub joined: usize,
    /// Servers that left the fleet, their member entries missing past the grace.
    pub left: usize,
    /// Why the fleet could not take the member set, if it could not (it then stays as it
    /// was, and its servers are fed as usual).
    pub sync_error: Option<Error>,
}

/// The fleet's discovery sync, for a member-driven poller.
type FleetSync = Box<dyn Fn(Vec<Server>) -> Result<SyncReport, Error> + Send + Sync>;

/// Reads every server's [`Figures`] from Redis each interval, in one round trip (a pipeline
/// of a `GETRANGE` over each server's key, and `ZRANGEBYSCORE` over the member set when it
/// drives the fleet; never `KEYS` or `SCAN`), and feeds a live balancer: each figure's
/// [`load`](Figures::load) goes to [`Server::report_load`] (what
/// [`LoadSource::Reported`](crate::LoadSource::Reported) balances by), and a server whose
/// figures are missing is marked unhealthy.
///
/// Picks never touch the network and never wait on the poller: they read the servers'
/// cells, which the poller writes between picks.
///
/// **Health.** The poller keeps a mark of its own on each server, apart from
/// [`Server::set_healthy`]'s, the health checker's and the outlier detector's, so none of
/// them clears another's; a server is healthy when no mark holds it. The poller sets it when
/// a server's figures have been missing for the [`grace`](PollOptions::grace) from a Redis
/// that answers (its reporter stopped: the figures lapsed after their time-to-live), unless
/// [`mark_expired`](PollOptions::mark_expired) is off, and clears it when figures return.
/// One poller per fleet: two would clear each other's marks. A poller that goes (dropped,
/// or its [`PollerHandle`] stopped) clears every mark it set.
///
/// **Bounds.** What one poll reads is bounded, whatever else writes to the service's keys:
/// the first 513 bytes of each server's value (figures are at most 512 bytes: a longer value
/// is a parse error), and the first 10 000 live entries of the member set (one more counts
/// one parse error a poll, and is not read), each id at most 1024 bytes (a longer one is a
/// parse error). An empty value reads as no figures (Redis answers so for a missing key; a
/// reporter never writes one); a key of another type than Redis's string (a hash, a list) is
/// a parse error for its server alone (on a cluster, the `redis` crate's pipelines answer
/// all or nothing, so the others are read again: a second round trip while such a key
/// exists), and a member set of another type is one too (the fleet stays as it is).
/// (Redis sends each member id whole, as long as it was written, up to its
/// `proto-max-bulk-len`; a poller keeps none over 1024 bytes.)
///
/// **Faults.** Figures that do not parse are ignored (the server keeps its load and health)
/// and counted. When Redis is out of reach the servers keep their last loads and marks until
/// Redis has been out of reach for [`stale_after`](PollOptions::stale_after); then the
/// **fallback** holds: every load is 0 (least-loaded balancing spreads evenly, by weight),
/// and no server is marked for missing figures (its health comes from the other sources
/// alone). The poller reconnects by itself, after waits that grow with jitter (see
/// [`Connector`]); the first good poll ends the fallback. Since a Redis that restarts empty
/// holds no figures until the reporters write again, misses count from each new connection,
/// and only after the grace.
///
/// **Membership.** [`Poller::new`] feeds the servers its target holds (a balancer, a
/// [`Shared`] one, a fleet), read again each poll, so the fleet may come from elsewhere
/// (configuration, discovery). [`Poller::with_members`] lets the member set drive the fleet
/// itself through [`Shared::sync`]: a reporting server joins at the first poll that sees it,
/// as `Server::new(id)` (an id that is a socket address is its address) with the weight its
/// figures name ([`Figures::with_weight`]; 1 if none), and leaves when its member entry has
/// been missing for the grace. A server whose figures name a weight takes it at the poll
/// that reads it, and a weight of 0 drains it (it stays, keeps its weight and takes no new
/// requests; a weight above 0 ends that drain), so a server drains itself by reporting 0.
/// A server whose figures name no weight keeps its weight and its drain; a drain set by
/// hand outlasts every sync.
///
/// Run it on a thread of its own with [`spawn`](Poller::spawn), or call
/// [`poll`](Poller::poll) from a task of your own, waiting [`next_delay`](Poller::next_delay)
/// between polls (on tokio, inside `spawn_blocking`: a poll blocks for up to the connector's
/// timeout).
///
/// ```no_run
/// use std::sync::Arc;
/// use loadring::redis::{Connector, Keys, PollOptions, Poller};
/// use loadring::{LeastLoaded, LeastLoadedOptions, LoadSource, Shared};
///
/// let options = LeastLoadedOptions::default().with_load_source(LoadSource::Reported);
/// let fleet = Arc::new(Shared::new(LeastLoaded::with_options(
///     ["10.0.0.1:8080", "10.0.0.2:8080"],
///     options,
/// )?));
/// let connector = Connector::single("redis://127.0.0.1:6379")?;
/// let poller = Poller::new(connector, Keys::new("checkout")?, Arc::clone(&fleet), PollOptions::default())?;
/// let handle = poller.spawn()?;
///
/// let lease = fleet.acquire_next()?; // the least loaded by the published figures
/// println!("{} (stale for {:?})", lease.id(), handle.poller().stats().stale_age);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Poller {
    keys: Keys,
    options: PollOptions,
    clock: Arc<dyn Clock>,
    target: Arc<dyn ServerSource + Send + Sync>,
    sync: Option<FleetSync>,
    /// The connection; polls take turns on it.
    link: Mutex<Link>,
    link_stats: Arc<Mutex<LinkStats>>,
    state: Mutex<State>,
}

/// What a poller keeps between polls.
struct State {
    /// Each server fed, by id.
    servers: HashMap<Arc<str>, Entry>,
    /// Servers of a member-driven fleet missing from the member set, and since when.
    absent: HashMap<Arc<str>, Duration>,
    /// When the last poll ended well (when the poller was made, before one did).
    last_ok: Duration,
    fallback: bool,
    polls: u64,
    parse_errors: u64,
}

/// One server fed.
struct Entry {
    /// The server, to feed (its cells are the balancer's).
    server: Server,
    figures: Option<Figures>,
    /// Since when its figures have been missing, on this connection.
    missing_since: Option<Duration>,
    /// Whether the poller marks it.
    marked: bool,
}

impl Entry {
    fn new(server: Server) -> Self {
        Entry {
            marked: server.has_flag(Flag::UNREPORTED),
            server,
            figures: None,
            missing_since: None,
        }
    }

    /// Sets or clears the poller's mark.
    fn mark(&mut self, on: bool) {
        if self.marked != on {
            self.server.set_flag(Flag::UNREPORTED, on);
            self.marked = on;
        }
    }
}

/// What one read brought: the member set if asked, and what each id's key holds.
#[derive(Default)]
struct Read {
    /// The member set's first entries, or why they did not read (a key of another type).
    members: Option<Result<Vec<Vec<u8>>, Unparsable>>,
    values: Vec<Found>,
    /// Whether the connection was opened for this read.
    fresh: bool,
    round_trip: Option<Duration>,
}

/// What a poll found under one server's key.
enum Found {
    /// Nothing: no key, or an empty value (`GETRANGE` answers so for a missing key; a
    /// reporter never writes an empty value).
    Nothing,
    /// The value's first bytes, up to one past the longest figures.
    Text(Vec<u8>),
    /// A key that holds another type than a string: a parse error.
    WrongType,
}

impl Found {
    /// Reads one `GETRANGE` answer; an answer that is not a string fails the round.
    fn from_answer(answer: Value) -> RedisResult<Self> {
        Ok(match answer {
            Value::ServerError(_) => Found::WrongType, // WRONGTYPE (`Replies::KeepWrongType`)
            Value::Nil => Found::Nothing,
            answer => match Vec::<u8>::from_redis_value(answer)? {
                bytes if bytes.is_empty() => Found::Nothing,
                bytes => Found::Text(bytes),
            },
        })
    }
}

/// The ids of the member set's entries (at most [`MAX_MEMBERS`]); entries past the cap, ids
/// that are not UTF-8, empty or over [`MAX_ID`] bytes are parse errors.
fn listed(mut members: Vec<Vec<u8>>, report: &mut PollReport) -> HashSet<Arc<str>> {
    if members.len() > MAX_MEMBERS {
        // Entries past the cap are not read; the set counts once for them.
        members.truncate(MAX_MEMBERS);
        report.parse_errors += 1;
    }
    let mut listed = HashSet::with_capacity(members.len());
    for raw in members {
        match String::from_utf8(raw) {
            Ok(id) if !id.is_empty() && id.len() <= MAX_ID => {
                listed.insert(id.into());
            }
            _ => report.parse_errors += 1,
        }
    }
    listed
}

/// A server for a sync that leaves it as it is: one that an earlier weight of 0 drains goes
/// with weight 0 again, which keeps that drain and its weight (a drain by hand outlasts any
/// sync).
fn as_it_is(server: &Server) -> Server {
    if server.has_flag(Flag::LISTED_ZERO) {
        server.clone().with_weight(0)
    } else {
        server.clone()
    }
}

impl Poller {
    /// A poller that feeds the servers `target` holds, as they are at each poll.
    ///
    /// Errors: [`Error::InvalidOption`] for an option or connector setting out of its
    /// range.
    pub fn new<T>(
        connector: Connector,
        keys: Keys,
        target: Arc<T>,
        options: PollOptions,
    ) -> Result<Self, Error>
    where
        T: ServerSource + Send + Sync + 'static,
    {
        options.validate()?;
        connector.validate()?;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock::new());
        let link = Link::new(connector);
        Ok(Poller {
            keys,
            options,
            link_stats: link.stats(),
            link: Mutex::new(link),
            state: Mutex::new(State {
                servers: HashMap::new(),
                absent: HashMap::new(),
                last_ok: clock.now(),
                fallback: false,
                polls: 0,
                parse_errors: 0,
            }),
            clock,
            target,
            sync: None,
        })
    }

    /// A poller whose service's member set drives `fleet`: servers join and leave through
    /// [`Shared::sync`] with `sync` (see [`Poller`]), and are fed as with
    /// [`new`](Poller::new).
    ///
    /// Errors: as for [`new`](Poller::new).
    pub fn with_members<B>(
        connector: Connector,
        keys: Keys,
        fleet: Arc<Shared<B>>,
        options: PollOptions,
        sync: SyncOptions,
    ) -> Result<Self, Error>
    where
        B: Balancer + Update + Clone + Send + Sync + 'static,
    {
        let mut poller = Poller::new(connector, keys, Arc::clone(&fleet), options)?;
        poller.sync = Some(Box::new(move |servers| fleet.sync(servers, sync)));
        Ok(poller)
    }

    /// Reads time from `clock` (a [`ManualClock`](crate::health::ManualClock) in tests):
    /// the staleness limit and the grace are measured on it.
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self.state.get_mut().last_ok = self.clock.now();
        self
    }

    /// The options.
    pub fn options(&self) -> &PollOptions {
        &self.options
    }

    /// Polls once: reads every server's figures, feeds them, and with a member-driven fleet
    /// lets servers join and leave (see [`Poller`] for the rules).
    ///
    /// Errors: the `redis` crate's, when Redis cannot be reached or answers an error; the
    /// servers then keep their last figures, or the fallback holds once they are stale.
    pub fn poll(&self) -> RedisResult<PollReport> {
        // Polls take turns; the state is locked only between round trips, so that
        // `stats` and `figures` never wait for Redis.
        let mut link = self.link.lock();
        if link.failing() {
            // Redis was out of reach at the last poll: once that is stale, the fallback
            // starts now, not after this poll's attempt has timed out too.
            let now = self.clock.now();
            self.state.lock().lost(now, self.options.stale_after);
        }
        let mut servers = servers_of(&*self.target);
        self.state.lock().follow(&servers);
        let ids: Vec<Arc<str>> = servers.iter().map(|s| Arc::clone(s.id_arc())).collect();
        let mut report = PollReport::default();
        let read = if ids.is_empty() && self.sync.is_none() {
            Read::default()
        } else {
            match self.read(&mut link, &ids, self.sync.is_some()) {
                Ok(read) => read,
                Err(e) => {
                    let now = self.clock.now();
                    self.state.lock().lost(now, self.options.stale_after);
                    return Err(e);
                }
            }
        };
        report.round_trip = read.round_trip;
        let now = self.clock.now();
        let mut values: HashMap<Arc<str>, Found> = ids.into_iter().zip(read.values).collect();
        let mut state = self.state.lock();
        state.polls += 1;
        state.last_ok = now;
        state.fallback = false;
        if read.fresh {
            // Misses count from this connection: Redis may have restarted empty.
            state.absent.clear();
            for entry in state.servers.values_mut() {
                entry.missing_since = None;
            }
        }
        match (&self.sync, read.members) {
            (Some(sync), Some(Ok(members))) => {
                let listed = listed(members, &mut report);
                let mut joining: Vec<Arc<str>> = listed
                    .iter()
                    .filter(|id| !values.contains_key(*id))
                    .cloned()
                    .collect();
                if !joining.is_empty() {
                    joining.sort_unstable();
                    drop(state);
                    // The newcomers' figures, so that they join with their weights and
                    // loads: a second round trip, only when the fleet grows.
                    if let Ok(read) = self.read(&mut link, &joining, false) {
                        values.extend(joining.into_iter().zip(read.values));
                    }
                    state = self.state.lock();
                }
                let synced = self.follow_members(
                    &mut state,
                    &servers,
                    listed,
                    &values,
                    now,
                    sync,
                    &mut report,
                );
                if synced {
                    drop(state);
                    servers = servers_of(&*self.target);
                    state = self.state.lock();
                    state.follow(&servers);
                }
            }
            // A member set of another type: the fleet stays as it is.
            (_, Some(Err(Unparsable))) => report.parse_errors += 1,
            _ => {}
        }
        self.feed(&mut state, &servers, &values, now, &mut report);
        state.parse_errors += report.parse_errors as u64;
        Ok(report)
    }

    /// One round trip, a pipeline: the member set's first entries if `members`
    /// (`ZRANGEBYSCORE … LIMIT`), and the first bytes of each of `ids`' values (a `GETRANGE`
    /// each), all in the service's one slot. A key of another type is its own parse error,
    /// not the round's failure.
    fn read(&self, link: &mut Link, ids: &[Arc<str>], members: bool) -> RedisResult<Read> {
        let mut cmds = Vec::with_capacity(ids.len() + 1);
        if members {
            // One past the cap, to tell a set over it.
            let mut range = ::redis::cmd("ZRANGEBYSCORE");
            range
                .arg(self.keys.members())
                .arg(unix_ms(SystemTime::now()))
                .arg("+inf")
                .arg("LIMIT")
                .arg(0)
                .arg(MAX_MEMBERS + 1);
            cmds.push(range);
        }
        cmds.extend(ids.iter().map(|id| {
            // Bytes 0 to MAX_TEXT, both included: one past the longest figures.
            let mut get = ::redis::cmd("GETRANGE");
            get.arg(self.keys.server(id)).arg(0).arg(MAX_TEXT);
            get
        }));
        let exchange = link.run(cmds, Replies::KeepWrongType)?;
        let mut answers = exchange.answers.into_iter();
        let members = if members {
            Some(match answers.next() {
                // WRONGTYPE (`Replies::KeepWrongType`).
                Some(Value::ServerError(_)) => Err(Unparsable),
                set => Ok(Vec::<Vec<u8>>::from_redis_value(set.unwrap_or(Value::Nil))?),
            })
        } else {
            None
        };
        Ok(Read {
            members,
            values: answers.map(Found::from_answer).collect::<Result<_, _>>()?,
            fresh: exchange.fresh,
            round_trip: Some(exchange.round_trip),
        })
    }

    /// Lets servers join and leave as the member set says (`listed`, its ids), with the
    /// weights their figures in `values` ask for; returns whether the fleet changed.
    #[allow(clippy::too_many_arguments)]
    fn follow_members(
        &self,
        state: &mut State,
        servers: &[Server],
        mut listed: HashSet<Arc<str>>,
        values: &HashMap<Arc<str>, Found>,
        now: Duration,
        sync: &FleetSync,
        report: &mut PollReport,
    ) -> bool {
        let weight_of = |id: &str| match values.get(id) {
            Some(Found::Text(text)) => Figures::parse(text).ok().and_then(|f| f.weight()),
            _ => None,
        };
        let mut next = Vec::with_capacity(servers.len() + listed.len());
        let mut reweighted = false;
        for server in servers {
            if listed.remove(server.id()) {
                state.absent.remove(server.id());
                next.push(match weight_of(server.id()) {
                    Some(weight) => {
                        // Weight 0 drains, keeping the weight; another ends a drain.
                        let drain = weight == 0;
                        reweighted |= drain != server.has_flag(Flag::LISTED_ZERO)
                            || (!drain && weight != server.weight());
                        server.clone().with_weight(weight)
                    }
                    None => as_it_is(server),
                });
                continue;
            }
            let since = *state
                .absent
                .entry(Arc::clone(server.id_arc()))
                .or_insert(now);
            if now.saturating_sub(since) < self.options.grace {
                next.push(as_it_is(server));
            } else {
                report.left += 1;
            }
        }
        let mut joined: Vec<Arc<str>> = listed.into_iter().collect();
        joined.sort_unstable();
        if joined.is_empty() && report.left == 0 && !reweighted {
            return false;
        }
        next.extend(joined.iter().map(|id| {
            let server = Server::new(Arc::clone(id));
            match weight_of(id) {
                Some(weight) => server.with_weight(weight),
                None => server,
            }
        }));
        match sync(next) {
            Ok(_) => {
                report.joined = joined.len();
                // Those that left are forgotten; the others wait out their grace.
                let grace = self.options.grace;
                state
                    .absent
                    .retain(|_, since| now.saturating_sub(*since) < grace);
                true
            }
            Err(e) => {
                report.left = 0;
                report.sync_error = Some(e);
                false
            }
        }
    }

    /// Feeds each server its figures, or counts them missing.
    fn feed(
        &self,
        state: &mut State,
        servers: &[Server],
        values: &HashMap<Arc<str>, Found>,
        now: Duration,
        report: &mut PollReport,
    ) {
        report.servers = servers.len();
        for server in servers {
            let Some(entry) = state.servers.get_mut(server.id()) else {
                continue;
            };
            match values.get(server.id()) {
                Some(Found::Text(bytes)) => match Figures::parse(bytes) {
                    Ok(figures) => {
                        // A parsed load is finite and not negative: the report cannot fail.
                        let _ = server.report_load(figures.load());
                        entry.figures = Some(figures);
                        entry.missing_since = None;
                        entry.mark(false);
                        report.updated += 1;
                    }
                    Err(_) => report.parse_errors += 1,
                },
                Some(Found::WrongType) => report.parse_errors += 1,
                Some(Found::Nothing) | None => {
                    report.missing += 1;
                    let since = *entry.missing_since.get_or_insert(now);
                    if self.options.mark_expired && now.saturating_sub(since) >= self.options.grace
                    {
                        entry.mark(true);
                    }
                }
            }
        }
        report.expired = state.servers.values().filter(|e| e.marked).count();
    }

    /// The wait before the next poll: the interval less up to its jitter after a success; a
    /// growing wait with jitter after a failure, cut short at the staleness limit so that the
    /// fallback starts on time.
    pub fn next_delay(&self) -> Duration {
        let mut link = self.link.lock();
        let wait = link.next_delay(self.options.interval, self.options.jitter);
        let state = self.state.lock();
        if !link.failing() || state.fallback {
            return wait;
        }
        let stale = self.clock.now().saturating_sub(state.last_ok);
        let left = self.options.stale_after.saturating_sub(stale);
        wait.min(left.max(Duration::from_millis(1)))
    }

    /// The figures last read for a server (kept while Redis is out of reach), or `None` if
    /// none were.
    pub fn figures(&self, id: &str) -> Option<Figures> {
        self.state.lock().servers.get(id)?.figures
    }

    /// The figures of interest: round trips and their time, reconnects, parse errors, the
    /// age of the figures in use, whether the fallback holds.
    pub fn stats(&self) -> PollStats {
        let state = self.state.lock();
        PollStats {
            link: self.link_stats.lock().clone(),
            polls: state.polls,
            parse_errors: state.parse_errors,
            stale_age: self.clock.now().saturating_sub(state.last_ok),
            in_fallback: state.fallback,
            expired: state.servers.values().filter(|e| e.marked).count(),
        }
    }

    /// Runs the poller on a thread of its own: a poll at once, then one after each
    /// [`next_delay`](Poller::next_delay), until the handle is stopped or dropped.
    ///
    /// Errors: the system's, when it cannot start the thread.
    pub fn spawn(self) -> io::Result<PollerHandle> {
        let poller = Arc::new(self);
        let worker = {
            let poller = Arc::clone(&poller);
            Worker::spawn("loadring-poller", move || {
                let _ = poller.poll();
                poller.next_delay()
            })?
        };
        Ok(PollerHandle {
            _worker: worker,
            poller,
        })
    }
}

impl State {
    /// Takes the servers of this poll: keeps the entries of those that stay (the same
    /// cells), starts those of new ones, forgets (and unmarks) those that left.
    fn follow(&mut self, servers: &[Server]) {
        let live: HashMap<&str, &Server> = servers.iter().map(|s| (s.id(), s)).collect();
        self.servers.retain(|id, entry| {
            let stays = live
                .get(&**id)
                .is_some_and(|s| s.shares_state_with(&entry.server));
            if !stays {
                entry.mark(false);
            }
            stays
        });
        for s in servers {
            self.servers
                .entry(Arc::clone(s.id_arc()))
                .or_insert_with(|| Entry::new(s.clone()));
        }
    }

    /// Redis has been out of reach since the last good poll, as of `now`: past the staleness
    /// limit, the fallback starts.
    fn lost(&mut self, now: Duration, stale_after: Duration) {
        if self.fallback || now.saturating_sub(self.last_ok) < stale_after {
            return;
        }
        self.fallback = true;
        for entry in self.servers.values_mut() {
            entry.mark(false);
            entry.missing_since = None;
            let _ = entry.server.report_load(0.0);
        }
    }
}

/// The servers `source` holds now, owned.
fn servers_of(source: &(dyn ServerSource + Send + Sync)) -> Vec<Server> {
    let mut servers = Vec::new();
    source.with_servers(&mut |s| servers = s.to_vec());
    servers
}

impl Drop for Poller {
    /// Clears the marks the poller set.
    fn drop(&mut self) {
        for entry in self.state.get_mut().servers.values_mut() {
            entry.mark(false);
        }
    }
}

impl fmt::Debug for Poller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Poller")
            .field("keys", &self.keys)
            .field("options", &self.options)
            .field("members", &self.sync.is_some())
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// A [`Poller`] running on a thread of its own ([`Poller::spawn`]). Stopping or dropping it
/// ends the thread (after a poll in progress), joins it, and clears the marks the poller
/// set.
pub struct PollerHandle {
    // Dropped first: the thread holds the other reference to the poller.
    _worker: Worker,
    poller: Arc<Poller>,
}

impl PollerHandle {
    /// The running poller, to read its [`stats`](Poller::stats) and
    /// [`figures`](Poller::figures).
    pub fn poller(&self) -> &Poller {
        &self.poller
    }

    /// Stops the thread and waits for it (as dropping the handle does).
    pub fn stop(self) {}
}

impl fmt::Debug for PollerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PollerHandle")
            .field("poller", &self.poller)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::ManualClock;
    use crate::{LeastLoaded, Server};

    /// A Redis that refuses at once: nothing listens on port 1.
    fn unreachable() -> Connector {
        Connector::single("redis://127.0.0.1:1")
            .unwrap()
            .with_timeout(Duration::from_millis(200))
    }

    #[test]
    fn options_out_of_range_are_errors() {
        let fleet = Arc::new(Shared::new(LeastLoaded::new(["a"]).unwrap()));
        let keys = Keys::new("svc").unwrap();
        let day = MAX_DURATION;
        let bad = [
            (
                "interval",
                PollOptions::default().with_interval(Duration::ZERO),
            ),
            ("interval", PollOptions::default().with_interval(day * 2)),
            (
                "stale_after",
                PollOptions::default().with_stale_after(Duration::ZERO),
            ),
            ("grace", PollOptions::default().with_grace(day * 2)),
            ("jitter", PollOptions::default().with_jitter(1.0)),
            ("jitter", PollOptions::default().with_jitter(f64::NAN)),
        ];
        for (name, options) in bad {
            match Poller::new(unreachable(), keys.clone(), Arc::clone(&fleet), options) {
                Err(Error::InvalidOption { name: n, .. }) => assert_eq!(n, name),
                other => panic!("{name}: {other:?}"),
            }
        }
        let connectors = [
            ("timeout", unreachable().with_timeout(Duration::ZERO)),
            (
                "backoff",
                unreachable().with_backoff(Duration::ZERO, Duration::ZERO),
            ),
            (
                "backoff",
                unreachable().with_backoff(day, Duration::from_secs(1)),
            ),
        ];
        for (name, connector) in connectors {
            match Poller::new(
                connector,
                keys.clone(),
                Arc::clone(&fleet),
                PollOptions::default(),
            ) {
                Err(Error::InvalidOption { name: n, .. }) => assert_eq!(n, name),
                other => panic!("{name}: {other:?}"),
            }
        }
    }

    #[cfg(feature = "serde")]
    #[test]
    fn options_read_durations_as_strings_and_refuse_unknown_fields() {
        let text = r#"{"interval": "250ms", "stale_after": "5s", "mark_expired": false}"#;
        let options: PollOptions = serde_json::from_str(text).unwrap();
        let want = PollOptions::default()
            .with_interval(Duration::from_millis(250))
            .with_stale_after(Duration::from_secs(5))
            .with_mark_expired(false);
        assert_eq!(options, want);
        let back: PollOptions =
            serde_json::from_str(&serde_json::to_string(&want).unwrap()).unwrap();
        assert_eq!(back, want);
        assert!(serde_json::from_str::<PollOptions>(r#"{"intervall": "1s"}"#).is_err());
        let report: crate::redis::ReportOptions = serde_json::from_str(r#"{"ttl": "2s"}"#).unwrap();
        assert_eq!(report.ttl, Duration::from_secs(2));
    }

    #[test]
    fn out_of_reach_the_last_figures_hold_until_stale_then_the_fallback() {
        let clock = ManualClock::new();
        let fleet = Arc::new(Shared::new(LeastLoaded::new(["a", "b"]).unwrap()));
        fleet.report_load("a", 5.0).unwrap();
        let b = fleet.snapshot().servers()[1].clone();
        b.set_flag(Flag::UNREPORTED, true); // as if an earlier poll had marked it
        let options = PollOptions::default()
            .with_stale_after(Duration::from_secs(10))
            .with_jitter(0.0);
        let poller = Poller::new(
            unreachable(),
            Keys::new("svc").unwrap(),
            Arc::clone(&fleet),
            options,
        )
        .unwrap()
        .with_clock(clock.clone());

        assert!(poller.poll().is_err());
        let stats = poller.stats();
        assert_eq!((stats.link.failures, stats.link.connects), (1, 0));
        assert!(stats.link.last_error.is_some());
        assert!(!stats.in_fallback);
        assert_eq!(stats.expired, 1, "the poller took over the mark");
        assert!(
            poller.next_delay() <= Duration::from_secs(1),
            "a retry, not an interval"
        );

        clock.advance(Duration::from_secs(9));
        assert!(poller.poll().is_err());
        assert_eq!(
            fleet.snapshot().servers()[0].load(),
            5.0,
            "the last figures hold"
        );
        assert!(!b.is_healthy());
        assert!(poller.next_delay() <= Duration::from_secs(1));

        clock.advance(Duration::from_secs(1));
        assert_eq!(poller.stats().stale_age, Duration::from_secs(10));
        assert!(
            poller.next_delay() <= Duration::from_millis(1),
            "the fallback is due"
        );
        assert!(poller.poll().is_err());
        let stats = poller.stats();
        assert!(stats.in_fallback);
        assert_eq!(stats.expired, 0);
        let now = fleet.snapshot();
        assert!(
            now.servers()
                .iter()
                .all(|s| s.load() == 0.0 && s.is_healthy())
        );
        assert_eq!(stats.link.failures, 3);
    }

    #[test]
    fn a_poller_that_goes_clears_its_marks_and_forgets_servers_that_left() {
        let fleet = Arc::new(Shared::new(LeastLoaded::new(["a", "b"]).unwrap()));
        let (a, b) = {
            let now = fleet.snapshot();
            (now.servers()[0].clone(), now.servers()[1].clone())
        };
        a.set_flag(Flag::UNREPORTED, true);
        b.set_flag(Flag::UNREPORTED, true);
        let poller = Poller::new(
            unreachable(),
            Keys::new("svc").unwrap(),
            Arc::clone(&fleet),
            PollOptions::default(),
        )
        .unwrap();
        assert!(poller.poll().is_err());
        fleet.remove("b").unwrap();
        assert!(poller.poll().is_err());
        assert!(b.is_healthy(), "a server that left is unmarked");
        assert!(!a.is_healthy());
        fleet.add(Server::new("b")).unwrap(); // new cells: nothing to unmark
        drop(poller);
        assert!(a.is_healthy());
    }
}
