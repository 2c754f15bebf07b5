use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The protected catalogue of shared metrics: every cell a funder can reach (per period,
/// per filter and breakdown value), already suppressed and rounded, as one JSON document
/// of figures per cell. Built by the service from the summary tables after each refresh,
/// for one set of disclosure settings (`basis`), and answered from; never edited by hand.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ProtectedMetrics::Table)
                    .col(string_len(ProtectedMetrics::Basis, 120))
                    .col(string_len(ProtectedMetrics::Period, 40))
                    .col(string_len(ProtectedMetrics::DimA, 20))
                    .col(string_len(ProtectedMetrics::KeyA, 200))
                    .col(string_len(ProtectedMetrics::DimB, 20))
                    .col(string_len(ProtectedMetrics::KeyB, 200))
                    .col(text(ProtectedMetrics::Figures))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_protected_metrics_cell")
                    .table(ProtectedMetrics::Table)
                    .col(ProtectedMetrics::Basis)
                    .col(ProtectedMetrics::Period)
                    .col(ProtectedMetrics::DimA)
                    .col(ProtectedMetrics::KeyA)
                    .col(ProtectedMetrics::DimB)
                    .col(ProtectedMetrics::KeyB)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ProtectedMetrics::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum ProtectedMetrics {
    Table,
    Basis,
    Period,
    DimA,
    KeyA,
    DimB,
    KeyB,
    Figures,
}
