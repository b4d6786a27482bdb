//! The cold picks of loadring and its peers, taking turns: each round times one lap of
//! 2²⁰ distinct keys through every contender in a row, so a busy machine slows them alike,
//! and the report gives each contender's median time a pick and its median ratio to the
//! peer it stands beside (per round, so drifts between rounds cancel).
//!
//! `cargo bench -p loadring-bench-peers --bench interleaved` (from the repository root);
//! `-- --rounds 21` for more rounds (default 15), `-- --servers 1000` for one fleet size
//! (default 1000 and 10 000).

use std::hint::black_box;
use std::time::Instant;

mod common;

use common::{COLD_KEYS, Contenders, Visit};

/// Contenders left out: `hashring` takes microseconds a pick, so its laps would stretch
/// each round tenfold (the `peers` bench has it).
const SKIPPED: [&str; 1] = ["hashring"];

/// Times one lap of the keys through each contender, appending ns per pick to its row.
struct Round<'a> {
    keys: &'a [[u8; 20]],
    times: &'a mut Vec<(String, Vec<f64>)>,
    at: usize,
}

impl Visit for Round<'_> {
    fn visit<R>(&mut self, name: &str, mut pick: impl FnMut(&[u8; 20]) -> R) {
        if SKIPPED.contains(&name) {
            return;
        }
        let started = Instant::now();
        for k in self.keys {
            black_box(pick(black_box(k)));
        }
        let ns = started.elapsed().as_secs_f64() * 1e9 / self.keys.len() as f64;
        if self.times.len() == self.at {
            self.times.push((name.to_owned(), Vec::new()));
        }
        self.times[self.at].1.push(ns);
        self.at += 1;
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Each contender's times and, for loadring's, the ratio to the peer listed next (if any).
fn report(n: usize, times: &[(String, Vec<f64>)]) {
    println!(
        "cold picks, {n} servers, {} keys a lap: median of {} rounds",
        COLD_KEYS,
        times[0].1.len()
    );
    for (k, (name, t)) in times.iter().enumerate() {
        let mut line = format!("  {name:<24} {:>7.1} ns", median(t.clone()));
        let peer = times
            .get(k + 1)
            .filter(|(next, _)| !next.starts_with("loadring"));
        if let Some((peer, p)) = peer.filter(|_| name.starts_with("loadring")) {
            let ratios = t.iter().zip(p).map(|(a, b)| a / b).collect();
            line += &format!("   {:.2}× {peer}", median(ratios));
        }
        println!("{line}");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let option = |name: &str| {
        let at = args.iter().position(|a| a == name)?;
        args.get(at + 1)?.parse::<usize>().ok()
    };
    let rounds = option("--rounds").unwrap_or(15);
    let sizes = option("--servers").map_or(vec![1000, 10_000], |n| vec![n]);
    let keys = common::keys(COLD_KEYS);
    for n in sizes {
        let contenders = Contenders::new(n);
        let mut times = Vec::new();
        for _ in 0..=rounds {
            let mut round = Round {
                keys: &keys,
                times: &mut times,
                at: 0,
            };
            contenders.each(&mut round);
        }
        // The first round warms up.
        for (_, t) in &mut times {
            t.remove(0);
        }
        report(n, &times);
    }
}
