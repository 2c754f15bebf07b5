use crate::m20261123_000016_create_referrals::Referrals;
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
                    .table(ReferralTransitions::Table)
                    .col(id_pk(ReferralTransitions::Id))
                    .col(id_ref(ReferralTransitions::ReferralId))
                    .col(string_len_null(ReferralTransitions::FromStatus, 40))
                    .col(kind(ReferralTransitions::ToStatus))
                    .col(id_ref_null(ReferralTransitions::ActorUserId))
                    .col(at(ReferralTransitions::At))
                    .col(string_len_null(ReferralTransitions::Note, 2000))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ReferralTransitions::Table, ReferralTransitions::ReferralId)
                            .to(Referrals::Table, Referrals::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_referral_transitions_referral",
                ReferralTransitions::Table,
                [ReferralTransitions::ReferralId],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ReferralTransitions::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum ReferralTransitions {
    Table,
    Id,
    ReferralId,
    FromStatus,
    ToStatus,
    ActorUserId,
    At,
    Note,
}
