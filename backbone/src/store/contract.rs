//! The `contracts` table. Storage only: API types convert from [`Model`], never expose it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "contracts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub name: String,
    /// The rate card, as JSON (`domain::milestones::RateCard`).
    pub definition: String,
    pub period_start: Date,
    pub period_end: Date,
    pub cohort: Option<String>,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub evaluated_as_of: Option<Date>,
    pub evaluated_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
