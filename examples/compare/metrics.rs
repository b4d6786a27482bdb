//! The figures of the report: balance, disruption and weight shares, as pure functions.

/// Peak and spread of a load distribution, each server's count against what its weight asks for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Balance {
    /// The least busy server's count over its expected count (1.0 is perfect).
    pub low_to_mean: f64,
    /// The busiest server's count over its expected count (1.0 is perfect).
    pub peak_to_mean: f64,
    /// Coefficient of variation of count over expected count across servers.
    pub cv: f64,
    /// The largest relative distance of a server's share from its weight's share.
    pub worst_share_error: f64,
}

/// Balance of `counts` (requests per server) for servers with `weights`.
///
/// Returns `None` when there is nothing to measure (no servers, or no requests).
pub fn balance(counts: &[u64], weights: &[u32]) -> Option<Balance> {
    let total: u64 = counts.iter().sum();
    let weight_sum: u64 = weights.iter().map(|&w| u64::from(w)).sum();
    if counts.is_empty() || counts.len() != weights.len() || total == 0 || weight_sum == 0 {
        return None;
    }
    let ratios: Vec<f64> = counts
        .iter()
        .zip(weights)
        .map(|(&c, &w)| c as f64 / (total as f64 * f64::from(w) / weight_sum as f64))
        .collect();
    let n = ratios.len() as f64;
    let mean = ratios.iter().sum::<f64>() / n;
    let var = ratios.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / n;
    Some(Balance {
        low_to_mean: ratios.iter().copied().fold(f64::INFINITY, f64::min),
        peak_to_mean: ratios.iter().copied().fold(0.0, f64::max),
        cv: var.sqrt() / mean,
        worst_share_error: ratios.iter().map(|r| (r - 1.0).abs()).fold(0.0, f64::max),
    })
}

/// The fraction of keys whose server differs between two assignments of the same keys.
pub fn moved<T: PartialEq>(before: &[T], after: &[T]) -> f64 {
    if before.is_empty() {
        return 0.0;
    }
    let n = before.iter().zip(after).filter(|(b, a)| b != a).count();
    n as f64 / before.len() as f64
}

/// The median of some samples (the mean of the middle two for an even count).
pub fn median(samples: &mut [f64]) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    samples.sort_by(f64::total_cmp);
    let m = samples.len() / 2;
    if samples.len() % 2 == 1 {
        samples[m]
    } else {
        (samples[m - 1] + samples[m]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use loadring::{BalancerExt, HashRing, Modulo};

    #[test]
    fn perfect_and_skewed_balance() {
        let b = balance(&[100, 100, 100, 100], &[1, 1, 1, 1]).unwrap();
        assert_eq!((b.peak_to_mean, b.cv, b.worst_share_error), (1.0, 0.0, 0.0));
        let b = balance(&[200, 100, 100, 0], &[1, 1, 1, 1]).unwrap();
        assert_eq!((b.low_to_mean, b.peak_to_mean), (0.0, 2.0));
        assert_eq!(b.worst_share_error, 1.0);
        assert!((b.cv - 0.5f64.sqrt()).abs() < 1e-12);
        let weighted = balance(&[100, 300], &[1, 3]).unwrap();
        assert_eq!((weighted.low_to_mean, weighted.peak_to_mean), (1.0, 1.0));
        assert_eq!(balance(&[], &[]), None);
        assert_eq!(balance(&[0, 0], &[1, 1]), None);
    }

    #[test]
    fn moved_counts_differences() {
        assert_eq!(moved(&[1, 2, 3, 4], &[1, 2, 0, 0]), 0.5);
        assert_eq!(moved::<u8>(&[], &[]), 0.0);
    }

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&mut []).is_nan());
    }

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("s{i:03}")).collect()
    }

    fn assign<B: BalancerExt>(b: &B, keys: u32) -> Vec<String> {
        (0..keys)
            .map(|k| b.pick(&k).unwrap().id().to_owned())
            .collect()
    }

    #[test]
    fn modulo_moves_half_when_the_last_server_goes() {
        // Multiply-shift keeps a key only where its old and new ranges overlap: 1/2 stays.
        let all = ids(20);
        let before = Modulo::new(all.iter().map(String::as_str)).unwrap();
        let after = Modulo::new(all[..19].iter().map(String::as_str)).unwrap();
        let m = moved(&assign(&before, 50_000), &assign(&after, 50_000));
        assert!((m - 0.5).abs() < 0.02, "moved {m}");
    }

    #[test]
    fn ring_moves_one_in_n() {
        let all = ids(20);
        let before = HashRing::new(all.iter().map(String::as_str)).unwrap();
        let after = HashRing::new(all[..19].iter().map(String::as_str)).unwrap();
        let m = moved(&assign(&before, 50_000), &assign(&after, 50_000));
        assert!((m - 0.05).abs() < 0.015, "moved {m}");
    }
}
