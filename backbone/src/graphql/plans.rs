//! GraphQL types of individual support plans: the plan (`Child.supportPlan`), its goals
//! and termly reviews, and the inputs of `agreeSupportPlan` and `reviewSupportPlan`. Who
//! sees a plan is the record scope (the loaders apply it: partners and funders see none);
//! free text (the parts, goal descriptions, notes, changes) is null in the pseudonymised
//! view. Resolvers only map: the rules are in `domain::plans`.

use crate::access::Field;
use crate::domain::{self, plans};
use crate::graphql::brokering::Referral;
use crate::graphql::errors::GqlResult;
use crate::graphql::loaders::*;
use crate::graphql::read_audit::note;
use crate::graphql::types::{Relationship, User, shared, shown, user_by_id};
use crate::graphql::{actor, loader, services};
use crate::store::{plan_goal, plan_review, plan_review_goal, support_plan};
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result};
use chrono::{DateTime, NaiveDate, Utc};

// ---------------------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------------------

/// A goal agreed with the child and family.
#[derive(InputObject)]
pub struct PlanGoalInput {
    /// An outcome area code of the live framework (see `outcomesFramework.areas`), e.g.
    /// `emotional_wellbeing`.
    pub area: String,
    /// What the goal is, in words (1–4000 characters).
    pub description: String,
    /// The level of the common scale it aims at (1 to 5).
    pub target_level: i64,
}

impl From<PlanGoalInput> for plans::NewGoal {
    fn from(g: PlanGoalInput) -> Self {
        plans::NewGoal {
            area: g.area,
            description: g.description,
            target_level: crate::graphql::inputs::int(g.target_level),
        }
    }
}

/// A child's individual support plan as agreed. At least one part — a part in words or a
/// linked referral — and at least one goal.
#[derive(InputObject)]
pub struct AgreeSupportPlanInput {
    pub child_id: ID,
    /// `YYYY-MM-DD`, not in the future.
    pub agreed_on: String,
    /// Informal engagement: everyday contact, e.g. check-ins at the gate.
    pub informal_engagement: Option<String>,
    /// Formal engagement: planned one-to-one or family meetings.
    pub formal_engagement: Option<String>,
    /// Developmental support the link worker gives.
    pub developmental_support: Option<String>,
    /// Specialist support from partners: the child's referrals (not declined or
    /// withdrawn).
    #[graphql(default)]
    pub referral_ids: Vec<ID>,
    /// Whether the child took part in agreeing the plan.
    pub child_took_part: bool,
    /// The child's relationships (parents, carers, trusted adults) who took part.
    #[graphql(default)]
    pub participant_relationship_ids: Vec<ID>,
    pub goals: Vec<PlanGoalInput>,
}

fn ids(list: Vec<ID>) -> Vec<String> {
    list.into_iter().map(|i| i.0).collect()
}

impl From<AgreeSupportPlanInput> for plans::NewPlan {
    fn from(i: AgreeSupportPlanInput) -> Self {
        plans::NewPlan {
            child_id: i.child_id.0,
            agreed_on: i.agreed_on,
            informal_engagement: i.informal_engagement,
            formal_engagement: i.formal_engagement,
            developmental_support: i.developmental_support,
            referral_ids: ids(i.referral_ids),
            child_took_part: i.child_took_part,
            participant_relationship_ids: ids(i.participant_relationship_ids),
            goals: i.goals.into_iter().map(Into::into).collect(),
        }
    }
}

/// What a review found for one open goal.
#[derive(InputObject)]
pub struct GoalOutcomeInput {
    pub goal_id: ID,
    pub met: bool,
    /// At most 2000 characters.
    pub note: Option<String>,
}

/// A termly review: an outcome for every open goal and what changes. A part given here
/// replaces the plan's (`null` or blank clears a part in words; a list replaces the
/// links); a part left out stays as it was.
#[derive(InputObject)]
pub struct ReviewSupportPlanInput {
    pub child_id: ID,
    /// `YYYY-MM-DD`, not in the future, not before the plan was agreed or the last review.
    pub reviewed_on: String,
    /// One outcome for each goal not yet met.
    pub goals: Vec<GoalOutcomeInput>,
    /// What changes, in words.
    pub changes: Option<String>,
    /// New goals, added from `reviewedOn`.
    #[graphql(default)]
    pub add_goals: Vec<PlanGoalInput>,
    pub informal_engagement: MaybeUndefined<String>,
    pub formal_engagement: MaybeUndefined<String>,
    pub developmental_support: MaybeUndefined<String>,
    pub child_took_part: Option<bool>,
    pub referral_ids: Option<Vec<ID>>,
    pub participant_relationship_ids: Option<Vec<ID>>,
}

fn replacement(v: MaybeUndefined<String>) -> Option<Option<String>> {
    match v {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(s) => Some(Some(s)),
    }
}

impl From<ReviewSupportPlanInput> for plans::NewReview {
    fn from(i: ReviewSupportPlanInput) -> Self {
        plans::NewReview {
            child_id: i.child_id.0,
            reviewed_on: i.reviewed_on,
            goals: i
                .goals
                .into_iter()
                .map(|g| plans::GoalOutcome { goal_id: g.goal_id.0, met: g.met, note: g.note })
                .collect(),
            changes: i.changes,
            add_goals: i.add_goals.into_iter().map(Into::into).collect(),
            informal_engagement: replacement(i.informal_engagement),
            formal_engagement: replacement(i.formal_engagement),
            developmental_support: replacement(i.developmental_support),
            child_took_part: i.child_took_part,
            referral_ids: i.referral_ids.map(ids),
            participant_relationship_ids: i.participant_relationship_ids.map(ids),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Resolvers called from `Query`, `Mutation` and `Child`
// ---------------------------------------------------------------------------------------

/// `Child.supportPlan`: the plan, batch-loaded in the caller's record scope.
pub(crate) async fn of_child(ctx: &Context<'_>, child_id: &str) -> Result<Option<SupportPlan>> {
    let found = loader(ctx)?.load_one(SupportPlanOfChild(child_id.to_owned())).await.map_err(shared)?;
    found.map(|m| SupportPlan::new(ctx, m)).transpose()
}

/// `agreeSupportPlan`.
pub(crate) async fn agree(ctx: &Context<'_>, input: AgreeSupportPlanInput) -> Result<SupportPlan> {
    let created = plans::agree(&services(ctx)?.db, actor(ctx)?, input.into()).await.gql()?;
    SupportPlan::new(ctx, created)
}

/// `reviewSupportPlan`.
pub(crate) async fn review(ctx: &Context<'_>, input: ReviewSupportPlanInput) -> Result<PlanReview> {
    let recorded = plans::review(&services(ctx)?.db, actor(ctx)?, input.into()).await.gql()?;
    PlanReview::new(ctx, recorded)
}

// ---------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------

/// A child's individual support plan: four parts — informal engagement, formal
/// engagement, developmental support (in words), and specialist support from partners
/// (linked referrals) — with goals per outcome area, agreed with the child and family and
/// reviewed each term.
pub struct SupportPlan(support_plan::Model);

impl SupportPlan {
    /// Notes the read in the operation's read log (see `Child::new`).
    pub fn new(ctx: &Context<'_>, model: support_plan::Model) -> Result<Self> {
        note(ctx, "SupportPlan", &model.child_id)?;
        Ok(SupportPlan(model))
    }
}

#[Object]
impl SupportPlan {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn agreed_on(&self) -> NaiveDate {
        self.0.agreed_on
    }
    /// Null in the pseudonymised view, as is all free text.
    async fn informal_engagement(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        shown(ctx, Field::PlanInformalEngagement, self.0.informal_engagement.as_deref())
    }
    async fn formal_engagement(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        shown(ctx, Field::PlanFormalEngagement, self.0.formal_engagement.as_deref())
    }
    async fn developmental_support(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        shown(ctx, Field::PlanDevelopmentalSupport, self.0.developmental_support.as_deref())
    }
    /// Whether the child took part in agreeing the plan (or its last change).
    async fn child_took_part(&self) -> bool {
        self.0.child_took_part
    }
    /// The parents, carers and trusted adults who took part.
    async fn participants(&self, ctx: &Context<'_>) -> Result<Vec<Relationship>> {
        let rows = loader(ctx)?.load_one(ParticipantsOfPlan(self.0.id.clone())).await.map_err(shared)?;
        rows.unwrap_or_default().into_iter().map(|m| Relationship::new(ctx, m)).collect()
    }
    /// Specialist support from partners: the referrals the plan links, as the caller may
    /// see referrals.
    async fn specialist_support(&self, ctx: &Context<'_>) -> Result<Vec<Referral>> {
        let rows = loader(ctx)?.load_one(SpecialistSupportOfPlan(self.0.id.clone())).await.map_err(shared)?;
        rows.unwrap_or_default().into_iter().map(|m| Referral::new(ctx, m)).collect()
    }
    /// The goals, in the order they were agreed (met ones included).
    async fn goals(&self, ctx: &Context<'_>) -> Result<Vec<PlanGoal>> {
        let rows = loader(ctx)?.load_one(GoalsOfPlan(self.0.id.clone())).await.map_err(shared)?;
        rows.unwrap_or_default().into_iter().map(|m| PlanGoal::new(ctx, m)).collect()
    }
    /// The reviews, earliest due first; the pending one (if any) last.
    async fn reviews(&self, ctx: &Context<'_>) -> Result<Vec<PlanReview>> {
        let rows = loader(ctx)?.load_one(ReviewsOfPlan(self.0.id.clone())).await.map_err(shared)?;
        rows.unwrap_or_default().into_iter().map(|m| PlanReview::new(ctx, m)).collect()
    }
    /// When the pending review is due (the end of a term); null when none is pending
    /// (the child completed or left the programme).
    async fn next_review_due(&self, ctx: &Context<'_>) -> Result<Option<NaiveDate>> {
        let rows = loader(ctx)?.load_one(ReviewsOfPlan(self.0.id.clone())).await.map_err(shared)?;
        Ok(rows.unwrap_or_default().iter().filter(|r| r.reviewed_on.is_none()).map(|r| r.due_on).min())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// A goal of a support plan in one outcome area.
pub struct PlanGoal(plan_goal::Model);

impl PlanGoal {
    /// Notes the read in the operation's read log (see `Child::new`).
    pub fn new(ctx: &Context<'_>, model: plan_goal::Model) -> Result<Self> {
        note(ctx, "PlanGoal", &model.child_id)?;
        Ok(PlanGoal(model))
    }
}

#[Object]
impl PlanGoal {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// The outcome area's code, e.g. `emotional_wellbeing`.
    async fn area_code(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        shown(ctx, Field::PlanGoalAreaCode, Some(self.0.area_code.as_str()))
    }
    /// The area's name in the live framework (null if the live version no longer has it).
    async fn area_name(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let name = loader(ctx)?.load_one(AreaNameOfCode(self.0.area_code.clone())).await.map_err(shared)?;
        shown(ctx, Field::PlanGoalAreaName, name)
    }
    /// Null in the pseudonymised view.
    async fn description(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        shown(ctx, Field::PlanGoalDescription, Some(self.0.description.as_str()))
    }
    /// The level of the common scale the goal aims at.
    async fn target_level(&self) -> i32 {
        i32::from(self.0.target_level)
    }
    /// When it was agreed (the plan's date, or the review that added it).
    async fn added_on(&self) -> NaiveDate {
        self.0.added_on
    }
    /// The date of the review that found it met.
    async fn met_on(&self) -> Option<NaiveDate> {
        self.0.met_on
    }
    async fn met(&self) -> bool {
        self.0.met_on.is_some()
    }
    /// The child's latest level in this area on the common scale, from the assessments
    /// the caller may read (null without any).
    async fn latest_level(&self, ctx: &Context<'_>) -> Result<Option<i32>> {
        let rows = loader(ctx)?.load_one(AssessmentsOfChild(self.0.child_id.clone())).await.map_err(shared)?;
        // Oldest first: the last one in the area is the latest.
        Ok(rows.unwrap_or_default().iter().rev().find(|a| a.area_code == self.0.area_code).map(|a| i32::from(a.level)))
    }
}

/// A termly review of a support plan: pending (scheduled for the end of a term and
/// assigned to the child's link worker) until it is recorded.
pub struct PlanReview(plan_review::Model);

impl PlanReview {
    /// Notes the read in the operation's read log (see `Child::new`).
    pub fn new(ctx: &Context<'_>, model: plan_review::Model) -> Result<Self> {
        note(ctx, "PlanReview", &model.child_id)?;
        Ok(PlanReview(model))
    }
}

#[Object]
impl PlanReview {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// The end of the term it is due in.
    async fn due_on(&self) -> NaiveDate {
        self.0.due_on
    }
    /// Null while pending.
    async fn reviewed_on(&self) -> Option<NaiveDate> {
        self.0.reviewed_on
    }
    async fn pending(&self) -> bool {
        self.0.reviewed_on.is_none()
    }
    /// The link worker it is assigned to (a pending review moves with the child on
    /// handover).
    async fn link_worker(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        match &self.0.link_worker_id {
            Some(id) => Ok(user_by_id(ctx, id).await?.map(|u| User { role: Some(domain::Role::LinkWorker), ..u })),
            None => Ok(None),
        }
    }
    /// What changes, in words (null in the pseudonymised view).
    async fn changes(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        shown(ctx, Field::PlanReviewChanges, self.0.changes.as_deref())
    }
    /// What the review found for each goal open at the time.
    async fn outcomes(&self, ctx: &Context<'_>) -> Result<Vec<GoalOutcome>> {
        let rows = loader(ctx)?.load_one(OutcomesOfReview(self.0.id.clone())).await.map_err(shared)?;
        Ok(rows.unwrap_or_default().into_iter().map(GoalOutcome).collect())
    }
    /// Who recorded it.
    async fn recorded_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        match &self.0.recorded_by {
            Some(id) => user_by_id(ctx, id).await,
            None => Ok(None),
        }
    }
    async fn recorded_at(&self) -> Option<DateTime<Utc>> {
        self.0.recorded_at
    }
}

/// What a review found for one goal.
pub struct GoalOutcome(pub plan_review_goal::Model);

#[Object]
impl GoalOutcome {
    async fn goal(&self, ctx: &Context<'_>) -> Result<Option<PlanGoal>> {
        let found = loader(ctx)?.load_one(PlanGoalById(self.0.goal_id.clone())).await.map_err(shared)?;
        found.map(|m| PlanGoal::new(ctx, m)).transpose()
    }
    async fn met(&self) -> bool {
        self.0.met
    }
    /// Null in the pseudonymised view.
    async fn note(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        shown(ctx, Field::GoalOutcomeNote, self.0.note.as_deref())
    }
}
