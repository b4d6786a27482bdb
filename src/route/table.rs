//! [`RouteTable`]: a router's pools, rules and default pool, in code or from a file.

use super::{Pool, Router, Rule, Sticky, TokenIn, parse};
use crate::Error;

/// The description of a [`Router`]: its pools, its rules in order, its default pool, and the
/// secret of its sticky tokens. [`build`](RouteTable::build) checks it and makes the router.
///
/// With the `serde` feature a whole table reads from one document (TOML, JSON, any serde
/// format), strictly: unknown fields, a rule or default naming no pool, two pools of one
/// name, an invalid header or cookie name are errors that name the culprit. Each pool is an
/// [`AnyBalancer`](crate::AnyBalancer) document (`strategy`, `servers`, `options`) with an
/// optional `key` (a list of [`KeySource`](super::KeySource)s, tried in order) and `sticky`
/// (a [`TokenIn`]); each rule names its `pool` and conditions (see [`Rule`]):
///
/// ```toml
/// default = "web"
///
/// [pools.video]
/// strategy = "least-loaded"
/// servers = ["10.0.1.1:8080", "10.0.1.2:8080"]
///
/// [pools.web]
/// strategy = "ring"
/// servers = ["10.0.2.1:8080", "10.0.2.2:8080", "10.0.2.3:8080"]
/// options = { points_per_weight = 160 }
/// key = [{ cookie = "user" }, { header = "x-user" }, "client"]
/// sticky = { cookie = "web-server" }
///
/// [[rules]]
/// pool = "video"
/// path_prefix = "/video/"
///
/// [[rules]]
/// pool = "video"
/// headers = [{ name = "accept", prefix = "video/" }]
/// ```
///
/// The sticky secret is never read from the file: a routing table is configuration that
/// gets copied, reviewed and committed, and anyone who holds the secret can forge tokens
/// that pin users to a server of their choice. Give it in code
/// ([`with_sticky`](RouteTable::with_sticky)), from wherever the service keeps its secrets;
/// [`build`](RouteTable::build) refuses a sticky pool without one.
///
/// ```
/// # #[cfg(feature = "serde")]
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use loadring::route::{OwnedRequest, RouteTable, Sticky};
///
/// let text = r#"
///     default = "web"
///     pools.web = { strategy = "ring", servers = ["10.0.2.1:80", "10.0.2.2:80"],
///                   key = [{ cookie = "user" }], sticky = { cookie = "srv" } }
///     pools.video = { strategy = "least-loaded", servers = ["10.0.1.1:80"] }
///     rules = [{ pool = "video", path_prefix = "/video" }]
/// "#;
/// let table: RouteTable = toml::from_str(text)?;
/// let router = table.with_sticky(Sticky::new(*b"a secret 16 byte")).build()?;
///
/// let first = router.route(&OwnedRequest::new("GET", "/").with_header("Cookie", "user=bob"))?;
/// let (name, cookie) = first.token_header().expect("a fresh token");
/// assert_eq!(name, "set-cookie");
/// assert!(cookie.starts_with("srv="));
///
/// let typo = text.replace("path_prefix", "path_prefx");
/// let error = toml::from_str::<RouteTable>(&typo).unwrap_err();
/// assert!(error.to_string().contains("path_prefx"));
/// # Ok(())
/// # }
/// # #[cfg(not(feature = "serde"))]
/// # fn main() {}
/// ```
#[derive(Debug)]
pub struct RouteTable {
    pools: Vec<Pool>,
    rules: Vec<Rule>,
    default: String,
    sticky: Option<Sticky>,
}

impl RouteTable {
    /// An empty table whose requests that no rule matches go to the pool named `default`.
    pub fn new(default: &str) -> Self {
        RouteTable {
            pools: Vec::new(),
            rules: Vec::new(),
            default: default.to_owned(),
            sticky: None,
        }
    }

    /// Adds a pool.
    pub fn pool(mut self, pool: Pool) -> Self {
        self.pools.push(pool);
        self
    }

    /// Adds a rule after those already added (the first that matches wins).
    pub fn rule(mut self, rule: Rule) -> Self {
        self.rules.push(rule);
        self
    }

    /// Sets the secret of the sticky pools' tokens (the same in every instance of the
    /// service, so that any of them honours a token).
    pub fn with_sticky(mut self, sticky: Sticky) -> Self {
        self.sticky = Some(sticky);
        self
    }

    /// Checks the table and builds the router.
    ///
    /// Errors ([`Error::InvalidOption`], naming the part): two pools of one name; a rule,
    /// or the default, naming no pool; a rule without conditions; an invalid host pattern,
    /// path prefix, method, header or cookie name, or subnet prefix; a sticky pool without a
    /// secret.
    pub fn build(self) -> Result<Router, Error> {
        let (default, targets) = self.check()?;
        let RouteTable {
            mut pools,
            rules,
            sticky,
            ..
        } = self;
        for pool in pools.iter_mut().filter(|p| p.sticky().is_some()) {
            let secret = sticky.clone().ok_or_else(|| {
                Error::option(
                    &format!("pools.{}.sticky", pool.name()),
                    "a sticky pool needs the tokens' secret (RouteTable::with_sticky)",
                )
            })?;
            pool.secret = Some(secret);
        }
        Ok(Router::new(
            pools,
            rules.into_iter().zip(targets).collect(),
            default,
        ))
    }

    /// Every check but the secret's (which a file never holds); the index of the default
    /// pool, and of each rule's.
    fn check(&self) -> Result<(usize, Vec<usize>), Error> {
        for (i, pool) in self.pools.iter().enumerate() {
            let at = format!("pools.{}", pool.name());
            if self.pools[..i].iter().any(|p| p.name() == pool.name()) {
                return Err(Error::option(&at, "two pools have this name"));
            }
            for (j, source) in pool.key_sources().iter().enumerate() {
                source.check(&format!("{at}.key[{j}]"))?;
            }
            let bad_token = match pool.sticky() {
                Some(TokenIn::Cookie(name)) if !parse::is_token(name) => Some("cookie"),
                Some(TokenIn::Header(name)) if !parse::is_token(name) => Some("header"),
                _ => None,
            };
            if let Some(kind) = bad_token {
                return Err(Error::option(
                    &format!("{at}.sticky"),
                    format!("not a valid {kind} name"),
                ));
            }
        }
        let default = self.position("default", &self.default)?;
        let targets = (self.rules.iter().enumerate())
            .map(|(i, rule)| {
                rule.check(&format!("rules[{i}]"))?;
                self.position(&format!("rules[{i}].pool"), rule.pool())
            })
            .collect::<Result<_, _>>()?;
        Ok((default, targets))
    }

    /// The index of the pool named `name`; `at` names the reference in errors.
    fn position(&self, at: &str, name: &str) -> Result<usize, Error> {
        self.pools
            .iter()
            .position(|p| p.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = self.pools.iter().map(Pool::name).collect();
                Error::option(
                    at,
                    format!(
                        "no pool is named {name:?} (the pools: {})",
                        names.join(", ")
                    ),
                )
            })
    }
}

#[cfg(feature = "serde")]
mod serde_impl {
    //! `{default, pools: {name: {strategy, servers, options, key, sticky}}, rules: [...]}`.

    use std::fmt;

    use serde::Deserialize;
    use serde::de::value::MapAccessDeserializer;
    use serde::de::{self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, Visitor};

    use super::RouteTable;
    use crate::AnyBalancer;
    use crate::route::{KeySource, Pool, Rule, TokenIn};

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct TableRepr {
        default: String,
        #[serde(deserialize_with = "pools")]
        pools: Vec<Pool>,
        #[serde(default)]
        rules: Vec<Rule>,
    }

    impl<'de> Deserialize<'de> for RouteTable {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            let repr = TableRepr::deserialize(deserializer)?;
            let table = RouteTable {
                pools: repr.pools,
                rules: repr.rules,
                default: repr.default,
                sticky: None,
            };
            table.check().map_err(de::Error::custom)?;
            Ok(table)
        }
    }

    /// The pools, in the document's order (a name given twice is caught by the check).
    fn pools<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Pool>, D::Error> {
        struct Pools;

        impl<'de> Visitor<'de> for Pools {
            type Value = Vec<Pool>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of pool names to pools")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<Pool>, A::Error> {
                let mut pools = Vec::new();
                while let Some(name) = map.next_key::<String>()? {
                    pools.push(map.next_value_seed(PoolSeed(name))?);
                }
                Ok(pools)
            }
        }

        deserializer.deserialize_map(Pools)
    }

    /// A pool's fields: the balancer's own, then `key` and `sticky`.
    const FIELDS: &[&str] = &["strategy", "servers", "options", "key", "sticky"];

    /// Reads the pool of this name.
    struct PoolSeed(String);

    impl<'de> DeserializeSeed<'de> for PoolSeed {
        type Value = Pool;

        fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Pool, D::Error> {
            deserializer.deserialize_map(self)
        }
    }

    impl<'de> Visitor<'de> for PoolSeed {
        type Value = Pool;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a pool: strategy, servers, options, key, sticky")
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Pool, A::Error> {
            let mut fields = PoolFields {
                map,
                key: None,
                sticky: None,
            };
            let balancer = AnyBalancer::deserialize(MapAccessDeserializer::new(&mut fields))?;
            let mut pool = Pool::new(&self.0, balancer).with_key(fields.key.unwrap_or_default());
            if let Some(token) = fields.sticky {
                pool = pool.with_sticky(token);
            }
            Ok(pool)
        }
    }

    /// A pool's map as the balancer reads it: `key` and `sticky` are taken out on the way,
    /// and a field that neither knows is an error that lists them all.
    struct PoolFields<A> {
        map: A,
        key: Option<Vec<KeySource>>,
        sticky: Option<TokenIn>,
    }

    /// Reads a field's value into `slot`, unless the field came before.
    fn once<'de, T: Deserialize<'de>, A: MapAccess<'de>>(
        slot: &mut Option<T>,
        name: &'static str,
        map: &mut A,
    ) -> Result<(), A::Error> {
        if slot.is_some() {
            return Err(de::Error::duplicate_field(name));
        }
        *slot = Some(map.next_value()?);
        Ok(())
    }

    impl<'de, A: MapAccess<'de>> MapAccess<'de> for &mut PoolFields<A> {
        type Error = A::Error;

        fn next_key_seed<K: DeserializeSeed<'de>>(
            &mut self,
            seed: K,
        ) -> Result<Option<K::Value>, A::Error> {
            while let Some(field) = self.map.next_key::<String>()? {
                match field.as_str() {
                    "key" => once(&mut self.key, "key", &mut self.map)?,
                    "sticky" => once(&mut self.sticky, "sticky", &mut self.map)?,
                    "strategy" | "servers" | "options" => {
                        return seed
                            .deserialize(IntoDeserializer::<A::Error>::into_deserializer(field))
                            .map(Some);
                    }
                    other => return Err(de::Error::unknown_field(other, FIELDS)),
                }
            }
            Ok(None)
        }

        fn next_value_seed<V: DeserializeSeed<'de>>(
            &mut self,
            seed: V,
        ) -> Result<V::Value, A::Error> {
            self.map.next_value_seed(seed)
        }
    }
}
