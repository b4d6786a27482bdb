//! [`Update`]: changing a balancer's servers in place, one at a time or from a discovery list.

use std::collections::HashMap;
use std::sync::Arc;

use crate::server::Flag;
use crate::{Balancer, Error, Server};

/// A balancer whose servers can change: add, remove, reweight, or sync with the full list
/// that service discovery reports.
///
/// Every strategy implements it (and so does [`AnyBalancer`](crate::AnyBalancer)); it is
/// dyn-compatible. [`set_servers`](Update::set_servers) is the one required method: the same
/// strategy and options over another list, keeping whatever running state the strategy
/// carries (a rotation's step, a random sequence, bounded loads' count of leases). The others
/// default to it, and strategies with cheaper updates (such as [`HashRing`](crate::HashRing))
/// override them. A change that fails leaves the balancer as it was.
///
/// Servers that stay keep their cells, so their health, requests in flight and reported
/// loads carry over; a fleet may become empty, and picks then answer
/// [`PickError::NoServers`](crate::PickError::NoServers) until a server is added.
///
/// ```
/// use loadring::{Balancer, RoundRobin, Server, SyncOptions, Update};
///
/// let mut rr = RoundRobin::new(["a", "b"])?;
/// rr.set_healthy("b", false)?;
/// rr.add(Server::new("c").with_weight(2))?;
/// rr.remove("a")?;
/// assert_eq!(rr.len(), 2);
/// assert!(!rr.is_healthy("b")?); // b's health cell came along
///
/// // Discovery says: b and d. b keeps its cells, c goes, d joins.
/// let report = rr.sync(vec!["b".into(), "d".into()], SyncOptions::default())?;
/// assert_eq!((report.added, report.removed, report.kept), (1, 1, 1));
/// assert!(!rr.is_healthy("b")?);
/// # Ok::<(), loadring::Error>(())
/// ```
pub trait Update: Balancer {
    /// Rebuilds over `servers` (in the order given, for strategies where order matters) with
    /// the same options and running state. The servers are used as they are: pass clones of
    /// the current ones to keep their cells.
    ///
    /// Errors: those of the strategy's constructor.
    fn set_servers(&mut self, servers: Vec<Server>) -> Result<(), Error>;

    /// Adds a server.
    ///
    /// Errors: [`Error::DuplicateServer`], [`Error::ZeroWeight`], and those of the strategy.
    fn add(&mut self, server: Server) -> Result<(), Error> {
        let mut list = self.servers().to_vec();
        list.push(server);
        self.set_servers(list)
    }

    /// Removes the server with this id and returns it; removing the last one leaves an empty
    /// balancer.
    ///
    /// Errors: [`Error::UnknownServer`].
    fn remove(&mut self, id: &str) -> Result<Server, Error> {
        let i = self.position(id).ok_or_else(|| Error::unknown(id))?;
        let mut list = self.servers().to_vec();
        let gone = list.remove(i);
        self.set_servers(list)?;
        Ok(gone)
    }

    /// Changes a server's weight, keeping its cells.
    ///
    /// Errors: [`Error::UnknownServer`], [`Error::ZeroWeight`], and those of the strategy.
    fn set_weight(&mut self, id: &str, weight: u32) -> Result<(), Error> {
        let i = self.position(id).ok_or_else(|| Error::unknown(id))?;
        let mut list = self.servers().to_vec();
        list[i] = list[i].clone().with_weight(weight);
        self.set_servers(list)
    }

    /// Makes the servers those of `servers`, the full list that discovery reports, in one
    /// step: servers that stay keep their cells (health, in flight, load) and take the new
    /// weight, capacity, address and metadata; new ones join (healthy or not, as
    /// `options` says); the others leave. Servers that stay keep their place, new ones come
    /// after them in the order given.
    ///
    /// A weight of 0 drains the server, as IPVS, keepalived and several discovery systems
    /// mean it: it stays, with the weight it had (1 if new), and takes no new requests or
    /// keys while those in flight finish ([`Server::is_draining`]); a weight above 0 ends
    /// that drain. A drain set by hand ([`Server::set_draining`]) is apart: no sync ends it.
    /// One weight-0 entry never fails the whole update.
    ///
    /// Errors: [`Error::DuplicateServer`] if an id appears twice in `servers`, and those of
    /// the strategy; on an error nothing changes.
    fn sync(&mut self, servers: Vec<Server>, options: SyncOptions) -> Result<SyncReport, Error> {
        let Merged {
            list,
            report,
            drains,
        } = merge(self.servers(), servers, options)?;
        if report.changed() {
            self.set_servers(list)?;
        }
        mark_drains(&drains);
        Ok(report)
    }
}

/// How [`Update::sync`] treats servers it has not seen before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields, default))]
#[non_exhaustive]
pub struct SyncOptions {
    /// The health of new servers (HAProxy's `init-state`).
    pub new_servers: InitialHealth,
}

impl SyncOptions {
    /// Sets the health of new servers.
    pub fn with_new_servers(mut self, health: InitialHealth) -> Self {
        self.new_servers = health;
        self
    }
}

/// The health a server starts with when discovery adds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
#[non_exhaustive]
pub enum InitialHealth {
    /// Healthy at once (the server's own flag is left as it is).
    #[default]
    Healthy,
    /// Unhealthy until something (a health check) marks it healthy.
    Unhealthy,
}

/// What an [`Update::sync`] changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct SyncReport {
    /// Servers that joined.
    pub added: usize,
    /// Servers that left.
    pub removed: usize,
    /// Servers that stayed (their cells kept).
    pub kept: usize,
    /// Servers that stayed with another weight (whatever else changed).
    pub reweighted: usize,
    /// Servers that stayed with the same weight and another capacity, address or metadata.
    pub redescribed: usize,
    /// Servers listed with weight 0, so draining now.
    pub draining: usize,
}

impl SyncReport {
    /// Whether anything changed: membership, a weight, or a server's description.
    pub fn changed(&self) -> bool {
        self.added + self.removed + self.reweighted + self.redescribed > 0
    }
}

/// What a sync leads to.
pub(crate) struct Merged {
    /// `current` in its order with `wanted`'s descriptions and the current cells, then the
    /// new servers in `wanted`'s order.
    pub(crate) list: Vec<Server>,
    pub(crate) report: SyncReport,
    /// Kept servers whose drain starts or ends, once the list is in place.
    pub(crate) drains: Vec<(Server, bool)>,
}

/// Starts or ends the drains that a sync's list gives by weight 0, once the list is in place
/// (a drain by hand is apart and stays).
pub(crate) fn mark_drains(drains: &[(Server, bool)]) {
    for (server, listed_zero) in drains {
        server.set_flag(Flag::LISTED_ZERO, *listed_zero);
    }
}

/// The list a sync leads to; see [`Merged`].
pub(crate) fn merge(
    current: &[Server],
    wanted: Vec<Server>,
    options: SyncOptions,
) -> Result<Merged, Error> {
    let mut by_id: HashMap<Arc<str>, Server> = HashMap::with_capacity(wanted.len());
    let mut order = Vec::with_capacity(wanted.len());
    for s in wanted {
        let id = Arc::clone(s.id_arc());
        if by_id.insert(Arc::clone(&id), s).is_some() {
            return Err(Error::DuplicateServer { id: id.to_string() });
        }
        order.push(id);
    }
    let mut report = SyncReport::default();
    let mut list = Vec::with_capacity(order.len());
    let mut drains = Vec::new();
    for old in current {
        match by_id.remove(old.id()) {
            Some(mut new) => {
                report.kept += 1;
                let drain = new.weight() == 0;
                if drain {
                    report.draining += 1;
                    new = new.with_weight(old.weight());
                }
                if drain != old.has_flag(Flag::LISTED_ZERO) {
                    drains.push((old.clone(), drain));
                }
                if new.weight() != old.weight() {
                    report.reweighted += 1;
                } else if !new.same_description(old) {
                    report.redescribed += 1;
                }
                list.push(new.with_cells_of(old));
            }
            None => report.removed += 1,
        }
    }
    for id in order {
        if let Some(mut s) = by_id.remove(&id) {
            // A new server's cells are its own: marking them now touches nothing live.
            if options.new_servers == InitialHealth::Unhealthy {
                s.set_flag(Flag::UNCHECKED, true);
            }
            if s.weight() == 0 {
                report.draining += 1;
                s = s.with_weight(1);
                s.set_flag(Flag::LISTED_ZERO, true);
            }
            report.added += 1;
            list.push(s);
        }
    }
    Ok(Merged {
        list,
        report,
        drains,
    })
}
