//! The protected catalogue: every count a funder can reach, protected once per refresh as
//! linked tables, so that a cell hidden in one answer is hidden in every answer and can be
//! recovered from no other.
//!
//! **What is in it.** For every period of the catalogue (all time, each academic year with
//! data and its three terms) and every figure: the grand total; every one-way table
//! (`groupBy: D`, which is also what the filter `D = v` gives as its total); every two-way
//! table (filter `D = v` × `groupBy: E`); and the attendance chart's months, for the whole
//! zone and each filter. A funder may use at most one narrowing filter, so these are all
//! the cells there are.
//!
//! **How it is protected.** The cells are linked by every additive relation a reader can
//! use: a total is the sum of the groups of a breakdown by a child's own attribute; a
//! partner's or programme's groups sum to the total for referrals and sessions (each
//! referral and session has one); a partner's referrals and sessions are the sum of its
//! programmes', and a partner × its own programme counts what the programme alone counts;
//! all time is the sum of the academic years and a year the sum of its terms (for
//! everything counted by a date: stages, referrals, sessions, outcome baselines); the
//! children of an outcome area are the sum of each level's; a month whose attendance is
//! the only one of a period counts the period's children offered sessions.
//! [`disclosure::protect_linked`] then applies primary suppression and secondary
//! suppression along every relation to a fixpoint, and rounds.
//!
//! **Where it lives.** In `protected_metrics`, one row of figures per cell, under a
//! *basis* (the refresh time and the disclosure settings): built from one snapshot of the
//! summary tables by the first funder's request after a refresh and answered from by every
//! process. Being deterministic from the summary tables, two processes that build it at once
//! build the same rows, and the unique index keeps one copy.

use super::{
    AreaOutcome, Filter, Group, LEVELS, Metrics, MonthAttendance, Period, Plan, Raw, Sql, get_i64, labels, month_rows,
    period, raw_split, refreshed_at, rows,
};
use crate::domain::ReferralStatus;
use crate::domain::disclosure::{self, Audience, Count, Rules};
use crate::domain::metrics::Dimension;
use crate::error::Result;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseConnection, DbBackend, IsolationLevel, Statement, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The metric of the attendance chart's months.
const MONTH_CHILDREN: &str = "month_children";

fn name(d: Dimension) -> &'static str {
    Dimension::NAMED.iter().find(|(_, x)| *x == d).map_or("", |(n, _)| *n)
}

/// Partner and programme groups overlap (a child may be referred to several); the other
/// breakdowns are a child's own attributes and partition the children.
fn overlapping(d: Dimension) -> bool {
    matches!(d, Dimension::Partner | Dimension::Programme)
}

fn dimension(name: &str) -> Option<Dimension> {
    Dimension::NAMED.iter().find(|(n, _)| *n == name).map(|(_, d)| *d)
}

/// A cell's conditions: none, one or two (breakdown name, key), sorted, no repeats.
type Conds = Vec<(&'static str, String)>;

fn conds(pairs: impl IntoIterator<Item = (Dimension, String)>) -> Conds {
    let mut c: Conds = pairs.into_iter().map(|(d, k)| (name(d), k)).collect();
    c.sort();
    c.dedup();
    c
}

/// The one condition a funder's filter sets (check_filter allows at most one), if any.
fn filter_condition(f: &Filter) -> Option<(Dimension, String)> {
    use crate::domain::metrics::Characteristic;
    if let Some(id) = &f.anchor_id {
        return Some((Dimension::Anchor, id.clone()));
    }
    if let Some(id) = &f.partner_id {
        return Some((Dimension::Partner, id.clone()));
    }
    if let Some(id) = &f.programme_id {
        return Some((Dimension::Programme, id.clone()));
    }
    if let Some(year) = f.year_group {
        return Some((Dimension::YearGroup, year.to_string()));
    }
    if let Some(cohort) = &f.cohort {
        return Some((Dimension::Cohort, cohort.clone()));
    }
    f.characteristic.map(|c| {
        let d = match c {
            Characteristic::Fsm => Dimension::Fsm,
            Characteristic::Send => Dimension::Send,
            Characteristic::Eal => Dimension::Eal,
        };
        (d, "yes".to_owned())
    })
}

// ---------------------------------------------------------------------------------------
// The figures of a cell, as published
// ---------------------------------------------------------------------------------------

/// One cell's figures after protection: a count is `None` when suppressed.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Published {
    funnel: [Option<i64>; 6],
    /// In `ReferralStatus::ALL` order.
    referrals: Vec<Option<i64>>,
    has_sessions: bool,
    sessions: Option<i64>,
    offered: Option<i64>,
    rate: Option<f64>,
    engaged: Option<i64>,
    areas: Vec<PublishedArea>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct PublishedArea {
    area: String,
    children: Option<i64>,
    baseline: Vec<Option<i64>>,
    latest: Vec<Option<i64>>,
    reassessed: Option<i64>,
    mean_change: Option<f64>,
    share_improved: Option<f64>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct PublishedMonth {
    children: Option<i64>,
    rate: Option<f64>,
}

impl Published {
    /// The same cell in a period with no data at all: every count zero.
    fn zero(&self) -> Published {
        Published {
            funnel: [Some(0); 6],
            referrals: vec![Some(0); self.referrals.len()],
            has_sessions: self.has_sessions,
            sessions: self.has_sessions.then_some(0),
            offered: Some(0),
            rate: None,
            engaged: Some(0),
            areas: Vec::new(),
        }
    }

    fn group(&self, area: Option<&str>) -> Group {
        let c = Count::published;
        let funnel = self.funnel.map(c);
        Group {
            key: None,
            label: "total".into(),
            funnel,
            referrals: ReferralStatus::ALL
                .iter()
                .copied()
                .zip(self.referrals.iter().map(|v| c(*v)).chain(std::iter::repeat(c(Some(0)))))
                .collect(),
            sessions_delivered: self.has_sessions.then(|| c(self.sessions)),
            children_offered_sessions: c(self.offered),
            attendance_rate: self.rate,
            engaged_children: c(self.engaged),
            outcomes: self
                .areas
                .iter()
                .filter(|a| area.is_none_or(|code| code == a.area))
                .map(|a| AreaOutcome {
                    area: a.area.clone(),
                    children: c(a.children),
                    baseline: a.baseline.iter().map(|v| c(*v)).collect(),
                    latest: a.latest.iter().map(|v| c(*v)).collect(),
                    children_reassessed: c(a.reassessed),
                    mean_change: a.mean_change,
                    share_improved: a.share_improved,
                })
                .collect(),
        }
    }
}

/// The exact counts of a cell, each with its metric's name.
fn counts(raw: &Raw) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for (i, n) in raw.funnel.iter().enumerate() {
        out.push((format!("funnel.{i}"), *n));
    }
    for s in ReferralStatus::ALL {
        out.push((format!("referrals.{}", s.as_str()), raw.referrals.get(s.as_str()).copied().unwrap_or(0)));
    }
    if let Some(n) = raw.sessions {
        out.push(("sessions".into(), n));
    }
    out.push(("children_offered".into(), raw.children_offered));
    out.push(("engaged".into(), raw.engaged));
    for (area, a) in &raw.outcomes {
        out.push((format!("outcomes.{area}.children"), a.children));
        for l in 0..LEVELS {
            out.push((format!("outcomes.{area}.baseline.{l}"), a.baseline[l]));
            out.push((format!("outcomes.{area}.latest.{l}"), a.latest[l]));
        }
        out.push((format!("outcomes.{area}.reassessed"), a.reassessed));
    }
    out
}

/// Counted by a date (stage reached, referral made, session held, first assessment), so a
/// longer period's count is the sum of its parts'; children offered sessions and engaged
/// children are distinct children over the period, not sums.
fn period_additive(metric: &str) -> bool {
    metric != "children_offered" && metric != "engaged"
}

/// Additive over the groups of a breakdown, by its kind.
fn additive_over(d: Dimension, metric: &str) -> bool {
    if overlapping(d) { metric.starts_with("referrals.") || metric == "sessions" } else { metric != "sessions" }
}

// ---------------------------------------------------------------------------------------
// Building the protected catalogue
// ---------------------------------------------------------------------------------------

/// A cell's exact counts, each with its metric's name.
type Figures = Vec<(String, i64)>;

/// Cells with exact values, and the relations among them.
#[derive(Default)]
struct Linked {
    values: Vec<i64>,
    index: HashMap<(usize, usize, String), usize>,
    relations: Vec<Vec<usize>>,
}

impl Linked {
    fn add(&mut self, period: usize, conds: usize, metric: String, value: i64) {
        let next = self.values.len();
        if let std::collections::hash_map::Entry::Vacant(e) = self.index.entry((period, conds, metric)) {
            e.insert(next);
            self.values.push(value);
        }
    }

    fn get(&self, period: usize, conds: usize, metric: &str) -> Option<usize> {
        self.index.get(&(period, conds, metric.to_owned())).copied()
    }

    /// A relation among the cells that exist (a missing cell is a known zero).
    fn relate(&mut self, cells: impl IntoIterator<Item = Option<usize>>) {
        let mut cells: Vec<usize> = cells.into_iter().flatten().collect();
        cells.sort_unstable();
        cells.dedup();
        if cells.len() >= 2 {
            self.relations.push(cells);
        }
    }
}

/// The periods of the catalogue with data: all time first, then each academic year
/// followed by its terms. A period outside them has no data: every count is zero.
async fn periods_of<C: ConnectionTrait>(conn: &C) -> Result<Vec<(String, Option<Period>)>> {
    let backend = conn.get_database_backend();
    let one = |sql: &str| Statement::from_string(backend, sql.to_owned());
    let stamps = ["identified_at", "consented_at", "enrolled_at", "active_at", "completed_at", "exited_at"]
        .map(|c| format!("SELECT {c} AS x FROM child_facts"))
        .join(" UNION ALL ");
    let mut dates: Vec<NaiveDate> = Vec::new();
    let q = format!(
        "SELECT MIN(x) AS lo, MAX(x) AS hi FROM ({stamps} UNION ALL SELECT created_at AS x FROM referral_facts) u"
    );
    if let Some(row) = conn.query_one_raw(one(&q)).await? {
        for c in ["lo", "hi"] {
            if let Some(at) = row.try_get::<Option<DateTime<Utc>>>("", c)? {
                dates.push(at.date_naive());
            }
        }
    }
    let q = "SELECT MIN(baseline_on) AS lo, MAX(baseline_on) AS hi FROM outcome_facts";
    if let Some(row) = conn.query_one_raw(one(q)).await? {
        for c in ["lo", "hi"] {
            if let Some(on) = row.try_get::<Option<NaiveDate>>("", c)? {
                dates.push(on);
            }
        }
    }
    let q = "SELECT MIN(month) AS lo, MAX(month) AS hi FROM \
             (SELECT month FROM attendance_facts UNION ALL SELECT month FROM session_facts) u";
    if let Some(row) = conn.query_one_raw(one(q)).await? {
        for c in ["lo", "hi"] {
            if let Some(month) = row.try_get::<Option<String>>("", c)?
                && let Ok(on) = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
            {
                dates.push(on);
            }
        }
    }
    let academic = |d: &NaiveDate| if d.month() >= 9 { d.year() } else { d.year() - 1 };
    let mut out = vec![(String::new(), None)];
    if let (Some(first), Some(last)) = (dates.iter().map(academic).min(), dates.iter().map(academic).max()) {
        for year in first.max(2000)..=last.min(2100) {
            let label = format!("{year}-{:02}", (year + 1) % 100);
            for text in [label.clone(), format!("{label} autumn"), format!("{label} spring"), format!("{label} summer")]
            {
                let p = period(&text)?;
                out.push((p.label.clone(), Some(p)));
            }
        }
    }
    Ok(out)
}

/// Programme → the partners its referrals and sessions were with.
async fn owners<C: ConnectionTrait>(conn: &C) -> Result<BTreeMap<String, BTreeSet<String>>> {
    let q = "SELECT DISTINCT programme_id AS q, partner_id AS p FROM referral_facts \
             UNION SELECT DISTINCT programme_id AS q, partner_id AS p FROM session_facts \
             UNION SELECT DISTINCT programme_id AS q, partner_id AS p FROM attendance_facts";
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for row in conn.query_all_raw(Statement::from_string(conn.get_database_backend(), q.to_owned())).await? {
        out.entry(row.try_get("", "q")?).or_default().insert(row.try_get("", "p")?);
    }
    Ok(out)
}

/// One row of `protected_metrics`: period, conditions, figures (JSON).
struct Row {
    period: String,
    conds: Conds,
    figures: String,
}

/// Computes and protects the whole catalogue from the summary tables.
async fn build<C: ConnectionTrait>(conn: &C, rules: &Rules, engaged_after: i64) -> Result<Vec<Row>> {
    let periods = periods_of(conn).await?;
    let filter = Filter::default();
    let mut plans: Vec<(Option<Dimension>, Option<Dimension>)> = vec![(None, None)];
    plans.extend(Dimension::ALL.iter().map(|d| (None, Some(*d))));
    for (i, f) in Dimension::ALL.iter().enumerate() {
        plans.extend(Dimension::ALL[i + 1..].iter().map(|e| (Some(*f), Some(*e))));
    }
    plans.push((Some(Dimension::Partner), Some(Dimension::Partner)));
    plans.push((Some(Dimension::Programme), Some(Dimension::Programme)));

    // Exact figures of every cell, per period.
    let mut cells: BTreeMap<(usize, Conds), Raw> = BTreeMap::new();
    for (p, (_, period)) in periods.iter().enumerate() {
        for (split, group) in &plans {
            let plan = Plan { filter: &filter, period: period.as_ref(), group_by: *group, split: *split };
            for ((fkey, gkey), raw) in raw_split(conn, &plan, engaged_after).await? {
                if split.is_some() && split == group && fkey == gkey {
                    continue; // the diagonal is the one-way cell
                }
                let pairs = split.map(|d| (d, fkey)).into_iter().chain(group.map(|d| (d, gkey)));
                cells.insert((p, conds(pairs)), raw);
            }
        }
    }
    // The attendance chart's months, for the zone and each filter.
    let mut months: BTreeMap<(String, Conds), (i64, i64, i64)> = BTreeMap::new();
    for split in std::iter::once(None).chain(Dimension::ALL.iter().map(|d| Some(*d))) {
        let plan = Plan { filter: &filter, period: None, group_by: None, split };
        for (fkey, month, children, offered, attended) in month_rows(conn, &plan).await? {
            months.insert((month, conds(split.map(|d| (d, fkey)))), (children, offered, attended));
        }
    }

    // Cells.
    let mut linked = Linked::default();
    let mut conds_ids: BTreeMap<Conds, usize> = BTreeMap::new();
    let mut intern = |c: &Conds| {
        let next = conds_ids.len();
        *conds_ids.entry(c.clone()).or_insert(next)
    };
    let mut cell_ids: Vec<(usize, usize, Figures)> = Vec::new();
    for ((p, c), raw) in &cells {
        let cid = intern(c);
        let figures = counts(raw);
        for (m, v) in &figures {
            linked.add(*p, cid, m.clone(), *v);
        }
        cell_ids.push((*p, cid, figures));
    }
    let month_labels: BTreeSet<String> = months.keys().map(|(m, _)| m.clone()).collect();
    let month_period: BTreeMap<String, usize> =
        month_labels.iter().enumerate().map(|(i, m)| (m.clone(), periods.len() + i)).collect();
    for ((month, c), (children, ..)) in &months {
        let cid = intern(c);
        linked.add(month_period[month], cid, MONTH_CHILDREN.into(), *children);
    }
    let id_of = |c: &Conds| conds_ids.get(c).copied();

    // Breakdowns: a total and its groups, one-way (base: none) and two-way (base: one
    // condition), for the figures additive over the breakdown.
    let mut buckets: BTreeMap<(usize, usize, &'static str), Vec<usize>> = BTreeMap::new();
    for (p, c) in cells.keys() {
        for i in 0..c.len() {
            let mut base = c.clone();
            let (dim, _) = base.remove(i);
            if base.iter().any(|(d, _)| *d == dim) {
                continue;
            }
            if let (Some(b), Some(cid)) = (id_of(&base), id_of(c)) {
                buckets.entry((*p, b, dim)).or_default().push(cid);
            }
        }
    }
    let metrics_of: HashMap<(usize, usize), &Vec<(String, i64)>> =
        cell_ids.iter().map(|(p, c, f)| ((*p, *c), f)).collect();
    for ((p, b, dim), parts) in &buckets {
        let Some(d) = dimension(dim) else { continue };
        let Some(total) = metrics_of.get(&(*p, *b)) else { continue };
        for (m, _) in total.iter().filter(|(m, _)| additive_over(d, m)) {
            let rel: Vec<Option<usize>> =
                std::iter::once(linked.get(*p, *b, m)).chain(parts.iter().map(|c| linked.get(*p, *c, m))).collect();
            linked.relate(rel);
        }
    }

    // Partners and their programmes.
    let owners = owners(conn).await?;
    let mut programmes_of: BTreeMap<&String, Vec<&String>> = BTreeMap::new();
    for (q, ps) in &owners {
        for p in ps {
            programmes_of.entry(p).or_default().push(q);
        }
    }
    let bases: Vec<Conds> = std::iter::once(Conds::new())
        .chain(conds_ids.keys().filter(|c| c.len() == 1 && dimension(c[0].0).is_some_and(|d| !overlapping(d))).cloned())
        .collect();
    for p in 0..periods.len() {
        for (partner, programmes) in &programmes_of {
            if programmes.iter().any(|q| owners[*q].len() != 1) {
                continue;
            }
            for base in &bases {
                let with = |d: Dimension, k: &String| {
                    id_of(&conds(
                        base.iter().filter_map(|(n, v)| dimension(n).map(|d| (d, v.clone()))).chain([(d, k.clone())]),
                    ))
                };
                let Some(total) = with(Dimension::Partner, partner) else { continue };
                let parts: Vec<Option<usize>> = programmes.iter().map(|q| with(Dimension::Programme, q)).collect();
                let Some(figures) = metrics_of.get(&(p, total)) else { continue };
                for (m, _) in figures.iter().filter(|(m, _)| additive_over(Dimension::Partner, m)) {
                    let rel: Vec<Option<usize>> = std::iter::once(linked.get(p, total, m))
                        .chain(parts.iter().map(|c| c.and_then(|c| linked.get(p, c, m))))
                        .collect();
                    linked.relate(rel);
                }
            }
            // A partner × one of its own programmes counts what the programme alone does.
            for q in programmes {
                let both =
                    id_of(&conds([(Dimension::Partner, (*partner).clone()), (Dimension::Programme, (*q).clone())]));
                let alone = id_of(&conds([(Dimension::Programme, (*q).clone())]));
                if let (Some(both), Some(alone)) = (both, alone)
                    && let Some(figures) = metrics_of.get(&(p, both))
                {
                    for (m, _) in figures.iter() {
                        linked.relate([linked.get(p, both, m), linked.get(p, alone, m)]);
                    }
                }
            }
        }
    }

    // Periods: all time = the years; a year = its terms.
    let mut tree: Vec<(usize, Vec<usize>)> = Vec::new();
    let years: Vec<usize> = (1..periods.len()).step_by(4).collect();
    tree.push((0, years.clone()));
    for y in years {
        tree.push((y, vec![y + 1, y + 2, y + 3]));
    }
    for (parent, children) in &tree {
        for (p, c, figures) in &cell_ids {
            if p != parent {
                continue;
            }
            for (m, _) in figures.iter().filter(|(m, _)| period_additive(m)) {
                let rel: Vec<Option<usize>> = std::iter::once(linked.get(*p, *c, m))
                    .chain(children.iter().map(|child| linked.get(*child, *c, m)))
                    .collect();
                linked.relate(rel);
            }
        }
    }

    // Within a cell: an area's children are the sum of each level's, at baseline and latest.
    for ((p, c), raw) in &cells {
        let cid = id_of(c).unwrap_or_default();
        for area in raw.outcomes.keys() {
            for when in ["baseline", "latest"] {
                let rel: Vec<Option<usize>> =
                    std::iter::once(linked.get(*p, cid, &format!("outcomes.{area}.children")))
                        .chain((0..LEVELS).map(|l| linked.get(*p, cid, &format!("outcomes.{area}.{when}.{l}"))))
                        .collect();
                linked.relate(rel);
            }
        }
    }

    // Months: the zone's month is the sum of a partitioning filter's; a period whose only
    // month with children offered sessions is `m` counts the children `m` does.
    let mut month_parts: BTreeMap<(usize, &'static str), Vec<usize>> = BTreeMap::new();
    for (month, c) in months.keys() {
        if let [(dim, _)] = c.as_slice()
            && dimension(dim).is_some_and(|d| !overlapping(d))
            && let Some(cid) = id_of(c)
        {
            month_parts.entry((month_period[month], dim)).or_default().push(cid);
        }
    }
    if let Some(zone) = id_of(&Conds::new()) {
        for ((mp, _), parts) in &month_parts {
            let rel: Vec<Option<usize>> = std::iter::once(linked.get(*mp, zone, MONTH_CHILDREN))
                .chain(parts.iter().map(|c| linked.get(*mp, *c, MONTH_CHILDREN)))
                .collect();
            linked.relate(rel);
        }
    }
    let mut busy: BTreeMap<Conds, Vec<&String>> = BTreeMap::new();
    for ((month, c), (children, ..)) in &months {
        if *children > 0 {
            busy.entry(c.clone()).or_default().push(month);
        }
    }
    for (p, (_, range)) in periods.iter().enumerate() {
        for (c, in_months) in &busy {
            let within: Vec<&&String> = in_months
                .iter()
                .filter(|m| {
                    range.as_ref().is_none_or(|r| {
                        let first = format!("{:04}-{:02}", r.starts_on.year(), r.starts_on.month());
                        let last = r.ends_before.pred_opt().unwrap_or(r.ends_before);
                        let last = format!("{:04}-{:02}", last.year(), last.month());
                        m.as_str() >= first.as_str() && m.as_str() <= last.as_str()
                    })
                })
                .collect();
            if let ([month], Some(cid)) = (within.as_slice(), id_of(c)) {
                linked.relate([
                    linked.get(p, cid, "children_offered"),
                    linked.get(month_period[**month], cid, MONTH_CHILDREN),
                ]);
            }
        }
    }

    // Protect, then write each cell's figures.
    let shown = disclosure::protect_linked(Audience::Protected, rules, &linked.values, &linked.relations);
    let count = |p: usize, c: usize, m: &str| linked.get(p, c, m).map_or(Count::published(Some(0)), |i| shown[i]);
    let mut out = Vec::new();
    for ((p, c), raw) in &cells {
        let cid = id_of(c).unwrap_or_default();
        let value = |m: &str| count(*p, cid, m).value;
        let offered = count(*p, cid, "children_offered");
        let published = Published {
            funnel: std::array::from_fn(|i| value(&format!("funnel.{i}"))),
            referrals: ReferralStatus::ALL.iter().map(|s| value(&format!("referrals.{}", s.as_str()))).collect(),
            has_sessions: raw.sessions.is_some(),
            sessions: raw.sessions.and_then(|_| value("sessions")),
            offered: offered.value,
            rate: disclosure::derived(offered, (raw.offered > 0).then(|| raw.attended as f64 / raw.offered as f64)),
            engaged: value("engaged"),
            areas: raw
                .outcomes
                .iter()
                .map(|(area, a)| {
                    let reassessed = count(*p, cid, &format!("outcomes.{area}.reassessed"));
                    let per = |n: i64| (a.reassessed > 0).then(|| n as f64 / a.reassessed as f64);
                    PublishedArea {
                        area: area.clone(),
                        children: value(&format!("outcomes.{area}.children")),
                        baseline: (0..LEVELS).map(|l| value(&format!("outcomes.{area}.baseline.{l}"))).collect(),
                        latest: (0..LEVELS).map(|l| value(&format!("outcomes.{area}.latest.{l}"))).collect(),
                        reassessed: reassessed.value,
                        mean_change: disclosure::derived(reassessed, per(a.change_sum)),
                        share_improved: disclosure::derived(reassessed, per(a.improved)),
                    }
                })
                .collect(),
        };
        out.push(Row { period: periods[*p].0.clone(), conds: c.clone(), figures: to_json(&published)? });
    }
    for ((month, c), (_, offered, attended)) in &months {
        let cid = id_of(c).unwrap_or_default();
        let children = count(month_period[month], cid, MONTH_CHILDREN);
        let rate = disclosure::derived(children, (*offered > 0).then(|| *attended as f64 / *offered as f64));
        let figures = to_json(&PublishedMonth { children: children.value, rate })?;
        out.push(Row { period: format!("month {month}"), conds: c.clone(), figures });
    }
    Ok(out)
}

fn to_json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| crate::error::Error::Internal(e.into()))
}

fn from_json<T: for<'a> Deserialize<'a>>(text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| crate::error::Error::Internal(e.into()))
}

// ---------------------------------------------------------------------------------------
// Storing and reading it
// ---------------------------------------------------------------------------------------

/// The refresh and settings a protected catalogue was built for.
fn basis(at: Option<DateTime<Utc>>, rules: &Rules, engaged_after: i64) -> String {
    let at = at.map_or_else(|| "never".to_owned(), |a| a.to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
    format!("{at} t{} r{} e{engaged_after}", rules.threshold, rules.rounding_base)
}

fn new_sql(backend: DbBackend) -> Sql {
    Sql { backend, text: String::new(), values: Vec::new() }
}

/// The columns of a cell's conditions: (dim_a, key_a, dim_b, key_b), `''` when unset.
fn columns(c: &Conds) -> [String; 4] {
    let part = |i: usize| c.get(i).map_or((String::new(), String::new()), |(d, k)| ((*d).to_owned(), k.clone()));
    let ((da, ka), (db, kb)) = (part(0), part(1));
    [da, ka, db, kb]
}

async fn built<C: ConnectionTrait>(conn: &C, basis: &str) -> Result<bool> {
    let mut sql = new_sql(conn.get_database_backend());
    sql.text = format!(
        "SELECT COUNT(*) AS n FROM protected_metrics WHERE basis = {} AND period = '' AND dim_a = '' AND dim_b = ''",
        sql.bind(basis.to_owned())
    );
    Ok(match conn.query_one_raw(sql.statement()).await? {
        Some(row) => get_i64(&row, "n")? > 0,
        None => false,
    })
}

/// Builds and stores the protected catalogue for the current refresh and settings unless it
/// is there (the refresh duty does so after each refresh).
pub(super) async fn prepare(db: &DatabaseConnection, rules: &Rules, engaged_after: i64) -> Result<()> {
    ensure(db, rules, engaged_after).await.map(drop)
}

/// Builds and stores the protected catalogue for the current refresh and settings unless it
/// is there; returns its basis.
async fn ensure(db: &DatabaseConnection, rules: &Rules, engaged_after: i64) -> Result<String> {
    // One build at a time in this process (others wait, then find it built).
    static BUILDING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let current = basis(refreshed_at(db).await?, rules, engaged_after);
    if built(db, &current).await? {
        return Ok(current);
    }
    let _turn = BUILDING.lock().await;
    if built(db, &current).await? {
        return Ok(current);
    }
    // One snapshot of the summary tables (and of when they were refreshed).
    let backend = db.get_database_backend();
    let read = match backend {
        DbBackend::Postgres => {
            db.begin_with_config(Some(IsolationLevel::RepeatableRead), Some(AccessMode::ReadOnly)).await?
        }
        _ => db.begin().await?,
    };
    let current = basis(refreshed_at(&read).await?, rules, engaged_after);
    let started = std::time::Instant::now();
    let found = build(&read, rules, engaged_after).await?;
    read.commit().await?;
    tracing::info!(
        cells = found.len(),
        ms = started.elapsed().as_millis() as u64,
        "built the protected metrics catalogue"
    );
    let store = async {
        let tx = crate::store::db::begin_writing(db).await?;
        if built(&tx, &current).await? {
            return Ok(());
        }
        let mut sql = new_sql(backend);
        sql.text = format!("DELETE FROM protected_metrics WHERE basis <> {}", sql.bind(current.clone()));
        tx.execute_raw(sql.statement()).await?;
        for chunk in found.chunks(200) {
            let mut sql = new_sql(backend);
            let mut values = Vec::new();
            for row in chunk {
                let [da, ka, dbb, kb] = columns(&row.conds);
                let cells = [current.clone(), row.period.clone(), da, ka, dbb, kb, row.figures.clone()]
                    .map(|v| sql.bind(v))
                    .join(", ");
                values.push(format!("({cells})"));
            }
            sql.text = format!(
                "INSERT INTO protected_metrics (basis, period, dim_a, key_a, dim_b, key_b, figures) VALUES {}",
                values.join(", ")
            );
            tx.execute_raw(sql.statement()).await?;
        }
        tx.commit().await?;
        Ok::<(), crate::error::Error>(())
    };
    match store.await {
        Ok(()) => Ok(current),
        // Another process stored the same catalogue first.
        Err(_) if built(db, &current).await? => Ok(current),
        Err(e) => Err(e),
    }
}

/// Every stored cell of a period whose conditions are `base` plus one condition on
/// `dimension` (or `base` itself when `dimension` is `None`), with that condition's key.
async fn cells_of(
    db: &DatabaseConnection,
    basis: &str,
    period: &str,
    base: Option<&(Dimension, String)>,
    dimension: Option<Dimension>,
) -> Result<Vec<(Option<String>, String)>> {
    let mut sql = new_sql(db.get_database_backend());
    let head = format!(
        "SELECT dim_a, key_a, dim_b, key_b, figures FROM protected_metrics WHERE basis = {} AND period = {}",
        sql.bind(basis.to_owned()),
        sql.bind(period.to_owned())
    );
    let condition = match (base, dimension) {
        (None, None) => " AND dim_a = '' AND dim_b = ''".to_owned(),
        (Some((d, k)), None) => {
            format!(" AND dim_a = {} AND key_a = {} AND dim_b = ''", sql.bind(name(*d)), sql.bind(k.clone()))
        }
        (None, Some(e)) => format!(" AND dim_a = {} AND dim_b = ''", sql.bind(name(e))),
        (Some((d, k)), Some(e)) => {
            let (d1, k1, e1) = (sql.bind(name(*d)), sql.bind(k.clone()), sql.bind(name(e)));
            let (d2, k2, e2) = (sql.bind(name(*d)), sql.bind(k.clone()), sql.bind(name(e)));
            format!(
                " AND ((dim_a = {d1} AND key_a = {k1} AND dim_b = {e1}) OR (dim_b = {d2} AND key_b = {k2} AND dim_a = {e2}))"
            )
        }
    };
    sql.text = format!("{head}{condition}");
    let mut out = Vec::new();
    for row in rows(db, sql).await? {
        let [da, ka, dbb, kb]: [String; 4] = [
            row.try_get("", "dim_a")?,
            row.try_get("", "key_a")?,
            row.try_get("", "dim_b")?,
            row.try_get("", "key_b")?,
        ];
        let figures: String = row.try_get("", "figures")?;
        // The key of the breakdown's condition: the one that is not the base's.
        let key = match (base, dimension) {
            (_, None) => None,
            (None, Some(_)) => Some(ka),
            (Some((d, k)), Some(_)) => Some(if da == name(*d) && ka == *k { kb } else { ka }),
        };
        let _ = dbb;
        out.push((key, figures));
    }
    Ok(out)
}

/// A funder's metrics, from the protected catalogue.
pub(super) async fn metrics(
    db: &DatabaseConnection,
    rules: Rules,
    engaged_after: i64,
    filter: &Filter,
    period: Option<Period>,
    group_by: Option<Dimension>,
) -> Result<Metrics> {
    let basis = ensure(db, &rules, engaged_after).await?;
    let mut label = period.as_ref().map_or(String::new(), |p| p.label.clone());
    // A period without data: the same cells as all time, every count zero.
    let empty = label.is_empty() || cells_of(db, &basis, &label, None, None).await?.is_empty();
    let zeroed = !label.is_empty() && empty;
    if zeroed {
        label = String::new();
    }
    let base = filter_condition(filter);
    let read = |text: &str| -> Result<Published> {
        let p: Published = from_json(text)?;
        Ok(if zeroed { p.zero() } else { p })
    };
    let total = match cells_of(db, &basis, &label, base.as_ref(), None).await?.first() {
        Some((_, figures)) => read(figures)?,
        None => {
            let has_sessions = base.as_ref().is_none_or(|(d, _)| overlapping(*d));
            let referrals = vec![Some(0); ReferralStatus::ALL.len()];
            Published { referrals, has_sessions, ..Published::default() }.zero()
        }
    };
    let mut groups: Vec<(String, Published)> = Vec::new();
    if let Some(e) = group_by {
        match &base {
            // The filter's own breakdown: the filtered group, and for partners and
            // programmes the others its children are also referred to.
            Some((d, k)) if *d == e => {
                if !cells_of(db, &basis, &label, base.as_ref(), None).await?.is_empty() {
                    groups.push((k.clone(), total.clone()));
                }
                if overlapping(e) {
                    for (key, figures) in cells_of(db, &basis, &label, base.as_ref(), Some(e)).await? {
                        groups.push((key.unwrap_or_default(), read(&figures)?));
                    }
                }
            }
            _ => {
                for (key, figures) in cells_of(db, &basis, &label, base.as_ref(), Some(e)).await? {
                    groups.push((key.unwrap_or_default(), read(&figures)?));
                }
            }
        }
    }
    groups.sort_by(|a, b| a.0.cmp(&b.0));
    let area = filter.area.as_deref();
    let mut total = total.group(area);
    if group_by.is_some_and(|e| !overlapping(e)) {
        // As for exact figures: no sessions beside a breakdown by a child's attributes.
        total.sessions_delivered = None;
    }
    let keys: Vec<String> = groups.iter().map(|(k, _)| k.clone()).collect();
    let mut shown: Vec<Group> = groups.iter().map(|(_, p)| p.group(area)).collect();
    if let Some(dimension) = group_by {
        let names = labels(db, dimension, &keys).await?;
        for (group, key) in shown.iter_mut().zip(keys) {
            group.label = names.get(&key).cloned().unwrap_or_else(|| key.clone());
            group.key = Some(key);
        }
    }
    Ok(Metrics {
        audience: Audience::Protected,
        rules,
        period,
        group_by,
        refreshed_at: refreshed_at(db).await?,
        groups: shown,
        total,
    })
}

/// A funder's attendance by month, from the protected catalogue.
pub(super) async fn attendance_by_month(
    db: &DatabaseConnection,
    rules: Rules,
    engaged_after: i64,
    filter: &Filter,
    period: Option<&Period>,
) -> Result<Vec<MonthAttendance>> {
    let basis = ensure(db, &rules, engaged_after).await?;
    let [da, ka, ..] = columns(&conds(filter_condition(filter)));
    let mut sql = new_sql(db.get_database_backend());
    sql.text = format!(
        "SELECT period, figures FROM protected_metrics WHERE basis = {} AND period LIKE 'month %' \
         AND dim_a = {} AND key_a = {} AND dim_b = '' ORDER BY period",
        sql.bind(basis),
        sql.bind(da),
        sql.bind(ka)
    );
    let mut out = Vec::new();
    for row in rows(db, sql).await? {
        let label: String = row.try_get("", "period")?;
        let month = label.trim_start_matches("month ").to_owned();
        if let Some(p) = period {
            let last = p.ends_before.pred_opt().unwrap_or(p.ends_before);
            let (first, last) = (
                format!("{:04}-{:02}", p.starts_on.year(), p.starts_on.month()),
                format!("{:04}-{:02}", last.year(), last.month()),
            );
            if month < first || month > last {
                continue;
            }
        }
        let figures: PublishedMonth = from_json(&row.try_get::<String>("", "figures")?)?;
        out.push(MonthAttendance { month, children: Count::published(figures.children), rate: figures.rate });
    }
    Ok(out)
}

/// Removes every stored catalogue (the summary tables are being rebuilt).
pub(super) async fn clear<C: ConnectionTrait>(conn: &C) -> Result<()> {
    conn.execute_unprepared("DELETE FROM protected_metrics").await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_are_canonical_whatever_their_order() {
        let a = conds([(Dimension::YearGroup, "5".into()), (Dimension::Anchor, "x".into())]);
        let b = conds([(Dimension::Anchor, "x".into()), (Dimension::YearGroup, "5".into())]);
        assert_eq!(a, b);
        assert_eq!(columns(&a), ["anchor".to_owned(), "x".into(), "yearGroup".into(), "5".into()]);
        assert_eq!(conds([(Dimension::Fsm, "yes".into()), (Dimension::Fsm, "yes".into())]).len(), 1);
    }

    #[test]
    fn only_referrals_and_sessions_add_up_over_partners() {
        assert!(additive_over(Dimension::Partner, "referrals.sent"));
        assert!(additive_over(Dimension::Programme, "sessions"));
        assert!(!additive_over(Dimension::Partner, "funnel.0"));
        assert!(additive_over(Dimension::Anchor, "funnel.0"));
        assert!(!additive_over(Dimension::Anchor, "sessions"));
        assert!(period_additive("outcomes.x.children") && !period_additive("engaged"));
    }
}
