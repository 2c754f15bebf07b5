//! The `programmes` table. Storage only: API types convert from [`Model`], never expose it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "programmes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub organisation_id: String,
    pub name: String,
    pub description: String,
    pub domains: String,
    pub minimum_age: i16,
    pub maximum_age: i16,
    pub attending_type: String,
    pub location_name: Option<String>,
    pub postcode: Option<String>,
    pub schedule: String,
    pub capacity: i32,
    /// When it started running, if known: no session of it is dated before.
    pub starts_on: Option<Date>,
    pub status: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
