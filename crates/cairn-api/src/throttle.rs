//! Request-rate limits per account and region, as AWS enforces them (LookupEvents:
//! 2 per second, spec/api.md §2.12): a token bucket on the injected clock.

use std::collections::HashMap;
use std::sync::Mutex;

use cairn_model::{ApiError, ErrorCode};

/// A rate and how many calls may come at once after a quiet period.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    pub per_second: f64,
    pub burst: f64,
}

#[derive(Debug)]
pub(crate) struct Throttle {
    limit: RateLimit,
    // (account, region) → (tokens left, when they were counted, in ms).
    buckets: Mutex<HashMap<(String, String), (f64, i64)>>,
}

impl Throttle {
    pub(crate) fn new(limit: RateLimit) -> Throttle {
        Throttle { limit, buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes one token for `(account, region)` at `now_ms`, or refuses with `ThrottlingException`.
    pub(crate) fn take(&self, account_id: &str, region: &str, now_ms: i64) -> Result<(), ApiError> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let (tokens, counted_at) =
            buckets.entry((account_id.to_owned(), region.to_owned())).or_insert((self.limit.burst, now_ms));
        let elapsed_seconds = (now_ms - *counted_at).max(0) as f64 / 1000.0;
        *tokens = (*tokens + elapsed_seconds * self.limit.per_second).min(self.limit.burst);
        *counted_at = now_ms;
        if *tokens < 1.0 {
            return Err(ApiError::new(ErrorCode::Throttling, "Rate exceeded"));
        }
        *tokens -= 1.0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_then_the_rate() {
        let throttle = Throttle::new(RateLimit { per_second: 2.0, burst: 3.0 });
        for _ in 0..3 {
            assert!(throttle.take("a", "r", 0).is_ok());
        }
        assert_eq!(throttle.take("a", "r", 0).unwrap_err().code, ErrorCode::Throttling);
        // Another account or region has its own bucket.
        assert!(throttle.take("b", "r", 0).is_ok());
        assert!(throttle.take("a", "r2", 0).is_ok());
        // Half a second refills one token at 2 per second.
        assert!(throttle.take("a", "r", 500).is_ok());
        assert!(throttle.take("a", "r", 500).is_err());
    }
}
