//! Latency-aware least-loaded balancing: four servers, one ten times slower. Requests run one
//! after another (acquire, the clock moves by the latency, record, release), so every server
//! is idle at each pick and requests in flight cannot tell the slow one apart: by
//! `LoadSource::InFlight` it gets a quarter of the requests, by `LoadSource::PeakEwma` almost
//! none, and a quarter again once it is fast again. Time is a `ManualClock`.

use std::time::Duration;

use loadring::health::{ManualClock, Outcome, OutlierDetector, OutlierOptions};
use loadring::{
    AnyBalancer, Balancer, BalancerExt, Choice, LeastLoaded, LeastLoadedOptions, LoadSource,
    Shared, Strategy,
};

const SERVERS: [&str; 4] = ["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80", "10.0.0.4:80"];
const SLOW: &str = "10.0.0.4:80";
const FAST: Duration = Duration::from_millis(10);

struct Run {
    ll: LeastLoaded,
    outcomes: OutlierDetector<ManualClock>,
    clock: ManualClock,
}

impl Run {
    fn new(source: LoadSource, choice: Choice) -> Self {
        let options = LeastLoadedOptions::default()
            .with_load_source(source)
            .with_choice(choice)
            .with_seed(11);
        let clock = ManualClock::new();
        Run {
            ll: LeastLoaded::with_options(SERVERS, options).unwrap(),
            outcomes: OutlierDetector::with_clock(OutlierOptions::default(), clock.clone())
                .unwrap(),
            clock,
        }
    }

    /// `requests` requests one after another, the slow server taking `slow` each; returns
    /// the slow server's share of them.
    fn share(&self, requests: u32, slow: Duration) -> f64 {
        let mut on_slow = 0;
        for _ in 0..requests {
            let lease = self.ll.acquire_next().unwrap();
            let started = self.outcomes.start();
            let took = if lease.id() == SLOW {
                on_slow += 1;
                slow
            } else {
                FAST
            };
            self.clock.advance(took); // the request runs
            self.outcomes
                .record(&lease, self.outcomes.outcome(started, true));
            drop(lease);
        }
        f64::from(on_slow) / f64::from(requests)
    }
}

#[test]
fn least_loaded_by_peak_ewma_avoids_a_slow_server_and_takes_it_back() {
    for choice in [Choice::PowerOfTwo, Choice::FullScan] {
        // The control: requests in flight are all 0 at each pick, so the slow server gets
        // its quarter.
        let control = Run::new(LoadSource::InFlight, choice).share(4000, FAST * 10);
        eprintln!("{choice:?}, in flight: slow server share {control:.4}");
        assert!((0.2..0.3).contains(&control), "{control}");

        let run = Run::new(LoadSource::PeakEwma, choice);
        let slow = run.share(4000, FAST * 10);
        eprintln!("{choice:?}, peak EWMA: slow server share {slow:.4} while 10x slower");
        assert!(slow < 0.1, "less than a tenth of the requests: {slow}");
        assert!(slow < 0.01, "in fact under 1 %: {slow}");
        let estimate = run.outcomes.latency(run.ll.server(SLOW).unwrap()).unwrap();
        eprintln!("{choice:?}, peak EWMA: its estimate now {estimate:?}");

        // Fast again: its estimate decays until it is tried, its first fast answer sets it
        // to the others', and its share returns to a quarter.
        let warm = run.share(6000, FAST);
        let back = run.share(6000, FAST);
        eprintln!("{choice:?}, peak EWMA: share {warm:.4} while recovering, then {back:.4}");
        assert!((0.2..0.3).contains(&back), "near a quarter again: {back}");
    }
}

#[test]
fn ranked_candidates_put_the_slow_server_last() {
    let run = Run::new(LoadSource::PeakEwma, Choice::PowerOfTwo);
    run.share(2000, FAST * 10);
    let ranked = run.ll.candidates("any", 4);
    assert_eq!(ranked.len(), 4);
    assert_eq!(ranked[3].id(), SLOW, "{ranked:?}");
}

#[test]
fn the_source_reads_from_configuration_and_works_through_shared() {
    let options = LeastLoadedOptions::default().with_load_source(LoadSource::PeakEwma);
    let fleet = Shared::new(AnyBalancer::new(Strategy::LeastLoaded(options), SERVERS).unwrap());
    let clock = ManualClock::new();
    let outcomes = OutlierDetector::with_clock(OutlierOptions::default(), clock.clone()).unwrap();
    let mut on_slow = 0;
    for _ in 0..2000 {
        let lease = fleet.acquire_next().unwrap();
        let took = if lease.id() == SLOW { FAST * 10 } else { FAST };
        on_slow += u32::from(lease.id() == SLOW);
        clock.advance(took);
        outcomes.record(&lease, Outcome::success(took));
    }
    assert!(on_slow < 40, "{on_slow} of 2000");
    #[cfg(feature = "serde")]
    {
        let o: LeastLoadedOptions =
            serde_json::from_str(r#"{"load_source": "peak-ewma"}"#).unwrap();
        assert_eq!(o.load_source, LoadSource::PeakEwma);
    }
}

#[test]
fn a_server_that_fails_fast_does_not_look_fast() {
    // Two servers: one answers in 10 ms, the other fails in 1 ms. Failures only raise the
    // estimate, so the failing one is not preferred for its speed.
    let run = Run::new(LoadSource::PeakEwma, Choice::FullScan);
    let mut on_failing = 0;
    for _ in 0..2000 {
        let lease = run.ll.acquire_next().unwrap();
        let outcome = if lease.id() == SLOW {
            on_failing += 1;
            Outcome::failure(Duration::from_millis(1))
        } else {
            Outcome::success(FAST)
        };
        run.clock.advance(outcome.latency());
        run.outcomes.record(&lease, outcome);
    }
    let share = f64::from(on_failing) / 2000.0;
    eprintln!("a server failing fast: share {share:.3}");
    assert!(share < 0.3, "{share}");
}
