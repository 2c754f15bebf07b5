//! Shared metrics for funders and the backbone team, computed in the database.
//!
//! **Summary tables.** [`refresh`] rebuilds `child_facts`, `referral_facts`,
//! `outcome_facts`, `attendance_facts` and `session_facts` from the records with one
//! `INSERT … SELECT` each, in one transaction: a few rows per child instead of every
//! attendance and assessment row. The service refreshes them every
//! `metrics.refresh_minutes` (and `backbone metrics refresh` does it on demand), so figures
//! are never more stale than that.
//!
//! **Queries.** [`metrics`] runs a handful of `GROUP BY` queries over the summary tables,
//! for a filter and a breakdown from a fixed catalogue ([`Filter`], [`Dimension`]), and
//! passes every count through [`disclosure`](crate::domain::disclosure), the one place
//! that suppresses and rounds. Nothing is aggregated in Rust.
//!
//! Definitions (also in `docs/funders.md`):
//! - **funnel**: children who reached each enrolment stage (identified, consented,
//!   enrolled, active, completed, exited) — in the period, when one is given, by the day
//!   the step happened (its effective date, not when it was recorded);
//! - **referrals** by current status, of referrals made (proposed, by the day it
//!   happened) in the period;
//! - **sessions delivered**: sessions held in the period (zone, partner and programme
//!   breakdowns only: a session is not a child's);
//! - **attendance rate**: sessions attended ÷ sessions offered (attended or absent), over
//!   register lines in the period; **engaged children**: children who attended at least
//!   `metrics.engaged_after_sessions` sessions in the period;
//! - **outcomes** per area of the common scale: each child's first and latest assessed
//!   level in the area (children whose first assessment in the area falls in the period):
//!   the distribution of levels at baseline and latest, the mean change and the share
//!   improved, both over children assessed more than once in the area.

use crate::access;
use crate::auth::Actor;
use crate::domain::csv_out::CsvOut;
use crate::domain::disclosure::{self, Audience, Count, Rules};
use crate::domain::plans::{Term, TermName};
use crate::domain::{EnrolmentStatus, ReferralStatus};
use crate::error::{Error, Result};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait, Value};
use std::collections::{BTreeMap, HashMap};

mod protected;

/// Levels of the common scale the distributions count (1–5).
pub const LEVELS: usize = 5;

/// Rebuilds the summary tables from the records, in one transaction. Returns when.
pub async fn refresh(db: &DatabaseConnection, by: Option<&Actor>) -> Result<DateTime<Utc>> {
    let at = crate::audit::now();
    let tx = db.begin().await?;
    let backend = tx.get_database_backend();
    for table in ["child_facts", "referral_facts", "outcome_facts", "attendance_facts", "session_facts"] {
        tx.execute_unprepared(&format!("DELETE FROM {table}")).await?;
    }
    protected::clear(&tx).await?;
    // Every step counts on the day it happened (`effective_on`), kept in the summary
    // tables as midnight UTC of that day, the form the period bounds are compared in.
    let midnight_of = |column: &str| match backend {
        DbBackend::Postgres => format!("(CAST({column} AS TIMESTAMP) AT TIME ZONE 'UTC')"),
        // Dates are `YYYY-MM-DD` text and timestamps RFC 3339 text, as the driver writes them.
        _ => format!("({column} || 'T00:00:00+00:00')"),
    };
    let stage = |s: EnrolmentStatus| {
        format!("MIN(CASE WHEN to_status = '{}' THEN {} END)", s.as_str(), midnight_of("effective_on"))
    };
    let child_facts = format!(
        "INSERT INTO child_facts (child_id, anchor_id, cohort, year_group, fsm, send, eal, status, identified_at, \
         consented_at, enrolled_at, active_at, completed_at, exited_at) \
         SELECT c.id, c.anchor_id, e.cohort, c.year_group, c.free_school_meals, c.send, c.eal, e.status, \
         t.identified_at, t.consented_at, t.enrolled_at, t.active_at, t.completed_at, t.exited_at \
         FROM children c JOIN enrolments e ON e.child_id = c.id \
         LEFT JOIN (SELECT enrolment_id, {} AS identified_at, {} AS consented_at, {} AS enrolled_at, \
         {} AS active_at, {} AS completed_at, {} AS exited_at FROM enrolment_transitions GROUP BY enrolment_id) t \
         ON t.enrolment_id = e.id",
        stage(EnrolmentStatus::Identified),
        stage(EnrolmentStatus::Consented),
        stage(EnrolmentStatus::Enrolled),
        stage(EnrolmentStatus::Active),
        stage(EnrolmentStatus::Completed),
        stage(EnrolmentStatus::Exited),
    );
    tx.execute_unprepared(&child_facts).await?;
    // A referral is made on the day it was proposed.
    tx.execute_unprepared(&format!(
        "INSERT INTO referral_facts (referral_id, child_id, partner_id, programme_id, status, created_at) \
         SELECT r.id, r.child_id, r.organisation_id, r.programme_id, r.status, COALESCE(p.made, r.created_at) \
         FROM referrals r LEFT JOIN (SELECT referral_id, MIN({}) AS made FROM referral_transitions \
         WHERE to_status = '{}' GROUP BY referral_id) p ON p.referral_id = r.id",
        midnight_of("effective_on"),
        ReferralStatus::Proposed.as_str(),
    ))
    .await?;
    tx.execute_unprepared(
        "INSERT INTO outcome_facts (child_id, area_code, baseline_level, latest_level, baseline_on, latest_on, assessments) \
         SELECT child_id, area_code, MAX(CASE WHEN first_rank = 1 THEN level END), \
         MAX(CASE WHEN last_rank = 1 THEN level END), MIN(assessed_on), MAX(assessed_on), COUNT(*) \
         FROM (SELECT child_id, area_code, level, assessed_on, \
         ROW_NUMBER() OVER (PARTITION BY child_id, area_code ORDER BY assessed_on, id) AS first_rank, \
         ROW_NUMBER() OVER (PARTITION BY child_id, area_code ORDER BY assessed_on DESC, id DESC) AS last_rank \
         FROM assessments) a GROUP BY child_id, area_code",
    )
    .await?;
    let month = "SUBSTR(CAST(held_on AS TEXT), 1, 7)";
    tx.execute_unprepared(&format!(
        "INSERT INTO attendance_facts (child_id, programme_id, partner_id, month, offered, attended) \
         SELECT child_id, programme_id, organisation_id, {month}, {}, {} \
         FROM (SELECT a.child_id, a.status, a.held_on, r.programme_id, r.organisation_id \
         FROM attendances a JOIN referrals r ON r.id = a.referral_id) x \
         GROUP BY child_id, programme_id, organisation_id, {month}",
        crate::domain::engagement::OFFERED_SQL,
        crate::domain::engagement::ATTENDED_SQL,
    ))
    .await?;
    tx.execute_unprepared(&format!(
        "INSERT INTO session_facts (programme_id, partner_id, month, sessions) \
         SELECT programme_id, organisation_id, {month}, COUNT(*) FROM sessions \
         GROUP BY programme_id, organisation_id, {month}"
    ))
    .await?;
    tx.execute_unprepared("DELETE FROM metric_refreshes").await?;
    tx.execute_raw(Statement::from_sql_and_values(
        backend,
        match backend {
            DbBackend::Postgres => "INSERT INTO metric_refreshes (id, refreshed_at, refreshed_by) VALUES (1, $1, $2)",
            _ => "INSERT INTO metric_refreshes (id, refreshed_at, refreshed_by) VALUES (1, ?, ?)",
        },
        [Value::from(at), Value::from(by.map(|a| a.user_id.clone()))],
    ))
    .await?;
    tx.commit().await?;
    Ok(at)
}

/// Rebuilds the summary tables at a person's request: the backbone team only.
pub async fn refresh_now(db: &DatabaseConnection, actor: &Actor) -> Result<DateTime<Utc>> {
    access::may_refresh_metrics(actor)?;
    refresh(db, Some(actor)).await
}

/// Keeps the summary tables fresh while the service runs: a rebuild every `every`, by one
/// process at a time of those sharing the database (`store::db::Duty::RefreshMetrics`),
/// followed by the funders' protected catalogue for `rules`, so that no funder's request
/// waits for it to be built.
pub async fn keep_fresh(db: DatabaseConnection, every: std::time::Duration, rules: Rules, engaged_after: i64) {
    crate::store::db::keep_doing(db, crate::store::db::Duty::RefreshMetrics, every, move |db| async move {
        let done = async {
            refresh(&db, None).await?;
            protected::prepare(&db, &rules, engaged_after).await
        };
        if let Err(e) = done.await {
            tracing::error!(error = %e, "refreshing the metrics summary tables failed");
        }
    })
    .await
}

/// When the summary tables were last rebuilt.
pub async fn refreshed_at<C: ConnectionTrait>(conn: &C) -> Result<Option<DateTime<Utc>>> {
    let row = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT refreshed_at FROM metric_refreshes WHERE id = 1",
        ))
        .await?;
    Ok(match row {
        Some(r) => Some(r.try_get::<DateTime<Utc>>("", "refreshed_at")?),
        None => None,
    })
}

/// The breakdowns of the catalogue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dimension {
    Anchor,
    Partner,
    Programme,
    YearGroup,
    Cohort,
    Fsm,
    Send,
    Eal,
}

impl Dimension {
    /// Every breakdown, in the catalogue's order.
    pub const ALL: [Dimension; 8] = [
        Dimension::Anchor,
        Dimension::Partner,
        Dimension::Programme,
        Dimension::YearGroup,
        Dimension::Cohort,
        Dimension::Fsm,
        Dimension::Send,
        Dimension::Eal,
    ];

    /// Every breakdown with its name outside GraphQL (download links, the command line).
    pub const NAMED: &[(&str, Dimension)] = &[
        ("anchor", Dimension::Anchor),
        ("partner", Dimension::Partner),
        ("programme", Dimension::Programme),
        ("yearGroup", Dimension::YearGroup),
        ("cohort", Dimension::Cohort),
        ("fsm", Dimension::Fsm),
        ("send", Dimension::Send),
        ("eal", Dimension::Eal),
    ];

    /// Reads a breakdown's name (`yearGroup`, also `year-group` or `year_group`), or
    /// `INVALID_INPUT` on `field` listing the names.
    pub fn from_name(name: &str, field: &str) -> Result<Dimension> {
        let simple = |s: &str| s.replace(['-', '_'], "").to_ascii_lowercase();
        Dimension::NAMED.iter().find(|(n, _)| simple(n) == simple(name)).map(|(_, d)| *d).ok_or_else(|| {
            let names: Vec<&str> = Dimension::NAMED.iter().map(|(n, _)| *n).collect();
            Error::invalid(field, format!("must be one of {}", names.join(", ")))
        })
    }
}

/// A characteristic of children, as a filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Characteristic {
    Fsm,
    Send,
    Eal,
}

impl Characteristic {
    fn column(self) -> &'static str {
        match self {
            Characteristic::Fsm => "cf.fsm",
            Characteristic::Send => "cf.send",
            Characteristic::Eal => "cf.eal",
        }
    }
}

/// What to count: a period and cohort, and at most one of the catalogue's filters for a
/// protected audience.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// An academic year (`2025-26`) or a term of one (`2025-26 autumn`).
    pub period: Option<String>,
    pub cohort: Option<String>,
    pub anchor_id: Option<String>,
    pub partner_id: Option<String>,
    pub programme_id: Option<String>,
    /// An outcome area code: the outcomes section covers only this area.
    pub area: Option<String>,
    pub year_group: Option<i32>,
    pub characteristic: Option<Characteristic>,
}

/// A period of the catalogue: `[starts_on, ends_before)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Period {
    pub label: String,
    pub starts_on: NaiveDate,
    pub ends_before: NaiveDate,
}

/// Reads `2025-26` (1 Sep 2025 – 31 Aug 2026) or `2025-26 autumn|spring|summer`.
pub fn period(text: &str) -> Result<Period> {
    let bad = || {
        Error::invalid("filter.period", "must be an academic year such as 2025-26, or a term such as 2025-26 autumn")
    };
    let text = text.trim().to_ascii_lowercase();
    let (year, term) = match text.split_once(' ') {
        Some((y, t)) => (y, Some(t.trim())),
        None => (text.as_str(), None),
    };
    let (first, second) = year.split_once('-').ok_or_else(bad)?;
    let first: i32 = first.parse().map_err(|_| bad())?;
    let second: i32 = second.parse().map_err(|_| bad())?;
    if !(2000..=2100).contains(&first) || second != (first + 1) % 100 {
        return Err(bad());
    }
    let label = format!("{first}-{second:02}");
    let (starts_on, ends_on) = match term {
        None => (Term::of(TermName::Autumn, first).starts_on, Term::of(TermName::Summer, first + 1).ends_on),
        Some(name) => {
            let t = match name {
                "autumn" => Term::of(TermName::Autumn, first),
                "spring" => Term::of(TermName::Spring, first + 1),
                "summer" => Term::of(TermName::Summer, first + 1),
                _ => return Err(bad()),
            };
            (t.starts_on, t.ends_on)
        }
    };
    let label = term.map_or(label.clone(), |t| format!("{label} {t}"));
    Ok(Period { label, starts_on, ends_before: ends_on.succ_opt().unwrap_or(ends_on) })
}

/// Metrics for one group (or the whole selection), protected for the audience.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// The group's key (an id, a year group, `yes`/`no`, a cohort); `None` for the total.
    pub key: Option<String>,
    /// For people: the organisation or programme name, `year 5`, `yes`, …; `total`.
    pub label: String,
    pub funnel: [Count; 6],
    pub referrals: Vec<(ReferralStatus, Count)>,
    pub sessions_delivered: Option<Count>,
    pub children_offered_sessions: Count,
    pub attendance_rate: Option<f64>,
    pub engaged_children: Count,
    pub outcomes: Vec<AreaOutcome>,
}

/// One area of the common scale for one group.
#[derive(Clone, Debug, PartialEq)]
pub struct AreaOutcome {
    pub area: String,
    pub children: Count,
    /// Children at each level 1–5 at baseline, and at their latest assessment.
    pub baseline: Vec<Count>,
    pub latest: Vec<Count>,
    /// Children assessed more than once in the area: the base of the two figures below.
    pub children_reassessed: Count,
    pub mean_change: Option<f64>,
    pub share_improved: Option<f64>,
}

/// The answer to one metrics request.
#[derive(Clone, Debug, PartialEq)]
pub struct Metrics {
    pub audience: Audience,
    pub rules: Rules,
    pub period: Option<Period>,
    pub group_by: Option<Dimension>,
    pub refreshed_at: Option<DateTime<Utc>>,
    pub groups: Vec<Group>,
    pub total: Group,
}

/// Exact figures of one group, before disclosure control.
#[derive(Clone, Debug, Default)]
struct Raw {
    funnel: [i64; 6],
    referrals: BTreeMap<String, i64>,
    sessions: Option<i64>,
    offered: i64,
    attended: i64,
    children_offered: i64,
    engaged: i64,
    outcomes: BTreeMap<String, RawArea>,
}

impl Raw {
    /// The figures of two disjoint sets of children together.
    fn plus(mut self, other: &Raw) -> Raw {
        for (i, n) in other.funnel.iter().enumerate() {
            self.funnel[i] += n;
        }
        for (status, n) in &other.referrals {
            *self.referrals.entry(status.clone()).or_default() += n;
        }
        self.sessions = match (self.sessions, other.sessions) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
        };
        self.offered += other.offered;
        self.attended += other.attended;
        self.children_offered += other.children_offered;
        self.engaged += other.engaged;
        for (area, a) in &other.outcomes {
            let mine = self.outcomes.entry(area.clone()).or_default();
            mine.children += a.children;
            for level in 0..LEVELS {
                mine.baseline[level] += a.baseline[level];
                mine.latest[level] += a.latest[level];
            }
            mine.reassessed += a.reassessed;
            mine.change_sum += a.change_sum;
            mine.improved += a.improved;
        }
        self
    }
}

#[derive(Clone, Debug, Default)]
struct RawArea {
    children: i64,
    baseline: [i64; LEVELS],
    latest: [i64; LEVELS],
    reassessed: i64,
    change_sum: i64,
    improved: i64,
}

/// SQL with placeholders in the backend's own spelling.
struct Sql {
    backend: DbBackend,
    text: String,
    values: Vec<Value>,
}

impl Sql {
    fn bind(&mut self, value: impl Into<Value>) -> String {
        self.values.push(value.into());
        match self.backend {
            DbBackend::Postgres => format!("${}", self.values.len()),
            _ => "?".to_owned(),
        }
    }

    fn statement(self) -> Statement {
        Statement::from_sql_and_values(self.backend, self.text, self.values)
    }
}

/// How one request selects and groups children, and scopes referrals and attendance.
/// `split` is a second breakdown (every value of a filter at once: the catalogue's
/// two-way tables); without it every row's `fkey` is `all`.
#[derive(Clone, Copy)]
struct Plan<'a> {
    filter: &'a Filter,
    period: Option<&'a Period>,
    group_by: Option<Dimension>,
    split: Option<Dimension>,
}

impl Plan<'_> {
    /// A breakdown's key expression over `child_facts cf`, and the join it needs (`alias`
    /// names the joined child-to-organisation pairs).
    fn key(dimension: Option<Dimension>, alias: &str) -> (String, String) {
        let pairs = |column: &str| {
            format!(
                " JOIN (SELECT DISTINCT child_id, {column} AS k FROM referral_facts) {alias} ON {alias}.child_id = cf.child_id"
            )
        };
        match dimension {
            None => ("'all'".into(), String::new()),
            Some(Dimension::Anchor) => ("cf.anchor_id".into(), String::new()),
            Some(Dimension::YearGroup) => ("CAST(cf.year_group AS TEXT)".into(), String::new()),
            Some(Dimension::Cohort) => ("COALESCE(cf.cohort, 'none')".into(), String::new()),
            Some(Dimension::Fsm) => ("CASE WHEN cf.fsm THEN 'yes' ELSE 'no' END".into(), String::new()),
            Some(Dimension::Send) => ("CASE WHEN cf.send THEN 'yes' ELSE 'no' END".into(), String::new()),
            Some(Dimension::Eal) => ("CASE WHEN cf.eal THEN 'yes' ELSE 'no' END".into(), String::new()),
            Some(Dimension::Partner) => (format!("{alias}.k"), pairs("partner_id")),
            Some(Dimension::Programme) => (format!("{alias}.k"), pairs("programme_id")),
        }
    }

    /// `WITH cs AS (…)`: the selected children and each one's group key `gkey` and split
    /// key `fkey` (a child may be in several partner or programme groups).
    fn children(&self, sql: &mut Sql) -> String {
        let (key, join) = Plan::key(self.group_by, "g");
        let (fkey, fjoin) = Plan::key(self.split, "h");
        let mut text = format!(
            "WITH cs AS (SELECT cf.child_id AS child_id, {key} AS gkey, {fkey} AS fkey FROM child_facts cf{join}{fjoin} WHERE 1 = 1"
        );
        let f = self.filter;
        if let Some(cohort) = &f.cohort {
            text += &format!(" AND cf.cohort = {}", sql.bind(cohort.clone()));
        }
        if let Some(anchor) = &f.anchor_id {
            text += &format!(" AND cf.anchor_id = {}", sql.bind(anchor.clone()));
        }
        if let Some(year) = f.year_group {
            text += &format!(" AND cf.year_group = {}", sql.bind(year));
        }
        if let Some(c) = f.characteristic {
            text += &format!(" AND {} = {}", c.column(), sql.bind(true));
        }
        if let Some(partner) = &f.partner_id {
            text += &format!(
                " AND EXISTS (SELECT 1 FROM referral_facts p WHERE p.child_id = cf.child_id AND p.partner_id = {})",
                sql.bind(partner.clone())
            );
        }
        if let Some(programme) = &f.programme_id {
            text += &format!(
                " AND EXISTS (SELECT 1 FROM referral_facts p WHERE p.child_id = cf.child_id AND p.programme_id = {})",
                sql.bind(programme.clone())
            );
        }
        text + ") "
    }

    /// Conditions tying a referral or attendance row (alias `t`) to the partner or
    /// programme of the group and of the filter.
    fn scope(&self, sql: &mut Sql) -> String {
        let tie = |dimension: Option<Dimension>, key: &str| match dimension {
            Some(Dimension::Partner) => format!(" AND t.partner_id = cs.{key}"),
            Some(Dimension::Programme) => format!(" AND t.programme_id = cs.{key}"),
            _ => String::new(),
        };
        format!("{}{}{}", tie(self.group_by, "gkey"), tie(self.split, "fkey"), self.filtered(sql))
    }

    /// Conditions tying a row with partner and programme columns (alias `t`) to the
    /// partner or programme of the filter.
    fn filtered(&self, sql: &mut Sql) -> String {
        let mut text = String::new();
        if let Some(partner) = &self.filter.partner_id {
            text += &format!(" AND t.partner_id = {}", sql.bind(partner.clone()));
        }
        if let Some(programme) = &self.filter.programme_id {
            text += &format!(" AND t.programme_id = {}", sql.bind(programme.clone()));
        }
        text
    }

    fn months(&self, sql: &mut Sql, column: &str) -> String {
        match self.period {
            None => String::new(),
            Some(p) => {
                let last = p.ends_before.pred_opt().unwrap_or(p.ends_before);
                let from = sql.bind(format!("{:04}-{:02}", p.starts_on.year(), p.starts_on.month()));
                let to = sql.bind(format!("{:04}-{:02}", last.year(), last.month()));
                format!(" AND {column} >= {from} AND {column} <= {to}")
            }
        }
    }

    fn new_sql(&self, backend: DbBackend) -> Sql {
        Sql { backend, text: String::new(), values: Vec::new() }
    }
}

fn midnight(date: NaiveDate) -> DateTime<Utc> {
    date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
}

async fn rows<C: ConnectionTrait>(conn: &C, sql: Sql) -> Result<Vec<sea_orm::QueryResult>> {
    Ok(conn.query_all_raw(sql.statement()).await?)
}

fn get_i64(row: &sea_orm::QueryResult, column: &str) -> Result<i64> {
    Ok(row.try_get::<Option<i64>>("", column)?.unwrap_or(0))
}

fn get_key(row: &sea_orm::QueryResult) -> Result<(String, String)> {
    Ok((
        row.try_get::<Option<String>>("", "fkey")?.unwrap_or_default(),
        row.try_get::<Option<String>>("", "gkey")?.unwrap_or_default(),
    ))
}

/// The exact figures of every group, keyed by group key.
async fn raw<C: ConnectionTrait>(conn: &C, plan: &Plan<'_>, engaged_after: i64) -> Result<BTreeMap<String, Raw>> {
    Ok(raw_split(conn, plan, engaged_after).await?.into_iter().map(|((_, g), r)| (g, r)).collect())
}

/// The exact figures of every cell of a two-way table, keyed by (split key, group key).
async fn raw_split<C: ConnectionTrait>(
    conn: &C,
    plan: &Plan<'_>,
    engaged_after: i64,
) -> Result<BTreeMap<(String, String), Raw>> {
    let backend = conn.get_database_backend();
    let mut out: BTreeMap<(String, String), Raw> = BTreeMap::new();

    // The funnel.
    let mut sql = plan.new_sql(backend);
    let cte = plan.children(&mut sql);
    let stages = ["identified_at", "consented_at", "enrolled_at", "active_at", "completed_at", "exited_at"];
    let mut columns = Vec::new();
    for stage in stages {
        let when = match plan.period {
            None => format!("cf.{stage} IS NOT NULL"),
            Some(p) => format!(
                "cf.{stage} >= {} AND cf.{stage} < {}",
                sql.bind(midnight(p.starts_on)),
                sql.bind(midnight(p.ends_before))
            ),
        };
        columns.push(format!("SUM(CASE WHEN {when} THEN 1 ELSE 0 END) AS {stage}"));
    }
    sql.text = format!(
        "{cte}SELECT cs.fkey AS fkey, cs.gkey AS gkey, {} FROM cs JOIN child_facts cf ON cf.child_id = cs.child_id \
         GROUP BY cs.fkey, cs.gkey",
        columns.join(", ")
    );
    for row in rows(conn, sql).await? {
        let group = out.entry(get_key(&row)?).or_default();
        for (i, stage) in stages.iter().enumerate() {
            group.funnel[i] = get_i64(&row, stage)?;
        }
    }

    // Referrals by status.
    let mut sql = plan.new_sql(backend);
    let cte = plan.children(&mut sql);
    let scope = plan.scope(&mut sql);
    let when = match plan.period {
        None => String::new(),
        Some(p) => format!(
            " AND t.created_at >= {} AND t.created_at < {}",
            sql.bind(midnight(p.starts_on)),
            sql.bind(midnight(p.ends_before))
        ),
    };
    sql.text = format!(
        "{cte}SELECT cs.fkey AS fkey, cs.gkey AS gkey, t.status AS status, COUNT(*) AS n FROM cs \
         JOIN referral_facts t ON t.child_id = cs.child_id{scope}{when} GROUP BY cs.fkey, cs.gkey, t.status"
    );
    for row in rows(conn, sql).await? {
        let status: String = row.try_get("", "status")?;
        out.entry(get_key(&row)?).or_default().referrals.insert(status, get_i64(&row, "n")?);
    }

    // Attendance, per group and per child (for engagement).
    let mut sql = plan.new_sql(backend);
    let cte = plan.children(&mut sql);
    let scope = plan.scope(&mut sql);
    let months = plan.months(&mut sql, "t.month");
    let threshold = sql.bind(engaged_after);
    sql.text = format!(
        "{cte}, per_child AS (SELECT cs.fkey AS fkey, cs.gkey AS gkey, cs.child_id AS child_id, \
         SUM(t.offered) AS offered, SUM(t.attended) AS attended FROM cs \
         JOIN attendance_facts t ON t.child_id = cs.child_id{scope}{months} GROUP BY cs.fkey, cs.gkey, cs.child_id) \
         SELECT fkey, gkey, CAST(SUM(offered) AS BIGINT) AS offered, CAST(SUM(attended) AS BIGINT) AS attended, \
         SUM(CASE WHEN offered > 0 THEN 1 ELSE 0 END) AS children_offered, \
         SUM(CASE WHEN attended >= {threshold} THEN 1 ELSE 0 END) AS engaged FROM per_child GROUP BY fkey, gkey"
    );
    for row in rows(conn, sql).await? {
        let group = out.entry(get_key(&row)?).or_default();
        group.offered = get_i64(&row, "offered")?;
        group.attended = get_i64(&row, "attended")?;
        group.children_offered = get_i64(&row, "children_offered")?;
        group.engaged = get_i64(&row, "engaged")?;
    }

    // Sessions delivered: for the zone, a partner or a programme only.
    let session_key = |dimension: Option<Dimension>| match dimension {
        None => Some(None),
        Some(Dimension::Partner) => Some(Some("t.partner_id")),
        Some(Dimension::Programme) => Some(Some("t.programme_id")),
        _ => None,
    };
    let child_filtered = plan.filter.anchor_id.is_some()
        || plan.filter.cohort.is_some()
        || plan.filter.year_group.is_some()
        || plan.filter.characteristic.is_some();
    if let (Some(gkey), Some(fkey), false) = (session_key(plan.group_by), session_key(plan.split), child_filtered) {
        let mut sql = plan.new_sql(backend);
        let scope = plan.filtered(&mut sql);
        let months = plan.months(&mut sql, "t.month");
        // PostgreSQL refuses to group by a constant: the whole selection is one group anyway.
        let keys: Vec<&str> = [fkey, gkey].into_iter().flatten().collect();
        let group = if keys.is_empty() { String::new() } else { format!(" GROUP BY {}", keys.join(", ")) };
        sql.text = format!(
            "SELECT {} AS fkey, {} AS gkey, SUM(t.sessions) AS n FROM session_facts t WHERE 1 = 1{scope}{months}{group}",
            fkey.unwrap_or("'all'"),
            gkey.unwrap_or("'all'"),
        );
        for row in rows(conn, sql).await? {
            out.entry(get_key(&row)?).or_default().sessions = Some(get_i64(&row, "n")?);
        }
        for group in out.values_mut() {
            group.sessions.get_or_insert(0);
        }
    }

    // Outcomes per area.
    let mut sql = plan.new_sql(backend);
    let cte = plan.children(&mut sql);
    let mut when = String::new();
    if let Some(p) = plan.period {
        when +=
            &format!(" AND t.baseline_on >= {} AND t.baseline_on < {}", sql.bind(p.starts_on), sql.bind(p.ends_before));
    }
    if let Some(area) = &plan.filter.area {
        when += &format!(" AND t.area_code = {}", sql.bind(area.clone()));
    }
    let mut levels = Vec::new();
    for level in 1..=LEVELS {
        levels.push(format!("SUM(CASE WHEN t.baseline_level = {level} THEN 1 ELSE 0 END) AS b{level}"));
        levels.push(format!("SUM(CASE WHEN t.latest_level = {level} THEN 1 ELSE 0 END) AS l{level}"));
    }
    sql.text = format!(
        "{cte}SELECT cs.fkey AS fkey, cs.gkey AS gkey, t.area_code AS area, COUNT(*) AS children, {}, \
         SUM(CASE WHEN t.assessments > 1 THEN 1 ELSE 0 END) AS reassessed, \
         SUM(CASE WHEN t.assessments > 1 THEN t.latest_level - t.baseline_level ELSE 0 END) AS change_sum, \
         SUM(CASE WHEN t.assessments > 1 AND t.latest_level > t.baseline_level THEN 1 ELSE 0 END) AS improved \
         FROM cs JOIN outcome_facts t ON t.child_id = cs.child_id{when} GROUP BY cs.fkey, cs.gkey, t.area_code",
        levels.join(", ")
    );
    for row in rows(conn, sql).await? {
        let area: String = row.try_get("", "area")?;
        let mut a = RawArea {
            children: get_i64(&row, "children")?,
            reassessed: get_i64(&row, "reassessed")?,
            change_sum: get_i64(&row, "change_sum")?,
            improved: get_i64(&row, "improved")?,
            ..RawArea::default()
        };
        for level in 1..=LEVELS {
            a.baseline[level - 1] = get_i64(&row, &format!("b{level}"))?;
            a.latest[level - 1] = get_i64(&row, &format!("l{level}"))?;
        }
        out.entry(get_key(&row)?).or_default().outcomes.insert(area, a);
    }
    Ok(out)
}

/// Checks a filter: a year group and cohort that can exist, and for a protected audience at
/// most one narrowing filter from the catalogue.
fn check_filter(audience: Audience, filter: &Filter) -> Result<()> {
    if let Some(year) = filter.year_group
        && !(-1..=13).contains(&year)
    {
        return Err(Error::invalid("filter.yearGroup", "must be a school year from -1 to 13"));
    }
    if let Some(cohort) = &filter.cohort {
        crate::domain::validate::cohort(cohort)
            .map_err(|_| Error::invalid("filter.cohort", "must be an academic year written like 2025/26"))?;
    }
    // For funders the cohort narrows too: the protected catalogue holds one condition and
    // a breakdown, not three.
    let narrowing = [
        audience == Audience::Protected && filter.cohort.is_some(),
        filter.anchor_id.is_some(),
        filter.partner_id.is_some(),
        filter.programme_id.is_some(),
        filter.year_group.is_some(),
        filter.characteristic.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if audience == Audience::Protected && narrowing > 1 {
        return Err(Error::invalid(
            "filter",
            "funders may narrow by one of cohort, anchor, partner, programme, year group or characteristic at a \
             time (combinations would let small groups be recovered by differencing)",
        ));
    }
    Ok(())
}

/// Shared metrics for a filter and an optional breakdown, protected for the caller. Funders
/// and the backbone team (analysts, admins); `FORBIDDEN` for everyone else.
pub async fn metrics(
    db: &DatabaseConnection,
    actor: &Actor,
    rules: Rules,
    engaged_after: i64,
    filter: Filter,
    group_by: Option<Dimension>,
) -> Result<Metrics> {
    let audience = access::metrics_audience(actor)?;
    metrics_for(db, audience, rules, engaged_after, filter, group_by).await
}

/// [`metrics`] for an audience chosen by the operator (the command line's exports).
pub async fn metrics_for(
    db: &DatabaseConnection,
    audience: Audience,
    rules: Rules,
    engaged_after: i64,
    filter: Filter,
    group_by: Option<Dimension>,
) -> Result<Metrics> {
    check_filter(audience, &filter)?;
    let period = filter.period.as_deref().map(period).transpose()?;
    if audience == Audience::Protected {
        return protected::metrics(db, rules, engaged_after, &filter, period, group_by).await;
    }
    let plan = Plan { filter: &filter, period: period.as_ref(), group_by, split: None };
    let grouped = raw(db, &plan, engaged_after).await?;
    // Groups of a child's own attribute partition the selection, so the total is their
    // sum; partner and programme groups overlap (a child may be referred to several), and
    // without a breakdown the one group is the total.
    let total = match group_by {
        None => grouped.values().next().cloned().unwrap_or_default(),
        Some(Dimension::Partner | Dimension::Programme) => {
            let total_plan = Plan { group_by: None, ..plan };
            raw(db, &total_plan, engaged_after).await?.into_values().next().unwrap_or_default()
        }
        Some(_) => grouped.values().fold(Raw::default(), |sum, g| sum.plus(g)),
    };
    let refreshed_at = refreshed_at(db).await?;

    // With a breakdown, the total is protected with its groups, as the last row of every
    // table (see `protect_groups`); without one, it stands alone.
    let (keys, mut raws): (Vec<String>, Vec<Raw>) =
        if group_by.is_some() { grouped.into_iter().unzip() } else { Default::default() };
    raws.push(total);
    let mut groups = protect_groups(audience, &rules, &raws);
    let total = groups.pop().unwrap_or_else(|| unreachable!("the total is always there"));
    if let Some(dimension) = group_by {
        let names = labels(db, dimension, &keys).await?;
        for (group, key) in groups.iter_mut().zip(keys) {
            group.label = names.get(&key).cloned().unwrap_or_else(|| key.clone());
            group.key = Some(key);
        }
    }
    Ok(Metrics { audience, rules, period, group_by, refreshed_at, groups, total })
}

/// Protects every figure of a set of groups whose last element is their total: each
/// scalar count is protected across the groups (so one group's suppressed count cannot be
/// recovered from the total and the others), and each breakdown (referral statuses, levels)
/// within its group and across groups.
fn protect_groups(audience: Audience, rules: &Rules, raws: &[Raw]) -> Vec<Group> {
    let column = |f: &dyn Fn(&Raw) -> i64| -> Vec<Count> {
        let cells: Vec<Vec<i64>> = raws.iter().map(|r| vec![f(r)]).collect();
        disclosure::protect_table(audience, rules, &cells).into_iter().map(|row| row[0]).collect()
    };
    let funnel: Vec<Vec<Count>> = (0..6).map(|i| column(&|r: &Raw| r.funnel[i])).collect();
    let children_offered = column(&|r| r.children_offered);
    let engaged = column(&|r| r.engaged);
    let sessions = column(&|r| r.sessions.unwrap_or(0));
    let statuses: Vec<ReferralStatus> = ReferralStatus::ALL.to_vec();
    let referral_cells: Vec<Vec<i64>> = raws
        .iter()
        .map(|r| statuses.iter().map(|s| r.referrals.get(s.as_str()).copied().unwrap_or(0)).collect())
        .collect();
    let referrals = disclosure::protect_table(audience, rules, &referral_cells);
    let mut areas: Vec<String> = raws.iter().flat_map(|r| r.outcomes.keys().cloned()).collect();
    areas.sort();
    areas.dedup();
    // Per area: children and reassessed per group, and the level tables (groups × levels).
    type AreaTables = (String, Vec<Count>, Vec<Count>, Vec<Vec<Count>>, Vec<Vec<Count>>);
    let area_tables: Vec<AreaTables> = areas
        .iter()
        .map(|area| {
            let get = |r: &Raw| r.outcomes.get(area).cloned().unwrap_or_default();
            let children = column(&|r| get(r).children);
            let reassessed = column(&|r| get(r).reassessed);
            let baseline: Vec<Vec<i64>> = raws.iter().map(|r| get(r).baseline.to_vec()).collect();
            let latest: Vec<Vec<i64>> = raws.iter().map(|r| get(r).latest.to_vec()).collect();
            (
                area.clone(),
                children,
                reassessed,
                disclosure::protect_table(audience, rules, &baseline),
                disclosure::protect_table(audience, rules, &latest),
            )
        })
        .collect();
    raws.iter()
        .enumerate()
        .map(|(i, r)| {
            let rate = (r.offered > 0).then(|| r.attended as f64 / r.offered as f64);
            let outcomes = area_tables
                .iter()
                .filter(|(area, ..)| r.outcomes.contains_key(area))
                .map(|(area, children, reassessed, baseline, latest)| {
                    let a = r.outcomes.get(area).cloned().unwrap_or_default();
                    let mean = (a.reassessed > 0).then(|| a.change_sum as f64 / a.reassessed as f64);
                    let share = (a.reassessed > 0).then(|| a.improved as f64 / a.reassessed as f64);
                    AreaOutcome {
                        area: area.clone(),
                        children: children[i],
                        baseline: baseline[i].clone(),
                        latest: latest[i].clone(),
                        children_reassessed: reassessed[i],
                        mean_change: disclosure::derived(reassessed[i], mean),
                        share_improved: disclosure::derived(reassessed[i], share),
                    }
                })
                .collect();
            Group {
                key: None,
                label: "total".into(),
                funnel: [funnel[0][i], funnel[1][i], funnel[2][i], funnel[3][i], funnel[4][i], funnel[5][i]],
                referrals: statuses.iter().copied().zip(referrals[i].iter().copied()).collect(),
                sessions_delivered: r.sessions.map(|_| sessions[i]),
                children_offered_sessions: children_offered[i],
                attendance_rate: disclosure::derived(children_offered[i], rate),
                engaged_children: engaged[i],
                outcomes,
            }
        })
        .collect()
}

/// Metrics as CSV, one row per figure: `group_key,group_label,metric,value`. A suppressed
/// count, and a mean or share over a suppressed base, is `c` (as UK official statistics
/// mark it); a figure with nothing to compute from is empty.
pub fn to_csv(m: &Metrics) -> Result<String> {
    let derived = |base: &Count, value: Option<f64>| {
        if base.suppressed { "c".to_owned() } else { value.map_or_else(String::new, |v| format!("{v:.4}")) }
    };
    let mut rows: Vec<(&Group, String, String)> = Vec::new();
    for g in m.groups.iter().chain(std::iter::once(&m.total)) {
        let mut row = |metric: String, value: String| rows.push((g, metric, value));
        let stages = ["identified", "consented", "enrolled", "active", "completed", "exited"];
        for (stage, count) in stages.iter().zip(&g.funnel) {
            row(format!("funnel.{stage}"), count.csv());
        }
        for (status, count) in &g.referrals {
            row(format!("referrals.{}", status.as_str()), count.csv());
        }
        if let Some(sessions) = &g.sessions_delivered {
            row("sessions_delivered".into(), sessions.csv());
        }
        row("children_offered_sessions".into(), g.children_offered_sessions.csv());
        row("attendance_rate".into(), derived(&g.children_offered_sessions, g.attendance_rate));
        row("engaged_children".into(), g.engaged_children.csv());
        for a in &g.outcomes {
            row(format!("outcomes.{}.children", a.area), a.children.csv());
            for (i, c) in a.baseline.iter().enumerate() {
                row(format!("outcomes.{}.baseline_level_{}", a.area, i + 1), c.csv());
            }
            for (i, c) in a.latest.iter().enumerate() {
                row(format!("outcomes.{}.latest_level_{}", a.area, i + 1), c.csv());
            }
            row(format!("outcomes.{}.children_reassessed", a.area), a.children_reassessed.csv());
            row(format!("outcomes.{}.mean_change", a.area), derived(&a.children_reassessed, a.mean_change));
            row(format!("outcomes.{}.share_improved", a.area), derived(&a.children_reassessed, a.share_improved));
        }
    }
    let mut w = CsvOut::new(["group_key", "group_label", "metric", "value"])?;
    for (g, metric, value) in &rows {
        let key = g.key.as_deref().unwrap_or("total");
        w.row([key, g.label.as_str(), metric.as_str(), value.as_str()])?;
    }
    w.finish()
}

/// Attendance in one month of a selection.
#[derive(Clone, Debug, PartialEq)]
pub struct MonthAttendance {
    /// `YYYY-MM`.
    pub month: String,
    /// Children offered at least one session that month: the base of `rate`.
    pub children: Count,
    pub rate: Option<f64>,
}

/// Attendance rate month by month for a selection (the same filter as [`metrics`]), for
/// the attendance-over-time chart. Each month's rate is shown only when its base is.
pub async fn attendance_by_month(
    db: &DatabaseConnection,
    actor: &Actor,
    rules: Rules,
    engaged_after: i64,
    filter: Filter,
) -> Result<Vec<MonthAttendance>> {
    let audience = access::metrics_audience(actor)?;
    check_filter(audience, &filter)?;
    let period = filter.period.as_deref().map(period).transpose()?;
    if audience == Audience::Protected {
        return protected::attendance_by_month(db, rules, engaged_after, &filter, period.as_ref()).await;
    }
    let plan = Plan { filter: &filter, period: period.as_ref(), group_by: None, split: None };
    Ok(month_rows(db, &plan)
        .await?
        .into_iter()
        .map(|(_, month, children, offered, attended)| {
            let base = disclosure::protect_one(audience, &rules, children);
            let rate = (offered > 0).then(|| attended as f64 / offered as f64);
            MonthAttendance { month, children: base, rate: disclosure::derived(base, rate) }
        })
        .collect())
}

/// Attendance per month of a selection, exact, split by `plan.split`: (split key, month,
/// children offered a session, sessions offered, sessions attended), ordered by month.
async fn month_rows<C: ConnectionTrait>(conn: &C, plan: &Plan<'_>) -> Result<Vec<(String, String, i64, i64, i64)>> {
    let mut sql = plan.new_sql(conn.get_database_backend());
    let cte = plan.children(&mut sql);
    let scope = plan.scope(&mut sql);
    let months = plan.months(&mut sql, "t.month");
    sql.text = format!(
        "{cte}SELECT cs.fkey AS fkey, t.month AS month, SUM(t.offered) AS offered, SUM(t.attended) AS attended, \
         COUNT(DISTINCT CASE WHEN t.offered > 0 THEN t.child_id END) AS children \
         FROM cs JOIN attendance_facts t ON t.child_id = cs.child_id{scope}{months} GROUP BY cs.fkey, t.month \
         ORDER BY t.month, cs.fkey"
    );
    let mut found = Vec::new();
    for row in rows(conn, sql).await? {
        let (offered, attended) = (get_i64(&row, "offered")?, get_i64(&row, "attended")?);
        let fkey = row.try_get::<Option<String>>("", "fkey")?.unwrap_or_default();
        found.push((fkey, row.try_get::<String>("", "month")?, get_i64(&row, "children")?, offered, attended));
    }
    Ok(found)
}

/// The keys of a breakdown with their names, for labels (organisations and programmes are
/// not personal data).
pub async fn labels<C: ConnectionTrait>(
    conn: &C,
    dimension: Dimension,
    keys: &[String],
) -> Result<HashMap<String, String>> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    Ok(match dimension {
        Dimension::Anchor | Dimension::Partner => crate::store::organisation::Entity::find()
            .filter(crate::store::organisation::Column::Id.is_in(keys.to_vec()))
            .all(conn)
            .await?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect(),
        Dimension::Programme => crate::store::programme::Entity::find()
            .filter(crate::store::programme::Column::Id.is_in(keys.to_vec()))
            .all(conn)
            .await?
            .into_iter()
            .map(|p| (p.id, p.name))
            .collect(),
        Dimension::YearGroup => keys.iter().map(|k| (k.clone(), format!("year {k}"))).collect(),
        _ => keys.iter().map(|k| (k.clone(), k.clone())).collect(),
    })
}
