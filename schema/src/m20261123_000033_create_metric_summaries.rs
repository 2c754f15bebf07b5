use crate::{at, at_null, id_ref, id_ref_null, index, kind};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Summary tables for shared metrics: one row per child, per referral, per child and
/// outcome area, per child, programme and month of sessions, and per programme and month.
/// They hold counts and levels only, are rebuilt from the records by the service (never
/// edited by hand), and let a funder's query run a GROUP BY over a few rows per child
/// instead of the raw attendance and assessment rows.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ChildFacts::Table)
                    .col(ColumnDef::new(ChildFacts::ChildId).string_len(36).not_null().primary_key())
                    .col(id_ref(ChildFacts::AnchorId))
                    .col(string_len_null(ChildFacts::Cohort, 40))
                    .col(small_integer(ChildFacts::YearGroup))
                    .col(boolean(ChildFacts::Fsm))
                    .col(boolean(ChildFacts::Send))
                    .col(boolean(ChildFacts::Eal))
                    .col(kind(ChildFacts::Status))
                    .col(at_null(ChildFacts::IdentifiedAt))
                    .col(at_null(ChildFacts::ConsentedAt))
                    .col(at_null(ChildFacts::EnrolledAt))
                    .col(at_null(ChildFacts::ActiveAt))
                    .col(at_null(ChildFacts::CompletedAt))
                    .col(at_null(ChildFacts::ExitedAt))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("idx_child_facts_anchor", ChildFacts::Table, [ChildFacts::AnchorId])).await?;
        manager
            .create_table(
                Table::create()
                    .table(ReferralFacts::Table)
                    .col(ColumnDef::new(ReferralFacts::ReferralId).string_len(36).not_null().primary_key())
                    .col(id_ref(ReferralFacts::ChildId))
                    .col(id_ref(ReferralFacts::PartnerId))
                    .col(id_ref(ReferralFacts::ProgrammeId))
                    .col(kind(ReferralFacts::Status))
                    .col(at(ReferralFacts::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("idx_referral_facts_child", ReferralFacts::Table, [ReferralFacts::ChildId])).await?;
        manager
            .create_table(
                Table::create()
                    .table(OutcomeFacts::Table)
                    .col(id_ref(OutcomeFacts::ChildId))
                    .col(string_len(OutcomeFacts::AreaCode, 60))
                    .col(small_integer(OutcomeFacts::BaselineLevel))
                    .col(small_integer(OutcomeFacts::LatestLevel))
                    .col(date(OutcomeFacts::BaselineOn))
                    .col(date(OutcomeFacts::LatestOn))
                    .col(integer(OutcomeFacts::Assessments))
                    .primary_key(Index::create().col(OutcomeFacts::ChildId).col(OutcomeFacts::AreaCode))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AttendanceFacts::Table)
                    .col(id_ref(AttendanceFacts::ChildId))
                    .col(id_ref(AttendanceFacts::ProgrammeId))
                    .col(id_ref(AttendanceFacts::PartnerId))
                    .col(string_len(AttendanceFacts::Month, 7))
                    .col(integer(AttendanceFacts::Offered))
                    .col(integer(AttendanceFacts::Attended))
                    .primary_key(
                        Index::create()
                            .col(AttendanceFacts::ChildId)
                            .col(AttendanceFacts::ProgrammeId)
                            .col(AttendanceFacts::Month),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SessionFacts::Table)
                    .col(id_ref(SessionFacts::ProgrammeId))
                    .col(id_ref(SessionFacts::PartnerId))
                    .col(string_len(SessionFacts::Month, 7))
                    .col(integer(SessionFacts::Sessions))
                    .primary_key(Index::create().col(SessionFacts::ProgrammeId).col(SessionFacts::Month))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MetricRefreshes::Table)
                    .col(ColumnDef::new(MetricRefreshes::Id).integer().not_null().primary_key())
                    .col(at(MetricRefreshes::RefreshedAt))
                    .col(id_ref_null(MetricRefreshes::RefreshedBy))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            MetricRefreshes::Table.into_iden(),
            SessionFacts::Table.into_iden(),
            AttendanceFacts::Table.into_iden(),
            OutcomeFacts::Table.into_iden(),
            ReferralFacts::Table.into_iden(),
            ChildFacts::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
pub enum ChildFacts {
    Table,
    ChildId,
    AnchorId,
    Cohort,
    YearGroup,
    Fsm,
    Send,
    Eal,
    Status,
    IdentifiedAt,
    ConsentedAt,
    EnrolledAt,
    ActiveAt,
    CompletedAt,
    ExitedAt,
}

#[derive(DeriveIden)]
pub enum ReferralFacts {
    Table,
    ReferralId,
    ChildId,
    PartnerId,
    ProgrammeId,
    Status,
    CreatedAt,
}

#[derive(DeriveIden)]
pub enum OutcomeFacts {
    Table,
    ChildId,
    AreaCode,
    BaselineLevel,
    LatestLevel,
    BaselineOn,
    LatestOn,
    Assessments,
}

#[derive(DeriveIden)]
pub enum AttendanceFacts {
    Table,
    ChildId,
    ProgrammeId,
    PartnerId,
    Month,
    Offered,
    Attended,
}

#[derive(DeriveIden)]
pub enum SessionFacts {
    Table,
    ProgrammeId,
    PartnerId,
    Month,
    Sessions,
}

#[derive(DeriveIden)]
pub enum MetricRefreshes {
    Table,
    Id,
    RefreshedAt,
    RefreshedBy,
}
