//! Refusals to share: each time a child's record was not shared with an organisation
//! because consent did not cover it (or no longer did), when, by whom, and why — for the
//! share log (`domain::sharing`). What was shared is already in the record (referrals
//! sent, the audit's reads).

use crate::m20261123_000001_create_organisations::Organisations;
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
                    .table(ShareRefusals::Table)
                    .col(id_pk(ShareRefusals::Id))
                    .col(id_ref(ShareRefusals::ChildId))
                    .col(id_ref(ShareRefusals::OrganisationId))
                    .col(kind(ShareRefusals::Reason))
                    .col(string_len(ShareRefusals::What, 200))
                    .col(id_ref(ShareRefusals::ActorUserId))
                    .col(at(ShareRefusals::At))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ShareRefusals::Table, ShareRefusals::ChildId)
                            .to(Children::Table, Children::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ShareRefusals::Table, ShareRefusals::OrganisationId)
                            .to(Organisations::Table, Organisations::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("idx_share_refusals_child", ShareRefusals::Table, [ShareRefusals::ChildId])).await?;
        manager
            .create_index(index(
                "idx_share_refusals_organisation",
                ShareRefusals::Table,
                [ShareRefusals::OrganisationId],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ShareRefusals::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum ShareRefusals {
    Table,
    Id,
    ChildId,
    OrganisationId,
    Reason,
    What,
    ActorUserId,
    At,
}
