//! Throttling password guesses, per account and per client address, in the database so
//! that every process shares one count.
//!
//! Each failed login counts against two keys: the account (the SHA-256 of the email as
//! typed, lower-cased — whether or not an account has it, so a lockout says nothing about
//! which emails exist) and the client address. After `auth.max_failures_per_account`
//! (or `max_failures_per_address`) failures within `auth.failure_window_secs` the key is
//! locked for `auth.lockout_secs`, doubled by each further lockout up to
//! `auth.max_lockout_secs`. While either key is locked every login through it is refused
//! with `TOO_MANY_REQUESTS` and the seconds to wait — the right password too, and
//! before any password is checked. Each lockout is audited (`auth.lockout`, no child).
//! A successful login forgets its account's failures; an address's failures are only
//! forgotten with time, so holding one account does not let a guesser wipe their
//! address's record by signing in between guesses. A count is deleted once it no longer
//! matters (its window has passed, and any lockout ended a window ago).

use crate::audit::Audited;
use crate::auth::{Actor, ClientAddress};
use crate::error::{Error, Result};
use crate::settings::AuthSettings;
use crate::store::db::Hold;
use crate::store::login_throttle;
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{OnConflict, Query};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, Set, TransactionTrait};
use sha2::{Digest, Sha256};

/// What a key is counted for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Account,
    Address,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Account => "account",
            Kind::Address => "address",
        }
    }
}

/// One counted key and its threshold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    pub kind: Kind,
    pub key: String,
    pub max_failures: u32,
}

/// The keys a login attempt counts against (a throttle whose threshold is 0 is off).
pub fn keys(email: &str, client: ClientAddress, settings: &AuthSettings) -> Vec<Key> {
    let mut keys = Vec::new();
    if settings.max_failures_per_account > 0 {
        let digest = hex::encode(Sha256::digest(email.trim().to_lowercase().as_bytes()));
        keys.push(Key {
            kind: Kind::Account,
            key: format!("account:{digest}"),
            max_failures: settings.max_failures_per_account,
        });
    }
    if let (Some(ip), true) = (client.0, settings.max_failures_per_address > 0) {
        keys.push(Key {
            kind: Kind::Address,
            key: format!("address:{ip}"),
            max_failures: settings.max_failures_per_address,
        });
    }
    keys
}

/// A key's count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct State {
    pub failures: i32,
    pub window_started_at: DateTime<Utc>,
    pub lockouts: i32,
    pub locked_until: Option<DateTime<Utc>>,
}

/// Seconds to wait before `state` lets a login through, if it is locked at `now`.
pub fn retry_after(state: &State, now: DateTime<Utc>) -> Option<u64> {
    let until = state.locked_until.filter(|until| *until > now)?;
    let millis = (until - now).num_milliseconds().max(0) as u64;
    Some(millis.div_ceil(1000).max(1))
}

/// The longest span the settings can name (about 136 years): anything longer is taken as
/// this, so that no setting can overflow a time.
const SECONDS_CAP: u64 = u32::MAX as u64;

/// How long failures are remembered.
fn window(settings: &AuthSettings) -> Duration {
    Duration::seconds(Ord::min(settings.failure_window_secs, SECONDS_CAP) as i64)
}

/// The count after one more failure at `now`, and whether that failure began a lockout.
pub fn after_failure(
    state: Option<State>,
    now: DateTime<Utc>,
    max_failures: u32,
    settings: &AuthSettings,
) -> (State, bool) {
    let window = window(settings);
    let mut s = state.unwrap_or(State { failures: 0, window_started_at: now, lockouts: 0, locked_until: None });
    // A lockout's doubling is forgotten once a whole window has passed since it ended.
    if s.locked_until.is_some_and(|until| until + window <= now) {
        s.lockouts = 0;
        s.locked_until = None;
    }
    if s.window_started_at + window <= now {
        s.failures = 0;
        s.window_started_at = now;
    }
    s.failures = s.failures.saturating_add(1);
    if (s.failures as i64) < max_failures as i64 {
        return (s, false);
    }
    s.lockouts = s.lockouts.saturating_add(1);
    let doubled = settings.lockout_secs.saturating_mul(1u64 << (s.lockouts - 1).clamp(0, 32) as u32);
    let secs = doubled.min(settings.max_lockout_secs.max(settings.lockout_secs)).min(SECONDS_CAP);
    s.locked_until = Some(now + Duration::seconds(secs as i64));
    s.failures = 0;
    s.window_started_at = now;
    (s, true)
}

fn state_of(row: &login_throttle::Model) -> State {
    State {
        failures: row.failures,
        window_started_at: row.window_started_at,
        lockouts: row.lockouts,
        locked_until: row.locked_until,
    }
}

/// The refusal for a login while locked.
pub fn locked(retry_after_secs: u64) -> Error {
    Error::TooManyRequests { message: "too many failed sign-in attempts", retry_after_secs }
}

/// Refuses (`TOO_MANY_REQUESTS`) if any of `keys` is locked now.
pub async fn check(db: &DatabaseConnection, keys: &[Key]) -> Result<()> {
    let now = Utc::now();
    let mut wait = None;
    for key in keys {
        if let Some(row) = login_throttle::Entity::find_by_id(key.key.clone()).one(db).await? {
            wait = wait.max(retry_after(&state_of(&row), now));
        }
    }
    match wait {
        Some(secs) => Err(locked(secs)),
        None => Ok(()),
    }
}

/// Counts a failed login against each key; audits every lockout it begins. The longest
/// lockout begun, in seconds, if any.
pub async fn fail(
    db: &DatabaseConnection,
    keys: &[Key],
    settings: &AuthSettings,
    request_id: Option<String>,
) -> Result<Option<u64>> {
    let mut begun = None;
    for key in keys {
        let now = crate::audit::now();
        let tx = db.begin().await?;
        // Create the row if it is missing — a write, so that on SQLite the transaction
        // holds the write lock from here on — then lock it (PostgreSQL) to count.
        let create = Query::insert()
            .into_table(login_throttle::Entity)
            .columns([
                login_throttle::Column::Key,
                login_throttle::Column::Failures,
                login_throttle::Column::WindowStartedAt,
                login_throttle::Column::Lockouts,
            ])
            .values_panic([key.key.clone().into(), 0i32.into(), now.into(), 0i32.into()])
            .on_conflict(OnConflict::column(login_throttle::Column::Key).do_nothing().to_owned())
            .to_owned();
        tx.execute(&create).await?;
        let row = login_throttle::Entity::find_by_id(key.key.clone())
            .held()
            .one(&tx)
            .await?
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("login throttle row missing after insert")))?;
        let (next, locked_now) = after_failure(Some(state_of(&row)), now, key.max_failures, settings);
        let mut active: login_throttle::ActiveModel = row.into();
        active.failures = Set(next.failures);
        active.window_started_at = Set(next.window_started_at);
        active.lockouts = Set(next.lockouts);
        active.locked_until = Set(next.locked_until);
        active.update(&tx).await?;
        tx.commit().await?;
        if locked_now {
            let secs = retry_after(&next, now);
            tracing::warn!(kind = key.kind.as_str(), lockouts = next.lockouts, seconds = ?secs, "login lockout");
            let mut system = Actor::system();
            system.request_id = request_id.clone();
            let mut audited = Audited::begin(db, &system).await?;
            audited.record("auth.lockout", None, &[key.kind.as_str()]);
            audited.commit().await?;
            begun = begun.max(secs);
        }
    }
    purge(db, settings).await?;
    Ok(begun)
}

/// Deletes the counts that no longer matter — window passed, and any lockout ended a
/// window ago — so that addresses and emails are not kept longer than the throttle needs.
async fn purge(db: &DatabaseConnection, settings: &AuthSettings) -> Result<()> {
    use sea_orm::sea_query::{Expr, ExprTrait};
    use sea_orm::{ColumnTrait, Condition, QueryFilter};
    let cutoff = Utc::now() - window(settings);
    login_throttle::Entity::delete_many()
        .filter(login_throttle::Column::WindowStartedAt.lt(cutoff))
        .filter(
            Condition::any()
                .add(Expr::col(login_throttle::Column::LockedUntil).is_null())
                .add(login_throttle::Column::LockedUntil.lt(cutoff)),
        )
        .exec(db)
        .await?;
    Ok(())
}

/// Forgets an account's failures and lockouts after it signed in.
pub async fn forget(db: &DatabaseConnection, keys: &[Key]) -> Result<()> {
    for key in keys.iter().filter(|k| k.kind == Kind::Account) {
        login_throttle::Entity::delete_by_id(key.key.clone()).exec(db).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> AuthSettings {
        AuthSettings {
            max_failures_per_account: 3,
            failure_window_secs: 600,
            lockout_secs: 60,
            max_lockout_secs: 200,
            ..crate::settings::Settings::default().auth
        }
    }

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).expect("time")
    }

    #[test]
    fn locks_at_the_threshold_and_doubles_up_to_the_cap() {
        let s = settings();
        let (one, locked) = after_failure(None, at(0), 3, &s);
        assert!(!locked && one.failures == 1 && retry_after(&one, at(0)).is_none());
        let (two, locked) = after_failure(Some(one), at(1), 3, &s);
        assert!(!locked);
        let (three, locked) = after_failure(Some(two), at(2), 3, &s);
        assert!(locked, "the third failure locks");
        assert_eq!(retry_after(&three, at(2)), Some(60));
        assert_eq!(retry_after(&three, at(61)), Some(1));
        assert_eq!(retry_after(&three, at(62)), None, "the lockout ends");
        // Three more after it ends: the second lockout is twice as long, the third capped.
        let mut state = three;
        for _ in 0..3 {
            state = after_failure(Some(state), at(100), 3, &s).0;
        }
        assert_eq!(state.lockouts, 2);
        assert_eq!(retry_after(&state, at(100)), Some(120));
        for _ in 0..3 {
            state = after_failure(Some(state), at(300), 3, &s).0;
        }
        assert_eq!(retry_after(&state, at(300)), Some(200), "capped at max_lockout_secs");
    }

    #[test]
    fn failures_and_doubling_are_forgotten_after_the_window() {
        let s = settings();
        let (one, _) = after_failure(None, at(0), 3, &s);
        let (two, _) = after_failure(Some(one), at(10), 3, &s);
        let (fresh, locked) = after_failure(Some(two), at(700), 3, &s);
        assert!(!locked, "failures older than the window do not count");
        assert_eq!(fresh.failures, 1);
        let mut state = None;
        for _ in 0..3 {
            state = Some(after_failure(state, at(1000), 3, &s).0);
        }
        let state = state.expect("state");
        assert_eq!(state.lockouts, 1);
        // A window after the lockout ended, the next lockout is the first again.
        let mut later = Some(state);
        for _ in 0..3 {
            later = Some(after_failure(later, at(1000 + 60 + 600), 3, &s).0);
        }
        let later = later.expect("state");
        assert_eq!(later.lockouts, 1);
        assert_eq!(retry_after(&later, at(1660)), Some(60));
    }

    #[test]
    fn settings_too_large_for_a_time_do_not_overflow() {
        let huge = AuthSettings {
            failure_window_secs: u64::MAX,
            lockout_secs: u64::MAX,
            max_lockout_secs: u64::MAX,
            ..settings()
        };
        let mut state = None;
        for _ in 0..40 {
            state = Some(after_failure(state, at(0), 1, &huge).0);
        }
        let wait = retry_after(&state.expect("state"), at(0)).expect("locked");
        assert!(wait <= SECONDS_CAP, "{wait}");
    }

    #[test]
    fn keys_hide_the_email_and_skip_what_is_off() {
        let s = settings();
        let client = ClientAddress(Some("192.0.2.7".parse().expect("ip")));
        let k = keys(" Someone@Example.org ", client, &s);
        assert_eq!(k.len(), 2);
        assert!(k[0].key.starts_with("account:") && !k[0].key.contains("example"));
        assert_eq!(k[0], keys("someone@example.org", ClientAddress(None), &s)[0], "normalised");
        assert_eq!(k[1].key, "address:192.0.2.7");
        let off = AuthSettings { max_failures_per_account: 0, max_failures_per_address: 0, ..s };
        assert!(keys("a@b.c", client, &off).is_empty());
    }
}
