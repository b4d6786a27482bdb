//! Servers: identity, weight and capacity, with the health and load cells that balancers share.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::Error;

/// One server a balancer can hand out.
///
/// The id is the string that hash strategies hash (for example `"10.0.0.1:8080"`), so two
/// balancers that know the same ids make the same choices. The weight (default 1) sets a
/// server's share where a strategy honours weights; the capacity is the most requests it
/// may hold in flight where a strategy honours capacity.
///
/// A server carries cells for its health, its requests in flight and the load callers
/// report. **Clones share these cells**: put clones of one `Server` into several
/// balancers and a single [`set_healthy`](Server::set_healthy) reaches them all. Use
/// [`Server::new`] again for a server with cells of its own.
///
/// ```
/// use loadring::Server;
///
/// let s = Server::new("10.0.0.1:8080").with_weight(3).with_capacity(100);
/// assert_eq!((s.id(), s.weight(), s.capacity()), ("10.0.0.1:8080", 3, Some(100)));
/// assert!(s.is_healthy());
/// s.set_healthy(false);
/// assert!(!s.clone().is_healthy()); // the clone shares the health cell
/// ```
#[derive(Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Server {
    id: Arc<str>,
    #[cfg_attr(feature = "serde", serde(default = "one"))]
    weight: u32,
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    capacity: Option<u64>,
    #[cfg_attr(feature = "serde", serde(skip))]
    state: Arc<ServerState>,
}

#[cfg(feature = "serde")]
fn one() -> u32 {
    1
}

/// The cells a server's clones share; aligned to a cache line so that counters of
/// neighbouring servers do not contend.
#[repr(align(64))]
#[derive(Debug)]
pub(crate) struct ServerState {
    healthy: AtomicBool,
    in_flight: AtomicU64,
    /// `f64` bits of the last reported load.
    load: AtomicU64,
}

impl Default for ServerState {
    fn default() -> Self {
        ServerState {
            healthy: AtomicBool::new(true),
            in_flight: AtomicU64::new(0),
            load: AtomicU64::new(0f64.to_bits()),
        }
    }
}

impl Server {
    /// A healthy server with weight 1, no capacity limit and cells of its own.
    pub fn new(id: impl Into<Arc<str>>) -> Self {
        Server {
            id: id.into(),
            weight: 1,
            capacity: None,
            state: Arc::default(),
        }
    }

    /// Sets the weight. Balancers reject weight 0 with [`Error::ZeroWeight`].
    pub fn with_weight(mut self, weight: u32) -> Self {
        self.weight = weight;
        self
    }

    /// Sets the capacity: the most requests in flight where a strategy honours capacity.
    pub fn with_capacity(mut self, capacity: u64) -> Self {
        self.capacity = Some(capacity);
        self
    }

    /// The id, the string that hash strategies hash.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The weight.
    pub fn weight(&self) -> u32 {
        self.weight
    }

    /// The capacity, if one was set.
    pub fn capacity(&self) -> Option<u64> {
        self.capacity
    }

    /// Whether the server may be handed out. New servers are healthy.
    #[inline]
    pub fn is_healthy(&self) -> bool {
        self.state.healthy.load(Ordering::Relaxed)
    }

    /// Marks the server healthy or not; every balancer holding a clone sees it on its next pick.
    pub fn set_healthy(&self, healthy: bool) {
        self.state.healthy.store(healthy, Ordering::Relaxed);
    }

    /// Requests in flight, counted by the leases of strategies that take them.
    #[inline]
    pub fn in_flight(&self) -> u64 {
        self.state.in_flight.load(Ordering::Relaxed)
    }

    /// The load last reported with [`report_load`](Server::report_load); 0 at first.
    #[inline]
    pub fn load(&self) -> f64 {
        f64::from_bits(self.state.load.load(Ordering::Relaxed))
    }

    /// Records a load figure (lesser values mean a less loaded server).
    ///
    /// NaN, infinite and negative values are rejected with [`Error::InvalidLoad`].
    pub fn report_load(&self, load: f64) -> Result<(), Error> {
        if !load.is_finite() || load < 0.0 {
            return Err(Error::InvalidLoad { value: load });
        }
        self.state.load.store(load.to_bits(), Ordering::Relaxed);
        Ok(())
    }

    /// Counts one more request in flight and returns the new count.
    #[allow(dead_code)]
    pub(crate) fn begin_request(&self) -> u64 {
        self.state.in_flight.fetch_add(1, Ordering::AcqRel) + 1
    }

    /// Counts one more request in flight if that leaves at most `limit` in flight, by a
    /// compare-exchange, so racing callers cannot overshoot the limit together.
    pub(crate) fn try_begin_request(&self, limit: u64) -> bool {
        self.state
            .in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |n| {
                (n < limit).then_some(n + 1)
            })
            .is_ok()
    }

    /// Counts one request fewer in flight (never below zero).
    #[allow(dead_code)]
    pub(crate) fn end_request(&self) {
        let _ = self
            .state
            .in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |n| n.checked_sub(1));
    }

    /// Whether two servers share their cells (one is a clone of the other).
    pub fn shares_state_with(&self, other: &Server) -> bool {
        Arc::ptr_eq(&self.state, &other.state)
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("id", &self.id)
            .field("weight", &self.weight)
            .field("capacity", &self.capacity)
            .field("healthy", &self.is_healthy())
            .field("in_flight", &self.in_flight())
            .field("load", &self.load())
            .finish()
    }
}

impl From<&str> for Server {
    fn from(id: &str) -> Self {
        Server::new(id)
    }
}

impl From<String> for Server {
    fn from(id: String) -> Self {
        Server::new(id)
    }
}

impl From<&Server> for Server {
    fn from(s: &Server) -> Self {
        s.clone()
    }
}

/// Steps of a fallback walk before it checks that some server is healthy at all.
const QUICK_WALK: usize = 64;

/// The servers of one balancer in their given order, with an id index for O(1) look-ups.
///
/// Constructors of every strategy validate through [`Fleet::new`]: at least one server,
/// distinct ids, weights of at least 1.
#[derive(Debug, Clone)]
pub(crate) struct Fleet {
    servers: Vec<Server>,
    index: HashMap<Arc<str>, usize>,
}

impl Fleet {
    pub(crate) fn new<I>(servers: I) -> Result<Self, Error>
    where
        I: IntoIterator,
        I::Item: Into<Server>,
    {
        let mut fleet = Fleet {
            servers: Vec::new(),
            index: HashMap::new(),
        };
        for s in servers {
            fleet.push(s.into())?;
        }
        if fleet.servers.is_empty() {
            return Err(Error::NoServers);
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
        list.sort_by(|a, b| a.id().cmp(b.id()));
        Fleet::new(list)
    }

    /// Appends a server after checking its id and weight; returns its index.
    pub(crate) fn push(&mut self, server: Server) -> Result<usize, Error> {
        if server.weight == 0 {
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
        self.index.insert(server.id.clone(), i);
        self.servers.push(server);
        Ok(i)
    }

    /// Removes a server, shifting the indices of those after it down by one.
    ///
    /// The last server cannot be removed: a balancer always holds at least one.
    pub(crate) fn remove(&mut self, id: &str) -> Result<(usize, Server), Error> {
        let i = self
            .position(id)
            .ok_or_else(|| Error::UnknownServer { id: id.into() })?;
        if self.servers.len() == 1 {
            return Err(Error::NoServers);
        }
        let server = self.servers.remove(i);
        self.index.remove(id);
        for (j, s) in self.servers.iter().enumerate().skip(i) {
            self.index.insert(s.id.clone(), j);
        }
        Ok((i, server))
    }

    /// Changes a server's weight in place (its cells stay); returns its index.
    pub(crate) fn set_weight(&mut self, id: &str, weight: u32) -> Result<usize, Error> {
        let i = self
            .position(id)
            .ok_or_else(|| Error::UnknownServer { id: id.into() })?;
        if weight == 0 {
            return Err(Error::ZeroWeight { id: id.into() });
        }
        self.servers[i].weight = weight;
        Ok(i)
    }

    #[inline]
    pub(crate) fn position(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    #[inline]
    pub(crate) fn servers(&self) -> &[Server] {
        &self.servers
    }

    #[inline]
    pub(crate) fn is_healthy(&self, i: usize) -> bool {
        self.servers[i].is_healthy()
    }

    /// The first healthy server that `walk` meets. Past a short walk it makes sure some server
    /// is healthy, so a long walk (a whole table) ends at once when none is.
    #[inline]
    pub(crate) fn first_healthy(
        &self,
        walk: impl IntoIterator<Item = usize>,
    ) -> Result<&Server, Error> {
        for (step, i) in walk.into_iter().enumerate() {
            if self.servers[i].is_healthy() {
                return Ok(&self.servers[i]);
            }
            if step == QUICK_WALK && !self.any_healthy() {
                break;
            }
        }
        Err(Error::NoHealthyServer)
    }

    /// Writes the distinct healthy servers that `walk` meets into `out`, in the walk's order,
    /// and returns how many. Past a short walk it stops as soon as every healthy server is
    /// found, so a long walk (a whole table) costs little when few servers are healthy.
    pub(crate) fn ranked(&self, walk: impl IntoIterator<Item = usize>, out: &mut [usize]) -> usize {
        let (mut n, mut want) = (0, out.len());
        for (step, i) in walk.into_iter().enumerate() {
            if n >= want {
                break;
            }
            if self.is_healthy(i) && !out[..n].contains(&i) {
                out[n] = i;
                n += 1;
            }
            if step == QUICK_WALK {
                want = want.min(self.servers.iter().filter(|s| s.is_healthy()).count());
            }
        }
        n
    }

    pub(crate) fn any_healthy(&self) -> bool {
        self.servers.iter().any(Server::is_healthy)
    }

    pub(crate) fn len(&self) -> usize {
        self.servers.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fleet_rejects_bad_input() {
        assert_eq!(
            Fleet::new(Vec::<Server>::new()).unwrap_err(),
            Error::NoServers
        );
        assert_eq!(
            Fleet::new(["a", "b", "a"]).unwrap_err(),
            Error::DuplicateServer { id: "a".into() }
        );
        assert_eq!(
            Fleet::new([Server::new("a").with_weight(0)]).unwrap_err(),
            Error::ZeroWeight { id: "a".into() }
        );
    }

    #[test]
    fn fleet_remove_keeps_index_true() {
        let mut f = Fleet::new(["a", "b", "c", "d"]).unwrap();
        let (i, s) = f.remove("b").unwrap();
        assert_eq!((i, s.id()), (1, "b"));
        for (j, s) in f.servers().iter().enumerate() {
            assert_eq!(f.position(s.id()), Some(j));
        }
        assert_eq!(f.position("b"), None);
        assert_eq!(
            f.remove("zz").unwrap_err(),
            Error::UnknownServer { id: "zz".into() }
        );
        let mut one = Fleet::new(["a"]).unwrap();
        assert_eq!(one.remove("a").unwrap_err(), Error::NoServers);
    }

    #[test]
    fn load_rejects_nan_infinite_negative() {
        let s = Server::new("a");
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0] {
            assert!(matches!(s.report_load(bad), Err(Error::InvalidLoad { .. })));
        }
        s.report_load(2.5).unwrap();
        assert_eq!(s.load(), 2.5);
    }

    #[test]
    fn in_flight_never_goes_below_zero() {
        let s = Server::new("a");
        assert_eq!(s.begin_request(), 1);
        s.end_request();
        s.end_request();
        assert_eq!(s.in_flight(), 0);
    }
}
