//! Erasure: a child's record de-identified on request (UK GDPR, Article 17). What
//! identifies the child or the adults around them — names, date of birth (kept only as
//! the start of its school year), UPN, contact details, postcode, free text,
//! relationships, correction history, screening data, name words, answers kept for
//! retries — is removed; what the zone's figures and outcomes contracts rest on —
//! statuses and dates, attendance, assessments, claims and their evidence (ids and dates
//! only), the statistics' facts — stays, so that metrics and claims still reconcile. The
//! audit keeps the fact (`child.erase`), never the data. A child with a safeguarding
//! concern is under a legal hold and cannot be erased. Once erased, nothing more is
//! recorded about the child: any change to the record is refused when it is committed
//! (`access::refuse_changes`).
//!
//! [`RULES`] says what happens to each table of `subject_access::TABLES` (a unit test
//! fails when one has no rule). Who may erase is `access::may_erase`.

use crate::access;
use crate::audit::Audited;
use crate::auth::Actor;
use crate::domain::corrections::check_reason;
use crate::domain::subject_access::TABLES;
use crate::error::{Error, Result};
use crate::store::{child, safeguarding_concern};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, Set,
};

/// What erasure does to one table's rows of the child.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// The child's own row: identity removed (see [`erase`]).
    Identity,
    /// Rows deleted.
    Delete,
    /// These text columns replaced by [`ERASED`] where they hold anything.
    Blank(&'static [&'static str]),
    /// Kept as they are: nothing in them identifies anyone.
    Keep,
    /// Any row here is a legal hold: erasure is refused.
    Hold,
}

/// What an erased text reads.
pub const ERASED: &str = "[erased]";

/// Each table's rule, in the order they are applied (a row is deleted before the rows it
/// refers to).
pub const RULES: &[(&str, Rule)] = &[
    ("safeguarding_concerns", Rule::Hold),
    ("children", Rule::Identity),
    ("child_name_words", Rule::Delete),
    ("corrections", Rule::Delete),
    ("plan_participants", Rule::Delete),
    ("relationships", Rule::Delete),
    ("participation_agreements", Rule::Blank(&["agreed_by_name", "evidence"])),
    ("lawful_bases", Rule::Keep),
    ("consents", Rule::Blank(&["given_by_name", "evidence", "withdrawal_reason"])),
    ("consent_partners", Rule::Keep),
    ("enrolments", Rule::Keep),
    ("enrolment_transitions", Rule::Blank(&["note"])),
    ("handovers", Rule::Blank(&["note"])),
    ("referrals", Rule::Blank(&["needs", "reason"])),
    ("referral_transitions", Rule::Blank(&["note"])),
    // A session is the group's: its notes are not about one child.
    ("sessions", Rule::Keep),
    ("attendances", Rule::Keep),
    ("contacts", Rule::Blank(&["content"])),
    ("progress_notes", Rule::Blank(&["body"])),
    ("assessments", Rule::Keep),
    ("support_plans", Rule::Blank(&["informal_engagement", "formal_engagement", "developmental_support"])),
    ("plan_goals", Rule::Blank(&["description"])),
    ("plan_referrals", Rule::Keep),
    ("plan_reviews", Rule::Blank(&["changes"])),
    ("plan_review_goals", Rule::Blank(&["note"])),
    ("share_refusals", Rule::Keep),
    ("break_glasses", Rule::Blank(&["reason"])),
    ("screenings", Rule::Delete),
    ("claims", Rule::Keep),
    ("child_facts", Rule::Keep),
    ("referral_facts", Rule::Keep),
    ("outcome_facts", Rule::Keep),
    ("attendance_facts", Rule::Keep),
    ("idempotency_keys", Rule::Delete),
    ("audit_events", Rule::Keep),
];

/// What an erasure did.
#[derive(Clone, Debug)]
pub struct Erased {
    pub child_id: String,
    pub erased_at: DateTime<Utc>,
    /// Rows deleted or changed, over every table.
    pub rows_changed: u64,
}

/// The first day of the school year (1 September) of a date of birth: all that erasure
/// keeps of it, enough for the year group.
fn school_year_of_birth(born: NaiveDate) -> NaiveDate {
    let year = if born.month() >= 9 { born.year() } else { born.year() - 1 };
    NaiveDate::from_ymd_opt(year, 9, 1).unwrap_or(born)
}

/// Erases (de-identifies) a child's record, all or nothing, with a reason kept on the
/// record (no names in it, please). Backbone admins only; `CONFLICT` when already erased
/// or under a legal hold (a safeguarding concern).
pub async fn erase(db: &DatabaseConnection, actor: &Actor, child_id: &str, reason: &str) -> Result<Erased> {
    access::may_erase(actor)?;
    let reason = check_reason(reason)?;
    if uuid::Uuid::parse_str(child_id).is_err() {
        return Err(Error::NotFound("child"));
    }
    let mut tx = Audited::begin(db, actor).await?;
    let found = access::find_child(&*tx, actor, child_id).await?;
    if found.erased_at.is_some() {
        return Err(Error::conflict("this child's record is already erased"));
    }
    let held = safeguarding_concern::Entity::find()
        .filter(safeguarding_concern::Column::ChildId.eq(child_id))
        .count(&*tx)
        .await?;
    if held > 0 {
        return Err(Error::conflict(
            "this child's record is under a legal hold: it holds a safeguarding concern, which must be kept whatever is asked; \
             erase it once the hold ends",
        ));
    }
    let backend = db.get_database_backend();
    let mut rows_changed = 0;
    for (name, rule) in RULES {
        let table = TABLES.iter().find(|t| t.name == *name).ok_or_else(|| {
            Error::Internal(anyhow::anyhow!("erasure rule for {name}, which subject access does not list"))
        })?;
        let statement = match rule {
            Rule::Keep | Rule::Hold | Rule::Identity => continue,
            Rule::Delete => backend.build(
                &Query::delete().from_table(Alias::new(*name)).and_where(table.rows_of_child(child_id)).to_owned(),
            ),
            Rule::Blank(columns) => {
                let mut update = Query::update();
                update.table(Alias::new(*name)).and_where(table.rows_of_child(child_id));
                for column in *columns {
                    let c = Alias::new(*column);
                    // Kept empty where it was empty (NULL stays NULL).
                    update.value(
                        c.clone(),
                        Expr::case(Expr::col(c.clone()).is_null(), Expr::col(c)).finally(Expr::val(ERASED)),
                    );
                }
                backend.build(&update.to_owned())
            }
        };
        rows_changed += tx.execute_raw(statement).await?.rows_affected();
    }
    let at = Utc::now();
    let mut identity: child::ActiveModel = found.clone().into();
    identity.first_name = Set("Erased".into());
    identity.last_name = Set("record".into());
    identity.name_key = Set(String::new());
    identity.date_of_birth = Set(school_year_of_birth(found.date_of_birth));
    identity.upn = Set(None);
    identity.contact_phone = Set(None);
    identity.contact_email = Set(None);
    identity.postcode = Set(None);
    identity.erased_at = Set(Some(at));
    identity.erasure_reason = Set(Some(reason));
    identity.updated_at = Set(at);
    identity.update(&*tx).await?;
    rows_changed += 1;
    tx.record("child.erase", Some(child_id), &["identity", "free text", "relationships", "history"]);
    tx.commit().await?;
    Ok(Erased { child_id: child_id.to_owned(), erased_at: at, rows_changed })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_subject_access_lists_has_one_erasure_rule() {
        for t in TABLES {
            let rules = RULES.iter().filter(|(name, _)| *name == t.name).count();
            assert_eq!(rules, 1, "{}: {rules} erasure rules", t.name);
        }
        assert_eq!(RULES.len(), TABLES.len(), "a rule for a table subject access does not list");
    }

    #[test]
    fn a_date_of_birth_keeps_only_its_school_year() {
        let d = |s: &str| s.parse::<NaiveDate>().expect("date");
        assert_eq!(school_year_of_birth(d("2016-05-04")), d("2015-09-01"));
        assert_eq!(school_year_of_birth(d("2015-09-01")), d("2015-09-01"));
        assert_eq!(school_year_of_birth(d("2015-12-25")), d("2015-09-01"));
    }
}
