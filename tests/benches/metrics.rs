//! How fast a funder's dashboard answers at the scale of a city: 100,000 children in the
//! summary tables, with a million child-month attendance rows (about eight million
//! register lines summarised), half a million area outcomes and 150,000 referrals.
//!
//! `cargo bench -p backbone-tests --bench metrics` (SQLite in a temp file), or with
//! `BACKBONE_BENCH_DATABASE_URL=postgres://…` against an empty PostgreSQL database;
//! `BACKBONE_BENCH_ROUNDS` sets the requests timed per query (default 200). The summary
//! tables are filled directly (the raw records behind them would take far longer to
//! generate than to summarise). Then: the funders' protected catalogue is built once (as
//! the refresh duty does after each refresh), each dashboard query is asked as a funder
//! many times (answered from the catalogue) and, as its peer in the same run, as an
//! analyst (exact figures, aggregated afresh from the summary tables every time). Prints
//! p50 and p99 of each and the ratio; asserts nothing about them.

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
    let rounds: usize = std::env::var("BACKBONE_BENCH_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(200);
    let started = Instant::now();
    metrics::metrics_for(&db, Audience::Protected, rules, 6, Filter::default(), None).await?;
    println!("built the funders' protected catalogue in {:.1} s", started.elapsed().as_secs_f64());
    println!("{:<34} {:>22} {:>26} {:>7}", "query", "funder p50 / p99 ms", "analyst (peer) p50 / p99", "p99 ×");
    for (name, filter, group_by) in cases {
        let timed = |audience: Audience, n: usize| {
            let (filter, db) = (filter.clone(), &db);
            async move {
                let mut ms = Vec::with_capacity(n);
                let mut last = None;
                for _ in 0..n {
                    let started = Instant::now();
                    last = Some(metrics::metrics_for(db, audience, rules, 6, filter.clone(), group_by).await?);
                    ms.push(started.elapsed().as_secs_f64() * 1000.0);
                }
                ms.sort_by(f64::total_cmp);
                Ok::<_, anyhow::Error>((ms, last))
            }
        };
        let (funder, answer) = timed(Audience::Protected, rounds).await?;
        let (analyst, _) = timed(Audience::Unrestricted, (rounds / 10).max(5)).await?;
        let m = answer.ok_or_else(|| anyhow::anyhow!("no answer"))?;
        println!(
            "{name:<34} {:>9.1} / {:>9.1} {:>12.1} / {:>11.1} {:>7.0}   ({} groups, {} identified in all)",
            quantile(&funder, 0.5),
            quantile(&funder, 0.99),
            quantile(&analyst, 0.5),
            quantile(&analyst, 0.99),
            quantile(&analyst, 0.99) / quantile(&funder, 0.99).max(f64::EPSILON),
            m.groups.len(),
            m.total.funnel[0].value.map_or("c".into(), |v| v.to_string())
        );
    }
    Ok(())
}

/// The `q` quantile of sorted timings (nearest rank).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let rank = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len().max(1));
    sorted.get(rank - 1).copied().unwrap_or(f64::NAN)
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
