use crate::m20261123_000005_create_children::Children;
use crate::{at, id_pk, id_ref, id_ref_null, index, kind};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ProgressNotes::Table)
                    .col(id_pk(ProgressNotes::Id))
                    .col(id_ref(ProgressNotes::ChildId))
                    .col(id_ref_null(ProgressNotes::ReferralId))
                    .col(id_ref(ProgressNotes::AuthorId))
                    .col(id_ref(ProgressNotes::OrganisationId))
                    .col(kind(ProgressNotes::Visibility))
                    .col(string_len(ProgressNotes::Body, 4000))
                    .col(at(ProgressNotes::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ProgressNotes::Table, ProgressNotes::ChildId)
                            .to(Children::Table, Children::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("idx_progress_notes_child", ProgressNotes::Table, [ProgressNotes::ChildId])).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ProgressNotes::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum ProgressNotes {
    Table,
    Id,
    ChildId,
    ReferralId,
    AuthorId,
    OrganisationId,
    Visibility,
    Body,
    CreatedAt,
}
