//! The GraphQL API: thin resolvers that parse, call the domain, and map types. The schema
//! is built here with its limits; the SDL is exported to `schema/schema.graphql`.

pub mod break_glass;
pub mod brokering;
pub mod contracts;
pub mod corrections;
pub mod erasure;
pub mod errors;
pub mod inputs;
pub mod limits;
pub mod loaders;
pub mod metrics;
pub mod mutation;
pub mod outcomes;
pub mod plans;
pub mod query;
pub mod read_audit;
pub mod retention;
pub mod screening;
pub mod sharing;
pub mod subject_access;
pub mod subscription;
pub mod types;
pub mod worklist;

use crate::auth::Actor;
use crate::error::Error;
use crate::settings::GraphqlSettings;
use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, Schema};
use loaders::StoreLoader;
use sea_orm::DatabaseConnection;
use std::sync::Arc;

pub type AppSchema = Schema<query::Query, mutation::Mutation, subscription::Subscription>;

/// Service-wide data every resolver may reach.
pub struct Services {
    pub db: DatabaseConnection,
    pub settings: crate::settings::Settings,
    /// Demo accounts may log in (demo mode, loopback only).
    pub allow_demo_logins: bool,
    /// Real-time events for subscriptions.
    pub events: crate::events::Bus,
}

/// Who is calling, resolved once per request from the bearer token.
pub enum Identity {
    Known(Actor),
    /// No token, or a bad one (with the reason to give).
    Unknown(&'static str),
}

/// Builds the schema with the configured limits. Without services it still builds, for
/// exporting the SDL.
pub fn build_schema(limits: &GraphqlSettings, services: Option<Services>) -> AppSchema {
    let mut builder = Schema::build(query::Query, mutation::Mutation, subscription::Subscription)
        // First, so that it wraps every other extension and the whole execution.
        .extension(limits::CatchPanics)
        .limit_recursive_depth(limits::RECURSION_LIMIT)
        .limit_directives(10)
        .disable_suggestions()
        .extension(limits::ShapeLimits {
            max_depth: limits.max_depth,
            max_aliases: limits.max_aliases,
            max_value_depth: limits.max_value_depth,
            // Every field costs at least 1, so a larger expansion is too complex anyway.
            max_fields: limits.max_complexity,
            max_complexity: limits.max_complexity,
        })
        .extension(errors::AfterCommit)
        .extension(read_audit::ReadAudit);
    if !limits.introspection {
        builder = builder.disable_introspection();
    }
    if let Some(s) = services {
        builder = builder.data(s);
    }
    builder.finish()
}

/// The SDL, as committed in `schema/schema.graphql`.
pub fn sdl() -> String {
    build_schema(&crate::settings::Settings::default().graphql, None).sdl()
}

/// The per-request loader, for resolvers, and the driver that runs its batches. The
/// driver runs each batch inside the request's own task, and only once the execution has
/// yielded: by then every sibling in a list has asked for its key, so a list of N items
/// costs one batch per nested field, whatever N (a batch on another thread after a timer
/// could start before the last siblings asked, and split).
pub fn make_loader(db: &DatabaseConnection, actor: &Actor) -> (DataLoader<StoreLoader>, LoaderDriver) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let loader = DataLoader::new(StoreLoader::new(db, actor), move |task| {
        // The receiver lives as long as the request; a send can only fail after it.
        let _ = tx.send(task);
    });
    (loader, LoaderDriver { queued: rx })
}

/// A loader whose batches run as tasks of their own, for long-lived subscriptions (no
/// request to drive them).
pub fn make_spawned_loader(db: &DatabaseConnection, actor: &Actor) -> DataLoader<StoreLoader> {
    DataLoader::new(StoreLoader::new(db, actor), tokio::spawn)
}

/// Runs a request's loader batches alongside its execution, in the same task.
pub struct LoaderDriver {
    queued: tokio::sync::mpsc::UnboundedReceiver<futures_util::future::BoxFuture<'static, ()>>,
}

impl LoaderDriver {
    /// Polls `execution` until it waits on nothing but its loaders (a list resolver may
    /// yield to be polled again before every item has asked: that is not yet the time),
    /// then starts the batches it queued and polls those running.
    pub async fn drive<F: std::future::Future>(mut self, execution: F) -> F::Output {
        use futures_util::StreamExt;
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::task::{Poll, Wake, Waker};

        /// Notes whether the execution woke itself while being polled.
        struct Noting {
            woken: AtomicBool,
            outer: Waker,
        }
        impl Wake for Noting {
            fn wake(self: Arc<Self>) {
                self.wake_by_ref();
            }
            fn wake_by_ref(self: &Arc<Self>) {
                self.woken.store(true, Ordering::SeqCst);
                self.outer.wake_by_ref();
            }
        }

        let mut execution = std::pin::pin!(execution);
        let mut running = futures_util::stream::FuturesUnordered::new();
        std::future::poll_fn(|cx| {
            for _ in 0..10_000 {
                let noting = Arc::new(Noting { woken: AtomicBool::new(false), outer: cx.waker().clone() });
                let waker = Waker::from(noting.clone());
                if let Poll::Ready(out) = execution.as_mut().poll(&mut std::task::Context::from_waker(&waker)) {
                    return Poll::Ready(out);
                }
                if !noting.woken.load(Ordering::SeqCst) {
                    break;
                }
            }
            while let Poll::Ready(Some(batch)) = self.queued.poll_recv(cx) {
                running.push(batch);
            }
            while let Poll::Ready(Some(())) = running.poll_next_unpin(cx) {}
            Poll::Pending
        })
        .await
    }
}

pub(crate) fn services<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Services> {
    ctx.data::<Services>().map_err(|_| errors::to_gql(&Error::Internal(anyhow::anyhow!("services missing"))))
}

/// The caller, or `UNAUTHENTICATED`.
pub(crate) fn actor<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Actor> {
    match ctx.data_opt::<Identity>() {
        Some(Identity::Known(actor)) => Ok(actor),
        Some(Identity::Unknown(why)) => Err(errors::to_gql(&Error::Unauthenticated(why))),
        None => Err(errors::to_gql(&Error::Unauthenticated("authentication required"))),
    }
}

pub(crate) fn loader<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a DataLoader<StoreLoader>> {
    actor(ctx)?;
    ctx.data::<DataLoader<StoreLoader>>()
        .map_err(|_| errors::to_gql(&Error::Internal(anyhow::anyhow!("loader missing"))))
}

/// The names of the child fields a query selected, for the audit log: looks through
/// connections (`edges { node { … } }`, `nodes { … }`) to the child's own fields.
pub(crate) fn selected_child_fields(ctx: &Context<'_>) -> Vec<String> {
    fn collect(field: async_graphql::SelectionField<'_>, out: &mut Vec<String>) {
        for f in field.selection_set() {
            match f.name() {
                "edges" => {
                    for e in f.selection_set().filter(|e| e.name() == "node") {
                        collect(e, out);
                    }
                }
                "nodes" => collect(f, out),
                "pageInfo" | "__typename" => {}
                name => out.push(name.to_owned()),
            }
        }
    }
    let mut out = Vec::new();
    collect(ctx.field(), &mut out);
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    /// `schema/schema.graphql` is the committed contract; this fails when the code's
    /// schema drifts from it. Regenerate with `cargo run -- schema > schema/schema.graphql`
    /// (or run the tests with `UPDATE_SCHEMA=1`) and review the diff.
    #[test]
    fn committed_sdl_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../schema/schema.graphql");
        let current = super::sdl();
        if std::env::var("UPDATE_SCHEMA").is_ok() {
            std::fs::write(path, &current).expect("write schema/schema.graphql");
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == current,
            "schema/schema.graphql is stale: run `cargo run -- schema > schema/schema.graphql` and commit it"
        );
    }
}
