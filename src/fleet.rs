//! The servers of one balancer: validation, lookup by id, and the health walks every strategy
//! shares.

use std::collections::HashMap;
use std::sync::Arc;

use crate::hash::{fast_range, rehash};
use crate::health::PanicGate;
use crate::{Error, PickError, Server};

/// Steps of a fallback walk before it checks that some server is available at all.
const QUICK_WALK: usize = 64;

/// How many rehashes a probing walk tries before it scans.
const PROBES: u64 = 16;

/// The order in which a strategy that maps a hash to a bucket of `0..n` (modulo, jump) tries
/// buckets for `hash`: its own, those of `rehash(hash, 1)` … `rehash(hash, 16)`, then every
/// bucket onward from the last rehash's. Nothing when `n` is 0.
pub(crate) fn probe_walk(
    n: usize,
    hash: u64,
    bucket: impl Fn(u64) -> usize,
) -> impl Iterator<Item = usize> {
    let tries = if n == 0 { 0 } else { PROBES + 1 };
    let last = if n > 1 {
        bucket(rehash(hash, PROBES))
    } else {
        0
    };
    let probes = (0..tries).map(move |a| bucket(if a == 0 { hash } else { rehash(hash, a) }));
    probes.chain((1..n).map(move |i| (last + i) % n))
}

/// The servers' shares of the 64-bit hash space by weight, for strategies that map a hash (or
/// a random draw) onto a server in proportion to its weight (modulo, least-loaded's draws).
#[derive(Debug, Clone, Default)]
pub(crate) struct Shares {
    /// Running sums of the weights, in fleet order; empty when all weights are equal.
    ends: Box<[u64]>,
}

impl Shares {
    pub(crate) fn of(fleet: &Fleet) -> Self {
        if fleet.equal_weights() {
            return Shares::default();
        }
        // At most n × (2³² − 1): exact below 2³² servers, saturated beyond.
        let mut sum = 0u64;
        let ends = fleet.servers().iter().map(|s| {
            sum = sum.saturating_add(u64::from(s.weight()));
            sum
        });
        Shares {
            ends: ends.collect(),
        }
    }

    /// Whether every server has the same share.
    #[inline]
    pub(crate) fn are_equal(&self) -> bool {
        self.ends.is_empty()
    }

    /// The server among `n` whose share holds `hash`: `(hash × n) >> 64` with equal weights,
    /// else the server whose range of running weights holds `(hash × W) >> 64`.
    #[inline]
    pub(crate) fn bucket(&self, hash: u64, n: usize) -> usize {
        match self.ends.last() {
            None => fast_range(hash, n as u64) as usize,
            Some(&total) => {
                let x = fast_range(hash, total);
                self.ends.partition_point(|&end| end <= x)
            }
        }
    }
}

/// The servers of one balancer in the strategy's order, with an id index for O(1) look-ups.
///
/// Every strategy holds one and exposes it through [`Balancer::fleet`](crate::Balancer::fleet);
/// the look-ups, health flags and counts of [`Balancer`](crate::Balancer) come from it, and the
/// strategies' fallback and ranking walks go through it, so they keep the contract alike.
/// A fleet may be empty: picks then answer [`PickError::NoServers`].
#[derive(Debug, Clone, Default)]
pub struct Fleet {
    servers: Vec<Server>,
    index: HashMap<Arc<str>, usize>,
    panic: PanicGate,
}

impl Fleet {
    /// A fleet of `servers` in the given order, with distinct ids and weights of at least 1.
    ///
    /// Errors: [`Error::DuplicateServer`], [`Error::ZeroWeight`].
    pub fn new<I>(servers: I) -> Result<Self, Error>
    where
        I: IntoIterator,
        I::Item: Into<Server>,
    {
        let servers = servers.into_iter();
        let mut fleet = Fleet {
            servers: Vec::with_capacity(servers.size_hint().0),
            index: HashMap::with_capacity(servers.size_hint().0),
            panic: PanicGate::default(),
        };
        for s in servers {
            fleet.push(s.into())?;
        }
        Ok(fleet)
    }

    /// [`Fleet::new`] with the servers in id order (byte-wise), for strategies whose mapping
    /// must not depend on the order the servers came in.
    pub(crate) fn by_id<I>(servers: I) -> Result<Self, Error>
    where
        I: IntoIterator,
        I::Item: Into<Server>,
    {
        let mut list: Vec<Server> = servers.into_iter().map(Into::into).collect();
        list.sort_unstable_by(|a, b| a.id().cmp(b.id())); // ids are distinct or refused
        Fleet::new(list)
    }

    /// The servers, in the strategy's order (the order that indices refer to).
    #[inline]
    pub fn servers(&self) -> &[Server] {
        &self.servers
    }

    /// The server with this id.
    #[inline]
    pub fn get(&self, id: &str) -> Option<&Server> {
        self.position(id).map(|i| &self.servers[i])
    }

    /// The index of the server with this id, in O(1).
    #[inline]
    pub fn position(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// How many servers there are.
    #[inline]
    pub fn len(&self) -> usize {
        self.servers.len()
    }

    /// Whether there are none.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.servers.is_empty()
    }

    /// How many servers are healthy now (a scan); draining ones count if healthy.
    pub fn healthy_count(&self) -> usize {
        self.servers.iter().filter(|s| s.is_healthy()).count()
    }

    /// How many servers take new requests now: healthy and not draining (a scan).
    pub fn available_count(&self) -> usize {
        self.servers.iter().filter(|s| s.is_available()).count()
    }

    /// Appends a server after checking its id and weight; returns its index.
    pub(crate) fn push(&mut self, server: Server) -> Result<usize, Error> {
        if server.weight() == 0 {
            return Err(Error::ZeroWeight {
                id: server.id().into(),
            });
        }
        if self.index.contains_key(server.id()) {
            return Err(Error::DuplicateServer {
                id: server.id().into(),
            });
        }
        let i = self.servers.len();
        self.index.insert(Arc::clone(server.id_arc()), i);
        self.servers.push(server);
        self.panic.forget();
        Ok(i)
    }

    /// Removes a server, shifting the indices of those after it down by one.
    pub(crate) fn remove(&mut self, id: &str) -> Result<(usize, Server), Error> {
        let i = self.position(id).ok_or_else(|| Error::unknown(id))?;
        let server = self.servers.remove(i);
        self.panic.forget();
        self.index.remove(id);
        for (j, s) in self.servers.iter().enumerate().skip(i) {
            self.index.insert(Arc::clone(s.id_arc()), j);
        }
        Ok((i, server))
    }

    /// Changes a server's weight in place (its cells stay); returns its index.
    pub(crate) fn set_weight(&mut self, id: &str, weight: u32) -> Result<usize, Error> {
        let i = self.position(id).ok_or_else(|| Error::unknown(id))?;
        if weight == 0 {
            return Err(Error::ZeroWeight { id: id.into() });
        }
        self.servers[i] = self.servers[i].clone().with_weight(weight);
        Ok(i)
    }

    /// Whether every server has the same weight (an empty fleet too).
    pub(crate) fn equal_weights(&self) -> bool {
        let first = self.servers.first().map(Server::weight);
        self.servers.iter().all(|s| Some(s.weight()) == first)
    }

    /// Refuses weights other than 1, for a strategy that cannot honour them.
    pub(crate) fn require_unit_weights(&self, strategy: &'static str) -> Result<(), Error> {
        match self.servers.iter().find(|s| s.weight() != 1) {
            Some(s) => Err(Error::WeightsUnsupported {
                strategy,
                id: s.id().into(),
                weight: s.weight(),
            }),
            None => Ok(()),
        }
    }

    /// Whether the fleet is in panic: a threshold is set and fewer than that share of the
    /// servers that are not draining are healthy. Cheap unless some server's marks changed
    /// since the last call.
    #[inline]
    pub fn in_panic(&self) -> bool {
        self.panic.in_panic(&self.servers)
    }

    /// Whether server `i` may take a new request: available, or in `panic` not draining.
    #[inline]
    pub(crate) fn usable(&self, i: usize, panic: bool) -> bool {
        let s = &self.servers[i];
        if panic {
            !s.is_draining()
        } else {
            s.is_available()
        }
    }

    /// The panic threshold's state.
    pub(crate) fn panic_gate(&self) -> &PanicGate {
        &self.panic
    }

    /// Takes the settings (the panic threshold) of `old`, the fleet this one replaces.
    pub(crate) fn keep_settings_of(&mut self, old: &Fleet) {
        self.panic = old.panic.clone();
    }

    /// The error of a pick that found nothing: no servers at all, or none available.
    #[inline]
    pub(crate) fn none_error(&self) -> PickError {
        if self.servers.is_empty() {
            PickError::NoServers
        } else {
            PickError::NoHealthyServer
        }
    }

    /// The first available server that `walk` meets. Past a short walk it makes sure some
    /// server is available, so a long walk (a whole table) ends at once when none is.
    ///
    /// Out of line and marked cold: strategies call it when their first choice is not
    /// available, and a pick's common path keeps its registers.
    #[cold]
    #[inline(never)]
    pub(crate) fn first_available(
        &self,
        walk: impl IntoIterator<Item = usize>,
    ) -> Result<&Server, PickError> {
        let panic = self.in_panic();
        for (step, i) in walk.into_iter().enumerate() {
            if self.usable(i, panic) {
                return Ok(&self.servers[i]);
            }
            if step == QUICK_WALK && !self.any_usable(panic) {
                break;
            }
        }
        Err(self.none_error())
    }

    /// Writes the distinct available servers (in panic: those not draining) that `walk` meets
    /// into `out`, in the walk's order, and returns how many. Past a short walk it stops as soon as every available
    /// server is found, so a long walk (a whole table) costs little when few are available.
    ///
    /// Up to [`MAX_CANDIDATES`](crate::MAX_CANDIDATES) it allocates nothing; a longer `out`
    /// marks the servers seen in a bitmap, so asking for all n candidates stays linear in the
    /// walk.
    pub(crate) fn ranked(&self, walk: impl IntoIterator<Item = usize>, out: &mut [usize]) -> usize {
        let mut seen =
            (out.len() > crate::MAX_CANDIDATES).then(|| vec![0u64; self.len().div_ceil(64)]);
        let (mut n, mut want) = (0, out.len());
        let panic = self.in_panic();
        for (step, i) in walk.into_iter().enumerate() {
            if n >= want {
                break;
            }
            let new = match &mut seen {
                None => !out[..n].contains(&i),
                Some(bits) => {
                    let (word, bit) = (i / 64, 1u64 << (i % 64));
                    let new = bits[word] & bit == 0;
                    bits[word] |= bit;
                    new
                }
            };
            if new && self.usable(i, panic) {
                out[n] = i;
                n += 1;
            }
            if step == QUICK_WALK {
                let usable = (0..self.len()).filter(|&i| self.usable(i, panic)).count();
                want = want.min(usable);
            }
        }
        n
    }

    /// Whether some server may take a request: one is available, or in `panic` one is not
    /// draining.
    pub(crate) fn any_usable(&self, panic: bool) -> bool {
        (0..self.len()).any(|i| self.usable(i, panic))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fleet_rejects_bad_input() {
        assert!(Fleet::new(Vec::<Server>::new()).unwrap().is_empty());
        assert_eq!(
            Fleet::new(["a", "b", "a"]).unwrap_err(),
            Error::DuplicateServer { id: "a".into() }
        );
        assert_eq!(
            Fleet::new([Server::new("a").with_weight(0)]).unwrap_err(),
            Error::ZeroWeight { id: "a".into() }
        );
        let weighted = Fleet::new([Server::new("a"), Server::new("b").with_weight(9)]).unwrap();
        assert_eq!(
            weighted.require_unit_weights("jump").unwrap_err(),
            Error::WeightsUnsupported {
                strategy: "jump",
                id: "b".into(),
                weight: 9
            }
        );
    }

    #[test]
    fn fleet_remove_keeps_index_true_down_to_empty() {
        let mut f = Fleet::new(["a", "b", "c", "d"]).unwrap();
        let (i, s) = f.remove("b").unwrap();
        assert_eq!((i, s.id()), (1, "b"));
        for (j, s) in f.servers().iter().enumerate() {
            assert_eq!(f.position(s.id()), Some(j));
        }
        assert_eq!(f.position("b"), None);
        assert_eq!(f.remove("zz").unwrap_err(), Error::unknown("zz"));
        for id in ["a", "c", "d"] {
            f.remove(id).unwrap();
        }
        assert!(f.is_empty());
        assert_eq!(f.first_available(0..0).unwrap_err(), PickError::NoServers);
    }
}
