use crate::id_ref;
use crate::m20261123_000016_create_referrals::Referrals;
use crate::m20261123_000027_create_support_plans::SupportPlans;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The fourth part of a support plan, specialist support from partners: the child's
/// referrals the plan links.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PlanReferrals::Table)
                    .col(id_ref(PlanReferrals::PlanId))
                    .col(id_ref(PlanReferrals::ReferralId))
                    .primary_key(Index::create().col(PlanReferrals::PlanId).col(PlanReferrals::ReferralId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PlanReferrals::Table, PlanReferrals::PlanId)
                            .to(SupportPlans::Table, SupportPlans::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(PlanReferrals::Table, PlanReferrals::ReferralId)
                            .to(Referrals::Table, Referrals::Id),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(PlanReferrals::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum PlanReferrals {
    Table,
    PlanId,
    ReferralId,
}
