use crate::m20261123_000015_create_programmes::Programmes;
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
                    .table(Sessions::Table)
                    .col(id_pk(Sessions::Id))
                    .col(id_ref(Sessions::ProgrammeId))
                    .col(id_ref(Sessions::OrganisationId))
                    .col(date(Sessions::HeldOn))
                    .col(integer(Sessions::DurationMinutes))
                    .col(kind(Sessions::Kind))
                    .col(string_len_null(Sessions::Notes, 2000))
                    .col(id_ref(Sessions::RecordedBy))
                    .col(at(Sessions::RecordedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Sessions::Table, Sessions::ProgrammeId)
                            .to(Programmes::Table, Programmes::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("idx_sessions_programme", Sessions::Table, [Sessions::ProgrammeId])).await?;
        manager.create_index(index("idx_sessions_organisation", Sessions::Table, [Sessions::OrganisationId])).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Sessions::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum Sessions {
    Table,
    Id,
    ProgrammeId,
    OrganisationId,
    HeldOn,
    DurationMinutes,
    Kind,
    Notes,
    RecordedBy,
    RecordedAt,
}
