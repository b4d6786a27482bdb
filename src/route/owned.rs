//! [`OwnedRequest`]: a request view that owns its parts.

use std::net::IpAddr;

use super::RequestView;

/// A request's routing parts, owned: for tests, for frameworks without a request type of
/// their own, or to route before a request is parsed in full.
///
/// ```
/// use loadring::route::{OwnedRequest, RequestView};
///
/// let request = OwnedRequest::new("GET", "/video/42?quality=hd")
///     .with_header("Host", "media.example.com")
///     .with_header("Accept", "video/mp4")
///     .with_client_ip("192.0.2.7".parse().unwrap());
/// assert_eq!(request.path(), "/video/42");
/// assert_eq!(request.query(), Some("quality=hd"));
/// assert_eq!(request.host(), Some("media.example.com"));
/// assert_eq!(request.header("accept").next(), Some(&b"video/mp4"[..]));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnedRequest {
    method: String,
    path: String,
    query: Option<String>,
    headers: Vec<(String, Vec<u8>)>,
    client_ip: Option<IpAddr>,
}

impl OwnedRequest {
    /// A request for `target`: a path, and a query after a `?` if there is one.
    pub fn new(method: &str, target: &str) -> Self {
        let (path, query) = match target.split_once('?') {
            Some((path, query)) => (path, Some(query.to_owned())),
            None => (target, None),
        };
        OwnedRequest {
            method: method.to_owned(),
            path: path.to_owned(),
            query,
            ..OwnedRequest::default()
        }
    }

    /// Adds a header line (after any of the same name).
    pub fn with_header(mut self, name: &str, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// Sets the client's address.
    pub fn with_client_ip(mut self, ip: IpAddr) -> Self {
        self.client_ip = Some(ip);
        self
    }
}

impl RequestView for OwnedRequest {
    fn method(&self) -> &str {
        &self.method
    }

    fn path(&self) -> &str {
        &self.path
    }

    fn query(&self) -> Option<&str> {
        self.query.as_deref()
    }

    fn header<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a [u8]> {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    fn client_ip(&self) -> Option<IpAddr> {
        self.client_ip
    }
}
