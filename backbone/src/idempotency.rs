//! Idempotent writes: a client sends `Idempotency-Key: <key>` with a mutation, so that a
//! retry after a lost answer changes nothing.
//!
//! - The key is recorded **in the same transaction as the write** ([`WriteLog`], carried on
//!   the [`Actor`](crate::auth::Actor) like the request id; [`crate::audit::Audited::commit`]
//!   writes it before it commits), with a digest of the request and the ids of the
//!   children the change touched. A change that committed has its key recorded; a change
//!   that rolled back has not.
//! - Once the answer is known it is stored with the key (`http.rs`). A retry by the same
//!   user with the same key and the same request gets the stored answer; if the answer was
//!   lost before it could be stored, the retry gets `ALREADY_DONE` with the ids of the
//!   children the change touched; with a different request, `CONFLICT`.
//! - A replayed answer is audited (`answer.replay` per child it is about) before it is sent.
//! - Keys are per user and expire after `graphql.idempotency_key_hours`. Queries ignore
//!   the key; a request that committed nothing (refused, invalid) records no key, so its
//!   retry runs again.

use crate::error::{Error, Result};
use crate::store::idempotency_key;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set, SqlErr,
};
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex};

/// The request header that carries the key.
pub const HEADER: &str = "idempotency-key";

/// The longest key accepted.
pub const MAX_KEY_LEN: usize = 200;

/// Checks a key: 1 to 200 visible ASCII characters (a UUID is a good choice).
pub fn valid_key(raw: &str) -> std::result::Result<String, String> {
    let key = raw.trim();
    if key.is_empty() || key.len() > MAX_KEY_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!(
            "the Idempotency-Key header must be 1 to {MAX_KEY_LEN} visible ASCII characters (a UUID is a good choice)"
        ));
    }
    Ok(key.to_owned())
}

/// A key a request claims, with the digest of the request it was sent with.
#[derive(Debug, Clone)]
pub struct Claim {
    pub key: String,
    pub request_hash: String,
    pub expires_at: DateTime<Utc>,
}

/// What one request's transactions committed, and the key they record (if it carries
/// one). Shared by every transaction of the request through the actor.
#[derive(Debug, Default)]
pub struct WriteLog {
    claim: Option<Claim>,
    state: Mutex<State>,
}

#[derive(Debug, Default, Clone)]
struct State {
    /// How many transactions of this request committed (the first recorded the key).
    commits: usize,
    /// The children the committed transactions touched, in order, without repeats.
    child_ids: Vec<String>,
    /// The response keys of the top-level mutation fields whose change committed.
    saved_fields: Vec<String>,
}

impl WriteLog {
    pub fn new(claim: Option<Claim>) -> Arc<WriteLog> {
        Arc::new(WriteLog { claim, state: Mutex::default() })
    }

    pub fn claim(&self) -> Option<&Claim> {
        self.claim.as_ref()
    }

    fn state(&self) -> State {
        self.state.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Whether any transaction of this request committed.
    pub fn committed(&self) -> bool {
        self.state().commits > 0
    }

    /// How many transactions of this request committed so far.
    pub fn commits(&self) -> usize {
        self.state().commits
    }

    /// Notes that the top-level mutation field answering under `response_key` committed
    /// its change (whatever happens to its answer afterwards).
    pub fn note_saved_field(&self, response_key: &str) {
        if let Ok(mut state) = self.state.lock() {
            state.saved_fields.push(response_key.to_owned());
        }
    }

    /// The response keys of the top-level mutation fields whose change committed.
    pub fn saved_fields(&self) -> Vec<String> {
        self.state().saved_fields
    }

    /// The children the committed transactions touched.
    pub fn child_ids(&self) -> Vec<String> {
        self.state().child_ids
    }

    fn merged(&self, touched: &[String]) -> (bool, Vec<String>) {
        let state = self.state();
        let committed = state.commits > 0;
        let mut ids = state.child_ids;
        for id in touched {
            if !ids.contains(id) {
                ids.push(id.clone());
            }
        }
        (committed, ids)
    }

    /// Inside a transaction about to commit: records the key (the first time) or the
    /// children touched since (later transactions of the same request).
    pub(crate) async fn record_in<C: ConnectionTrait>(&self, tx: &C, user_id: &str, touched: &[String]) -> Result<()> {
        let Some(claim) = &self.claim else { return Ok(()) };
        let (already, ids) = self.merged(touched);
        let child_ids = serde_json::to_string(&ids).map_err(|e| Error::Internal(e.into()))?;
        if already {
            idempotency_key::Entity::update_many()
                .col_expr(idempotency_key::Column::ChildIds, Expr::value(child_ids))
                .filter(idempotency_key::Column::UserId.eq(user_id.to_owned()))
                .filter(idempotency_key::Column::Key.eq(claim.key.clone()))
                .exec(tx)
                .await?;
            return Ok(());
        }
        let row = idempotency_key::ActiveModel {
            user_id: Set(user_id.to_owned()),
            key: Set(claim.key.clone()),
            request_hash: Set(claim.request_hash.clone()),
            child_ids: Set(child_ids),
            response: Set(None),
            created_at: Set(crate::audit::now()),
            expires_at: Set(claim.expires_at),
        };
        match row.insert(tx).await {
            Ok(_) => Ok(()),
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => Err(Error::conflict(
                "another request with this Idempotency-Key was made at the same time: nothing was changed by this \
                 one; send it again with the same key to get the answer",
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// After a transaction committed: notes it and the children it touched.
    pub(crate) fn note_commit(&self, touched: &[String]) {
        let (_, ids) = self.merged(touched);
        if let Ok(mut state) = self.state.lock() {
            state.commits += 1;
            state.child_ids = ids;
        }
    }
}

/// The digest of a request: its query text, operation name, variables and uploaded files.
/// The same key with a different digest is a different request (`CONFLICT`).
pub fn fingerprint(request: &async_graphql::Request) -> String {
    let mut hash = Sha256::new();
    let mut part = |bytes: &[u8]| {
        hash.update((bytes.len() as u64).to_be_bytes());
        hash.update(bytes);
    };
    part(request.query.as_bytes());
    part(request.operation_name.as_deref().unwrap_or("").as_bytes());
    part(&serde_json::to_vec(&request.variables).unwrap_or_default());
    for upload in &request.uploads {
        part(upload.filename.as_bytes());
        part(&upload.content);
    }
    hex::encode(hash.finalize())
}

/// Whether the operation a request runs is a mutation (only mutations use keys). A request
/// that does not parse is not (it fails before running anything).
pub fn is_mutation(request: &async_graphql::Request) -> bool {
    use async_graphql::parser::types::{DocumentOperations, OperationType};
    let Ok(doc) = async_graphql::parser::parse_query(&request.query) else { return false };
    let ty = match (&doc.operations, request.operation_name.as_deref()) {
        (DocumentOperations::Single(op), _) => Some(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next().map(|op| op.node.ty),
        (DocumentOperations::Multiple(_), None) => None,
    };
    ty == Some(OperationType::Mutation)
}

/// What an earlier request with the same key left.
#[derive(Debug, PartialEq, Eq)]
pub enum Prior {
    /// None (or it expired): run the request.
    Unused,
    /// The same key was used for a different request.
    OtherRequest,
    /// The stored answer, to send again, and the children it is about.
    Answer { body: String, child_ids: Vec<String> },
    /// The change was made but its answer was not stored (it was lost): the children it
    /// touched.
    AnswerLost(Vec<String>),
}

/// Looks up `key` for `user_id` (purging expired keys first).
pub async fn prior(db: &DatabaseConnection, user_id: &str, key: &str, request_hash: &str) -> Result<Prior> {
    idempotency_key::Entity::delete_many()
        .filter(Expr::col(idempotency_key::Column::ExpiresAt).lt(crate::audit::now()))
        .exec(db)
        .await?;
    let found = idempotency_key::Entity::find_by_id((user_id.to_owned(), key.to_owned())).one(db).await?;
    Ok(match found {
        None => Prior::Unused,
        Some(row) if row.request_hash != request_hash => Prior::OtherRequest,
        Some(row) => {
            let child_ids = serde_json::from_str(&row.child_ids).unwrap_or_default();
            match row.response {
                Some(body) => Prior::Answer { body, child_ids },
                None => Prior::AnswerLost(child_ids),
            }
        }
    })
}

/// Records, before a stored answer is sent again, that it was: one `answer.replay` event
/// per child it is about (a replay is a read of what the answer holds). If the audit
/// cannot be written, the answer is not sent.
pub async fn audit_replay(db: &DatabaseConnection, actor: &crate::auth::Actor, child_ids: &[String]) -> Result<()> {
    let mut tx = crate::audit::Audited::begin(db, actor).await?;
    for id in child_ids {
        tx.record("answer.replay", Some(id), &["idempotentAnswer"]);
    }
    tx.commit().await
}

/// Stores the answer of the request that recorded `key`.
pub async fn store_answer(db: &DatabaseConnection, user_id: &str, key: &str, body: String) -> Result<()> {
    idempotency_key::Entity::update_many()
        .col_expr(idempotency_key::Column::Response, Expr::value(Some(body)))
        .filter(idempotency_key::Column::UserId.eq(user_id.to_owned()))
        .filter(idempotency_key::Column::Key.eq(key.to_owned()))
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_short_visible_ascii() {
        assert_eq!(valid_key(" 0190-abc ").as_deref(), Ok("0190-abc"));
        assert!(valid_key("").is_err());
        assert!(valid_key("has space").is_err());
        assert!(valid_key("clé").is_err());
        assert!(valid_key(&"k".repeat(MAX_KEY_LEN + 1)).is_err());
        assert!(valid_key(&"k".repeat(MAX_KEY_LEN)).is_ok());
    }

    #[test]
    fn only_mutations_use_keys() {
        let m = async_graphql::Request::new("mutation { logout }");
        let q = async_graphql::Request::new("{ me { id } }");
        let two = async_graphql::Request::new("query A { me { id } } mutation B { logout }");
        assert!(is_mutation(&m));
        assert!(!is_mutation(&q));
        assert!(!is_mutation(&async_graphql::Request::new("mutation {")));
        assert!(is_mutation(&async_graphql::Request::new(two.query.clone()).operation_name("B")));
        assert!(!is_mutation(&two.operation_name("A")));
    }

    #[test]
    fn the_fingerprint_covers_query_operation_and_variables() {
        let base = || async_graphql::Request::new("mutation($n: String!) { x(n: $n) }");
        let vars = |n: &str| async_graphql::Variables::from_json(serde_json::json!({ "n": n }));
        let a = fingerprint(&base().variables(vars("a")));
        assert_eq!(a, fingerprint(&base().variables(vars("a"))));
        assert_ne!(a, fingerprint(&base().variables(vars("b"))));
        assert_ne!(a, fingerprint(&base().variables(vars("a")).operation_name("X")));
        assert_ne!(a, fingerprint(&async_graphql::Request::new("mutation { y }").variables(vars("a"))));
    }

    #[test]
    fn a_write_log_merges_the_children_of_each_commit() {
        let log = WriteLog::new(None);
        assert!(!log.committed());
        log.note_commit(&["a".into(), "b".into()]);
        log.note_commit(&["b".into(), "c".into()]);
        assert!(log.committed());
        assert_eq!(log.commits(), 2);
        assert_eq!(log.child_ids(), vec!["a", "b", "c"]);
    }
}
