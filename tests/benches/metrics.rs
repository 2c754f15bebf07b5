//! How fast a funder's dashboard answers at the scale of a city: 100,000 children in the
//! summary tables, with a million child-month attendance rows (about eight million
//! register lines summarised), half a million area outcomes and 150,000 referrals.
//!
//! `cargo bench -p backbone-tests --bench metrics` (SQLite in a temp file), or with
//! `BACKBONE_BENCH_DATABASE_URL=postgres://…` against an empty PostgreSQL database. The
//! summary tables are filled directly (the raw records behind them would take far longer
//! to generate than to summarise), then each dashboard query is timed. Prints timings;
//! asserts nothing about them.

use backbone::domain::disclosure::{Audience, Rules};
use backbone::domain::metrics::{self, Dimension, Filter};
use sea_orm::{DatabaseConnection, DbBackend, Value};
use std::time::Instant;

const CHILDREN: i64 = 100_000;

fn main() -> anyhow::Result<()> {
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let url = std::env::var("BACKBONE_BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}?mode=rwc", dir.path().join("bench.db").display()));
    let db = backbone::store::db::connect(&url, 4).await?;
    backbone::store::db::migrate(&db).await?;
    let started = Instant::now();
    fill(&db).await?;
    println!("filled the summary tables in {:.1} s ({})", started.elapsed().as_secs_f64(), backend_name(&db));

    let rules = Rules::default();
    let cases: Vec<(&str, Filter, Option<Dimension>)> = vec![
        ("whole zone", Filter::default(), None),
        ("by anchor", Filter::default(), Some(Dimension::Anchor)),
        ("by programme", Filter::default(), Some(Dimension::Programme)),
        (
            "by free school meals, one term",
            Filter { period: Some("2025-26 spring".into()), ..Filter::default() },
            Some(Dimension::Fsm),
        ),
        (
            "one anchor, by year group",
            Filter { anchor_id: Some("anchor-3".into()), ..Filter::default() },
            Some(Dimension::YearGroup),
        ),
    ];
    for (name, filter, group_by) in cases {
        let started = Instant::now();
        let m = metrics::metrics_for(&db, Audience::Protected, rules, 6, filter, group_by).await?;
        println!(
            "{name:<34} {:>7.0} ms  ({} groups, {} identified in all)",
            started.elapsed().as_secs_f64() * 1000.0,
            m.groups.len(),
            m.total.funnel[0].value.map_or("c".into(), |v| v.to_string())
        );
    }
    Ok(())
}

fn backend_name(db: &DatabaseConnection) -> &'static str {
    match db.get_database_backend() {
        DbBackend::Postgres => "PostgreSQL",
        _ => "SQLite",
    }
}

async fn exec(db: &DatabaseConnection, sql: &str, values: Vec<Value>) -> anyhow::Result<()> {
    backbone_tests::execute_sql(db, sql, values).await?;
    Ok(())
}

/// Fills the summary tables with synthetic facts: 20 anchors, 40 partners, 120 programmes,
/// ten months of attendance for every child, five outcome areas per child.
async fn fill(db: &DatabaseConnection) -> anyhow::Result<()> {
    let numbers = format!("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {CHILDREN}) ");
    let at = |d: &str| Value::from(chrono::DateTime::parse_from_rfc3339(d).map(|t| t.to_utc()).unwrap_or_default());
    exec(
        db,
        &format!(
            "{numbers}INSERT INTO child_facts (child_id, anchor_id, cohort, year_group, fsm, send, eal, status, \
             identified_at, consented_at, enrolled_at, active_at, completed_at, exited_at) \
             SELECT 'child-' || i, 'anchor-' || (i % 20), '2025/26', CAST(i % 14 - 1 AS SMALLINT), i % 3 = 0, i % 7 = 0, \
             i % 5 = 0, 'active', ?, CASE WHEN i % 10 < 9 THEN ? END, CASE WHEN i % 10 < 8 THEN ? END, \
             CASE WHEN i % 10 < 6 THEN ? END, CASE WHEN i % 10 = 0 THEN ? END, CASE WHEN i % 10 = 9 THEN ? END FROM n"
        ),
        vec![
            at("2025-09-10T09:00:00Z"),
            at("2025-09-20T09:00:00Z"),
            at("2025-10-01T09:00:00Z"),
            at("2025-11-01T09:00:00Z"),
            at("2026-07-15T09:00:00Z"),
            at("2026-02-01T09:00:00Z"),
        ],
    )
    .await?;
    exec(
        db,
        &format!(
            "{numbers}INSERT INTO referral_facts (referral_id, child_id, partner_id, programme_id, status, created_at) \
             SELECT 'ref-' || i || '-' || k, 'child-' || i, 'partner-' || ((i + k) % 40), 'programme-' || ((i + k) % 120), \
             CASE WHEN (i + k) % 4 = 0 THEN 'completed' ELSE 'active' END, ? \
             FROM n CROSS JOIN (SELECT 0 AS k UNION ALL SELECT 1) ks WHERE k = 0 OR i % 2 = 0"
        ),
        vec![at("2025-10-01T09:00:00Z")],
    )
    .await?;
    exec(
        db,
        &format!(
            "{numbers}INSERT INTO attendance_facts (child_id, programme_id, partner_id, month, offered, attended) \
             SELECT 'child-' || i, 'programme-' || (i % 120), 'partner-' || (i % 40), m.month, 8, (i + LENGTH(m.month)) % 9 \
             FROM n CROSS JOIN (SELECT '2025-09' AS month UNION ALL SELECT '2025-10' UNION ALL SELECT '2025-11' \
             UNION ALL SELECT '2025-12' UNION ALL SELECT '2026-01' UNION ALL SELECT '2026-02' UNION ALL SELECT '2026-03' \
             UNION ALL SELECT '2026-04' UNION ALL SELECT '2026-05' UNION ALL SELECT '2026-06') m"
        ),
        vec![],
    )
    .await?;
    exec(
        db,
        &format!(
            "{numbers}INSERT INTO outcome_facts (child_id, area_code, baseline_level, latest_level, baseline_on, latest_on, assessments) \
             SELECT 'child-' || i, a.area, CAST(1 + i % 4 AS SMALLINT), CAST(1 + (i + a.shift) % 5 AS SMALLINT), ?, ?, 1 + i % 3 \
             FROM n CROSS JOIN (SELECT 'emotional_wellbeing' AS area, 1 AS shift UNION ALL SELECT 'relationships', 2 \
             UNION ALL SELECT 'confidence_aspiration', 0 UNION ALL SELECT 'progress_at_school', 1 \
             UNION ALL SELECT 'attendance_engagement', 3) a"
        ),
        vec![
            Value::from(chrono::NaiveDate::from_ymd_opt(2025, 9, 15)),
            Value::from(chrono::NaiveDate::from_ymd_opt(2026, 6, 15)),
        ],
    )
    .await?;
    exec(
        db,
        "WITH RECURSIVE p(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM p WHERE i < 119) \
         INSERT INTO session_facts (programme_id, partner_id, month, sessions) \
         SELECT 'programme-' || i, 'partner-' || (i % 40), m.month, 4 FROM p CROSS JOIN \
         (SELECT '2025-09' AS month UNION ALL SELECT '2025-10' UNION ALL SELECT '2026-01') m",
        vec![],
    )
    .await?;
    Ok(())
}
