//! The integration suite: one binary (one link on a 2-core machine), one module per area.
//! Every test starts the real service on a random loopback port with a fresh database.

mod access;
mod audit;
mod auth;
mod batching;
mod break_glass;
mod brokering;
mod charts;
mod contracts;
mod corrections;
mod disclosure;
mod duplicates;
mod effective_dates;
mod enrolment;
mod erasure;
mod exports;
mod field_views;
mod fuzz;
mod idempotency;
mod limits;
mod metrics;
mod outcomes;
mod partner_access;
mod plans;
mod read_audit;
mod retention;
mod schema_walk;
mod screening;
mod search;
mod sharing;
mod storage;
mod subject_access;
mod subscriptions;
mod tour;
mod validation;
mod worklist;
