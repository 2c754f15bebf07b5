use crate::m20261123_000001_create_organisations::Organisations;
use crate::{at, id_pk, id_ref};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Children::Table)
                    .col(id_pk(Children::Id))
                    .col(string_len(Children::FirstName, 100))
                    .col(string_len(Children::LastName, 100))
                    .col(date(Children::DateOfBirth))
                    .col(id_ref(Children::AnchorId))
                    .col(small_integer(Children::YearGroup))
                    .col(string_len_null(Children::Upn, 13).unique_key())
                    .col(string_len_null(Children::ContactPhone, 20))
                    .col(string_len_null(Children::ContactEmail, 254))
                    .col(string_len_null(Children::Postcode, 8))
                    .col(boolean(Children::FreeSchoolMeals).default(false))
                    .col(boolean(Children::Send).default(false))
                    .col(boolean(Children::Eal).default(false))
                    .col(boolean(Children::LookedAfter).default(false))
                    .col(at(Children::CreatedAt))
                    .col(at(Children::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Children::Table, Children::AnchorId)
                            .to(Organisations::Table, Organisations::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_children_anchor")
                    .table(Children::Table)
                    .col(Children::AnchorId)
                    .col(Children::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Children::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum Children {
    Table,
    Id,
    FirstName,
    LastName,
    DateOfBirth,
    AnchorId,
    YearGroup,
    Upn,
    ContactPhone,
    ContactEmail,
    Postcode,
    FreeSchoolMeals,
    Send,
    Eal,
    LookedAfter,
    CreatedAt,
    UpdatedAt,
}
