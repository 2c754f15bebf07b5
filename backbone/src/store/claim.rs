//! The `claims` table. Storage only: API types convert from [`Model`], never expose it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "claims")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub contract_id: String,
    pub milestone_code: String,
    pub child_id: String,
    /// 1 for the first instalment of the milestone's price.
    pub instalment: i32,
    pub achieved_on: Date,
    /// The instalment's price before caps.
    pub full_amount_pence: i64,
    /// What is payable after the caps.
    pub amount_pence: i64,
    /// The evidence, as JSON: ids and dates only (`domain::milestones::Evidence`).
    pub evidence: String,
    /// `active` or `reversed`.
    pub status: String,
    /// The as-of date of the evaluation that made the claim.
    pub as_of: Date,
    pub evaluated_at: DateTimeUtc,
    pub reversed_at: Option<DateTimeUtc>,
    pub reversal_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
