//! Individual support plans: one per child, in four parts — informal engagement, formal
//! engagement, developmental support (each in words), and specialist support from
//! partners (the child's referrals the plan links) — with goals per outcome area agreed
//! with the child and the adults around them (who took part is recorded), each aiming at
//! a level of the common scale, and a review each term.
//!
//! Agreeing a plan schedules its first review for the end of the term it was agreed in
//! (or of the next term, when fewer than [`MIN_DAYS_BEFORE_FIRST_REVIEW`] days are left);
//! recording a review completes the pending one — every open goal met or not, what
//! changes — and schedules the next for the end of the following term, unless the child
//! has completed or left the programme. The term arithmetic is [`Term`] (pure,
//! unit-tested). A pending review is assigned to the child's link worker and moves with
//! the child on handover (`casework::hand_over`).
//!
//! Who may: `access::may_write_plan` (write) and `access::record_child_ids` (read).

use crate::access;
use crate::audit::{Audited, now};
use crate::auth::Actor;
use crate::domain::validate::Problems;
use crate::domain::{EnrolmentStatus, ReferralStatus, enrolment, outcomes, validate};
use crate::error::{Error, Result};
use crate::store::bundle::{Read, Reader};
use crate::store::{
    plan_goal, plan_participant, plan_referral, plan_review, plan_review_goal, referral, relationship, support_plan,
};
use backbone_seeds::framework::Framework;
use chrono::{Datelike, NaiveDate};
use sea_orm::sea_query::{Expr, Query, SelectStatement};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
};
use std::collections::{HashMap, HashSet};

// ---------------------------------------------------------------------------------------
// Terms
// ---------------------------------------------------------------------------------------

/// A plan agreed with fewer days than this left in the term is first reviewed at the end
/// of the next term.
pub const MIN_DAYS_BEFORE_FIRST_REVIEW: i64 = 28;

/// The three school terms, as the partnership counts them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TermName {
    /// 1 September – 31 December.
    Autumn,
    /// 1 January – 31 March.
    Spring,
    /// 1 April – 31 August.
    Summer,
}

/// One term of one year: the span reviews are counted in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Term {
    pub name: TermName,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    // Only out of range beyond chrono's last representable year.
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or(NaiveDate::MAX)
}

impl Term {
    /// The term of `year` called `name`.
    pub(crate) fn of(name: TermName, year: i32) -> Term {
        let (start, end) = match name {
            TermName::Autumn => ((9, 1), (12, 31)),
            TermName::Spring => ((1, 1), (3, 31)),
            TermName::Summer => ((4, 1), (8, 31)),
        };
        Term { name, starts_on: ymd(year, start.0, start.1), ends_on: ymd(year, end.0, end.1) }
    }

    /// The term a date falls in (every date falls in exactly one).
    pub fn containing(date: NaiveDate) -> Term {
        let name = match date.month() {
            1..=3 => TermName::Spring,
            4..=8 => TermName::Summer,
            _ => TermName::Autumn,
        };
        Term::of(name, date.year())
    }

    /// The term after this one.
    pub fn next(self) -> Term {
        let year = self.starts_on.year();
        match self.name {
            TermName::Autumn => Term::of(TermName::Spring, year + 1),
            TermName::Spring => Term::of(TermName::Summer, year),
            TermName::Summer => Term::of(TermName::Autumn, year),
        }
    }

    /// When the first review of a plan agreed on `agreed_on` is due: the end of its term,
    /// or of the next term when fewer than [`MIN_DAYS_BEFORE_FIRST_REVIEW`] days remain
    /// after `agreed_on`.
    pub fn first_review_due(agreed_on: NaiveDate) -> NaiveDate {
        let term = Term::containing(agreed_on);
        if (term.ends_on - agreed_on).num_days() < MIN_DAYS_BEFORE_FIRST_REVIEW {
            term.next().ends_on
        } else {
            term.ends_on
        }
    }

    /// When the review after one held on `reviewed_on` is due: the end of the following
    /// term.
    pub fn next_review_due(reviewed_on: NaiveDate) -> NaiveDate {
        Term::containing(reviewed_on).next().ends_on
    }
}

// ---------------------------------------------------------------------------------------
// Inputs and their validation
// ---------------------------------------------------------------------------------------

/// A goal as agreed: an outcome area of the live framework, what the goal is, and the
/// level of the common scale it aims at.
#[derive(Debug, Clone)]
pub struct NewGoal {
    pub area: String,
    pub description: String,
    pub target_level: i32,
}

/// A plan as agreed with the child and family.
#[derive(Debug, Clone)]
pub struct NewPlan {
    pub child_id: String,
    pub agreed_on: String,
    pub informal_engagement: Option<String>,
    pub formal_engagement: Option<String>,
    pub developmental_support: Option<String>,
    /// Specialist support from partners: the child's referrals.
    pub referral_ids: Vec<String>,
    pub child_took_part: bool,
    /// The child's relationships (parents, carers, trusted adults) who took part.
    pub participant_relationship_ids: Vec<String>,
    pub goals: Vec<NewGoal>,
}

/// What a review found for one open goal.
#[derive(Debug, Clone)]
pub struct GoalOutcome {
    pub goal_id: String,
    pub met: bool,
    pub note: Option<String>,
}

/// A termly review. The optional parts, when given (`Some`), replace the plan's: `Some(None)`
/// clears a part in words, a list replaces the links.
#[derive(Debug, Clone, Default)]
pub struct NewReview {
    pub child_id: String,
    pub reviewed_on: String,
    pub goals: Vec<GoalOutcome>,
    pub changes: Option<String>,
    pub add_goals: Vec<NewGoal>,
    pub informal_engagement: Option<Option<String>>,
    pub formal_engagement: Option<Option<String>>,
    pub developmental_support: Option<Option<String>>,
    pub child_took_part: Option<bool>,
    pub referral_ids: Option<Vec<String>>,
    pub participant_relationship_ids: Option<Vec<String>>,
}

/// A part of the plan in words: trimmed, blank is none, at most 4000 characters.
fn part(p: &mut Problems, field: &str, value: Option<String>) -> Option<String> {
    let value = validate::blank_to_none(value)?;
    p.check(field, validate::narrative(&value));
    Some(value)
}

/// A list of ids: each one an id, none twice; `field(i)` names the i-th.
fn id_list(p: &mut Problems, ids: Vec<String>, field: impl Fn(usize) -> String) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(ids.len());
    for (i, id) in ids.into_iter().enumerate() {
        let id = id.trim().to_owned();
        if validate::id(&id).is_err() {
            p.add(field(i), "must be an id returned by this API");
        } else if !seen.insert(id.clone()) {
            p.add(field(i), "is listed twice");
        }
        out.push(id);
    }
    out
}

/// Names the i-th element of a list field, e.g. `referralIds[1]`.
fn nth(field: &'static str) -> impl Fn(usize) -> String {
    move |i| format!("{field}[{i}]")
}

/// A goal checked against the live framework, ready to store.
struct Goal {
    area: String,
    description: String,
    target_level: i16,
}

fn goal_list(p: &mut Problems, field: &str, goals: Vec<NewGoal>, framework: &Framework) -> Vec<Goal> {
    let top = framework.scale.len() as i32;
    goals
        .into_iter()
        .enumerate()
        .map(|(i, g)| {
            let area = g.area.trim().to_owned();
            if !framework.areas.iter().any(|a| a.code == area) {
                let codes: Vec<&str> = framework.areas.iter().map(|a| a.code.as_str()).collect();
                p.add(
                    format!("{field}[{i}].area"),
                    format!("must be an area code of the live outcomes framework: one of {}", codes.join(", ")),
                );
            }
            let description = validate::tidy(&g.description);
            p.check(format!("{field}[{i}].description"), validate::narrative(&description));
            if !(1..=top).contains(&g.target_level) {
                p.add(
                    format!("{field}[{i}].targetLevel"),
                    format!("must be a level of the common scale, from 1 to {top}"),
                );
            }
            Goal { area, description, target_level: g.target_level.clamp(0, 99) as i16 }
        })
        .collect()
}

const NO_PART: &str = "the plan needs at least one part: informal engagement, formal engagement, developmental support, or specialist support (a linked referral)";

// ---------------------------------------------------------------------------------------
// Checks inside the transaction
// ---------------------------------------------------------------------------------------

/// Each id must name one of the child's relationships.
async fn check_participants<C: ConnectionTrait>(conn: &C, child_id: &str, field: &str, ids: &[String]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let found: HashMap<String, String> = relationship::Entity::find()
        .filter(relationship::Column::Id.is_in(ids.to_vec()))
        .all(conn)
        .await?
        .into_iter()
        .map(|r| (r.id, r.child_id))
        .collect();
    let mut p = Problems::default();
    for (i, id) in ids.iter().enumerate() {
        if found.get(id).map(String::as_str) != Some(child_id) {
            p.add(
                format!("{field}[{i}]"),
                "must be the id of one of this child's relationships (a parent, carer or trusted adult)",
            );
        }
    }
    p.into_result(())
}

/// Each id must name one of the child's referrals that was not declined or withdrawn.
async fn check_referrals<C: ConnectionTrait>(conn: &C, child_id: &str, field: &str, ids: &[String]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let found: HashMap<String, referral::Model> = referral::Entity::find()
        .filter(referral::Column::Id.is_in(ids.to_vec()))
        .all(conn)
        .await?
        .into_iter()
        .map(|r| (r.id.clone(), r))
        .collect();
    let mut p = Problems::default();
    for (i, id) in ids.iter().enumerate() {
        match found.get(id) {
            Some(r) if r.child_id == child_id => {
                let status = ReferralStatus::from_stored(&r.status)?;
                if matches!(status, ReferralStatus::Declined | ReferralStatus::Withdrawn) {
                    p.add(
                        format!("{field}[{i}]"),
                        format!("is a {status} referral: link referrals that are open or completed"),
                    );
                }
            }
            _ => p.add(format!("{field}[{i}]"), "must be the id of one of this child's referrals"),
        }
    }
    p.into_result(())
}

async fn insert_links(tx: &Audited, plan_id: &str, participants: &[String], referrals: &[String]) -> Result<()> {
    if !participants.is_empty() {
        plan_participant::Entity::insert_many(participants.iter().map(|r| plan_participant::ActiveModel {
            plan_id: Set(plan_id.to_owned()),
            relationship_id: Set(r.clone()),
        }))
        .exec(&**tx)
        .await?;
    }
    if !referrals.is_empty() {
        plan_referral::Entity::insert_many(
            referrals
                .iter()
                .map(|r| plan_referral::ActiveModel { plan_id: Set(plan_id.to_owned()), referral_id: Set(r.clone()) }),
        )
        .exec(&**tx)
        .await?;
    }
    Ok(())
}

async fn insert_goals(tx: &Audited, plan: &support_plan::Model, goals: Vec<Goal>, on: NaiveDate) -> Result<()> {
    if goals.is_empty() {
        return Ok(());
    }
    plan_goal::Entity::insert_many(goals.into_iter().map(|g| plan_goal::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        plan_id: Set(plan.id.clone()),
        child_id: Set(plan.child_id.clone()),
        area_code: Set(g.area),
        description: Set(g.description),
        target_level: Set(g.target_level),
        added_on: Set(on),
        met_on: Set(None),
    }))
    .exec(&**tx)
    .await?;
    Ok(())
}

async fn schedule_review(
    tx: &Audited,
    plan: &support_plan::Model,
    due_on: NaiveDate,
    link_worker: Option<String>,
) -> Result<()> {
    plan_review::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        plan_id: Set(plan.id.clone()),
        child_id: Set(plan.child_id.clone()),
        due_on: Set(due_on),
        link_worker_id: Set(link_worker),
        reviewed_on: Set(None),
        changes: Set(None),
        recorded_by: Set(None),
        recorded_at: Set(None),
    }
    .insert(&**tx)
    .await?;
    Ok(())
}

/// The child's plan, if one was agreed.
async fn plan_of<C: ConnectionTrait>(conn: &C, child_id: &str) -> Result<Option<support_plan::Model>> {
    Ok(support_plan::Entity::find().filter(support_plan::Column::ChildId.eq(child_id.to_owned())).one(conn).await?)
}

// ---------------------------------------------------------------------------------------
// Use cases
// ---------------------------------------------------------------------------------------

/// Agrees a child's support plan with its goals, who took part and the referrals it
/// links, and schedules its first review. `CONFLICT` if the child already has a plan (a
/// review changes it) or has left the programme; `INVALID_INPUT` naming the field for
/// anything else, with nothing written.
pub async fn agree(db: &DatabaseConnection, actor: &Actor, input: NewPlan) -> Result<support_plan::Model> {
    access::may_write_plan(actor)?;
    let framework = outcomes::live(db).await?.framework;
    let mut p = Problems::default();
    let child_id = input.child_id.trim().to_owned();
    p.check("childId", validate::id(&child_id));
    let agreed_on = p.past_date("agreedOn", &input.agreed_on);
    let informal = part(&mut p, "informalEngagement", input.informal_engagement);
    let formal = part(&mut p, "formalEngagement", input.formal_engagement);
    let developmental = part(&mut p, "developmentalSupport", input.developmental_support);
    let referrals = id_list(&mut p, input.referral_ids, nth("referralIds"));
    let participants = id_list(&mut p, input.participant_relationship_ids, nth("participantRelationshipIds"));
    if informal.is_none() && formal.is_none() && developmental.is_none() && referrals.is_empty() {
        p.add("informalEngagement", NO_PART);
    }
    if input.goals.is_empty() {
        p.add("goals", "agree at least one goal with the child and family");
    }
    let goals = goal_list(&mut p, "goals", input.goals, &framework);
    p.into_result(())?;
    let Some(agreed_on) = agreed_on else { return Err(Error::invalid("agreedOn", "must be a date")) };

    let mut tx = Audited::begin(db, actor).await?;
    let child = access::find_child(&*tx, actor, &child_id).await?;
    validate::not_before_birth("agreedOn", agreed_on, access::birth_bound(actor, &child))?;
    let enrolment = enrolment::of_child(&*tx, &child_id).await?;
    let status = EnrolmentStatus::from_stored(&enrolment.status)?;
    if matches!(status, EnrolmentStatus::Completed | EnrolmentStatus::Exited) {
        return Err(Error::conflict(format!("cannot agree a plan for a child whose enrolment is {status}")));
    }
    if plan_of(&*tx, &child_id).await?.is_some() {
        return Err(Error::conflict(
            "the child already has a support plan: change it with reviewSupportPlan (a review may replace its parts, links and add goals)",
        ));
    }
    check_participants(&*tx, &child_id, "participantRelationshipIds", &participants).await?;
    check_referrals(&*tx, &child_id, "referralIds", &referrals).await?;
    let at = now();
    let plan = support_plan::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        child_id: Set(child_id.clone()),
        agreed_on: Set(agreed_on),
        informal_engagement: Set(informal),
        formal_engagement: Set(formal),
        developmental_support: Set(developmental),
        child_took_part: Set(input.child_took_part),
        created_by: Set(actor.user_id.clone()),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(&*tx)
    .await
    .map_err(|e| Error::from_db(e, None))?;
    insert_links(&tx, &plan.id, &participants, &referrals).await?;
    insert_goals(&tx, &plan, goals, agreed_on).await?;
    schedule_review(&tx, &plan, Term::first_review_due(agreed_on), enrolment.link_worker_id).await?;
    tx.record(
        "support_plan.agree",
        Some(&child_id),
        &[
            "supportPlan",
            "supportPlan.participants",
            "supportPlan.specialistSupport",
            "supportPlan.goals",
            "supportPlan.reviews",
        ],
    );
    tx.commit().await?;
    Ok(plan)
}

/// What a review changes in the plan: `None` leaves a part as it was.
struct Changes {
    informal: Option<Option<String>>,
    formal: Option<Option<String>>,
    developmental: Option<Option<String>>,
    child_took_part: Option<bool>,
    referrals: Option<Vec<String>>,
    participants: Option<Vec<String>>,
}

/// A review's date against the plan's history: not before the plan or the last review,
/// and in a term with no review yet.
fn check_review_date(plan: &support_plan::Model, reviews: &[plan_review::Model], reviewed_on: NaiveDate) -> Result<()> {
    if reviewed_on < plan.agreed_on {
        return Err(Error::invalid(
            "reviewedOn",
            format!("must not be before the plan was agreed ({})", plan.agreed_on.format("%Y-%m-%d")),
        ));
    }
    let term = Term::containing(reviewed_on);
    let done: Vec<NaiveDate> = reviews.iter().filter_map(|r| r.reviewed_on).collect();
    if let Some(same) = done.iter().find(|d| Term::containing(**d) == term) {
        return Err(Error::conflict(format!(
            "the plan was already reviewed this term (on {}): one review per term",
            same.format("%Y-%m-%d")
        )));
    }
    if let Some(last) = done.iter().max().filter(|last| reviewed_on < **last) {
        return Err(Error::invalid(
            "reviewedOn",
            format!("must not be before the last review ({})", last.format("%Y-%m-%d")),
        ));
    }
    Ok(())
}

/// Every open goal of the plan has exactly one outcome (ids are already distinct), and
/// every outcome names an open goal of the plan.
fn check_outcomes(goals: &[plan_goal::Model], outcome_ids: &[String]) -> Result<()> {
    let by_id: HashMap<&str, &plan_goal::Model> = goals.iter().map(|g| (g.id.as_str(), g)).collect();
    let mut p = Problems::default();
    for (i, id) in outcome_ids.iter().enumerate() {
        match by_id.get(id.as_str()).map(|g| g.met_on) {
            None => p.add(format!("goals[{i}].goalId"), "must be the id of a goal of this child's plan"),
            Some(Some(met)) => p.add(
                format!("goals[{i}].goalId"),
                format!("was met on {}: only open goals are reviewed", met.format("%Y-%m-%d")),
            ),
            Some(None) => {}
        }
    }
    p.into_result(())?;
    let named: HashSet<&str> = outcome_ids.iter().map(String::as_str).collect();
    let missing = goals.iter().filter(|g| g.met_on.is_none() && !named.contains(g.id.as_str())).count();
    if missing > 0 {
        return Err(Error::invalid(
            "goals",
            format!("give an outcome (met or not) for every open goal of the plan: {missing} missing"),
        ));
    }
    Ok(())
}

/// Applies what a review changes to the plan; returns the fields changed, for the audit.
async fn apply_changes(tx: &Audited, plan: &support_plan::Model, c: Changes) -> Result<Vec<&'static str>> {
    if let Some(ids) = &c.participants {
        check_participants(&**tx, &plan.child_id, "participantRelationshipIds", ids).await?;
    }
    if let Some(ids) = &c.referrals {
        check_referrals(&**tx, &plan.child_id, "referralIds", ids).await?;
    }
    let linked = match &c.referrals {
        Some(ids) => !ids.is_empty(),
        None => plan_referral::Entity::find()
            .filter(plan_referral::Column::PlanId.eq(plan.id.clone()))
            .one(&**tx)
            .await?
            .is_some(),
    };
    let informal = c.informal.clone().unwrap_or_else(|| plan.informal_engagement.clone());
    let formal = c.formal.clone().unwrap_or_else(|| plan.formal_engagement.clone());
    let developmental = c.developmental.clone().unwrap_or_else(|| plan.developmental_support.clone());
    if informal.is_none() && formal.is_none() && developmental.is_none() && !linked {
        return Err(Error::invalid("informalEngagement", NO_PART));
    }
    let mut fields = Vec::new();
    let mut changed: support_plan::ActiveModel = plan.clone().into();
    for (given, field) in [
        (c.informal.is_some(), "supportPlan.informalEngagement"),
        (c.formal.is_some(), "supportPlan.formalEngagement"),
        (c.developmental.is_some(), "supportPlan.developmentalSupport"),
        (c.child_took_part.is_some(), "supportPlan.childTookPart"),
        (c.participants.is_some(), "supportPlan.participants"),
        (c.referrals.is_some(), "supportPlan.specialistSupport"),
    ] {
        if given {
            fields.push(field);
        }
    }
    changed.informal_engagement = Set(informal);
    changed.formal_engagement = Set(formal);
    changed.developmental_support = Set(developmental);
    if let Some(took_part) = c.child_took_part {
        changed.child_took_part = Set(took_part);
    }
    changed.updated_at = Set(now());
    changed.update(&**tx).await?;
    if let Some(ids) = &c.participants {
        plan_participant::Entity::delete_many()
            .filter(plan_participant::Column::PlanId.eq(plan.id.clone()))
            .exec(&**tx)
            .await?;
        insert_links(tx, &plan.id, ids, &[]).await?;
    }
    if let Some(ids) = &c.referrals {
        plan_referral::Entity::delete_many()
            .filter(plan_referral::Column::PlanId.eq(plan.id.clone()))
            .exec(&**tx)
            .await?;
        insert_links(tx, &plan.id, &[], ids).await?;
    }
    Ok(fields)
}

/// Records the termly review of a child's plan: an outcome (met or not, a note) for every
/// open goal, what changes (the plan's parts and links, when given, are replaced; new
/// goals are added), and schedules the next review unless the child has completed or left
/// the programme. One review per term (`CONFLICT`).
pub async fn review(db: &DatabaseConnection, actor: &Actor, input: NewReview) -> Result<plan_review::Model> {
    access::may_write_plan(actor)?;
    let framework = outcomes::live(db).await?.framework;
    let mut p = Problems::default();
    let child_id = input.child_id.trim().to_owned();
    p.check("childId", validate::id(&child_id));
    let reviewed_on = p.past_date("reviewedOn", &input.reviewed_on);
    let outcome_ids =
        id_list(&mut p, input.goals.iter().map(|g| g.goal_id.clone()).collect(), |i| format!("goals[{i}].goalId"));
    let mut results = Vec::with_capacity(input.goals.len());
    for (i, (g, id)) in input.goals.iter().zip(&outcome_ids).enumerate() {
        let note = validate::blank_to_none(g.note.clone());
        if let Some(n) = &note {
            p.check(format!("goals[{i}].note"), validate::notes(n));
        }
        results.push((id.clone(), g.met, note));
    }
    let changes = part(&mut p, "changes", input.changes);
    let replace = |p: &mut Problems, field: &str, v: Option<Option<String>>| v.map(|v| part(p, field, v));
    let plan_changes = Changes {
        informal: replace(&mut p, "informalEngagement", input.informal_engagement),
        formal: replace(&mut p, "formalEngagement", input.formal_engagement),
        developmental: replace(&mut p, "developmentalSupport", input.developmental_support),
        child_took_part: input.child_took_part,
        referrals: input.referral_ids.map(|ids| id_list(&mut p, ids, nth("referralIds"))),
        participants: input
            .participant_relationship_ids
            .map(|ids| id_list(&mut p, ids, nth("participantRelationshipIds"))),
    };
    let new_goals = goal_list(&mut p, "addGoals", input.add_goals, &framework);
    p.into_result(())?;
    let Some(reviewed_on) = reviewed_on else { return Err(Error::invalid("reviewedOn", "must be a date")) };

    let mut tx = Audited::begin(db, actor).await?;
    access::find_child(&*tx, actor, &child_id).await?;
    let Some(plan) = plan_of(&*tx, &child_id).await? else {
        return Err(Error::conflict("the child has no support plan yet: agree one with agreeSupportPlan"));
    };
    let reviews = plan_review::Entity::find()
        .filter(plan_review::Column::PlanId.eq(plan.id.clone()))
        .order_by_asc(plan_review::Column::DueOn)
        .order_by_asc(plan_review::Column::Id)
        .all(&*tx)
        .await?;
    check_review_date(&plan, &reviews, reviewed_on)?;
    let goals = plan_goal::Entity::find().filter(plan_goal::Column::PlanId.eq(plan.id.clone())).all(&*tx).await?;
    check_outcomes(&goals, &outcome_ids)?;
    let mut fields = vec!["supportPlan.reviews", "supportPlan.goals"];
    fields.extend(apply_changes(&tx, &plan, plan_changes).await?);

    // Complete the pending review (or record one that was not scheduled, after the last).
    let enrolment = enrolment::of_child(&*tx, &child_id).await?;
    let at = now();
    let recorded = match reviews.into_iter().find(|r| r.reviewed_on.is_none()) {
        Some(pending) => {
            let mut done: plan_review::ActiveModel = pending.into();
            done.reviewed_on = Set(Some(reviewed_on));
            done.changes = Set(changes);
            done.recorded_by = Set(Some(actor.user_id.clone()));
            done.recorded_at = Set(Some(at));
            done.update(&*tx).await?
        }
        None => {
            plan_review::ActiveModel {
                id: Set(uuid::Uuid::now_v7().to_string()),
                plan_id: Set(plan.id.clone()),
                child_id: Set(child_id.clone()),
                due_on: Set(Term::containing(reviewed_on).ends_on),
                link_worker_id: Set(enrolment.link_worker_id.clone()),
                reviewed_on: Set(Some(reviewed_on)),
                changes: Set(changes),
                recorded_by: Set(Some(actor.user_id.clone())),
                recorded_at: Set(Some(at)),
            }
            .insert(&*tx)
            .await?
        }
    };
    let met: Vec<String> = results.iter().filter(|(_, met, _)| *met).map(|(id, _, _)| id.clone()).collect();
    if !results.is_empty() {
        plan_review_goal::Entity::insert_many(results.into_iter().map(|(id, met, note)| {
            plan_review_goal::ActiveModel {
                review_id: Set(recorded.id.clone()),
                goal_id: Set(id),
                met: Set(met),
                note: Set(note),
            }
        }))
        .exec(&*tx)
        .await?;
    }
    if !met.is_empty() {
        plan_goal::Entity::update_many()
            .col_expr(plan_goal::Column::MetOn, Expr::value(Some(reviewed_on)))
            .filter(plan_goal::Column::Id.is_in(met))
            .exec(&*tx)
            .await?;
    }
    insert_goals(&tx, &plan, new_goals, reviewed_on).await?;
    let status = EnrolmentStatus::from_stored(&enrolment.status)?;
    if !matches!(status, EnrolmentStatus::Completed | EnrolmentStatus::Exited) {
        schedule_review(&tx, &plan, Term::next_review_due(reviewed_on), enrolment.link_worker_id).await?;
    }
    tx.record("support_plan.review", Some(&child_id), &fields);
    tx.commit().await?;
    Ok(recorded)
}

// ---------------------------------------------------------------------------------------
// Reads (loaders): the record scope, applied inside each query
// ---------------------------------------------------------------------------------------

/// Plans (ids) of children whose record the actor may see.
fn visible_plan_ids(actor: &Actor) -> SelectStatement {
    Query::select()
        .column(support_plan::Column::Id)
        .from(support_plan::Entity)
        .and_where(support_plan::Column::ChildId.in_subquery(access::record_child_ids(actor)))
        .to_owned()
}

/// The plans of many children (record scope: none for partners and funders).
pub async fn of_children<R: Reader>(conn: &R, actor: &Actor, child_ids: &[String]) -> Result<Vec<support_plan::Model>> {
    Ok(support_plan::Entity::find()
        .filter(support_plan::Column::ChildId.is_in(child_ids.to_vec()))
        .filter(support_plan::Column::ChildId.in_subquery(access::record_child_ids(actor)))
        .read(conn)
        .await?)
}

/// The goals of many plans, in the order they were added.
pub async fn goals_of<R: Reader>(conn: &R, actor: &Actor, plan_ids: &[String]) -> Result<Vec<plan_goal::Model>> {
    Ok(plan_goal::Entity::find()
        .filter(plan_goal::Column::PlanId.is_in(plan_ids.to_vec()))
        .filter(plan_goal::Column::ChildId.in_subquery(access::record_child_ids(actor)))
        .order_by_asc(plan_goal::Column::Id)
        .read(conn)
        .await?)
}

/// Goals by id (a review's outcomes name them).
pub async fn goals_by_ids<R: Reader>(conn: &R, actor: &Actor, ids: &[String]) -> Result<Vec<plan_goal::Model>> {
    Ok(plan_goal::Entity::find()
        .filter(plan_goal::Column::Id.is_in(ids.to_vec()))
        .filter(plan_goal::Column::ChildId.in_subquery(access::record_child_ids(actor)))
        .read(conn)
        .await?)
}

/// The reviews of many plans, earliest due first (the pending one last).
pub async fn reviews_of<R: Reader>(conn: &R, actor: &Actor, plan_ids: &[String]) -> Result<Vec<plan_review::Model>> {
    Ok(plan_review::Entity::find()
        .filter(plan_review::Column::PlanId.is_in(plan_ids.to_vec()))
        .filter(plan_review::Column::ChildId.in_subquery(access::record_child_ids(actor)))
        .order_by_asc(plan_review::Column::DueOn)
        .order_by_asc(plan_review::Column::Id)
        .read(conn)
        .await?)
}

/// What many reviews found, goal by goal (in the order the goals were added).
pub async fn outcomes_of<R: Reader>(
    conn: &R,
    actor: &Actor,
    review_ids: &[String],
) -> Result<Vec<plan_review_goal::Model>> {
    let visible = Query::select()
        .column(plan_review::Column::Id)
        .from(plan_review::Entity)
        .and_where(plan_review::Column::ChildId.in_subquery(access::record_child_ids(actor)))
        .to_owned();
    Ok(plan_review_goal::Entity::find()
        .filter(plan_review_goal::Column::ReviewId.is_in(review_ids.to_vec()))
        .filter(plan_review_goal::Column::ReviewId.in_subquery(visible))
        .order_by_asc(plan_review_goal::Column::GoalId)
        .read(conn)
        .await?)
}

/// Who took part in many plans: each plan's relationships, oldest recorded first.
pub async fn participants_of<R: Reader>(
    conn: &R,
    actor: &Actor,
    plan_ids: &[String],
) -> Result<HashMap<String, Vec<relationship::Model>>> {
    let links = plan_participant::Entity::find()
        .filter(plan_participant::Column::PlanId.is_in(plan_ids.to_vec()))
        .filter(plan_participant::Column::PlanId.in_subquery(visible_plan_ids(actor)))
        .read(conn)
        .await?;
    let by_id: HashMap<String, relationship::Model> = relationship::Entity::find()
        .filter(relationship::Column::Id.is_in(links.iter().map(|l| l.relationship_id.clone())))
        .filter(relationship::Column::ChildId.in_subquery(access::record_child_ids(actor)))
        .order_by_asc(relationship::Column::Id)
        .read(conn)
        .await?
        .into_iter()
        .map(|r| (r.id.clone(), r))
        .collect();
    Ok(group_links(links.into_iter().map(|l| (l.plan_id, l.relationship_id)), &by_id))
}

/// The referrals many plans link (specialist support), as the actor may see referrals.
pub async fn specialist_support_of<R: Reader>(
    conn: &R,
    actor: &Actor,
    plan_ids: &[String],
) -> Result<HashMap<String, Vec<referral::Model>>> {
    let links = plan_referral::Entity::find()
        .filter(plan_referral::Column::PlanId.is_in(plan_ids.to_vec()))
        .filter(plan_referral::Column::PlanId.in_subquery(visible_plan_ids(actor)))
        .read(conn)
        .await?;
    let by_id: HashMap<String, referral::Model> = referral::Entity::find()
        .filter(referral::Column::Id.is_in(links.iter().map(|l| l.referral_id.clone())))
        .filter(access::referral_condition(actor))
        .read(conn)
        .await?
        .into_iter()
        .map(|r| (r.id.clone(), r))
        .collect();
    Ok(group_links(links.into_iter().map(|l| (l.plan_id, l.referral_id)), &by_id))
}

/// Names of outcome areas in the live framework, by code (not personal data; none while
/// no framework is loaded).
pub async fn area_names<C: ConnectionTrait>(
    conn: &C,
    _actor: &Actor,
    codes: &[String],
) -> Result<HashMap<String, String>> {
    let framework = match outcomes::version(conn, None).await {
        Ok(v) => v.framework,
        Err(Error::NotFound(_)) => return Ok(HashMap::new()),
        Err(e) => return Err(e),
    };
    Ok(framework.areas.into_iter().filter(|a| codes.contains(&a.code)).map(|a| (a.code, a.name)).collect())
}

/// Groups linked rows under their plan, in id (creation) order, skipping rows not found.
fn group_links<T: Clone>(
    links: impl Iterator<Item = (String, String)>,
    by_id: &HashMap<String, T>,
) -> HashMap<String, Vec<T>> {
    let mut pairs: Vec<(String, String)> = links.collect();
    pairs.sort();
    let mut out: HashMap<String, Vec<T>> = HashMap::new();
    for (plan, id) in pairs {
        if let Some(row) = by_id.get(&id) {
            out.entry(plan).or_default().push(row.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn every_date_falls_in_one_term() {
        for (date, name, start, end) in [
            ("2025-09-01", TermName::Autumn, "2025-09-01", "2025-12-31"),
            ("2025-12-31", TermName::Autumn, "2025-09-01", "2025-12-31"),
            ("2026-01-01", TermName::Spring, "2026-01-01", "2026-03-31"),
            ("2026-03-31", TermName::Spring, "2026-01-01", "2026-03-31"),
            ("2026-04-01", TermName::Summer, "2026-04-01", "2026-08-31"),
            ("2026-08-31", TermName::Summer, "2026-04-01", "2026-08-31"),
            ("2024-02-29", TermName::Spring, "2024-01-01", "2024-03-31"),
        ] {
            let t = Term::containing(d(date));
            assert_eq!((t.name, t.starts_on, t.ends_on), (name, d(start), d(end)), "{date}");
        }
    }

    #[test]
    fn terms_follow_each_other_across_the_new_year() {
        let autumn = Term::containing(d("2025-10-10"));
        let spring = autumn.next();
        assert_eq!((spring.name, spring.ends_on), (TermName::Spring, d("2026-03-31")));
        let summer = spring.next();
        assert_eq!((summer.name, summer.ends_on), (TermName::Summer, d("2026-08-31")));
        assert_eq!(summer.next(), Term::containing(d("2026-09-01")));
    }

    #[test]
    fn the_first_review_is_this_term_unless_fewer_than_28_days_remain() {
        // 31 Dec − 3 Dec = 28 days left: this term. 4 Dec: 27 left, the next term.
        assert_eq!(Term::first_review_due(d("2025-12-03")), d("2025-12-31"));
        assert_eq!(Term::first_review_due(d("2025-12-04")), d("2026-03-31"));
        assert_eq!(Term::first_review_due(d("2025-12-31")), d("2026-03-31"));
        assert_eq!(Term::first_review_due(d("2025-09-01")), d("2025-12-31"));
        assert_eq!(Term::first_review_due(d("2026-03-03")), d("2026-03-31"));
        assert_eq!(Term::first_review_due(d("2026-03-04")), d("2026-08-31"));
        assert_eq!(Term::first_review_due(d("2026-08-10")), d("2026-12-31"));
    }

    #[test]
    fn the_next_review_is_at_the_end_of_the_following_term() {
        assert_eq!(Term::next_review_due(d("2025-12-31")), d("2026-03-31"));
        assert_eq!(Term::next_review_due(d("2026-01-01")), d("2026-08-31"));
        assert_eq!(Term::next_review_due(d("2026-03-31")), d("2026-08-31"));
        assert_eq!(Term::next_review_due(d("2026-04-01")), d("2026-12-31"));
        assert_eq!(Term::next_review_due(d("2026-08-31")), d("2026-12-31"));
        assert_eq!(Term::next_review_due(d("2026-09-01")), d("2027-03-31"));
    }
}
