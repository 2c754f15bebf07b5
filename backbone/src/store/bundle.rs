//! Reads that fall due together, run as one statement. The per-request loader
//! (`graphql::loaders`) already makes one batch per nested field; the batches of one level
//! of a query (a caseload's enrolments, relationships, consents, referrals, notes, …) fall
//! due at the same moment, and on PostgreSQL a [`Bundle`] sends them as **one** statement —
//! each batch a sub-select aggregated to JSON (`json_agg`), one column each — so a level
//! costs one round trip however many fields it has. On SQLite (in-process: a statement
//! costs no round trip) each batch runs as it is.
//!
//! The reads themselves are the domain's: a domain function written against [`Reader`]
//! builds its query, with the caller's scope, and hands it over; it neither knows nor
//! cares whether the query runs alone or bundled. Every connection and transaction is a
//! [`Reader`] that runs it alone.

use sea_orm::sea_query::{Alias, Expr, Query, SelectStatement, SimpleExpr};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, FromQueryResult, QueryTrait, Select,
};
use serde::de::DeserializeOwned;
use std::future::Future;
use std::sync::Mutex;
use tokio::sync::oneshot;

/// A row a [`Reader`] can return: read from a result row (alone) or from its JSON (bundled).
pub trait Row: FromQueryResult + DeserializeOwned + Send + Sync + 'static {}
impl<T: FromQueryResult + DeserializeOwned + Send + Sync + 'static> Row for T {}

/// Something that runs a select and answers its rows.
pub trait Reader: Sync {
    /// The rows of `query`, in its order.
    fn rows<T: Row>(&self, query: SelectStatement) -> impl Future<Output = Result<Vec<T>, DbErr>> + Send;
}

impl<C: ConnectionTrait + Sync> Reader for C {
    async fn rows<T: Row>(&self, query: SelectStatement) -> Result<Vec<T>, DbErr> {
        let statement = self.get_database_backend().build(&query);
        T::find_by_statement(statement).all(self).await
    }
}

/// `Select::all` through any [`Reader`]: `Entity::find()…read(conn)` for the entity's
/// models, `read_as` for a select of chosen columns (`select_only`, `column_as`) into a
/// struct named as those columns.
pub trait Read<M>: Sized {
    /// Every row, as the entity's model.
    fn read<R: Reader>(self, reader: &R) -> impl Future<Output = Result<Vec<M>, DbErr>> + Send;
    /// Every row, as `T`.
    fn read_as<T: Row, R: Reader>(self, reader: &R) -> impl Future<Output = Result<Vec<T>, DbErr>> + Send;
}

impl<E: EntityTrait> Read<E::Model> for Select<E>
where
    E::Model: Row,
{
    fn read<R: Reader>(self, reader: &R) -> impl Future<Output = Result<Vec<E::Model>, DbErr>> + Send {
        reader.rows(self.into_query())
    }
    fn read_as<T: Row, R: Reader>(self, reader: &R) -> impl Future<Output = Result<Vec<T>, DbErr>> + Send {
        reader.rows(self.into_query())
    }
}

/// How many times the first read of a level yields before it sends what has gathered. A
/// request's loader batches fall due together and are polled side by side in the
/// request's own task (`graphql::LoaderDriver`): by the lead's next poll every sibling
/// has asked, with no timer to wait on.
const GATHER_YIELDS: usize = 2;

/// A read waiting to be sent, and where its rows (as JSON) go. `None`: the bundle failed,
/// and the read runs alone (so its error is its own).
struct Waiting {
    query: SelectStatement,
    answer: oneshot::Sender<Option<serde_json::Value>>,
}

/// One request's reads, bundled by level (see the module's documentation).
pub struct Bundle {
    db: DatabaseConnection,
    waiting: Mutex<Vec<Waiting>>,
}

impl Bundle {
    /// A bundle over `db` (nothing waiting).
    pub fn new(db: DatabaseConnection) -> Bundle {
        Bundle { db, waiting: Mutex::new(Vec::new()) }
    }

    /// The connection itself, for a read that is not a select of rows.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    fn take(&self) -> Vec<Waiting> {
        std::mem::take(&mut *self.waiting.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// Sends what is waiting as one statement, one JSON column per read.
    async fn send(&self, batch: Vec<Waiting>) {
        if batch.len() == 1 {
            // Alone: no JSON needed (the read runs by itself).
            return;
        }
        let mut all = Query::select();
        for (i, w) in batch.iter().enumerate() {
            let sub = SimpleExpr::SubQuery(None, Box::new(w.query.clone().into()));
            all.expr_as(
                Expr::cust_with_exprs("(SELECT coalesce(json_agg(t), '[]'::json) FROM $1 AS t)", [sub]),
                Alias::new(format!("p{i}")),
            );
        }
        let row = self.db.query_one(&all).await;
        let row = match row {
            Ok(Some(row)) => Some(row),
            Ok(None) => None,
            Err(e) => {
                tracing::debug!(error = %e, "a bundle of reads failed: each runs alone");
                None
            }
        };
        for (i, w) in batch.into_iter().enumerate() {
            let rows = row.as_ref().and_then(|r| r.try_get::<serde_json::Value>("", &format!("p{i}")).ok());
            let _ = w.answer.send(rows);
        }
    }
}

/// The first read of a level, while it gathers and sends the others.
struct Lead<'a> {
    bundle: &'a Bundle,
    armed: bool,
}

impl Drop for Lead<'_> {
    fn drop(&mut self) {
        if self.armed {
            drop(self.bundle.take());
        }
    }
}

impl Reader for Bundle {
    async fn rows<T: Row>(&self, query: SelectStatement) -> Result<Vec<T>, DbErr> {
        if self.db.get_database_backend() != DbBackend::Postgres {
            return self.db.rows(query).await;
        }
        let (answer, rows) = oneshot::channel();
        let leads = {
            let mut waiting = self.waiting.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            waiting.push(Waiting { query: query.clone(), answer });
            waiting.len() == 1
        };
        if leads {
            // Dropped before it sends (the request cancelled), the lead lets every read
            // waiting on it run alone, rather than wait for ever.
            let mut lead = Lead { bundle: self, armed: true };
            for _ in 0..GATHER_YIELDS {
                tokio::task::yield_now().await;
            }
            lead.armed = false;
            self.send(self.take()).await;
        }
        match rows.await {
            Ok(Some(json)) => serde_json::from_value(json)
                .map_err(|e| DbErr::Json(format!("a bundled read's rows do not decode: {e}"))),
            // Alone, or the bundle failed: the read runs by itself.
            _ => self.db.rows(query).await,
        }
    }
}
