use crate::m20261123_000005_create_children::Children;
use crate::{at, at_null, id_pk, id_ref, id_ref_null, kind};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Consents::Table)
                    .col(id_pk(Consents::Id))
                    .col(id_ref(Consents::ChildId))
                    .col(kind(Consents::GivenBy))
                    .col(string_len(Consents::GivenByName, 200))
                    .col(date(Consents::GivenOn))
                    // Comma-separated purpose codes, validated by the service.
                    .col(string_len(Consents::Purposes, 200))
                    .col(string_len(Consents::Evidence, 500))
                    .col(id_ref(Consents::RecordedBy))
                    .col(at(Consents::RecordedAt))
                    .col(date_null(Consents::WithdrawnOn))
                    .col(string_len_null(Consents::WithdrawalReason, 500))
                    .col(id_ref_null(Consents::WithdrawnBy))
                    .col(at_null(Consents::WithdrawnAt))
                    .foreign_key(
                        ForeignKey::create().from(Consents::Table, Consents::ChildId).to(Children::Table, Children::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("idx_consents_child").table(Consents::Table).col(Consents::ChildId).to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Consents::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum Consents {
    Table,
    Id,
    ChildId,
    GivenBy,
    GivenByName,
    GivenOn,
    Purposes,
    Evidence,
    RecordedBy,
    RecordedAt,
    WithdrawnOn,
    WithdrawalReason,
    WithdrawnBy,
    WithdrawnAt,
}
