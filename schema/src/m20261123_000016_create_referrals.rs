use crate::m20261123_000001_create_organisations::Organisations;
use crate::m20261123_000002_create_users::Users;
use crate::m20261123_000005_create_children::Children;
use crate::m20261123_000015_create_programmes::Programmes;
use crate::{at, id_pk, id_ref, id_ref_null, index, kind};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Referrals::Table)
                    .col(id_pk(Referrals::Id))
                    .col(id_ref(Referrals::ChildId))
                    .col(id_ref(Referrals::ProgrammeId))
                    // The programme's partner, kept on the referral so the partner access
                    // rule is one indexed lookup.
                    .col(id_ref(Referrals::OrganisationId))
                    // The link worker following the referral up (moves on handover).
                    .col(id_ref_null(Referrals::LinkWorkerId))
                    .col(kind(Referrals::Status))
                    // The needs relevant to the programme: what the partner is told.
                    .col(string_len(Referrals::Needs, 1000))
                    .col(string_len_null(Referrals::Reason, 500))
                    .col(id_ref(Referrals::CreatedBy))
                    .col(at(Referrals::CreatedAt))
                    .col(at(Referrals::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Referrals::Table, Referrals::ChildId)
                            .to(Children::Table, Children::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Referrals::Table, Referrals::ProgrammeId)
                            .to(Programmes::Table, Programmes::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Referrals::Table, Referrals::OrganisationId)
                            .to(Organisations::Table, Organisations::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Referrals::Table, Referrals::LinkWorkerId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_referrals_organisation",
                Referrals::Table,
                [Referrals::OrganisationId, Referrals::Status, Referrals::ChildId],
            ))
            .await?;
        manager.create_index(index("idx_referrals_child", Referrals::Table, [Referrals::ChildId])).await?;
        manager
            .create_index(index(
                "idx_referrals_programme",
                Referrals::Table,
                [Referrals::ProgrammeId, Referrals::Status],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Referrals::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum Referrals {
    Table,
    Id,
    ChildId,
    ProgrammeId,
    OrganisationId,
    LinkWorkerId,
    Status,
    Needs,
    Reason,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}
