//! The `audit_events` table. Storage only: API types convert from [`Model`], never expose it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    /// The order rows were written in (not the chain's order).
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The event's place in the chain; none until the sequencer (`audit::chain`) reaches it.
    pub seq: Option<i64>,
    pub at: DateTimeUtc,
    pub actor_user_id: Option<String>,
    pub actor_organisation_id: Option<String>,
    pub actor_role: String,
    pub action: String,
    pub child_id: Option<String>,
    pub fields: String,
    pub request_id: Option<String>,
    /// The hash of event `seq - 1`; none until chained.
    pub prev_hash: Option<String>,
    /// The MAC of this event's contents and its place; none until chained.
    pub hash: Option<String>,
    /// The break-glass opening a read was made under (`domain::break_glass`), if any.
    pub break_glass_id: Option<String>,
    /// The writer's MAC of the event's contents (without its place in the chain), so that
    /// a row the service did not write is never chained; none on events written before
    /// the sequencer.
    pub mac: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
