//! Outcomes contracts that pay on evidence: recording a contract (payers and their shares,
//! the anchors and cohort it covers, its period and its rate card), evaluating its
//! milestones into **claims**, and reading them back — every claim line with its evidence
//! for backbone admins, totals per milestone under disclosure control for the funders who
//! pay. The rules themselves are pure, in [`crate::domain::milestones`].
//!
//! Claims are never typed in. [`evaluate`] recomputes them from the records as of a date,
//! in one audited transaction: a claim that still holds on the same evidence and amount is
//! left as it is (so re-running changes nothing); one that no longer holds, or now rests on
//! different evidence or a different amount, is **reversed** (status, time and reason kept,
//! never deleted), and a new claim is made for whatever holds now.

use crate::access;
use crate::audit::{Audited, now};
use crate::auth::Actor;
use crate::domain::csv_out::CsvOut;
use crate::domain::disclosure::{self, Audience, Count, Rules};
use crate::domain::milestones::{self, ChildEvidence, ConsentFact, Dated, NewRateCard, RateCard, Rule};
use crate::domain::validate::Problems;
use crate::domain::{EnrolmentStatus, OrganisationKind, Page, PageRequest, keyset_page, validate};
use crate::error::{Error, Result};
use crate::store::db::Hold;
use crate::store::{
    assessment, attendance, child, claim, consent, contract, contract_anchor, contract_payer, enrolment,
    enrolment_transition, organisation, session,
};
use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, Query, SelectStatement};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, JoinType, QueryFilter,
    QueryOrder, QuerySelect, RelationDef, Set,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The status of a claim.
pub const ACTIVE: &str = "active";
/// A claim that no longer holds (kept, with why and when).
pub const REVERSED: &str = "reversed";
/// Amounts are in pence sterling.
pub const CURRENCY: &str = "GBP";

/// A contract's payer as entered.
#[derive(Clone, Debug)]
pub struct NewPayer {
    pub organisation_id: String,
    /// A percentage with at most two decimal places; the payers' shares add up to 100.
    pub share_percent: f64,
}

/// A contract as entered.
#[derive(Clone, Debug)]
pub struct NewContract {
    pub name: String,
    pub period_start: String,
    pub period_end: String,
    /// Only children enrolled in this cohort (e.g. `2025/26`), if given.
    pub cohort: Option<String>,
    pub anchor_ids: Vec<String>,
    pub payers: Vec<NewPayer>,
    pub rate_card: NewRateCard,
}

/// A contract with its rate card, payers (in order) and anchors.
#[derive(Clone, Debug)]
pub struct Contract {
    pub model: contract::Model,
    pub card: RateCard,
    pub payers: Vec<contract_payer::Model>,
    pub anchor_ids: Vec<String>,
}

impl Contract {
    /// The payers' shares, in basis points, in order.
    pub fn shares(&self) -> Vec<i64> {
        self.payers.iter().map(|p| i64::from(p.share_basis_points)).collect()
    }
}

// ---------------------------------------------------------------------------------------
// Recording
// ---------------------------------------------------------------------------------------

/// Organisations by id, for checking kinds.
async fn organisations<C: ConnectionTrait>(conn: &C, ids: &[String]) -> Result<HashMap<String, organisation::Model>> {
    let valid: Vec<String> = ids.iter().filter(|i| validate::id(i).is_ok()).map(|i| i.trim().to_owned()).collect();
    Ok(organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(valid))
        .all(conn)
        .await?
        .into_iter()
        .map(|o| (o.id.clone(), o))
        .collect())
}

/// Checks a list of organisation ids: each an id of an organisation of `kind`, none twice.
fn check_orgs(
    p: &mut Problems,
    found: &HashMap<String, organisation::Model>,
    ids: &[&str],
    field: impl Fn(usize) -> String,
    kind: OrganisationKind,
) {
    let mut seen = BTreeSet::new();
    for (i, id) in ids.iter().enumerate() {
        let id = id.trim();
        match found.get(id) {
            _ if validate::id(id).is_err() => p.add(field(i), "must be an id returned by this API"),
            Some(o) if o.kind == kind.as_str() => {
                if !seen.insert(id.to_owned()) {
                    p.add(field(i), "is listed twice");
                }
            }
            Some(_) | None => {
                let article = if kind == OrganisationKind::Anchor { "an" } else { "a" };
                p.add(field(i), format!("must be the id of {article} {kind} organisation"))
            }
        }
    }
}

/// Records an outcomes contract (backbone admins, and the system). Every problem is
/// reported at once as `INVALID_INPUT`, each naming its field; nothing is written then.
pub async fn record(db: &DatabaseConnection, actor: &Actor, input: NewContract) -> Result<Contract> {
    access::may_manage_contracts(actor)?;
    let mut p = Problems::default();
    let name = validate::tidy(&input.name);
    p.check("name", validate::title(&name));
    let start = p.date("periodStart", &input.period_start);
    let end = p.date("periodEnd", &input.period_end);
    if let (Some(s), Some(e)) = (start, end) {
        if e < s {
            p.add("periodEnd", "must be on or after periodStart");
        } else if (e - s).num_days() > 10 * 366 {
            p.add("periodEnd", "a contract runs for at most ten years");
        }
    }
    let cohort = input.cohort.as_deref().map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned);
    if let Some(c) = &cohort
        && validate::cohort(c).is_err()
    {
        p.add("cohort", "must be an academic year written like 2025/26");
    }
    if input.anchor_ids.is_empty() {
        p.add("anchorIds", "name at least one anchor whose children the contract covers");
    }
    if input.payers.is_empty() || input.payers.len() > 10 {
        p.add("payers", "name from 1 to 10 outcome payers");
    }
    let ids: Vec<String> =
        input.anchor_ids.iter().cloned().chain(input.payers.iter().map(|x| x.organisation_id.clone())).collect();
    let found = organisations(db, &ids).await?;
    let anchors: Vec<&str> = input.anchor_ids.iter().map(String::as_str).collect();
    check_orgs(&mut p, &found, &anchors, |i| format!("anchorIds[{i}]"), OrganisationKind::Anchor);
    let payer_ids: Vec<&str> = input.payers.iter().map(|x| x.organisation_id.as_str()).collect();
    check_orgs(&mut p, &found, &payer_ids, |i| format!("payers[{i}].organisationId"), OrganisationKind::Funder);
    let mut shares = Vec::with_capacity(input.payers.len());
    for (i, payer) in input.payers.iter().enumerate() {
        shares.push(milestones::share(&mut p, format!("payers[{i}].sharePercent"), payer.share_percent));
    }
    milestones::check_whole(&mut p, "payers", "payers'", &shares);
    let framework = crate::domain::outcomes::live(db).await?.framework;
    let card = milestones::check_rate_card(&mut p, &input.rate_card, &framework);
    p.into_result(())?;
    let (start, end) = start.zip(end).ok_or_else(|| Error::invalid("periodStart", "is required"))?;
    // Every share is valid once the problems are none.
    let shares: Vec<i64> = shares.into_iter().flatten().collect();

    let mut tx = Audited::begin(db, actor).await?;
    let id = uuid::Uuid::now_v7().to_string();
    let created = contract::ActiveModel {
        id: Set(id.clone()),
        name: Set(name),
        definition: Set(card.to_stored()?),
        period_start: Set(start),
        period_end: Set(end),
        cohort: Set(cohort),
        created_by: Set(actor.user_id.clone()),
        created_at: Set(now()),
        evaluated_as_of: Set(None),
        evaluated_at: Set(None),
    }
    .insert(&*tx)
    .await?;
    let mut payers = Vec::with_capacity(input.payers.len());
    for (i, (payer, share)) in input.payers.iter().zip(&shares).enumerate() {
        let row = contract_payer::ActiveModel {
            contract_id: Set(id.clone()),
            organisation_id: Set(payer.organisation_id.trim().to_owned()),
            share_basis_points: Set(*share as i32),
            position: Set(i as i32),
        }
        .insert(&*tx)
        .await?;
        payers.push(row);
    }
    let anchor_ids: Vec<String> = input.anchor_ids.iter().map(|a| a.trim().to_owned()).collect();
    for a in &anchor_ids {
        contract_anchor::ActiveModel { contract_id: Set(id.clone()), organisation_id: Set(a.clone()) }
            .insert(&*tx)
            .await?;
    }
    tx.record("contract.record", None, &["contract"]);
    tx.commit().await?;
    Ok(Contract { model: created, card, payers, anchor_ids })
}

// ---------------------------------------------------------------------------------------
// Reading contracts
// ---------------------------------------------------------------------------------------

async fn with_parts<C: ConnectionTrait>(conn: &C, models: Vec<contract::Model>) -> Result<Vec<Contract>> {
    let ids: Vec<String> = models.iter().map(|m| m.id.clone()).collect();
    let mut payers: HashMap<String, Vec<contract_payer::Model>> = HashMap::new();
    for p in contract_payer::Entity::find()
        .filter(contract_payer::Column::ContractId.is_in(ids.clone()))
        .order_by_asc(contract_payer::Column::Position)
        .all(conn)
        .await?
    {
        payers.entry(p.contract_id.clone()).or_default().push(p);
    }
    let mut anchors: HashMap<String, Vec<String>> = HashMap::new();
    for a in contract_anchor::Entity::find()
        .filter(contract_anchor::Column::ContractId.is_in(ids))
        .order_by_asc(contract_anchor::Column::OrganisationId)
        .all(conn)
        .await?
    {
        anchors.entry(a.contract_id).or_default().push(a.organisation_id);
    }
    models
        .into_iter()
        .map(|m| {
            Ok(Contract {
                card: RateCard::from_stored(&m.definition)?,
                payers: payers.remove(&m.id).unwrap_or_default(),
                anchor_ids: anchors.remove(&m.id).unwrap_or_default(),
                model: m,
            })
        })
        .collect()
}

/// The contracts the caller may see, oldest first: backbone admins and analysts every one;
/// a funder those its organisation pays into; anyone else `FORBIDDEN`. Payers and anchors
/// are read for the whole page at once.
pub async fn list(db: &DatabaseConnection, actor: &Actor, page: PageRequest) -> Result<Page<Contract>> {
    let scope = access::contract_condition(actor)?;
    let found = keyset_page(db, contract::Entity::find().filter(scope), contract::Column::Id, page).await?;
    Ok(Page { has_next_page: found.has_next_page, items: with_parts(db, found.items).await? })
}

/// One contract the caller may see; `NOT_FOUND` otherwise (also for a funder who does not
/// pay into it, so that its existence does not leak).
pub async fn get<C: ConnectionTrait>(conn: &C, actor: &Actor, id: &str) -> Result<Contract> {
    let scope = access::contract_condition(actor)?;
    if validate::id(id).is_err() {
        return Err(Error::NotFound("contract"));
    }
    let model = contract::Entity::find_by_id(id.trim().to_owned())
        .filter(scope)
        .one(conn)
        .await?
        .ok_or(Error::NotFound("contract"))?;
    with_parts(conn, vec![model]).await?.pop().ok_or(Error::NotFound("contract"))
}

/// A contract's id from its id or its exact name (for the command line): `NOT_FOUND` if
/// neither matches, `CONFLICT` if the name is not unique.
pub async fn id_by_id_or_name<C: ConnectionTrait>(conn: &C, text: &str) -> Result<String> {
    let text = text.trim();
    if validate::id(text).is_ok()
        && let Some(c) = contract::Entity::find_by_id(text.to_owned()).one(conn).await?
    {
        return Ok(c.id);
    }
    let named = contract::Entity::find().filter(contract::Column::Name.eq(text.to_owned())).all(conn).await?;
    match named.as_slice() {
        [one] => Ok(one.id.clone()),
        [] => Err(Error::NotFound("contract")),
        _ => Err(Error::conflict("several contracts have this name: give the id")),
    }
}

/// Which claims to list.
#[derive(Clone, Debug, Default)]
pub struct ClaimFilter {
    pub milestone: Option<String>,
    /// `active` or `reversed`; both when `None`.
    pub status: Option<&'static str>,
}

/// A page of a contract's claims, oldest first, with their evidence: backbone admins (and
/// the system) only. Audited: one `claim.read` per claim returned, naming its child.
pub async fn claims(
    db: &DatabaseConnection,
    actor: &Actor,
    contract_id: &str,
    filter: ClaimFilter,
    page: PageRequest,
) -> Result<Page<claim::Model>> {
    access::may_manage_contracts(actor)?;
    let mut tx = Audited::begin(db, actor).await?;
    get(&*tx, actor, contract_id).await?;
    let mut query = claim::Entity::find().filter(claim::Column::ContractId.eq(contract_id.trim().to_owned()));
    if let Some(m) = filter.milestone {
        query = query.filter(claim::Column::MilestoneCode.eq(m));
    }
    if let Some(s) = filter.status {
        query = query.filter(claim::Column::Status.eq(s));
    }
    let found = keyset_page(&*tx, query, claim::Column::Id, page).await?;
    for c in &found.items {
        tx.record("claim.read", Some(&c.child_id), &["claims"]);
    }
    tx.commit().await?;
    Ok(found)
}

// ---------------------------------------------------------------------------------------
// Evaluating
// ---------------------------------------------------------------------------------------

/// What an evaluation did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub as_of: Option<NaiveDate>,
    /// New claims.
    pub created: usize,
    /// Claims reversed: no longer holding, or superseded by a new claim.
    pub reversed: usize,
    /// Claims that still hold exactly as they were.
    pub unchanged: usize,
    /// Active claims after the evaluation.
    pub active: usize,
    /// The sum of the active claims' amounts, after caps.
    pub amount_payable_pence: i64,
}

/// The children a contract covers: those of its anchors, and of its cohort if it has one.
fn covered_children(c: &Contract) -> SelectStatement {
    let mut q = Query::select()
        .column(child::Column::Id)
        .from(child::Entity)
        .and_where(child::Column::AnchorId.is_in(c.anchor_ids.clone()))
        .to_owned();
    if let Some(cohort) = &c.model.cohort {
        q.and_where(
            child::Column::Id.in_subquery(
                Query::select()
                    .column(enrolment::Column::ChildId)
                    .from(enrolment::Entity)
                    .and_where(enrolment::Column::Cohort.eq(cohort.clone()))
                    .to_owned(),
            ),
        );
    }
    q
}

/// Reads the evidence the rate card's rules need, for every covered child: enrolment
/// moves and consents (enrolled with consent), attended sessions in the window (engaged),
/// assessments in the window of the areas and measures named (improved, attendance
/// recovered).
async fn load_evidence<C: ConnectionTrait>(
    conn: &C,
    c: &Contract,
    window: milestones::Window,
) -> Result<BTreeMap<String, ChildEvidence>> {
    let mut out: BTreeMap<String, ChildEvidence> = BTreeMap::new();
    let rules: Vec<&Rule> = c.card.milestones.iter().map(|m| &m.rule).collect();
    if rules.iter().any(|r| matches!(r, Rule::EnrolledWithConsent)) {
        let rel: RelationDef = enrolment_transition::Entity::belongs_to(enrolment::Entity)
            .from(enrolment_transition::Column::EnrolmentId)
            .to(enrolment::Column::Id)
            .into();
        // Dated by the day each step happened, not the day it was recorded.
        let moves: Vec<(String, String, String, NaiveDate)> = enrolment_transition::Entity::find()
            .select_only()
            .column(enrolment::Column::ChildId)
            .column(enrolment_transition::Column::Id)
            .column(enrolment_transition::Column::ToStatus)
            .column(enrolment_transition::Column::EffectiveOn)
            .join(JoinType::InnerJoin, rel)
            .filter(enrolment::Column::ChildId.in_subquery(covered_children(c)))
            .filter(
                enrolment_transition::Column::ToStatus
                    .is_in([EnrolmentStatus::Enrolled.as_str(), EnrolmentStatus::Exited.as_str()]),
            )
            .order_by_asc(enrolment_transition::Column::EffectiveOn)
            .order_by_asc(enrolment_transition::Column::Id)
            .into_tuple()
            .all(conn)
            .await?;
        for (child_id, id, to, on) in moves {
            let ev = out.entry(child_id).or_default();
            let slot = if to == EnrolmentStatus::Enrolled.as_str() { &mut ev.enrolled } else { &mut ev.exited };
            if slot.is_none() {
                *slot = Some(Dated { id, on });
            }
        }
        for k in consent::Entity::find()
            .filter(consent::Column::ChildId.in_subquery(covered_children(c)))
            .order_by_asc(consent::Column::Id)
            .all(conn)
            .await?
        {
            out.entry(k.child_id).or_default().consents.push(ConsentFact {
                id: k.id,
                given_on: k.given_on,
                withdrawn_on: k.withdrawn_on,
            });
        }
    }
    if rules.iter().any(|r| matches!(r, Rule::Engaged { .. })) {
        let rel: RelationDef = attendance::Entity::belongs_to(session::Entity)
            .from(attendance::Column::SessionId)
            .to(session::Column::Id)
            .into();
        let rows: Vec<(String, String, NaiveDate)> = attendance::Entity::find()
            .select_only()
            .column(attendance::Column::ChildId)
            .column(attendance::Column::Id)
            .column(session::Column::HeldOn)
            .join(JoinType::InnerJoin, rel)
            .filter(attendance::Column::Status.eq(crate::domain::AttendanceStatus::Attended.as_str()))
            .filter(attendance::Column::ChildId.in_subquery(covered_children(c)))
            .filter(session::Column::HeldOn.between(window.start, window.end))
            .into_tuple()
            .all(conn)
            .await?;
        for (child_id, id, on) in rows {
            out.entry(child_id).or_default().attended.push(Dated { id, on });
        }
    }
    let mut areas = Vec::new();
    let mut measures = Vec::new();
    for r in &rules {
        match r {
            Rule::Improved { area, .. } => areas.push(area.clone()),
            Rule::AttendanceRecovered { measure, .. } => measures.push(measure.clone()),
            _ => {}
        }
    }
    if !areas.is_empty() || !measures.is_empty() {
        let which = Condition::any()
            .add(assessment::Column::AreaCode.is_in(areas))
            .add(assessment::Column::MeasureCode.is_in(measures));
        for a in assessment::Entity::find()
            .filter(assessment::Column::ChildId.in_subquery(covered_children(c)))
            .filter(assessment::Column::AssessedOn.between(window.start, window.end))
            .filter(which)
            .all(conn)
            .await?
        {
            out.entry(a.child_id.clone()).or_default().assessments.push(milestones::AssessmentFact {
                id: a.id,
                area: a.area_code,
                measure: a.measure_code,
                stage: a.stage,
                on: a.assessed_on,
                level: a.level,
                value: a.raw_number,
            });
        }
    }
    Ok(out)
}

/// A claim as computed, before it is compared with what is stored.
struct Computed {
    milestone_code: String,
    priced: milestones::Priced,
    evidence: String,
}

/// Why a stored claim gives way to a computed one, or `None` if it still holds as it is.
fn difference(stored: &claim::Model, now: &Computed) -> Option<String> {
    if stored.achieved_on != now.priced.earned.achieved_on || stored.evidence != now.evidence {
        Some("its evidence changed".into())
    } else if stored.amount_pence != now.priced.amount_pence || stored.full_amount_pence != now.priced.full_amount_pence
    {
        Some(format!(
            "its amount after the caps changed from {} to {} pence",
            stored.amount_pence, now.priced.amount_pence
        ))
    } else {
        None
    }
}

/// Evaluates a contract's milestones as of `as_of` (backbone admins, and the system), in
/// one audited transaction, and returns what changed. `as_of` may not be in the future
/// (a sustainment period must have passed in fact), nor before the date of the contract's
/// latest evaluation (`CONFLICT`: claims only move forward in time).
pub async fn evaluate(db: &DatabaseConnection, actor: &Actor, contract_id: &str, as_of: &str) -> Result<Summary> {
    access::may_manage_contracts(actor)?;
    let as_of = validate::past_date_in("asOf", as_of)?;
    let mut tx = Audited::begin(db, actor).await?;
    let c = get(&*tx, actor, contract_id).await?;
    // Held to the end, so two evaluations of one contract never claim the same milestone.
    contract::Entity::find_by_id(c.model.id.clone()).held().one(&*tx).await?;
    let c = get(&*tx, actor, contract_id).await?;
    if let Some(last) = c.model.evaluated_as_of
        && as_of < last
    {
        return Err(Error::conflict(format!(
            "this contract was last evaluated as of {last}; evaluate as of that date or later"
        )));
    }
    let window = milestones::Window::new(c.model.period_start, c.model.period_end, as_of);
    let evidence = load_evidence(&*tx, &c, window).await?;
    let mut earned = Vec::new();
    for (child_id, ev) in &evidence {
        for e in milestones::evaluate_child(&c.card, ev, window) {
            earned.push((child_id.clone(), e));
        }
    }
    let computed: Vec<Computed> = milestones::price(&c.card, earned)
        .into_iter()
        .map(|p| {
            Ok(Computed {
                milestone_code: c.card.milestones[p.earned.milestone].code.clone(),
                evidence: milestones::evidence_to_stored(&p.earned.evidence)?,
                priced: p,
            })
        })
        .collect::<Result<_>>()?;

    let stored = claim::Entity::find()
        .filter(claim::Column::ContractId.eq(c.model.id.clone()))
        .filter(claim::Column::Status.eq(ACTIVE))
        .order_by_asc(claim::Column::Id)
        .all(&*tx)
        .await?;
    let mut active: HashMap<(String, String, i32), claim::Model> =
        stored.into_iter().map(|m| ((m.milestone_code.clone(), m.child_id.clone(), m.instalment), m)).collect();

    let at = now();
    let mut summary = Summary { as_of: Some(as_of), ..Default::default() };
    let mut reversals: Vec<(claim::Model, String)> = Vec::new();
    let mut inserts = Vec::new();
    for k in &computed {
        let key = (k.milestone_code.clone(), k.priced.child_id.clone(), k.priced.earned.instalment);
        if let Some(old) = active.remove(&key) {
            match difference(&old, k) {
                None => {
                    summary.unchanged += 1;
                    summary.active += 1;
                    summary.amount_payable_pence += old.amount_pence;
                    continue;
                }
                Some(why) => {
                    reversals.push((old, format!("superseded as of {as_of}: {why}")));
                }
            }
        }
        inserts.push(claim::ActiveModel {
            id: Set(uuid::Uuid::now_v7().to_string()),
            contract_id: Set(c.model.id.clone()),
            milestone_code: Set(k.milestone_code.clone()),
            child_id: Set(k.priced.child_id.clone()),
            instalment: Set(k.priced.earned.instalment),
            achieved_on: Set(k.priced.earned.achieved_on),
            full_amount_pence: Set(k.priced.full_amount_pence),
            amount_pence: Set(k.priced.amount_pence),
            evidence: Set(k.evidence.clone()),
            status: Set(ACTIVE.to_owned()),
            as_of: Set(as_of),
            evaluated_at: Set(at),
            reversed_at: Set(None),
            reversal_reason: Set(None),
        });
        summary.created += 1;
        summary.active += 1;
        summary.amount_payable_pence += k.priced.amount_pence;
    }
    let mut gone: Vec<claim::Model> = active.into_values().collect();
    gone.sort_by(|a, b| a.id.cmp(&b.id));
    for old in gone {
        reversals.push((old, format!("no longer holds on the evidence as of {as_of}")));
    }
    // Reversals first: the new claim of the same milestone, child and instalment is the
    // only active one (a unique index holds to that).
    for (old, reason) in &reversals {
        claim::Entity::update_many()
            .col_expr(claim::Column::Status, Expr::value(REVERSED))
            .col_expr(claim::Column::ReversedAt, Expr::value(at))
            .col_expr(claim::Column::ReversalReason, Expr::value(reason.clone()))
            .filter(claim::Column::Id.eq(old.id.clone()))
            .exec(&*tx)
            .await?;
        tx.record("claim.reverse", Some(&old.child_id), &["claims"]);
    }
    summary.reversed = reversals.len();
    let children: Vec<String> = inserts.iter().map(|i| i.child_id.as_ref().clone()).collect();
    while !inserts.is_empty() {
        let chunk: Vec<_> = inserts.drain(..inserts.len().min(500)).collect();
        claim::Entity::insert_many(chunk).exec(&*tx).await?;
    }
    for child_id in &children {
        tx.record("claim.create", Some(child_id), &["claims"]);
    }
    contract::Entity::update_many()
        .col_expr(contract::Column::EvaluatedAsOf, Expr::value(as_of))
        .col_expr(contract::Column::EvaluatedAt, Expr::value(at))
        .filter(contract::Column::Id.eq(c.model.id.clone()))
        .exec(&*tx)
        .await?;
    tx.record("contract.evaluate", None, &["claims"]);
    tx.commit().await?;
    Ok(summary)
}

// ---------------------------------------------------------------------------------------
// Totals per milestone, under disclosure control
// ---------------------------------------------------------------------------------------

/// One milestone's line in the totals.
#[derive(Clone, Debug, PartialEq)]
pub struct MilestoneTotal {
    pub code: String,
    pub name: String,
    pub price_pence: i64,
    /// Children with an active claim for it (any instalment).
    pub children: Count,
    /// The sum of its active claims' amounts: `None` when the count is suppressed (an exact
    /// amount would reveal it).
    pub amount_payable_pence: Option<i64>,
    /// Each payer's part of that amount, in the payers' order.
    pub payer_amounts: Vec<Option<i64>>,
}

/// A contract's totals as the caller may see them.
#[derive(Clone, Debug)]
pub struct MilestoneTotals {
    pub contract: Contract,
    pub audience: Audience,
    pub milestones: Vec<MilestoneTotal>,
    /// Children with at least one active claim.
    pub children: Count,
    /// Shown only when no milestone's count is suppressed: with one hidden, the total less
    /// the amounts shown would give the hidden amount, and from it the count.
    pub amount_payable_pence: Option<i64>,
    pub payer_amounts: Vec<Option<i64>>,
}

/// Exact totals per milestone from the active claims, computed in SQL: (code → (children,
/// amount)), and the number of distinct children with any active claim.
async fn exact_totals<C: ConnectionTrait>(conn: &C, contract_id: &str) -> Result<(HashMap<String, (i64, i64)>, i64)> {
    let rows: Vec<(String, i64, i64)> = claim::Entity::find()
        .select_only()
        .column(claim::Column::MilestoneCode)
        .column_as(Expr::cust("COUNT(DISTINCT child_id)"), "children")
        .column_as(Expr::cust("CAST(COALESCE(SUM(amount_pence), 0) AS BIGINT)"), "amount")
        .filter(claim::Column::ContractId.eq(contract_id.to_owned()))
        .filter(claim::Column::Status.eq(ACTIVE))
        .group_by(claim::Column::MilestoneCode)
        .into_tuple()
        .all(conn)
        .await?;
    let children: Option<i64> = claim::Entity::find()
        .select_only()
        .column_as(Expr::cust("COUNT(DISTINCT child_id)"), "children")
        .filter(claim::Column::ContractId.eq(contract_id.to_owned()))
        .filter(claim::Column::Status.eq(ACTIVE))
        .into_tuple()
        .one(conn)
        .await?;
    Ok((rows.into_iter().map(|(code, n, amount)| (code, (n, amount))).collect(), children.unwrap_or(0)))
}

/// The totals per milestone of a contract's active claims (as of its latest evaluation):
/// backbone admins and analysts exactly; funders who pay into it under disclosure control
/// (`rules`): counts below the threshold suppressed, with a partner so that the other cells
/// and the total cannot recover them, the rest rounded; an amount is shown only with its
/// count. Never a child id or evidence.
pub async fn totals<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    contract_id: &str,
    rules: &Rules,
) -> Result<MilestoneTotals> {
    // The contract scope first: it refuses those who may see no contract, with its reason.
    access::contract_condition(actor)?;
    let audience = access::metrics_audience(actor)?;
    totals_as(conn, actor, contract_id, rules, audience).await
}

/// [`totals`] for a given audience (exports for funders made by an admin or the system).
async fn totals_as<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    contract_id: &str,
    rules: &Rules,
    audience: Audience,
) -> Result<MilestoneTotals> {
    let contract = get(conn, actor, contract_id).await?;
    let (by_code, distinct) = exact_totals(conn, &contract.model.id).await?;
    let exact: Vec<(i64, i64)> =
        contract.card.milestones.iter().map(|m| by_code.get(&m.code).copied().unwrap_or((0, 0))).collect();
    let mut cells: Vec<i64> = exact.iter().map(|(n, _)| *n).collect();
    cells.push(distinct);
    let counts = disclosure::protect(audience, rules, &cells);
    let shares = contract.shares();
    let milestones: Vec<MilestoneTotal> = contract
        .card
        .milestones
        .iter()
        .zip(&exact)
        .zip(&counts)
        .map(|((m, (_, amount)), count)| {
            // An amount is shown only with its count (it would reveal a suppressed one).
            let shown = (!count.suppressed).then_some(*amount);
            MilestoneTotal {
                code: m.code.clone(),
                name: m.name.clone(),
                price_pence: m.price_pence,
                children: *count,
                amount_payable_pence: shown,
                payer_amounts: match shown {
                    Some(a) => milestones::split(a, &shares).into_iter().map(Some).collect(),
                    None => vec![None; shares.len()],
                },
            }
        })
        .collect();
    let any_hidden = counts[..counts.len() - 1].iter().any(|c| c.suppressed);
    let total: i64 = exact.iter().map(|(_, a)| a).sum();
    let amount_payable_pence = (!any_hidden).then_some(total);
    let payer_amounts = match amount_payable_pence {
        Some(a) => milestones::split(a, &shares).into_iter().map(Some).collect(),
        None => vec![None; shares.len()],
    };
    Ok(MilestoneTotals {
        children: counts[counts.len() - 1],
        contract,
        audience,
        milestones,
        amount_payable_pence,
        payer_amounts,
    })
}

// ---------------------------------------------------------------------------------------
// Exports
// ---------------------------------------------------------------------------------------

/// Organisations' names, in the order of `ids` (an id stands for a missing name).
async fn names<C: ConnectionTrait>(conn: &C, ids: &[String]) -> Result<Vec<String>> {
    let found = organisations(conn, ids).await?;
    Ok(ids.iter().map(|i| found.get(i).map_or_else(|| i.clone(), |o| o.name.clone())).collect())
}

/// Payer names, in the payers' order.
async fn payer_names<C: ConnectionTrait>(conn: &C, c: &Contract) -> Result<Vec<String>> {
    let ids: Vec<String> = c.payers.iter().map(|p| p.organisation_id.clone()).collect();
    names(conn, &ids).await
}

/// Per-milestone totals as CSV, as a paying funder sees them (also when an admin or the
/// system exports them to hand on): suppressed cells, and amounts derived from them,
/// written `c`, as UK official statistics mark them.
pub async fn totals_csv(db: &DatabaseConnection, actor: &Actor, contract_id: &str, rules: &Rules) -> Result<String> {
    let t = totals_as(db, actor, contract_id, rules, Audience::Protected).await?;
    let names = payer_names(db, &t.contract).await?;
    let mut header = vec![
        "milestone_code".to_owned(),
        "milestone".to_owned(),
        "price_pence".to_owned(),
        "children".to_owned(),
        "amount_payable_pence".to_owned(),
    ];
    header.extend(names.iter().map(|n| format!("payable_pence: {n}")));
    let mut w = CsvOut::new(&header)?;
    let money = |v: Option<i64>| v.map_or_else(|| "c".to_owned(), |a| a.to_string());
    for m in &t.milestones {
        let mut row = vec![
            m.code.clone(),
            m.name.clone(),
            m.price_pence.to_string(),
            m.children.csv(),
            money(m.amount_payable_pence),
        ];
        row.extend(m.payer_amounts.iter().map(|a| money(*a)));
        w.row(&row)?;
    }
    let mut row = vec![
        "total".to_owned(),
        "Children with any milestone; amount payable under the contract".to_owned(),
        String::new(),
        t.children.csv(),
        money(t.amount_payable_pence),
    ];
    row.extend(t.payer_amounts.iter().map(|a| money(*a)));
    w.row(&row)?;
    w.finish()
}

/// Every claim of a contract (active and reversed), one line each with its evidence, as
/// CSV: backbone admins and the system only. Audited: one `claim.read` per child listed.
pub async fn claim_lines_csv(db: &DatabaseConnection, actor: &Actor, contract_id: &str) -> Result<String> {
    access::may_manage_contracts(actor)?;
    let mut tx = Audited::begin(db, actor).await?;
    let c = get(&*tx, actor, contract_id).await?;
    let rows = claim::Entity::find()
        .filter(claim::Column::ContractId.eq(c.model.id.clone()))
        .order_by_asc(claim::Column::Id)
        .all(&*tx)
        .await?;
    let mut w = CsvOut::new([
        "claim_id",
        "milestone_code",
        "child_id",
        "instalment",
        "achieved_on",
        "full_amount_pence",
        "amount_pence",
        "status",
        "as_of",
        "evaluated_at",
        "reversed_at",
        "reversal_reason",
        "evidence",
    ])?;
    let mut children = BTreeSet::new();
    for r in &rows {
        let evidence: Vec<String> = milestones::evidence_from_stored(&r.evidence)?
            .iter()
            .map(|e| format!("{} {} {} {}", spelling(&e.role), spelling(&e.kind), e.id, e.on))
            .collect();
        w.row([
            r.id.clone(),
            r.milestone_code.clone(),
            r.child_id.clone(),
            r.instalment.to_string(),
            r.achieved_on.to_string(),
            r.full_amount_pence.to_string(),
            r.amount_pence.to_string(),
            r.status.clone(),
            r.as_of.to_string(),
            r.evaluated_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            r.reversed_at.map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string()).unwrap_or_default(),
            r.reversal_reason.clone().unwrap_or_default(),
            evidence.join("; "),
        ])?;
        children.insert(r.child_id.clone());
    }
    for child_id in &children {
        tx.record("claim.read", Some(child_id), &["claims"]);
    }
    tx.commit().await?;
    w.finish()
}

/// The stored spelling of an evidence role or kind, for CSV.
fn spelling<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// A contract's claims as the caller may download them (`/exports/claims.csv`): the claim
/// lines for backbone admins, the protected totals for funders who pay into it
/// (`access::claims_download`). Returns the contract's id and the CSV.
pub async fn download(
    db: &DatabaseConnection,
    actor: &Actor,
    contract_id: &str,
    rules: &Rules,
) -> Result<(String, String)> {
    let csv = match access::claims_download(actor)? {
        access::ClaimsDownload::Lines => claim_lines_csv(db, actor, contract_id).await?,
        access::ClaimsDownload::ProtectedTotals => totals_csv(db, actor, contract_id, rules).await?,
    };
    Ok((contract_id.trim().to_owned(), csv))
}

/// Pence as an amount of money in pounds, for INDIGO (which states amounts in currency units).
fn pounds(pence: i64) -> f64 {
    pence as f64 / 100.0
}

/// The contract, its prices, the payers' commitments and the amounts payable, in the shape
/// of the INDIGO impact bond data standard's project model (Government Outcomes Lab,
/// `schema/project.json`): every value wrapped as `{"value": …}`. Counts and the amounts
/// derived from them are under funder disclosure control, since INDIGO data is published.
/// Backbone admins and the system. See `docs/funders.md` for the fields filled.
pub async fn indigo(
    db: &DatabaseConnection,
    actor: &Actor,
    contract_id: &str,
    rules: &Rules,
) -> Result<serde_json::Value> {
    use serde_json::json;
    access::may_manage_contracts(actor)?;
    let t = totals_as(db, actor, contract_id, rules, Audience::Protected).await?;
    let c = &t.contract;
    let anchor_names = names(db, &c.anchor_ids).await?;
    let payer_names = payer_names(db, c).await?;
    let v = |x: serde_json::Value| json!({ "value": x });
    let money = |pence: i64| json!({ "currency": v(json!(CURRENCY)), "amount": v(json!(pounds(pence))) });
    let period = json!({
        "start_date": v(json!(c.model.period_start.to_string())),
        "end_date": v(json!(c.model.period_end.to_string())),
    });
    let as_of = c.model.evaluated_as_of;
    let target_population = format!(
        "Children at {}{} supported by the partnership",
        anchor_names.join(" and "),
        c.model.cohort.as_ref().map(|k| format!(", cohort {k}")).unwrap_or_default()
    );
    let max_total = c.card.total_cap_pence;
    let commitments: Vec<serde_json::Value> = c
        .payers
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut o = json!({
                "organisation_id": v(json!(p.organisation_id)),
                "period": period.clone(),
                "notes": format!("{}% of every outcome payment", milestones::percent(i64::from(p.share_basis_points))),
            });
            if let Some(cap) = max_total {
                o["maximum_potential_outcome_payment"] = money(milestones::split(cap, &c.shares())[i]);
            }
            o
        })
        .collect();
    let metrics: Vec<serde_json::Value> = c
        .card
        .milestones
        .iter()
        .map(|m| {
            json!({
                "id": m.code,
                "definition": v(json!(format!("{}: {}", m.name, m.rule.describe()))),
                "target_population": v(json!(target_population)),
                "unit_type_of_targeted_service_users_or_beneficiaries": v(json!("Individual")),
                "outcome_validation_method": v(json!("Simple ex-post verification")),
                "data_source_for_outcome_validation": v(json!(m.evidence)),
                "policy_sector": v(json!("Child and family welfare")),
                "notes": format!("Verified by {}", m.verified_by),
            })
        })
        .collect();
    let pricings: Vec<serde_json::Value> = c
        .card
        .milestones
        .iter()
        .map(|m| {
            let parts: Vec<String> = m
                .instalments
                .iter()
                .map(|i| match i.after_days {
                    0 => format!("{}% on achievement", milestones::percent(i.share_basis_points)),
                    d => format!("{}% if it still holds {d} days later", milestones::percent(i.share_basis_points)),
                })
                .collect();
            json!({
                "outcome_metric_id": v(json!(m.code)),
                "currency": v(json!(CURRENCY)),
                "price_per_unit": { "amount": v(json!(pounds(m.price_pence))) },
                "price_description": v(json!(format!("Per child, paid {}", parts.join(", ")))),
            })
        })
        .collect();
    let results_period = json!({
        "start_date": v(json!(c.model.period_start.to_string())),
        "end_date": v(json!(as_of.map(|d| d.min(c.model.period_end).to_string()))),
    });
    let mut results = Vec::new();
    let mut payments = Vec::new();
    if as_of.is_some() {
        for m in &t.milestones {
            let mut r = json!({
                "outcome_metric_id": v(json!(m.code)),
                "result_level": v(json!("Outcome level")),
                "result_type": v(json!("Interim")),
                "period": results_period.clone(),
            });
            match m.children.value {
                Some(n) => r["number_with_positive_social_outcomes"] = v(json!(n)),
                None => r["notes"] = json!("suppressed: fewer children than the disclosure threshold"),
            }
            results.push(r);
            for (i, amount) in m.payer_amounts.iter().enumerate() {
                let Some(amount) = amount else { continue };
                payments.push(json!({
                    "outcome_metric_id": v(json!(m.code)),
                    "period": results_period.clone(),
                    "payer_organisation_id": v(json!(c.payers[i].organisation_id)),
                    "type": v(json!("Planned")),
                    "money": money(*amount),
                    "notes": "payable on the claims evaluated so far (not yet paid)",
                }));
            }
        }
    }
    let mut finance = json!({});
    if let Some(cap) = max_total {
        finance["maximum_potential_outcome_payment_v2"] = money(cap);
    }
    let project = json!({
        "id": c.model.id,
        "status": "PRIVATE",
        "name": v(json!(c.model.name)),
        "stage_development": v(json!("Implementation")),
        "dates": {
            "start_date_of_service_provision": v(json!(c.model.period_start.to_string())),
            "anticipated_end_date_of_service_provision": v(json!(c.model.period_end.to_string())),
        },
        "overall_project_finance": finance,
        "purpose_and_classifications": { "policy_sector": v(json!("Child and family welfare")) },
        "service_and_beneficiaries": {
            "target_population": v(json!(target_population)),
            "unit_type_targeted_service_users_or_beneficiaries": v(json!("Individual")),
        },
        "outcome_payment_commitments": commitments,
        "outcome_metrics": metrics,
        "outcome_pricings": pricings,
        "results": results,
        "outcome_payments": payments,
    });
    let organisations: Vec<serde_json::Value> = c
        .payers
        .iter()
        .zip(&payer_names)
        .map(|(p, n)| json!({ "id": p.organisation_id, "name": v(json!(n)) }))
        .collect();
    Ok(json!({
        "standard": "INDIGO impact bond data standard, project model (Government Outcomes Lab)",
        "as_of": as_of.map(|d| d.to_string()),
        "project": project,
        "organisations": organisations,
    }))
}
