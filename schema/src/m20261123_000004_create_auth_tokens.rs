use crate::m20261123_000002_create_users::Users;
use crate::{at, at_null, id_pk, id_ref};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuthTokens::Table)
                    .col(id_pk(AuthTokens::Id))
                    .col(id_ref(AuthTokens::UserId))
                    // Only a SHA-256 of the bearer token is stored.
                    .col(string_len_uniq(AuthTokens::TokenHash, 64))
                    .col(at(AuthTokens::CreatedAt))
                    .col(at(AuthTokens::ExpiresAt))
                    .col(at_null(AuthTokens::RevokedAt))
                    .foreign_key(
                        ForeignKey::create().from(AuthTokens::Table, AuthTokens::UserId).to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(AuthTokens::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum AuthTokens {
    Table,
    Id,
    UserId,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
}
