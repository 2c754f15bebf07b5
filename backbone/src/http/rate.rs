//! The per-token request rate limit on `/graphql` (`auth.requests_per_minute`).

use crate::error::Error;

/// The per-token request rate limit on `/graphql` (`auth.requests_per_minute`): a token
/// bucket per bearer token (counted by its digest, never kept in clear), holding a
/// minute's worth of requests and refilled continuously. In-process: each process counts
/// on its own.
pub struct RateLimiter {
    per_minute: u32,
    buckets: std::sync::Mutex<std::collections::HashMap<String, Bucket>>,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: std::time::Instant,
}

impl RateLimiter {
    /// Buckets kept before full (idle) ones are dropped.
    const PRUNE_AT: usize = 10_000;

    /// `per_minute` requests per minute per token; 0 turns the limit off.
    pub fn new(per_minute: u32) -> RateLimiter {
        RateLimiter { per_minute, buckets: Default::default() }
    }

    /// Takes one request from `token`'s bucket, or refuses with the seconds until one is
    /// there.
    pub fn take(&self, token: &str) -> Result<(), Error> {
        if self.per_minute == 0 {
            return Ok(());
        }
        self.take_at(&crate::auth::token_digest(token), std::time::Instant::now())
    }

    fn take_at(&self, key: &str, now: std::time::Instant) -> Result<(), Error> {
        let capacity = f64::from(self.per_minute);
        let per_sec = capacity / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() >= Self::PRUNE_AT {
            buckets.retain(|_, b| b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * per_sec < capacity);
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket { tokens: capacity, at: now });
        let refilled = (bucket.tokens + now.saturating_duration_since(bucket.at).as_secs_f64() * per_sec).min(capacity);
        *bucket = Bucket { tokens: refilled, at: now };
        if refilled >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let retry_after_secs = ((1.0 - refilled) / per_sec).ceil().max(1.0) as u64;
            Err(Error::TooManyRequests { message: "too many requests with this token", retry_after_secs })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn wait(e: Error) -> u64 {
        match e {
            Error::TooManyRequests { retry_after_secs, .. } => retry_after_secs,
            other => panic!("expected TOO_MANY_REQUESTS, got {other:?}"),
        }
    }

    #[test]
    fn a_minutes_worth_then_refusal_until_refilled() {
        let limiter = RateLimiter::new(60);
        let start = Instant::now();
        for n in 0..60 {
            assert!(limiter.take_at("a", start).is_ok(), "request {n} is within the minute's allowance");
        }
        let refused = limiter.take_at("a", start).expect_err("the 61st request in the same instant");
        assert_eq!(wait(refused), 1, "one request a second comes back");
        assert!(limiter.take_at("b", start).is_ok(), "another token has its own bucket");
        assert!(limiter.take_at("a", start + Duration::from_millis(1000)).is_ok(), "refilled after a second");
        assert!(limiter.take_at("a", start + Duration::from_millis(1100)).is_err());
    }

    #[test]
    fn zero_turns_the_limit_off() {
        let limiter = RateLimiter::new(0);
        for _ in 0..1000 {
            assert!(limiter.take("bb_token").is_ok());
        }
    }
}
