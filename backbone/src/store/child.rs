//! The `children` table. Storage only: API types convert from [`Model`], never expose it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "children")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    /// The folded first and last names (`backbone_migration::names::key`), for finding
    /// the same child identified twice.
    pub name_key: String,
    pub date_of_birth: Date,
    pub anchor_id: String,
    pub year_group: i16,
    pub upn: Option<String>,
    pub contact_phone: Option<String>,
    pub contact_email: Option<String>,
    pub postcode: Option<String>,
    pub free_school_meals: bool,
    pub send: bool,
    pub eal: bool,
    pub looked_after: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// When the record was erased (de-identified), if it was (`domain::erasure`).
    pub erased_at: Option<DateTimeUtc>,
    /// Why it was erased, in the data-protection team's words.
    pub erasure_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
