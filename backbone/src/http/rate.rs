//! The per-token request rate limit on `/graphql` (`auth.requests_per_minute`).

use crate::error::Error;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

/// The per-token request rate limit on `/graphql` (`auth.requests_per_minute`): a token
/// bucket per bearer token (counted by its digest, never kept in clear), holding a
/// minute's worth of requests and refilled continuously. On PostgreSQL the buckets are
/// rows of `request_rates`, taken from in one statement, so every process serving the
/// database counts against the same allowance; on SQLite, where one process serves the
/// file, they are kept in the process.
pub struct RateLimiter {
    per_minute: u32,
    shared: Option<DatabaseConnection>,
    buckets: std::sync::Mutex<std::collections::HashMap<String, Bucket>>,
    taken: std::sync::atomic::AtomicU64,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: std::time::Instant,
}

/// Takes one request from a shared bucket, refilled for the time since it was last
/// touched (a minute's worth at most); `taken` says whether there was one to take.
const TAKE_SHARED: &str = "INSERT INTO request_rates AS r (key, tokens, taken, at) VALUES ($1, $2 - 1, true, now()) \
    ON CONFLICT (key) DO UPDATE SET \
    tokens = CASE WHEN LEAST($2, r.tokens + EXTRACT(EPOCH FROM now() - r.at)::float8 * $3) >= 1 \
        THEN LEAST($2, r.tokens + EXTRACT(EPOCH FROM now() - r.at)::float8 * $3) - 1 \
        ELSE LEAST($2, r.tokens + EXTRACT(EPOCH FROM now() - r.at)::float8 * $3) END, \
    taken = LEAST($2, r.tokens + EXTRACT(EPOCH FROM now() - r.at)::float8 * $3) >= 1, \
    at = now() \
    RETURNING tokens, taken";

impl RateLimiter {
    /// Buckets kept in the process before full (idle) ones are dropped; requests taken
    /// between two sweeps of the shared buckets that have refilled.
    const PRUNE_AT: usize = 10_000;

    /// `per_minute` requests per minute per token; 0 turns the limit off. With `db` on
    /// PostgreSQL the allowance is shared by every process on that database.
    pub fn new(per_minute: u32, db: Option<&DatabaseConnection>) -> RateLimiter {
        let shared = db.filter(|db| db.get_database_backend() == DbBackend::Postgres).cloned();
        RateLimiter { per_minute, shared, buckets: Default::default(), taken: Default::default() }
    }

    /// Takes one request from `token`'s bucket, or refuses with the seconds until one is
    /// there.
    pub async fn take(&self, token: &str) -> Result<(), Error> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let key = crate::auth::token_digest(token);
        match &self.shared {
            Some(db) => self.take_shared(db, &key).await,
            None => self.take_at(&key, std::time::Instant::now()),
        }
    }

    fn capacity(&self) -> (f64, f64) {
        let capacity = f64::from(self.per_minute);
        (capacity, capacity / 60.0)
    }

    fn refused(&self, left: f64) -> Error {
        let retry_after_secs = ((1.0 - left) / self.capacity().1).ceil().max(1.0) as u64;
        Error::TooManyRequests { message: "too many requests with this token", retry_after_secs }
    }

    async fn take_shared(&self, db: &DatabaseConnection, key: &str) -> Result<(), Error> {
        use std::sync::atomic::Ordering;
        let (capacity, per_sec) = self.capacity();
        if self.taken.fetch_add(1, Ordering::Relaxed) % Self::PRUNE_AT as u64 == Self::PRUNE_AT as u64 - 1 {
            // A bucket untouched for a minute is full again: the same as no row at all.
            let sweep = "DELETE FROM request_rates WHERE at < now() - interval '61 seconds'";
            db.execute_unprepared(sweep).await?;
        }
        let take = Statement::from_sql_and_values(
            DbBackend::Postgres,
            TAKE_SHARED,
            [key.to_owned().into(), capacity.into(), per_sec.into()],
        );
        let row = db.query_one_raw(take).await?.ok_or_else(|| Error::Internal(anyhow::anyhow!("no bucket")))?;
        let (left, taken): (f64, bool) = (row.try_get("", "tokens")?, row.try_get("", "taken")?);
        if taken { Ok(()) } else { Err(self.refused(left)) }
    }

    fn take_at(&self, key: &str, now: std::time::Instant) -> Result<(), Error> {
        let (capacity, per_sec) = self.capacity();
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
            Err(self.refused(refilled))
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
        let limiter = RateLimiter::new(60, None);
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

    #[tokio::test]
    async fn zero_turns_the_limit_off() {
        let limiter = RateLimiter::new(0, None);
        for _ in 0..1000 {
            assert!(limiter.take("bb_token").await.is_ok());
        }
    }
}
