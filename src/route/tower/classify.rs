//! [`Classify`]: whether an endpoint's answer counts as a success for outlier detection.

use std::sync::Arc;

use crate::Server;
use crate::health::{Clock, OutlierDetector, Started};

/// Whether an endpoint's result counts as a success in the outcomes a
/// [`Balance`](super::Balance) reports to its [`OutlierDetector`]: a failure counts toward
/// ejecting the server.
///
/// Any closure `Fn(&Result<T, E>) -> bool` is one, say to count an HTTP 5xx answer as a
/// failure: `|result: &Result<Response<Body>, Error>| result.as_ref().is_ok_and(|r|
/// !r.status().is_server_error())`. [`OkIsSuccess`] (the default) takes every `Ok` for a
/// success and every `Err` for a failure.
pub trait Classify<T, E> {
    /// Whether `result` is a success.
    fn is_success(&self, result: &Result<T, E>) -> bool;
}

impl<T, E, F> Classify<T, E> for F
where
    F: Fn(&Result<T, E>) -> bool,
{
    #[inline]
    fn is_success(&self, result: &Result<T, E>) -> bool {
        self(result)
    }
}

/// Every `Ok` is a success, every `Err` a failure.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OkIsSuccess;

impl<T, E> Classify<T, E> for OkIsSuccess {
    #[inline]
    fn is_success(&self, result: &Result<T, E>) -> bool {
        result.is_ok()
    }
}

/// Where a service reports its requests' outcomes, and how it tells their success.
pub(super) struct Report<Q, C> {
    pub(super) outliers: Arc<OutlierDetector<C>>,
    pub(super) classify: Q,
}

impl<Q, C: Clock> Report<Q, C> {
    /// Reports how a request to `server` that started at `started` ended.
    pub(super) fn record<T, E>(&self, server: &Server, started: Started, result: &Result<T, E>)
    where
        Q: Classify<T, E>,
    {
        let success = self.classify.is_success(result);
        self.outliers
            .record(server, self.outliers.outcome(started, success));
    }
}
