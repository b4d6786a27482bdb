//! [`Keys`]: where one service's figures live in Redis.

use std::fmt;
use std::sync::Arc;

use crate::Error;

/// The longest service name or prefix, in bytes.
const MAX_NAME: usize = 256;

/// The default namespace of every key.
const DEFAULT_PREFIX: &str = "loadring";

/// The longest server id of a member set, in bytes: a reporter refuses a longer one, and a
/// poller ignores (and counts) one it finds.
pub(crate) const MAX_ID: usize = 1024;

/// The most entries a poller reads from a member set at each poll.
pub(crate) const MAX_MEMBERS: usize = 10_000;

/// The Redis keys of one service, all under one namespace and one hash tag.
///
/// | key | type | holds |
/// |---|---|---|
/// | `loadring:{<service>}:members` | sorted set | each reporting server's id, scored with the Unix time in milliseconds at which its entry lapses |
/// | `loadring:{<service>}:server:<id>` | string, with a time-to-live | the server's [`Figures`](super::Figures) |
///
/// The braces around the service name are Redis Cluster's hash tag: only the part between
/// them is hashed, so every key of a service lands in one slot, on one node, and one
/// pipeline reads them all on a cluster as on a single Redis. Several services share a
/// Redis side by side; `loadring` is the default prefix ([`with_prefix`](Keys::with_prefix)
/// changes it).
///
/// The service name and the prefix are 1 to 256 bytes without `{` or `}` (which would move
/// the hash tag); a server id is 1 to 1024 bytes of any text.
///
/// What a poller reads is bounded, whatever another writer left in these keys: the first
/// 10 000 live entries of the member set (by lapse time), ignoring ids longer than 1024
/// bytes, and the first 513 bytes of each server's figures (the longest figures are 512
/// bytes; see [`Figures`](super::Figures)). It counts what it ignores as parse errors.
///
/// ```
/// use loadring::redis::Keys;
///
/// let keys = Keys::new("checkout")?;
/// assert_eq!(keys.members(), "loadring:{checkout}:members");
/// assert_eq!(keys.server("10.0.0.1:8080"), "loadring:{checkout}:server:10.0.0.1:8080");
/// assert_eq!(Keys::new("checkout")?.with_prefix("lb")?.members(), "lb:{checkout}:members");
/// assert!(Keys::new("a{b}").is_err());
/// # Ok::<(), loadring::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Keys {
    service: Arc<str>,
    /// `<prefix>:{<service>}:`, the start of every key.
    head: Arc<str>,
    members: Arc<str>,
}

impl Keys {
    /// The keys of `service` under the `loadring` prefix.
    ///
    /// Errors: [`Error::InvalidOption`] for a name that is empty, longer than 256 bytes, or
    /// holds `{` or `}`.
    pub fn new(service: &str) -> Result<Self, Error> {
        check_name("service", service)?;
        Ok(Keys::build(DEFAULT_PREFIX, service))
    }

    /// The same service under another prefix.
    ///
    /// Errors: [`Error::InvalidOption`], as for the service name.
    pub fn with_prefix(self, prefix: &str) -> Result<Self, Error> {
        check_name("prefix", prefix)?;
        Ok(Keys::build(prefix, &self.service))
    }

    fn build(prefix: &str, service: &str) -> Self {
        let head = format!("{prefix}:{{{service}}}:");
        Keys {
            service: service.into(),
            members: format!("{head}members").into(),
            head: head.into(),
        }
    }

    /// The service name.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// The key of the service's member set.
    pub fn members(&self) -> &str {
        &self.members
    }

    /// The key of one server's figures.
    pub fn server(&self, id: &str) -> String {
        format!("{}server:{id}", self.head)
    }
}

/// Checks a service name or prefix.
fn check_name(what: &str, name: &str) -> Result<(), Error> {
    if name.is_empty() || name.len() > MAX_NAME {
        return Err(Error::option(what, "must be 1 to 256 bytes"));
    }
    if name.contains(['{', '}']) {
        return Err(Error::option(
            what,
            "must not hold `{` or `}` (they would move the cluster hash tag)",
        ));
    }
    Ok(())
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keys")
            .field("members", &self.members)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_names_are_errors_that_name_the_option() {
        let long = "x".repeat(MAX_NAME + 1);
        for (what, bad) in [("service", ""), ("service", "a}"), ("service", &long)] {
            match Keys::new(bad) {
                Err(Error::InvalidOption { name, .. }) => assert_eq!(name, what),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
        let keys = Keys::new(&"x".repeat(MAX_NAME)).unwrap();
        assert!(matches!(
            keys.with_prefix("{p"),
            Err(Error::InvalidOption { name, .. }) if name == "prefix"
        ));
    }

    #[test]
    fn every_key_of_a_service_carries_its_hash_tag() {
        let keys = Keys::new("svc").unwrap().with_prefix("p").unwrap();
        assert_eq!(keys.service(), "svc");
        for key in [keys.members().to_owned(), keys.server("id{with}braces")] {
            assert!(key.starts_with("p:{svc}:"), "{key}");
        }
    }
}
