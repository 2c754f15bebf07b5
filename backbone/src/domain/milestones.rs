//! Outcomes contracts' rate cards and milestone rules, as pure functions: the rate card as
//! data (what is stored, and how an input becomes one, every problem named by its field),
//! the rules evaluated over one child's evidence, instalments after a sustainment period,
//! caps, and how an amount is split between payers. No database here: `domain::contracts`
//! loads the evidence and stores the claims, so every rule below is unit-tested on its own.
//!
//! Every rule reads only evidence dated inside the evaluation window (the contract period,
//! cut off at the as-of date), so re-evaluating with the same records gives the same
//! claims, and a later evaluation never counts a record dated after its as-of date.

use crate::domain::AssessmentStage;
use crate::domain::plans::Term;
use crate::domain::validate::Problems;
use crate::error::{Error, Result};
use backbone_seeds::framework::{Framework, Scoring};
use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Basis points in a whole (100%).
pub const WHOLE: i64 = 10_000;
/// At most this many milestones on one rate card.
pub const MAX_MILESTONES: usize = 20;
/// At most this many instalments per milestone.
pub const MAX_INSTALMENTS: usize = 6;
/// Sustainment periods and minimum durations are at most three years.
pub const MAX_DAYS: i64 = 3 * 366;
/// Prices and caps are at most £100 million (in pence).
pub const MAX_PENCE: i64 = 10_000_000_000;

// ---------------------------------------------------------------------------------------
// The rate card, as stored
// ---------------------------------------------------------------------------------------

/// A contract's rate card: what it pays for, how much, when, and up to what.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RateCard {
    pub milestones: Vec<Milestone>,
    /// The most paid for one child across every milestone and instalment.
    pub cap_per_child_pence: Option<i64>,
    /// The most paid under the whole contract.
    pub total_cap_pence: Option<i64>,
}

/// One priced milestone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Milestone {
    /// Unique on the card: lower-case letters, digits and `_`.
    pub code: String,
    pub name: String,
    pub rule: Rule,
    /// The price per child achieving it, before caps, in pence.
    pub price_pence: i64,
    /// How the price is paid: shares that add up to the whole, each after a number of days.
    pub instalments: Vec<Instalment>,
    /// The least number of days the evidence must span (see [`Rule`]).
    pub minimum_duration_days: i64,
    /// Who verifies the milestone (words, for the contract).
    pub verified_by: String,
    /// With what evidence (words, for the contract).
    pub evidence: String,
}

/// A part of a milestone's price.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instalment {
    /// The share of the price, in basis points (10000 is all of it).
    pub share_basis_points: i64,
    /// Claimable this many days after the milestone was achieved, if it still holds then
    /// (0: on achievement).
    pub after_days: i64,
}

/// A milestone rule over evidence already in the backbone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Rule {
    /// Enrolled in the programme while a consent to share was in force.
    EnrolledWithConsent,
    /// At least `sessions_at_least` sessions attended within one school term.
    Engaged { sessions_at_least: i64, within: Within },
    /// Up at least `levels_at_least` levels on the common scale in `area`, on one measure,
    /// from its baseline to its first assessment at stage `to_stage`.
    Improved { area: String, levels_at_least: i64, to_stage: String },
    /// A reading of `measure` below `from_below`, then a later one at least `to_at_least`.
    AttendanceRecovered { measure: String, from_below: f64, to_at_least: f64 },
}

/// The span within which sessions are counted for [`Rule::Engaged`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Within {
    /// One school term (autumn 1 Sep–31 Dec, spring 1 Jan–31 Mar, summer 1 Apr–31 Aug).
    Term,
}

/// The kinds of rule, for inputs and the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleKind {
    EnrolledWithConsent,
    Engaged,
    Improved,
    AttendanceRecovered,
}

impl Rule {
    pub fn kind(&self) -> RuleKind {
        match self {
            Rule::EnrolledWithConsent => RuleKind::EnrolledWithConsent,
            Rule::Engaged { .. } => RuleKind::Engaged,
            Rule::Improved { .. } => RuleKind::Improved,
            Rule::AttendanceRecovered { .. } => RuleKind::AttendanceRecovered,
        }
    }

    /// The rule in words (for exports and documentation).
    pub fn describe(&self) -> String {
        match self {
            Rule::EnrolledWithConsent => {
                "enrolled in the programme while a consent to share the record was in force".into()
            }
            Rule::Engaged { sessions_at_least, within: Within::Term } => {
                format!("attended at least {sessions_at_least} sessions within one school term")
            }
            Rule::Improved { area, levels_at_least, to_stage } => format!(
                "up at least {levels_at_least} level(s) on the common scale in {area}, on one measure, from baseline to {to_stage}"
            ),
            Rule::AttendanceRecovered { measure, from_below, to_at_least } => {
                format!("{measure} below {from_below}, then a later reading of at least {to_at_least}")
            }
        }
    }
}

impl RateCard {
    /// Reads a stored rate card.
    pub fn from_stored(text: &str) -> Result<RateCard> {
        serde_json::from_str(text)
            .map_err(|e| Error::Internal(anyhow::anyhow!("a stored rate card is unreadable: {e}")))
    }

    /// The card as stored (deterministic JSON).
    pub fn to_stored(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|e| Error::Internal(e.into()))
    }
}

// ---------------------------------------------------------------------------------------
// Inputs and their validation
// ---------------------------------------------------------------------------------------

/// A rate card as entered.
#[derive(Clone, Debug, Default)]
pub struct NewRateCard {
    pub milestones: Vec<NewMilestone>,
    pub cap_per_child_pence: Option<i64>,
    pub total_cap_pence: Option<i64>,
}

/// A milestone as entered.
#[derive(Clone, Debug)]
pub struct NewMilestone {
    pub code: String,
    pub name: String,
    pub rule: NewRule,
    pub price_pence: i64,
    /// None: all of the price on achievement.
    pub instalments: Option<Vec<NewInstalment>>,
    pub minimum_duration_days: Option<i64>,
    pub verified_by: String,
    pub evidence: String,
}

/// A rule as entered: its kind and the parameters that kind takes.
#[derive(Clone, Debug)]
pub struct NewRule {
    pub kind: RuleKind,
    pub sessions_at_least: Option<i64>,
    pub within: Option<Within>,
    pub area: Option<String>,
    pub levels_at_least: Option<i64>,
    pub to_stage: Option<AssessmentStage>,
    pub measure: Option<String>,
    pub from_below: Option<f64>,
    pub to_at_least: Option<f64>,
}

impl NewRule {
    /// A rule of `kind` with no parameters (fill in those it takes).
    pub fn of(kind: RuleKind) -> NewRule {
        NewRule {
            kind,
            sessions_at_least: None,
            within: None,
            area: None,
            levels_at_least: None,
            to_stage: None,
            measure: None,
            from_below: None,
            to_at_least: None,
        }
    }
}

/// An instalment as entered.
#[derive(Clone, Copy, Debug)]
pub struct NewInstalment {
    pub share_percent: f64,
    pub after_days: i64,
}

/// A percentage with at most two decimal places, in basis points; `None` if it has more.
pub fn basis_points(percent: f64) -> Option<i64> {
    let bp = (percent * 100.0).round();
    ((percent * 100.0 - bp).abs() < 1e-6 && bp.is_finite()).then_some(bp as i64)
}

/// Basis points as a percentage (6000 → 60.0).
pub fn percent(basis_points: i64) -> f64 {
    basis_points as f64 / 100.0
}

/// One share of a whole as entered (a percentage with at most two decimal places, more
/// than 0 and at most 100), in basis points; `None`, with the problem added, otherwise.
pub fn share(p: &mut Problems, field: String, percent: f64) -> Option<i64> {
    match basis_points(percent) {
        Some(bp) if bp > 0 && bp <= WHOLE => Some(bp),
        Some(_) => {
            p.add(field, "must be more than 0 and at most 100");
            None
        }
        None => {
            p.add(field, "must have at most 2 decimal places");
            None
        }
    }
}

/// Checks that `shares` (from [`share`]) add up to the whole, when there are some and each
/// is valid: `whose` names them in the message (`payers'`).
pub fn check_whole(p: &mut Problems, field: &str, whose: &str, shares: &[Option<i64>]) {
    let Some(valid) = shares.iter().copied().collect::<Option<Vec<i64>>>() else {
        return;
    };
    let total: i64 = valid.iter().sum();
    if !valid.is_empty() && total != WHOLE {
        p.add(field, format!("the {whose} shares must add up to 100%, not {}%", percent(total)));
    }
}

fn text(p: &mut Problems, field: &str, value: &str, max: usize) -> String {
    p.text(field, value, crate::domain::validate::TextKind::Line { max })
}

fn pence(p: &mut Problems, field: &str, value: i64) {
    if value < 0 {
        p.add(field, "must not be negative");
    } else if value > MAX_PENCE {
        p.add(field, "must be at most 10000000000 pence (£100 million)");
    }
}

fn is_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 60
        && code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && code.as_bytes()[0].is_ascii_lowercase()
}

/// Checks a rate card against the live outcomes framework and turns it into the stored
/// form, adding every problem to `p` (fields under `rateCard.`).
pub fn check_rate_card(p: &mut Problems, card: &NewRateCard, framework: &Framework) -> RateCard {
    let base = "rateCard";
    if card.milestones.is_empty() {
        p.add(format!("{base}.milestones"), "a rate card needs at least one milestone");
    } else if card.milestones.len() > MAX_MILESTONES {
        p.add(format!("{base}.milestones"), format!("a rate card has at most {MAX_MILESTONES} milestones"));
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut milestones = Vec::with_capacity(card.milestones.len());
    for (i, m) in card.milestones.iter().enumerate() {
        let at = format!("{base}.milestones[{i}]");
        let code = m.code.trim().to_owned();
        if !is_code(&code) {
            p.add(
                format!("{at}.code"),
                "must be 1 to 60 lower-case letters, digits and underscores, starting with a letter",
            );
        } else if let Some(first) = seen.get(&code) {
            p.add(format!("{at}.code"), format!("\"{code}\" is already the code of milestones[{first}]"));
        } else {
            seen.insert(code.clone(), i);
        }
        let name = text(p, &format!("{at}.name"), &m.name, 200);
        let rule = check_rule(p, &format!("{at}.rule"), &m.rule, framework);
        pence(p, &format!("{at}.pricePence"), m.price_pence);
        let instalments = check_instalments(p, &format!("{at}.instalments"), m.instalments.as_deref());
        let minimum_duration_days = m.minimum_duration_days.unwrap_or(0);
        if !(0..=MAX_DAYS).contains(&minimum_duration_days) {
            p.add(format!("{at}.minimumDurationDays"), format!("must be from 0 to {MAX_DAYS} days"));
        } else if minimum_duration_days > 0 && m.rule.kind == RuleKind::EnrolledWithConsent {
            p.add(
                format!("{at}.minimumDurationDays"),
                "does not apply to ENROLLED_WITH_CONSENT (its evidence spans no time): use an instalment's afterDays for a sustainment period",
            );
        }
        let verified_by = text(p, &format!("{at}.verifiedBy"), &m.verified_by, 500);
        let evidence = text(p, &format!("{at}.evidence"), &m.evidence, 500);
        milestones.push(Milestone {
            code,
            name,
            rule,
            price_pence: m.price_pence,
            instalments,
            minimum_duration_days,
            verified_by,
            evidence,
        });
    }
    if let Some(cap) = card.cap_per_child_pence {
        pence(p, &format!("{base}.capPerChildPence"), cap);
    }
    if let Some(cap) = card.total_cap_pence {
        pence(p, &format!("{base}.totalCapPence"), cap);
    }
    RateCard { milestones, cap_per_child_pence: card.cap_per_child_pence, total_cap_pence: card.total_cap_pence }
}

fn check_instalments(p: &mut Problems, at: &str, given: Option<&[NewInstalment]>) -> Vec<Instalment> {
    let Some(given) = given else {
        return vec![Instalment { share_basis_points: WHOLE, after_days: 0 }];
    };
    if given.is_empty() || given.len() > MAX_INSTALMENTS {
        p.add(at, format!("give from 1 to {MAX_INSTALMENTS} instalments (or none: all on achievement)"));
        return Vec::new();
    }
    let mut out = Vec::with_capacity(given.len());
    let mut shares = Vec::with_capacity(given.len());
    for (i, inst) in given.iter().enumerate() {
        let bp = share(p, format!("{at}[{i}].sharePercent"), inst.share_percent);
        shares.push(bp);
        if !(0..=MAX_DAYS).contains(&inst.after_days) {
            p.add(format!("{at}[{i}].afterDays"), format!("must be from 0 to {MAX_DAYS} days"));
        } else if i > 0 && inst.after_days <= given[i - 1].after_days {
            p.add(
                format!("{at}[{i}].afterDays"),
                "must be later than the instalment before it: instalments are listed in the order they fall due",
            );
        }
        out.push(Instalment { share_basis_points: bp.unwrap_or(0), after_days: inst.after_days });
    }
    check_whole(p, at, "instalments'", &shares);
    out
}

fn check_rule(p: &mut Problems, at: &str, rule: &NewRule, framework: &Framework) -> Rule {
    let mut unused = |given: bool, field: &str| {
        if given {
            p.add(format!("{at}.{field}"), format!("is not used by the {} rule", kind_name(rule.kind)));
        }
    };
    let kind = rule.kind;
    if kind != RuleKind::Engaged {
        unused(rule.sessions_at_least.is_some(), "sessionsAtLeast");
        unused(rule.within.is_some(), "within");
    }
    if kind != RuleKind::Improved {
        unused(rule.area.is_some(), "area");
        unused(rule.levels_at_least.is_some(), "levelsAtLeast");
        unused(rule.to_stage.is_some(), "toStage");
    }
    if kind != RuleKind::AttendanceRecovered {
        unused(rule.measure.is_some(), "measure");
        unused(rule.from_below.is_some(), "fromBelow");
        unused(rule.to_at_least.is_some(), "toAtLeast");
    }
    match kind {
        RuleKind::EnrolledWithConsent => Rule::EnrolledWithConsent,
        RuleKind::Engaged => {
            let n = rule.sessions_at_least.unwrap_or(0);
            match rule.sessions_at_least {
                None => p.add(format!("{at}.sessionsAtLeast"), "is required for the ENGAGED rule"),
                Some(n) if !(1..=200).contains(&n) => {
                    p.add(format!("{at}.sessionsAtLeast"), "must be from 1 to 200 sessions")
                }
                _ => {}
            }
            Rule::Engaged { sessions_at_least: n, within: rule.within.unwrap_or(Within::Term) }
        }
        RuleKind::Improved => {
            let area = rule.area.as_deref().map(str::trim).unwrap_or_default().to_owned();
            if rule.area.is_none() {
                p.add(format!("{at}.area"), "is required for the IMPROVED rule");
            } else if !framework.areas.iter().any(|a| a.code == area) {
                let known: Vec<&str> = framework.areas.iter().map(|a| a.code.as_str()).collect();
                p.add(
                    format!("{at}.area"),
                    format!(
                        "\"{area}\" is not an area of the live outcomes framework; its areas are: {}",
                        known.join(", ")
                    ),
                );
            }
            let top = framework.scale.len() as i64 - 1;
            let levels = rule.levels_at_least.unwrap_or(1);
            if !(1..=top.max(1)).contains(&levels) {
                p.add(format!("{at}.levelsAtLeast"), format!("must be from 1 to {top} levels"));
            }
            let to_stage = rule.to_stage.unwrap_or(AssessmentStage::Endpoint);
            if to_stage == AssessmentStage::Baseline {
                p.add(format!("{at}.toStage"), "must be a stage after the baseline: REVIEW, MIDPOINT or ENDPOINT");
            }
            Rule::Improved { area, levels_at_least: levels, to_stage: to_stage.as_str().to_owned() }
        }
        RuleKind::AttendanceRecovered => {
            let measure =
                rule.measure.as_deref().map(str::trim).unwrap_or(&framework.screening.attendance_measure).to_owned();
            let range = match framework.measure(&measure) {
                None => {
                    p.add(
                        format!("{at}.measure"),
                        format!("\"{measure}\" is not a measure of the live outcomes framework"),
                    );
                    None
                }
                Some((_, m)) => match &m.scoring {
                    Scoring::Numeric { min, max, .. } => Some((*min, *max)),
                    Scoring::Categories { .. } => {
                        p.add(format!("{at}.measure"), format!("\"{measure}\" must be a numeric measure"));
                        None
                    }
                },
            };
            let mut number = |field: &str, value: Option<f64>| -> f64 {
                match (value, range) {
                    (None, _) => {
                        p.add(format!("{at}.{field}"), "is required for the ATTENDANCE_RECOVERED rule");
                        0.0
                    }
                    (Some(v), Some((min, max))) if !(min..=max).contains(&v) => {
                        p.add(format!("{at}.{field}"), format!("must be from {min} to {max} (the measure's range)"));
                        v
                    }
                    (Some(v), _) => v,
                }
            };
            let from_below = number("fromBelow", rule.from_below);
            let to_at_least = number("toAtLeast", rule.to_at_least);
            if rule.from_below.is_some() && rule.to_at_least.is_some() && to_at_least < from_below {
                p.add(format!("{at}.toAtLeast"), "must be at least fromBelow: recovery is a rise");
            }
            Rule::AttendanceRecovered { measure, from_below, to_at_least }
        }
    }
}

/// The kind as the API spells it.
pub fn kind_name(kind: RuleKind) -> &'static str {
    match kind {
        RuleKind::EnrolledWithConsent => "ENROLLED_WITH_CONSENT",
        RuleKind::Engaged => "ENGAGED",
        RuleKind::Improved => "IMPROVED",
        RuleKind::AttendanceRecovered => "ATTENDANCE_RECOVERED",
    }
}

// ---------------------------------------------------------------------------------------
// Evidence
// ---------------------------------------------------------------------------------------

/// The dates whose evidence counts: the contract period, up to the as-of date (inclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl Window {
    /// The contract period cut off at `as_of`.
    pub fn new(period_start: NaiveDate, period_end: NaiveDate, as_of: NaiveDate) -> Window {
        Window { start: period_start, end: period_end.min(as_of) }
    }

    pub fn contains(&self, day: NaiveDate) -> bool {
        self.start <= day && day <= self.end
    }
}

/// A record with an id and the date it speaks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dated {
    pub id: String,
    pub on: NaiveDate,
}

/// A consent to share: given, and perhaps withdrawn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsentFact {
    pub id: String,
    pub given_on: NaiveDate,
    pub withdrawn_on: Option<NaiveDate>,
}

impl ConsentFact {
    fn in_force(&self, day: NaiveDate) -> bool {
        self.given_on <= day && self.withdrawn_on.is_none_or(|w| w > day)
    }
}

/// One assessment, as the rules read it.
#[derive(Clone, Debug, PartialEq)]
pub struct AssessmentFact {
    pub id: String,
    pub area: String,
    pub measure: String,
    pub stage: String,
    pub on: NaiveDate,
    pub level: i16,
    pub value: Option<f64>,
}

/// Everything the rules may read about one child.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChildEvidence {
    /// The enrolment's move to `enrolled` (its transition), dated the day it was recorded.
    pub enrolled: Option<Dated>,
    /// The enrolment's move to `exited`, if any.
    pub exited: Option<Dated>,
    pub consents: Vec<ConsentFact>,
    /// Sessions attended: the attendance's id and the session's date.
    pub attended: Vec<Dated>,
    pub assessments: Vec<AssessmentFact>,
}

/// What kind of record an evidence item is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    EnrolmentTransition,
    Consent,
    Attendance,
    Assessment,
}

/// What part an evidence item plays in the claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceRole {
    Enrolled,
    Consent,
    Attended,
    Baseline,
    Endpoint,
    Low,
    Recovered,
    /// Shows the milestone still held after an instalment's sustainment period.
    Sustained,
}

/// One record a claim rests on: ids and dates only, never a name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceItem {
    pub kind: EvidenceKind,
    pub id: String,
    pub on: NaiveDate,
    pub role: EvidenceRole,
}

/// Reads stored evidence.
pub fn evidence_from_stored(text: &str) -> Result<Vec<EvidenceItem>> {
    serde_json::from_str(text).map_err(|e| Error::Internal(anyhow::anyhow!("stored claim evidence is unreadable: {e}")))
}

/// Evidence as stored (deterministic JSON, so equal evidence is equal text).
pub fn evidence_to_stored(items: &[EvidenceItem]) -> Result<String> {
    serde_json::to_string(items).map_err(|e| Error::Internal(e.into()))
}

fn item(kind: EvidenceKind, d: &Dated, role: EvidenceRole) -> EvidenceItem {
    EvidenceItem { kind, id: d.id.clone(), on: d.on, role }
}

fn assessment_item(a: &AssessmentFact, role: EvidenceRole) -> EvidenceItem {
    EvidenceItem { kind: EvidenceKind::Assessment, id: a.id.clone(), on: a.on, role }
}

fn days(from: NaiveDate, to: NaiveDate) -> i64 {
    (to - from).num_days()
}

// ---------------------------------------------------------------------------------------
// The rules
// ---------------------------------------------------------------------------------------

/// A milestone achieved: when, on what evidence, and what a sustainment check compares to.
#[derive(Clone, Debug, PartialEq)]
struct Achieved {
    on: NaiveDate,
    evidence: Vec<EvidenceItem>,
    /// Improved: the measure and the level to stay at or above.
    keep: Option<(String, f64)>,
}

/// The attended sessions in `window` dated on or after `from`, oldest first, and the first
/// term in which at least `n` of them fall whose first `n` span at least `min_days`: those
/// `n` attendances.
fn engaged_in_a_term(attended: &[&Dated], from: NaiveDate, n: usize, min_days: i64) -> Option<Vec<Dated>> {
    let mut terms: BTreeMap<NaiveDate, Vec<&Dated>> = BTreeMap::new();
    for a in attended.iter().filter(|a| a.on >= from) {
        terms.entry(Term::containing(a.on).starts_on).or_default().push(a);
    }
    terms.into_values().find_map(|list| {
        let first_n = list.get(..n)?;
        let span = days(first_n[0].on, first_n[n - 1].on);
        (span >= min_days).then(|| first_n.iter().map(|d| (*d).clone()).collect())
    })
}

/// Whether, and when, the rule was first met on this evidence within the window.
fn achieve(rule: &Rule, min_days: i64, ev: &ChildEvidence, window: Window) -> Option<Achieved> {
    match rule {
        Rule::EnrolledWithConsent => {
            let enrolled = ev.enrolled.as_ref().filter(|e| window.contains(e.on))?;
            let exited_by = |d: NaiveDate| ev.exited.as_ref().is_some_and(|x| x.on <= d);
            // The day of enrolment, or a later day a consent was given while still enrolled.
            let mut days: Vec<NaiveDate> = std::iter::once(enrolled.on)
                .chain(ev.consents.iter().map(|c| c.given_on).filter(|d| *d > enrolled.on))
                .collect();
            days.sort_unstable();
            days.dedup();
            days.into_iter().take_while(|d| window.contains(*d) && !exited_by(*d)).find_map(|d| {
                let consent = consent_in_force(&ev.consents, d)?;
                Some(Achieved {
                    on: d,
                    evidence: vec![
                        item(EvidenceKind::EnrolmentTransition, enrolled, EvidenceRole::Enrolled),
                        EvidenceItem {
                            kind: EvidenceKind::Consent,
                            id: consent.id.clone(),
                            on: consent.given_on,
                            role: EvidenceRole::Consent,
                        },
                    ],
                    keep: None,
                })
            })
        }
        Rule::Engaged { sessions_at_least, within: Within::Term } => {
            let attended = attended_in(ev, window);
            let n = usize::try_from(*sessions_at_least).ok().filter(|n| *n > 0)?;
            let run = engaged_in_a_term(&attended, window.start, n, min_days)?;
            Some(Achieved {
                on: run[n - 1].on,
                evidence: run.iter().map(|d| item(EvidenceKind::Attendance, d, EvidenceRole::Attended)).collect(),
                keep: None,
            })
        }
        Rule::Improved { area, levels_at_least, to_stage } => {
            let mut by_measure: BTreeMap<&str, Vec<&AssessmentFact>> = BTreeMap::new();
            for a in assessments_in(ev, window).into_iter().filter(|a| &a.area == area) {
                by_measure.entry(a.measure.as_str()).or_default().push(a);
            }
            by_measure
                .into_values()
                .filter_map(|series| {
                    let baseline = series.iter().find(|a| a.stage == AssessmentStage::Baseline.as_str())?;
                    let end =
                        series.iter().find(|a| &a.stage == to_stage && a.id != baseline.id && a.on >= baseline.on)?;
                    let risen = i64::from(end.level) - i64::from(baseline.level) >= *levels_at_least;
                    (risen && days(baseline.on, end.on) >= min_days).then(|| Achieved {
                        on: end.on,
                        evidence: vec![
                            assessment_item(baseline, EvidenceRole::Baseline),
                            assessment_item(end, EvidenceRole::Endpoint),
                        ],
                        keep: Some((baseline.measure.clone(), f64::from(baseline.level) + *levels_at_least as f64)),
                    })
                })
                .min_by(|a, b| a.on.cmp(&b.on))
        }
        Rule::AttendanceRecovered { measure, from_below, to_at_least } => {
            let readings: Vec<(&AssessmentFact, f64)> = assessments_in(ev, window)
                .into_iter()
                .filter(|a| &a.measure == measure)
                .filter_map(|a| a.value.map(|v| (a, v)))
                .collect();
            let (low, _) = readings.iter().find(|(_, v)| v < from_below)?;
            let (up, _) =
                readings.iter().find(|(a, v)| a.on > low.on && v >= to_at_least && days(low.on, a.on) >= min_days)?;
            Some(Achieved {
                on: up.on,
                evidence: vec![assessment_item(low, EvidenceRole::Low), assessment_item(up, EvidenceRole::Recovered)],
                keep: None,
            })
        }
    }
}

fn consent_in_force(consents: &[ConsentFact], day: NaiveDate) -> Option<&ConsentFact> {
    consents.iter().filter(|c| c.in_force(day)).min_by(|a, b| (a.given_on, &a.id).cmp(&(b.given_on, &b.id)))
}

fn attended_in(ev: &ChildEvidence, window: Window) -> Vec<&Dated> {
    let mut list: Vec<&Dated> = ev.attended.iter().filter(|a| window.contains(a.on)).collect();
    list.sort_by(|a, b| (a.on, &a.id).cmp(&(b.on, &b.id)));
    list
}

fn assessments_in(ev: &ChildEvidence, window: Window) -> Vec<&AssessmentFact> {
    let mut list: Vec<&AssessmentFact> = ev.assessments.iter().filter(|a| window.contains(a.on)).collect();
    list.sort_by(|a, b| (a.on, &a.id).cmp(&(b.on, &b.id)));
    list
}

/// Whether the milestone still holds on or after `t` (the end of a sustainment period), and
/// the evidence that shows it:
/// - enrolled with consent: not exited by `t`, and a consent in force on `t`;
/// - engaged: at least N sessions attended within one term, counting sessions on or after `t`;
/// - improved: the measure's first assessment on or after `t` is still at least the baseline
///   plus the levels required;
/// - attendance recovered: the measure's first reading on or after `t` is still at least
///   `to_at_least`.
fn sustained(rule: &Rule, achieved: &Achieved, t: NaiveDate, ev: &ChildEvidence, window: Window) -> Option<Achieved> {
    if !window.contains(t) {
        return None;
    }
    let found = match rule {
        Rule::EnrolledWithConsent => {
            if ev.exited.as_ref().is_some_and(|x| x.on <= t) {
                return None;
            }
            let c = consent_in_force(&ev.consents, t)?;
            (
                t,
                vec![EvidenceItem {
                    kind: EvidenceKind::Consent,
                    id: c.id.clone(),
                    on: c.given_on,
                    role: EvidenceRole::Sustained,
                }],
            )
        }
        Rule::Engaged { sessions_at_least, within: Within::Term } => {
            let n = usize::try_from(*sessions_at_least).ok().filter(|n| *n > 0)?;
            let run = engaged_in_a_term(&attended_in(ev, window), t, n, 0)?;
            (run[n - 1].on, run.iter().map(|d| item(EvidenceKind::Attendance, d, EvidenceRole::Sustained)).collect())
        }
        Rule::Improved { .. } => {
            let (measure, at_least) = achieved.keep.as_ref()?;
            let next = assessments_in(ev, window).into_iter().find(|a| &a.measure == measure && a.on >= t)?;
            if f64::from(next.level) < *at_least {
                return None;
            }
            (next.on, vec![assessment_item(next, EvidenceRole::Sustained)])
        }
        Rule::AttendanceRecovered { measure, to_at_least, .. } => {
            let next = assessments_in(ev, window)
                .into_iter()
                .find(|a| &a.measure == measure && a.value.is_some() && a.on >= t)?;
            if next.value.is_none_or(|v| v < *to_at_least) {
                return None;
            }
            (next.on, vec![assessment_item(next, EvidenceRole::Sustained)])
        }
    };
    let mut evidence = achieved.evidence.clone();
    evidence.extend(found.1);
    Some(Achieved { on: found.0, evidence, keep: None })
}

/// One instalment of one milestone, earned by one child.
#[derive(Clone, Debug, PartialEq)]
pub struct Earned {
    /// The milestone's index on the card.
    pub milestone: usize,
    /// 1 for the first instalment.
    pub instalment: i32,
    pub achieved_on: NaiveDate,
    pub evidence: Vec<EvidenceItem>,
}

/// Every instalment of every milestone this child has earned on this evidence.
pub fn evaluate_child(card: &RateCard, ev: &ChildEvidence, window: Window) -> Vec<Earned> {
    let mut out = Vec::new();
    for (mi, m) in card.milestones.iter().enumerate() {
        let Some(achieved) = achieve(&m.rule, m.minimum_duration_days, ev, window) else {
            continue;
        };
        for (k, inst) in m.instalments.iter().enumerate() {
            let got = if inst.after_days == 0 {
                Some(Achieved { keep: None, ..achieved.clone() })
            } else {
                let t = achieved.on + Duration::days(inst.after_days);
                sustained(&m.rule, &achieved, t, ev, window)
            };
            if let Some(got) = got {
                out.push(Earned {
                    milestone: mi,
                    instalment: k as i32 + 1,
                    achieved_on: got.on,
                    evidence: got.evidence,
                });
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Money
// ---------------------------------------------------------------------------------------

/// Each instalment's part of a price: its share, rounded down to the penny, with the last
/// instalment taking what is left so that the parts add up to the price exactly.
pub fn instalment_amounts(price_pence: i64, instalments: &[Instalment]) -> Vec<i64> {
    let mut out: Vec<i64> = instalments.iter().map(|i| price_pence * i.share_basis_points / WHOLE).collect();
    if let Some(last) = out.last_mut() {
        let others: i64 =
            instalments.iter().take(instalments.len() - 1).map(|i| price_pence * i.share_basis_points / WHOLE).sum();
        *last = price_pence - others;
    }
    out
}

/// Splits an amount between payers by their shares (basis points, in the order given):
/// each rounded down to the penny, the first payer taking the remainder.
pub fn split(amount_pence: i64, shares: &[i64]) -> Vec<i64> {
    let mut out: Vec<i64> = shares.iter().map(|s| amount_pence * s / WHOLE).collect();
    let rest = amount_pence - out.iter().sum::<i64>();
    if let Some(first) = out.first_mut() {
        *first += rest;
    }
    out
}

/// An earned instalment with its price, and what is payable after the caps.
#[derive(Clone, Debug, PartialEq)]
pub struct Priced {
    pub child_id: String,
    pub earned: Earned,
    pub full_amount_pence: i64,
    pub amount_pence: i64,
}

/// Prices every earned instalment and applies the caps, oldest achievement first (then in
/// the card's milestone order, instalment, child id), so the result never depends on the
/// order the evidence was read in: each claim gets its full price, or what is left under
/// the child's cap and the contract's total cap, whichever is least (possibly nothing).
pub fn price(card: &RateCard, earned: Vec<(String, Earned)>) -> Vec<Priced> {
    let parts: Vec<Vec<i64>> =
        card.milestones.iter().map(|m| instalment_amounts(m.price_pence, &m.instalments)).collect();
    let mut list = earned;
    list.sort_by(|(ca, a), (cb, b)| {
        (a.achieved_on, a.milestone, a.instalment, ca).cmp(&(b.achieved_on, b.milestone, b.instalment, cb))
    });
    let mut per_child: HashMap<String, i64> = HashMap::new();
    let mut total = 0i64;
    list.into_iter()
        .map(|(child_id, e)| {
            let full = parts
                .get(e.milestone)
                .and_then(|p| p.get(usize::try_from(e.instalment - 1).unwrap_or(usize::MAX)))
                .copied()
                .unwrap_or(0);
            let used = per_child.entry(child_id.clone()).or_insert(0);
            let mut amount = full;
            if let Some(cap) = card.cap_per_child_pence {
                amount = amount.min((cap - *used).max(0));
            }
            if let Some(cap) = card.total_cap_pence {
                amount = amount.min((cap - total).max(0));
            }
            *used += amount;
            total += amount;
            Priced { child_id, earned: e, full_amount_pence: full, amount_pence: amount }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    fn dated(id: &str, on: &str) -> Dated {
        Dated { id: id.into(), on: d(on) }
    }

    fn window() -> Window {
        Window::new(d("2025-09-01"), d("2027-08-31"), d("2026-09-01"))
    }

    fn milestone(code: &str, rule: Rule) -> Milestone {
        Milestone {
            code: code.into(),
            name: code.into(),
            rule,
            price_pence: 10000,
            instalments: vec![Instalment { share_basis_points: WHOLE, after_days: 0 }],
            minimum_duration_days: 0,
            verified_by: "backbone".into(),
            evidence: "records".into(),
        }
    }

    fn card(milestones: Vec<Milestone>) -> RateCard {
        RateCard { milestones, cap_per_child_pence: None, total_cap_pence: None }
    }

    fn assessment(id: &str, measure: &str, stage: AssessmentStage, on: &str, level: i16, value: f64) -> AssessmentFact {
        AssessmentFact {
            id: id.into(),
            area: if measure == "attendance_percent" { "attendance_engagement" } else { "emotional_wellbeing" }.into(),
            measure: measure.into(),
            stage: stage.as_str().into(),
            on: d(on),
            level,
            value: Some(value),
        }
    }

    fn consent(id: &str, given: &str, withdrawn: Option<&str>) -> ConsentFact {
        ConsentFact { id: id.into(), given_on: d(given), withdrawn_on: withdrawn.map(d) }
    }

    #[test]
    fn enrolled_with_consent_needs_a_consent_in_force_and_an_enrolment_in_the_window() {
        let rule = Rule::EnrolledWithConsent;
        let mut ev = ChildEvidence {
            enrolled: Some(dated("t1", "2025-10-01")),
            consents: vec![consent("c1", "2025-09-20", None)],
            ..Default::default()
        };
        let got = achieve(&rule, 0, &ev, window()).expect("achieved");
        assert_eq!(got.on, d("2025-10-01"));
        assert_eq!(got.evidence.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["t1", "c1"]);
        // Withdrawn before enrolment: not in force then; a later consent counts from its day.
        ev.consents = vec![consent("c1", "2025-09-20", Some("2025-09-30")), consent("c2", "2025-11-05", None)];
        assert_eq!(achieve(&rule, 0, &ev, window()).map(|a| a.on), Some(d("2025-11-05")));
        // … unless the child left before it.
        ev.exited = Some(dated("t2", "2025-11-01"));
        assert_eq!(achieve(&rule, 0, &ev, window()), None);
        // Enrolled before the contract period: not this contract's.
        let ev = ChildEvidence {
            enrolled: Some(dated("t1", "2025-08-31")),
            consents: vec![consent("c1", "2025-08-01", None)],
            ..Default::default()
        };
        assert_eq!(achieve(&rule, 0, &ev, window()), None);
    }

    #[test]
    fn engaged_counts_attended_sessions_within_one_term() {
        let rule = Rule::Engaged { sessions_at_least: 3, within: Within::Term };
        // Two in the autumn term, one in spring: not three in one term.
        let mut ev = ChildEvidence {
            attended: vec![dated("a1", "2025-11-03"), dated("a2", "2025-12-15"), dated("a3", "2026-01-12")],
            ..Default::default()
        };
        assert_eq!(achieve(&rule, 0, &ev, window()), None);
        ev.attended.push(dated("a4", "2026-02-02"));
        ev.attended.push(dated("a5", "2026-03-02"));
        ev.attended.push(dated("a6", "2026-03-09"));
        let got = achieve(&rule, 0, &ev, window()).expect("engaged in spring");
        assert_eq!(got.on, d("2026-03-02"));
        assert_eq!(got.evidence.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["a3", "a4", "a5"]);
        // A minimum duration: the first three of the term must span 60 days.
        assert_eq!(achieve(&rule, 60, &ev, window()), None);
        assert!(achieve(&rule, 49, &ev, window()).is_some());
        // Sessions after the as-of date do not count.
        let early = Window::new(d("2025-09-01"), d("2027-08-31"), d("2026-03-01"));
        assert_eq!(achieve(&rule, 0, &ev, early), None);
    }

    #[test]
    fn improved_compares_baseline_and_the_first_assessment_at_the_stage() {
        let rule =
            Rule::Improved { area: "emotional_wellbeing".into(), levels_at_least: 1, to_stage: "endpoint".into() };
        let mut ev = ChildEvidence {
            assessments: vec![
                assessment("b", "wellbeing_total", AssessmentStage::Baseline, "2025-09-15", 2, 40.0),
                assessment("r", "wellbeing_total", AssessmentStage::Review, "2025-12-10", 4, 60.0),
                assessment("e", "wellbeing_total", AssessmentStage::Endpoint, "2026-07-10", 2, 41.0),
            ],
            ..Default::default()
        };
        // A review is not the endpoint; the endpoint is level with the baseline.
        assert_eq!(achieve(&rule, 0, &ev, window()), None);
        ev.assessments[2].level = 3;
        let got = achieve(&rule, 0, &ev, window()).expect("improved");
        assert_eq!((got.on, got.evidence.len()), (d("2026-07-10"), 2));
        assert_eq!(got.evidence[0].role, EvidenceRole::Baseline);
        // Two levels required: not enough.
        let two =
            Rule::Improved { area: "emotional_wellbeing".into(), levels_at_least: 2, to_stage: "endpoint".into() };
        assert_eq!(achieve(&two, 0, &ev, window()), None);
        // Another area: nothing.
        let other = Rule::Improved { area: "relationships".into(), levels_at_least: 1, to_stage: "endpoint".into() };
        assert_eq!(achieve(&other, 0, &ev, window()), None);
    }

    #[test]
    fn attendance_recovered_needs_a_low_reading_then_a_later_high_one() {
        let rule =
            Rule::AttendanceRecovered { measure: "attendance_percent".into(), from_below: 90.0, to_at_least: 95.0 };
        let m = "attendance_percent";
        let mut ev = ChildEvidence {
            assessments: vec![
                assessment("x1", m, AssessmentStage::Baseline, "2025-09-15", 2, 88.5),
                assessment("x2", m, AssessmentStage::Review, "2025-12-10", 3, 94.9),
            ],
            ..Default::default()
        };
        assert_eq!(achieve(&rule, 0, &ev, window()), None, "94.9 is not 95");
        ev.assessments.push(assessment("x3", m, AssessmentStage::Review, "2026-03-20", 4, 95.0));
        let got = achieve(&rule, 0, &ev, window()).expect("recovered");
        assert_eq!(got.on, d("2026-03-20"));
        assert_eq!(
            got.evidence.iter().map(|e| (e.id.as_str(), e.role)).collect::<Vec<_>>(),
            [("x1", EvidenceRole::Low), ("x3", EvidenceRole::Recovered)]
        );
        // Never below 90: nothing to recover from.
        ev.assessments[0].value = Some(91.0);
        assert_eq!(achieve(&rule, 0, &ev, window()), None);
    }

    #[test]
    fn a_later_instalment_needs_the_milestone_to_hold_after_the_sustainment_period() {
        let mut m = milestone(
            "recovered",
            Rule::AttendanceRecovered { measure: "attendance_percent".into(), from_below: 90.0, to_at_least: 95.0 },
        );
        m.price_pence = 1001;
        m.instalments = vec![
            Instalment { share_basis_points: 5000, after_days: 0 },
            Instalment { share_basis_points: 5000, after_days: 90 },
        ];
        let card = card(vec![m]);
        let a = "attendance_percent";
        let mut ev = ChildEvidence {
            assessments: vec![
                assessment("x1", a, AssessmentStage::Baseline, "2025-09-15", 2, 85.0),
                assessment("x2", a, AssessmentStage::Review, "2025-12-10", 4, 96.0),
            ],
            ..Default::default()
        };
        assert_eq!(evaluate_child(&card, &ev, window()).len(), 1, "nothing yet after 90 days");
        // The first reading after the period has fallen back: the second instalment is not due.
        ev.assessments.push(assessment("x3", a, AssessmentStage::Review, "2026-03-20", 2, 89.0));
        ev.assessments.push(assessment("x4", a, AssessmentStage::Review, "2026-07-10", 4, 97.0));
        assert_eq!(evaluate_child(&card, &ev, window()).len(), 1);
        ev.assessments[2].value = Some(95.5);
        let got = evaluate_child(&card, &ev, window());
        assert_eq!(got.len(), 2);
        assert_eq!((got[1].instalment, got[1].achieved_on), (2, d("2026-03-20")));
        assert_eq!(got[1].evidence.last().map(|e| e.role), Some(EvidenceRole::Sustained));
        assert_eq!(instalment_amounts(1001, &card.milestones[0].instalments), [500, 501]);
    }

    #[test]
    fn caps_apply_oldest_achievement_first_whatever_the_input_order() {
        let mut c = card(vec![
            milestone("engaged", Rule::Engaged { sessions_at_least: 1, within: Within::Term }),
            milestone("enrolled", Rule::EnrolledWithConsent),
        ]);
        c.cap_per_child_pence = Some(15000);
        c.total_cap_pence = Some(32000);
        let e = |m: usize, on: &str| Earned { milestone: m, instalment: 1, achieved_on: d(on), evidence: vec![] };
        let list = vec![
            ("kid-b".to_owned(), e(0, "2026-02-01")),
            ("kid-a".to_owned(), e(0, "2026-01-10")),
            ("kid-a".to_owned(), e(1, "2025-10-01")),
            ("kid-c".to_owned(), e(1, "2025-09-05")),
            ("kid-b".to_owned(), e(1, "2025-10-01")),
        ];
        let mut reversed = list.clone();
        reversed.reverse();
        let priced = price(&c, list);
        assert_eq!(priced, price(&c, reversed), "the order read does not matter");
        let amounts: Vec<(&str, i64)> = priced.iter().map(|p| (p.child_id.as_str(), p.amount_pence)).collect();
        // c 100, a 100, b 100 (enrolled); then a's engaged would be capped at 50 by the child's
        // cap, but only 20 of the 320 total is left; b's engaged gets nothing.
        assert_eq!(amounts, [("kid-c", 10000), ("kid-a", 10000), ("kid-b", 10000), ("kid-a", 2000), ("kid-b", 0)]);
        assert!(priced.iter().all(|p| p.full_amount_pence == 10000));
    }

    #[test]
    fn payers_split_an_amount_to_the_penny() {
        assert_eq!(split(1001, &[6000, 4000]), [601, 400]);
        assert_eq!(split(100, &[3333, 3333, 3334]), [34, 33, 33]);
        assert_eq!(basis_points(33.33), Some(3333));
        assert_eq!(basis_points(33.333), None);
    }

    fn framework() -> Framework {
        backbone_seeds::framework::default_framework()
    }

    fn new_milestone(code: &str, rule: NewRule) -> NewMilestone {
        NewMilestone {
            code: code.into(),
            name: "A milestone".into(),
            rule,
            price_pence: 100,
            instalments: None,
            minimum_duration_days: None,
            verified_by: "The backbone team".into(),
            evidence: "Registers".into(),
        }
    }

    fn fields(card: NewRateCard) -> Vec<String> {
        let mut p = Problems::default();
        check_rate_card(&mut p, &card, &framework());
        p.0.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn every_rate_card_problem_names_its_field() {
        let mut engaged = NewRule::of(RuleKind::Engaged);
        engaged.area = Some("relationships".into());
        let mut improved = NewRule::of(RuleKind::Improved);
        improved.area = Some("confidence".into());
        improved.levels_at_least = Some(7);
        let mut recovered = NewRule::of(RuleKind::AttendanceRecovered);
        recovered.measure = Some("trusted_adult".into());
        recovered.from_below = Some(95.0);
        recovered.to_at_least = Some(90.0);
        let mut bad_money = new_milestone("Bad Code", NewRule::of(RuleKind::EnrolledWithConsent));
        bad_money.price_pence = -1;
        bad_money.minimum_duration_days = Some(30);
        bad_money.instalments = Some(vec![
            NewInstalment { share_percent: 50.0, after_days: 90 },
            NewInstalment { share_percent: 40.0, after_days: 90 },
        ]);
        let card = NewRateCard {
            milestones: vec![
                new_milestone("engaged", engaged),
                new_milestone("engaged", improved),
                new_milestone("recovered", recovered),
                bad_money,
            ],
            cap_per_child_pence: Some(-5),
            total_cap_pence: None,
        };
        assert_eq!(
            fields(card),
            [
                "rateCard.milestones[0].rule.area",
                "rateCard.milestones[0].rule.sessionsAtLeast",
                "rateCard.milestones[1].code",
                "rateCard.milestones[1].rule.area",
                "rateCard.milestones[1].rule.levelsAtLeast",
                "rateCard.milestones[2].rule.measure",
                "rateCard.milestones[2].rule.toAtLeast",
                "rateCard.milestones[3].code",
                "rateCard.milestones[3].pricePence",
                "rateCard.milestones[3].instalments[1].afterDays",
                "rateCard.milestones[3].instalments",
                "rateCard.milestones[3].minimumDurationDays",
                "rateCard.capPerChildPence",
            ]
        );
        assert_eq!(fields(NewRateCard::default()), ["rateCard.milestones"]);
    }

    #[test]
    fn a_good_card_is_stored_with_its_defaults() {
        let mut recovered = NewRule::of(RuleKind::AttendanceRecovered);
        recovered.from_below = Some(90.0);
        recovered.to_at_least = Some(95.0);
        let card = NewRateCard { milestones: vec![new_milestone("recovered", recovered)], ..Default::default() };
        let mut p = Problems::default();
        let stored = check_rate_card(&mut p, &card, &framework());
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(
            stored.milestones[0].rule,
            Rule::AttendanceRecovered { measure: "attendance_percent".into(), from_below: 90.0, to_at_least: 95.0 }
        );
        assert_eq!(stored.milestones[0].instalments, [Instalment { share_basis_points: WHOLE, after_days: 0 }]);
        let text = stored.to_stored().expect("json");
        assert!(text.contains("\"kind\":\"attendance_recovered\""), "{text}");
        assert_eq!(RateCard::from_stored(&text).expect("read back"), stored);
    }
}
