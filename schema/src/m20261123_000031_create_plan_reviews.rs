use crate::m20261123_000005_create_children::Children;
use crate::m20261123_000027_create_support_plans::SupportPlans;
use crate::{at_null, id_pk, id_ref, id_ref_null, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Termly reviews of a support plan: scheduled (pending, `reviewed_on` null) for the end
/// of a term and assigned to the child's link worker, then recorded.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PlanReviews::Table)
                    .col(id_pk(PlanReviews::Id))
                    .col(id_ref(PlanReviews::PlanId))
                    .col(id_ref(PlanReviews::ChildId))
                    .col(date(PlanReviews::DueOn))
                    .col(id_ref_null(PlanReviews::LinkWorkerId))
                    .col(date_null(PlanReviews::ReviewedOn))
                    .col(string_len_null(PlanReviews::Changes, 4000))
                    .col(id_ref_null(PlanReviews::RecordedBy))
                    .col(at_null(PlanReviews::RecordedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PlanReviews::Table, PlanReviews::PlanId)
                            .to(SupportPlans::Table, SupportPlans::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(PlanReviews::Table, PlanReviews::ChildId)
                            .to(Children::Table, Children::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("idx_plan_reviews_plan", PlanReviews::Table, [PlanReviews::PlanId])).await?;
        manager
            .create_index(index(
                "idx_plan_reviews_child",
                PlanReviews::Table,
                [PlanReviews::ChildId, PlanReviews::ReviewedOn],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(PlanReviews::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum PlanReviews {
    Table,
    Id,
    PlanId,
    ChildId,
    DueOn,
    LinkWorkerId,
    ReviewedOn,
    Changes,
    RecordedBy,
    RecordedAt,
}
