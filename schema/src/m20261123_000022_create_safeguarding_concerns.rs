use crate::m20261123_000005_create_children::Children;
use crate::{at, id_pk, id_ref, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Kept apart from progress notes: only the anchor's designated safeguarding leads and
/// backbone admins read this table.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SafeguardingConcerns::Table)
                    .col(id_pk(SafeguardingConcerns::Id))
                    .col(id_ref(SafeguardingConcerns::ChildId))
                    .col(id_ref(SafeguardingConcerns::RaisedBy))
                    .col(id_ref(SafeguardingConcerns::OrganisationId))
                    .col(string_len(SafeguardingConcerns::Body, 4000))
                    .col(at(SafeguardingConcerns::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SafeguardingConcerns::Table, SafeguardingConcerns::ChildId)
                            .to(Children::Table, Children::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_safeguarding_concerns_child",
                SafeguardingConcerns::Table,
                [SafeguardingConcerns::ChildId],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(SafeguardingConcerns::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum SafeguardingConcerns {
    Table,
    Id,
    ChildId,
    RaisedBy,
    OrganisationId,
    Body,
    CreatedAt,
}
