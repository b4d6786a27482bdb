//! A live balancer that many threads pick from while the fleet changes.

use crate::sync::{ArcSwap, Cache, Loaded, Mutex, MutexGuard};
use std::cell::RefCell;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use crate::{
    Balancer, BalancerExt, Error, Key, Lease, PickError, Server, SyncOptions, SyncReport, Update,
};

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
/// Its picking methods ([`acquire`](Shared::acquire), [`pick`](Shared::pick),
/// [`candidates`](Shared::candidates), …) hand out owned values ([`Lease<'static>`],
/// [`Server`] clones), so they cross an `.await` and outlive any change. To borrow from one
/// consistent view instead, bind a [`snapshot`](Shared::snapshot) to a variable first
/// (`shared.snapshot().pick(k)?` would borrow from a temporary).
///
/// Guarantees:
///
/// * A pick that starts after [`remove`](Shared::remove) returned never returns the removed
///   server (a snapshot taken before may, as a request in flight may still run on it).
/// * Servers that stay are the same [`Server`] clones, so their health, requests in flight
///   and reported loads survive every change; [`set_healthy`](Shared::set_healthy) is O(1)
///   and swaps nothing. State a strategy keeps besides (bounded loads' count of leases, a
///   rotation's step) carries over too.
/// * A [`Lease`] taken before a change holds its server's cells and releases them correctly
///   after it, even when its server was removed.
///
/// Changes work with every strategy ([`Update`]), including one chosen from configuration
/// ([`AnyBalancer`](crate::AnyBalancer)); [`Shared::store`] replaces the balancer wholesale.
///
/// [`snapshot`](Shared::snapshot) costs about a dozen nanoseconds (a few atomic operations on
/// the thread's own slot); a thread that picks in a loop can keep a [`Reader`] instead, whose
/// snapshot costs one atomic read while the fleet stays as it is.
///
/// ```
/// use loadring::{AnyBalancer, Balancer, BalancerExt, HashRing, LeastLoaded, Shared, Strategy};
///
/// let shared = Shared::new(HashRing::new(["10.0.0.1:80", "10.0.0.2:80"])?);
/// std::thread::scope(|s| {
///     s.spawn(|| shared.add("10.0.0.3:80"));
///     for _ in 0..100 {
///         let lease = shared.acquire("user-42").expect("a server");
///         assert!(lease.is_healthy());
///     }
/// });
/// assert_eq!(shared.snapshot().len(), 3);
/// let gone = shared.remove("10.0.0.3:80")?;
/// assert_ne!(shared.pick("user-42")?.id(), gone.id());
///
/// // Its leases hold a clone of their server, so they outlive any change.
/// let pool = Shared::new(LeastLoaded::new(["a", "b"])?);
/// let lease = pool.acquire_next()?;
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
pub struct Snapshot<B>(Loaded<B>);

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
/// [`snapshot`](Reader::snapshot) only checks, with one atomic read, that the snapshot is
/// still the current one; it takes the new one when it is not.
///
/// Cheaper than [`Shared::snapshot`] (no write at all while the fleet stays as it is) for
/// threads that pick in a loop. The snapshot it keeps stays in memory until its next call, and
/// a removed server is never returned by a pick from a snapshot taken after the removal
/// returned, as with [`Shared::snapshot`].
///
/// ```
/// use loadring::{Balancer, BalancerExt, HashRing, Shared};
///
/// let shared = Shared::new(HashRing::new(["a", "b"])?);
/// let mut reader = shared.reader();
/// assert_eq!(reader.snapshot().len(), 2);
/// shared.remove("b")?;
/// assert_eq!(reader.snapshot().pick("key")?.id(), "a");
/// # Ok::<(), loadring::Error>(())
/// ```
pub struct Reader<'a, B> {
    cache: Cache<'a, B>,
}

impl<B> Reader<'_, B> {
    /// The current balancer, to pick from.
    #[inline]
    pub fn snapshot(&mut self) -> &B {
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
    pub fn snapshot(&self) -> Snapshot<B> {
        Snapshot(self.current.load())
    }

    /// A reader for one thread that picks in a loop (see [`Reader`]).
    pub fn reader(&self) -> Reader<'_, B> {
        Reader {
            cache: Cache::new(&self.current),
        }
    }

    /// Picks the server for `key` and returns a clone of it (cheap: two reference counts),
    /// without counting a request; see [`acquire`](Shared::acquire).
    #[inline]
    pub fn pick<K: Key + ?Sized>(&self, key: &K) -> Result<Server, PickError> {
        self.current.load().pick(key).cloned()
    }

    /// Picks without a key (see [`BalancerExt::next`]) and returns a clone of the server.
    #[inline]
    pub fn next(&self) -> Result<Server, PickError> {
        self.current.load().next().cloned()
    }

    /// Picks the server for `key` and counts a request in flight on it until the lease drops
    /// (see [`BalancerExt::acquire`]). The lease holds a clone of its server, so it outlives
    /// every change to the fleet and can cross an `.await`.
    #[inline]
    pub fn acquire<K: Key + ?Sized>(&self, key: &K) -> Result<Lease<'static>, PickError> {
        self.current.load().acquire(key).map(Lease::into_owned)
    }

    /// [`acquire`](Shared::acquire) without a key, for key-free strategies.
    #[inline]
    pub fn acquire_next(&self) -> Result<Lease<'static>, PickError> {
        self.current.load().acquire_next().map(Lease::into_owned)
    }

    /// [`acquire`](Shared::acquire) on the first ranked candidate that `accept` takes: a
    /// retry that skips the servers already tried (see [`Balancer::acquire_hash_with`]).
    ///
    /// ```
    /// use loadring::{LeastLoaded, Shared};
    ///
    /// let pool = Shared::new(LeastLoaded::new(["a", "b", "c"])?);
    /// let mut tried = Vec::new();
    /// for _ in 0..3 {
    ///     let lease = pool.acquire_with("req-1", |s| !tried.contains(&s.id().to_owned()))?;
    ///     tried.push(lease.id().to_owned()); // suppose the attempt failed
    /// }
    /// tried.sort();
    /// assert_eq!(tried, ["a", "b", "c"]);
    /// assert!(pool.acquire_with("req-1", |s| !tried.contains(&s.id().to_owned())).is_err());
    /// # Ok::<(), loadring::Error>(())
    /// ```
    pub fn acquire_with<K, F>(&self, key: &K, accept: F) -> Result<Lease<'static>, PickError>
    where
        K: Key + ?Sized,
        F: FnMut(&Server) -> bool,
    {
        self.current
            .load()
            .acquire_with(key, accept)
            .map(Lease::into_owned)
    }

    /// Up to `max` distinct healthy servers for `key`, best first, as owned clones for a
    /// fail-over that crosses `.await` (see [`BalancerExt::candidates`]).
    pub fn candidates<K: Key + ?Sized>(&self, key: &K, max: usize) -> Vec<Server> {
        let snapshot = self.current.load();
        snapshot.candidates(key, max).into_iter().cloned().collect()
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
        self.current.load().report_load(id, load)
    }

    /// Replaces the balancer wholesale (another strategy's build). Servers of the new
    /// balancer keep only the cells they were built with; prefer [`update`](Shared::update)
    /// or [`sync`](Shared::sync) to keep them.
    ///
    /// Errors: [`Error::Reentrant`] when called from inside a change of this same `Shared`
    /// (an [`update`](Shared::update) closure), where it would otherwise wait for itself.
    pub fn store(&self, balancer: B) -> Result<(), Error> {
        let _turn = self.turn()?;
        self.current.store(Arc::new(balancer));
        Ok(())
    }

    /// Changes a clone of the current balancer with `change` and swaps it in if `change`
    /// succeeds; on an error (or a panic) the balancer stays as it was.
    ///
    /// Writers take turns. `change` must not change this same `Shared` itself (`add`,
    /// `store`, another `update`, … from inside it): such a call answers
    /// [`Error::Reentrant`] instead of waiting forever for the turn its caller holds. Picks,
    /// health flips and load reports from inside `change` are fine.
    pub fn update<R>(&self, change: impl FnOnce(&mut B) -> Result<R, Error>) -> Result<R, Error>
    where
        B: Clone,
    {
        let _turn = self.turn()?;
        let mut next = B::clone(&self.current.load());
        let out = change(&mut next)?;
        self.current.store(Arc::new(next));
        Ok(out)
    }

    /// Takes the writers' turn, or answers [`Error::Reentrant`] if this thread holds it.
    fn turn(&self) -> Result<Turn<'_>, Error> {
        let key = self as *const Self as *const () as usize;
        if TURNS.with(|t| t.borrow().contains(&key)) {
            return Err(Error::Reentrant);
        }
        let lock = self.writer.lock();
        TURNS.with(|t| t.borrow_mut().push(key));
        Ok(Turn { _lock: lock, key })
    }
}

#[cfg(not(loom))]
thread_local! {
    /// The `Shared` balancers (by address) whose writers' turn this thread holds.
    static TURNS: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

#[cfg(loom)]
loom::thread_local! {
    static TURNS: RefCell<Vec<usize>> = RefCell::new(Vec::new());
}

/// A writer's turn; released (and forgotten by its thread) when dropped, on unwinding too.
struct Turn<'a> {
    _lock: MutexGuard<'a, ()>,
    key: usize,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        TURNS.with(|t| {
            let mut t = t.borrow_mut();
            if let Some(i) = t.iter().rposition(|&k| k == self.key) {
                t.swap_remove(i);
            }
        });
    }
}

impl<B: Update + Clone> Shared<B> {
    /// Sets the panic threshold (see [`Balancer::set_panic_threshold`]) in the writers' turn,
    /// so that no update running meanwhile can drop it.
    pub fn set_panic_threshold(&self, share: f64) -> Result<(), Error> {
        self.update(|b| b.set_panic_threshold(share))
    }

    /// Adds a server (see [`Update::add`]).
    pub fn add(&self, server: impl Into<Server>) -> Result<(), Error> {
        let server = server.into();
        self.update(|b| b.add(server))
    }

    /// Removes a server and returns it (see [`Update::remove`]); no pick that starts after
    /// this returns will return it. The last server may go: picks then answer
    /// [`PickError::NoServers`].
    pub fn remove(&self, id: &str) -> Result<Server, Error> {
        self.update(|b| b.remove(id))
    }

    /// Changes a server's weight (see [`Update::set_weight`]).
    pub fn set_weight(&self, id: &str, weight: u32) -> Result<(), Error> {
        self.update(|b| b.set_weight(id, weight))
    }

    /// Makes the fleet the list that service discovery reports, in one swap (see
    /// [`Update::sync`]): servers that stay keep their health, requests in flight and loads.
    ///
    /// ```
    /// use loadring::{Balancer, InitialHealth, Maglev, Shared, SyncOptions};
    ///
    /// let shared = Shared::new(Maglev::new(["10.0.0.1:80", "10.0.0.2:80"])?);
    /// shared.set_healthy("10.0.0.2:80", false)?;
    /// let options = SyncOptions::default().with_new_servers(InitialHealth::Unhealthy);
    /// let report = shared.sync(["10.0.0.2:80", "10.0.0.3:80"], options)?;
    /// assert_eq!((report.added, report.removed, report.kept), (1, 1, 1));
    /// let now = shared.snapshot();
    /// assert_eq!(now.healthy_count(), 0); // 2 kept its flag, 3 waits for a first check
    /// # Ok::<(), loadring::Error>(())
    /// ```
    pub fn sync<I>(&self, servers: I, options: SyncOptions) -> Result<SyncReport, Error>
    where
        I: IntoIterator,
        I::Item: Into<Server>,
    {
        let list: Vec<Server> = servers.into_iter().map(Into::into).collect();
        self.update(|b| b.sync(list, options))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FillFirst, RoundRobin};

    #[test]
    fn the_fleet_may_become_empty_and_grow_again() {
        let shared = Shared::new(RoundRobin::new(["only"]).unwrap());
        assert_eq!(shared.remove("only").unwrap().id(), "only");
        assert_eq!(shared.pick("any").unwrap_err(), PickError::NoServers);
        assert_eq!(shared.acquire_next().unwrap_err(), PickError::NoServers);
        assert!(shared.candidates("any", 3).is_empty());
        shared.add("again").unwrap();
        assert_eq!(shared.next().unwrap().id(), "again");
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
        let lease = shared.acquire_next().unwrap();
        let a = shared.remove("a").unwrap();
        assert_eq!((lease.id(), a.in_flight()), ("a", 1));
        shared.add(a.clone()).unwrap(); // back last, with the same cells: still full
        let on_b = shared.acquire_next().unwrap();
        assert_eq!(on_b.id(), "b");
        assert_eq!(shared.acquire_next().unwrap_err(), PickError::Saturated);
        drop(lease);
        assert_eq!(a.in_flight(), 0);
        assert_eq!(shared.acquire_next().unwrap().id(), "a");
    }

    #[test]
    fn a_change_from_inside_a_change_is_an_error_not_a_deadlock() {
        let shared = Shared::new(RoundRobin::new(["a", "b"]).unwrap());
        let inner = shared.update(|rr| {
            assert_eq!(shared.add("c").unwrap_err(), Error::Reentrant);
            assert_eq!(shared.store(rr.clone()).unwrap_err(), Error::Reentrant);
            assert_eq!(shared.remove("a").unwrap_err(), Error::Reentrant);
            shared.set_healthy("a", false)?; // no turn needed
            rr.add("d".into())
        });
        assert_eq!(inner, Ok(()));
        assert_eq!(shared.snapshot().len(), 3);
        // The turn is given back, on a panic too.
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = shared.update(|_| -> Result<(), Error> { panic!("a failed change") });
        }));
        assert!(caught.is_err());
        shared.add("e").unwrap();
        let other = Shared::new(RoundRobin::new(["x"]).unwrap());
        shared
            .update(|_| other.add("y")) // another Shared may change inside
            .unwrap();
        assert_eq!(other.snapshot().len(), 2);
    }

    #[test]
    fn owned_candidates_and_a_retry_that_excludes() {
        let shared = Shared::new(crate::HashRing::new(["a", "b", "c", "d"]).unwrap());
        let ranked = shared.candidates("k", 4);
        assert_eq!(ranked.len(), 4);
        assert_eq!(ranked[0].id(), shared.pick("k").unwrap().id());
        let tried = [ranked[0].id(), ranked[1].id()];
        let retry = shared
            .acquire_with("k", |s| !tried.contains(&s.id()))
            .unwrap();
        assert_eq!(retry.id(), ranked[2].id());
        assert_eq!(retry.in_flight(), 1);
        assert_eq!(
            shared.acquire_with("k", |_| false).unwrap_err(),
            PickError::NoneAccepted { tried: 4 }
        );
    }
}
