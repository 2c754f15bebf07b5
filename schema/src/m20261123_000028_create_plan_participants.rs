use crate::id_ref;
use crate::m20261123_000006_create_relationships::Relationships;
use crate::m20261123_000027_create_support_plans::SupportPlans;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The parents, carers and trusted adults (the child's `relationships`) who took part in
/// agreeing a support plan.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PlanParticipants::Table)
                    .col(id_ref(PlanParticipants::PlanId))
                    .col(id_ref(PlanParticipants::RelationshipId))
                    .primary_key(Index::create().col(PlanParticipants::PlanId).col(PlanParticipants::RelationshipId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PlanParticipants::Table, PlanParticipants::PlanId)
                            .to(SupportPlans::Table, SupportPlans::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(PlanParticipants::Table, PlanParticipants::RelationshipId)
                            .to(Relationships::Table, Relationships::Id),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(PlanParticipants::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum PlanParticipants {
    Table,
    PlanId,
    RelationshipId,
}
