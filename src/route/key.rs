//! [`KeySource`]: where a pool finds a request's key; [`RequestKey`]: the key found.

use super::{ClientKey, RequestView, parse};
use crate::{Error, Key, KeyHasher};

/// Where a pool reads the key it hashes a request by. A pool tries its sources in order
/// and takes the first that the request has ([`Pool::with_key`](super::Pool::with_key)):
/// say a `user` cookie, else an `x-user` header, else the client address.
///
/// A header, cookie, query parameter or path segment that is missing or empty does not
/// count; values are hashed as sent (not percent-decoded, trimmed of spaces for headers), so
/// the cookie `user=alice` hashes as the key `"alice"` does: `ring.pick("alice")` is where
/// that user goes.
///
/// In configuration (feature `serde`): `{header = "x-user"}`, `{cookie = "user"}`,
/// `{query = "user"}`, `{path_segment = 1}`, `"client"`, `{client_subnet = {v4_bits = 24,
/// v6_bits = 64}}`.
///
/// ```
/// use loadring::route::{KeySource, OwnedRequest, RequestKey};
///
/// let request = OwnedRequest::new("GET", "/users/42/posts?user=")
///     .with_header("Cookie", "theme=dark")
///     .with_client_ip("192.0.2.7".parse().unwrap());
/// assert_eq!(KeySource::Cookie("user".into()).extract(&request), None);
/// assert_eq!(KeySource::Query("user".into()).extract(&request), None); // empty
/// assert_eq!(
///     KeySource::PathSegment(1).extract(&request),
///     Some(RequestKey::Bytes(b"42"))
/// );
/// assert!(matches!(KeySource::Client.extract(&request), Some(RequestKey::Client(_))));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(rename_all = "snake_case", deny_unknown_fields)
)]
#[non_exhaustive]
pub enum KeySource {
    /// The value of the first header line of this name (case-insensitive), trimmed.
    Header(String),
    /// The value of the first cookie of this name (case-sensitive).
    Cookie(String),
    /// The value of the first query parameter of this name.
    Query(String),
    /// The path segment at this index, counting from 0 and skipping empty ones: 1 is `42`
    /// in `/users/42/posts`.
    PathSegment(usize),
    /// The client's address ([`RequestView::client_ip`]), as a [`ClientKey`].
    Client,
    /// The client's subnet: the first `v4_bits` bits of an IPv4 address, `v6_bits` of an
    /// IPv6 one (see [`ClientKey::subnet`]).
    ClientSubnet {
        /// Prefix length for IPv4 clients, at most 32.
        v4_bits: u8,
        /// Prefix length for IPv6 clients, at most 128.
        v6_bits: u8,
    },
}

/// A request's key, as a [`KeySource`] found it; hashed as its bytes or as its
/// [`ClientKey`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKey<'a> {
    /// A header, cookie, query or path value.
    Bytes(&'a [u8]),
    /// The client's address or subnet.
    Client(ClientKey),
}

impl Key for RequestKey<'_> {
    #[inline]
    fn hash_with(&self, hasher: &KeyHasher) -> u64 {
        match self {
            RequestKey::Bytes(b) => b.hash_with(hasher),
            RequestKey::Client(c) => c.hash_with(hasher),
        }
    }
}

impl KeySource {
    /// The key this source finds in `request`, if the request has one. Allocates nothing.
    pub fn extract<'r, R: RequestView>(&self, request: &'r R) -> Option<RequestKey<'r>> {
        let bytes = match self {
            KeySource::Header(name) => request.header(name).next().map(<[u8]>::trim_ascii),
            KeySource::Cookie(name) => request.cookie(name),
            KeySource::Query(name) => parse::query_param(request.query()?, name).map(str::as_bytes),
            KeySource::PathSegment(i) => parse::path_segment(request.path(), *i).map(str::as_bytes),
            KeySource::Client => {
                return request
                    .client_ip()
                    .map(|ip| RequestKey::Client(ClientKey::new(ip)));
            }
            KeySource::ClientSubnet { v4_bits, v6_bits } => {
                let client = ClientKey::new(request.client_ip()?);
                return client
                    .subnet(*v4_bits, *v6_bits)
                    .ok()
                    .map(RequestKey::Client);
            }
        };
        bytes.filter(|b| !b.is_empty()).map(RequestKey::Bytes)
    }

    /// The source with its header name in lowercase, as requests are asked for it.
    pub(crate) fn normalized(self) -> Self {
        match self {
            KeySource::Header(name) => KeySource::Header(name.to_ascii_lowercase()),
            other => other,
        }
    }

    /// Checks names and prefix lengths; `at` names the source in errors.
    pub(crate) fn check(&self, at: &str) -> Result<(), Error> {
        let reason = match self {
            KeySource::Header(name) if !parse::is_token(name) => {
                format!("{name:?} is not a valid header name")
            }
            KeySource::Cookie(name) if !parse::is_token(name) => {
                format!("{name:?} is not a valid cookie name")
            }
            KeySource::Query(name) if name.is_empty() => "a query parameter needs a name".into(),
            KeySource::ClientSubnet { v4_bits, v6_bits } if *v4_bits > 32 || *v6_bits > 128 => {
                format!(
                    "a subnet prefix is at most 32 bits (v4_bits) and 128 (v6_bits), \
                     not {v4_bits} and {v6_bits}"
                )
            }
            _ => return Ok(()),
        };
        Err(Error::option(at, reason))
    }
}
