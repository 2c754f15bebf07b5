use crate::{at, id_ref_null};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    // Assigned by the service from the chain head, not by the database,
                    // so the hash chain and the sequence can never disagree.
                    .col(big_integer(AuditEvents::Seq).primary_key())
                    .col(at(AuditEvents::At))
                    .col(id_ref_null(AuditEvents::ActorUserId))
                    .col(id_ref_null(AuditEvents::ActorOrganisationId))
                    .col(string_len(AuditEvents::ActorRole, 40))
                    .col(string_len(AuditEvents::Action, 60))
                    .col(id_ref_null(AuditEvents::ChildId))
                    .col(text(AuditEvents::Fields))
                    .col(string_len_null(AuditEvents::RequestId, 64))
                    .col(string_len(AuditEvents::PrevHash, 64))
                    .col(string_len(AuditEvents::Hash, 64))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_events_child")
                    .table(AuditEvents::Table)
                    .col(AuditEvents::ChildId)
                    .col(AuditEvents::Seq)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(AuditEvents::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum AuditEvents {
    Table,
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
}
