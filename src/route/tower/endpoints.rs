//! [`MakeEndpoint`], and the endpoint services a [`Balance`](super::Balance) has made, one
//! per server.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use crate::sync::{Mutex, MutexGuard};
use crate::{Balancer, Server, Shared};

/// Makes the endpoint service of a server: the service that sends a request to it.
///
/// Any closure `Fn(&Server) -> S` is one. A [`Balance`](super::Balance) makes a server's
/// endpoint on the first request routed to it and keeps it while the server stays in the
/// fleet, so an endpoint that holds connections (a client for that address) keeps them
/// across requests. The server's [`addr`](Server::addr) and [`meta`](Server::meta) say where
/// and how to reach it.
///
/// ```
/// use std::convert::Infallible;
/// use loadring::Server;
/// use loadring::route::MakeEndpoint;
///
/// // An endpoint that answers with the address it would send to.
/// let make = |server: &Server| {
///     let addr = server.addr();
///     tower::service_fn(move |_request: ()| async move { Ok::<_, Infallible>(addr) })
/// };
/// let _endpoint = make.make_endpoint(&Server::new("10.0.0.1:80"));
/// ```
pub trait MakeEndpoint {
    /// The endpoint service.
    type Endpoint;

    /// The endpoint service of `server`.
    fn make_endpoint(&self, server: &Server) -> Self::Endpoint;
}

impl<F, S> MakeEndpoint for F
where
    F: Fn(&Server) -> S,
{
    type Endpoint = S;

    #[inline]
    fn make_endpoint(&self, server: &Server) -> S {
        self(server)
    }
}

/// The endpoints made so far, by the identity of their server's cells, so that a server that
/// leaves and comes back with new cells (and maybe a new address) gets a new endpoint.
///
/// A request looks its endpoint up and clones it under a mutex held for just that (endpoints
/// are made and dropped outside it): with a copy-on-write map instead, lock-free to read,
/// every new server would copy the whole map, and a fleet of n servers warming up would
/// cost n² clones.
///
/// The map never holds more endpoints than the fleet has servers: when it does, an endpoint
/// whose server has left is dropped. That happens at the first request after the fleet
/// shrank, or when a newcomer's endpoint is made; the check is a comparison of two lengths.
pub(super) struct Endpoints<S> {
    made: Mutex<HashMap<usize, Made<S>>>,
}

/// A server and its endpoint.
struct Made<S> {
    server: Server,
    endpoint: S,
}

impl<S> Endpoints<S> {
    pub(super) fn new() -> Self {
        Endpoints {
            made: Mutex::new(HashMap::new()),
        }
    }

    /// How many endpoints are kept.
    pub(super) fn len(&self) -> usize {
        self.made.lock().len()
    }
}

impl<S: Clone> Endpoints<S> {
    /// A clone of the endpoint of `server`, which a pick from `fleet` (a snapshot of
    /// `shared`) returned; made by `make` if it is new.
    pub(super) fn get<B, M>(&self, server: &Server, fleet: &B, shared: &Shared<B>, make: &M) -> S
    where
        B: Balancer,
        M: MakeEndpoint<Endpoint = S> + ?Sized,
    {
        let key = server.cells_key();
        let made = self.made.lock();
        if let Some(known) = made.get(&key) {
            let endpoint = known.endpoint.clone();
            release(made, fleet, shared, None);
            return endpoint;
        }
        drop(made);

        // Made outside the lock: making an endpoint may take a while. Two requests that race
        // here both make one; the first kept serves both.
        let fresh = make.make_endpoint(server);
        let mut made = self.made.lock();
        let (endpoint, spare) = match made.entry(key) {
            Entry::Occupied(known) => (known.get().endpoint.clone(), Some(fresh)),
            Entry::Vacant(slot) => {
                let endpoint = fresh.clone();
                slot.insert(Made {
                    server: server.clone(),
                    endpoint: fresh,
                });
                (endpoint, None)
            }
        };
        release(made, fleet, shared, spare);
        endpoint
    }
}

/// Lets go of the lock on `made` after taking out the endpoints of servers that left (when
/// it holds more than `fleet` has servers), then drops them and `spare` outside the lock.
fn release<S, B: Balancer>(
    mut made: MutexGuard<'_, HashMap<usize, Made<S>>>,
    fleet: &B,
    shared: &Shared<B>,
    spare: Option<S>,
) {
    let mut gone = Vec::new();
    if made.len() > fleet.len() {
        // Against the newest fleet: `fleet` may be a snapshot from before a server joined,
        // whose endpoint a later request made.
        let now = shared.snapshot();
        let left: Vec<usize> = made
            .iter()
            .filter(|(_, m)| {
                now.server(m.server.id())
                    .is_none_or(|s| !s.shares_state_with(&m.server))
            })
            .map(|(&key, _)| key)
            .collect();
        gone.extend(left.iter().filter_map(|key| made.remove(key)));
    }
    drop(made);
    drop((spare, gone));
}
