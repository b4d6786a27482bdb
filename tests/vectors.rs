//! Mapping v1: the crate's answers must equal `vectors/mapping-v1.json`, vector for vector.
//!
//! The file is what clients in other languages test against (docs/MAPPING.md states the
//! mapping; reference/ implements it in Python from that page alone, and CI checks it against
//! the file). A difference means that the crate's mapping changed, and every deployed fleet
//! would see keys move: a change of mapping is a new version, never a silent one.
//!
//! `LOADRING_WRITE_VECTORS=1 cargo test --all-features --test vectors` writes the file of the
//! current version if it does not exist yet; it never overwrites a different one. Without the
//! feature `ketama` the ketama cases and hashes are left out of the comparison.

#[path = "vectors/cases.rs"]
mod cases;
#[path = "vectors/keys.rs"]
mod keys;

use std::fmt::Write as _;
use std::path::PathBuf;

use serde::Serialize;
use serde_json::Value;

use cases::Results;

/// The mapping version the file pins (docs/MAPPING.md's title says the same).
const VERSION: u32 = 1;

/// The command that writes the vectors file.
const COMMAND: &str = "LOADRING_WRITE_VECTORS=1 cargo test --all-features --test vectors";

fn path(version: u32) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("vectors/mapping-v{version}.json"))
}

fn compact<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("vectors serialize")
}

/// The vectors document as the crate computes it: the header and each key and case on lines
/// of their own, each pick, lease or rotation step on a line.
fn render() -> String {
    let keys = keys::all();
    let cases = cases::all(keys.len());
    let mut out = String::from("{\n");
    let _ = writeln!(out, "\"mapping\": {VERSION},");
    let _ = writeln!(out, "\"spec\": \"docs/MAPPING.md\",");
    let _ = writeln!(out, "\"generated_by\": {},", compact(&COMMAND));
    let _ = writeln!(
        out,
        "\"hashers\": {{\"xxh3\": {{\"seed\": \"{}\"}}, \"siphash13\": {{\"key\": \"{}\"}}}},",
        keys::hex64(loadring::hash::DEFAULT_SEED),
        keys::hex(&keys::SIP_KEY),
    );
    let lines: Vec<String> = keys.iter().map(|k| compact(&k.entry())).collect();
    let _ = writeln!(out, "\"keys\": [\n{}\n],", lines.join(",\n"));
    let cases: Vec<String> = cases
        .iter()
        .map(|case| {
            let header = compact(&case.header());
            let (field, lines): (&str, Vec<String>) = match case.run(&keys) {
                Results::Picks(p) => ("picks", p.iter().map(compact).collect()),
                Results::Leases(l) => ("leases", l.iter().map(compact).collect()),
                Results::Rotation(r) => ("rotation", r.iter().map(compact).collect()),
            };
            let open = header.strip_suffix('}').expect("an object");
            format!("{open},\"{field}\":[\n{}\n]}}", lines.join(",\n"))
        })
        .collect();
    let _ = writeln!(out, "\"cases\": [\n{}\n]", cases.join(",\n"));
    out.push_str("}\n");
    out
}

/// The file as this build can check it: without the feature `ketama`, its ketama cases and
/// hashes are left out.
fn comparable(mut doc: Value) -> Value {
    if cfg!(not(feature = "ketama")) {
        if let Some(keys) = doc["keys"].as_array_mut() {
            for key in keys {
                key.as_object_mut().map(|k| k.remove("md5_ketama"));
            }
        }
        if let Some(cases) = doc["cases"].as_array_mut() {
            cases.retain(|c| c["strategy"] != "ketama");
        }
    }
    doc
}

/// Where two documents first differ, item by item through the keys and cases: a
/// description of the place, and the file's and the crate's values there.
fn first_difference(file: &Value, ours: &Value) -> Option<(String, Value, Value)> {
    let fields =
        |v: &Value| Value::from_iter(v.as_object().into_iter().flatten().map(|(k, _)| k.clone()));
    if fields(file) != fields(ours) {
        return Some(("the top-level fields".into(), fields(file), fields(ours)));
    }
    // In the file's order: what the keys are, then how they map.
    let order = [
        "mapping",
        "spec",
        "generated_by",
        "hashers",
        "keys",
        "cases",
    ];
    for field in order {
        let (want, got) = (&file[field], &ours[field]);
        match (field, want, got) {
            ("keys" | "cases", Value::Array(want), Value::Array(got)) => {
                if want.len() != got.len() {
                    let count = |n: usize| Value::from(n);
                    return Some((
                        format!("the number of {field}"),
                        count(want.len()),
                        count(got.len()),
                    ));
                }
                for (i, (w, g)) in want.iter().zip(got).enumerate() {
                    if w != g {
                        return Some(describe(field, i, w, g));
                    }
                }
            }
            _ if want != got => return Some((format!("\"{field}\""), want.clone(), got.clone())),
            _ => {}
        }
    }
    None
}

/// Names a differing key or case, and for a case its first differing field or result.
fn describe(field: &str, i: usize, want: &Value, got: &Value) -> (String, Value, Value) {
    if field == "keys" {
        return (format!("key {i}"), want.clone(), got.clone());
    }
    let name = format!("case {i} ({})", want["name"]);
    for (k, w) in want.as_object().into_iter().flatten() {
        let g = &got[k];
        if w == g {
            continue;
        }
        if let (Value::Array(ws), Value::Array(gs)) = (w, g) {
            for (j, (wj, gj)) in ws.iter().zip(gs).enumerate() {
                if wj != gj {
                    return (format!("{name}, {k}[{j}]"), wj.clone(), gj.clone());
                }
            }
        }
        return (format!("{name}, \"{k}\""), w.clone(), g.clone());
    }
    (name, want.clone(), got.clone())
}

fn parse(text: &str, what: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{what} is not JSON: {e}"))
}

#[test]
fn the_crate_maps_every_vector_as_the_file_says() {
    let ours = parse(&render(), "the rendered vectors");
    let file = path(VERSION);
    if std::env::var_os("LOADRING_WRITE_VECTORS").is_some() {
        write(&file, &ours);
    }
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("{}: {e}; `{COMMAND}` writes it", file.display()));
    // Small enough to read, diff and ship with a port.
    assert!(text.len() < 2 << 20, "{} bytes", text.len());
    let theirs = comparable(parse(&text, "the vectors file"));
    if let Some((place, want, got)) = first_difference(&theirs, &ours) {
        panic!(
            "the crate no longer maps as vectors/mapping-v{VERSION}.json says, at {place}:\n  \
             file:  {want}\n  crate: {got}\n\
             Every deployed client that follows docs/MAPPING.md (mapping v{VERSION}) would now \
             disagree with this crate. If the change is a mistake, undo it. If it is deliberate, \
             it is a new mapping version: raise VERSION in tests/vectors.rs, describe mapping \
             v{next} in docs/MAPPING.md (and reference/), and run `{COMMAND}` to write \
             vectors/mapping-v{next}.json.",
            next = VERSION + 1,
        );
    }
}

/// Writes the file of this version, unless it exists: a published version never changes.
fn write(file: &std::path::Path, ours: &Value) {
    if cfg!(not(feature = "ketama")) {
        panic!("the vectors include ketama: write them with --all-features");
    }
    match std::fs::read_to_string(file) {
        Ok(text) => assert!(
            first_difference(&parse(&text, "the vectors file"), ours).is_none(),
            "{} exists and differs from the crate's answers: a published version never \
             changes; a new mapping is a new version",
            file.display()
        ),
        Err(_) => std::fs::write(file, render()).expect("write the vectors file"),
    }
}
