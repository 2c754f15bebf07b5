//! The `break_glasses` table. Storage only: API types convert from [`Model`], never expose it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "break_glasses")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub child_id: String,
    /// Who opened the record, from which organisation, in which role.
    pub user_id: String,
    pub organisation_id: String,
    pub role: String,
    pub reason: String,
    pub opened_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    /// When it ended before its time (opened again with a new reason).
    pub ended_at: Option<DateTimeUtc>,
    /// When the child's anchor (its lead) or a backbone admin reviewed it.
    pub reviewed_at: Option<DateTimeUtc>,
    pub reviewed_by: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
