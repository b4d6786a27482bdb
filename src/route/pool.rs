//! [`Pool`]: a named live balancer, how it keys requests, and whether it is sticky.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{KeySource, RequestKey, RequestView, Routed, Sticky};
use crate::{AnyBalancer, Balancer, Key, PickError, Prehashed, Server, Shared};

/// Where a sticky pool's token rides: in a cookie, or in a request header that the client
/// sends back (from the response header of the same name).
///
/// In configuration (feature `serde`): `{cookie = "srv"}` or `{header = "x-srv"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum TokenIn {
    /// A cookie of this name (case-sensitive).
    Cookie(String),
    /// A header of this name (case-insensitive).
    Header(String),
}

/// A pool of servers that rules send requests to: a name, a live balancer (any strategy),
/// the sources of its requests' keys, and optionally sticky sessions.
///
/// The balancer is an `Arc<Shared<AnyBalancer>>`: reach it through
/// [`Router::pool`](super::Router::pool) and [`balancer`](Pool::balancer) to mark servers
/// down, drain them or follow service discovery while requests are routed, or hand a clone
/// of the `Arc` to a [`health::Checker`](crate::health::Checker).
///
/// A request is hashed by the first key its sources find ([`with_key`](Pool::with_key)). A
/// request with none (or a pool without sources) is picked without a key: key-free strategies
/// pick as they always do, and hash strategies take a hash from a per-pool counter, so keyless
/// requests spread over the servers (as round-robin would, up to the strategy's own balance)
/// instead of all landing on one.
///
/// ```
/// use loadring::route::{KeySource, Pool, TokenIn};
/// use loadring::{AnyBalancer, RingOptions, Strategy};
///
/// let ring = AnyBalancer::new(Strategy::Ring(RingOptions::default()), ["10.0.0.1:80", "10.0.0.2:80"])?;
/// let web = Pool::new("web", ring)
///     .with_key([KeySource::Cookie("user".into()), KeySource::Client])
///     .with_sticky(TokenIn::Cookie("srv".into()));
/// web.balancer().set_healthy("10.0.0.2:80", false)?; // from a control thread, any time
/// # Ok::<(), loadring::Error>(())
/// ```
#[derive(Debug)]
pub struct Pool {
    name: Arc<str>,
    balancer: Arc<Shared<AnyBalancer>>,
    key: Vec<KeySource>,
    sticky: Option<TokenIn>,
    /// The tokens' secret, from the table, for a sticky pool.
    pub(super) secret: Option<Sticky>,
    /// The counter that spreads requests without a key.
    spread: AtomicU64,
}

impl Pool {
    /// A pool named `name` over `balancer`.
    pub fn new(name: &str, balancer: AnyBalancer) -> Self {
        Pool::from_shared(name, Arc::new(Shared::new(balancer)))
    }

    /// A pool named `name` over a live balancer the service already holds.
    pub fn from_shared(name: &str, balancer: Arc<Shared<AnyBalancer>>) -> Self {
        Pool {
            name: name.into(),
            balancer,
            key: Vec::new(),
            sticky: None,
            secret: None,
            spread: AtomicU64::new(0),
        }
    }

    /// Keys requests by the first of `sources` that a request has (replacing any sources set
    /// before).
    pub fn with_key(mut self, sources: impl IntoIterator<Item = KeySource>) -> Self {
        self.key = sources.into_iter().map(KeySource::normalized).collect();
        self
    }

    /// Makes the pool sticky, with its token in `token` (the secret comes from the
    /// [`RouteTable`](super::RouteTable)).
    pub fn with_sticky(mut self, token: TokenIn) -> Self {
        self.sticky = Some(match token {
            TokenIn::Header(name) => TokenIn::Header(name.to_ascii_lowercase()),
            cookie => cookie,
        });
        self
    }

    /// The pool's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The live balancer.
    pub fn balancer(&self) -> &Arc<Shared<AnyBalancer>> {
        &self.balancer
    }

    /// The key sources, in the order they are tried.
    pub fn key_sources(&self) -> &[KeySource] {
        &self.key
    }

    /// Where the pool's sticky token rides, if the pool is sticky.
    pub fn sticky(&self) -> Option<&TokenIn> {
        self.sticky.as_ref()
    }

    /// The key the pool hashes `request` by: the first its sources find.
    pub fn key<'r, R: RequestView>(&self, request: &'r R) -> Option<RequestKey<'r>> {
        self.key.iter().find_map(|source| source.extract(request))
    }

    pub(super) fn name_arc(&self) -> &Arc<str> {
        &self.name
    }

    /// The token `request` brought, if the pool is sticky.
    fn token<'r, R: RequestView>(&self, request: &'r R) -> Option<&'r str> {
        let bytes = match self.sticky.as_ref()? {
            TokenIn::Cookie(name) => request.cookie(name)?,
            TokenIn::Header(name) => request.header(name).next()?.trim_ascii(),
        };
        std::str::from_utf8(bytes).ok()
    }

    /// Leases a server for `request`: the pinned one while its token holds, else by key;
    /// `accept` (a retry's) may turn candidates down.
    pub(super) fn acquire<R: RequestView>(
        &self,
        request: &R,
        mut accept: Option<&mut dyn FnMut(&Server) -> bool>,
    ) -> Result<Routed<'_>, PickError> {
        let snapshot = self.balancer.snapshot();
        let balancer: &AnyBalancer = &snapshot;
        let secret = self.secret.as_ref().filter(|_| self.sticky.is_some());
        let pinned = secret
            .zip(self.token(request))
            .and_then(|(secret, token)| secret.pinned(balancer, token))
            .filter(|server| accept.as_mut().is_none_or(|accept| accept(server)))
            .and_then(|server| balancer.acquire_server(server.id()));
        if let Some(lease) = pinned {
            return Ok(Routed::new(self, lease.into_owned(), None));
        }
        let hash = match self.key(request) {
            Some(key) => key.hash_with(balancer.hasher()),
            None => Prehashed::mixed(self.spread.fetch_add(1, Ordering::Relaxed)).0,
        };
        let lease = match accept {
            Some(accept) => balancer.acquire_hash_with(hash, accept),
            None => balancer.acquire_hash(hash),
        }?
        .into_owned();
        let token = secret.map(|s| s.token(lease.server()));
        Ok(Routed::new(self, lease, token))
    }
}
