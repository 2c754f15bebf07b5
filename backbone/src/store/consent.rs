//! The `consents` table. Storage only: API types convert from [`Model`], never expose it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "consents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub child_id: String,
    pub given_by: String,
    pub given_by_name: String,
    pub given_on: Date,
    pub purposes: String,
    pub evidence: String,
    pub recorded_by: String,
    pub recorded_at: DateTimeUtc,
    pub withdrawn_on: Option<Date>,
    pub withdrawal_reason: Option<String>,
    pub withdrawn_by: Option<String>,
    pub withdrawn_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
