use crate::m20261123_000002_create_users::Users;
use crate::{at, id_ref, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Idempotency keys of writes (`Idempotency-Key` on `/graphql`), per user: the first
/// transaction of the request that commits records the key, a digest of the request and
/// the children it touched — in that same transaction, so "the change was made" and "the
/// key is recorded" are one fact —; the answer is stored once it is known. A retry with
/// the same key replays it. Rows expire (`graphql.idempotency_key_hours`).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .col(id_ref(IdempotencyKeys::UserId))
                    .col(string_len(IdempotencyKeys::Key, 200))
                    // SHA-256 (hex) of the query, operation name, variables and uploads.
                    .col(string_len(IdempotencyKeys::RequestHash, 64))
                    // JSON list of the ids of the children the change touched.
                    .col(text(IdempotencyKeys::ChildIds))
                    // The response body (JSON), once known.
                    .col(text_null(IdempotencyKeys::Response))
                    .col(at(IdempotencyKeys::CreatedAt))
                    .col(at(IdempotencyKeys::ExpiresAt))
                    .primary_key(Index::create().col(IdempotencyKeys::UserId).col(IdempotencyKeys::Key))
                    .foreign_key(
                        ForeignKey::create()
                            .from(IdempotencyKeys::Table, IdempotencyKeys::UserId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("idx_idempotency_keys_expires", IdempotencyKeys::Table, [IdempotencyKeys::ExpiresAt]))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(IdempotencyKeys::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum IdempotencyKeys {
    Table,
    UserId,
    Key,
    RequestHash,
    ChildIds,
    Response,
    CreatedAt,
    ExpiresAt,
}
