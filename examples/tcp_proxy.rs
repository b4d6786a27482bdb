//! A TCP proxy that picks a backend for each connection with any loadring strategy.
//!
//! ```sh
//! cargo run --release --example tcp_proxy -- --listen 127.0.0.1:7000 \
//!     --backend 127.0.0.1:7001 --backend 127.0.0.1:7002 --backend 127.0.0.1:7003 \
//!     --strategy ring
//! ```
//!
//! Each connection goes to the backend its strategy picks: hash strategies key by the
//! client's address ([`ClientKey`], without the port, so a client keeps its backend), the
//! others spread connections. A connection holds a lease on its backend for its whole life,
//! so least-loaded and bounded loads count it. A backend that refuses connections is
//! reported to an [`OutlierDetector`], which ejects it after two failures in a row for the
//! ejection time (longer each time it is ejected again; at most half the backends at once),
//! and the connection is tried on the next candidate ([`Failover`]); a
//! [`Checker`] probes every backend with TCP connects, so one that stays down is marked
//! down and one that comes back is marked up. Ctrl-C stops accepting and lets open
//! connections finish within a grace period.
//!
//! The integration test `tests/tcp_proxy.rs` runs this proxy in-process through
//! [`Proxy::bind`] and [`Proxy::run`], and measures it (`cargo test --release --test
//! tcp_proxy -- --ignored --nocapture`).

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use loadring::health::{
    CheckOptions, Checker, CheckerHandle, OutlierDetector, OutlierOptions, TcpProbe,
};
use loadring::route::{ClientKey, Failover, FailoverError};
use loadring::{AnyBalancer, Balancer, LeastLoadedOptions, Server, Strategy};
use parking_lot::Mutex;
use tokio::io::copy_bidirectional_with_sizes;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio::time::{Instant, MissedTickBehavior, timeout};

const USAGE: &str = "\
usage: tcp_proxy --listen ADDR --backend ADDR [--backend ADDR ...] [options]

  --listen ADDR           the address to accept connections on (IP:port)
  --backend ADDR          a backend (IP:port); repeat for each backend
  --strategy NAME         how to pick a backend (default least-loaded); hash strategies
                          key by the client's address
  --ejection-time DUR     how long a backend that refuses connections stays out (default 5s)
  --check-interval DUR    the time between TCP health checks (default 2s)
  --connect-timeout DUR   how long a connect to a backend may take (default 1s)
  --grace DUR             how long open connections may run after Ctrl-C (default 10s)
  --summary DUR           the time between summary lines, 0 for none (default 5s)
  -h, --help              this text

DUR is a number with a unit: 500ms, 2s, 1.5s.
";

/// The proxy's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// The address to accept connections on.
    pub listen: SocketAddr,
    /// The backends, each its own address.
    pub backends: Vec<SocketAddr>,
    /// The strategy that picks a backend for each connection.
    pub strategy: Strategy,
    /// How long a backend is ejected after failed connects (Envoy's base ejection time).
    pub ejection_time: Duration,
    /// The time between rounds of TCP health checks.
    pub check_interval: Duration,
    /// How long a connect to a backend (or a health check) may take.
    pub connect_timeout: Duration,
    /// How long open connections may run once shutdown starts.
    pub grace: Duration,
    /// The time between summary lines; `None` prints none.
    pub summary: Option<Duration>,
}

impl Config {
    /// Settings with the defaults of the command line.
    pub fn new(listen: SocketAddr, backends: Vec<SocketAddr>) -> Self {
        Config {
            listen,
            backends,
            strategy: Strategy::LeastLoaded(LeastLoadedOptions::default()),
            ejection_time: Duration::from_secs(5),
            check_interval: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(1),
            grace: Duration::from_secs(10),
            summary: Some(Duration::from_secs(5)),
        }
    }

    /// Reads the command line (without the program name); `Ok(None)` asks for the usage text.
    pub fn from_args<I: IntoIterator<Item = String>>(args: I) -> Result<Option<Self>, String> {
        let mut listen = None;
        let mut backends = Vec::new();
        let mut config = Config::new(SocketAddr::from(([0, 0, 0, 0], 0)), Vec::new());
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            if arg == "-h" || arg == "--help" {
                return Ok(None);
            }
            let (flag, mut inline) = match arg.split_once('=') {
                Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_owned())),
                _ => (arg.as_str(), None),
            };
            if !flag.starts_with('-') {
                return Err(format!("unexpected argument {flag:?}"));
            }
            let mut value = || {
                inline
                    .take()
                    .or_else(|| args.next())
                    .ok_or_else(|| format!("{flag} needs a value"))
            };
            match flag {
                "--listen" => {
                    if listen.replace(address(flag, &value()?)?).is_some() {
                        return Err("--listen given twice".into());
                    }
                }
                "--backend" => backends.push(address(flag, &value()?)?),
                "--strategy" => config.strategy = strategy(&value()?)?,
                "--ejection-time" => config.ejection_time = positive(flag, &value()?)?,
                "--check-interval" => config.check_interval = positive(flag, &value()?)?,
                "--connect-timeout" => config.connect_timeout = positive(flag, &value()?)?,
                "--grace" => config.grace = duration(flag, &value()?)?,
                "--summary" => {
                    config.summary = Some(duration(flag, &value()?)?).filter(|d| !d.is_zero());
                }
                _ => return Err(format!("unknown flag {flag}")),
            }
        }
        config.listen = listen.ok_or("missing --listen ADDR")?;
        if backends.is_empty() {
            return Err("missing --backend ADDR (at least one)".into());
        }
        config.backends = backends;
        Ok(Some(config))
    }
}

fn address(flag: &str, value: &str) -> Result<SocketAddr, String> {
    value.parse().map_err(|_| {
        format!("{flag}: {value:?} is not an address (IP:port, such as 127.0.0.1:7001)")
    })
}

/// The strategy named `name`, with its default options.
fn strategy(name: &str) -> Result<Strategy, String> {
    let all = Strategy::all();
    all.iter()
        .find(|s| s.name() == name)
        .copied()
        .ok_or_else(|| {
            let known: Vec<&str> = all.iter().map(Strategy::name).collect();
            format!("unknown strategy {name:?}; known: {}", known.join(", "))
        })
}

/// A duration written with its unit: `500ms`, `2s`, `1.5s`.
fn duration(flag: &str, value: &str) -> Result<Duration, String> {
    let bad = || format!("{flag}: {value:?} is not a duration (such as 500ms or 2s)");
    let (number, unit) = if let Some(ms) = value.strip_suffix("ms") {
        (ms, 1e-3)
    } else if let Some(s) = value.strip_suffix('s') {
        (s, 1.0)
    } else if value == "0" {
        ("0", 1.0)
    } else {
        return Err(bad());
    };
    let number: f64 = number.parse().map_err(|_| bad())?;
    Duration::try_from_secs_f64(number * unit).map_err(|_| bad())
}

fn positive(flag: &str, value: &str) -> Result<Duration, String> {
    match duration(flag, value)? {
        d if d.is_zero() => Err(format!("{flag} must be above zero")),
        d => Ok(d),
    }
}

/// What the proxy has done, counted as it runs.
#[derive(Debug, Default)]
struct Counters {
    accepted: AtomicU64,
    served: AtomicU64,
    refused: AtomicU64,
    connect_failures: AtomicU64,
    bytes_up: AtomicU64,
    bytes_down: AtomicU64,
}

/// What the proxy did: its counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Connections accepted from clients.
    pub accepted: u64,
    /// Connections forwarded to a backend and ended.
    pub served: u64,
    /// Connections closed at once because no backend could be reached.
    pub refused: u64,
    /// Connects to a backend that failed (each retried on another while the budget lasted).
    pub connect_failures: u64,
    /// Bytes from clients to backends.
    pub bytes_up: u64,
    /// Bytes from backends to clients.
    pub bytes_down: u64,
    /// Backends ejected for failed connects (a backend ejected twice counts twice).
    pub ejections: u64,
}

impl Counters {
    fn totals(&self, outliers: &OutlierDetector) -> Totals {
        let read = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Totals {
            accepted: read(&self.accepted),
            served: read(&self.served),
            refused: read(&self.refused),
            connect_failures: read(&self.connect_failures),
            bytes_up: read(&self.bytes_up),
            bytes_down: read(&self.bytes_down),
            ejections: outliers.stats().ejections,
        }
    }
}

impl fmt::Display for Totals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} connections ({} served, {} refused), {} failed connects, {} ejections, \
             {:.1} MB up, {:.1} MB down",
            self.accepted,
            self.served,
            self.refused,
            self.connect_failures,
            self.ejections,
            self.bytes_up as f64 / 1e6,
            self.bytes_down as f64 / 1e6
        )
    }
}

/// A proxy bound to its address, ready to [`run`](Proxy::run).
#[derive(Debug)]
pub struct Proxy {
    listener: TcpListener,
    config: Config,
    forwarder: Forwarder,
}

impl Proxy {
    /// Builds the strategy over the backends and binds the listening address.
    ///
    /// Errors: a strategy that rejects the backends (a duplicate, say), or the bind's.
    pub async fn bind(config: Config) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let fleet = AnyBalancer::new(config.strategy, config.backends.iter().copied())?;
        // Suited to a proxy: a backend that refuses two connects in a row is out for the
        // ejection time (longer if it fails again when back), and one of three may be out.
        let outliers = OutlierOptions::default()
            .with_consecutive_failures(2)
            .with_max_ejection_percent(50)
            .with_base_ejection_time(config.ejection_time)
            .with_interval(
                (config.ejection_time / 4).clamp(Duration::from_millis(1), Duration::from_secs(1)),
            );
        let forwarder = Forwarder {
            fleet: Arc::new(fleet),
            outliers: Arc::new(OutlierDetector::new(outliers)?),
            counters: Arc::default(),
            connect_timeout: config.connect_timeout,
        };
        let listener = TcpListener::bind(config.listen).await?;
        Ok(Proxy {
            listener,
            config,
            forwarder,
        })
    }

    /// The address the proxy accepts connections on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Forwards connections until `shutdown` completes, then stops accepting, lets open
    /// connections finish within the grace period (closing those still open after it), and
    /// stops the health checks. Returns what it did.
    ///
    /// Errors: the checker's or the sweeper's thread could not start.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> io::Result<Totals> {
        let Proxy {
            listener,
            config,
            forwarder,
        } = self;
        let (fleet, outliers) = (&forwarder.fleet, &forwarder.outliers);
        let checks = CheckOptions::default()
            .with_interval(config.check_interval)
            .with_timeout(config.connect_timeout)
            .with_rise(2)
            .with_fall(2);
        let checker = Checker::with_options(TcpProbe::new(), checks)
            .map_err(io::Error::other)?
            .spawn(Arc::clone(fleet))?;
        let sweeper = outliers.spawn(Arc::clone(fleet))?;

        let period = config.summary.unwrap_or(Duration::from_secs(3600));
        let mut summary = tokio::time::interval_at(Instant::now() + period, period);
        summary.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut shown = Totals::default();
        let mut sessions = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok((client, peer)) => {
                        forwarder.counters.accepted.fetch_add(1, Ordering::Relaxed);
                        sessions.spawn(forwarder.clone().serve(client, peer));
                    }
                    Err(e) => {
                        // Out of file descriptors, say: wait a little rather than spin.
                        eprintln!("accept: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                },
                Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
                _ = summary.tick(), if config.summary.is_some() => {
                    let now = forwarder.totals();
                    if now != shown {
                        println!("{now}; {}", forwarder.backends(&checker));
                        shown = now;
                    }
                }
            }
        }

        drop(listener);
        let open = sessions.len();
        let drained = timeout(config.grace, async {
            while sessions.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            eprintln!(
                "closing {} of {open} connections still open after the grace period",
                sessions.len()
            );
            sessions.shutdown().await;
        }
        // Stopping the threads waits for a round of checks in progress: off the runtime.
        tokio::task::spawn_blocking(move || drop((checker, sweeper)))
            .await
            .map_err(io::Error::other)?;
        Ok(forwarder.totals())
    }
}

/// What every connection shares: the backends, their outlier detector, the counters.
#[derive(Debug, Clone)]
struct Forwarder {
    fleet: Arc<AnyBalancer>,
    outliers: Arc<OutlierDetector>,
    counters: Arc<Counters>,
    connect_timeout: Duration,
}

impl Forwarder {
    fn totals(&self) -> Totals {
        self.counters.totals(&self.outliers)
    }

    /// Each backend's state, for the summary line.
    fn backends(&self, checker: &CheckerHandle) -> String {
        let state = |s: &Server| {
            let failing = checker.checker().status(s.id()).is_some_and(|c| c.failing);
            match (self.outliers.is_ejected(s), failing) {
                (true, _) => "ejected".to_owned(),
                (false, true) => "down".to_owned(),
                (false, false) => format!("{} open", s.in_flight()),
            }
        };
        let all: Vec<String> = self
            .fleet
            .servers()
            .iter()
            .map(|s| format!("{} {}", s.id(), state(s)))
            .collect();
        all.join(", ")
    }

    /// Connects the client to a backend (the strategy's candidates in turn, each failure
    /// reported) and copies both ways until both sides are done.
    async fn serve(self, client: TcpStream, peer: SocketAddr) {
        let (counters, limit) = (&*self.counters, self.connect_timeout);
        let failover = Failover::new(&*self.fleet)
            .attempts(self.fleet.len())
            .report_to(&*self.outliers);
        // The attempt that connects takes the client. Each attempt's lease on its backend
        // lasts until its future ends, so the one that connects counts the whole connection,
        // and reports its success (with the connection's length as its latency) at the end.
        let client = Mutex::new(Some(client));
        let served = failover
            .call(&ClientKey::of(peer), |backend| {
                let client = &client;
                async move {
                    let upstream = connect(&backend, limit).await.inspect_err(|_| {
                        counters.connect_failures.fetch_add(1, Ordering::Relaxed);
                    })?;
                    let Some(client) = client.lock().take() else {
                        unreachable!("only the first attempt that connects runs on")
                    };
                    forward(client, upstream, counters).await;
                    Ok::<_, io::Error>(())
                }
            })
            .await;
        match served {
            Ok(_) => counters.served.fetch_add(1, Ordering::Relaxed),
            Err(FailoverError::NoServer(e)) => {
                eprintln!("{peer}: no backend to try ({e})");
                counters.refused.fetch_add(1, Ordering::Relaxed)
            }
            Err(FailoverError::Exhausted { attempts, last }) => {
                eprintln!("{peer}: {attempts} backends failed; the last: {last}");
                counters.refused.fetch_add(1, Ordering::Relaxed)
            }
        };
    }
}

/// Opens a connection to `backend` within `limit`.
async fn connect(backend: &Server, limit: Duration) -> io::Result<TcpStream> {
    let addr = backend
        .addr()
        .ok_or_else(|| io::Error::other(format!("backend {} has no address", backend.id())))?;
    let stream = timeout(limit, TcpStream::connect(addr))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, format!("connect to {addr}")))??;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Copies both ways until each side has closed its half, through buffers of 64 KiB (with
/// tokio's default of 8 KiB, long streams ran about 30 % slower on loopback); counts the
/// bytes.
async fn forward(mut client: TcpStream, mut upstream: TcpStream, counters: &Counters) {
    const BUFFER: usize = 64 << 10;
    client.set_nodelay(true).ok();
    let copied = copy_bidirectional_with_sizes(&mut client, &mut upstream, BUFFER, BUFFER).await;
    if let Ok((up, down)) = copied {
        counters.bytes_up.fetch_add(up, Ordering::Relaxed);
        counters.bytes_down.fetch_add(down, Ordering::Relaxed);
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let config = match Config::from_args(std::env::args().skip(1)) {
        Ok(Some(config)) => config,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprint!("tcp_proxy: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let (strategy, count) = (config.strategy.name(), config.backends.len());
    let proxy = match Proxy::bind(config).await {
        Ok(proxy) => proxy,
        Err(e) => {
            eprintln!("tcp_proxy: {e}");
            return ExitCode::FAILURE;
        }
    };
    match proxy.local_addr() {
        Ok(addr) => println!("listening on {addr}: {count} backends, {strategy}; Ctrl-C stops"),
        Err(e) => eprintln!("tcp_proxy: {e}"),
    }
    let shutdown = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            eprintln!("tcp_proxy: cannot watch for Ctrl-C ({e}); stop the process to end it");
            std::future::pending::<()>().await;
        }
        println!("shutting down");
    };
    match proxy.run(shutdown).await {
        Ok(totals) => {
            println!("{totals}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tcp_proxy: {e}");
            ExitCode::FAILURE
        }
    }
}
