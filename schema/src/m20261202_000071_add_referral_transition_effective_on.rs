//! Every step of a referral carries the date it happened (`effective_on`), given by the
//! person who reports it, beside the time it was recorded (`at`). Existing steps happened,
//! as far as anyone said, on the day they were recorded: they are backfilled with `at`'s
//! date (UTC). The default exists only so that the column can be added to a table with
//! rows; the service always writes the date.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ReferralTransitions::Table)
                    .add_column(date(ReferralTransitions::EffectiveOn).default("2000-01-01"))
                    .to_owned(),
            )
            .await?;
        let day_of_at = match manager.get_database_backend() {
            sea_orm_migration::sea_orm::DbBackend::Postgres => "CAST(at AT TIME ZONE 'UTC' AS DATE)",
            // Timestamps are stored as RFC 3339 text in UTC: the date is its first ten characters.
            _ => "SUBSTR(at, 1, 10)",
        };
        manager
            .exec_stmt(
                Query::update()
                    .table(ReferralTransitions::Table)
                    .value(ReferralTransitions::EffectiveOn, Expr::cust(day_of_at))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ReferralTransitions::Table)
                    .drop_column(ReferralTransitions::EffectiveOn)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
pub enum ReferralTransitions {
    Table,
    EffectiveOn,
}
