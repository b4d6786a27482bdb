//! Independent references for the key → server mappings of [`Maglev`], [`Rendezvous`],
//! [`BoundedLoad`] and [`Jump`], transcribed from their documentation (the type docs and the
//! `loadring::hash` module docs), with `xxhash-rust` and `siphasher` for the hashing and none
//! of the crate's own hashing or strategy code.
//!
//! The golden-vector files pin snapshots of the crate's output. Here (a) the references
//! reproduce those pinned values for the same fleets and keys, and (b) the crate agrees with
//! the references over 10 000 keys on each of several fleets (1 to 200 servers, mixed
//! weights, some or all servers down, the default and a keyed hasher). So a change of the
//! crate's mapping fails here as well as in the golden files, and so does a crate that no
//! longer does what its docs say.

use std::collections::VecDeque;
use std::hash::Hasher as _;

use loadring::{
    Balancer, BalancerExt, BoundedLoad, BoundedOptions, Jump, KeyHasher, Maglev, MaglevOptions,
    Rendezvous, Server,
};
use siphasher::sip::SipHasher13;
use xxhash_rust::xxh3::xxh3_64_with_seed;

/// The default key hash's seed: `"loadring"` as a big-endian `u64`.
const SEED: u64 = u64::from_be_bytes(*b"loadring");
/// The secret of the keyed hasher the fleets of (b) use on every other fleet.
const SIP_KEY: [u8; 16] = *b"not real secret!";
/// Keys checked per fleet in (b).
const KEYS: usize = 10_000;

/// A key's hash: XXH3-64 with [`SEED`], or SipHash-1-3 keyed with [`SIP_KEY`] (its first 8
/// bytes little-endian are `k0`, the last 8 `k1`).
fn key_hash(key: &str, keyed: bool) -> u64 {
    if !keyed {
        return xxh3_64_with_seed(key.as_bytes(), SEED);
    }
    let k0 = u64::from_le_bytes(SIP_KEY[..8].try_into().unwrap());
    let k1 = u64::from_le_bytes(SIP_KEY[8..].try_into().unwrap());
    let mut h = SipHasher13::new_with_keys(k0, k1);
    h.write(key.as_bytes());
    h.finish()
}

/// The SplitMix64 finaliser.
fn splitmix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Maglev: the table filled in rounds from each server's permutation, and its pick.
struct MaglevRef {
    table: Vec<usize>,
}

impl MaglevRef {
    fn new(ids: &[String], weights: &[u32], m: u64) -> Self {
        let n = ids.len();
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&i| ids[i].as_bytes());
        let hash = |i: usize, seed: u64| xxh3_64_with_seed(ids[i].as_bytes(), seed);
        let offset: Vec<u64> = (0..n).map(|i| hash(i, 0x6d61_676c_6576_2d6f) % m).collect();
        let skip: Vec<u64> = (0..n)
            .map(|i| hash(i, 0x6d61_676c_6576_2d73) % (m - 1) + 1)
            .collect();
        let w_max = u64::from(*weights.iter().max().unwrap());
        let (mut table, mut held, mut next) =
            (vec![usize::MAX; m as usize], vec![0u64; n], vec![0u64; n]);
        let mut filled = 0;
        'rounds: for r in 1u64.. {
            for &i in &order {
                if held[i] * w_max < r * u64::from(weights[i]) {
                    loop {
                        let slot = ((offset[i] + next[i] * skip[i]) % m) as usize;
                        next[i] += 1;
                        if table[slot] == usize::MAX {
                            table[slot] = i;
                            break;
                        }
                    }
                    held[i] += 1;
                    filled += 1;
                    if filled == m {
                        break 'rounds;
                    }
                }
            }
        }
        MaglevRef { table }
    }

    /// Slot `(h × M) >> 64`, else the next slot onward (wrapping) whose server is healthy;
    /// none when no server is.
    fn pick(&self, h: u64, healthy: &[bool]) -> Option<usize> {
        let m = self.table.len();
        let slot = ((u128::from(h) * m as u128) >> 64) as usize;
        let walk = if healthy.contains(&true) { m } else { 0 };
        (0..walk)
            .map(|j| self.table[(slot + j) % m])
            .find(|&i| healthy[i])
    }
}

/// `ln u` for u in (0, 1) as rendezvous documents it: IEEE-754 operations in a fixed order.
fn ln(u: f64) -> f64 {
    let bits = u.to_bits();
    let mut e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits(bits & ((1 << 52) - 1) | 1023 << 52);
    if m > std::f64::consts::SQRT_2 {
        m *= 0.5;
        e += 1;
    }
    let t = (m - 1.0) / (m + 1.0);
    let z = t * t;
    let series = [17.0, 15.0, 13.0, 11.0, 9.0, 7.0, 5.0, 3.0, 1.0]
        .iter()
        .fold(1.0 / 19.0, |acc, k| 1.0 / k + z * acc);
    e as f64 * std::f64::consts::LN_2 + 2.0 * t * series
}

/// Rendezvous: the healthy servers ranked by score for a key's hash, best first.
fn rendezvous<'a>(
    ids: &'a [String],
    weights: &'a [u32],
    healthy: &'a [bool],
) -> impl Fn(u64) -> Vec<usize> + 'a {
    let equal = weights.iter().all(|&w| w == weights[0]);
    let seeds: Vec<u64> = ids
        .iter()
        .map(|id| xxh3_64_with_seed(id.as_bytes(), 0x726e_647a_766f_7573))
        .collect();
    move |h| {
        let mut scored: Vec<(u64, f64, usize)> = (0..ids.len())
            .filter(|&i| healthy[i])
            .map(|i| {
                let d = splitmix64(h ^ seeds[i]) >> 12;
                let u = (2 * d + 1) as f64 / (1u64 << 53) as f64;
                (d, -f64::from(weights[i]) / ln(u), i)
            })
            .collect();
        scored.sort_by(|a, b| {
            let by_score = if equal {
                b.0.cmp(&a.0)
            } else {
                b.1.total_cmp(&a.1)
            };
            by_score.then_with(|| ids[a.2].cmp(&ids[b.2]))
        });
        scored.into_iter().map(|s| s.2).collect()
    }
}

/// Bounded loads: a ring of `weight × points_per_weight` points a server, ordered by value
/// then owner id, and the requests in flight that its caps count.
struct BoundedRef {
    weights: Vec<u32>,
    points: Vec<(u64, usize)>,
    epsilon: f64,
    held: Vec<u64>,
    in_flight: u64,
}

impl BoundedRef {
    fn new(ids: &[String], weights: &[u32], points_per_weight: u32, epsilon: f64) -> Self {
        let mut points = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            for p in 0..weights[i] * points_per_weight {
                let bytes = [id.as_bytes(), &p.to_le_bytes()].concat();
                points.push((xxh3_64_with_seed(&bytes, SEED), i));
            }
        }
        points.sort_by(|a, b| (a.0, &ids[a.1]).cmp(&(b.0, &ids[b.1])));
        let (weights, held) = (weights.to_vec(), vec![0; ids.len()]);
        BoundedRef {
            weights,
            points,
            epsilon,
            held,
            in_flight: 0,
        }
    }

    /// Where a request for `h` goes now: the first healthy server under its cap within n runs
    /// of the walk clockwise from the first point `≥ h`, else over the whole lap with caps
    /// from the healthy weights. A cap is `⌈(1 + ε) × (L + 1) × w / W⌉` evaluated in `f64`,
    /// left to right.
    fn choose(&self, h: u64, healthy: &[bool]) -> Option<usize> {
        let len = self.points.len();
        let start = self.points.partition_point(|p| p.0 < h);
        let owner = |j: usize| self.points[(start + j) % len].1;
        let runs = (0..len)
            .filter(move |&j| j == 0 || owner(j) != owner(j - 1))
            .map(owner);
        let total = (self.in_flight + 1) as f64;
        let fits = |i: usize, sum: u32| {
            let cap =
                ((1.0 + self.epsilon) * total * f64::from(self.weights[i]) / f64::from(sum)).ceil();
            healthy[i] && (self.held[i] as f64) < cap
        };
        let all: u32 = self.weights.iter().sum();
        let up: u32 = (0..self.weights.len())
            .filter(|&i| healthy[i])
            .map(|i| self.weights[i])
            .sum();
        let mut first_n = runs.clone().take(self.weights.len());
        first_n
            .find(|&i| fits(i, all))
            .or_else(|| runs.clone().find(|&i| fits(i, up)))
    }
}

/// Jump consistent hash, as the pseudo-code of `jump_hash` writes it.
fn jump_hash(mut key: u64, buckets: u32) -> Option<u32> {
    let (mut b, mut j) = (-1i64, 0i64);
    while j < i64::from(buckets) {
        b = j;
        key = key.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(1);
        j = ((b + 1) as f64 * ((1u64 << 31) as f64 / ((key >> 33) + 1) as f64)) as i64;
    }
    u32::try_from(b).ok()
}

/// Jump's pick: the key's bucket, then `rehash(h, 1..=16)`'s, then a scan onward from the last.
fn jump(h: u64, healthy: &[bool]) -> Option<usize> {
    let n = healthy.len();
    let bucket = |h: u64| jump_hash(h, n as u32).map(|b| b as usize);
    let rehash = |a: u64| splitmix64(h.wrapping_add(a.wrapping_mul(0x9e37_79b9_7f4a_7c15)));
    let mut tries: Vec<usize> = bucket(h).into_iter().collect();
    tries.extend((1..=16).filter_map(|a| bucket(rehash(a))));
    let last = tries.last().copied().unwrap_or(0);
    tries.extend((1..n).map(|i| (last + i) % n));
    tries.into_iter().find(|&i| healthy[i])
}

// (a) The references reproduce the golden files' pinned values.

fn golden_ids(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("10.0.0.{i}:6379")).collect()
}

/// Healthy flags with the servers of `down` marked down.
fn health(n: usize, down: &[usize]) -> Vec<bool> {
    (0..n).map(|i| !down.contains(&i)).collect()
}

/// The reference's answers for `key-0` … `key-23`.
fn golden_map(pick: impl Fn(u64) -> Option<usize>) -> Vec<usize> {
    (0..24)
        .map(|k| pick(key_hash(&format!("key-{k}"), false)).unwrap())
        .collect()
}

#[test]
fn maglev_reproduces_golden_maglev() {
    let ids = golden_ids(10);
    let weights: Vec<u32> = (0..10).map(|i| 1 + i % 3).collect();
    let r = MaglevRef::new(&ids, &weights, 65_537);
    let counts: Vec<usize> = (0..10)
        .map(|i| r.table.iter().filter(|&&s| s == i).count())
        .collect();
    assert_eq!(
        counts,
        [
            3450, 6899, 10348, 3450, 6899, 10348, 3449, 6898, 10347, 3449
        ]
    );
    assert_eq!(
        golden_map(|h| r.pick(h, &health(10, &[]))),
        [
            2, 2, 1, 6, 5, 5, 7, 4, 2, 7, 1, 1, 5, 1, 5, 1, 2, 7, 9, 2, 9, 1, 0, 0
        ]
    );
    assert_eq!(
        golden_map(|h| r.pick(h, &health(10, &[0, 7]))),
        [
            2, 2, 1, 6, 5, 5, 3, 4, 2, 6, 1, 1, 5, 1, 5, 1, 2, 9, 9, 2, 9, 1, 4, 5
        ]
    );
}

#[test]
fn rendezvous_reproduces_golden_rendezvous() {
    let ids = golden_ids(10);
    let pinned = [
        (
            [
                0, 0, 1, 2, 2, 3, 6, 3, 3, 5, 8, 4, 3, 0, 7, 9, 0, 9, 7, 1, 6, 6, 5, 8,
            ],
            [
                6, 5, 1, 2, 2, 3, 6, 3, 3, 5, 8, 4, 3, 3, 2, 9, 8, 9, 1, 1, 6, 6, 5, 8,
            ],
        ),
        (
            [
                0, 5, 1, 2, 2, 3, 6, 3, 2, 5, 8, 4, 3, 0, 2, 2, 0, 9, 7, 1, 2, 8, 5, 8,
            ],
            [
                6, 5, 1, 2, 2, 3, 6, 3, 2, 5, 8, 4, 3, 5, 2, 2, 8, 9, 8, 1, 2, 8, 5, 8,
            ],
        ),
    ];
    for (weighted, (up, failed)) in [false, true].into_iter().zip(pinned) {
        let weights: Vec<u32> = (0..10)
            .map(|i| if weighted { 1 + i % 3 } else { 1 })
            .collect();
        let pick = |down: &[usize]| {
            let healthy = health(10, down);
            let rank = rendezvous(&ids, &weights, &healthy);
            golden_map(|h| rank(h).first().copied())
        };
        assert_eq!(pick(&[]), up);
        assert_eq!(pick(&[0, 7]), failed);
    }
}

#[test]
fn bounded_reproduces_golden_bounded() {
    let ids = golden_ids(5);
    let mut r = BoundedRef::new(&ids, &[1; 5], 160, 0.25);
    let up = health(5, &[]);
    assert_eq!(
        golden_map(|h| r.choose(h, &up)),
        [
            3, 4, 4, 1, 1, 2, 3, 3, 1, 2, 2, 3, 1, 2, 3, 4, 4, 3, 4, 1, 4, 3, 3, 0
        ]
    );
    let leases: Vec<usize> = (0..30)
        .map(|k| {
            let i = r
                .choose(key_hash(&format!("key-{}", k % 3), false), &up)
                .unwrap();
            (r.held[i], r.in_flight) = (r.held[i] + 1, r.in_flight + 1);
            i
        })
        .collect();
    assert_eq!(
        leases,
        [
            3, 4, 0, 1, 4, 0, 3, 1, 4, 3, 0, 1, 3, 4, 0, 1, 4, 0, 3, 1, 4, 3, 0, 1, 3, 4, 0, 1, 4,
            0
        ]
    );
}

#[test]
fn jump_reproduces_golden_jump() {
    assert_eq!(jump_hash(1, 10), Some(6));
    assert_eq!(
        golden_map(|h| jump(h, &health(10, &[]))),
        [
            0, 7, 0, 7, 4, 9, 4, 4, 6, 6, 5, 3, 8, 0, 8, 3, 2, 7, 0, 2, 3, 5, 3, 9
        ]
    );
    assert_eq!(
        golden_map(|h| jump(h, &health(10, &[0, 7]))),
        [
            3, 2, 5, 1, 4, 9, 4, 4, 6, 6, 5, 3, 8, 9, 8, 3, 2, 8, 1, 2, 3, 5, 3, 9
        ]
    );
}

// (b) The crate agrees with the references over many keys and fleets.

/// A fleet of (b): ids that do not come in id order, mixed weights, some servers down.
struct TestFleet {
    ids: Vec<String>,
    weights: Vec<u32>,
    healthy: Vec<bool>,
    keyed: bool,
}

/// Fleets of (b): (servers, largest weight, eighths down: server i is down when `i % 8` is
/// below it). One fleet is all down, and one has 25 of 200 up, so that Jump's scan runs.
const FLEETS: [(usize, u32, usize); 7] = [
    (1, 1, 0),
    (2, 3, 1),
    (3, 2, 8),
    (5, 1, 0),
    (13, 4, 3),
    (64, 3, 2),
    (200, 8, 7),
];

fn fleets(unit_weights: bool) -> impl Iterator<Item = TestFleet> {
    FLEETS
        .iter()
        .enumerate()
        .map(move |(f, &(n, max_weight, eighths_down))| TestFleet {
            ids: (0..n as u64)
                .map(|i| format!("node-{:03x}.svc:{}", splitmix64(i) % 4096, 8000 + i))
                .collect(),
            weights: (0..n as u64)
                .map(|i| {
                    if unit_weights {
                        1
                    } else {
                        1 + (splitmix64(!i) % u64::from(max_weight)) as u32
                    }
                })
                .collect(),
            healthy: (0..n).map(|i| i % 8 >= eighths_down).collect(),
            keyed: f % 2 == 1,
        })
}

impl TestFleet {
    fn servers(&self) -> Vec<Server> {
        let servers = self.ids.iter().zip(&self.weights);
        servers
            .map(|(id, &w)| Server::new(id.as_str()).with_weight(w))
            .collect()
    }

    fn hasher(&self) -> KeyHasher {
        if self.keyed {
            KeyHasher::siphash13(SIP_KEY)
        } else {
            KeyHasher::default()
        }
    }

    fn mark_down(&self, b: &dyn Balancer) {
        for (id, _) in self.ids.iter().zip(&self.healthy).filter(|(_, up)| !**up) {
            b.set_healthy(id, false).unwrap();
        }
    }

    fn keys(&self) -> impl Iterator<Item = (String, u64)> + '_ {
        (0..KEYS).map(|k| {
            let key = format!("{}/user-{k}", self.ids.len());
            let h = key_hash(&key, self.keyed);
            (key, h)
        })
    }

    /// Asserts that `b` picks what `reference` does for every key (by id).
    fn agree(&self, b: &dyn Balancer, reference: impl Fn(u64) -> Option<usize>) {
        for (key, h) in self.keys() {
            let want = reference(h).map(|i| self.ids[i].as_str());
            assert_eq!(
                b.pick(key.as_str()).ok().map(Server::id),
                want,
                "key {key}, {} servers",
                self.ids.len()
            );
        }
    }
}

#[test]
fn maglev_agrees_with_the_reference() {
    for f in fleets(false) {
        let m = if f.ids.len() <= 50 { 5003 } else { 65_537 };
        let options = MaglevOptions::default().with_table_size(m);
        let b = Maglev::with_options(f.servers(), options)
            .unwrap()
            .with_hasher(f.hasher());
        f.mark_down(&b);
        let r = MaglevRef::new(&f.ids, &f.weights, u64::from(m));
        let counts = b.servers().iter().map(|s| {
            let i = f.ids.iter().position(|id| id == s.id()).unwrap();
            r.table.iter().filter(|&&s| s == i).count()
        });
        assert_eq!(b.slot_counts(), counts.collect::<Vec<_>>());
        f.agree(&b, |h| r.pick(h, &f.healthy));
    }
}

#[test]
fn rendezvous_agrees_with_the_reference_and_ranks_alike() {
    for f in fleets(false) {
        let b = Rendezvous::new(f.servers())
            .unwrap()
            .with_hasher(f.hasher());
        f.mark_down(&b);
        let rank = rendezvous(&f.ids, &f.weights, &f.healthy);
        // Every rank on the small fleets; the first few on the large (a pass each).
        let ranks = if f.ids.len() <= 16 { 16 } else { 3 };
        for (key, h) in f.keys() {
            let want = rank(h);
            let got = b.candidates(key.as_str(), ranks);
            let want: Vec<&str> = want
                .iter()
                .take(ranks)
                .map(|&i| f.ids[i].as_str())
                .collect();
            assert_eq!(
                got.iter().map(|s| s.id()).collect::<Vec<_>>(),
                want,
                "key {key}"
            );
            assert_eq!(
                b.pick(key.as_str()).ok().map(Server::id),
                want.first().copied()
            );
        }
    }
}

#[test]
fn bounded_agrees_with_the_reference_as_leases_come_and_go() {
    for (f, epsilon) in fleets(false).zip([0.25, 0.1, 0.5, 0.1, 1.0, 0.25, 0.3]) {
        let points_per_weight = if f.ids.len() > 50 { 40 } else { 160 };
        let options = BoundedOptions::default()
            .with_epsilon(epsilon)
            .with_points_per_weight(points_per_weight);
        let b = BoundedLoad::with_options(f.servers(), options)
            .unwrap()
            .with_hasher(f.hasher());
        f.mark_down(&b);
        let mut r = BoundedRef::new(&f.ids, &f.weights, points_per_weight, epsilon);
        let mut leases = VecDeque::new();
        for (k, (key, h)) in f.keys().enumerate() {
            let want = r.choose(h, &f.healthy);
            let id = |i: usize| f.ids[i].as_str();
            assert_eq!(
                b.pick(key.as_str()).ok().map(Server::id),
                want.map(id),
                "look, key {key}"
            );
            let lease = b.acquire(key.as_str());
            assert_eq!(
                lease.as_ref().ok().map(|l| l.id()),
                want.map(id),
                "lease, key {key}"
            );
            if let (Ok(lease), Some(i)) = (lease, want) {
                (r.held[i], r.in_flight) = (r.held[i] + 1, r.in_flight + 1);
                leases.push_back((lease, i));
            }
            // Hold from 0 to 79 leases, rising and falling, so caps bind and loosen. With ε = 0.1
            // on 5 equal servers, (1 + ε) × 50 / 5 is 11.000000000000002 in f64: a cap of 12.
            while leases.len() > (k / 50) % 80 {
                let (_, i) = leases.pop_front().unwrap();
                (r.held[i], r.in_flight) = (r.held[i] - 1, r.in_flight - 1);
            }
        }
    }
}

#[test]
fn jump_agrees_with_the_reference() {
    for key in 0..2000u64 {
        for n in [1, 2, 3, 10, 1000, u32::MAX] {
            let key = splitmix64(key);
            assert_eq!(loadring::jump_hash(key, n), jump_hash(key, n));
        }
    }
    for f in fleets(true) {
        let b = Jump::new(f.servers()).unwrap().with_hasher(f.hasher());
        f.mark_down(&b);
        f.agree(&b, |h| jump(h, &f.healthy));
    }
}
