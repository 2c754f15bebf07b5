//! The `audit_events` table. Storage only: API types convert from [`Model`], never expose it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    pub at: DateTimeUtc,
    pub actor_user_id: Option<String>,
    pub actor_organisation_id: Option<String>,
    pub actor_role: String,
    pub action: String,
    pub child_id: Option<String>,
    pub fields: String,
    pub request_id: Option<String>,
    pub prev_hash: String,
    pub hash: String,
    /// The break-glass opening a read was made under (`domain::break_glass`), if any.
    pub break_glass_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
