//! Database migrations for backbone, written once with the SeaQuery builder so that the
//! same files serve SQLite and PostgreSQL.
//!
//! Rules (see `docs/architecture.md`): one change per file; no entity imports; no seed
//! data; a migration is never edited once it has been applied anywhere: add a new one.
//! Identifiers are UUIDv7 strings (`TEXT`), enumerations are short strings validated by
//! the service, timestamps are UTC.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_create_organisations;
mod m20261123_000002_create_users;
mod m20261123_000003_create_memberships;
mod m20261123_000004_create_auth_tokens;
mod m20261123_000005_create_children;
mod m20261123_000006_create_relationships;
mod m20261123_000007_create_participation_agreements;
mod m20261123_000008_create_lawful_bases;
mod m20261123_000009_create_consents;
mod m20261123_000010_create_consent_partners;
mod m20261123_000011_create_enrolments;
mod m20261123_000012_create_enrolment_transitions;
mod m20261123_000013_create_audit_events;
mod m20261123_000014_create_audit_head;
mod m20261123_000015_create_programmes;
mod m20261123_000016_create_referrals;
mod m20261123_000017_create_referral_transitions;
mod m20261123_000018_create_sessions;
mod m20261123_000019_create_attendances;
mod m20261123_000020_create_contacts;
mod m20261123_000021_create_progress_notes;
mod m20261123_000022_create_safeguarding_concerns;
mod m20261123_000023_create_handovers;
mod m20261123_000024_create_framework_versions;
mod m20261123_000025_create_assessments;
mod m20261123_000026_create_screenings;
mod m20261123_000027_create_support_plans;
mod m20261123_000028_create_plan_participants;
mod m20261123_000029_create_plan_referrals;
mod m20261123_000030_create_plan_goals;
mod m20261123_000031_create_plan_reviews;
mod m20261123_000032_create_plan_review_goals;
mod m20261123_000033_create_metric_summaries;
mod m20261123_000040_create_contracts;
mod m20261123_000041_create_contract_payers;
mod m20261123_000042_create_contract_anchors;
mod m20261123_000043_create_claims;
mod m20261202_000010_create_login_throttle;
mod m20261202_000020_create_idempotency_keys;
mod m20261202_000030_create_protected_metrics;
mod m20261202_000040_audit_key;
mod m20261202_000050_add_programme_starts_on;
mod m20261202_000070_add_enrolment_transition_effective_on;
mod m20261202_000071_add_referral_transition_effective_on;
mod m20261202_000100_create_corrections;
mod m20261203_000010_create_child_name_words;
mod m20261203_000020_add_child_erasure;
mod m20261203_000030_create_share_refusals;
mod m20261203_000040_create_break_glasses;
mod m20261203_000050_add_token_kind;
mod m20261203_000060_audit_events_chained_later;
mod m20261203_000070_create_request_rates;
pub mod names;

/// Every migration, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_create_organisations::Migration),
            Box::new(m20261123_000002_create_users::Migration),
            Box::new(m20261123_000003_create_memberships::Migration),
            Box::new(m20261123_000004_create_auth_tokens::Migration),
            Box::new(m20261123_000005_create_children::Migration),
            Box::new(m20261123_000006_create_relationships::Migration),
            Box::new(m20261123_000007_create_participation_agreements::Migration),
            Box::new(m20261123_000008_create_lawful_bases::Migration),
            Box::new(m20261123_000009_create_consents::Migration),
            Box::new(m20261123_000010_create_consent_partners::Migration),
            Box::new(m20261123_000011_create_enrolments::Migration),
            Box::new(m20261123_000012_create_enrolment_transitions::Migration),
            Box::new(m20261123_000013_create_audit_events::Migration),
            Box::new(m20261123_000014_create_audit_head::Migration),
            Box::new(m20261123_000015_create_programmes::Migration),
            Box::new(m20261123_000016_create_referrals::Migration),
            Box::new(m20261123_000017_create_referral_transitions::Migration),
            Box::new(m20261123_000018_create_sessions::Migration),
            Box::new(m20261123_000019_create_attendances::Migration),
            Box::new(m20261123_000020_create_contacts::Migration),
            Box::new(m20261123_000021_create_progress_notes::Migration),
            Box::new(m20261123_000022_create_safeguarding_concerns::Migration),
            Box::new(m20261123_000023_create_handovers::Migration),
            Box::new(m20261123_000024_create_framework_versions::Migration),
            Box::new(m20261123_000025_create_assessments::Migration),
            Box::new(m20261123_000026_create_screenings::Migration),
            Box::new(m20261123_000027_create_support_plans::Migration),
            Box::new(m20261123_000028_create_plan_participants::Migration),
            Box::new(m20261123_000029_create_plan_referrals::Migration),
            Box::new(m20261123_000030_create_plan_goals::Migration),
            Box::new(m20261123_000031_create_plan_reviews::Migration),
            Box::new(m20261123_000032_create_plan_review_goals::Migration),
            Box::new(m20261123_000033_create_metric_summaries::Migration),
            Box::new(m20261123_000040_create_contracts::Migration),
            Box::new(m20261123_000041_create_contract_payers::Migration),
            Box::new(m20261123_000042_create_contract_anchors::Migration),
            Box::new(m20261123_000043_create_claims::Migration),
            Box::new(m20261202_000010_create_login_throttle::Migration),
            Box::new(m20261202_000020_create_idempotency_keys::Migration),
            Box::new(m20261202_000030_create_protected_metrics::Migration),
            Box::new(m20261202_000040_audit_key::Migration),
            Box::new(m20261202_000050_add_programme_starts_on::Migration),
            Box::new(m20261202_000070_add_enrolment_transition_effective_on::Migration),
            Box::new(m20261202_000071_add_referral_transition_effective_on::Migration),
            Box::new(m20261202_000100_create_corrections::Migration),
            Box::new(m20261203_000010_create_child_name_words::Migration),
            Box::new(m20261203_000020_add_child_erasure::Migration),
            Box::new(m20261203_000030_create_share_refusals::Migration),
            Box::new(m20261203_000040_create_break_glasses::Migration),
            Box::new(m20261203_000050_add_token_kind::Migration),
            Box::new(m20261203_000060_audit_events_chained_later::Migration),
            Box::new(m20261203_000070_create_request_rates::Migration),
        ]
    }
}

/// Adds `effective_on` (the day a step happened) to a table of steps with an `at` (when it
/// was recorded), and dates the steps already there by the day they were recorded (UTC).
/// The default exists only so that the column can be added to a table with rows; the
/// service always writes the date.
pub(crate) async fn add_effective_on<T: IntoIden + Clone + 'static>(
    manager: &SchemaManager<'_>,
    table: T,
) -> Result<(), DbErr> {
    let effective_on = Alias::new("effective_on");
    manager
        .alter_table(
            Table::alter()
                .table(table.clone())
                .add_column(ColumnDef::new(effective_on.clone()).date().not_null().default("2000-01-01"))
                .to_owned(),
        )
        .await?;
    let day_of_at = match manager.get_database_backend() {
        sea_orm_migration::sea_orm::DbBackend::Postgres => "CAST(at AT TIME ZONE 'UTC' AS DATE)",
        // Timestamps are stored as RFC 3339 text in UTC: the date is its first ten characters.
        _ => "SUBSTR(at, 1, 10)",
    };
    manager.exec_stmt(Query::update().table(table).value(effective_on, Expr::cust(day_of_at)).to_owned()).await
}

/// Undoes [`add_effective_on`].
pub(crate) async fn drop_effective_on<T: IntoIden + 'static>(
    manager: &SchemaManager<'_>,
    table: T,
) -> Result<(), DbErr> {
    manager.alter_table(Table::alter().table(table).drop_column(Alias::new("effective_on")).to_owned()).await
}

/// A UUIDv7 primary key, stored as text so both engines agree on its form.
pub(crate) fn id_pk<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name).string_len(36).not_null().primary_key().take()
}

/// A UUIDv7 reference, stored as text.
pub(crate) fn id_ref<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name).string_len(36).not_null().take()
}

/// An optional UUIDv7 reference.
pub(crate) fn id_ref_null<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name).string_len(36).null().take()
}

/// A UTC timestamp.
pub(crate) fn at<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name).timestamp_with_time_zone().not_null().take()
}

/// An optional UTC timestamp.
pub(crate) fn at_null<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name).timestamp_with_time_zone().null().take()
}

/// A short enumeration value, validated by the service.
pub(crate) fn kind<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name).string_len(40).not_null().take()
}

/// A (non-unique) index over `cols`; call `.unique()` on it for a unique one.
pub(crate) fn index<T, C, I>(name: &str, table: T, cols: I) -> IndexCreateStatement
where
    T: IntoIden,
    C: IntoIden,
    I: IntoIterator<Item = C>,
{
    let mut idx = Index::create().name(name).table(table).to_owned();
    for c in cols {
        idx.col(c);
    }
    idx
}
