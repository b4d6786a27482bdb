//! [`BalanceLayer`]: builds a [`Balance`] and wraps an endpoint maker in it.

use std::fmt;
use std::sync::Arc;

use tower::Layer;

use super::classify::{OkIsSuccess, Report};
use super::endpoints::MakeEndpoint;
use super::key::NoKey;
use super::service::Balance;
use crate::Shared;
use crate::health::{OutlierDetector, SystemClock};

/// Builds [`Balance`] services over one fleet: what a request is keyed by, where outcomes
/// are reported and what counts as a failure. As a [`Layer`], it wraps an endpoint maker
/// ([`MakeEndpoint`], any `Fn(&Server) -> S`) into the service, as tower's own balancing
/// layers wrap a service maker, so it fits a `ServiceBuilder` stack:
/// `ServiceBuilder::new().timeout(t).layer(balance).service(make_endpoint)`.
///
/// ```
/// use std::convert::Infallible;
/// use std::sync::Arc;
///
/// use loadring::health::{OutlierDetector, OutlierOptions};
/// use loadring::route::BalanceLayer;
/// use loadring::{AnyBalancer, Server, Shared, Strategy};
/// use tower::{Layer, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tower::BoxError> {
/// let strategy: Strategy = Strategy::Maglev(Default::default()); // or from configuration
/// let fleet = Arc::new(Shared::new(AnyBalancer::new(strategy, ["10.0.0.1:80", "10.0.0.2:80"])?));
/// let outliers = Arc::new(OutlierDetector::new(OutlierOptions::default())?);
///
/// /// A request: a user and a path; the answer: an HTTP status.
/// type Request = (u64, &'static str);
/// let endpoint = |_: &Server| tower::service_fn(|_: Request| async { Ok::<u16, Infallible>(200) });
/// let service = BalanceLayer::new(fleet)
///     .key(|&(user, _): &Request| user)
///     .report_to(Arc::clone(&outliers))
///     .classify(|status: &Result<u16, Infallible>| status.is_ok_and(|s| s < 500))
///     .layer(endpoint);
/// assert_eq!(service.oneshot((42, "/")).await?, 200);
/// # Ok(())
/// # }
/// ```
pub struct BalanceLayer<B, K = NoKey, Q = OkIsSuccess, C = SystemClock> {
    shared: Arc<Shared<B>>,
    key: K,
    classify: Q,
    outliers: Option<Arc<OutlierDetector<C>>>,
}

impl<B> BalanceLayer<B> {
    /// Services over `shared`'s servers, with no key ([`NoKey`]) and no outcome reports.
    pub fn new(shared: Arc<Shared<B>>) -> Self {
        BalanceLayer {
            shared,
            key: NoKey,
            classify: OkIsSuccess,
            outliers: None,
        }
    }
}

impl<B, K, Q, C> BalanceLayer<B, K, Q, C> {
    /// Keys each request by `key` ([`KeyOf`](super::KeyOf): a closure `Fn(&Req) -> K` with
    /// `K: Key` is one), as the strategy's [`pick`](crate::Shared::pick) keys it.
    pub fn key<L>(self, key: L) -> BalanceLayer<B, L, Q, C> {
        BalanceLayer {
            shared: self.shared,
            key,
            classify: self.classify,
            outliers: self.outliers,
        }
    }

    /// Reports each request's outcome and latency (from the call to the answer, the wait for
    /// the endpoint's readiness included) to `outliers`: a server that keeps failing is
    /// ejected and gets no request until it returns. Ejections need the detector's sweeps
    /// ([`OutlierDetector::spawn`] over the same fleet, or
    /// [`evaluate`](OutlierDetector::evaluate)).
    pub fn report_to<D>(self, outliers: Arc<OutlierDetector<D>>) -> BalanceLayer<B, K, Q, D> {
        BalanceLayer {
            shared: self.shared,
            key: self.key,
            classify: self.classify,
            outliers: Some(outliers),
        }
    }

    /// Tells a success from a failure with `classify` ([`Classify`](super::Classify): a
    /// closure `Fn(&Result<T, E>) -> bool` is one) instead of by `Ok` and `Err`, in the
    /// outcomes reported to the detector of [`report_to`](BalanceLayer::report_to).
    pub fn classify<R>(self, classify: R) -> BalanceLayer<B, K, R, C> {
        BalanceLayer {
            shared: self.shared,
            key: self.key,
            classify,
            outliers: self.outliers,
        }
    }

    /// The service, with `make` for its endpoints.
    pub(super) fn into_balance<M: MakeEndpoint>(self, make: M) -> Balance<B, M, K, Q, C> {
        let report = self.outliers.map(|outliers| {
            Arc::new(Report {
                outliers,
                classify: self.classify,
            })
        });
        Balance::from_parts(self.shared, make, self.key, report)
    }
}

impl<B, K: Clone, Q: Clone, C, M: MakeEndpoint> Layer<M> for BalanceLayer<B, K, Q, C> {
    type Service = Balance<B, M, K, Q, C>;

    fn layer(&self, make_endpoint: M) -> Self::Service {
        self.clone().into_balance(make_endpoint)
    }
}

impl<B, K: Clone, Q: Clone, C> Clone for BalanceLayer<B, K, Q, C> {
    fn clone(&self) -> Self {
        BalanceLayer {
            shared: Arc::clone(&self.shared),
            key: self.key.clone(),
            classify: self.classify.clone(),
            outliers: self.outliers.clone(),
        }
    }
}

impl<B, K, Q, C> fmt::Debug for BalanceLayer<B, K, Q, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BalanceLayer")
            .field("reports", &self.outliers.is_some())
            .finish_non_exhaustive()
    }
}
