//! GraphQL types of the outcomes scale: the framework (a version of it), assessments and
//! progress. The framework is not personal data; assessments are read through `access`.

use crate::access::Field;
use crate::domain::{self, outcomes};
use crate::graphql::types::{shown, stored};
use crate::store::assessment;
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use backbone_seeds::framework as fw;
use chrono::{DateTime, NaiveDate, Utc};

/// When in the two-year programme an assessment was taken.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::AssessmentStage")]
pub enum AssessmentStage {
    Baseline,
    /// A termly review.
    Review,
    /// One year in.
    Midpoint,
    /// Two years in.
    Endpoint,
}

/// Which way a measure has been moving (from its last two assessments).
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::outcomes::Trend")]
pub enum Trend {
    Rising,
    Steady,
    Falling,
}

/// One level of the common scale (1 needs significant support … 5 flourishing).
#[derive(SimpleObject)]
pub struct ScaleLevel {
    pub level: i32,
    pub label: String,
    pub description: String,
}

/// A band of raw scores `[from, to)` (the last band includes `to`) and its level.
#[derive(SimpleObject)]
pub struct ScoreBand {
    pub from: f64,
    pub to: f64,
    pub level: i32,
}

/// A category of a categorical measure and its level.
#[derive(SimpleObject)]
pub struct ScoreCategory {
    pub value: String,
    pub label: String,
    pub level: i32,
}

/// One way of measuring an area, and how its raw score maps to the common scale.
#[derive(SimpleObject)]
pub struct Measure {
    pub code: String,
    pub name: String,
    /// The instrument, in words (licensed questionnaires are administered outside the
    /// backbone; only their scores are entered).
    pub instrument: String,
    /// `open`, `licensed` or `own`.
    pub licence: String,
    pub licence_holder: Option<String>,
    pub licence_note: String,
    pub higher_is_better: bool,
    /// Numeric measures: the raw range and its bands (empty for categorical ones).
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub decimals: Option<i32>,
    pub bands: Vec<ScoreBand>,
    /// Categorical measures: the values (empty for numeric ones).
    pub categories: Vec<ScoreCategory>,
    /// A level at or below this is at risk.
    pub at_risk_at_or_below: i32,
}

/// An outcome area and its measures.
#[derive(SimpleObject)]
pub struct OutcomeArea {
    pub code: String,
    pub name: String,
    pub measures: Vec<Measure>,
}

/// A version of the outcomes framework.
pub struct OutcomesFramework(pub outcomes::Version);

fn measure(m: &fw::Measure) -> Measure {
    let (min, max, decimals, bands, categories) = match &m.scoring {
        fw::Scoring::Numeric { min, max, decimals, bands } => (
            Some(*min),
            Some(*max),
            Some(i32::from(*decimals)),
            bands.iter().map(|b| ScoreBand { from: b.from, to: b.to, level: i32::from(b.level) }).collect(),
            Vec::new(),
        ),
        fw::Scoring::Categories { categories } => (
            None,
            None,
            None,
            Vec::new(),
            categories
                .iter()
                .map(|c| ScoreCategory { value: c.value.clone(), label: c.label.clone(), level: i32::from(c.level) })
                .collect(),
        ),
    };
    Measure {
        code: m.code.clone(),
        name: m.name.clone(),
        instrument: m.instrument.clone(),
        licence: serde_json::to_value(m.licence.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        licence_holder: m.licence.holder.clone(),
        licence_note: m.licence.note.clone(),
        higher_is_better: m.direction == fw::Direction::HigherIsBetter,
        min,
        max,
        decimals,
        bands,
        categories,
        at_risk_at_or_below: i32::from(m.at_risk_at_or_below),
    }
}

#[Object]
impl OutcomesFramework {
    /// 1 for the first load; the newest is live.
    async fn version(&self) -> i32 {
        self.0.model.version
    }
    async fn name(&self) -> &str {
        &self.0.framework.name
    }
    async fn loaded_at(&self) -> DateTime<Utc> {
        self.0.model.loaded_at
    }
    /// The common scale: levels 1 to 5.
    async fn scale(&self) -> Vec<ScaleLevel> {
        let f = &self.0.framework;
        f.scale
            .iter()
            .map(|l| ScaleLevel {
                level: i32::from(l.level),
                label: l.label.clone(),
                description: l.description.clone(),
            })
            .collect()
    }
    async fn areas(&self) -> Vec<OutcomeArea> {
        self.0
            .framework
            .areas
            .iter()
            .map(|a| OutcomeArea {
                code: a.code.clone(),
                name: a.name.clone(),
                measures: a.measures.iter().map(measure).collect(),
            })
            .collect()
    }
}

/// One measure taken for one child on one date.
pub struct Assessment(assessment::Model);

impl Assessment {
    /// Notes the read in the operation's read log (see `Child::new`).
    pub fn new(ctx: &Context<'_>, model: assessment::Model) -> async_graphql::Result<Self> {
        crate::graphql::read_audit::note(ctx, "Assessment", &model.child_id)?;
        Ok(Assessment(model))
    }
}

#[Object]
impl Assessment {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn area(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        shown(ctx, Field::AssessmentArea, Some(self.0.area_code.as_str()))
    }
    async fn measure(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        shown(ctx, Field::AssessmentMeasure, Some(self.0.measure_code.as_str()))
    }
    /// The raw value as entered (numeric measures).
    async fn value(&self) -> Option<f64> {
        self.0.raw_number
    }
    /// The raw value as entered (categorical measures).
    async fn category(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        shown(ctx, Field::AssessmentCategory, self.0.raw_category.as_deref())
    }
    /// The level on the common scale, under the framework version it was made under.
    async fn level(&self) -> i32 {
        i32::from(self.0.level)
    }
    async fn at_risk(&self) -> bool {
        self.0.at_risk
    }
    async fn stage(&self) -> async_graphql::Result<AssessmentStage> {
        Ok(stored(domain::AssessmentStage::from_stored(&self.0.stage))?.into())
    }
    async fn assessed_on(&self) -> NaiveDate {
        self.0.assessed_on
    }
    /// The framework version the level was mapped under.
    async fn framework_version(&self) -> i32 {
        self.0.framework_version
    }
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.0.recorded_at
    }
}

/// A child's progress on one measure, as the zone reports it.
#[derive(SimpleObject)]
pub struct MeasureProgress {
    pub area: String,
    pub measure: String,
    /// The first baseline assessment's level (null without a baseline).
    pub baseline_level: Option<i32>,
    pub latest_level: i32,
    pub latest_on: NaiveDate,
    pub assessments: i32,
    /// Latest − baseline.
    pub change: Option<i32>,
    pub trend: Option<Trend>,
    /// Moved up the scale since baseline.
    pub improved: Option<bool>,
    /// At risk at baseline, no longer at risk.
    pub crossed_threshold: Option<bool>,
}

impl From<outcomes::Progress> for MeasureProgress {
    fn from(p: outcomes::Progress) -> Self {
        MeasureProgress {
            area: p.area,
            measure: p.measure,
            baseline_level: p.baseline.map(i32::from),
            latest_level: i32::from(p.latest),
            latest_on: p.latest_on,
            assessments: p.assessments as i32,
            change: p.change.map(i32::from),
            trend: p.trend.map(Into::into),
            improved: p.improved,
            crossed_threshold: p.crossed_threshold,
        }
    }
}
