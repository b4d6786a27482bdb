//! Servers: identity, weight, capacity, address and metadata, with the health and load cells
//! that balancers share.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::marks::{Marks, Slot};
use crate::sync::{AtomicU32, AtomicU64};

use crate::Error;

/// One server a balancer can hand out.
///
/// * The **id** is the string that hash strategies hash (for example `"10.0.0.1:8080"` or
///   `"cache-7"`), so two balancers that know the same ids make the same choices. It is the
///   only part of a server that any mapping reads.
/// * The **weight** (default 1) sets a server's share where a strategy honours weights; the
///   **capacity** is the most requests it may hold in flight where a strategy honours capacity.
/// * The **address** is where to connect. An id that parses as a socket address is the
///   address too, unless [`with_addr`](Server::with_addr) gives another, so a server named
///   `"cache-7"` can still carry `10.0.0.7:11211`.
/// * **Metadata** is any typed value the service attaches ([`with_meta`](Server::with_meta),
///   [`meta`](Server::meta)): a zone, a display name, a connection pool handle. One value per
///   type, as in `http::Extensions`. Never hashed.
///
/// A server carries cells for its health, its requests in flight and the load callers
/// report. **Clones share these cells** (and the metadata): put clones of one `Server` into
/// several balancers and a single [`set_healthy`](Server::set_healthy) reaches them all. Use
/// [`Server::new`] again for a server with cells of its own. The marks that every pick reads
/// (healthy, draining) are one byte a server, packed beside those of the servers made with it
/// in blocks of 4 KiB that the process keeps, so a fleet's health checks read a few cache
/// lines; the byte is reused once the server's last clone drops.
///
/// ```
/// use std::net::SocketAddr;
/// use loadring::Server;
///
/// #[derive(Debug, PartialEq)]
/// struct Zone(&'static str);
///
/// let s = Server::new("cache-7")
///     .with_addr("10.0.0.7:11211".parse().unwrap())
///     .with_weight(3)
///     .with_meta(Zone("eu-west-1a"));
/// assert_eq!(s.addr(), Some(SocketAddr::from(([10, 0, 0, 7], 11211))));
/// assert_eq!(s.meta::<Zone>(), Some(&Zone("eu-west-1a")));
/// assert_eq!(Server::new("10.0.0.1:80").addr(), "10.0.0.1:80".parse().ok());
///
/// s.set_healthy(false);
/// assert!(!s.clone().is_healthy()); // the clone shares the health cell
/// ```
#[derive(Clone)]
pub struct Server {
    /// What rarely changes and no pick reads, behind one reference count: a server stays
    /// small (32 bytes) and its clone and drop (a `Shared` lease's, on every request) touch
    /// two counts.
    info: Arc<Info>,
    weight: u32,
    /// The [`Flag`] bits, read by every pick: a byte packed beside other servers' (see
    /// `marks`), so a fleet's marks stay in a few cache lines. `state` holds its claim.
    marks: Marks,
    state: Arc<ServerState>,
}

/// A server's id, capacity, address and typed values (one per type); cloned servers share
/// them, and the `with_*` setters copy them on write.
#[derive(Clone)]
struct Info {
    id: Arc<str>,
    capacity: Option<u64>,
    addr: Option<SocketAddr>,
    meta: Option<Arc<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>>,
}

/// A whole share, in millionths (a slow start's ramp, a panic threshold).
pub(crate) const WHOLE: u32 = 1_000_000;

/// `share`, clamped to [0, 1], in millionths, rounded.
pub(crate) fn millionths(share: f64) -> u32 {
    // In [0, 10⁶] after the clamp (NaN gives 0), so the cast is exact up to rounding.
    (share.clamp(0.0, 1.0) * f64::from(WHOLE)).round() as u32
}

/// The marks that keep a server from new requests, one bit each, so that the pick's check is
/// one load and one compare with zero.
pub(crate) struct Flag;

impl Flag {
    /// Marked down by hand ([`Server::set_healthy`]).
    pub(crate) const DOWN: u8 = 1;
    /// Failing its active health checks.
    pub(crate) const FAILING: u8 = 2;
    /// Ejected as an outlier by the outcomes of its requests.
    pub(crate) const EJECTED: u8 = 4;
    /// Draining: no new requests, while those in flight finish.
    pub(crate) const DRAINING: u8 = 8;
    /// In slow start: taking a growing share, [`ServerState::ramp`] of its weight's.
    pub(crate) const RAMPING: u8 = 16;
    /// New from discovery and not yet checked ([`InitialHealth::Unhealthy`]): a health
    /// check's rise or [`Server::set_healthy`] lifts it.
    ///
    /// [`InitialHealth::Unhealthy`]: crate::InitialHealth::Unhealthy
    pub(crate) const UNCHECKED: u8 = 32;
    /// Its figures in Redis expired or never came: set and cleared by the Redis poller
    /// alone (feature `redis`), as the checker keeps [`Flag::FAILING`].
    pub(crate) const UNREPORTED: u8 = 64;
    /// Listed with weight 0 by discovery ([`Update::sync`](crate::Update::sync)): draining
    /// until a sync lists it with a weight above 0, apart from a drain set by hand
    /// ([`Flag::DRAINING`]), which no sync lifts.
    pub(crate) const LISTED_ZERO: u8 = 128;
    /// The marks of a drain, by hand or by discovery.
    pub(crate) const DRAINS: u8 = Flag::DRAINING | Flag::LISTED_ZERO;
    /// The marks that keep a server from new requests.
    pub(crate) const BLOCKING: u8 = Flag::UNHEALTHY | Flag::DRAINS;
    /// The marks of ill health.
    pub(crate) const UNHEALTHY: u8 =
        Flag::DOWN | Flag::FAILING | Flag::EJECTED | Flag::UNCHECKED | Flag::UNREPORTED;
}

/// The cells a server's clones share; aligned to a cache line (and within one: 56 bytes of
/// 64) so that counters of neighbouring servers do not contend, and a request's outcome
/// touches one line.
#[repr(align(64))]
#[derive(Debug)]
pub(crate) struct ServerState {
    /// The claim on the byte of [`Flag`] bits (why the server takes no new requests; none
    /// set: it takes them), given back when the last clone drops.
    slot: Slot,
    in_flight: AtomicU64,
    /// `f64` bits of the last reported load.
    load: AtomicU64,
    /// The share of its weight a server in slow start takes, in millionths.
    ramp: AtomicU32,
    /// Failures reported in a row since the last success (outlier detection).
    failure_run: AtomicU32,
    /// Outcomes reported since the detector's last sweep: requests in the low 32 bits,
    /// failures in the high 32, so that a report is one addition.
    window: AtomicU64,
    /// `f64` bits of the peak-EWMA latency estimate `E` in nanoseconds, as of its last sample
    /// (0: no sample yet). See `health::peak_ewma`.
    latency: AtomicU64,
    /// `f64` bits of the time of that sample, in units of the decay `τ`.
    latency_at: AtomicU64,
}

impl Default for ServerState {
    fn default() -> Self {
        ServerState {
            slot: Slot::take(),
            in_flight: AtomicU64::new(0),
            load: AtomicU64::new(0f64.to_bits()),
            ramp: AtomicU32::new(WHOLE),
            failure_run: AtomicU32::new(0),
            window: AtomicU64::new(0),
            latency: AtomicU64::new(0f64.to_bits()),
            latency_at: AtomicU64::new(0f64.to_bits()),
        }
    }
}

/// One failure in a server's outcome window (the high half of [`ServerState::window`]),
/// and the request it counts as (the low half).
const WINDOW_FAILURE: u64 = 1 << 32 | 1;

impl Server {
    /// A healthy server with weight 1, no capacity limit and cells of its own; its address is
    /// the id if the id parses as a socket address.
    pub fn new(id: impl Into<Arc<str>>) -> Self {
        let id: Arc<str> = id.into();
        let info = Info {
            addr: id.parse().ok(),
            id,
            capacity: None,
            meta: None,
        };
        let state = Arc::new(ServerState::default());
        Server {
            info: Arc::new(info),
            weight: 1,
            marks: state.slot.marks(),
            state,
        }
    }

    /// Sets the weight. Balancers reject weight 0 with [`Error::ZeroWeight`].
    pub fn with_weight(mut self, weight: u32) -> Self {
        self.weight = weight;
        self
    }

    /// Sets the capacity: the most requests in flight where a strategy honours capacity.
    pub fn with_capacity(mut self, capacity: u64) -> Self {
        Arc::make_mut(&mut self.info).capacity = Some(capacity);
        self
    }

    /// Sets the address to connect to (never hashed).
    pub fn with_addr(mut self, addr: SocketAddr) -> Self {
        Arc::make_mut(&mut self.info).addr = Some(addr);
        self
    }

    /// Attaches a typed value, replacing any earlier value of the same type (never hashed).
    pub fn with_meta<T: Any + Send + Sync>(mut self, value: T) -> Self {
        let map = Arc::make_mut(&mut self.info)
            .meta
            .get_or_insert_with(Default::default);
        Arc::make_mut(map).insert(TypeId::of::<T>(), Arc::new(value));
        self
    }

    /// The id, the string that hash strategies hash.
    pub fn id(&self) -> &str {
        &self.info.id
    }

    /// The weight.
    pub fn weight(&self) -> u32 {
        self.weight
    }

    /// The capacity, if one was set.
    pub fn capacity(&self) -> Option<u64> {
        self.info.capacity
    }

    /// The address: the one set with [`with_addr`](Server::with_addr), else the id if it is a
    /// socket address.
    pub fn addr(&self) -> Option<SocketAddr> {
        self.info.addr
    }

    /// The attached value of type `T`, if any.
    pub fn meta<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.info
            .meta
            .as_ref()?
            .get(&TypeId::of::<T>())?
            .downcast_ref()
    }

    /// Whether the server takes new requests and keys: healthy and not draining. Picks hand
    /// out only available servers. New servers are available.
    #[inline]
    pub fn is_available(&self) -> bool {
        self.marks.load(Ordering::Relaxed) & Flag::BLOCKING == 0
    }

    /// Whether the server carries no mark at all: available and past any slow start, so a
    /// strategy may give it its whole share without a second look.
    #[inline]
    pub(crate) fn is_settled(&self) -> bool {
        self.marks.load(Ordering::Relaxed) == 0
    }

    /// The share of its weight the server takes now: below 1 during a slow start
    /// ([`SlowStart`](crate::health::SlowStart)), 1 otherwise.
    pub fn ramp(&self) -> f64 {
        f64::from(self.ramp_millionths()) / f64::from(WHOLE)
    }

    /// The ramp in millionths of the weight (see [`ramp`](Server::ramp)).
    #[inline]
    pub(crate) fn ramp_millionths(&self) -> u32 {
        if self.marks.load(Ordering::Relaxed) & Flag::RAMPING == 0 {
            return WHOLE;
        }
        self.state.ramp.load(Ordering::Relaxed)
    }

    /// Starts, moves or (with `None`) ends the server's slow start: a share in (0, 1].
    pub(crate) fn set_ramp(&self, share: Option<f64>) {
        if let Some(share) = share {
            self.state.ramp.store(millionths(share), Ordering::Relaxed);
        }
        // A tick ends every settled server's ramp: no write to its line unless it ramped.
        if share.is_some() || self.has_flag(Flag::RAMPING) {
            self.set_flag(Flag::RAMPING, share.is_some());
        }
    }

    /// Whether the server is healthy: not marked down by [`set_healthy`](Server::set_healthy),
    /// by failing health checks, by figures missing from Redis (feature `redis`), nor ejected
    /// as an outlier. New servers are healthy.
    #[inline]
    pub fn is_healthy(&self) -> bool {
        self.marks.load(Ordering::Relaxed) & Flag::UNHEALTHY == 0
    }

    /// Marks the server healthy or not by hand; every balancer holding a clone sees it on its
    /// next pick. Health checks, outlier ejection and the Redis poller keep marks of their
    /// own: the server is healthy when none of them holds it down.
    ///
    /// Marking it healthy also lifts the wait of a server that discovery added unhealthy
    /// until a first check ([`InitialHealth::Unhealthy`](crate::InitialHealth::Unhealthy)).
    pub fn set_healthy(&self, healthy: bool) {
        if healthy {
            self.set_flag(Flag::DOWN | Flag::UNCHECKED, false);
        } else {
            self.set_flag(Flag::DOWN, true);
        }
    }

    /// Whether any of the marks `flags` is set.
    pub(crate) fn has_flag(&self, flags: u8) -> bool {
        self.marks.load(Ordering::Relaxed) & flags != 0
    }

    /// Whether the server is draining: it takes no new requests or keys, while those in
    /// flight finish. A drain comes from [`set_draining`](Server::set_draining) or from a
    /// discovery list that gives the server weight 0 ([`Update::sync`](crate::Update::sync)).
    #[inline]
    pub fn is_draining(&self) -> bool {
        self.marks.load(Ordering::Relaxed) & Flag::DRAINS != 0
    }

    /// Starts or stops draining the server, apart from its health: picks pass it by (its keys
    /// go where they would go were it down), and its leases finish. Once
    /// [`in_flight`](Server::in_flight) reads 0 it can be removed without cutting a request.
    /// This is the drain by hand: a sync neither ends it nor ends a drain that discovery
    /// began (weight 0; the next list with a weight above 0 ends that one).
    pub fn set_draining(&self, draining: bool) {
        self.set_flag(Flag::DRAINING, draining);
    }

    /// Sets or clears one mark.
    pub(crate) fn set_flag(&self, flag: u8, on: bool) {
        let before = if on {
            self.marks.fetch_or(flag, Ordering::Relaxed)
        } else {
            self.marks.fetch_and(!flag, Ordering::Relaxed)
        };
        if (before & flag != 0) != on {
            crate::health::marks_changed();
        }
    }

    /// Requests in flight, counted by [`Lease`](crate::Lease)s.
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

    /// Whether two servers share their cells (one is a clone of the other).
    pub fn shares_state_with(&self, other: &Server) -> bool {
        Arc::ptr_eq(&self.state, &other.state)
    }

    /// This server's description (weight, capacity, address, metadata) with `other`'s cells.
    pub(crate) fn with_cells_of(mut self, other: &Server) -> Self {
        self.state = Arc::clone(&other.state);
        self.marks = other.state.slot.marks();
        self
    }

    /// Whether both have the same weight, capacity, address and metadata.
    pub(crate) fn same_description(&self, other: &Server) -> bool {
        let (a, b) = (&self.info, &other.info);
        let same_meta = match (&a.meta, &b.meta) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        (self.weight, a.capacity, a.addr) == (other.weight, b.capacity, b.addr) && same_meta
    }

    /// The id as the shared string.
    pub(crate) fn id_arc(&self) -> &Arc<str> {
        &self.info.id
    }

    /// Counts one more request in flight and returns the new count.
    pub(crate) fn begin_request(&self) -> u64 {
        self.state.in_flight.fetch_add(1, Ordering::AcqRel) + 1
    }

    /// Counts one more request in flight if that leaves at most `limit` in flight, by a
    /// compare-exchange, so racing callers cannot overshoot the limit together.
    ///
    /// A refusal reads the count with `Acquire`: a caller turned away by another's lease then
    /// sees everything that caller did before taking it (bounded loads: its place in the
    /// balancer's lease count), even on weakly ordered processors.
    pub(crate) fn try_begin_request(&self, limit: u64) -> bool {
        self.state
            .in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < limit).then_some(n + 1)
            })
            .is_ok()
    }

    /// Counts one request fewer in flight (never below zero).
    pub(crate) fn end_request(&self) {
        let _ = self
            .state
            .in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |n| n.checked_sub(1));
    }

    /// The identity of the cells: equal for clones, distinct for servers that do not share
    /// them, for as long as a clone lives.
    pub(crate) fn cells_key(&self) -> usize {
        Arc::as_ptr(&self.state) as usize
    }

    /// Counts a successful request in the outcome window and ends the run of failures.
    #[inline]
    pub(crate) fn count_success(&self) {
        let s = &*self.state;
        s.window.fetch_add(1, Ordering::Relaxed);
        // A load first: a healthy server's line is not written twice a request.
        if s.failure_run.load(Ordering::Relaxed) != 0 {
            s.failure_run.store(0, Ordering::Relaxed);
        }
    }

    /// Counts a failed request in the outcome window and returns the length of the run of
    /// failures it extends (it wraps after 2³² in a row).
    #[inline]
    pub(crate) fn count_failure(&self) -> u32 {
        let s = &*self.state;
        s.window.fetch_add(WINDOW_FAILURE, Ordering::Relaxed);
        s.failure_run
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_add(1)
    }

    /// Failures reported in a row since the last success.
    pub(crate) fn failure_run(&self) -> u32 {
        self.state.failure_run.load(Ordering::Relaxed)
    }

    /// Ends the run of failures (after an ejection, or a return to service).
    pub(crate) fn reset_failure_run(&self) {
        self.state.failure_run.store(0, Ordering::Relaxed);
    }

    /// The requests and failures counted since the last call, and a fresh window.
    pub(crate) fn take_window(&self) -> (u32, u32) {
        let w = self.state.window.swap(0, Ordering::Relaxed);
        (w as u32, (w >> 32) as u32)
    }

    /// The peak-EWMA latency estimate as of its last sample, in nanoseconds (0 before a
    /// first sample), and the time of that sample in units of the decay.
    #[inline]
    pub(crate) fn latency_estimate(&self) -> (f64, f64) {
        let s = &*self.state;
        (
            f64::from_bits(s.latency.load(Ordering::Relaxed)),
            f64::from_bits(s.latency_at.load(Ordering::Relaxed)),
        )
    }

    /// Stores a new latency estimate and the time of its sample.
    #[inline]
    pub(crate) fn set_latency_estimate(&self, estimate: f64, at: f64) {
        let s = &*self.state;
        s.latency.store(estimate.to_bits(), Ordering::Relaxed);
        s.latency_at.store(at.to_bits(), Ordering::Relaxed);
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Server");
        d.field("id", &self.info.id)
            .field("weight", &self.weight)
            .field("capacity", &self.info.capacity)
            .field("addr", &self.info.addr);
        if let Some(map) = &self.info.meta {
            d.field("meta_values", &map.len());
        }
        d.field("healthy", &self.is_healthy())
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

impl From<&String> for Server {
    fn from(id: &String) -> Self {
        Server::new(id.as_str())
    }
}

/// A server whose id is the address written out (`10.0.0.1:80`, `[::1]:80`).
impl From<SocketAddr> for Server {
    fn from(addr: SocketAddr) -> Self {
        Server::new(addr.to_string()).with_addr(addr)
    }
}

impl From<&Server> for Server {
    fn from(s: &Server) -> Self {
        s.clone()
    }
}

#[cfg(feature = "serde")]
mod serde_impl {
    //! A server is written as `{"id", "weight", "capacity", "addr"}`; it reads from that
    //! (unknown fields are errors) or from a plain id string (weight 1).

    use super::*;
    use serde::de::{self, MapAccess, Visitor};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Repr {
        id: String,
        #[serde(default = "one")]
        weight: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        capacity: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        addr: Option<SocketAddr>,
    }

    fn one() -> u32 {
        1
    }

    impl Serialize for Server {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            // The address is written only when it is not the id itself.
            let implied: Option<SocketAddr> = self.id().parse().ok();
            Repr {
                id: self.id().to_owned(),
                weight: self.weight,
                capacity: self.capacity(),
                addr: self.addr().filter(|a| Some(*a) != implied),
            }
            .serialize(serializer)
        }
    }

    impl<'de> Deserialize<'de> for Server {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct ServerVisitor;

            impl<'de> Visitor<'de> for ServerVisitor {
                type Value = Server;

                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str(
                        "a server id, or a map with `id` and optional `weight`, `capacity`, `addr`",
                    )
                }

                fn visit_str<E: de::Error>(self, id: &str) -> Result<Server, E> {
                    Ok(Server::new(id))
                }

                fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Server, A::Error> {
                    let r = Repr::deserialize(de::value::MapAccessDeserializer::new(map))?;
                    let mut s = Server::new(r.id).with_weight(r.weight);
                    if let Some(capacity) = r.capacity {
                        s = s.with_capacity(capacity);
                    }
                    if let Some(addr) = r.addr {
                        s = s.with_addr(addr);
                    }
                    Ok(s)
                }
            }

            deserializer.deserialize_any(ServerVisitor)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    #[cfg(target_pointer_width = "64")]
    fn a_server_stays_small_for_the_lease_path() {
        // Shared's leases clone and drop a server on every request.
        assert_eq!(std::mem::size_of::<Server>(), 32);
    }

    #[test]
    #[cfg(not(loom))]
    fn the_shared_cells_fit_one_cache_line() {
        assert_eq!(std::mem::size_of::<ServerState>(), 64);
        assert_eq!(std::mem::align_of::<ServerState>(), 64);
    }

    #[test]
    fn outcomes_count_in_the_window_and_the_run() {
        let s = Server::new("a");
        assert_eq!((s.count_failure(), s.count_failure()), (1, 2));
        s.clone().count_success();
        assert_eq!(
            s.failure_run(),
            0,
            "a success ends the run, through a clone too"
        );
        assert_eq!(s.count_failure(), 1);
        assert_eq!(s.take_window(), (4, 3));
        assert_eq!(s.take_window(), (0, 0));
        assert_eq!(s.failure_run(), 1, "the run outlives the window");
        s.reset_failure_run();
        assert_eq!(s.failure_run(), 0);
        assert_eq!(s.latency_estimate(), (0.0, 0.0));
    }

    #[test]
    fn address_and_metadata_ride_along() {
        let plain = Server::new("cache-7");
        assert_eq!(plain.addr(), None);
        assert_eq!(plain.meta::<u32>(), None);
        let v6 = Server::new("[::1]:8080");
        assert_eq!(v6.addr(), "[::1]:8080".parse().ok());
        let a: SocketAddr = "10.1.2.3:99".parse().unwrap();
        let from = Server::from(a);
        assert_eq!((from.id(), from.addr()), ("10.1.2.3:99", Some(a)));

        let tagged = plain.clone().with_meta(7u32).with_meta("name");
        let clone = tagged.clone().with_meta(8u32); // copy on write: the first keeps 7
        assert_eq!(tagged.meta::<u32>(), Some(&7));
        assert_eq!(clone.meta::<u32>(), Some(&8));
        assert_eq!(clone.meta::<&str>(), Some(&"name"));
        assert!(
            clone.shares_state_with(&plain),
            "metadata does not split the cells"
        );
        assert!(format!("{tagged:?}").contains("meta_values: 2"));
    }
}
