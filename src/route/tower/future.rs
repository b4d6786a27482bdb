//! [`ResponseFuture`]: a routed request's response, with its lease held until it is in.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use pin_project_lite::pin_project;
use tower::util::Oneshot;
use tower::{BoxError, Service};

use super::classify::{Classify, Report};
use super::error::BalanceError;
use crate::health::{Clock, Started};
use crate::{Lease, PickError};

pin_project! {
    /// The response of a request that a [`Balance`](super::Balance) routed: it waits for the
    /// endpoint to be ready, calls it, and waits for its answer.
    ///
    /// It holds the request's [`Lease`] until the answer (or the error) is in, then drops it
    /// and reports the outcome, timed from the call, when the service reports outcomes. A
    /// future dropped before its answer releases the lease and reports nothing.
    ///
    /// It is `Send` and `'static` when the endpoint, its future and the request are.
    pub struct ResponseFuture<S: Service<Req>, Req, Q, C> {
        #[pin]
        state: State<S, Req, Q, C>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S: Service<Req>, Req, Q, C> {
        Routed {
            #[pin]
            call: Oneshot<S, Req>,
            lease: Lease<'static>,
            report: Option<(Arc<Report<Q, C>>, Started)>,
        },
        Failed {
            error: PickError,
        },
        Done,
    }
}

impl<S: Service<Req>, Req, Q, C> ResponseFuture<S, Req, Q, C> {
    /// A request routed to `endpoint` under `lease`.
    pub(super) fn routed(
        endpoint: S,
        request: Req,
        lease: Lease<'static>,
        report: Option<(Arc<Report<Q, C>>, Started)>,
    ) -> Self {
        ResponseFuture {
            state: State::Routed {
                call: Oneshot::new(endpoint, request),
                lease,
                report,
            },
        }
    }

    /// A request no server could take.
    pub(super) fn failed(error: PickError) -> Self {
        ResponseFuture {
            state: State::Failed { error },
        }
    }
}

impl<S, Req, Q, C> Future for ResponseFuture<S, Req, Q, C>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
    Q: Classify<S::Response, S::Error>,
    C: Clock,
{
    type Output = Result<S::Response, BalanceError>;

    /// # Panics
    ///
    /// When polled again after it returned its answer (as the endpoint's own future may).
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.project().state;
        let output = match state.as_mut().project() {
            StateProj::Failed { error } => return Poll::Ready(Err(BalanceError::Pick(*error))),
            StateProj::Done => panic!("a routed request's response polled after it was in"),
            StateProj::Routed {
                call,
                lease,
                report,
            } => {
                let result = ready!(call.poll(cx));
                if let Some((report, started)) = report {
                    report.record(lease, *started, &result);
                }
                result.map_err(|error| BalanceError::Endpoint {
                    server: lease.server().clone(),
                    error: error.into(),
                })
            }
        };
        // Drops the lease: the request is no longer in flight.
        state.set(State::Done);
        Poll::Ready(output)
    }
}

impl<S: Service<Req>, Req, Q, C> fmt::Debug for ResponseFuture<S, Req, Q, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("ResponseFuture");
        match &self.state {
            State::Routed { lease, report, .. } => out
                .field("server", &lease.id())
                .field("reports", &report.is_some()),
            State::Failed { error } => out.field("error", error),
            State::Done => out.field("done", &true),
        };
        out.finish_non_exhaustive()
    }
}
