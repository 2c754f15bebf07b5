use crate::m20261123_000005_create_children::Children;
use crate::{at, id_pk, id_ref, index, kind};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Contacts::Table)
                    .col(id_pk(Contacts::Id))
                    .col(id_ref(Contacts::ChildId))
                    .col(id_ref(Contacts::LinkWorkerId))
                    .col(date(Contacts::HeldOn))
                    .col(integer(Contacts::Minutes))
                    .col(kind(Contacts::Kind))
                    // Comma-separated codes: child, parent, trusted_adult, school_staff.
                    .col(string_len(Contacts::WithWhom, 100))
                    .col(string_len(Contacts::Content, 4000))
                    .col(at(Contacts::RecordedAt))
                    .foreign_key(
                        ForeignKey::create().from(Contacts::Table, Contacts::ChildId).to(Children::Table, Children::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("idx_contacts_child", Contacts::Table, [Contacts::ChildId, Contacts::HeldOn])).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Contacts::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum Contacts {
    Table,
    Id,
    ChildId,
    LinkWorkerId,
    HeldOn,
    Minutes,
    Kind,
    WithWhom,
    Content,
    RecordedAt,
}
