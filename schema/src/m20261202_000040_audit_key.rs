//! Keys the audit chain: the chain head names the key its events are MACed with (an id
//! derived from the key, never the key, which lives outside the database) and the first
//! keyed event (events before it were written unkeyed, before this change).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter().table(AuditHead::Table).add_column(string_len_null(AuditHead::KeyId, 64)).to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter().table(AuditHead::Table).add_column(big_integer_null(AuditHead::KeyedFrom)).to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(AuditHead::Table).drop_column(AuditHead::KeyedFrom).to_owned())
            .await?;
        manager.alter_table(Table::alter().table(AuditHead::Table).drop_column(AuditHead::KeyId).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum AuditHead {
    Table,
    KeyId,
    KeyedFrom,
}
