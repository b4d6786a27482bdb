//! [`RequestView`]: what the layer-7 router reads of a request.

use std::net::IpAddr;

use super::parse;

/// What rules and key extractors read of an HTTP request: its method, host, path, query,
/// headers, cookies and client address. The [`Router`](super::Router) works on any type
/// that implements it.
///
/// Implemented for `http::Request<B>` (feature `http`) and for [`OwnedRequest`](super::OwnedRequest);
/// for another framework's request type, four methods are enough:
/// [`method`](RequestView::method), [`path`](RequestView::path),
/// [`query`](RequestView::query) and [`header`](RequestView::header). The host (from the
/// `Host` header) and cookies (from the `Cookie` headers) have default implementations, and
/// the client address is `None` unless [`client_ip`](RequestView::client_ip) says otherwise.
///
/// ```
/// use std::net::IpAddr;
/// use loadring::route::RequestView;
///
/// /// A request as some framework hands it over.
/// struct MyRequest {
///     method: String,
///     path: String,
///     headers: Vec<(String, String)>,
///     peer: IpAddr,
/// }
///
/// impl RequestView for MyRequest {
///     fn method(&self) -> &str {
///         &self.method
///     }
///     fn path(&self) -> &str {
///         &self.path
///     }
///     fn query(&self) -> Option<&str> {
///         None
///     }
///     fn header<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a [u8]> {
///         let named = move |(n, _): &&(String, String)| n.eq_ignore_ascii_case(name);
///         self.headers.iter().filter(named).map(|(_, v)| v.as_bytes())
///     }
///     fn client_ip(&self) -> Option<IpAddr> {
///         Some(self.peer)
///     }
/// }
///
/// let request = MyRequest {
///     method: "GET".into(),
///     path: "/".into(),
///     headers: vec![
///         ("Host".into(), "Example.com:8080".into()),
///         ("Cookie".into(), "theme=dark; user=alice".into()),
///     ],
///     peer: "192.0.2.7".parse().unwrap(),
/// };
/// assert_eq!(request.host(), Some("Example.com"));
/// assert_eq!(request.cookie("user"), Some(&b"alice"[..]));
/// ```
pub trait RequestView {
    /// The method, as sent (`"GET"`; methods are case-sensitive).
    fn method(&self) -> &str;

    /// The path, without the query (`"/video/42"`), as sent: not percent-decoded.
    fn path(&self) -> &str;

    /// The query string, without the `?`, if any.
    fn query(&self) -> Option<&str>;

    /// The values of every header line named `name`, in order. `name` is lowercase; compare
    /// it ASCII case-insensitively.
    fn header<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a [u8]>;

    /// The host the request is for, without its port (`"example.com"`, `"[::1]"`), in any
    /// case. The default reads the first `Host` header.
    fn host(&self) -> Option<&str> {
        host_header(self)
    }

    /// The value of the first cookie named `name` in the `Cookie` headers (without the double
    /// quotes of a quoted value); cookie names are case-sensitive. The default parses the
    /// headers and passes over malformed pairs.
    fn cookie(&self, name: &str) -> Option<&[u8]> {
        parse::cookie(self.header("cookie"), name)
    }

    /// The client's address, when the server knows it. The default is `None`.
    fn client_ip(&self) -> Option<IpAddr> {
        None
    }
}

/// The first `Host` header of `request`, without its port.
pub(crate) fn host_header<R: RequestView + ?Sized>(request: &R) -> Option<&str> {
    let value = request.header("host").next()?;
    parse::host_without_port(std::str::from_utf8(value).ok()?)
}
