//! A strategy chosen at run time: [`Strategy`] names it with its options, [`AnyBalancer`] is
//! the balancer, and (feature `serde`) both read from a configuration file.

use crate::{
    Balancer, BoundedLoad, BoundedOptions, Error, FillFirst, FillFirstOptions, Fleet, HashRing,
    Jump, KeyHasher, Lease, LeastLoaded, LeastLoadedOptions, Maglev, MaglevOptions, Modulo,
    PickError, Rendezvous, RingOptions, RoundRobin, Server, SyncOptions, SyncReport, Update,
};
#[cfg(feature = "ketama")]
use crate::{KetamaOptions, KetamaRing};

/// A strategy and its options, chosen at run time (from configuration, a flag, a test
/// matrix). [`AnyBalancer::new`] builds it over a list of servers.
///
/// Its [`name`](Strategy::name) is the `"strategy"` of a configuration file.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Strategy {
    /// [`Modulo`] (`"modulo"`).
    Modulo,
    /// [`HashRing`] (`"ring"`).
    Ring(RingOptions),
    /// [`Jump`] (`"jump"`).
    Jump,
    /// [`Maglev`] (`"maglev"`).
    Maglev(MaglevOptions),
    /// [`Rendezvous`] (`"rendezvous"`).
    Rendezvous,
    /// [`BoundedLoad`] (`"bounded"`).
    Bounded(BoundedOptions),
    /// `KetamaRing` (`"ketama"`, feature `ketama`).
    #[cfg(feature = "ketama")]
    Ketama(KetamaOptions),
    /// [`RoundRobin`] (`"round-robin"`).
    RoundRobin,
    /// [`LeastLoaded`] (`"least-loaded"`).
    LeastLoaded(LeastLoadedOptions),
    /// [`FillFirst`] (`"fill-first"`).
    FillFirst(FillFirstOptions),
}

impl Strategy {
    /// The strategy's name in configuration files: `"modulo"`, `"ring"`, `"jump"`,
    /// `"maglev"`, `"rendezvous"`, `"bounded"`, `"ketama"`, `"round-robin"`,
    /// `"least-loaded"`, `"fill-first"`.
    pub fn name(&self) -> &'static str {
        match self {
            Strategy::Modulo => "modulo",
            Strategy::Ring(_) => "ring",
            Strategy::Jump => "jump",
            Strategy::Maglev(_) => "maglev",
            Strategy::Rendezvous => "rendezvous",
            Strategy::Bounded(_) => "bounded",
            #[cfg(feature = "ketama")]
            Strategy::Ketama(_) => "ketama",
            Strategy::RoundRobin => "round-robin",
            Strategy::LeastLoaded(_) => "least-loaded",
            Strategy::FillFirst(_) => "fill-first",
        }
    }

    /// Every strategy with its default options, in the order of the README's table: the one
    /// list that tests, benches and the compare example iterate.
    pub fn all() -> Vec<Strategy> {
        vec![
            Strategy::Modulo,
            Strategy::Ring(RingOptions::default()),
            Strategy::Jump,
            Strategy::Maglev(MaglevOptions::default()),
            Strategy::Rendezvous,
            Strategy::Bounded(BoundedOptions::default()),
            #[cfg(feature = "ketama")]
            Strategy::Ketama(KetamaOptions::default()),
            Strategy::RoundRobin,
            Strategy::LeastLoaded(LeastLoadedOptions::default()),
            Strategy::FillFirst(FillFirstOptions::default()),
        ]
    }

    /// Whether the strategy routes by key (the key-free ones ignore keys).
    pub fn is_keyed(&self) -> bool {
        !matches!(
            self,
            Strategy::RoundRobin | Strategy::LeastLoaded(_) | Strategy::FillFirst(_)
        )
    }
}

/// Any of the crate's strategies, chosen at run time: a balancer that implements the same
/// traits as the concrete ones ([`Balancer`], [`Update`], `Clone`), so it lives in
/// [`Shared`](crate::Shared) and takes add, remove, reweight and sync. A pick dispatches
/// with one `match`.
///
/// With the `serde` feature it reads from a configuration such as
///
/// ```json
/// {"strategy": "maglev", "servers": ["10.0.0.1:80", {"id": "10.0.0.2:80", "weight": 2}],
///  "options": {"table_size": 5003}}
/// ```
///
/// in JSON, TOML or any serde format. `"options"` may be left out (the defaults), and an
/// unknown strategy, option or server field is an error that names it; so is a weight
/// other than 1 for a strategy that cannot honour weights.
///
/// ```
/// use loadring::{AnyBalancer, BalancerExt, MaglevOptions, Shared, Strategy};
///
/// let options = MaglevOptions::default().with_table_size(5003);
/// let balancer = AnyBalancer::new(Strategy::Maglev(options), ["10.0.0.1:80", "10.0.0.2:80"])?;
/// let shared = Shared::new(balancer);
/// shared.add("10.0.0.3:80")?;
/// let lease = shared.acquire("user-42")?;
/// println!("user-42 -> {} via {}", lease.id(), shared.snapshot().strategy().name());
/// # Ok::<(), loadring::Error>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AnyBalancer {
    /// A [`Modulo`].
    Modulo(Modulo),
    /// A [`HashRing`].
    Ring(HashRing),
    /// A [`Jump`].
    Jump(Jump),
    /// A [`Maglev`].
    Maglev(Maglev),
    /// A [`Rendezvous`].
    Rendezvous(Rendezvous),
    /// A [`BoundedLoad`].
    Bounded(BoundedLoad),
    /// A `KetamaRing` (feature `ketama`).
    #[cfg(feature = "ketama")]
    Ketama(KetamaRing),
    /// A [`RoundRobin`].
    RoundRobin(RoundRobin),
    /// A [`LeastLoaded`].
    LeastLoaded(LeastLoaded),
    /// A [`FillFirst`].
    FillFirst(FillFirst),
}

/// Calls `$call` on the balancer inside any variant.
macro_rules! each {
    ($self:expr, $b:ident => $call:expr) => {
        match $self {
            AnyBalancer::Modulo($b) => $call,
            AnyBalancer::Ring($b) => $call,
            AnyBalancer::Jump($b) => $call,
            AnyBalancer::Maglev($b) => $call,
            AnyBalancer::Rendezvous($b) => $call,
            AnyBalancer::Bounded($b) => $call,
            #[cfg(feature = "ketama")]
            AnyBalancer::Ketama($b) => $call,
            AnyBalancer::RoundRobin($b) => $call,
            AnyBalancer::LeastLoaded($b) => $call,
            AnyBalancer::FillFirst($b) => $call,
        }
    };
}

impl AnyBalancer {
    /// Builds `strategy` over `servers`.
    ///
    /// Errors: those of the strategy's constructor.
    pub fn new<I>(strategy: Strategy, servers: I) -> Result<Self, Error>
    where
        I: IntoIterator,
        I::Item: Into<Server>,
    {
        Ok(match strategy {
            Strategy::Modulo => AnyBalancer::Modulo(Modulo::new(servers)?),
            Strategy::Ring(o) => AnyBalancer::Ring(HashRing::with_options(servers, o)?),
            Strategy::Jump => AnyBalancer::Jump(Jump::new(servers)?),
            Strategy::Maglev(o) => AnyBalancer::Maglev(Maglev::with_options(servers, o)?),
            Strategy::Rendezvous => AnyBalancer::Rendezvous(Rendezvous::new(servers)?),
            Strategy::Bounded(o) => AnyBalancer::Bounded(BoundedLoad::with_options(servers, o)?),
            #[cfg(feature = "ketama")]
            Strategy::Ketama(o) => AnyBalancer::Ketama(KetamaRing::with_options(servers, o)?),
            Strategy::RoundRobin => AnyBalancer::RoundRobin(RoundRobin::new(servers)?),
            Strategy::LeastLoaded(o) => {
                AnyBalancer::LeastLoaded(LeastLoaded::with_options(servers, o)?)
            }
            Strategy::FillFirst(o) => AnyBalancer::FillFirst(FillFirst::with_options(servers, o)?),
        })
    }

    /// The strategy and options this balancer runs.
    pub fn strategy(&self) -> Strategy {
        match self {
            AnyBalancer::Modulo(_) => Strategy::Modulo,
            AnyBalancer::Ring(b) => Strategy::Ring(b.options()),
            AnyBalancer::Jump(_) => Strategy::Jump,
            AnyBalancer::Maglev(b) => Strategy::Maglev(b.options()),
            AnyBalancer::Rendezvous(_) => Strategy::Rendezvous,
            AnyBalancer::Bounded(b) => Strategy::Bounded(b.options()),
            #[cfg(feature = "ketama")]
            AnyBalancer::Ketama(b) => {
                Strategy::Ketama(KetamaOptions::default().with_flavor(b.flavor()))
            }
            AnyBalancer::RoundRobin(_) => Strategy::RoundRobin,
            AnyBalancer::LeastLoaded(b) => Strategy::LeastLoaded(b.options()),
            AnyBalancer::FillFirst(b) => Strategy::FillFirst(b.options()),
        }
    }

    /// Uses `hasher` for keys instead of the default XXH3, for strategies that route by key
    /// (the others ignore keys, and so the hasher).
    pub fn with_hasher(self, hasher: KeyHasher) -> Self {
        match self {
            AnyBalancer::Modulo(b) => AnyBalancer::Modulo(b.with_hasher(hasher)),
            AnyBalancer::Ring(b) => AnyBalancer::Ring(b.with_hasher(hasher)),
            AnyBalancer::Jump(b) => AnyBalancer::Jump(b.with_hasher(hasher)),
            AnyBalancer::Maglev(b) => AnyBalancer::Maglev(b.with_hasher(hasher)),
            AnyBalancer::Rendezvous(b) => AnyBalancer::Rendezvous(b.with_hasher(hasher)),
            AnyBalancer::Bounded(b) => AnyBalancer::Bounded(b.with_hasher(hasher)),
            other => other,
        }
    }
}

impl Balancer for AnyBalancer {
    #[inline]
    fn fleet(&self) -> &Fleet {
        each!(self, b => b.fleet())
    }

    #[inline]
    fn pick_hash(&self, hash: u64) -> Result<&Server, PickError> {
        each!(self, b => b.pick_hash(hash))
    }

    #[inline]
    fn acquire_hash(&self, hash: u64) -> Result<Lease<'_>, PickError> {
        each!(self, b => b.acquire_hash(hash))
    }

    fn acquire_hash_with(
        &self,
        hash: u64,
        accept: &mut dyn FnMut(&Server) -> bool,
    ) -> Result<Lease<'_>, PickError> {
        each!(self, b => b.acquire_hash_with(hash, accept))
    }

    fn candidates_hash(&self, hash: u64, out: &mut [usize]) -> usize {
        each!(self, b => b.candidates_hash(hash, out))
    }

    #[inline]
    fn hasher(&self) -> &KeyHasher {
        each!(self, b => b.hasher())
    }
}

impl Update for AnyBalancer {
    fn set_servers(&mut self, servers: Vec<Server>) -> Result<(), Error> {
        each!(self, b => b.set_servers(servers))
    }

    fn add(&mut self, server: Server) -> Result<(), Error> {
        each!(self, b => b.add(server))
    }

    fn remove(&mut self, id: &str) -> Result<Server, Error> {
        each!(self, b => b.remove(id))
    }

    fn set_weight(&mut self, id: &str, weight: u32) -> Result<(), Error> {
        each!(self, b => b.set_weight(id, weight))
    }

    fn sync(&mut self, servers: Vec<Server>, options: SyncOptions) -> Result<SyncReport, Error> {
        each!(self, b => b.sync(servers, options))
    }
}

#[cfg(feature = "serde")]
mod serde_impl {
    //! `{"strategy": name, "servers": [...], "options": {...}}`, strictly.

    use super::*;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// The file format: one variant per strategy, each with the options it takes.
    #[derive(Serialize, Deserialize)]
    #[serde(tag = "strategy", rename_all = "kebab-case", deny_unknown_fields)]
    enum Repr {
        Modulo {
            servers: Vec<Server>,
        },
        Ring {
            servers: Vec<Server>,
            #[serde(default)]
            options: RingOptions,
        },
        Jump {
            servers: Vec<Server>,
        },
        Maglev {
            servers: Vec<Server>,
            #[serde(default)]
            options: MaglevOptions,
        },
        Rendezvous {
            servers: Vec<Server>,
        },
        Bounded {
            servers: Vec<Server>,
            #[serde(default)]
            options: BoundedOptions,
        },
        #[cfg(feature = "ketama")]
        Ketama {
            servers: Vec<Server>,
            #[serde(default)]
            options: KetamaOptions,
        },
        RoundRobin {
            servers: Vec<Server>,
        },
        LeastLoaded {
            servers: Vec<Server>,
            #[serde(default)]
            options: LeastLoadedOptions,
        },
        FillFirst {
            servers: Vec<Server>,
            #[serde(default)]
            options: FillFirstOptions,
        },
    }

    impl Repr {
        fn build(self) -> Result<AnyBalancer, Error> {
            let (strategy, servers) = match self {
                Repr::Modulo { servers } => (Strategy::Modulo, servers),
                Repr::Ring { servers, options } => (Strategy::Ring(options), servers),
                Repr::Jump { servers } => (Strategy::Jump, servers),
                Repr::Maglev { servers, options } => (Strategy::Maglev(options), servers),
                Repr::Rendezvous { servers } => (Strategy::Rendezvous, servers),
                Repr::Bounded { servers, options } => (Strategy::Bounded(options), servers),
                #[cfg(feature = "ketama")]
                Repr::Ketama { servers, options } => (Strategy::Ketama(options), servers),
                Repr::RoundRobin { servers } => (Strategy::RoundRobin, servers),
                Repr::LeastLoaded { servers, options } => (Strategy::LeastLoaded(options), servers),
                Repr::FillFirst { servers, options } => (Strategy::FillFirst(options), servers),
            };
            AnyBalancer::new(strategy, servers)
        }

        fn of(b: &AnyBalancer) -> Repr {
            let servers = b.servers().to_vec();
            match b.strategy() {
                Strategy::Modulo => Repr::Modulo { servers },
                Strategy::Ring(options) => Repr::Ring { servers, options },
                Strategy::Jump => Repr::Jump { servers },
                Strategy::Maglev(options) => Repr::Maglev { servers, options },
                Strategy::Rendezvous => Repr::Rendezvous { servers },
                Strategy::Bounded(options) => Repr::Bounded { servers, options },
                #[cfg(feature = "ketama")]
                Strategy::Ketama(options) => Repr::Ketama { servers, options },
                Strategy::RoundRobin => Repr::RoundRobin { servers },
                Strategy::LeastLoaded(options) => Repr::LeastLoaded { servers, options },
                Strategy::FillFirst(options) => Repr::FillFirst { servers, options },
            }
        }
    }

    impl<'de> Deserialize<'de> for AnyBalancer {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            let repr = Repr::deserialize(deserializer)?;
            repr.build().map_err(serde::de::Error::custom)
        }
    }

    /// Writes the strategy, its options and its servers (not their health or loads).
    impl Serialize for AnyBalancer {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            Repr::of(self).serialize(serializer)
        }
    }
}
