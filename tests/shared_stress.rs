//! Many threads pick and take leases from one `Shared` balancer while another thread adds,
//! removes and reweights servers and flips their health.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering, fence};
use std::time::{Duration, Instant};

use loadring::{
    AnyBalancer, Balancer, BoundedLoad, Error, FillFirst, HashRing, Jump, Lease, LeastLoaded,
    LeastLoadedOptions, MaglevOptions, Modulo, PickError, Reader, RoundRobin, Server, Shared,
    Strategy, Update,
};

const SERVERS: usize = 12;
const PICKERS: usize = 3;
const LEASES_HELD: usize = 2;
const RUN_FOR: Duration = Duration::from_millis(300);
/// The run goes on past `RUN_FOR` until it has seen this many changes and picks (a slow or
/// busy machine takes longer, never fails for it), up to `GIVE_UP_AFTER`.
const MIN_CHANGES: u64 = 25;
const MIN_PICKS: u64 = 1000;
const GIVE_UP_AFTER: Duration = Duration::from_secs(60);

/// Server 0 is never removed nor marked unhealthy, so a healthy server always exists.
///
/// Each server has two generation counters that the writer bumps: `member` is odd once a
/// removal has returned and even again just before the server is added back; `health` is
/// odd once the server has been marked unhealthy and even again just before it is marked
/// healthy. A pick that read an odd generation before it started, and the same generation
/// after it ended, ran entirely while its server was removed (or unhealthy).
struct World {
    servers: Vec<Server>,
    member: Vec<AtomicU64>,
    health: Vec<AtomicU64>,
}

fn index_of(id: &str) -> usize {
    id[1..].parse().expect("ids are s<index>")
}

fn xorshift(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

/// What a picker got: the server's index and, for leasing strategies, the lease.
type Taken = (usize, Option<Lease<'static>>);

/// Whether the strategy honours weights; one that does not refuses every weight but 1.
#[derive(Clone, Copy, PartialEq)]
enum Weights {
    Honoured,
    Refused,
}

/// Whether every server may be full at once, so that a pick may answer
/// [`PickError::Saturated`]: with bounded loads, where each server (the anchor too) is capped
/// at its share of the leases held, and the others hold one lease at most.
#[derive(Clone, Copy, PartialEq)]
enum Full {
    Never,
    ByLoadBound,
}

fn stress<B: Update + Clone>(
    weights: Weights,
    full: Full,
    build: impl FnOnce(Vec<Server>) -> B,
    take: impl Fn(&Shared<B>, &mut Reader<'_, B>, u64) -> Result<Taken, PickError> + Sync,
) {
    let world = World {
        servers: (0..SERVERS)
            .map(|i| {
                let capacity = if i == 0 {
                    (PICKERS * (LEASES_HELD + 1)) as u64
                } else {
                    1
                };
                Server::new(format!("s{i}")).with_capacity(capacity)
            })
            .collect(),
        member: (0..SERVERS).map(|_| AtomicU64::new(0)).collect(),
        health: (0..SERVERS).map(|_| AtomicU64::new(0)).collect(),
    };
    // The anchor last, so that order-sensitive strategies use the others too.
    let mut initial: Vec<Server> = world.servers[1..].to_vec();
    initial.push(world.servers[0].clone());
    let shared = Shared::new(build(initial));
    let started = Instant::now();
    let picks = AtomicU64::new(0);
    let changes = AtomicU64::new(0);
    let done = AtomicBool::new(false);

    std::thread::scope(|s| {
        s.spawn(|| {
            let mut rng = 0x2545_f491_4f6c_dd1d_u64;
            loop {
                let ran = started.elapsed();
                let enough = changes.load(Ordering::Relaxed) >= MIN_CHANGES
                    && picks.load(Ordering::Relaxed) >= MIN_PICKS;
                if (ran >= RUN_FOR && enough) || ran >= GIVE_UP_AFTER {
                    done.store(true, Ordering::Relaxed);
                    break;
                }
                let r = 1 + (xorshift(&mut rng) % (SERVERS as u64 - 1)) as usize;
                let server = &world.servers[r];
                match xorshift(&mut rng) % 3 {
                    0 if world.member[r].load(Ordering::SeqCst) % 2 == 1 => {
                        world.member[r].fetch_add(1, Ordering::SeqCst);
                        shared.add(server.clone()).unwrap();
                    }
                    0 => {
                        shared.remove(server.id()).unwrap();
                        world.member[r].fetch_add(1, Ordering::SeqCst);
                    }
                    1 if world.health[r].load(Ordering::SeqCst) % 2 == 1 => {
                        world.health[r].fetch_add(1, Ordering::SeqCst);
                        fence(Ordering::Release);
                        server.set_healthy(true);
                    }
                    1 => {
                        server.set_healthy(false);
                        world.health[r].fetch_add(1, Ordering::SeqCst);
                    }
                    _ => {
                        let weight = 1 + (xorshift(&mut rng) % 4) as u32;
                        match shared.set_weight(server.id(), weight) {
                            Ok(()) => assert!(weights == Weights::Honoured || weight == 1),
                            Err(Error::UnknownServer { .. }) => {
                                assert_eq!(world.member[r].load(Ordering::SeqCst) % 2, 1);
                            }
                            Err(Error::WeightsUnsupported { weight: w, .. })
                                if weights == Weights::Refused && weight != 1 =>
                            {
                                assert_eq!(w, weight);
                            }
                            Err(e) => panic!("set_weight: {e}"),
                        }
                    }
                }
                changes.fetch_add(1, Ordering::Relaxed);
            }
        });
        for t in 0..PICKERS {
            let (world, shared, take, picks, done) = (&world, &shared, &take, &picks, &done);
            s.spawn(move || {
                let mut held: VecDeque<Lease<'static>> = VecDeque::new();
                let mut reader = shared.reader();
                let mut key = t as u64;
                while !done.load(Ordering::Relaxed) {
                    let member: Vec<u64> = world
                        .member
                        .iter()
                        .map(|g| g.load(Ordering::SeqCst))
                        .collect();
                    let health: Vec<u64> = world
                        .health
                        .iter()
                        .map(|g| g.load(Ordering::SeqCst))
                        .collect();
                    key = key.wrapping_add(PICKERS as u64);
                    let (i, lease) = match take(shared, &mut reader, key) {
                        Ok(taken) => taken,
                        Err(PickError::Saturated) if full == Full::ByLoadBound => continue,
                        Err(e) => panic!("pick: {e}"),
                    };
                    fence(Ordering::Acquire);
                    if member[i] % 2 == 1 {
                        assert_ne!(
                            world.member[i].load(Ordering::SeqCst),
                            member[i],
                            "s{i} was returned after its removal"
                        );
                    }
                    if health[i] % 2 == 1 {
                        assert_ne!(
                            world.health[i].load(Ordering::SeqCst),
                            health[i],
                            "s{i} was returned while unhealthy"
                        );
                    }
                    if let Some(lease) = lease {
                        held.push_back(lease);
                        if held.len() > LEASES_HELD {
                            held.pop_front();
                        }
                    }
                    picks.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });

    let (picks, changes) = (picks.into_inner(), changes.into_inner());
    eprintln!("picks {picks} changes {changes}");
    assert!(
        picks >= MIN_PICKS,
        "only {picks} picks in {GIVE_UP_AFTER:?}"
    );
    assert!(
        changes >= MIN_CHANGES,
        "only {changes} changes in {GIVE_UP_AFTER:?}"
    );
    for s in &world.servers {
        assert_eq!(s.in_flight(), 0, "{} still counts requests", s.id());
    }
}

fn picked<B: Balancer>(
    shared: &Shared<B>,
    _: &mut Reader<'_, B>,
    key: u64,
) -> Result<Taken, PickError> {
    shared.pick(&key).map(|s| (index_of(s.id()), None))
}

fn read<B: Balancer>(
    _: &Shared<B>,
    reader: &mut Reader<'_, B>,
    key: u64,
) -> Result<Taken, PickError> {
    reader
        .snapshot()
        .pick_hash(key)
        .map(|s| (index_of(s.id()), None))
}

#[test]
fn round_robin_under_churn() {
    stress(
        Weights::Honoured,
        Full::Never,
        |s| RoundRobin::new(s).unwrap(),
        picked,
    );
}

#[test]
fn hash_ring_under_churn() {
    stress(
        Weights::Honoured,
        Full::Never,
        |s| HashRing::new(s).unwrap(),
        read,
    );
}

#[test]
fn modulo_under_churn() {
    stress(
        Weights::Honoured,
        Full::Never,
        |s| Modulo::new(s).unwrap(),
        picked,
    );
}

#[test]
fn least_loaded_leases_under_churn() {
    stress(
        Weights::Honoured,
        Full::Never,
        |s| LeastLoaded::with_options(s, LeastLoadedOptions::default().with_seed(5)).unwrap(),
        |shared, _, _| {
            let lease = shared.acquire_next()?;
            Ok((index_of(lease.id()), Some(lease)))
        },
    );
}

#[test]
fn fill_first_leases_under_churn() {
    stress(
        Weights::Refused,
        Full::Never,
        |s| FillFirst::new(s).unwrap(),
        |shared, _, _| {
            let lease = shared.acquire_next()?;
            Ok((index_of(lease.id()), Some(lease)))
        },
    );
}

#[test]
fn jump_under_churn() {
    stress(
        Weights::Refused,
        Full::Never,
        |s| Jump::new(s).unwrap(),
        picked,
    );
}

#[test]
fn bounded_leases_under_churn() {
    stress(
        Weights::Honoured,
        Full::ByLoadBound,
        |s| BoundedLoad::new(s).unwrap(),
        |shared, _, key| {
            let lease = shared.acquire(&key)?;
            Ok((index_of(lease.id()), Some(lease)))
        },
    );
}

/// Every strategy, chosen at run time, through the one path a service uses: a lease by key.
#[test]
fn every_strategy_as_any_balancer_under_churn() {
    for strategy in Strategy::all() {
        eprintln!("{}", strategy.name());
        // The default table of 65 537 slots takes too long to rebuild in a debug build.
        let strategy = match strategy {
            Strategy::Maglev(_) => Strategy::Maglev(MaglevOptions::default().with_table_size(251)),
            other => other,
        };
        let weights = match strategy {
            Strategy::Jump(_) | Strategy::FillFirst(_) => Weights::Refused,
            _ => Weights::Honoured,
        };
        let full = match strategy {
            Strategy::Bounded(_) => Full::ByLoadBound,
            _ => Full::Never,
        };
        stress(
            weights,
            full,
            |s| AnyBalancer::new(strategy, s).unwrap(),
            |shared, _, key| {
                let lease = shared.acquire(&key)?;
                Ok((index_of(lease.id()), Some(lease)))
            },
        );
    }
}
