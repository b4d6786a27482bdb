//! The measurements: one fleet, one key set, and a row of figures for each strategy of
//! [`Strategy::all`], each built the same way, as `AnyBalancer::new(strategy, servers)`.
//!
//! Memory is the heap bytes a strategy holds after its constructor returns, beyond the
//! servers it was given, as [`heap`](crate::heap) counts them.

use std::collections::HashMap;
use std::hint::black_box;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::time::Instant;

use loadring::{AnyBalancer, Balancer, BalancerExt, Error, PickError, Server, Strategy, Update};

use crate::{heap, metrics};

/// How many keys the hot figure walks in turn, as the criterion benches do: the first of
/// the key set, so the strategy's tables stay in cache.
pub const HOT_KEYS: usize = 1024;

/// The strategies of the report: [`Strategy::all`], with least-loaded's random draws seeded
/// so that runs repeat.
pub fn strategies() -> Vec<Strategy> {
    Strategy::all()
        .into_iter()
        .map(|s| match s {
            Strategy::LeastLoaded(options) => Strategy::LeastLoaded(options.with_seed(7)),
            other => other,
        })
        .collect()
}

/// One line of the report.
#[derive(Debug, Clone)]
pub struct Row {
    pub strategy: &'static str,
    pub build_us: f64,
    /// Per pick over the [`HOT_KEYS`] first keys, walked in turn.
    pub pick_hot_ns: f64,
    /// Per pick over every key once; key-free strategies have none.
    pub pick_cold_ns: Option<f64>,
    pub memory_bytes: i64,
    pub low_to_mean: f64,
    pub peak_to_mean: f64,
    pub cv: f64,
    pub worst_share_error: f64,
    pub moved_on_remove: Option<f64>,
    pub ideal_on_remove: Option<f64>,
    pub moved_on_add: Option<f64>,
    pub moved_on_unhealthy: Option<f64>,
    pub restored: Option<bool>,
    /// Requests per server, in fleet order.
    pub counts: Vec<u64>,
}

/// The server that joins the fleet in the "added" figure.
const JOINING: &str = "10.255.255.254:8080";

/// The fleet every strategy is built over.
pub struct Fleet {
    ids: Vec<String>,
    weights: Vec<u32>,
    /// Every server's capacity (only fill-first reads it).
    capacity: u64,
    /// Global index of every id, the joining one included.
    index: HashMap<String, u32>,
}

impl Fleet {
    /// `n` servers, `10.0.x.y:8080`, with weights repeating `pattern`, each with room for
    /// twice the mean of `keys` requests in flight.
    pub fn new(n: usize, pattern: &[u32], keys: usize) -> Self {
        let ids: Vec<String> = (0..n)
            .map(|i| format!("10.{}.{}.{}:8080", i >> 16, (i >> 8) & 255, i & 255))
            .collect();
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
            capacity: (2 * keys).div_ceil(n) as u64,
            index,
        }
    }

    /// A fresh server, with cells of its own.
    fn server(&self, id: &str, weight: u32) -> Server {
        Server::new(id)
            .with_weight(weight)
            .with_capacity(self.capacity)
    }

    /// Fresh servers, with cells of their own.
    fn servers(&self) -> Vec<Server> {
        self.ids
            .iter()
            .zip(&self.weights)
            .map(|(id, &w)| self.server(id, w))
            .collect()
    }

    /// Which server (global index) each key goes to.
    fn assign(&self, b: &AnyBalancer, keys: &[String]) -> Result<Vec<u32>, PickError> {
        keys.iter()
            .map(|k| b.pick(k.as_str()).map(|s| self.index[s.id()]))
            .collect()
    }

    /// Where each key runs while every key's lease is held at once, as if all requests ran
    /// together: the strategies that count requests in flight see all the others. Key-free
    /// strategies take no key.
    fn held(&self, b: &AnyBalancer, keys: &[String]) -> Result<Vec<u32>, PickError> {
        let keyed = b.strategy().is_keyed();
        let leases = keys
            .iter()
            .map(|k| {
                if keyed {
                    b.acquire(k.as_str())
                } else {
                    b.acquire_next()
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(leases.iter().map(|l| self.index[l.id()]).collect())
    }
}

/// What building a strategy over a fleet costs.
pub struct Build {
    /// The median time of three builds.
    pub us: f64,
    /// Heap bytes the last build holds beyond the servers it was given.
    pub bytes: i64,
    /// The last build.
    pub balancer: AnyBalancer,
}

/// Builds `strategy` over `fleet` three times, and keeps the last.
pub fn build(strategy: Strategy, fleet: &Fleet) -> Result<Build, Error> {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..3 {
        // The previous build goes first, so that it is not counted in this one.
        drop(last.take());
        let servers = fleet.servers();
        let live = heap::live_bytes();
        let t = Instant::now();
        let b = AnyBalancer::new(strategy, servers)?;
        times.push(t.elapsed().as_secs_f64() * 1e6);
        last = Some((b, (heap::live_bytes() - live) as i64));
    }
    let (balancer, bytes) = last.expect("three builds");
    Ok(Build {
        us: metrics::median(&mut times),
        bytes,
        balancer,
    })
}

/// Nanoseconds per pick over `keys`, walked `rounds` times.
fn per_pick(b: &AnyBalancer, keys: &[String], rounds: usize) -> f64 {
    let t = Instant::now();
    for _ in 0..rounds {
        for k in keys {
            let _ = black_box(b.pick(black_box(k.as_str())));
        }
    }
    t.elapsed().as_secs_f64() * 1e9 / (keys.len() * rounds) as f64
}

/// Nanoseconds per pick of a key-free strategy, over `n` picks.
fn per_next(b: &AnyBalancer, n: usize) -> f64 {
    let t = Instant::now();
    for _ in 0..n {
        let _ = black_box(b.next());
    }
    t.elapsed().as_secs_f64() * 1e9 / n as f64
}

/// Measures one strategy. A strategy that cannot take the fleet (weights it cannot honour)
/// fails with its constructor's error.
pub fn measure(
    strategy: Strategy,
    fleet: &Fleet,
    keys: &[String],
    passes: usize,
) -> Result<Row, Error> {
    let fresh = || AnyBalancer::new(strategy, fleet.servers());
    let Build {
        us: build_us,
        bytes: memory_bytes,
        balancer: b,
    } = build(strategy, fleet)?;
    let keyed = strategy.is_keyed();
    let hot_keys = &keys[..keys.len().min(HOT_KEYS)];
    // Hot and cold passes alternate, so that a slow spell of the machine touches both.
    let (mut hot, mut cold) = (Vec::new(), Vec::new());
    for _ in 0..passes {
        if keyed {
            // As many picks in both: the hot keys walked over and over, every key once.
            let rounds = keys.len().div_ceil(hot_keys.len());
            hot.push(per_pick(&b, hot_keys, rounds));
            cold.push(per_pick(&b, keys, 1));
        } else {
            hot.push(per_next(&b, keys.len()));
        }
    }
    let mut counts = vec![0u64; fleet.ids.len()];
    for i in fleet.held(&fresh()?, keys)? {
        counts[i as usize] += 1;
    }
    let bal = metrics::balance(&counts, &fleet.weights).expect("keys and servers");
    let mut row = Row {
        strategy: strategy.name(),
        build_us,
        pick_hot_ns: metrics::median(&mut hot),
        pick_cold_ns: (!cold.is_empty()).then(|| metrics::median(&mut cold)),
        memory_bytes,
        low_to_mean: bal.low_to_mean,
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
    if keyed {
        let before = fleet.assign(&b, keys)?;
        let victim = &fleet.ids[fleet.ids.len() / 2];
        let mut without = fresh()?;
        without.remove(victim)?;
        row.moved_on_remove = Some(metrics::moved(&before, &fleet.assign(&without, keys)?));
        let share = row.counts[fleet.ids.len() / 2] as f64 / keys.len() as f64;
        row.ideal_on_remove = Some(share);
        let mut with = fresh()?;
        with.add(fleet.server(JOINING, fleet.weights[0]))?;
        row.moved_on_add = Some(metrics::moved(&before, &fleet.assign(&with, keys)?));
        b.set_healthy(victim, false)?;
        row.moved_on_unhealthy = Some(metrics::moved(&before, &fleet.assign(&b, keys)?));
        b.set_healthy(victim, true)?;
        row.restored = Some(fleet.assign(&b, keys)? == before);
    }
    Ok(row)
}

/// Generated request ids: 20 bytes each, like `req-3f2a9c0d81b4e657`.
pub fn generated_keys(n: usize) -> Vec<String> {
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

/// Request ids from a file, one per line.
pub fn read_keys(path: &Path) -> Result<Vec<String>, String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The strategy of the report with this name.
    fn find(name: &str) -> Strategy {
        strategies().into_iter().find(|s| s.name() == name).unwrap()
    }

    #[test]
    fn every_strategy_once_and_least_loaded_seeded() {
        let names: Vec<&str> = strategies().iter().map(Strategy::name).collect();
        let all: Vec<&str> = Strategy::all().iter().map(Strategy::name).collect();
        assert_eq!(names, all);
        assert!(matches!(find("least-loaded"), Strategy::LeastLoaded(o) if o.seed == Some(7)));
    }

    #[test]
    fn a_small_run_gives_known_figures() {
        let keys = generated_keys(20_000);
        let fleet = Fleet::new(10, &[1], keys.len());
        let row = measure(find("ring"), &fleet, &keys, 1).unwrap();
        assert_eq!(row.counts.iter().sum::<u64>(), 20_000);
        assert_eq!(row.restored, Some(true));
        // Removing or failing a server moves exactly its keys on a ring.
        assert_eq!(row.moved_on_remove, row.ideal_on_remove);
        assert_eq!(row.moved_on_unhealthy, row.ideal_on_remove);
        assert!((row.moved_on_add.unwrap() - 1.0 / 11.0).abs() < 0.03);
        assert!(row.memory_bytes > 1600 * 16, "memory {}", row.memory_bytes);
        let row = measure(find("modulo"), &fleet, &keys, 1).unwrap();
        assert!(row.moved_on_remove.unwrap() > 0.2);
        assert!(row.peak_to_mean < 1.1);
        // Jump's removal moves the last bucket into the gap: the removed and the last
        // server's keys move, about 2/n; a join at the end moves about 1/(n+1).
        let row = measure(find("jump"), &fleet, &keys, 1).unwrap();
        assert!((row.moved_on_remove.unwrap() - 0.2).abs() < 0.03);
        assert!((row.moved_on_add.unwrap() - 1.0 / 11.0).abs() < 0.03);
    }

    #[test]
    fn pickers_balance_with_leases_held() {
        let keys = generated_keys(10_000);
        let fleet = Fleet::new(10, &[1], keys.len());
        let rr = measure(find("round-robin"), &fleet, &keys, 1).unwrap();
        assert_eq!(rr.counts, vec![1000; 10]);
        assert_eq!(rr.moved_on_remove, None);
        // Power of two choices keeps every server within a few requests of the mean.
        let ll = measure(find("least-loaded"), &fleet, &keys, 1).unwrap();
        assert!(ll.peak_to_mean <= 1.005, "peak/mean {}", ll.peak_to_mean);
        // Room for twice the mean: the first five servers take 2000 each, the rest nothing.
        let ff = measure(find("fill-first"), &fleet, &keys, 1).unwrap();
        assert_eq!(ff.counts, [vec![2000; 5], vec![0; 5]].concat());
        assert_eq!((ff.low_to_mean, ff.peak_to_mean), (0.0, 2.0));
        // Bounded loads cap every server at ⌈1.25 × the mean⌉ while all leases are held.
        let bounded = measure(find("bounded"), &fleet, &keys, 1).unwrap();
        assert!(
            bounded.counts.iter().all(|&c| c <= 1250),
            "{:?}",
            bounded.counts
        );
    }

    #[test]
    fn weights_that_a_strategy_cannot_honour_are_its_error() {
        let keys = generated_keys(100);
        let fleet = Fleet::new(4, &[1, 2], keys.len());
        for name in ["jump", "fill-first"] {
            let e = measure(find(name), &fleet, &keys, 1).unwrap_err();
            assert!(matches!(e, Error::WeightsUnsupported { .. }), "{name}: {e}");
        }
        assert!(measure(find("ring"), &fleet, &keys, 1).is_ok());
    }

    #[test]
    fn generated_keys_are_distinct_and_twenty_bytes() {
        let keys = generated_keys(1000);
        assert!(keys.iter().all(|k| k.len() == 20));
        let set: std::collections::HashSet<_> = keys.iter().collect();
        assert_eq!(set.len(), 1000);
    }
}
