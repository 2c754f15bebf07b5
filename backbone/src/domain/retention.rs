//! Retention: the zone's schedule (`seeds/retention/schedule.toml`, read and checked by
//! `backbone_seeds::retention`) applied to the record. [`due`] lists what the schedule
//! says must go as of a day, and why; [`apply`] does it: expired screening data of
//! pupils never enrolled is deleted, safeguarding concerns of children past the age the
//! schedule keeps them to are deleted, and closed cases past their period are erased
//! (`domain::erasure`: de-identified, their figures kept) unless under a legal hold.
//! Audit events past their period are deleted, the chain truncated under a signed
//! checkpoint (`audit::purge_before`), so that it stays verifiable. The service applies the schedule once a day ([`keep_applying`]); the day is a parameter,
//! so tests move the clock instead of waiting.

use crate::access;
use crate::audit::Audited;
use crate::auth::Actor;
use crate::domain::EnrolmentStatus;
use crate::error::Result;
use crate::store::{audit_event, child, enrolment, enrolment_transition, safeguarding_concern};
use backbone_seeds::retention::Schedule;
use chrono::{DateTime, Months, NaiveDate, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use std::collections::HashSet;

/// What is due.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DueKind {
    /// Expired screening rows of pupils never enrolled: deleted.
    ScreeningExpired,
    /// A child's safeguarding concerns, the child now past `keep_until_age`: deleted.
    SafeguardingConcerns,
    /// A child whose participation ended `erase_after_years` ago: erased.
    ClosedCase,
    /// A closed case past its period, kept under a legal hold (a safeguarding concern).
    ClosedCaseHeld,
    /// Audit events past `keep_years`: deleted under a signed checkpoint.
    AuditEvents,
}

/// One thing the schedule says must go (or is kept, and why).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Due {
    pub kind: DueKind,
    pub child_id: Option<String>,
    /// How many rows.
    pub count: u64,
    pub why: String,
}

fn years_before(today: NaiveDate, years: u32) -> NaiveDate {
    today.checked_sub_months(Months::new(years.saturating_mul(12))).unwrap_or(NaiveDate::MIN)
}

/// Children with a safeguarding concern, and of those the ones past `keep_until_age`.
async fn concerns(
    db: &DatabaseConnection,
    schedule: &Schedule,
    today: NaiveDate,
) -> Result<(HashSet<String>, Vec<Due>)> {
    let held: Vec<safeguarding_concern::Model> = safeguarding_concern::Entity::find().all(db).await?;
    let with_concern: HashSet<String> = held.iter().map(|c| c.child_id.clone()).collect();
    let born_by = years_before(today, schedule.safeguarding.keep_until_age);
    let grown: Vec<child::Model> = child::Entity::find()
        .filter(child::Column::Id.is_in(with_concern.iter().cloned()))
        .filter(child::Column::DateOfBirth.lte(born_by))
        .all(db)
        .await?;
    let age = schedule.safeguarding.keep_until_age;
    let due = grown
        .into_iter()
        .map(|c| {
            let count = held.iter().filter(|h| h.child_id == c.id).count() as u64;
            Due {
                kind: DueKind::SafeguardingConcerns,
                count,
                why: format!(
                    "the child turned {age} on or before {}: concerns are kept until then",
                    today.format("%-d %B %Y")
                ),
                child_id: Some(c.id),
            }
        })
        .collect();
    Ok((with_concern, due))
}

/// What the schedule says must go as of `asked_for` (a day to plan for, today by
/// default), for the backbone's admins; nothing is changed.
pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    schedule: &Schedule,
    asked_for: NaiveDate,
) -> Result<Vec<Due>> {
    access::require_backbone_admin(actor, "see what the retention schedule makes due")?;
    let now = Utc::now();
    let at = if asked_for == now.date_naive() {
        now
    } else {
        asked_for.and_hms_opt(23, 59, 59).map_or(now, |t| t.and_utc())
    };
    due(db, schedule, asked_for, at).await
}

/// What the schedule says must go as of `today` (`now` for timestamps), and why.
pub async fn due(
    db: &DatabaseConnection,
    schedule: &Schedule,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Vec<Due>> {
    let mut out = Vec::new();
    if schedule.screening.delete_when_expired {
        let expired = crate::domain::screening::expired(db, now).await?;
        if expired > 0 {
            out.push(Due {
                kind: DueKind::ScreeningExpired,
                child_id: None,
                count: expired,
                why: "screening data of pupils never enrolled, past its expiry".to_owned(),
            });
        }
    }
    let (with_concern, grown) = concerns(db, schedule, today).await?;
    let lifted: HashSet<String> = grown.iter().filter_map(|d| d.child_id.clone()).collect();
    out.extend(grown);

    let years = schedule.closed_cases.erase_after_years;
    let ended_by = years_before(today, years);
    let closed = [EnrolmentStatus::Completed.as_str(), EnrolmentStatus::Exited.as_str()];
    let enrolments: Vec<enrolment::Model> =
        enrolment::Entity::find().filter(enrolment::Column::Status.is_in(closed)).all(db).await?;
    let not_erased: HashSet<String> = child::Entity::find()
        .filter(child::Column::Id.is_in(enrolments.iter().map(|e| e.child_id.clone())))
        .filter(child::Column::ErasedAt.is_null())
        .all(db)
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    for e in enrolments.into_iter().filter(|e| not_erased.contains(&e.child_id)) {
        let ended = enrolment_transition::Entity::find()
            .filter(enrolment_transition::Column::EnrolmentId.eq(e.id.clone()))
            .filter(enrolment_transition::Column::ToStatus.eq(e.status.clone()))
            .all(db)
            .await?
            .into_iter()
            .map(|t| t.effective_on)
            .max();
        let Some(ended) = ended.filter(|d| *d <= ended_by) else { continue };
        let ended_words = ended.format("%-d %B %Y");
        let held = with_concern.contains(&e.child_id) && !lifted.contains(&e.child_id);
        out.push(if held {
            Due {
                kind: DueKind::ClosedCaseHeld,
                child_id: Some(e.child_id),
                count: 1,
                why: format!("participation ended on {ended_words}, over {years} years ago; kept: a safeguarding concern is a legal hold"),
            }
        } else {
            Due {
                kind: DueKind::ClosedCase,
                child_id: Some(e.child_id),
                count: 1,
                why: format!("participation ended on {ended_words}, over {years} years ago: the record is erased"),
            }
        });
    }

    let keep = schedule.audit.keep_years;
    let cutoff = audit_cutoff(schedule, now);
    let old = audit_event::Entity::find().filter(audit_event::Column::At.lt(cutoff)).count(db).await?;
    if old > 0 {
        out.push(Due {
            kind: DueKind::AuditEvents,
            child_id: None,
            count: old,
            why: format!("audit events older than {keep} years: deleted, the chain going on from a signed checkpoint"),
        });
    }
    Ok(out)
}

/// The oldest moment an audit event is kept from.
fn audit_cutoff(schedule: &Schedule, now: DateTime<Utc>) -> DateTime<Utc> {
    now.checked_sub_months(Months::new(schedule.audit.keep_years.saturating_mul(12)))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Applies the schedule as of `today`: does what [`due`] lists (safeguarding concerns
/// first, so that a lifted hold lets its closed case be erased) and answers it. Backbone
/// admins and the system.
pub async fn apply(
    db: &DatabaseConnection,
    actor: &Actor,
    schedule: &Schedule,
    today: NaiveDate,
    now: DateTime<Utc>,
    audit: &crate::audit::Trust,
) -> Result<Vec<Due>> {
    access::require_backbone_admin(actor, "apply the retention schedule")?;
    let due = due(db, schedule, today, now).await?;
    for d in &due {
        match (d.kind, &d.child_id) {
            (DueKind::ScreeningExpired, _) => {
                crate::domain::screening::purge(db, actor, now).await?;
            }
            (DueKind::SafeguardingConcerns, Some(child_id)) => {
                let mut tx = Audited::begin(db, actor).await?;
                safeguarding_concern::Entity::delete_many()
                    .filter(safeguarding_concern::Column::ChildId.eq(child_id.clone()))
                    .exec(&*tx)
                    .await?;
                tx.record("safeguarding.purge", Some(child_id), &["safeguardingConcerns"]);
                tx.commit().await?;
            }
            (DueKind::ClosedCase, Some(child_id)) => {
                crate::domain::erasure::erase(db, actor, child_id, &format!("Retention schedule: {}", d.why)).await?;
            }
            (DueKind::AuditEvents, _) => {
                crate::audit::purge_before(db, audit, audit_cutoff(schedule, now)).await?;
            }
            _ => {}
        }
    }
    Ok(due)
}

/// Applies the schedule every `every` (a day), logging what it did.
pub async fn keep_applying(
    db: DatabaseConnection,
    schedule: Schedule,
    audit: crate::audit::Trust,
    every: std::time::Duration,
) {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        ticks.tick().await;
        let now = Utc::now();
        match apply(&db, &Actor::system(), &schedule, now.date_naive(), now, &audit).await {
            Ok(done) => {
                for d in done {
                    tracing::info!(kind = ?d.kind, rows = d.count, why = %d.why, "retention schedule applied");
                }
            }
            Err(e) => tracing::error!(error = %e, "applying the retention schedule failed"),
        }
    }
}
