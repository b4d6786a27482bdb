//! Slow start: a server that joins or recovers takes a share of the picks that follows
//! `max(min_share, (t / window)^(1 / aggression))` of its weight's, for round-robin and
//! least-loaded; hash strategies keep their mapping.

use std::time::Duration;

use loadring::health::{ManualClock, SlowStart, SlowStartOptions};
use loadring::{
    AnyBalancer, Balancer, BalancerExt, LeastLoaded, LeastLoadedOptions, RoundRobin, Server,
    Shared, Strategy,
};

const WINDOW: Duration = Duration::from_secs(100);

fn slow_start(aggression: f64) -> (ManualClock, SlowStart<ManualClock>) {
    let clock = ManualClock::new();
    let options = SlowStartOptions::default()
        .with_window(WINDOW)
        .with_aggression(aggression);
    (
        clock.clone(),
        SlowStart::with_clock(options, clock).unwrap(),
    )
}

/// The share of `picks` round-robin picks that went to `id`.
fn share_of<B: Balancer>(b: &Shared<B>, id: &str, picks: usize) -> f64 {
    let hits = (0..picks).filter(|_| b.next().unwrap().id() == id).count();
    hits as f64 / picks as f64
}

/// Four warm servers and a fifth that joins: at ramp r it takes r / (4 + r) of the picks (its
/// weight's share scaled by r), at every stage of the window.
#[test]
fn a_joining_server_ramps_up_its_round_robin_share_as_the_formula_says() {
    for aggression in [1.0, 2.0] {
        let shared = Shared::new(RoundRobin::new(["a", "b", "c", "d"]).unwrap());
        let (clock, slow) = slow_start(aggression);
        assert_eq!(
            slow.tick(&*shared.snapshot()),
            0,
            "servers at the first tick are warm"
        );
        shared.add("e").unwrap();
        for elapsed in [0, 10, 25, 50, 90] {
            clock.advance(Duration::from_secs(elapsed) - clock_now(&clock));
            assert_eq!(slow.tick(&*shared.snapshot()), 1);
            let r = (elapsed as f64 / 100.0).powf(1.0 / aggression).max(0.1);
            assert!((shared.snapshot().server("e").unwrap().ramp() - r).abs() < 1e-6);
            let share = share_of(&shared, "e", 100_000);
            let expected = r / (4.0 + r);
            eprintln!(
                "aggression {aggression}, {elapsed} s: share {share:.4}, formula {expected:.4}"
            );
            assert!(
                (share - expected).abs() < 0.01,
                "{elapsed} s: {share} vs {expected}"
            );
        }
        clock.advance(Duration::from_secs(10));
        assert_eq!(
            slow.tick(&*shared.snapshot()),
            0,
            "the ramp ends with the window"
        );
        let share = share_of(&shared, "e", 100_000);
        assert!((share - 0.2).abs() < 0.005, "{share}");
    }
}

fn clock_now(clock: &ManualClock) -> Duration {
    use loadring::health::Clock;
    clock.now()
}

/// A server that recovers ramps again; one that never left does not.
#[test]
fn a_recovering_server_ramps_again() {
    let shared = Shared::new(RoundRobin::new(["a", "b"]).unwrap());
    let (clock, slow) = slow_start(1.0);
    slow.tick(&*shared.snapshot());
    shared.set_healthy("b", false).unwrap();
    clock.advance(Duration::from_secs(1));
    assert_eq!(slow.tick(&*shared.snapshot()), 0);
    shared.set_healthy("b", true).unwrap();
    assert_eq!(slow.tick(&*shared.snapshot()), 1);
    assert_eq!(shared.snapshot().server("b").unwrap().ramp(), 0.1);
    assert_eq!(shared.snapshot().server("a").unwrap().ramp(), 1.0);
    let share = share_of(&shared, "b", 100_000);
    assert!((share - 0.1 / 1.1).abs() < 0.01, "{share}");
}

/// Least-loaded counts a ramping server's weight at its ramp: with requests held, it carries
/// far less than its share early on and its share once the ramp ends.
#[test]
fn least_loaded_weighs_a_ramping_server_at_its_ramp() {
    let options = LeastLoadedOptions::default().with_seed(11);
    let shared = Shared::new(LeastLoaded::with_options(["a", "b", "c", "d"], options).unwrap());
    let (clock, slow) = slow_start(1.0);
    slow.tick(&*shared.snapshot());
    shared.add("e").unwrap();
    slow.tick(&*shared.snapshot());
    let held_on_e = |shared: &Shared<LeastLoaded>| {
        let held: Vec<_> = (0..1000).map(|_| shared.acquire_next().unwrap()).collect();
        held.iter().filter(|l| l.id() == "e").count()
    };
    let early = held_on_e(&shared);
    clock.advance(WINDOW);
    slow.tick(&*shared.snapshot());
    let late = held_on_e(&shared);
    eprintln!("e holds {early} of 1000 at ramp 0.1, {late} after the ramp");
    assert!(early < 60, "{early}");
    assert!((180..=220).contains(&late), "{late}");
}

/// Hash strategies keep every key where it was: slow start is not theirs to apply.
#[test]
fn hash_strategies_ignore_slow_start() {
    for strategy in Strategy::all().into_iter().filter(Strategy::is_keyed) {
        let ids = ["a", "b", "c", "d", "e"].map(|id| Server::new(id).with_capacity(10));
        let b = AnyBalancer::new(strategy, ids).unwrap();
        let keys: Vec<String> = (0..1000).map(|k| format!("k{k}")).collect();
        let before: Vec<String> = keys
            .iter()
            .map(|k| b.pick(k).unwrap().id().into())
            .collect();
        let (clock, slow) = slow_start(1.0);
        slow.tick(&b);
        b.set_healthy("e", false).unwrap();
        clock.advance(Duration::from_secs(1));
        slow.tick(&b);
        b.set_healthy("e", true).unwrap();
        assert_eq!(slow.tick(&b), 1);
        let after: Vec<String> = keys
            .iter()
            .map(|k| b.pick(k).unwrap().id().into())
            .collect();
        assert_eq!(before, after, "{}", strategy.name());
    }
}

#[test]
fn bad_options_are_errors() {
    let bad = [
        SlowStartOptions::default().with_window(Duration::ZERO),
        SlowStartOptions::default().with_aggression(0.0),
        SlowStartOptions::default().with_aggression(f64::NAN),
        SlowStartOptions::default().with_min_share(0.0),
        SlowStartOptions::default().with_min_share(1.5),
    ];
    for options in bad {
        assert!(SlowStart::new(options).is_err(), "{options:?}");
    }
}

/// Options read from configuration strictly, the window as every lifecycle duration is.
#[cfg(feature = "serde")]
#[test]
fn options_read_from_config_with_a_duration_string() {
    let options: SlowStartOptions =
        serde_json::from_str(r#"{"window": "90s", "aggression": 2.0}"#).unwrap();
    assert_eq!(
        options,
        SlowStartOptions::default()
            .with_window(Duration::from_secs(90))
            .with_aggression(2.0)
    );
    let back: SlowStartOptions =
        serde_json::from_str(&serde_json::to_string(&options).unwrap()).unwrap();
    assert_eq!(back, options);
    assert!(serde_json::from_str::<SlowStartOptions>(r#"{"window": 90}"#).is_err());
    assert!(serde_json::from_str::<SlowStartOptions>(r#"{"windows": "9s"}"#).is_err());
}
