use crate::m20261123_000011_create_enrolments::Enrolments;
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
                    .table(EnrolmentTransitions::Table)
                    .col(id_pk(EnrolmentTransitions::Id))
                    .col(id_ref(EnrolmentTransitions::EnrolmentId))
                    .col(string_len_null(EnrolmentTransitions::FromStatus, 40))
                    .col(kind(EnrolmentTransitions::ToStatus))
                    .col(id_ref_null(EnrolmentTransitions::ActorUserId))
                    .col(at(EnrolmentTransitions::At))
                    .col(string_len_null(EnrolmentTransitions::Note, 2000))
                    .foreign_key(
                        ForeignKey::create()
                            .from(EnrolmentTransitions::Table, EnrolmentTransitions::EnrolmentId)
                            .to(Enrolments::Table, Enrolments::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_enrolment_transitions_enrolment")
                    .table(EnrolmentTransitions::Table)
                    .col(EnrolmentTransitions::EnrolmentId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(EnrolmentTransitions::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum EnrolmentTransitions {
    Table,
    Id,
    EnrolmentId,
    FromStatus,
    ToStatus,
    ActorUserId,
    At,
    Note,
}
