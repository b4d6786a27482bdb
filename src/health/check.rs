//! [`Checker`]: active health checks with rise and fall, on a thread of its own or one round
//! at a time.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::hash::mix64;
use crate::health::{Clock, Probe, ServerSource, SystemClock};
use crate::server::Flag;
use crate::{Error, Server};

/// The SplitMix64 increment, for the jitter's draws.
const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// The longest interval or timeout: one day.
const MAX_DURATION: Duration = Duration::from_secs(86_400);

/// The most probes a checker may run at once.
const MAX_CONCURRENCY: usize = 1024;

/// Options of a [`Checker`], with HAProxy's meaning for `rise` and `fall`.
///
/// With `serde`, durations are strings of seconds or milliseconds, as every lifecycle option
/// reads them, and unknown fields are errors: `{"interval": "2s", "timeout": "250ms"}`.
///
/// ```
/// use std::time::Duration;
/// use loadring::health::CheckOptions;
///
/// let options = CheckOptions::default()
///     .with_interval(Duration::from_secs(2))
///     .with_timeout(Duration::from_millis(500))
///     .with_rise(1)
///     .with_fall(2);
/// assert_eq!((options.rise, options.fall), (1, 2));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
#[non_exhaustive]
pub struct CheckOptions {
    /// The wait between the end of a round and the start of the next, before jitter
    /// (default 5 s; at most a day).
    #[cfg_attr(feature = "serde", serde(with = "crate::health::duration"))]
    pub interval: Duration,
    /// How long a probe may run before it counts as failed (default 1 s; at most a day).
    #[cfg_attr(feature = "serde", serde(with = "crate::health::duration"))]
    pub timeout: Duration,
    /// Passes in a row that clear a failing server (default 2).
    pub rise: u32,
    /// Failures in a row that mark a healthy server failing (default 3).
    pub fall: u32,
    /// Each wait is the interval less up to this fraction of it, drawn at random, so that
    /// many checkers do not probe in step (default 0.1; in `[0, 1)`).
    pub jitter: f64,
    /// The most probe threads alive at once, late ones included (default 8; 1 to 1024).
    pub concurrency: usize,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            interval: Duration::from_secs(5),
            timeout: Duration::from_secs(1),
            rise: 2,
            fall: 3,
            jitter: 0.1,
            concurrency: 8,
        }
    }
}

impl CheckOptions {
    /// Sets the wait between rounds.
    pub fn with_interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// Sets how long a probe may run.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the passes in a row that clear a failing server.
    pub fn with_rise(mut self, rise: u32) -> Self {
        self.rise = rise;
        self
    }

    /// Sets the failures in a row that mark a server failing.
    pub fn with_fall(mut self, fall: u32) -> Self {
        self.fall = fall;
        self
    }

    /// Sets the largest fraction of the interval taken off a wait at random.
    pub fn with_jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter;
        self
    }

    /// Sets the most probe threads alive at once.
    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency;
        self
    }

    /// Checks every option against its range.
    fn validate(&self) -> Result<(), Error> {
        let span = |d: Duration| !d.is_zero() && d <= MAX_DURATION;
        if !span(self.interval) {
            return Err(Error::option(
                "interval",
                "must be above 0 and at most a day",
            ));
        }
        if !span(self.timeout) {
            return Err(Error::option(
                "timeout",
                "must be above 0 and at most a day",
            ));
        }
        if self.rise == 0 {
            return Err(Error::option("rise", "must be at least 1"));
        }
        if self.fall == 0 {
            return Err(Error::option("fall", "must be at least 1"));
        }
        if !(0.0..1.0).contains(&self.jitter) {
            return Err(Error::option("jitter", "must be at least 0 and below 1"));
        }
        if !(1..=MAX_CONCURRENCY).contains(&self.concurrency) {
            return Err(Error::option("concurrency", "must be 1 to 1024"));
        }
        Ok(())
    }
}

/// The servers `source` holds now, owned, for a round to probe.
fn servers_of<T: ServerSource + ?Sized>(source: &T) -> Vec<Server> {
    let mut servers = Vec::new();
    source.with_servers(&mut |s| servers = s.to_vec());
    servers
}

/// How one probe went.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProbeOutcome {
    /// The server passed.
    Passed,
    /// The probe failed, for this reason (a panicking probe fails too).
    Failed(String),
    /// The probe ran past the timeout, or its previous run still had not returned.
    TimedOut,
}

/// One server's checks, as [`Checker::status`] reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckStatus {
    /// Whether the checker marks the server failing (so unhealthy).
    pub failing: bool,
    /// Passes in a row, up to now.
    pub successes: u32,
    /// Failures (timeouts included) in a row, up to now.
    pub failures: u32,
    /// The last probe's outcome; `None` before the first.
    pub last: Option<ProbeOutcome>,
    /// When the last probe ended, on the checker's [`Clock`].
    pub last_at: Option<Duration>,
}

/// What one round did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct RoundReport {
    /// Servers that passed.
    pub passed: usize,
    /// Servers that failed, timed out included.
    pub failed: usize,
    /// Of the failed, those that timed out.
    pub timed_out: usize,
    /// Servers left unprobed because every probe thread was taken by late probes, or a
    /// thread could not be started; their state is as it was.
    pub skipped: usize,
    /// Servers this round marked failing.
    pub marked_down: usize,
    /// Servers this round cleared.
    pub marked_up: usize,
}

/// Active health checks: probes every server of a balancer each round, marks a server
/// failing (unhealthy: picks pass it by) after `fall` failures in a row, and clears it after
/// `rise` passes in a row, as HAProxy does.
///
/// * **Probes** run on threads of their own, at most
///   [`concurrency`](CheckOptions::concurrency) at once. A probe that runs past the
///   [`timeout`](CheckOptions::timeout) counts as failed at the timeout and is left to finish
///   on its thread; the server is not probed again until it has (each round meanwhile counts
///   a timeout). **The bound:** late probes hold their threads, and the checker never has more
///   than `concurrency` probe threads alive, late ones included
///   ([`probes_running`](Checker::probes_running)); when late probes hold them all, the other
///   servers are skipped (their state kept) until a thread comes free. So a round lasts at
///   most ⌈servers / concurrency⌉ timeouts, one timeout when the servers fit the pool, and
///   probes that never return cost at most `concurrency` threads.
/// * **Membership** is read again every round ([`ServerSource`]): new servers start healthy
///   with no history (`fall` failures mark them), and servers that left are forgotten, their
///   mark cleared.
/// * **Marks**: the checker sets and clears the server's own "failing checks" mark, apart
///   from [`Server::set_healthy`]'s (a server is healthy when neither holds it) and from
///   draining. One checker per server: two would clear each other's marks. A checker that
///   goes (dropped, [`reset`](Checker::reset), or its [`CheckerHandle`] stopped) clears the
///   marks it set, so no server stays down on a verdict nobody keeps.
/// * **Time**: when rounds are due ([`next_delay`](Checker::next_delay)) and when probes
///   ended ([`CheckStatus::last_at`]) come from the [`Clock`] ([`SystemClock`] unless
///   [`with_clock`](Checker::with_clock) says otherwise). Probe timeouts are real time: they
///   bound real I/O.
///
/// Run it on a thread of its own with [`spawn`](Checker::spawn), or call
/// [`run_round`](Checker::run_round) from a task of your own, waiting
/// [`next_delay`](Checker::next_delay) between rounds (on tokio, in `spawn_blocking`: a round
/// blocks for up to a timeout).
///
/// ```
/// use std::sync::Arc;
/// use loadring::{Balancer, RoundRobin, Server, Shared};
/// use loadring::health::{CheckOptions, Checker};
///
/// let fleet = Arc::new(Shared::new(RoundRobin::new(["a", "b"])?));
/// let probe = |s: &Server| s.id() != "b"; // or TcpProbe, HttpProbe, your client
/// let checker = Checker::with_options(probe, CheckOptions::default().with_fall(2))?;
/// checker.run_round(&*fleet);
/// assert!(fleet.snapshot().is_healthy("b")?, "one failure is not enough");
/// checker.run_round(&*fleet);
/// assert!(!fleet.snapshot().is_healthy("b")?);
/// assert_eq!(fleet.next()?.id(), "a");
/// assert_eq!(checker.status("b").unwrap().failures, 2);
///
/// // On a thread of its own: rounds every 5 s (the default) until the handle drops.
/// let handle = checker.spawn(Arc::clone(&fleet))?;
/// assert!(handle.checker().status("b").unwrap().failing);
/// drop(handle); // stops the thread and clears its marks
/// assert!(fleet.snapshot().is_healthy("b")?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Checker {
    probe: Arc<dyn Probe>,
    options: CheckOptions,
    clock: Arc<dyn Clock>,
    /// Each server's checks, by id.
    servers: Mutex<HashMap<Arc<str>, Entry>>,
    /// Rounds take turns.
    turn: Mutex<()>,
    /// Probe threads alive, late ones included.
    threads: Arc<AtomicUsize>,
    /// The jitter's SplitMix64 state.
    rng: AtomicU64,
}

/// One server's checks.
struct Entry {
    /// The server, to mark (its cells are the balancer's).
    server: Server,
    successes: u32,
    failures: u32,
    failing: bool,
    last: Option<ProbeOutcome>,
    last_at: Option<Duration>,
    /// Whether a probe of this server is still running (a late one, between rounds).
    busy: Arc<AtomicBool>,
}

impl Entry {
    fn new(server: Server) -> Self {
        // Discovery may add a server unhealthy until its first check: the checker takes it
        // over as failing, and it must rise.
        if server.has_flag(Flag::UNCHECKED) {
            server.set_flag(Flag::FAILING, true);
        }
        let failing = server.has_flag(Flag::FAILING);
        Entry {
            server,
            successes: 0,
            failures: 0,
            failing,
            last: None,
            last_at: None,
            busy: Arc::default(),
        }
    }

    /// Clears the mark this checker set, before the entry goes.
    fn forget(self) {
        if self.failing {
            self.server.set_flag(Flag::FAILING, false);
        }
    }
}

/// What reaches a round: a probe's outcome, or the order to stop.
enum Msg {
    Done {
        round: u64,
        job: usize,
        outcome: ProbeOutcome,
    },
    Stop,
}

/// A probe thread counted alive: it marks its server busy and counts itself until dropped.
struct Alive {
    threads: Arc<AtomicUsize>,
    busy: Arc<AtomicBool>,
}

impl Alive {
    fn new(threads: &Arc<AtomicUsize>, busy: &Arc<AtomicBool>) -> Self {
        threads.fetch_add(1, Ordering::AcqRel);
        busy.store(true, Ordering::Release);
        Alive {
            threads: Arc::clone(threads),
            busy: Arc::clone(busy),
        }
    }
}

impl Drop for Alive {
    fn drop(&mut self) {
        self.busy.store(false, Ordering::Release);
        self.threads.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Checker {
    /// A checker with the default options ([`CheckOptions`]) on the [`SystemClock`].
    pub fn new(probe: impl Probe + 'static) -> Self {
        Checker::build(Arc::new(probe), CheckOptions::default())
    }

    /// A checker with `options`.
    ///
    /// Errors: [`Error::InvalidOption`] for an option out of its range (rise or fall 0, a zero
    /// interval or timeout …).
    pub fn with_options(probe: impl Probe + 'static, options: CheckOptions) -> Result<Self, Error> {
        options.validate()?;
        Ok(Checker::build(Arc::new(probe), options))
    }

    fn build(probe: Arc<dyn Probe>, options: CheckOptions) -> Self {
        Checker {
            probe,
            options,
            clock: Arc::new(SystemClock::new()),
            servers: Mutex::default(),
            turn: Mutex::default(),
            threads: Arc::default(),
            rng: AtomicU64::new(RandomState::new().hash_one(GOLDEN)),
        }
    }

    /// Reads time from `clock` (a [`ManualClock`](crate::health::ManualClock) in tests).
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The options.
    pub fn options(&self) -> &CheckOptions {
        &self.options
    }

    /// Probes every server of `target` once, counts each outcome and marks or clears the
    /// servers whose streak reached `fall` or `rise`. Blocks until every probe has ended or
    /// timed out (see [`Checker`] for the bound).
    pub fn run_round<T: ServerSource + ?Sized>(&self, target: &T) -> RoundReport {
        let (tx, rx) = mpsc::channel();
        self.round(servers_of(target), 0, &tx, &rx)
            .unwrap_or_default()
    }

    /// One server's checks, or `None` for a server the checker has not seen (or forgot).
    pub fn status(&self, id: &str) -> Option<CheckStatus> {
        self.servers.lock().get(id).map(|e| CheckStatus {
            failing: e.failing,
            successes: e.successes,
            failures: e.failures,
            last: e.last.clone(),
            last_at: e.last_at,
        })
    }

    /// The ids of the servers the checker marks failing now, sorted.
    pub fn failing(&self) -> Vec<String> {
        let servers = self.servers.lock();
        let mut ids: Vec<String> = servers
            .iter()
            .filter(|(_, e)| e.failing)
            .map(|(id, _)| id.to_string())
            .collect();
        ids.sort_unstable();
        ids
    }

    /// Probe threads alive now, late ones included: at most
    /// [`concurrency`](CheckOptions::concurrency).
    pub fn probes_running(&self) -> usize {
        self.threads.load(Ordering::Acquire)
    }

    /// The wait before the next round: the interval less a random part of up to
    /// [`jitter`](CheckOptions::jitter) of it.
    pub fn next_delay(&self) -> Duration {
        let state = self.rng.fetch_add(GOLDEN, Ordering::Relaxed);
        let unit = (mix64(state.wrapping_add(GOLDEN)) >> 11) as f64 / (1u64 << 53) as f64;
        self.options
            .interval
            .mul_f64(1.0 - self.options.jitter * unit)
    }

    /// Clears every mark the checker set and forgets every server, as a checker that stops
    /// does; the next round starts afresh. Waits for a round in progress.
    pub fn reset(&self) {
        let _turn = self.turn.lock();
        for (_, entry) in self.servers.lock().drain() {
            entry.forget();
        }
    }

    /// Runs the checker on a thread of its own: a round at once, then one after each
    /// [`next_delay`](Checker::next_delay), over the servers `target` holds at that time,
    /// until the handle is stopped or dropped.
    ///
    /// Errors: the system's, when it cannot start the thread.
    pub fn spawn<T>(self, target: Arc<T>) -> io::Result<CheckerHandle>
    where
        T: ServerSource + Send + Sync + ?Sized + 'static,
    {
        let checker = Arc::new(self);
        let (tx, rx) = mpsc::channel();
        let thread = {
            let (checker, tx) = (Arc::clone(&checker), tx.clone());
            thread::Builder::new()
                .name("loadring-checker".into())
                .spawn(move || checker.run(&*target, &tx, &rx))?
        };
        Ok(CheckerHandle {
            checker,
            stop: tx,
            thread: Some(thread),
        })
    }

    /// The spawned thread's loop: rounds and waits until told to stop.
    fn run<T: ServerSource + ?Sized>(&self, target: &T, tx: &Sender<Msg>, rx: &Receiver<Msg>) {
        let mut round = 0u64;
        loop {
            round = round.wrapping_add(1);
            if self.round(servers_of(target), round, tx, rx).is_none() {
                return;
            }
            let due = self.clock.now().saturating_add(self.next_delay());
            loop {
                let left = due.saturating_sub(self.clock.now());
                if left.is_zero() {
                    break;
                }
                // Late outcomes of earlier rounds arrive here too; they are dropped.
                if let Ok(Msg::Stop) = rx.recv_timeout(left) {
                    return;
                }
            }
        }
    }

    /// Probes `servers` (numbered `round`, so that late outcomes of other rounds on `rx` are
    /// told apart); `None` when told to stop.
    fn round(
        &self,
        servers: Vec<Server>,
        round: u64,
        tx: &Sender<Msg>,
        rx: &Receiver<Msg>,
    ) -> Option<RoundReport> {
        let _turn = self.turn.lock();
        let mut report = RoundReport::default();
        let jobs = self.follow(servers);
        let mut queue = VecDeque::with_capacity(jobs.len());
        for (job, (server, busy)) in jobs.iter().enumerate() {
            if busy.load(Ordering::Acquire) {
                // Its last probe has not returned yet: no second one beside it.
                self.record(server, ProbeOutcome::TimedOut, &mut report);
            } else {
                queue.push_back(job);
            }
        }
        // Probes of this round in flight, with their deadlines.
        let mut running: Vec<(usize, Instant)> = Vec::new();
        loop {
            while let Some(&job) = queue.front() {
                if self.probes_running() >= self.options.concurrency {
                    break;
                }
                queue.pop_front();
                let (server, busy) = &jobs[job];
                match self.start(server, busy, round, job, tx) {
                    Ok(()) => running.push((job, deadline(self.options.timeout))),
                    Err(_) => report.skipped += 1,
                }
            }
            let Some(next) = running.iter().map(|&(_, due)| due).min() else {
                // Nothing of ours runs: the threads, if any, are late probes'.
                report.skipped += queue.len();
                return Some(report);
            };
            match rx.recv_timeout(next.saturating_duration_since(Instant::now())) {
                Ok(Msg::Stop) => return None,
                Ok(Msg::Done {
                    round: r,
                    job,
                    outcome,
                }) => {
                    let mine = running.iter().position(|&(j, _)| j == job);
                    if let (true, Some(i)) = (r == round, mine) {
                        running.swap_remove(i);
                        self.record(&jobs[job].0, outcome, &mut report);
                    }
                }
                Err(_) => {
                    let now = Instant::now();
                    running.retain(|&(job, due)| {
                        let late = due <= now;
                        if late {
                            self.record(&jobs[job].0, ProbeOutcome::TimedOut, &mut report);
                        }
                        !late
                    });
                }
            }
        }
    }

    /// Takes the servers of this round: keeps the checks of those that stay (the same cells),
    /// starts those of new ones, forgets those that left. Returns each server to probe with
    /// its busy flag.
    fn follow(&self, servers: Vec<Server>) -> Vec<(Server, Arc<AtomicBool>)> {
        let mut known = self.servers.lock();
        let mut next = HashMap::with_capacity(servers.len());
        let mut jobs = Vec::with_capacity(servers.len());
        for server in servers {
            if next.contains_key(server.id()) {
                continue;
            }
            let mut entry = match known.remove(server.id()) {
                Some(old) if old.server.shares_state_with(&server) => old,
                Some(old) => {
                    old.forget();
                    Entry::new(server.clone())
                }
                None => Entry::new(server.clone()),
            };
            entry.server = server.clone();
            jobs.push((server, Arc::clone(&entry.busy)));
            next.insert(Arc::clone(entry.server.id_arc()), entry);
        }
        for (_, gone) in known.drain() {
            gone.forget();
        }
        *known = next;
        jobs
    }

    /// Starts a probe of `server` on a thread of its own, which sends its outcome to `tx`.
    fn start(
        &self,
        server: &Server,
        busy: &Arc<AtomicBool>,
        round: u64,
        job: usize,
        tx: &Sender<Msg>,
    ) -> io::Result<()> {
        let (probe, server, tx) = (Arc::clone(&self.probe), server.clone(), tx.clone());
        let timeout = self.options.timeout;
        let alive = Alive::new(&self.threads, busy);
        thread::Builder::new()
            .name("loadring-probe".into())
            .spawn(move || {
                let result =
                    panic::catch_unwind(AssertUnwindSafe(|| probe.probe(&server, timeout)));
                // Counted gone before the round hears of it, so its thread is free to reuse.
                drop(alive);
                let outcome = match result {
                    Ok(Ok(())) => ProbeOutcome::Passed,
                    Ok(Err(e)) => ProbeOutcome::Failed(e.to_string()),
                    Err(_) => ProbeOutcome::Failed("the probe panicked".into()),
                };
                let _ = tx.send(Msg::Done {
                    round,
                    job,
                    outcome,
                });
            })?;
        Ok(())
    }

    /// Counts an outcome for `server` and marks or clears it when a streak is long enough.
    fn record(&self, server: &Server, outcome: ProbeOutcome, report: &mut RoundReport) {
        let now = self.clock.now();
        let mut servers = self.servers.lock();
        let Some(e) = servers.get_mut(server.id()) else {
            return;
        };
        if outcome == ProbeOutcome::Passed {
            report.passed += 1;
            e.successes = e.successes.saturating_add(1);
            e.failures = 0;
            if e.failing && e.successes >= self.options.rise {
                e.failing = false;
                e.server.set_flag(Flag::FAILING | Flag::UNCHECKED, false);
                report.marked_up += 1;
            }
        } else {
            report.failed += 1;
            report.timed_out += usize::from(outcome == ProbeOutcome::TimedOut);
            e.failures = e.failures.saturating_add(1);
            e.successes = 0;
            if !e.failing && e.failures >= self.options.fall {
                e.failing = true;
                e.server.set_flag(Flag::FAILING, true);
                report.marked_down += 1;
            }
        }
        e.last = Some(outcome);
        e.last_at = Some(now);
    }
}

/// `timeout` from now (a day at most, so it never overflows).
fn deadline(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout).unwrap_or(now)
}

impl Drop for Checker {
    /// Clears the marks the checker set.
    fn drop(&mut self) {
        for (_, entry) in self.servers.get_mut().drain() {
            entry.forget();
        }
    }
}

impl fmt::Debug for Checker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Checker")
            .field("options", &self.options)
            .field("clock", &self.clock)
            .field("servers", &self.servers.lock().len())
            .field("probes_running", &self.probes_running())
            .finish_non_exhaustive()
    }
}

/// A [`Checker`] running on a thread of its own ([`Checker::spawn`]). Stopping or dropping it
/// ends the thread at once (a round in progress is cut short; its late probes finish alone),
/// joins it, and clears the marks the checker set.
pub struct CheckerHandle {
    checker: Arc<Checker>,
    stop: Sender<Msg>,
    thread: Option<JoinHandle<()>>,
}

impl CheckerHandle {
    /// The running checker, to read its [`status`](Checker::status).
    pub fn checker(&self) -> &Checker {
        &self.checker
    }

    /// Stops the thread, waits for it to end and clears the checker's marks (as dropping the
    /// handle does).
    pub fn stop(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = self.stop.send(Msg::Stop);
            let _ = thread.join();
            self.checker.reset();
        }
    }
}

impl Drop for CheckerHandle {
    fn drop(&mut self) {
        self.shut_down();
    }
}

impl fmt::Debug for CheckerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CheckerHandle")
            .field("checker", &self.checker)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_out_of_range_are_errors() {
        let probe = |_: &Server| true;
        let bad = [
            (
                "interval",
                CheckOptions::default().with_interval(Duration::ZERO),
            ),
            (
                "interval",
                CheckOptions::default().with_interval(MAX_DURATION * 2),
            ),
            (
                "timeout",
                CheckOptions::default().with_timeout(Duration::ZERO),
            ),
            ("rise", CheckOptions::default().with_rise(0)),
            ("fall", CheckOptions::default().with_fall(0)),
            ("jitter", CheckOptions::default().with_jitter(1.0)),
            ("jitter", CheckOptions::default().with_jitter(-0.1)),
            ("jitter", CheckOptions::default().with_jitter(f64::NAN)),
            ("concurrency", CheckOptions::default().with_concurrency(0)),
            (
                "concurrency",
                CheckOptions::default().with_concurrency(1025),
            ),
        ];
        for (name, options) in bad {
            match Checker::with_options(probe, options) {
                Err(Error::InvalidOption { name: n, .. }) => assert_eq!(n, name),
                other => panic!("{name}: {other:?}"),
            }
        }
        let edge = CheckOptions::default()
            .with_interval(MAX_DURATION)
            .with_timeout(MAX_DURATION)
            .with_rise(1)
            .with_fall(1)
            .with_jitter(0.0)
            .with_concurrency(1024);
        assert!(Checker::with_options(probe, edge).is_ok());
    }

    #[test]
    fn delays_stay_within_the_jitter() {
        let options = CheckOptions::default()
            .with_interval(Duration::from_secs(10))
            .with_jitter(0.2);
        let checker = Checker::with_options(|_: &Server| true, options).unwrap();
        let delays: Vec<Duration> = (0..1000).map(|_| checker.next_delay()).collect();
        assert!(
            delays
                .iter()
                .all(|d| (8.0..=10.0).contains(&d.as_secs_f64()))
        );
        let spread = delays
            .iter()
            .max()
            .unwrap()
            .saturating_sub(*delays.iter().min().unwrap());
        assert!(
            spread > Duration::from_secs(1),
            "the waits vary: {spread:?}"
        );
        let still = Checker::with_options(|_: &Server| true, options.with_jitter(0.0)).unwrap();
        assert_eq!(still.next_delay(), Duration::from_secs(10));
    }
}
