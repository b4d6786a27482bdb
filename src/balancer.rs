//! The [`Balancer`] trait: the contract every strategy keeps, and [`BalancerExt`], the
//! generic path a service routes every request through.

use std::fmt;
use std::sync::Arc;

use crate::{Error, Fleet, Key, KeyHasher, Lease, PickError, Server};

/// The most candidates a fail-over walk ([`BalancerExt::select_with`],
/// [`BalancerExt::acquire_with`]) offers.
pub const MAX_CANDIDATES: usize = 64;

/// Chooses a server for each request.
///
/// Every strategy of the crate implements it, and it is usable as `dyn Balancer`, so a
/// service can choose its strategy from configuration (see also
/// [`AnyBalancer`](crate::AnyBalancer)). A strategy provides two methods: its
/// [`fleet`](Balancer::fleet) and its [`pick_hash`](Balancer::pick_hash); look-ups, health
/// flags, leases and ranked candidates come from the trait. Services use the generic
/// methods of [`BalancerExt`], which every balancer, `dyn` included, gets for free.
///
/// # The contract
///
/// * **Picks are cheap.** [`pick_hash`](Balancer::pick_hash) and
///   [`acquire_hash`](Balancer::acquire_hash) allocate nothing, do no I/O and take no lock.
/// * **Hash strategies are deterministic.** The same key and the same membership (ids,
///   weights, options) give the same server in every process, on every machine, in every
///   release; each strategy's docs write down how.
/// * **Health.** [`set_healthy`](Balancer::set_healthy) works through `&self` from any thread,
///   costs O(1), rebuilds nothing and holds from the next pick. A pick never returns an
///   unhealthy server while a healthy one exists, and returns [`PickError::NoHealthyServer`]
///   when none is healthy ([`PickError::NoServers`] when the fleet is empty). For hash
///   strategies, marking a server unhealthy moves only the keys it held, and marking it
///   healthy again brings exactly those keys back.
/// * **Draining.** A draining server ([`Server::set_draining`]) is passed by as an unhealthy
///   one is (its keys move as if it were down, and back when the drain ends), while its
///   health stays as it is and its leases run to their end. Picks hand out *available*
///   servers: healthy and not draining.
/// * **Leases count.** [`acquire_hash`](Balancer::acquire_hash) counts the request in flight
///   on the chosen server until its [`Lease`] drops, for every strategy, so load-aware
///   strategies see the load whichever way they are reached.
/// * **Results are lent.** A pick returns a reference into the balancer; clone the
///   [`Server`] (cheap: it is reference-counted) to keep it longer.
///
/// Health lives in each [`Server`]'s shared cells, so flipping a server through one balancer
/// reaches every balancer that holds a clone of it.
pub trait Balancer: fmt::Debug + Send + Sync {
    /// The servers, in the strategy's order (the order that indices refer to).
    fn fleet(&self) -> &Fleet;

    /// Picks the server for a key whose 64-bit hash the caller already holds, without
    /// counting a request on it.
    ///
    /// Strategies that ignore keys ignore `hash` too.
    fn pick_hash(&self, hash: u64) -> Result<&Server, PickError>;

    /// Picks as [`pick_hash`](Balancer::pick_hash) does and counts a request in flight on the
    /// server until the returned [`Lease`] is dropped. Strategies with capacities or caps
    /// check and count in one step, so racing callers cannot overfill a server.
    #[inline]
    fn acquire_hash(&self, hash: u64) -> Result<Lease<'_>, PickError> {
        self.pick_hash(hash).map(Lease::begin)
    }

    /// As [`acquire_hash`](Balancer::acquire_hash), on the first of the ranked candidates
    /// that `accept` takes, at most [`MAX_CANDIDATES`] of them: a retry that must not go back
    /// to a server it already tried.
    ///
    /// Errors: the pick's error when there is no candidate, [`PickError::NoneAccepted`] when
    /// `accept` turned every one down.
    fn acquire_hash_with(
        &self,
        hash: u64,
        accept: &mut dyn FnMut(&Server) -> bool,
    ) -> Result<Lease<'_>, PickError> {
        select_hash(self, hash, MAX_CANDIDATES, accept).map(Lease::begin)
    }

    /// Counts a request in flight on the server with this id, a server the caller chose itself
    /// (a sticky session's, a retry's), as a pick of it would: only if it takes new requests
    /// (healthy, not draining) and has room (under its [capacity](Server::capacity), if it
    /// has one, and under bounded loads' cap, whose count of leases takes it in). `None` when
    /// it cannot take the request, or no server has the id.
    ///
    /// ```
    /// use loadring::{Balancer, FillFirst, Server};
    ///
    /// let ff = FillFirst::new([Server::new("a").with_capacity(1), Server::new("b").with_capacity(1)])?;
    /// let lease = ff.acquire_server("b").expect("room on b");
    /// assert_eq!(lease.id(), "b");
    /// assert!(ff.acquire_server("b").is_none()); // full
    /// assert!(ff.acquire_server("nobody").is_none());
    /// # Ok::<(), loadring::Error>(())
    /// ```
    fn acquire_server(&self, id: &str) -> Option<Lease<'_>> {
        let server = self.server(id).filter(|s| s.is_available())?;
        match server.capacity() {
            Some(capacity) => Lease::try_begin(server, capacity),
            None => Some(Lease::begin(server)),
        }
    }

    /// Writes the indices (into [`servers`](Balancer::servers)) of distinct healthy servers in
    /// the strategy's order of preference for `hash`, at most `out.len()`, and returns how many
    /// it wrote. The first is the server [`pick_hash`](Balancer::pick_hash) returns; the rest
    /// are where that key would go if the ones before failed, so a caller can fail over or
    /// place replicas.
    ///
    /// The default walks the servers in order from the picked one.
    fn candidates_hash(&self, hash: u64, out: &mut [usize]) -> usize {
        let fleet = self.fleet();
        let Ok(picked) = self.pick_hash(hash) else {
            return 0;
        };
        let start = fleet.position(picked.id()).unwrap_or(0);
        let n = fleet.len();
        fleet.ranked((0..n).map(|step| (start + step) % n), out)
    }

    /// The hash function this balancer applies to keys; strategies that ignore keys keep the
    /// default XXH3.
    fn hasher(&self) -> &KeyHasher {
        &KeyHasher::Xxh3
    }

    /// The servers, in the strategy's order (the order that indices refer to).
    #[inline]
    fn servers(&self) -> &[Server] {
        self.fleet().servers()
    }

    /// The index of the server with this id, in O(1).
    #[inline]
    fn position(&self, id: &str) -> Option<usize> {
        self.fleet().position(id)
    }

    /// The server with this id.
    #[inline]
    fn server(&self, id: &str) -> Option<&Server> {
        self.fleet().get(id)
    }

    /// Marks a server healthy or unhealthy; visible to the next pick in every thread.
    ///
    /// An id the balancer does not hold is an [`Error::UnknownServer`].
    fn set_healthy(&self, id: &str, healthy: bool) -> Result<(), Error> {
        self.server(id)
            .ok_or_else(|| Error::unknown(id))?
            .set_healthy(healthy);
        Ok(())
    }

    /// Whether a server is healthy; an unknown id is an [`Error::UnknownServer`].
    fn is_healthy(&self, id: &str) -> Result<bool, Error> {
        self.server(id)
            .map(Server::is_healthy)
            .ok_or_else(|| Error::unknown(id))
    }

    /// Records a load figure for a server (see [`Server::report_load`]).
    ///
    /// Errors: [`Error::UnknownServer`], [`Error::InvalidLoad`].
    fn report_load(&self, id: &str, load: f64) -> Result<(), Error> {
        self.server(id)
            .ok_or_else(|| Error::unknown(id))?
            .report_load(load)
    }

    /// How many servers are healthy now (a scan of the servers); draining ones count if
    /// healthy.
    fn healthy_count(&self) -> usize {
        self.fleet().healthy_count()
    }

    /// How many servers take new requests now: healthy and not draining (a scan).
    fn available_count(&self) -> usize {
        self.fleet().available_count()
    }

    /// Sets the panic threshold (Envoy's): while fewer than `share` of the servers that are
    /// not draining are healthy, picks ignore health and spread over all of them, instead of
    /// piling the whole load onto the few survivors. 0 (the default) turns it off; updates
    /// keep it. A pick pays for it only when its first choice is unavailable.
    ///
    /// Through [`Shared`](crate::Shared), use its own
    /// [`set_panic_threshold`](crate::Shared::set_panic_threshold), which no concurrent
    /// update can lose.
    ///
    /// Errors: [`Error::InvalidOption`] for a share outside [0, 1] (NaN included).
    ///
    /// ```
    /// use loadring::{Balancer, BalancerExt, RoundRobin};
    ///
    /// let rr = RoundRobin::new((0..10).map(|i| format!("s{i}")))?;
    /// rr.set_panic_threshold(0.5)?;
    /// for i in 1..10 {
    ///     rr.set_healthy(&format!("s{i}"), false)?; // 1 of 10 left: too few
    /// }
    /// assert!(rr.in_panic());
    /// assert_eq!(rr.next()?.id(), "s0");
    /// assert_eq!(rr.next()?.id(), "s1"); // unhealthy, but the load spreads over all ten
    /// # Ok::<(), loadring::Error>(())
    /// ```
    fn set_panic_threshold(&self, share: f64) -> Result<(), Error> {
        self.fleet().panic_gate().set_threshold(share)
    }

    /// The panic threshold, a share in [0, 1]; 0 is off.
    fn panic_threshold(&self) -> f64 {
        self.fleet().panic_gate().threshold()
    }

    /// Whether picks ignore health now because too few servers are healthy (see
    /// [`set_panic_threshold`](Balancer::set_panic_threshold)).
    fn in_panic(&self) -> bool {
        self.fleet().in_panic()
    }

    /// How many servers the balancer holds.
    #[inline]
    fn len(&self) -> usize {
        self.fleet().len()
    }

    /// Whether the balancer holds no servers.
    #[inline]
    fn is_empty(&self) -> bool {
        self.fleet().is_empty()
    }
}

/// The first of at most `max` ranked candidates for `hash` that `accept` takes.
pub(crate) fn select_hash<'b, B: Balancer + ?Sized>(
    b: &'b B,
    hash: u64,
    max: usize,
    accept: &mut dyn FnMut(&Server) -> bool,
) -> Result<&'b Server, PickError> {
    let mut buf = [0usize; MAX_CANDIDATES];
    let max = max.clamp(1, MAX_CANDIDATES);
    let n = b.candidates_hash(hash, &mut buf[..max]);
    if n == 0 {
        // No candidate: the pick says why (no servers, none healthy, all saturated).
        return Err(b
            .pick_hash(hash)
            .err()
            .unwrap_or(PickError::NoHealthyServer));
    }
    let servers = b.servers();
    buf[..n]
        .iter()
        .map(|&i| &servers[i])
        .find(|s| accept(s))
        .ok_or(PickError::NoneAccepted { tried: n })
}

/// The generic path over any [`Balancer`], `dyn Balancer` included: picks and leases by
/// [`Key`], key-free picks, ranked fail-over.
///
/// A service that chooses its strategy from configuration routes every request with
/// [`acquire`](BalancerExt::acquire) and keeps the lease while the request runs: hash
/// strategies go by the key, key-free ones ignore it, and load-aware ones count it.
///
/// ```
/// use loadring::{Balancer, BalancerExt, HashRing, LeastLoaded};
///
/// let ring = HashRing::new(["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"])?;
/// let least = LeastLoaded::new(["10.0.0.1:80", "10.0.0.2:80"])?;
/// for balancer in [&ring as &dyn Balancer, &least] {
///     let lease = balancer.acquire("user-42")?; // counted until dropped
///     println!("user-42 -> {}", lease.id());
/// }
///
/// // Ranked fail-over: the first candidate is the pick, the others where the key goes next.
/// let ranked = ring.candidates("user-42", 3);
/// assert_eq!(ranked[0].id(), ring.pick("user-42")?.id());
/// // A retry that skips the server that just failed.
/// let retry = ring.acquire_with("user-42", |s| s.id() != ranked[0].id())?;
/// assert_eq!(retry.id(), ranked[1].id());
/// # Ok::<(), loadring::Error>(())
/// ```
pub trait BalancerExt: Balancer {
    /// Picks the server for `key`, hashed with the balancer's [`KeyHasher`], without counting
    /// a request (pure hash routing; see [`acquire`](BalancerExt::acquire)).
    #[inline]
    fn pick<K: Key + ?Sized>(&self, key: &K) -> Result<&Server, PickError> {
        self.pick_hash(key.hash_with(self.hasher()))
    }

    /// Picks without a key: the next server of a key-free strategy (a hash strategy takes
    /// the key whose hash is 0).
    #[inline]
    fn next(&self) -> Result<&Server, PickError> {
        self.pick_hash(0)
    }

    /// Picks the server for `key` and counts the request in flight on it until the lease
    /// drops: the one call that serves every strategy.
    #[inline]
    fn acquire<K: Key + ?Sized>(&self, key: &K) -> Result<Lease<'_>, PickError> {
        self.acquire_hash(key.hash_with(self.hasher()))
    }

    /// [`acquire`](BalancerExt::acquire) without a key, for key-free strategies.
    #[inline]
    fn acquire_next(&self) -> Result<Lease<'_>, PickError> {
        self.acquire_hash(0)
    }

    /// [`acquire`](BalancerExt::acquire) on the first ranked candidate that `accept` takes
    /// (see [`Balancer::acquire_hash_with`]).
    fn acquire_with<K, F>(&self, key: &K, mut accept: F) -> Result<Lease<'_>, PickError>
    where
        K: Key + ?Sized,
        F: FnMut(&Server) -> bool,
    {
        self.acquire_hash_with(key.hash_with(self.hasher()), &mut accept)
    }

    /// Up to `max` distinct healthy servers for `key`, best first (see
    /// [`Balancer::candidates_hash`]). Allocates the returned `Vec`.
    fn candidates<K: Key + ?Sized>(&self, key: &K, max: usize) -> Vec<&Server> {
        let mut out = vec![0; max.min(self.len())];
        let n = self.candidates_hash(key.hash_with(self.hasher()), &mut out);
        out[..n].iter().map(|&i| &self.servers()[i]).collect()
    }

    /// The first of at most `max_iterations` ranked candidates for `key` that `accept` takes;
    /// allocates nothing. The count is clamped to `1..=`[`MAX_CANDIDATES`]: the pick itself is
    /// always offered.
    ///
    /// Errors: the pick's error when there is no candidate ([`PickError::NoHealthyServer`],
    /// [`PickError::Saturated`], …), [`PickError::NoneAccepted`] when `accept` turned every
    /// candidate down.
    fn select_with<K, F>(
        &self,
        key: &K,
        max_iterations: usize,
        mut accept: F,
    ) -> Result<&Server, PickError>
    where
        K: Key + ?Sized,
        F: FnMut(&Server) -> bool,
    {
        select_hash(
            self,
            key.hash_with(self.hasher()),
            max_iterations,
            &mut accept,
        )
    }
}

impl<B: Balancer + ?Sized> BalancerExt for B {}

macro_rules! forward_balancer {
    ($($ptr:ident),*) => {$(
        /// Forwards every method to the balancer behind the pointer.
        impl<B: Balancer + ?Sized> Balancer for $ptr<B> {
            #[inline]
            fn fleet(&self) -> &Fleet {
                (**self).fleet()
            }

            #[inline]
            fn pick_hash(&self, hash: u64) -> Result<&Server, PickError> {
                (**self).pick_hash(hash)
            }

            #[inline]
            fn acquire_hash(&self, hash: u64) -> Result<Lease<'_>, PickError> {
                (**self).acquire_hash(hash)
            }

            fn acquire_hash_with(
                &self,
                hash: u64,
                accept: &mut dyn FnMut(&Server) -> bool,
            ) -> Result<Lease<'_>, PickError> {
                (**self).acquire_hash_with(hash, accept)
            }

            fn candidates_hash(&self, hash: u64, out: &mut [usize]) -> usize {
                (**self).candidates_hash(hash, out)
            }

            fn acquire_server(&self, id: &str) -> Option<Lease<'_>> {
                (**self).acquire_server(id)
            }

            fn hasher(&self) -> &KeyHasher {
                (**self).hasher()
            }
        }
    )*};
}

forward_balancer!(Box, Arc);
