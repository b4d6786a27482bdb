//! Consistent hashing with bounded loads (Mirrokni, Thorup & Zadimoghaddam, 2018): a ring
//! whose servers turn keys away once they hold more than their share of requests.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::sync::AtomicU64;

use crate::{
    Balancer, Error, Fleet, HashRing, KeyHasher, Lease, MAX_CANDIDATES, PickError, RingOptions,
    Server, Update,
};

/// The default ε of [`BoundedLoad`]: no server holds more than ⌈1.25 × the average⌉.
pub const DEFAULT_EPSILON: f64 = 0.25;

/// How many more walks an acquire makes when racing acquires took the room its caps counted.
const RACING_WALKS: u32 = 16;

/// Options of a [`BoundedLoad`].
///
/// ```
/// use loadring::BoundedOptions;
///
/// let options = BoundedOptions::default().with_epsilon(0.5);
/// assert_eq!((options.epsilon, options.points_per_weight), (0.5, 160));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
#[non_exhaustive]
pub struct BoundedOptions {
    /// The ε of the cap `⌈(1 + ε) × average⌉`: finite and above 0. Default
    /// [`DEFAULT_EPSILON`]. A huge ε bounds nothing (caps saturate at `u64::MAX`).
    pub epsilon: f64,
    /// Points per unit of weight on the ring underneath (see [`RingOptions`]). Default 160.
    pub points_per_weight: u32,
}

impl BoundedOptions {
    /// Sets ε.
    pub fn with_epsilon(mut self, epsilon: f64) -> Self {
        self.epsilon = epsilon;
        self
    }

    /// Sets the ring's points per unit of weight.
    pub fn with_points_per_weight(mut self, points_per_weight: u32) -> Self {
        self.points_per_weight = points_per_weight;
        self
    }
}

impl Default for BoundedOptions {
    fn default() -> Self {
        BoundedOptions {
            epsilon: DEFAULT_EPSILON,
            points_per_weight: RingOptions::default().points_per_weight,
        }
    }
}

/// Consistent hashing with bounded loads: a [`HashRing`] plus leases that count requests in
/// flight, so that no server holds more than `⌈(1 + ε) × average⌉` of them.
///
/// # Mapping
///
/// Stated language-neutrally, with test vectors, in `docs/MAPPING.md` (mapping v1).
///
/// [`acquire`](crate::BalancerExt::acquire) takes a [`Lease`] on a server for one request.
/// With L leases of this balancer in flight and servers of weights wᵢ summing to W, server
/// i's cap is `cᵢ = ⌈(1 + ε)(L + 1) wᵢ / W⌉` (the average counts the new request; with equal
/// weights every cap is `⌈(1 + ε)(L + 1)/n⌉`), computed in `f64` from left to right:
/// `(1 + ε)`, times `L + 1`, times `wᵢ`, divided by `W`, then rounded up (so ε = 0.1, L + 1 =
/// 50 and 5 equal servers give 11.000000000000002, a cap of 12), saturating at `u64::MAX`. The key walks the ring clockwise from its
/// point, as [`HashRing`] documents, and goes to the first healthy server that holds fewer
/// than its cap, so that with this one it holds at most its cap. A key keeps its ring server
/// while that server is under the cap, and overflow goes on to the next servers clockwise.
/// The check and the count are one compare-exchange, so racing picks cannot overshoot the
/// cap together; a lease joins the count L before its caps are computed, so racing acquires
/// each count the others, and a walk that found every server full while that count changed
/// under it walks again with the new count (up to 16 times).
///
/// If none qualifies within the first n steps of the walk (n runs of one server's points),
/// the pick sums the weights of the healthy servers, H (an O(n) scan, only then), takes
/// `cᵢ = ⌈(1 + ε)(L + 1) wᵢ / H⌉` and walks the whole ring from the key's point. With every
/// server healthy the caps are the same and this finds the first server under its cap; with
/// some unhealthy, the healthy ones may carry more than their share of the whole fleet. The
/// caps then add up to more than L + 1, so some server always qualifies, unless requests in
/// flight are also counted on the same servers by other balancers (clones of a [`Server`]
/// share its counter): if none does, the pick returns [`PickError::Saturated`].
///
/// So a pick never leaves a server above the cap of the moment it was made, whatever the
/// sequence of acquires and releases. (A release lowers the average and thus the cap, and a
/// server may then sit above the new cap until its own requests finish: leases never move.)
///
/// [`pick_hash`](Balancer::pick_hash) and the other [`Balancer`] methods answer where a
/// lease would go now, without taking one; with nothing in flight that is the ring's pick.
///
/// # Changes
///
/// Every change ([`Update`]) keeps the count of leases in flight: leases taken before it
/// still count toward the cap after it, and release what they took.
///
/// # Disruption and health
///
/// As for the ring: adding or removing one of n servers moves about 1/n of the keys, and an
/// unhealthy server's keys go on clockwise to healthy servers. Loads move keys as well, by
/// design, but only while a server is at its cap.
///
/// ```
/// use loadring::{BalancerExt, BoundedLoad, BoundedOptions};
///
/// let options = BoundedOptions::default().with_epsilon(0.5);
/// let bounded = BoundedLoad::with_options(["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"], options)?;
/// let lease = bounded.acquire("user-42")?;
/// println!("send to {}", lease.server().id());
/// assert_eq!(lease.server().in_flight(), 1);
/// drop(lease); // or let it go out of scope: the request is no longer counted
/// assert_eq!(bounded.in_flight(), 0);
/// # Ok::<(), loadring::Error>(())
/// ```
#[derive(Clone)]
pub struct BoundedLoad {
    ring: HashRing,
    /// The sum of the servers' weights.
    weight_sum: u64,
    epsilon: f64,
    /// Leases of this balancer in flight; clones (and so every update through
    /// [`Shared`](crate::Shared)) share it.
    leased: Arc<AtomicU64>,
}

impl fmt::Debug for BoundedLoad {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedLoad")
            .field("epsilon", &self.epsilon)
            .field("in_flight", &self.in_flight())
            .field("ring", &self.ring)
            .finish()
    }
}

impl BoundedLoad {
    /// Builds over `servers` (ids or [`Server`]s) with the default options.
    ///
    /// Errors: those of [`HashRing::new`].
    pub fn new<I>(servers: I) -> Result<Self, Error>
    where
        I: IntoIterator,
        I::Item: Into<Server>,
    {
        Self::with_options(servers, BoundedOptions::default())
    }

    /// Builds with `options`; an ε that is not finite or not above 0 is an
    /// [`Error::InvalidOption`].
    pub fn with_options<I>(servers: I, options: BoundedOptions) -> Result<Self, Error>
    where
        I: IntoIterator,
        I::Item: Into<Server>,
    {
        check_epsilon(options.epsilon)?;
        let ring_options = RingOptions::default().with_points_per_weight(options.points_per_weight);
        Self::from_ring(
            HashRing::with_options(servers, ring_options)?,
            options.epsilon,
        )
    }

    /// Bounds the loads of an existing ring, with its options and hasher.
    ///
    /// An ε that is not finite or not above 0 is an [`Error::InvalidOption`].
    pub fn from_ring(ring: HashRing, epsilon: f64) -> Result<Self, Error> {
        check_epsilon(epsilon)?;
        Ok(BoundedLoad {
            weight_sum: weight_sum(&ring, |_| true),
            ring,
            epsilon,
            leased: Arc::default(),
        })
    }

    /// Uses `hasher` for keys instead of the default XXH3 (ring points stay as documented).
    pub fn with_hasher(mut self, hasher: KeyHasher) -> Self {
        self.ring = self.ring.with_hasher(hasher);
        self
    }

    /// The options the balancer was built with.
    pub fn options(&self) -> BoundedOptions {
        BoundedOptions {
            epsilon: self.epsilon,
            points_per_weight: self.ring.options().points_per_weight,
        }
    }

    /// The ring underneath.
    pub fn ring(&self) -> &HashRing {
        &self.ring
    }

    /// Leases of this balancer now in flight.
    pub fn in_flight(&self) -> u64 {
        self.leased.load(Ordering::Acquire)
    }

    /// The lease count a look (a pick without a lease) computes caps for: the leases in
    /// flight and the one it would take.
    #[inline]
    fn looking(&self) -> u64 {
        self.leased.load(Ordering::Acquire).saturating_add(1)
    }

    /// Takes a lease: counts it among the balancer's leases *before* `choose` computes caps
    /// from that count, so that racing acquires each see the others and their caps add up to
    /// more than the leases in flight. A walk that finds every server full while the count
    /// changed under it (other acquires took the room its caps were computed for) walks again
    /// with the new count, a bounded number of times; the count is given back if no server
    /// takes the lease.
    #[inline]
    fn leasing(
        &self,
        mut choose: impl FnMut(u64) -> Result<usize, PickError>,
    ) -> Result<Lease<'_>, PickError> {
        let mut total = self.leased.fetch_add(1, Ordering::AcqRel) + 1;
        let mut walks = 0;
        let err = loop {
            match choose(total) {
                Ok(i) => return Ok(Lease::counted_in(&self.ring.servers()[i], &self.leased)),
                Err(PickError::Saturated) if walks < RACING_WALKS => {
                    let now = self.leased.load(Ordering::Acquire);
                    if now == total {
                        break PickError::Saturated;
                    }
                    total = now;
                    walks += 1;
                }
                Err(e) => break e,
            }
        };
        self.leased.fetch_sub(1, Ordering::AcqRel);
        Err(err)
    }

    /// Applies a change to the ring, then recounts the weights.
    fn change<R>(&mut self, f: impl FnOnce(&mut HashRing) -> Result<R, Error>) -> Result<R, Error> {
        let out = f(&mut self.ring)?;
        self.weight_sum = weight_sum(&self.ring, |_| true);
        Ok(out)
    }

    /// `⌈(1 + ε) × total × weight / weight_sum⌉`, without a call to `ceil`.
    #[inline]
    fn cap(&self, total: u64, weight: u32, weight_sum: u64) -> u64 {
        let x = (1.0 + self.epsilon) * total as f64 * f64::from(weight) / weight_sum as f64;
        // A float cast saturates: a huge ε (or total) gives no bound rather than a wrap.
        let c = x as u64;
        if (c as f64) < x {
            c.saturating_add(1)
        } else {
            c
        }
    }

    /// The server the walk settles on; `take(index, server, cap)` accepts a server (and counts
    /// the request, for a lease) or turns it down.
    #[inline]
    ///
    /// `total` is the count of leases the caps are computed for, the new one included.
    fn choose(
        &self,
        hash: u64,
        total: u64,
        mut take: impl FnMut(usize, &Server, u64) -> bool,
    ) -> Result<usize, PickError> {
        let (servers, fleet) = (self.ring.servers(), self.ring.fleet());
        // Read only once an unavailable server is met: free while every server is up.
        let mut panic = None;
        for i in self.ring.clockwise(hash).take(servers.len()) {
            let s = &servers[i];
            let open = s.is_available()
                || (!s.is_draining() && *panic.get_or_insert_with(|| fleet.in_panic()));
            if open && take(i, s, self.cap(total, s.weight(), self.weight_sum)) {
                return Ok(i);
            }
        }
        let panic = fleet.in_panic();
        let usable = |s: &Server| {
            if panic {
                !s.is_draining()
            } else {
                s.is_available()
            }
        };
        let healthy = weight_sum(&self.ring, usable);
        if healthy == 0 {
            return Err(fleet.none_error());
        }
        for i in self.ring.clockwise(hash) {
            let s = &servers[i];
            if usable(s) && take(i, s, self.cap(total, s.weight(), healthy)) {
                return Ok(i);
            }
        }
        Err(PickError::Saturated)
    }
}

fn check_epsilon(epsilon: f64) -> Result<(), Error> {
    if !epsilon.is_finite() || epsilon <= 0.0 {
        return Err(Error::option(
            "epsilon",
            format!("must be finite and greater than 0, not {epsilon}"),
        ));
    }
    Ok(())
}

/// The sum of the weights of the ring's servers that `counted` accepts.
fn weight_sum(ring: &HashRing, counted: impl Fn(&Server) -> bool) -> u64 {
    let servers = ring.servers().iter().filter(|s| counted(s));
    servers.map(|s| u64::from(s.weight())).sum()
}

impl Balancer for BoundedLoad {
    fn fleet(&self) -> &Fleet {
        self.ring.fleet()
    }

    /// Where a lease would go now, without taking one.
    #[inline]
    fn pick_hash(&self, hash: u64) -> Result<&Server, PickError> {
        let i = self.choose(hash, self.looking(), |_, s, cap| s.in_flight() < cap)?;
        Ok(&self.ring.servers()[i])
    }

    /// Takes a lease on the first server clockwise under the cap (see the
    /// [type docs](BoundedLoad)).
    #[inline]
    fn acquire_hash(&self, hash: u64) -> Result<Lease<'_>, PickError> {
        self.leasing(|total| self.choose(hash, total, |_, s, cap| s.try_begin_request(cap)))
    }

    /// As [`acquire_hash`](Balancer::acquire_hash), passing over the servers `accept`
    /// turns down.
    fn acquire_hash_with(
        &self,
        hash: u64,
        accept: &mut dyn FnMut(&Server) -> bool,
    ) -> Result<Lease<'_>, PickError> {
        // `accept` is asked once per server, for at most MAX_CANDIDATES servers, though the
        // walk meets a server once per run of its points.
        let mut asked = [(0usize, false); MAX_CANDIDATES];
        let mut n = 0;
        let found = self.leasing(|total| {
            self.choose(hash, total, |i, s, cap| {
                let ok = match asked[..n].iter().find(|(j, _)| *j == i) {
                    Some(&(_, ok)) => ok,
                    None if n == MAX_CANDIDATES => false,
                    None => {
                        let ok = accept(s);
                        asked[n] = (i, ok);
                        n += 1;
                        ok
                    }
                };
                ok && s.try_begin_request(cap)
            })
        });
        match found {
            Err(PickError::Saturated) if asked[..n].iter().all(|(_, ok)| !ok) => {
                Err(PickError::NoneAccepted { tried: n })
            }
            found => found,
        }
    }

    /// Takes a lease on this server if it is available and under its cap, counted among the
    /// balancer's leases as a pick's lease is.
    fn acquire_server(&self, id: &str) -> Option<Lease<'_>> {
        let i = self.position(id)?;
        let s = &self.ring.servers()[i];
        if !s.is_available() {
            return None;
        }
        self.leasing(|total| {
            let cap = self.cap(total, s.weight(), self.weight_sum);
            if s.try_begin_request(cap) {
                Ok(i)
            } else {
                Err(PickError::Saturated)
            }
        })
        .ok()
    }

    fn candidates_hash(&self, hash: u64, out: &mut [usize]) -> usize {
        let Ok(picked) = self.choose(hash, self.looking(), |_, s, cap| s.in_flight() < cap) else {
            return 0;
        };
        let walk = std::iter::once(picked).chain(self.ring.clockwise(hash));
        self.ring.fleet().ranked(walk, out)
    }

    fn hasher(&self) -> &KeyHasher {
        self.ring.hasher()
    }
}

impl Update for BoundedLoad {
    /// The same ring options, ε and count of leases over `servers`.
    fn set_servers(&mut self, servers: Vec<Server>) -> Result<(), Error> {
        self.change(|ring| ring.set_servers(servers))
    }

    fn add(&mut self, server: Server) -> Result<(), Error> {
        self.change(|ring| ring.add(server))
    }

    fn remove(&mut self, id: &str) -> Result<Server, Error> {
        self.change(|ring| ring.remove(id))
    }

    fn set_weight(&mut self, id: &str, weight: u32) -> Result<(), Error> {
        self.change(|ring| ring.set_weight(id, weight))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BalancerExt, RingOptions};
    use proptest::prelude::*;

    /// A walk that finds every server full while racing acquires keep changing the count
    /// walks again with the new count, exactly `RACING_WALKS` more times, then gives its
    /// place in the count back; one that succeeds on a re-walk holds its lease.
    #[test]
    fn a_lease_rewalks_as_often_as_racing_acquires_change_the_count() {
        let b = BoundedLoad::new(["a", "b"]).unwrap();
        let mut walks = 0;
        let err = b
            .leasing(|_| {
                walks += 1;
                b.leased.fetch_add(1, Ordering::AcqRel); // a racing acquire takes a lease
                Err(PickError::Saturated)
            })
            .unwrap_err();
        assert_eq!(err, PickError::Saturated);
        assert_eq!(walks, RACING_WALKS + 1);
        assert_eq!(
            b.in_flight(),
            u64::from(RACING_WALKS) + 1,
            "only the racers' count stays"
        );

        let b = BoundedLoad::new(["a", "b"]).unwrap();
        let mut walks = 0;
        let lease = b.leasing(|_| {
            walks += 1;
            if walks == 1 {
                b.leased.fetch_add(1, Ordering::AcqRel);
                Err(PickError::Saturated)
            } else {
                Ok(0)
            }
        });
        assert_eq!(lease.unwrap().id(), "a");
        assert_eq!(walks, 2);
    }

    fn ids(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| format!("10.4.{}.{}:80", i / 256, i % 256))
            .collect()
    }

    fn bounded(n: usize, epsilon: f64) -> BoundedLoad {
        let ring = HashRing::with_options(
            ids(n).iter().map(String::as_str),
            RingOptions::default().with_points_per_weight(16),
        )
        .unwrap();
        BoundedLoad::from_ring(ring, epsilon).unwrap()
    }

    fn cap(epsilon: f64, total: u64, n: usize) -> u64 {
        ((1.0 + epsilon) * total as f64 / n as f64).ceil() as u64
    }

    #[derive(Debug, Clone)]
    enum Op {
        Acquire(u32),
        Release(prop::sample::Index),
        Health(prop::sample::Index, bool),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => any::<u32>().prop_map(Op::Acquire),
            3 => any::<prop::sample::Index>().prop_map(Op::Release),
            1 => (any::<prop::sample::Index>(), any::<bool>()).prop_map(|(i, h)| Op::Health(i, h)),
        ]
    }

    proptest! {
        #[test]
        fn no_pick_leaves_a_server_above_the_cap(
            n in 1usize..12,
            epsilon in prop_oneof![Just(0.01), Just(0.1), Just(0.25), Just(1.0), 0.001f64..3.0],
            ops in prop::collection::vec(op(), 1..300),
        ) {
            let b = bounded(n, epsilon);
            let mut held: Vec<Lease<'_>> = Vec::new();
            for op in ops {
                match op {
                    Op::Acquire(key) => {
                        let healthy: Vec<&Server> =
                            b.servers().iter().filter(|s| s.is_available()).collect();
                        match b.acquire(&key) {
                            Ok(lease) => {
                                let s = lease.server().clone();
                                prop_assert!(s.is_available());
                                held.push(lease);
                                let total = held.len() as u64;
                                prop_assert_eq!(b.in_flight(), total);
                                prop_assert!(s.in_flight() <= cap(epsilon, total, healthy.len()));
                                if healthy.len() == n {
                                    prop_assert!(s.in_flight() <= cap(epsilon, total, n));
                                }
                            }
                            Err(e) => {
                                prop_assert!(healthy.is_empty());
                                prop_assert_eq!(e, PickError::NoHealthyServer);
                            }
                        }
                    }
                    Op::Release(i) => {
                        if !held.is_empty() {
                            held.swap_remove(i.index(held.len())).release();
                        }
                    }
                    Op::Health(i, h) => {
                        b.servers()[i.index(n)].set_healthy(h);
                    }
                }
                let counted: u64 = b.servers().iter().map(Server::in_flight).sum();
                prop_assert_eq!(counted, held.len() as u64);
            }
        }
    }

    proptest! {
        #[test]
        fn matches_a_plain_model(
            n in 1usize..10,
            ops in prop::collection::vec(op(), 1..200),
        ) {
            // The model: the cap from the count of leases, then the first server under it
            // in the order of the key's clockwise walk (every server healthy).
            let b = bounded(n, 0.25);
            let mut held: Vec<Lease<'_>> = Vec::new();
            for op in ops {
                match op {
                    Op::Acquire(key) => {
                        let c = cap(0.25, held.len() as u64 + 1, n);
                        let want = b
                            .ring()
                            .candidates(&key, n)
                            .into_iter()
                            .find(|s| s.in_flight() < c)
                            .map(|s| s.id().to_owned());
                        let lease = b.acquire(&key).unwrap();
                        prop_assert_eq!(Some(lease.server().id().to_owned()), want);
                        held.push(lease);
                    }
                    Op::Release(i) if !held.is_empty() => {
                        held.swap_remove(i.index(held.len())).release();
                    }
                    _ => {}
                }
            }
        }
    }

    proptest! {
        #[test]
        fn caps_follow_weights(
            n in 1usize..10,
            epsilon in 0.01f64..2.0,
            keys in prop::collection::vec(any::<u32>(), 1..400),
        ) {
            let servers = ids(n)
                .into_iter()
                .enumerate()
                .map(|(i, id)| Server::new(id).with_weight(1 + i as u32 % 3));
            let ring = HashRing::with_options(servers, RingOptions::default().with_points_per_weight(16))
                .unwrap();
            let b = BoundedLoad::from_ring(ring, epsilon).unwrap();
            let w: u64 = b.servers().iter().map(|s| u64::from(s.weight())).sum();
            let mut held = Vec::new();
            for k in keys {
                held.push(b.acquire(&k).unwrap());
                let total = held.len() as u64;
                for s in b.servers() {
                    let cap = ((1.0 + epsilon) * total as f64 * f64::from(s.weight()) / w as f64).ceil();
                    prop_assert!(s.in_flight() as f64 <= cap, "{} holds {} > {cap}", s.id(), s.in_flight());
                }
            }
        }
    }

    #[test]
    fn an_owned_lease_keeps_both_counts_and_outlives_the_balancer() {
        let b = bounded(4, 0.25);
        let lease = b.acquire("k").unwrap().into_owned();
        let server = lease.server().clone();
        assert_eq!((b.in_flight(), server.in_flight()), (1, 1));
        let again = lease.into_owned();
        assert_eq!((b.in_flight(), server.in_flight()), (1, 1));
        drop(again);
        assert_eq!((b.in_flight(), server.in_flight()), (0, 0));
        let kept = b.acquire("k").unwrap().into_owned();
        drop(b);
        assert_eq!(server.in_flight(), 1);
        drop(kept);
        assert_eq!(server.in_flight(), 0);
    }

    #[test]
    fn with_nothing_in_flight_keys_follow_the_ring() {
        let b = bounded(20, 0.25);
        for k in 0..2000u32 {
            let lease = b.acquire(&k).unwrap();
            assert_eq!(lease.server().id(), b.ring().pick(&k).unwrap().id());
        }
        assert_eq!(b.in_flight(), 0);
    }

    #[test]
    fn removing_or_adding_one_of_100_moves_about_a_hundredth() {
        let all: Vec<String> = (0..101).map(|i| format!("10.6.0.{i}:80")).collect();
        let hundred = BoundedLoad::new(all[..100].iter().map(String::as_str)).unwrap();
        let mut fewer = BoundedLoad::new(all[..100].iter().map(String::as_str)).unwrap();
        fewer.remove(&all[37]).unwrap();
        let mut more = BoundedLoad::new(all[..100].iter().map(String::as_str)).unwrap();
        more.add(all[100].as_str().into()).unwrap();
        let keys = 20_000u32;
        let (mut removed, mut added) = (0u32, 0u32);
        for k in 0..keys {
            let was = hundred.acquire(&k).unwrap().server().id().to_owned();
            let now = fewer.acquire(&k).unwrap().server().id().to_owned();
            assert_eq!(now != was, was == all[37], "key {k}");
            removed += u32::from(now != was);
            let now = more.acquire(&k).unwrap().server().id().to_owned();
            if now != was {
                assert_eq!(now, all[100]);
                added += 1;
            }
        }
        let (removed, added) = (
            f64::from(removed) / f64::from(keys),
            f64::from(added) / f64::from(keys),
        );
        // A ring of 160 points a server: shares of about 1 %, give or take a quarter.
        assert!((0.005..0.016).contains(&removed), "removal moved {removed}");
        assert!((0.005..0.016).contains(&added), "addition moved {added}");
    }

    #[test]
    fn a_hot_key_overflows_clockwise_and_the_cap_holds() {
        let b = bounded(10, 0.25);
        let leases: Vec<Lease<'_>> = (0..1000).map(|_| b.acquire("hot").unwrap()).collect();
        let c = cap(0.25, 1000, 10);
        let loads: Vec<u64> = b.servers().iter().map(Server::in_flight).collect();
        assert!(loads.iter().all(|&l| l <= c), "{loads:?} over {c}");
        // The key's own server is full before any other takes it.
        let home = b.ring().pick("hot").unwrap();
        assert_eq!(home.in_flight(), c);
        // Overflow fills servers in the order of the key's walk: whenever the request number
        // t went past k servers, they held ⌈1.25 t / 10⌉ each, so k ≤ 7 and the last two
        // servers of the walk never got one.
        let order = b.ring().candidates("hot", 10);
        assert_eq!(order[0].id(), home.id());
        assert_eq!((order[8].in_flight(), order[9].in_flight()), (0, 0));
        drop(leases);
        assert!(b.servers().iter().all(|s| s.in_flight() == 0));
        assert_eq!(b.in_flight(), 0);
    }

    #[test]
    fn racing_threads_cannot_overshoot_the_cap() {
        let b = bounded(8, 0.1);
        let per_thread = 400u32;
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4u32)
                .map(|t| {
                    let b = &b;
                    scope.spawn(move || {
                        (0..per_thread)
                            .map(|k| b.acquire(&(k % 7 + t)).unwrap())
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            let leases: Vec<Vec<Lease<'_>>> =
                handles.into_iter().map(|h| h.join().unwrap()).collect();
            let total = u64::from(4 * per_thread);
            assert_eq!(b.in_flight(), total);
            let c = cap(0.1, total, 8);
            for s in b.servers() {
                assert!(
                    s.in_flight() <= c,
                    "{} holds {} over {c}",
                    s.id(),
                    s.in_flight()
                );
            }
            drop(leases);
        });
        assert_eq!(b.in_flight(), 0);
    }

    #[test]
    fn unhealthy_servers_raise_the_cap_of_the_others() {
        let b = bounded(4, 0.25);
        for s in &b.servers()[..3] {
            s.set_healthy(false);
        }
        let leases: Vec<Lease<'_>> = (0..50u32).map(|k| b.acquire(&k).unwrap()).collect();
        assert_eq!(b.servers()[3].in_flight(), 50);
        drop(leases);
        b.servers()[3].set_healthy(false);
        assert_eq!(b.acquire("k").unwrap_err(), PickError::NoHealthyServer);
        assert_eq!(b.pick("k").unwrap_err(), PickError::NoHealthyServer);
    }

    #[test]
    fn leases_counted_elsewhere_can_saturate() {
        let b = bounded(2, 0.25);
        // Another holder of the same servers' cells fills them.
        for s in b.servers() {
            for _ in 0..10 {
                s.begin_request();
            }
        }
        assert_eq!(b.acquire("k").unwrap_err(), PickError::Saturated);
        assert_eq!(b.pick("k").unwrap_err(), PickError::Saturated);
        assert_eq!(b.candidates("k", 2).len(), 0);
    }

    #[test]
    fn bad_epsilon_is_an_error() {
        for bad in [0.0, -0.5, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(matches!(
                BoundedLoad::with_options(["a"], BoundedOptions::default().with_epsilon(bad)),
                Err(Error::InvalidOption { ref name, .. }) if name == "epsilon"
            ));
        }
        let empty = BoundedLoad::new(Vec::<Server>::new()).unwrap();
        assert_eq!(empty.acquire("k").unwrap_err(), PickError::NoServers);
        let mut b = BoundedLoad::new(["a", "b"]).unwrap();
        assert_eq!(b.options().epsilon, DEFAULT_EPSILON);
        b.add("c".into()).unwrap();
        b.set_weight("c", 2).unwrap();
        b.remove("a").unwrap();
        assert_eq!(b.len(), 2);
    }
}
