//! [`Router`]: rules send each request to a pool, whose balancer leases a server for it.

use std::fmt;
use std::sync::Arc;

use super::{Pool, RequestView, Rule, TokenIn};
use crate::{Lease, PickError, Server};

/// A layer-7 router: ordered [`Rule`]s that send requests to [`Pool`]s, and a default pool
/// for the requests no rule matches. Built from a [`RouteTable`](super::RouteTable), in
/// code or from a configuration file.
///
/// [`route`](Router::route) finds the pool (the first matching rule's, else the default)
/// and leases a server from it: sticky pools keep a user with a valid token on its server,
/// others (and sticky ones without a token that holds) pick by the request's key through the
/// pool's strategy. The [`Lease`] counts the request in flight until it drops, so keep it
/// for the request's life. Matching allocates nothing; a lease clones its server (two
/// reference counts), and only a fresh sticky token allocates.
///
/// ```
/// use loadring::route::{KeySource, Match, OwnedRequest, Pool, Rule, RouteTable};
/// use loadring::{AnyBalancer, LeastLoadedOptions, RingOptions, Strategy};
///
/// let least = Strategy::LeastLoaded(LeastLoadedOptions::default());
/// let ring = Strategy::Ring(RingOptions::default());
/// let router = RouteTable::new("web")
///     .pool(Pool::new("video", AnyBalancer::new(least, ["10.0.1.1:80", "10.0.1.2:80"])?))
///     .pool(
///         Pool::new("web", AnyBalancer::new(ring, ["10.0.2.1:80", "10.0.2.2:80"])?)
///             .with_key([KeySource::Cookie("user".into()), KeySource::Client]),
///     )
///     .rule(Rule::to("video").path_prefix("/video"))
///     .rule(Rule::to("video").header("accept", Match::Prefix("video/".into())))
///     .build()?;
///
/// let clip = OwnedRequest::new("GET", "/clips/7").with_header("Accept", "video/webm");
/// let routed = router.route(&clip)?;
/// assert_eq!(routed.pool.name(), "video");
/// assert_eq!(routed.lease.in_flight(), 1); // counted until the lease drops
///
/// let page = OwnedRequest::new("GET", "/").with_header("Cookie", "user=alice");
/// let routed = router.route(&page)?;
/// assert_eq!(routed.pool.name(), "web");
/// let web = router.pool("web").unwrap().balancer();
/// assert_eq!(routed.server().id(), web.pick("alice")?.id()); // keyed by the cookie
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Router {
    pools: Vec<Pool>,
    /// Each rule with the index of its pool.
    rules: Vec<(Rule, usize)>,
    default: usize,
}

/// Where [`Router::route`] sent a request: the pool, the lease on the server, and the
/// sticky token to hand to the client when a fresh one is due.
#[derive(Debug)]
#[non_exhaustive]
pub struct Routed<'r> {
    /// The pool the request went to.
    pub pool: &'r Pool,
    /// The server, counted in flight until the lease drops.
    pub lease: Lease<'static>,
    /// A fresh sticky token naming the server, when the pool is sticky and the request
    /// brought no token that holds (see [`token_header`](Routed::token_header)).
    pub new_token: Option<String>,
}

impl<'r> Routed<'r> {
    pub(super) fn new(pool: &'r Pool, lease: Lease<'static>, new_token: Option<String>) -> Self {
        Routed {
            pool,
            lease,
            new_token,
        }
    }

    /// The server the request goes to.
    pub fn server(&self) -> &Server {
        self.lease.server()
    }

    /// The response header that hands a fresh token to the client, if one is due: for a
    /// cookie, `set-cookie` with `name=token; Path=/; HttpOnly; SameSite=Lax` (add `Secure`
    /// yourself behind HTTPS, or build the cookie from [`new_token`](Routed::new_token)); for
    /// a header, that header with the token.
    pub fn token_header(&self) -> Option<(&str, String)> {
        let token = self.new_token.as_deref()?;
        Some(match self.pool.sticky()? {
            TokenIn::Cookie(name) => (
                "set-cookie",
                format!("{name}={token}; Path=/; HttpOnly; SameSite=Lax"),
            ),
            TokenIn::Header(name) => (name.as_str(), token.to_owned()),
        })
    }
}

/// Why [`Router::route`] found no server: the pool, and its pick's error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteError {
    pool: Arc<str>,
    error: PickError,
}

impl RouteError {
    /// The pool the request was sent to.
    pub fn pool(&self) -> &str {
        &self.pool
    }

    /// Why that pool had no server for it.
    pub fn error(&self) -> PickError {
        self.error
    }
}

impl fmt::Display for RouteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pool {:?}: {}", self.pool, self.error)
    }
}

impl std::error::Error for RouteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl Router {
    /// A router over checked parts (see [`RouteTable::build`](super::RouteTable::build)).
    pub(super) fn new(pools: Vec<Pool>, rules: Vec<(Rule, usize)>, default: usize) -> Self {
        Router {
            pools,
            rules,
            default,
        }
    }

    /// The pool for `request`: the first matching rule's, else the default. Leases nothing.
    pub fn select<R: RequestView>(&self, request: &R) -> &Pool {
        let index = self
            .rules
            .iter()
            .find(|(rule, _)| rule.matches(request))
            .map_or(self.default, |&(_, pool)| pool);
        &self.pools[index]
    }

    /// Routes `request`: its pool ([`select`](Router::select)), and a lease on a server of
    /// that pool.
    ///
    /// Errors: the pool's pick error ([`PickError::NoServers`] for an empty pool,
    /// [`PickError::NoHealthyServer`], [`PickError::Saturated`]), with the pool's name.
    pub fn route<R: RequestView>(&self, request: &R) -> Result<Routed<'_>, RouteError> {
        let pool = self.select(request);
        pool.acquire(request, None).map_err(|e| failed(pool, e))
    }

    /// [`route`](Router::route), on the first candidate `accept` takes, sticky pin included:
    /// a retry that skips the servers already tried (see
    /// [`Balancer::acquire_hash_with`](crate::Balancer::acquire_hash_with)).
    ///
    /// Errors: as [`route`](Router::route), and [`PickError::NoneAccepted`] when `accept`
    /// turned down every candidate.
    pub fn route_with<R, F>(&self, request: &R, mut accept: F) -> Result<Routed<'_>, RouteError>
    where
        R: RequestView,
        F: FnMut(&Server) -> bool,
    {
        let pool = self.select(request);
        pool.acquire(request, Some(&mut accept))
            .map_err(|e| failed(pool, e))
    }

    /// The pool named `name`.
    pub fn pool(&self, name: &str) -> Option<&Pool> {
        self.pools.iter().find(|p| p.name() == name)
    }

    /// Every pool, in the table's order.
    pub fn pools(&self) -> &[Pool] {
        &self.pools
    }

    /// The pool of the requests that no rule matches.
    pub fn default_pool(&self) -> &Pool {
        &self.pools[self.default]
    }
}

fn failed(pool: &Pool, error: PickError) -> RouteError {
    RouteError {
        pool: Arc::clone(pool.name_arc()),
        error,
    }
}
