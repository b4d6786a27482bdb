//! Memory per server: each strategy built over fleets of several sizes, the heap bytes it
//! holds divided by its servers, and by the entries of its table where it has one.

use loadring::{AnyBalancer, Error, MAX_MAGLEV_TABLE_SIZE, Strategy};

use crate::measure::{self, Fleet};

/// One strategy built over one fleet size.
#[derive(Debug, Clone)]
pub struct Footprint {
    pub strategy: &'static str,
    pub servers: usize,
    /// The median time of three builds.
    pub build_us: f64,
    /// Heap bytes the strategy holds beyond its servers.
    pub bytes: i64,
    /// Its table: how many entries, and what one is called.
    pub table: Option<(u64, &'static str)>,
}

impl Footprint {
    pub fn per_server(&self) -> f64 {
        self.bytes as f64 / self.servers as f64
    }

    pub fn per_entry(&self) -> Option<f64> {
        self.table.map(|(n, _)| self.bytes as f64 / n as f64)
    }
}

/// Builds `strategy` over `servers` servers with weights repeating `pattern`.
pub fn footprint(strategy: Strategy, servers: usize, pattern: &[u32]) -> Result<Footprint, Error> {
    let fleet = Fleet::new(servers, pattern, servers);
    let built = measure::build(fitted(strategy, servers), &fleet)?;
    Ok(Footprint {
        strategy: strategy.name(),
        servers,
        build_us: built.us,
        bytes: built.bytes,
        table: table(&built.balancer),
    })
}

/// The strategy as a fleet of `servers` needs it: Maglev's default table (65 537 slots)
/// cannot hold more servers than slots, so a larger fleet gets the size its docs advise, the
/// first prime from 100 slots a server (at most the largest size Maglev takes).
fn fitted(strategy: Strategy, servers: usize) -> Strategy {
    match strategy {
        Strategy::Maglev(o) if (o.table_size as usize) < servers => {
            let advised = u32::try_from(servers.saturating_mul(100)).unwrap_or(u32::MAX);
            let size = (advised..=MAX_MAGLEV_TABLE_SIZE)
                .find(|&m| is_prime(m))
                .unwrap_or(MAX_MAGLEV_TABLE_SIZE);
            Strategy::Maglev(o.with_table_size(size))
        }
        other => other,
    }
}

fn is_prime(n: u32) -> bool {
    n >= 2 && (2..).take_while(|d| d * d <= n).all(|d| n % d != 0)
}

/// The entries of a strategy's table: the points of a ring, the slots of Maglev's.
fn table(b: &AnyBalancer) -> Option<(u64, &'static str)> {
    let points = |n: usize| Some((n as u64, "points"));
    match b {
        AnyBalancer::Ring(r) => points(r.point_count()),
        AnyBalancer::Bounded(r) => points(r.ring().point_count()),
        #[cfg(feature = "ketama")]
        AnyBalancer::Ketama(r) => points(r.point_count()),
        AnyBalancer::Maglev(m) => Some((u64::from(m.options().table_size), "slots")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::strategies;

    #[test]
    fn per_server_and_per_entry() {
        let ring = strategies()
            .into_iter()
            .find(|s| s.name() == "ring")
            .unwrap();
        let f = footprint(ring, 50, &[1, 2]).unwrap();
        // 160 points per weight: 25 servers of weight 1, 25 of weight 2.
        assert_eq!(f.table, Some((25 * 160 + 25 * 320, "points")));
        // A point holds at least its 8-byte hash; the ring keeps to about 20 bytes a point.
        let per_point = f.per_entry().unwrap();
        assert!((8.0..=24.0).contains(&per_point), "{per_point} B a point");
        assert_eq!(f.per_server(), f.bytes as f64 / 50.0);
    }

    #[test]
    fn maglev_grows_its_table_only_for_fleets_larger_than_it() {
        let maglev = Strategy::Maglev(Default::default());
        assert!(matches!(fitted(maglev, 1000), Strategy::Maglev(o) if o.table_size == 65_537));
        let Strategy::Maglev(o) = fitted(maglev, 100_000) else {
            panic!("not maglev");
        };
        assert!(o.table_size >= 10_000_000 && is_prime(o.table_size));
        assert_eq!(
            (1..30).filter(|&n| is_prime(n)).collect::<Vec<_>>(),
            [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]
        );
    }
}
