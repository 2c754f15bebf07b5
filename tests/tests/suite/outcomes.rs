//! The common outcomes scale through the API: assessments mapped to levels under the live
//! framework, out-of-range values refused, progress as the zone reports it, versions that
//! never rewrite history, and who may record and read assessments.

use backbone::auth::Actor;
use backbone::domain::ReferralStatus;
use backbone::domain::outcomes::{self, DEFAULT_FRAMEWORK as DEFAULT_TOML};
use backbone_tests::*;
use sea_orm::EntityTrait;
use serde_json::{Value, json};

const RECORD: &str = "mutation($i: RecordAssessmentInput!) { recordAssessment(input: $i) { id measure area value category level atRisk stage frameworkVersion } }";
const PROGRESS: &str = "query($c: ID!) { child(id: $c) { progress { area measure baselineLevel latestLevel change trend improved crossedThreshold } assessments { measure level frameworkVersion } } }";

async fn zone_with_framework() -> Zone {
    Zone::with_framework().await
}

fn input(child: &str, measure: &str, value: Value, stage: &str, on: &str) -> Value {
    let mut i = json!({"childId": child, "measure": measure, "stage": stage, "assessedOn": on});
    match value {
        Value::String(c) => i["category"] = json!(c),
        v => i["value"] = v,
    }
    json!({ "i": i })
}

async fn record(zone: &Zone, who: &Account, vars: Value) -> Value {
    zone.as_(who, RECORD, vars).await
}

#[tokio::test]
async fn assessments_map_to_the_common_scale_and_out_of_range_values_are_refused() {
    let zone = zone_with_framework().await;
    let (lw, c) = (&zone.link_worker, zone.child_a1.as_str());
    // A questionnaire total at a band edge, a percentage with a decimal, a category.
    for (measure, value, level, at_risk) in [
        ("wellbeing_total", json!(33), 2, true),
        ("wellbeing_total", json!(32), 1, true),
        ("attendance_percent", json!(94.9), 3, false),
        ("reading_attainment", json!("working_towards"), 2, true),
        ("trusted_adult", json!("yes"), 4, false),
    ] {
        let body = record(&zone, lw, input(c, measure, value.clone(), "BASELINE", "2025-09-15")).await;
        assert_ok(&body);
        let a = &body["data"]["recordAssessment"];
        assert_eq!(
            (a["level"].clone(), a["atRisk"].clone()),
            (json!(level), json!(at_risk)),
            "{measure} {value}: {body}"
        );
        assert_eq!(a["frameworkVersion"], 1);
    }
    for (measure, value, field) in [
        ("wellbeing_total", json!(13), "value"),
        ("wellbeing_total", json!(71), "value"),
        ("wellbeing_total", json!(40.5), "value"),
        ("attendance_percent", json!(100.1), "value"),
        ("reading_attainment", json!("excellent"), "category"),
        ("no_such_measure", json!(3), "measure"),
    ] {
        let body = record(&zone, lw, input(c, measure, value.clone(), "REVIEW", "2025-12-15")).await;
        assert_eq!(error_code(&body), Some("INVALID_INPUT"), "{measure} {value}: {body}");
        assert_eq!(error_field(&body), Some(field), "{body}");
    }
    let future = record(&zone, lw, input(c, "wellbeing_total", json!(50), "REVIEW", "2099-01-01")).await;
    assert_eq!(error_field(&future), Some("assessedOn"), "{future}");
    // Nothing refused was written.
    let read = zone.as_(lw, PROGRESS, json!({"c": c})).await;
    assert_eq!(read["data"]["child"]["assessments"].as_array().map(Vec::len), Some(5), "{read}");
}

#[tokio::test]
async fn progress_reports_improvement_and_crossing_the_threshold() {
    let zone = zone_with_framework().await;
    let (lw, c) = (&zone.link_worker, zone.child_a1.as_str());
    for (measure, value, stage, on) in [
        ("wellbeing_total", json!(30), "BASELINE", "2025-09-15"),
        ("wellbeing_total", json!(42), "REVIEW", "2025-12-15"),
        ("wellbeing_total", json!(50), "MIDPOINT", "2026-07-15"),
        ("maths_attainment", json!("at"), "BASELINE", "2025-09-15"),
        ("maths_attainment", json!("working_towards"), "REVIEW", "2025-12-15"),
    ] {
        assert_ok(&record(&zone, lw, input(c, measure, value, stage, on)).await);
    }
    let body = zone.as_(lw, PROGRESS, json!({"c": c})).await;
    assert_ok(&body);
    let progress = body["data"]["child"]["progress"].as_array().cloned().unwrap_or_default();
    let of = |m: &str| progress.iter().find(|p| p["measure"] == m).cloned().unwrap_or_default();
    let w = of("wellbeing_total");
    assert_eq!(
        (w["baselineLevel"].clone(), w["latestLevel"].clone(), w["change"].clone()),
        (json!(1), json!(4), json!(3))
    );
    assert_eq!(
        (w["trend"].clone(), w["improved"].clone(), w["crossedThreshold"].clone()),
        (json!("RISING"), json!(true), json!(true))
    );
    assert_eq!(w["area"], "emotional_wellbeing");
    let m = of("maths_attainment");
    assert_eq!(
        (m["change"].clone(), m["trend"].clone(), m["improved"].clone()),
        (json!(-2), json!("FALLING"), json!(false))
    );
    assert_eq!(m["crossedThreshold"], json!(false), "not at risk at baseline: {m}");
}

#[tokio::test]
async fn a_new_version_changes_new_levels_only_and_an_identical_file_is_refused() {
    let zone = zone_with_framework().await;
    let (lw, c) = (&zone.link_worker, zone.child_a1.as_str());
    assert_ok(&record(&zone, lw, input(c, "wellbeing_total", json!(44), "BASELINE", "2025-09-15")).await);
    // Loading the same file again is refused; the live version stays 1.
    let again = outcomes::load(&zone.app.db, &Actor::system(), DEFAULT_TOML).await;
    assert!(matches!(again, Err(backbone::error::Error::Conflict(_))), "{again:?}");
    // Version 2 moves 44 from level 3 to level 4.
    let changed = DEFAULT_TOML
        .replace("{ from = 41, to = 45, level = 3 },   # 41 to 44", "{ from = 41, to = 44, level = 3 },")
        .replace("{ from = 45, to = 60, level = 4 },   # 45 to 59", "{ from = 44, to = 60, level = 4 },");
    assert_ne!(changed, DEFAULT_TOML, "the test edits the file");
    let v2 = outcomes::load(&zone.app.db, &Actor::system(), &changed).await.expect("version 2");
    assert_eq!(v2.model.version, 2);
    assert_ok(&record(&zone, lw, input(c, "wellbeing_total", json!(44), "REVIEW", "2025-12-15")).await);
    let body = zone.as_(lw, PROGRESS, json!({"c": c})).await;
    assert_eq!(
        body["data"]["child"]["assessments"],
        json!([
            {"measure": "wellbeing_total", "level": 3, "frameworkVersion": 1},
            {"measure": "wellbeing_total", "level": 4, "frameworkVersion": 2},
        ]),
        "{body}"
    );
    let live = zone.as_(lw, "{ outcomesFramework { version scale { level label } } }", json!({})).await;
    assert_eq!(live["data"]["outcomesFramework"]["version"], 2, "{live}");
    assert_eq!(live["data"]["outcomesFramework"]["scale"].as_array().map(Vec::len), Some(5));
    let old = zone.as_(lw, "{ outcomesFramework(version: 1) { version } }", json!({})).await;
    assert_eq!(old["data"]["outcomesFramework"]["version"], 1, "{old}");
}

#[tokio::test]
async fn an_invalid_framework_is_refused_naming_each_place_and_only_admins_load() {
    let zone = Zone::new().await;
    let broken = DEFAULT_TOML
        .replace("{ from = 33, to = 41, level = 2 },   # 33 to 40", "{ from = 34, to = 41, level = 2 },")
        .replacen("code = \"relationships\"", "code = \"happiness\"", 1);
    match outcomes::load(&zone.app.db, &Actor::system(), &broken).await {
        Err(backbone::error::Error::InvalidInput(problems)) => {
            let places: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
            assert!(places.iter().any(|p| p.contains("bands[1]")), "the gap is named: {problems:?}");
            assert!(places.iter().any(|p| p.starts_with("areas[1]")), "the unknown area is named: {problems:?}");
        }
        other => panic!("expected INVALID_INPUT, got {other:?}"),
    }
    let none = zone.as_(&zone.link_worker, "{ outcomesFramework { version } }", json!({})).await;
    assert_eq!(error_code(&none), Some("NOT_FOUND"), "nothing was loaded: {none}");
    let lead = backbone::auth::authenticate(&zone.app.db, &zone.anchor_lead.token, false, None).await.expect("actor");
    assert!(matches!(
        outcomes::load(&zone.app.db, &lead, DEFAULT_TOML).await,
        Err(backbone::error::Error::Forbidden(_))
    ));
    // Without a framework, assessments cannot be recorded.
    let body =
        record(&zone, &zone.link_worker, input(&zone.child_a1, "wellbeing_total", json!(40), "BASELINE", "2025-09-15"))
            .await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
}

#[tokio::test]
async fn partners_assess_only_children_they_see_and_funders_never_see_an_assessment() {
    let zone = zone_with_framework().await;
    let c = zone.child_a1.clone();
    zone.ready_for_referral(&c, &[&zone.partner_1]).await;
    let p = zone.programme(&zone.partner_1, "Mentoring", 5).await;
    // Before a referral is sent, the partner may not assess the child (nor know of them).
    let early =
        record(&zone, &zone.partner_worker, input(&c, "confidence_judgement", json!(4), "BASELINE", "2025-09-15"))
            .await;
    assert_eq!(error_code(&early), Some("NOT_FOUND"), "{early}");
    zone.refer(&c, &p, ReferralStatus::Accepted).await;
    assert_ok(
        &record(&zone, &zone.link_worker, input(&c, "wellbeing_total", json!(30), "BASELINE", "2025-09-15")).await,
    );
    assert_ok(
        &record(&zone, &zone.partner_worker, input(&c, "confidence_judgement", json!(4), "BASELINE", "2025-09-15"))
            .await,
    );
    // The partner reads their own organisation's assessments only; the link worker all.
    let partner = zone.as_(&zone.partner_lead, PROGRESS, json!({"c": c})).await;
    assert_eq!(
        partner["data"]["child"]["assessments"],
        json!([{"measure": "confidence_judgement", "level": 2, "frameworkVersion": 1}]),
        "{partner}"
    );
    let worker = zone.as_(&zone.link_worker, PROGRESS, json!({"c": c})).await;
    assert_eq!(worker["data"]["child"]["assessments"].as_array().map(Vec::len), Some(2), "{worker}");
    // Another partner does not see the child; funders and analysts may not record at all.
    for (who, code) in [(&zone.partner_worker_2, "NOT_FOUND"), (&zone.funder, "FORBIDDEN")] {
        let body = record(&zone, who, input(&c, "confidence_judgement", json!(4), "REVIEW", "2025-12-15")).await;
        assert_eq!(error_code(&body), Some(code), "{body}");
    }
    let analyst =
        record(&zone, &zone.analyst, input(&c, "confidence_judgement", json!(4), "REVIEW", "2025-12-15")).await;
    assert_eq!(error_code(&analyst), Some("FORBIDDEN"), "{analyst}");
    let analyst_reads = zone.as_(&zone.analyst, PROGRESS, json!({"c": c})).await;
    assert_eq!(analyst_reads["data"]["child"]["assessments"].as_array().map(Vec::len), Some(2), "{analyst_reads}");
    let funder = zone.as_(&zone.funder, PROGRESS, json!({"c": c})).await;
    assert_eq!(error_code(&funder), Some("NOT_FOUND"), "{funder}");
    // Recording is audited against the child.
    let events = backbone::store::audit_event::Entity::find().all(&zone.app.db).await.expect("events");
    let recorded =
        events.iter().filter(|e| e.action == "assessment.record" && e.child_id.as_deref() == Some(c.as_str())).count();
    assert_eq!(recorded, 2);
}
