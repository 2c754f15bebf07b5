//! Break-glass: a record opened outside its reader's scope, for a stated reason and a
//! limited time (`domain::break_glass`), and the audit events read during it, flagged
//! with the opening they were read under.

use crate::m20261123_000001_create_organisations::Organisations;
use crate::m20261123_000002_create_users::Users;
use crate::m20261123_000005_create_children::Children;
use crate::m20261123_000013_create_audit_events::AuditEvents;
use crate::{at, at_null, id_pk, id_ref, id_ref_null, index, kind};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BreakGlasses::Table)
                    .col(id_pk(BreakGlasses::Id))
                    .col(id_ref(BreakGlasses::ChildId))
                    .col(id_ref(BreakGlasses::UserId))
                    .col(id_ref(BreakGlasses::OrganisationId))
                    .col(kind(BreakGlasses::Role))
                    .col(text(BreakGlasses::Reason))
                    .col(at(BreakGlasses::OpenedAt))
                    .col(at(BreakGlasses::ExpiresAt))
                    .col(at_null(BreakGlasses::EndedAt))
                    .col(at_null(BreakGlasses::ReviewedAt))
                    .col(id_ref_null(BreakGlasses::ReviewedBy))
                    .foreign_key(
                        ForeignKey::create()
                            .from(BreakGlasses::Table, BreakGlasses::ChildId)
                            .to(Children::Table, Children::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(BreakGlasses::Table, BreakGlasses::UserId)
                            .to(Users::Table, Users::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(BreakGlasses::Table, BreakGlasses::OrganisationId)
                            .to(Organisations::Table, Organisations::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_break_glasses_user_child",
                BreakGlasses::Table,
                [BreakGlasses::UserId, BreakGlasses::ChildId],
            ))
            .await?;
        manager.create_index(index("idx_break_glasses_child", BreakGlasses::Table, [BreakGlasses::ChildId])).await?;
        manager
            .alter_table(
                Table::alter().table(AuditEvents::Table).add_column(id_ref_null(Flag::BreakGlassId)).to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(AuditEvents::Table).drop_column(Flag::BreakGlassId).to_owned())
            .await?;
        manager.drop_table(Table::drop().table(BreakGlasses::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum BreakGlasses {
    Table,
    Id,
    ChildId,
    UserId,
    OrganisationId,
    Role,
    Reason,
    OpenedAt,
    ExpiresAt,
    EndedAt,
    ReviewedAt,
    ReviewedBy,
}

#[derive(DeriveIden)]
enum Flag {
    BreakGlassId,
}
