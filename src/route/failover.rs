//! Fail-over: one request tried against a key's ranked candidates, within a budget of attempts.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;

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

/// Why a fail-over call gave up: `E` is an attempt's failure, `N` why there was no server
/// (a [`PickError`] from a balancer; a [`RouteError`](crate::route::RouteError) from a
/// router, with [`Attempts`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailoverError<E, N = PickError> {
    /// There was no server to try at all (no servers, none healthy, every one at capacity).
    NoServer(N),
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
        let mut attempts = Attempts::new(self.attempts);
        loop {
            let lease = attempts.lease(self.balancer, key)?;
            let started = self.outliers.map(|o| o.start());
            let result = attempt(lease.server().clone()).await;
            self.report(&lease, started, result.is_ok());
            match result {
                Ok(answer) => return Ok(answer),
                Err(failure) => attempts.fail(&lease, failure)?,
            }
        }
    }

    /// [`call`](Failover::call) for an `attempt` that is a plain (blocking) call.
    pub fn call_blocking<K, T, E, F>(&self, key: &K, mut attempt: F) -> Result<T, FailoverError<E>>
    where
        K: Key + ?Sized,
        F: FnMut(&Server) -> Result<T, E>,
    {
        let mut attempts = Attempts::new(self.attempts);
        loop {
            let lease = attempts.lease(self.balancer, key)?;
            let started = self.outliers.map(|o| o.start());
            let result = attempt(lease.server());
            self.report(&lease, started, result.is_ok());
            match result {
                Ok(answer) => return Ok(answer),
                Err(failure) => attempts.fail(&lease, failure)?,
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

/// The bookkeeping of one request's fail-over: the servers it tried and that failed, its
/// budget of attempts and its last failure. [`Failover`] keeps one a call; callers that lease
/// their own way (a [`Router`](crate::route::Router), whose sticky pools pin a server, or a
/// lease that must outlive the attempt) keep one themselves and follow the same rules: each
/// server at most once, at most `budget` attempts, and the last failure to give up with.
///
/// ```
/// use loadring::route::{Attempts, FailoverError};
/// use loadring::{BalancerExt, HashRing};
///
/// let ring = HashRing::new(["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"])?;
/// let mut attempts: Attempts<&str> = Attempts::new(2);
/// let first = ring.acquire_with("user-42", attempts.untried())?;
/// attempts.fail(first.server(), "connection refused").unwrap(); // one attempt left
/// let second = ring.acquire_with("user-42", attempts.untried())?;
/// assert_ne!(second.id(), first.id()); // never the same server twice
/// let spent = attempts.fail(second.server(), "503").unwrap_err();
/// assert_eq!(spent, FailoverError::Exhausted { attempts: 2, last: "503" });
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Attempts<E, N = PickError> {
    budget: usize,
    failed: Vec<Server>,
    last: Option<E>,
    cause: PhantomData<fn() -> N>,
}

impl<E, N> Attempts<E, N> {
    /// At most `budget` attempts, clamped to `1..=`[`MAX_CANDIDATES`].
    pub fn new(budget: usize) -> Self {
        // No allocation until an attempt fails.
        Attempts {
            budget: budget.clamp(1, MAX_CANDIDATES),
            failed: Vec::new(),
            last: None,
            cause: PhantomData,
        }
    }

    /// Whether `server` is still to be tried: the filter for
    /// [`acquire_with`](crate::BalancerExt::acquire_with) and
    /// [`route_with`](crate::route::Router::route_with).
    pub fn untried(&self) -> impl Fn(&Server) -> bool + '_ {
        |s| !self.failed.iter().any(|f| f.id() == s.id())
    }

    /// How many attempts failed so far.
    pub fn failures(&self) -> usize {
        self.failed.len()
    }

    /// Records that the attempt on `server` failed with `failure`; gives up with
    /// [`FailoverError::Exhausted`] when that was the last of the budget.
    pub fn fail(&mut self, server: &Server, failure: E) -> Result<(), FailoverError<E, N>> {
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

    /// The error to give up with when no untried server was left to lease (`cause` says
    /// why): [`FailoverError::Exhausted`] with the last failure once an attempt failed,
    /// [`FailoverError::NoServer`] when none was ever tried.
    pub fn give_up(&mut self, cause: N) -> FailoverError<E, N> {
        match self.last.take() {
            Some(last) => FailoverError::Exhausted {
                attempts: self.failed.len(),
                last,
            },
            None => FailoverError::NoServer(cause),
        }
    }
}

impl<E> Attempts<E> {
    /// A lease on `balancer`'s best candidate for `key` not tried yet.
    fn lease<'a, B, K>(&mut self, balancer: &'a B, key: &K) -> Result<Lease<'a>, FailoverError<E>>
    where
        B: Balancer + ?Sized,
        K: Key + ?Sized,
    {
        let lease = balancer.acquire_with(key, self.untried());
        lease.map_err(|e| self.give_up(e))
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

impl<E: fmt::Display, N: fmt::Display> fmt::Display for FailoverError<E, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailoverError::NoServer(e) => write!(f, "no server to try: {e}"),
            FailoverError::Exhausted { attempts, last } => {
                write!(f, "all {attempts} attempts failed; the last: {last}")
            }
        }
    }
}

impl<E, N> std::error::Error for FailoverError<E, N>
where
    E: std::error::Error + 'static,
    N: std::error::Error + 'static,
{
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FailoverError::NoServer(e) => Some(e),
            FailoverError::Exhausted { last, .. } => Some(last),
        }
    }
}
