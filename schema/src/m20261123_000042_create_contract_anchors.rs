use crate::id_ref;
use crate::m20261123_000001_create_organisations::Organisations;
use crate::m20261123_000040_create_contracts::Contracts;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The anchors whose children an outcomes contract covers.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ContractAnchors::Table)
                    .col(id_ref(ContractAnchors::ContractId))
                    .col(id_ref(ContractAnchors::OrganisationId))
                    .primary_key(Index::create().col(ContractAnchors::ContractId).col(ContractAnchors::OrganisationId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ContractAnchors::Table, ContractAnchors::ContractId)
                            .to(Contracts::Table, Contracts::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ContractAnchors::Table, ContractAnchors::OrganisationId)
                            .to(Organisations::Table, Organisations::Id),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ContractAnchors::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum ContractAnchors {
    Table,
    ContractId,
    OrganisationId,
}
