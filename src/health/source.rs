//! [`ServerSource`]: the servers the lifecycle watches.

use crate::{Balancer, Fleet, Server, Shared};

/// The servers a checker probes or a detector sweeps, read again each time so that servers
/// that join are followed and those that leave are forgotten: every balancer (`dyn Balancer`
/// and [`AnyBalancer`](crate::AnyBalancer) included), a [`Shared`] balancer (its current
/// snapshot), a [`Fleet`], a slice of servers.
pub trait ServerSource {
    /// Calls `f` with the servers as they are now.
    fn with_servers(&self, f: &mut dyn FnMut(&[Server]));
}

impl<B: Balancer + ?Sized> ServerSource for B {
    fn with_servers(&self, f: &mut dyn FnMut(&[Server])) {
        f(self.servers())
    }
}

impl<B: Balancer> ServerSource for Shared<B> {
    fn with_servers(&self, f: &mut dyn FnMut(&[Server])) {
        f(self.snapshot().servers())
    }
}

impl ServerSource for Fleet {
    fn with_servers(&self, f: &mut dyn FnMut(&[Server])) {
        f(self.servers())
    }
}

impl ServerSource for [Server] {
    fn with_servers(&self, f: &mut dyn FnMut(&[Server])) {
        f(self)
    }
}
