//! Shared metrics through the API: computed from the summary tables (as of their last
//! refresh), exact for the backbone team, suppressed and rounded for funders, and never
//! recoverable by differencing a total against its parts or two requests that differ by
//! one child. Only funders and the backbone team read them.

use backbone::auth::Actor;
use backbone::domain::metrics;
use backbone::domain::outcomes::{self, DEFAULT_FRAMEWORK};
use backbone_tests::*;
use serde_json::{Value, json};

const BY_ANCHOR: &str = "query($f: MetricsFilter) { metrics(filter: $f, groupBy: ANCHOR) { protected refreshedAt groups { key label funnel { identified { value suppressed } } } total { funnel { identified { value suppressed } } } } }";
const TOTAL: &str = "query($f: MetricsFilter) { metrics(filter: $f) { total { funnel { identified { value suppressed } } referrals { status count { value suppressed } } outcomes { area children { value suppressed } childrenReassessed { value suppressed } meanChange shareImproved } } } }";

/// The zone's three children plus `extra` more at anchor A: A has 2 + extra, B has 1.
async fn zone_with(extra: usize) -> Zone {
    let zone = Zone::new().await;
    for n in 0..extra {
        let name = format!("Extra{}", char::from(b'a' + n as u8));
        zone.add_child(&name, &zone.anchor_a, &zone.link_worker.id).await;
    }
    refresh(&zone).await;
    zone
}

async fn refresh(zone: &Zone) {
    metrics::refresh(&zone.app.db, None).await.expect("refresh");
}

fn identified(group: &Value) -> (Option<i64>, bool) {
    let cell = &group["funnel"]["identified"];
    (cell["value"].as_i64(), cell["suppressed"].as_bool().unwrap_or_else(|| panic!("{group}")))
}

fn group<'a>(body: &'a Value, key: &str) -> &'a Value {
    body["data"]["metrics"]["groups"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .find(|g| g["key"] == key)
        .unwrap_or_else(|| panic!("no group {key}: {body}"))
}

#[tokio::test]
async fn analysts_see_exact_counts_and_funders_see_them_suppressed_and_rounded() {
    let zone = zone_with(11).await;
    let exact = zone.as_(&zone.analyst, BY_ANCHOR, json!({})).await;
    assert_ok(&exact);
    assert_eq!(exact["data"]["metrics"]["protected"], false);
    assert!(exact["data"]["metrics"]["refreshedAt"].is_string());
    assert_eq!(identified(group(&exact, &zone.anchor_a)), (Some(13), false));
    assert_eq!(identified(group(&exact, &zone.anchor_b)), (Some(1), false));
    assert_eq!(group(&exact, &zone.anchor_a)["label"], "Test Primary", "{exact}");
    assert_eq!(identified(&exact["data"]["metrics"]["total"]), (Some(14), false));

    let shown = zone.as_(&zone.funder, BY_ANCHOR, json!({})).await;
    assert_ok(&shown);
    assert_eq!(shown["data"]["metrics"]["protected"], true);
    // 1 is below the threshold; 13 goes with it, or 14 − 13 would give the 1 back.
    assert_eq!(identified(group(&shown, &zone.anchor_b)), (None, true));
    assert_eq!(identified(group(&shown, &zone.anchor_a)), (None, true));
    // The total is rounded to a multiple of 5.
    assert_eq!(identified(&shown["data"]["metrics"]["total"]), (Some(15), false));
}

#[tokio::test]
async fn differencing_never_recovers_a_suppressed_cell() {
    let zone = zone_with(11).await;
    // The whole zone, then each anchor alone: anchor A's 13 is hidden in the breakdown by
    // anchor (or the total less it would give anchor B's 1), so it is hidden when asked for
    // alone too; the total is shown, rounded.
    let all = zone.as_(&zone.funder, TOTAL, json!({})).await;
    assert_eq!(identified(&all["data"]["metrics"]["total"]), (Some(15), false), "{all}");
    let a = zone.as_(&zone.funder, TOTAL, json!({ "f": { "anchorId": zone.anchor_a } })).await;
    assert_eq!(identified(&a["data"]["metrics"]["total"]), (None, true), "{a}");
    let b = zone.as_(&zone.funder, TOTAL, json!({ "f": { "anchorId": zone.anchor_b } })).await;
    assert_eq!(identified(&b["data"]["metrics"]["total"]), (None, true), "{b}");
    // The backbone team still gets anchor A exactly.
    let exact = zone.as_(&zone.analyst, TOTAL, json!({ "f": { "anchorId": zone.anchor_a } })).await;
    assert_eq!(identified(&exact["data"]["metrics"]["total"]), (Some(13), false), "{exact}");

    // Two requests that differ by one child: one more child at anchor B, refreshed. The
    // funder's figures do not move, so the new child cannot be seen.
    let before = zone.as_(&zone.funder, BY_ANCHOR, json!({})).await;
    zone.add_child("Newcomer", &zone.anchor_b, &zone.link_worker_b.id).await;
    refresh(&zone).await;
    let after = zone.as_(&zone.funder, BY_ANCHOR, json!({})).await;
    assert_eq!(before["data"]["metrics"]["groups"], after["data"]["metrics"]["groups"]);
    assert_eq!(before["data"]["metrics"]["total"], after["data"]["metrics"]["total"]);
    // The analyst sees the change.
    let exact = zone.as_(&zone.analyst, BY_ANCHOR, json!({})).await;
    assert_eq!(identified(group(&exact, &zone.anchor_b)), (Some(2), false));
}

#[tokio::test]
async fn figures_are_as_of_the_last_refresh() {
    let zone = zone_with(0).await;
    let count = |body: &Value| identified(&body["data"]["metrics"]["total"]).0;
    assert_eq!(count(&zone.as_(&zone.analyst, TOTAL, json!({})).await), Some(3));
    zone.add_child("Later", &zone.anchor_a, &zone.link_worker.id).await;
    assert_eq!(count(&zone.as_(&zone.analyst, TOTAL, json!({})).await), Some(3), "not yet refreshed");
    // Funders may not trigger a refresh; the backbone team may.
    let refresh = "mutation { refreshMetrics }";
    assert_forbidden(&zone.as_(&zone.funder, refresh, json!({})).await);
    assert_ok(&zone.as_(&zone.analyst, refresh, json!({})).await);
    assert_eq!(count(&zone.as_(&zone.analyst, TOTAL, json!({})).await), Some(4));
}

#[tokio::test]
async fn referrals_and_outcomes_are_counted_and_means_follow_their_base() {
    let zone = zone_with(0).await;
    outcomes::load(&zone.app.db, &Actor::system(), DEFAULT_FRAMEWORK).await.expect("framework");
    let programme = zone.programme(&zone.partner_1, "Mentoring", 10).await;
    zone.ready_for_referral(&zone.child_a1, &[&zone.partner_1]).await;
    zone.refer(&zone.child_a1, &programme, backbone::domain::ReferralStatus::Accepted).await;
    // Wellbeing 30 (level 1) then 50 (level 4) for one child; one assessment for another.
    let record = "mutation($i: RecordAssessmentInput!) { recordAssessment(input: $i) { level } }";
    for (child, value, stage, on) in [
        (&zone.child_a1, 30, "BASELINE", "2025-09-15"),
        (&zone.child_a1, 50, "REVIEW", "2025-12-15"),
        (&zone.child_a2, 40, "BASELINE", "2025-09-16"),
    ] {
        let vars = json!({ "i": { "childId": child, "measure": "wellbeing_total", "value": value, "stage": stage, "assessedOn": on } });
        assert_ok(&zone.as_(&zone.admin, record, vars).await);
    }
    refresh(&zone).await;

    let exact = zone.as_(&zone.analyst, TOTAL, json!({})).await;
    assert_ok(&exact);
    let total = &exact["data"]["metrics"]["total"];
    let accepted =
        total["referrals"].as_array().expect("referrals").iter().find(|r| r["status"] == "ACCEPTED").cloned();
    assert_eq!(accepted.expect("accepted")["count"]["value"], 1);
    let wellbeing = &total["outcomes"][0];
    assert_eq!(wellbeing["area"], "emotional_wellbeing");
    assert_eq!(wellbeing["children"]["value"], 2);
    assert_eq!(wellbeing["childrenReassessed"]["value"], 1);
    assert_eq!(wellbeing["meanChange"], 3.0);
    assert_eq!(wellbeing["shareImproved"], 1.0);

    // For a funder the base of 1 is suppressed, and the mean and share with it.
    let shown = zone.as_(&zone.funder, TOTAL, json!({})).await;
    let wellbeing = &shown["data"]["metrics"]["total"]["outcomes"][0];
    assert_eq!(wellbeing["childrenReassessed"], json!({ "value": null, "suppressed": true }));
    assert_eq!((wellbeing["meanChange"].clone(), wellbeing["shareImproved"].clone()), (Value::Null, Value::Null));

    // A period of the catalogue: the baselines fall in 2025-26, not in 2024-25.
    let in_period = |p: &str| json!({ "f": { "period": p } });
    let this_year = zone.as_(&zone.analyst, TOTAL, in_period("2025-26 autumn")).await;
    assert_eq!(this_year["data"]["metrics"]["total"]["outcomes"][0]["children"]["value"], 2);
    let last_year = zone.as_(&zone.analyst, TOTAL, in_period("2024-25")).await;
    assert_eq!(last_year["data"]["metrics"]["total"]["outcomes"], json!([]));
}

#[tokio::test]
async fn only_funders_and_the_backbone_team_read_metrics_and_funders_only_from_the_catalogue() {
    let zone = zone_with(0).await;
    for who in [&zone.link_worker, &zone.anchor_lead, &zone.partner_lead] {
        assert_forbidden(&zone.as_(who, TOTAL, json!({})).await);
    }
    for who in [&zone.funder, &zone.analyst, &zone.admin] {
        assert_ok(&zone.as_(who, TOTAL, json!({})).await);
    }
    // Two narrowing filters at once: refused for funders, allowed for analysts.
    let narrow = json!({ "f": { "anchorId": zone.anchor_a, "yearGroup": 5 } });
    let body = zone.as_(&zone.funder, TOTAL, narrow.clone()).await;
    assert_refused(&body, "INVALID_INPUT");
    assert_eq!(error_field(&body), Some("filter"));
    assert_ok(&zone.as_(&zone.analyst, TOTAL, narrow).await);
    // For funders the cohort is one of those filters (the protected catalogue holds one).
    let narrow = json!({ "f": { "anchorId": zone.anchor_a, "cohort": "2025/26" } });
    let body = zone.as_(&zone.funder, TOTAL, narrow.clone()).await;
    assert_refused(&body, "INVALID_INPUT");
    assert_eq!(error_field(&body), Some("filter"));
    assert_ok(&zone.as_(&zone.analyst, TOTAL, narrow).await);
    assert_ok(&zone.as_(&zone.funder, TOTAL, json!({ "f": { "cohort": "2025/26", "area": "relationships" } })).await);
    // Periods come from the catalogue.
    let body = zone.as_(&zone.analyst, TOTAL, json!({ "f": { "period": "last month" } })).await;
    assert_eq!(error_field(&body), Some("filter.period"), "{body}");
    // Cohorts are written as the enrolment records them.
    let body = zone.as_(&zone.analyst, TOTAL, json!({ "f": { "cohort": "2025-26" } })).await;
    assert_eq!(error_field(&body), Some("filter.cohort"), "{body}");
    zone.ready_for_referral(&zone.child_a1, &[&zone.partner_1]).await;
    metrics::refresh(&zone.app.db, None).await.expect("refresh");
    let body = zone.as_(&zone.analyst, TOTAL, json!({ "f": { "cohort": "2025/26" } })).await;
    assert_eq!(identified(&body["data"]["metrics"]["total"]), (Some(1), false), "{body}");
}

#[tokio::test]
async fn the_csv_download_is_the_same_figures_for_the_same_people() {
    let zone = zone_with(11).await;
    let download = |token: Option<String>, query: &'static str| {
        let mut req = zone.app.http.get(zone.app.url(&format!("/exports/metrics.csv{query}")));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        async move {
            let resp = req.send().await.expect("sent");
            (resp.status().as_u16(), resp.text().await.expect("body"))
        }
    };
    let line = |csv: &str, key: &str, metric: &str| {
        csv.lines()
            .find(|l| l.starts_with(&format!("{key},")) && l.contains(&format!(",{metric},")))
            .unwrap_or_else(|| panic!("no {key} {metric}: {csv}"))
            .rsplit(',')
            .next()
            .unwrap_or_default()
            .to_owned()
    };
    let (status, funder) = download(Some(zone.funder.token.clone()), "?groupBy=anchor").await;
    assert_eq!(status, 200, "{funder}");
    assert!(funder.starts_with("group_key,group_label,metric,value\n"));
    assert_eq!(line(&funder, &zone.anchor_b, "funnel.identified"), "c");
    assert_eq!(line(&funder, "total", "funnel.identified"), "15");
    let (_, analyst) = download(Some(zone.analyst.token.clone()), "?groupBy=anchor").await;
    assert_eq!(line(&analyst, &zone.anchor_b, "funnel.identified"), "1");
    assert_eq!(line(&analyst, "total", "funnel.identified"), "14");

    assert_eq!(download(None, "").await.0, 401);
    assert_eq!(download(Some(zone.link_worker.token.clone()), "").await.0, 403);
    let (status, body) = download(Some(zone.funder.token.clone()), "?groupBy=postcode").await;
    assert_eq!(status, 400);
    assert!(body.contains("\"field\":\"groupBy\""), "{body}");
    let (status, body) = download(Some(zone.funder.token.clone()), "?period=soon").await;
    assert_eq!(status, 400);
    assert!(body.contains("\"field\":\"period\""), "{body}");
}

/// The funnel of one period as the backbone team sees it, stage by stage.
async fn demo_funnel(app: &TestApp, token: &str, period: &str) -> Vec<(String, Option<i64>)> {
    let q = "query($f: MetricsFilter) { metrics(filter: $f) { total { funnel { identified { value } consented { value } enrolled { value } active { value } completed { value } exited { value } } } } }";
    let body = app.graphql(Some(token), q, json!({ "f": { "period": period } })).await;
    assert_ok(&body);
    let funnel = &body["data"]["metrics"]["total"]["funnel"];
    ["identified", "consented", "enrolled", "active", "completed", "exited"]
        .iter()
        .map(|s| ((*s).to_owned(), funnel[s]["value"].as_i64()))
        .collect()
}

#[tokio::test]
async fn the_demo_funnel_counts_each_step_in_the_school_year_it_happened() {
    let app = TestApp::spawn_with(|_| {}, backbone::startup::StartOptions { demo: true, ..Default::default() }).await;
    let analyst = app.login("analyst@demo.zone", "demo").await;
    let year = demo_funnel(&app, &analyst, "2025-26").await;
    // All 200 children were identified in 2025-26, and the generator takes some of them
    // through every later stage within that year.
    assert_eq!(year[0], ("identified".to_owned(), Some(200)), "{year:?}");
    for (stage, n) in &year {
        assert!(n.is_some_and(|n| n > 0), "2025-26 {stage}: {year:?}");
    }
    // 2026-27 so far: no one newly identified, but the new intake enrolled in September and
    // some enrolments ended in the autumn term.
    let next = demo_funnel(&app, &analyst, "2026-27").await;
    assert_eq!(next[0].1, Some(0), "{next:?}");
    for stage in [2, 4, 5] {
        assert!(next[stage].1.is_some_and(|n| n > 0), "2026-27 {}: {next:?}", next[stage].0);
    }
    // A year is the sum of its terms.
    let mut terms = [0i64; 6];
    for term in ["autumn", "spring", "summer"] {
        for (i, (_, n)) in demo_funnel(&app, &analyst, &format!("2025-26 {term}")).await.iter().enumerate() {
            terms[i] += n.unwrap_or(0);
        }
    }
    assert_eq!(terms.to_vec(), year.iter().map(|(_, n)| n.unwrap_or(0)).collect::<Vec<_>>());
}
