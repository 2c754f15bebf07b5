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
                    .table(ParticipationAgreements::Table)
                    .col(id_pk(ParticipationAgreements::Id))
                    .col(id_ref(ParticipationAgreements::ChildId))
                    .col(kind(ParticipationAgreements::AgreedBy))
                    .col(string_len(ParticipationAgreements::AgreedByName, 200))
                    .col(date(ParticipationAgreements::AgreedOn))
                    .col(string_len(ParticipationAgreements::Evidence, 500))
                    .col(id_ref(ParticipationAgreements::RecordedBy))
                    .col(at(ParticipationAgreements::RecordedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ParticipationAgreements::Table, ParticipationAgreements::ChildId)
                            .to(Children::Table, Children::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_participation_child")
                    .table(ParticipationAgreements::Table)
                    .col(ParticipationAgreements::ChildId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ParticipationAgreements::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum ParticipationAgreements {
    Table,
    Id,
    ChildId,
    AgreedBy,
    AgreedByName,
    AgreedOn,
    Evidence,
    RecordedBy,
    RecordedAt,
}
