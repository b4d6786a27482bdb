//! Maglev hashing (Eisenbud et al., 2016): a lookup table of prime size filled from
//! per-server permutations.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::hash::fast_range;
use crate::{Balancer, Error, Fleet, KeyHasher, PickError, Server, Update};

/// The default table size, a prime: 65 537 slots (256 KiB of table).
pub const DEFAULT_MAGLEV_TABLE_SIZE: u32 = 65_537;

/// The largest table size [`Maglev`] accepts: 16 777 213, the largest prime below 2²⁴.
pub const MAX_MAGLEV_TABLE_SIZE: u32 = 16_777_213;

/// Seed of a server's offset hash: the ASCII bytes of `"maglev-o"` as a big-endian `u64`.
const OFFSET_SEED: u64 = 0x6d61_676c_6576_2d6f;
/// Seed of a server's skip hash: the ASCII bytes of `"maglev-s"` as a big-endian `u64`.
const SKIP_SEED: u64 = 0x6d61_676c_6576_2d73;

/// Options of a [`Maglev`] table.
///
/// ```
/// use loadring::MaglevOptions;
///
/// assert_eq!(MaglevOptions::default().table_size, 65_537);
/// let small = MaglevOptions::default().with_table_size(5003);
/// assert_eq!(small.table_size, 5003);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
#[non_exhaustive]
pub struct MaglevOptions {
    /// Slots in the lookup table: a prime, at least the number of servers and at most
    /// [`MAX_MAGLEV_TABLE_SIZE`]. Default [`DEFAULT_MAGLEV_TABLE_SIZE`]. Pick it about 100
    /// times the number of servers or more: shares then match weights to about 1 %.
    pub table_size: u32,
}

impl MaglevOptions {
    /// Sets the table size.
    pub fn with_table_size(mut self, table_size: u32) -> Self {
        self.table_size = table_size;
        self
    }
}

impl Default for MaglevOptions {
    fn default() -> Self {
        MaglevOptions {
            table_size: DEFAULT_MAGLEV_TABLE_SIZE,
        }
    }
}

/// Maglev hashing: a table of M slots (M prime), each naming a server; a key goes to the
/// server of slot `(h × M) >> 64` for its hash `h`. A pick is one table read.
///
/// # Mapping
///
/// Stated language-neutrally, with test vectors, in `docs/MAPPING.md` (mapping v1).
///
/// Servers are ordered by id (byte-wise), so the order they came in does not matter. Server
/// `i` with id bytes `s` has
///
/// * `offset = XXH3-64(s, seed 0x6d61676c65762d6f) mod M` (the seed is `"maglev-o"` in ASCII),
/// * `skip = XXH3-64(s, seed 0x6d61676c65762d73) mod (M − 1) + 1` (`"maglev-s"`),
///
/// and its permutation of the slots is `offset, offset + skip, offset + 2·skip, …` (mod M),
/// which visits every slot since M is prime. The table fills in rounds r = 1, 2, …; in each
/// round the servers take turns in id order, and server i, whose weight is wᵢ (the largest
/// weight is w_max) and who holds cᵢ slots, takes the next empty slot of its permutation
/// when `cᵢ × w_max < r × wᵢ`. Rounds go on until every slot is full. So the servers of the
/// largest weight take one slot a round, the others in proportion, and every server holds at
/// least one slot.
///
/// # Balance and disruption
///
/// Each server's share of the table is its share of the weights, to within a slot or so:
/// with 100 equal servers and 65 537 slots every server holds 655 or 656 slots, and the
/// busiest gets about 1.01× the mean of the keys. Adding or removing one of n servers
/// rebuilds the table; the keys of the removed (or onto the added) server move, about 1/n,
/// plus some churn among the others (measured at 100 servers and 65 537 slots: about 1.6 %
/// of the keys move in all, for a removal or an addition).
///
/// # Health
///
/// A key whose server is unhealthy goes to the server of the next slot (`s + 1`, `s + 2`,
/// …, wrapping) whose server is healthy. Neighbouring slots belong to servers scattered
/// across the fleet, so the failed server's keys spread over many servers; no other key
/// moves, and all of them come back when it recovers.
///
/// # Cost
///
/// 4 bytes a slot; a build (or any change of membership) fills the table in about
/// M·ln M steps, and visits only the servers due in each round, whatever the weights.
///
/// ```
/// use loadring::{Balancer, BalancerExt, Maglev, MaglevOptions, Server};
///
/// let maglev = Maglev::with_options(
///     [Server::new("10.0.0.1:80"), Server::new("10.0.0.2:80").with_weight(2)],
///     MaglevOptions::default().with_table_size(5003),
/// )?;
/// let server = maglev.pick("flow-17")?;
/// maglev.set_healthy(server.id(), false)?;
/// assert_ne!(maglev.pick("flow-17")?.id(), server.id());
/// # Ok::<(), loadring::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Maglev {
    fleet: Fleet,
    hasher: KeyHasher,
    options: MaglevOptions,
    /// Server index of each slot.
    table: Vec<u32>,
}

impl Maglev {
    /// Builds over `servers` (ids or [`Server`]s) with a table of
    /// [`DEFAULT_MAGLEV_TABLE_SIZE`] slots.
    ///
    /// Errors: [`Error::DuplicateServer`], [`Error::ZeroWeight`], [`Error::InvalidOption`]
    /// with more servers than slots.
    pub fn new<I>(servers: I) -> Result<Self, Error>
    where
        I: IntoIterator,
        I::Item: Into<Server>,
    {
        Self::with_options(servers, MaglevOptions::default())
    }

    /// Builds with `options`; a table size that is not a prime, is below the number of
    /// servers or above [`MAX_MAGLEV_TABLE_SIZE`] is an [`Error::InvalidOption`].
    pub fn with_options<I>(servers: I, options: MaglevOptions) -> Result<Self, Error>
    where
        I: IntoIterator,
        I::Item: Into<Server>,
    {
        let size = options.table_size;
        if size > MAX_MAGLEV_TABLE_SIZE || !is_prime(size) {
            return Err(Error::option(
                "table_size",
                format!("must be a prime of at most {MAX_MAGLEV_TABLE_SIZE}, not {size}"),
            ));
        }
        let fleet = Fleet::by_id(servers)?;
        let mut maglev = Maglev {
            fleet,
            hasher: KeyHasher::default(),
            options,
            table: Vec::new(),
        };
        maglev.fill()?;
        Ok(maglev)
    }

    /// Uses `hasher` for keys instead of the default XXH3 (the table stays as documented).
    pub fn with_hasher(mut self, hasher: KeyHasher) -> Self {
        self.hasher = hasher;
        self
    }

    /// The options the table was built with.
    pub fn options(&self) -> MaglevOptions {
        self.options
    }

    /// Bytes the lookup table occupies, without the servers.
    pub fn table_bytes(&self) -> usize {
        self.table.capacity() * 4
    }

    /// How many slots each server holds, in the order of [`servers`](Balancer::servers).
    pub fn slot_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.fleet.len()];
        for &s in &self.table {
            counts[s as usize] += 1;
        }
        counts
    }

    /// Fills the table as the type docs describe.
    fn fill(&mut self) -> Result<(), Error> {
        let m = self.options.table_size;
        let servers = self.fleet.servers();
        if servers.len() > m as usize {
            return Err(Error::option(
                "table_size",
                format!(
                    "must be at least the number of servers ({}), not {m}",
                    servers.len()
                ),
            ));
        }
        if servers.is_empty() {
            self.table = Vec::new();
            return Ok(());
        }
        let m64 = u64::from(m);
        // Per server: the next permutation position, the skip, the weight, the slots held.
        let mut pos: Vec<u32> = Vec::with_capacity(servers.len());
        let mut skip: Vec<u32> = Vec::with_capacity(servers.len());
        for s in servers {
            let id = s.id().as_bytes();
            pos.push((xxh3_64_with_seed(id, OFFSET_SEED) % m64) as u32);
            skip.push((xxh3_64_with_seed(id, SKIP_SEED) % (m64 - 1) + 1) as u32);
        }
        let weights: Vec<u64> = servers.iter().map(|s| u64::from(s.weight())).collect();
        let w_max = weights.iter().copied().max().unwrap_or(1);
        let mut held = vec![0u64; servers.len()];
        let mut table = vec![u32::MAX; m as usize];
        let mut filled = 0u32;
        // The rounds of the type docs. A server of the largest weight is due in every round;
        // the others wait in a queue of (round, server) until the round they are due in
        // (heldᵢ × w_max < r × wᵢ), so skewed weights do not scan every light server in every
        // round: O(M) for equal weights, O(M + n log n)-ish for skewed ones. Each round takes
        // its due servers in id order, one slot each, as the rounds loop of the docs does.
        let every_round: Vec<u32> = (0..servers.len() as u32)
            .filter(|&i| weights[i as usize] == w_max)
            .collect();
        let mut later: BinaryHeap<Reverse<(u64, u32)>> = (0..servers.len() as u32)
            .filter(|&i| weights[i as usize] < w_max)
            .map(|i| Reverse((1, i)))
            .collect();
        let mut due_now: Vec<u32> = Vec::new();
        let mut round = 1u64;
        'rounds: loop {
            due_now.clear();
            while let Some(&Reverse((r, i))) = later.peek() {
                if r != round {
                    break;
                }
                later.pop();
                due_now.push(i);
            }
            // Both lists are in id order; merge them.
            let (mut a, mut b) = (0, 0);
            while a < every_round.len() || b < due_now.len() {
                let i = if b == due_now.len()
                    || (a < every_round.len() && every_round[a] < due_now[b])
                {
                    a += 1;
                    every_round[a - 1]
                } else {
                    b += 1;
                    due_now[b - 1]
                };
                let k = i as usize;
                let mut p = pos[k];
                while table[p as usize] != u32::MAX {
                    p += skip[k];
                    if p >= m {
                        p -= m;
                    }
                }
                table[p as usize] = i;
                p += skip[k];
                if p >= m {
                    p -= m;
                }
                pos[k] = p;
                held[k] += 1;
                filled += 1;
                if filled == m {
                    break 'rounds;
                }
                if weights[k] < w_max {
                    // The first later round in which heldᵢ × w_max < r × wᵢ holds (held ≤ 2²⁴
                    // and w_max < 2³², so the product fits).
                    let next = (held[k] * w_max / weights[k] + 1).max(round + 1);
                    later.push(Reverse((next, i)));
                }
            }
            round += 1;
        }
        self.table = table;
        Ok(())
    }

    #[inline]
    fn slot(&self, hash: u64) -> usize {
        fast_range(hash, u64::from(self.options.table_size)) as usize
    }

    /// The slots after `slot`, once around the table.
    fn following(&self, slot: usize) -> impl Iterator<Item = usize> + '_ {
        let m = self.table.len();
        (1..m).map(move |k| {
            let s = slot + k;
            if s >= m { s - m } else { s }
        })
    }
}

/// Whether `n` is prime (trial division; `n` is at most 2²⁴ here).
fn is_prime(n: u32) -> bool {
    if n < 2 {
        return false;
    }
    let mut d = 2u32;
    while d * d <= n {
        if n % d == 0 {
            return false;
        }
        d += 1;
    }
    true
}

impl Balancer for Maglev {
    fn fleet(&self) -> &Fleet {
        &self.fleet
    }

    #[inline]
    fn pick_hash(&self, hash: u64) -> Result<&Server, PickError> {
        let slot = self.slot(hash);
        let Some(&owner) = self.table.get(slot) else {
            return Err(PickError::NoServers);
        };
        let first = &self.fleet.servers()[owner as usize];
        if first.is_available() {
            return Ok(first);
        }
        // The key's own server first: in panic it serves the key, healthy or not.
        let walk = self.following(slot).map(|s| self.table[s] as usize);
        self.fleet
            .first_available(std::iter::once(owner as usize).chain(walk))
    }

    fn candidates_hash(&self, hash: u64, out: &mut [usize]) -> usize {
        if self.table.is_empty() {
            return 0;
        }
        let slot = self.slot(hash);
        let walk = std::iter::once(slot).chain(self.following(slot));
        self.fleet.ranked(walk.map(|s| self.table[s] as usize), out)
    }

    fn hasher(&self) -> &KeyHasher {
        &self.hasher
    }
}

impl Update for Maglev {
    /// A table of the same size over `servers`, with the same key hash.
    fn set_servers(&mut self, servers: Vec<Server>) -> Result<(), Error> {
        let new = Maglev::with_options(servers, self.options)?.with_hasher(self.hasher);
        let old = std::mem::replace(self, new);
        self.fleet.keep_settings_of(&old.fleet);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BalancerExt;

    fn ids(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| format!("10.2.{}.{}:80", i / 256, i % 256))
            .collect()
    }

    fn build(n: usize, size: u32) -> Maglev {
        Maglev::with_options(
            ids(n).iter().map(String::as_str),
            MaglevOptions::default().with_table_size(size),
        )
        .unwrap()
    }

    /// The paper's population loop, written plainly: full permutations, equal weights.
    fn naive_table(servers: &[Server], m: u64) -> Vec<usize> {
        let perms: Vec<Vec<u64>> = servers
            .iter()
            .map(|s| {
                let o = xxh3_64_with_seed(s.id().as_bytes(), OFFSET_SEED) % m;
                let k = xxh3_64_with_seed(s.id().as_bytes(), SKIP_SEED) % (m - 1) + 1;
                (0..m).map(|j| (o + j * k) % m).collect()
            })
            .collect();
        let mut next = vec![0usize; servers.len()];
        let mut entry = vec![usize::MAX; m as usize];
        let mut filled = 0;
        loop {
            for i in 0..servers.len() {
                let mut c = perms[i][next[i]];
                while entry[c as usize] != usize::MAX {
                    next[i] += 1;
                    c = perms[i][next[i]];
                }
                entry[c as usize] = i;
                next[i] += 1;
                filled += 1;
                if filled == m {
                    return entry;
                }
            }
        }
    }

    #[test]
    fn equal_weights_match_the_papers_population() {
        for (n, m) in [(1, 7), (3, 7), (7, 7), (13, 101), (40, 1009)] {
            let maglev = build(n, m);
            let naive = naive_table(maglev.servers(), u64::from(m));
            let ours: Vec<usize> = maglev.table.iter().map(|&s| s as usize).collect();
            assert_eq!(ours, naive, "{n} servers, {m} slots");
        }
    }

    #[test]
    fn shares_follow_weights() {
        let servers: Vec<Server> = (0..20)
            .map(|i| Server::new(format!("w{i}")).with_weight(1 + i % 4))
            .collect();
        let total: u32 = servers.iter().map(Server::weight).sum();
        let maglev = Maglev::new(servers).unwrap();
        for (s, &held) in maglev.servers().iter().zip(&maglev.slot_counts()) {
            let ideal =
                f64::from(DEFAULT_MAGLEV_TABLE_SIZE) * f64::from(s.weight()) / f64::from(total);
            assert!(
                (held as f64 - ideal).abs() <= 1.0,
                "{}: {held} vs {ideal}",
                s.id()
            );
        }
        // A tiny weight beside a huge one still holds a slot.
        let skewed = Maglev::with_options(
            [
                Server::new("big").with_weight(u32::MAX),
                Server::new("small"),
            ],
            MaglevOptions::default().with_table_size(101),
        )
        .unwrap();
        assert_eq!(skewed.slot_counts(), [100, 1]);
    }

    #[test]
    fn balance_at_100_servers() {
        let maglev = build(100, DEFAULT_MAGLEV_TABLE_SIZE);
        let counts = maglev.slot_counts();
        assert!(counts.iter().all(|&c| c == 655 || c == 656), "{counts:?}");
        let mut keys = [0u32; 100];
        let n = 300_000u32;
        for k in 0..n {
            keys[maglev.position(maglev.pick(&k).unwrap().id()).unwrap()] += 1;
        }
        let peak = f64::from(*keys.iter().max().unwrap()) / (f64::from(n) / 100.0);
        // 3000 keys a server: one standard deviation is 1.8 %.
        assert!(peak < 1.08, "peak/mean {peak}");
    }

    fn moved(a: &Maglev, b: &Maglev, keys: u32) -> f64 {
        let moved = (0..keys)
            .filter(|k| a.pick(k).unwrap().id() != b.pick(k).unwrap().id())
            .count();
        moved as f64 / f64::from(keys)
    }

    #[test]
    fn removing_or_adding_one_of_100_moves_little() {
        let all = ids(101);
        let hundred = Maglev::new(all[..100].iter().map(String::as_str)).unwrap();
        let mut fewer = hundred.clone();
        fewer.remove(&all[37]).unwrap();
        let mut more = hundred.clone();
        more.add(all[100].as_str().into()).unwrap();
        let keys = 100_000;
        let (removed, added) = (moved(&hundred, &fewer, keys), moved(&hundred, &more, keys));
        // The removed (added) server's share is 1/100 (1/101); the rest is churn.
        assert!((0.009..=0.02).contains(&removed), "removal moved {removed}");
        assert!((0.009..=0.02).contains(&added), "addition moved {added}");
        // The removed server's keys spread over many heirs, not onto a neighbour.
        let heirs: std::collections::HashSet<&str> = (0..keys)
            .filter(|k| hundred.pick(k).unwrap().id() == all[37])
            .map(|k| fewer.pick(&k).unwrap().id())
            .collect();
        assert!(heirs.len() >= 30, "{} heirs", heirs.len());
    }

    /// The fill as the type docs state it, round by round over every server.
    fn fill_by_rounds(servers: &[Server], m: u32) -> Vec<u32> {
        let m64 = u64::from(m);
        let mut pos: Vec<u64> = servers
            .iter()
            .map(|s| xxh3_64_with_seed(s.id().as_bytes(), OFFSET_SEED) % m64)
            .collect();
        let skip: Vec<u64> = servers
            .iter()
            .map(|s| xxh3_64_with_seed(s.id().as_bytes(), SKIP_SEED) % (m64 - 1) + 1)
            .collect();
        let w: Vec<u64> = servers.iter().map(|s| u64::from(s.weight())).collect();
        let w_max = *w.iter().max().unwrap();
        let mut held = vec![0u64; servers.len()];
        let mut table = vec![u32::MAX; m as usize];
        let mut filled = 0;
        for round in 1.. {
            for i in 0..servers.len() {
                if held[i] * w_max >= round * w[i] {
                    continue;
                }
                while table[pos[i] as usize] != u32::MAX {
                    pos[i] = (pos[i] + skip[i]) % m64;
                }
                table[pos[i] as usize] = i as u32;
                held[i] += 1;
                filled += 1;
                if filled == m {
                    return table;
                }
            }
        }
        unreachable!()
    }

    #[test]
    fn the_fill_is_the_documented_rounds() {
        for (n, m) in [(1, 7), (5, 13), (20, 101), (60, 5003)] {
            let servers: Vec<Server> = ids(n)
                .iter()
                .enumerate()
                .map(|(i, id)| Server::new(id.as_str()).with_weight([1, 2, 7, 1000][i % 4]))
                .collect();
            let maglev =
                Maglev::with_options(servers, MaglevOptions::default().with_table_size(m)).unwrap();
            assert_eq!(
                maglev.table,
                fill_by_rounds(maglev.servers(), m),
                "{n} servers, {m} slots"
            );
        }
    }

    #[test]
    fn skewed_weights_do_not_make_the_build_scan_every_server_each_round() {
        use std::time::{Duration, Instant};
        let build = |n: usize| -> Duration {
            let servers = ids(n)
                .into_iter()
                .enumerate()
                .map(|(i, id)| Server::new(id).with_weight(if i == 0 { u32::MAX } else { 1 }));
            let list: Vec<Server> = servers.collect();
            (0..3)
                .map(|_| {
                    let started = Instant::now();
                    Maglev::new(list.clone()).unwrap();
                    started.elapsed()
                })
                .min()
                .unwrap()
        };
        // O(M × n) grows 8 times from 125 to 1000 servers; O(M log n) about 1.4 times.
        let (small, large) = (build(125), build(1000));
        let ratio = large.as_secs_f64() / small.as_secs_f64();
        assert!(ratio < 4.0, "{small:?} -> {large:?} ({ratio:.1}x)");
    }

    #[test]
    fn the_fallback_walk_reaches_the_slot_just_before() {
        // 7 servers in 7 slots: each holds one slot, so the key's slot − 1 is the walk's last.
        let m = Maglev::with_options(
            ids(7).iter().map(String::as_str),
            MaglevOptions::default().with_table_size(7),
        )
        .unwrap();
        for k in 0..50u32 {
            let home = m.slot(m.hasher().hash(&k));
            let last = m.table[(home + 6) % 7] as usize;
            for (i, s) in m.servers().iter().enumerate() {
                s.set_healthy(i == last);
            }
            assert_eq!(m.pick(&k).unwrap().id(), m.servers()[last].id(), "key {k}");
            assert_eq!(m.candidates(&k, 7).len(), 1);
        }
    }

    #[test]
    fn order_and_updates_do_not_matter() {
        let all = ids(30);
        let mut reversed: Vec<&str> = all.iter().map(String::as_str).collect();
        reversed.reverse();
        let a = Maglev::new(all.iter().map(String::as_str)).unwrap();
        let b = Maglev::new(reversed).unwrap();
        assert_eq!(a.table, b.table);
        let mut c = Maglev::new(all[..29].iter().map(String::as_str)).unwrap();
        c.add(all[29].as_str().into()).unwrap();
        assert_eq!(a.table, c.table);
        c.set_weight(&all[3], 3).unwrap();
        c.set_weight(&all[3], 1).unwrap();
        assert_eq!(a.table, c.table);
    }

    #[test]
    fn a_failed_servers_keys_spread() {
        let maglev = build(20, 5003);
        let victim = maglev.servers()[7].id().to_owned();
        let owned: Vec<u32> = (0..40_000u32)
            .filter(|k| maglev.pick(k).unwrap().id() == victim)
            .collect();
        maglev.set_healthy(&victim, false).unwrap();
        let mut got = std::collections::HashSet::new();
        for k in &owned {
            got.insert(maglev.pick(k).unwrap().id().to_owned());
        }
        assert!(!got.contains(&victim));
        assert!(got.len() >= 15, "went to only {} servers", got.len());
    }

    #[test]
    fn bad_options_are_errors() {
        for bad in [0, 1, 4, 65_536, 16_777_215, u32::MAX] {
            assert!(
                matches!(
                    Maglev::with_options(["a"], MaglevOptions::default().with_table_size(bad)),
                    Err(Error::InvalidOption { ref name, .. }) if name == "table_size"
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            Maglev::with_options(["a", "b", "c", "d"], MaglevOptions { table_size: 3 }),
            Err(Error::InvalidOption { ref name, .. }) if name == "table_size"
        ));
        let mut m = Maglev::with_options(["a", "b"], MaglevOptions { table_size: 2 }).unwrap();
        assert_eq!(m.slot_counts(), [1, 1]);
        assert!(m.add("c".into()).is_err());
        assert_eq!(m.len(), 2);
        assert_eq!(
            m.set_weight("a", 0).unwrap_err(),
            Error::ZeroWeight { id: "a".into() }
        );
        m.remove("a").unwrap();
        m.set_healthy("b", false).unwrap();
        assert_eq!(m.pick("k").unwrap_err(), PickError::NoHealthyServer);
        m.remove("b").unwrap();
        assert_eq!(m.pick("k").unwrap_err(), PickError::NoServers);
    }
}
