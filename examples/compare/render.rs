//! The report's output formats, all drawn from one list of columns.

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::cli::Format;
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
struct Field {
    name: &'static str,
    value: fn(&Row) -> Value,
}

/// One column of the report: its header and cell in the table and markdown, and the raw
/// fields behind it in CSV and JSON.
struct Column {
    header: &'static str,
    cell: fn(&Row) -> String,
    fields: &'static [Field],
}

/// A fraction (six decimals in CSV), missing where it was not measured.
fn fraction(x: Option<f64>) -> Value {
    x.map_or(Value::Missing, |x| Value::Num(x, 6))
}

/// The columns of the report, in order.
const COLUMNS: &[Column] = &[
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
        "pick",
        |r| format!("{:.1} ns", r.pick_ns),
        &[field("pick_ns", |r| Value::Num(r.pick_ns, 2))],
    ),
    column(
        "memory",
        |r| bytes(r.memory_bytes),
        &[field("memory_bytes", |r| Value::Int(r.memory_bytes))],
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

const fn column(
    header: &'static str,
    cell: fn(&Row) -> String,
    fields: &'static [Field],
) -> Column {
    Column {
        header,
        cell,
        fields,
    }
}

const fn field(name: &'static str, value: fn(&Row) -> Value) -> Field {
    Field { name, value }
}

/// Every raw field, in column order.
fn fields() -> impl Iterator<Item = &'static Field> {
    COLUMNS.iter().flat_map(|c| c.fields)
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

/// A row in JSON: its fields in column order, then the requests per server.
struct JsonRow<'a>(&'a Row);

impl Serialize for JsonRow<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        for f in fields() {
            map.serialize_entry(f.name, &(f.value)(self.0))?;
        }
        map.serialize_entry("counts", &self.0.counts)?;
        map.end()
    }
}

/// The report in `format`.
pub fn render(rows: &[Row], format: Format) -> String {
    match format {
        Format::Json => {
            let rows: Vec<JsonRow> = rows.iter().map(JsonRow).collect();
            serde_json::to_string_pretty(&rows).expect("rows serialize")
        }
        Format::Csv => {
            let header: Vec<&str> = fields().map(|f| f.name).collect();
            let mut out = header.join(",") + "\n";
            for r in rows {
                let values: Vec<String> = fields().map(|f| (f.value)(r).csv()).collect();
                out += &(values.join(",") + "\n");
            }
            out
        }
        Format::Markdown => {
            let mut out = line_of(COLUMNS.iter().map(|c| c.header), "| ", " | ", " |");
            out += &format!("|{}\n", "---|".repeat(COLUMNS.len()));
            for r in rows {
                out += &line_of(COLUMNS.iter().map(|c| (c.cell)(r)), "| ", " | ", " |");
            }
            out
        }
        Format::Table => {
            let cells: Vec<Vec<String>> = rows
                .iter()
                .map(|r| COLUMNS.iter().map(|c| (c.cell)(r)).collect())
                .collect();
            let widths: Vec<usize> = COLUMNS
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
            let headers = COLUMNS.iter().enumerate().map(|(i, c)| pad(i, c.header));
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
        let table = render(&rows, Format::Table);
        assert_eq!(table.lines().count(), 1 + rows.len());
        assert!(table.starts_with("strategy"));
        assert!(table.lines().all(|l| !l.ends_with(' ')));
        let md = render(&rows, Format::Markdown);
        assert!(md.starts_with("| strategy | build | pick |"));
        assert!(md.lines().nth(1).unwrap().starts_with("|---|"));
        let columns = |l: &str| l.split(" | ").count();
        assert!(md.lines().skip(2).all(|l| columns(l) == COLUMNS.len()));
        let csv = render(&rows, Format::Csv);
        assert!(csv.starts_with("strategy,build_us,pick_ns,memory_bytes,"));
        assert!(csv.lines().all(|l| l.split(',').count() == 12));
        let json: serde_json::Value = serde_json::from_str(&render(&rows, Format::Json)).unwrap();
        let json = json.as_array().unwrap();
        assert_eq!(json.len(), rows.len());
        assert_eq!(json[0]["strategy"], rows[0].strategy);
        assert_eq!(json[0]["counts"].as_array().unwrap().len(), 4);
        let round_robin = json
            .iter()
            .find(|r| r["strategy"] == "round-robin")
            .unwrap();
        assert!(round_robin["moved_on_remove"].is_null());
    }
}
