use crate::m20261123_000005_create_children::Children;
use crate::m20261123_000016_create_referrals::Referrals;
use crate::m20261123_000018_create_sessions::Sessions;
use crate::{id_pk, id_ref, index, kind};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Attendances::Table)
                    .col(id_pk(Attendances::Id))
                    .col(id_ref(Attendances::SessionId))
                    .col(id_ref(Attendances::ReferralId))
                    .col(id_ref(Attendances::ChildId))
                    // The session's date, kept here so engagement is one grouped query.
                    .col(date(Attendances::HeldOn))
                    .col(kind(Attendances::Status))
                    // 1 disengaged, 2 participating, 3 fully engaged; only when attended.
                    .col(small_integer_null(Attendances::Engagement))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Attendances::Table, Attendances::SessionId)
                            .to(Sessions::Table, Sessions::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Attendances::Table, Attendances::ReferralId)
                            .to(Referrals::Table, Referrals::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Attendances::Table, Attendances::ChildId)
                            .to(Children::Table, Children::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "idx_attendances_session_child",
                    Attendances::Table,
                    [Attendances::SessionId, Attendances::ChildId],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager.create_index(index("idx_attendances_child", Attendances::Table, [Attendances::ChildId])).await?;
        manager.create_index(index("idx_attendances_referral", Attendances::Table, [Attendances::ReferralId])).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Attendances::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum Attendances {
    Table,
    Id,
    SessionId,
    ReferralId,
    ChildId,
    HeldOn,
    Status,
    Engagement,
}
