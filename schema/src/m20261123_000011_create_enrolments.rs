use crate::m20261123_000002_create_users::Users;
use crate::m20261123_000005_create_children::Children;
use crate::{at, id_pk, id_ref, id_ref_null, kind};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Enrolments::Table)
                    .col(id_pk(Enrolments::Id))
                    .col(id_ref(Enrolments::ChildId).unique_key())
                    .col(kind(Enrolments::Status))
                    .col(string_len_null(Enrolments::ExitReason, 40))
                    .col(string_len_null(Enrolments::Cohort, 7))
                    .col(id_ref_null(Enrolments::LinkWorkerId))
                    .col(at(Enrolments::CreatedAt))
                    .col(at(Enrolments::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Enrolments::Table, Enrolments::ChildId)
                            .to(Children::Table, Children::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Enrolments::Table, Enrolments::LinkWorkerId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_enrolments_link_worker")
                    .table(Enrolments::Table)
                    .col(Enrolments::LinkWorkerId)
                    .col(Enrolments::ChildId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Enrolments::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum Enrolments {
    Table,
    Id,
    ChildId,
    Status,
    ExitReason,
    Cohort,
    LinkWorkerId,
    CreatedAt,
    UpdatedAt,
}
