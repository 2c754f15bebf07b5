//! GraphQL types of outcomes contracts: the contract and its rate card, claims with their
//! evidence (backbone admins), the totals per milestone (funders who pay, under disclosure
//! control), and the inputs of `recordContract`. Resolvers only map: the rules are in
//! `domain::milestones`, the use cases in `domain::contracts`, who may see what in `access`.

use crate::domain::contracts::{self, ClaimFilter};
use crate::domain::disclosure::Audience;
use crate::domain::milestones::{self, Rule};
use crate::domain::{self, Page};
use crate::graphql::errors::GqlResult;
use crate::graphql::outcomes::AssessmentStage;
use crate::graphql::query::{connection, page_request};
use crate::graphql::types::{Organisation, organisation_by_id, stored};
use crate::graphql::{actor, services};
use crate::store::claim;
use async_graphql::connection::Connection;
use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};

// ---------------------------------------------------------------------------------------
// Enumerations
// ---------------------------------------------------------------------------------------

/// The kinds of milestone rule (see `docs/funders.md` for each one's exact definition).
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::milestones::RuleKind")]
pub enum MilestoneRuleKind {
    /// Enrolled in the programme while a consent to share the record was in force.
    EnrolledWithConsent,
    /// At least `sessionsAtLeast` sessions attended within one school term.
    Engaged,
    /// Up at least `levelsAtLeast` levels on the common scale in an area, on one measure,
    /// from its baseline to its first assessment at `toStage`.
    Improved,
    /// A reading of `measure` below `fromBelow`, then a later one at least `toAtLeast`.
    AttendanceRecovered,
}

/// The span within which sessions are counted for `ENGAGED`.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::milestones::Within")]
pub enum EngagementWithin {
    /// One school term: autumn 1 Sep–31 Dec, spring 1 Jan–31 Mar, summer 1 Apr–31 Aug.
    Term,
}

/// Whether a claim stands.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum ClaimStatus {
    /// Holds on the evidence as of the latest evaluation.
    Active,
    /// No longer holds, or was superseded; kept with the time and reason.
    Reversed,
}

impl ClaimStatus {
    fn stored(self) -> &'static str {
        match self {
            ClaimStatus::Active => contracts::ACTIVE,
            ClaimStatus::Reversed => contracts::REVERSED,
        }
    }
}

/// What kind of record a piece of evidence is.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::milestones::EvidenceKind")]
pub enum ClaimEvidenceKind {
    /// A move of the child's enrolment (its id is the transition's).
    EnrolmentTransition,
    Consent,
    /// A line of a session's register (its date is the session's).
    Attendance,
    Assessment,
}

/// The part a piece of evidence plays in a claim.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::milestones::EvidenceRole")]
pub enum ClaimEvidenceRole {
    Enrolled,
    Consent,
    Attended,
    Baseline,
    Endpoint,
    /// The reading below `fromBelow`.
    Low,
    /// The reading at least `toAtLeast`.
    Recovered,
    /// Shows the milestone still held after an instalment's sustainment period.
    Sustained,
}

// ---------------------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------------------

/// An outcome payer and its share of every payment.
#[derive(InputObject)]
pub struct ContractPayerInput {
    /// A funder organisation.
    pub organisation_id: ID,
    /// A percentage, at most two decimal places; the payers' shares add up to 100.
    pub share_percent: f64,
}

/// A milestone rule: its kind and the parameters that kind takes (others must be left
/// out).
#[derive(InputObject)]
pub struct MilestoneRuleInput {
    pub kind: MilestoneRuleKind,
    /// `ENGAGED`: sessions attended, 1 to 200.
    pub sessions_at_least: Option<i64>,
    /// `ENGAGED`: the span sessions are counted in (default `TERM`).
    pub within: Option<EngagementWithin>,
    /// `IMPROVED`: an area code of the live outcomes framework.
    pub area: Option<String>,
    /// `IMPROVED`: levels up the common scale (default 1).
    pub levels_at_least: Option<i64>,
    /// `IMPROVED`: the stage compared with the baseline (default `ENDPOINT`).
    pub to_stage: Option<AssessmentStage>,
    /// `ATTENDANCE_RECOVERED`: a numeric measure (default the framework's attendance
    /// measure, `attendance_percent`).
    pub measure: Option<String>,
    /// `ATTENDANCE_RECOVERED`: a reading below this first…
    pub from_below: Option<f64>,
    /// `ATTENDANCE_RECOVERED`: …then a later one at least this.
    pub to_at_least: Option<f64>,
}

/// A part of a milestone's price.
#[derive(InputObject)]
pub struct MilestoneInstalmentInput {
    /// A percentage, at most two decimal places; a milestone's instalments add up to 100.
    pub share_percent: f64,
    /// Claimable this many days after the milestone was achieved, if it still holds then
    /// (0: on achievement). Later instalments come later.
    pub after_days: i64,
}

/// A priced milestone.
#[derive(InputObject)]
pub struct RateCardMilestoneInput {
    /// Unique on the card: lower-case letters, digits and `_`, e.g. `engaged`.
    pub code: String,
    pub name: String,
    pub rule: MilestoneRuleInput,
    /// The price per child, in pence.
    pub price_pence: i64,
    /// Default: all of the price on achievement.
    pub instalments: Option<Vec<MilestoneInstalmentInput>>,
    /// The least number of days the evidence must span (default 0).
    pub minimum_duration_days: Option<i64>,
    /// Who verifies the milestone.
    pub verified_by: String,
    /// With what evidence.
    pub evidence: String,
}

/// What a contract pays for, how much, and up to what.
#[derive(InputObject)]
pub struct RateCardInput {
    pub milestones: Vec<RateCardMilestoneInput>,
    /// The most paid for one child across every milestone, in pence.
    pub cap_per_child_pence: Option<i64>,
    /// The most paid under the contract, in pence.
    pub total_cap_pence: Option<i64>,
}

/// An outcomes contract.
#[derive(InputObject)]
pub struct RecordContractInput {
    pub name: String,
    /// `YYYY-MM-DD`: evidence dated from this day counts.
    pub period_start: String,
    /// `YYYY-MM-DD`: evidence dated up to this day counts.
    pub period_end: String,
    /// Only children enrolled in this cohort, e.g. `2025/26`.
    pub cohort: Option<String>,
    /// The anchors whose children the contract covers.
    pub anchor_ids: Vec<ID>,
    pub payers: Vec<ContractPayerInput>,
    pub rate_card: RateCardInput,
}

impl From<RecordContractInput> for contracts::NewContract {
    fn from(i: RecordContractInput) -> Self {
        contracts::NewContract {
            name: i.name,
            period_start: i.period_start,
            period_end: i.period_end,
            cohort: i.cohort,
            anchor_ids: i.anchor_ids.into_iter().map(|a| a.0).collect(),
            payers: i
                .payers
                .into_iter()
                .map(|p| contracts::NewPayer { organisation_id: p.organisation_id.0, share_percent: p.share_percent })
                .collect(),
            rate_card: milestones::NewRateCard {
                cap_per_child_pence: i.rate_card.cap_per_child_pence,
                total_cap_pence: i.rate_card.total_cap_pence,
                milestones: i
                    .rate_card
                    .milestones
                    .into_iter()
                    .map(|m| milestones::NewMilestone {
                        code: m.code,
                        name: m.name,
                        rule: milestones::NewRule {
                            kind: m.rule.kind.into(),
                            sessions_at_least: m.rule.sessions_at_least,
                            within: m.rule.within.map(Into::into),
                            area: m.rule.area,
                            levels_at_least: m.rule.levels_at_least,
                            to_stage: m.rule.to_stage.map(Into::into),
                            measure: m.rule.measure,
                            from_below: m.rule.from_below,
                            to_at_least: m.rule.to_at_least,
                        },
                        price_pence: m.price_pence,
                        instalments: m.instalments.map(|list| {
                            list.into_iter()
                                .map(|x| milestones::NewInstalment {
                                    share_percent: x.share_percent,
                                    after_days: x.after_days,
                                })
                                .collect()
                        }),
                        minimum_duration_days: m.minimum_duration_days,
                        verified_by: m.verified_by,
                        evidence: m.evidence,
                    })
                    .collect(),
            },
        }
    }
}

// ---------------------------------------------------------------------------------------
// Resolvers (called from `query.rs` and `mutation.rs`)
// ---------------------------------------------------------------------------------------

/// `contracts`.
pub(crate) async fn list(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<String>,
) -> Result<Connection<String, Contract>> {
    let had_after = after.is_some();
    let page = page_request(ctx, first, after)?;
    let found = contracts::list(&services(ctx)?.db, actor(ctx)?, page).await.gql()?;
    Ok(connection(had_after, found, Contract, |c| &c.model.id))
}

/// `contract`.
pub(crate) async fn get(ctx: &Context<'_>, id: ID) -> Result<Contract> {
    Ok(Contract(contracts::get(&services(ctx)?.db, actor(ctx)?, &id).await.gql()?))
}

/// `milestones`.
pub(crate) async fn totals(ctx: &Context<'_>, contract_id: ID) -> Result<ContractMilestones> {
    let s = services(ctx)?;
    let t = contracts::totals(&s.db, actor(ctx)?, &contract_id, &s.settings.disclosure).await.gql()?;
    Ok(ContractMilestones(t))
}

/// `recordContract`.
pub(crate) async fn record(ctx: &Context<'_>, input: RecordContractInput) -> Result<Contract> {
    Ok(Contract(contracts::record(&services(ctx)?.db, actor(ctx)?, input.into()).await.gql()?))
}

/// `evaluateMilestones`.
pub(crate) async fn evaluate(ctx: &Context<'_>, contract_id: ID, as_of: String) -> Result<MilestoneEvaluation> {
    let summary = contracts::evaluate(&services(ctx)?.db, actor(ctx)?, &contract_id, &as_of).await.gql()?;
    Ok(MilestoneEvaluation { contract_id, summary })
}

// ---------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------

/// An outcomes contract: who pays what share, which children it covers, over which period,
/// and its rate card. Backbone admins and analysts see every contract; a funder those it
/// pays into. Claims (child-level, with evidence) are for backbone admins only.
pub struct Contract(pub contracts::Contract);

#[Object]
impl Contract {
    async fn id(&self) -> ID {
        ID(self.0.model.id.clone())
    }
    async fn name(&self) -> &str {
        &self.0.model.name
    }
    /// Evidence dated from this day counts.
    async fn period_start(&self) -> NaiveDate {
        self.0.model.period_start
    }
    /// Evidence dated up to this day counts.
    async fn period_end(&self) -> NaiveDate {
        self.0.model.period_end
    }
    /// Only children enrolled in this cohort, if set.
    async fn cohort(&self) -> Option<&str> {
        self.0.model.cohort.as_deref()
    }
    /// Amounts are in pence of this currency.
    async fn currency(&self) -> &str {
        contracts::CURRENCY
    }
    /// The anchors whose children it covers.
    async fn anchors(&self, ctx: &Context<'_>) -> Result<Vec<Organisation>> {
        let mut out = Vec::with_capacity(self.0.anchor_ids.len());
        for a in &self.0.anchor_ids {
            out.push(organisation_by_id(ctx, a).await?);
        }
        Ok(out)
    }
    /// The outcome payers, in the order recorded (the first takes any rounding remainder).
    async fn payers(&self) -> Vec<ContractPayer> {
        self.0
            .payers
            .iter()
            .map(|p| ContractPayer {
                organisation_id: p.organisation_id.clone(),
                share: i64::from(p.share_basis_points),
            })
            .collect()
    }
    async fn rate_card(&self) -> RateCard {
        RateCard(self.0.card.clone())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.model.created_at
    }
    /// The as-of date of the latest `evaluateMilestones` (null before the first).
    async fn evaluated_as_of(&self) -> Option<NaiveDate> {
        self.0.model.evaluated_as_of
    }
    async fn evaluated_at(&self) -> Option<DateTime<Utc>> {
        self.0.model.evaluated_at
    }
    /// The claims, oldest first, each with the child's pseudonymous id and its evidence:
    /// backbone admins only (`FORBIDDEN` otherwise). Each claim returned is an audited read.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity + 1")]
    async fn claims(
        &self,
        ctx: &Context<'_>,
        milestone: Option<String>,
        status: Option<ClaimStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Claim>> {
        let had_after = after.is_some();
        let page = page_request(ctx, first, after)?;
        let filter = ClaimFilter { milestone, status: status.map(ClaimStatus::stored) };
        let found: Page<claim::Model> =
            contracts::claims(&services(ctx)?.db, actor(ctx)?, &self.0.model.id, filter, page).await.gql()?;
        Ok(connection(had_after, found, Claim, |c| &c.id))
    }
}

/// An outcome payer of a contract.
pub struct ContractPayer {
    organisation_id: String,
    share: i64,
}

#[Object]
impl ContractPayer {
    /// A funder organisation.
    async fn organisation(&self, ctx: &Context<'_>) -> Result<Organisation> {
        organisation_by_id(ctx, &self.organisation_id).await
    }
    /// Its share of every payment, in percent.
    async fn share_percent(&self) -> f64 {
        milestones::percent(self.share)
    }
}

/// A contract's rate card.
pub struct RateCard(milestones::RateCard);

#[Object]
impl RateCard {
    async fn milestones(&self) -> Vec<RateCardMilestone> {
        self.0.milestones.iter().cloned().map(RateCardMilestone).collect()
    }
    /// The most paid for one child across every milestone, in pence (null: no cap).
    async fn cap_per_child_pence(&self) -> Option<i64> {
        self.0.cap_per_child_pence
    }
    /// The most paid under the contract, in pence (null: no cap).
    async fn total_cap_pence(&self) -> Option<i64> {
        self.0.total_cap_pence
    }
}

/// A priced milestone of a rate card.
pub struct RateCardMilestone(milestones::Milestone);

#[Object]
impl RateCardMilestone {
    async fn code(&self) -> &str {
        &self.0.code
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn rule(&self) -> MilestoneRule {
        MilestoneRule(self.0.rule.clone())
    }
    /// The price per child, in pence, before caps.
    async fn price_pence(&self) -> i64 {
        self.0.price_pence
    }
    async fn instalments(&self) -> Vec<MilestoneInstalment> {
        self.0
            .instalments
            .iter()
            .map(|i| MilestoneInstalment {
                share_percent: milestones::percent(i.share_basis_points),
                after_days: i.after_days as i32,
            })
            .collect()
    }
    /// The least number of days the evidence must span.
    async fn minimum_duration_days(&self) -> i32 {
        self.0.minimum_duration_days as i32
    }
    async fn verified_by(&self) -> &str {
        &self.0.verified_by
    }
    async fn evidence(&self) -> &str {
        &self.0.evidence
    }
}

/// A part of a milestone's price.
#[derive(SimpleObject)]
pub struct MilestoneInstalment {
    pub share_percent: f64,
    /// Claimable this many days after achievement, if the milestone still holds then.
    pub after_days: i32,
}

/// A milestone rule and its parameters (those of other kinds are null).
pub struct MilestoneRule(Rule);

#[Object]
impl MilestoneRule {
    async fn kind(&self) -> MilestoneRuleKind {
        self.0.kind().into()
    }
    /// The rule in words.
    async fn description(&self) -> String {
        self.0.describe()
    }
    async fn sessions_at_least(&self) -> Option<i32> {
        match &self.0 {
            Rule::Engaged { sessions_at_least, .. } => Some(*sessions_at_least as i32),
            _ => None,
        }
    }
    async fn within(&self) -> Option<EngagementWithin> {
        match &self.0 {
            Rule::Engaged { within, .. } => Some((*within).into()),
            _ => None,
        }
    }
    async fn area(&self) -> Option<&str> {
        match &self.0 {
            Rule::Improved { area, .. } => Some(area),
            _ => None,
        }
    }
    async fn levels_at_least(&self) -> Option<i32> {
        match &self.0 {
            Rule::Improved { levels_at_least, .. } => Some(*levels_at_least as i32),
            _ => None,
        }
    }
    async fn to_stage(&self) -> Result<Option<AssessmentStage>> {
        match &self.0 {
            Rule::Improved { to_stage, .. } => Ok(Some(stored(domain::AssessmentStage::from_stored(to_stage))?.into())),
            _ => Ok(None),
        }
    }
    async fn measure(&self) -> Option<&str> {
        match &self.0 {
            Rule::AttendanceRecovered { measure, .. } => Some(measure),
            _ => None,
        }
    }
    async fn from_below(&self) -> Option<f64> {
        match &self.0 {
            Rule::AttendanceRecovered { from_below, .. } => Some(*from_below),
            _ => None,
        }
    }
    async fn to_at_least(&self) -> Option<f64> {
        match &self.0 {
            Rule::AttendanceRecovered { to_at_least, .. } => Some(*to_at_least),
            _ => None,
        }
    }
}

/// One instalment of one milestone achieved by one child, computed from evidence (never
/// typed in). Backbone admins only.
pub struct Claim(pub claim::Model);

#[Object]
impl Claim {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn milestone_code(&self) -> &str {
        &self.0.milestone_code
    }
    /// The child's pseudonymous id.
    async fn child_id(&self) -> ID {
        ID(self.0.child_id.clone())
    }
    /// 1 for the first instalment of the milestone's price.
    async fn instalment(&self) -> i32 {
        self.0.instalment
    }
    /// The day the milestone (or, for a later instalment, its sustainment) was shown.
    async fn achieved_on(&self) -> NaiveDate {
        self.0.achieved_on
    }
    /// The instalment's price before caps, in pence.
    async fn full_amount_pence(&self) -> i64 {
        self.0.full_amount_pence
    }
    /// What is payable after the caps, in pence.
    async fn amount_pence(&self) -> i64 {
        self.0.amount_pence
    }
    async fn status(&self) -> ClaimStatus {
        if self.0.status == contracts::REVERSED { ClaimStatus::Reversed } else { ClaimStatus::Active }
    }
    /// The records it rests on: ids and dates only.
    async fn evidence(&self) -> Result<Vec<ClaimEvidence>> {
        Ok(stored(milestones::evidence_from_stored(&self.0.evidence))?
            .into_iter()
            .map(|e| ClaimEvidence { kind: e.kind.into(), id: ID(e.id), on: e.on, role: e.role.into() })
            .collect())
    }
    /// The as-of date of the evaluation that made it.
    async fn as_of(&self) -> NaiveDate {
        self.0.as_of
    }
    async fn evaluated_at(&self) -> DateTime<Utc> {
        self.0.evaluated_at
    }
    async fn reversed_at(&self) -> Option<DateTime<Utc>> {
        self.0.reversed_at
    }
    async fn reversal_reason(&self) -> Option<&str> {
        self.0.reversal_reason.as_deref()
    }
}

/// A record a claim rests on.
#[derive(SimpleObject)]
pub struct ClaimEvidence {
    pub kind: ClaimEvidenceKind,
    pub id: ID,
    /// The date the record speaks for (a session's, an assessment's, a consent's giving).
    pub on: NaiveDate,
    pub role: ClaimEvidenceRole,
}

/// What `evaluateMilestones` did.
pub struct MilestoneEvaluation {
    contract_id: ID,
    summary: contracts::Summary,
}

#[Object]
impl MilestoneEvaluation {
    async fn contract(&self, ctx: &Context<'_>) -> Result<Contract> {
        get(ctx, self.contract_id.clone()).await
    }
    async fn as_of(&self) -> Option<NaiveDate> {
        self.summary.as_of
    }
    /// New claims.
    async fn created(&self) -> i32 {
        self.summary.created as i32
    }
    /// Claims reversed: no longer holding, or superseded by a new claim.
    async fn reversed(&self) -> i32 {
        self.summary.reversed as i32
    }
    /// Claims that still hold exactly as they were.
    async fn unchanged(&self) -> i32 {
        self.summary.unchanged as i32
    }
    /// Active claims now.
    async fn active(&self) -> i32 {
        self.summary.active as i32
    }
    /// The sum of the active claims' amounts after caps, in pence.
    async fn amount_payable_pence(&self) -> i64 {
        self.summary.amount_payable_pence
    }
}

/// A payer's part of an amount.
pub struct PayerAmount {
    organisation_id: String,
    share: i64,
    amount: Option<i64>,
}

#[Object]
impl PayerAmount {
    async fn organisation(&self, ctx: &Context<'_>) -> Result<Organisation> {
        organisation_by_id(ctx, &self.organisation_id).await
    }
    async fn share_percent(&self) -> f64 {
        milestones::percent(self.share)
    }
    /// In pence: null when the amount is withheld.
    async fn amount_pence(&self) -> Option<i64> {
        self.amount
    }
}

fn payer_amounts(c: &contracts::Contract, amounts: &[Option<i64>]) -> Vec<PayerAmount> {
    c.payers
        .iter()
        .zip(amounts)
        .map(|(p, a)| PayerAmount {
            organisation_id: p.organisation_id.clone(),
            share: i64::from(p.share_basis_points),
            amount: *a,
        })
        .collect()
}

/// One milestone's totals.
pub struct MilestoneTotal {
    total: contracts::MilestoneTotal,
    payers: Vec<PayerAmount>,
}

#[Object]
impl MilestoneTotal {
    async fn code(&self) -> &str {
        &self.total.code
    }
    async fn name(&self) -> &str {
        &self.total.name
    }
    async fn price_pence(&self) -> i64 {
        self.total.price_pence
    }
    /// Children with an active claim for it: for funders null when suppressed (a small
    /// number), and otherwise rounded.
    async fn children(&self) -> Option<i64> {
        self.total.children.value
    }
    /// True when `children` is withheld by disclosure control.
    async fn suppressed(&self) -> bool {
        self.total.children.suppressed
    }
    /// The sum of its active claims' amounts after caps, in pence: exact, since it is
    /// paid; null when `children` is suppressed.
    async fn amount_payable_pence(&self) -> Option<i64> {
        self.total.amount_payable_pence
    }
    /// Each payer's part of the amount (null with it).
    async fn payers(&self) -> &[PayerAmount] {
        &self.payers
    }
}

/// A contract's totals per milestone, from its active claims as of its latest evaluation.
pub struct ContractMilestones(contracts::MilestoneTotals);

#[Object]
impl ContractMilestones {
    async fn contract(&self) -> Contract {
        Contract(self.0.contract.clone())
    }
    /// The as-of date of the evaluation the totals come from (null: not evaluated yet).
    async fn as_of(&self) -> Option<NaiveDate> {
        self.0.contract.model.evaluated_as_of
    }
    /// False for funders: small counts are suppressed and the rest rounded.
    async fn exact(&self) -> bool {
        self.0.audience == Audience::Unrestricted
    }
    async fn milestones(&self) -> Vec<MilestoneTotal> {
        self.0
            .milestones
            .iter()
            .map(|m| MilestoneTotal { total: m.clone(), payers: payer_amounts(&self.0.contract, &m.payer_amounts) })
            .collect()
    }
    /// Children with at least one active claim (null when suppressed).
    async fn children(&self) -> Option<i64> {
        self.0.children.value
    }
    async fn children_suppressed(&self) -> bool {
        self.0.children.suppressed
    }
    /// The amount payable under the contract, in pence: null whenever a milestone's count
    /// is suppressed (the total less the amounts shown would reveal the hidden ones).
    async fn amount_payable_pence(&self) -> Option<i64> {
        self.0.amount_payable_pence
    }
    /// Each payer's part of the total (null with it).
    async fn payers(&self) -> Vec<PayerAmount> {
        payer_amounts(&self.0.contract, &self.0.payer_amounts)
    }
}
