//! Tokens are of two kinds: `api` (bearer tokens from `login`) and `console` (the
//! console's session cookies), each accepted only where it belongs; a console session
//! also records when it was last used, for its idle timeout.

use crate::at_null;
use crate::m20261123_000004_create_auth_tokens::AuthTokens;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(AuthTokens::Table)
                    .add_column(string_len(Kind::Kind, 40).not_null().default("api"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(Table::alter().table(AuthTokens::Table).add_column(at_null(Kind::LastUsedAt)).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(AuthTokens::Table).drop_column(Kind::LastUsedAt).to_owned()).await?;
        manager.alter_table(Table::alter().table(AuthTokens::Table).drop_column(Kind::Kind).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Kind {
    Kind,
    LastUsedAt,
}
