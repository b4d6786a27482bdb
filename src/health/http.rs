//! [`HttpProbe`] (feature `http-probe`): a GET on each server's address, with `ureq`.

use std::fmt;
use std::ops::RangeInclusive;
use std::time::Duration;

use crate::health::probe::address;
use crate::health::{Probe, ProbeError};
use crate::{Error, Server};

/// Passes when `GET http://{addr}{path}` answers, within the timeout, with a status in the
/// healthy range (200 to 399 unless [`with_statuses`](HttpProbe::with_statuses) says
/// otherwise). Plain HTTP/1.1, no TLS; redirects are not followed (a 3xx is an answer), no
/// proxy is used (`HTTP_PROXY` is ignored) and every probe opens a fresh connection. A
/// server without an address fails.
///
/// ```
/// use loadring::health::HttpProbe;
///
/// let probe = HttpProbe::new("/healthz")?.with_statuses(200..=299)?;
/// assert_eq!(probe.path(), "/healthz");
/// assert!(HttpProbe::new("healthz").is_err()); // a path starts with '/'
/// # Ok::<(), loadring::Error>(())
/// ```
#[derive(Clone)]
pub struct HttpProbe {
    path: String,
    statuses: RangeInclusive<u16>,
    agent: ureq::Agent,
}

impl HttpProbe {
    /// A probe that GETs `path` (such as `/healthz`, a query allowed) and passes on 200..=399.
    ///
    /// Errors: [`Error::InvalidOption`] when `path` does not start with `/` or holds a space
    /// or a control character.
    pub fn new(path: &str) -> Result<Self, Error> {
        if !path.starts_with('/') {
            return Err(Error::option("path", "must start with '/'"));
        }
        if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Error::option(
                "path",
                "must hold no space or control character",
            ));
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .max_idle_connections(0)
            .max_idle_connections_per_host(0)
            .build()
            .into();
        Ok(HttpProbe {
            path: path.to_owned(),
            statuses: 200..=399,
            agent,
        })
    }

    /// Sets the statuses that pass.
    ///
    /// Errors: [`Error::InvalidOption`] when the range is empty or leaves 100..=599.
    pub fn with_statuses(mut self, statuses: RangeInclusive<u16>) -> Result<Self, Error> {
        if statuses.is_empty() || *statuses.start() < 100 || *statuses.end() > 599 {
            return Err(Error::option(
                "statuses",
                "must be a non-empty range within 100..=599",
            ));
        }
        self.statuses = statuses;
        Ok(self)
    }

    /// The path it GETs.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The statuses that pass.
    pub fn statuses(&self) -> RangeInclusive<u16> {
        self.statuses.clone()
    }
}

impl fmt::Debug for HttpProbe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpProbe")
            .field("path", &self.path)
            .field("statuses", &self.statuses)
            .finish_non_exhaustive()
    }
}

impl Probe for HttpProbe {
    fn probe(&self, server: &Server, timeout: Duration) -> Result<(), ProbeError> {
        let url = format!("http://{}{}", address(server)?, self.path);
        let response = self
            .agent
            .get(&url)
            .config()
            .timeout_global(Some(timeout))
            .build()
            .call()?;
        let status = response.status().as_u16();
        if self.statuses.contains(&status) {
            Ok(())
        } else {
            Err(format!("GET {url} answered {status}").into())
        }
    }
}
