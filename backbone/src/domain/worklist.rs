//! The worklist: what needs the caller today, most urgent first. For a link worker, the
//! children on their caseload (an anchor lead: the anchor's children): support-plan
//! reviews due soon or overdue, referrals a partner has not answered, children not
//! contacted for a while, attendance dropping at a programme, consents and lawful bases
//! due for review; for an anchor lead, records of the anchor opened by break-glass and not
//! yet reviewed. For a partner's staff: referrals waiting for their answer, programmes
//! whose registers have not been logged. Thresholds are settings (`worklist.*`, and the
//! attendance rule `brokering.*`). Computed from the record on each request; who sees
//! which items is `access::worklist_scope`.

use crate::access::{self, WorklistScope};
use crate::auth::Actor;
use crate::domain::{EnrolmentStatus, Page, PageRequest, ReferralStatus, engagement};
use crate::error::{Error, Result};
use crate::settings::{BrokeringSettings, WorklistSettings};
use crate::store::{
    break_glass, consent, contact, enrolment, enrolment_transition, lawful_basis, plan_review, programme, referral,
    referral_transition, session,
};
use chrono::{Datelike, Months, NaiveDate, Weekday};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use std::collections::HashMap;

/// The thresholds a worklist is worked out with.
#[derive(Clone, Copy, Debug)]
pub struct Thresholds {
    pub worklist: WorklistSettings,
    pub attendance: BrokeringSettings,
}

/// What an item asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ItemKind {
    /// A support-plan review whose due day has passed.
    ReviewOverdue,
    /// A support-plan review due within `worklist.review_due_within_days`.
    ReviewDue,
    /// A referral sent to a partner and not answered for `worklist.unanswered_working_days`.
    ReferralUnanswered,
    /// A child taking part, not contacted for `worklist.no_contact_days`.
    NoRecentContact,
    /// A child's attendance at a programme below the brokering rule.
    AttendanceDropping,
    /// A child's consent due for review (`worklist.consent_review_months` after it was
    /// given), or past it.
    ConsentReview,
    /// A child's lawful basis due for review (as for consent, after it was recorded).
    LawfulBasisReview,
    /// (Anchor leads) a record of the anchor's opened by break-glass, not reviewed yet.
    RecordOpened,
    /// (Partners) a referral sent to the partner, waiting for its answer.
    ReferralAwaitingAnswer,
    /// (Partners) a programme with children on it and no register for
    /// `worklist.register_due_days`.
    RegisterDue,
}

/// One thing to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// The id of the record it is about (the review, the referral, the consent, the
    /// lawful basis, the programme, or for contact the child): stable while the item
    /// stands, unique in one worklist, the page cursor.
    pub key: String,
    pub kind: ItemKind,
    /// The child it is about (none for a programme's register).
    pub child_id: Option<String>,
    /// The referral it is about, for referral and attendance items.
    pub referral_id: Option<String>,
    /// The programme, for register items.
    pub programme_id: Option<String>,
    /// Since when it has stood (a review's due day; the day the referral was sent; the
    /// last contact or, without one, the enrolment; the last session attended; the last
    /// register or the first child placed).
    pub since: NaiveDate,
    /// Why, in words.
    pub why: String,
}

impl Item {
    fn about_child(kind: ItemKind, key: String, child_id: String, since: NaiveDate, why: String) -> Item {
        Item { key, kind, child_id: Some(child_id), referral_id: None, programme_id: None, since, why }
    }

    fn about_referral(kind: ItemKind, r: referral::Model, since: NaiveDate, why: String) -> Item {
        Item {
            key: r.id.clone(),
            kind,
            child_id: Some(r.child_id),
            referral_id: Some(r.id),
            programme_id: None,
            since,
            why,
        }
    }

    /// Lower is more urgent, before the days waited: what is overdue first, then what is
    /// waiting on someone, then what is coming up.
    fn rank(&self, today: NaiveDate) -> u8 {
        match self.kind {
            ItemKind::ReviewOverdue | ItemKind::RecordOpened => 0,
            ItemKind::ConsentReview | ItemKind::LawfulBasisReview if self.since < today => 0,
            ItemKind::ReferralUnanswered | ItemKind::ReferralAwaitingAnswer | ItemKind::RegisterDue => 1,
            ItemKind::AttendanceDropping => 2,
            ItemKind::NoRecentContact => 3,
            ItemKind::ReviewDue | ItemKind::ConsentReview | ItemKind::LawfulBasisReview => 4,
        }
    }
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

/// A day in words: `10 January 2026`.
fn day(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

/// "overdue by 3 days", "due today", "due in 5 days": a due day against today.
fn due_words(due: NaiveDate, today: NaiveDate) -> String {
    match (due - today).num_days() {
        0 => "due today".to_owned(),
        left if left > 0 => format!("due in {}", plural(left, "day")),
        late => format!("overdue by {}", plural(-late, "day")),
    }
}

/// The caller's worklist as of `today`, most urgent first, a page at a time.
pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    thresholds: Thresholds,
    today: NaiveDate,
    page: PageRequest,
) -> Result<Page<Item>> {
    let mut items = match access::worklist_scope(actor)? {
        WorklistScope::Caseload => caseload_items(db, actor, thresholds, today).await?,
        WorklistScope::Partner => partner_items(db, actor, thresholds.worklist, today).await?,
    };
    // Most urgent first: by rank, then longest standing, then by key (a stable order).
    items.sort_by(|a, b| (a.rank(today), a.since, &a.key).cmp(&(b.rank(today), b.since, &b.key)));
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

/// The day each referral (of `ids`) last moved to `status`.
async fn moved_on(
    db: &DatabaseConnection,
    ids: Vec<String>,
    status: ReferralStatus,
) -> Result<HashMap<String, NaiveDate>> {
    let mut out = HashMap::new();
    for t in referral_transition::Entity::find()
        .filter(referral_transition::Column::ReferralId.is_in(ids))
        .filter(referral_transition::Column::ToStatus.eq(status.as_str()))
        .order_by_asc(referral_transition::Column::EffectiveOn)
        .all(db)
        .await?
    {
        out.insert(t.referral_id, t.effective_on);
    }
    Ok(out)
}

/// The day each referral (of `ids`) was last sent.
async fn sent_on(db: &DatabaseConnection, ids: Vec<String>) -> Result<HashMap<String, NaiveDate>> {
    moved_on(db, ids, ReferralStatus::Sent).await
}

async fn caseload_items(db: &DatabaseConnection, actor: &Actor, t: Thresholds, today: NaiveDate) -> Result<Vec<Item>> {
    let settings = t.worklist;
    let mut items = Vec::new();
    let in_scope = access::own_record_child_ids(actor);

    let due_by = today + chrono::Duration::days(settings.review_due_within_days);
    for r in plan_review::Entity::find()
        .filter(plan_review::Column::ChildId.in_subquery(in_scope.clone()))
        .filter(plan_review::Column::ReviewedOn.is_null())
        .filter(plan_review::Column::DueOn.lte(due_by))
        .all(db)
        .await?
    {
        let kind = if r.due_on < today { ItemKind::ReviewOverdue } else { ItemKind::ReviewDue };
        let why = format!("support plan review {}", due_words(r.due_on, today));
        items.push(Item::about_child(kind, r.id, r.child_id, r.due_on, why));
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
            items.push(Item::about_referral(ItemKind::ReferralUnanswered, r, on, why));
        }
    }

    // Attendance dropping at a programme the child is placed on (the brokering rule).
    let placed: Vec<referral::Model> = referral::Entity::find()
        .filter(referral::Column::ChildId.in_subquery(in_scope.clone()))
        .filter(referral::Column::Status.is_in(ReferralStatus::spellings(ReferralStatus::PLACED)))
        .all(db)
        .await?;
    let placed_ids: Vec<String> = placed.iter().map(|r| r.id.clone()).collect();
    let attendance = engagement::by_referral(db, actor, &placed_ids).await?;
    let accepted = moved_on(db, placed_ids, ReferralStatus::Accepted).await?;
    for r in placed {
        let Some(a) = attendance.get(&r.id).copied().filter(|a| a.dropping(t.attendance)) else { continue };
        let Some(since) = a.last_attended.or_else(|| accepted.get(&r.id).copied()) else { continue };
        let why = format!(
            "attended {} of {} offered ({:.0}%), below {:.0}%",
            a.attended,
            plural(a.offered, "session"),
            a.rate().unwrap_or(0.0) * 100.0,
            t.attendance.attendance_alert_below * 100.0
        );
        items.push(Item::about_referral(ItemKind::AttendanceDropping, r, since, why));
    }

    // Children taking part (enrolled or active): contact, consent and lawful basis.
    let open = [EnrolmentStatus::Enrolled.as_str(), EnrolmentStatus::Active.as_str()];
    let enrolled: Vec<enrolment::Model> = enrolment::Entity::find()
        .filter(enrolment::Column::ChildId.in_subquery(in_scope))
        .filter(enrolment::Column::Status.is_in(open))
        .all(db)
        .await?;
    let child_ids: Vec<String> = enrolled.iter().map(|e| e.child_id.clone()).collect();
    let mut last_contact: HashMap<String, NaiveDate> = HashMap::new();
    for c in contact::Entity::find().filter(contact::Column::ChildId.is_in(child_ids.clone())).all(db).await? {
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
    for e in &enrolled {
        let (since, why) = match (last_contact.get(&e.child_id), enrolled_on.get(&e.id)) {
            (Some(&last), _) => (last, format!("no contact for {}", plural((today - last).num_days(), "day"))),
            (None, Some(&on)) => {
                (on, format!("no contact since enrolment, {} ago", plural((today - on).num_days(), "day")))
            }
            (None, None) => continue,
        };
        if (today - since).num_days() >= settings.no_contact_days {
            items.push(Item::about_child(
                ItemKind::NoRecentContact,
                e.child_id.clone(),
                e.child_id.clone(),
                since,
                why,
            ));
        }
    }
    items.extend(reviews_of_consent(db, &child_ids, settings, today).await?);
    if let Some(to_review) = access::break_glass_to_review(actor) {
        for o in break_glass::Entity::find().filter(to_review).all(db).await? {
            let why = format!(
                "record opened by break-glass on {} at {}, for: {}",
                day(o.opened_at.date_naive()),
                o.opened_at.format("%H:%M"),
                o.reason
            );
            items.push(Item::about_child(ItemKind::RecordOpened, o.id, o.child_id, o.opened_at.date_naive(), why));
        }
    }
    Ok(items)
}

/// The day a consent given (or a lawful basis recorded) on `from` is due for review.
fn review_day(from: NaiveDate, settings: WorklistSettings) -> NaiveDate {
    from.checked_add_months(Months::new(settings.consent_review_months)).unwrap_or(NaiveDate::MAX)
}

/// Consent and lawful-basis reviews due within the window, or past, for `child_ids`: each
/// child's latest consent still in force (given on) and latest lawful basis (recorded on).
async fn reviews_of_consent(
    db: &DatabaseConnection,
    child_ids: &[String],
    settings: WorklistSettings,
    today: NaiveDate,
) -> Result<Vec<Item>> {
    let due_by = today + chrono::Duration::days(settings.review_due_within_days);
    let mut consents: HashMap<String, consent::Model> = HashMap::new();
    for c in consent::Entity::find()
        .filter(consent::Column::ChildId.is_in(child_ids.to_vec()))
        .filter(consent::Column::WithdrawnOn.is_null())
        .order_by_asc(consent::Column::GivenOn)
        .all(db)
        .await?
    {
        consents.insert(c.child_id.clone(), c);
    }
    let mut bases: HashMap<String, lawful_basis::Model> = HashMap::new();
    for b in lawful_basis::Entity::find()
        .filter(lawful_basis::Column::ChildId.is_in(child_ids.to_vec()))
        .order_by_asc(lawful_basis::Column::RecordedAt)
        .all(db)
        .await?
    {
        bases.insert(b.child_id.clone(), b);
    }
    let mut items = Vec::new();
    for c in consents.into_values() {
        let due = review_day(c.given_on, settings);
        if due <= due_by {
            let why = format!("consent given {}: review {}", day(c.given_on), due_words(due, today));
            items.push(Item::about_child(ItemKind::ConsentReview, c.id, c.child_id, due, why));
        }
    }
    for b in bases.into_values() {
        let recorded = b.recorded_at.date_naive();
        let due = review_day(recorded, settings);
        if due <= due_by {
            let why = format!("lawful basis recorded {}: review {}", day(recorded), due_words(due, today));
            items.push(Item::about_child(ItemKind::LawfulBasisReview, b.id, b.child_id, due, why));
        }
    }
    Ok(items)
}

async fn partner_items(
    db: &DatabaseConnection,
    actor: &Actor,
    settings: WorklistSettings,
    today: NaiveDate,
) -> Result<Vec<Item>> {
    let live: Vec<referral::Model> = referral::Entity::find().filter(access::referral_condition(actor)).all(db).await?;
    let (waiting, placed): (Vec<referral::Model>, Vec<referral::Model>) =
        live.into_iter().partition(|r| r.status == ReferralStatus::Sent.as_str());
    let days = sent_on(db, waiting.iter().map(|r| r.id.clone()).collect()).await?;
    let mut items: Vec<Item> = waiting
        .into_iter()
        .filter_map(|r| {
            let on = *days.get(&r.id)?;
            let waited = working_days_between(on, today);
            let why = if waited == 0 {
                "referral sent today, waiting for your answer".to_owned()
            } else {
                format!("referral waiting {} for your answer", plural(waited, "working day"))
            };
            Some(Item::about_referral(ItemKind::ReferralAwaitingAnswer, r, on, why))
        })
        .collect();

    // Programmes with children placed on them: the last register, or the first placing.
    let accepted = moved_on(db, placed.iter().map(|r| r.id.clone()).collect(), ReferralStatus::Accepted).await?;
    let mut programmes: HashMap<String, (usize, Option<NaiveDate>)> = HashMap::new();
    for r in &placed {
        let entry = programmes.entry(r.programme_id.clone()).or_insert((0, None));
        entry.0 += 1;
        if let Some(&on) = accepted.get(&r.id) {
            entry.1 = Some(entry.1.map_or(on, |d: NaiveDate| d.min(on)));
        }
    }
    let mut last_register: HashMap<String, NaiveDate> = HashMap::new();
    for s in session::Entity::find()
        .filter(access::session_condition(actor))
        .filter(session::Column::ProgrammeId.is_in(programmes.keys().cloned()))
        .all(db)
        .await?
    {
        let d = last_register.entry(s.programme_id).or_insert(s.held_on);
        *d = (*d).max(s.held_on);
    }
    let names: HashMap<String, String> = programme::Entity::find()
        .filter(programme::Column::Id.is_in(programmes.keys().cloned()))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect();
    for (programme_id, (children, first_placed)) in programmes {
        let last = last_register.get(&programme_id).copied();
        let Some(since) = last.or(first_placed) else { continue };
        let waited = (today - since).num_days();
        if waited < settings.register_due_days {
            continue;
        }
        let name = names.get(&programme_id).map_or("a programme", String::as_str);
        let on_it = if children == 1 { "1 child".to_owned() } else { format!("{children} children") };
        let why = match last {
            Some(last) => format!("no register for {name} since {} ({on_it} on it)", day(last)),
            None => format!("no register yet for {name}, {on_it} on it since {}", day(since)),
        };
        items.push(Item {
            key: programme_id.clone(),
            kind: ItemKind::RegisterDue,
            child_id: None,
            referral_id: None,
            programme_id: Some(programme_id),
            since,
            why,
        });
    }
    Ok(items)
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
