use crate::m20261123_000001_create_organisations::Organisations;
use crate::{at, id_pk, id_ref, index, kind};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Programmes::Table)
                    .col(id_pk(Programmes::Id))
                    .col(id_ref(Programmes::OrganisationId))
                    .col(string_len(Programmes::Name, 200))
                    .col(string_len(Programmes::Description, 2000))
                    // Comma-separated outcome-domain codes, validated by the service.
                    .col(string_len(Programmes::Domains, 200))
                    .col(small_integer(Programmes::MinimumAge))
                    .col(small_integer(Programmes::MaximumAge))
                    .col(kind(Programmes::AttendingType))
                    .col(string_len_null(Programmes::LocationName, 200))
                    .col(string_len_null(Programmes::Postcode, 10))
                    .col(string_len(Programmes::Schedule, 500))
                    .col(integer(Programmes::Capacity))
                    .col(kind(Programmes::Status))
                    .col(at(Programmes::CreatedAt))
                    .col(at(Programmes::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Programmes::Table, Programmes::OrganisationId)
                            .to(Organisations::Table, Organisations::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("idx_programmes_organisation", Programmes::Table, [Programmes::OrganisationId]))
            .await?;
        manager.create_index(index("idx_programmes_status", Programmes::Table, [Programmes::Status])).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Programmes::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum Programmes {
    Table,
    Id,
    OrganisationId,
    Name,
    Description,
    Domains,
    MinimumAge,
    MaximumAge,
    AttendingType,
    LocationName,
    Postcode,
    Schedule,
    Capacity,
    Status,
    CreatedAt,
    UpdatedAt,
}
