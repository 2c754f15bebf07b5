use crate::m20261123_000005_create_children::Children;
use crate::m20261123_000040_create_contracts::Contracts;
use crate::{at, at_null, id_pk, id_ref, index, kind};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Claims under an outcomes contract: computed from evidence, never typed in. One row per
/// instalment of a milestone achieved by a child, with the evidence (ids and dates) and the
/// amount after caps. A claim whose evidence no longer holds is reversed (status, time and
/// reason), never deleted; at most one claim per contract, milestone, child and instalment
/// is active (a partial unique index).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Claims::Table)
                    .col(id_pk(Claims::Id))
                    .col(id_ref(Claims::ContractId))
                    .col(string_len(Claims::MilestoneCode, 60))
                    .col(id_ref(Claims::ChildId))
                    .col(integer(Claims::Instalment))
                    .col(date(Claims::AchievedOn))
                    .col(big_integer(Claims::FullAmountPence))
                    .col(big_integer(Claims::AmountPence))
                    .col(text(Claims::Evidence))
                    .col(kind(Claims::Status))
                    .col(date(Claims::AsOf))
                    .col(at(Claims::EvaluatedAt))
                    .col(at_null(Claims::ReversedAt))
                    .col(text_null(Claims::ReversalReason))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Claims::Table, Claims::ContractId)
                            .to(Contracts::Table, Contracts::Id),
                    )
                    .foreign_key(
                        ForeignKey::create().from(Claims::Table, Claims::ChildId).to(Children::Table, Children::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "ux_claims_active",
                    Claims::Table,
                    [Claims::ContractId, Claims::MilestoneCode, Claims::ChildId, Claims::Instalment],
                )
                .unique()
                .and_where(Expr::col(Claims::Status).eq("active"))
                .to_owned(),
            )
            .await?;
        manager.create_index(index("idx_claims_contract", Claims::Table, [Claims::ContractId, Claims::Id])).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Claims::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum Claims {
    Table,
    Id,
    ContractId,
    MilestoneCode,
    ChildId,
    Instalment,
    AchievedOn,
    FullAmountPence,
    AmountPence,
    Evidence,
    Status,
    AsOf,
    EvaluatedAt,
    ReversedAt,
    ReversalReason,
}
