//! Disclosure control across the whole catalogue: every query a funder can make (each
//! filter a funder may use, one at a time, × every breakdown × every period, and the
//! attendance chart's months), for the demo zone and for a generated one. Every published
//! cell is collected with its meaning (period, the conditions on the children it counts,
//! the figure), and the test fails when the same cell shows two different things, when a
//! hidden cell is the only hidden term of an additive relation among published cells (a
//! total and its groups, a filtered total and the matching two-way cells, a year and its
//! terms, all time and its years, a partner and its programmes, an area's children and its
//! levels, a month and a period), or when a published figure is not the exact one rounded.
//!
//! The relations are written here from what the figures mean, not taken from the code that
//! protects them.

use backbone::auth::Actor;
use backbone::domain::disclosure::Rules;
use backbone::domain::metrics::{self, Characteristic, Dimension, Filter, Group};
use backbone::domain::{OrganisationKind, ReferralStatus, Role};
use backbone::startup::StartOptions;
use backbone_tests::*;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement, Value};
use std::collections::{BTreeMap, BTreeSet};

const ENGAGED_AFTER: i64 = 6;
const RULES: Rules = Rules { threshold: 10, rounding_base: 5 };

fn actor(role: Role, kind: OrganisationKind) -> Actor {
    Actor::in_role(&format!("test-{}", role.as_str()), "test-organisation", kind, role)
}

fn name(d: Dimension) -> &'static str {
    Dimension::NAMED.iter().find(|(_, x)| *x == d).map(|(n, _)| *n).expect("named")
}

fn dimension(name: &str) -> Dimension {
    Dimension::NAMED.iter().find(|(n, _)| *n == name).map(|(_, d)| *d).expect("a breakdown")
}

fn overlapping(d: Dimension) -> bool {
    matches!(d, Dimension::Partner | Dimension::Programme)
}

/// Which children a cell counts: conditions on them, sorted.
type Conds = Vec<(&'static str, String)>;
/// A published cell's meaning: period ("" for all time, `month YYYY-MM` for the chart),
/// conditions, figure.
type Meaning = (String, Conds, String);

fn conds(pairs: impl IntoIterator<Item = (Dimension, String)>) -> Conds {
    let mut c: Conds = pairs.into_iter().map(|(d, k)| (name(d), k)).collect();
    c.sort();
    c.dedup();
    c
}

/// Every count of a group, with its figure's name; `None` when hidden.
fn figures(g: &Group) -> Vec<(String, Option<i64>)> {
    let mut out = Vec::new();
    for (i, c) in g.funnel.iter().enumerate() {
        out.push((format!("funnel.{i}"), c.value));
        assert_eq!(c.value.is_none(), c.suppressed);
    }
    for (s, c) in &g.referrals {
        out.push((format!("referrals.{}", s.as_str()), c.value));
    }
    if let Some(c) = &g.sessions_delivered {
        out.push(("sessions".into(), c.value));
    }
    out.push(("children_offered".into(), g.children_offered_sessions.value));
    out.push(("engaged".into(), g.engaged_children.value));
    for a in &g.outcomes {
        out.push((format!("outcomes.{}.children", a.area), a.children.value));
        for (l, c) in a.baseline.iter().enumerate() {
            out.push((format!("outcomes.{}.baseline.{l}", a.area), c.value));
        }
        for (l, c) in a.latest.iter().enumerate() {
            out.push((format!("outcomes.{}.latest.{l}", a.area), c.value));
        }
        out.push((format!("outcomes.{}.reassessed", a.area), a.children_reassessed.value));
    }
    out
}

fn additive_over(d: Dimension, metric: &str) -> bool {
    if overlapping(d) { metric.starts_with("referrals.") || metric == "sessions" } else { metric != "sessions" }
}

fn dated(metric: &str) -> bool {
    metric != "children_offered" && metric != "engaged"
}

fn round(v: i64) -> i64 {
    ((v + 2) / 5) * 5
}

/// Whether a filter can ask for this condition (characteristics only as `yes`; no filter
/// for children without a cohort).
fn filterable((d, k): &(Dimension, String)) -> bool {
    match d {
        Dimension::Fsm | Dimension::Send | Dimension::Eal => k == "yes",
        Dimension::Cohort => k != "none",
        _ => true,
    }
}

/// A filter a funder may use: none, or one condition.
fn filter_for(condition: Option<&(Dimension, String)>, period: Option<&str>) -> Filter {
    let mut f = Filter { period: period.map(str::to_owned), ..Filter::default() };
    if let Some((d, k)) = condition {
        match d {
            Dimension::Anchor => f.anchor_id = Some(k.clone()),
            Dimension::Partner => f.partner_id = Some(k.clone()),
            Dimension::Programme => f.programme_id = Some(k.clone()),
            Dimension::YearGroup => f.year_group = Some(k.parse().expect("year")),
            Dimension::Cohort => f.cohort = Some(k.clone()),
            Dimension::Fsm => f.characteristic = Some(Characteristic::Fsm),
            Dimension::Send => f.characteristic = Some(Characteristic::Send),
            Dimension::Eal => f.characteristic = Some(Characteristic::Eal),
        }
    }
    f
}

/// The academic years with data in the summary tables (`2025` for 2025-26).
async fn years(db: &DatabaseConnection) -> Vec<i32> {
    let columns = [
        ("child_facts", "identified_at"),
        ("child_facts", "completed_at"),
        ("child_facts", "exited_at"),
        ("referral_facts", "created_at"),
        ("outcome_facts", "baseline_on"),
        ("attendance_facts", "month"),
        ("session_facts", "month"),
    ];
    let union = columns
        .map(|(t, c)| format!("SELECT SUBSTR(CAST({c} AS TEXT), 1, 7) AS m FROM {t} WHERE {c} IS NOT NULL"))
        .join(" UNION ALL ");
    let sql = format!("SELECT MIN(m) AS lo, MAX(m) AS hi FROM ({union}) u");
    let row =
        db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.expect("range").expect("a row");
    let year = |m: String| {
        let (y, month) = m.split_at(4);
        let (y, month): (i32, u32) = (y.parse().expect("year"), month[1..3].parse().expect("month"));
        if month >= 9 { y } else { y - 1 }
    };
    let lo: Option<String> = row.try_get("", "lo").expect("lo");
    let hi: Option<String> = row.try_get("", "hi").expect("hi");
    match (lo, hi) {
        (Some(lo), Some(hi)) => (year(lo)..=year(hi)).collect(),
        _ => Vec::new(),
    }
}

#[derive(Default)]
struct Catalogue {
    /// Every published cell and what it showed.
    cells: BTreeMap<Meaning, Option<i64>>,
    /// The relations seen in the answers themselves (a total and its groups).
    relations: Vec<Vec<Meaning>>,
    problems: Vec<String>,
    queries: usize,
}

impl Catalogue {
    fn publish(&mut self, meaning: Meaning, value: Option<i64>) {
        match self.cells.get(&meaning) {
            Some(seen) if *seen != value => {
                self.problems.push(format!("{meaning:?} shown as {seen:?} and as {value:?}"));
            }
            _ => {
                self.cells.insert(meaning, value);
            }
        }
    }

    /// The value of a cell as a reader knows it: what was published, or zero when no answer
    /// holds it (its group or area is absent).
    fn known(&self, meaning: &Meaning) -> Option<i64> {
        self.cells.get(meaning).copied().unwrap_or(Some(0))
    }

    /// Fails on every relation with exactly one hidden term.
    fn check(&mut self, what: &str, relation: &[Meaning]) {
        let hidden: Vec<&Meaning> = relation.iter().filter(|m| self.known(m).is_none()).collect();
        if hidden.len() == 1 {
            let shown: Vec<(String, Option<i64>)> =
                relation.iter().map(|m| (format!("{:?} {}", m.1, m.2), self.known(m))).collect();
            self.problems.push(format!("{what}: {:?} recovered from {shown:?}", hidden[0]));
        }
    }
}

/// Asks every query of the catalogue as a funder and collects what it publishes.
async fn enumerate(db: &DatabaseConnection) -> (Catalogue, BTreeMap<Dimension, Vec<String>>, Vec<Option<String>>) {
    let analyst = actor(Role::BackboneAnalyst, OrganisationKind::Backbone);
    let funder = actor(Role::Funder, OrganisationKind::Funder);
    // The values of each breakdown, as the backbone team sees them.
    let mut keys: BTreeMap<Dimension, Vec<String>> = BTreeMap::new();
    for d in Dimension::ALL {
        let m = metrics::metrics(db, &analyst, RULES, ENGAGED_AFTER, Filter::default(), Some(d)).await.expect("keys");
        keys.insert(d, m.groups.iter().filter_map(|g| g.key.clone()).collect());
    }
    let mut conditions: Vec<Option<(Dimension, String)>> = vec![None];
    for (d, ks) in &keys {
        match d {
            Dimension::Fsm | Dimension::Send | Dimension::Eal => conditions.push(Some((*d, "yes".into()))),
            Dimension::Cohort => conditions.extend(ks.iter().filter(|k| *k != "none").map(|k| Some((*d, k.clone())))),
            _ => conditions.extend(ks.iter().map(|k| Some((*d, k.clone())))),
        }
    }
    // A year group with nobody in it is a query a funder can make too.
    let absent = (-1..=13).map(|y: i32| y.to_string()).find(|y| !keys[&Dimension::YearGroup].contains(y));
    conditions.extend(absent.map(|y| Some((Dimension::YearGroup, y))));
    let mut periods: Vec<Option<String>> = vec![None];
    let found = years(db).await;
    let last = found.last().copied().unwrap_or(2025);
    for y in found.iter().copied().chain([last + 1]) {
        let year = format!("{y}-{:02}", (y + 1) % 100);
        periods.push(Some(year.clone()));
        for term in ["autumn", "spring", "summer"] {
            periods.push(Some(format!("{year} {term}")));
        }
    }

    let mut cat = Catalogue::default();
    for period in &periods {
        let label = period.clone().unwrap_or_default();
        for condition in &conditions {
            let base = conds(condition.clone());
            for by in std::iter::once(None).chain(Dimension::ALL.iter().map(|d| Some(*d))) {
                let filter = filter_for(condition.as_ref(), period.as_deref());
                let m = metrics::metrics(db, &funder, RULES, ENGAGED_AFTER, filter, by).await.expect("funder metrics");
                cat.queries += 1;
                assert!(m.total.funnel.iter().all(|c| c.protected), "a funder's figures are protected");
                let total = figures(&m.total);
                for (metric, value) in &total {
                    cat.publish((label.clone(), base.clone(), metric.clone()), *value);
                }
                let Some(e) = by else { continue };
                let mut members = Vec::new();
                for g in &m.groups {
                    let key = g.key.clone().expect("a group's key");
                    let c = conds(condition.clone().into_iter().chain([(e, key)]));
                    for (metric, value) in figures(g) {
                        cat.publish((label.clone(), c.clone(), metric), value);
                    }
                    members.push(c);
                }
                // A total and its groups, when the groups add up to it.
                if condition.as_ref().is_some_and(|(d, _)| *d == e) {
                    continue;
                }
                for (metric, _) in total.iter().filter(|(metric, _)| additive_over(e, metric)) {
                    let relation: Vec<Meaning> = std::iter::once(base.clone())
                        .chain(members.iter().cloned())
                        .map(|c| (label.clone(), c, metric.clone()))
                        .collect();
                    cat.relations.push(relation);
                }
            }
        }
        // The attendance chart: each filter's months.
        for condition in &conditions {
            let filter = filter_for(condition.as_ref(), period.as_deref());
            for month in metrics::attendance_by_month(db, &funder, RULES, ENGAGED_AFTER, filter).await.expect("months")
            {
                cat.queries += 1;
                let meaning = (format!("month {}", month.month), conds(condition.clone()), "children".to_owned());
                cat.publish(meaning, month.children.value);
                if month.children.suppressed {
                    assert_eq!(month.rate, None, "a rate over a hidden base is hidden");
                }
            }
        }
    }
    (cat, keys, periods)
}

/// Every relation a reader can build between published cells, checked.
fn check_relations(cat: &mut Catalogue, keys: &BTreeMap<Dimension, Vec<String>>, periods: &[Option<String>]) {
    for relation in std::mem::take(&mut cat.relations) {
        cat.check("a total and its groups", &relation);
    }
    let cells: Vec<Meaning> = cat.cells.keys().cloned().collect();
    // Years and terms; all time and the years.
    let years: Vec<String> = periods.iter().flatten().filter(|p| !p.contains(' ')).cloned().collect();
    for (period, c, metric) in &cells {
        if !dated(metric) || period.starts_with("month") {
            continue;
        }
        let parts: Vec<String> = if period.is_empty() {
            years.clone()
        } else if years.contains(period) {
            ["autumn", "spring", "summer"].iter().map(|t| format!("{period} {t}")).collect()
        } else {
            continue;
        };
        let relation: Vec<Meaning> =
            std::iter::once(period.clone()).chain(parts).map(|p| (p, c.clone(), metric.clone())).collect();
        cat.check("a period and its parts", &relation);
    }
    // An area's children and its levels.
    for (period, c, metric) in &cells {
        if let Some(area) = metric.strip_prefix("outcomes.").and_then(|m| m.strip_suffix(".children")) {
            for when in ["baseline", "latest"] {
                let relation: Vec<Meaning> = std::iter::once(metric.clone())
                    .chain((0..5).map(|l| format!("outcomes.{area}.{when}.{l}")))
                    .map(|m| (period.clone(), c.clone(), m))
                    .collect();
                cat.check("an area and its levels", &relation);
            }
        }
    }
    // A partner and its own programmes (those of its referrals): referrals and sessions add
    // up, and a partner × its own programme is the programme.
    let mut owner: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (period, c, metric) in &cells {
        if let [(a, p), (b, q)] = c.as_slice()
            && period.is_empty()
            && *a == "partner"
            && *b == "programme"
            && (metric.starts_with("referrals.") || metric == "sessions")
            && cat.known(&(period.clone(), c.clone(), metric.clone())) != Some(0)
        {
            owner.entry(q.clone()).or_default().insert(p.clone());
        }
    }
    let partitioning: Vec<Conds> = std::iter::once(Conds::new())
        .chain(
            keys.iter()
                .filter(|(d, _)| !overlapping(**d))
                .flat_map(|(d, ks)| ks.iter().map(|k| conds([(*d, k.clone())]))),
        )
        .collect();
    let period_labels: Vec<String> = periods.iter().map(|p| p.clone().unwrap_or_default()).collect();
    for partner in keys.get(&Dimension::Partner).into_iter().flatten() {
        if owner.values().any(|ps| ps.len() > 1 && ps.contains(partner)) {
            continue; // a programme shared with another partner: its referrals do not add up
        }
        let own: Vec<&String> = owner.iter().filter(|(_, ps)| ps.contains(partner)).map(|(q, _)| q).collect();
        for period in &period_labels {
            for base in &partitioning {
                let with = |d: Dimension, k: &String| {
                    let mut c = base.clone();
                    c.push((name(d), k.clone()));
                    c.sort();
                    c
                };
                for metric in ReferralStatus::ALL
                    .iter()
                    .map(|s| format!("referrals.{}", s.as_str()))
                    .chain(base.is_empty().then(|| "sessions".to_owned()))
                {
                    let relation: Vec<Meaning> = std::iter::once(with(Dimension::Partner, partner))
                        .chain(own.iter().map(|q| with(Dimension::Programme, q)))
                        .map(|c| (period.clone(), c, metric.clone()))
                        .collect();
                    cat.check("a partner and its programmes", &relation);
                }
            }
            for q in &own {
                let both = conds([(Dimension::Partner, partner.clone()), (Dimension::Programme, (*q).clone())]);
                let alone = conds([(Dimension::Programme, (*q).clone())]);
                let metrics: Vec<String> =
                    cells.iter().filter(|(p, c, _)| p == period && *c == both).map(|(_, _, m)| m.clone()).collect();
                for metric in metrics {
                    cat.check(
                        "a partner's own programme",
                        &[(period.clone(), both.clone(), metric.clone()), (period.clone(), alone.clone(), metric)],
                    );
                }
            }
        }
    }
    // Months: the zone's is the sum of a partitioning filter's; a period with one busy month.
    let months: BTreeSet<String> =
        cells.iter().filter(|(p, ..)| p.starts_with("month")).map(|(p, ..)| p.clone()).collect();
    for month in &months {
        // Only breakdowns whose every group is a filter (not yes/no, not cohort "none").
        for (d, ks) in
            keys.iter().filter(|(d, ks)| !overlapping(**d) && ks.iter().all(|k| filterable(&(**d, k.clone()))))
        {
            let relation: Vec<Meaning> = std::iter::once(Conds::new())
                .chain(ks.iter().map(|k| conds([(*d, k.clone())])))
                .map(|c| (month.clone(), c, "children".to_owned()))
                .collect();
            cat.check("a month and its groups", &relation);
        }
    }
    let filters: BTreeSet<Conds> =
        cells.iter().filter(|(p, ..)| p.starts_with("month")).map(|(_, c, _)| c.clone()).collect();
    for period in &period_labels {
        let range = (!period.is_empty()).then(|| metrics::period(period).expect("period"));
        for c in &filters {
            let busy: Vec<&String> = months
                .iter()
                .filter(|m| cat.known(&((*m).clone(), c.clone(), "children".into())) != Some(0))
                .filter(|m| {
                    range.as_ref().is_none_or(|r| {
                        let first = r.starts_on.format("%Y-%m").to_string();
                        let last = r.ends_before.pred_opt().expect("day").format("%Y-%m").to_string();
                        let m = m.trim_start_matches("month ");
                        m >= first.as_str() && m <= last.as_str()
                    })
                })
                .collect();
            if let [month] = busy.as_slice() {
                cat.check(
                    "a period with one month of attendance",
                    &[
                        (period.clone(), c.clone(), "children_offered".into()),
                        ((*month).clone(), c.clone(), "children".into()),
                    ],
                );
            }
        }
    }
}

/// The published figures are the exact ones, rounded, and a hidden one is never zero: for
/// every query of the first periods, against the backbone team's exact answer.
async fn check_exact(db: &DatabaseConnection, cat: &mut Catalogue, periods: &[Option<String>]) {
    let analyst = actor(Role::BackboneAnalyst, OrganisationKind::Backbone);
    let chosen: BTreeSet<String> = periods.iter().take(3).map(|p| p.clone().unwrap_or_default()).collect();
    let wanted: BTreeSet<(String, Conds)> =
        cat.cells.keys().filter(|(p, ..)| chosen.contains(p)).map(|(p, c, _)| (p.clone(), c.clone())).collect();
    let mut exact: BTreeMap<Meaning, i64> = BTreeMap::new();
    for period in periods.iter().take(3) {
        let label = period.clone().unwrap_or_default();
        // One-way tables give every one-condition cell; a filter × a breakdown the rest.
        for (p, c) in wanted.iter().filter(|(p, _)| *p == label) {
            // Ask with a condition a filter can express, and break down by the other.
            let cond = |i: usize| c.get(i).map(|(d, k)| (dimension(d), k.clone()));
            let (filter, by, key) = match (cond(0), cond(1)) {
                (None, _) => (None, None, None),
                (Some(x), None) if filterable(&x) => (Some(x), None, None),
                (Some(x), None) => (None, Some(x.0), Some(x.1)),
                (Some(x), Some(y)) if filterable(&x) => (Some(x), Some(y.0), Some(y.1)),
                (Some(x), Some(y)) if filterable(&y) => (Some(y), Some(x.0), Some(x.1)),
                _ => continue,
            };
            let filter = filter_for(filter.as_ref(), period.as_deref());
            let m = metrics::metrics(db, &analyst, RULES, ENGAGED_AFTER, filter, by).await.expect("exact");
            let group = match key {
                Some(key) => m.groups.iter().find(|g| g.key.as_deref() == Some(key.as_str())),
                None => Some(&m.total),
            };
            for (metric, value) in group.map(figures).unwrap_or_default() {
                exact.insert((p.clone(), c.clone(), metric), value.expect("exact"));
            }
        }
    }
    let mut compared = 0;
    for (meaning, shown) in cat.cells.iter().filter(|(m, _)| chosen.contains(&m.0)) {
        let exact = exact.get(meaning).copied().unwrap_or(0);
        compared += 1;
        match shown {
            Some(v) if *v != round(exact) => cat.problems.push(format!("{meaning:?}: {v} shown for {exact}")),
            None if exact == 0 => cat.problems.push(format!("{meaning:?}: a zero is hidden")),
            None if exact >= RULES.threshold => {} // hidden by secondary suppression
            _ => {}
        }
    }
    assert!(compared > 100, "compared {compared} cells");
}

async fn whole_catalogue_holds(db: &DatabaseConnection) -> Catalogue {
    let (mut cat, keys, periods) = enumerate(db).await;
    check_relations(&mut cat, &keys, &periods);
    check_exact(db, &mut cat, &periods).await;
    let hidden = cat.cells.values().filter(|v| v.is_none()).count();
    assert!(hidden > 0, "some cells are small enough to hide");
    assert!(
        cat.problems.is_empty(),
        "{} problems in {} queries ({} cells, {hidden} hidden), first: {:#?}",
        cat.problems.len(),
        cat.queries,
        cat.cells.len(),
        &cat.problems[..cat.problems.len().min(15)]
    );
    cat
}

#[tokio::test]
async fn no_hidden_cell_of_the_demo_zone_is_published_or_derivable_by_any_other_query() {
    let app = TestApp::spawn_with(|_| {}, StartOptions { demo: true, ..Default::default() }).await;
    metrics::refresh(&app.db, None).await.expect("refresh");
    let cat = whole_catalogue_holds(&app.db).await;
    // The case of the report: completed by anchor, and one anchor alone.
    let completed = |c: Conds| cat.cells.get(&(String::new(), c, "funnel.4".to_owned())).copied();
    let anchors: Vec<String> = cat
        .cells
        .keys()
        .filter_map(|(p, c, _)| match c.as_slice() {
            [("anchor", k)] if p.is_empty() => Some(k.clone()),
            _ => None,
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(anchors.len(), 2);
    let by_anchor: Vec<Option<Option<i64>>> =
        anchors.iter().map(|a| completed(conds([(Dimension::Anchor, a.clone())]))).collect();
    assert!(by_anchor.iter().all(Option::is_some), "{by_anchor:?}");
    let hidden = by_anchor.iter().filter(|v| **v == Some(None)).count();
    assert_ne!(hidden, 1, "completed by anchor: {by_anchor:?} with total {:?}", completed(Conds::new()));
}

/// A generated zone, written straight into the summary tables: `children` children at
/// three anchors over two academic years, five partners with two programmes each.
async fn generated_zone(db: &DatabaseConnection, seed: u64, children: usize) {
    let mut state = seed;
    let mut next = move |n: u64| {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n
    };
    let exec = |sql: &str, values: Vec<Value>| {
        let sql = sql.to_owned();
        async move { execute_sql(db, &sql, values).await }
    };
    let at = |y: i32, m: u32, d: u32| {
        Value::from(chrono::NaiveDate::from_ymd_opt(y, m, d).and_then(|d| d.and_hms_opt(10, 0, 0)).map(|t| t.and_utc()))
    };
    // Mostly in 2024-25 and 2025-26, by term.
    let day = |next: &mut dyn FnMut(u64) -> u64| {
        let (y, m) = [(2024, 9), (2024, 11), (2025, 2), (2025, 5), (2025, 10), (2026, 1), (2026, 3), (2026, 6)]
            [next(8) as usize];
        (y, m, 1 + next(27) as u32)
    };
    for i in 0..children {
        let anchor = format!("gen-anchor-{}", [0, 0, 0, 1, 1, 2][next(6) as usize]);
        let cohort = ["2024/25", "2025/26"][next(2) as usize];
        let year = 1 + next(8) as i64;
        // Identified, consented, …: the first `stages` stages, a term or a year apart.
        let stages = 1 + next(6) as usize;
        let mut stamps: Vec<Value> = Vec::new();
        let (y, m, d) = day(&mut next);
        for s in 0..6 {
            let when = if s < stages { Some((y + s as i32 / 3, m, d)) } else { None };
            stamps.push(match when {
                Some((y, m, d)) => at(y, m, d),
                None => Value::from(None::<chrono::DateTime<chrono::Utc>>),
            });
        }
        let mut values = vec![
            Value::from(format!("gen-child-{i}")),
            Value::from(anchor),
            Value::from(cohort.to_owned()),
            Value::from(year as i16),
            Value::from(next(3) == 0),
            Value::from(next(6) == 0),
            Value::from(next(4) == 0),
            Value::from("active".to_owned()),
        ];
        values.extend(stamps);
        exec(
            "INSERT INTO child_facts (child_id, anchor_id, cohort, year_group, fsm, send, eal, status, identified_at, \
             consented_at, enrolled_at, active_at, completed_at, exited_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            values,
        )
        .await
        .expect("child facts");
        for r in 0..next(3) {
            let partner = next(5);
            let programme = format!("gen-programme-{partner}-{}", next(2));
            let (y, m, d) = day(&mut next);
            let status = ["sent", "accepted", "active", "completed", "declined"][next(5) as usize];
            exec(
                "INSERT INTO referral_facts (referral_id, child_id, partner_id, programme_id, status, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?)",
                vec![
                    Value::from(format!("gen-referral-{i}-{r}")),
                    Value::from(format!("gen-child-{i}")),
                    Value::from(format!("gen-partner-{partner}")),
                    Value::from(programme.clone()),
                    Value::from(status.to_owned()),
                    at(y, m, d),
                ],
            )
            .await
            .expect("referral facts");
            if status != "sent" && status != "declined" {
                let (y, m, _) = day(&mut next);
                let offered = 1 + next(8) as i32;
                exec(
                    "INSERT INTO attendance_facts (child_id, programme_id, partner_id, month, offered, attended) \
                     VALUES (?, ?, ?, ?, ?, ?)",
                    vec![
                        Value::from(format!("gen-child-{i}")),
                        Value::from(programme),
                        Value::from(format!("gen-partner-{partner}")),
                        Value::from(format!("{y:04}-{m:02}")),
                        Value::from(offered),
                        Value::from(next(offered as u64 + 1) as i32),
                    ],
                )
                .await
                .ok(); // the same child, programme and month twice: keep the first
            }
        }
        if next(3) > 0 {
            let (y, m, d) = day(&mut next);
            let on = chrono::NaiveDate::from_ymd_opt(y, m, d).expect("date");
            let assessments = 1 + next(3) as i32;
            exec(
                "INSERT INTO outcome_facts (child_id, area_code, baseline_level, latest_level, baseline_on, latest_on, \
                 assessments) VALUES (?, ?, ?, ?, ?, ?, ?)",
                vec![
                    Value::from(format!("gen-child-{i}")),
                    Value::from(["emotional_wellbeing", "relationships"][next(2) as usize].to_owned()),
                    Value::from(1 + next(5) as i16),
                    Value::from(1 + next(5) as i16),
                    Value::from(on),
                    Value::from(on),
                    Value::from(assessments),
                ],
            )
            .await
            .expect("outcome facts");
        }
    }
    for partner in 0..5 {
        for programme in 0..2 {
            for (y, m) in [(2024, 10), (2025, 3), (2025, 11)] {
                exec(
                    "INSERT INTO session_facts (programme_id, partner_id, month, sessions) VALUES (?, ?, ?, ?)",
                    vec![
                        Value::from(format!("gen-programme-{partner}-{programme}")),
                        Value::from(format!("gen-partner-{partner}")),
                        Value::from(format!("{y:04}-{m:02}")),
                        Value::from(1 + next(12) as i32),
                    ],
                )
                .await
                .expect("session facts");
            }
        }
    }
}

#[tokio::test]
async fn no_hidden_cell_of_a_generated_zone_is_published_or_derivable_by_any_other_query() {
    let app = TestApp::spawn().await;
    generated_zone(&app.db, 0x005E_ED0F_2026, 260).await;
    whole_catalogue_holds(&app.db).await;
}
