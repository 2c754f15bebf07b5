use crate::{at, at_null, id_pk, id_ref};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// An outcomes contract: its rate card kept whole as data (JSON: milestones, their rules,
/// prices, instalments and caps), the period whose evidence counts, an optional cohort, and
/// the as-of date of the latest evaluation (a later one may not go back before it).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Contracts::Table)
                    .col(id_pk(Contracts::Id))
                    .col(string_len(Contracts::Name, 200))
                    .col(text(Contracts::Definition))
                    .col(date(Contracts::PeriodStart))
                    .col(date(Contracts::PeriodEnd))
                    .col(string_len_null(Contracts::Cohort, 40))
                    .col(id_ref(Contracts::CreatedBy))
                    .col(at(Contracts::CreatedAt))
                    .col(date_null(Contracts::EvaluatedAsOf))
                    .col(at_null(Contracts::EvaluatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Contracts::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum Contracts {
    Table,
    Id,
    Name,
    Definition,
    PeriodStart,
    PeriodEnd,
    Cohort,
    CreatedBy,
    CreatedAt,
    EvaluatedAsOf,
    EvaluatedAt,
}
