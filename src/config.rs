//! A strategy chosen at run time: [`Strategy`] names it with its options, [`AnyBalancer`] is
//! the balancer, and (feature `serde`) both read from a configuration file.

use crate::{
    Balancer, BoundedLoad, BoundedOptions, Error, FillFirst, FillFirstOptions, Fleet, HashRing,
    Jump, JumpOptions, KeyHasher, Lease, LeastLoaded, LeastLoadedOptions, Maglev, MaglevOptions,
    Modulo, ModuloOptions, PickError, Rendezvous, RendezvousOptions, RingOptions, RoundRobin,
    RoundRobinOptions, Server, SyncOptions, SyncReport, Update,
};
#[cfg(feature = "ketama")]
use crate::{KetamaOptions, KetamaRing};

/// The one list of strategies: each line names the variant, the balancer type, its options
/// type, its name in configuration files, and whether it routes by key (`keyed`; `fixed_hash`
/// when its key hash cannot change) or not (`keyless`). Everything that
/// iterates strategies ([`Strategy::all`], [`AnyBalancer`], the configuration format, and
/// through them the tests, benches and the compare example) comes from this list.
macro_rules! strategies {
    ($($(#[$cfg:meta])* $variant:ident($balancer:ident, $options:ident, $name:literal, $keyed:ident);)*) => {
        /// A strategy and its options, chosen at run time (from configuration, a flag, a test
        /// matrix). [`AnyBalancer::new`] builds it over a list of servers.
        ///
        /// Its [`name`](Strategy::name) is the `"strategy"` of a configuration file.
        #[derive(Debug, Clone, Copy, PartialEq)]
        #[non_exhaustive]
        pub enum Strategy {
            $(
                $(#[$cfg])*
                #[doc = concat!("[`", stringify!($balancer), "`] (`\"", $name, "\"`).")]
                $variant($options),
            )*
        }

        impl Strategy {
            /// The strategy's name in configuration files: `"modulo"`, `"ring"`, `"jump"`,
            /// `"maglev"`, `"rendezvous"`, `"bounded"`, `"ketama"`, `"round-robin"`,
            /// `"least-loaded"`, `"fill-first"`.
            pub fn name(&self) -> &'static str {
                match self {
                    $($(#[$cfg])* Strategy::$variant(_) => $name,)*
                }
            }

            /// Every strategy with its default options, in the order of the README's table:
            /// the one list that tests, benches and the compare example iterate.
            pub fn all() -> Vec<Strategy> {
                vec![$($(#[$cfg])* Strategy::$variant($options::default()),)*]
            }

            /// Whether the strategy routes by key (the key-free ones ignore keys).
            pub fn is_keyed(&self) -> bool {
                match self {
                    $($(#[$cfg])* Strategy::$variant(_) => strategies!(@keyed $keyed),)*
                }
            }
        }

        /// Any of the crate's strategies, chosen at run time: a balancer that implements the
        /// same traits as the concrete ones ([`Balancer`], [`Update`], `Clone`), so it lives in
        /// [`Shared`](crate::Shared) and takes add, remove, reweight and sync. A pick
        /// dispatches with one `match`.
        ///
        /// With the `serde` feature it reads from a configuration such as
        ///
        /// ```json
        /// {"strategy": "maglev", "servers": ["10.0.0.1:80", {"id": "10.0.0.2:80", "weight": 2}],
        ///  "options": {"table_size": 5003}}
        /// ```
        ///
        /// in JSON, TOML or any serde format. `"options"` may be left out (the defaults), and
        /// an unknown strategy, option or server field is an error that names it; so is a
        /// weight other than 1 for a strategy that cannot honour weights.
        ///
        /// ```
        /// use loadring::{AnyBalancer, BalancerExt, MaglevOptions, Shared, Strategy};
        ///
        /// let options = MaglevOptions::default().with_table_size(5003);
        /// let balancer =
        ///     AnyBalancer::new(Strategy::Maglev(options), ["10.0.0.1:80", "10.0.0.2:80"])?;
        /// let shared = Shared::new(balancer);
        /// shared.add("10.0.0.3:80")?;
        /// let lease = shared.acquire("user-42")?;
        /// println!("user-42 -> {} via {}", lease.id(), shared.snapshot().strategy().name());
        /// # Ok::<(), loadring::Error>(())
        /// ```
        #[derive(Debug, Clone)]
        #[non_exhaustive]
        pub enum AnyBalancer {
            $(
                $(#[$cfg])*
                #[doc = concat!("A [`", stringify!($balancer), "`].")]
                $variant($balancer),
            )*
        }

        /// Calls `$call` on the balancer inside any variant.
        macro_rules! each {
            ($self:expr, $b:ident => $call:expr) => {
                match $self {
                    $($(#[$cfg])* AnyBalancer::$variant($b) => $call,)*
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
                    $($(#[$cfg])* Strategy::$variant(o) => {
                        AnyBalancer::$variant($balancer::with_options(servers, o)?)
                    })*
                })
            }

            /// The strategy and options this balancer runs.
            pub fn strategy(&self) -> Strategy {
                match self {
                    $($(#[$cfg])* AnyBalancer::$variant(b) => Strategy::$variant(b.options()),)*
                }
            }

            /// Uses `hasher` for keys instead of the default XXH3, for strategies that route
            /// by key (the key-free ones ignore keys, and the ketama ring keeps its MD5).
            pub fn with_hasher(self, hasher: KeyHasher) -> Self {
                match self {
                    $($(#[$cfg])* AnyBalancer::$variant(b) => {
                        AnyBalancer::$variant(strategies!(@hasher $keyed, b, hasher))
                    })*
                }
            }
        }

        #[cfg(feature = "serde")]
        mod serde_impl {
            //! `{"strategy": name, "servers": [...], "options": {...}}`, strictly.

            use super::*;
            use serde::{Deserialize, Deserializer, Serialize, Serializer};

            /// The file format: one variant per strategy, with the options it takes.
            #[derive(Serialize, Deserialize)]
            #[serde(tag = "strategy", deny_unknown_fields)]
            enum Repr {
                $(
                    $(#[$cfg])*
                    #[serde(rename = $name)]
                    $variant {
                        servers: Vec<Server>,
                        #[serde(default)]
                        options: $options,
                    },
                )*
            }

            impl<'de> Deserialize<'de> for AnyBalancer {
                fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                    let (strategy, servers) = match Repr::deserialize(deserializer)? {
                        $($(#[$cfg])* Repr::$variant { servers, options } => {
                            (Strategy::$variant(options), servers)
                        })*
                    };
                    AnyBalancer::new(strategy, servers).map_err(serde::de::Error::custom)
                }
            }

            /// Writes the strategy, its options and its servers (not their health or loads).
            impl Serialize for AnyBalancer {
                fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                    let servers = self.servers().to_vec();
                    let repr = match self.strategy() {
                        $($(#[$cfg])* Strategy::$variant(options) => {
                            Repr::$variant { servers, options }
                        })*
                    };
                    repr.serialize(serializer)
                }
            }
        }
    };
    (@keyed keyed) => { true };
    (@keyed fixed_hash) => { true };
    (@keyed keyless) => { false };
    (@hasher keyed, $b:ident, $h:ident) => { $b.with_hasher($h) };
    (@hasher $other:ident, $b:ident, $h:ident) => { $b };
}

strategies! {
    Modulo(Modulo, ModuloOptions, "modulo", keyed);
    Ring(HashRing, RingOptions, "ring", keyed);
    Jump(Jump, JumpOptions, "jump", keyed);
    Maglev(Maglev, MaglevOptions, "maglev", keyed);
    Rendezvous(Rendezvous, RendezvousOptions, "rendezvous", keyed);
    Bounded(BoundedLoad, BoundedOptions, "bounded", keyed);
    #[cfg(feature = "ketama")]
    Ketama(KetamaRing, KetamaOptions, "ketama", fixed_hash);
    RoundRobin(RoundRobin, RoundRobinOptions, "round-robin", keyless);
    LeastLoaded(LeastLoaded, LeastLoadedOptions, "least-loaded", keyless);
    FillFirst(FillFirst, FillFirstOptions, "fill-first", keyless);
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

    fn acquire_server(&self, id: &str) -> Option<Lease<'_>> {
        each!(self, b => b.acquire_server(id))
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
