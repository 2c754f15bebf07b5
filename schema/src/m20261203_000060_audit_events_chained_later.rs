//! Audit events are written by the transaction that did the work without a sequence
//! number or hash, and chained afterwards by the sequencer (`audit::chain`): each row gets
//! an `id` of its own (the order it was written), `seq`, `prev_hash` and `hash` stay empty
//! until it is chained, and `mac` (the writer's MAC of the event's contents) lets the
//! sequencer and `audit verify` refuse a row that was not written by the service. The
//! table is rebuilt (its primary key changes); the events already there keep their
//! sequence numbers as ids.

use crate::{at, id_ref_null, index};
use sea_orm_migration::sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const COLUMNS: &str =
    "at, actor_user_id, actor_organisation_id, actor_role, action, child_id, fields, request_id, break_glass_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The old index goes first: it would follow its table to the new name.
        manager.drop_index(Index::drop().name("idx_audit_events_child").table(Chained::AuditEvents).to_owned()).await?;
        manager
            .rename_table(Table::rename().table(Chained::AuditEvents, Chained::AuditEventsUnchained).to_owned())
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Chained::AuditEvents)
                    .col(big_integer(Chained::Id).auto_increment().primary_key())
                    .col(big_integer_null(Chained::Seq))
                    .col(at(Chained::At))
                    .col(id_ref_null(Chained::ActorUserId))
                    .col(id_ref_null(Chained::ActorOrganisationId))
                    .col(string_len(Chained::ActorRole, 40))
                    .col(string_len(Chained::Action, 60))
                    .col(id_ref_null(Chained::ChildId))
                    .col(text(Chained::Fields))
                    .col(string_len_null(Chained::RequestId, 64))
                    .col(string_len_null(Chained::PrevHash, 64))
                    .col(string_len_null(Chained::Hash, 64))
                    .col(id_ref_null(Chained::BreakGlassId))
                    .col(string_len_null(Chained::Mac, 64))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(&format!(
            "INSERT INTO audit_events (id, seq, prev_hash, hash, {COLUMNS}) \
             SELECT seq, seq, prev_hash, hash, {COLUMNS} FROM audit_events_unchained"
        ))
        .await?;
        manager.drop_table(Table::drop().table(Chained::AuditEventsUnchained).to_owned()).await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            // The ids copied in were given explicitly: the next one follows them.
            db.execute_unprepared(
                "SELECT setval(pg_get_serial_sequence('audit_events', 'id'), COALESCE(MAX(id), 0) + 1, false) \
                 FROM audit_events",
            )
            .await?;
        }
        manager
            .create_index(index("idx_audit_events_seq", Chained::AuditEvents, [Chained::Seq]).unique().to_owned())
            .await?;
        manager
            .create_index(index("idx_audit_events_child", Chained::AuditEvents, [Chained::ChildId, Chained::Id]))
            .await
    }

    /// Back to the chain as its own primary key: refused while any event waits to be
    /// chained (run the service, or `backbone audit verify`, first).
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let waiting = db
            .query_one_raw(sea_orm_migration::sea_orm::Statement::from_string(
                manager.get_database_backend(),
                "SELECT COUNT(*) AS n FROM audit_events WHERE seq IS NULL",
            ))
            .await?
            .map(|row| row.try_get::<i64>("", "n"))
            .transpose()?
            .unwrap_or(0);
        if waiting > 0 {
            return Err(DbErr::Migration(format!(
                "{waiting} audit events are not chained yet: chain them first (start the service, or run `backbone \
                 audit verify`)"
            )));
        }
        for name in ["idx_audit_events_seq", "idx_audit_events_child"] {
            manager.drop_index(Index::drop().name(name).table(Chained::AuditEvents).to_owned()).await?;
        }
        manager
            .rename_table(Table::rename().table(Chained::AuditEvents, Chained::AuditEventsUnchained).to_owned())
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Chained::AuditEvents)
                    .col(big_integer(Chained::Seq).primary_key())
                    .col(at(Chained::At))
                    .col(id_ref_null(Chained::ActorUserId))
                    .col(id_ref_null(Chained::ActorOrganisationId))
                    .col(string_len(Chained::ActorRole, 40))
                    .col(string_len(Chained::Action, 60))
                    .col(id_ref_null(Chained::ChildId))
                    .col(text(Chained::Fields))
                    .col(string_len_null(Chained::RequestId, 64))
                    .col(string_len(Chained::PrevHash, 64))
                    .col(string_len(Chained::Hash, 64))
                    .col(id_ref_null(Chained::BreakGlassId))
                    .to_owned(),
            )
            .await?;
        db.execute_unprepared(&format!(
            "INSERT INTO audit_events (seq, prev_hash, hash, {COLUMNS}) \
             SELECT seq, prev_hash, hash, {COLUMNS} FROM audit_events_unchained"
        ))
        .await?;
        manager.drop_table(Table::drop().table(Chained::AuditEventsUnchained).to_owned()).await?;
        manager
            .create_index(index("idx_audit_events_child", Chained::AuditEvents, [Chained::ChildId, Chained::Seq]))
            .await
    }
}

#[derive(DeriveIden)]
enum Chained {
    AuditEvents,
    /// The table as it was, while its rows are copied.
    AuditEventsUnchained,
    Id,
    Seq,
    At,
    ActorUserId,
    ActorOrganisationId,
    ActorRole,
    Action,
    ChildId,
    Fields,
    RequestId,
    PrevHash,
    Hash,
    BreakGlassId,
    Mac,
}
