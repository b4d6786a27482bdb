//! Fill-first: use one server to its capacity before the next takes anything.

use crate::{Balancer, Error, Fleet, Lease, PickError, Server, Update};

/// What a [`FillFirst`] does when every healthy server is at its capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
#[non_exhaustive]
pub enum Overflow {
    /// Refuse with [`PickError::Saturated`]; the caller queues, sheds or retries.
    #[default]
    Reject,
    /// Go past capacity on the healthy server with the fewest requests in flight per unit of
    /// capacity (the first in order on ties).
    Spill,
}

/// Options of a [`FillFirst`].
///
/// ```
/// use loadring::{FillFirstOptions, Overflow};
///
/// let options = FillFirstOptions::default().with_overflow(Overflow::Spill);
/// assert_eq!(options.overflow, Overflow::Spill);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
#[non_exhaustive]
pub struct FillFirstOptions {
    /// What happens when every healthy server is full. Default [`Overflow::Reject`].
    pub overflow: Overflow,
}

impl FillFirstOptions {
    /// Sets what happens when every healthy server is full.
    pub fn with_overflow(mut self, overflow: Overflow) -> Self {
        self.overflow = overflow;
        self
    }
}

/// Fill-first (HAProxy's `first`): servers in the order given, each with a capacity; a request
/// goes to the first healthy server with fewer requests in flight than its capacity, so one
/// server is used fully before the next takes anything, and servers at the end of the list
/// can be switched off when the load is low.
///
/// Keys are ignored. Every server needs a capacity ([`Server::with_capacity`]) of at least 1;
/// weights do not apply, and a weight other than 1 is an [`Error::WeightsUnsupported`].
/// Requests in flight are counted by the [`Lease`]s of
/// [`acquire`](crate::BalancerExt::acquire), which takes a slot with a compare-exchange on the
/// server's in-flight cell: two threads never both take the last slot, so a server never
/// holds more than its capacity (unless [`Overflow::Spill`] is chosen).
/// [`pick`](crate::BalancerExt::pick) only looks.
///
/// When every healthy server is full, [`Overflow`] decides: [`PickError::Saturated`] by
/// default.
///
/// ```
/// use loadring::{BalancerExt, FillFirst, PickError, Server};
///
/// let ff = FillFirst::new([
///     Server::new("a").with_capacity(2),
///     Server::new("b").with_capacity(1),
/// ])?;
/// let leases: Vec<_> = (0..3).map(|_| ff.acquire_next()).collect::<Result<_, _>>()?;
/// let ids: Vec<&str> = leases.iter().map(|l| l.id()).collect();
/// assert_eq!(ids, ["a", "a", "b"]);
/// assert_eq!(ff.acquire_next().unwrap_err(), PickError::Saturated);
/// drop(leases);
/// assert_eq!(ff.acquire_next()?.id(), "a");
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
    /// Errors: [`Error::DuplicateServer`], [`Error::ZeroWeight`], [`Error::WeightsUnsupported`],
    /// [`Error::MissingCapacity`], [`Error::ZeroCapacity`].
    pub fn new<I>(servers: I) -> Result<Self, Error>
    where
        I: IntoIterator,
        I::Item: Into<Server>,
    {
        Self::with_options(servers, FillFirstOptions::default())
    }

    /// Builds with `options`.
    pub fn with_options<I>(servers: I, options: FillFirstOptions) -> Result<Self, Error>
    where
        I: IntoIterator,
        I::Item: Into<Server>,
    {
        let fleet = Fleet::new(servers)?;
        fleet.require_unit_weights("fill-first")?;
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
            overflow: options.overflow,
        })
    }

    /// The options the balancer was built with.
    pub fn options(&self) -> FillFirstOptions {
        FillFirstOptions {
            overflow: self.overflow,
        }
    }

    /// Takes a slot on the first healthy server with room that `accept` takes; past that, the
    /// overflow policy among the accepted.
    fn acquire_where(
        &self,
        mut accept: impl FnMut(&Server) -> bool,
    ) -> Result<Lease<'_>, PickError> {
        let (mut accepted, mut refused) = (0, 0);
        let mut panic = None;
        for (i, (s, &capacity)) in self
            .fleet
            .servers()
            .iter()
            .zip(&self.capacities)
            .enumerate()
        {
            if self.open(i, &mut panic) {
                if !accept(s) {
                    refused += 1;
                    continue;
                }
                accepted += 1;
                if let Some(lease) = Lease::try_begin(s, capacity) {
                    return Ok(lease);
                }
            }
        }
        if accepted == 0 && refused > 0 {
            return Err(PickError::NoneAccepted { tried: refused });
        }
        // Every accepted server is full (rare): the overflow policy among them.
        self.overflowing(|i| refused == 0 || accept(&self.fleet.servers()[i]))
            .map(|i| Lease::begin(&self.fleet.servers()[i]))
    }

    /// The pick from server `start` on, the first unavailable one: the panic state decides
    /// whether it may serve.
    #[cold]
    fn pick_from(&self, start: usize) -> Result<usize, PickError> {
        let mut panic = None;
        match (start..self.fleet.len()).find(|&i| self.has_room(i, &mut panic)) {
            Some(i) => Ok(i),
            None => self.overflowing(|_| true),
        }
    }

    /// The lease from server `start` on, the first unavailable one (see [`Self::pick_from`]).
    #[cold]
    fn acquire_from(&self, start: usize) -> Result<Lease<'_>, PickError> {
        let mut panic = None;
        let servers = self.fleet.servers();
        for (i, s) in servers.iter().enumerate().skip(start) {
            if self.open(i, &mut panic) {
                if let Some(lease) = Lease::try_begin(s, self.capacities[i]) {
                    return Ok(lease);
                }
            }
        }
        self.overflowing(|_| true)
            .map(|i| Lease::begin(&servers[i]))
    }

    /// Whether server `i` may take a request: available, or in panic (read at most once per
    /// call, and only once an unavailable server is met) not draining.
    #[inline]
    fn open(&self, i: usize, panic: &mut Option<bool>) -> bool {
        let s = &self.fleet.servers()[i];
        s.is_available()
            || (!s.is_draining() && *panic.get_or_insert_with(|| self.fleet.in_panic()))
    }

    #[inline]
    fn has_room(&self, i: usize, panic: &mut Option<bool>) -> bool {
        self.open(i, panic) && self.fleet.servers()[i].in_flight() < self.capacities[i]
    }

    /// No healthy server (among those `eligible`) has room: the spill target, or the error.
    #[cold]
    fn overflowing(&self, mut eligible: impl FnMut(usize) -> bool) -> Result<usize, PickError> {
        let servers = self.fleet.servers();
        let mut best: Option<(usize, u64)> = None;
        let mut panic = None;
        for (i, s) in servers.iter().enumerate() {
            if !self.open(i, &mut panic) || !eligible(i) {
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
            (None, _) => Err(self.fleet.none_error()),
            (Some(_), Overflow::Reject) => Err(PickError::Saturated),
            (Some((i, _)), Overflow::Spill) => Ok(i),
        }
    }
}

impl Balancer for FillFirst {
    fn fleet(&self) -> &Fleet {
        &self.fleet
    }

    /// The server the next [`acquire`](crate::BalancerExt::acquire) would use, without taking
    /// a slot.
    #[inline]
    fn pick_hash(&self, _hash: u64) -> Result<&Server, PickError> {
        let servers = self.fleet.servers();
        for (i, s) in servers.iter().enumerate() {
            if !s.is_available() {
                return self.pick_from(i).map(|i| &servers[i]);
            }
            if s.in_flight() < self.capacities[i] {
                return Ok(s);
            }
        }
        self.overflowing(|_| true).map(|i| &servers[i])
    }

    /// Takes a slot on the first healthy server with room, by compare-exchange.
    #[inline]
    fn acquire_hash(&self, _hash: u64) -> Result<Lease<'_>, PickError> {
        let servers = self.fleet.servers();
        for (i, (s, &capacity)) in servers.iter().zip(&self.capacities).enumerate() {
            if !s.is_available() {
                return self.acquire_from(i);
            }
            if let Some(lease) = Lease::try_begin(s, capacity) {
                return Ok(lease);
            }
        }
        self.overflowing(|_| true)
            .map(|i| Lease::begin(&servers[i]))
    }

    /// As [`acquire_hash`](Balancer::acquire_hash), passing over the servers `accept`
    /// turns down. With [`Overflow::Spill`], when every accepted server is full, `accept` is
    /// asked again to choose the spill target among them.
    fn acquire_hash_with(
        &self,
        _hash: u64,
        accept: &mut dyn FnMut(&Server) -> bool,
    ) -> Result<Lease<'_>, PickError> {
        self.acquire_where(accept)
    }

    /// The healthy servers with room, in order; when there are none and the overflow is
    /// [`Overflow::Spill`], the spill target, then the other healthy servers in order.
    fn candidates_hash(&self, _hash: u64, out: &mut [usize]) -> usize {
        let mut n = 0;
        let mut panic = None;
        for i in (0..self.fleet.len()).filter(|&i| self.has_room(i, &mut panic)) {
            if n == out.len() {
                return n;
            }
            out[n] = i;
            n += 1;
        }
        if n > 0 || self.overflow != Overflow::Spill {
            return n;
        }
        let Ok(first) = self.overflowing(|_| true) else {
            return 0;
        };
        let panic = self.fleet.in_panic();
        let rest = (0..self.fleet.len()).filter(|&i| i != first && self.fleet.usable(i, panic));
        for i in std::iter::once(first).chain(rest) {
            if n == out.len() {
                break;
            }
            out[n] = i;
            n += 1;
        }
        n
    }
}

impl Update for FillFirst {
    /// The same overflow policy over `servers`.
    fn set_servers(&mut self, servers: Vec<Server>) -> Result<(), Error> {
        let old = std::mem::replace(self, FillFirst::with_options(servers, self.options())?);
        self.fleet.keep_settings_of(&old.fleet);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BalancerExt;

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
            held.push(ff.acquire_next().unwrap());
            assert_eq!(in_flight(&ff), want);
        }
        assert_eq!(ff.acquire_next().unwrap_err(), PickError::Saturated);
        assert_eq!(ff.next().unwrap_err(), PickError::Saturated);
        assert!(ff.candidates("", 3).is_empty());
        // A slot freed on the first server is the next one taken.
        let on_first = held.iter().position(|l| l.id() == "s0").unwrap();
        drop(held.swap_remove(on_first));
        assert_eq!(ff.next().unwrap().id(), "s0");
        held.push(ff.acquire_next().unwrap());
        assert_eq!(in_flight(&ff), [3, 1, 2]);
        drop(held);
        assert_eq!(in_flight(&ff), [0, 0, 0]);
    }

    #[test]
    fn unhealthy_servers_are_passed_over() {
        let ff = fleet(&[1, 1]);
        ff.set_healthy("s0", false).unwrap();
        let lease = ff.acquire_next().unwrap();
        assert_eq!(lease.id(), "s1");
        assert_eq!(ff.acquire_next().unwrap_err(), PickError::Saturated);
        ff.set_healthy("s1", false).unwrap();
        assert_eq!(ff.acquire_next().unwrap_err(), PickError::NoHealthyServer);
        assert_eq!(ff.next().unwrap_err(), PickError::NoHealthyServer);
    }

    #[test]
    fn spill_goes_to_the_least_full() {
        let ff = FillFirst::with_options(
            [1, 4]
                .iter()
                .enumerate()
                .map(|(i, &c)| Server::new(format!("s{i}")).with_capacity(c)),
            FillFirstOptions::default().with_overflow(Overflow::Spill),
        )
        .unwrap();
        let held: Vec<Lease<'_>> = (0..5).map(|_| ff.acquire_next().unwrap()).collect();
        assert_eq!(in_flight(&ff), [1, 4]);
        // Both at 100 %: the first in order takes the spill; then s0 is at 200 %, s1 at 100 %.
        let spilled: Vec<Lease<'_>> = (0..3).map(|_| ff.acquire_next().unwrap()).collect();
        let ids: Vec<&str> = spilled.iter().map(|l| l.id()).collect();
        assert_eq!(ids, ["s0", "s1", "s1"]);
        assert_eq!(ff.candidates("", 2)[0].id(), ff.next().unwrap().id());
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
            FillFirst::new([Server::new("a").with_capacity(1).with_weight(2)]).unwrap_err(),
            Error::WeightsUnsupported {
                strategy: "fill-first",
                id: "a".into(),
                weight: 2
            }
        );
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
                        while let Ok(lease) = ff.acquire_next() {
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
