//! Names as they are compared (`names`): each child's folded name key, for finding the
//! same child identified twice at an anchor (with the anchor and date of birth, indexed),
//! and the folded words of each first and last name, for finding a child by the start of
//! any word of their name (indexed; on PostgreSQL in byte order, so that a prefix is a
//! range of the index whatever the database's collation). Existing children are keyed here.

use crate::m20261123_000005_create_children::Children;
use crate::{id_ref, index, kind, names};
use sea_orm_migration::sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Children::Table)
                    .add_column(string_len(NameKey::NameKey, 210).default(""))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_children_name_key",
                Children::Table,
                [Children::AnchorId.into_iden(), NameKey::NameKey.into_iden(), Children::DateOfBirth.into_iden()],
            ))
            .await?;
        let mut word = ColumnDef::new(ChildNameWords::Word);
        word.string_len(100).not_null();
        if manager.get_database_backend() == DbBackend::Postgres {
            word.extra("COLLATE \"C\"");
        }
        manager
            .create_table(
                Table::create()
                    .table(ChildNameWords::Table)
                    .col(id_ref(ChildNameWords::ChildId))
                    .col(kind(ChildNameWords::Part))
                    .col(word)
                    .primary_key(
                        Index::create()
                            .col(ChildNameWords::ChildId)
                            .col(ChildNameWords::Part)
                            .col(ChildNameWords::Word),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ChildNameWords::Table, ChildNameWords::ChildId)
                            .to(Children::Table, Children::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_child_name_words_word",
                ChildNameWords::Table,
                [ChildNameWords::Word, ChildNameWords::Part],
            ))
            .await?;
        key_existing(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ChildNameWords::Table).to_owned()).await?;
        manager.drop_index(Index::drop().name("idx_children_name_key").table(Children::Table).to_owned()).await?;
        manager.alter_table(Table::alter().table(Children::Table).drop_column(NameKey::NameKey).to_owned()).await
    }
}

/// Writes the key and words of every child already recorded.
async fn key_existing(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let select = Query::select()
        .columns([Children::Id, Children::FirstName, Children::LastName])
        .from(Children::Table)
        .to_owned();
    for row in db.query_all(&select).await? {
        let id: String = row.try_get("", "id")?;
        let first: String = row.try_get("", "first_name")?;
        let last: String = row.try_get("", "last_name")?;
        let update = Query::update()
            .table(Children::Table)
            .value(NameKey::NameKey, names::key(&first, &last))
            .and_where(Expr::col(Children::Id).eq(id.clone()))
            .to_owned();
        manager.exec_stmt(update).await?;
        let mut insert = Query::insert()
            .into_table(ChildNameWords::Table)
            .columns([ChildNameWords::ChildId, ChildNameWords::Part, ChildNameWords::Word])
            .to_owned();
        let mut any = false;
        for (part, name) in [("first", &first), ("last", &last)] {
            for w in names::words(name) {
                insert.values_panic([id.clone().into(), part.into(), w.into()]);
                any = true;
            }
        }
        if any {
            manager.exec_stmt(insert).await?;
        }
    }
    Ok(())
}

#[derive(DeriveIden)]
enum NameKey {
    NameKey,
}

#[derive(DeriveIden)]
pub enum ChildNameWords {
    Table,
    ChildId,
    Part,
    Word,
}
