//! The GraphQL API: thin resolvers that parse, call the domain, and map types. The schema
//! is built here with its limits; the SDL is exported to `schema/schema.graphql`.

pub mod brokering;
pub mod errors;
pub mod inputs;
pub mod limits;
pub mod loaders;
pub mod mutation;
pub mod query;
pub mod subscription;
pub mod types;

use crate::auth::Actor;
use crate::error::Error;
use crate::settings::GraphqlSettings;
use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, Schema};
use loaders::StoreLoader;
use sea_orm::DatabaseConnection;

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
        .limit_complexity(limits.max_complexity)
        .limit_recursive_depth(32)
        .limit_directives(10)
        .disable_suggestions()
        .extension(limits::ShapeLimits { max_depth: limits.max_depth, max_aliases: limits.max_aliases });
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

/// The per-request loader, for resolvers.
pub fn make_loader(db: &DatabaseConnection, actor: &Actor) -> DataLoader<StoreLoader> {
    DataLoader::new(StoreLoader { db: db.clone(), actor: actor.clone() }, tokio::spawn)
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
