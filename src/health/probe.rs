//! [`Probe`]: how a health checker asks one server whether it is well, and [`TcpProbe`].

use std::net::TcpStream;
use std::time::Duration;

use crate::Server;

/// Why a probe found a server unwell: any error, so a probe can use `?` on I/O.
pub type ProbeError = Box<dyn std::error::Error + Send + Sync>;

/// Asks one server whether it is well: `Ok(())` for a pass, an error (its reason) for a
/// failure.
///
/// A [`Checker`](crate::health::Checker) calls it on a thread of its own for every server of
/// every round, with the server (for its [`addr`](Server::addr), id or metadata) and the
/// round's timeout. A probe should give up by the timeout; one that runs past it counts as
/// failed all the same, and its thread is left to finish alone (see
/// [`CheckOptions::concurrency`](crate::health::CheckOptions::concurrency)).
///
/// Closures `Fn(&Server) -> bool` are probes (`true` passes), so a service can check with the
/// client it already has.
///
/// ```
/// use loadring::Server;
/// use loadring::health::Probe;
/// use std::time::Duration;
///
/// let says_ok = |s: &Server| s.id() != "bad";
/// assert!(says_ok.probe(&Server::new("good"), Duration::from_secs(1)).is_ok());
/// assert!(says_ok.probe(&Server::new("bad"), Duration::from_secs(1)).is_err());
/// ```
pub trait Probe: Send + Sync {
    /// Checks `server`, giving up after about `timeout`.
    fn probe(&self, server: &Server, timeout: Duration) -> Result<(), ProbeError>;
}

impl<F> Probe for F
where
    F: Fn(&Server) -> bool + Send + Sync,
{
    fn probe(&self, server: &Server, _timeout: Duration) -> Result<(), ProbeError> {
        if self(server) {
            Ok(())
        } else {
            Err("the probe answered false".into())
        }
    }
}

/// Passes when a TCP connection to the server's [`addr`](Server::addr) opens within the
/// timeout (and closes it at once). A server without an address fails.
///
/// ```
/// use loadring::Server;
/// use loadring::health::{Probe, TcpProbe};
/// use std::time::Duration;
///
/// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let up = Server::from(listener.local_addr()?);
/// assert!(TcpProbe::new().probe(&up, Duration::from_secs(1)).is_ok());
/// let err = TcpProbe::new().probe(&Server::new("cache-7"), Duration::from_secs(1));
/// assert_eq!(err.unwrap_err().to_string(), "server \"cache-7\" has no address");
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct TcpProbe;

impl TcpProbe {
    /// A TCP connect probe.
    pub fn new() -> Self {
        TcpProbe
    }
}

impl Probe for TcpProbe {
    fn probe(&self, server: &Server, timeout: Duration) -> Result<(), ProbeError> {
        let addr = address(server)?;
        TcpStream::connect_timeout(&addr, timeout)?;
        Ok(())
    }
}

/// The server's address, or an error that names the server.
pub(crate) fn address(server: &Server) -> Result<std::net::SocketAddr, ProbeError> {
    server
        .addr()
        .ok_or_else(|| format!("server {:?} has no address", server.id()).into())
}
