use crate::id_ref;
use crate::m20261123_000001_create_organisations::Organisations;
use crate::m20261123_000040_create_contracts::Contracts;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The outcome payers of a contract (funder organisations) and each one's share of every
/// payment, in basis points (the shares of a contract add up to 10000), in the order given.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ContractPayers::Table)
                    .col(id_ref(ContractPayers::ContractId))
                    .col(id_ref(ContractPayers::OrganisationId))
                    .col(integer(ContractPayers::ShareBasisPoints))
                    .col(integer(ContractPayers::Position))
                    .primary_key(Index::create().col(ContractPayers::ContractId).col(ContractPayers::OrganisationId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ContractPayers::Table, ContractPayers::ContractId)
                            .to(Contracts::Table, Contracts::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ContractPayers::Table, ContractPayers::OrganisationId)
                            .to(Organisations::Table, Organisations::Id),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ContractPayers::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum ContractPayers {
    Table,
    ContractId,
    OrganisationId,
    ShareBasisPoints,
    Position,
}
