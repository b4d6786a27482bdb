//! The TCP proxy example end to end on loopback: echo backends, the proxy in-process, and
//! clients that check every byte that comes back.
//!
//! The ignored test `figures` measures the proxy beside a direct connection:
//! `cargo test --release --test tcp_proxy -- --ignored --nocapture`.

#[path = "../examples/tcp_proxy.rs"]
#[allow(dead_code)] // the example's `main`
mod tcp_proxy;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use loadring::route::ClientKey;
use loadring::{AnyBalancer, BalancerExt, Strategy};
use parking_lot::Mutex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{Semaphore, oneshot};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::{sleep, timeout};

use tcp_proxy::{Config, Proxy, Totals};

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const CLIENTS: u64 = 200;
/// Clients connected at once.
const CONCURRENCY: usize = 50;
/// The longest one client's exchange may take.
const CLIENT_TIME: Duration = Duration::from_secs(10);

/// Runs a test body, failing it instead of hanging past `limit`.
async fn bounded<F: Future<Output = ()>>(limit: Duration, body: F) {
    timeout(limit, body)
        .await
        .expect("the test ran past its time limit");
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// `len` pseudo-random bytes drawn from `seed`.
fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        out.extend_from_slice(&splitmix64(&mut state).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Client `tag`'s payload: random bytes, of a size from none to well past 64 KiB.
fn payload(tag: u64) -> Vec<u8> {
    const SIZES: [usize; 6] = [0, 1, 1_500, 16_384, 65_537, 200_000];
    random_bytes(tag, SIZES[(tag % SIZES.len() as u64) as usize])
}

/// The source address of client `tag` in the tests that key by client: 100 addresses of
/// 127/8 (all loopback on Linux), each used by two clients.
fn client_ip(tag: u64) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + (tag % 100) as u8))
}

/// A listener on a free loopback port below the usual ephemeral range (32768 and up), so
/// that no outgoing connection takes the port while a killed backend is down.
fn quiet_listener() -> TcpListener {
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let mut seed = u64::from(std::process::id()) << 32 | CALLS.fetch_add(1, Ordering::Relaxed);
    loop {
        let port = 20_000 + (splitmix64(&mut seed) % 12_000) as u16;
        if let Ok(listener) = listen((LOCALHOST, port).into()) {
            return listener;
        }
    }
}

/// A listening socket on `addr` that may take the port of a socket that just closed.
fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

/// An echo backend that records the tag (the first 8 bytes) of every connection it serves.
/// Health checks connect and send nothing: they are not recorded.
struct Echo {
    addr: SocketAddr,
    tags: Arc<Mutex<Vec<u64>>>,
    task: Option<JoinHandle<()>>,
}

impl Echo {
    fn start() -> Echo {
        let listener = quiet_listener();
        let tags = Arc::default();
        Echo {
            addr: listener.local_addr().expect("its address"),
            task: Some(tokio::spawn(serve_echo(listener, Arc::clone(&tags)))),
            tags,
        }
    }

    /// Listens again on its port (retrying while the port is still taken).
    async fn restart(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(5);
        let listener = loop {
            match listen(self.addr) {
                Ok(listener) => break listener,
                Err(e) if Instant::now() < deadline => {
                    eprintln!("rebinding {}: {e}", self.addr);
                    sleep(Duration::from_millis(20)).await;
                }
                Err(e) => panic!("cannot listen on {} again: {e}", self.addr),
            }
        };
        self.task = Some(tokio::spawn(serve_echo(listener, Arc::clone(&self.tags))));
    }

    /// Crashes the backend: its port refuses connections, and its open ones are cut.
    async fn kill(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await; // the listener and every connection are dropped
        }
    }

    fn tags(&self) -> Vec<u64> {
        self.tags.lock().clone()
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

async fn serve_echo(listener: TcpListener, tags: Arc<Mutex<Vec<u64>>>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            Ok((stream, _)) = listener.accept() => {
                connections.spawn(echo(stream, Arc::clone(&tags)));
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn echo(mut stream: TcpStream, tags: Arc<Mutex<Vec<u64>>>) -> io::Result<()> {
    let (mut from, mut to) = stream.split();
    let mut tag = [0; 8];
    if from.read_exact(&mut tag).await.is_err() {
        return Ok(()); // a health check
    }
    tags.lock().push(u64::from_le_bytes(tag));
    to.write_all(&tag).await?;
    tokio::io::copy(&mut from, &mut to).await?;
    to.shutdown().await
}

/// Sends `tag` and `payload` to `target` from `source` (an address of 127/8), closes its
/// sending half, and checks that exactly the same bytes come back.
async fn exchange(
    target: SocketAddr,
    source: Option<IpAddr>,
    tag: u64,
    payload: &[u8],
) -> io::Result<()> {
    let socket = TcpSocket::new_v4()?;
    if let Some(ip) = source {
        socket.bind((ip, 0).into())?;
    }
    let mut stream = socket.connect(target).await?;
    stream.set_nodelay(true)?;
    let (mut from, mut to) = stream.split();
    let send = async {
        to.write_all(&tag.to_le_bytes()).await?;
        to.write_all(payload).await?;
        to.shutdown().await
    };
    let receive = async {
        let mut back = Vec::with_capacity(payload.len() + 8);
        from.read_to_end(&mut back).await?;
        Ok(back)
    };
    let ((), back) = tokio::try_join!(send, receive)?;
    if back.len() < 8 || back[..8] != tag.to_le_bytes() || back[8..] != *payload {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "sent {} bytes, got {} back, not the same",
                payload.len() + 8,
                back.len()
            ),
        ));
    }
    Ok(())
}

/// Clients run with bounded concurrency, each with its own time limit.
struct Clients {
    target: SocketAddr,
    slots: Arc<Semaphore>,
    running: JoinSet<(u64, io::Result<()>)>,
}

impl Clients {
    fn new(target: SocketAddr, concurrency: usize) -> Self {
        Clients {
            target,
            slots: Arc::new(Semaphore::new(concurrency)),
            running: JoinSet::new(),
        }
    }

    /// Starts client `tag` once a slot is free.
    async fn start(&mut self, tag: u64, source: Option<IpAddr>, payload: Vec<u8>) {
        let slot = Arc::clone(&self.slots)
            .acquire_owned()
            .await
            .expect("never closed");
        let target = self.target;
        self.running.spawn(async move {
            let result = timeout(CLIENT_TIME, exchange(target, source, tag, &payload))
                .await
                .unwrap_or_else(|_| Err(io::ErrorKind::TimedOut.into()));
            drop(slot);
            (tag, result)
        });
    }

    /// Each client's tag and outcome, once all have ended.
    async fn finish(self) -> BTreeMap<u64, io::Result<()>> {
        self.running.join_all().await.into_iter().collect()
    }
}

/// Panics with the first failed client's error.
fn all_intact(results: &BTreeMap<u64, io::Result<()>>) {
    for (tag, result) in results {
        if let Err(e) = result {
            panic!("client {tag}: {e}");
        }
    }
}

/// A proxy running in-process on a task of its own.
struct Running {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<io::Result<Totals>>,
}

/// Starts the proxy as the command line would, over `backends`, with the health timings
/// of these tests: ejections of 500 ms, checks every 100 ms, no summary lines.
async fn start_proxy(strategy: &str, backends: &[SocketAddr], grace: &str) -> Running {
    let mut args = vec!["--listen", "127.0.0.1:0", "--strategy", strategy];
    let backends: Vec<String> = backends.iter().map(SocketAddr::to_string).collect();
    for backend in &backends {
        args.extend(["--backend", backend]);
    }
    args.extend(["--ejection-time", "500ms", "--check-interval", "100ms"]);
    args.extend(["--grace", grace, "--summary", "0"]);
    let config = Config::from_args(args.into_iter().map(String::from))
        .expect("valid arguments")
        .expect("not --help");
    let proxy = Proxy::bind(config).await.expect("the proxy binds");
    let addr = proxy.local_addr().expect("its address");
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(proxy.run(async {
        let _ = stopped.await;
    }));
    Running { addr, stop, task }
}

impl Running {
    /// Shuts the proxy down and returns its totals.
    async fn stop(self) -> Totals {
        let _ = self.stop.send(());
        timeout(Duration::from_secs(10), self.task)
            .await
            .expect("the proxy stops within its grace period")
            .expect("the proxy's task")
            .expect("the proxy runs")
    }
}

/// The backend (an index into `echoes`) of every client tag the echoes recorded.
fn landed(echoes: &[Echo]) -> BTreeMap<u64, usize> {
    let mut out = BTreeMap::new();
    for (i, echo) in echoes.iter().enumerate() {
        for tag in echo.tags() {
            assert!(
                out.insert(tag, i).is_none(),
                "client {tag} reached two backends"
            );
        }
    }
    out
}

fn three_echoes() -> [Echo; 3] {
    [Echo::start(), Echo::start(), Echo::start()]
}

fn addrs(echoes: &[Echo]) -> Vec<SocketAddr> {
    echoes.iter().map(|e| e.addr).collect()
}

fn strategy(name: &str) -> Strategy {
    Strategy::all()
        .into_iter()
        .find(|s| s.name() == name)
        .expect("a strategy of the crate")
}

/// 200 clients through round-robin over three backends: every byte comes back, and each
/// backend gets a third of the connections.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_robin_spreads_connections_and_every_byte_comes_back() {
    bounded(Duration::from_secs(60), async {
        let echoes = three_echoes();
        let proxy = start_proxy("round-robin", &addrs(&echoes), "2s").await;
        let mut clients = Clients::new(proxy.addr, CONCURRENCY);
        for tag in 0..CLIENTS {
            clients.start(tag, None, payload(tag)).await;
        }
        all_intact(&clients.finish().await);

        let landed = landed(&echoes);
        assert_eq!(landed.len(), CLIENTS as usize);
        for (i, echo) in echoes.iter().enumerate() {
            let n = landed.values().filter(|&&b| b == i).count();
            assert!((64..=70).contains(&n), "{} got {n} of 200", echo.addr);
        }
        let totals = proxy.stop().await;
        let sent: u64 = (0..CLIENTS).map(|t| 8 + payload(t).len() as u64).sum();
        assert_eq!((totals.accepted, totals.served), (CLIENTS, CLIENTS));
        assert_eq!(
            (totals.refused, totals.connect_failures, totals.ejections),
            (0, 0, 0)
        );
        assert_eq!((totals.bytes_up, totals.bytes_down), (sent, sent));
    })
    .await;
}

/// 200 clients from 100 addresses through a hash strategy: each address always lands on
/// the backend that the same strategy, built apart over the same backends, picks for it.
async fn clients_keep_their_backend(name: &str) {
    let echoes = three_echoes();
    let proxy = start_proxy(name, &addrs(&echoes), "2s").await;
    let mut clients = Clients::new(proxy.addr, CONCURRENCY);
    for tag in 0..CLIENTS {
        clients.start(tag, Some(client_ip(tag)), payload(tag)).await;
    }
    all_intact(&clients.finish().await);
    proxy.stop().await;

    let reference = AnyBalancer::new(strategy(name), addrs(&echoes)).expect("a balancer");
    let mut by_ip: BTreeMap<IpAddr, BTreeSet<usize>> = BTreeMap::new();
    for (tag, backend) in landed(&echoes) {
        let ip = client_ip(tag);
        by_ip.entry(ip).or_default().insert(backend);
        let expected = reference.pick(&ClientKey::new(ip)).expect("a pick").addr();
        assert_eq!(expected, Some(echoes[backend].addr), "{name}: client {ip}");
    }
    assert_eq!(by_ip.len(), 100);
    assert!(by_ip.values().all(|b| b.len() == 1), "{name}: {by_ip:?}");
    let used: BTreeSet<usize> = by_ip.values().flatten().copied().collect();
    assert_eq!(
        used.len(),
        3,
        "{name}: 100 clients spread over every backend"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ring_keeps_each_client_on_its_backend() {
    bounded(Duration::from_secs(60), clients_keep_their_backend("ring")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maglev_keeps_each_client_on_its_backend() {
    bounded(
        Duration::from_secs(60),
        clients_keep_their_backend("maglev"),
    )
    .await;
}

/// A backend killed while 200 clients run: every client that starts after the kill gets its
/// bytes back (its connect fails over to another backend); restarted on its port, the
/// backend gets connections again once its ejection time is over.
async fn survives_a_backend_kill(name: &str) {
    let mut echoes = three_echoes();
    let proxy = start_proxy(name, &addrs(&echoes), "2s").await;
    let mut clients = Clients::new(proxy.addr, CONCURRENCY);
    const KILL_AT: u64 = CLIENTS / 2;
    for tag in 0..CLIENTS {
        if tag == KILL_AT {
            echoes[1].kill().await;
        }
        clients.start(tag, Some(client_ip(tag)), payload(tag)).await;
    }
    let results = clients.finish().await;
    // Only connections open on the killed backend when it died may be lost.
    let lost: Vec<u64> = results
        .iter()
        .filter(|(_, r)| r.is_err())
        .map(|(&t, _)| t)
        .collect();
    assert!(lost.iter().all(|&t| t < KILL_AT), "{name}: lost {lost:?}");
    assert!(lost.len() <= CONCURRENCY, "{name}: lost {lost:?}");
    let landed = landed(&echoes);
    assert!(landed.iter().all(|(&tag, &b)| b != 1 || tag < KILL_AT));
    let served_after = |b: usize| {
        landed
            .iter()
            .filter(|&(&t, &l)| l == b && t >= KILL_AT)
            .count()
    };
    assert!(served_after(0) > 0 && served_after(2) > 0);

    // Back on its port: new clients reach it again once its ejection (500 ms) is over.
    echoes[1].restart().await;
    let restarted = Instant::now();
    let mut tag = CLIENTS;
    let back = loop {
        let mut clients = Clients::new(proxy.addr, 10);
        let first = tag;
        for _ in 0..10 {
            clients.start(tag, Some(client_ip(tag)), payload(tag)).await;
            tag += 1;
        }
        all_intact(&clients.finish().await);
        if echoes[1].tags().iter().any(|&t| t >= first) {
            break restarted.elapsed();
        }
        assert!(
            restarted.elapsed() < Duration::from_secs(10),
            "{name}: the restarted backend gets no connection"
        );
        sleep(Duration::from_millis(50)).await;
    };
    eprintln!("{name}: lost at the kill: {lost:?}; served again {back:?} after its restart");

    let totals = proxy.stop().await;
    assert!(
        totals.connect_failures > 0,
        "{name}: failed over: {totals:?}"
    );
    assert_eq!(totals.refused, 0, "{name}: {totals:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_robin_survives_a_backend_kill() {
    bounded(
        Duration::from_secs(60),
        survives_a_backend_kill("round-robin"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ring_survives_a_backend_kill() {
    bounded(Duration::from_secs(60), survives_a_backend_kill("ring")).await;
}

/// Shutdown stops accepting at once, lets an open connection finish within the grace
/// period, and closes one still open when the period ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_open_connections_finish_within_the_grace_period() {
    bounded(Duration::from_secs(30), async {
        let echo = Echo::start();
        let proxy = start_proxy("least-loaded", &[echo.addr], "1s").await;
        let (addr, data) = (proxy.addr, payload(5));

        // Two connections open: one half-sent, one idle.
        let mut busy = TcpStream::connect(addr).await.unwrap();
        busy.write_all(&7u64.to_le_bytes()).await.unwrap();
        busy.write_all(&data[..1000]).await.unwrap();
        let mut idle = TcpStream::connect(addr).await.unwrap();
        idle.write_all(&8u64.to_le_bytes()).await.unwrap();
        while echo.tags().len() < 2 {
            sleep(Duration::from_millis(10)).await;
        }

        let started = Instant::now();
        let _ = proxy.stop.send(());
        // New connections are refused...
        while TcpStream::connect(addr).await.is_ok() {
            sleep(Duration::from_millis(10)).await;
        }
        // ...while the open one finishes, every byte intact.
        busy.write_all(&data[1000..]).await.unwrap();
        busy.shutdown().await.unwrap();
        let mut back = Vec::new();
        busy.read_to_end(&mut back).await.unwrap();
        assert_eq!(back[..8], 7u64.to_le_bytes());
        assert!(back[8..] == data[..], "the payload came back intact");

        // The idle one is closed when the grace period ends, and the proxy returns.
        let totals = timeout(Duration::from_secs(10), proxy.task)
            .await
            .expect("the proxy stops")
            .unwrap()
            .unwrap();
        assert!(
            started.elapsed() >= Duration::from_secs(1),
            "it waited for the grace period"
        );
        let mut rest = Vec::new();
        let _ = timeout(Duration::from_secs(5), idle.read_to_end(&mut rest))
            .await
            .expect("the idle connection is closed");
        assert_eq!(rest, 8u64.to_le_bytes());
        assert!(totals.accepted >= 2 && totals.refused == 0, "{totals:?}");
    })
    .await;
}

/// Bad command lines get an error that names the problem.
#[test]
fn bad_arguments_get_clear_errors() {
    let parse = |line: &str| Config::from_args(line.split_whitespace().map(String::from));
    let error = |line: &str| parse(line).expect_err(line);
    let ok = "--listen 127.0.0.1:7000 --backend 127.0.0.1:7001";

    assert!(error("").contains("missing --listen"));
    assert!(error("--listen 127.0.0.1:7000").contains("missing --backend"));
    assert!(
        error("--listen nowhere --backend 127.0.0.1:7001")
            .contains("\"nowhere\" is not an address")
    );
    assert!(
        error(&format!("{ok} --backend localhost:80"))
            .contains("\"localhost:80\" is not an address")
    );
    assert!(error(&format!("{ok} --fast")).contains("unknown flag --fast"));
    assert!(error(&format!("{ok} stray")).contains("unexpected argument \"stray\""));
    assert!(error(&format!("{ok} --strategy")).contains("--strategy needs a value"));
    assert!(error(&format!("{ok} --listen 127.0.0.1:7002")).contains("--listen given twice"));
    assert!(error(&format!("{ok} --ejection-time 5")).contains("\"5\" is not a duration"));
    assert!(error(&format!("{ok} --check-interval 0s")).contains("must be above zero"));
    assert!(error(&format!("{ok} --grace -1s")).contains("is not a duration"));
    let unknown = error(&format!("{ok} --strategy fastest"));
    assert!(
        unknown.contains("unknown strategy \"fastest\""),
        "{unknown}"
    );
    for strategy in Strategy::all() {
        assert!(
            unknown.contains(strategy.name()),
            "{unknown} lists {}",
            strategy.name()
        );
    }

    assert!(parse("--help").unwrap().is_none());
    assert!(parse(&format!("{ok} -h")).unwrap().is_none());
    let config = parse(
        "--listen=127.0.0.1:7000 --backend 127.0.0.1:7001 --backend=[::1]:7002 \
         --strategy maglev --ejection-time 1.5s --check-interval 250ms --summary 0",
    )
    .unwrap()
    .unwrap();
    assert_eq!(config.listen, "127.0.0.1:7000".parse().unwrap());
    assert_eq!(
        config.backends,
        [
            "127.0.0.1:7001".parse().unwrap(),
            "[::1]:7002".parse().unwrap()
        ]
    );
    assert_eq!(config.strategy.name(), "maglev");
    assert_eq!(config.ejection_time, Duration::from_millis(1500));
    assert_eq!(config.check_interval, Duration::from_millis(250));
    assert_eq!(config.summary, None);
    assert_eq!(parse(ok).unwrap().unwrap().strategy.name(), "least-loaded");
}

/// A backend listed twice is refused by the strategy, with the backend named.
#[tokio::test]
async fn a_duplicate_backend_is_an_error() {
    let line = "--listen 127.0.0.1:0 --backend 127.0.0.1:7001 --backend 127.0.0.1:7001";
    let config = Config::from_args(line.split_whitespace().map(String::from))
        .unwrap()
        .unwrap();
    let error = Proxy::bind(config)
        .await
        .expect_err("a duplicate")
        .to_string();
    assert!(error.contains("127.0.0.1:7001"), "{error}");
}

/// A random block that long streams repeat.
const BLOCK: usize = 1 << 20;

/// Streams `len` bytes of `block` (repeated) to `target` and back, checking every byte.
async fn stream(target: SocketAddr, block: Arc<Vec<u8>>, len: usize) -> io::Result<()> {
    let mut stream = TcpStream::connect(target).await?;
    stream.set_nodelay(true)?;
    let (mut from, mut to) = stream.split();
    let send = async {
        to.write_all(&0u64.to_le_bytes()).await?;
        let mut left = len;
        while left > 0 {
            let n = left.min(BLOCK);
            to.write_all(&block[..n]).await?;
            left -= n;
        }
        to.shutdown().await
    };
    let receive = async {
        let mut tag = [0; 8];
        from.read_exact(&mut tag).await?;
        let (mut buf, mut at) = (vec![0; 1 << 16], 0);
        loop {
            let n = from.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            let mut i = 0;
            while i < n {
                let offset = (at + i) % BLOCK;
                let run = (n - i).min(BLOCK - offset);
                if buf[i..i + run] != block[offset..offset + run] {
                    return Err(io::Error::new(io::ErrorKind::InvalidData, "a byte changed"));
                }
                i += run;
            }
            at += n;
        }
        if at == len {
            Ok(())
        } else {
            Err(io::ErrorKind::UnexpectedEof.into())
        }
    };
    tokio::try_join!(send, receive).map(|_| ())
}

/// The median of some figures.
fn median(mut figures: Vec<f64>) -> f64 {
    figures.sort_by(f64::total_cmp);
    figures[figures.len() / 2]
}

/// Connections per second and throughput through the proxy beside a direct connection to
/// the same echo backend, interleaved in one run; every byte checked. Figures are printed,
/// never asserted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measures; run with --release -- --ignored --nocapture"]
async fn figures() {
    const ROUNDS: usize = 5;
    const CONNECTIONS: u64 = 2_000;
    const CONNECTION_CONCURRENCY: usize = 16;
    const SMALL: usize = 64;
    let echo = Echo::start();
    let proxy = start_proxy("least-loaded", &[echo.addr], "2s").await;
    let targets = [("direct", echo.addr), ("proxy", proxy.addr)];
    let block = Arc::new(random_bytes(42, BLOCK));
    let streams: [(usize, usize); 2] = [(1, 256 << 20), (4, 64 << 20)];

    let mut rates: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut speeds: BTreeMap<(&str, usize), Vec<f64>> = BTreeMap::new();
    for _ in 0..ROUNDS {
        for (label, target) in targets {
            let started = Instant::now();
            let mut clients = Clients::new(target, CONNECTION_CONCURRENCY);
            for tag in 0..CONNECTIONS {
                clients.start(tag, None, random_bytes(tag, SMALL)).await;
            }
            all_intact(&clients.finish().await);
            let rate = CONNECTIONS as f64 / started.elapsed().as_secs_f64();
            rates.entry(label).or_default().push(rate);

            for (count, len) in streams {
                let started = Instant::now();
                let mut running = JoinSet::new();
                for _ in 0..count {
                    running.spawn(stream(target, Arc::clone(&block), len));
                }
                for result in running.join_all().await {
                    result.expect("every byte intact");
                }
                let mb = (count * len) as f64 / 1e6 / started.elapsed().as_secs_f64();
                speeds.entry((label, count)).or_default().push(mb);
            }
        }
    }
    let totals = proxy.stop().await;

    println!("loopback, {ROUNDS} interleaved rounds, medians; every byte checked");
    let (direct, proxied) = (
        median(rates["direct"].clone()),
        median(rates["proxy"].clone()),
    );
    println!(
        "connections/s ({CONNECTIONS} x {SMALL} B echo, {CONNECTION_CONCURRENCY} at a time): \
         direct {direct:.0}, proxy {proxied:.0} ({:.2}x)",
        proxied / direct
    );
    for (count, len) in streams {
        let direct = median(speeds[&("direct", count)].clone());
        let proxied = median(speeds[&("proxy", count)].clone());
        println!(
            "throughput ({count} stream(s) x {} MiB echoed, MB/s one way): direct {direct:.0}, \
             proxy {proxied:.0} ({:.2}x)",
            len >> 20,
            proxied / direct
        );
    }
    println!("proxy: {totals}");
}
