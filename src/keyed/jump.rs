//! Jump consistent hash (Lamping & Veach, 2014): a key and a bucket count give a bucket.

use crate::fleet::probe_walk;
use crate::update::{Merged, mark_drains, merge};
use crate::{
    Balancer, Error, Fleet, KeyHasher, PickError, Server, SyncOptions, SyncReport, Update,
};

no_options!(Jump, JumpOptions);

/// Jump consistent hash: the bucket in `0..buckets` for `key`, or `None` when `buckets` is 0.
///
/// Returns exactly what the reference code of Lamping & Veach, "A Fast, Minimal Memory,
/// Consistent Hash Algorithm" (2014), returns, for every key and every count from 1 up
/// (the paper's signature stops at `i32::MAX` buckets; beyond it the same arithmetic goes
/// on to `u32::MAX`):
///
/// ```text
/// b = -1, j = 0
/// while j < buckets:
///     b = j
///     key = key * 2862933555777941757 + 1            (mod 2^64)
///     j = (b + 1) * (double(2^31) / double((key >> 33) + 1))   (truncated)
/// return b
/// ```
///
/// Going from n to n + 1 buckets moves about 1/(n + 1) of the keys, all of them into the
/// new bucket n. It takes O(ln n) steps.
///
/// ```
/// use loadring::jump_hash;
///
/// assert_eq!(jump_hash(1, 10), Some(6));
/// assert_eq!(jump_hash(1, 0), None);
/// ```
#[inline]
pub fn jump_hash(mut key: u64, buckets: u32) -> Option<u32> {
    if buckets == 0 {
        return None;
    }
    let n = f64::from(buckets);
    let mut b = 0i64;
    loop {
        key = key.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(1);
        // `key >> 33` < 2^31, so the conversions through i64 are exact (and single
        // instructions); `(b + 1) < 2^32` and the quotient is at most 2^31, so the product
        // is below 2^63 and `as i64` truncates it as C++'s conversion does. Comparing the
        // product before truncation with the integer `n` gives the same answer as after.
        let j = (b + 1) as f64 * (2_147_483_648.0 / ((key >> 33) as i64 + 1) as f64);
        if j >= n {
            return Some(b as u32);
        }
        b = j as i64;
    }
}

/// Jump consistent hash over a list of servers: the key's hash picks a bucket with
/// [`jump_hash`], and bucket i is the i-th server, **in the order given**.
///
/// Jump needs no table (the servers alone) and balances near perfectly: with 100 servers
/// the busiest gets about 1.01× the mean. It cannot honour weights: a server of weight other
/// than 1 is an [`Error::WeightsUnsupported`] (use [`Maglev`](crate::Maglev) or
/// [`Rendezvous`](crate::Rendezvous) for weights).
///
/// Stated language-neutrally, with test vectors, in `docs/MAPPING.md` (mapping v1).
///
/// # Membership
///
/// Buckets are positions, so the order of servers is part of the membership: two balancers
/// agree when they hold the same ids in the same order.
///
/// * [`push`](Jump::push) (a new last server; [`Update::add`] too) moves 1/(n + 1) of the
///   keys, all to the new server, and [`pop`](Jump::pop) (the last server goes) moves only
///   that server's keys: these two are the minimal-disruption changes.
/// * [`Update::remove`] of any other server moves the last server into its bucket:
///   the removed server's keys go to the former last server, and the former last bucket's
///   keys spread over all: about 2/n of the keys move. (Shifting the later servers down
///   instead would move every key of every server after the removed one.)
///
/// # Health
///
/// A key whose bucket is unhealthy tries `jump_hash(rehash(h, 1), n)`,
/// `jump_hash(rehash(h, 2), n)`, … (up to 16 attempts,
/// `rehash(h, a) = splitmix64(h + a × 0x9e3779b97f4a7c15)`), then scans onward from the
/// last bucket tried. Each key's fallback is stable, the failed server's keys spread evenly
/// over the healthy ones, and no other key moves.
///
/// ```
/// use loadring::{BalancerExt, Jump};
///
/// let mut jump = Jump::new(["shard-0", "shard-1", "shard-2"])?;
/// let shard = jump.pick("user-42")?.id().to_owned();
/// jump.push("shard-3")?; // a key either stays or moves to the new shard
/// let now = jump.pick("user-42")?.id();
/// assert!(now == shard || now == "shard-3");
/// # Ok::<(), loadring::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Jump {
    fleet: Fleet,
    hasher: KeyHasher,
    buckets: u32,
}

impl Jump {
    /// Builds over `servers` (ids or [`Server`]s); bucket i is the i-th server.
    ///
    /// Errors: [`Error::DuplicateServer`], [`Error::ZeroWeight`],
    /// [`Error::WeightsUnsupported`], and [`Error::TooManyPoints`] beyond `u32::MAX` servers.
    pub fn new<I>(servers: I) -> Result<Self, Error>
    where
        I: IntoIterator,
        I::Item: Into<Server>,
    {
        let fleet = Fleet::new(servers)?;
        fleet.require_unit_weights("jump")?;
        let buckets = bucket_count(fleet.len())?;
        Ok(Jump {
            fleet,
            hasher: KeyHasher::default(),
            buckets,
        })
    }

    /// Uses `hasher` for keys instead of the default XXH3.
    pub fn with_hasher(mut self, hasher: KeyHasher) -> Self {
        self.hasher = hasher;
        self
    }

    /// Appends a server as the new last bucket; only keys that now belong to it move.
    ///
    /// Errors: [`Error::DuplicateServer`], [`Error::ZeroWeight`],
    /// [`Error::WeightsUnsupported`], [`Error::TooManyPoints`].
    pub fn push(&mut self, server: impl Into<Server>) -> Result<(), Error> {
        let mut list = self.fleet.servers().to_vec();
        list.push(server.into());
        self.set_servers(list)
    }

    /// Removes the last server and returns it (`None` when there is none); only its keys
    /// move.
    pub fn pop(&mut self) -> Option<Server> {
        let last = self.fleet.servers().last()?.id().to_owned();
        self.remove(&last).ok()
    }

    /// The list after removing server `i` as [`Update::remove`] does: the last server takes
    /// its place.
    fn without(list: &mut Vec<Server>, i: usize) -> Server {
        list.swap_remove(i)
    }

    #[inline]
    fn bucket(&self, hash: u64) -> usize {
        // `buckets` is at least 1, so this always has a value.
        jump_hash(hash, self.buckets).unwrap_or(0) as usize
    }

    /// The order in which a key tries buckets: the first, the rehashes, then a scan.
    fn walk(&self, hash: u64) -> impl Iterator<Item = usize> + '_ {
        probe_walk(self.fleet.len(), hash, |h| self.bucket(h))
    }
}

fn bucket_count(n: usize) -> Result<u32, Error> {
    u32::try_from(n).map_err(|_| Error::TooManyPoints {
        requested: n as u64,
        max: u64::from(u32::MAX),
    })
}

impl Balancer for Jump {
    fn fleet(&self) -> &Fleet {
        &self.fleet
    }

    #[inline]
    fn pick_hash(&self, hash: u64) -> Result<&Server, PickError> {
        let Some(b) = jump_hash(hash, self.buckets) else {
            return Err(PickError::NoServers);
        };
        let first = &self.fleet.servers()[b as usize];
        if first.is_available() {
            return Ok(first);
        }
        self.fleet.first_available(self.walk(hash))
    }

    fn candidates_hash(&self, hash: u64, out: &mut [usize]) -> usize {
        self.fleet.ranked(self.walk(hash), out)
    }

    fn hasher(&self) -> &KeyHasher {
        &self.hasher
    }
}

impl Update for Jump {
    /// Jump over `servers` in their order, with the same key hash.
    fn set_servers(&mut self, servers: Vec<Server>) -> Result<(), Error> {
        let old = std::mem::replace(self, Jump::new(servers)?.with_hasher(self.hasher));
        self.fleet.keep_settings_of(&old.fleet);
        Ok(())
    }

    /// The last server takes the removed one's bucket (see the [type docs](Jump)).
    fn remove(&mut self, id: &str) -> Result<Server, Error> {
        let i = self.fleet.position(id).ok_or_else(|| Error::unknown(id))?;
        let mut list = self.fleet.servers().to_vec();
        let gone = Self::without(&mut list, i);
        self.set_servers(list)?;
        Ok(gone)
    }

    /// Removals as [`Update::remove`], then additions as [`Jump::push`].
    fn sync(&mut self, servers: Vec<Server>, options: SyncOptions) -> Result<SyncReport, Error> {
        let Merged {
            list: merged,
            report,
            drains,
        } = merge(self.fleet.servers(), servers, options)?;
        if report.changed() {
            self.apply(merged, &report)?;
        }
        mark_drains(&drains);
        Ok(report)
    }
}

impl Jump {
    /// Moves to the synced list `merged` by removals as [`Update::remove`] does, then
    /// additions as [`Jump::push`] does.
    fn apply(&mut self, merged: Vec<Server>, report: &SyncReport) -> Result<(), Error> {
        let mut list = self.fleet.servers().to_vec();
        // Every server of `merged` is kept (in `list` order, first) or new (after them).
        let kept: std::collections::HashMap<&str, &Server> =
            merged.iter().map(|s| (s.id(), s)).collect();
        let mut i = 0;
        while i < list.len() {
            if kept.contains_key(list[i].id()) {
                i += 1;
            } else {
                Self::without(&mut list, i);
            }
        }
        let mut next: Vec<Server> = list.iter().map(|s| kept[s.id()].clone()).collect();
        next.extend(merged[report.kept..].iter().cloned());
        self.set_servers(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BalancerExt;
    use crate::hash::mix64;

    /// The paper's C++ transcribed literally, with its signed types.
    fn reference(mut key: u64, num_buckets: i64) -> i64 {
        let (mut b, mut j): (i64, i64) = (-1, 0);
        while j < num_buckets {
            b = j;
            key = key.wrapping_mul(2862933555777941757).wrapping_add(1);
            let q: f64 = (1i64 << 31) as f64 / ((key >> 33) + 1) as f64;
            j = ((b + 1) as f64 * q) as i64;
        }
        b
    }

    #[test]
    fn matches_the_reference_transcription() {
        for k in 0..2000u64 {
            let key = mix64(k);
            for n in (1..=300u32).chain([1000, 4096, 65_536, 1 << 20, i32::MAX as u32]) {
                assert_eq!(
                    i64::from(jump_hash(key, n).unwrap()),
                    reference(key, i64::from(n))
                );
            }
        }
        for key in [0, 1, u64::MAX, u64::MAX / 3] {
            for n in 1..=2000u32 {
                assert_eq!(
                    i64::from(jump_hash(key, n).unwrap()),
                    reference(key, i64::from(n))
                );
            }
        }
    }

    #[test]
    fn matches_values_computed_independently() {
        // Computed with an independent transcription of the paper's code (Python floats
        // are IEEE doubles), at the time these tests were written.
        let cases: [(u64, u32, u32); 14] = [
            (0x0, 1, 0),
            (0x0, 10, 0),
            (0x1, 10, 6),
            (0x2a, 1000, 571),
            (0xdeadbeef, 100, 87),
            (0xffffffffffffffff, 1, 0),
            (0xffffffffffffffff, 2, 1),
            (0xffffffffffffffff, 1000, 313),
            (0xab54a98ceb1f0ad2, 7, 0),
            (0x75bcd15, 10000, 8303),
            (0xdb4da5f7ef412b1, 65536, 17149),
            (0x8000000000000000, 2147483647, 1119800965),
            (0x1, 2147483647, 262355607),
            (0x123456789abcdef, 4294967295, 1651575352),
        ];
        for (key, n, want) in cases {
            assert_eq!(jump_hash(key, n), Some(want), "key {key:#x}, {n} buckets");
        }
        assert_eq!(jump_hash(7, 0), None);
    }

    #[test]
    fn growing_moves_keys_only_into_the_new_bucket() {
        for k in 0..5000u64 {
            let key = mix64(k);
            for n in 1..64u32 {
                let (a, b) = (jump_hash(key, n).unwrap(), jump_hash(key, n + 1).unwrap());
                assert!(
                    a == b || b == n,
                    "key {key} moved from {a} to {b} at n = {n}"
                );
            }
        }
    }

    fn ids(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| format!("10.1.{}.{}:80", i / 256, i % 256))
            .collect()
    }

    #[test]
    fn pop_and_push_are_minimal_remove_is_about_two_nths() {
        let all = ids(101);
        let hundred = Jump::new(all[..100].iter().map(String::as_str)).unwrap();
        let mut more = hundred.clone();
        more.push(all[100].as_str()).unwrap();
        let mut fewer = hundred.clone();
        assert_eq!(fewer.pop().unwrap().id(), all[99]);
        let mut middle = hundred.clone();
        middle.remove(&all[40]).unwrap();
        assert_eq!(middle.servers()[40].id(), all[99]);
        let keys = 100_000u32;
        let (mut added, mut popped, mut removed) = (0, 0, 0);
        for k in 0..keys {
            let was = hundred.pick(&k).unwrap().id();
            let now = more.pick(&k).unwrap().id();
            if now != was {
                assert_eq!(now, all[100]);
                added += 1;
            }
            let now = fewer.pick(&k).unwrap().id();
            if now != was {
                assert_eq!(was, all[99]);
                popped += 1;
            }
            let now = middle.pick(&k).unwrap().id();
            if now != was {
                assert!(was == all[40] || was == all[99], "{was} -> {now}");
                removed += 1;
            }
        }
        let frac = |c: u32| f64::from(c) / f64::from(keys);
        // Expected: 1/101, 1/100 and about 2/100.
        assert!((frac(added) - 1.0 / 101.0).abs() < 0.002, "{}", frac(added));
        assert!((frac(popped) - 0.01).abs() < 0.002, "{}", frac(popped));
        assert!((frac(removed) - 0.02).abs() < 0.003, "{}", frac(removed));
    }

    #[test]
    fn balance_at_100_servers() {
        let j = Jump::new(ids(100).iter().map(String::as_str)).unwrap();
        let mut counts = [0u32; 100];
        let keys = 400_000u32;
        for k in 0..keys {
            let id = j.pick(&k).unwrap().id();
            counts[j.position(id).unwrap()] += 1;
        }
        let peak = f64::from(*counts.iter().max().unwrap()) / (f64::from(keys) / 100.0);
        // 4000 keys a server: one standard deviation is 1.6 %.
        assert!(peak < 1.07, "peak/mean {peak}");
    }

    #[test]
    fn unhealthy_keys_spread_over_the_healthy() {
        let j = Jump::new(ids(10).iter().map(String::as_str)).unwrap();
        let victim = j.servers()[3].id().to_owned();
        let owned: Vec<u32> = (0..20_000u32)
            .filter(|k| j.pick(k).unwrap().id() == victim)
            .collect();
        j.set_healthy(&victim, false).unwrap();
        let mut got = [0u32; 10];
        for k in &owned {
            got[j.position(j.pick(k).unwrap().id()).unwrap()] += 1;
        }
        assert_eq!(got[3], 0);
        let expect = owned.len() as f64 / 9.0;
        for (i, &c) in got.iter().enumerate().filter(|&(i, _)| i != 3) {
            assert!(
                (f64::from(c) - expect).abs() < expect * 0.25,
                "server {i}: {c}"
            );
        }
    }

    #[test]
    fn bad_input_is_an_error() {
        let mut j = Jump::new(["a"]).unwrap();
        assert_eq!(
            Jump::new([Server::new("w").with_weight(9)]).unwrap_err(),
            Error::WeightsUnsupported {
                strategy: "jump",
                id: "w".into(),
                weight: 9
            }
        );
        assert_eq!(
            j.remove("b").unwrap_err(),
            Error::UnknownServer { id: "b".into() }
        );
        assert_eq!(
            j.push("a").unwrap_err(),
            Error::DuplicateServer { id: "a".into() }
        );
        assert_eq!(j.len(), 1);
        j.set_healthy("a", false).unwrap();
        assert_eq!(j.pick("k").unwrap_err(), PickError::NoHealthyServer);
        assert_eq!(j.pop().unwrap().id(), "a");
        assert!(j.pop().is_none());
        assert_eq!(j.pick("k").unwrap_err(), PickError::NoServers);
    }
}
