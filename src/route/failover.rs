//! Fail-over: one request tried against a key's ranked candidates, within a budget of attempts.

use std::fmt;
use std::future::Future;

use crate::health::{Clock, OutlierDetector, Started, SystemClock};
use crate::{Balancer, BalancerExt, Key, Lease, MAX_CANDIDATES, PickError, Server};

/// The attempts a request gets unless told otherwise: the first choice and two more.
const DEFAULT_ATTEMPTS: usize = 3;

/// Tries a request against the ranked candidates of its key (the strategy's own order of
/// preference: the pick first, then where the key would go if the ones before failed), each
/// at most once, until one succeeds or the budget of attempts is spent.
///
/// Each attempt holds a [`Lease`] on its server while it runs, so least-loaded and bounded
/// loads count it, and with [`report_to`](Failover::report_to) its outcome and latency go
/// to an [`OutlierDetector`] as it ends: a server that keeps failing is ejected, and the next
/// request's candidates no longer include it. Candidates are ranked again before each
/// attempt, so an ejection, a health check or a cap reached meanwhile is obeyed.
///
/// An attempt returns `Err` when its server failed (it could not connect, timed out,
/// answered 503): that is reported and the next candidate tried. An answer that is final for
/// the caller, even an error such as a 404, belongs in the `Ok` value.
///
/// [`call`](Failover::call) runs attempts that are futures, from async code (any runtime);
/// [`call_blocking`](Failover::call_blocking) runs plain calls.
///
/// ```
/// use loadring::route::{Failover, FailoverError};
/// use loadring::{BalancerExt, HashRing};
///
/// let ring = HashRing::new(["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"])?;
/// let home = ring.pick("user-42")?.id().to_owned();
///
/// // The key's own server refuses the connection; the next candidate answers.
/// let answer = Failover::new(&ring).call_blocking("user-42", |server| {
///     if server.id() == home { Err("connection refused") } else { Ok(server.id().to_owned()) }
/// });
/// assert_ne!(answer.unwrap(), home);
///
/// // Every attempt failed: the last failure comes back with the count.
/// let failed: Result<(), _> = Failover::new(&ring).attempts(2).call_blocking("user-42", |_| Err("503"));
/// assert_eq!(failed.unwrap_err(), FailoverError::Exhausted { attempts: 2, last: "503" });
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// From async code, with a live fleet, where the attempt's future owns what it uses (here
/// the server's address) and an outlier detector learns from every attempt:
///
/// ```
/// # async fn connect(addr: std::net::SocketAddr) -> std::io::Result<()> { Ok(()) }
/// use loadring::health::{OutlierDetector, OutlierOptions};
/// use loadring::route::Failover;
/// use loadring::{AnyBalancer, RingOptions, Shared, Strategy};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let ring = Strategy::Ring(RingOptions::default());
/// let shared = Shared::new(AnyBalancer::new(ring, ["10.0.0.1:80", "10.0.0.2:80"])?);
/// let outliers = OutlierDetector::new(OutlierOptions::default())?;
/// let fleet = shared.snapshot();
/// let failover = Failover::new(&*fleet).report_to(&outliers);
/// failover
///     .call("user-42", |server| {
///         let addr = server.addr();
///         async move { connect(addr.ok_or(std::io::ErrorKind::InvalidInput)?).await }
///     })
///     .await?;
/// # Ok(())
/// # }
/// ```
pub struct Failover<'a, B: ?Sized, C = SystemClock> {
    balancer: &'a B,
    attempts: usize,
    outliers: Option<&'a OutlierDetector<C>>,
}

/// Why a fail-over call gave up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailoverError<E> {
    /// There was no server to try at all (no servers, none healthy, every one at capacity).
    NoServer(PickError),
    /// Every attempt made failed: the budget was spent, or no candidate was left untried.
    Exhausted {
        /// How many attempts were made (at least 1).
        attempts: usize,
        /// The last attempt's failure.
        last: E,
    },
}

impl<'a, B: Balancer + ?Sized> Failover<'a, B> {
    /// Fail-over over `balancer`'s candidates, with 3 attempts and no outcome reporting.
    pub fn new(balancer: &'a B) -> Self {
        Failover {
            balancer,
            attempts: DEFAULT_ATTEMPTS,
            outliers: None,
        }
    }
}

impl<'a, B: Balancer + ?Sized, C: Clock> Failover<'a, B, C> {
    /// At most `attempts` attempts, each on a different server, clamped to
    /// `1..=`[`MAX_CANDIDATES`] (the first choice is always tried).
    pub fn attempts(mut self, attempts: usize) -> Self {
        self.attempts = attempts.clamp(1, MAX_CANDIDATES);
        self
    }

    /// The budget of attempts.
    pub fn max_attempts(&self) -> usize {
        self.attempts
    }

    /// Reports each attempt's outcome and latency, timed on the detector's clock, to
    /// `outliers` as the attempt ends. Ejections need the detector's sweeps to run
    /// ([`OutlierDetector::spawn`] or [`evaluate`](OutlierDetector::evaluate)): they tell it
    /// the fleet's size, which its cap on ejections is a share of.
    pub fn report_to<D: Clock>(self, outliers: &'a OutlierDetector<D>) -> Failover<'a, B, D> {
        Failover {
            balancer: self.balancer,
            attempts: self.attempts,
            outliers: Some(outliers),
        }
    }

    /// Runs `attempt` on the key's candidates in turn, awaiting each, until one returns `Ok`
    /// (its value is the answer) or the attempts run out. `attempt` gets a clone of the
    /// server (cheap: reference-counted), so its future may own everything it needs.
    ///
    /// Errors: [`FailoverError::NoServer`] when no server could be tried,
    /// [`FailoverError::Exhausted`] with the last failure when every attempt failed.
    pub async fn call<K, T, E, F, Fut>(
        &self,
        key: &K,
        mut attempt: F,
    ) -> Result<T, FailoverError<E>>
    where
        K: Key + ?Sized,
        F: FnMut(Server) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let mut round = Round::new(self.attempts);
        loop {
            let lease = round.next(self.balancer, key)?;
            let started = self.outliers.map(|o| o.start());
            let result = attempt(lease.server().clone()).await;
            self.report(&lease, started, result.is_ok());
            match result {
                Ok(answer) => return Ok(answer),
                Err(failure) => round.failed(&lease, failure)?,
            }
        }
    }

    /// [`call`](Failover::call) for an `attempt` that is a plain (blocking) call.
    pub fn call_blocking<K, T, E, F>(&self, key: &K, mut attempt: F) -> Result<T, FailoverError<E>>
    where
        K: Key + ?Sized,
        F: FnMut(&Server) -> Result<T, E>,
    {
        let mut round = Round::new(self.attempts);
        loop {
            let lease = round.next(self.balancer, key)?;
            let started = self.outliers.map(|o| o.start());
            let result = attempt(lease.server());
            self.report(&lease, started, result.is_ok());
            match result {
                Ok(answer) => return Ok(answer),
                Err(failure) => round.failed(&lease, failure)?,
            }
        }
    }

    /// Reports an attempt's outcome, timed from `started`, when there is a detector.
    fn report(&self, server: &Server, started: Option<Started>, success: bool) {
        if let (Some(outliers), Some(started)) = (self.outliers, started) {
            outliers.record(server, outliers.outcome(started, success));
        }
    }
}

/// The servers one call has tried and failed on, and its last failure.
struct Round<E> {
    budget: usize,
    failed: Vec<Server>,
    last: Option<E>,
}

impl<E> Round<E> {
    fn new(budget: usize) -> Self {
        // No allocation until an attempt fails.
        Round {
            budget,
            failed: Vec::new(),
            last: None,
        }
    }

    /// A lease on the best candidate not tried yet.
    fn next<'a, B, K>(&mut self, balancer: &'a B, key: &K) -> Result<Lease<'a>, FailoverError<E>>
    where
        B: Balancer + ?Sized,
        K: Key + ?Sized,
    {
        let failed = &self.failed;
        balancer
            .acquire_with(key, |s| !failed.iter().any(|f| f.id() == s.id()))
            .map_err(|e| match self.last.take() {
                Some(last) => FailoverError::Exhausted {
                    attempts: self.failed.len(),
                    last,
                },
                None => FailoverError::NoServer(e),
            })
    }

    /// Records a failed attempt; gives up when the budget is spent.
    fn failed(&mut self, server: &Server, failure: E) -> Result<(), FailoverError<E>> {
        self.failed.push(server.clone());
        if self.failed.len() >= self.budget {
            return Err(FailoverError::Exhausted {
                attempts: self.failed.len(),
                last: failure,
            });
        }
        self.last = Some(failure);
        Ok(())
    }
}

impl<B: ?Sized, C> fmt::Debug for Failover<'_, B, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Failover")
            .field("attempts", &self.attempts)
            .field("reports", &self.outliers.is_some())
            .finish_non_exhaustive()
    }
}

impl<E: fmt::Display> fmt::Display for FailoverError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailoverError::NoServer(e) => write!(f, "no server to try: {e}"),
            FailoverError::Exhausted { attempts, last } => {
                write!(f, "all {attempts} attempts failed; the last: {last}")
            }
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for FailoverError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FailoverError::NoServer(e) => Some(e),
            FailoverError::Exhausted { last, .. } => Some(last),
        }
    }
}
