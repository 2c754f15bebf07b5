//! Every step of an enrolment carries the date it happened (`effective_on`), given by the
//! person who reports it, beside the time it was recorded (`at`). Existing steps happened,
//! as far as anyone said, on the day they were recorded (see `add_effective_on`).

use crate::{add_effective_on, drop_effective_on};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_effective_on(manager, EnrolmentTransitions::Table).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_effective_on(manager, EnrolmentTransitions::Table).await
    }
}

#[derive(DeriveIden, Clone)]
pub enum EnrolmentTransitions {
    Table,
}
