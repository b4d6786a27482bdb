//! Smooth weighted round-robin, as nginx does it.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::sync::AtomicU64;

use super::smooth::smooth_order;
use crate::balancer::select_hash;
use crate::hash::{fast_range, mix64};
use crate::server::WHOLE;
use crate::{Balancer, Error, Fleet, Lease, MAX_CANDIDATES, PickError, Server, Update};

no_options!(RoundRobin, RoundRobinOptions);

/// The most slots one period of a weighted [`RoundRobin`] may hold (2²², 16 MiB of slots).
pub const MAX_ROUND_ROBIN_SLOTS: u64 = 1 << 22;

/// The rotation counter, on a cache line of its own: it is written on every pick, and the
/// fields beside it are read on every pick.
#[repr(align(64))]
#[derive(Debug, Default)]
struct Counter(AtomicU64);

/// Smooth weighted round-robin (nginx's): each server gets its weight's share of the picks,
/// spread out rather than in bursts. Weights 5:1:1 give `a a b a c a a`, then again.
///
/// Keys are ignored. Servers keep the order they were given in, and that order breaks ties.
///
/// # The rotation
///
/// Stated language-neutrally, with test vectors, in `docs/MAPPING.md` (mapping v1).
///
/// One period has W slots, W the sum of the weights divided by their greatest common
/// divisor; slot t goes to the server that nginx's algorithm chooses at its t-th step (each
/// server's current weight grows by its weight, the largest wins, first in order on ties,
/// and the winner's drops by W). With equal weights the period is the servers in order.
///
/// Every pick takes the next slot with one atomic increment and reads the slot's server from
/// a table built once, so picks from many threads through `&self` never wait for one
/// another, never lock and share out the slots exactly: k × W picks give each server exactly
/// k × its weight, however the threads interleave. A short critical section over nginx's
/// current-weight vector would cost O(n) per pick under a lock that every picker contends
/// for; the table costs 4 bytes a slot (at most [`MAX_ROUND_ROBIN_SLOTS`]), and none with
/// equal weights.
///
/// # Health
///
/// Slots of unhealthy servers are skipped and consumed, so the others keep their order and
/// their shares: with `b` down, `a b c` turns into `a c a c`, not `a c c`.
///
/// # Changes
///
/// A change of weights or membership ([`Update`]) builds the new period and
/// continues at the same step count, so frequent changes do not keep restarting the rotation
/// at its first, heaviest server.
///
/// Clones share the rotation's counter: a change made through [`Shared`](crate::Shared)
/// (which changes a clone and swaps it in) neither replays nor loses the picks made while
/// it ran, so k × W picks still give every server exactly k × its weight. Ranked
/// [`candidates`](crate::BalancerExt::candidates) and
/// [`select_with`](crate::BalancerExt::select_with) only look: they take no slot.
///
/// ```
/// use loadring::{Balancer, BalancerExt, RoundRobin, Server};
///
/// let rr = RoundRobin::new([
///     Server::new("a").with_weight(5),
///     Server::new("b"),
///     Server::new("c"),
/// ])?;
/// let mut order = Vec::new();
/// for _ in 0..7 {
///     order.push(rr.next()?.id()); // no key; `pick(key)` ignores the key
/// }
/// assert_eq!(order, ["a", "a", "b", "a", "c", "a", "a"]);
///
/// rr.set_healthy("b", false)?; // skipped; the others keep their order
/// assert_eq!(rr.pick("any key")?.id(), "a");
/// # Ok::<(), loadring::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct RoundRobin {
    fleet: Fleet,
    /// One period of server indices; empty when all weights are equal.
    order: Box<[u32]>,
    /// Slots in one period.
    period: u64,
    /// Slots taken so far.
    next: Arc<Counter>,
}

impl RoundRobin {
    /// Builds over `servers` (ids or [`Server`]s) in the given order, honouring their weights.
    ///
    /// Errors: [`Error::DuplicateServer`], [`Error::ZeroWeight`]; [`Error::TooManyPoints`]
    /// when a period would hold more than [`MAX_ROUND_ROBIN_SLOTS`].
    pub fn new<I>(servers: I) -> Result<Self, Error>
    where
        I: IntoIterator,
        I::Item: Into<Server>,
    {
        Self::build(Fleet::new(servers)?, Arc::default())
    }

    fn build(fleet: Fleet, next: Arc<Counter>) -> Result<Self, Error> {
        let weights: Vec<u64> = fleet
            .servers()
            .iter()
            .map(|s| u64::from(s.weight()))
            .collect();
        let divisor = weights.iter().fold(0, |g, &w| gcd(g, w));
        let (order, period) = if weights.iter().all(|&w| w == divisor) {
            (Box::default(), fleet.len() as u64)
        } else {
            let reduced: Vec<u64> = weights.iter().map(|w| w / divisor).collect();
            let total: u64 = reduced.iter().sum();
            if total > MAX_ROUND_ROBIN_SLOTS {
                return Err(Error::TooManyPoints {
                    requested: total,
                    max: MAX_ROUND_ROBIN_SLOTS,
                });
            }
            (smooth_order(&reduced).into_boxed_slice(), total)
        };
        Ok(RoundRobin {
            fleet,
            order,
            period,
            next,
        })
    }

    /// Slots in one period of the rotation.
    pub fn period(&self) -> u64 {
        self.period
    }

    /// How many slots have been taken so far (picks plus skipped slots).
    pub fn step(&self) -> u64 {
        self.next.0.load(Ordering::Relaxed)
    }

    #[inline]
    fn server_at(&self, pos: u64) -> usize {
        self.server_in((pos % self.period) as usize)
    }

    /// The server of slot `slot` of the period.
    #[inline]
    fn server_in(&self, slot: usize) -> usize {
        if self.order.is_empty() {
            slot
        } else {
            self.order[slot] as usize
        }
    }

    /// The pick when the slot at `pos` belongs to an unhealthy server: find the next healthy
    /// slot and consume the skipped ones with it, so that no server inherits another's share.
    #[cold]
    fn skip_from(&self, mut pos: u64) -> Result<&Server, PickError> {
        const ATTEMPTS: usize = 4;
        let panic = self.fleet.in_panic();
        if let Some(i) = self.taker(pos, panic) {
            return Ok(&self.fleet.servers()[i]);
        }
        for _ in 0..ATTEMPTS {
            let (distance, i) = self.next_healthy(pos, panic)?;
            let taken = pos.wrapping_add(1);
            if self
                .next
                .0
                .compare_exchange(
                    taken,
                    taken.wrapping_add(distance),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_ok()
            {
                return Ok(&self.fleet.servers()[i]);
            }
            // Other pickers moved on meanwhile: take a fresh slot.
            pos = self.next.0.fetch_add(1, Ordering::Relaxed);
            if let Some(i) = self.taker(pos, panic) {
                return Ok(&self.fleet.servers()[i]);
            }
        }
        // Heavy contention: serve the next healthy slot without consuming the gap.
        let (_, i) = self.next_healthy(pos, panic)?;
        Ok(&self.fleet.servers()[i])
    }

    /// Slot `pos`'s server, if it takes the slot: usable (available; in `panic`, not
    /// draining), and, in slow start at a ramp r, for a share r of its slots (those whose
    /// mixed slot number falls below r), so that it takes r × its weight's share.
    fn taker(&self, pos: u64, panic: bool) -> Option<usize> {
        let i = self.server_at(pos);
        if !self.fleet.usable(i, panic) {
            return None;
        }
        let ramp = self.fleet.servers()[i].ramp_millionths();
        let takes = ramp >= WHOLE || fast_range(mix64(pos), u64::from(WHOLE)) < u64::from(ramp);
        takes.then_some(i)
    }

    /// The first slot after `pos` (at most one period on) whose server is usable (available;
    /// in `panic`, not draining): its distance from `pos` and its server.
    fn next_healthy(&self, pos: u64, panic: bool) -> Result<(u64, usize), PickError> {
        let checked_all_at = self.fleet.len() as u64;
        // The first usable slot (`pos`'s own too), in case slow starts turn every slot of the
        // period down.
        let own = self.server_at(pos);
        let mut usable = self.fleet.usable(own, panic).then_some((0, own));
        for distance in 1..self.period {
            let at = pos.wrapping_add(distance);
            if let Some(i) = self.taker(at, panic) {
                return Ok((distance, i));
            }
            let i = self.server_at(at);
            if usable.is_none() && self.fleet.usable(i, panic) {
                usable = Some((distance, i));
            }
            // Long gaps: make sure there is something to find before walking the period.
            if distance == checked_all_at && !self.fleet.any_usable(panic) {
                break;
            }
        }
        usable.ok_or(PickError::NoHealthyServer)
    }
}

impl Balancer for RoundRobin {
    fn fleet(&self) -> &Fleet {
        &self.fleet
    }

    #[inline]
    fn pick_hash(&self, _hash: u64) -> Result<&Server, PickError> {
        let pos = self.next.0.fetch_add(1, Ordering::Relaxed);
        // The remainder's own check for a zero divisor is the check for an empty fleet.
        let Some(slot) = pos.checked_rem(self.period) else {
            return Err(PickError::NoServers);
        };
        let i = self.server_in(slot as usize);
        if self.fleet.servers()[i].is_settled() {
            return Ok(&self.fleet.servers()[i]);
        }
        self.skip_from(pos)
    }

    /// Takes the next slot, as a pick does, so that requests routed this way (a fail-over's
    /// attempts) take turns; when `accept` turns the slot's server down, leases the first
    /// server of the coming slots that it takes, without taking their slots.
    fn acquire_hash_with(
        &self,
        hash: u64,
        accept: &mut dyn FnMut(&Server) -> bool,
    ) -> Result<Lease<'_>, PickError> {
        let first = self.pick_hash(hash)?;
        if accept(first) {
            return Ok(Lease::begin(first));
        }
        select_hash(self, hash, MAX_CANDIDATES, &mut |s| {
            !std::ptr::eq(s, first) && accept(s)
        })
        .map(Lease::begin)
    }

    /// The distinct healthy servers in the order of the coming slots, without taking any.
    fn candidates_hash(&self, _hash: u64, out: &mut [usize]) -> usize {
        let step = self.step();
        let slots = (0..self.period).map(|d| self.server_at(step.wrapping_add(d)));
        self.fleet.ranked(slots, out)
    }
}

impl Update for RoundRobin {
    /// The same rotation over `servers`, continuing at the current step with the same
    /// counter.
    fn set_servers(&mut self, servers: Vec<Server>) -> Result<(), Error> {
        let old = std::mem::replace(
            self,
            Self::build(Fleet::new(servers)?, Arc::clone(&self.next))?,
        );
        self.fleet.keep_settings_of(&old.fleet);
        Ok(())
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BalancerExt;

    /// nginx's algorithm as written in ngx_http_upstream_get_peer, over the healthy servers.
    struct Naive {
        weights: Vec<i64>,
        current: Vec<i64>,
    }

    impl Naive {
        fn new(weights: &[u32]) -> Self {
            Naive {
                weights: weights.iter().map(|&w| i64::from(w)).collect(),
                current: vec![0; weights.len()],
            }
        }

        fn next(&mut self) -> usize {
            let total: i64 = self.weights.iter().sum();
            let mut best = 0;
            for i in 0..self.weights.len() {
                self.current[i] += self.weights[i];
                if self.current[i] > self.current[best] {
                    best = i;
                }
            }
            self.current[best] -= total;
            best
        }
    }

    fn ids(rr: &RoundRobin, picks: usize) -> Vec<String> {
        (0..picks)
            .map(|_| rr.next().unwrap().id().to_owned())
            .collect()
    }

    #[test]
    fn five_one_one_is_interleaved() {
        let rr = RoundRobin::new([
            Server::new("a").with_weight(5),
            Server::new("b"),
            Server::new("c"),
        ])
        .unwrap();
        assert_eq!(rr.period(), 7);
        let seq = "a a b a c a a".split(' ').collect::<Vec<_>>();
        assert_eq!(ids(&rr, 14), [seq.clone(), seq].concat());
    }

    #[test]
    fn matches_nginx_for_mixed_weights() {
        let weight_sets: [&[u32]; 5] = [
            &[5, 1, 1],
            &[1, 2, 3, 4],
            &[3, 3, 1, 1, 2],
            &[7, 7, 7, 2],
            &[10, 1, 4, 4, 1, 6, 9],
        ];
        for weights in weight_sets {
            let rr = RoundRobin::new(
                weights
                    .iter()
                    .enumerate()
                    .map(|(i, &w)| Server::new(i.to_string()).with_weight(w)),
            )
            .unwrap();
            let mut naive = Naive::new(weights);
            for step in 0..3 * rr.period() {
                let want = naive.next().to_string();
                assert_eq!(rr.next().unwrap().id(), want, "{weights:?} at {step}");
            }
        }
    }

    #[test]
    fn common_factors_do_not_lengthen_the_period() {
        let rr = RoundRobin::new([
            Server::new("a").with_weight(10),
            Server::new("b").with_weight(2),
            Server::new("c").with_weight(2),
        ])
        .unwrap();
        assert_eq!(rr.period(), 7);
        assert_eq!(ids(&rr, 7), ["a", "a", "b", "a", "c", "a", "a"]);
        let equal = RoundRobin::new([
            Server::new("a").with_weight(4),
            Server::new("b").with_weight(4),
        ])
        .unwrap();
        assert_eq!((equal.period(), equal.order.len()), (2, 0));
    }

    #[test]
    fn a_weight_change_mid_stream_continues_the_count() {
        let mut rr = RoundRobin::new([
            Server::new("a").with_weight(5),
            Server::new("b"),
            Server::new("c"),
        ])
        .unwrap();
        assert_eq!(ids(&rr, 4), ["a", "a", "b", "a"]);
        rr.set_weight("b", 3).unwrap();
        // 5:3:1 has the period a b a c a b a b a; the rotation goes on at step 4.
        assert_eq!((rr.period(), rr.step()), (9, 4));
        assert_eq!(ids(&rr, 9), ["a", "b", "a", "b", "a", "a", "b", "a", "c"]);
        assert_eq!(rr.server("b").unwrap().weight(), 3);
    }

    #[test]
    fn equal_weights_share_exactly_across_threads() {
        let rr = RoundRobin::new((0..7).map(|i| i.to_string())).unwrap();
        let counts: Vec<std::sync::atomic::AtomicU64> = (0..7).map(|_| 0.into()).collect();
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..7000 {
                        let i = rr.position(rr.next().unwrap().id()).unwrap();
                        counts[i].fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
        });
        for c in &counts {
            assert_eq!(c.load(Ordering::Relaxed), 4000);
        }
    }

    #[test]
    fn leases_with_a_filter_take_turns() {
        let rr = RoundRobin::new(["a", "b", "c"]).unwrap();
        let mut turns = Vec::new();
        for _ in 0..6 {
            turns.push(rr.acquire_with("key", |_| true).unwrap().id().to_owned());
        }
        assert_eq!(turns, ["a", "b", "c", "a", "b", "c"]);
        // Slot 6 is a's: turned down, the next server of the rotation serves, a is not asked
        // again, and the rotation goes on from slot 7.
        let mut asked = Vec::new();
        let lease = rr
            .acquire_with("key", |s| {
                asked.push(s.id().to_owned());
                s.id() != "a"
            })
            .unwrap();
        assert_eq!(lease.id(), "b");
        assert_eq!(asked, ["a", "b"]);
        assert_eq!(rr.step(), 7);
        assert_eq!(
            rr.acquire_with("key", |s| s.id() == "z").unwrap_err(),
            PickError::NoneAccepted { tried: 3 }
        );
    }

    #[test]
    fn unhealthy_servers_are_skipped_without_doubling_a_neighbour() {
        let rr = RoundRobin::new(["a", "b", "c"]).unwrap();
        rr.set_healthy("b", false).unwrap();
        assert_eq!(ids(&rr, 6), ["a", "c", "a", "c", "a", "c"]);

        let weighted = RoundRobin::new([
            Server::new("a").with_weight(5),
            Server::new("b"),
            Server::new("c"),
        ])
        .unwrap();
        weighted.set_healthy("b", false).unwrap();
        assert_eq!(ids(&weighted, 6), ["a", "a", "a", "c", "a", "a"]);
        weighted.set_healthy("b", true).unwrap();
        assert_eq!(ids(&weighted, 7), ["a", "a", "b", "a", "c", "a", "a"]);
    }

    #[test]
    fn a_sparse_healthy_server_is_found() {
        let rr = RoundRobin::new([Server::new("heavy").with_weight(1000), Server::new("light")])
            .unwrap();
        rr.set_healthy("heavy", false).unwrap();
        for _ in 0..5 {
            assert_eq!(rr.next().unwrap().id(), "light");
        }
        rr.set_healthy("light", false).unwrap();
        assert_eq!(rr.next().unwrap_err(), PickError::NoHealthyServer);
    }

    #[test]
    fn huge_periods_are_rejected() {
        let err = RoundRobin::new([
            Server::new("a").with_weight(u32::MAX),
            Server::new("b").with_weight(1),
        ])
        .unwrap_err();
        assert_eq!(
            err,
            Error::TooManyPoints {
                requested: u64::from(u32::MAX) + 1,
                max: MAX_ROUND_ROBIN_SLOTS
            }
        );
        // Equal weights need no table, whatever their size.
        let rr = RoundRobin::new([
            Server::new("a").with_weight(u32::MAX),
            Server::new("b").with_weight(u32::MAX),
        ])
        .unwrap();
        assert_eq!(ids(&rr, 3), ["a", "b", "a"]);
    }

    #[test]
    fn rebuild_keeps_cells_and_step() {
        let rr = RoundRobin::new(["a", "b", "c"]).unwrap();
        rr.set_healthy("c", false).unwrap();
        rr.next().unwrap();
        let mut next = rr.clone();
        next.add(Server::new("d")).unwrap();
        next.remove("a").unwrap();
        assert_eq!(next.step(), rr.step());
        assert!(!next.is_healthy("c").unwrap());
        assert!(
            next.server("b")
                .unwrap()
                .shares_state_with(rr.server("b").unwrap())
        );
        assert_eq!(
            next.add(Server::new("b")).unwrap_err(),
            Error::DuplicateServer { id: "b".into() }
        );
    }
}
