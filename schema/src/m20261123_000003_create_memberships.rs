use crate::m20261123_000001_create_organisations::Organisations;
use crate::m20261123_000002_create_users::Users;
use crate::{at, id_pk, id_ref, kind};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Memberships::Table)
                    .col(id_pk(Memberships::Id))
                    // One organisation per account for now: a person working for two
                    // organisations holds two accounts, so every action has one context.
                    .col(id_ref(Memberships::UserId).unique_key())
                    .col(id_ref(Memberships::OrganisationId))
                    .col(kind(Memberships::Role))
                    .col(boolean(Memberships::DesignatedSafeguardingLead).default(false))
                    .col(at(Memberships::CreatedAt))
                    .foreign_key(
                        ForeignKey::create().from(Memberships::Table, Memberships::UserId).to(Users::Table, Users::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Memberships::Table, Memberships::OrganisationId)
                            .to(Organisations::Table, Organisations::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_memberships_organisation")
                    .table(Memberships::Table)
                    .col(Memberships::OrganisationId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Memberships::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum Memberships {
    Table,
    Id,
    UserId,
    OrganisationId,
    Role,
    DesignatedSafeguardingLead,
    CreatedAt,
}
