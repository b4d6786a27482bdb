//! Leases: a request counted in flight on its server for as long as the lease lives.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::sync::AtomicU64;

use crate::Server;

/// One request in flight on one server, counted in the server's
/// [`in_flight`](Server::in_flight) cell until the lease is dropped.
///
/// Every balancer hands them out: [`BalancerExt::acquire`](crate::BalancerExt::acquire) (by
/// key), [`acquire_next`](crate::BalancerExt::acquire_next) (no key), and the same calls on
/// [`Shared`](crate::Shared). Least-loaded balancing reads these counts, fill-first and
/// bounded loads cap them, so a service that routes every request through `acquire` and keeps
/// the lease until the answer is in gets every strategy's full behaviour. The count is
/// released on every path, including a panic that unwinds through the caller.
///
/// A lease from a balancer borrows its server (no reference counting on the pick path), so
/// the balancer cannot change while the lease lives. [`into_owned`](Lease::into_owned)
/// turns it into a `Lease<'static>` that holds a clone of the [`Server`], whose cells are
/// shared: it stays correct whatever happens to the balancer, can cross an `.await` or move
/// to another task, and releases the count it took on the server it took it on.
/// [`Shared::acquire`](crate::Shared::acquire) hands out those.
///
/// ```
/// use loadring::{Balancer, BalancerExt, FillFirst, Lease, Server};
///
/// let ff = FillFirst::new([Server::new("a").with_capacity(2)])?;
/// let lease = ff.acquire_next()?;
/// assert_eq!((lease.id(), lease.in_flight()), ("a", 1));
/// drop(lease);
/// assert_eq!(ff.server("a").unwrap().in_flight(), 0);
///
/// let kept: Lease<'static> = ff.acquire_next()?.into_owned();
/// drop(ff);
/// assert_eq!(kept.in_flight(), 1);
/// # Ok::<(), loadring::Error>(())
/// ```
#[must_use = "dropping a lease ends its request at once"]
pub struct Lease<'a> {
    held: Held<'a>,
}

/// What a lease holds: borrows (from a balancer) or clones (an owned lease), chosen once for
/// the server and the group together, so a drop checks one tag.
enum Held<'a> {
    Borrowed {
        server: &'a Server,
        /// A balancer-wide count the request is in too (bounded loads' leases in flight).
        group: Option<&'a Arc<AtomicU64>>,
    },
    Owned {
        server: Server,
        group: Option<Arc<AtomicU64>>,
    },
}

impl<'a> Lease<'a> {
    /// Counts a request on `server` and returns its lease.
    #[inline]
    pub(crate) fn begin(server: &'a Server) -> Self {
        server.begin_request();
        Lease::borrowing(server, None)
    }

    /// Counts a request on `server` if fewer than `limit` are in flight (race-free).
    #[inline]
    pub(crate) fn try_begin(server: &'a Server, limit: u64) -> Option<Self> {
        // Lazily: a lease built and dropped on failure would release a count it never took.
        server
            .try_begin_request(limit)
            .then(|| Lease::borrowing(server, None))
    }

    /// The lease of a request already counted on `server` and in `group`.
    #[inline]
    pub(crate) fn counted_in(server: &'a Server, group: &'a Arc<AtomicU64>) -> Self {
        Lease::borrowing(server, Some(group))
    }

    #[inline]
    fn borrowing(server: &'a Server, group: Option<&'a Arc<AtomicU64>>) -> Self {
        Lease {
            held: Held::Borrowed { server, group },
        }
    }

    /// The server the request runs on.
    #[inline]
    pub fn server(&self) -> &Server {
        match &self.held {
            Held::Borrowed { server, .. } => server,
            Held::Owned { server, .. } => server,
        }
    }

    /// The balancer-wide count the request is in, if any.
    fn group(&self) -> Option<&Arc<AtomicU64>> {
        match &self.held {
            Held::Borrowed { group, .. } => *group,
            Held::Owned { group, .. } => group.as_ref(),
        }
    }

    /// Ends the request now (the same as dropping the lease).
    pub fn release(self) {}

    /// The same lease (the count moves along, it is not released), holding clones of its
    /// server and counters instead of borrows, so it can outlive the balancer or move to
    /// another task.
    pub fn into_owned(self) -> Lease<'static> {
        let server = self.server().clone();
        let group = self.group().cloned();
        match self.held {
            // Borrows only: forgetting them leaks nothing, and skips the release, so the
            // counts move on to the new lease.
            Held::Borrowed { .. } => std::mem::forget(self),
            // `self` releases its counts when it drops here, so take the new ones first (a
            // moment's over-count can only turn a racing acquire away, never overfill).
            Held::Owned { .. } => {
                server.begin_request();
                if let Some(g) = &group {
                    g.fetch_add(1, Ordering::AcqRel);
                }
            }
        }
        Lease {
            held: Held::Owned { server, group },
        }
    }
}

impl Deref for Lease<'_> {
    type Target = Server;

    #[inline]
    fn deref(&self) -> &Server {
        self.server()
    }
}

impl Drop for Lease<'_> {
    #[inline]
    fn drop(&mut self) {
        self.server().end_request();
        if let Some(group) = self.group() {
            group.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

impl fmt::Debug for Lease<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lease")
            .field("server", &self.server().id())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn into_owned_moves_the_count_without_releasing_it() {
        let server = Server::new("a");
        let borrowed = Lease::begin(&server);
        let owned = borrowed.into_owned();
        assert_eq!(server.in_flight(), 1);
        let again = owned.into_owned();
        assert_eq!(server.in_flight(), 1);
        assert!(again.shares_state_with(&server));
        drop(again);
        assert_eq!(server.in_flight(), 0);
        assert!(Lease::try_begin(&server, 1).is_some());
        let full = Lease::try_begin(&server, 1).unwrap();
        assert!(Lease::try_begin(&server, 1).is_none());
        drop(full);
        assert_eq!(server.in_flight(), 0);
    }
}
