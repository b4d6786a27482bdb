//! Compares every strategy of the crate on one fleet and one key set: pick latency, build
//! time, memory, balance, and how many keys move when a server leaves, joins or fails.
//!
//! ```sh
//! cargo run --release --example compare                       # 100 servers, 1 M generated ids
//! cargo run --release --example compare -- --servers 1000 --weights 1,2,4 --format markdown
//! cargo run --release --example compare -- --keys ids.txt --svg report.svg
//! ```
//!
//! Memory is measured by a counting global allocator: the heap bytes a strategy holds after
//! its constructor returns, beyond the servers it was given. Implementing an allocator takes `unsafe`; it only forwards
//! to the system allocator.

mod metrics;
mod svg;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::HashMap;
use std::hint::black_box;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use loadring::{
    Balancer, BalancerExt, BoundedLoad, Error, FillFirst, HashRing, Jump, LeastLoaded, Maglev,
    Modulo, Rebuild, Rendezvous, RoundRobin, Server,
};

/// Counts the bytes this thread has on the heap, to measure what a strategy keeps.
struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

fn count(delta: isize) {
    // `try_with`: a thread being torn down has no counter left, and needs none.
    let _ = LIVE.try_with(|live| live.set(live.get() + delta));
}

/// Heap bytes allocated and not freed by this thread so far.
fn live_bytes() -> isize {
    LIVE.with(Cell::get)
}

// SAFETY: every call forwards to `System` with the same arguments; only a counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as isize));
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size as isize - layout.size() as isize);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const HELP: &str = "\
Compare loadring's strategies on one fleet and one key set.

USAGE:
    cargo run --release --example compare -- [OPTIONS]

Strategies: modulo, ring, jump, maglev, rendezvous, bounded, ketama (when built with
`--features ketama`), and the key-free round-robin, least-loaded and fill-first.

OPTIONS:
    --servers N        servers in the fleet (default 100)
    --weights LIST     comma-separated weights, repeated over the servers (default 1)
    --keys FILE        read request ids from FILE, one per line (default: generated ids)
    --count N          how many ids to generate when no FILE is given (default 1000000)
    --passes N         timed passes over the keys; the median is reported (default 5)
    --only LIST        comma-separated strategy names to run (default: all)
    --format FORMAT    table, markdown, csv or json (default table)
    --svg FILE         also write charts: load per server, and keys moved
    -h, --help         print this help

COLUMNS:
    build       time to build the strategy over the fleet (median of 3)
    pick        time per pick, hashing included (median of the passes)
    memory      heap bytes the built strategy holds beyond the servers it was given
    peak/mean   the busiest server's requests over what its weight asks for (for bounded
                loads, least-loaded and fill-first, with every key's lease held at once;
                fill-first has room for twice the mean, so it fills half the fleet)
    cv          coefficient of variation of that ratio over the servers
    share err   the largest distance of a server's share from its weight's share
    removed     keys moved when the middle server of the list is removed by the strategy's
                own update (ideal, in brackets: the share it held)
    added       keys moved when one server joins (ideal: 1/(n+1) of them)
    unhealthy   keys moved when the middle server is marked unhealthy (ideal: its share)
    restored    whether every key came back when it recovered
";

#[derive(Debug, Clone, PartialEq)]
enum Format {
    Table,
    Markdown,
    Csv,
    Json,
}

#[derive(Debug, Clone, PartialEq)]
struct Options {
    servers: usize,
    weights: Vec<u32>,
    keys: Option<PathBuf>,
    count: usize,
    passes: usize,
    only: Option<Vec<String>>,
    format: Format,
    svg: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            servers: 100,
            weights: vec![1],
            keys: None,
            count: 1_000_000,
            passes: 5,
            only: None,
            format: Format::Table,
            svg: None,
        }
    }
}

/// Parses the command line; `Ok(None)` asks for the help text.
fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Option<Options>, String> {
    fn number(flag: &str, v: &str, min: usize) -> Result<usize, String> {
        let n = v
            .parse::<usize>()
            .map_err(|_| format!("{flag} takes a whole number, not {v:?}"))?;
        if n < min {
            return Err(format!("{flag} must be at least {min}"));
        }
        Ok(n)
    }
    let mut o = Options::default();
    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        if flag == "-h" || flag == "--help" {
            return Ok(None);
        }
        let value = args
            .next()
            .ok_or_else(|| format!("{flag} needs a value (see --help)"))?;
        match flag.as_str() {
            "--servers" => o.servers = number(&flag, &value, 2)?,
            "--count" => o.count = number(&flag, &value, 1)?,
            "--passes" => o.passes = number(&flag, &value, 1)?,
            "--keys" => o.keys = Some(PathBuf::from(value)),
            "--svg" => o.svg = Some(PathBuf::from(value)),
            "--only" => o.only = Some(value.split(',').map(str::to_owned).collect()),
            "--weights" => {
                o.weights = value
                    .split(',')
                    .map(|w| match w.trim().parse::<u32>() {
                        Ok(0) | Err(_) => Err(format!("--weights takes numbers from 1, not {w:?}")),
                        Ok(w) => Ok(w),
                    })
                    .collect::<Result<_, _>>()?
            }
            "--format" => {
                o.format = match value.as_str() {
                    "table" => Format::Table,
                    "markdown" => Format::Markdown,
                    "csv" => Format::Csv,
                    "json" => Format::Json,
                    other => {
                        return Err(format!(
                            "unknown format {other:?} (table, markdown, csv, json)"
                        ));
                    }
                }
            }
            other => return Err(format!("unknown option {other:?} (see --help)")),
        }
    }
    Ok(Some(o))
}

/// A change of membership, applied with the strategy's own update where it has one.
#[derive(Debug, Clone)]
enum Change {
    None,
    Remove(String),
    Add(Server),
}

/// Builds a strategy over servers, then applies a change to it.
type Build = fn(Vec<Server>, &Change) -> Result<Box<dyn Balancer>, Error>;

/// Builds a strategy that counts requests in flight, sends every key while holding all their
/// leases, and returns where each went (global indices).
type Held = fn(Vec<Server>, &Fleet, &[String]) -> Result<Vec<u32>, Error>;

/// A strategy in the report.
struct Strategy {
    name: &'static str,
    /// Whether it maps keys (and so has disruption figures).
    keyed: bool,
    build: Build,
    /// For strategies that balance by requests in flight: the balance is measured with
    /// every key's lease held, as if all requests were running at once.
    held: Option<Held>,
}

/// `built` after `change`, through [`Rebuild`].
fn changed<B: Rebuild + 'static>(
    built: Result<B, Error>,
    change: &Change,
) -> Result<Box<dyn Balancer>, Error> {
    let mut b = built?;
    match change {
        Change::None => {}
        Change::Remove(id) => drop(b.remove(id)?),
        Change::Add(server) => b.add(server.clone())?,
    }
    Ok(Box::new(b))
}

fn keyed(name: &'static str, build: Build) -> Strategy {
    Strategy {
        name,
        keyed: true,
        build,
        held: None,
    }
}

fn picker(name: &'static str, build: Build, held: Option<Held>) -> Strategy {
    Strategy {
        name,
        keyed: false,
        build,
        held,
    }
}

/// Where `keys` go while all their leases are held (`acquire` takes one lease).
fn hold_all<L: std::ops::Deref<Target = Server>>(
    fleet: &Fleet,
    keys: &[String],
    mut acquire: impl FnMut(&str) -> Result<L, Error>,
) -> Result<Vec<u32>, Error> {
    let leases = keys
        .iter()
        .map(|k| acquire(k))
        .collect::<Result<Vec<L>, Error>>()?;
    Ok(leases.iter().map(|l| fleet.index[l.id()]).collect())
}

fn strategies() -> Vec<Strategy> {
    let mut all = vec![
        keyed("modulo", |s, c| changed(Modulo::new(s), c)),
        keyed("ring", |s, c| changed(HashRing::new(s), c)),
        keyed("jump", |s, c| changed(Jump::new(s), c)),
        keyed("maglev", |s, c| changed(Maglev::new(s), c)),
        keyed("rendezvous", |s, c| changed(Rendezvous::new(s), c)),
        Strategy {
            held: Some(|servers, fleet, keys| {
                let b = BoundedLoad::new(servers)?;
                hold_all(fleet, keys, |k| b.acquire(k))
            }),
            ..keyed("bounded", |s, c| {
                let mut b = BoundedLoad::new(s)?;
                match c {
                    Change::None => {}
                    Change::Remove(id) => drop(b.remove(id)?),
                    Change::Add(server) => b.add(server.clone())?,
                }
                Ok(Box::new(b))
            })
        },
    ];
    all.extend(ketama());
    all.extend([
        picker("round-robin", |s, c| changed(RoundRobin::new(s), c), None),
        picker(
            "least-loaded",
            |s, c| changed(LeastLoaded::with_seed(s, 7), c),
            Some(|servers, fleet, keys| {
                let b = LeastLoaded::with_seed(servers, 7)?;
                hold_all(fleet, keys, |_| b.acquire())
            }),
        ),
        picker(
            "fill-first",
            |s, c| {
                changed(
                    FillFirst::new(s.into_iter().map(|s| s.with_capacity(u64::MAX))),
                    c,
                )
            },
            Some(|servers, fleet, keys| {
                // Room for twice the mean: the first half of the fleet takes everything.
                let cap = (2 * keys.len()).div_ceil(servers.len()) as u64;
                let b = FillFirst::new(servers.into_iter().map(|s| s.with_capacity(cap)))?;
                hold_all(fleet, keys, |_| b.acquire())
            }),
        ),
    ]);
    all
}
/// The libketama-compatible ring, when the crate is built with the `ketama` feature.
fn ketama() -> Option<Strategy> {
    #[cfg(feature = "ketama")]
    return Some(keyed("ketama", |s, c| {
        changed(loadring::KetamaRing::new(s), c)
    }));
    #[cfg(not(feature = "ketama"))]
    None
}

/// One line of the report.
#[derive(Debug, Clone, serde::Serialize)]
struct Row {
    strategy: &'static str,
    build_us: f64,
    pick_ns: f64,
    memory_bytes: i64,
    peak_to_mean: f64,
    cv: f64,
    worst_share_error: f64,
    moved_on_remove: Option<f64>,
    ideal_on_remove: Option<f64>,
    moved_on_add: Option<f64>,
    moved_on_unhealthy: Option<f64>,
    restored: Option<bool>,
    /// Requests per server, in fleet order.
    counts: Vec<u64>,
}

/// The fleet's ids: `10.0.x.y:8080`.
fn fleet_ids(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("10.{}.{}.{}:8080", i >> 16, (i >> 8) & 255, i & 255))
        .collect()
}

const JOINING: &str = "10.255.255.254:8080";

struct Fleet {
    ids: Vec<String>,
    weights: Vec<u32>,
    /// Global index of every id, the joining one included.
    index: HashMap<String, u32>,
}

impl Fleet {
    fn new(n: usize, pattern: &[u32]) -> Self {
        let ids = fleet_ids(n);
        let weights = (0..n).map(|i| pattern[i % pattern.len()]).collect();
        let index = ids
            .iter()
            .map(String::as_str)
            .chain([JOINING])
            .enumerate()
            .map(|(i, id)| (id.to_owned(), i as u32))
            .collect();
        Fleet {
            ids,
            weights,
            index,
        }
    }

    /// Fresh servers, with cells of their own.
    fn servers(&self) -> Vec<Server> {
        self.ids
            .iter()
            .zip(&self.weights)
            .map(|(id, &w)| Server::new(id.as_str()).with_weight(w))
            .collect()
    }

    /// Which server (global index) each key goes to.
    fn assign(&self, b: &dyn Balancer, keys: &[String]) -> Result<Vec<u32>, Error> {
        keys.iter()
            .map(|k| b.pick(k.as_str()).map(|s| self.index[s.id()]))
            .collect()
    }
}

fn measure(s: &Strategy, fleet: &Fleet, keys: &[String], passes: usize) -> Result<Row, Error> {
    let mut builds = Vec::new();
    let mut memory = 0;
    for _ in 0..3 {
        let servers = fleet.servers();
        let live = live_bytes();
        let t = Instant::now();
        let b = (s.build)(servers, &Change::None)?;
        builds.push(t.elapsed().as_secs_f64() * 1e6);
        memory = (live_bytes() - live) as i64;
        drop(b);
    }
    let b = (s.build)(fleet.servers(), &Change::None)?;
    let mut times: Vec<f64> = (0..passes)
        .map(|_| {
            let t = Instant::now();
            if s.keyed {
                for k in keys {
                    let _ = black_box(b.pick(black_box(k.as_str())));
                }
            } else {
                // Key-free pickers: no key to hash.
                for _ in keys {
                    let _ = black_box(b.pick_hash(black_box(0)));
                }
            }
            t.elapsed().as_secs_f64() * 1e9 / keys.len() as f64
        })
        .collect();
    let before = fleet.assign(b.as_ref(), keys)?;
    let placed = match s.held {
        Some(held) => held(fleet.servers(), fleet, keys)?,
        None => before.clone(),
    };
    let mut counts = vec![0u64; fleet.ids.len()];
    for &i in &placed {
        counts[i as usize] += 1;
    }
    let bal = metrics::balance(&counts, &fleet.weights).expect("keys and servers");
    let mut row = Row {
        strategy: s.name,
        build_us: metrics::median(&mut builds),
        pick_ns: metrics::median(&mut times),
        memory_bytes: memory,
        peak_to_mean: bal.peak_to_mean,
        cv: bal.cv,
        worst_share_error: bal.worst_share_error,
        moved_on_remove: None,
        ideal_on_remove: None,
        moved_on_add: None,
        moved_on_unhealthy: None,
        restored: None,
        counts,
    };
    if s.keyed {
        let victim = fleet.ids.len() / 2;
        let gone = Change::Remove(fleet.ids[victim].clone());
        let without = (s.build)(fleet.servers(), &gone)?;
        row.moved_on_remove = Some(metrics::moved(
            &before,
            &fleet.assign(without.as_ref(), keys)?,
        ));
        row.ideal_on_remove = Some(row.counts[victim] as f64 / keys.len() as f64);
        let joining = Server::new(JOINING).with_weight(fleet.weights[0]);
        let with = (s.build)(fleet.servers(), &Change::Add(joining))?;
        row.moved_on_add = Some(metrics::moved(&before, &fleet.assign(with.as_ref(), keys)?));
        b.set_healthy(&fleet.ids[victim], false)?;
        row.moved_on_unhealthy = Some(metrics::moved(&before, &fleet.assign(b.as_ref(), keys)?));
        b.set_healthy(&fleet.ids[victim], true)?;
        row.restored = Some(fleet.assign(b.as_ref(), keys)? == before);
    }
    Ok(row)
}

/// Generated request ids: 20 bytes each, like `req-3f2a9c0d81b4e657`.
fn generated_keys(n: usize) -> Vec<String> {
    let mut x = 0x0123_4567_89ab_cdefu64;
    (0..n)
        .map(|_| {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            format!("req-{:016x}", z ^ (z >> 31))
        })
        .collect()
}

fn read_keys(path: &PathBuf) -> Result<Vec<String>, String> {
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let keys: Vec<String> = BufReader::new(file)
        .lines()
        .collect::<Result<_, _>>()
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if keys.is_empty() {
        return Err(format!("{} holds no keys", path.display()));
    }
    Ok(keys)
}

fn percent(x: Option<f64>) -> String {
    x.map_or("-".into(), |x| format!("{:.2}%", 100.0 * x))
}

fn duration_us(us: f64) -> String {
    if us >= 1000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{us:.1} µs")
    }
}

fn bytes(b: i64) -> String {
    match b {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / f64::from(1 << 20)),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

const HEADERS: [&str; 11] = [
    "strategy",
    "build",
    "pick",
    "memory",
    "peak/mean",
    "cv",
    "share err",
    "removed",
    "added",
    "unhealthy",
    "restored",
];

fn cells(r: &Row) -> [String; 11] {
    [
        r.strategy.to_owned(),
        duration_us(r.build_us),
        format!("{:.1} ns", r.pick_ns),
        bytes(r.memory_bytes),
        format!("{:.3}", r.peak_to_mean),
        format!("{:.3}", r.cv),
        format!("{:.1}%", 100.0 * r.worst_share_error),
        match (r.moved_on_remove, r.ideal_on_remove) {
            (Some(m), Some(i)) => format!("{} ({})", percent(Some(m)), percent(Some(i))),
            _ => "-".into(),
        },
        percent(r.moved_on_add),
        percent(r.moved_on_unhealthy),
        r.restored
            .map_or("-".into(), |ok| if ok { "yes" } else { "NO" }.into()),
    ]
}

fn render(rows: &[Row], format: &Format) -> String {
    let table: Vec<[String; 11]> = rows.iter().map(cells).collect();
    match format {
        Format::Json => serde_json::to_string_pretty(rows).expect("rows serialize"),
        Format::Csv => {
            let mut out = String::from(
                "strategy,build_us,pick_ns,memory_bytes,peak_to_mean,cv,worst_share_error,\
                 moved_on_remove,ideal_on_remove,moved_on_add,moved_on_unhealthy,restored\n",
            );
            let opt = |x: Option<f64>| x.map_or(String::new(), |x| format!("{x:.6}"));
            for r in rows {
                out += &format!(
                    "{},{:.1},{:.2},{},{:.4},{:.4},{:.4},{},{},{},{},{}\n",
                    r.strategy,
                    r.build_us,
                    r.pick_ns,
                    r.memory_bytes,
                    r.peak_to_mean,
                    r.cv,
                    r.worst_share_error,
                    opt(r.moved_on_remove),
                    opt(r.ideal_on_remove),
                    opt(r.moved_on_add),
                    opt(r.moved_on_unhealthy),
                    r.restored.map_or(String::new(), |b| b.to_string()),
                );
            }
            out
        }
        Format::Markdown => {
            let mut out = format!("| {} |\n", HEADERS.join(" | "));
            out += &format!("|{}\n", "---|".repeat(HEADERS.len()));
            for row in &table {
                out += &format!("| {} |\n", row.join(" | "));
            }
            out
        }
        Format::Table => {
            let widths: Vec<usize> = (0..HEADERS.len())
                .map(|c| {
                    table
                        .iter()
                        .map(|r| r[c].chars().count())
                        .chain([HEADERS[c].len()])
                        .max()
                        .unwrap_or(0)
                })
                .collect();
            let line = |cols: Vec<&str>| {
                cols.iter()
                    .zip(&widths)
                    .enumerate()
                    .map(|(i, (c, &w))| {
                        let pad = w - c.chars().count();
                        if i == 0 {
                            format!("{c}{}", " ".repeat(pad))
                        } else {
                            format!("{}{c}", " ".repeat(pad))
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("  ")
                    .trim_end()
                    .to_owned()
                    + "\n"
            };
            let mut out = line(HEADERS.to_vec());
            for row in &table {
                out += &line(row.iter().map(String::as_str).collect());
            }
            out
        }
    }
}

fn run(o: Options) -> Result<(), String> {
    let keys = match &o.keys {
        Some(path) => read_keys(path)?,
        None => generated_keys(o.count),
    };
    let all = strategies();
    if let Some(only) = &o.only {
        if let Some(bad) = only
            .iter()
            .find(|n| all.iter().all(|s| s.name != n.as_str()))
        {
            let names: Vec<&str> = all.iter().map(|s| s.name).collect();
            return Err(format!(
                "unknown strategy {bad:?} (one of {})",
                names.join(", ")
            ));
        }
    }
    let chosen: Vec<&Strategy> = all
        .iter()
        .filter(|s| {
            o.only
                .as_ref()
                .is_none_or(|only| only.iter().any(|n| n == s.name))
        })
        .collect();
    let fleet = Fleet::new(o.servers, &o.weights);
    let mut rows = Vec::new();
    for (i, s) in chosen.iter().enumerate() {
        eprintln!("[{}/{}] {} ...", i + 1, chosen.len(), s.name);
        rows.push(measure(s, &fleet, &keys, o.passes).map_err(|e| format!("{}: {e}", s.name))?);
    }
    if o.format == Format::Table || o.format == Format::Markdown {
        println!(
            "{} servers (weights {}), {} keys{}, {} timed passes\n",
            o.servers,
            o.weights
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(","),
            keys.len(),
            o.keys
                .as_ref()
                .map_or(String::from(" (generated)"), |p| format!(
                    " from {}",
                    p.display()
                )),
            o.passes
        );
    }
    print!("{}", render(&rows, &o.format));
    if let Some(path) = &o.svg {
        svg::write(path, &rows).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        eprintln!("charts written to {}", path.display());
    }
    Ok(())
}

fn main() -> ExitCode {
    match parse_args(std::env::args().skip(1)) {
        Ok(None) => {
            print!("{HELP}");
            ExitCode::SUCCESS
        }
        Ok(Some(o)) => match run(o) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("compare: {e}");
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            eprintln!("compare: {e}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Result<Option<Options>, String> {
        parse_args(s.split_whitespace().map(str::to_owned))
    }

    #[test]
    fn parses_options_and_rejects_bad_ones() {
        assert_eq!(args("").unwrap(), Some(Options::default()));
        let o = args("--servers 7 --weights 1,3 --format csv --count 10")
            .unwrap()
            .unwrap();
        assert_eq!(
            (o.servers, o.weights, o.format, o.count),
            (7, vec![1, 3], Format::Csv, 10)
        );
        assert_eq!(args("--help").unwrap(), None);
        for bad in [
            "--servers",
            "--servers x",
            "--servers 1",
            "--weights 1,0",
            "--format xml",
            "--nope 1",
        ] {
            assert!(args(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn a_small_run_gives_known_figures() {
        let fleet = Fleet::new(10, &[1]);
        let keys = generated_keys(20_000);
        let ring = find("ring");
        let row = measure(&ring, &fleet, &keys, 1).unwrap();
        assert_eq!(row.counts.iter().sum::<u64>(), 20_000);
        assert_eq!(row.restored, Some(true));
        // Removing or failing a server moves exactly its keys on a ring.
        assert_eq!(row.moved_on_remove, row.ideal_on_remove);
        assert_eq!(row.moved_on_unhealthy, row.ideal_on_remove);
        assert!((row.moved_on_add.unwrap() - 1.0 / 11.0).abs() < 0.03);
        assert!(row.memory_bytes > 1600 * 16, "memory {}", row.memory_bytes);
        let modulo = find("modulo");
        let row = measure(&modulo, &fleet, &keys, 1).unwrap();
        assert!(row.moved_on_remove.unwrap() > 0.2);
        assert!(row.peak_to_mean < 1.1);
        // Jump's removal moves the last bucket into the gap: the removed and the last
        // server's keys move, about 2/n; a join at the end moves about 1/(n+1).
        let jump = find("jump");
        let row = measure(&jump, &fleet, &keys, 1).unwrap();
        assert!((row.moved_on_remove.unwrap() - 0.2).abs() < 0.03);
        assert!((row.moved_on_add.unwrap() - 1.0 / 11.0).abs() < 0.03);
    }

    fn find(name: &str) -> Strategy {
        strategies().into_iter().find(|s| s.name == name).unwrap()
    }

    #[test]
    fn pickers_balance_with_leases_held() {
        let fleet = Fleet::new(10, &[1]);
        let keys = generated_keys(10_000);
        let rr = measure(&find("round-robin"), &fleet, &keys, 1).unwrap();
        assert_eq!(rr.counts, vec![1000; 10]);
        assert_eq!(rr.moved_on_remove, None);
        // Power of two choices keeps every server within a few requests of the mean.
        let ll = measure(&find("least-loaded"), &fleet, &keys, 1).unwrap();
        assert!(ll.peak_to_mean <= 1.005, "peak/mean {}", ll.peak_to_mean);
        // Room for twice the mean: the first five servers take 2000 each, the rest nothing.
        let ff = measure(&find("fill-first"), &fleet, &keys, 1).unwrap();
        assert_eq!(ff.counts, [vec![2000; 5], vec![0; 5]].concat());
        assert_eq!(ff.peak_to_mean, 2.0);
    }

    #[test]
    fn renders_every_format() {
        let fleet = Fleet::new(4, &[1, 2]);
        let keys = generated_keys(2_000);
        let rows: Vec<Row> = strategies()
            .iter()
            .map(|s| measure(s, &fleet, &keys, 1).unwrap())
            .collect();
        let table = render(&rows, &Format::Table);
        assert_eq!(table.lines().count(), 1 + rows.len());
        assert!(table.starts_with("strategy"));
        let md = render(&rows, &Format::Markdown);
        assert!(md.lines().nth(1).unwrap().starts_with("|---|"));
        let csv = render(&rows, &Format::Csv);
        assert!(csv.lines().all(|l| l.split(',').count() == 12));
        let json: serde_json::Value = serde_json::from_str(&render(&rows, &Format::Json)).unwrap();
        assert_eq!(json.as_array().unwrap().len(), rows.len());
    }

    #[test]
    fn generated_keys_are_distinct_and_twenty_bytes() {
        let keys = generated_keys(1000);
        assert!(keys.iter().all(|k| k.len() == 20));
        let set: std::collections::HashSet<_> = keys.iter().collect();
        assert_eq!(set.len(), 1000);
    }
}
