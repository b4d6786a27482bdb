//! Rendezvous hashing (highest random weight): every server scores every key; the best wins.

use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::hash::mix64;
use crate::{Balancer, Error, Fleet, KeyHasher, PickError, Server, Update};

no_options!(Rendezvous, RendezvousOptions);

/// Seed of a server's score hash: the ASCII bytes of `"rndzvous"` as a big-endian `u64`.
const SERVER_SEED: u64 = 0x726e_647a_766f_7573;

/// Rendezvous or highest-random-weight hashing: each server draws a score for the key, and
/// the key goes to the highest. **A pick is O(n)** in the number of servers (about 1 ns a
/// server with equal weights, a few with weights); prefer [`Maglev`](crate::Maglev) or
/// [`HashRing`](crate::HashRing) for large fleets, rendezvous for its exact movement, its
/// exact weighting and its free ranking of fail-over candidates.
///
/// # Mapping
///
/// Stated language-neutrally, with test vectors, in `docs/MAPPING.md` (mapping v1).
///
/// The servers are kept in id order (byte-wise), whatever order they came in: positions and
/// [`servers`](crate::Balancer::servers) follow the ids.
///
/// Server `i` with id bytes `s` has `seedᵢ = XXH3-64(s, seed 0x726e647a766f7573)` (the seed
/// is `"rndzvous"` in ASCII). For a key with hash `h`, it draws
/// `d = mix(h ⊕ seedᵢ) >> 12` (52 bits), `mix` the SplitMix64 finaliser alone (no added
/// constant: `z ← (z ⊕ (z >> 30)) × 0xbf58476d1ce4e5b9`, `z ← (z ⊕ (z >> 27)) ×
/// 0x94d049bb133111eb`, then `z ⊕ (z >> 31)`, wrapping), and `u = (2d + 1) / 2⁵³`, which lies in
/// (0, 1) and is exact in a `f64`, and
/// scores `−wᵢ / ln u` (the logarithmic method), so that a server's chance to win is exactly
/// wᵢ / W in expectation. Scores that tie go to the server first by id (byte-wise).
///
/// When all weights are equal the order of scores is the order of `u`, and the pick
/// compares the integers `d`, with no logarithm. Otherwise it computes `ln u` with IEEE-754
/// double operations alone (no platform `libm`), so the same key gives the same server on
/// every machine: with `u = 2ᵉ·m`, m in [1, 2) from the bits of `u` (halved, and e one
/// more, when m > √2), `t = (m − 1)/(m + 1)`, `z = t²`,
/// `ln u = e × ln 2 + 2t × (1 + z(1/3 + z(1/5 + z(1/7 + … + z(1/17 + z/19)…))))`, evaluated in
/// that order (each `1/k` a correctly rounded constant, ln 2 and √2 as in `std::f64::consts`).
///
/// # Disruption
///
/// Removing a server moves exactly its keys, each to the server with its next highest score;
/// adding one moves exactly the keys it now wins (1/(n + 1) of them for equal weights).
/// Changing a weight moves keys only to or from that server.
///
/// # Health
///
/// A key whose server is unhealthy goes to the healthy server with the next highest score,
/// so the failed server's keys spread over all the others in proportion to their weights;
/// no other key moves. Candidates come ranked by score.
///
/// ```
/// use loadring::{Balancer, BalancerExt, Rendezvous, Server};
///
/// let hrw = Rendezvous::new([
///     Server::new("cache-a").with_weight(1),
///     Server::new("cache-b").with_weight(3),
/// ])?;
/// let server = hrw.pick("object-77")?;
/// hrw.set_healthy(server.id(), false)?;
/// assert_ne!(hrw.pick("object-77")?.id(), server.id());
/// # Ok::<(), loadring::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Rendezvous {
    fleet: Fleet,
    hasher: KeyHasher,
    /// Each server's seed, in fleet order.
    seeds: Vec<u64>,
    /// Each server's 1 / weight, in fleet order; empty when all weights are equal.
    inv_weights: Vec<f64>,
}

impl Rendezvous {
    /// Builds over `servers` (ids or [`Server`]s), honouring their weights.
    ///
    /// Errors: [`Error::DuplicateServer`], [`Error::ZeroWeight`].
    pub fn new<I>(servers: I) -> Result<Self, Error>
    where
        I: IntoIterator,
        I::Item: Into<Server>,
    {
        let fleet = Fleet::by_id(servers)?;
        let seeds = fleet
            .servers()
            .iter()
            .map(|s| xxh3_64_with_seed(s.id().as_bytes(), SERVER_SEED))
            .collect();
        let inv_weights = if fleet.equal_weights() {
            Vec::new()
        } else {
            fleet
                .servers()
                .iter()
                .map(|s| 1.0 / f64::from(s.weight()))
                .collect()
        };
        Ok(Rendezvous {
            fleet,
            hasher: KeyHasher::default(),
            seeds,
            inv_weights,
        })
    }

    /// Uses `hasher` for keys instead of the default XXH3.
    pub fn with_hasher(mut self, hasher: KeyHasher) -> Self {
        self.hasher = hasher;
        self
    }

    /// Server `i`'s score for `hash`; higher wins, ties go to the lower index. Exact for
    /// equal weights (`d` < 2⁵² converts without rounding).
    #[inline]
    fn score(&self, hash: u64, i: usize) -> f64 {
        let x = mix64(hash ^ self.seeds[i]) >> 12;
        if self.inv_weights.is_empty() {
            x as f64
        } else {
            // −w / ln u is highest where ln(u) / w is: compare the latter.
            ln_unit(unit(x)) * self.inv_weights[i]
        }
    }

    /// The best server regardless of health, by a tight pass over the flat arrays.
    #[inline]
    fn best(&self, hash: u64) -> usize {
        let mut best = 0;
        if self.inv_weights.is_empty() {
            let mut top = 0u64;
            for (i, &seed) in self.seeds.iter().enumerate() {
                let x = mix64(hash ^ seed) >> 12;
                if x > top || i == 0 {
                    top = x;
                    best = i;
                }
            }
        } else {
            let mut top = f64::NEG_INFINITY;
            for (i, (&seed, &inv_w)) in self.seeds.iter().zip(&self.inv_weights).enumerate() {
                let u = unit(mix64(hash ^ seed) >> 12);
                // ln u ≤ u − 1, so (u − 1) / w bounds the score from above; the margin
                // covers the rounding of both sides. Most servers stop here, without a log.
                if (u - 1.0) * inv_w * BOUND_MARGIN < top {
                    continue;
                }
                let s = ln_unit(u) * inv_w;
                if s > top {
                    top = s;
                    best = i;
                }
            }
        }
        best
    }

    /// The best usable server (see [`Fleet::usable`]) that ranks after `after` (a score and
    /// an index), if any.
    fn best_after(
        &self,
        hash: u64,
        after: Option<(f64, usize)>,
        panic: bool,
    ) -> Option<(f64, usize)> {
        let mut best: Option<(f64, usize)> = None;
        for i in 0..self.seeds.len() {
            let s = self.score(hash, i);
            let ranks_after = match after {
                None => true,
                Some((a, j)) => s < a || (s == a && i > j),
            };
            if ranks_after && best.is_none_or(|(b, _)| s > b) && self.fleet.usable(i, panic) {
                best = Some((s, i));
            }
        }
        best
    }
}

/// Above this many ranks, candidates sort all scores once instead of a pass per rank (at or
/// below it, as for every fail-over walk, they allocate nothing).
const SORT_ABOVE: usize = crate::MAX_CANDIDATES;

/// Scales the cheap bound on a score a little towards zero, far beyond rounding errors.
const BOUND_MARGIN: f64 = 1.0 - 1e-12;

/// Maps 52 bits `d` into (0, 1): `(2d + 1) / 2⁵³`, exactly (2d + 1 < 2⁵³).
#[inline]
fn unit(d: u64) -> f64 {
    // Below 2⁵³: exact, and a single conversion through i64.
    (2 * d + 1) as i64 as f64 * (1.0 / 9_007_199_254_740_992.0)
}

/// The natural logarithm of `x` in (0, 1), from IEEE-754 basic operations only, so it gives
/// the same bits on every platform; relative error below 1e-15.
///
/// `x = 2^e · m` with m in [√½, √2); `ln m = 2·atanh(t)` with `t = (m − 1)/(m + 1)`, |t| <
/// 0.172, summed as the odd series to t¹⁹.
#[inline]
fn ln_unit(x: f64) -> f64 {
    const LN_2: f64 = std::f64::consts::LN_2;
    const SQRT_2: f64 = std::f64::consts::SQRT_2;
    let bits = x.to_bits();
    // x ≥ 2⁻⁵⁴ here, so it is a normal number.
    let mut e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & ((1 << 52) - 1)) | (1023 << 52));
    if m > SQRT_2 {
        m *= 0.5;
        e += 1;
    }
    let t = (m - 1.0) / (m + 1.0);
    let z = t * t;
    let series = 1.0
        + z * (1.0 / 3.0
            + z * (1.0 / 5.0
                + z * (1.0 / 7.0
                    + z * (1.0 / 9.0
                        + z * (1.0 / 11.0
                            + z * (1.0 / 13.0
                                + z * (1.0 / 15.0 + z * (1.0 / 17.0 + z * (1.0 / 19.0)))))))));
    e as f64 * LN_2 + 2.0 * t * series
}

impl Balancer for Rendezvous {
    fn fleet(&self) -> &Fleet {
        &self.fleet
    }

    #[inline]
    fn pick_hash(&self, hash: u64) -> Result<&Server, PickError> {
        let servers = self.fleet.servers();
        match servers.get(self.best(hash)) {
            Some(s) if s.is_available() => Ok(s),
            Some(_) => self
                .best_after(hash, None, self.fleet.in_panic())
                .map(|(_, i)| &servers[i])
                .ok_or(PickError::NoHealthyServer),
            None => Err(PickError::NoServers),
        }
    }

    /// Ranked by score, best first. Up to [`MAX_CANDIDATES`](crate::MAX_CANDIDATES) ranks
    /// take one pass each, allocation-free; more take one pass and a sort (O(n log n))
    /// instead of a pass per rank.
    fn candidates_hash(&self, hash: u64, out: &mut [usize]) -> usize {
        let panic = self.fleet.in_panic();
        if out.len() > SORT_ABOVE {
            let mut scored: Vec<(f64, usize)> = (0..self.seeds.len())
                .filter(|&i| self.fleet.usable(i, panic))
                .map(|i| (self.score(hash, i), i))
                .collect();
            // Higher scores first; equal scores by index, as `best_after` ranks them.
            scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            let n = scored.len().min(out.len());
            for (slot, &(_, i)) in out.iter_mut().zip(&scored[..n]) {
                *slot = i;
            }
            return n;
        }
        let mut n = 0;
        let mut after = None;
        while n < out.len() {
            let Some(next) = self.best_after(hash, after, panic) else {
                break;
            };
            out[n] = next.1;
            n += 1;
            after = Some(next);
        }
        n
    }

    fn hasher(&self) -> &KeyHasher {
        &self.hasher
    }
}

impl Update for Rendezvous {
    /// Rendezvous over `servers`, with the same key hash.
    fn set_servers(&mut self, servers: Vec<Server>) -> Result<(), Error> {
        let old = std::mem::replace(self, Rendezvous::new(servers)?.with_hasher(self.hasher));
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
            .map(|i| format!("10.3.{}.{}:80", i / 256, i % 256))
            .collect()
    }

    /// Scores every server with the platform's `ln` and sorts: the plain definition.
    fn naive_ranking(servers: &[Server], hash: u64) -> Vec<String> {
        let mut scored: Vec<(f64, &str)> = servers
            .iter()
            .map(|s| {
                let seed = xxh3_64_with_seed(s.id().as_bytes(), SERVER_SEED);
                let d = mix64(hash ^ seed) >> 12;
                let u = (d as f64 + 0.5) / 2f64.powi(52);
                (-f64::from(s.weight()) / u.ln(), s.id())
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        scored.into_iter().map(|(_, id)| id.to_owned()).collect()
    }

    #[test]
    fn ln_matches_the_platform_closely() {
        let mut x = 1e-16;
        while x < 1.0 {
            let (ours, std) = (ln_unit(x), x.ln());
            assert!(
                ((ours - std) / std).abs() < 2e-15,
                "ln({x}) = {ours} vs {std}"
            );
            x *= 1.000_37;
        }
        for k in 0..100_000u64 {
            let u = unit(mix64(k) >> 12);
            let (ours, std) = (ln_unit(u), u.ln());
            assert!(((ours - std) / std).abs() < 2e-15, "ln({u})");
            assert!(ours < 0.0);
        }
        assert!(unit((1 << 52) - 1) < 1.0 && ln_unit(unit((1 << 52) - 1)) < 0.0);
        assert_eq!(unit(0), 2f64.powi(-53));
        assert_eq!(ln_unit(0.5), -std::f64::consts::LN_2);
    }

    #[test]
    fn matches_the_naive_ranking() {
        for weighted in [false, true] {
            let servers: Vec<Server> = ids(25)
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let w = if weighted { 1 + i as u32 % 5 } else { 2 };
                    Server::new(s.as_str()).with_weight(w)
                })
                .collect();
            let hrw = Rendezvous::new(servers.clone()).unwrap();
            hrw.set_healthy(servers[4].id(), false).unwrap();
            for k in 0..3000u64 {
                let h = mix64(k);
                let naive = naive_ranking(&servers, h);
                let healthy: Vec<&String> =
                    naive.iter().filter(|id| *id != servers[4].id()).collect();
                assert_eq!(hrw.pick_hash(h).unwrap().id(), healthy[0]);
                let mut out = [0; 5];
                assert_eq!(hrw.candidates_hash(h, &mut out), 5);
                let got: Vec<&str> = out.iter().map(|&i| hrw.servers()[i].id()).collect();
                assert_eq!(got, healthy[..5]);
            }
        }
    }

    #[test]
    fn shares_follow_weights() {
        let hrw = Rendezvous::new((1..=4u32).map(|w| Server::new(format!("w{w}")).with_weight(w)))
            .unwrap();
        let n = 100_000u32;
        let mut counts = [0u32; 4];
        for k in 0..n {
            counts[hrw.position(hrw.pick(&k).unwrap().id()).unwrap()] += 1;
        }
        for (i, &c) in counts.iter().enumerate() {
            let want = (i + 1) as f64 / 10.0;
            let got = f64::from(c) / f64::from(n);
            assert!((got - want).abs() < 0.006, "w{}: {got} vs {want}", i + 1);
        }
    }

    #[test]
    fn removing_moves_exactly_its_keys_adding_only_onto_the_new() {
        let all = ids(101);
        let hundred = Rendezvous::new(all[..100].iter().map(String::as_str)).unwrap();
        let mut fewer = hundred.clone();
        fewer.remove(&all[37]).unwrap();
        let mut more = hundred.clone();
        more.add(all[100].as_str().into()).unwrap();
        let keys = 30_000u32;
        let (mut removed, mut added) = (0, 0);
        for k in 0..keys {
            let was = hundred.pick(&k).unwrap().id();
            let now = fewer.pick(&k).unwrap().id();
            assert_eq!(was == all[37], now != was, "key {k}");
            removed += u32::from(now != was);
            let now = more.pick(&k).unwrap().id();
            if now != was {
                assert_eq!(now, all[100]);
                added += 1;
            }
        }
        let (removed, added) = (
            f64::from(removed) / f64::from(keys),
            f64::from(added) / f64::from(keys),
        );
        assert!((removed - 0.01).abs() < 0.003, "removal moved {removed}");
        assert!(
            (added - 1.0 / 101.0).abs() < 0.003,
            "addition moved {added}"
        );
    }

    #[test]
    fn balance_at_100_servers() {
        let hrw = Rendezvous::new(ids(100).iter().map(String::as_str)).unwrap();
        let mut counts = [0u32; 100];
        let n = 100_000u32;
        for k in 0..n {
            counts[hrw.position(hrw.pick(&k).unwrap().id()).unwrap()] += 1;
        }
        let peak = f64::from(*counts.iter().max().unwrap()) / (f64::from(n) / 100.0);
        // 1000 keys a server: one standard deviation is 3.2 %.
        assert!(peak < 1.15, "peak/mean {peak}");
    }

    #[test]
    fn updates_equal_a_fresh_build() {
        let all = ids(10);
        let mut hrw = Rendezvous::new(all[..8].iter().map(String::as_str)).unwrap();
        hrw.add(all[9].as_str().into()).unwrap();
        hrw.add(all[8].as_str().into()).unwrap();
        hrw.remove(&all[0]).unwrap();
        hrw.set_weight(&all[5], 3).unwrap();
        let fresh = Rendezvous::new(
            all[1..]
                .iter()
                .enumerate()
                .map(|(i, s)| Server::new(s.as_str()).with_weight(if i == 4 { 3 } else { 1 })),
        )
        .unwrap();
        for k in 0..2000u32 {
            assert_eq!(hrw.pick(&k).unwrap().id(), fresh.pick(&k).unwrap().id());
        }
        assert_eq!(
            hrw.set_weight("zz", 2).unwrap_err(),
            Error::UnknownServer { id: "zz".into() }
        );
        assert_eq!(
            hrw.set_weight(&all[5], 0).unwrap_err(),
            Error::ZeroWeight { id: all[5].clone() }
        );
        assert_eq!(hrw.server(&all[5]).unwrap().weight(), 3);
    }

    #[test]
    fn huge_weights_and_one_server() {
        let hrw = Rendezvous::new([
            Server::new("a").with_weight(u32::MAX),
            Server::new("b").with_weight(1),
        ])
        .unwrap();
        let b = (0..10_000u32)
            .filter(|k| hrw.pick(k).unwrap().id() == "b")
            .count();
        assert!(b < 5, "{b}");
        let one = Rendezvous::new(["solo"]).unwrap();
        one.set_healthy("solo", false).unwrap();
        assert_eq!(one.pick("k").unwrap_err(), PickError::NoHealthyServer);
        assert_eq!(one.candidates("k", 2).len(), 0);
    }
}
