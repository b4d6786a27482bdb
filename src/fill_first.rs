//! Fill-first: use one server to its capacity before the next takes anything.

use crate::server::Fleet;
use crate::{Balancer, Error, KeyHasher, Lease, Server};

/// What a [`FillFirst`] does when every healthy server is at its capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Overflow {
    /// Refuse with [`Error::Saturated`]; the caller queues, sheds or retries.
    #[default]
    Reject,
    /// Go past capacity on the healthy server with the fewest requests in flight per unit of
    /// capacity (the first in order on ties).
    Spill,
}

/// Fill-first (HAProxy's `first`): servers in the order given, each with a capacity; a request
/// goes to the first healthy server with fewer requests in flight than its capacity, so one
/// server is used fully before the next takes anything, and servers at the end of the list
/// can be switched off when the load is low.
///
/// Keys are ignored. Every server needs a capacity ([`Server::with_capacity`]) of at least 1.
/// Requests in flight are counted by the [`Lease`]s of [`acquire`](FillFirst::acquire), which
/// takes a slot with a compare-exchange on the server's in-flight cell: two threads never
/// both take the last slot, so a server never holds more than its capacity (unless
/// [`Overflow::Spill`] is chosen). [`pick`](crate::BalancerExt::pick) only looks.
///
/// When every healthy server is full, [`Overflow`] decides: [`Error::Saturated`] by default.
///
/// ```
/// use loadring::{Error, FillFirst, Server};
///
/// let ff = FillFirst::new([
///     Server::new("a").with_capacity(2),
///     Server::new("b").with_capacity(1),
/// ])?;
/// let leases: Vec<_> = (0..3).map(|_| ff.acquire()).collect::<Result<_, _>>()?;
/// let ids: Vec<&str> = leases.iter().map(|l| l.id()).collect();
/// assert_eq!(ids, ["a", "a", "b"]);
/// assert_eq!(ff.acquire().unwrap_err(), Error::Saturated);
/// drop(leases);
/// assert_eq!(ff.acquire()?.id(), "a");
/// # Ok::<(), loadring::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct FillFirst {
    fleet: Fleet,
    /// Each server's capacity, by index (checked to be at least 1).
    capacities: Vec<u64>,
    overflow: Overflow,
}

impl FillFirst {
    /// Builds over `servers` in the given order.
    ///
    /// Errors: [`Error::NoServers`], [`Error::DuplicateServer`], [`Error::ZeroWeight`],
    /// [`Error::MissingCapacity`], [`Error::ZeroCapacity`].
    pub fn new<I>(servers: I) -> Result<Self, Error>
    where
        I: IntoIterator,
        I::Item: Into<Server>,
    {
        let fleet = Fleet::new(servers)?;
        let capacities = fleet
            .servers()
            .iter()
            .map(|s| match s.capacity() {
                None => Err(Error::MissingCapacity { id: s.id().into() }),
                Some(0) => Err(Error::ZeroCapacity { id: s.id().into() }),
                Some(c) => Ok(c),
            })
            .collect::<Result<_, _>>()?;
        Ok(FillFirst {
            fleet,
            capacities,
            overflow: Overflow::default(),
        })
    }

    /// Chooses what happens when every healthy server is full.
    pub fn with_overflow(mut self, overflow: Overflow) -> Self {
        self.overflow = overflow;
        self
    }

    /// What happens when every healthy server is full.
    pub fn overflow(&self) -> Overflow {
        self.overflow
    }

    /// Takes a slot on the first healthy server with room and returns its [`Lease`]; the
    /// slot is free again when the lease is dropped.
    ///
    /// Errors: [`Error::NoHealthyServer`]; [`Error::Saturated`] when every healthy server is
    /// full and the overflow is [`Overflow::Reject`].
    #[inline]
    pub fn acquire(&self) -> Result<Lease<'_>, Error> {
        for (s, &capacity) in self.fleet.servers().iter().zip(&self.capacities) {
            if s.is_healthy() {
                if let Some(lease) = Lease::try_begin(s, capacity) {
                    return Ok(lease);
                }
            }
        }
        self.overflowing()
            .map(|i| Lease::begin(&self.fleet.servers()[i]))
    }

    #[inline]
    fn has_room(&self, i: usize) -> bool {
        let s = &self.fleet.servers()[i];
        s.is_healthy() && s.in_flight() < self.capacities[i]
    }

    /// No healthy server has room: the spill target, or the error.
    #[cold]
    fn overflowing(&self) -> Result<usize, Error> {
        let servers = self.fleet.servers();
        let mut best: Option<(usize, u64)> = None;
        for (i, s) in servers.iter().enumerate() {
            if !s.is_healthy() {
                continue;
            }
            let n = s.in_flight();
            // n / capacity[i] < best_n / capacity[best], compared exactly.
            let fuller = |(b, best_n): (usize, u64)| {
                u128::from(n) * u128::from(self.capacities[b])
                    < u128::from(best_n) * u128::from(self.capacities[i])
            };
            if best.is_none_or(fuller) {
                best = Some((i, n));
            }
        }
        match (best, self.overflow) {
            (None, _) => Err(Error::NoHealthyServer),
            (Some(_), Overflow::Reject) => Err(Error::Saturated),
            (Some((i, _)), Overflow::Spill) => Ok(i),
        }
    }
}

impl Balancer for FillFirst {
    /// The server the next [`acquire`](FillFirst::acquire) would use, without taking a slot.
    #[inline]
    fn pick_hash(&self, _hash: u64) -> Result<&Server, Error> {
        let i = match (0..self.fleet.len()).find(|&i| self.has_room(i)) {
            Some(i) => i,
            None => self.overflowing()?,
        };
        Ok(&self.fleet.servers()[i])
    }

    /// The healthy servers with room, in order; when there are none and the overflow is
    /// [`Overflow::Spill`], the spill target, then the other healthy servers in order.
    fn candidates_hash(&self, _hash: u64, out: &mut [usize]) -> usize {
        let mut n = 0;
        for i in (0..self.fleet.len()).filter(|&i| self.has_room(i)) {
            if n == out.len() {
                return n;
            }
            out[n] = i;
            n += 1;
        }
        if n > 0 || self.overflow != Overflow::Spill {
            return n;
        }
        let Ok(first) = self.overflowing() else {
            return 0;
        };
        let rest = (0..self.fleet.len()).filter(|&i| i != first && self.fleet.is_healthy(i));
        for i in std::iter::once(first).chain(rest) {
            if n == out.len() {
                break;
            }
            out[n] = i;
            n += 1;
        }
        n
    }

    fn servers(&self) -> &[Server] {
        self.fleet.servers()
    }

    fn position(&self, id: &str) -> Option<usize> {
        self.fleet.position(id)
    }

    /// Keys are ignored; [`BalancerExt::pick`](crate::BalancerExt::pick) hashes them with
    /// the default XXH3 all the same.
    fn hasher(&self) -> &KeyHasher {
        &KeyHasher::Xxh3
    }
}

impl crate::Acquire for FillFirst {
    #[inline]
    fn acquire(&self) -> Result<Lease<'_>, Error> {
        FillFirst::acquire(self)
    }
}

impl crate::Rebuild for FillFirst {
    /// The same overflow policy over `servers`.
    fn rebuild(&self, servers: Vec<Server>) -> Result<Self, Error> {
        Ok(FillFirst::new(servers)?.with_overflow(self.overflow))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BalancerExt;
    use std::panic::{AssertUnwindSafe, catch_unwind};

    fn fleet(caps: &[u64]) -> FillFirst {
        FillFirst::new(
            caps.iter()
                .enumerate()
                .map(|(i, &c)| Server::new(format!("s{i}")).with_capacity(c)),
        )
        .unwrap()
    }

    fn in_flight(ff: &FillFirst) -> Vec<u64> {
        ff.servers().iter().map(Server::in_flight).collect()
    }

    #[test]
    fn fills_in_order_and_saturates() {
        let ff = fleet(&[3, 1, 2]);
        let mut held = Vec::new();
        for want in [
            [1, 0, 0],
            [2, 0, 0],
            [3, 0, 0],
            [3, 1, 0],
            [3, 1, 1],
            [3, 1, 2],
        ] {
            held.push(ff.acquire().unwrap());
            assert_eq!(in_flight(&ff), want);
        }
        assert_eq!(ff.acquire().unwrap_err(), Error::Saturated);
        assert_eq!(ff.pick_hash(0).unwrap_err(), Error::Saturated);
        assert!(ff.candidates("", 3).is_empty());
        // A slot freed on the first server is the next one taken.
        let on_first = held.iter().position(|l| l.id() == "s0").unwrap();
        drop(held.swap_remove(on_first));
        assert_eq!(ff.pick_hash(0).unwrap().id(), "s0");
        held.push(ff.acquire().unwrap());
        assert_eq!(in_flight(&ff), [3, 1, 2]);
        drop(held);
        assert_eq!(in_flight(&ff), [0, 0, 0]);
    }

    #[test]
    fn unhealthy_servers_are_passed_over() {
        let ff = fleet(&[1, 1]);
        ff.set_healthy("s0", false).unwrap();
        let lease = ff.acquire().unwrap();
        assert_eq!(lease.id(), "s1");
        assert_eq!(ff.acquire().unwrap_err(), Error::Saturated);
        ff.set_healthy("s1", false).unwrap();
        assert_eq!(ff.acquire().unwrap_err(), Error::NoHealthyServer);
        assert_eq!(ff.pick_hash(0).unwrap_err(), Error::NoHealthyServer);
    }

    #[test]
    fn spill_goes_to_the_least_full() {
        let ff = fleet(&[1, 4]).with_overflow(Overflow::Spill);
        let held: Vec<Lease<'_>> = (0..5).map(|_| ff.acquire().unwrap()).collect();
        assert_eq!(in_flight(&ff), [1, 4]);
        // Both at 100 %: the first in order takes the spill; then s0 is at 200 %, s1 at 100 %.
        let spilled: Vec<Lease<'_>> = (0..3).map(|_| ff.acquire().unwrap()).collect();
        let ids: Vec<&str> = spilled.iter().map(|l| l.id()).collect();
        assert_eq!(ids, ["s0", "s1", "s1"]);
        assert_eq!(ff.candidates("", 2)[0].id(), ff.pick_hash(0).unwrap().id());
        drop((held, spilled));
        assert_eq!(in_flight(&ff), [0, 0]);
    }

    #[test]
    fn capacity_is_required_and_positive() {
        assert_eq!(
            FillFirst::new(["a"]).unwrap_err(),
            Error::MissingCapacity { id: "a".into() }
        );
        assert_eq!(
            FillFirst::new([Server::new("a").with_capacity(0)]).unwrap_err(),
            Error::ZeroCapacity { id: "a".into() }
        );
        assert_eq!(
            FillFirst::new(Vec::<Server>::new()).unwrap_err(),
            Error::NoServers
        );
    }

    #[test]
    fn leases_are_released_on_unwinding() {
        let ff = fleet(&[2, 2]);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let _held: Vec<Lease<'_>> = (0..3).map(|_| ff.acquire().unwrap()).collect();
            assert_eq!(in_flight(&ff), [2, 1]);
            panic!("the request failed");
        }));
        assert!(outcome.is_err());
        assert_eq!(in_flight(&ff), [0, 0]);
    }

    #[test]
    fn the_last_slot_goes_to_one_thread_only() {
        let ff = fleet(&[5, 3]);
        let won = std::sync::atomic::AtomicU64::new(0);
        let barrier = std::sync::Barrier::new(4);
        for _ in 0..200 {
            std::thread::scope(|s| {
                for _ in 0..4 {
                    s.spawn(|| {
                        barrier.wait();
                        let mut mine = Vec::new();
                        while let Ok(lease) = ff.acquire() {
                            mine.push(lease);
                        }
                        won.fetch_add(mine.len() as u64, std::sync::atomic::Ordering::Relaxed);
                        barrier.wait(); // hold until every thread is saturated
                    });
                }
            });
            assert_eq!(won.swap(0, std::sync::atomic::Ordering::Relaxed), 8);
            assert_eq!(in_flight(&ff), [0, 0]);
        }
    }
}
