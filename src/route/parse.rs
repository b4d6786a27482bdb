//! The pieces of a request that rules and keys read, cut out of its raw parts without
//! allocating: cookies, the elements of a comma-separated header, query parameters, path
//! segments, a host without its port. None of them panics on any input.

/// Spaces and tabs, the optional whitespace around HTTP list elements and cookie pairs.
fn trim(bytes: &[u8]) -> &[u8] {
    let is_ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = bytes.iter().position(|b| !is_ows(b)).unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !is_ows(b))
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}

/// The value of the first cookie named `name` in `Cookie` header lines (RFC 6265: pairs
/// separated by `;`, a value in double quotes without them). Pairs without `=` and empty
/// names are passed over; names compare exactly (they are case-sensitive).
pub(crate) fn cookie<'a>(lines: impl Iterator<Item = &'a [u8]>, name: &str) -> Option<&'a [u8]> {
    lines
        .flat_map(|line| line.split(|&b| b == b';'))
        .find_map(|pair| {
            let eq = pair.iter().position(|&b| b == b'=')?;
            (trim(&pair[..eq]) == name.as_bytes()).then(|| unquote(trim(&pair[eq + 1..])))
        })
}

fn unquote(value: &[u8]) -> &[u8] {
    match value {
        [b'"', inner @ .., b'"'] => inner,
        _ => value,
    }
}

/// The elements of a comma-separated header value (RFC 9110, section 5.6.1), trimmed, empty
/// ones left out; a comma inside a quoted string does not separate.
pub(crate) fn elements(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    let (mut quoted, mut escaped) = (false, false);
    value
        .split(move |&b| {
            if escaped {
                escaped = false;
            } else if quoted && b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                quoted = !quoted;
            } else {
                return b == b',' && !quoted;
            }
            false
        })
        .map(trim)
        .filter(|e| !e.is_empty())
}

/// The value of the first query parameter named `name` (`name=value` pairs separated by
/// `&`; a bare `name` has an empty value), as sent: neither is percent-decoded.
pub(crate) fn query_param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .find_map(|pair| match pair.split_once('=') {
            Some((n, v)) => (n == name).then_some(v),
            None => (pair == name).then_some(""),
        })
}

/// The `index`-th non-empty segment of a path (`/users/42/posts`: 0 is `users`).
pub(crate) fn path_segment(path: &str, index: usize) -> Option<&str> {
    path.split('/').filter(|s| !s.is_empty()).nth(index)
}

/// A `Host` value without its port: `example.com:8080` is `example.com`, `[::1]:8080` is
/// `[::1]`. `None` for an empty host.
pub(crate) fn host_without_port(host: &str) -> Option<&str> {
    let host = host.trim();
    let bare = if host.starts_with('[') {
        host.find(']').map_or(host, |end| &host[..=end])
    } else {
        host.split(':').next().unwrap_or(host)
    };
    (!bare.is_empty()).then_some(bare)
}

/// Whether `name` is an HTTP token (RFC 9110, section 5.6.2): what header names, cookie
/// names and methods are made of.
pub(crate) fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines<'a>(l: &'a [&'a str]) -> impl Iterator<Item = &'a [u8]> {
        l.iter().map(|s| s.as_bytes())
    }

    #[test]
    fn cookies_from_junk() {
        let found = |l: &[&str], n: &str| cookie(lines(l), n).map(|v| v.to_vec());
        assert_eq!(found(&["a=1; user=bob; b"], "user"), Some(b"bob".to_vec()));
        assert_eq!(
            found(&["x", "user = \"bob\" ;"], "user"),
            Some(b"bob".to_vec())
        );
        assert_eq!(found(&["user=1; user=2"], "user"), Some(b"1".to_vec()));
        assert_eq!(found(&["User=1"], "user"), None);
        assert_eq!(found(&[";;=;=x;user"], "user"), None);
        assert_eq!(found(&["user="], "user"), Some(Vec::new()));
        assert_eq!(found(&["user=\""], "user"), Some(b"\"".to_vec()));
        assert_eq!(found(&["a=b=c"], "a"), Some(b"b=c".to_vec()));
        assert_eq!(found(&[], "a"), None);
    }

    #[test]
    fn list_elements() {
        let all = |v: &str| {
            elements(v.as_bytes())
                .map(|e| String::from_utf8_lossy(e).into_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            all("text/html, video/mp4;q=0.9"),
            ["text/html", "video/mp4;q=0.9"]
        );
        assert_eq!(all(" , a,,\tb ,"), ["a", "b"]);
        assert_eq!(all(r#"a;x="1,2", b"#), [r#"a;x="1,2""#, "b"]);
        assert_eq!(all(r#"a;x="1\",2", b"#), [r#"a;x="1\",2""#, "b"]);
        assert_eq!(all(""), Vec::<String>::new());
    }

    #[test]
    fn query_path_host() {
        assert_eq!(query_param("a=1&user=bob&user=eve", "user"), Some("bob"));
        assert_eq!(query_param("flag&x=1", "flag"), Some(""));
        assert_eq!(query_param("usr=1", "user"), None);
        assert_eq!(path_segment("/users//42/", 1), Some("42"));
        assert_eq!(path_segment("/", 0), None);
        assert_eq!(host_without_port("Example.com:8080"), Some("Example.com"));
        assert_eq!(host_without_port("[::1]:8080"), Some("[::1]"));
        assert_eq!(host_without_port("[::1"), Some("[::1"));
        assert_eq!(host_without_port(":80"), None);
        assert!(is_token("x-user") && !is_token("x user") && !is_token(""));
    }
}
