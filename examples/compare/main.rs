//! Compares every strategy of the crate on one fleet and one key set: pick latency (hot and
//! cold), build time, memory, balance, and how many keys move when a server leaves, joins or
//! fails; then memory per server at several fleet sizes.
//!
//! ```sh
//! cargo run --release --example compare                      # 1000 servers, 1 M generated ids
//! cargo run --release --example compare -- --servers 100 --weights 1,2,4 --format markdown
//! cargo run --release --example compare -- --keys ids.txt --svg report.svg
//! ```
//!
//! [`cli`] reads the options, [`measure`] builds each strategy of `Strategy::all()` as an
//! `AnyBalancer` and measures it, [`footprint`] weighs it at other fleet sizes (with the bytes
//! that [`heap`] counts), [`render`] writes the report, [`svg`] draws it with [`chart`].

mod chart;
mod cli;
mod footprint;
mod heap;
mod measure;
mod metrics;
mod render;
mod svg;

use std::process::ExitCode;
use std::time::Instant;

use loadring::Error;

use cli::{Format, Options};

fn run(o: Options) -> Result<(), String> {
    let keys = match &o.keys {
        Some(path) => measure::read_keys(path)?,
        None => measure::generated_keys(o.count),
    };
    let all = measure::strategies();
    let names: Vec<&str> = all.iter().map(|s| s.name()).collect();
    if let Some(bad) = o
        .only
        .iter()
        .flatten()
        .find(|n| !names.contains(&n.as_str()))
    {
        return Err(format!(
            "unknown strategy {bad:?} (one of {})",
            names.join(", ")
        ));
    }
    let chosen: Vec<_> = all
        .into_iter()
        .filter(|s| {
            o.only
                .as_ref()
                .is_none_or(|only| only.iter().any(|n| n == s.name()))
        })
        .collect();
    let fleet = measure::Fleet::new(o.servers, &o.weights, keys.len());
    let mut rows = Vec::new();
    for (i, &s) in chosen.iter().enumerate() {
        eprintln!("[{}/{}] {} ...", i + 1, chosen.len(), s.name());
        match measure::measure(s, &fleet, &keys, o.passes) {
            Ok(row) => rows.push(row),
            Err(e @ Error::WeightsUnsupported { .. }) => eprintln!("  skipped: {e}"),
            Err(e) => return Err(format!("{}: {e}", s.name())),
        }
    }
    if rows.is_empty() {
        return Err("no strategy could run on this fleet".into());
    }
    let mut memory = Vec::new();
    for &n in &o.memory_at {
        for &s in &chosen {
            let t = Instant::now();
            match footprint::footprint(s, n, &o.weights) {
                Ok(f) => memory.push(f),
                Err(Error::WeightsUnsupported { .. }) => continue,
                Err(e) => eprintln!("  {} at {n} servers skipped: {e}", s.name()),
            }
            let took = t.elapsed().as_secs_f64();
            eprintln!("[memory at {n}] {} took {took:.1} s", s.name());
        }
    }
    if o.format == Format::Table || o.format == Format::Markdown {
        let weights: Vec<String> = o.weights.iter().map(u32::to_string).collect();
        let source = o.keys.as_ref().map_or(String::from(" (generated)"), |p| {
            format!(" from {}", p.display())
        });
        println!(
            "{} servers (weights {}), {} keys{source}, {} timed passes\n",
            o.servers,
            weights.join(","),
            keys.len(),
            o.passes
        );
    }
    print!("{}", render::render(&rows, &memory, o.format));
    if let Some(path) = &o.svg {
        svg::write(path, &rows, &memory)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        eprintln!("charts written to {}", path.display());
    }
    Ok(())
}

fn main() -> ExitCode {
    match cli::parse_args(std::env::args().skip(1)) {
        Ok(None) => {
            print!("{}", cli::HELP);
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
