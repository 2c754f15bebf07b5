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
                    .table(LawfulBases::Table)
                    .col(id_pk(LawfulBases::Id))
                    .col(id_ref(LawfulBases::ChildId))
                    .col(kind(LawfulBases::Basis))
                    .col(string_len_null(LawfulBases::SpecialCategory, 40))
                    .col(string_len(LawfulBases::DataSharingAgreement, 100))
                    .col(id_ref(LawfulBases::RecordedBy))
                    .col(at(LawfulBases::RecordedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(LawfulBases::Table, LawfulBases::ChildId)
                            .to(Children::Table, Children::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_lawful_bases_child")
                    .table(LawfulBases::Table)
                    .col(LawfulBases::ChildId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(LawfulBases::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum LawfulBases {
    Table,
    Id,
    ChildId,
    Basis,
    SpecialCategory,
    DataSharingAgreement,
    RecordedBy,
    RecordedAt,
}
