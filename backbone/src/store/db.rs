//! Opening the database, bringing its schema up to date, and recovering from storage
//! faults without a restart.
//!
//! SQLite is opened in WAL mode with `synchronous=FULL`, so that a write the service has
//! acknowledged survives a power cut, with foreign keys enforced and a busy timeout so
//! that concurrent writers queue rather than fail.
//!
//! **Storage faults.** A SQLite connection opened while its file cannot be written (a
//! read-only remount, an immutable file) is silently opened read-only, and stays so after
//! the file is writable again; a PostgreSQL connection that lands on a standby after a
//! failover stays read-only too. So every pool checks a connection before handing it out
//! (`recycle_check`): when the one place that converts database errors
//! (`error::Error::from_db`) sees a storage fault it calls [`storage_fault`], and every
//! connection opened before that moment is closed on its next acquire and replaced by a
//! fresh one. Each pool keeps its own account of a fault ([`Health`]): a fault makes every
//! pool of the process suspect (an error does not say which database it came from), and
//! only a pool's own write probe ends its suspicion, so a pool on another, writable
//! database (a test's, a command's) cannot end it. Until a fresh connection has shown it can write
//! again (a write probe, [`probe_writable`]), every connection is probed before use; the
//! first success closes every connection opened during the fault, and the service is back
//! to normal — no restart, and no cost outside a fault. `/readyz` runs the same probe, so
//! readiness says whether a write could succeed now.

use backbone_migration::{Migrator, MigratorTrait};
use futures_util::future::BoxFuture;
use sea_orm::sqlx::pool::PoolConnectionMetadata;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::sqlx::{self, Connection, Executor, Row};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbBackend, DbErr};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long a SQLite writer waits for the write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects to `url` (`sqlite://…` or `postgres://…`).
pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<DatabaseConnection> {
    let _ = epoch();
    let health = std::sync::Arc::new(Health::default());
    let (sqlite, postgres) = (health.clone(), health.clone());
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(max_connections)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(BUSY_TIMEOUT)
        })
        .map_sqlx_sqlite_before_acquire(move |conn, meta| {
            let health = sqlite.clone();
            Box::pin(async move { health.recycle_check(conn, meta).await })
        })
        .map_sqlx_postgres_before_acquire(move |conn, meta| {
            let health = postgres.clone();
            Box::pin(async move { health.recycle_check(conn, meta).await })
        });
    let db = Database::connect(options).await?;
    if let Some(key) = identity(&db) {
        let mut pools = POOLS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        pools.retain(|(_, h)| h.strong_count() > 0);
        pools.push((key, std::sync::Arc::downgrade(&health)));
    }
    Ok(db)
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(db, None).await?;
    Ok(())
}

/// Begins a transaction that will write. On SQLite it is a writer from its `BEGIN`
/// (`BEGIN IMMEDIATE`: it waits its turn behind another writer, within the busy timeout,
/// instead of reading first and being refused at once when it comes to write after
/// another writer committed); on PostgreSQL it is an ordinary transaction.
pub async fn begin_writing(db: &DatabaseConnection) -> Result<sea_orm::DatabaseTransaction, DbErr> {
    use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
    let options =
        TransactionOptions { sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate), ..Default::default() };
    db.begin_with_options(options).await
}

/// Holds the rows a use case checks to the end of its transaction, so that two use cases
/// checking the same record run one after the other: `FOR NO KEY UPDATE` on PostgreSQL
/// (SQLite has one writer at a time and no row locks). It is the weakest lock that still
/// excludes another holder, so it never blocks another transaction inserting a row that
/// refers to the held one (a foreign key's check takes only `FOR KEY SHARE`); a register
/// holding referrals and writing attendance against their children cannot then wait on
/// someone holding one of those children, the wait that can close a cycle.
pub trait Hold: sea_orm::QuerySelect + Sized {
    fn held(self) -> Self {
        self.lock(sea_orm::sea_query::LockType::NoKeyUpdate)
    }
}

impl<T: sea_orm::QuerySelect> Hold for T {}

/// A duty one process at a time performs for every process on the database: the audit
/// sequencer, the metrics refresh.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Duty {
    ChainAudit = 1,
    RefreshMetrics = 2,
}

/// A process's claim to a [`Duty`]: on PostgreSQL a session advisory lock, taken on a
/// connection of its own and held as long as that connection lives, so that the duty is
/// free again the moment the connection goes (the process stopped or died, the server
/// restarted) and another process takes it up; on SQLite, a file one process serves,
/// always held.
pub struct Lead {
    duty: Duty,
    postgres: bool,
    conn: Option<sqlx::PgConnection>,
    held: bool,
}

/// The first key of the advisory locks backbone takes (its second is the [`Duty`]).
const LEAD_SPACE: i32 = 0x6262;

impl Lead {
    pub fn new(db: &DatabaseConnection, duty: Duty) -> Lead {
        Lead { duty, postgres: db.get_database_backend() == DbBackend::Postgres, conn: None, held: false }
    }

    /// Whether this process holds the duty now: takes it up when it is free, and notices
    /// when its connection (and so the duty) went.
    pub async fn check(&mut self, db: &DatabaseConnection) -> bool {
        if !self.postgres {
            return true;
        }
        if self.conn.is_none() {
            let options = db.get_postgres_connection_pool().connect_options();
            match sqlx::PgConnection::connect_with(&options).await {
                Ok(conn) => self.conn = Some(conn),
                Err(e) => {
                    tracing::warn!(duty = ?self.duty, error = %e, "cannot tell who holds the duty; trying again");
                    return false;
                }
            }
        }
        let Some(conn) = self.conn.as_mut() else { return false };
        let answer = if self.held {
            conn.ping().await.map(|()| true)
        } else {
            sqlx::query_scalar("SELECT pg_try_advisory_lock($1, $2)")
                .bind(LEAD_SPACE)
                .bind(self.duty as i32)
                .fetch_one(&mut *conn)
                .await
        };
        match answer {
            Ok(true) if !self.held => {
                tracing::info!(duty = ?self.duty, "this process has taken up the duty");
                self.held = true;
                true
            }
            Ok(held) => held,
            Err(e) => {
                if self.held {
                    tracing::warn!(duty = ?self.duty, error = %e, "the duty's connection went; taking it up again");
                }
                (self.conn, self.held) = (None, false);
                false
            }
        }
    }
}

/// Does `work` every `every` while this process holds `duty`; when another process holds
/// it, asks again every second (or `every`, if shorter), so the duty is taken up soon
/// after that process goes.
pub async fn keep_doing<F, Fut>(db: DatabaseConnection, duty: Duty, every: std::time::Duration, mut work: F)
where
    F: FnMut(DatabaseConnection) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let ask = every.min(Duration::from_secs(1));
    let mut lead = Lead::new(&db, duty);
    let mut due = tokio::time::Instant::now() + every;
    loop {
        if lead.check(&db).await && tokio::time::Instant::now() >= due {
            work(db.clone()).await;
            due = tokio::time::Instant::now() + every;
        }
        tokio::time::sleep(ask).await;
    }
}

/// A short name of the engine, for logs and `/readyz`.
pub fn engine(db: &DatabaseConnection) -> &'static str {
    match db.get_database_backend() {
        DbBackend::Sqlite => "sqlite",
        DbBackend::Postgres => "postgres",
        _ => "other",
    }
}

// --- Storage faults ----------------------------------------------------------------

/// The moment every timestamp below counts from.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// Nanoseconds since [`epoch`], never 0 (0 means "never").
fn now() -> u64 {
    u64::try_from(epoch().elapsed().as_nanos()).unwrap_or(u64::MAX).max(1)
}

/// One pool's account of storage faults.
#[derive(Default)]
struct Health {
    /// Connections opened at or before this moment are closed on their next acquire (the
    /// generation: bumped by a fault, and once more when the fault is over).
    recycle_before: AtomicU64,
    /// Set by a fault, cleared by this pool's first successful write probe after it:
    /// while set, every connection is probed before it is handed out.
    suspect: AtomicBool,
}

/// Every pool of the process, by the database it opens (see [`identity`]).
static POOLS: std::sync::Mutex<Vec<(String, std::sync::Weak<Health>)>> = std::sync::Mutex::new(Vec::new());

/// The database a pool opens: the SQLite file, or the PostgreSQL server and database
/// (the same whichever pool of the process opens it).
pub fn identity(db: &DatabaseConnection) -> Option<String> {
    match db.get_database_backend() {
        DbBackend::Sqlite => {
            Some(format!("sqlite:{}", db.get_sqlite_connection_pool().connect_options().get_filename().display()))
        }
        DbBackend::Postgres => {
            let o = db.get_postgres_connection_pool().connect_options();
            Some(format!("postgres:{}:{}/{}", o.get_host(), o.get_port(), o.get_database().unwrap_or_default()))
        }
        _ => None,
    }
}

/// The live pools: all of them, or those opening `key`'s database.
fn pools(key: Option<&str>) -> Vec<std::sync::Arc<Health>> {
    let pools = POOLS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    pools.iter().filter(|(k, _)| key.is_none_or(|key| key == k)).filter_map(|(_, h)| h.upgrade()).collect()
}

/// Records a storage fault (a read-only database, a disk I/O error): in every pool of the
/// process, every connection opened until now is replaced on its next acquire, and
/// connections are probed until one of that pool's can write again. Called by
/// `error::Error::from_db`, and by the write probe.
pub fn storage_fault() {
    for health in pools(None) {
        health.fault();
    }
}

impl Health {
    fn fault(&self) {
        self.recycle_before.fetch_max(now(), Ordering::SeqCst);
        if !self.suspect.swap(true, Ordering::SeqCst) {
            tracing::warn!("storage fault: the database refused a write; connections will be replaced");
        }
    }

    /// A fresh connection wrote: the fault is over. Connections opened during it
    /// (read-only ones among them) are replaced once more.
    fn over(&self) {
        if self.suspect.swap(false, Ordering::SeqCst) {
            self.recycle_before.fetch_max(now(), Ordering::SeqCst);
            tracing::info!("storage fault over: the database takes writes again");
        }
    }

    /// Whether a connection of this age was opened at or before the last recycle.
    fn opened_before_recycle(&self, age: Duration) -> bool {
        let opened = now().saturating_sub(u64::try_from(age.as_nanos()).unwrap_or(u64::MAX));
        opened <= self.recycle_before.load(Ordering::SeqCst)
    }

    /// The pool's `before_acquire` hook: `Ok(false)` closes the connection (the pool opens
    /// a fresh one). Costs two atomic loads outside a fault.
    async fn recycle_check<C: Probe>(&self, conn: &mut C, meta: PoolConnectionMetadata) -> Result<bool, sqlx::Error> {
        if self.opened_before_recycle(meta.age) {
            return Ok(false);
        }
        if !self.suspect.load(Ordering::SeqCst) {
            return Ok(true);
        }
        match conn.probe().await {
            Ok(()) => {
                self.over();
                Ok(true)
            }
            Err(e) => {
                tracing::warn!(error = %e, "a database connection cannot write; replacing it");
                storage_fault();
                Ok(false)
            }
        }
    }
}

/// Why a write probe failed.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("the database is read-only ({0})")]
    ReadOnly(&'static str),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A write probe on one connection of each engine: cheap, nothing written, no lock on
/// the audit chain.
trait Probe {
    fn probe(&mut self) -> BoxFuture<'_, Result<(), ProbeError>>;
}

impl Probe for sqlx::SqliteConnection {
    /// A write statement in a transaction that is rolled back: SQLite refuses it at once on
    /// a read-only connection (`SQLITE_READONLY`); on a writable one it takes the write lock
    /// for a moment (so it waits behind a writer, as any write would) and changes nothing.
    /// `seaql_migrations` always exists and is not part of the audit chain.
    fn probe(&mut self) -> BoxFuture<'_, Result<(), ProbeError>> {
        Box::pin(async move {
            let mut tx = self.begin().await?;
            tx.execute("DELETE FROM seaql_migrations WHERE 0 = 1").await?;
            tx.rollback().await?;
            Ok(())
        })
    }
}

impl Probe for sqlx::PgConnection {
    /// A standby (`pg_is_in_recovery()`) or a read-only session refuses every write; no
    /// lock is taken.
    fn probe(&mut self) -> BoxFuture<'_, Result<(), ProbeError>> {
        Box::pin(async move {
            let row = sqlx::query("SELECT pg_is_in_recovery(), current_setting('transaction_read_only')")
                .fetch_one(&mut *self)
                .await?;
            let in_recovery: bool = row.try_get(0)?;
            let read_only: String = row.try_get(1)?;
            if in_recovery {
                Err(ProbeError::ReadOnly("the server is a standby in recovery"))
            } else if read_only == "on" {
                Err(ProbeError::ReadOnly("transaction_read_only is on"))
            } else {
                Ok(())
            }
        })
    }
}

/// Whether a write could succeed now, for `/readyz`: takes a connection from the pool
/// (which replaces stale ones first) and probes it. A read-only answer is a storage fault.
pub async fn probe_writable(db: &DatabaseConnection) -> Result<(), DbErr> {
    let outcome = match db.get_database_backend() {
        DbBackend::Sqlite => {
            let mut conn = db.get_sqlite_connection_pool().acquire().await.map_err(conn_err)?;
            conn.probe().await
        }
        DbBackend::Postgres => {
            let mut conn = db.get_postgres_connection_pool().acquire().await.map_err(conn_err)?;
            conn.probe().await
        }
        _ => return db.ping().await,
    };
    match outcome {
        Ok(()) => {
            for health in identity(db).map(|key| pools(Some(&key))).unwrap_or_default() {
                health.over();
            }
            Ok(())
        }
        Err(ProbeError::ReadOnly(why)) => {
            storage_fault();
            Err(DbErr::Custom(format!("the database is read-only: {why}")))
        }
        Err(ProbeError::Database(e)) => Err(DbErr::Exec(sea_orm::RuntimeErr::SqlxError(std::sync::Arc::new(e)))),
    }
}

fn conn_err(e: sqlx::Error) -> DbErr {
    DbErr::Conn(sea_orm::RuntimeErr::SqlxError(std::sync::Arc::new(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_recycles_older_connections_only() {
        let _ = epoch();
        let health = Health::default();
        std::thread::sleep(Duration::from_millis(2));
        // A connection opened 1 ms ago, before the fault below…
        let before = Instant::now();
        health.fault();
        let since_fault = before.elapsed();
        assert!(health.opened_before_recycle(since_fault + Duration::from_millis(1)), "opened before the fault");
        // …and one opened after it.
        std::thread::sleep(Duration::from_millis(2));
        assert!(!health.opened_before_recycle(Duration::from_micros(100)), "opened after the fault");
        assert!(health.suspect.load(Ordering::SeqCst));
        health.over();
        assert!(!health.suspect.load(Ordering::SeqCst));
        // The end of the fault recycles what was opened during it.
        assert!(health.opened_before_recycle(Duration::from_millis(1)));
    }

    #[tokio::test]
    async fn only_a_pools_own_probe_ends_its_suspicion() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = |name: &str| format!("sqlite://{}?mode=rwc", dir.path().join(name).display());
        let (a, b) = (connect(&url("a.db"), 1).await.expect("a"), connect(&url("b.db"), 1).await.expect("b"));
        for db in [&a, &b] {
            migrate(db).await.expect("migrated");
        }
        let health = |db: &DatabaseConnection| pools(identity(db).as_deref()).pop().expect("registered");
        storage_fault();
        assert!(health(&a).suspect.load(Ordering::SeqCst) && health(&b).suspect.load(Ordering::SeqCst));
        // b's database takes a write: b is well again, a is still suspect.
        probe_writable(&b).await.expect("b is writable");
        assert!(!health(&b).suspect.load(Ordering::SeqCst), "b's own probe ends b's suspicion");
        assert!(health(&a).suspect.load(Ordering::SeqCst), "b's recovery says nothing of a");
        probe_writable(&a).await.expect("a is writable");
        assert!(!health(&a).suspect.load(Ordering::SeqCst));
    }
}
