//! A layer-7 reverse proxy driven by a routing table.
//!
//! ```sh
//! cargo run --example http_router --features http,serde -- \
//!     --table examples/http_router.toml --demo-backends
//! curl -i localhost:8080/video/1                        # the video pool (least-loaded)
//! curl -i -H 'Accept: video/mp4' localhost:8080/        # the video pool too
//! curl -i -b 'user=alice' localhost:8080/               # the web pool: a ring keyed by the
//!                                                       # user cookie, with a sticky token
//! ```
//!
//! Each request prints the pool and server it went to. `--demo-backends` starts a backend
//! that answers with its name on every loopback address of the table; without it, the
//! table's servers must be running. Ctrl-C stops accepting and lets requests in flight end.

mod backend;
mod proxy;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use loadring::Balancer;
use loadring::route::{RouteTable, Sticky};
use tokio::net::TcpListener;

use proxy::Proxy;

const USAGE: &str = "\
usage: http_router --table FILE [--listen ADDR] [--secret HEX] [--demo-backends]

  --table FILE       the routing table, TOML (or JSON if FILE ends in .json)
  --listen ADDR      the address to serve on (default 127.0.0.1:8080)
  --secret HEX       the sticky tokens' secret, 32 hex digits (default: a random one, so
                     tokens hold until the proxy restarts); also LOADRING_STICKY_SECRET
  --demo-backends    answer on every loopback server address of the table with its name";

/// The command line.
struct Args {
    table: PathBuf,
    listen: SocketAddr,
    secret: Option<[u8; 16]>,
    demo_backends: bool,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut table = None;
    let mut listen: SocketAddr = ([127, 0, 0, 1], 8080).into();
    let mut secret = std::env::var("LOADRING_STICKY_SECRET").ok();
    let mut demo_backends = false;
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| args.next().ok_or_else(|| format!("{flag} needs a value"));
        match arg.as_str() {
            "--table" => table = Some(PathBuf::from(value("--table")?)),
            "--listen" => {
                let text = value("--listen")?;
                listen = text.parse().map_err(|_| {
                    format!("--listen: {text:?} is not an address such as 127.0.0.1:8080")
                })?;
            }
            "--secret" => secret = Some(value("--secret")?),
            "--demo-backends" => demo_backends = true,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Args {
        table: table.ok_or("--table FILE is required")?,
        listen,
        secret: secret.as_deref().map(parse_secret).transpose()?,
        demo_backends,
    })
}

/// 32 hex digits to 16 bytes.
fn parse_secret(hex: &str) -> Result<[u8; 16], String> {
    let bad = || {
        format!(
            "--secret: expected 32 hex digits, got {} characters",
            hex.len()
        )
    };
    if hex.len() != 32 || !hex.is_ascii() {
        return Err(bad());
    }
    let mut secret = [0u8; 16];
    for (byte, pair) in secret.iter_mut().zip(hex.as_bytes().chunks(2)) {
        let pair = std::str::from_utf8(pair).map_err(|_| bad())?;
        *byte = u8::from_str_radix(pair, 16).map_err(|_| bad())?;
    }
    Ok(secret)
}

/// A secret for this run only, from the standard library's per-process random keys.
fn random_secret() -> [u8; 16] {
    use std::hash::{BuildHasher, RandomState};
    let state = RandomState::new();
    let (a, b) = (state.hash_one(1u8), state.hash_one(2u8));
    let mut secret = [0u8; 16];
    secret[..8].copy_from_slice(&a.to_le_bytes());
    secret[8..].copy_from_slice(&b.to_le_bytes());
    secret
}

fn load_table(path: &PathBuf) -> Result<RouteTable, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let parsed = if path.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(&text).map_err(|e| e.to_string())
    } else {
        toml::from_str(&text).map_err(|e| e.to_string())
    };
    parsed.map_err(|e| format!("{}: {e}", path.display()))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(e) if e.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("error: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let table = load_table(&args.table)?;
    let secret = args.secret.unwrap_or_else(|| {
        println!("no --secret given: sticky tokens hold until the proxy restarts");
        random_secret()
    });
    let router = table
        .with_sticky(Sticky::new(secret))
        .build()
        .map_err(|e| format!("{}: {e}", args.table.display()))?;
    let proxy = Arc::new(Proxy::new(router).map_err(|e| e.to_string())?);
    for pool in proxy.router().pools() {
        let servers = pool.balancer().snapshot().servers().to_vec();
        let ids: Vec<&str> = servers.iter().map(|s| s.id()).collect();
        println!("pool {}: {}", pool.name(), ids.join(", "));
        if args.demo_backends {
            for server in servers.iter().filter_map(|s| s.addr()) {
                if server.ip().is_loopback() {
                    let listener = TcpListener::bind(server)
                        .await
                        .map_err(|e| format!("demo backend {server}: {e}"))?;
                    tokio::spawn(backend::serve(
                        listener,
                        format!("{} {server}", pool.name()),
                    ));
                }
            }
        }
    }
    let listener = TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    println!("routing on http://{}", args.listen);
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
        println!("shutting down");
    };
    proxy
        .serve(listener, ctrl_c)
        .await
        .map_err(|e| e.to_string())
}
