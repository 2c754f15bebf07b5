//! Corrections: each field a user corrected on a record about a child, its value before
//! and after, who corrected it, when and why. The record itself holds the new value.

use crate::m20261123_000005_create_children::Children;
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
                    .table(Corrections::Table)
                    .col(id_pk(Corrections::Id))
                    .col(id_ref(Corrections::ChildId))
                    .col(kind(Corrections::RecordKind))
                    .col(id_ref(Corrections::RecordId))
                    .col(string_len(Corrections::Field, 60))
                    .col(text_null(Corrections::OldValue))
                    .col(text_null(Corrections::NewValue))
                    .col(string_len(Corrections::Reason, 1000))
                    .col(id_ref(Corrections::CorrectedBy))
                    .col(at(Corrections::CorrectedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Corrections::Table, Corrections::ChildId)
                            .to(Children::Table, Children::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("idx_corrections_record", Corrections::Table, [Corrections::RecordId])).await?;
        manager.create_index(index("idx_corrections_child", Corrections::Table, [Corrections::ChildId])).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Corrections::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum Corrections {
    Table,
    Id,
    ChildId,
    RecordKind,
    RecordId,
    Field,
    OldValue,
    NewValue,
    Reason,
    CorrectedBy,
    CorrectedAt,
}
