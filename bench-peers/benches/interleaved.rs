//! The picks of loadring and its peers, taking turns: each round times the same picks
//! through every contender in a row, so a busy machine slows them alike, and the report gives
//! each contender's median time a pick and its median ratio to the peer it stands beside (per
//! round, so drifts between rounds cancel). Both regimes: hot, 1024 keys picked 1024 times
//! over; cold, one lap of 2²⁰ distinct keys. Then the ring's build beside pingora-ketama's,
//! taking turns the same way.
//!
//! `cargo bench -p loadring-bench-peers --bench interleaved` (from the repository root);
//! `-- --rounds 21` for more rounds (default 15), `-- --servers 1000` for one fleet size
//! (default 1000 and 10 000).

use std::hint::black_box;
use std::time::Instant;

mod common;

use common::{COLD_KEYS, Contenders, HOT_KEYS, Visit, addrs, ids, ketama_build};
use loadring::HashRing;

/// Contenders left out: `hashring` takes microseconds a pick, so its laps would stretch
/// each round tenfold (the `peers` bench has it).
const SKIPPED: [&str; 1] = ["hashring"];

/// Laps of the hot keys in a round: a million picks.
const HOT_LAPS: usize = 1024;

/// Times `laps` laps of the keys through each contender, appending ns per pick to its row.
struct Round<'a> {
    keys: &'a [[u8; 20]],
    laps: usize,
    times: &'a mut Vec<(String, Vec<f64>)>,
    at: usize,
}

impl Visit for Round<'_> {
    fn visit<R>(&mut self, name: &str, mut pick: impl FnMut(&[u8; 20]) -> R) {
        if SKIPPED.contains(&name) {
            return;
        }
        let started = Instant::now();
        for _ in 0..self.laps {
            for k in self.keys {
                black_box(pick(black_box(k)));
            }
        }
        let picks = self.keys.len() * self.laps;
        let ns = started.elapsed().as_secs_f64() * 1e9 / picks as f64;
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

/// Each contender's times (in `unit`) under `title` and, for loadring's, the ratio to the
/// peer listed next (if any).
fn report(title: &str, unit: &str, times: &[(String, Vec<f64>)]) {
    println!("{title}: median of {} rounds", times[0].1.len());
    for (k, (name, t)) in times.iter().enumerate() {
        let mut line = format!("  {name:<24} {:>7.2} {unit}", median(t.clone()));
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
    let (hot, cold) = (common::keys(HOT_KEYS), common::keys(COLD_KEYS));
    for n in sizes {
        let contenders = Contenders::new(n);
        for (regime, keys, laps) in [("hot", &hot, HOT_LAPS), ("cold", &cold, 1)] {
            let mut times = Vec::new();
            for _ in 0..=rounds {
                let mut round = Round {
                    keys,
                    laps,
                    times: &mut times,
                    at: 0,
                };
                contenders.each(&mut round);
            }
            let title = format!("{regime} picks, {n} servers, {} keys × {laps}", keys.len());
            report(&title, "ns", &without_warm_up(times));
        }
    }
    builds(rounds);
}

/// The rows without their first round, which warms up.
fn without_warm_up(mut times: Vec<(String, Vec<f64>)>) -> Vec<(String, Vec<f64>)> {
    for (_, t) in &mut times {
        t.remove(0);
    }
    times
}

/// The ring's build beside pingora-ketama's at 1000 servers, taking turns, in ms.
fn builds(rounds: usize) {
    let addrs = addrs(1000);
    let ids = ids(&addrs);
    let time = |build: &dyn Fn()| {
        let started = Instant::now();
        for _ in 0..5 {
            build();
        }
        started.elapsed().as_secs_f64() * 1e3 / 5.0
    };
    let (mut ring, mut ketama) = (Vec::new(), Vec::new());
    for _ in 0..=rounds {
        ring.push(time(&|| {
            drop(black_box(HashRing::new(ids.iter().map(String::as_str))))
        }));
        ketama.push(time(&|| drop(black_box(ketama_build(black_box(&addrs))))));
    }
    let times = vec![
        ("loadring HashRing".into(), ring),
        ("pingora-ketama".into(), ketama),
    ];
    report("build, 1000 servers", "ms", &without_warm_up(times));
}
