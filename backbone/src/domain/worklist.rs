//! The worklist: what needs the caller today, most urgent first. For a link worker, the
//! children on their caseload (an anchor lead: the anchor's children): support-plan
//! reviews due soon or overdue, referrals a partner has not answered, children not
//! contacted for a while. For a partner's staff: referrals waiting for their answer.
//! Thresholds are settings (`worklist.*`). Computed from the record on each request; who
//! sees which items is `access::worklist_scope`.

use crate::access::{self, WorklistScope};
use crate::auth::Actor;
use crate::domain::{EnrolmentStatus, Page, PageRequest, ReferralStatus};
use crate::error::{Error, Result};
use crate::settings::WorklistSettings;
use crate::store::{contact, enrolment, enrolment_transition, plan_review, referral, referral_transition};
use chrono::{Datelike, NaiveDate, Weekday};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use std::collections::HashMap;

/// What an item asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ItemKind {
    /// A support-plan review whose due day has passed.
    ReviewOverdue,
    /// A support-plan review due within `worklist.review_due_within_days`.
    ReviewDue,
    /// A referral sent to a partner and not answered for `worklist.unanswered_working_days`.
    ReferralUnanswered,
    /// A child on the caseload not contacted for `worklist.no_contact_days`.
    NoRecentContact,
    /// (Partners) a referral sent to the partner, waiting for its answer.
    ReferralAwaitingAnswer,
}

impl ItemKind {
    /// Lower is more urgent, before the days waited: overdue work first.
    fn rank(self) -> u8 {
        match self {
            ItemKind::ReviewOverdue => 0,
            ItemKind::ReferralUnanswered | ItemKind::ReferralAwaitingAnswer => 1,
            ItemKind::NoRecentContact => 2,
            ItemKind::ReviewDue => 3,
        }
    }
}

/// One thing to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// The id of the record it is about (the review, the referral, or for contact the
    /// child): stable while the item stands, unique in one worklist, the page cursor.
    pub key: String,
    pub kind: ItemKind,
    pub child_id: String,
    /// The referral it is about, for referral items.
    pub referral_id: Option<String>,
    /// Since when it has stood (the review's due day, the day the referral was sent, the
    /// last contact or, without one, the enrolment).
    pub since: NaiveDate,
    /// Why, in words.
    pub why: String,
}

/// Weekdays after `from` up to and including `to` (0 when `to` is not after `from`).
pub fn working_days_between(from: NaiveDate, to: NaiveDate) -> i64 {
    from.iter_days()
        .skip(1)
        .take_while(|d| *d <= to)
        .filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
        .count() as i64
}

fn plural(n: i64, one: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{n} {one}s") }
}

/// The caller's worklist as of `today`, most urgent first, a page at a time.
pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    settings: WorklistSettings,
    today: NaiveDate,
    page: PageRequest,
) -> Result<Page<Item>> {
    let mut items = match access::worklist_scope(actor)? {
        WorklistScope::Caseload => caseload_items(db, actor, settings, today).await?,
        WorklistScope::Partner => partner_items(db, actor, today).await?,
    };
    // Most urgent first: by kind, then longest standing, then by key (a stable order).
    items.sort_by(|a, b| (a.kind.rank(), a.since, &a.key).cmp(&(b.kind.rank(), b.since, &b.key)));
    let start = match &page.after {
        None => 0,
        Some(after) => items.iter().position(|i| &i.key == after).map(|p| p + 1).ok_or_else(|| {
            Error::invalid("after", "is not an item of your worklist now: start again from the first page")
        })?,
    };
    let first = usize::try_from(page.first).unwrap_or(usize::MAX);
    let has_next_page = items.len() > start.saturating_add(first);
    Ok(Page { items: items.into_iter().skip(start).take(first).collect(), has_next_page })
}

/// The day each referral (of `ids`) was last sent.
async fn sent_on(db: &DatabaseConnection, ids: Vec<String>) -> Result<HashMap<String, NaiveDate>> {
    let mut out = HashMap::new();
    for t in referral_transition::Entity::find()
        .filter(referral_transition::Column::ReferralId.is_in(ids))
        .filter(referral_transition::Column::ToStatus.eq(ReferralStatus::Sent.as_str()))
        .order_by_asc(referral_transition::Column::EffectiveOn)
        .all(db)
        .await?
    {
        out.insert(t.referral_id, t.effective_on);
    }
    Ok(out)
}

async fn caseload_items(
    db: &DatabaseConnection,
    actor: &Actor,
    settings: WorklistSettings,
    today: NaiveDate,
) -> Result<Vec<Item>> {
    let mut items = Vec::new();
    let in_scope = access::record_child_ids(actor);

    let due_by = today + chrono::Duration::days(settings.review_due_within_days);
    for r in plan_review::Entity::find()
        .filter(plan_review::Column::ChildId.in_subquery(in_scope.clone()))
        .filter(plan_review::Column::ReviewedOn.is_null())
        .filter(plan_review::Column::DueOn.lte(due_by))
        .all(db)
        .await?
    {
        let (kind, why) = if r.due_on < today {
            let late = (today - r.due_on).num_days();
            (ItemKind::ReviewOverdue, format!("support plan review overdue by {}", plural(late, "day")))
        } else {
            let left = (r.due_on - today).num_days();
            (
                ItemKind::ReviewDue,
                if left == 0 {
                    "support plan review due today".into()
                } else {
                    format!("support plan review due in {}", plural(left, "day"))
                },
            )
        };
        items.push(Item { key: r.id.clone(), kind, child_id: r.child_id, referral_id: None, since: r.due_on, why });
    }

    let sent: Vec<referral::Model> = referral::Entity::find()
        .filter(referral::Column::ChildId.in_subquery(in_scope.clone()))
        .filter(referral::Column::Status.eq(ReferralStatus::Sent.as_str()))
        .all(db)
        .await?;
    let days = sent_on(db, sent.iter().map(|r| r.id.clone()).collect()).await?;
    for r in sent {
        let Some(&on) = days.get(&r.id) else { continue };
        let waited = working_days_between(on, today);
        if waited >= settings.unanswered_working_days {
            let why = format!("referral sent {} ago and not yet answered", plural(waited, "working day"));
            let key = r.id.clone();
            items.push(Item {
                key,
                kind: ItemKind::ReferralUnanswered,
                child_id: r.child_id,
                referral_id: Some(r.id),
                since: on,
                why,
            });
        }
    }

    // Children taking part (enrolled or active) and not contacted lately.
    let open = [EnrolmentStatus::Enrolled.as_str(), EnrolmentStatus::Active.as_str()];
    let enrolled: Vec<enrolment::Model> = enrolment::Entity::find()
        .filter(enrolment::Column::ChildId.in_subquery(in_scope))
        .filter(enrolment::Column::Status.is_in(open))
        .all(db)
        .await?;
    let child_ids: Vec<String> = enrolled.iter().map(|e| e.child_id.clone()).collect();
    let mut last_contact: HashMap<String, NaiveDate> = HashMap::new();
    for c in contact::Entity::find().filter(contact::Column::ChildId.is_in(child_ids)).all(db).await? {
        let day = last_contact.entry(c.child_id).or_insert(c.held_on);
        *day = (*day).max(c.held_on);
    }
    let mut enrolled_on: HashMap<String, NaiveDate> = HashMap::new();
    for t in enrolment_transition::Entity::find()
        .filter(enrolment_transition::Column::EnrolmentId.is_in(enrolled.iter().map(|e| e.id.clone())))
        .filter(enrolment_transition::Column::ToStatus.eq(EnrolmentStatus::Enrolled.as_str()))
        .all(db)
        .await?
    {
        enrolled_on.insert(t.enrolment_id, t.effective_on);
    }
    for e in enrolled {
        let (since, why) = match (last_contact.get(&e.child_id), enrolled_on.get(&e.id)) {
            (Some(&last), _) => (last, format!("no contact for {}", plural((today - last).num_days(), "day"))),
            (None, Some(&on)) => {
                (on, format!("no contact since enrolment, {} ago", plural((today - on).num_days(), "day")))
            }
            (None, None) => continue,
        };
        if (today - since).num_days() >= settings.no_contact_days {
            let key = e.child_id.clone();
            items.push(Item {
                key,
                kind: ItemKind::NoRecentContact,
                child_id: e.child_id,
                referral_id: None,
                since,
                why,
            });
        }
    }
    Ok(items)
}

async fn partner_items(db: &DatabaseConnection, actor: &Actor, today: NaiveDate) -> Result<Vec<Item>> {
    let waiting: Vec<referral::Model> = referral::Entity::find()
        .filter(access::referral_condition(actor))
        .filter(referral::Column::Status.eq(ReferralStatus::Sent.as_str()))
        .all(db)
        .await?;
    let days = sent_on(db, waiting.iter().map(|r| r.id.clone()).collect()).await?;
    Ok(waiting
        .into_iter()
        .filter_map(|r| {
            let on = *days.get(&r.id)?;
            let waited = working_days_between(on, today);
            let why = if waited == 0 {
                "referral sent today, waiting for your answer".to_owned()
            } else {
                format!("referral waiting {} for your answer", plural(waited, "working day"))
            };
            let key = r.id.clone();
            Some(Item {
                key,
                kind: ItemKind::ReferralAwaitingAnswer,
                child_id: r.child_id,
                referral_id: Some(r.id),
                since: on,
                why,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    #[test]
    fn working_days_skip_weekends() {
        // Friday 4 December 2026 to Monday 7 December: one working day.
        assert_eq!(working_days_between(d("2026-12-04"), d("2026-12-07")), 1);
        assert_eq!(working_days_between(d("2026-12-04"), d("2026-12-04")), 0);
        assert_eq!(working_days_between(d("2026-12-07"), d("2026-12-04")), 0);
        // Two full weeks: ten working days.
        assert_eq!(working_days_between(d("2026-11-20"), d("2026-12-04")), 10);
    }
}
