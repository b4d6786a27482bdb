//! Balance and disruption of the hash strategies at 100 servers, with many keys.
//!
//! `cargo run --release --all-features --example hash_report [balance_keys] [moved_keys]`
//! (defaults: 10 000 000 and 1 000 000).

use std::time::Instant;

use loadring::{
    Balancer, BalancerExt, BoundedLoad, HashRing, Jump, Maglev, Prehashed, Rendezvous, Server,
};

fn ids(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("10.0.{}.{}:8080", i / 256, i % 256))
        .collect()
}

/// Peak over mean of keys per server.
fn balance(b: &dyn Balancer, keys: u64) -> f64 {
    let mut counts = vec![0u64; b.len()];
    for k in 0..keys {
        let s = b.pick(&k).expect("a healthy server");
        counts[b.position(s.id()).expect("known")] += 1;
    }
    let peak = *counts.iter().max().expect("servers") as f64;
    peak / (keys as f64 / b.len() as f64)
}

/// The fraction of keys whose server differs between two balancers.
fn moved(a: &dyn Balancer, b: &dyn Balancer, keys: u64) -> f64 {
    let moved = (0..keys)
        .filter(|k| a.pick(k).expect("pick").id() != b.pick(k).expect("pick").id())
        .count();
    moved as f64 / keys as f64
}

fn report(
    name: &str,
    build: impl Fn(&[String]) -> Box<dyn Balancer>,
    remove: impl Fn(&[String]) -> Box<dyn Balancer>,
    balance_keys: u64,
    moved_keys: u64,
) {
    let all = ids(101);
    let start = Instant::now();
    let hundred = build(&all[..100]);
    let peak = balance(hundred.as_ref(), balance_keys);
    let fewer = remove(&all[..100]);
    let more = build(&all);
    let removed = moved(hundred.as_ref(), fewer.as_ref(), moved_keys);
    let added = moved(hundred.as_ref(), more.as_ref(), moved_keys);
    println!(
        "{name:<12} peak/mean {peak:.4}   remove 1 of 100: {:>6.3} %   add 1 to 100: {:>6.3} %   ({:.1} s)",
        removed * 100.0,
        added * 100.0,
        start.elapsed().as_secs_f64()
    );
}

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .map(|a| a.parse::<u64>().expect("a number"));
    let balance_keys = args.next().unwrap_or(10_000_000);
    let moved_keys = args.next().unwrap_or(1_000_000);
    println!("100 servers, {balance_keys} keys for balance, {moved_keys} for movement");
    let strs = |ids: &[String]| ids.iter().map(String::clone).collect::<Vec<_>>();
    // Removal: the middle server for the strategies that do not care, the last for jump
    // (its minimal-disruption removal), and the middle one for jump's swap-remove too.
    let without_middle = |ids: &[String]| {
        let mut v = strs(ids);
        v.remove(37);
        v
    };
    report(
        "jump",
        |ids| Box::new(Jump::new(strs(ids)).unwrap()),
        |ids| {
            let mut j = Jump::new(strs(ids)).unwrap();
            j.pop().unwrap();
            Box::new(j)
        },
        balance_keys,
        moved_keys,
    );
    report(
        "jump (mid)",
        |ids| Box::new(Jump::new(strs(ids)).unwrap()),
        |ids| {
            let mut j = Jump::new(strs(ids)).unwrap();
            j.remove(&ids[37]).unwrap();
            Box::new(j)
        },
        balance_keys,
        moved_keys,
    );
    report(
        "maglev",
        |ids| Box::new(Maglev::new(strs(ids)).unwrap()),
        |ids| Box::new(Maglev::new(without_middle(ids)).unwrap()),
        balance_keys,
        moved_keys,
    );
    report(
        "rendezvous",
        |ids| Box::new(Rendezvous::new(strs(ids)).unwrap()),
        |ids| Box::new(Rendezvous::new(without_middle(ids)).unwrap()),
        balance_keys,
        moved_keys,
    );
    report(
        "ring",
        |ids| Box::new(HashRing::new(strs(ids)).unwrap()),
        |ids| Box::new(HashRing::new(without_middle(ids)).unwrap()),
        balance_keys,
        moved_keys,
    );
    #[cfg(feature = "ketama")]
    report(
        "ketama",
        |ids| Box::new(loadring::KetamaRing::new(strs(ids)).unwrap()),
        |ids| Box::new(loadring::KetamaRing::new(without_middle(ids)).unwrap()),
        balance_keys,
        moved_keys,
    );

    // Bounded loads: hold many leases at once and see the busiest server against the mean.
    for epsilon in [0.25, 0.1] {
        let b = BoundedLoad::with_epsilon(strs(&ids(100)), epsilon).unwrap();
        let held = 100_000u64;
        let leases: Vec<_> = (0..held).map(|k| b.acquire(&k).unwrap()).collect();
        let peak = b.servers().iter().map(Server::in_flight).max().unwrap();
        let idle = b.servers().iter().filter(|s| s.in_flight() == 0).count();
        println!(
            "bounded ε={epsilon:<4} {held} leases held: peak/mean {:.4} (cap {:.4}), idle servers {idle}",
            peak as f64 / (held as f64 / 100.0),
            ((1.0 + epsilon) * held as f64 / 100.0).ceil() / (held as f64 / 100.0),
        );
        drop(leases);
        let ring = HashRing::new(strs(&ids(100))).unwrap();
        let moved = (0..held)
            .filter(|&k| {
                let lease = b.acquire(&Prehashed(k)).unwrap();
                lease.server().id() != ring.pick(&Prehashed(k)).unwrap().id()
            })
            .count();
        assert_eq!(
            moved, 0,
            "with one lease at a time every key stays on its ring server"
        );
    }
}
