use crate::id_ref;
use crate::m20261123_000030_create_plan_goals::PlanGoals;
use crate::m20261123_000031_create_plan_reviews::PlanReviews;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// What a review found for each goal open at the time: met or not, and a note.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PlanReviewGoals::Table)
                    .col(id_ref(PlanReviewGoals::ReviewId))
                    .col(id_ref(PlanReviewGoals::GoalId))
                    .col(boolean(PlanReviewGoals::Met))
                    .col(string_len_null(PlanReviewGoals::Note, 2000))
                    .primary_key(Index::create().col(PlanReviewGoals::ReviewId).col(PlanReviewGoals::GoalId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PlanReviewGoals::Table, PlanReviewGoals::ReviewId)
                            .to(PlanReviews::Table, PlanReviews::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(PlanReviewGoals::Table, PlanReviewGoals::GoalId)
                            .to(PlanGoals::Table, PlanGoals::Id),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(PlanReviewGoals::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum PlanReviewGoals {
    Table,
    ReviewId,
    GoalId,
    Met,
    Note,
}
