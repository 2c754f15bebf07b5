//! GraphQL types of shared metrics. Every figure arrives already protected by
//! `domain::disclosure` (for funders: suppressed and rounded); these types only show it.

use crate::domain::disclosure::{Audience, Count};
use crate::domain::metrics as m;
use crate::graphql::brokering::ReferralStatus;
use async_graphql::{Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};

/// A breakdown of the catalogue.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::metrics::Dimension")]
pub enum MetricsDimension {
    Anchor,
    /// Children with a referral to each partner (a child may count under several).
    Partner,
    /// Children with a referral to each programme (a child may count under several).
    Programme,
    YearGroup,
    Cohort,
    /// Free school meals: `yes` / `no`.
    Fsm,
    Send,
    Eal,
}

/// A characteristic of children, as a filter.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::metrics::Characteristic")]
pub enum Characteristic {
    Fsm,
    Send,
    Eal,
}

/// What to count. Funders may narrow by at most one of cohort, anchor, partner, programme,
/// year group or characteristic at a time; period and area are free.
#[derive(InputObject, Default)]
pub struct MetricsFilter {
    /// An academic year (`2025-26`) or a term (`2025-26 autumn`, `spring`, `summer`).
    pub period: Option<String>,
    /// An enrolment cohort, written like `2025/26`.
    pub cohort: Option<String>,
    pub anchor_id: Option<ID>,
    pub partner_id: Option<ID>,
    pub programme_id: Option<ID>,
    /// An outcome area code: the outcomes section covers only this area.
    pub area: Option<String>,
    pub year_group: Option<i64>,
    pub characteristic: Option<Characteristic>,
}

impl From<MetricsFilter> for m::Filter {
    fn from(f: MetricsFilter) -> Self {
        m::Filter {
            period: f.period,
            cohort: f.cohort,
            anchor_id: f.anchor_id.map(|i| i.0),
            partner_id: f.partner_id.map(|i| i.0),
            programme_id: f.programme_id.map(|i| i.0),
            area: f.area,
            year_group: f.year_group.map(crate::graphql::inputs::int),
            characteristic: f.characteristic.map(Into::into),
        }
    }
}

/// A count as disclosure control lets it be shown: `value` is null when `suppressed`.
#[derive(SimpleObject, Clone, Copy)]
pub struct CountCell {
    pub value: Option<i64>,
    pub suppressed: bool,
}

impl From<Count> for CountCell {
    fn from(c: Count) -> Self {
        CountCell { value: c.value, suppressed: c.suppressed }
    }
}

/// Children who reached each stage of enrolment.
#[derive(SimpleObject)]
pub struct Funnel {
    pub identified: CountCell,
    pub consented: CountCell,
    pub enrolled: CountCell,
    pub active: CountCell,
    pub completed: CountCell,
    pub exited: CountCell,
}

/// Referrals with one status.
#[derive(SimpleObject)]
pub struct StatusCount {
    pub status: ReferralStatus,
    pub count: CountCell,
}

/// Children at one level of the common scale.
#[derive(SimpleObject)]
pub struct LevelCount {
    pub level: i32,
    pub count: CountCell,
}

/// One area of the common scale.
#[derive(SimpleObject)]
pub struct AreaMetrics {
    pub area: String,
    /// Children with an assessment in the area.
    pub children: CountCell,
    /// Children at each level at their first assessment in the area.
    pub baseline: Vec<LevelCount>,
    /// Children at each level at their latest assessment in the area.
    pub latest: Vec<LevelCount>,
    /// Children assessed more than once in the area: the base of `meanChange` and
    /// `shareImproved`, which are null when it is suppressed.
    pub children_reassessed: CountCell,
    /// Mean of (latest − baseline level).
    pub mean_change: Option<f64>,
    /// Share (0–1) whose latest level is above their baseline.
    pub share_improved: Option<f64>,
}

fn levels(counts: &[Count]) -> Vec<LevelCount> {
    counts.iter().enumerate().map(|(i, c)| LevelCount { level: i as i32 + 1, count: (*c).into() }).collect()
}

/// The figures of one group of a breakdown, or of the whole selection.
pub struct MetricsGroup(pub m::Group);

#[Object]
impl MetricsGroup {
    /// The group's key: an organisation or programme id, a year group, a cohort, `yes` or
    /// `no`; null for the total.
    async fn key(&self) -> Option<&str> {
        self.0.key.as_deref()
    }
    /// A name for people: the organisation or programme name, `year 5`, …; `total`.
    async fn label(&self) -> &str {
        &self.0.label
    }
    async fn funnel(&self) -> Funnel {
        let f = self.0.funnel.map(CountCell::from);
        Funnel { identified: f[0], consented: f[1], enrolled: f[2], active: f[3], completed: f[4], exited: f[5] }
    }
    /// Referrals by their current status.
    async fn referrals(&self) -> Vec<StatusCount> {
        self.0.referrals.iter().map(|(s, c)| StatusCount { status: (*s).into(), count: (*c).into() }).collect()
    }
    /// Sessions held; null for breakdowns by a child's characteristics (a session is not
    /// one child's).
    async fn sessions_delivered(&self) -> Option<CountCell> {
        self.0.sessions_delivered.map(Into::into)
    }
    /// Children offered at least one session: the base of `attendanceRate`.
    async fn children_offered_sessions(&self) -> CountCell {
        self.0.children_offered_sessions.into()
    }
    /// Sessions attended ÷ sessions offered (0–1).
    async fn attendance_rate(&self) -> Option<f64> {
        self.0.attendance_rate
    }
    /// Children who attended at least `metrics.engaged_after_sessions` sessions.
    async fn engaged_children(&self) -> CountCell {
        self.0.engaged_children.into()
    }
    /// Per area of the common scale.
    async fn outcomes(&self) -> Vec<AreaMetrics> {
        self.0
            .outcomes
            .iter()
            .map(|a| AreaMetrics {
                area: a.area.clone(),
                children: a.children.into(),
                baseline: levels(&a.baseline),
                latest: levels(&a.latest),
                children_reassessed: a.children_reassessed.into(),
                mean_change: a.mean_change,
                share_improved: a.share_improved,
            })
            .collect()
    }
}

/// Shared metrics, as the caller may see them.
pub struct Metrics(pub m::Metrics);

#[Object]
impl Metrics {
    /// True when disclosure control applied (funders): small counts suppressed, the rest
    /// rounded.
    async fn protected(&self) -> bool {
        self.0.audience == Audience::Protected
    }
    /// Counts from 1 to this minus one are suppressed.
    async fn threshold(&self) -> i64 {
        self.0.rules.threshold
    }
    /// Counts shown are rounded to a multiple of this.
    async fn rounding_base(&self) -> i64 {
        self.0.rules.rounding_base
    }
    async fn period(&self) -> Option<&str> {
        self.0.period.as_ref().map(|p| p.label.as_str())
    }
    async fn period_starts_on(&self) -> Option<NaiveDate> {
        self.0.period.as_ref().map(|p| p.starts_on)
    }
    /// The first day after the period.
    async fn period_ends_before(&self) -> Option<NaiveDate> {
        self.0.period.as_ref().map(|p| p.ends_before)
    }
    async fn group_by(&self) -> Option<MetricsDimension> {
        self.0.group_by.map(Into::into)
    }
    /// When the summary tables were last rebuilt: figures are as of then.
    async fn refreshed_at(&self) -> Option<DateTime<Utc>> {
        self.0.refreshed_at
    }
    /// The groups of the breakdown (empty without `groupBy`), ordered by key.
    async fn groups(&self) -> Vec<MetricsGroup> {
        self.0.groups.iter().cloned().map(MetricsGroup).collect()
    }
    /// The whole selection.
    async fn total(&self) -> MetricsGroup {
        MetricsGroup(self.0.total.clone())
    }
}
