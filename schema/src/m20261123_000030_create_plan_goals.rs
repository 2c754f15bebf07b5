use crate::m20261123_000005_create_children::Children;
use crate::m20261123_000027_create_support_plans::SupportPlans;
use crate::{id_pk, id_ref, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A goal of a support plan in one outcome area, with the common-scale level it aims at;
/// `met_on` is set by the review that found it met.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PlanGoals::Table)
                    .col(id_pk(PlanGoals::Id))
                    .col(id_ref(PlanGoals::PlanId))
                    .col(id_ref(PlanGoals::ChildId))
                    .col(string_len(PlanGoals::AreaCode, 60))
                    .col(string_len(PlanGoals::Description, 4000))
                    .col(small_integer(PlanGoals::TargetLevel))
                    .col(date(PlanGoals::AddedOn))
                    .col(date_null(PlanGoals::MetOn))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PlanGoals::Table, PlanGoals::PlanId)
                            .to(SupportPlans::Table, SupportPlans::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(PlanGoals::Table, PlanGoals::ChildId)
                            .to(Children::Table, Children::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("idx_plan_goals_plan", PlanGoals::Table, [PlanGoals::PlanId])).await?;
        manager.create_index(index("idx_plan_goals_child", PlanGoals::Table, [PlanGoals::ChildId])).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(PlanGoals::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum PlanGoals {
    Table,
    Id,
    PlanId,
    ChildId,
    AreaCode,
    Description,
    TargetLevel,
    AddedOn,
    MetOn,
}
