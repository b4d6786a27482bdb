//! The cases of the vectors: each keyed strategy over fleets of 1, 3, 10, 100 servers (and
//! ketama's own), with mixed weights, servers down and the keyed hasher; bounded loads' held
//! leases; round-robin's rotation. And what the crate answers for each.

use loadring::{
    AnyBalancer, Balancer, BalancerExt, BoundedOptions, JumpOptions, KeyHasher, MaglevOptions,
    ModuloOptions, Prehashed, RendezvousOptions, RingOptions, RoundRobinOptions, Server, Strategy,
};
#[cfg(feature = "ketama")]
use loadring::{KetamaFlavor, KetamaOptions};
use serde::Serialize;

use crate::keys::{SIP_KEY, TestKey};

/// How many ranked candidates each pick lists.
pub const MAX_CANDIDATES: usize = 10;

/// A strategy and its options.
#[derive(Clone, Copy)]
pub enum Strat {
    Modulo,
    Ring(u32),
    Jump,
    Maglev(u32),
    Rendezvous,
    /// ε and points per weight.
    Bounded(f64, u32),
    #[cfg(feature = "ketama")]
    Ketama(KetamaFlavor),
    RoundRobin,
}

/// What a case records.
pub enum Check {
    /// Every key's pick and ranked candidates.
    Picks,
    /// Acquires of these keys (indices) in order, every lease held.
    Leases(Vec<usize>),
    /// A fresh balancer's first picks, this many.
    Rotation(usize),
}

pub struct Case {
    pub name: String,
    pub strat: Strat,
    /// Keys hashed with the keyed SipHash rather than the default XXH3.
    pub keyed: bool,
    pub servers: Vec<(String, u32)>,
    pub down: Vec<String>,
    pub check: Check,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Options {
    None {},
    Ring {
        points_per_weight: u32,
    },
    Maglev {
        table_size: u32,
    },
    Bounded {
        epsilon: f64,
        points_per_weight: u32,
    },
    #[cfg(feature = "ketama")]
    Ketama {
        flavor: &'static str,
    },
}

#[derive(Serialize)]
struct ServerEntry<'a> {
    id: &'a str,
    weight: u32,
}

/// A case's fields before its results.
#[derive(Serialize)]
pub struct Header<'a> {
    name: &'a str,
    strategy: &'static str,
    options: Options,
    #[serde(skip_serializing_if = "Option::is_none")]
    hasher: Option<&'static str>,
    servers: Vec<ServerEntry<'a>>,
    down: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    max_candidates: Option<usize>,
}

/// The crate's answers for one case, one entry a line in the file.
pub enum Results {
    Picks(Vec<Pick>),
    Leases(Vec<Taken>),
    Rotation(Vec<Option<String>>),
}

#[derive(Serialize)]
pub struct Pick {
    key: usize,
    server: Option<String>,
    candidates: Vec<String>,
}

#[derive(Serialize)]
pub struct Taken {
    key: usize,
    server: Option<String>,
}

impl Strat {
    fn name(self) -> &'static str {
        match self {
            Strat::Modulo => "modulo",
            Strat::Ring(_) => "ring",
            Strat::Jump => "jump",
            Strat::Maglev(_) => "maglev",
            Strat::Rendezvous => "rendezvous",
            Strat::Bounded(..) => "bounded",
            #[cfg(feature = "ketama")]
            Strat::Ketama(_) => "ketama",
            Strat::RoundRobin => "round-robin",
        }
    }

    fn options(self) -> Options {
        match self {
            Strat::Ring(points_per_weight) => Options::Ring { points_per_weight },
            Strat::Maglev(table_size) => Options::Maglev { table_size },
            Strat::Bounded(epsilon, points_per_weight) => Options::Bounded {
                epsilon,
                points_per_weight,
            },
            #[cfg(feature = "ketama")]
            Strat::Ketama(flavor) => Options::Ketama {
                flavor: match flavor {
                    KetamaFlavor::Libmemcached => "libmemcached",
                    _ => "libketama",
                },
            },
            Strat::Modulo | Strat::Jump | Strat::Rendezvous | Strat::RoundRobin => Options::None {},
        }
    }

    fn strategy(self) -> Strategy {
        match self {
            Strat::Modulo => Strategy::Modulo(ModuloOptions::default()),
            Strat::Ring(p) => Strategy::Ring(RingOptions::default().with_points_per_weight(p)),
            Strat::Jump => Strategy::Jump(JumpOptions::default()),
            Strat::Maglev(m) => Strategy::Maglev(MaglevOptions::default().with_table_size(m)),
            Strat::Rendezvous => Strategy::Rendezvous(RendezvousOptions::default()),
            Strat::Bounded(e, p) => Strategy::Bounded(
                BoundedOptions::default()
                    .with_epsilon(e)
                    .with_points_per_weight(p),
            ),
            #[cfg(feature = "ketama")]
            Strat::Ketama(f) => Strategy::Ketama(KetamaOptions::default().with_flavor(f)),
            Strat::RoundRobin => Strategy::RoundRobin(RoundRobinOptions::default()),
        }
    }
}

impl Case {
    /// The case's strategy, hasher, servers and health as the file states them.
    pub fn header(&self) -> Header<'_> {
        let hasher = match (self.strat, self.keyed) {
            (Strat::RoundRobin, _) => None,
            #[cfg(feature = "ketama")]
            (Strat::Ketama(_), _) => Some("md5_ketama"),
            (_, true) => Some("siphash13"),
            (_, false) => Some("xxh3"),
        };
        Header {
            name: &self.name,
            strategy: self.strat.name(),
            options: self.strat.options(),
            hasher,
            servers: self
                .servers
                .iter()
                .map(|(id, weight)| ServerEntry {
                    id,
                    weight: *weight,
                })
                .collect(),
            down: &self.down,
            max_candidates: matches!(self.check, Check::Picks).then_some(MAX_CANDIDATES),
        }
    }

    /// What the crate answers for this case.
    pub fn run(&self, keys: &[TestKey]) -> Results {
        let servers = self
            .servers
            .iter()
            .map(|(id, w)| Server::new(id.as_str()).with_weight(*w));
        let mut balancer = AnyBalancer::new(self.strat.strategy(), servers)
            .unwrap_or_else(|e| panic!("case {}: {e}", self.name));
        if self.keyed {
            balancer = balancer.with_hasher(KeyHasher::siphash13(SIP_KEY));
        }
        for id in &self.down {
            balancer
                .set_healthy(id, false)
                .expect("a server of the case");
        }
        let b = &balancer;
        let id = |s: &Server| s.id().to_owned();
        let hash = |k: usize| Prehashed(keys[k].hash(b.hasher()));
        match &self.check {
            Check::Picks => Results::Picks(
                (0..keys.len())
                    .map(|key| Pick {
                        key,
                        server: b.pick(&hash(key)).ok().map(id),
                        candidates: b
                            .candidates(&hash(key), MAX_CANDIDATES)
                            .into_iter()
                            .map(id)
                            .collect(),
                    })
                    .collect(),
            ),
            Check::Leases(order) => {
                let mut held = Vec::new();
                let taken = order
                    .iter()
                    .map(|&key| {
                        let lease = b.acquire(&hash(key)).ok();
                        let server = lease.as_ref().map(|l| id(l.server()));
                        held.extend(lease);
                        Taken { key, server }
                    })
                    .collect();
                Results::Leases(taken)
            }
            Check::Rotation(n) => {
                Results::Rotation((0..*n).map(|_| b.next().ok().map(id)).collect())
            }
        }
    }
}

fn fleet<S: ToString>(ids: impl IntoIterator<Item = S>, weights: &[u32]) -> Vec<(String, u32)> {
    ids.into_iter()
        .enumerate()
        .map(|(i, id)| (id.to_string(), weights.get(i).copied().unwrap_or(1)))
        .collect()
}

/// Three servers, given out of id order, one of them with a non-ASCII id.
fn three(weights: &[u32]) -> Vec<(String, u32)> {
    fleet(["cache-b", "ключ", "cache-a"], weights)
}

/// Ten servers whose id order is not their numeric order (`…10:8080` sorts second).
fn ten(weighted: bool) -> Vec<(String, u32)> {
    let weights: &[u32] = if weighted {
        &[1, 1, 2, 1, 3, 1, 1, 5, 1, 2]
    } else {
        &[]
    };
    fleet((1..=10).map(|i| format!("10.0.0.{i}:8080")), weights)
}

fn hundred(weighted: bool) -> Vec<(String, u32)> {
    let weights: Vec<u32> = (0..100)
        .map(|i| if weighted { 1 + i % 4 } else { 1 })
        .collect();
    fleet((0..100).map(|i| format!("node-{i}")), &weights)
}

fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// The grid every keyed strategy runs on (weighted fleets unless `unit`, for jump).
fn grid(strat: Strat, unit: bool) -> Vec<Case> {
    let w = |weights: &'static [u32]| if unit { &[][..] } else { weights };
    let label = if unit { "" } else { ", mixed weights" };
    let ten_down = ids(&["10.0.0.3:8080", "10.0.0.8:8080", "10.0.0.10:8080"]);
    let hundred_down: Vec<String> = [0, 7, 13, 21, 42, 50, 64, 77, 88, 99]
        .iter()
        .map(|i| format!("node-{i}"))
        .collect();
    let case = |name: String, keyed, servers, down| Case {
        name: format!("{}: {name}", strat.name()),
        strat,
        keyed,
        servers,
        down,
        check: Check::Picks,
    };
    vec![
        case("1 server".into(), false, fleet(["solo"], &[]), vec![]),
        case("3 servers".into(), false, three(&[]), vec![]),
        case(
            format!("3 servers{label}, 1 down"),
            false,
            three(w(&[2, 1, 3])),
            ids(&["ключ"]),
        ),
        case(
            "3 servers, all down".into(),
            false,
            three(&[]),
            ids(&["cache-a", "cache-b", "ключ"]),
        ),
        case(format!("10 servers{label}"), false, ten(!unit), vec![]),
        case(
            format!("10 servers{label}, 3 down"),
            false,
            ten(!unit),
            ten_down.clone(),
        ),
        case(
            format!("10 servers{label}, 3 down, keyed SipHash"),
            true,
            ten(!unit),
            ten_down,
        ),
        case("100 servers".into(), false, hundred(false), vec![]),
        case(
            format!("100 servers{label}, 10 down"),
            false,
            hundred(!unit),
            hundred_down,
        ),
    ]
}

#[cfg(feature = "ketama")]
fn ketama(flavor: KetamaFlavor) -> Vec<Case> {
    let name = match flavor {
        KetamaFlavor::Libmemcached => "libmemcached",
        _ => "libketama",
    };
    let host = |n: usize| {
        (1..=n)
            .map(|i| format!("10.0.1.{i}:11211"))
            .collect::<Vec<_>>()
    };
    // libketama's sample server file.
    let sample = [600, 300, 200, 350, 1000, 800, 950, 100];
    let mut fleets = vec![
        ("1 server", fleet(host(1), &[]), vec![]),
        (
            "3 servers, 1 down",
            fleet(["10.0.1.2:11211", "10.0.1.1:11211", "cache:11212"], &[]),
            ids(&["10.0.1.1:11211"]),
        ),
        (
            "8 servers, libketama's sample weights",
            fleet(host(8), &sample),
            vec![],
        ),
        (
            "8 servers, libketama's sample weights, 2 down",
            fleet(host(8), &sample),
            ids(&["10.0.1.5:11211", "10.0.1.8:11211"]),
        ),
        ("25 servers", fleet(host(25), &[]), vec![]),
    ];
    if flavor == KetamaFlavor::Libketama {
        fleets.push(("61 servers", fleet(host(61), &[]), vec![]));
        // Given out of id order: the shared point goes to cache-224 (first by id) all the same.
        let tie = fleet(["cache-738:11211", "cache-224:11211"], &[]);
        fleets.push(("2 servers with a point in common", tie, vec![]));
    }
    fleets
        .into_iter()
        .map(|(label, servers, down)| Case {
            name: format!("ketama {name}: {label}"),
            strat: Strat::Ketama(flavor),
            keyed: false,
            servers,
            down,
            check: Check::Picks,
        })
        .collect()
}

/// Bounded loads: the idle mapping (the ring's), and acquires whose leases are all held.
fn bounded(keys: usize) -> Vec<Case> {
    let default = Strat::Bounded(0.25, 160);
    let mut cases = grid(default, false);
    cases.retain(|c| c.servers.len() == 10);
    let leases = |name: &str, strat, servers, down, order: Vec<usize>| Case {
        name: format!("bounded: {name}"),
        strat,
        keyed: false,
        servers,
        down,
        check: Check::Leases(order),
    };
    cases.extend([
        leases(
            "3 servers, ε 0.25, 30 leases held, 3 keys in turn",
            default,
            three(&[]),
            vec![],
            (0..30).map(|i| 13 + i % 3).collect(),
        ),
        leases(
            "10 servers, mixed weights, 1 down, ε 0.5, 60 leases held, 7 keys in turn",
            Strat::Bounded(0.5, 160),
            ten(true),
            ids(&["10.0.0.8:8080"]),
            (0..60).map(|i| (i * 5) % 7).collect(),
        ),
        leases(
            "10 servers, ε 0.1, 40 points per weight, a lease for every key",
            Strat::Bounded(0.1, 40),
            ten(false),
            vec![],
            (0..keys).collect(),
        ),
    ]);
    cases
}

fn rotations() -> Vec<Case> {
    let rotation = |name: &str, servers: Vec<(String, u32)>, down: Vec<String>| {
        let g = servers.iter().fold(0, |g, &(_, w)| gcd(g, w));
        let period: u32 = servers.iter().map(|(_, w)| w / g).sum();
        Case {
            name: format!("round-robin: {name}"),
            strat: Strat::RoundRobin,
            keyed: false,
            servers,
            down,
            check: Check::Rotation(2 * period as usize),
        }
    };
    vec![
        rotation("weights 5 1 1", fleet(["a", "b", "c"], &[5, 1, 1]), vec![]),
        rotation("equal weights", fleet(["x", "y", "z"], &[]), vec![]),
        rotation("weights 4 2 6", fleet(["p", "q", "r"], &[4, 2, 6]), vec![]),
        rotation(
            "weights 3 5 7 2, 1 down",
            fleet(["s1", "s2", "s3", "s4"], &[3, 5, 7, 2]),
            ids(&["s3"]),
        ),
        rotation(
            "10 servers, mixed weights, 3 down",
            ten(true),
            ids(&["10.0.0.3:8080", "10.0.0.8:8080", "10.0.0.10:8080"]),
        ),
    ]
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// Every case of the vectors, in the file's order.
pub fn all(keys: usize) -> Vec<Case> {
    let mut cases = grid(Strat::Modulo, false);
    cases.extend(grid(Strat::Ring(160), false));
    cases.push(Case {
        name: "ring: 10 servers, mixed weights, 3 down, 7 points per weight".into(),
        ..grid(Strat::Ring(7), false).swap_remove(5)
    });
    cases.extend(grid(Strat::Jump, true));
    cases.extend(grid(Strat::Maglev(65_537), false));
    cases.push(Case {
        name: "maglev: 10 servers, mixed weights, 3 down, table size 13".into(),
        ..grid(Strat::Maglev(13), false).swap_remove(5)
    });
    cases.push(Case {
        name: "maglev: 100 servers, mixed weights, 10 down, table size 5003".into(),
        ..grid(Strat::Maglev(5003), false).swap_remove(8)
    });
    cases.extend(grid(Strat::Rendezvous, false));
    cases.extend(bounded(keys));
    #[cfg(feature = "ketama")]
    {
        cases.extend(ketama(KetamaFlavor::Libketama));
        cases.extend(ketama(KetamaFlavor::Libmemcached));
    }
    cases.extend(rotations());
    cases
}
