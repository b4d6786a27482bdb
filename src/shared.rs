//! A live balancer that many threads pick from while the fleet changes.

use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::{ArcSwap, Cache, Guard};

use crate::{Acquire, Balancer, Error, HashRing, Key, Lease, Modulo, Server};

/// A strategy that can be built again over other servers with the same options, so its
/// membership can change.
///
/// [`rebuild`](Rebuild::rebuild) is the one required method; [`add`](Rebuild::add),
/// [`remove`](Rebuild::remove) and [`set_weight`](Rebuild::set_weight) default to a rebuild
/// over the changed list, and strategies with cheaper updates (such as [`HashRing`]) override
/// them. The servers that stay are the same [`Server`] clones, so their health, requests in
/// flight and reported loads carry over.
///
/// ```
/// use loadring::{Balancer, Rebuild, RoundRobin, Server};
///
/// let mut rr = RoundRobin::new(["a", "b"])?;
/// rr.set_healthy("b", false)?;
/// rr.add(Server::new("c").with_weight(2))?;
/// rr.remove("a")?;
/// assert_eq!(rr.len(), 2);
/// assert!(!rr.is_healthy("b")?); // b's health cell came along
/// # Ok::<(), loadring::Error>(())
/// ```
pub trait Rebuild: Balancer + Clone {
    /// The same strategy with the same options over `servers`, keeping whatever running
    /// state the strategy carries (a rotation's step, a random sequence).
    ///
    /// Errors as the strategy's constructor.
    fn rebuild(&self, servers: Vec<Server>) -> Result<Self, Error>;

    /// Adds a server.
    ///
    /// Errors: [`Error::DuplicateServer`], [`Error::ZeroWeight`], and those of the strategy.
    fn add(&mut self, server: Server) -> Result<(), Error> {
        let mut list = self.servers().to_vec();
        list.push(server);
        *self = self.rebuild(list)?;
        Ok(())
    }

    /// Removes the server with this id and returns it.
    ///
    /// Errors: [`Error::UnknownServer`]; [`Error::NoServers`] for the last server.
    fn remove(&mut self, id: &str) -> Result<Server, Error> {
        let i = self
            .position(id)
            .ok_or_else(|| Error::UnknownServer { id: id.into() })?;
        if self.len() == 1 {
            return Err(Error::NoServers);
        }
        let mut list = self.servers().to_vec();
        let gone = list.remove(i);
        *self = self.rebuild(list)?;
        Ok(gone)
    }

    /// Changes a server's weight, keeping its cells.
    ///
    /// Errors: [`Error::UnknownServer`], [`Error::ZeroWeight`], and those of the strategy.
    fn set_weight(&mut self, id: &str, weight: u32) -> Result<(), Error> {
        let i = self
            .position(id)
            .ok_or_else(|| Error::UnknownServer { id: id.into() })?;
        let mut list = self.servers().to_vec();
        list[i] = list[i].clone().with_weight(weight);
        *self = self.rebuild(list)?;
        Ok(())
    }
}

impl Rebuild for HashRing {
    fn rebuild(&self, servers: Vec<Server>) -> Result<Self, Error> {
        Ok(HashRing::with_options(servers, self.options())?.with_hasher(*self.hasher()))
    }

    fn add(&mut self, server: Server) -> Result<(), Error> {
        HashRing::add(self, server)
    }

    fn remove(&mut self, id: &str) -> Result<Server, Error> {
        HashRing::remove(self, id)
    }

    fn set_weight(&mut self, id: &str, weight: u32) -> Result<(), Error> {
        HashRing::set_weight(self, id, weight)
    }
}

impl Rebuild for Modulo {
    fn rebuild(&self, servers: Vec<Server>) -> Result<Self, Error> {
        Ok(Modulo::new(servers)?.with_hasher(*self.hasher()))
    }
}

/// A balancer that many threads pick from while others add, remove and reweight servers
/// and flip their health.
///
/// Picks read an immutable snapshot of the balancer; a change clones the current snapshot,
/// changes the clone and swaps it in. Readers never wait for a writer: taking a snapshot is
/// a few atomic operations on a slot of the reading thread's own, with no lock and no write
/// to a cache line that other readers share (the `arc-swap` crate), so picks scale across
/// cores and a slow rebuild delays nobody but the writers, who take turns. A read-write lock
/// would make every pick write the lock's shared reader count, and would stall picks behind
/// a waiting writer.
///
/// Guarantees:
///
/// * A pick that starts after [`remove`](Shared::remove) returned never returns the removed
///   server (a snapshot taken before may, as a request in flight may still run on it).
/// * Servers that stay are the same [`Server`] clones, so their health, requests in flight
///   and reported loads survive every change; [`set_healthy`](Shared::set_healthy) is O(1)
///   and swaps nothing.
/// * A [`Lease`](crate::Lease) taken before a change holds its server's cells and releases
///   them correctly after it, even when its server was removed.
///
/// Works with every strategy that implements [`Rebuild`]; [`Shared::store`] replaces the
/// balancer wholesale for any [`Balancer`].
///
/// [`load`](Shared::load) costs about a dozen nanoseconds (a few atomic operations on the
/// thread's own slot); a thread that picks in a loop can keep a [`Reader`] instead, whose
/// `load` is one atomic read while the fleet stays as it is.
///
/// ```
/// use loadring::{Balancer, BalancerExt, HashRing, LeastLoaded, Shared};
///
/// let shared = Shared::new(HashRing::new(["10.0.0.1:80", "10.0.0.2:80"])?);
/// std::thread::scope(|s| {
///     s.spawn(|| shared.add("10.0.0.3:80".into()));
///     for _ in 0..100 {
///         let snapshot = shared.load();
///         let server = snapshot.pick("user-42").expect("a server");
///         assert!(server.is_healthy());
///     }
/// });
/// assert_eq!(shared.load().len(), 3);
/// let gone = shared.remove("10.0.0.3:80")?;
/// assert_ne!(shared.pick("user-42")?.id(), gone.id());
///
/// // Its leases hold a clone of their server, so they outlive any change.
/// let pool = Shared::new(LeastLoaded::new(["a", "b"])?);
/// let lease = pool.acquire()?;
/// pool.remove(lease.id())?;
/// assert_eq!(lease.in_flight(), 1);
/// drop(lease);
/// # Ok::<(), loadring::Error>(())
/// ```
pub struct Shared<B> {
    current: ArcSwap<B>,
    /// Writers take turns, so that no change is lost between a clone and its swap.
    writer: Mutex<()>,
}

/// A snapshot of a [`Shared`] balancer; it dereferences to the balancer.
///
/// Pick from it for as long as a request needs a consistent view (a pick and its fail-over
/// candidates), then drop it: a live snapshot keeps its version of the balancer in memory.
pub struct Snapshot<B>(Guard<Arc<B>>);

impl<B> Deref for Snapshot<B> {
    type Target = B;

    #[inline]
    fn deref(&self) -> &B {
        &self.0
    }
}

impl<B: fmt::Debug> fmt::Debug for Snapshot<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Snapshot").field(&**self).finish()
    }
}

/// One thread's reader of a [`Shared`] balancer: it keeps the snapshot it last saw, and each
/// [`load`](Reader::load) only checks, with one atomic read, that the snapshot is still the
/// current one; it takes the new one when it is not.
///
/// Cheaper than [`Shared::load`] (no write at all while the fleet stays as it is) for threads
/// that pick in a loop. The snapshot it keeps stays in memory until its next `load`, and a
/// removed server is never returned by a pick from a `load` that starts after the removal
/// returned, as with [`Shared::load`].
///
/// ```
/// use loadring::{Balancer, BalancerExt, HashRing, Shared};
///
/// let shared = Shared::new(HashRing::new(["a", "b"])?);
/// let mut reader = shared.reader();
/// assert_eq!(reader.load().len(), 2);
/// shared.remove("b")?;
/// assert_eq!(reader.load().pick("key")?.id(), "a");
/// # Ok::<(), loadring::Error>(())
/// ```
pub struct Reader<'a, B> {
    cache: Cache<&'a ArcSwap<B>, Arc<B>>,
}

impl<B> Reader<'_, B> {
    /// The current balancer, to pick from.
    #[inline]
    pub fn load(&mut self) -> &B {
        self.cache.load()
    }
}

impl<B: fmt::Debug> fmt::Debug for Reader<'_, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reader")
            .field("current", &self.cache.arc_swap().load())
            .finish()
    }
}

impl<B: fmt::Debug> fmt::Debug for Shared<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("current", &Snapshot(self.current.load()))
            .finish()
    }
}

impl<B: Balancer> Shared<B> {
    /// Shares `balancer`.
    pub fn new(balancer: B) -> Self {
        Shared {
            current: ArcSwap::from_pointee(balancer),
            writer: Mutex::new(()),
        }
    }

    /// The current balancer, to pick from; never waits for a writer.
    #[inline]
    pub fn load(&self) -> Snapshot<B> {
        Snapshot(self.current.load())
    }

    /// A reader for one thread that picks in a loop (see [`Reader`]).
    pub fn reader(&self) -> Reader<'_, B> {
        Reader {
            cache: Cache::new(&self.current),
        }
    }

    /// Picks the server for `key` from the current balancer and returns a clone of it (cheap:
    /// two reference counts). Pick from [`load`](Shared::load) to borrow instead.
    #[inline]
    pub fn pick<K: Key + ?Sized>(&self, key: &K) -> Result<Server, Error> {
        let snapshot = self.current.load();
        let hash = key.hash_with(snapshot.hasher());
        snapshot.pick_hash(hash).cloned()
    }

    /// Marks a server healthy or unhealthy, in O(1) and without a swap.
    ///
    /// Errors: [`Error::UnknownServer`].
    pub fn set_healthy(&self, id: &str, healthy: bool) -> Result<(), Error> {
        self.current.load().set_healthy(id, healthy)
    }

    /// Records a load figure for a server.
    ///
    /// Errors: [`Error::UnknownServer`], [`Error::InvalidLoad`].
    pub fn report_load(&self, id: &str, load: f64) -> Result<(), Error> {
        self.current
            .load()
            .server(id)
            .ok_or_else(|| Error::UnknownServer { id: id.into() })?
            .report_load(load)
    }

    /// Replaces the balancer wholesale (a new configuration, another strategy's build).
    pub fn store(&self, balancer: B) {
        let _turn = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        self.current.store(Arc::new(balancer));
    }

    /// Changes a clone of the current balancer with `change` and swaps it in if `change`
    /// succeeds; on an error the balancer stays as it was.
    pub fn update<R>(&self, change: impl FnOnce(&mut B) -> Result<R, Error>) -> Result<R, Error>
    where
        B: Clone,
    {
        // A panicking `change` only ever touched a clone, so a poisoned turn is safe to take.
        let _turn = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let mut next = B::clone(&self.current.load());
        let out = change(&mut next)?;
        self.current.store(Arc::new(next));
        Ok(out)
    }
}

impl<B: Acquire> Shared<B> {
    /// Takes a lease from the current balancer (see [`Acquire`]); the lease holds a clone of
    /// its server, so it outlives every change to the fleet.
    #[inline]
    pub fn acquire(&self) -> Result<Lease<'static>, Error> {
        self.current.load().acquire().map(Lease::into_owned)
    }
}

impl<B: Rebuild> Shared<B> {
    /// Adds a server (see [`Rebuild::add`]).
    pub fn add(&self, server: Server) -> Result<(), Error> {
        self.update(|b| b.add(server))
    }

    /// Removes a server and returns it (see [`Rebuild::remove`]); no pick that starts after
    /// this returns will return it.
    pub fn remove(&self, id: &str) -> Result<Server, Error> {
        self.update(|b| b.remove(id))
    }

    /// Changes a server's weight (see [`Rebuild::set_weight`]).
    pub fn set_weight(&self, id: &str, weight: u32) -> Result<(), Error> {
        self.update(|b| b.set_weight(id, weight))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BalancerExt, FillFirst, LeastLoaded, RoundRobin};

    fn ids(b: &dyn Balancer) -> Vec<&str> {
        b.servers().iter().map(Server::id).collect()
    }

    #[test]
    fn default_updates_equal_a_fresh_build() {
        let mut m = Modulo::new(["a", "b", "c"]).unwrap();
        m.add(Server::new("d").with_weight(2)).unwrap();
        m.remove("b").unwrap();
        m.set_weight("a", 3).unwrap();
        let fresh = Modulo::new([
            Server::new("a").with_weight(3),
            Server::new("c"),
            Server::new("d").with_weight(2),
        ])
        .unwrap();
        for k in 0..1000u32 {
            assert_eq!(m.pick(&k).unwrap().id(), fresh.pick(&k).unwrap().id());
        }
        assert_eq!(
            m.remove("zz").unwrap_err(),
            Error::UnknownServer { id: "zz".into() }
        );
        assert_eq!(
            m.set_weight("a", 0).unwrap_err(),
            Error::ZeroWeight { id: "a".into() }
        );
        assert_eq!(
            m.add(Server::new("a")).unwrap_err(),
            Error::DuplicateServer { id: "a".into() }
        );
        assert_eq!(
            ids(&m),
            ["a", "c", "d"],
            "failed changes leave it as it was"
        );
    }

    #[test]
    fn the_last_server_stays() {
        let shared = Shared::new(RoundRobin::new(["only"]).unwrap());
        assert_eq!(shared.remove("only").unwrap_err(), Error::NoServers);
        assert_eq!(shared.pick("any").unwrap().id(), "only");
    }

    #[test]
    fn cells_survive_changes_for_every_strategy() {
        fn check<B: Rebuild>(b: B) {
            let shared = Shared::new(b);
            let before = shared.load().server("s1").unwrap().clone();
            shared.set_healthy("s1", false).unwrap();
            shared.report_load("s1", 2.5).unwrap();
            shared.add(Server::new("new").with_capacity(4)).unwrap();
            shared.remove("s0").unwrap();
            shared.set_weight("s1", 3).unwrap();
            let now = shared.load();
            let s1 = now.server("s1").unwrap();
            assert!(s1.shares_state_with(&before));
            assert_eq!((s1.is_healthy(), s1.load(), s1.weight()), (false, 2.5, 3));
            assert!(now.server("s0").is_none());
            assert!(ids(&*now).contains(&"new"));
            assert_eq!(
                shared.report_load("s1", f64::NAN).unwrap_err().to_string(),
                "load NaN is not a finite, non-negative number"
            );
        }
        let servers = || (0..4).map(|i| Server::new(format!("s{i}")).with_capacity(2));
        check(HashRing::new(servers()).unwrap());
        check(Modulo::new(servers()).unwrap());
        check(RoundRobin::new(servers()).unwrap());
        check(LeastLoaded::new(servers()).unwrap());
        check(FillFirst::new(servers()).unwrap());
        check(crate::Jump::new(servers()).unwrap());
        check(crate::Maglev::new(servers()).unwrap());
        check(crate::Rendezvous::new(servers()).unwrap());
        #[cfg(feature = "ketama")]
        check(crate::KetamaRing::new(servers()).unwrap());
    }

    #[test]
    fn a_lease_outlives_the_removal_of_its_server() {
        let shared = Shared::new(
            FillFirst::new([
                Server::new("a").with_capacity(1),
                Server::new("b").with_capacity(1),
            ])
            .unwrap(),
        );
        let lease = shared.acquire().unwrap();
        let a = shared.remove("a").unwrap();
        assert_eq!((lease.id(), a.in_flight()), ("a", 1));
        shared.add(a.clone()).unwrap(); // back last, with the same cells: still full
        let on_b = shared.acquire().unwrap();
        assert_eq!(on_b.id(), "b");
        assert_eq!(shared.acquire().unwrap_err(), Error::Saturated);
        drop(lease);
        assert_eq!(a.in_flight(), 0);
        assert_eq!(shared.acquire().unwrap().id(), "a");
    }
}
