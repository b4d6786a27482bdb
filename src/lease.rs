//! Leases: a request counted in flight on its server for as long as the lease lives.

use std::fmt;
use std::ops::Deref;

use crate::Server;

/// One request in flight on one server, counted in the server's
/// [`in_flight`](Server::in_flight) cell until the lease is dropped.
///
/// [`LeastLoaded::acquire`](crate::LeastLoaded::acquire) and
/// [`FillFirst::acquire`](crate::FillFirst::acquire) hand them out. Keep the lease for as long
/// as the request runs and drop it when the answer is in; the count is released on every
/// path, including a panic that unwinds through the caller.
///
/// A lease holds a clone of its [`Server`], whose cells are shared, so it stays correct when
/// the balancer that gave it out changes its membership or is dropped: it always releases the
/// count it took, on the server it took it on.
///
/// ```
/// use loadring::{Balancer, FillFirst, Server};
///
/// let ff = FillFirst::new([Server::new("a").with_capacity(2)])?;
/// let lease = ff.acquire()?;
/// assert_eq!((lease.id(), lease.in_flight()), ("a", 1));
/// drop(lease);
/// assert_eq!(ff.server("a").unwrap().in_flight(), 0);
/// # Ok::<(), loadring::Error>(())
/// ```
#[must_use = "dropping a lease ends its request at once"]
pub struct Lease {
    server: Server,
}

impl Lease {
    /// Counts a request on `server` and returns its lease.
    #[inline]
    pub(crate) fn begin(server: &Server) -> Lease {
        server.begin_request();
        Lease {
            server: server.clone(),
        }
    }

    /// Counts a request on `server` if fewer than `limit` are in flight (race-free).
    #[inline]
    pub(crate) fn try_begin(server: &Server, limit: u64) -> Option<Lease> {
        server.try_begin_request(limit).then(|| Lease {
            server: server.clone(),
        })
    }

    /// The server the request runs on.
    #[inline]
    pub fn server(&self) -> &Server {
        &self.server
    }
}

impl Deref for Lease {
    type Target = Server;

    #[inline]
    fn deref(&self) -> &Server {
        &self.server
    }
}

impl Drop for Lease {
    #[inline]
    fn drop(&mut self) {
        self.server.end_request();
    }
}

impl fmt::Debug for Lease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lease")
            .field("server", &self.server.id())
            .finish()
    }
}
