//! The audit log: an append-only chain of events, each holding an HMAC-SHA-256 (under a
//! key held outside the database) of its own contents and of the event before it, so that
//! altering, inserting or deleting a row breaks the chain at that row, and re-hashing the
//! chain after an edit needs the key (`backbone audit verify`). Signed checkpoints of the
//! chain head, appended to a file outside the database (`backbone audit checkpoint`, and
//! the running service every few minutes), catch events deleted from the end.
//!
//! The key: [`Trust::load`] reads it from the settings (`audit.key`, i.e.
//! `BACKBONE_AUDIT__KEY`, or `audit.key_file`) or, for a SQLite database, creates it beside
//! the file (0600) the first time; [`bind`] ties a database to it (the chain head records
//! the key's id and the first keyed event) and makes it available to [`Audited::commit`]
//! in this process. Events written before a database had a key (SHA-256 only) are checked
//! as before; every event from the first keyed one on must carry the key's MAC.
//!
//! Every read and write of child-level data goes through an [`Audited`] transaction: the
//! domain does its work and records what it touched, and [`Audited::commit`] writes the
//! events in the same transaction, each with the writer's MAC of its contents (`mac`) but
//! no place in the chain yet. If the events cannot be written, neither is the change, and
//! a read returns nothing. No transaction waits on another to write its events: the chain
//! (`seq`, `prev_hash`, `hash`) is built afterwards by one sequencer at a time, [`chain`],
//! in batches, in the order the events became visible, a moment later
//! (`audit.chain_millis`; [`keep_chaining`] in the running service, and at start-up, so a
//! crash between a commit and its chaining loses nothing). The sequencer never chains a
//! row whose MAC is not the key's, and [`verify`] names such a row. A commit
//! that changes an erased child's record, or one its actor reaches only by break-glass,
//! is refused (`access::refuse_changes`), whichever use case made the change; a read of a record opened by break-glass carries the opening's
//! id (`break_glass_id`, part of what is hashed).

use crate::auth::Actor;
use crate::error::{Error, Result};
use crate::store::{audit_event, audit_head};
use chrono::{DateTime, SubsecRound, Utc};
use hmac::{Hmac, Mac};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, NotSet,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Write;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, RwLock};

/// The hash the first event chains to.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One thing done to (or seen of) a child's record, waiting to be appended.
#[derive(Debug, Clone)]
struct Pending {
    action: String,
    child_id: Option<String>,
    fields: Vec<String>,
    /// The break-glass opening the child's record was read under, if any.
    break_glass_id: Option<String>,
}

/// A transaction whose audit events are appended on commit. Derefs to the transaction.
pub struct Audited {
    tx: DatabaseTransaction,
    actor: Actor,
    pending: Vec<Pending>,
    /// The key the database is bound to, when this process bound it.
    key: Option<Key>,
}

impl Deref for Audited {
    type Target = DatabaseTransaction;
    fn deref(&self) -> &DatabaseTransaction {
        &self.tx
    }
}

/// Begins a transaction that holds the chain head's lock (a no-op update of its row: a
/// row lock on PostgreSQL, the write lock on SQLite) from its first statement: the
/// sequencer, binding a key and purging take it; requests never do on PostgreSQL.
async fn lock_head(db: &DatabaseConnection) -> Result<DatabaseTransaction> {
    let tx = crate::store::db::begin_writing(db).await?;
    let lock = Query::update()
        .table(audit_head::Entity)
        .value(audit_head::Column::Seq, Expr::col(audit_head::Column::Seq))
        .and_where(Expr::col(audit_head::Column::Id).eq(1))
        .to_owned();
    tx.execute(&lock).await?;
    Ok(tx)
}

impl Audited {
    /// Begins a transaction. On PostgreSQL it takes no lock: concurrent transactions
    /// write their events side by side, and the use cases lock the rows they change
    /// (`access::find_child`, …). On SQLite, which has one writer at a time anyway, it is
    /// a writer from its `BEGIN` (`store::db::begin_writing`), so that it never works from
    /// a stale snapshot (and is never refused for upgrading one).
    pub async fn begin(db: &DatabaseConnection, actor: &Actor) -> Result<Audited> {
        let tx = crate::store::db::begin_writing(db).await?;
        Ok(Audited { tx, actor: actor.clone(), pending: Vec::new(), key: key_of(db) })
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
            break_glass_id: None,
        });
    }

    /// Like [`Audited::record`], with field names already owned.
    pub fn record_fields(&mut self, action: &str, child_id: Option<&str>, fields: Vec<String>) {
        self.pending.push(Pending {
            action: action.to_owned(),
            child_id: child_id.map(str::to_owned),
            fields,
            break_glass_id: None,
        });
    }

    /// Appends the recorded events to the chain and commits everything together. When the
    /// request carries an idempotency key (`actor.writes`), the key is recorded in this same
    /// transaction, so a committed change always has its key and a rolled-back one never.
    pub async fn commit(self) -> Result<()> {
        let Audited { tx, actor, pending, key } = self;
        let mut touched: Vec<String> = Vec::new();
        for id in pending.iter().filter_map(|p| p.child_id.as_ref()) {
            if !touched.contains(id) {
                touched.push(id.clone());
            }
        }
        let changed: Vec<String> = pending
            .iter()
            .filter(|p| !crate::access::leaves_record_unchanged(&p.action))
            .filter_map(|p| p.child_id.clone())
            .collect();
        crate::access::refuse_changes(&tx, &actor, changed).await?;
        if let Some(writes) = &actor.writes {
            writes.record_in(&tx, &actor.user_id, &touched).await?;
        }
        if !pending.is_empty() {
            let key = match key {
                Some(key) => key,
                None => head_row(&tx).await?.key_id.as_deref().and_then(bound_key).ok_or_else(unbound)?,
            };
            let at = now();
            let mut rows = Vec::with_capacity(pending.len());
            for p in pending {
                let entry = Entry {
                    at: stamp(&at),
                    actor_user_id: Some(actor.user_id.clone()),
                    actor_organisation_id: Some(actor.organisation_id.clone()),
                    actor_role: actor.role.as_str().to_owned(),
                    action: p.action,
                    child_id: p.child_id,
                    fields: serde_json::to_string(&p.fields).map_err(|e| Error::Internal(e.into()))?,
                    request_id: actor.request_id.clone(),
                    break_glass_id: p.break_glass_id,
                };
                let mac = entry.mac(&key);
                rows.push(audit_event::ActiveModel {
                    id: NotSet,
                    seq: Set(None),
                    at: Set(at),
                    actor_user_id: Set(entry.actor_user_id),
                    actor_organisation_id: Set(entry.actor_organisation_id),
                    actor_role: Set(entry.actor_role),
                    action: Set(entry.action),
                    child_id: Set(entry.child_id),
                    fields: Set(entry.fields),
                    request_id: Set(entry.request_id),
                    prev_hash: Set(None),
                    hash: Set(None),
                    break_glass_id: Set(entry.break_glass_id),
                    mac: Set(Some(mac)),
                });
            }
            // One statement per 500 events, however long the list that was read.
            while !rows.is_empty() {
                let chunk: Vec<_> = rows.drain(..rows.len().min(500)).collect();
                audit_event::Entity::insert_many(chunk).exec(&tx).await?;
            }
        }
        tx.commit().await?;
        if let Some(writes) = &actor.writes {
            writes.note_commit(&touched);
        }
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
            list.push(Pending {
                action: action.to_owned(),
                child_id: Some(child_id.to_owned()),
                fields: Vec::new(),
                break_glass_id: None,
            });
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
        // Reads of a record opened by break-glass carry the opening they were made under.
        let ids: Vec<String> = pending.iter().filter_map(|p| p.child_id.clone()).collect();
        let opened = crate::access::break_glass_in_force(&*tx, actor, ids).await?;
        tx.pending.extend(pending.into_iter().map(|mut p| {
            p.break_glass_id = p.child_id.as_ref().and_then(|c| opened.get(c).cloned());
            p
        }));
        tx.commit().await
    }
}

/// How many events one pass of the sequencer chains in one transaction.
const CHAIN_BATCH: u64 = 1000;

/// The sequencer: gives every event written but not yet chained its place — `seq`, the
/// previous event's hash and its own (the MAC of its contents and place) — in the order
/// they were written, a batch per transaction under the chain head's lock (so one
/// sequencer at a time, whichever process runs it), and moves the head. A row whose
/// writer's MAC is not the key's is never chained (it is logged, and [`verify`] names
/// it). Answers how many events were chained.
pub async fn chain(db: &DatabaseConnection) -> Result<u64> {
    // Nothing waiting (the usual case between writes): one indexed read, no lock taken
    // and nothing written.
    let waiting = audit_event::Entity::find().filter(audit_event::Column::Seq.is_null()).one(db).await?;
    if waiting.is_none() {
        return Ok(0);
    }
    let mut chained = 0u64;
    // Within one call, rows already passed over (refused ones) are not read again.
    let mut after = 0i64;
    loop {
        let tx = lock_head(db).await?;
        let head = head_row(&tx).await?;
        // A database never bound to a key has nothing waiting: writing needs the key.
        let Some(key_id) = head.key_id.as_deref() else { return Ok(chained) };
        let key = bound_key(key_id).ok_or_else(unbound)?;
        let rows = audit_event::Entity::find()
            .filter(audit_event::Column::Seq.is_null())
            .filter(audit_event::Column::Id.gt(after))
            .order_by_asc(audit_event::Column::Id)
            .limit(CHAIN_BATCH)
            .all(&tx)
            .await?;
        let Some(last) = rows.last() else {
            tx.commit().await?;
            return Ok(chained);
        };
        after = last.id;
        let (mut seq, mut prev) = (head.seq, head.hash);
        let mut places = Vec::with_capacity(rows.len());
        for row in &rows {
            if !Entry::signed(row, &key) {
                tracing::error!(
                    row = row.id,
                    "an audit event awaiting chaining is not signed with the audit key (not written by the service, \
                     or altered): it is left unchained, and `audit verify` reports it"
                );
                continue;
            }
            seq += 1;
            let hash = EventContent::at_place(row, seq, &prev).mac(&key);
            // Every value is a number or hex written here, never text from a request.
            places.push(format!("({}, {seq}, '{prev}', '{hash}')", row.id));
            prev = hash;
        }
        if !places.is_empty() {
            let update = format!(
                "WITH v (id, seq, prev_hash, hash) AS (VALUES {}) \
                 UPDATE audit_events SET seq = v.seq, prev_hash = v.prev_hash, hash = v.hash \
                 FROM v WHERE audit_events.id = v.id",
                places.join(", ")
            );
            tx.execute_unprepared(&update).await?;
            let moved = audit_head::ActiveModel { id: Set(1), seq: Set(seq), hash: Set(prev), ..Default::default() };
            moved.update(&tx).await?;
        }
        tx.commit().await?;
        chained += places.len() as u64;
        if (rows.len() as u64) < CHAIN_BATCH {
            return Ok(chained);
        }
    }
}

/// The running service's sequencer: [`chain`] every `every`, so an event is chained
/// that long (and a batch's work) after its transaction commits — in one process at a
/// time of those sharing the database (`store::db::Duty::ChainAudit`), another taking
/// over when that one stops.
pub async fn keep_chaining(db: DatabaseConnection, every: std::time::Duration) {
    crate::store::db::keep_doing(db, crate::store::db::Duty::ChainAudit, every, |db| async move {
        if let Err(e) = chain(&db).await {
            tracing::error!(error = %e, "audit chaining failed; it is tried again");
        }
    })
    .await
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
    /// Left out when empty, so that every event written before the flag existed hashes
    /// as it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    break_glass_id: Option<String>,
    /// The writer's MAC of the entry; left out when empty (events from before the
    /// sequencer), so that they hash as they did.
    #[serde(skip_serializing_if = "Option::is_none")]
    mac: Option<String>,
}

/// What the writer of an event knows and MACs: the event without its place in the chain.
#[derive(Serialize)]
struct Entry {
    at: String,
    actor_user_id: Option<String>,
    actor_organisation_id: Option<String>,
    actor_role: String,
    action: String,
    child_id: Option<String>,
    fields: String,
    request_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    break_glass_id: Option<String>,
}

impl Entry {
    fn of(row: &audit_event::Model) -> Entry {
        Entry {
            at: stamp(&row.at),
            actor_user_id: row.actor_user_id.clone(),
            actor_organisation_id: row.actor_organisation_id.clone(),
            actor_role: row.actor_role.clone(),
            action: row.action.clone(),
            child_id: row.child_id.clone(),
            fields: row.fields.clone(),
            request_id: row.request_id.clone(),
            break_glass_id: row.break_glass_id.clone(),
        }
    }

    /// The writer's MAC: under the audit key, apart from the chain's own MACs.
    fn mac(&self, key: &Key) -> String {
        let mut bytes = b"backbone audit entry\n".to_vec();
        bytes.extend(serde_json::to_vec(self).unwrap_or_default());
        key.mac(&bytes)
    }

    /// Whether `row` was written by the service (its MAC is the key's).
    fn signed(row: &audit_event::Model, key: &Key) -> bool {
        row.mac.as_deref() == Some(Entry::of(row).mac(key).as_str())
    }
}

fn unbound() -> Error {
    Error::Internal(anyhow::anyhow!(
        "the audit key of this database is not loaded in this process (audit::bind was not called)"
    ))
}

impl EventContent {
    /// Serialising a struct with serde_json is deterministic (field order is fixed).
    fn canonical(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The hash of an event written before its database had a key.
    fn unkeyed_hash(&self) -> String {
        hex::encode(Sha256::digest(self.canonical()))
    }

    /// The hash of every event written since: HMAC-SHA-256 under the audit key.
    fn mac(&self, key: &Key) -> String {
        key.mac(&self.canonical())
    }

    /// A row's contents at a place in the chain (its own, once chained).
    fn at_place(row: &audit_event::Model, seq: i64, prev_hash: &str) -> EventContent {
        EventContent {
            seq,
            at: stamp(&row.at),
            actor_user_id: row.actor_user_id.clone(),
            actor_organisation_id: row.actor_organisation_id.clone(),
            actor_role: row.actor_role.clone(),
            action: row.action.clone(),
            child_id: row.child_id.clone(),
            fields: row.fields.clone(),
            request_id: row.request_id.clone(),
            prev_hash: prev_hash.to_owned(),
            break_glass_id: row.break_glass_id.clone(),
            mac: row.mac.clone(),
        }
    }

    fn of(row: &audit_event::Model) -> EventContent {
        EventContent::at_place(row, row.seq.unwrap_or_default(), row.prev_hash.as_deref().unwrap_or_default())
    }
}

// ---------------------------------------------------------------------------------------
// The key
// ---------------------------------------------------------------------------------------

type HmacSha256 = Hmac<Sha256>;

/// The secret the chain is MACed with: 32 bytes held outside the database. Never printed
/// (`Debug` shows only its id) and never logged.
#[derive(Clone)]
pub struct Key([u8; 32]);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key(id {}, ***)", self.id())
    }
}

impl Key {
    /// A new random key.
    pub fn generate() -> Result<Key> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| Error::Internal(anyhow::anyhow!("randomness: {e}")))?;
        Ok(Key(bytes))
    }

    /// Reads a key written as 64 hex characters (surrounding whitespace ignored).
    pub fn from_hex(text: &str) -> anyhow::Result<Key> {
        let bytes = hex::decode(text.trim()).map_err(|_| anyhow::anyhow!("an audit key is 64 hex characters"))?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| anyhow::anyhow!("an audit key is 64 hex characters"))?;
        Ok(Key(bytes))
    }

    /// The key as written to a key file.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// A public name for the key (16 hex characters, derived one way from it), recorded in
    /// the chain head and in checkpoints so that a wrong key is named as such.
    pub fn id(&self) -> String {
        self.mac(b"backbone audit key id")[..16].to_owned()
    }

    fn mac(&self, bytes: &[u8]) -> String {
        // HMAC takes a key of any length; 32 bytes cannot fail.
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!());
        mac.update(bytes);
        hex::encode(mac.finalize().into_bytes())
    }

    /// Writes the key to a new file readable only by its owner (0600); refuses to replace
    /// an existing file.
    pub fn write_new(&self, path: &Path) -> anyhow::Result<()> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(path).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
        writeln!(file, "{}", self.to_hex())?;
        file.sync_all()?;
        Ok(())
    }
}

/// The keys bound in this process, by id ([`bind`]); [`Audited::commit`] takes the one the
/// chain head names. A map, not one key, because a process (a test binary) may serve
/// several databases.
static BOUND: LazyLock<RwLock<HashMap<String, Key>>> = LazyLock::new(Default::default);

fn bound_key(id: &str) -> Option<Key> {
    BOUND.read().ok().and_then(|keys| keys.get(id).cloned())
}

/// The key each database was bound to in this process, by the database's identity
/// (`store::db::identity`). A database's chain is bound to one key for good ([`bind`]
/// refuses another), so a request need not read the chain head to learn it: one statement
/// fewer per audited transaction. A database not bound here is asked.
static BOUND_TO: LazyLock<RwLock<HashMap<String, Key>>> = LazyLock::new(Default::default);

fn key_of(db: &DatabaseConnection) -> Option<Key> {
    let identity = crate::store::db::identity(db)?;
    BOUND_TO.read().ok().and_then(|keys| keys.get(&identity).cloned())
}

fn note_bound(db: &DatabaseConnection, key: &Key) {
    if let (Some(identity), Ok(mut keys)) = (crate::store::db::identity(db), BOUND_TO.write()) {
        keys.insert(identity, key.clone());
    }
}

/// What verification trusts, both outside the database: the key and the checkpoint file.
#[derive(Clone, Debug)]
pub struct Trust {
    pub key: Key,
    pub checkpoint_file: PathBuf,
}

/// Whether [`Trust::load`] may create a missing key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IfMissing {
    /// Create it (SQLite only): opening a database for use.
    Create,
    /// Refuse: verifying, which needs the key the chain was written with.
    Refuse,
}

impl Trust {
    /// The key and checkpoint file the settings name: `audit.key` (`BACKBONE_AUDIT__KEY`),
    /// else `audit.key_file`, else a file beside the SQLite database — created there (0600,
    /// with a notice that it was, never its value) when `if_missing` allows. PostgreSQL has
    /// no default place: the key and the checkpoint file must be configured.
    pub fn load(settings: &crate::settings::Settings, if_missing: IfMissing) -> anyhow::Result<Trust> {
        let beside = |suffix: &str| {
            settings.sqlite_path().map(|db| {
                let mut name = db.into_os_string();
                name.push(suffix);
                PathBuf::from(name)
            })
        };
        let configured = |p: &PathBuf| (!p.as_os_str().is_empty()).then(|| p.clone());
        let checkpoint_file =
            configured(&settings.audit.checkpoint_file).or_else(|| beside(".audit-checkpoints")).ok_or_else(|| {
                anyhow::anyhow!(
                    "set audit.checkpoint_file (BACKBONE_AUDIT__CHECKPOINT_FILE): the audit chain's checkpoints \
                     are kept in a file outside the database, and a database other than a SQLite file has no \
                     default place for it"
                )
            })?;
        if let Some(hex) = settings.audit.key.as_deref().filter(|k| !k.trim().is_empty()) {
            let key = Key::from_hex(hex).map_err(|e| anyhow::anyhow!("BACKBONE_AUDIT__KEY (audit.key): {e}"))?;
            return Ok(Trust { key, checkpoint_file });
        }
        let key_file = configured(&settings.audit.key_file).or_else(|| beside(".audit-key")).ok_or_else(|| {
            anyhow::anyhow!(
                "no audit key: set BACKBONE_AUDIT__KEY or audit.key_file (create a key with `backbone audit new-key \
                 --out FILE`); a database other than a SQLite file has no default key"
            )
        })?;
        let key = match std::fs::read_to_string(&key_file) {
            Ok(text) => Key::from_hex(&text).map_err(|e| anyhow::anyhow!("{}: {e}", key_file.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if if_missing == IfMissing::Refuse || settings.sqlite_path().is_none() {
                    anyhow::bail!(
                        "no audit key at {} (audit.key_file) and BACKBONE_AUDIT__KEY is not set: the audit chain \
                         can only be checked with the key it was written with",
                        key_file.display()
                    );
                }
                let key = Key::generate()?;
                key.write_new(&key_file)?;
                tracing::warn!(
                    key_file = %key_file.display(),
                    "created a new audit key; keep a copy of it somewhere safe, apart from the database"
                );
                key
            }
            Err(e) => anyhow::bail!("cannot read the audit key {}: {e}", key_file.display()),
        };
        Ok(Trust { key, checkpoint_file })
    }
}

/// Ties the database's chain to the key and makes the key available to [`Audited::commit`]
/// in this process. The first time (a new database, or one whose events predate keys) the
/// chain head records the key's id and the first keyed event, and an anchor checkpoint is
/// written. A database already bound to another key is refused: its events could not be
/// verified together.
pub async fn bind(db: &DatabaseConnection, trust: &Trust) -> Result<()> {
    let id = trust.key.id();
    if let Ok(mut keys) = BOUND.write() {
        keys.insert(id.clone(), trust.key.clone());
    }
    let tx = lock_head(db).await?;
    let head = head_row(&tx).await?;
    match head.key_id.as_deref() {
        Some(bound) if bound == id => {
            tx.commit().await?;
            note_bound(db, &trust.key);
            Ok(())
        }
        Some(other) => Err(Error::Internal(anyhow::anyhow!(
            "this database's audit chain is keyed with the key whose id is {other}, not the configured key ({id}): \
             start with the key the chain was written with"
        ))),
        None => {
            let anchor = audit_head::ActiveModel {
                id: Set(1),
                key_id: Set(Some(id)),
                keyed_from: Set(Some(head.seq + 1)),
                ..Default::default()
            };
            anchor.update(&tx).await?;
            tx.commit().await?;
            note_bound(db, &trust.key);
            tracing::info!(keyed_from = head.seq + 1, "the audit chain is keyed from now on");
            checkpoint(db, trust).await.map(|_| ())
        }
    }
}

/// Chains what is waiting, with `trust`'s key, when it is the key the database is bound
/// to (a command that verifies does not bind a database itself). Answers how many events
/// were chained.
pub async fn settle(db: &DatabaseConnection, trust: &Trust) -> Result<u64> {
    let id = trust.key.id();
    if head_row(db).await?.key_id.as_deref() != Some(id.as_str()) {
        return Ok(0);
    }
    if let Ok(mut keys) = BOUND.write() {
        keys.insert(id, trust.key.clone());
    }
    chain(db).await
}

async fn head_row<C: ConnectionTrait>(conn: &C) -> Result<audit_head::Model> {
    audit_head::Entity::find_by_id(1)
        .one(conn)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("audit head row missing")))
}

// ---------------------------------------------------------------------------------------
// Checkpoints
// ---------------------------------------------------------------------------------------

/// A signed record of the chain head at one moment, one JSON line of the checkpoint file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The head's sequence number (0: no events yet).
    pub seq: i64,
    /// The hash of event `seq`.
    pub hash: String,
    /// When the checkpoint was taken.
    pub at: String,
    /// The key's id.
    pub key_id: String,
    /// The first keyed event: every event from it on must carry the key's MAC.
    pub keyed_from: i64,
    /// HMAC of the fields above.
    pub mac: String,
    /// A purge's checkpoint: events up to and including `seq` were deleted under the
    /// retention schedule, and the chain goes on from `hash` (signed with the rest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purged_through: Option<i64>,
}

impl Checkpoint {
    fn signed_part(&self) -> String {
        let mut part = format!(
            "backbone audit checkpoint\n{}\n{}\n{}\n{}\n{}",
            self.seq, self.hash, self.at, self.key_id, self.keyed_from
        );
        if let Some(through) = self.purged_through {
            part.push_str(&format!("\npurged through {through}"));
        }
        part
    }
}

/// Appends a checkpoint of the current head to the checkpoint file and returns it.
pub async fn checkpoint(db: &DatabaseConnection, trust: &Trust) -> Result<Checkpoint> {
    let head = head_row(db).await?;
    let id = trust.key.id();
    let (Some(key_id), Some(keyed_from)) = (head.key_id, head.keyed_from) else {
        return Err(Error::Internal(anyhow::anyhow!("the audit chain is not keyed yet (audit::bind first)")));
    };
    if key_id != id {
        return Err(Error::Internal(anyhow::anyhow!(
            "this database's audit chain is keyed with key {key_id}, not the configured key ({id})"
        )));
    }
    let cp = Checkpoint {
        seq: head.seq,
        hash: head.hash,
        at: stamp(&now()),
        key_id,
        keyed_from,
        mac: String::new(),
        purged_through: None,
    };
    append_checkpoint(trust, cp).await
}

/// Signs `cp` and appends it to the checkpoint file.
async fn append_checkpoint(trust: &Trust, mut cp: Checkpoint) -> Result<Checkpoint> {
    cp.mac = trust.key.mac(cp.signed_part().as_bytes());
    let mut line = serde_json::to_string(&cp).map_err(|e| Error::Internal(e.into()))?;
    line.push('\n');
    let path = trust.checkpoint_file.clone();
    let write = move || -> std::io::Result<()> {
        let mut options = std::fs::OpenOptions::new();
        options.append(true).create(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path)?;
        // One write of one short line: appends from several processes do not interleave.
        file.write_all(line.as_bytes())?;
        file.sync_data()
    };
    tokio::task::spawn_blocking(write)
        .await
        .map_err(|e| Error::Internal(e.into()))?
        .map_err(|e| Error::Internal(anyhow::anyhow!("cannot append to {}: {e}", trust.checkpoint_file.display())))?;
    Ok(cp)
}

/// Deletes the audit events older than `cutoff` (the retention schedule's period): the
/// oldest events up to the first one at or after it. A signed checkpoint of the last
/// event deleted (`purged_through`) is appended **before** anything is deleted, so that
/// [`verify`] checks the chain from it on, and a deletion without one — someone without
/// the key removing events — still breaks the chain. The purge is itself an audit event
/// (`audit.purge`). Answers how many events were deleted.
pub async fn purge_before(db: &DatabaseConnection, trust: &Trust, cutoff: DateTime<Utc>) -> Result<u64> {
    // Everything written so far is chained first; then the chain is held still.
    chain(db).await?;
    let mut tx = Audited { tx: lock_head(db).await?, actor: Actor::system(), pending: Vec::new(), key: key_of(db) };
    let head = head_row(&*tx).await?;
    let chained = || audit_event::Entity::find().filter(audit_event::Column::Seq.is_not_null());
    let first_kept = chained()
        .filter(audit_event::Column::At.gte(cutoff))
        .order_by_asc(audit_event::Column::Seq)
        .one(&*tx)
        .await?
        .and_then(|e| e.seq)
        .unwrap_or(head.seq + 1);
    let through = first_kept - 1;
    let oldest = chained().order_by_asc(audit_event::Column::Seq).one(&*tx).await?.and_then(|o| o.seq);
    let Some(oldest) = oldest.filter(|o| *o <= through) else {
        return Ok(0);
    };
    let last =
        chained().filter(audit_event::Column::Seq.eq(through)).one(&*tx).await?.and_then(|e| e.hash).ok_or_else(
            || Error::Internal(anyhow::anyhow!("audit event {through} is missing: verify the chain first")),
        )?;
    let (Some(key_id), Some(keyed_from)) = (head.key_id, head.keyed_from) else {
        return Err(Error::Internal(anyhow::anyhow!("the audit chain is not keyed yet (audit::bind first)")));
    };
    let signed = Checkpoint {
        seq: through,
        hash: last,
        at: stamp(&now()),
        key_id,
        keyed_from,
        mac: String::new(),
        purged_through: Some(through),
    };
    append_checkpoint(trust, signed).await?;
    let deleted = audit_event::Entity::delete_many()
        .filter(audit_event::Column::Seq.lte(through))
        .exec(&*tx)
        .await?
        .rows_affected;
    tx.record_fields("audit.purge", None, vec![format!("from:{oldest}"), format!("through:{through}")]);
    tx.commit().await?;
    Ok(deleted)
}

/// The running service's checkpointer: every `every`, a checkpoint when the chain has
/// grown since the last one (one single-row read otherwise).
pub async fn keep_checkpointing(db: DatabaseConnection, trust: Trust, every: std::time::Duration) {
    let mut last_seq = None;
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        match head_row(&db).await {
            Ok(head) if Some(head.seq) == last_seq => {}
            Ok(_) => match checkpoint(&db, &trust).await {
                Ok(cp) => last_seq = Some(cp.seq),
                Err(e) => tracing::error!(error = %e, "audit checkpoint failed"),
            },
            Err(e) => tracing::error!(error = %e, "audit checkpoint failed"),
        }
    }
}

/// The checkpoint file's lines, each checked against the key. A missing file is no
/// checkpoints; a line that is not a checkpoint, or whose MAC is wrong, is a problem.
fn read_checkpoints(trust: &Trust) -> Result<std::result::Result<Vec<Checkpoint>, (i64, String)>> {
    let text = match std::fs::read_to_string(&trust.checkpoint_file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Ok(Vec::new())),
        Err(e) => {
            return Err(Error::Internal(anyhow::anyhow!("cannot read {}: {e}", trust.checkpoint_file.display())));
        }
    };
    let file = trust.checkpoint_file.display();
    let mut found = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let Ok(cp) = serde_json::from_str::<Checkpoint>(line) else {
            return Ok(Err((0, format!("line {} of the checkpoint file {file} is not a checkpoint", i + 1))));
        };
        if trust.key.mac(cp.signed_part().as_bytes()) != cp.mac {
            return Ok(Err((
                cp.seq,
                format!(
                    "line {} of the checkpoint file {file} is not signed with this key (forged or altered, or \
                     another key)",
                    i + 1
                ),
            )));
        }
        found.push(cp);
    }
    Ok(Ok(found))
}

// ---------------------------------------------------------------------------------------
// Verifying
// ---------------------------------------------------------------------------------------

/// The hash an event row should carry: its HMAC under `key`, or with `None` its SHA-256
/// as written before the database had a key.
pub fn event_hash(row: &audit_event::Model, key: Option<&Key>) -> String {
    let content = EventContent::of(row);
    key.map_or_else(|| content.unkeyed_hash(), |k| content.mac(k))
}

/// The outcome of checking the chain.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every event's hash matches its contents and links to the one before, every keyed
    /// event carries the key's MAC, and the chain agrees with every checkpoint.
    Intact {
        events: u64,
        /// Events from before the database had a key, checked by SHA-256 alone.
        unkeyed: u64,
        /// Checkpoints the chain was checked against.
        checkpoints: usize,
        /// Events written but not chained yet (each signed by the service).
        pending: u64,
    },
    /// The first event (by sequence number) at which the chain breaks, and why.
    Broken { seq: i64, reason: String },
}

/// Walks the whole chain in order, a page at a time, calling `progress(done, total)`:
/// checks each event's link and MAC (or, before the key, its SHA-256), that no event from
/// the first keyed one on lacks the MAC, and that the chain agrees with every checkpoint
/// (the checkpointed event exists with that hash; the head is not behind the last one).
pub async fn verify(db: &DatabaseConnection, trust: &Trust, mut progress: impl FnMut(u64, u64)) -> Result<Verdict> {
    let checkpoints = match read_checkpoints(trust)? {
        Ok(c) => c,
        Err((seq, reason)) => return Ok(Verdict::Broken { seq, reason }),
    };
    let id = trust.key.id();
    if let Some(cp) = checkpoints.iter().find(|c| c.key_id != id) {
        return Ok(Verdict::Broken { seq: cp.seq, reason: format!("a checkpoint names another key ({})", cp.key_id) });
    }
    let head = head_row(db).await?;
    if let Some(other) = head.key_id.as_deref().filter(|k| *k != id) {
        return Ok(Verdict::Broken {
            seq: head.keyed_from.unwrap_or(1),
            reason: format!(
                "the database says its events are keyed with key {other}, but the key given is {id}: verify with \
                 the key the service writes with"
            ),
        });
    }
    // From the checkpoints (signed) where there are any; the head's word otherwise.
    let keyed_from = checkpoints.iter().map(|c| c.keyed_from).min().or(head.keyed_from);
    let mut pinned: HashMap<i64, &Checkpoint> = HashMap::new();
    for cp in &checkpoints {
        if cp.seq == 0 && cp.hash != GENESIS {
            return Ok(Verdict::Broken { seq: 0, reason: format!("the checkpoint of {} is not of this chain", cp.at) });
        }
        if let Some(earlier) = pinned.insert(cp.seq, cp).filter(|e| e.hash != cp.hash) {
            return Ok(Verdict::Broken {
                seq: cp.seq,
                reason: format!("the checkpoints of {} and {} disagree about this event", earlier.at, cp.at),
            });
        }
    }
    // Events awaiting the sequencer are not in the chain yet, but each must be the service's.
    let waiting = || audit_event::Entity::find().filter(audit_event::Column::Seq.is_null());
    let pending = waiting().count(db).await?;
    let mut unchained = waiting().order_by_asc(audit_event::Column::Id).paginate(db, 1000);
    while let Some(rows) = unchained.fetch_and_next().await? {
        if let Some(row) = rows.iter().find(|r| !Entry::signed(r, &trust.key)) {
            return Ok(Verdict::Broken {
                seq: head.seq + 1,
                reason: format!(
                    "the event written at {} (row {}), awaiting chaining, is not signed with the key: it was not \
                     written by the service, or was altered",
                    stamp(&row.at),
                    row.id
                ),
            });
        }
    }
    // The chain as the head stood when verifying began: a sequencer running meanwhile
    // chains events after it, which the checks at the end tell apart from tampering.
    let chained = || {
        audit_event::Entity::find()
            .filter(audit_event::Column::Seq.is_not_null())
            .filter(audit_event::Column::Seq.lte(head.seq))
    };
    let total = chained().count(db).await?;
    let mut pages = chained().order_by_asc(audit_event::Column::Seq).paginate(db, 1000);
    let (mut expected_seq, mut prev, mut done, mut unkeyed) = (1i64, GENESIS.to_owned(), 0u64, 0u64);
    // Events purged under the retention schedule: the chain goes on from the signed point
    // of the latest purge (unless the events are still there: a purge that did not finish).
    let purged = checkpoints.iter().filter(|c| c.purged_through.is_some()).max_by_key(|c| c.seq);
    let first = chained().order_by_asc(audit_event::Column::Seq).one(db).await?.and_then(|f| f.seq);
    if let Some(cp) = purged
        && first.is_none_or(|f| f > cp.seq)
    {
        expected_seq = cp.seq + 1;
        prev = cp.hash.clone();
    }
    let mut keyed_seen = false;
    while let Some(rows) = pages.fetch_and_next().await? {
        for row in rows {
            let seq = row.seq.unwrap_or_default();
            let broken = |reason: String| Ok(Verdict::Broken { seq, reason });
            if seq != expected_seq {
                return Ok(Verdict::Broken {
                    seq: expected_seq,
                    reason: format!("event {expected_seq} is missing (next is {seq})"),
                });
            }
            if row.prev_hash.as_deref() != Some(prev.as_str()) {
                return broken("its previous-hash does not match the event before it".into());
            }
            let content = EventContent::of(&row);
            let hash = row.hash.clone().unwrap_or_default();
            if content.mac(&trust.key) == hash {
                keyed_seen = true;
            } else if content.unkeyed_hash() == hash {
                if keyed_seen || keyed_from.is_some_and(|k| seq >= k) {
                    return broken(format!(
                        "it is hashed without the key although the chain is keyed from event {} on (the chain was \
                         re-hashed by someone without the key)",
                        keyed_from.unwrap_or(seq)
                    ));
                }
                unkeyed += 1;
            } else {
                return broken(
                    "its contents do not match its hash (the row was altered, or the chain re-hashed with another \
                     key)"
                        .into(),
                );
            }
            if let Some(cp) = pinned.get(&seq).filter(|cp| cp.hash != hash) {
                return broken(format!("it differs from the checkpoint of {} (events up to it were rewritten)", cp.at));
            }
            prev = hash;
            expected_seq += 1;
            done += 1;
        }
        progress(done, total);
    }
    let last = expected_seq - 1;
    // Events past the head it began with: chained since (the head has moved past them),
    // or put there by someone else.
    let beyond = audit_event::Entity::find()
        .filter(audit_event::Column::Seq.gt(head.seq))
        .order_by_desc(audit_event::Column::Seq)
        .one(db)
        .await?;
    let moved_to = match &beyond {
        Some(_) => head_row(db).await?.seq,
        None => head.seq,
    };
    if let Some(after) = beyond.as_ref().and_then(|e| e.seq).filter(|s| *s > moved_to) {
        return Ok(Verdict::Broken {
            seq: head.seq + 1,
            reason: format!(
                "event {after} is past the chain head (event {moved_to}): it was not chained by the service"
            ),
        });
    }
    // A checkpoint past the end is deleted events — unless it was taken meanwhile, of an
    // event chained since, still there as it recorded it.
    for cp in checkpoints.iter().filter(|c| c.seq > last && c.seq <= moved_to) {
        let there = audit_event::Entity::find().filter(audit_event::Column::Seq.eq(cp.seq)).one(db).await?;
        if there.and_then(|e| e.hash).as_deref() != Some(cp.hash.as_str()) {
            return Ok(Verdict::Broken {
                seq: cp.seq,
                reason: format!("event {} differs from the checkpoint of {} or is missing", cp.seq, cp.at),
            });
        }
    }
    if let Some(cp) = checkpoints.iter().filter(|c| c.seq > moved_to).max_by_key(|c| c.seq) {
        return Ok(Verdict::Broken {
            seq: last + 1,
            reason: format!(
                "the chain ends at event {last}, but the checkpoint of {} recorded event {} (events were deleted from \
                 the end and the head moved back)",
                cp.at, cp.seq
            ),
        });
    }
    if head.seq != last || head.hash != prev {
        return Ok(Verdict::Broken {
            seq: head.seq,
            reason: format!(
                "the chain head says {} events but {last} were found (events were deleted from the end)",
                head.seq
            ),
        });
    }
    Ok(Verdict::Intact { events: done, unkeyed, checkpoints: checkpoints.len(), pending })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_never_print() {
        let key = Key::generate().expect("key");
        let again = Key::from_hex(&format!("{}\n", key.to_hex())).expect("hex");
        assert_eq!(key.id(), again.id());
        assert_eq!(key.id().len(), 16);
        assert!(!format!("{key:?}").contains(&key.to_hex()));
        assert!(Key::from_hex("abcd").is_err());
        assert!(Key::from_hex(&"zz".repeat(32)).is_err());
        assert_ne!(Key::generate().expect("key").id(), key.id());
    }

    fn sample() -> EventContent {
        EventContent {
            seq: 1,
            at: "2026-12-02T07:00:00.000000Z".into(),
            actor_user_id: None,
            actor_organisation_id: None,
            actor_role: "system".into(),
            action: "child.read".into(),
            child_id: None,
            fields: "[]".into(),
            request_id: None,
            prev_hash: GENESIS.into(),
            break_glass_id: None,
            mac: None,
        }
    }

    #[test]
    fn an_event_keyed_with_another_key_hashes_differently() {
        let event = sample();
        let (a, b) = (Key::generate().expect("key"), Key::generate().expect("key"));
        assert_ne!(event.mac(&a), event.mac(&b));
        assert_ne!(event.mac(&a), event.unkeyed_hash());
        assert_eq!(event.mac(&a).len(), 64);
    }

    #[test]
    fn the_break_glass_flag_is_hashed_and_an_event_without_it_hashes_as_before() {
        let mut event = sample();
        assert!(!String::from_utf8(event.canonical()).expect("utf-8").contains("break_glass"));
        let plain = event.unkeyed_hash();
        event.break_glass_id = Some("b1".into());
        assert_ne!(event.unkeyed_hash(), plain);
    }
}
