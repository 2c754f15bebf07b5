use crate::{at, id_pk, kind};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Organisations::Table)
                    .col(id_pk(Organisations::Id))
                    .col(string_len_uniq(Organisations::Name, 200))
                    .col(kind(Organisations::Kind))
                    .col(at(Organisations::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Organisations::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum Organisations {
    Table,
    Id,
    Name,
    Kind,
    CreatedAt,
}
