//! backbone: the shared record of a place-based children's partnership, served as a
//! GraphQL API and as the console's pages.
//!
//! Layers, data flowing one way (see `docs/architecture.md`):
//! `http` (axum, limits) → `auth` (bearer token → [`auth::Actor`]) → `graphql` (thin
//! resolvers) → `domain` (use cases, state machines, validation) → `access` (the one
//! policy) and `audit` (the hash-chained log) → `store` (SeaORM, the only SQL).

pub mod access;
pub mod audit;
pub mod auth;
pub mod charts;
pub mod cli;
pub mod console;
pub mod demo;
pub mod domain;
pub mod error;
pub mod events;
pub mod graphiql;
pub mod graphql;
pub mod http;
pub mod idempotency;
pub mod settings;
pub mod startup;
pub mod store;
pub mod telemetry;

pub use error::{Error, Result};
