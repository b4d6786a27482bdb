//! Least loaded: the server with the least load per unit of weight.

use std::cmp::Ordering as Cmp;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::Ordering;

use crate::sync::AtomicU64;

use crate::fleet::Shares;
use crate::hash::{fast_range, mix64};
use crate::health::peak_ewma;
use crate::server::WHOLE;
use crate::{Balancer, Error, Fleet, PickError, Server, Update};

/// The SplitMix64 increment.
const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// How many random pairs a power-of-two pick draws before it falls back to a full scan.
const PAIR_DRAWS: usize = 4;

/// How a [`LeastLoaded`] chooses among the servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
#[non_exhaustive]
pub enum Choice {
    /// Two distinct servers drawn at random in proportion to their weights, the less loaded
    /// per unit of weight wins (Mitzenmacher's power of two choices): O(1) with equal weights,
    /// O(log n) with mixed ones, and nearly as even as an exact scan, with no herd on one
    /// server.
    #[default]
    PowerOfTwo,
    /// Every server compared: exact, O(n).
    FullScan,
}

/// Where a [`LeastLoaded`] reads each server's load; lesser values mean less loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
#[non_exhaustive]
pub enum LoadSource {
    /// Requests in flight, counted by the [`Lease`](crate::Lease)s that
    /// [`acquire`](crate::BalancerExt::acquire) hands out (from this balancer or any other
    /// that holds clones of the same servers).
    #[default]
    InFlight,
    /// The figure last reported with [`Server::report_load`] or
    /// [`Balancer::report_load`] (CPU, queue length, latency…); 0 until then.
    Reported,
    /// Peak-EWMA latency times requests in flight, tower's and Finagle's cost:
    /// `latency × (in_flight + 1) / weight`, where `latency` is the server's peak-EWMA
    /// estimate fed by the outcomes that an
    /// [`OutlierDetector`](crate::health::OutlierDetector) records. A slow answer raises
    /// the estimate at once; faster ones bring it down over the detector's
    /// [`latency_decay`](crate::health::OutlierOptions::latency_decay) `τ`, and a server
    /// that gets no requests decays toward zero, so it is tried again. A server slowing
    /// down draws fewer requests before it fails.
    ///
    /// A server with no outcome yet takes one request at a time until its first answer (it
    /// comes before every server with an estimate while it is idle, after them while busy).
    /// A failure counts as at least twice the estimate, so a server that fails fast does
    /// not draw the traffic. A comparison reads no clock and costs a few multiplications
    /// (an exponential when the two servers' last samples are far apart in time); these
    /// picks run out of line, so the other sources' picks are as they were.
    PeakEwma,
}

/// Options of a [`LeastLoaded`].
///
/// ```
/// use loadring::{Choice, LeastLoadedOptions, LoadSource};
///
/// let options = LeastLoadedOptions::default()
///     .with_choice(Choice::FullScan)
///     .with_load_source(LoadSource::Reported)
///     .with_seed(7);
/// assert_eq!(options.seed, Some(7));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
#[non_exhaustive]
pub struct LeastLoadedOptions {
    /// Two random choices (default) or a full scan.
    pub choice: Choice,
    /// Requests in flight (default), reported loads, or peak-EWMA latency.
    pub load_source: LoadSource,
    /// The seed of the random draws, for reproducible picks; `None` (default) seeds them at
    /// random.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub seed: Option<u64>,
}

impl LeastLoadedOptions {
    /// Sets how the balancer chooses.
    pub fn with_choice(mut self, choice: Choice) -> Self {
        self.choice = choice;
        self
    }

    /// Sets where the balancer reads loads.
    pub fn with_load_source(mut self, source: LoadSource) -> Self {
        self.load_source = source;
        self
    }

    /// Seeds the random draws: the same seed, servers and loads give the same picks.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }
}

/// The PRNG state, on a cache line of its own: it is written on every pick.
#[repr(align(64))]
#[derive(Debug)]
struct Rng(AtomicU64);

/// Least loaded: the server with the least load per unit of weight, so a server of weight
/// 2 is as loaded with 4 requests as one of weight 1 with 2.
///
/// Keys are ignored. The load is the requests in flight ([`LoadSource::InFlight`], counted
/// by the leases of [`acquire`](crate::BalancerExt::acquire): **route requests through
/// `acquire` and hold the lease**, or every server looks idle), a figure that callers report
/// ([`LoadSource::Reported`]), or the peak-EWMA latency times the requests in flight
/// ([`LoadSource::PeakEwma`], fed by the outcomes an
/// [`OutlierDetector`](crate::health::OutlierDetector) records). Picks compare two random
/// servers ([`Choice::PowerOfTwo`], the default) or all of them ([`Choice::FullScan`]).
///
/// Ties are broken at random in proportion to the weights, never always toward the first
/// server, so an idle fleet spreads its first requests by weight. The randomness is a SplitMix64 sequence in one atomic:
/// [`new`](LeastLoaded::new) seeds it from the process's random hasher keys,
/// [`LeastLoadedOptions::seed`] from a given seed, for reproducible tests (picks from one
/// thread repeat exactly; threads that race may now and then share a draw).
///
/// Ranked [`candidates`](crate::BalancerExt::candidates) are the pick, then the other healthy
/// servers from the least loaded up, so a retry that excludes the servers it tried
/// ([`acquire_with`](crate::BalancerExt::acquire_with)) goes to the least loaded of the rest.
///
/// Unhealthy servers are skipped; a power-of-two pick that draws only unhealthy servers
/// a few times in a row scans instead.
///
/// ```
/// use loadring::{Balancer, BalancerExt, LeastLoaded};
///
/// let ll = LeastLoaded::new(["a", "b"])?;
/// let first = ll.acquire_next()?; // counted in flight until dropped
/// let second = ll.acquire_next()?;
/// assert_ne!(first.id(), second.id(), "the idle server wins");
/// drop((first, second));
/// assert!(ll.servers().iter().all(|s| s.in_flight() == 0));
/// # Ok::<(), loadring::Error>(())
/// ```
///
/// By latency: every request reports its outcome, and a slow server draws fewer requests.
///
/// ```
/// use loadring::health::{OutlierDetector, OutlierOptions};
/// use loadring::{LeastLoaded, LeastLoadedOptions, LoadSource, Shared};
///
/// let options = LeastLoadedOptions::default().with_load_source(LoadSource::PeakEwma);
/// let fleet = Shared::new(LeastLoaded::with_options(["10.0.0.1:80", "10.0.0.2:80"], options)?);
/// let outcomes = OutlierDetector::new(OutlierOptions::default())?;
///
/// let lease = fleet.acquire_next()?;
/// let started = outcomes.start();
/// let answer: Result<(), ()> = Ok(()); // the call to lease.addr()
/// outcomes.record(&lease, outcomes.outcome(started, answer.is_ok()));
/// let first = lease.id().to_owned();
/// drop(lease);
/// // The server that has not answered yet is tried next, then latency decides.
/// assert_ne!(fleet.next()?.id(), first);
/// # Ok::<(), loadring::Error>(())
/// ```
#[derive(Debug)]
pub struct LeastLoaded {
    fleet: Fleet,
    options: LeastLoadedOptions,
    /// The servers' shares by weight, so that power-of-two draws follow the weights.
    shares: Shares,
    /// The fewest servers that power-of-two draws pick among: 2, or `u64::MAX` for
    /// peak-EWMA latency, whose picks go out of line (see `power_of_two`).
    pairs_from: u64,
    rng: Rng,
}

impl LeastLoaded {
    /// Builds over `servers` (ids or [`Server`]s): power of two choices over the requests in
    /// flight, seeded at random.
    ///
    /// Errors: [`Error::DuplicateServer`], [`Error::ZeroWeight`].
    pub fn new<I>(servers: I) -> Result<Self, Error>
    where
        I: IntoIterator,
        I::Item: Into<Server>,
    {
        Self::with_options(servers, LeastLoadedOptions::default())
    }

    /// Builds with `options`.
    pub fn with_options<I>(servers: I, options: LeastLoadedOptions) -> Result<Self, Error>
    where
        I: IntoIterator,
        I::Item: Into<Server>,
    {
        let seed = options
            .seed
            .unwrap_or_else(|| RandomState::new().hash_one(GOLDEN));
        let fleet = Fleet::new(servers)?;
        Ok(LeastLoaded {
            shares: Shares::of(&fleet),
            fleet,
            options,
            pairs_from: if options.load_source == LoadSource::PeakEwma {
                u64::MAX
            } else {
                2
            },
            rng: Rng(AtomicU64::new(seed)),
        })
    }

    /// The options the balancer was built with.
    pub fn options(&self) -> LeastLoadedOptions {
        self.options
    }

    /// The next SplitMix64 output.
    ///
    /// A plain load and store, not a locked read-modify-write: threads that race now and then
    /// draw the same number, which costs a little spread and nothing else, while a locked
    /// update would serialise every pick behind it (it doubled the cost of a lease).
    #[inline]
    fn random(&self) -> u64 {
        let state = self.rng.0.load(Ordering::Relaxed).wrapping_add(GOLDEN);
        self.rng.0.store(state, Ordering::Relaxed);
        mix64(state)
    }

    /// Compares two servers' load per unit of weight, from any source.
    fn compare(&self, a: &Server, b: &Server) -> Cmp {
        match self.options.load_source {
            LoadSource::PeakEwma => peak_ewma::compare(a, b),
            _ => self.compare_counted(a, b),
        }
    }

    /// Compares two servers' requests in flight or reported loads per unit of weight, for the
    /// picks of those two sources. Peak-EWMA picks never come here (they go through
    /// `by_latency`); its arm shares the in-flight one so that these picks compile as they
    /// did before that source existed (callgrind: the same instructions).
    #[inline]
    fn compare_counted(&self, a: &Server, b: &Server) -> Cmp {
        match self.options.load_source {
            LoadSource::InFlight | LoadSource::PeakEwma => (u128::from(a.in_flight())
                * u128::from(b.weight()))
            .cmp(&(u128::from(b.in_flight()) * u128::from(a.weight()))),
            // Reported loads are finite and non-negative, so this never sees a NaN.
            LoadSource::Reported => (a.load() / f64::from(a.weight()))
                .partial_cmp(&(b.load() / f64::from(b.weight())))
                .unwrap_or(Cmp::Equal),
        }
    }

    /// [`compare`](Self::compare) for a pair where a server is in slow start: each side's
    /// weight counts at its ramp, and in-flight counts one more (Envoy's least-request cost
    /// with slow start), so that an idle server in slow start does not win every pick.
    #[cold]
    fn compare_ramped(&self, a: &Server, b: &Server) -> Cmp {
        let cost = |s: &Server| f64::from(s.weight()) * s.ramp();
        let (x, y) = match self.options.load_source {
            LoadSource::InFlight => (a.in_flight() as f64 + 1.0, b.in_flight() as f64 + 1.0),
            LoadSource::Reported => (a.load(), b.load()),
            // Latency already holds a newcomer to one request at a time until it answers.
            LoadSource::PeakEwma => return peak_ewma::compare(a, b),
        };
        (x / cost(a))
            .partial_cmp(&(y / cost(b)))
            .unwrap_or(Cmp::Equal)
    }

    /// [`compare`](Self::compare), or [`compare_ramped`](Self::compare_ramped) when either
    /// server is in slow start.
    fn compare_any(&self, a: &Server, b: &Server) -> Cmp {
        if a.ramp_millionths() < WHOLE || b.ramp_millionths() < WHOLE {
            self.compare_ramped(a, b)
        } else {
            self.compare(a, b)
        }
    }

    #[inline]
    fn choose(&self) -> Result<usize, PickError> {
        match self.options.choice {
            Choice::PowerOfTwo => self.power_of_two(),
            Choice::FullScan => self.full_scan(),
        }
    }

    /// Two distinct servers of the `n`, drawn in proportion to their weights: with equal
    /// weights from the two halves of one random draw, else by `weighted_pair`.
    #[inline(always)]
    fn draw_pair(&self, n: u64) -> (usize, usize) {
        let r = self.random();
        if self.shares.are_equal() {
            let i = fast_range(r << 32, n) as usize;
            let j = fast_range(r & 0xffff_ffff_0000_0000, n - 1) as usize;
            (i, j + usize::from(j >= i))
        } else {
            self.weighted_pair(r)
        }
    }

    /// Two distinct servers, each drawn in proportion to its weight from `r`; a repeat is
    /// replaced by a uniform other. Out of line, so the equal-weights pick stays lean.
    #[inline(never)]
    fn weighted_pair(&self, r: u64) -> (usize, usize) {
        let n = self.fleet.len();
        let i = self.shares.bucket(r, n);
        let j = self.shares.bucket(mix64(r ^ GOLDEN), n);
        if j != i {
            return (i, j);
        }
        let other = fast_range(mix64(r), n as u64 - 1) as usize;
        (i, other + usize::from(other >= i))
    }

    /// Power of two choices by requests in flight or reported loads. With peak-EWMA
    /// latency, `pairs_from` is out of reach, so the pick leaves through `full_scan` for
    /// `by_latency`: the dispatch costs the other sources nothing (a compare with a field
    /// instead of the constant 2).
    #[inline]
    fn power_of_two(&self) -> Result<usize, PickError> {
        let n = self.fleet.len() as u64;
        if n < self.pairs_from {
            return self.full_scan();
        }
        let servers = self.fleet.servers();
        for _ in 0..PAIR_DRAWS {
            let (i, j) = self.draw_pair(n);
            match (servers[i].is_settled(), servers[j].is_settled()) {
                // The pair came in random order, so a tie going to `i` favours nobody.
                (true, true) => {
                    return Ok(match self.compare_counted(&servers[j], &servers[i]) {
                        Cmp::Less => j,
                        _ => i,
                    });
                }
                _ => {
                    if let Some(k) = self.uneven_pair(i, j) {
                        return Ok(k);
                    }
                }
            }
        }
        self.full_scan()
    }

    /// A pair with a server that is unavailable or in slow start: the lesser of those that
    /// may serve (in panic, those not draining), weights at their ramps; `None` when neither
    /// may.
    #[cold]
    #[inline(never)]
    fn uneven_pair(&self, i: usize, j: usize) -> Option<usize> {
        let panic = self.fleet.in_panic();
        match (self.fleet.usable(i, panic), self.fleet.usable(j, panic)) {
            (true, true) => {
                let servers = self.fleet.servers();
                Some(match self.compare_any(&servers[j], &servers[i]) {
                    Cmp::Less => j,
                    _ => i,
                })
            }
            (true, false) => Some(i),
            (false, true) => Some(j),
            (false, false) => None,
        }
    }

    /// The draws of `power_of_two`, comparing peak-EWMA costs (a copy: one generic body for
    /// both changed the code of the counted picks), then a scan if no draw found an
    /// available server.
    #[inline]
    fn latency_pairs(&self) -> Result<usize, PickError> {
        let n = self.fleet.len() as u64;
        let servers = self.fleet.servers();
        for _ in 0..PAIR_DRAWS {
            let (i, j) = self.draw_pair(n);
            match (servers[i].is_settled(), servers[j].is_settled()) {
                (true, true) => {
                    return Ok(match peak_ewma::compare(&servers[j], &servers[i]) {
                        Cmp::Less => j,
                        _ => i,
                    });
                }
                _ => {
                    if let Some(k) = self.uneven_pair(i, j) {
                        return Ok(k);
                    }
                }
            }
        }
        self.scan(peak_ewma::compare)
    }

    /// The least loaded available server; among equals, one chosen at random in proportion
    /// to its weight.
    fn full_scan(&self) -> Result<usize, PickError> {
        if self.options.load_source == LoadSource::PeakEwma {
            return self.by_latency();
        }
        self.scan(|a, b| self.compare_counted(a, b))
    }

    /// A pick by peak-EWMA latency, out of line: two choices or a full scan, as the options
    /// say.
    #[inline(never)]
    fn by_latency(&self) -> Result<usize, PickError> {
        if self.options.choice == Choice::PowerOfTwo && self.fleet.len() >= 2 {
            self.latency_pairs()
        } else {
            self.scan(peak_ewma::compare)
        }
    }

    /// The least loaded available server by `compare`; among equals, one chosen at random in
    /// proportion to its weight.
    #[inline(always)]
    fn scan(&self, compare: impl Fn(&Server, &Server) -> Cmp) -> Result<usize, PickError> {
        let servers = self.fleet.servers();
        let mut state = self.random() | 1;
        let mut best: Option<usize> = None;
        let mut tied_weight = 0u64;
        let panic = self.fleet.in_panic();
        for (i, s) in servers.iter().enumerate() {
            if !self.fleet.usable(i, panic) {
                continue;
            }
            let order = match best {
                None => Cmp::Less,
                Some(b) if s.is_settled() && servers[b].is_settled() => compare(s, &servers[b]),
                Some(b) => self.compare_any(s, &servers[b]),
            };
            let w = u64::from(s.weight());
            match order {
                Cmp::Less => {
                    best = Some(i);
                    tied_weight = w;
                }
                // Weighted reservoir sampling: an equal replaces the best with probability
                // its weight over the weight of all equals so far.
                Cmp::Equal => {
                    tied_weight = tied_weight.saturating_add(w);
                    state = xorshift(state);
                    if fast_range(state, tied_weight) < w {
                        best = Some(i);
                    }
                }
                Cmp::Greater => {}
            }
        }
        best.ok_or_else(|| self.fleet.none_error())
    }
}

#[inline]
fn xorshift(mut x: u64) -> u64 {
    x ^= x << 13;
    x ^= x >> 7;
    x ^ (x << 17)
}

impl Clone for LeastLoaded {
    fn clone(&self) -> Self {
        LeastLoaded {
            fleet: self.fleet.clone(),
            options: self.options,
            shares: self.shares.clone(),
            pairs_from: self.pairs_from,
            rng: Rng(AtomicU64::new(self.rng.0.load(Ordering::Relaxed))),
        }
    }
}

impl Balancer for LeastLoaded {
    fn fleet(&self) -> &Fleet {
        &self.fleet
    }

    /// The least loaded server, without counting a request on it (see
    /// [`acquire`](crate::BalancerExt::acquire)).
    #[inline]
    fn pick_hash(&self, _hash: u64) -> Result<&Server, PickError> {
        self.choose().map(|i| &self.fleet.servers()[i])
    }

    /// The pick, then the other healthy servers from the least loaded up (first in order on
    /// ties).
    fn candidates_hash(&self, _hash: u64, out: &mut [usize]) -> usize {
        let (Some(slot), Ok(first)) = (out.first_mut(), self.choose()) else {
            return 0;
        };
        *slot = first;
        let servers = self.fleet.servers();
        // (load per weight, index): the order of the rest.
        let before = |a: usize, b: usize| {
            self.compare(&servers[a], &servers[b])
                .then(a.cmp(&b))
                .is_lt()
        };
        let panic = self.fleet.in_panic();
        let rest = (0..servers.len()).filter(|&i| i != first && self.fleet.usable(i, panic));
        if out.len() > crate::MAX_CANDIDATES {
            // Many ranks: one sort, O(n log n).
            let mut all: Vec<usize> = rest.collect();
            all.sort_by(|&a, &b| self.compare(&servers[a], &servers[b]).then(a.cmp(&b)));
            let n = all.len().min(out.len() - 1);
            out[1..=n].copy_from_slice(&all[..n]);
            return n + 1;
        }
        // A few ranks (every fail-over walk): one pass each for the next in that order after
        // the last one listed, allocation-free. Loads may change meanwhile; a server listed
        // already is not listed twice.
        let mut n = 1;
        let mut last: Option<usize> = None;
        // At most one pass per server, however the loads move.
        for _ in 0..servers.len() {
            if n == out.len() {
                break;
            }
            let next = rest
                .clone()
                .filter(|&i| last.is_none_or(|l| before(l, i)))
                .reduce(|a, b| if before(b, a) { b } else { a });
            let Some(i) = next else { break };
            last = Some(i);
            if !out[..n].contains(&i) {
                out[n] = i;
                n += 1;
            }
        }
        n
    }
}

impl Update for LeastLoaded {
    /// The same options and random sequence over `servers`.
    fn set_servers(&mut self, servers: Vec<Server>) -> Result<(), Error> {
        let old = std::mem::replace(&mut self.fleet, Fleet::new(servers)?);
        self.fleet.keep_settings_of(&old);
        self.shares = Shares::of(&self.fleet);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BalancerExt, Lease};

    fn total_in_flight(b: &dyn Balancer) -> u64 {
        b.servers().iter().map(Server::in_flight).sum()
    }

    #[test]
    fn full_scan_finds_the_least_per_weight() {
        let ll = LeastLoaded::with_options(
            [
                Server::new("a"),
                Server::new("b").with_weight(4),
                Server::new("c"),
            ],
            LeastLoadedOptions::default()
                .with_seed(7)
                .with_choice(Choice::FullScan),
        )
        .unwrap();
        let mut held: Vec<Lease<'_>> = (0..6).map(|_| ll.acquire_next().unwrap()).collect();
        // Whatever the ties, six exact picks fill every server to one request per weight.
        let counts: Vec<u64> = ll.servers().iter().map(Server::in_flight).collect();
        assert_eq!(counts, [1, 4, 1]);
        let on_b = held.iter().position(|l| l.id() == "b").unwrap();
        drop(held.swap_remove(on_b));
        assert_eq!(ll.next().unwrap().id(), "b"); // 3/4 < 1
        drop(held);
        assert_eq!(total_in_flight(&ll), 0);
    }

    #[test]
    fn ties_do_not_always_go_to_the_first_server() {
        for choice in [Choice::FullScan, Choice::PowerOfTwo] {
            let options = LeastLoadedOptions::default()
                .with_seed(1)
                .with_choice(choice);
            let ll = LeastLoaded::with_options(["a", "b", "c", "d"], options).unwrap();
            let mut seen = [0u32; 4];
            for _ in 0..400 {
                seen[ll.position(ll.next().unwrap().id()).unwrap()] += 1;
            }
            assert!(seen.iter().all(|&n| n > 50), "{choice:?}: {seen:?}");
        }
    }

    #[test]
    fn power_of_two_keeps_leases_even() {
        let ll = LeastLoaded::with_options(
            (0..10).map(|i| i.to_string()),
            LeastLoadedOptions::default().with_seed(42),
        )
        .unwrap();
        let held: Vec<Lease<'_>> = (0..1000).map(|_| ll.acquire_next().unwrap()).collect();
        let max = ll.servers().iter().map(Server::in_flight).max().unwrap();
        let min = ll.servers().iter().map(Server::in_flight).min().unwrap();
        assert!(max - min <= 6, "spread {min}..{max}");
        drop(held);
        assert_eq!(total_in_flight(&ll), 0);
    }

    #[test]
    fn the_same_seed_gives_the_same_picks() {
        let run = |seed| {
            let ll = LeastLoaded::with_options(
                (0..50).map(|i| i.to_string()),
                LeastLoadedOptions::default().with_seed(seed),
            )
            .unwrap();
            let held: Vec<Lease<'_>> = (0..200).map(|_| ll.acquire_next().unwrap()).collect();
            held.iter().map(|l| l.id().to_owned()).collect::<Vec<_>>()
        };
        assert_eq!(run(9), run(9));
        assert_ne!(run(9), run(10));
    }

    #[test]
    fn reported_loads_choose_and_nan_is_rejected() {
        let options = LeastLoadedOptions::default()
            .with_seed(3)
            .with_choice(Choice::FullScan)
            .with_load_source(LoadSource::Reported);
        let ll = LeastLoaded::with_options(["a", "b", "c"], options).unwrap();
        ll.report_load("a", 0.9).unwrap();
        ll.report_load("b", 0.2).unwrap();
        ll.report_load("c", 0.5).unwrap();
        assert_eq!(ll.next().unwrap().id(), "b");
        assert!(matches!(
            ll.report_load("b", f64::NAN),
            Err(Error::InvalidLoad { value }) if value.is_nan()
        ));
        assert_eq!(
            ll.report_load("b", -1.0).unwrap_err(),
            Error::InvalidLoad { value: -1.0 }
        );
        assert_eq!(
            ll.report_load("zz", 1.0).unwrap_err(),
            Error::UnknownServer { id: "zz".into() }
        );
        assert_eq!(
            ll.server("b").unwrap().load(),
            0.2,
            "a rejected load leaves the last"
        );
        ll.set_healthy("b", false).unwrap();
        assert_eq!(ll.next().unwrap().id(), "c");
    }

    #[test]
    fn all_unhealthy_is_an_error_in_both_modes() {
        for choice in [Choice::FullScan, Choice::PowerOfTwo] {
            let options = LeastLoadedOptions::default().with_choice(choice);
            let ll = LeastLoaded::with_options(["a", "b", "c"], options).unwrap();
            for s in ["a", "b", "c"] {
                ll.set_healthy(s, false).unwrap();
            }
            assert_eq!(ll.acquire_next().unwrap_err(), PickError::NoHealthyServer);
            ll.set_healthy("c", true).unwrap();
            for _ in 0..20 {
                assert_eq!(ll.next().unwrap().id(), "c");
            }
        }
    }
}
