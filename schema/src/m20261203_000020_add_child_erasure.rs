//! A child's record may be erased (de-identified): when, and why (`domain::erasure`).

use crate::at_null;
use crate::m20261123_000005_create_children::Children;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(Children::Table).add_column(at_null(Erasure::ErasedAt)).to_owned())
            .await?;
        manager
            .alter_table(Table::alter().table(Children::Table).add_column(text_null(Erasure::ErasureReason)).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(Children::Table).drop_column(Erasure::ErasureReason).to_owned())
            .await?;
        manager.alter_table(Table::alter().table(Children::Table).drop_column(Erasure::ErasedAt).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Erasure {
    ErasedAt,
    ErasureReason,
}
