use crate::m20261123_000005_create_children::Children;
use crate::m20261123_000024_create_framework_versions::FrameworkVersions;
use crate::{at, id_pk, id_ref, index, kind};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// One measure taken for one child on one date: the raw value as entered, and the
/// common-scale level it mapped to under the framework version then live (kept, never
/// recomputed).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Assessments::Table)
                    .col(id_pk(Assessments::Id))
                    .col(id_ref(Assessments::ChildId))
                    .col(id_ref(Assessments::FrameworkVersionId))
                    .col(integer(Assessments::FrameworkVersion))
                    .col(string_len(Assessments::AreaCode, 60))
                    .col(string_len(Assessments::MeasureCode, 60))
                    .col(double_null(Assessments::RawNumber))
                    .col(string_len_null(Assessments::RawCategory, 60))
                    .col(small_integer(Assessments::Level))
                    .col(boolean(Assessments::AtRisk))
                    .col(kind(Assessments::Stage))
                    .col(date(Assessments::AssessedOn))
                    .col(id_ref(Assessments::RecordedBy))
                    .col(id_ref(Assessments::OrganisationId))
                    .col(at(Assessments::RecordedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Assessments::Table, Assessments::ChildId)
                            .to(Children::Table, Children::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Assessments::Table, Assessments::FrameworkVersionId)
                            .to(FrameworkVersions::Table, FrameworkVersions::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_assessments_child",
                Assessments::Table,
                [Assessments::ChildId, Assessments::MeasureCode, Assessments::AssessedOn],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Assessments::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum Assessments {
    Table,
    Id,
    ChildId,
    FrameworkVersionId,
    FrameworkVersion,
    AreaCode,
    MeasureCode,
    RawNumber,
    RawCategory,
    Level,
    AtRisk,
    Stage,
    AssessedOn,
    RecordedBy,
    OrganisationId,
    RecordedAt,
}
