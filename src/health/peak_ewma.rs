//! Peak-EWMA latency (Finagle's `PeakEwma`, tower's `load::PeakEwma`), kept in two cells of
//! each server and compared without a clock.
//!
//! # The estimate
//!
//! A server's estimate `E` (nanoseconds) is set by its first sample. From then on it decays
//! toward zero with time constant `τ` while no sample comes: at time `t` it is worth
//! `V(t) = E · w`, `w = e^-(t - s)/τ`, `s` the time of the last sample (tower and Finagle
//! decay it so at every read). A sample `r` at time `t`:
//!
//! * above `V(t)` replaces the estimate at once (the peak: a slow answer counts fully and
//!   immediately);
//! * otherwise is blended in as tower does, `E' = E · w + r · (1 - w)`, so the estimate
//!   follows a faster server back down over about `τ`.
//!
//! A failure counts as a sample at least twice the estimate (its own latency if slower, as
//! a timeout's is): a server that fails fast must not look fast and draw the traffic (the
//! black hole that latency-aware balancers fall into). Each failure in a row doubles its
//! cost; the estimate decays back over `τ`, so it is tried again now and then, and outlier
//! detection ejects it if it keeps failing. (A choice of this crate: tower and Finagle
//! count failures as any other answer; gRPC's weighted round-robin also penalises errors.)
//! Estimates are capped at 2⁶⁴ ns (584 years), so a long run of failures cannot overflow.
//!
//! # Compared without a clock
//!
//! Each server keeps `E` and `s / τ`. The cost of a server is tower's, per unit of weight:
//! `V(t) · (in_flight + 1) / weight`. Two costs compare the same at every moment `t` (both
//! decay by the same factor), so a pick compares them at the later of the two samples'
//! times: the later-sampled server's `E` against the other's `E` decayed by
//! `e^-(s_late - s_early)/τ`. A pick needs neither the time nor `τ`, and a server that has had
//! no sample for a while is compared with its decayed estimate, as tower's reads decay it.
//!
//! A server with no sample yet (`E = 0`) is compared as Finagle does: idle, it comes before
//! every sampled server (it gets a first request); busy, after every sampled one (one
//! request at a time until its first answer). Among themselves such servers go by
//! `(in_flight + 1) / weight`.
//!
//! # Costs
//!
//! `e^-x` for `x < 1/32` (a busy server's samples are milliseconds apart, `τ` seconds) is
//! five terms of its series, within 3·10⁻¹⁰ of the exact value; beyond, `f64::exp`. A
//! report is then a few multiplications; a pick's comparison too.
//!
//! Reports race without a lock: two reports on one server at the same moment may lose one
//! of the two samples (or pair one's `E` with the other's time); the estimate stays between
//! the samples' values.

use std::cmp::Ordering;

use crate::Server;

/// The largest estimate, in nanoseconds (2⁶⁴, about 584 years): failures double the
/// estimate up to here and no further.
const MAX_ESTIMATE: f64 = 18_446_744_073_709_551_616.0;

/// `e^-x` for `x ≥ 0` (1 for less): the series below 1/32, `f64::exp` above.
#[inline]
fn decay(x: f64) -> f64 {
    if x < 1.0 / 32.0 {
        if x <= 0.0 {
            return 1.0;
        }
        // 1 - x + x²/2 - x³/6 + x⁴/24, in Horner's form; the next term is below 3e-10.
        1.0 - x * (1.0 - x * (0.5 - x * (1.0 / 6.0 - x * (1.0 / 24.0))))
    } else {
        (-x).exp()
    }
}

/// Feeds one sample of `latency` nanoseconds, taken at `t` (the time in units of `τ`), into
/// `server`'s estimate.
#[inline]
pub(crate) fn observe(server: &Server, latency: u64, t: f64, success: bool) {
    // A sample of at least 1 ns, so that a sampled estimate is never 0.
    let mut r = (latency as f64).max(1.0);
    let (estimate, at) = server.latency_estimate();
    let w = decay(t - at);
    let now = estimate * w;
    if !success {
        r = r.max(2.0 * now).min(MAX_ESTIMATE);
    }
    let next = if r > now {
        r
    } else {
        // `now ≥ r ≥ 1`: a sampled estimate stays at least 1.
        now + r * (1.0 - w)
    };
    server.set_latency_estimate(next, t);
}

/// The estimate at `t` (in units of `τ`), in nanoseconds; `None` before a first sample.
pub(crate) fn value(server: &Server, t: f64) -> Option<f64> {
    let (estimate, at) = server.latency_estimate();
    (estimate > 0.0).then(|| estimate * decay(t - at))
}

/// Orders two servers by their peak-EWMA cost at any one moment (see the module docs).
#[inline]
pub(crate) fn compare(a: &Server, b: &Server) -> Ordering {
    let (ea, sa) = a.latency_estimate();
    let (eb, sb) = b.latency_estimate();
    let (ia, ib) = (a.in_flight(), b.in_flight());
    // (in_flight + 1) / weight, cross-multiplied: a's factor over b's is fa / fb. (Counts
    // of requests in flight are far below 2⁶³: through `i64`, a conversion is one
    // instruction.)
    let fa = (ia as i64 as f64 + 1.0) * f64::from(b.weight());
    let fb = (ib as i64 as f64 + 1.0) * f64::from(a.weight());
    match (ea > 0.0, eb > 0.0) {
        (true, true) => {
            // Both at the later sample's time: the earlier one decays.
            let (ca, cb) = if sa >= sb {
                (ea * fa, eb * decay(sa - sb) * fb)
            } else {
                (ea * decay(sb - sa) * fa, eb * fb)
            };
            ca.total_cmp(&cb)
        }
        (false, false) => {
            // Idle before busy, then by requests per unit of weight.
            (ia != 0).cmp(&(ib != 0)).then(fa.total_cmp(&fb))
        }
        (false, true) if ia == 0 => Ordering::Less,
        (false, true) => Ordering::Greater,
        (true, false) if ib == 0 => Ordering::Greater,
        (true, false) => Ordering::Less,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The time in units of a 10 s decay.
    fn at(seconds: f64) -> f64 {
        seconds / 10.0
    }

    fn estimate_at(s: &Server, seconds: f64) -> f64 {
        value(s, at(seconds)).unwrap()
    }

    #[test]
    fn the_series_matches_exp_where_it_is_used() {
        let mut x = 0.0f64;
        while x < 0.1 {
            let exact = (-x).exp();
            assert!((decay(x) - exact).abs() < 3e-10, "{x}");
            x += 1e-4;
        }
        assert_eq!(decay(-1.0), 1.0);
        assert_eq!(decay(1.0), (-1f64).exp());
    }

    #[test]
    fn a_peak_counts_at_once_and_decays_with_tau() {
        let s = Server::new("a");
        assert_eq!(value(&s, 0.0), None);
        observe(&s, 10_000_000, at(0.0), true); // 10 ms
        assert_eq!(estimate_at(&s, 0.0), 1e7);
        observe(&s, 100_000_000, at(1.0), true); // a 100 ms peak
        assert_eq!(estimate_at(&s, 1.0), 1e8);
        // One τ later, without samples, it is worth 1/e of the peak.
        let decayed = estimate_at(&s, 11.0);
        assert!((decayed / 1e8 - (-1f64).exp()).abs() < 1e-12, "{decayed}");
    }

    #[test]
    fn a_lower_sample_blends_as_tower_does() {
        let s = Server::new("a");
        observe(&s, 100, at(0.0), true);
        observe(&s, 40, at(5.0), true);
        let w = (-0.5f64).exp();
        let expected = 100.0 * w + 40.0 * (1.0 - w);
        let got = estimate_at(&s, 5.0);
        assert!(
            (got - expected).abs() < 1e-9 * expected,
            "{got} vs {expected}"
        );
        // Close samples blend little: 1 ms after, a 40 ns sample moves it by 1e-4 of the gap.
        observe(&s, 40, at(5.001), true);
        let small = estimate_at(&s, 5.001);
        let w = (-0.0001f64).exp();
        let expected = got * w + 40.0 * (1.0 - w);
        assert!(
            (small - expected).abs() < 1e-9 * expected,
            "{small} vs {expected}"
        );
    }

    #[test]
    fn a_failure_counts_as_twice_the_estimate_or_its_latency() {
        let s = Server::new("a");
        observe(&s, 100, at(0.0), true);
        observe(&s, 1, at(0.0), false); // a fast failure: twice the estimate
        assert_eq!(estimate_at(&s, 0.0), 200.0);
        observe(&s, 1_000, at(0.0), false); // a timeout: its latency
        assert_eq!(estimate_at(&s, 0.0), 1_000.0);
        for _ in 0..2000 {
            observe(&s, 1, at(0.0), false);
        }
        assert_eq!(estimate_at(&s, 0.0), MAX_ESTIMATE);
        // It decays back and answers fast again.
        observe(&s, 10, at(1000.0), true);
        assert!(
            estimate_at(&s, 1000.0) < 20.0,
            "{}",
            estimate_at(&s, 1000.0)
        );
        // A first sample that is a failure counts at its latency.
        let t = Server::new("t");
        observe(&t, 5, at(0.0), false);
        assert_eq!(estimate_at(&t, 0.0), 5.0);
    }

    #[test]
    fn costs_compare_at_one_moment_without_a_clock() {
        let (fast, slow) = (Server::new("fast"), Server::new("slow"));
        observe(&slow, 100, at(0.0), true);
        observe(&fast, 10, at(30.0), true);
        // At 30 s the slow one is worth 100 / e³ ≈ 4.98 < 10.
        assert_eq!(compare(&slow, &fast), Ordering::Less);
        assert_eq!(compare(&fast, &slow), Ordering::Greater);
        observe(&fast, 10, at(10.0), true);
        let fresh = Server::new("fresh");
        observe(&fresh, 100, at(10.0), true);
        assert_eq!(compare(&fresh, &fast), Ordering::Greater);
        // Requests in flight multiply the cost, weights divide it.
        let _lease = crate::Lease::begin(&fast);
        let _lease2 = crate::Lease::begin(&fast);
        let heavy = Server::new("heavy").with_weight(40);
        observe(&heavy, 100, at(10.0), true);
        assert_eq!(compare(&heavy, &fast), Ordering::Less); // 100/40 < 10 × 3
        assert_eq!(compare(&fast, &heavy), Ordering::Greater);
    }

    #[test]
    fn servers_without_samples_probe_one_request_at_a_time() {
        let (new, old) = (Server::new("new"), Server::new("old"));
        observe(&old, 1_000_000_000, at(0.0), true);
        assert_eq!(compare(&new, &old), Ordering::Less);
        assert_eq!(compare(&old, &new), Ordering::Greater);
        let lease = crate::Lease::begin(&new);
        assert_eq!(compare(&new, &old), Ordering::Greater);
        assert_eq!(compare(&old, &new), Ordering::Less);
        let other = Server::new("other");
        assert_eq!(compare(&other, &new), Ordering::Less);
        drop(lease);
        assert_eq!(compare(&other, &new), Ordering::Equal);
    }
}
