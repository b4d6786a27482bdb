//! [`OutlierDetector`]: passive health from the outcomes of real requests, as Envoy's outlier
//! detection does it, and the latency estimates that least-loaded balancing can read.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::health::outcome::nanos;
use crate::health::{Clock, Outcome, ServerSource, Started, SystemClock, peak_ewma};
use crate::server::Flag;
use crate::sync::Mutex;
use crate::worker::Worker;
use crate::{Error, Server};

/// Options of an [`OutlierDetector`]. The defaults are Envoy's (its
/// `config.cluster.v3.OutlierDetection`, whose field names these follow), and its rules with
/// them: a server that fails 5 requests in a row is ejected for 30 s, longer each time it is
/// ejected again (up to 300 s), and never more than 10 % of the fleet at once.
///
/// With the defaults nothing is ejected from a fleet of fewer than 10 servers, as in Envoy:
/// one server of 9 is more than 10 %. Raise
/// [`max_ejection_percent`](OutlierOptions::max_ejection_percent) or set
/// [`always_eject_one`](OutlierOptions::always_eject_one) for small fleets.
///
/// Ejection by failure percentage is off by default, as Envoy's
/// (`enforcing_failure_percentage` 0); turn it on with
/// [`with_enforcing_failure_percentage`](OutlierOptions::with_enforcing_failure_percentage).
/// Envoy's success-rate (standard deviation) ejection, its separate gateway and
/// local-origin counts, and its ejection jitter are not offered.
///
/// With the `serde` feature, durations read and write as strings of seconds (`"10s"`,
/// `"0.25s"`, as protobuf's JSON writes Envoy's durations) or milliseconds (`"250ms"`).
///
/// ```
/// use std::time::Duration;
/// use loadring::health::OutlierOptions;
///
/// let options = OutlierOptions::default()
///     .with_consecutive_failures(3)
///     .with_max_ejection_percent(50)
///     .with_base_ejection_time(Duration::from_secs(10));
/// assert_eq!(options.interval, Duration::from_secs(10));
/// assert_eq!(options.effective_max_ejection_time(), Duration::from_secs(300));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
#[non_exhaustive]
pub struct OutlierOptions {
    /// Failures in a row that eject a server (Envoy's `consecutive_5xx`): 5. At least 1.
    pub consecutive_failures: u32,
    /// Whether a run of [`consecutive_failures`](OutlierOptions::consecutive_failures) ejects
    /// (Envoy's `enforcing_consecutive_5xx` at 100, its default; `false` is 0): `true`.
    pub enforcing_consecutive_failures: bool,
    /// The time between sweeps ([`OutlierDetector::evaluate`]), and so the window that
    /// failure percentages are counted over: 10 s. Above zero.
    #[cfg_attr(feature = "serde", serde(with = "crate::health::duration"))]
    pub interval: Duration,
    /// How long a first ejection lasts; the `k`-th in a row lasts `k` times as long, up to
    /// [`max_ejection_time`](OutlierOptions::max_ejection_time): 30 s. Above zero.
    #[cfg_attr(feature = "serde", serde(with = "crate::health::duration"))]
    pub base_ejection_time: Duration,
    /// The longest an ejection lasts; `None` (the default) is 300 s or the base ejection
    /// time, whichever is longer, as in Envoy. At least the base ejection time.
    #[cfg_attr(
        feature = "serde",
        serde(
            with = "crate::health::duration::option",
            skip_serializing_if = "Option::is_none"
        )
    )]
    pub max_ejection_time: Option<Duration>,
    /// The most servers ejected at once, in percent of the fleet: 10. An ejection happens
    /// only if the ejected servers, it included, stay within the percentage (Envoy since
    /// 1.27). At most 100.
    pub max_ejection_percent: u32,
    /// Whether one server may be ejected when none is, whatever the percentage (Envoy's
    /// `always_eject_one_host`): `false`.
    pub always_eject_one: bool,
    /// The failure percentage, over one interval, at or above which a server is ejected
    /// (Envoy's `failure_percentage_threshold`): 85. At most 100.
    pub failure_percentage_threshold: u32,
    /// Whether failure percentages eject (Envoy's `enforcing_failure_percentage`, whose
    /// default is 0; `true` is 100): `false`.
    pub enforcing_failure_percentage: bool,
    /// Failure percentages eject only when at least this many servers had the request
    /// volume in the interval: 5.
    pub failure_percentage_minimum_hosts: u32,
    /// The requests a server must have had in the interval for its failure percentage to
    /// count: 50.
    pub failure_percentage_request_volume: u32,
    /// The time constant `τ` of the peak-EWMA latency estimate (see
    /// [`LoadSource::PeakEwma`](crate::LoadSource::PeakEwma)): 10 s, tower's and Linkerd's
    /// choice. Above zero.
    #[cfg_attr(feature = "serde", serde(with = "crate::health::duration"))]
    pub latency_decay: Duration,
}

impl Default for OutlierOptions {
    fn default() -> Self {
        OutlierOptions {
            consecutive_failures: 5,
            enforcing_consecutive_failures: true,
            interval: Duration::from_secs(10),
            base_ejection_time: Duration::from_secs(30),
            max_ejection_time: None,
            max_ejection_percent: 10,
            always_eject_one: false,
            failure_percentage_threshold: 85,
            enforcing_failure_percentage: false,
            failure_percentage_minimum_hosts: 5,
            failure_percentage_request_volume: 50,
            latency_decay: Duration::from_secs(10),
        }
    }
}

/// Envoy's default longest ejection.
const DEFAULT_MAX_EJECTION_TIME: Duration = Duration::from_secs(300);

impl OutlierOptions {
    /// Sets the failures in a row that eject a server.
    pub fn with_consecutive_failures(mut self, failures: u32) -> Self {
        self.consecutive_failures = failures;
        self
    }

    /// Sets whether runs of failures eject.
    pub fn with_enforcing_consecutive_failures(mut self, enforcing: bool) -> Self {
        self.enforcing_consecutive_failures = enforcing;
        self
    }

    /// Sets the time between sweeps.
    pub fn with_interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// Sets how long a first ejection lasts.
    pub fn with_base_ejection_time(mut self, time: Duration) -> Self {
        self.base_ejection_time = time;
        self
    }

    /// Sets the longest an ejection lasts.
    pub fn with_max_ejection_time(mut self, time: Duration) -> Self {
        self.max_ejection_time = Some(time);
        self
    }

    /// Sets the most servers ejected at once, in percent of the fleet.
    pub fn with_max_ejection_percent(mut self, percent: u32) -> Self {
        self.max_ejection_percent = percent;
        self
    }

    /// Sets whether one server may be ejected when none is, whatever the percentage.
    pub fn with_always_eject_one(mut self, always: bool) -> Self {
        self.always_eject_one = always;
        self
    }

    /// Sets the failure percentage that ejects.
    pub fn with_failure_percentage_threshold(mut self, percent: u32) -> Self {
        self.failure_percentage_threshold = percent;
        self
    }

    /// Sets whether failure percentages eject.
    pub fn with_enforcing_failure_percentage(mut self, enforcing: bool) -> Self {
        self.enforcing_failure_percentage = enforcing;
        self
    }

    /// Sets how many servers need the request volume for failure percentages to eject.
    pub fn with_failure_percentage_minimum_hosts(mut self, hosts: u32) -> Self {
        self.failure_percentage_minimum_hosts = hosts;
        self
    }

    /// Sets the requests a server needs in an interval for its failure percentage to count.
    pub fn with_failure_percentage_request_volume(mut self, requests: u32) -> Self {
        self.failure_percentage_request_volume = requests;
        self
    }

    /// Sets the time constant of the latency estimate.
    pub fn with_latency_decay(mut self, decay: Duration) -> Self {
        self.latency_decay = decay;
        self
    }

    /// The longest an ejection lasts: [`max_ejection_time`](OutlierOptions::max_ejection_time),
    /// or 300 s or the base ejection time, whichever is longer.
    pub fn effective_max_ejection_time(&self) -> Duration {
        self.max_ejection_time
            .unwrap_or(DEFAULT_MAX_EJECTION_TIME.max(self.base_ejection_time))
    }

    /// Checks every option's range ([`OutlierDetector::new`] does).
    ///
    /// Errors: [`Error::InvalidOption`] naming the first option out of range.
    pub fn validate(&self) -> Result<(), Error> {
        if self.consecutive_failures == 0 {
            return Err(Error::option(
                "consecutive_failures",
                "must be at least 1 (to turn the rule off, set enforcing_consecutive_failures \
                 to false)",
            ));
        }
        for (name, d) in [
            ("interval", self.interval),
            ("base_ejection_time", self.base_ejection_time),
            ("latency_decay", self.latency_decay),
        ] {
            if d.is_zero() {
                return Err(Error::option(name, "must be above zero"));
            }
        }
        match self.max_ejection_time {
            Some(max) if max < self.base_ejection_time => {
                return Err(Error::option(
                    "max_ejection_time",
                    format!(
                        "is {max:?}, shorter than base_ejection_time ({:?})",
                        self.base_ejection_time
                    ),
                ));
            }
            _ => {}
        }
        for (name, p) in [
            ("max_ejection_percent", self.max_ejection_percent),
            (
                "failure_percentage_threshold",
                self.failure_percentage_threshold,
            ),
        ] {
            if p > 100 {
                return Err(Error::option(name, format!("is {p}, above 100 (percent)")));
            }
        }
        Ok(())
    }
}

/// What one sweep ([`OutlierDetector::evaluate`]) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Evaluation {
    /// Servers ejected for their failure percentage.
    pub ejected: usize,
    /// Servers returned to service: their ejection time had passed, or they left the fleet.
    pub returned: usize,
    /// Servers ejected after the sweep.
    pub ejected_now: usize,
}

/// A detector's figures for the whole fleet ([`OutlierDetector::stats`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct OutlierStats {
    /// Servers ejected now.
    pub ejected: usize,
    /// Servers the detector knows: those of the last sweep, and any ejected since.
    pub servers: usize,
    /// Ejections since the detector was made.
    pub ejections: u64,
    /// Ejections refused because the fleet had as many servers ejected as it may (Envoy's
    /// `ejections_overflow`).
    pub overflows: u64,
}

/// What the detector keeps of one server between sweeps.
#[derive(Debug)]
struct Host {
    /// A clone: its cells stay alive, so no other server can take their address (the key).
    server: Server,
    /// Times ejected.
    ejections: u32,
    /// Envoy's `eject_time_backoff`: the multiplier of the next ejection's time, less one.
    backoff: u32,
    /// When it was ejected, while it is.
    ejected_at: Option<Duration>,
    /// When it last returned to service.
    returned_at: Option<Duration>,
    /// The last sweep that listed it.
    listed: u64,
    /// The last sweep that read its window (once, however often the list names it).
    swept: u64,
}

impl Host {
    fn new(server: &Server) -> Self {
        Host {
            server: server.clone(),
            ejections: 0,
            backoff: 0,
            ejected_at: None,
            returned_at: None,
            listed: 0,
            swept: 0,
        }
    }
}

/// Everything but the per-request counters, behind one lock that only sweeps, ejections and
/// the observability calls take.
#[derive(Debug, Default)]
struct State {
    /// By the address of the servers' cells.
    hosts: HashMap<usize, Host>,
    ejected: usize,
    sweeps: u64,
    ejections: u64,
    overflows: u64,
}

/// Passive health, as Envoy's outlier detection: the service reports how each request ended
/// ([`record`](OutlierDetector::record)), and servers that fail too much are ejected for a
/// while, through the [`Server`]'s own mark, so every strategy and every balancer holding a
/// clone passes them by (their keys move as if they were down, and come back).
///
/// # The rules (Envoy's; see [`OutlierOptions`] for the figures)
///
/// * **Failures in a row.** A server's
///   [`consecutive_failures`](OutlierOptions::consecutive_failures)-th failure in a row
///   ejects it at once, in the report that counts it. A success ends the run.
/// * **Failure percentage** (off by default). Each sweep ([`evaluate`](Self::evaluate),
///   every [`interval`](OutlierOptions::interval)) reads the outcomes counted since the last
///   one: a server with at least
///   [`failure_percentage_request_volume`](OutlierOptions::failure_percentage_request_volume)
///   requests and a failure percentage at or above the threshold is ejected, provided at
///   least [`failure_percentage_minimum_hosts`](OutlierOptions::failure_percentage_minimum_hosts)
///   servers had that volume.
/// * **Ejection time.** The `k`-th ejection lasts `k × base_ejection_time`, capped by
///   [`max_ejection_time`](OutlierOptions::max_ejection_time). The server returns at the
///   first sweep after its time has passed, with its run of failures reset. Each sweep at
///   least an interval after its return that finds it in service takes one off its `k`
///   (Envoy's backoff), so a server that stays healthy is forgiven step by step.
/// * **The cap.** An ejection happens only if the servers ejected, it included, are at most
///   [`max_ejection_percent`](OutlierOptions::max_ejection_percent) of the servers the
///   detector knows (or none is ejected and
///   [`always_eject_one`](OutlierOptions::always_eject_one) is set). It holds even when
///   every server fails: the rest keep serving.
///
/// # Costs
///
/// [`record`](Self::record) takes no lock: one or two relaxed atomic additions in the
/// server's cells (one cache line) and the latency estimate's few multiplications. Time a
/// request with [`start`](Self::start) and [`outcome`](Self::outcome), and the one reading
/// of the clock that measures its latency also times its sample; an [`Outcome`] the service
/// timed itself costs `record` a reading of the clock. Only the report that completes a
/// run of failures takes the detector's lock to eject (that is where the cap is checked);
/// sweeps take it for a pass over the fleet.
///
/// # Which servers
///
/// A sweep learns the fleet from what it is given (any [`ServerSource`]): servers that left
/// it are forgotten, and returned to service if they were ejected. The cap counts the
/// servers of the last sweep, so sweep once when the fleet is built (or
/// [`spawn`](Self::spawn) a sweeper, which does); a server reported on before any sweep
/// lists it is counted from its first ejection. One detector per fleet: servers are told
/// apart by their cells, which clones share.
///
/// # The latency estimate
///
/// Every report also feeds the server's peak-EWMA latency estimate (tower's and Finagle's:
/// see [`latency`](Self::latency)), which
/// [`LoadSource::PeakEwma`](crate::LoadSource::PeakEwma) reads, so least-loaded balancing
/// steers away from a slow server before it fails.
///
/// # A request path
///
/// ```
/// use loadring::health::{OutlierDetector, OutlierOptions};
/// use loadring::{BalancerExt, HashRing, Shared};
///
/// let fleet = Shared::new(HashRing::new(["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"])?);
/// let options = OutlierOptions::default().with_max_ejection_percent(34); // 1 of 3
/// let outliers = OutlierDetector::new(options)?;
/// outliers.evaluate(&fleet); // learn the fleet (then every interval, or `spawn` a sweeper)
///
/// let home = fleet.pick("user-42")?;
/// for _ in 0..5 {
///     let lease = fleet.acquire("user-42")?;
///     let started = outliers.start();
///     let answer: Result<(), ()> = Err(()); // the call to lease.addr() failed
///     outliers.record(&lease, outliers.outcome(started, answer.is_ok()));
/// }
/// // Five failures in a row: ejected, and user-42 goes elsewhere until it returns.
/// assert!(outliers.is_ejected(&home));
/// assert_ne!(fleet.pick("user-42")?.id(), home.id());
/// assert_eq!(outliers.stats().ejected, 1);
/// # Ok::<(), loadring::Error>(())
/// ```
pub struct OutlierDetector<C = SystemClock> {
    options: OutlierOptions,
    clock: C,
    /// The length of a run of failures that ejects; 0 when runs do not eject (a run reaches
    /// 0 only by wrapping, and the cold path checks again).
    trigger: u32,
    /// `1 / τ` in inverse nanoseconds: latency samples are timed in units of `τ`.
    inverse_decay: f64,
    state: Mutex<State>,
}

impl OutlierDetector<SystemClock> {
    /// A detector on the system's clock.
    ///
    /// Errors: [`Error::InvalidOption`] (see [`OutlierOptions::validate`]).
    pub fn new(options: OutlierOptions) -> Result<Self, Error> {
        OutlierDetector::with_clock(options, SystemClock::new())
    }
}

impl<C: Clock> OutlierDetector<C> {
    /// A detector that reads `clock` (a [`ManualClock`](crate::health::ManualClock) in tests).
    ///
    /// Errors: [`Error::InvalidOption`] (see [`OutlierOptions::validate`]).
    pub fn with_clock(options: OutlierOptions, clock: C) -> Result<Self, Error> {
        options.validate()?;
        Ok(OutlierDetector {
            trigger: if options.enforcing_consecutive_failures {
                options.consecutive_failures
            } else {
                0
            },
            inverse_decay: 1.0 / options.latency_decay.as_nanos() as f64,
            options,
            clock,
            state: Mutex::new(State::default()),
        })
    }

    /// The options.
    pub fn options(&self) -> OutlierOptions {
        self.options
    }

    /// The clock.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// Records how a request to `server` ended (a [`Lease`](crate::Lease) is a server too:
    /// pass `&lease`). Lock-free, except for the report that completes a run of failures,
    /// which ejects the server if the cap allows.
    ///
    /// The latency sample is taken at the time the outcome carries when this detector timed
    /// it ([`start`](Self::start), then [`outcome`](Self::outcome)); an outcome the service
    /// timed itself ([`Outcome::new`]) costs a reading of the clock here.
    ///
    /// ```
    /// use std::time::Duration;
    /// use loadring::health::{ManualClock, OutlierDetector, OutlierOptions, Outcome};
    /// use loadring::{Balancer, BalancerExt, RoundRobin};
    ///
    /// let rr = RoundRobin::new(["a", "b"])?;
    /// let options = OutlierOptions::default().with_always_eject_one(true);
    /// let outliers = OutlierDetector::with_clock(options, ManualClock::new())?;
    /// let a = rr.server("a").unwrap();
    /// for _ in 0..4 {
    ///     outliers.record(a, Outcome::failure(Duration::from_millis(3)));
    /// }
    /// assert!(!outliers.is_ejected(a));
    /// outliers.record(a, Outcome::failure(Duration::from_millis(3)));
    /// assert!(outliers.is_ejected(a));
    /// assert!((0..10).all(|_| rr.next().unwrap().id() == "b"));
    /// # Ok::<(), loadring::Error>(())
    /// ```
    #[inline]
    pub fn record(&self, server: &Server, outcome: Outcome) {
        if outcome.is_success() {
            server.count_success();
        } else if server.count_failure() == self.trigger {
            self.run_completed(server);
        }
        let ended = match outcome.ended() {
            Some(ended) => ended,
            None => nanos(self.clock.now()),
        };
        peak_ewma::observe(
            server,
            outcome.latency_nanos(),
            ended as f64 * self.inverse_decay,
            outcome.is_success(),
        );
    }

    /// The start of a request, on this detector's clock; [`outcome`](Self::outcome) makes
    /// its outcome.
    #[inline]
    pub fn start(&self) -> Started {
        Started(self.clock.now())
    }

    /// The outcome of a request that [`start`](Self::start)ed at `started` and ends now:
    /// its latency and the time of its latency sample come from one reading of the clock,
    /// so that [`record`](Self::record) reads none.
    ///
    /// ```
    /// use std::time::Duration;
    /// use loadring::health::{ManualClock, OutlierDetector, OutlierOptions};
    ///
    /// let clock = ManualClock::new();
    /// let outliers = OutlierDetector::with_clock(OutlierOptions::default(), clock.clone())?;
    /// let started = outliers.start();
    /// clock.advance(Duration::from_millis(12)); // the request runs
    /// let outcome = outliers.outcome(started, true);
    /// assert_eq!(outcome.latency(), Duration::from_millis(12));
    /// # Ok::<(), loadring::Error>(())
    /// ```
    #[inline]
    pub fn outcome(&self, started: Started, success: bool) -> Outcome {
        let now = self.clock.now();
        Outcome::new(success, now.saturating_sub(started.0)).ended_at(now)
    }

    /// A run of failures reached the trigger: eject if the server is not ejected already
    /// and the cap allows, then start a new run (Envoy's order).
    #[cold]
    #[inline(never)]
    fn run_completed(&self, server: &Server) {
        if !self.options.enforcing_consecutive_failures {
            return;
        }
        let now = self.clock.now();
        let mut state = self.state.lock();
        let key = server.cells_key();
        let host = state.hosts.entry(key).or_insert_with(|| Host::new(server));
        if host.ejected_at.is_some() {
            return;
        }
        state.eject(key, now, &self.options);
        server.reset_failure_run();
    }

    /// One sweep over the servers of `fleet`, as Envoy's interval timer does it: forget the
    /// servers that left (returning them to service), return those whose ejection time has
    /// passed, eject by failure percentage over the outcomes counted since the last sweep,
    /// and take one off the backoff of servers in service for an interval since their
    /// return. Servers are ejected in the fleet's order while the cap allows.
    ///
    /// Call it every [`interval`](OutlierOptions::interval), or [`spawn`](Self::spawn) a
    /// thread that does.
    pub fn evaluate<S: ServerSource + ?Sized>(&self, fleet: &S) -> Evaluation {
        let mut out = Evaluation::default();
        fleet.with_servers(&mut |servers| out = self.sweep(servers));
        out
    }

    fn sweep(&self, servers: &[Server]) -> Evaluation {
        let now = self.clock.now();
        let o = &self.options;
        let mut out = Evaluation::default();
        let mut guard = self.state.lock();
        let state = &mut *guard;
        state.sweeps += 1;
        let sweep = state.sweeps;

        for s in servers {
            let host = state
                .hosts
                .entry(s.cells_key())
                .or_insert_with(|| Host::new(s));
            host.listed = sweep;
        }
        let mut left_ejected = 0;
        state.hosts.retain(|_, h| {
            let stays = h.listed == sweep;
            if !stays && h.ejected_at.is_some() {
                h.server.set_flag(Flag::EJECTED, false);
                left_ejected += 1;
            }
            stays
        });
        state.ejected -= left_ejected;
        out.returned += left_ejected;

        // Returns, and the windows of every server (ejected ones' too) read and restarted.
        let max = o.effective_max_ejection_time();
        let mut volume: Vec<(usize, u32, u32)> = Vec::new();
        for s in servers {
            let key = s.cells_key();
            let Some(host) = state.hosts.get_mut(&key).filter(|h| h.swept != sweep) else {
                continue; // listed twice
            };
            host.swept = sweep;
            if let Some(at) = host.ejected_at {
                let lasts = o.base_ejection_time.saturating_mul(host.backoff).min(max);
                if now.saturating_sub(at) >= lasts {
                    host.ejected_at = None;
                    host.returned_at = Some(now);
                    host.server.set_flag(Flag::EJECTED, false);
                    host.server.reset_failure_run();
                    state.ejected -= 1;
                    out.returned += 1;
                }
            }
            let (requests, failures) = host.server.take_window();
            if host.ejected_at.is_none()
                && requests > 0
                && requests >= o.failure_percentage_request_volume
            {
                volume.push((key, requests, failures));
            }
        }

        let minimum = o.failure_percentage_minimum_hosts as usize;
        let known = state.hosts.len();
        if o.enforcing_failure_percentage && known >= minimum && volume.len() >= minimum {
            let threshold = u64::from(o.failure_percentage_threshold);
            for &(key, requests, failures) in &volume {
                if u64::from(failures) * 100 >= threshold * u64::from(requests)
                    && state.eject(key, now, o)
                {
                    out.ejected += 1;
                }
            }
        }

        for host in state.hosts.values_mut() {
            if host.ejected_at.is_none()
                && host.backoff > 0
                && host
                    .returned_at
                    .is_some_and(|at| now.saturating_sub(at) >= o.interval)
            {
                host.backoff -= 1;
            }
        }
        out.ejected_now = state.ejected;
        out
    }

    /// Whether `server` is ejected now (by this detector or another sharing its cells).
    pub fn is_ejected(&self, server: &Server) -> bool {
        server.has_flag(Flag::EJECTED)
    }

    /// How many times this detector has ejected `server`.
    pub fn ejections(&self, server: &Server) -> u32 {
        let state = self.state.lock();
        state
            .hosts
            .get(&server.cells_key())
            .map_or(0, |h| h.ejections)
    }

    /// Failures reported in a row on `server` since its last success (or ejection).
    pub fn failure_run(&self, server: &Server) -> u32 {
        server.failure_run()
    }

    /// The server's peak-EWMA latency estimate now, decayed since its last sample; `None`
    /// before a first report.
    pub fn latency(&self, server: &Server) -> Option<Duration> {
        let t = nanos(self.clock.now()) as f64 * self.inverse_decay;
        peak_ewma::value(server, t).map(|nanos| Duration::from_nanos(nanos as u64))
    }

    /// The fleet's figures: servers ejected now, servers known, ejections, overflows.
    pub fn stats(&self) -> OutlierStats {
        let state = self.state.lock();
        OutlierStats {
            ejected: state.ejected,
            servers: state.hosts.len(),
            ejections: state.ejections,
            overflows: state.overflows,
        }
    }
}

impl<C: Clock + 'static> OutlierDetector<C> {
    /// Starts a thread that sweeps `fleet` at once, then every
    /// [`interval`](OutlierOptions::interval), until the returned [`Sweeper`] is dropped.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use loadring::health::{OutlierDetector, OutlierOptions};
    /// use loadring::{LeastLoaded, Shared};
    ///
    /// let fleet = Arc::new(Shared::new(LeastLoaded::new(["a", "b", "c"])?));
    /// let outliers = Arc::new(OutlierDetector::new(OutlierOptions::default())?);
    /// let sweeper = outliers.spawn(Arc::clone(&fleet)).expect("a thread");
    /// // ... requests report to `outliers` ...
    /// drop(sweeper); // stops and joins the thread
    /// # Ok::<(), loadring::Error>(())
    /// ```
    ///
    /// Errors: the operating system's, when it cannot start a thread.
    pub fn spawn<S>(self: &Arc<Self>, fleet: Arc<S>) -> std::io::Result<Sweeper>
    where
        S: ServerSource + Send + Sync + ?Sized + 'static,
    {
        let detector = Arc::clone(self);
        let interval = self.options.interval;
        let worker = Worker::spawn("loadring-outliers", move || {
            detector.evaluate(&*fleet);
            interval
        })?;
        Ok(Sweeper { _worker: worker })
    }
}

impl State {
    /// Ejects the known server `key` if the cap allows (Envoy's `ejectHost`); counts an
    /// overflow if not.
    fn eject(&mut self, key: usize, now: Duration, o: &OutlierOptions) -> bool {
        let known = self.hosts.len() as u128;
        let within = (self.ejected as u128 + 1) * 100 <= u128::from(o.max_ejection_percent) * known;
        if !(within || o.always_eject_one && self.ejected == 0) {
            self.overflows += 1;
            return false;
        }
        let Some(host) = self.hosts.get_mut(&key).filter(|h| h.ejected_at.is_none()) else {
            return false;
        };
        host.server.set_flag(Flag::EJECTED, true);
        host.ejected_at = Some(now);
        host.ejections = host.ejections.saturating_add(1);
        // Envoy grows the multiplier while it is short of the cap by more than one step.
        let max = o.effective_max_ejection_time();
        if o.base_ejection_time.saturating_mul(host.backoff)
            < max.saturating_add(o.base_ejection_time)
        {
            host.backoff += 1;
        }
        self.ejected += 1;
        self.ejections += 1;
        true
    }
}

impl<C: fmt::Debug> fmt::Debug for OutlierDetector<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock();
        f.debug_struct("OutlierDetector")
            .field("options", &self.options)
            .field("clock", &self.clock)
            .field("servers", &state.hosts.len())
            .field("ejected", &state.ejected)
            .finish()
    }
}

/// The thread of [`OutlierDetector::spawn`]; dropping it stops the thread and waits for it.
#[derive(Debug)]
pub struct Sweeper {
    _worker: Worker,
}

impl Sweeper {
    /// Stops the thread and waits for it (the same as dropping the sweeper).
    pub fn stop(self) {}
}
