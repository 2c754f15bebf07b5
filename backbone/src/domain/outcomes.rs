//! The common "whole child" outcomes scale: the framework (versioned), assessments, and
//! each child's progress.
//!
//! The framework is data (`seeds/framework/outcomes.toml`, validated by
//! `backbone_seeds::framework`). Loading it makes a new version; the newest is live. An
//! assessment stores the raw value as entered, the common-scale level it mapped to, whether
//! that level was at risk, and the version it was made under: changing a mapping later
//! never rewrites history.

use crate::access;
use crate::audit::{Audited, now};
use crate::auth::Actor;
use crate::domain::{AssessmentStage, validate};
use crate::error::{Error, FieldError, Result};
use crate::store::bundle::{Read, Reader};
use crate::store::{assessment, framework_version};
use backbone_seeds::framework::{self, Framework, RawValue};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
};
use sha2::{Digest, Sha256};

/// The partnership's default framework file (`seeds/framework/outcomes.toml`).
pub use backbone_seeds::framework::DEFAULT_TOML as DEFAULT_FRAMEWORK;

/// A loaded framework version and its definition.
#[derive(Clone, Debug)]
pub struct Version {
    pub model: framework_version::Model,
    pub framework: Framework,
}

fn decode(model: framework_version::Model) -> Result<Version> {
    let framework = serde_json::from_str(&model.definition)
        .map_err(|e| Error::Internal(anyhow::anyhow!("framework version {} is unreadable: {e}", model.version)))?;
    Ok(Version { model, framework })
}

/// Validates a framework file and loads it as the next version (backbone admins, and the
/// system). Every problem is reported as `INVALID_INPUT`, each naming its place in the
/// file. Loading a file identical to the live version is a `CONFLICT`.
pub async fn load(db: &DatabaseConnection, actor: &Actor, text: &str) -> Result<Version> {
    access::require_backbone_admin(actor, "load the outcomes framework")?;
    let parsed = framework::parse(text).map_err(|errors| {
        Error::InvalidInput(errors.into_iter().map(|e| FieldError { field: e.place, message: e.message }).collect())
    })?;
    let checksum = hex::encode(Sha256::digest(text.as_bytes()));
    let mut tx = Audited::begin(db, actor).await?;
    let latest = framework_version::Entity::find().order_by_desc(framework_version::Column::Version).one(&*tx).await?;
    if latest.as_ref().is_some_and(|l| l.checksum == checksum) {
        return Err(Error::conflict("this file is already the live version of the framework"));
    }
    let definition = serde_json::to_string(&parsed).map_err(|e| Error::Internal(e.into()))?;
    let created = framework_version::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        version: Set(latest.map_or(1, |l| l.version + 1)),
        name: Set(parsed.name.clone()),
        definition: Set(definition),
        checksum: Set(checksum),
        loaded_by: Set(actor.user_id.clone()),
        loaded_at: Set(now()),
    }
    .insert(&*tx)
    .await?;
    tx.record("framework.load", None, &["outcomesFramework"]);
    tx.commit().await?;
    Ok(Version { model: created, framework: parsed })
}

/// The live version (the newest), or a given one. Not personal data: anyone signed in.
pub async fn version<C: ConnectionTrait>(conn: &C, number: Option<i32>) -> Result<Version> {
    let query = framework_version::Entity::find();
    let found = match number {
        Some(n) => query.filter(framework_version::Column::Version.eq(n)).one(conn).await?,
        None => query.order_by_desc(framework_version::Column::Version).one(conn).await?,
    };
    decode(found.ok_or(Error::NotFound("outcomes framework version"))?)
}

/// The live version, for use cases that need one: without a loaded framework they cannot
/// proceed (`CONFLICT`).
pub async fn live<C: ConnectionTrait>(conn: &C) -> Result<Version> {
    match version(conn, None).await {
        Err(Error::NotFound(_)) => Err(Error::conflict(
            "no outcomes framework is loaded: an admin loads one first (`backbone framework load FILE`)",
        )),
        other => other,
    }
}

/// One assessment as entered.
#[derive(Debug, Clone)]
pub struct NewAssessment {
    pub child_id: String,
    pub measure: String,
    /// For a numeric measure.
    pub value: Option<f64>,
    /// For a categorical measure.
    pub category: Option<String>,
    pub stage: AssessmentStage,
    pub assessed_on: String,
}

/// Records an assessment under the live framework: the raw value must be in the
/// measure's range (`INVALID_INPUT` naming `value` or `category`).
pub async fn record(db: &DatabaseConnection, actor: &Actor, input: NewAssessment) -> Result<assessment::Model> {
    validate::id(&input.child_id).map_err(|_| Error::invalid("childId", "must be an id returned by this API"))?;
    let assessed_on = validate::past_date_in("assessedOn", &input.assessed_on)?;
    access::may_assess(actor)?;
    let live = live(db).await?;
    let (area, measure) = live
        .framework
        .measure(input.measure.trim())
        .ok_or_else(|| Error::invalid("measure", "is not a measure of the live outcomes framework"))?;
    let raw = match (&input.value, &input.category) {
        (Some(v), None) => RawValue::Number(*v),
        (None, Some(c)) => RawValue::Category(c.trim().to_owned()),
        _ => return Err(Error::invalid("value", "give either value (a number) or category, not both")),
    };
    let field = if matches!(raw, RawValue::Number(_)) { "value" } else { "category" };
    let level = measure.level_of(&raw).map_err(|e| Error::invalid(field, e.0))?;
    let mut tx = Audited::begin(db, actor).await?;
    let child = access::find_child(&*tx, actor, &input.child_id).await?;
    validate::not_before_birth("assessedOn", assessed_on, access::birth_bound(actor, &child))?;
    let created = assessment::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        child_id: Set(input.child_id.clone()),
        framework_version_id: Set(live.model.id.clone()),
        framework_version: Set(live.model.version),
        area_code: Set(area.code.clone()),
        measure_code: Set(measure.code.clone()),
        raw_number: Set(input.value),
        raw_category: Set(match raw {
            RawValue::Category(c) => Some(c),
            RawValue::Number(_) => None,
        }),
        level: Set(i16::from(level)),
        at_risk: Set(measure.is_at_risk(level)),
        stage: Set(input.stage.as_str().to_owned()),
        assessed_on: Set(assessed_on),
        recorded_by: Set(actor.user_id.clone()),
        organisation_id: Set(actor.organisation_id.clone()),
        recorded_at: Set(now()),
    }
    .insert(&*tx)
    .await?;
    tx.record("assessment.record", Some(&input.child_id), &["assessments"]);
    tx.commit().await?;
    Ok(created)
}

/// Assessments of many children the caller may read, oldest first (loader).
pub async fn of_children<R: Reader>(conn: &R, actor: &Actor, child_ids: &[String]) -> Result<Vec<assessment::Model>> {
    Ok(assessment::Entity::find()
        .filter(assessment::Column::ChildId.is_in(child_ids.to_vec()))
        .filter(access::assessment_condition(actor))
        .order_by_asc(assessment::Column::AssessedOn)
        .order_by_asc(assessment::Column::Id)
        .read(conn)
        .await?)
}

/// Which way a measure has been moving.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trend {
    Rising,
    Steady,
    Falling,
}

/// A child's progress on one measure, as the zone reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct Progress {
    pub area: String,
    pub measure: String,
    /// The first baseline assessment's level, if a baseline was taken.
    pub baseline: Option<i16>,
    pub latest: i16,
    pub latest_on: chrono::NaiveDate,
    pub assessments: usize,
    /// Latest − baseline.
    pub change: Option<i16>,
    /// From the last two assessments.
    pub trend: Option<Trend>,
    /// Moved up the scale since baseline.
    pub improved: Option<bool>,
    /// At risk at baseline and no longer at risk.
    pub crossed_threshold: Option<bool>,
}

/// Progress per measure from one child's assessments (oldest first). Pure, so that the
/// rules are unit-tested.
pub fn progress(assessments: &[assessment::Model]) -> Vec<Progress> {
    // Each measure once, in the order it was first assessed.
    let mut seen = std::collections::HashSet::new();
    assessments
        .iter()
        .map(|a| a.measure_code.as_str())
        .filter(|m| seen.insert(*m))
        .filter_map(|m| {
            let series: Vec<&assessment::Model> = assessments.iter().filter(|a| a.measure_code == m).collect();
            let last = *series.last()?;
            let baseline = series.iter().find(|a| a.stage == AssessmentStage::Baseline.as_str()).copied();
            let trend = (series.len() >= 2).then(|| {
                let before = series[series.len() - 2].level;
                match last.level.cmp(&before) {
                    std::cmp::Ordering::Greater => Trend::Rising,
                    std::cmp::Ordering::Equal => Trend::Steady,
                    std::cmp::Ordering::Less => Trend::Falling,
                }
            });
            Some(Progress {
                area: last.area_code.clone(),
                measure: m.to_owned(),
                baseline: baseline.map(|b| b.level),
                latest: last.level,
                latest_on: last.assessed_on,
                assessments: series.len(),
                change: baseline.map(|b| last.level - b.level),
                trend,
                improved: baseline.map(|b| last.level > b.level),
                crossed_threshold: baseline.map(|b| b.at_risk && !last.at_risk),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn a(measure: &str, stage: AssessmentStage, on: &str, level: i16, at_risk: bool) -> assessment::Model {
        assessment::Model {
            id: uuid::Uuid::now_v7().to_string(),
            child_id: "c".into(),
            framework_version_id: "v".into(),
            framework_version: 1,
            area_code: "emotional_wellbeing".into(),
            measure_code: measure.into(),
            raw_number: None,
            raw_category: None,
            level,
            at_risk,
            stage: stage.as_str().into(),
            assessed_on: NaiveDate::parse_from_str(on, "%Y-%m-%d").expect("date"),
            recorded_by: "u".into(),
            organisation_id: "o".into(),
            recorded_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn improved_and_crossed_the_threshold() {
        let rows = [
            a("wellbeing", AssessmentStage::Baseline, "2025-09-10", 2, true),
            a("wellbeing", AssessmentStage::Review, "2025-12-10", 2, true),
            a("wellbeing", AssessmentStage::Midpoint, "2026-07-10", 4, false),
        ];
        let p = progress(&rows);
        assert_eq!(p.len(), 1);
        assert_eq!((p[0].baseline, p[0].latest, p[0].change), (Some(2), 4, Some(2)));
        assert_eq!(p[0].trend, Some(Trend::Rising));
        assert_eq!((p[0].improved, p[0].crossed_threshold), (Some(true), Some(true)));
    }

    #[test]
    fn improved_without_crossing_and_falling_back() {
        let rows = [
            a("attendance", AssessmentStage::Baseline, "2025-09-10", 1, true),
            a("attendance", AssessmentStage::Review, "2025-12-10", 3, false),
            a("attendance", AssessmentStage::Review, "2026-03-10", 2, true),
        ];
        let p = progress(&rows);
        assert_eq!(p[0].trend, Some(Trend::Falling));
        assert_eq!((p[0].improved, p[0].crossed_threshold), (Some(true), Some(false)));
    }

    #[test]
    fn no_baseline_means_no_change_and_one_reading_no_trend() {
        let p = progress(&[a("maths", AssessmentStage::Review, "2025-12-10", 3, false)]);
        assert_eq!((p[0].baseline, p[0].change, p[0].improved, p[0].trend), (None, None, None, None));
        let p = progress(&[
            a("maths", AssessmentStage::Baseline, "2025-09-10", 3, false),
            a("reading", AssessmentStage::Baseline, "2025-09-10", 1, true),
            a("maths", AssessmentStage::Endpoint, "2027-07-10", 3, false),
        ]);
        assert_eq!(p.len(), 2, "one entry per measure");
        assert_eq!((p[0].measure.as_str(), p[0].trend, p[0].improved), ("maths", Some(Trend::Steady), Some(false)));
        assert_eq!((p[1].measure.as_str(), p[1].trend), ("reading", None));
    }
}
