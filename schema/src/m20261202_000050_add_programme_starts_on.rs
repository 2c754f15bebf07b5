//! A programme may say when it started running: no session of it is recorded before.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(Programmes::Table).add_column(date_null(Programmes::StartsOn)).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(Programmes::Table).drop_column(Programmes::StartsOn).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum Programmes {
    Table,
    StartsOn,
}
