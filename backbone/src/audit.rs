//! The audit log: an append-only chain of events, each holding the SHA-256 of its own
//! contents and of the event before it, so that altering, inserting or deleting a row
//! breaks the chain at that row (`backbone audit verify`).
//!
//! Every read and write of child-level data goes through an [`Audited`] transaction:
//! it locks the chain head first (one row, updated, so appends are serialised on SQLite
//! and PostgreSQL alike, across processes), the domain does its work and records what it
//! touched, and [`Audited::commit`] appends the events in the same transaction. If the
//! events cannot be written, neither is the change, and a read returns nothing.

use crate::auth::Actor;
use crate::error::{Error, Result};
use crate::store::{audit_event, audit_head};
use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, PaginatorTrait,
    QueryOrder, Set, TransactionTrait,
};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::ops::Deref;

/// The hash the first event chains to.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One thing done to (or seen of) a child's record, waiting to be appended.
#[derive(Debug, Clone)]
struct Pending {
    action: String,
    child_id: Option<String>,
    fields: Vec<String>,
}

/// A transaction whose audit events are appended on commit. Derefs to the transaction.
pub struct Audited {
    tx: DatabaseTransaction,
    actor: Actor,
    pending: Vec<Pending>,
}

impl Deref for Audited {
    type Target = DatabaseTransaction;
    fn deref(&self) -> &DatabaseTransaction {
        &self.tx
    }
}

impl Audited {
    /// Begins a transaction and takes the chain lock before anything else, so that on
    /// SQLite the transaction is a writer from its first statement (no stale snapshot).
    pub async fn begin(db: &DatabaseConnection, actor: &Actor) -> Result<Audited> {
        let tx = db.begin().await?;
        let lock = Query::update()
            .table(audit_head::Entity)
            .value(audit_head::Column::Seq, Expr::col(audit_head::Column::Seq))
            .and_where(Expr::col(audit_head::Column::Id).eq(1))
            .to_owned();
        tx.execute(&lock).await?;
        Ok(Audited { tx, actor: actor.clone(), pending: Vec::new() })
    }

    /// The actor this transaction acts for.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// Records that `action` touched `fields` of a child's record (or of no child).
    pub fn record(&mut self, action: &str, child_id: Option<&str>, fields: &[&str]) {
        self.pending.push(Pending {
            action: action.to_owned(),
            child_id: child_id.map(str::to_owned),
            fields: fields.iter().map(|f| (*f).to_owned()).collect(),
        });
    }

    /// Like [`Audited::record`], with field names already owned.
    pub fn record_fields(&mut self, action: &str, child_id: Option<&str>, fields: Vec<String>) {
        self.pending.push(Pending { action: action.to_owned(), child_id: child_id.map(str::to_owned), fields });
    }

    /// Appends the recorded events to the chain and commits everything together.
    pub async fn commit(self) -> Result<()> {
        let Audited { tx, actor, pending } = self;
        if !pending.is_empty() {
            let head = audit_head::Entity::find_by_id(1)
                .one(&tx)
                .await?
                .ok_or_else(|| Error::Internal(anyhow::anyhow!("audit head row missing")))?;
            let (mut seq, mut prev) = (head.seq, head.hash);
            let at = now();
            let mut rows = Vec::with_capacity(pending.len());
            for p in pending {
                seq += 1;
                let event = EventContent {
                    seq,
                    at: stamp(&at),
                    actor_user_id: Some(actor.user_id.clone()),
                    actor_organisation_id: Some(actor.organisation_id.clone()),
                    actor_role: actor.role.as_str().to_owned(),
                    action: p.action,
                    child_id: p.child_id,
                    fields: serde_json::to_string(&p.fields).map_err(|e| Error::Internal(e.into()))?,
                    request_id: actor.request_id.clone(),
                    prev_hash: prev.clone(),
                };
                let hash = event.hash();
                rows.push(audit_event::ActiveModel {
                    seq: Set(seq),
                    at: Set(at),
                    actor_user_id: Set(event.actor_user_id),
                    actor_organisation_id: Set(event.actor_organisation_id),
                    actor_role: Set(event.actor_role),
                    action: Set(event.action),
                    child_id: Set(event.child_id),
                    fields: Set(event.fields),
                    request_id: Set(event.request_id),
                    prev_hash: Set(event.prev_hash),
                    hash: Set(hash.clone()),
                });
                prev = hash;
            }
            // One statement per 500 events, however long the list that was read.
            while !rows.is_empty() {
                let chunk: Vec<_> = rows.drain(..rows.len().min(500)).collect();
                audit_event::Entity::insert_many(chunk).exec(&tx).await?;
            }
            audit_head::ActiveModel { id: Set(1), seq: Set(seq), hash: Set(prev) }.update(&tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// The child-level records one GraphQL operation (a query, a mutation's answer, one
/// subscription event) put in its response: what was read, of which child, with which
/// fields. Filled as the response is built (`graphql::read_audit`), then written by
/// [`ReadLog::flush`] in one audited transaction before the response leaves.
#[derive(Debug, Default)]
pub struct ReadLog {
    entries: std::sync::Mutex<Entries>,
}

/// The reads noted, in the order first noted, and where each (action, child) is.
#[derive(Debug, Default)]
struct Entries {
    list: Vec<Pending>,
    index: std::collections::HashMap<(String, String), usize>,
}

impl ReadLog {
    /// Notes that `action` read `fields` of a child's record. The same child and action
    /// noted again is one event, with the fields of both.
    pub fn note(&self, action: &str, child_id: &str, fields: Vec<String>) {
        // A poisoned lock only means another resolver panicked mid-push: the list is intact.
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let Entries { list, index } = &mut *entries;
        let key = (action.to_owned(), child_id.to_owned());
        let at = *index.entry(key).or_insert_with(|| {
            list.push(Pending { action: action.to_owned(), child_id: Some(child_id.to_owned()), fields: Vec::new() });
            list.len() - 1
        });
        let p = &mut list[at];
        p.fields.extend(fields);
        p.fields.sort();
        p.fields.dedup();
    }

    /// The noted reads, as (action, child id, fields), in the order first noted.
    pub fn entries(&self) -> Vec<(String, String, Vec<String>)> {
        let entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries
            .list
            .iter()
            .map(|p| (p.action.clone(), p.child_id.clone().unwrap_or_default(), p.fields.clone()))
            .collect()
    }

    /// Writes every noted read as an audit event, in one transaction (one `INSERT` per 500
    /// events), and empties the log. Nothing noted, nothing written (no chain lock taken).
    pub async fn flush(&self, db: &DatabaseConnection, actor: &Actor) -> Result<()> {
        let pending = std::mem::take(&mut *self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)).list;
        if pending.is_empty() {
            return Ok(());
        }
        let mut tx = Audited::begin(db, actor).await?;
        tx.pending.extend(pending);
        tx.commit().await
    }
}

/// The current time at the precision both engines store (microseconds), so that what is
/// hashed is exactly what is read back.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

fn stamp(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// What is hashed: every column but the hash itself, in a fixed order.
#[derive(Serialize)]
struct EventContent {
    seq: i64,
    at: String,
    actor_user_id: Option<String>,
    actor_organisation_id: Option<String>,
    actor_role: String,
    action: String,
    child_id: Option<String>,
    fields: String,
    request_id: Option<String>,
    prev_hash: String,
}

impl EventContent {
    fn hash(&self) -> String {
        // Serialising a struct with serde_json is deterministic (field order is fixed).
        let canonical = serde_json::to_vec(self).unwrap_or_default();
        hex::encode(Sha256::digest(&canonical))
    }

    fn of(row: &audit_event::Model) -> EventContent {
        EventContent {
            seq: row.seq,
            at: stamp(&row.at),
            actor_user_id: row.actor_user_id.clone(),
            actor_organisation_id: row.actor_organisation_id.clone(),
            actor_role: row.actor_role.clone(),
            action: row.action.clone(),
            child_id: row.child_id.clone(),
            fields: row.fields.clone(),
            request_id: row.request_id.clone(),
            prev_hash: row.prev_hash.clone(),
        }
    }
}

/// The outcome of checking the chain.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every event's hash matches its contents and links to the one before.
    Intact { events: u64 },
    /// The first event (by sequence number) at which the chain breaks, and why.
    Broken { seq: i64, reason: String },
}

/// Walks the whole chain in order, a page at a time, calling `progress(done, total)`.
pub async fn verify(db: &DatabaseConnection, mut progress: impl FnMut(u64, u64)) -> Result<Verdict> {
    let total = audit_event::Entity::find().count(db).await?;
    let mut pages = audit_event::Entity::find().order_by_asc(audit_event::Column::Seq).paginate(db, 1000);
    let (mut expected_seq, mut prev, mut done) = (1i64, GENESIS.to_owned(), 0u64);
    while let Some(rows) = pages.fetch_and_next().await? {
        for row in rows {
            if row.seq != expected_seq {
                return Ok(Verdict::Broken {
                    seq: expected_seq,
                    reason: format!("event {expected_seq} is missing (next is {})", row.seq),
                });
            }
            if row.prev_hash != prev {
                return Ok(Verdict::Broken {
                    seq: row.seq,
                    reason: "its previous-hash does not match the event before it".into(),
                });
            }
            if EventContent::of(&row).hash() != row.hash {
                return Ok(Verdict::Broken {
                    seq: row.seq,
                    reason: "its contents do not match its hash (the row was altered)".into(),
                });
            }
            prev = row.hash;
            expected_seq += 1;
            done += 1;
        }
        progress(done, total);
    }
    let head = audit_head::Entity::find_by_id(1)
        .one(db)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("audit head row missing")))?;
    if head.seq != expected_seq - 1 || head.hash != prev {
        return Ok(Verdict::Broken {
            seq: head.seq,
            reason: format!(
                "the chain head says {} events but {} were found (events were deleted from the end)",
                head.seq,
                expected_seq - 1
            ),
        });
    }
    Ok(Verdict::Intact { events: done })
}
