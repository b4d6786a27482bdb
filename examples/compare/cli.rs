//! The command line: options, their parsing, and `--help`.

use std::path::PathBuf;

pub const HELP: &str = "\
Compare loadring's strategies on one fleet and one key set.

USAGE:
    cargo run --release --example compare -- [OPTIONS]

Strategies: modulo, ring, jump, maglev, rendezvous, bounded, ketama (when built with
`--features ketama`), and the key-free round-robin, least-loaded and fill-first. Jump and
fill-first cannot honour weights: with --weights other than 1 they are skipped.

OPTIONS:
    --servers N        servers in the fleet (default 1000)
    --weights LIST     comma-separated weights, repeated over the servers (default 1)
    --keys FILE        read request ids from FILE, one per line (default: generated ids)
    --count N          how many ids to generate when no FILE is given (default 1000000)
    --passes N         timed passes over the keys; the median is reported (default 5)
    --memory-at LIST   comma-separated fleet sizes to measure memory per server at
                       (default 1000,100000; the rings at 100 000 servers take a few
                       seconds and some 300 MB each)
    --only LIST        comma-separated strategy names to run (default: all)
    --format FORMAT    table, markdown, csv or json (default table)
    --svg FILE         also write charts: pick and build time, memory per server, load,
                       and keys moved
    -h, --help         print this help

COLUMNS:
    build       time to build the strategy over the fleet (median of 3)
    pick hot    time per pick, hashing included, over the first 1024 keys walked in turn,
                so that the strategy's tables stay in cache (median of the passes)
    pick cold   the same over every key once (1 M distinct ids by default), as a service
                sees ids it has not seen; key-free strategies take no key
    memory      heap bytes the built strategy holds beyond the servers it was given
    low/mean    the least busy server's requests over what its weight asks for, with
                every key's lease held at once (bounded loads, least-loaded and fill-first
                count them; fill-first has room for twice the mean, so it fills half the
                fleet)
    peak/mean   the same for the busiest server
    cv          coefficient of variation of that ratio over the servers
    share err   the largest distance of a server's share from its weight's share
    removed     keys moved when the middle server of the list is removed by the strategy's
                own update (ideal, in brackets: the share it held)
    added       keys moved when one server joins (ideal: 1/(n+1) of them)
    unhealthy   keys moved when the middle server is marked unhealthy (ideal: its share)
    restored    whether every key came back when it recovered

MEMORY PER SERVER (a second table: in CSV after a blank line; JSON is an object with the
\"strategies\" and the \"memory\" rows):
    Each strategy built again over fleets of the --memory-at sizes: its build time (median
    of 3), the heap bytes it holds, those per server, and per entry of its table (ring
    points, Maglev slots). Maglev's default table holds 65 537 slots: a larger fleet gets a
    prime of about 100 slots a server, as its docs advise.
";

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Format {
    Table,
    Markdown,
    Csv,
    Json,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub servers: usize,
    pub weights: Vec<u32>,
    pub keys: Option<PathBuf>,
    pub count: usize,
    pub passes: usize,
    pub memory_at: Vec<usize>,
    pub only: Option<Vec<String>>,
    pub format: Format,
    pub svg: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            servers: 1000,
            weights: vec![1],
            keys: None,
            count: 1_000_000,
            passes: 5,
            memory_at: vec![1000, 100_000],
            only: None,
            format: Format::Table,
            svg: None,
        }
    }
}

/// Parses the command line; `Ok(None)` asks for the help text.
pub fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Option<Options>, String> {
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
            "--memory-at" => {
                o.memory_at = value
                    .split(',')
                    .map(|n| number(&flag, n.trim(), 2))
                    .collect::<Result<_, _>>()?
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Result<Option<Options>, String> {
        parse_args(s.split_whitespace().map(str::to_owned))
    }

    #[test]
    fn parses_options_and_rejects_bad_ones() {
        assert_eq!(args("").unwrap(), Some(Options::default()));
        let o = args("--servers 7 --weights 1,3 --format csv --count 10 --memory-at 10,20")
            .unwrap()
            .unwrap();
        assert_eq!(
            (o.servers, o.weights, o.format, o.count, o.memory_at),
            (7, vec![1, 3], Format::Csv, 10, vec![10, 20])
        );
        assert_eq!(args("--help").unwrap(), None);
        for bad in [
            "--servers",
            "--servers x",
            "--servers 1",
            "--weights 1,0",
            "--memory-at 1000,1",
            "--format xml",
            "--nope 1",
        ] {
            assert!(args(bad).is_err(), "{bad} was accepted");
        }
    }
}
