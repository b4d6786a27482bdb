//! Many threads pick and take leases from one `Shared` balancer while another thread adds,
//! removes and reweights servers and flips their health.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering, fence};
use std::time::{Duration, Instant};

use loadring::{
    Balancer, Error, FillFirst, HashRing, Lease, LeastLoaded, Modulo, Reader, Rebuild, RoundRobin,
    Server, Shared,
};

const SERVERS: usize = 12;
const PICKERS: usize = 3;
const LEASES_HELD: usize = 2;
const RUN_FOR: Duration = Duration::from_millis(300);

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

fn stress<B: Rebuild>(
    build: impl FnOnce(Vec<Server>) -> B,
    take: impl Fn(&Shared<B>, &mut Reader<'_, B>, u64) -> Result<Taken, Error> + Sync,
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
    let deadline = Instant::now() + RUN_FOR;
    let picks = AtomicU64::new(0);
    let changes = AtomicU64::new(0);

    std::thread::scope(|s| {
        s.spawn(|| {
            let mut rng = 0x2545_f491_4f6c_dd1d_u64;
            while Instant::now() < deadline {
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
                            Ok(()) => {}
                            Err(Error::UnknownServer { .. }) => {
                                assert_eq!(world.member[r].load(Ordering::SeqCst) % 2, 1);
                            }
                            Err(e) => panic!("set_weight: {e}"),
                        }
                    }
                }
                changes.fetch_add(1, Ordering::Relaxed);
            }
        });
        for t in 0..PICKERS {
            let (world, shared, take, picks) = (&world, &shared, &take, &picks);
            s.spawn(move || {
                let mut held: VecDeque<Lease<'static>> = VecDeque::new();
                let mut reader = shared.reader();
                let mut key = t as u64;
                while Instant::now() < deadline {
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
                    let (i, lease) =
                        take(shared, &mut reader, key).unwrap_or_else(|e| panic!("pick: {e}"));
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
    assert!(picks > 1000, "only {picks} picks");
    assert!(changes > 20, "only {changes} changes");
    for s in &world.servers {
        assert_eq!(s.in_flight(), 0, "{} still counts requests", s.id());
    }
}

fn picked<B: Balancer>(
    shared: &Shared<B>,
    _: &mut Reader<'_, B>,
    key: u64,
) -> Result<Taken, Error> {
    shared.pick(&key).map(|s| (index_of(s.id()), None))
}

fn read<B: Balancer>(_: &Shared<B>, reader: &mut Reader<'_, B>, key: u64) -> Result<Taken, Error> {
    reader
        .load()
        .pick_hash(key)
        .map(|s| (index_of(s.id()), None))
}

#[test]
fn round_robin_under_churn() {
    stress(|s| RoundRobin::new(s).unwrap(), picked);
}

#[test]
fn hash_ring_under_churn() {
    stress(|s| HashRing::new(s).unwrap(), read);
}

#[test]
fn modulo_under_churn() {
    stress(|s| Modulo::new(s).unwrap(), picked);
}

#[test]
fn least_loaded_leases_under_churn() {
    stress(
        |s| LeastLoaded::with_seed(s, 5).unwrap(),
        |shared, _, _| {
            let lease = shared.acquire()?;
            Ok((index_of(lease.id()), Some(lease)))
        },
    );
}

#[test]
fn fill_first_leases_under_churn() {
    stress(
        |s| FillFirst::new(s).unwrap(),
        |shared, _, _| {
            let lease = shared.acquire()?;
            Ok((index_of(lease.id()), Some(lease)))
        },
    );
}
