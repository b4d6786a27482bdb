//! The [`Balancer`] trait: the contract every strategy keeps.

use std::fmt;

use crate::{Error, Key, KeyHasher, Server};

/// The most candidates [`BalancerExt::select_with`] walks.
pub const MAX_CANDIDATES: usize = 64;

/// Chooses a server for each request.
///
/// Every strategy of the crate implements it, and it is usable as `dyn Balancer`, so a
/// service can choose its strategy from configuration. The generic conveniences
/// ([`pick`](BalancerExt::pick) with any [`Key`], …) live in [`BalancerExt`], which every
/// balancer, `dyn` included, gets for free.
///
/// # The contract
///
/// * **Picks are cheap.** [`pick_hash`](Balancer::pick_hash) allocates nothing, does no I/O
///   and takes no lock that a writer can hold.
/// * **Hash strategies are deterministic.** The same key and the same membership (ids,
///   weights, options) give the same server in every process, on every machine, in every
///   release; each strategy's docs write down how.
/// * **Health.** [`set_healthy`](Balancer::set_healthy) works through `&self` from any thread,
///   costs O(1), rebuilds nothing and holds from the next pick. A pick never returns an
///   unhealthy server while a healthy one exists, and returns [`Error::NoHealthyServer`] when
///   none is healthy. For hash strategies, marking a server unhealthy moves only the keys it
///   held, and marking it healthy again brings exactly those keys back.
/// * **Results are lent.** A pick returns a reference into the balancer; clone the
///   [`Server`] (cheap: it is reference-counted) to keep it longer.
///
/// Health lives in each [`Server`]'s shared cells, so flipping a server through one balancer
/// reaches every balancer that holds a clone of it.
pub trait Balancer: fmt::Debug + Send + Sync {
    /// Picks the server for a key whose 64-bit hash the caller already holds.
    ///
    /// Strategies that ignore keys ignore `hash` too.
    fn pick_hash(&self, hash: u64) -> Result<&Server, Error>;

    /// Writes the indices (into [`servers`](Balancer::servers)) of distinct healthy servers in
    /// the strategy's order of preference for `hash`, at most `out.len()`, and returns how many
    /// it wrote. The first is the server [`pick_hash`](Balancer::pick_hash) returns; the rest
    /// are where that key would go if the ones before failed, so a caller can fail over or
    /// place replicas.
    ///
    /// The default walks the servers in order from the picked one.
    fn candidates_hash(&self, hash: u64, out: &mut [usize]) -> usize {
        let Some(first) = out.first_mut() else {
            return 0;
        };
        let Ok(picked) = self.pick_hash(hash) else {
            return 0;
        };
        let servers = self.servers();
        let start = self.position(picked.id()).unwrap_or(0);
        *first = start;
        let mut n = 1;
        for step in 1..servers.len() {
            if n == out.len() {
                break;
            }
            let i = (start + step) % servers.len();
            if servers[i].is_healthy() {
                out[n] = i;
                n += 1;
            }
        }
        n
    }

    /// The servers, in the strategy's order (the order that indices refer to).
    fn servers(&self) -> &[Server];

    /// The index of the server with this id, in O(1).
    fn position(&self, id: &str) -> Option<usize>;

    /// The hash function this balancer applies to keys.
    fn hasher(&self) -> &KeyHasher;

    /// The server with this id.
    fn server(&self, id: &str) -> Option<&Server> {
        self.position(id).map(|i| &self.servers()[i])
    }

    /// Marks a server healthy or unhealthy; visible to the next pick in every thread.
    ///
    /// An id the balancer does not hold is an [`Error::UnknownServer`].
    fn set_healthy(&self, id: &str, healthy: bool) -> Result<(), Error> {
        self.server(id)
            .ok_or_else(|| Error::UnknownServer { id: id.into() })?
            .set_healthy(healthy);
        Ok(())
    }

    /// Whether a server is healthy; an unknown id is an [`Error::UnknownServer`].
    fn is_healthy(&self, id: &str) -> Result<bool, Error> {
        self.server(id)
            .map(Server::is_healthy)
            .ok_or_else(|| Error::UnknownServer { id: id.into() })
    }

    /// How many servers are healthy now (a scan of the servers).
    fn healthy_count(&self) -> usize {
        self.servers().iter().filter(|s| s.is_healthy()).count()
    }

    /// How many servers the balancer holds.
    fn len(&self) -> usize {
        self.servers().len()
    }

    /// Whether the balancer holds no servers.
    fn is_empty(&self) -> bool {
        self.servers().is_empty()
    }
}

/// Conveniences over any [`Balancer`], `dyn Balancer` included: picks by [`Key`].
///
/// ```
/// use loadring::{Balancer, BalancerExt, HashRing};
///
/// let ring = HashRing::new(["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"])?;
/// let balancer: &dyn Balancer = &ring;
/// let server = balancer.pick("user-42")?;
/// assert_eq!(server.id(), ring.pick("user-42")?.id());
///
/// // Ranked fail-over: the first candidate is the pick, the others where the key goes next.
/// let ranked = ring.candidates("user-42", 3);
/// assert_eq!(ranked[0].id(), server.id());
/// assert_eq!(ranked.len(), 3);
/// # Ok::<(), loadring::Error>(())
/// ```
pub trait BalancerExt: Balancer {
    /// Picks the server for `key`, hashed with the balancer's [`KeyHasher`].
    #[inline]
    fn pick<K: Key + ?Sized>(&self, key: &K) -> Result<&Server, Error> {
        self.pick_hash(key.hash_with(self.hasher()))
    }

    /// Up to `max` distinct healthy servers for `key`, best first (see
    /// [`Balancer::candidates_hash`]). Allocates the returned `Vec`.
    fn candidates<K: Key + ?Sized>(&self, key: &K, max: usize) -> Vec<&Server> {
        let mut out = vec![0; max.min(self.len())];
        let n = self.candidates_hash(key.hash_with(self.hasher()), &mut out);
        out[..n].iter().map(|&i| &self.servers()[i]).collect()
    }

    /// The first of at most `max_iterations` ranked candidates for `key` that `accept` takes
    /// (at most [`MAX_CANDIDATES`]); allocates nothing.
    ///
    /// Errors: the pick's error when there is no candidate ([`Error::NoHealthyServer`],
    /// [`Error::Saturated`], …), [`Error::NoneAccepted`] when `accept` turned every candidate
    /// down.
    fn select_with<K, F>(
        &self,
        key: &K,
        max_iterations: usize,
        mut accept: F,
    ) -> Result<&Server, Error>
    where
        K: Key + ?Sized,
        F: FnMut(&Server) -> bool,
    {
        let mut buf = [0usize; MAX_CANDIDATES];
        let max = max_iterations.min(MAX_CANDIDATES);
        let hash = key.hash_with(self.hasher());
        let n = self.candidates_hash(hash, &mut buf[..max]);
        if n == 0 && max > 0 {
            // No candidate: the pick says why (no healthy server, all saturated, …).
            return self.pick_hash(hash).and(Err(Error::NoHealthyServer));
        }
        buf[..n]
            .iter()
            .map(|&i| &self.servers()[i])
            .find(|s| accept(s))
            .ok_or(Error::NoneAccepted { tried: n })
    }
}

impl<B: Balancer + ?Sized> BalancerExt for B {}
