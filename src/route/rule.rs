//! [`Rule`]: the conditions that send a request to a pool.

use super::{RequestView, parse};
use crate::Error;

/// How a header's or a cookie's value must look for a [`Rule`] to match.
///
/// Values compare as bytes, case-sensitively (as Envoy's and HAProxy's matchers do by
/// default).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Match {
    /// The header or cookie is there, whatever its value (an empty one included).
    Present,
    /// The value is exactly this.
    Equals(String),
    /// The value starts with this.
    Prefix(String),
}

impl Match {
    fn holds(&self, value: &[u8]) -> bool {
        match self {
            Match::Present => true,
            Match::Equals(v) => value == v.as_bytes(),
            Match::Prefix(p) => value.starts_with(p.as_bytes()),
        }
    }

    /// Whether a header line holds: its whole value, or any element of it read as a
    /// comma-separated list.
    fn holds_in_line(&self, line: &[u8]) -> bool {
        matches!(self, Match::Present)
            || self.holds(line.trim_ascii())
            || parse::elements(line).any(|e| self.holds(e))
    }
}

/// A routing rule: the pool it names and the conditions a request must meet, every one of
/// them, for the rule to match. A [`Router`](super::Router) tries its rules in order and the
/// first that matches names the pool.
///
/// The conditions:
///
/// - [`host`](Rule::host): the request's host, without its port, equals the pattern
///   (ASCII case-insensitively; one trailing dot ignored). `*.example.com` matches any
///   subdomain of `example.com` at any depth, but not `example.com` itself (nginx's and
///   Envoy's wildcard). Several hosts: any of them.
/// - [`path_prefix`](Rule::path_prefix): the path starts with the prefix *at a segment
///   boundary*: `/video` matches `/video`, `/video/` and `/video/42` but not `/videos`;
///   `/video/` matches `/video/` and below, not `/video`; `/` matches every path. Paths
///   compare as sent (case-sensitive, not percent-decoded), without the query.
/// - [`method`](Rule::method): the method is one of those given (case-sensitive).
/// - [`header`](Rule::header): a header named so (case-insensitive) is there, equals or
///   starts with a value. A header may be sent as several lines, and many headers carry
///   comma-separated lists (`Accept: text/html, video/mp4`), so a value matches when one
///   line's whole value does, or any element of a line's list does (as HAProxy's `hdr()`
///   reads them; a comma inside a quoted string does not separate). `Accept: text/html,
///   video/mp4;q=0.9` therefore matches the prefix `video/`; q-values are not weighed.
/// - [`cookie`](Rule::cookie): the first cookie named so (case-sensitive) is there, equals
///   or starts with a value (without the double quotes of a quoted value).
///
/// A rule needs at least one condition: the default pool takes every request that no rule
/// matches. Names and patterns are checked when the table is built.
///
/// ```
/// use loadring::route::{Match, OwnedRequest, Rule};
///
/// let video = Rule::to("video").path_prefix("/video");
/// let by_accept = Rule::to("video").header("accept", Match::Prefix("video/".into()));
/// let beta = Rule::to("beta").host("*.example.com").cookie("beta", Match::Equals("1".into()));
///
/// assert!(video.matches(&OwnedRequest::new("GET", "/video/42")));
/// assert!(!video.matches(&OwnedRequest::new("GET", "/videos")));
/// let html_or_mp4 = OwnedRequest::new("GET", "/").with_header("Accept", "text/html, video/mp4");
/// assert!(by_accept.matches(&html_or_mp4));
/// let tester = OwnedRequest::new("GET", "/")
///     .with_header("Host", "www.Example.com:8443")
///     .with_header("Cookie", "theme=dark; beta=1");
/// assert!(beta.matches(&tester));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pool: String,
    /// Lowercase, without a trailing dot; `*.` for a wildcard.
    hosts: Vec<String>,
    path_prefix: Option<String>,
    methods: Vec<String>,
    /// Names lowercase.
    headers: Vec<(String, Match)>,
    cookies: Vec<(String, Match)>,
}

impl Rule {
    /// A rule that sends the requests it matches to the pool named `pool`; add its
    /// conditions with the other methods.
    pub fn to(pool: &str) -> Self {
        Rule {
            pool: pool.to_owned(),
            hosts: Vec::new(),
            path_prefix: None,
            methods: Vec::new(),
            headers: Vec::new(),
            cookies: Vec::new(),
        }
    }

    /// The host must be this one (or, for `*.example.com`, a subdomain), or one of the others
    /// given.
    pub fn host(mut self, pattern: &str) -> Self {
        let pattern = pattern.strip_suffix('.').unwrap_or(pattern);
        self.hosts.push(pattern.to_ascii_lowercase());
        self
    }

    /// The path must lie under `prefix` (segment by segment; see the [type docs](Rule)).
    /// A second call replaces the first.
    pub fn path_prefix(mut self, prefix: &str) -> Self {
        self.path_prefix = Some(prefix.to_owned());
        self
    }

    /// The method must be this one, or one of the others given.
    pub fn method(mut self, method: &str) -> Self {
        self.methods.push(method.to_owned());
        self
    }

    /// A header named `name` must match `value` (see the [type docs](Rule) for lists).
    pub fn header(mut self, name: &str, value: Match) -> Self {
        self.headers.push((name.to_ascii_lowercase(), value));
        self
    }

    /// The cookie named `name` must match `value`.
    pub fn cookie(mut self, name: &str, value: Match) -> Self {
        self.cookies.push((name.to_owned(), value));
        self
    }

    /// The pool the rule names.
    pub fn pool(&self) -> &str {
        &self.pool
    }

    /// Whether `request` meets every condition of the rule. Allocates nothing.
    pub fn matches<R: RequestView>(&self, request: &R) -> bool {
        (self.hosts.is_empty() || request.host().is_some_and(|h| self.host_matches(h)))
            && self
                .path_prefix
                .as_deref()
                .is_none_or(|p| under(request.path(), p))
            && (self.methods.is_empty() || self.methods.iter().any(|m| m == request.method()))
            && self
                .headers
                .iter()
                .all(|(name, value)| request.header(name).any(|line| value.holds_in_line(line)))
            && self
                .cookies
                .iter()
                .all(|(name, value)| request.cookie(name).is_some_and(|v| value.holds(v)))
    }

    fn host_matches(&self, host: &str) -> bool {
        let host = host.strip_suffix('.').unwrap_or(host).as_bytes();
        self.hosts
            .iter()
            .any(|pattern| match pattern.strip_prefix('*') {
                Some(suffix) => {
                    host.len() > suffix.len()
                        && host[host.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
                }
                None => host.eq_ignore_ascii_case(pattern.as_bytes()),
            })
    }

    /// Checks the rule's names and patterns; `at` names the rule in errors.
    pub(crate) fn check(&self, at: &str) -> Result<(), Error> {
        let bad = |what: &str, reason: String| Err(Error::option(&format!("{at}.{what}"), reason));
        let conditions = self.hosts.len()
            + usize::from(self.path_prefix.is_some())
            + self.methods.len()
            + self.headers.len()
            + self.cookies.len();
        if conditions == 0 {
            return Err(Error::option(
                at,
                "a rule needs at least one condition (the default pool takes the requests \
                 that no rule matches)",
            ));
        }
        for host in &self.hosts {
            if !valid_host_pattern(host) {
                return bad(
                    "hosts",
                    format!(
                        "{host:?} is not a host name or `*.` pattern (hosts match without \
                         their port)"
                    ),
                );
            }
        }
        if let Some(prefix) = self.path_prefix.as_deref().filter(|p| !p.starts_with('/')) {
            return bad("path_prefix", format!("{prefix:?} does not start with `/`"));
        }
        if let Some(method) = self.methods.iter().find(|m| !parse::is_token(m)) {
            return bad("methods", format!("{method:?} is not a valid method"));
        }
        if let Some((name, _)) = self.headers.iter().find(|(n, _)| !parse::is_token(n)) {
            return bad("headers", format!("{name:?} is not a valid header name"));
        }
        if let Some((name, _)) = self.cookies.iter().find(|(n, _)| !parse::is_token(n)) {
            return bad("cookies", format!("{name:?} is not a valid cookie name"));
        }
        Ok(())
    }
}

/// Whether `path` lies under `prefix`, at a segment boundary.
fn under(path: &str, prefix: &str) -> bool {
    match path.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with('/') || prefix.ends_with('/'),
        None => false,
    }
}

/// A host name, an IP literal, or `*.` and a host name; no port, no spaces.
fn valid_host_pattern(pattern: &str) -> bool {
    let (wildcard, name) = match pattern.strip_prefix("*.") {
        Some(name) => (true, name),
        None => (false, pattern),
    };
    let literal = !wildcard && name.starts_with('[') && name.ends_with(']');
    !name.is_empty()
        && name.bytes().all(|b| {
            b.is_ascii_alphanumeric() || b"-._~".contains(&b) || (literal && b"[]:".contains(&b))
        })
}

#[cfg(feature = "serde")]
mod serde_impl {
    //! A rule in configuration: `{pool, hosts, path_prefix, methods, headers, cookies}`.

    use serde::Deserialize;

    use super::{Match, Rule};
    use crate::Error;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct RuleRepr {
        pool: String,
        #[serde(default)]
        hosts: Vec<String>,
        path_prefix: Option<String>,
        #[serde(default)]
        methods: Vec<String>,
        #[serde(default)]
        headers: Vec<ValueRepr>,
        #[serde(default)]
        cookies: Vec<ValueRepr>,
    }

    /// `{name}` (present), `{name, equals}` or `{name, prefix}`.
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct ValueRepr {
        name: String,
        equals: Option<String>,
        prefix: Option<String>,
    }

    impl ValueRepr {
        fn into_match(self) -> Result<(String, Match), Error> {
            let value = match (self.equals, self.prefix) {
                (None, None) => Match::Present,
                (Some(v), None) => Match::Equals(v),
                (None, Some(p)) => Match::Prefix(p),
                (Some(_), Some(_)) => {
                    return Err(Error::option(
                        &self.name,
                        "give `equals` or `prefix`, not both",
                    ));
                }
            };
            Ok((self.name, value))
        }
    }

    impl TryFrom<RuleRepr> for Rule {
        type Error = Error;

        fn try_from(repr: RuleRepr) -> Result<Self, Error> {
            let mut rule = Rule::to(&repr.pool);
            rule = repr.hosts.iter().fold(rule, |r, h| r.host(h));
            rule = repr.methods.iter().fold(rule, |r, m| r.method(m));
            if let Some(prefix) = &repr.path_prefix {
                rule = rule.path_prefix(prefix);
            }
            for header in repr.headers {
                let (name, value) = header.into_match()?;
                rule = rule.header(&name, value);
            }
            for cookie in repr.cookies {
                let (name, value) = cookie.into_match()?;
                rule = rule.cookie(&name, value);
            }
            rule.check("rule")?;
            Ok(rule)
        }
    }
}

/// A rule in configuration (feature `serde`): the pool, and any of `hosts` (a list),
/// `path_prefix`, `methods` (a list), `headers` and `cookies` (lists of `{name}`,
/// `{name, equals}` or `{name, prefix}`). Unknown fields are errors.
#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Rule {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let repr = serde_impl::RuleRepr::deserialize(deserializer)?;
        Rule::try_from(repr).map_err(serde::de::Error::custom)
    }
}
