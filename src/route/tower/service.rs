//! [`Balance`]: a tower service that routes each request through a live balancer.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use tower::{BoxError, Service};

use super::classify::{Classify, OkIsSuccess, Report};
use super::endpoints::{Endpoints, MakeEndpoint};
use super::error::BalanceError;
use super::future::ResponseFuture;
use super::key::{KeyOf, NoKey};
use super::layer::BalanceLayer;
use crate::health::{Clock, SystemClock};
use crate::{Balancer, Lease, Shared};

/// A [`tower::Service`] that routes each request to the endpoint service of one server of a
/// live fleet, chosen by any of the crate's strategies, consistent hashing included (tower's
/// own `balance` offers power of two choices over a load metric only).
///
/// For each request it:
///
/// 1. hashes the request's key ([`KeyOf`]; none for key-free strategies) with the
///    balancer's hasher and takes a [`Lease`] on the server the strategy picks, as
///    [`Shared::acquire`] does, from the [`Shared`] fleet as it is now: servers added,
///    removed, marked down, draining or ejected meanwhile are obeyed;
/// 2. finds that server's endpoint service, made by a [`MakeEndpoint`] on the server's first
///    request and kept while the server stays in the fleet (see below);
/// 3. returns a [`ResponseFuture`] that waits for the endpoint to be ready, calls it, and
///    holds the lease until the answer is in, so least-loaded, fill-first and bounded loads
///    count the request for its whole life; with an outlier detector
///    ([`BalanceLayer::report_to`]) it reports the outcome and latency as the answer comes.
///
/// **Readiness.** [`poll_ready`](Service::poll_ready) is always ready: the endpoint depends on
/// the request's key, known only in [`call`](Service::call), so the response future waits
/// for the chosen endpoint's own readiness (tower's `Oneshot` on a clone of it). An
/// endpoint's back-pressure shows as a slower response, not as a pending `poll_ready`; put
/// a concurrency limit in front to bound the requests in flight. Endpoints must be `Clone`,
/// as most tower services are (a clone shares the connections).
///
/// **Endpoints.** They are kept by server, and a request clones its server's endpoint under
/// a mutex held for a hash look-up and that clone; endpoints are made and dropped outside it.
/// An endpoint is dropped once its server has left the fleet (a server that comes back with
/// new cells gets a new one), at the first request after the fleet shrank below the number
/// of endpoints kept, or when a newcomer's endpoint is made; requests in flight keep their
/// clones to the end.
///
/// **Errors** are [`BalanceError`]s: no server to route to ([`BalanceError::Pick`], and no
/// endpoint is called), or the endpoint's error, boxed as tower middleware does.
///
/// Build it with [`Balance::new`] (no key, no reports) or with [`BalanceLayer`], whose
/// [`layer`](tower::Layer::layer) turns the endpoint maker into the service. Clones share
/// everything (the fleet, the endpoints), as tower services' clones do; its futures are
/// `Send` and `'static` when the endpoints', so it runs under `tokio::spawn` and `hyper`.
///
/// ```
/// use std::convert::Infallible;
/// use std::sync::Arc;
///
/// use loadring::route::BalanceLayer;
/// use loadring::{HashRing, Server, Shared};
/// use tower::{Layer, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tower::BoxError> {
/// let fleet = Arc::new(Shared::new(HashRing::new(["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"])?));
///
/// // A server's endpoint; in a real service, a client for `server.addr()`.
/// let endpoint = |server: &Server| {
///     let id = server.id().to_owned();
///     tower::service_fn(move |user: String| {
///         let answer = format!("{user} served by {id}");
///         async move { Ok::<_, Infallible>(answer) }
///     })
/// };
/// let service = BalanceLayer::new(Arc::clone(&fleet))
///     .key(|user: &String| user.clone())
///     .layer(endpoint);
///
/// // A user goes where the strategy sends its key.
/// let home = fleet.pick("user-42")?;
/// let answer = service.clone().oneshot("user-42".to_owned()).await?;
/// assert_eq!(answer, format!("user-42 served by {}", home.id()));
///
/// // Its server goes down: the next request goes elsewhere, from another task.
/// fleet.set_healthy(home.id(), false)?;
/// let answer = tokio::spawn(service.oneshot("user-42".to_owned())).await??;
/// assert!(!answer.ends_with(home.id()));
/// # Ok(())
/// # }
/// ```
pub struct Balance<B, M: MakeEndpoint, K = NoKey, Q = OkIsSuccess, C = SystemClock> {
    inner: Arc<Inner<B, M, K, Q, C>>,
}

struct Inner<B, M: MakeEndpoint, K, Q, C> {
    shared: Arc<Shared<B>>,
    make: M,
    key: K,
    report: Option<Arc<Report<Q, C>>>,
    endpoints: Endpoints<M::Endpoint>,
}

impl<B, M: MakeEndpoint> Balance<B, M> {
    /// Routes requests over `shared`'s servers, to endpoints that `make_endpoint` makes,
    /// without a key (for key-free strategies) and without outcome reports; see
    /// [`BalanceLayer`] for the rest.
    pub fn new(shared: Arc<Shared<B>>, make_endpoint: M) -> Self {
        BalanceLayer::new(shared).into_balance(make_endpoint)
    }
}

impl<B, M: MakeEndpoint, K, Q, C> Balance<B, M, K, Q, C> {
    /// The service of `parts`, with `make` for its endpoints.
    pub(super) fn from_parts(
        shared: Arc<Shared<B>>,
        make: M,
        key: K,
        report: Option<Arc<Report<Q, C>>>,
    ) -> Self {
        Balance {
            inner: Arc::new(Inner {
                shared,
                make,
                key,
                report,
                endpoints: Endpoints::new(),
            }),
        }
    }

    /// The fleet the service routes over.
    pub fn shared(&self) -> &Arc<Shared<B>> {
        &self.inner.shared
    }

    /// How many endpoint services are kept now (at most one a server).
    pub fn endpoints(&self) -> usize {
        self.inner.endpoints.len()
    }
}

impl<B, M, K, Q, C, Req> Service<Req> for Balance<B, M, K, Q, C>
where
    B: Balancer,
    M: MakeEndpoint,
    M::Endpoint: Service<Req> + Clone,
    <M::Endpoint as Service<Req>>::Error: Into<BoxError>,
    K: KeyOf<Req>,
    Q: Classify<<M::Endpoint as Service<Req>>::Response, <M::Endpoint as Service<Req>>::Error>,
    C: Clock,
{
    type Response = <M::Endpoint as Service<Req>>::Response;
    type Error = BalanceError;
    type Future = ResponseFuture<M::Endpoint, Req, Q, C>;

    /// Always ready: the endpoint's readiness is awaited in the response future.
    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BalanceError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Req) -> Self::Future {
        let inner = &*self.inner;
        let fleet = inner.shared.snapshot();
        let hash = inner.key.key_hash(&request, fleet.hasher());
        let lease: Lease<'static> = match fleet.acquire_hash(hash) {
            Ok(lease) => lease.into_owned(),
            Err(e) => return ResponseFuture::failed(e),
        };
        let endpoint = inner
            .endpoints
            .get(&lease, &*fleet, &inner.shared, &inner.make);
        drop(fleet);
        let report = inner
            .report
            .as_ref()
            .map(|report| (Arc::clone(report), report.outliers.start()));
        ResponseFuture::routed(endpoint, request, lease, report)
    }
}

impl<B, M: MakeEndpoint, K, Q, C> Clone for Balance<B, M, K, Q, C> {
    fn clone(&self) -> Self {
        Balance {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<B, M: MakeEndpoint, K, Q, C> fmt::Debug for Balance<B, M, K, Q, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Balance")
            .field("endpoints", &self.endpoints())
            .field("reports", &self.inner.report.is_some())
            .finish_non_exhaustive()
    }
}
