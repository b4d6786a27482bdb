//! The charts of a report, one panel a question, stacked into one SVG file: pick time, build
//! time, memory per server, load per server, and keys moved.

use std::path::Path;

use plotters::prelude::*;

use crate::chart::{self, Axis, Bar, Panel, Series};
use crate::footprint::Footprint;
use crate::measure::{HOT_KEYS, Row};
use crate::render::{bytes, duration_us as micros, grouped, nanos};

const WIDTH: u32 = 960;

/// Writes the charts of `rows`, and of `memory` (each strategy at other fleet sizes).
pub fn write(path: &Path, rows: &[Row], memory: &[Footprint]) -> chart::Result {
    let names: Vec<&str> = rows.iter().map(|r| r.strategy).collect();
    let keyed: Vec<&Row> = rows
        .iter()
        .filter(|r| r.moved_on_remove.is_some())
        .collect();
    let keyed_names: Vec<&str> = keyed.iter().map(|r| r.strategy).collect();
    let mut panels = vec![pick(rows, &names), build(rows, memory, &names)];
    panels.extend(per_server(memory, &names));
    panels.push(load(rows, &names));
    if !keyed.is_empty() {
        panels.push(moved(&keyed, &keyed_names));
    }
    let height = panels.iter().map(Panel::height).sum();
    let root = SVGBackend::new(path, (WIDTH, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut rest = root.clone();
    for p in &panels {
        let (this, below) = rest.split_vertically(p.height());
        p.draw(&this)?;
        rest = below;
    }
    root.present()?;
    Ok(())
}

/// The servers and the keys of the run.
fn run_of(rows: &[Row]) -> (usize, u64) {
    let counts = &rows[0].counts;
    (counts.len(), counts.iter().sum())
}

fn bar(to: f64, text: String) -> Option<Bar> {
    Some(Bar {
        from: 0.0,
        to,
        text,
    })
}

/// The sizes of the memory rows, in their order, each once.
fn sizes(memory: &[Footprint]) -> Vec<usize> {
    let mut sizes: Vec<usize> = Vec::new();
    for f in memory {
        if !sizes.contains(&f.servers) {
            sizes.push(f.servers);
        }
    }
    sizes
}

/// A series of a figure from the memory rows of one size, for each strategy of `names`.
fn at_size(
    memory: &[Footprint],
    names: &[&str],
    servers: usize,
    figure: impl Fn(&Footprint) -> Option<Bar>,
) -> Series {
    Series {
        label: format!("{} servers", grouped(servers as u64)),
        bars: names
            .iter()
            .map(|n| {
                let f = memory
                    .iter()
                    .find(|f| f.servers == servers && f.strategy == *n);
                f.and_then(&figure)
            })
            .collect(),
    }
}

fn pick<'a>(rows: &[Row], names: &'a [&'a str]) -> Panel<'a> {
    let (servers, keys) = run_of(rows);
    let values = rows
        .iter()
        .flat_map(|r| [Some(r.pick_hot_ns), r.pick_cold_ns]);
    Panel {
        title: format!(
            "Time per pick, {} servers (log scale)",
            grouped(servers as u64)
        ),
        names,
        series: vec![
            Series {
                label: format!("hot: {} keys in turn", HOT_KEYS.min(keys as usize)),
                bars: rows
                    .iter()
                    .map(|r| bar(r.pick_hot_ns, nanos(r.pick_hot_ns)))
                    .collect(),
            },
            Series {
                label: format!("cold: {} distinct keys", grouped(keys)),
                bars: rows
                    .iter()
                    .map(|r| r.pick_cold_ns.and_then(|ns| bar(ns, nanos(ns))))
                    .collect(),
            },
        ],
        axis: Axis::log(
            values.flatten(),
            "nanoseconds per pick, hashing included",
            |v| whole(nanos(v)),
        ),
        marks: vec![],
        missing: "no key to look up",
    }
}

/// Build time at the report's fleet, and at the other sizes of the memory rows.
fn build<'a>(rows: &[Row], memory: &[Footprint], names: &'a [&'a str]) -> Panel<'a> {
    let (servers, _) = run_of(rows);
    let mut series = vec![Series {
        label: format!("{} servers", grouped(servers as u64)),
        bars: rows
            .iter()
            .map(|r| bar(r.build_us, micros(r.build_us)))
            .collect(),
    }];
    for n in sizes(memory).into_iter().filter(|&n| n != servers) {
        series.push(at_size(memory, names, n, |f| {
            bar(f.build_us, micros(f.build_us))
        }));
    }
    let values = series
        .iter()
        .flat_map(|s| s.bars.iter().flatten().map(|b| b.to));
    let axis = Axis::log(values, "time to build, median of 3", |v| whole(micros(v)));
    Panel {
        title: "Build time (log scale)".into(),
        names,
        axis,
        series,
        marks: vec![],
        missing: "not measured",
    }
}

/// Memory per server at each size of the memory rows; none without them.
fn per_server<'a>(memory: &[Footprint], names: &'a [&'a str]) -> Option<Panel<'a>> {
    if memory.is_empty() {
        return None;
    }
    let series: Vec<Series> = sizes(memory)
        .into_iter()
        .map(|n| {
            at_size(memory, names, n, |f| {
                bar(f.per_server(), bytes(f.per_server()))
            })
        })
        .collect();
    let values = memory.iter().map(Footprint::per_server);
    Some(Panel {
        title: "Memory per server: heap bytes held ÷ servers (log scale)".into(),
        names,
        axis: Axis::log(values, "bytes per server", |v| {
            format!("{} B", grouped(v.round() as u64))
        }),
        series,
        marks: vec![],
        missing: "cannot take this fleet",
    })
}

/// Each strategy's least and most loaded server, against its weight's share.
fn load<'a>(rows: &[Row], names: &'a [&'a str]) -> Panel<'a> {
    let (servers, keys) = run_of(rows);
    let peak = rows.iter().map(|r| r.peak_to_mean).fold(1.0, f64::max);
    Panel {
        title: format!(
            "Load per server, {} keys on {} servers (1.0 = its weight's share)",
            grouped(keys),
            grouped(servers as u64)
        ),
        names,
        series: vec![Series {
            label: "from the least to the most loaded server".into(),
            bars: rows
                .iter()
                .map(|r| {
                    Some(Bar {
                        from: r.low_to_mean,
                        to: r.peak_to_mean,
                        text: format!("{:.2} – {:.2}", r.low_to_mean, r.peak_to_mean),
                    })
                })
                .collect(),
        }],
        axis: Axis {
            lo: 0.0,
            hi: (peak * 1.15 * 4.0).ceil() / 4.0,
            log: false,
            name: "requests over the share its weight asks for, all leases held".into(),
            tick: |v| format!("{v:.2}"),
        },
        marks: vec![(1.0, "even".into())],
        missing: "",
    }
}

/// Keys moved by a removal, a join and a failure. When one strategy moves far more than the
/// others (modulo), the axis stops short of it, so that the others' bars can be read.
fn moved<'a>(keyed: &[&Row], names: &'a [&'a str]) -> Panel<'a> {
    let servers = keyed[0].counts.len();
    let figures = |r: &Row| [r.moved_on_remove, r.moved_on_add, r.moved_on_unhealthy];
    let mut most: Vec<f64> = keyed
        .iter()
        .map(|r| figures(r).into_iter().flatten().fold(0.0, f64::max) * 100.0)
        .collect();
    most.sort_by(|a, b| b.total_cmp(a));
    let hi = match most[..] {
        [first, second, ..] if first > 3.0 * second => second * 1.6,
        [first, ..] => first * 1.25,
        [] => 1.0,
    };
    let labels = [
        "removed (the middle server)",
        "added (one more server)",
        "unhealthy (the middle server)",
    ];
    let series = labels
        .iter()
        .enumerate()
        .map(|(k, label)| Series {
            label: (*label).into(),
            bars: keyed
                .iter()
                .map(|r| {
                    let pct = figures(r)[k]? * 100.0;
                    bar(pct, format!("{pct:.2}%"))
                })
                .collect(),
        })
        .collect();
    Panel {
        title: format!(
            "Keys moved when one of {} servers goes, joins or fails",
            grouped(servers as u64)
        ),
        names,
        series,
        axis: Axis {
            lo: 0.0,
            hi,
            log: false,
            name: "% of all keys".into(),
            tick: |v| format!("{v:.2}%"),
        },
        marks: vec![(100.0 / servers as f64, "1/n".into())],
        missing: "",
    }
}

/// A tick of a logarithmic axis, a power of ten: `10 µs`, not `10.0 µs`.
fn whole(text: String) -> String {
    text.replace(".00 ", " ").replace(".0 ", " ")
}
