//! The statistics the detector needs: Poisson tail probabilities (how surprising a count is for an
//! expected rate) and the median.

/// `ln(k!)`: exact below 64, Stirling's series above (error under 1e-10 there).
fn ln_factorial(k: u64) -> f64 {
    if k < 64 {
        return (2..=k).map(|i| (i as f64).ln()).sum();
    }
    let n = k as f64;
    n * n.ln() - n + 0.5 * (2.0 * std::f64::consts::PI * n).ln() + 1.0 / (12.0 * n) - 1.0 / (360.0 * n.powi(3))
}

/// `ln P(X = k)` for X ~ Poisson(`lambda`), `lambda` > 0.
fn ln_pmf(lambda: f64, k: u64) -> f64 {
    k as f64 * lambda.ln() - lambda - ln_factorial(k)
}

/// P(X ≥ `k`) for X ~ Poisson(`lambda`).
pub(crate) fn upper_tail(lambda: f64, k: u64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if lambda <= 0.0 {
        return 0.0;
    }
    if (k as f64) <= lambda {
        return 1.0 - lower_tail(lambda, k - 1);
    }
    // Terms fall from k on; sum until they stop mattering.
    let mut total = 0.0;
    let mut term = ln_pmf(lambda, k).exp();
    let mut i = k;
    while term > total * 1e-15 && term > 0.0 {
        total += term;
        i += 1;
        term *= lambda / i as f64;
    }
    total.min(1.0)
}

/// P(X ≤ `k`) for X ~ Poisson(`lambda`).
pub(crate) fn lower_tail(lambda: f64, k: u64) -> f64 {
    if lambda <= 0.0 {
        return 1.0;
    }
    if (k as f64) >= lambda {
        return 1.0 - upper_tail(lambda, k + 1);
    }
    // Terms fall from k down to 0.
    let mut total = 0.0;
    let mut term = ln_pmf(lambda, k).exp();
    let mut i = k;
    loop {
        total += term;
        if i == 0 || term < total * 1e-15 {
            break;
        }
        term *= i as f64 / lambda;
        i -= 1;
    }
    total.min(1.0)
}

/// The median of `values` (the mean of the middle two for an even count); 0 for none.
pub(crate) fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    if values.len() % 2 == 1 { values[middle] } else { (values[middle - 1] + values[middle]) / 2.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9_f64.max(b.abs() * 1e-6)
    }

    #[test]
    fn tails_match_known_values() {
        // P(Poisson(2) >= 10) and P(Poisson(3) >= 15), from the closed form.
        assert!(close(upper_tail(2.0, 10), 4.649_807_501_726e-5), "{}", upper_tail(2.0, 10));
        assert!(close(upper_tail(3.0, 15), 6.703_859_112_406e-7), "{}", upper_tail(3.0, 15));
        assert!(close(lower_tail(10.0, 2), 0.002_769_395_715_511_6), "{}", lower_tail(10.0, 2));
        assert!(close(lower_tail(150.0, 50), 2.245_445_450_649e-21), "{}", lower_tail(150.0, 50));
        assert!(close(upper_tail(1_000.0, 1_200), 4.684_203_855_872e-10), "{}", upper_tail(1_000.0, 1_200));
        assert!(close(upper_tail(5.0, 3) + lower_tail(5.0, 2), 1.0));
        assert_eq!(upper_tail(0.0, 1), 0.0);
        assert_eq!(upper_tail(7.0, 0), 1.0);
    }

    #[test]
    fn factorials_agree_across_the_switch() {
        let exact: f64 = (2..=64u64).map(|i| (i as f64).ln()).sum();
        assert!((ln_factorial(64) - exact).abs() < 1e-9);
    }

    #[test]
    fn median_of_odd_even_and_none() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(&mut []), 0.0);
    }
}
