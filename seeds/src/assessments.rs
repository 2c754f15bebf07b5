//! The demo children's assessments on the common outcomes scale, all invented.
//!
//! Every enrolled child (and later) with a link worker is assessed, except a few enrolled
//! children whose baseline is still to come and some who left early: a **baseline** on
//! three or four measures a week or two after enrolment, a **review** at the end of each
//! term of 2025/26 that began at least six weeks after the baseline, a **midpoint** instead
//! of the summer review for children who started in the autumn term (a school year of
//! support), and an **endpoint** instead of it for children who completed. Children who
//! left early have at most one review; enrolled children who have not started support
//! have only their baseline. Each child improves, holds steady or falls back, measure by
//! measure, and some of those who improve cross the at-risk threshold.
//!
//! Where a partner with a demo account runs a programme the child attends, its worker
//! assesses one of the partnership's own measures for that programme's outcome areas, at
//! the child's first and last attended sessions (while the referral is live).
//!
//! Ranges, decimals, categories and levels all come from the parsed default framework
//! ([`framework::default_framework`]): a score is drawn from a band or category of the
//! level wanted, so it always maps back to that level. Dates come from the demo's fixed
//! calendar, never the clock, and are on or before [`REFERENCE_DATE`].
//!
//! It runs last, with its own fixed-seed [`Rng`], so the children, programmes and
//! brokering are exactly as they would be without it.

use chrono::{Datelike, NaiveDate, Weekday};

use crate::demo::{Rng, date, days_after};
use crate::framework::{self, Framework, LicenceKind, Measure, Scoring};
use crate::{
    Account, Assessment, AssessmentStage, AttendanceStatus, Child, ExitReason, OutcomeDomain, Programme,
    REFERENCE_DATE, ReferralStatus, Role, Score, Stage,
};

/// Fixed PRNG seed ("Assessed" in ASCII).
const SEED: u64 = 0x4173_7365_7373_6564;

/// A review needs at least this many days of support since the baseline.
const REVIEW_AFTER_DAYS: i64 = 42;

/// The endpoint needs at least this many days since the baseline.
const ENDPOINT_AFTER_DAYS: i64 = 14;

/// A partner's second assessment needs at least this many days since its first.
const PARTNER_REVIEW_AFTER_DAYS: i64 = 28;

/// The first Monday of the review fortnight at the end of each term of 2025/26: autumn,
/// spring and summer. The last one is the summer point (midpoint or endpoint).
fn review_windows() -> [NaiveDate; 3] {
    [date(2025, 12, 1), date(2026, 3, 16), date(2026, 7, 6)]
}

/// Where a child (or one measure) is heading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Trend {
    Up,
    Flat,
    Down,
}

/// Adds assessments to every child who has them.
pub(crate) fn generate(children: &mut [Child], programmes: &[Programme], accounts: &[Account]) {
    generate_with(SEED, children, programmes, accounts);
}

/// [`generate`] with a given seed.
pub(crate) fn generate_with(seed: u64, children: &mut [Child], programmes: &[Programme], accounts: &[Account]) {
    let framework = framework::default_framework();
    let mut rng = Rng(seed);
    for (index, child) in children.iter_mut().enumerate() {
        child.assessments = assess(&mut rng, &framework, index, child, programmes, accounts);
    }
}

/// One child's assessments, oldest first.
fn assess(
    rng: &mut Rng,
    framework: &Framework,
    index: usize,
    child: &Child,
    programmes: &[Programme],
    accounts: &[Account],
) -> Vec<Assessment> {
    let (Some(basis), Some(link_worker)) = (&child.lawful_basis, &child.link_worker_email) else {
        return Vec::new();
    };
    let (percent, trend) = match child.stage {
        Stage::Identified | Stage::Consented => return Vec::new(),
        Stage::Enrolled => (80, weighted_trend(rng, [50, 30, 20])),
        Stage::Active => (100, weighted_trend(rng, [50, 30, 20])),
        Stage::Completed => (100, weighted_trend(rng, [70, 20, 10])),
        Stage::Exited(ExitReason::Disengaged) => (60, Trend::Down),
        Stage::Exited(_) => (60, weighted_trend(rng, [40, 30, 30])),
    };
    if !rng.chance(percent) {
        return Vec::new();
    }
    let baseline = weekday(days_after(basis.recorded_on, rng.between(0, 14))).min(REFERENCE_DATE);
    let points = schedule(rng, child.stage, baseline);

    // The partner's measure first, so the link worker leaves it to them.
    let mut assessments =
        partner_series(rng, framework, (index, child), baseline, programmes, accounts).unwrap_or_default();
    let taken: Vec<String> = assessments.iter().map(|a| a.measure.clone()).collect();

    let attendance = framework.measure(&framework.screening.attendance_measure).map(|(_, m)| m);
    let mut others: Vec<&Measure> = framework
        .areas
        .iter()
        .flat_map(|area| &area.measures)
        .filter(|m| attendance.is_none_or(|a| a.code != m.code) && !taken.contains(&m.code))
        // Licensed questionnaires are for secondary pupils only (the holder's age guidance).
        .filter(|m| m.licence.kind != LicenceKind::Licensed || child.year_group >= 7)
        .collect();
    rng.shuffle(&mut others);
    others.truncate(rng.between(2, 3) as usize);
    let measures = attendance.into_iter().chain(others);

    for measure in measures {
        let levels = levels(measure);
        let trend = measure_trend(rng, trend);
        let path = path(rng, &levels, trend, points.len());
        for (&(stage, assessed_on), &step) in points.iter().zip(&path) {
            assessments.push(Assessment {
                measure: measure.code.clone(),
                score: score_at(rng, measure, levels[step]),
                stage,
                assessed_on,
                author_email: link_worker.clone(),
                programme_key: None,
            });
        }
    }
    // Oldest first; a stable sort keeps each day's assessments in measure order.
    assessments.sort_by_key(|a| a.assessed_on);
    assessments
}

fn weighted_trend(rng: &mut Rng, [up, flat, _down]: [usize; 3]) -> Trend {
    let roll = rng.below(100);
    if roll < up {
        Trend::Up
    } else if roll < up + flat {
        Trend::Flat
    } else {
        Trend::Down
    }
}

/// One measure's trend, given the child's: most measures follow the child, some hold.
fn measure_trend(rng: &mut Rng, child: Trend) -> Trend {
    match child {
        Trend::Up => weighted_trend(rng, [75, 25, 0]),
        Trend::Flat => weighted_trend(rng, [10, 80, 10]),
        Trend::Down => weighted_trend(rng, [0, 30, 70]),
    }
}

/// A weekday on or after `day` (weekends move on to Monday).
fn weekday(day: NaiveDate) -> NaiveDate {
    match day.weekday() {
        Weekday::Sat => days_after(day, 2),
        Weekday::Sun => days_after(day, 1),
        _ => day,
    }
}

/// The child's assessment points after the baseline, with the stage each marks.
fn schedule(rng: &mut Rng, stage: Stage, baseline: NaiveDate) -> Vec<(AssessmentStage, NaiveDate)> {
    let mut points = vec![(AssessmentStage::Baseline, baseline)];
    let mut reviews_left = match stage {
        Stage::Active | Stage::Completed => usize::MAX,
        // Left early: at most one review before they went.
        Stage::Exited(_) => rng.below(2),
        _ => 0,
    };
    let windows = review_windows();
    for (i, &monday) in windows.iter().enumerate() {
        if reviews_left == 0 {
            break;
        }
        let summer = i == windows.len() - 1;
        let (point, after) = match stage {
            Stage::Completed if summer => (AssessmentStage::Endpoint, ENDPOINT_AFTER_DAYS),
            Stage::Active if summer && baseline < date(2026, 1, 1) => (AssessmentStage::Midpoint, REVIEW_AFTER_DAYS),
            _ => (AssessmentStage::Review, REVIEW_AFTER_DAYS),
        };
        if (monday - baseline).num_days() < after {
            continue;
        }
        let on = weekday(days_after(monday, rng.between(0, 11))).min(REFERENCE_DATE);
        points.push((point, on));
        reviews_left -= 1;
    }
    points
}

/// The levels a measure's scores can reach, lowest first (e.g. 1 and 4 for a yes/no).
fn levels(measure: &Measure) -> Vec<u8> {
    let mut levels: Vec<u8> = match &measure.scoring {
        Scoring::Numeric { bands, .. } => bands.iter().map(|b| b.level).collect(),
        Scoring::Categories { categories } => categories.iter().map(|c| c.level).collect(),
    };
    levels.sort_unstable();
    levels.dedup();
    levels
}

/// How likely a child identified for support starts at each level of the scale.
fn baseline_weight(level: u8) -> usize {
    match level {
        1 | 2 => 30,
        3 => 25,
        4 => 12,
        _ => 3,
    }
}

/// Indexes into `levels` for `n` assessments following `trend`.
fn path(rng: &mut Rng, levels: &[u8], trend: Trend, n: usize) -> Vec<usize> {
    let top = levels.len() - 1;
    let total: usize = levels.iter().map(|&l| baseline_weight(l)).sum();
    let mut roll = rng.below(total);
    let mut start = 0;
    for (i, &level) in levels.iter().enumerate() {
        if roll < baseline_weight(level) {
            start = i;
            break;
        }
        roll -= baseline_weight(level);
    }
    if n < 2 || top == 0 {
        return vec![start; n];
    }
    let end = match trend {
        Trend::Up => {
            start = start.min(top - 1);
            (start + if n >= 3 && rng.chance(35) { 2 } else { 1 }).min(top)
        }
        Trend::Down => {
            start = start.max(1);
            start - 1
        }
        Trend::Flat => start,
    };
    // Evenly from start to end; half the time the change shows only late (rounded toward
    // the start), so the latest trend is rising or falling rather than steady.
    let late = rng.chance(50);
    let mut path: Vec<usize> = (0..n)
        .map(|i| {
            let moved = (end as f64 - start as f64) * i as f64 / (n - 1) as f64;
            (start as f64 + if late { moved.trunc() } else { moved.round() }) as usize
        })
        .collect();
    // Holding steady is rarely a straight line: sometimes one review dips or peaks.
    if trend == Trend::Flat && n >= 3 && rng.chance(20) {
        let i = rng.between(1, n as i64 - 2) as usize;
        path[i] = if start == top || (start > 0 && rng.chance(50)) { start - 1 } else { start + 1 };
    }
    path
}

/// A score at `level` on `measure`: from a band (or category) of that level.
fn score_at(rng: &mut Rng, measure: &Measure, level: u8) -> Score {
    match &measure.scoring {
        Scoring::Numeric { decimals, bands, .. } => {
            let candidates: Vec<usize> = (0..bands.len()).filter(|&i| bands[i].level == level).collect();
            let (lo, hi) = plausible_units(bands, rng.pick(&candidates), *decimals);
            Score::Number { units: rng.between(lo, hi), decimals: *decimals }
        }
        Scoring::Categories { categories } => {
            let candidates: Vec<&str> =
                categories.iter().filter(|c| c.level == level).map(|c| c.value.as_str()).collect();
            Score::Category(rng.pick(&candidates).to_owned())
        }
    }
}

/// The scores of band `i`, in steps of `10^-decimals`: `[from, to)`, or `[from, to]` for
/// the last band. A band at either end more than twice as wide as the median band is
/// narrowed to twice that width next to its neighbour, so attendance at level 1 is in the
/// seventies rather than anywhere from 0%, and incidents at level 1 are 11 to 16, not 50.
fn plausible_units(bands: &[framework::Band], i: usize, decimals: u8) -> (i64, i64) {
    let scale = 10f64.powi(i32::from(decimals));
    let units = |x: f64| (x * scale).round() as i64;
    let band = &bands[i];
    let last = i == bands.len() - 1;
    let (mut lo, mut hi) = (units(band.from), units(band.to) - i64::from(!last));
    let mut widths: Vec<i64> = bands.iter().map(|b| units(b.to) - units(b.from)).collect();
    widths.sort_unstable();
    let wide = 2 * widths[widths.len() / 2];
    if hi - lo >= wide && bands.len() > 1 {
        if i == 0 {
            lo = hi + 1 - wide;
        } else if last {
            hi = lo + wide - 1;
        }
    }
    (lo, hi)
}

/// The outcome area a programme's domain serves.
fn area_code(domain: OutcomeDomain) -> &'static str {
    match domain {
        OutcomeDomain::EmotionalWellbeing => "emotional_wellbeing",
        OutcomeDomain::Relationships => "relationships",
        OutcomeDomain::ConfidenceAspiration => "confidence_aspiration",
        OutcomeDomain::ProgressAtSchool => "progress_at_school",
        OutcomeDomain::AttendanceEngagement => "attendance_engagement",
    }
}

/// A partner worker's baseline and review on one of the partnership's own measures for
/// the first programme the child attends (active or completed) whose partner has a demo
/// worker: at the child's first and last attended sessions since `since` (the link
/// worker's baseline).
fn partner_series(
    rng: &mut Rng,
    framework: &Framework,
    (index, child): (usize, &Child),
    since: NaiveDate,
    programmes: &[Programme],
    accounts: &[Account],
) -> Option<Vec<Assessment>> {
    if !rng.chance(70) {
        return None;
    }
    child.referrals.iter().filter(|r| matches!(r.status, ReferralStatus::Active | ReferralStatus::Completed)).find_map(
        |referral| {
            let programme = programmes.iter().find(|p| p.key == referral.programme_key)?;
            let worker = accounts
                .iter()
                .find(|a| a.organisation_key == programme.partner_key && a.role == Role::PartnerWorker)?;
            let attended: Vec<NaiveDate> = programme
                .sessions
                .iter()
                .filter(|s| s.held_on >= since)
                .filter(|s| s.register.iter().any(|l| l.child == index && l.status == AttendanceStatus::Attended))
                .map(|s| s.held_on)
                .collect();
            let (&first, &last) = (attended.first()?, attended.last()?);
            if (last - first).num_days() < PARTNER_REVIEW_AFTER_DAYS {
                return None;
            }
            let areas: Vec<&str> = programme.domains.iter().map(|&d| area_code(d)).collect();
            let own: Vec<&Measure> = framework
                .areas
                .iter()
                .filter(|area| areas.contains(&area.code.as_str()))
                .flat_map(|area| &area.measures)
                .filter(|m| m.licence.kind == LicenceKind::Own)
                .collect();
            let measure = *own.get(rng.below(own.len()))?;
            let levels = levels(measure);
            let trend = weighted_trend(rng, [60, 30, 10]);
            let path = path(rng, &levels, trend, 2);
            let points = [(AssessmentStage::Baseline, first), (AssessmentStage::Review, last)];
            Some(
                points
                    .iter()
                    .zip(path)
                    .map(|(&(stage, assessed_on), step)| Assessment {
                        measure: measure.code.clone(),
                        score: score_at(rng, measure, levels[step]),
                        stage,
                        assessed_on,
                        author_email: worker.email.clone(),
                        programme_key: Some(programme.key.clone()),
                    })
                    .collect(),
            )
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DemoZone, demo_zone};
    use std::collections::BTreeMap;

    fn assessments(zone: &DemoZone) -> impl Iterator<Item = (&Child, &Assessment)> {
        zone.children.iter().flat_map(|c| c.assessments.iter().map(move |a| (c, a)))
    }

    /// Each child's series per measure, oldest first, as (child index, measure) → series.
    fn series(zone: &DemoZone) -> BTreeMap<(usize, &str), Vec<&Assessment>> {
        let mut series: BTreeMap<(usize, &str), Vec<&Assessment>> = BTreeMap::new();
        for (i, child) in zone.children.iter().enumerate() {
            for a in &child.assessments {
                series.entry((i, a.measure.as_str())).or_default().push(a);
            }
        }
        series
    }

    fn level(framework: &Framework, a: &Assessment) -> u8 {
        let (_, measure) = framework.measure(&a.measure).expect("a measure of the default framework");
        measure.level_of(&a.score.raw()).unwrap_or_else(|e| panic!("{} {:?}: {e}", a.measure, a.score))
    }

    #[test]
    fn every_score_is_valid_for_its_measure() {
        let framework = framework::default_framework();
        let zone = demo_zone();
        let mut seen: Vec<&str> = Vec::new();
        for (_, a) in assessments(&zone) {
            let (_, measure) = framework.measure(&a.measure).expect("a measure of the default framework");
            let level = level(&framework, a);
            assert!((1..=5).contains(&level));
            match (&measure.scoring, &a.score) {
                (Scoring::Numeric { decimals, .. }, Score::Number { decimals: d, .. }) => assert_eq!(d, decimals),
                (Scoring::Categories { .. }, Score::Category(_)) => {}
                _ => panic!("{} scored as the wrong kind: {:?}", a.measure, a.score),
            }
            seen.push(&a.measure);
        }
        seen.sort_unstable();
        seen.dedup();
        let all = framework.areas.iter().map(|area| area.measures.len()).sum::<usize>();
        assert_eq!(seen.len(), all, "every measure is used somewhere: {seen:?}");
    }

    #[test]
    fn scores_are_plausible_not_just_in_range() {
        let zone = demo_zone();
        for (_, a) in assessments(&zone) {
            let n = a.score.number();
            match a.measure.as_str() {
                "attendance_percent" => assert!(n.is_some_and(|n| (70.0..=100.0).contains(&n)), "{n:?}"),
                "behaviour_incidents" => assert!(n.is_some_and(|n| n <= 16.0), "{n:?}"),
                _ => {}
            }
        }
    }

    #[test]
    fn who_is_assessed_by_stage() {
        let zone = demo_zone();
        for child in &zone.children {
            let assessed = !child.assessments.is_empty();
            match child.stage {
                Stage::Identified | Stage::Consented => assert!(!assessed, "{child:?}"),
                Stage::Active | Stage::Completed => assert!(assessed, "{child:?}"),
                Stage::Enrolled => {
                    assert!(child.assessments.iter().all(|a| a.stage == AssessmentStage::Baseline), "{child:?}")
                }
                Stage::Exited(_) => {
                    let reviews = child.assessments.iter().filter(|a| a.author_email == link_worker(child));
                    let dates: Vec<NaiveDate> =
                        reviews.filter(|a| a.stage != AssessmentStage::Baseline).map(|a| a.assessed_on).collect();
                    assert!(dates.windows(2).all(|w| w[0] == w[1]), "at most one review: {child:?}");
                }
            }
            if child.stage == Stage::Completed {
                let last = child.assessments.iter().rfind(|a| a.author_email == link_worker(child));
                assert_eq!(last.map(|a| a.stage), Some(AssessmentStage::Endpoint), "{child:?}");
            }
        }
        let enrolled = zone.children.iter().filter(|c| c.stage == Stage::Enrolled && !c.assessments.is_empty());
        assert!(enrolled.count() >= 15, "most enrolled children have a baseline");
        let exited = zone.children.iter().filter(|c| matches!(c.stage, Stage::Exited(_)) && !c.assessments.is_empty());
        assert!(exited.count() >= 2, "some children who left were assessed");
        for stage in [AssessmentStage::Baseline, AssessmentStage::Review, AssessmentStage::Midpoint] {
            assert!(assessments(&zone).any(|(_, a)| a.stage == stage), "no {stage:?}");
        }
    }

    fn link_worker(child: &Child) -> String {
        child.link_worker_email.clone().unwrap_or_default()
    }

    #[test]
    fn dates_are_ordered_and_within_the_demo_calendar() {
        let zone = demo_zone();
        for child in &zone.children {
            let dates: Vec<NaiveDate> = child.assessments.iter().map(|a| a.assessed_on).collect();
            assert!(dates.is_sorted(), "oldest first: {child:?}");
            for a in &child.assessments {
                assert!(a.assessed_on <= REFERENCE_DATE, "{a:?}");
                assert!(!matches!(a.assessed_on.weekday(), Weekday::Sat | Weekday::Sun), "{a:?}");
                let enrolled = child.lawful_basis.as_ref().map(|b| b.recorded_on).expect("enrolled");
                assert!(a.assessed_on >= enrolled, "{a:?}");
            }
        }
        for ((_, measure), series) in series(&zone) {
            assert_eq!(series[0].stage, AssessmentStage::Baseline, "{measure} starts with a baseline");
            assert!(series[1..].iter().all(|a| a.stage != AssessmentStage::Baseline), "{measure}: one baseline");
            assert!(series.windows(2).all(|w| w[0].assessed_on < w[1].assessed_on), "{measure}: {series:?}");
            let last = series.len() - 1;
            for (k, a) in series.iter().enumerate() {
                if matches!(a.stage, AssessmentStage::Midpoint | AssessmentStage::Endpoint) {
                    assert_eq!(k, last, "{measure}: the midpoint or endpoint comes last: {series:?}");
                }
            }
        }
        // A midpoint is a school year in: only for children who started in the autumn term.
        for (_, a) in assessments(&zone).filter(|(_, a)| a.stage == AssessmentStage::Midpoint) {
            assert!(a.assessed_on >= date(2026, 7, 6), "{a:?}");
        }
        for ((i, _), series) in series(&zone) {
            if series.iter().any(|a| a.stage == AssessmentStage::Midpoint) {
                assert!(series[0].assessed_on < date(2026, 1, 1), "{:?}", zone.children[i]);
            }
        }
    }

    /// Over every measure assessed more than once, first to latest level: how many rose,
    /// held, fell, and rose out of the at-risk range.
    fn movements(zone: &DemoZone, framework: &Framework) -> (usize, usize, usize, usize) {
        let (mut up, mut flat, mut down, mut crossed) = (0, 0, 0, 0);
        for ((_, measure), series) in series(zone).into_iter().filter(|(_, s)| s.len() >= 2) {
            let (_, m) = framework.measure(measure).expect("measure");
            let (first, last) = (level(framework, series[0]), level(framework, series[series.len() - 1]));
            match last.cmp(&first) {
                std::cmp::Ordering::Greater => up += 1,
                std::cmp::Ordering::Equal => flat += 1,
                std::cmp::Ordering::Less => down += 1,
            }
            crossed += usize::from(m.is_at_risk(first) && !m.is_at_risk(last));
        }
        (up, flat, down, crossed)
    }

    #[test]
    fn some_improve_some_hold_and_some_fall_and_some_cross_the_threshold() {
        let framework = framework::default_framework();
        let zone = demo_zone();
        let (up, flat, down, crossed) = movements(&zone, &framework);
        assert!(up >= 100 && flat >= 50 && down >= 30, "{up} up, {flat} steady, {down} down");
        assert!(up > flat && up > down, "{up} up, {flat} steady, {down} down");
        assert!(crossed >= 30, "{crossed} crossed the at-risk threshold");
    }

    #[test]
    fn authors_may_assess_the_child() {
        let framework = framework::default_framework();
        let zone = demo_zone();
        let mut by_partner = 0;
        for (i, child) in zone.children.iter().enumerate() {
            for a in &child.assessments {
                let author = zone.accounts.iter().find(|x| x.email == a.author_email).expect("a demo account");
                match &a.programme_key {
                    None => assert_eq!(Some(&a.author_email), child.link_worker_email.as_ref(), "{child:?}"),
                    Some(key) => {
                        by_partner += 1;
                        let programme = zone.programme(key).expect("a programme");
                        assert_eq!(author.role, Role::PartnerWorker);
                        assert_eq!(author.organisation_key, programme.partner_key);
                        // Live (active) when written: a referral the child attended.
                        let referral = child.referrals.iter().find(|r| &r.programme_key == key).expect("referral");
                        assert!(matches!(referral.status, ReferralStatus::Active | ReferralStatus::Completed));
                        let attended = programme.sessions.iter().any(|s| {
                            s.held_on == a.assessed_on
                                && s.register.iter().any(|l| l.child == i && l.status == AttendanceStatus::Attended)
                        });
                        assert!(attended, "on a day the child attended: {a:?}");
                        // One of the partnership's own measures, in an area the programme serves.
                        let (area, measure) = framework.measure(&a.measure).expect("measure");
                        assert_eq!(measure.licence.kind, LicenceKind::Own, "{a:?}");
                        assert!(programme.domains.iter().any(|&d| area_code(d) == area.code), "{a:?}");
                    }
                }
            }
        }
        assert!(by_partner >= 6, "{by_partner} partner assessments");
    }

    #[test]
    fn licensed_questionnaires_only_for_secondary_pupils() {
        let framework = framework::default_framework();
        let zone = demo_zone();
        for (child, a) in assessments(&zone) {
            let (_, m) = framework.measure(&a.measure).expect("measure");
            if m.licence.kind == LicenceKind::Licensed {
                assert!(child.year_group >= 7, "{a:?}");
            }
        }
    }

    #[test]
    fn is_deterministic_for_a_seed() {
        let zone = demo_zone();
        let run = |seed: u64| {
            let mut children = zone.children.clone();
            generate_with(seed, &mut children, &zone.programmes, &zone.accounts);
            children.into_iter().map(|c| c.assessments).collect::<Vec<_>>()
        };
        assert_eq!(run(SEED), run(SEED));
        assert_eq!(run(SEED), zone.children.iter().map(|c| c.assessments.clone()).collect::<Vec<_>>());
        assert_ne!(run(SEED), run(SEED + 1));
    }

    #[test]
    fn plausible_units_stay_inside_the_band() {
        let framework = framework::default_framework();
        for measure in framework.areas.iter().flat_map(|a| &a.measures) {
            let Scoring::Numeric { bands, decimals, .. } = &measure.scoring else { continue };
            for (i, band) in bands.iter().enumerate() {
                let (lo, hi) = plausible_units(bands, i, *decimals);
                assert!(lo <= hi, "{} band {i}", measure.code);
                for units in [lo, hi] {
                    let score = Score::Number { units, decimals: *decimals };
                    assert_eq!(measure.level_of(&score.raw()), Ok(band.level), "{} {units}", measure.code);
                }
            }
        }
    }

    #[test]
    fn score_numbers_have_no_more_decimals_than_allowed() {
        assert_eq!(Score::Number { units: 947, decimals: 1 }.number(), Some(94.7));
        assert_eq!(Score::Number { units: 947, decimals: 1 }.number().map(|n| n.to_string()), Some("94.7".into()));
        assert_eq!(Score::Number { units: 38, decimals: 0 }.raw(), framework::RawValue::Number(38.0));
        assert_eq!(Score::Category("yes".into()).category(), Some("yes"));
        assert_eq!(Score::Category("yes".into()).number(), None);
    }

    /// The README describes the demo zone with its true counts; this fails when the
    /// generator changes them, naming the sentence to update.
    #[test]
    fn the_readme_states_the_true_counts() {
        let framework = framework::default_framework();
        let zone = demo_zone();
        let count = |stage: AssessmentStage| assessments(&zone).filter(|(_, a)| a.stage == stage).count();
        let thousands = |n: usize| {
            if n >= 1000 { format!("{},{:03}", n / 1000, n % 1000) } else { n.to_string() }
        };
        let (up, flat, down, crossed) = movements(&zone, &framework);
        let referrals: usize = zone.children.iter().map(|c| c.referrals.len()).sum();
        let sessions: usize = zone.programmes.iter().map(|p| p.sessions.len()).sum();
        let lines: usize = zone.programmes.iter().flat_map(|p| &p.sessions).map(|s| s.register.len()).sum();
        let contacts: usize = zone.children.iter().map(|c| c.contacts.len()).sum();
        let notes: usize = zone.children.iter().map(|c| c.notes.len()).sum();
        let expected = format!(
            "with {referrals} referrals, {sessions} sessions ({lines} register lines), {contacts} contacts, {notes} \
             progress notes, one safeguarding concern and {} assessments on the [outcomes scale](docs/outcomes.md) \
             of {} children ({} baselines, {} termly reviews, {} midpoints, {} endpoints; {} recorded by the \
             partner worker, the rest by link workers). Of the {} measures assessed more than once, {up} rose \
             ({crossed} of them out of the at-risk range), {flat} held steady and {down} fell.",
            thousands(assessments(&zone).count()),
            zone.children.iter().filter(|c| !c.assessments.is_empty()).count(),
            count(AssessmentStage::Baseline),
            count(AssessmentStage::Review),
            count(AssessmentStage::Midpoint),
            count(AssessmentStage::Endpoint),
            assessments(&zone).filter(|(_, a)| a.programme_key.is_some()).count(),
            up + flat + down,
        );
        let readme = include_str!("../../README.md").split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(readme.contains(&expected), "README.md should say: {expected}");
    }
}
