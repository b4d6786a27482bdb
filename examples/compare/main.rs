//! Compares every strategy of the crate on one fleet and one key set: pick latency, build
//! time, memory, balance, and how many keys move when a server leaves, joins or fails.
//!
//! ```sh
//! cargo run --release --example compare                       # 100 servers, 1 M generated ids
//! cargo run --release --example compare -- --servers 1000 --weights 1,2,4 --format markdown
//! cargo run --release --example compare -- --keys ids.txt --svg report.svg
//! ```
//!
//! Memory is measured by a counting global allocator: the bytes a strategy still holds
//! after its constructor returns. Implementing an allocator takes `unsafe`; it only forwards
//! to the system allocator.

mod metrics;
mod svg;

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::hint::black_box;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Instant;

use loadring::{
    Balancer, BalancerExt, BoundedLoad, Error, HashRing, Jump, Maglev, Modulo, Rendezvous, Server,
};

/// Counts the bytes alive on the heap, to measure what a strategy keeps.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call forwards to `System` with the same arguments; only a counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const HELP: &str = "\
Compare loadring's strategies on one fleet and one key set.

USAGE:
    cargo run --release --example compare -- [OPTIONS]

Strategies: modulo, ring, jump, maglev, rendezvous, bounded, and ketama when built with
`--features ketama`.

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
    memory      heap bytes the built strategy holds
    peak/mean   the busiest server's requests over what its weight asks for (for bounded
                loads, with every key's lease held at once)
    cv          coefficient of variation of that ratio over the servers
    share err   the largest distance of a server's share from its weight's share
    removed     keys moved when the middle server of the list is removed (ideal: its share)
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

type Build = fn(Vec<Server>) -> Result<Box<dyn Balancer>, Error>;

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

fn boxed<B: Balancer + 'static>(b: Result<B, Error>) -> Result<Box<dyn Balancer>, Error> {
    b.map(|b| Box::new(b) as Box<dyn Balancer>)
}

fn keyed(name: &'static str, build: Build) -> Strategy {
    Strategy {
        name,
        keyed: true,
        build,
        held: None,
    }
}

fn strategies() -> Vec<Strategy> {
    let mut all = vec![
        keyed("modulo", |s| boxed(Modulo::new(s))),
        keyed("ring", |s| boxed(HashRing::new(s))),
        keyed("jump", |s| boxed(Jump::new(s))),
        keyed("maglev", |s| boxed(Maglev::new(s))),
        keyed("rendezvous", |s| boxed(Rendezvous::new(s))),
        Strategy {
            held: Some(|servers, fleet, keys| {
                let b = BoundedLoad::new(servers)?;
                let mut leases = Vec::with_capacity(keys.len());
                for k in keys {
                    leases.push(b.acquire(k.as_str())?);
                }
                Ok(leases
                    .iter()
                    .map(|l| fleet.index[l.server().id()])
                    .collect())
            }),
            ..keyed("bounded", |s| boxed(BoundedLoad::new(s)))
        },
    ];
    all.extend(ketama());
    all
}

/// The libketama-compatible ring, when the crate is built with the `ketama` feature.
fn ketama() -> Option<Strategy> {
    #[cfg(feature = "ketama")]
    return Some(keyed("ketama", |s| boxed(loadring::KetamaRing::new(s))));
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

    /// Fresh servers (with cells of their own), leaving out `skip` and adding the joining one.
    fn servers(&self, skip: Option<usize>, join: bool) -> Vec<Server> {
        let mut out: Vec<Server> = (0..self.ids.len())
            .filter(|&i| Some(i) != skip)
            .map(|i| Server::new(self.ids[i].as_str()).with_weight(self.weights[i]))
            .collect();
        if join {
            out.push(Server::new(JOINING).with_weight(self.weights[0]));
        }
        out
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
        let servers = fleet.servers(None, false);
        let live = LIVE.load(Ordering::Relaxed);
        let t = Instant::now();
        let b = (s.build)(servers)?;
        builds.push(t.elapsed().as_secs_f64() * 1e6);
        memory = (LIVE.load(Ordering::Relaxed) - live) as i64;
        drop(b);
    }
    let b = (s.build)(fleet.servers(None, false))?;
    let mut times: Vec<f64> = (0..passes)
        .map(|_| {
            let t = Instant::now();
            for k in keys {
                let _ = black_box(b.pick(black_box(k.as_str())));
            }
            t.elapsed().as_secs_f64() * 1e9 / keys.len() as f64
        })
        .collect();
    let before = fleet.assign(b.as_ref(), keys)?;
    let placed = match s.held {
        Some(held) => held(fleet.servers(None, false), fleet, keys)?,
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
        let without = (s.build)(fleet.servers(Some(victim), false))?;
        row.moved_on_remove = Some(metrics::moved(
            &before,
            &fleet.assign(without.as_ref(), keys)?,
        ));
        row.ideal_on_remove = Some(row.counts[victim] as f64 / keys.len() as f64);
        let with = (s.build)(fleet.servers(None, true))?;
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
        let ring = strategies().into_iter().find(|s| s.name == "ring").unwrap();
        let row = measure(&ring, &fleet, &keys, 1).unwrap();
        assert_eq!(row.counts.iter().sum::<u64>(), 20_000);
        assert_eq!(row.restored, Some(true));
        // Removing or failing a server moves exactly its keys on a ring.
        assert_eq!(row.moved_on_remove, row.ideal_on_remove);
        assert_eq!(row.moved_on_unhealthy, row.ideal_on_remove);
        assert!((row.moved_on_add.unwrap() - 1.0 / 11.0).abs() < 0.03);
        assert!(row.memory_bytes > 1600 * 16, "memory {}", row.memory_bytes);
        let modulo = strategies()
            .into_iter()
            .find(|s| s.name == "modulo")
            .unwrap();
        let row = measure(&modulo, &fleet, &keys, 1).unwrap();
        assert!(row.moved_on_remove.unwrap() > 0.2);
        assert!(row.peak_to_mean < 1.1);
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
