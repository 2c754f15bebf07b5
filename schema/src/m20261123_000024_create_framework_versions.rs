use crate::{at, id_pk, id_ref};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Each load of the outcomes framework is a new version; the newest is live. The
/// definition is kept whole (JSON), so an old version can always be read back as it was.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(FrameworkVersions::Table)
                    .col(id_pk(FrameworkVersions::Id))
                    .col(integer_uniq(FrameworkVersions::Version))
                    .col(string_len(FrameworkVersions::Name, 200))
                    .col(text(FrameworkVersions::Definition))
                    .col(string_len(FrameworkVersions::Checksum, 64))
                    .col(id_ref(FrameworkVersions::LoadedBy))
                    .col(at(FrameworkVersions::LoadedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(FrameworkVersions::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum FrameworkVersions {
    Table,
    Id,
    Version,
    Name,
    Definition,
    Checksum,
    LoadedBy,
    LoadedAt,
}
