use crate::m20261123_000005_create_children::Children;
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
                    .table(Relationships::Table)
                    .col(id_pk(Relationships::Id))
                    .col(id_ref(Relationships::ChildId))
                    .col(kind(Relationships::Kind))
                    .col(string_len(Relationships::Name, 200))
                    .col(kind(Relationships::Involvement))
                    .col(boolean(Relationships::ParentalResponsibility).default(false))
                    .col(string_len_null(Relationships::Phone, 20))
                    .col(string_len_null(Relationships::Notes, 2000))
                    .col(id_ref(Relationships::RecordedBy))
                    .col(at(Relationships::RecordedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Relationships::Table, Relationships::ChildId)
                            .to(Children::Table, Children::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_relationships_child")
                    .table(Relationships::Table)
                    .col(Relationships::ChildId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Relationships::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum Relationships {
    Table,
    Id,
    ChildId,
    Kind,
    Name,
    Involvement,
    ParentalResponsibility,
    Phone,
    Notes,
    RecordedBy,
    RecordedAt,
}
