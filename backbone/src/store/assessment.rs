//! The `assessments` table. Storage only: API types convert from [`Model`], never expose it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "assessments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub child_id: String,
    pub framework_version_id: String,
    pub framework_version: i32,
    pub area_code: String,
    pub measure_code: String,
    pub raw_number: Option<f64>,
    pub raw_category: Option<String>,
    pub level: i16,
    pub at_risk: bool,
    pub stage: String,
    pub assessed_on: Date,
    pub recorded_by: String,
    pub organisation_id: String,
    pub recorded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
