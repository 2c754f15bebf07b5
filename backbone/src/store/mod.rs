//! Storage: SeaORM entities, one module per table, and the connection set-up. The only
//! layer that talks SQL. Entities are storage, not API: GraphQL types convert from them.

pub mod db;
pub mod organisation;
pub mod user;
pub mod membership;
pub mod auth_token;
pub mod child;
pub mod relationship;
pub mod participation;
pub mod lawful_basis;
pub mod consent;
pub mod consent_partner;
pub mod enrolment;
pub mod enrolment_transition;
pub mod audit_event;
pub mod audit_head;
