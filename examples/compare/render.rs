//! The report's output formats: two tables (the strategies on the fleet, and memory per
//! server at several fleet sizes), each drawn from one list of columns.

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::cli::Format;
use crate::footprint::Footprint;
use crate::measure::Row;

/// A raw figure, as the machine formats (CSV, JSON) write it.
#[derive(Debug, Clone, Copy)]
enum Value {
    Text(&'static str),
    Int(i64),
    /// A number, and how many decimals CSV gives it (JSON writes every digit).
    Num(f64, usize),
    Flag(bool),
    /// Not measured for this strategy: empty in CSV, `null` in JSON.
    Missing,
}

impl Value {
    fn csv(self) -> String {
        match self {
            Value::Text(s) => s.to_owned(),
            Value::Int(n) => n.to_string(),
            Value::Num(x, decimals) => format!("{x:.decimals$}"),
            Value::Flag(b) => b.to_string(),
            Value::Missing => String::new(),
        }
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            Value::Text(t) => s.serialize_str(t),
            Value::Int(n) => s.serialize_i64(n),
            Value::Num(x, _) => s.serialize_f64(x),
            Value::Flag(b) => s.serialize_bool(b),
            Value::Missing => s.serialize_none(),
        }
    }
}

/// A named raw figure of the machine formats.
struct Field<R> {
    name: &'static str,
    value: fn(&R) -> Value,
}

/// One column of a table: its header and cell in the table and markdown, and the raw
/// fields behind it in CSV and JSON.
struct Column<R: 'static> {
    header: &'static str,
    cell: fn(&R) -> String,
    fields: &'static [Field<R>],
}

/// A kind of row, and the columns of its table.
trait Table: Sized + 'static {
    const COLUMNS: &'static [Column<Self>];

    /// What JSON writes after the columns' fields.
    fn json_extra<M: SerializeMap>(&self, _map: &mut M) -> Result<(), M::Error> {
        Ok(())
    }
}

/// A fraction (six decimals in CSV), missing where it was not measured.
fn fraction(x: Option<f64>) -> Value {
    x.map_or(Value::Missing, |x| Value::Num(x, 6))
}

impl Table for Row {
    const COLUMNS: &'static [Column<Row>] = &[
        column(
            "strategy",
            |r| r.strategy.to_owned(),
            &[field("strategy", |r| Value::Text(r.strategy))],
        ),
        column(
            "build",
            |r| duration_us(r.build_us),
            &[field("build_us", |r| Value::Num(r.build_us, 1))],
        ),
        column(
            "pick hot",
            |r| nanos(r.pick_hot_ns),
            &[field("pick_hot_ns", |r| Value::Num(r.pick_hot_ns, 2))],
        ),
        column(
            "pick cold",
            |r| r.pick_cold_ns.map_or("-".into(), nanos),
            &[field("pick_cold_ns", |r| {
                r.pick_cold_ns.map_or(Value::Missing, |x| Value::Num(x, 2))
            })],
        ),
        column(
            "memory",
            |r| bytes(r.memory_bytes as f64),
            &[field("memory_bytes", |r| Value::Int(r.memory_bytes))],
        ),
        column(
            "low/mean",
            |r| format!("{:.3}", r.low_to_mean),
            &[field("low_to_mean", |r| Value::Num(r.low_to_mean, 4))],
        ),
        column(
            "peak/mean",
            |r| format!("{:.3}", r.peak_to_mean),
            &[field("peak_to_mean", |r| Value::Num(r.peak_to_mean, 4))],
        ),
        column(
            "cv",
            |r| format!("{:.3}", r.cv),
            &[field("cv", |r| Value::Num(r.cv, 4))],
        ),
        column(
            "share err",
            |r| format!("{:.1}%", 100.0 * r.worst_share_error),
            &[field("worst_share_error", |r| {
                Value::Num(r.worst_share_error, 4)
            })],
        ),
        column(
            "removed",
            |r| match (r.moved_on_remove, r.ideal_on_remove) {
                (Some(m), Some(i)) => format!("{} ({})", percent(Some(m)), percent(Some(i))),
                _ => "-".into(),
            },
            &[
                field("moved_on_remove", |r| fraction(r.moved_on_remove)),
                field("ideal_on_remove", |r| fraction(r.ideal_on_remove)),
            ],
        ),
        column(
            "added",
            |r| percent(r.moved_on_add),
            &[field("moved_on_add", |r| fraction(r.moved_on_add))],
        ),
        column(
            "unhealthy",
            |r| percent(r.moved_on_unhealthy),
            &[field("moved_on_unhealthy", |r| {
                fraction(r.moved_on_unhealthy)
            })],
        ),
        column(
            "restored",
            |r| {
                r.restored
                    .map_or("-".into(), |ok| if ok { "yes" } else { "NO" }.into())
            },
            &[field("restored", |r| {
                r.restored.map_or(Value::Missing, Value::Flag)
            })],
        ),
    ];

    /// The requests per server.
    fn json_extra<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        map.serialize_entry("counts", &self.counts)
    }
}

impl Table for Footprint {
    const COLUMNS: &'static [Column<Footprint>] = &[
        column(
            "strategy",
            |f| f.strategy.to_owned(),
            &[field("strategy", |f| Value::Text(f.strategy))],
        ),
        column(
            "servers",
            |f| grouped(f.servers as u64),
            &[field("servers", |f| Value::Int(f.servers as i64))],
        ),
        column(
            "build",
            |f| duration_us(f.build_us),
            &[field("build_us", |f| Value::Num(f.build_us, 1))],
        ),
        column(
            "memory",
            |f| bytes(f.bytes as f64),
            &[field("memory_bytes", |f| Value::Int(f.bytes))],
        ),
        column(
            "per server",
            |f| bytes(f.per_server()),
            &[field("bytes_per_server", |f| Value::Num(f.per_server(), 1))],
        ),
        column(
            "table",
            |f| {
                f.table
                    .map_or("-".into(), |(n, what)| format!("{} {what}", grouped(n)))
            },
            &[field("table_entries", |f| {
                f.table
                    .map_or(Value::Missing, |(n, _)| Value::Int(n as i64))
            })],
        ),
        column(
            "per entry",
            |f| f.per_entry().map_or("-".into(), |b| format!("{b:.1} B")),
            &[field("bytes_per_entry", |f| {
                f.per_entry().map_or(Value::Missing, |b| Value::Num(b, 2))
            })],
        ),
    ];
}

const fn column<R>(
    header: &'static str,
    cell: fn(&R) -> String,
    fields: &'static [Field<R>],
) -> Column<R> {
    Column {
        header,
        cell,
        fields,
    }
}

const fn field<R>(name: &'static str, value: fn(&R) -> Value) -> Field<R> {
    Field { name, value }
}

/// Every raw field of a table, in column order.
fn fields<R: Table>() -> impl Iterator<Item = &'static Field<R>> {
    R::COLUMNS.iter().flat_map(|c| c.fields)
}

fn percent(x: Option<f64>) -> String {
    x.map_or("-".into(), |x| format!("{:.2}%", 100.0 * x))
}

pub fn nanos(ns: f64) -> String {
    if ns >= 1000.0 {
        format!("{:.2} µs", ns / 1000.0)
    } else {
        format!("{ns:.1} ns")
    }
}

pub fn duration_us(us: f64) -> String {
    match us {
        us if us >= 1e6 => format!("{:.2} s", us / 1e6),
        us if us >= 1e3 => format!("{:.2} ms", us / 1e3),
        us => format!("{us:.1} µs"),
    }
}

pub fn bytes(b: f64) -> String {
    match b {
        b if b >= 1_048_576.0 => format!("{:.1} MiB", b / 1_048_576.0),
        b if b >= 1024.0 => format!("{:.1} KiB", b / 1024.0),
        b if b >= 100.0 => format!("{b:.0} B"),
        b => format!("{b:.1} B"),
    }
}

/// A count with its digits in groups of three: `16 000 000`.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(d);
    }
    out
}

/// A row in JSON: its fields in column order, then what its table adds.
struct Json<'a, R>(&'a R);

impl<R: Table> Serialize for Json<'_, R> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        for f in fields::<R>() {
            map.serialize_entry(f.name, &(f.value)(self.0))?;
        }
        self.0.json_extra(&mut map)?;
        map.end()
    }
}

/// The whole report in JSON.
#[derive(serde::Serialize)]
struct JsonReport<'a> {
    strategies: Vec<Json<'a, Row>>,
    memory: Vec<Json<'a, Footprint>>,
}

/// The report in `format`: the strategies on the fleet, then memory per server at each
/// fleet size (after a blank line in CSV; in JSON, an object holding both lists).
pub fn render(rows: &[Row], memory: &[Footprint], format: Format) -> String {
    if format == Format::Json {
        let report = JsonReport {
            strategies: rows.iter().map(Json).collect(),
            memory: memory.iter().map(Json).collect(),
        };
        return serde_json::to_string_pretty(&report).expect("rows serialize");
    }
    let mut out = table(rows, format);
    if !memory.is_empty() {
        out += "\n";
        if format != Format::Csv {
            out += "Memory per server: the heap bytes a strategy holds beyond its servers.\n\n";
        }
        out += &table(memory, format);
    }
    out
}

/// One table in a text format (JSON is the report's alone).
fn table<R: Table>(rows: &[R], format: Format) -> String {
    let columns = R::COLUMNS;
    match format {
        Format::Csv | Format::Json => {
            let header: Vec<&str> = fields::<R>().map(|f| f.name).collect();
            let mut out = header.join(",") + "\n";
            for r in rows {
                let values: Vec<String> = fields::<R>().map(|f| (f.value)(r).csv()).collect();
                out += &(values.join(",") + "\n");
            }
            out
        }
        Format::Markdown => {
            let mut out = line_of(columns.iter().map(|c| c.header), "| ", " | ", " |");
            out += &format!("|{}\n", "---|".repeat(columns.len()));
            for r in rows {
                out += &line_of(columns.iter().map(|c| (c.cell)(r)), "| ", " | ", " |");
            }
            out
        }
        Format::Table => {
            let cells: Vec<Vec<String>> = rows
                .iter()
                .map(|r| columns.iter().map(|c| (c.cell)(r)).collect())
                .collect();
            let widths: Vec<usize> = columns
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    cells
                        .iter()
                        .map(|row| row[i].chars().count())
                        .fold(c.header.len(), usize::max)
                })
                .collect();
            // The first column to the left, the figures to the right.
            let pad = |i: usize, text: &str| {
                let fill = " ".repeat(widths[i] - text.chars().count());
                if i == 0 {
                    format!("{text}{fill}")
                } else {
                    format!("{fill}{text}")
                }
            };
            let headers = columns.iter().enumerate().map(|(i, c)| pad(i, c.header));
            let mut out = line_of(headers, "", "  ", "");
            for row in &cells {
                out += &line_of(row.iter().enumerate().map(|(i, c)| pad(i, c)), "", "  ", "");
            }
            out
        }
    }
}

/// One line: `cells` between `open` and `close`, joined by `sep`, without trailing spaces.
fn line_of<S: AsRef<str>>(
    cells: impl Iterator<Item = S>,
    open: &str,
    sep: &str,
    close: &str,
) -> String {
    let cells: Vec<S> = cells.collect();
    let joined = cells
        .iter()
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join(sep);
    format!("{open}{joined}{close}").trim_end().to_owned() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::footprint::footprint;
    use crate::measure::{Fleet, generated_keys, measure, strategies};

    #[test]
    fn renders_every_format() {
        let keys = generated_keys(2_000);
        let fleet = Fleet::new(4, &[1, 2], keys.len());
        // Jump and fill-first cannot honour the weights: they are left out, as in a run.
        let rows: Vec<Row> = strategies()
            .into_iter()
            .filter_map(|s| measure(s, &fleet, &keys, 1).ok())
            .collect();
        assert!(rows.len() >= 7);
        let memory: Vec<Footprint> = strategies()
            .into_iter()
            .filter(|s| ["modulo", "ring"].contains(&s.name()))
            .map(|s| footprint(s, 16, &[1, 2]).unwrap())
            .collect();
        let table = render(&rows, &memory, Format::Table);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 1 + rows.len() + 3 + 1 + memory.len());
        assert!(lines[0].starts_with("strategy"));
        assert!(lines[rows.len() + 2].starts_with("Memory per server"));
        assert!(lines[rows.len() + 4].starts_with("strategy  servers  "));
        assert!(lines.iter().all(|l| !l.ends_with(' ')));
        let md = render(&rows, &[], Format::Markdown);
        assert!(md.starts_with("| strategy | build | pick hot | pick cold | memory |"));
        assert!(md.lines().nth(1).unwrap().starts_with("|---|"));
        let columns = |l: &str| l.split(" | ").count();
        assert!(md.lines().skip(2).all(|l| columns(l) == Row::COLUMNS.len()));
        let csv = render(&rows, &memory, Format::Csv);
        let (main, second) = csv.split_once("\n\n").unwrap();
        assert!(main.starts_with("strategy,build_us,pick_hot_ns,pick_cold_ns,memory_bytes,"));
        assert!(main.lines().all(|l| l.split(',').count() == 14));
        assert!(second.starts_with("strategy,servers,build_us,memory_bytes,bytes_per_server,"));
        assert_eq!(second.lines().count(), 1 + memory.len());
        assert!(second.lines().all(|l| l.split(',').count() == 7));
        let json: serde_json::Value =
            serde_json::from_str(&render(&rows, &memory, Format::Json)).unwrap();
        let strategies = json["strategies"].as_array().unwrap();
        assert_eq!(strategies.len(), rows.len());
        assert_eq!(strategies[0]["strategy"], rows[0].strategy);
        assert_eq!(strategies[0]["counts"].as_array().unwrap().len(), 4);
        let round_robin = strategies
            .iter()
            .find(|r| r["strategy"] == "round-robin")
            .unwrap();
        assert!(round_robin["moved_on_remove"].is_null());
        assert!(round_robin["pick_cold_ns"].is_null());
        let memory = json["memory"].as_array().unwrap();
        assert_eq!(memory[0]["strategy"], "modulo");
        assert!(memory[0]["table_entries"].is_null());
        // 8 servers of weight 1 and 8 of weight 2, 160 points a weight.
        assert_eq!(memory[1]["table_entries"], 8 * 160 + 8 * 320);
    }

    #[test]
    fn units() {
        assert_eq!(grouped(16_000_000), "16 000 000");
        assert_eq!(grouped(65_537), "65 537");
        assert_eq!(grouped(100), "100");
        assert_eq!(bytes(31.4), "31.4 B");
        assert_eq!(bytes(2048.0), "2.0 KiB");
        assert_eq!(duration_us(2.5e6), "2.50 s");
        assert_eq!(nanos(2140.0), "2.14 µs");
    }
}
