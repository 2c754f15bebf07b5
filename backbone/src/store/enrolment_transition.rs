//! The `enrolment_transitions` table. Storage only: API types convert from [`Model`], never expose it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "enrolment_transitions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub enrolment_id: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub actor_user_id: Option<String>,
    /// When the step was recorded (the clock).
    pub at: DateTimeUtc,
    /// The day the step happened, as the person who reported it said (today by default).
    pub effective_on: Date,
    pub note: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
