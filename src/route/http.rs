//! [`RequestView`] for the `http` crate's request type (feature `http`).

use std::net::{IpAddr, SocketAddr};

use http::{HeaderValue, Request};

use super::RequestView;
use super::request::host_header;

/// The view of an `http::Request`, whatever its body.
///
/// The host is the URI's (absolute-form requests, HTTP/2's `:authority`) or else the `Host`
/// header's, without the port. The client address is read from the request's extensions: an
/// [`IpAddr`] if one is there (the client as the service determined it, say from a trusted
/// `X-Forwarded-For`), else the IP of a [`SocketAddr`] (the connection's peer). Servers do
/// not put it there by themselves: insert the peer address when the connection is accepted.
///
/// ```
/// use std::net::SocketAddr;
/// use loadring::route::RequestView;
///
/// let peer: SocketAddr = "192.0.2.7:51000".parse().unwrap();
/// let mut request = http::Request::get("/video/1?hd=1")
///     .header("host", "media.example.com:8443")
///     .header("cookie", "user=alice")
///     .body(())
///     .unwrap();
/// request.extensions_mut().insert(peer);
/// assert_eq!(RequestView::host(&request), Some("media.example.com"));
/// assert_eq!(request.cookie("user"), Some(&b"alice"[..]));
/// assert_eq!(request.client_ip(), Some(peer.ip()));
/// ```
impl<B> RequestView for Request<B> {
    fn method(&self) -> &str {
        Request::method(self).as_str()
    }

    fn path(&self) -> &str {
        self.uri().path()
    }

    fn query(&self) -> Option<&str> {
        self.uri().query()
    }

    fn header<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a [u8]> {
        self.headers()
            .get_all(name)
            .iter()
            .map(HeaderValue::as_bytes)
    }

    fn host(&self) -> Option<&str> {
        self.uri()
            .host()
            .filter(|h| !h.is_empty())
            .or_else(|| host_header(self))
    }

    fn client_ip(&self) -> Option<IpAddr> {
        let extensions = self.extensions();
        extensions
            .get::<IpAddr>()
            .copied()
            .or_else(|| extensions.get::<SocketAddr>().map(SocketAddr::ip))
    }
}
