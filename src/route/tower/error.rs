//! [`BalanceError`]: why a routed request failed.

use std::fmt;

use tower::BoxError;

use crate::{PickError, Server};

/// Why a request through a [`Balance`](super::Balance) failed: there was no server to route
/// it to, or its server's endpoint failed.
///
/// The endpoint's error is boxed, as tower's own middleware boxes errors ([`BoxError`]), so
/// the service stacks under any layer (timeouts, retries, `hyper`) whatever its endpoints'
/// error types are; get the endpoint's own type back with `downcast_ref`.
///
/// ```
/// use loadring::PickError;
/// use loadring::route::BalanceError;
///
/// let error = BalanceError::Pick(PickError::NoHealthyServer);
/// assert!(error.to_string().starts_with("no server to route to"));
/// ```
#[derive(Debug)]
pub enum BalanceError {
    /// No server could take the request (no servers, none available, every one full); no
    /// endpoint was called.
    Pick(PickError),
    /// The endpoint of the server the request was routed to failed.
    Endpoint {
        /// The server the request was routed to.
        server: Server,
        /// The endpoint's error.
        error: BoxError,
    },
}

impl fmt::Display for BalanceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BalanceError::Pick(e) => write!(f, "no server to route to: {e}"),
            BalanceError::Endpoint { server, error } => {
                write!(f, "server {:?} failed: {error}", server.id())
            }
        }
    }
}

impl std::error::Error for BalanceError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BalanceError::Pick(e) => Some(e),
            BalanceError::Endpoint { error, .. } => Some(&**error),
        }
    }
}

impl From<PickError> for BalanceError {
    fn from(e: PickError) -> Self {
        BalanceError::Pick(e)
    }
}
