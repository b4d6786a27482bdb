//! Simple hashing: the key's hash mapped straight onto the servers.

use crate::fleet::{Shares, probe_walk};
use crate::{Balancer, Error, Fleet, KeyHasher, PickError, Server, Update};

no_options!(Modulo, ModuloOptions);

/// Simple hashing: `hash(key)` mapped onto the servers by multiply-shift.
///
/// The fastest strategy and the point of comparison for the others: **adding or removing
/// one of n servers moves a quarter to a half of all keys**, whatever n is (half when the
/// first or last server by id changes, a quarter when one in the middle does), so a fleet's
/// caches go cold on every change. (Multiply-shift keeps each server's share of the hash
/// space in place as far as it can; `hash % n` would move (n−1)/n of the keys.) Prefer
/// [`HashRing`](crate::HashRing), which moves 1/n, when membership changes.
///
/// # Mapping
///
/// Stated language-neutrally, with test vectors, in `docs/MAPPING.md` (mapping v1).
///
/// Servers are ordered by id (byte-wise), so the order they were given in does not matter.
/// With weights w₀ … wₙ₋₁ (in that order) and W their sum, a key with hash `h` goes to the
/// server whose cumulative weight range holds `(h × W) >> 64`; with equal weights that is
/// server `(h × n) >> 64`.
///
/// If that server is unhealthy, the pick tries `rehash(h, 1)`, `rehash(h, 2)`, … (up to 16
/// attempts, `rehash(h, a) = splitmix64(h + a × 0x9e3779b97f4a7c15)`) mapped the same way,
/// then scans onward from the last bucket tried. Each key's fallback is stable and the
/// failed server's keys spread by weight over the others; no other key moves.
///
/// ```
/// use loadring::{BalancerExt, Balancer, Modulo};
///
/// let m = Modulo::new(["cache-a", "cache-b", "cache-c"])?;
/// let first = m.pick("user-7")?.id().to_owned();
/// m.set_healthy(&first, false)?;
/// assert_ne!(m.pick("user-7")?.id(), first);
/// m.set_healthy(&first, true)?;
/// assert_eq!(m.pick("user-7")?.id(), first);
/// # Ok::<(), loadring::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Modulo {
    fleet: Fleet,
    hasher: KeyHasher,
    /// Each server's share of the hash space by weight.
    shares: Shares,
}

impl Modulo {
    /// Builds over `servers` (ids or [`Server`]s), honouring their weights.
    ///
    /// Errors: [`Error::DuplicateServer`], [`Error::ZeroWeight`].
    pub fn new<I>(servers: I) -> Result<Self, Error>
    where
        I: IntoIterator,
        I::Item: Into<Server>,
    {
        let fleet = Fleet::by_id(servers)?;
        Ok(Modulo {
            shares: Shares::of(&fleet),
            fleet,
            hasher: KeyHasher::default(),
        })
    }

    /// Uses `hasher` for keys instead of the default XXH3.
    pub fn with_hasher(mut self, hasher: KeyHasher) -> Self {
        self.hasher = hasher;
        self
    }

    #[inline]
    fn bucket(&self, hash: u64) -> usize {
        self.shares.bucket(hash, self.fleet.len())
    }

    /// The order in which a key tries buckets: the first, the rehashes, then a scan.
    fn walk(&self, hash: u64) -> impl Iterator<Item = usize> + '_ {
        probe_walk(self.fleet.len(), hash, |h| self.bucket(h))
    }
}

impl Balancer for Modulo {
    fn fleet(&self) -> &Fleet {
        &self.fleet
    }

    #[inline]
    fn pick_hash(&self, hash: u64) -> Result<&Server, PickError> {
        let first = self.bucket(hash);
        match self.fleet.servers().get(first) {
            Some(s) if s.is_available() => Ok(s),
            Some(_) => self.fleet.first_available(self.walk(hash)),
            None => Err(PickError::NoServers),
        }
    }

    fn candidates_hash(&self, hash: u64, out: &mut [usize]) -> usize {
        self.fleet.ranked(self.walk(hash), out)
    }

    fn hasher(&self) -> &KeyHasher {
        &self.hasher
    }
}

impl Update for Modulo {
    /// A fresh build over `servers` with the same key hash.
    fn set_servers(&mut self, servers: Vec<Server>) -> Result<(), Error> {
        let old = std::mem::replace(self, Modulo::new(servers)?.with_hasher(self.hasher));
        self.fleet.keep_settings_of(&old.fleet);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BalancerExt;

    #[test]
    fn weights_set_shares() {
        let m = Modulo::new([
            Server::new("a").with_weight(1),
            Server::new("b").with_weight(3),
        ])
        .unwrap();
        let n = 40_000u64;
        let b = (0..n).filter(|k| m.pick(k).unwrap().id() == "b").count() as f64;
        let share = b / n as f64;
        assert!((share - 0.75).abs() < 0.01, "share of b = {share}");
    }

    #[test]
    fn order_of_servers_does_not_matter() {
        let a = Modulo::new(["x", "y", "z"]).unwrap();
        let b = Modulo::new(["z", "x", "y"]).unwrap();
        for k in 0..1000u32 {
            assert_eq!(a.pick(&k).unwrap().id(), b.pick(&k).unwrap().id());
        }
    }

    #[test]
    fn removing_one_moves_a_quarter_to_a_half() {
        let ids: Vec<String> = (0..10).map(|i| format!("s{i}")).collect();
        let before = Modulo::new(ids.iter().map(String::as_str)).unwrap();
        let moved_without = |gone: usize| {
            let after = Modulo::new(
                ids.iter()
                    .enumerate()
                    .filter(|&(i, _)| i != gone)
                    .map(|(_, s)| s.as_str()),
            )
            .unwrap();
            let n = 20_000u32;
            (0..n)
                .filter(|k| before.pick(k).unwrap().id() != after.pick(k).unwrap().id())
                .count() as f64
                / f64::from(n)
        };
        // Expected shares: 1/2 when the last (or first) bucket goes, 5/18 for the middle one.
        let last = moved_without(9);
        let middle = moved_without(5);
        assert!((last - 0.5).abs() < 0.02, "moved {last}");
        assert!((middle - 5.0 / 18.0).abs() < 0.02, "moved {middle}");
    }

    #[test]
    fn single_server_unhealthy_is_an_error() {
        let m = Modulo::new(["only"]).unwrap();
        m.set_healthy("only", false).unwrap();
        assert_eq!(m.pick("k").unwrap_err(), PickError::NoHealthyServer);
        assert_eq!(m.candidates("k", 3).len(), 0);
    }
}
