//! [`KeyOf`]: what a request is keyed by.

use crate::{Key, KeyHasher};

/// What a [`Balance`](super::Balance) keys each request by: the hash of the request's key,
/// which the strategy maps onto a server as [`Shared::pick`](crate::Shared::pick) maps the
/// same key.
///
/// Any closure `Fn(&Req) -> K` where `K` is a [`Key`] (a `String`, an integer, a
/// [`ClientKey`](crate::route::ClientKey), …) is one; annotate its argument's type, as
/// `|request: &Request<Body>| ...`, since the request type is only known where the service
/// is called. A key that borrows from the request implements the trait on a type of its
/// own and hashes the borrowed key with `hasher`. [`NoKey`] is for key-free strategies.
///
/// ```
/// use loadring::route::KeyOf;
/// use loadring::{Key, KeyHasher};
///
/// /// The request's user, without copying it out of the request.
/// struct User;
///
/// impl KeyOf<(String, u32)> for User {
///     fn key_hash(&self, request: &(String, u32), hasher: &KeyHasher) -> u64 {
///         hasher.hash(request.0.as_str())
///     }
/// }
///
/// let hasher = KeyHasher::default();
/// let request = ("alice".to_owned(), 7);
/// let by_closure = |request: &(String, u32)| request.0.clone();
/// assert_eq!(User.key_hash(&request, &hasher), by_closure.key_hash(&request, &hasher));
/// assert_eq!(User.key_hash(&request, &hasher), hasher.hash("alice"));
/// ```
pub trait KeyOf<Req> {
    /// The 64-bit hash of `request`'s key under `hasher` (the balancer's own).
    fn key_hash(&self, request: &Req, hasher: &KeyHasher) -> u64;
}

impl<Req, K, F> KeyOf<Req> for F
where
    F: Fn(&Req) -> K,
    K: Key,
{
    #[inline]
    fn key_hash(&self, request: &Req, hasher: &KeyHasher) -> u64 {
        hasher.hash(&self(request))
    }
}

/// No key: every request is routed as [`acquire_next`](crate::BalancerExt::acquire_next)
/// routes it, for key-free strategies (round-robin, least-loaded, fill-first). A hash
/// strategy sends every such request to the server of the key whose hash is 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoKey;

impl<Req> KeyOf<Req> for NoKey {
    #[inline]
    fn key_hash(&self, _: &Req, _: &KeyHasher) -> u64 {
        0
    }
}
