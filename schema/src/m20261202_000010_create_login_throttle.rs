//! Failed logins, counted per key (an account's email digest or a client address) so that
//! every process behind a load balancer shares one count and one lockout.

use crate::{at, at_null};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LoginThrottle::Table)
                    // `account:<SHA-256 of the email>` or `address:<IP address>`: never
                    // an email in clear.
                    .col(string_len(LoginThrottle::Key, 100).primary_key())
                    // Failures since `window_started_at`.
                    .col(integer(LoginThrottle::Failures))
                    .col(at(LoginThrottle::WindowStartedAt))
                    // Lockouts in a row (each doubles the next).
                    .col(integer(LoginThrottle::Lockouts))
                    .col(at_null(LoginThrottle::LockedUntil))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(LoginThrottle::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum LoginThrottle {
    Table,
    Key,
    Failures,
    WindowStartedAt,
    Lockouts,
    LockedUntil,
}
