//! The `screenings` table. Storage only: API types convert from [`Model`], never expose it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "screenings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub anchor_id: String,
    pub upn: String,
    pub attendance_percent: Option<f64>,
    pub attainment: Option<String>,
    pub wellbeing_score: Option<i16>,
    pub practitioner_concern: bool,
    pub statutory_support: Option<String>,
    pub at_risk_areas: i16,
    /// JSON: the reasons the rules gave, in order.
    pub reasons: String,
    pub status: String,
    /// Sort key of the ranked list (and its cursor): most reasons first.
    pub rank_key: String,
    pub framework_version: i32,
    pub child_id: Option<String>,
    pub imported_by: String,
    pub imported_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
