//! The proxy: each request goes through the routing table's router to a server of its pool,
//! is forwarded there with hyper's client, and its answer streams back to the client.
//!
//! The request's lease is held until the answer has streamed (so least-loaded pools count
//! it); a backend that refuses the connection is reported to its pool's outlier detector
//! (ejected at once, back after its ejection time) and the request tries another server.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http_body_util::{Either, Full};
use hyper::body::{Body, Bytes, Frame, Incoming, SizeHint};
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use loadring::Lease;
use loadring::health::{OutlierDetector, OutlierOptions, Sweeper};
use loadring::route::{Attempts, FailoverError, Routed, Router};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// How long a backend has to accept a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Servers a request tries before it answers 502.
const ATTEMPTS: usize = 3;
/// How long connections in flight get to finish after a shutdown.
const GRACE: Duration = Duration::from_secs(10);

/// What the proxy answers with: a backend's streamed answer, or its own short one.
pub type ProxyBody = Either<Leased, Full<Bytes>>;

/// A layer-7 reverse proxy over a [`Router`].
pub struct Proxy {
    router: Router,
    /// One detector per pool, in the router's order of pools.
    outliers: Vec<Arc<OutlierDetector>>,
    _sweepers: Vec<Sweeper>,
}

impl Proxy {
    /// A proxy over `router`, with an outlier detector sweeping each pool every second: one
    /// refused connection ejects a server for 10 s (longer if it happens again), and at
    /// most half of a pool is ejected at once.
    pub fn new(router: Router) -> io::Result<Self> {
        let options = OutlierOptions::default()
            .with_consecutive_failures(1)
            .with_interval(Duration::from_secs(1))
            .with_base_ejection_time(Duration::from_secs(10))
            .with_max_ejection_percent(50)
            .with_always_eject_one(true);
        let mut outliers = Vec::new();
        let mut sweepers = Vec::new();
        for pool in router.pools() {
            let detector = Arc::new(OutlierDetector::new(options).map_err(io::Error::other)?);
            sweepers.push(detector.spawn(Arc::clone(pool.balancer()))?);
            outliers.push(detector);
        }
        Ok(Proxy {
            router,
            outliers,
            _sweepers: sweepers,
        })
    }

    /// The router, whose pools a control thread can change while requests flow.
    pub fn router(&self) -> &Router {
        &self.router
    }

    /// Serves connections from `listener` until `shutdown` completes, then lets the
    /// connections in flight finish (up to 10 s).
    pub async fn serve(
        self: Arc<Self>,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> io::Result<()> {
        let (stop, stopping) = watch::channel(());
        let mut connections = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            let (stream, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        eprintln!("accept failed: {e}");
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let proxy = Arc::clone(&self);
            let mut stopping = stopping.clone();
            connections.spawn(async move {
                let service = service_fn(move |request| Arc::clone(&proxy).handle(request, peer));
                let connection =
                    http1::Builder::new().serve_connection(TokioIo::new(stream), service);
                tokio::pin!(connection);
                let served = tokio::select! {
                    served = connection.as_mut() => served,
                    _ = stopping.changed() => {
                        connection.as_mut().graceful_shutdown();
                        connection.await
                    }
                };
                if let Err(e) = served {
                    eprintln!("connection from {peer}: {e}");
                }
            });
        }
        drop(stop);
        let drained = tokio::time::timeout(GRACE, async {
            while connections.join_next().await.is_some() {}
        });
        if drained.await.is_err() {
            eprintln!("{} connections cut after {GRACE:?}", connections.len());
        }
        Ok(())
    }

    /// One request: route it, connect (retrying other servers), forward, stream back.
    async fn handle(
        self: Arc<Self>,
        mut request: Request<Incoming>,
        peer: SocketAddr,
    ) -> Result<Response<ProxyBody>, Infallible> {
        // The client address, where the router's key extractors look for it.
        request.extensions_mut().insert(peer);
        let line = format!("{} {}", request.method(), request.uri());
        // Each server once, three at most; the lease that connects is kept for the answer.
        let mut attempts = Attempts::new(ATTEMPTS);
        let (routed, stream) = loop {
            let routed = match self.router.route_with(&request, attempts.untried()) {
                Ok(routed) => routed,
                Err(e) => {
                    return Ok(match attempts.give_up(e) {
                        FailoverError::NoServer(e) => {
                            println!("{line} -> no server: {e}");
                            answer(StatusCode::SERVICE_UNAVAILABLE, &e.to_string())
                        }
                        FailoverError::Exhausted { last, .. } => {
                            println!("{line} -> every server left failed; the last: {last}");
                            answer(StatusCode::BAD_GATEWAY, "no backend answered")
                        }
                    });
                }
            };
            match self.connect(&routed).await {
                Ok(stream) => break (routed, stream),
                Err(e) => {
                    let (pool, id) = (routed.pool.name(), routed.server().id());
                    println!("{line} -> {pool}/{id}: {e}; trying another");
                    if attempts.fail(routed.server(), e).is_err() {
                        return Ok(answer(StatusCode::BAD_GATEWAY, "no backend answered"));
                    }
                }
            }
        };
        let outliers = self.outliers_of(&routed);
        let started = outliers.start();
        let (mut sender, connection) =
            match hyper::client::conn::http1::handshake(TokioIo::new(stream)).await {
                Ok(handshake) => handshake,
                Err(e) => return Ok(self.failed(&line, &routed, &e)),
            };
        // Drives the backend connection until its answer has been read.
        tokio::spawn(connection);
        strip_hop_by_hop(request.headers_mut());
        if let Ok(forwarded) = HeaderValue::from_str(&peer.ip().to_string()) {
            request.headers_mut().append("x-forwarded-for", forwarded);
        }
        let response = match sender.send_request(request).await {
            Ok(response) => response,
            Err(e) => return Ok(self.failed(&line, &routed, &e)),
        };
        let status = response.status();
        outliers.record(
            routed.server(),
            outliers.outcome(started, !status.is_server_error()),
        );
        let token = routed.token_header();
        println!(
            "{line} -> {}/{} {}{}",
            routed.pool.name(),
            routed.server().id(),
            status.as_u16(),
            if token.is_some() {
                " (new sticky token)"
            } else {
                ""
            }
        );
        let (mut parts, body) = response.into_parts();
        strip_hop_by_hop(&mut parts.headers);
        if let Some((name, value)) = token {
            let name = HeaderName::from_bytes(name.as_bytes());
            if let (Ok(name), Ok(value)) = (name, HeaderValue::from_str(&value)) {
                parts.headers.append(name, value);
            }
        }
        let body = Leased {
            body,
            _lease: routed.lease,
        };
        Ok(Response::from_parts(parts, Either::Left(body)))
    }

    /// A connection to the routed server, or the reason there is none (then reported).
    async fn connect(&self, routed: &Routed<'_>) -> io::Result<TcpStream> {
        let outliers = self.outliers_of(routed);
        let started = outliers.start();
        let addr = routed.server().addr().ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "the server has no address")
        })?;
        let connected = match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await
        {
            Ok(connected) => connected,
            Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "connect timed out")),
        };
        if connected.is_err() {
            outliers.record(routed.server(), outliers.outcome(started, false));
        }
        connected
    }

    /// The detector of the pool a request was routed to.
    fn outliers_of(&self, routed: &Routed<'_>) -> &OutlierDetector {
        let pools = self.router.pools();
        let index = pools.iter().position(|p| std::ptr::eq(p, routed.pool));
        &self.outliers[index.unwrap_or(0)]
    }

    /// A backend that failed after the connection was made: reported, and a 502.
    fn failed(&self, line: &str, routed: &Routed<'_>, e: &hyper::Error) -> Response<ProxyBody> {
        let outliers = self.outliers_of(routed);
        outliers.record(routed.server(), outliers.outcome(outliers.start(), false));
        println!(
            "{line} -> {}/{}: {e}",
            routed.pool.name(),
            routed.server().id()
        );
        answer(StatusCode::BAD_GATEWAY, "the backend failed")
    }
}

/// The proxy's own short answer.
fn answer(status: StatusCode, text: &str) -> Response<ProxyBody> {
    let mut response = Response::new(Either::Right(Full::new(Bytes::from(format!("{text}\n")))));
    *response.status_mut() = status;
    response
}

/// Removes the headers that concern one connection only (RFC 9110, section 7.6.1): those
/// that `Connection` names, and the usual ones.
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in [
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    ] {
        headers.remove(name);
    }
}

/// A backend's answer with the lease of its request: the request counts in flight until the
/// answer has streamed to the client, or the client went away.
pub struct Leased {
    body: Incoming,
    _lease: Lease<'static>,
}

impl Body for Leased {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
