//! Storage: SeaORM entities, one module per table, and the connection set-up. The only
//! layer that talks SQL. Entities are storage, not API: GraphQL types convert from them.

pub mod assessment;
pub mod attendance;
pub mod audit_event;
pub mod audit_head;
pub mod auth_token;
pub mod child;
pub mod consent;
pub mod consent_partner;
pub mod contact;
pub mod db;
pub mod enrolment;
pub mod enrolment_transition;
pub mod framework_version;
pub mod handover;
pub mod lawful_basis;
pub mod membership;
pub mod organisation;
pub mod participation;
pub mod plan_goal;
pub mod plan_participant;
pub mod plan_referral;
pub mod plan_review;
pub mod plan_review_goal;
pub mod programme;
pub mod progress_note;
pub mod referral;
pub mod referral_transition;
pub mod relationship;
pub mod safeguarding_concern;
pub mod screening;
pub mod session;
pub mod support_plan;
pub mod user;
