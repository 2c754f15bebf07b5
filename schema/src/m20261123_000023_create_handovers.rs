use crate::m20261123_000005_create_children::Children;
use crate::{at, id_pk, id_ref, id_ref_null, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Handovers::Table)
                    .col(id_pk(Handovers::Id))
                    .col(id_ref(Handovers::ChildId))
                    .col(id_ref_null(Handovers::FromLinkWorkerId))
                    .col(id_ref(Handovers::ToLinkWorkerId))
                    .col(id_ref(Handovers::FromAnchorId))
                    .col(id_ref(Handovers::ToAnchorId))
                    .col(integer(Handovers::ReferralsMoved))
                    .col(id_ref(Handovers::ActorUserId))
                    .col(at(Handovers::At))
                    .col(string_len_null(Handovers::Note, 2000))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Handovers::Table, Handovers::ChildId)
                            .to(Children::Table, Children::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("idx_handovers_child", Handovers::Table, [Handovers::ChildId])).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Handovers::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum Handovers {
    Table,
    Id,
    ChildId,
    FromLinkWorkerId,
    ToLinkWorkerId,
    FromAnchorId,
    ToAnchorId,
    ReferralsMoved,
    ActorUserId,
    At,
    Note,
}
