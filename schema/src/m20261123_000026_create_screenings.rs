use crate::m20261123_000001_create_organisations::Organisations;
use crate::m20261123_000005_create_children::Children;
use crate::{at, id_pk, id_ref, id_ref_null, index, kind};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Needs identification: the anchor-data rows that the screening rules flagged, and
/// nothing else (rows no rule flags are never stored). Minimal by design: the pupil's UPN
/// and the indicators, no names. A row expires (`expires_at`) and is purged unless the
/// child it led to is enrolled.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Screenings::Table)
                    .col(id_pk(Screenings::Id))
                    .col(id_ref(Screenings::AnchorId))
                    .col(string_len(Screenings::Upn, 13))
                    .col(double_null(Screenings::AttendancePercent))
                    .col(string_len_null(Screenings::Attainment, 40))
                    .col(small_integer_null(Screenings::WellbeingScore))
                    .col(boolean(Screenings::PractitionerConcern))
                    .col(string_len_null(Screenings::StatutorySupport, 40))
                    .col(small_integer(Screenings::AtRiskAreas))
                    .col(text(Screenings::Reasons))
                    .col(kind(Screenings::Status))
                    .col(string_len(Screenings::RankKey, 80))
                    .col(integer(Screenings::FrameworkVersion))
                    .col(id_ref_null(Screenings::ChildId))
                    .col(id_ref(Screenings::ImportedBy))
                    .col(at(Screenings::ImportedAt))
                    .col(at(Screenings::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Screenings::Table, Screenings::AnchorId)
                            .to(Organisations::Table, Organisations::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Screenings::Table, Screenings::ChildId)
                            .to(Children::Table, Children::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("idx_screenings_anchor_upn", Screenings::Table, [Screenings::AnchorId, Screenings::Upn])
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("idx_screenings_rank", Screenings::Table, [Screenings::AnchorId, Screenings::RankKey]))
            .await?;
        manager.create_index(index("idx_screenings_expiry", Screenings::Table, [Screenings::ExpiresAt])).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Screenings::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum Screenings {
    Table,
    Id,
    AnchorId,
    Upn,
    AttendancePercent,
    Attainment,
    WellbeingScore,
    PractitionerConcern,
    StatutorySupport,
    AtRiskAreas,
    Reasons,
    Status,
    RankKey,
    FrameworkVersion,
    ChildId,
    ImportedBy,
    ImportedAt,
    ExpiresAt,
}
