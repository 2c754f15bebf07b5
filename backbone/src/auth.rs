//! Who is calling: passwords (argon2id), opaque bearer tokens (only their SHA-256 is
//! stored, so a database leak yields no usable token; revocation is a row update), and
//! the [`Actor`] every other layer receives.
//!
//! Demo accounts (`users.is_demo`) can log in only when the service runs in demo mode on
//! a loopback address; everywhere else they answer as a wrong password would.

use crate::domain::{OrganisationKind, Role};
use crate::error::{Error, Result};
use crate::store::{auth_token, membership, organisation, user};
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, FromQueryResult, QueryFilter, Set};
use sha2::{Digest, Sha256};

pub mod throttle;

/// The id recorded for work done by the system itself (seeds, imports, jobs).
pub const SYSTEM_ID: &str = "00000000-0000-0000-0000-000000000000";

/// The caller of one request, resolved once from their bearer token.
#[derive(Clone, Debug)]
pub struct Actor {
    pub user_id: String,
    pub organisation_id: String,
    pub organisation_kind: OrganisationKind,
    pub role: Role,
    /// Designated safeguarding lead of their organisation.
    pub designated_safeguarding_lead: bool,
    /// The token this request came with (what `logout` revokes).
    pub token_id: Option<String>,
    /// The request's id, stamped on audit events and shown with internal errors.
    pub request_id: Option<String>,
    /// What this request's transactions committed, and the idempotency key they record
    /// (`idempotency.rs`): set by the HTTP handler for mutations.
    pub writes: Option<std::sync::Arc<crate::idempotency::WriteLog>>,
}

impl Actor {
    /// The system itself: seeds, imports and jobs. Never a bypass: it goes through the
    /// same access checks, where it is allowed everything, and is audited as "system".
    pub fn system() -> Actor {
        Actor::in_role(SYSTEM_ID, SYSTEM_ID, OrganisationKind::Backbone, Role::System)
    }

    /// Someone in `role` at an organisation, as the access rules see them, without a token
    /// or a request (the system, and tests of the rules).
    pub fn in_role(user_id: &str, organisation_id: &str, organisation_kind: OrganisationKind, role: Role) -> Actor {
        Actor {
            user_id: user_id.into(),
            organisation_id: organisation_id.into(),
            organisation_kind,
            role,
            designated_safeguarding_lead: false,
            token_id: None,
            request_id: None,
            writes: None,
        }
    }

    /// Whether `other` stands where this actor stood: the same person, organisation,
    /// organisation kind, role and designated-lead flag — everything an access decision
    /// reads. (The token and request ids may differ.) A WebSocket connection is closed
    /// when its caller no longer stands where they stood at `connection_init`.
    pub fn same_standing(&self, other: &Actor) -> bool {
        self.user_id == other.user_id
            && self.organisation_id == other.organisation_id
            && self.organisation_kind == other.organisation_kind
            && self.role == other.role
            && self.designated_safeguarding_lead == other.designated_safeguarding_lead
    }
}

/// The address a request came from: the socket's peer, or — only when that peer is one
/// of `auth.trusted_proxies` — the client it names in `X-Forwarded-For`. `None` when
/// unknown (a service built without connection information).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientAddress(pub Option<std::net::IpAddr>);

/// The id of the request an operation came in (for audit events of callers without a
/// token, such as a login lockout).
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// Where a token is accepted: `/graphql` (and its WebSocket, charts and downloads) takes
/// bearer tokens from `login`; the console takes its session cookies. Neither is accepted
/// in the other's place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    Api,
    Console,
}

impl TokenKind {
    fn as_str(self) -> &'static str {
        match self {
            TokenKind::Api => "api",
            TokenKind::Console => "console",
        }
    }
}

/// A fresh bearer token and its expiry, as `login` returns them.
#[derive(Debug)]
pub struct Session {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub actor: Actor,
    /// The account, as read to check the password (the answer is built from it).
    pub user: user::Model,
}

/// Hashes a password with argon2id and a random salt. CPU-heavy: runs off the async
/// executor.
pub async fn hash_password(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| Error::Internal(anyhow::anyhow!("hashing a password: {e}")))
    })
    .await
    .map_err(|e| Error::Internal(e.into()))?
}

async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A hash that matches no password, verified against when the email is unknown so that
/// a wrong email and a wrong password take the same time.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$W4Fq1cJxaq5Bk0Gr0J1ZVyI3kZlXx7dCL/KTTj2T3Rg";

/// The SHA-256 of a bearer token, as stored (and as the rate limiter counts by).
pub(crate) fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn new_token() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| Error::Internal(anyhow::anyhow!("randomness: {e}")))?;
    Ok(format!("bb_{}", hex::encode(bytes)))
}

const BAD_LOGIN: &str = "invalid email or password";

/// One login attempt: the credentials and where they came from.
pub struct Attempt<'a> {
    pub email: &'a str,
    pub password: &'a str,
    pub client: ClientAddress,
    /// The request's id, stamped on the audit event of a lockout.
    pub request_id: Option<String>,
}

/// Checks an email and password and issues a token of `kind`: a bearer token living
/// `auth.token_ttl_minutes`, or a console session living `auth.console_session_hours`.
/// Guessing is throttled ([`throttle`]): while the account or the client address is
/// locked out every attempt is `TOO_MANY_REQUESTS`, the right password included; a wrong
/// password, an unknown email, a disabled account all count alike and answer alike.
pub async fn login(
    db: &DatabaseConnection,
    attempt: Attempt<'_>,
    settings: &crate::settings::AuthSettings,
    allow_demo: bool,
    kind: TokenKind,
) -> Result<Session> {
    let keys = throttle::keys(attempt.email, attempt.client, settings);
    throttle::check(db, &keys).await?;
    match check_password(db, attempt.email, attempt.password, allow_demo).await {
        Ok(found) => {
            throttle::forget(db, &keys).await?;
            let ttl = match kind {
                TokenKind::Api => Duration::minutes(settings.token_ttl_minutes),
                TokenKind::Console => Duration::hours(settings.console_session_hours),
            };
            issue(db, &found, ttl, kind).await
        }
        Err(Error::Unauthenticated(why)) => match throttle::fail(db, &keys, settings, attempt.request_id).await? {
            Some(secs) => Err(throttle::locked(secs)),
            None => Err(Error::Unauthenticated(why)),
        },
        Err(other) => Err(other),
    }
}

/// The account these credentials open, or `UNAUTHENTICATED` with the one message for a
/// wrong password, an unknown email, a disabled or (outside demo mode) a demo account.
async fn check_password(db: &DatabaseConnection, email: &str, password: &str, allow_demo: bool) -> Result<user::Model> {
    let email = email.trim().to_lowercase();
    // No account's email holds a control character (each is checked when written), and
    // PostgreSQL cannot even compare text holding NUL: such an email is simply unknown.
    let found = if email.chars().any(char::is_control) {
        None
    } else {
        user::Entity::find().filter(user::Column::Email.eq(email)).one(db).await?
    };
    let Some(found) = found else {
        verify_password(password.to_owned(), DUMMY_HASH.to_owned()).await;
        return Err(Error::Unauthenticated(BAD_LOGIN));
    };
    let ok = verify_password(password.to_owned(), found.password_hash.clone()).await;
    if !ok || found.disabled || (found.is_demo && !allow_demo) {
        return Err(Error::Unauthenticated(BAD_LOGIN));
    }
    Ok(found)
}

/// A fresh token of `kind` for `found`, living `ttl`.
async fn issue(db: &DatabaseConnection, found: &user::Model, ttl: Duration, kind: TokenKind) -> Result<Session> {
    let token = new_token()?;
    let now = Utc::now();
    let expires_at = now + ttl;
    let token_id = uuid::Uuid::now_v7().to_string();
    auth_token::ActiveModel {
        id: Set(token_id.clone()),
        user_id: Set(found.id.clone()),
        token_hash: Set(token_digest(&token)),
        created_at: Set(now),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
        kind: Set(kind.as_str().to_owned()),
        last_used_at: Set(Some(now)),
    }
    .insert(db)
    .await?;
    let mut actor = actor_for(db, found).await?;
    actor.token_id = Some(token_id);
    tracing::info!(user_id = %found.id, kind = kind.as_str(), "login");
    Ok(Session { token, expires_at, actor, user: found.clone() })
}

/// Resolves a bearer token to its [`Actor`]; expired, revoked, unknown tokens, console
/// sessions, disabled users and (outside demo mode) demo accounts are all
/// `UNAUTHENTICATED`.
pub async fn authenticate(
    db: &DatabaseConnection,
    token: &str,
    allow_demo: bool,
    request_id: Option<String>,
) -> Result<Actor> {
    const BAD_TOKEN: &str = "the token is invalid, expired or revoked: log in again";
    let found = resolve(db, token, TokenKind::Api, allow_demo).await?.ok_or(Error::Unauthenticated(BAD_TOKEN))?;
    found.actor(request_id)
}

/// Resolves a console session's cookie to its [`Actor`], as [`authenticate`] does a
/// bearer token; a session not used for `idle_minutes` has ended too. A session in use is
/// marked as used (at most once a minute, to spare the database a write per page).
pub async fn authenticate_session(
    db: &DatabaseConnection,
    token: &str,
    allow_demo: bool,
    idle_minutes: i64,
    request_id: Option<String>,
) -> Result<Actor> {
    const ENDED: &str = "your session has ended: sign in again";
    let found = resolve(db, token, TokenKind::Console, allow_demo).await?.ok_or(Error::Unauthenticated(ENDED))?;
    let now = Utc::now();
    let last = found.last_used_at.unwrap_or(found.created_at);
    if last + Duration::minutes(idle_minutes) <= now {
        return Err(Error::Unauthenticated(ENDED));
    }
    if now - last >= Duration::minutes(1) {
        let used = auth_token::ActiveModel {
            id: Set(found.token_id.clone()),
            last_used_at: Set(Some(now)),
            ..Default::default()
        };
        used.update(db).await?;
    }
    found.actor(request_id)
}

/// A token in force and who holds it: everything a request's identity needs, read in one
/// statement (token, account, membership and organisation joined), never cached, so a
/// revocation or a disabled account takes effect on the next request.
#[derive(Debug, sea_orm::FromQueryResult)]
struct Resolved {
    token_id: String,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
    user_id: String,
    organisation_id: String,
    organisation_kind: String,
    role: String,
    designated_safeguarding_lead: bool,
}

impl Resolved {
    fn actor(self, request_id: Option<String>) -> Result<Actor> {
        Ok(Actor {
            user_id: self.user_id,
            organisation_id: self.organisation_id,
            organisation_kind: OrganisationKind::from_stored(&self.organisation_kind)?,
            role: Role::from_stored(&self.role)?,
            designated_safeguarding_lead: self.designated_safeguarding_lead,
            token_id: Some(self.token_id),
            request_id,
            writes: None,
        })
    }
}

/// The token of `kind` with this digest, if it is in force and its account may sign in
/// (not disabled; a demo account only when `allow_demo`), with its holder's membership:
/// one statement.
async fn resolve(db: &DatabaseConnection, token: &str, kind: TokenKind, allow_demo: bool) -> Result<Option<Resolved>> {
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
    let (t, u, m, o) = (auth_token::Entity, user::Entity, membership::Entity, organisation::Entity);
    let mut q = Query::select();
    for (column, name) in [
        (Expr::col((t, auth_token::Column::Id)), "token_id"),
        (Expr::col((t, auth_token::Column::CreatedAt)), "created_at"),
        (Expr::col((t, auth_token::Column::ExpiresAt)), "expires_at"),
        (Expr::col((t, auth_token::Column::RevokedAt)), "revoked_at"),
        (Expr::col((t, auth_token::Column::LastUsedAt)), "last_used_at"),
        (Expr::col((u, user::Column::Id)), "user_id"),
        (Expr::col((m, membership::Column::OrganisationId)), "organisation_id"),
        (Expr::col((o, organisation::Column::Kind)), "organisation_kind"),
        (Expr::col((m, membership::Column::Role)), "role"),
        (Expr::col((m, membership::Column::DesignatedSafeguardingLead)), "designated_safeguarding_lead"),
    ] {
        q.expr_as(column, Alias::new(name));
    }
    q.from(t)
        .inner_join(u, Expr::col((u, user::Column::Id)).equals((t, auth_token::Column::UserId)))
        .inner_join(m, Expr::col((m, membership::Column::UserId)).equals((u, user::Column::Id)))
        .inner_join(o, Expr::col((o, organisation::Column::Id)).equals((m, membership::Column::OrganisationId)))
        .and_where(Expr::col((t, auth_token::Column::TokenHash)).eq(token_digest(token)))
        .and_where(Expr::col((t, auth_token::Column::Kind)).eq(kind.as_str()))
        .and_where(Expr::col((u, user::Column::Disabled)).eq(false))
        .limit(1);
    if !allow_demo {
        q.and_where(Expr::col((u, user::Column::IsDemo)).eq(false));
    }
    let found = Resolved::find_by_statement(db.get_database_backend().build(&q)).one(db).await?;
    Ok(found.filter(|r| r.revoked_at.is_none() && r.expires_at > Utc::now()))
}

/// Revokes the token the actor is using.
pub async fn logout(db: &DatabaseConnection, actor: &Actor) -> Result<()> {
    let Some(token_id) = &actor.token_id else {
        return Err(Error::Unauthenticated("no token to revoke"));
    };
    let row = auth_token::Entity::find_by_id(token_id.clone())
        .one(db)
        .await?
        .ok_or(Error::Unauthenticated("no token to revoke"))?;
    let mut active: auth_token::ActiveModel = row.into();
    active.revoked_at = Set(Some(Utc::now()));
    active.update(db).await?;
    Ok(())
}

async fn actor_for(db: &DatabaseConnection, found: &user::Model) -> Result<Actor> {
    let member = membership::Entity::find()
        .filter(membership::Column::UserId.eq(found.id.clone()))
        .one(db)
        .await?
        .ok_or(Error::Unauthenticated("this account belongs to no organisation"))?;
    let org = organisation::Entity::find_by_id(member.organisation_id.clone())
        .one(db)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("membership without organisation")))?;
    Ok(Actor {
        user_id: found.id.clone(),
        organisation_id: org.id,
        organisation_kind: OrganisationKind::from_stored(&org.kind)?,
        role: Role::from_stored(&member.role)?,
        designated_safeguarding_lead: member.designated_safeguarding_lead,
        token_id: None,
        request_id: None,
        writes: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_differ() {
        let a = hash_password("correct horse".into()).await.expect("hash");
        let b = hash_password("correct horse".into()).await.expect("hash");
        assert_ne!(a, b, "salted");
        assert!(verify_password("correct horse".into(), a.clone()).await);
        assert!(!verify_password("wrong".into(), a).await);
        assert!(!verify_password("anything".into(), DUMMY_HASH.into()).await);
    }

    #[test]
    fn tokens_are_random_and_only_digests_are_stored() {
        let t = new_token().expect("token");
        assert!(t.starts_with("bb_") && t.len() == 67);
        assert_ne!(t, new_token().expect("token"));
        assert_eq!(token_digest(&t).len(), 64);
        assert!(!token_digest(&t).contains(&t[3..]));
    }
}
