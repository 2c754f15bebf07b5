//! The `plan_reviews` table. Storage only: API types convert from [`Model`], never expose it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "plan_reviews")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub plan_id: String,
    pub child_id: String,
    pub due_on: Date,
    /// Who the review is assigned to (moves with the child on handover while pending).
    pub link_worker_id: Option<String>,
    /// Null while the review is pending.
    pub reviewed_on: Option<Date>,
    pub changes: Option<String>,
    pub recorded_by: Option<String>,
    pub recorded_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
