use crate::id_ref;
use crate::m20261123_000001_create_organisations::Organisations;
use crate::m20261123_000009_create_consents::Consents;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ConsentPartners::Table)
                    .col(id_ref(ConsentPartners::ConsentId))
                    .col(id_ref(ConsentPartners::OrganisationId))
                    .primary_key(Index::create().col(ConsentPartners::ConsentId).col(ConsentPartners::OrganisationId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ConsentPartners::Table, ConsentPartners::ConsentId)
                            .to(Consents::Table, Consents::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ConsentPartners::Table, ConsentPartners::OrganisationId)
                            .to(Organisations::Table, Organisations::Id),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ConsentPartners::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum ConsentPartners {
    Table,
    ConsentId,
    OrganisationId,
}
