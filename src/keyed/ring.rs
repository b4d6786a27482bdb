//! Consistent-hash ring with virtual nodes and weights.

use std::cmp::Ordering;

use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::hash::DEFAULT_SEED;
use crate::{Balancer, Error, Fleet, KeyHasher, PickError, Server, Update};

/// The most points a ring may hold in all (2²⁴, about 16.8 million: 268 MB of points).
pub const MAX_RING_POINTS: u64 = 1 << 24;

/// Options of a [`HashRing`].
///
/// ```
/// use loadring::RingOptions;
///
/// let options = RingOptions::default().with_points_per_weight(40);
/// assert_eq!(options.points_per_weight, 40);
/// assert_eq!(RingOptions::default().points_per_weight, 160);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
#[non_exhaustive]
pub struct RingOptions {
    /// Virtual nodes (points) per unit of weight; at least 1. Default 160.
    pub points_per_weight: u32,
}

impl RingOptions {
    /// Sets the points per unit of weight.
    pub fn with_points_per_weight(mut self, points_per_weight: u32) -> Self {
        self.points_per_weight = points_per_weight;
        self
    }
}

impl Default for RingOptions {
    fn default() -> Self {
        RingOptions {
            points_per_weight: 160,
        }
    }
}

/// A consistent-hash ring with virtual nodes: each server owns `weight × points_per_weight`
/// points on a 64-bit circle, and a key goes to the owner of the first point at or after the
/// key's hash, wrapping past the top.
///
/// # Mapping
///
/// Stated language-neutrally, with test vectors, in `docs/MAPPING.md` (mapping v1).
///
/// Point `i` (from 0) of a server is `XXH3-64(id bytes ‖ i as u32 little-endian)` with
/// seed [`DEFAULT_SEED`](crate::hash::DEFAULT_SEED), whatever [`KeyHasher`] hashes the keys.
/// Points are ordered by value, and points of equal value by owner id (byte-wise), so the
/// ring depends on the set of servers and weights alone, not on the order they came in.
/// A key with hash `h` goes to the first point `p ≥ h`, or to the first point if there is none.
///
/// # Disruption
///
/// Adding or removing one of n equal servers moves about 1/n of the keys, and only to or
/// from that server; raising a weight from w to w′ moves about (w′ − w)/W′ of the keys to the
/// reweighted server (W′ the new total weight), lowering it moves only that server's keys.
///
/// # Health
///
/// A key whose server is unhealthy continues clockwise to the next point owned by a healthy
/// server, skipping runs of one server's points in one step. Since a server's points are
/// scattered over the ring, its keys spread over many servers; when it is healthy again they
/// all come back.
///
/// # Balance
///
/// With 160 points per weight the busiest of 100 servers gets about 1.2–1.3× the mean; more
/// points even it out at the cost of memory (18 to 20 bytes a point, see below).
///
/// # Layout, and the cache lines a pick reads
///
/// The points lie in one array in ring order, 12 bytes each: the value and the owner's index
/// in the fleet. Beside it, an array the picks never read holds each point's link to the
/// next point with another owner, the steps of the health walk. A table of buckets indexes
/// the points: the top `k` bits of a hash are its bucket, where `2ᵏ` is the largest power of
/// two up to the point count, so a bucket holds one or two points. A bucket's entry is the
/// index of the first point at or after the bucket's start. A pick of a key with hash `h`:
///
/// 1. reads the entry of `h`'s bucket: **one line** (4-byte entries);
/// 2. reads the two points from there and steps past those below `h`, with two compares
///    and no branch (a loop takes the rare buckets of three or more): **one line**, two when
///    the pair straddles a line (about one time in three);
/// 3. reads the owner's [`Server`] in the fleet's array: **one line** (32 bytes a server),
///    the line the caller goes on to read;
/// 4. reads the owner's mark byte (healthy, draining), which its clones share and which
///    sits beside the marks of the servers made with it: **one line**.
///
/// Each read needs the one before it, and none waits on a branch the processor guessed: the
/// number of points below the key is counted, not searched for. With 1000 servers at 160
/// points the tables take 2.4 MB (1.9 MB of points and 0.5 MB of buckets, and 0.6 MB of
/// links beside), so when picks spread over many keys, lines 1 and 2 come from the shared
/// cache or memory, while lines 3 and 4 (32 KB and 1 KB for the whole fleet) mostly stay
/// in the core's own caches. A key whose owner is unavailable walks on by the links.
///
/// In all, 18 to 20 bytes a point: 12 for the point, 4 for its link, 2 to 4 for the
/// buckets.
///
/// ```
/// use loadring::{Balancer, BalancerExt, HashRing, Server, Update};
///
/// let mut ring = HashRing::new(["10.0.0.1:80", "10.0.0.2:80"])?;
/// ring.add(Server::new("10.0.0.3:80").with_weight(2))?;
/// let server = ring.pick("session-9f3")?;
/// ring.set_healthy(server.id(), false)?;
/// assert_ne!(ring.pick("session-9f3")?.id(), server.id());
/// # Ok::<(), loadring::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct HashRing {
    fleet: Fleet,
    hasher: KeyHasher,
    options: RingOptions,
    /// The points in ring order.
    points: Vec<Point>,
    /// For each point, the next point clockwise with another owner (itself if the ring has
    /// one owner): the health walk's steps. Apart from the points, which picks read.
    next_other: Vec<u32>,
    /// `buckets[b]` is the index of the first point at or after the start of bucket `b`
    /// (the hashes whose top `64 - shift` bits are `b`), or the point count if there is none.
    buckets: Vec<u32>,
    /// 64 − the bits of a hash that number its bucket.
    shift: u32,
}

/// One virtual node: its value and its owner's index, 12 bytes, five and a third to a line
/// (packed: a `u64` on a 4-byte boundary).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C, packed(4))]
struct Point {
    hash: u64,
    owner: u32,
}

impl Point {
    fn new(hash: u64, owner: u32) -> Self {
        Point { hash, owner }
    }
}

impl HashRing {
    /// Builds a ring over `servers` (ids or [`Server`]s) with the default options.
    ///
    /// Errors: [`Error::DuplicateServer`], [`Error::ZeroWeight`], [`Error::TooManyPoints`].
    pub fn new<I>(servers: I) -> Result<Self, Error>
    where
        I: IntoIterator,
        I::Item: Into<Server>,
    {
        Self::with_options(servers, RingOptions::default())
    }

    /// Builds a ring with `options`; `points_per_weight` 0 is an [`Error::InvalidOption`].
    pub fn with_options<I>(servers: I, options: RingOptions) -> Result<Self, Error>
    where
        I: IntoIterator,
        I::Item: Into<Server>,
    {
        if options.points_per_weight == 0 {
            return Err(Error::option("points_per_weight", "must be at least 1"));
        }
        let fleet = Fleet::new(servers)?;
        let total = fleet
            .servers()
            .iter()
            .try_fold(0u64, |sum, s| {
                sum.checked_add(points_of(s.weight(), options.points_per_weight))
            })
            .unwrap_or(u64::MAX);
        let count = check_points(total)?;
        let mut ring = HashRing {
            fleet,
            hasher: KeyHasher::default(),
            options,
            points: Vec::new(),
            next_other: Vec::new(),
            buckets: Vec::new(),
            shift: 63,
        };
        ring.lay_out(count);
        Ok(ring)
    }

    /// Uses `hasher` for keys instead of the default XXH3 (ring points stay as documented).
    pub fn with_hasher(mut self, hasher: KeyHasher) -> Self {
        self.hasher = hasher;
        self
    }

    /// The options the ring was built with.
    pub fn options(&self) -> RingOptions {
        self.options
    }

    /// The point count as a `u64` (at most [`MAX_RING_POINTS`]).
    fn point_total(&self) -> u64 {
        u64::try_from(self.points.len()).unwrap_or(u64::MAX)
    }

    /// How many points the ring holds.
    pub fn point_count(&self) -> usize {
        self.points.len()
    }

    /// Bytes the ring's tables occupy (points, links and buckets), without the servers: 16 a
    /// point and 2 to 4 more for the buckets.
    pub fn table_bytes(&self) -> usize {
        let links = self.next_other.capacity() + self.buckets.capacity();
        self.points.capacity() * std::mem::size_of::<Point>() + links * 4
    }

    /// Adds a server; only keys that now belong to it move.
    fn add_server(&mut self, server: Server) -> Result<(), Error> {
        let added = points_of(server.weight(), self.options.points_per_weight);
        check_points(self.point_total().saturating_add(added))?;
        let owner = self.fleet.push(server)? as u32;
        self.merge_points_of(owner);
        Ok(())
    }

    /// Removes the server with this id; only its keys move.
    fn remove_server(&mut self, id: &str) -> Result<Server, Error> {
        let (gone, server) = self.fleet.remove(id)?;
        let gone = gone as u32;
        self.points.retain(|p| p.owner != gone);
        for p in &mut self.points {
            p.owner -= u32::from(p.owner > gone);
        }
        self.relink();
        Ok(server)
    }

    /// Changes a server's weight, keeping its cells; only keys that must move, move.
    fn reweight(&mut self, id: &str, weight: u32) -> Result<(), Error> {
        let i = self.fleet.position(id).ok_or_else(|| Error::unknown(id))?;
        let ppw = self.options.points_per_weight;
        let old = points_of(self.fleet.servers()[i].weight(), ppw);
        let kept = self.point_total().saturating_sub(old);
        check_points(kept.saturating_add(points_of(weight, ppw)))?;
        self.fleet.set_weight(id, weight)?;
        // Point k of a server does not depend on its weight, so dropping the server's points
        // and adding the new set gives exactly the ring a fresh build would.
        self.points.retain(|p| p.owner != i as u32);
        self.merge_points_of(i as u32);
        Ok(())
    }

    /// Merges the points of server `owner` (not on the ring yet) into the ring: each new point
    /// finds its place by a binary search, and the old points after it move up at once.
    fn merge_points_of(&mut self, owner: u32) {
        let mut new = Vec::new();
        let server = &self.fleet.servers()[owner as usize];
        server_points(server, self.options.points_per_weight, |hashes| {
            new.extend(hashes.iter().map(|&hash| Point::new(hash, owner)))
        });
        new.sort_unstable_by(|x, y| self.ring_order(x, y));
        let mut points = std::mem::take(&mut self.points);
        let mut end = points.len();
        points.resize(end + new.len(), Point::new(0, 0));
        // From the last new point back: the old points after it (and before the new point
        // placed last) move up past it and the new points before it.
        for (before, p) in new.iter().enumerate().rev() {
            let at = points[..end].partition_point(|q| self.ring_order(q, p) == Ordering::Less);
            points.copy_within(at..end, at + before + 1);
            points[at + before] = *p;
            end = at;
        }
        self.points = points;
        self.relink();
    }

    /// Whether `a` comes after `b` in ring order: the values decide, and the ids only if
    /// they are equal.
    #[inline]
    fn out_of_order(&self, a: &Point, b: &Point) -> bool {
        let (x, y) = (a.hash, b.hash);
        x > y || (x == y && self.ring_order(a, b) == Ordering::Greater)
    }

    /// Ring order: by point value, then by owner id.
    fn ring_order(&self, a: &Point, b: &Point) -> Ordering {
        let (x, y) = (a.hash, b.hash);
        x.cmp(&y).then_with(|| {
            let ids = self.fleet.servers();
            ids[a.owner as usize].id().cmp(ids[b.owner as usize].id())
        })
    }

    /// Bits of a point value that number its bucket, for `n` points: one to two points a
    /// bucket.
    fn bucket_bits(n: usize) -> u32 {
        (usize::BITS - n.leading_zeros())
            .saturating_sub(1)
            .clamp(1, 24)
    }

    /// Lays out the ring's `count` points.
    ///
    /// Point values are uniform, so a counting sort on their top bits (their buckets) leaves
    /// one or two points per bucket to order: linear time. The points are counted per bucket
    /// first and then written straight into their buckets, the counts turning into each
    /// bucket's next free place, so a build holds the tables alone, never a second table of
    /// points (for 100,000 servers: 276 MiB of tables, where gathering the points first and
    /// sorting them into a second table would take 520 MiB). Hashing the points twice costs
    /// less than the memory it saves: a quarter of a build.
    fn lay_out(&mut self, count: usize) {
        let per_weight = self.options.points_per_weight;
        let fleet = &self.fleet;
        (self.points, self.buckets, self.shift) =
            self.order(count, |f| in_batches(fleet, per_weight, f));
        link_runs(&self.points, &mut self.next_other);
    }

    /// The points in ring order, the buckets and their shift, for the `count` points that
    /// `batches` hands to its argument some thousands at a time, the same each time.
    fn order(
        &self,
        count: usize,
        batches: impl Fn(&mut dyn FnMut(&[Point])),
    ) -> (Vec<Point>, Vec<u32>, u32) {
        let shift = 64 - Self::bucket_bits(count);
        let mut next = vec![0u32; 1 << (64 - shift)];
        batches(&mut |batch| {
            for p in batch {
                next[(p.hash >> shift) as usize] += 1;
            }
        });
        counts_to_starts(&mut next);
        let mut placed = vec![Point::new(0, 0); count];
        batches(&mut |batch| {
            for &p in batch {
                let slot = &mut next[(p.hash >> shift) as usize];
                placed[*slot as usize] = p;
                *slot += 1;
            }
        });
        // Points of one bucket are in the order they came: an insertion pass orders them in
        // one sweep, as only the one or two points of a bucket can be out of order.
        for i in 1..placed.len() {
            let mut j = i;
            while j > 0 && self.out_of_order(&placed[j - 1], &placed[j]) {
                placed.swap(j - 1, j);
                j -= 1;
            }
        }
        // Each bucket's next free place is now its end: the start of the bucket after it.
        next.rotate_right(1);
        next[0] = 0;
        if placed.is_empty() {
            next = Vec::new();
        }
        (placed, next, shift)
    }

    /// Rebuilds the buckets and the `next_other` links of the points, which are in ring order.
    fn relink(&mut self) {
        self.shift = 64 - Self::bucket_bits(self.points.len());
        bucket_starts(&self.points, self.shift, &mut self.buckets);
        link_runs(&self.points, &mut self.next_other);
    }

    /// The index of the first point at or after `hash`, wrapping past the last point.
    fn point_at(&self, hash: u64) -> usize {
        match self.buckets.get((hash >> self.shift) as usize) {
            Some(&from) => self.point_from(from, hash),
            None => 0,
        }
    }

    /// The index of the first point at or after `hash`, wrapping past the last point, from
    /// `from`, the first point at or after the start of the key's bucket.
    ///
    /// It steps past the bucket's points below `hash`. A bucket holds one or two points, so
    /// the first two steps are taken without a branch (the second point is below `hash` only
    /// if the first is: they are in order), and a loop takes the rare rest: no branch that
    /// the processor must guess waits for the points to come from memory.
    #[inline]
    fn point_from(&self, from: u32, hash: u64) -> usize {
        let from = from as usize;
        let below = |i: usize| self.points.get(i).is_some_and(|p| p.hash < hash);
        let mut i = match self.points.get(from..from + 2) {
            Some([a, b]) => from + usize::from(a.hash < hash) + usize::from(b.hash < hash),
            _ => from,
        };
        while below(i) {
            i += 1;
        }
        if i == self.points.len() { 0 } else { i }
    }

    /// The owners met walking clockwise from the key's point, one per run of one owner's
    /// points: the key's own server first. A server may come up again after others; the walk
    /// ends after one lap.
    pub(crate) fn clockwise(&self, hash: u64) -> impl Iterator<Item = usize> + '_ {
        self.clockwise_from(self.point_at(hash))
    }

    /// The first usable server clockwise from point `i`, whose owner is not available.
    #[cold]
    #[inline(never)]
    fn fall_back(&self, i: usize) -> Result<&Server, PickError> {
        let servers = self.fleet.servers();
        let panic = self.fleet.in_panic();
        for (step, owner) in self.clockwise_from(i).enumerate() {
            if self.fleet.usable(owner, panic) {
                return Ok(&servers[owner]);
            }
            if step == servers.len() && !self.fleet.any_usable(panic) {
                break;
            }
        }
        Err(PickError::NoHealthyServer)
    }

    fn clockwise_from(&self, start: usize) -> impl Iterator<Item = usize> + '_ {
        let len = self.points.len();
        let (mut at, mut travelled) = (start, 0);
        std::iter::from_fn(move || {
            if travelled >= len {
                return None;
            }
            let p = self.points[at];
            let next = self.next_other[at] as usize;
            travelled += if next == at {
                len
            } else {
                (next + len - at) % len
            };
            at = next;
            Some(p.owner as usize)
        })
    }
}

/// Fills `starts` with the index of the first point of each bucket `b` of the top
/// `64 - shift` bits: how many points fall in the buckets before it (none without points).
fn bucket_starts(points: &[Point], shift: u32, starts: &mut Vec<u32>) {
    starts.clear();
    if !points.is_empty() {
        starts.resize(1 << (64 - shift), 0);
    }
    for p in points {
        starts[(p.hash >> shift) as usize] += 1;
    }
    counts_to_starts(starts);
}

/// Turns each bucket's count of points into its first point's index: the points before it.
fn counts_to_starts(counts: &mut [u32]) {
    let mut start = 0;
    for slot in counts {
        (*slot, start) = (start, start + *slot);
    }
}

/// Calls `f` with the points of the fleet's servers (their values and owners), some
/// thousands at a time, so that the scattered writes `f` makes into large tables run back to
/// back and overlap, instead of one between every two hashes.
fn in_batches(fleet: &Fleet, points_per_weight: u32, mut f: impl FnMut(&[Point])) {
    const BATCH: usize = 4096;
    let mut batch = Vec::with_capacity(BATCH + LANES);
    for (owner, server) in fleet.servers().iter().enumerate() {
        server_points(server, points_per_weight, |hashes| {
            batch.extend(hashes.iter().map(|&hash| Point::new(hash, owner as u32)));
            if batch.len() >= BATCH {
                f(&batch);
                batch.clear();
            }
        });
    }
    f(&batch);
}

/// Fills `next_other` with each point's next point clockwise with another owner (itself if
/// the ring has one owner), walking back from the last point.
fn link_runs(points: &[Point], next_other: &mut Vec<u32>) {
    next_other.clear();
    next_other.extend(0..points.len() as u32);
    let Some(last) = points.last().map(|p| p.owner) else {
        return;
    };
    let Some(first_other) = points.iter().position(|p| p.owner != last) else {
        return;
    };
    let n = points.len();
    next_other[n - 1] = first_other as u32;
    for i in (0..n - 1).rev() {
        next_other[i] = if points[i + 1].owner != points[i].owner {
            i as u32 + 1
        } else {
            next_other[i + 1]
        };
    }
}

/// Points a server of `weight` holds; the product of two `u32`s always fits a `u64`.
fn points_of(weight: u32, points_per_weight: u32) -> u64 {
    u64::from(weight) * u64::from(points_per_weight)
}

/// How many points [`server_points`] hashes together.
const LANES: usize = 32;

/// Calls `f` with the values of the points of `server`, in point-index order, [`LANES`] at
/// a time (at most [`MAX_RING_POINTS`] in all, which the callers have checked).
///
/// Hashing `id ‖ i` right after writing `i` would stall: the hash reads 8 bytes at a time,
/// across the 4 just written, and a read that overlaps a write still in flight waits for it
/// to land. So the indices of [`LANES`] points are written first, each beside its copy of
/// the id, and the points hashed after: more than twice as fast.
fn server_points(server: &Server, points_per_weight: u32, mut f: impl FnMut(&[u64])) {
    // At most 2^24 after the `min`, so the cast below is exact.
    let count = points_of(server.weight(), points_per_weight).min(MAX_RING_POINTS) as u32;
    let id = server.id().as_bytes();
    let width = id.len() + 4;
    let mut lanes = vec![0; width * LANES];
    for lane in lanes.chunks_exact_mut(width) {
        lane[..id.len()].copy_from_slice(id);
    }
    let mut hashes = [0u64; LANES];
    for first in (0..count).step_by(LANES) {
        // A last round of fewer than 32 points hashes all 32 lanes, and hands out its own.
        for (i, lane) in (first..).zip(lanes.chunks_exact_mut(width)) {
            lane[id.len()..].copy_from_slice(&i.to_le_bytes());
        }
        for (hash, lane) in hashes.iter_mut().zip(lanes.chunks_exact(width)) {
            *hash = xxh3_64_with_seed(lane, DEFAULT_SEED);
        }
        f(&hashes[..(count - first).min(LANES as u32) as usize]);
    }
}

/// The point count as a length, or [`Error::TooManyPoints`] above [`MAX_RING_POINTS`] (a sum
/// that overflowed arrives here as `u64::MAX`).
fn check_points(requested: u64) -> Result<usize, Error> {
    match usize::try_from(requested) {
        Ok(n) if requested <= MAX_RING_POINTS => Ok(n),
        _ => Err(Error::TooManyPoints {
            requested,
            max: MAX_RING_POINTS,
        }),
    }
}

impl Balancer for HashRing {
    fn fleet(&self) -> &Fleet {
        &self.fleet
    }

    #[inline]
    fn pick_hash(&self, hash: u64) -> Result<&Server, PickError> {
        let Some(&from) = self.buckets.get((hash >> self.shift) as usize) else {
            return Err(PickError::NoServers);
        };
        let i = self.point_from(from, hash);
        let servers = self.fleet.servers();
        let first = &servers[self.points[i].owner as usize];
        if first.is_available() {
            return Ok(first);
        }
        self.fall_back(i)
    }

    fn candidates_hash(&self, hash: u64, out: &mut [usize]) -> usize {
        self.fleet.ranked(self.clockwise(hash), out)
    }

    fn hasher(&self) -> &KeyHasher {
        &self.hasher
    }
}

impl Update for HashRing {
    /// A fresh build over `servers` with the same options and key hash.
    fn set_servers(&mut self, servers: Vec<Server>) -> Result<(), Error> {
        let new = HashRing::with_options(servers, self.options)?.with_hasher(self.hasher);
        let old = std::mem::replace(self, new);
        self.fleet.keep_settings_of(&old.fleet);
        Ok(())
    }

    /// Merges the new server's points into the ring: only keys that now belong to it move.
    fn add(&mut self, server: Server) -> Result<(), Error> {
        self.add_server(server)
    }

    /// Drops the server's points: only its keys move.
    fn remove(&mut self, id: &str) -> Result<Server, Error> {
        self.remove_server(id)
    }

    /// Replaces the server's points: only keys that must move, move.
    fn set_weight(&mut self, id: &str, weight: u32) -> Result<(), Error> {
        self.reweight(id, weight)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BalancerExt;

    fn ids(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| format!("10.0.{}.{}:80", i / 256, i % 256))
            .collect()
    }

    /// A naive ring: all points in a sorted list, linear search, linear fallback.
    fn naive_pick(ring: &HashRing, hash: u64) -> Option<String> {
        let mut pts: Vec<(u64, String)> = Vec::new();
        for s in ring.servers() {
            server_points(s, ring.options.points_per_weight, |hashes| {
                pts.extend(hashes.iter().map(|&p| (p, s.id().to_owned())))
            });
        }
        pts.sort();
        let start = pts.iter().position(|(p, _)| *p >= hash).unwrap_or(0);
        (0..pts.len())
            .map(|k| &pts[(start + k) % pts.len()].1)
            .find(|id| ring.server(id).unwrap().is_available())
            .cloned()
    }

    #[test]
    fn matches_the_naive_ring_with_failures() {
        let ring = HashRing::with_options(
            ids(20)
                .iter()
                .map(|s| Server::new(s.as_str()).with_weight(1 + s.len() as u32 % 3)),
            RingOptions {
                points_per_weight: 7,
            },
        )
        .unwrap();
        for id in ["10.0.0.3:80", "10.0.0.4:80", "10.0.0.11:80"] {
            ring.set_healthy(id, false).unwrap();
        }
        for k in 0..3000u64 {
            let h = crate::hash::mix64(k);
            assert_eq!(
                Some(ring.pick_hash(h).unwrap().id().to_owned()),
                naive_pick(&ring, h)
            );
        }
        assert_eq!(
            ring.pick_hash(u64::MAX).unwrap().id(),
            naive_pick(&ring, u64::MAX).unwrap()
        );
        assert_eq!(
            ring.pick_hash(0).unwrap().id(),
            naive_pick(&ring, 0).unwrap()
        );
    }

    #[test]
    fn a_key_exactly_on_a_point_goes_to_that_point() {
        let ring = HashRing::with_options(
            ids(30).iter().map(String::as_str),
            RingOptions::default().with_points_per_weight(8),
        )
        .unwrap();
        for (i, p) in ring.points.iter().enumerate().step_by(7) {
            // Points of equal value are ordered by owner id: the first of them takes the key.
            let first = ring.points.iter().position(|q| q.hash == p.hash).unwrap();
            let owner = ring.servers()[ring.points[first].owner as usize].id();
            assert_eq!(ring.pick_hash(p.hash).unwrap().id(), owner, "point {i}");
            if p.hash > 0 && (i == 0 || ring.points[i - 1].hash < p.hash - 1) {
                assert_eq!(ring.pick_hash(p.hash - 1).unwrap().id(), owner);
            }
        }
    }

    #[test]
    fn updates_equal_a_fresh_build() {
        let all = ids(12);
        let mut ring = HashRing::new(all[..10].iter().map(String::as_str)).unwrap();
        ring.add(all[10].as_str().into()).unwrap();
        ring.add(Server::new(all[11].as_str()).with_weight(3))
            .unwrap();
        ring.remove(&all[2]).unwrap();
        ring.set_weight(&all[5], 2).unwrap();
        ring.set_weight(&all[11], 1).unwrap();
        let fresh = HashRing::new(
            all.iter()
                .enumerate()
                .filter(|(i, _)| *i != 2)
                .map(|(i, s)| Server::new(s.as_str()).with_weight(if i == 5 { 2 } else { 1 })),
        )
        .unwrap();
        let hashes = |r: &HashRing| -> Vec<u64> { r.points.iter().map(|p| p.hash).collect() };
        assert_eq!(hashes(&ring), hashes(&fresh));
        let owner_ids = |r: &HashRing| -> Vec<String> {
            r.points
                .iter()
                .map(|p| r.servers()[p.owner as usize].id().to_owned())
                .collect()
        };
        assert_eq!(owner_ids(&ring), owner_ids(&fresh));
        for k in 0..2000u32 {
            assert_eq!(ring.pick(&k).unwrap().id(), fresh.pick(&k).unwrap().id());
        }
    }

    #[test]
    fn rejects_bad_options_and_huge_weights() {
        let zero = RingOptions {
            points_per_weight: 0,
        };
        assert!(matches!(
            HashRing::with_options(["a"], zero),
            Err(Error::InvalidOption { ref name, .. }) if name == "points_per_weight"
        ));
        assert_eq!(
            HashRing::new([Server::new("a").with_weight(u32::MAX)]).unwrap_err(),
            Error::TooManyPoints {
                requested: u64::from(u32::MAX) * 160,
                max: MAX_RING_POINTS
            }
        );
        let mut ring = HashRing::new(["a"]).unwrap();
        assert!(matches!(
            ring.set_weight("a", u32::MAX),
            Err(Error::TooManyPoints { .. })
        ));
        assert!(matches!(
            ring.add(Server::new("b").with_weight(u32::MAX)),
            Err(Error::TooManyPoints { .. })
        ));
        assert_eq!(ring.server("a").unwrap().weight(), 1);
        assert_eq!(
            ring.set_weight("a", 0).unwrap_err(),
            Error::ZeroWeight { id: "a".into() }
        );
        assert_eq!(ring.point_count(), 160);
    }

    #[test]
    fn equal_point_values_are_ordered_by_owner_id() {
        let mut ring = HashRing::new(["b", "a"]).unwrap();
        let (b, a) = (0, 1);
        let batch = [Point::new(5, b), Point::new(5, a), Point::new(1, b)];
        (ring.points, ring.buckets, ring.shift) = ring.order(3, |f| f(&batch));
        link_runs(&ring.points, &mut ring.next_other);
        let order: Vec<(u64, &str)> = ring
            .points
            .iter()
            .map(|p| (p.hash, ring.servers()[p.owner as usize].id()))
            .collect();
        assert_eq!(order, [(1, "b"), (5, "a"), (5, "b")]);
        assert_eq!(ring.pick_hash(2).unwrap().id(), "a");
        ring.set_healthy("a", false).unwrap();
        assert_eq!(ring.pick_hash(2).unwrap().id(), "b");
    }

    /// Every hash at, just below and just above each point, and the ends of the circle, goes
    /// to the first point at or after it by a plain binary search over the sorted values,
    /// on rings whose buckets hold up to five points (the search's loop) or none.
    #[test]
    fn the_bucket_search_finds_the_first_point_at_or_after_the_key() {
        for (n, per_weight) in [(1, 1), (3, 2), (40, 7), (300, 40)] {
            let ring = HashRing::with_options(
                ids(n).iter().map(String::as_str),
                RingOptions::default().with_points_per_weight(per_weight),
            )
            .unwrap();
            let mut sorted: Vec<(u64, &str)> = Vec::new();
            for s in ring.servers() {
                server_points(s, per_weight, |hashes| {
                    sorted.extend(hashes.iter().map(|&h| (h, s.id())))
                });
            }
            sorted.sort();
            let expect = |h: u64| {
                let i = sorted.partition_point(|&(p, _)| p < h);
                sorted.get(i).unwrap_or(&sorted[0]).1
            };
            let mut hashes = vec![0, 1, u64::MAX - 1, u64::MAX];
            for &(p, _) in &sorted {
                hashes.extend([p.wrapping_sub(1), p, p.wrapping_add(1)]);
            }
            for h in hashes {
                assert_eq!(
                    ring.pick_hash(h).unwrap().id(),
                    expect(h),
                    "{n} servers, {h:#x}"
                );
            }
            let most = ring.buckets.windows(2).map(|w| w[1] - w[0]).max();
            if n == 300 {
                assert!(most >= Some(3), "the loop is exercised: {most:?}");
            }
        }
    }

    /// Adding a server merges its points in place: the ring equals a fresh build, point for
    /// point, bucket for bucket, link for link.
    #[test]
    fn an_added_server_merges_into_the_ring_a_fresh_build_makes() {
        let all = ids(41);
        let mut ring = HashRing::new(all[..40].iter().map(String::as_str)).unwrap();
        ring.add(Server::new(all[40].as_str()).with_weight(3))
            .unwrap();
        let fresh = HashRing::new(
            all.iter()
                .map(|s| Server::new(s.as_str()).with_weight(if *s == all[40] { 3 } else { 1 })),
        )
        .unwrap();
        assert_eq!(ring.points, fresh.points);
        assert_eq!(ring.next_other, fresh.next_other);
        assert_eq!(
            (ring.buckets.clone(), ring.shift),
            (fresh.buckets.clone(), fresh.shift)
        );
    }

    /// Removing every server leaves an empty ring that answers `NoServers`, and takes
    /// servers again.
    #[test]
    fn a_ring_emptied_by_removals_takes_servers_again() {
        let mut ring = HashRing::new(["a", "b"]).unwrap();
        ring.remove("a").unwrap();
        ring.remove("b").unwrap();
        assert!(ring.buckets.is_empty());
        assert_eq!(ring.pick("k").unwrap_err(), PickError::NoServers);
        assert_eq!(ring.candidates("k", 3).len(), 0);
        ring.add("c".into()).unwrap();
        assert_eq!(ring.pick("k").unwrap().id(), "c");
    }

    /// A clockwise walk ends after one lap: on two servers with one point each it meets
    /// each owner once.
    #[test]
    fn a_clockwise_walk_ends_after_one_lap() {
        let ring =
            HashRing::with_options(["a", "b"], RingOptions::default().with_points_per_weight(1))
                .unwrap();
        for start in 0..2 {
            let mut owners: Vec<usize> = ring.clockwise_from(start).collect();
            assert_eq!(owners.len(), 2, "from point {start}");
            owners.sort();
            assert_eq!(owners, [0, 1]);
        }
    }

    #[test]
    fn single_server_ring() {
        let ring = HashRing::new(["solo"]).unwrap();
        assert_eq!(ring.pick("x").unwrap().id(), "solo");
        assert_eq!(ring.candidates("x", 4).len(), 1);
        ring.set_healthy("solo", false).unwrap();
        assert_eq!(ring.pick("x").unwrap_err(), PickError::NoHealthyServer);
    }
}
