//! The `request_rates` table: each bearer token's request allowance (a token bucket, by
//! the token's digest), shared by every process on one PostgreSQL database. `UNLOGGED`
//! there: a rate limit need not survive a crash of the database server, and no request
//! pays for a WAL flush to be counted. On SQLite (one process serves a file) the
//! allowance is counted in the process and the table stays empty.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == sea_orm::DbBackend::Postgres {
            let sql = "CREATE UNLOGGED TABLE request_rates (\
                key varchar(80) NOT NULL PRIMARY KEY, \
                tokens double precision NOT NULL, \
                taken boolean NOT NULL, \
                at timestamp with time zone NOT NULL)";
            manager.get_connection().execute_unprepared(sql).await?;
            return Ok(());
        }
        manager
            .create_table(
                Table::create()
                    .table(RequestRates::Table)
                    .col(string_len(RequestRates::Key, 80).primary_key())
                    .col(double(RequestRates::Tokens))
                    .col(boolean(RequestRates::Taken))
                    .col(timestamp_with_time_zone(RequestRates::At))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(RequestRates::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum RequestRates {
    Table,
    Key,
    Tokens,
    Taken,
    At,
}
