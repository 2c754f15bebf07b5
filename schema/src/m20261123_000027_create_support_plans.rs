use crate::m20261123_000005_create_children::Children;
use crate::{at, id_pk, id_ref, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A child's individual support plan (one per child): the agreed parts in words. The
/// fourth part, specialist support from partners, is the referrals linked in
/// `plan_referrals`; goals and termly reviews hang off the plan in their own tables.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SupportPlans::Table)
                    .col(id_pk(SupportPlans::Id))
                    .col(id_ref(SupportPlans::ChildId))
                    .col(date(SupportPlans::AgreedOn))
                    .col(string_len_null(SupportPlans::InformalEngagement, 4000))
                    .col(string_len_null(SupportPlans::FormalEngagement, 4000))
                    .col(string_len_null(SupportPlans::DevelopmentalSupport, 4000))
                    .col(boolean(SupportPlans::ChildTookPart))
                    .col(id_ref(SupportPlans::CreatedBy))
                    .col(at(SupportPlans::CreatedAt))
                    .col(at(SupportPlans::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SupportPlans::Table, SupportPlans::ChildId)
                            .to(Children::Table, Children::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("idx_support_plans_child", SupportPlans::Table, [SupportPlans::ChildId]).unique().to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(SupportPlans::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum SupportPlans {
    Table,
    Id,
    ChildId,
    AgreedOn,
    InformalEngagement,
    FormalEngagement,
    DevelopmentalSupport,
    ChildTookPart,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}
