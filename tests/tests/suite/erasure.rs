//! Erasure: a child's record de-identified — nothing that identified them left in any
//! text of any table — while the zone's figures (metrics, claims) stay exactly as they
//! were; refused under a legal hold and to anyone but the backbone's admins.

use crate::subject_access::fullest_child;
use backbone::store::{audit_event, claim};
use backbone_tests::*;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, JsonValue, PaginatorTrait, QueryFilter, Statement,
};
use serde_json::{Value, json};

const ERASE: &str =
    "mutation($c: ID!, $r: String!) { eraseChild(childId: $c, reason: $r) { childId erasedAt rowsChanged } }";
const METRICS: &str = "query($g: MetricsDimension) { metrics(groupBy: $g) { groups { label \
    funnel { identified { value } consented { value } enrolled { value } active { value } completed { value } exited { value } } \
    referrals { status count { value } } attendanceRate engagedChildren { value } \
    outcomes { area children { value } baseline { level count { value } } } } } }";

/// Every table's every text value, with where it is.
async fn every_text(db: &sea_orm::DatabaseConnection) -> Vec<(String, String)> {
    let backend = db.get_database_backend();
    let tables = match backend {
        sea_orm::DbBackend::Postgres => {
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()"
        }
        _ => "SELECT name FROM sqlite_master WHERE type = 'table'",
    };
    let names = db.query_all_raw(Statement::from_string(backend, tables)).await.expect("tables");
    let mut out = Vec::new();
    for row in names {
        let table: String = row.try_get_by_index(0).expect("name");
        let rows = JsonValue::find_by_statement(Statement::from_string(backend, format!("SELECT * FROM \"{table}\"")))
            .all(db)
            .await
            .expect("rows");
        for r in rows {
            for (column, v) in r.as_object().into_iter().flatten() {
                if let Some(text) = v.as_str() {
                    out.push((format!("{table}.{column}"), text.to_owned()));
                }
            }
        }
    }
    out
}

async fn metrics_now(zone: &Zone) -> Vec<Value> {
    backbone::domain::metrics::refresh(&zone.app.db, None).await.expect("refresh");
    let mut out = Vec::new();
    for g in [Value::Null, json!("ANCHOR"), json!("YEAR_GROUP"), json!("PROGRAMME"), json!("FSM")] {
        let body = zone.as_(&zone.analyst, METRICS, json!({ "g": g })).await;
        assert_ok(&body);
        out.push(body["data"].clone());
    }
    out
}

#[tokio::test]
async fn an_erased_record_identifies_nobody_and_the_figures_stay_as_they_were() {
    let rich = fullest_child().await;
    let (zone, c) = (&rich.zone, rich.c.clone());
    // Identity only this child has (the zone's other children share the fixture's surname).
    let rename = json!({ "i": { "childId": c, "firstName": "Quillon", "lastName": "Zebedee",
        "contactEmail": "quillon.z@example.org", "postcode": "ZZ7 7QQ", "reason": "Name from the birth certificate" } });
    assert_ok(
        &zone.as_(&zone.link_worker, "mutation($i: UpdateChildInput!) { updateChild(input: $i) { id } }", rename).await,
    );
    let identity = [
        "Quillon",
        "Zebedee",
        "quillon.z@example.org",
        "ZZ7 7QQ",
        "Dee",
        "A123456789012",
        "07700 900005",
        "07700 900003",
        "Works nights; call after 4pm",
        "Phoned Sam at 12 Example Road",
        "Sam moved away from 12 Example Road",
        "Mum keen",
        "Starts Tuesday",
        "Clashes with swimming",
        "Chat at the gate",
        "Phoned home",
        "Settling in",
        "Check-in at the gate",
        "Fortnightly one-to-one",
        "Reading together",
        "Feel calmer",
        "Weekly one-to-ones",
        "Still anxious on Mondays",
        "Cover for leave",
        "The family changed their number",
        "Name from the birth certificate",
    ];
    let before_texts = every_text(&zone.app.db).await;
    for needle in identity {
        assert!(before_texts.iter().any(|(_, t)| t.contains(needle)), "the fixture holds {needle:?}");
    }

    // Under a legal hold (the rich child has a safeguarding concern): refused, with why.
    let held = zone.as_(&zone.admin, ERASE, json!({ "c": c, "r": "The family asked" })).await;
    assert_refused(&held, "CONFLICT");
    assert!(held["errors"][0]["message"].as_str().expect("message").contains("legal hold"), "{held}");
    // The hold ends (the concern has been dealt with and removed).
    execute_sql(&zone.app.db, "DELETE FROM safeguarding_concerns WHERE child_id = ?", vec![c.clone().into()])
        .await
        .expect("hold lifted");

    let figures = metrics_now(zone).await;
    let claims_before =
        claim::Entity::find().filter(claim::Column::ChildId.eq(c.clone())).all(&zone.app.db).await.expect("claims");
    assert!(!claims_before.is_empty());

    let erased = zone.as_(&zone.admin, ERASE, json!({ "c": c, "r": "The family asked on 3 December" })).await;
    assert_ok(&erased);
    assert!(erased["data"]["eraseChild"]["rowsChanged"].as_u64().expect("rows") > 10, "{erased}");

    let after = every_text(&zone.app.db).await;
    for needle in identity {
        let left: Vec<&(String, String)> = after.iter().filter(|(_, t)| t.contains(needle)).collect();
        assert!(left.is_empty(), "{needle:?} is still held after erasure: {left:?}");
    }
    assert_eq!(metrics_now(zone).await, figures, "metrics unchanged by the erasure");
    let claims_after =
        claim::Entity::find().filter(claim::Column::ChildId.eq(c.clone())).all(&zone.app.db).await.expect("claims");
    assert_eq!(claims_after, claims_before, "claims and their evidence unchanged");

    // The record is still there, de-identified, with the step history and assessments.
    let child = zone
        .as_(
            &zone.admin,
            "query($c: ID!) { child(id: $c) { firstName lastName upn enrolment { status } \
        assessments { id } } }",
            json!({ "c": c }),
        )
        .await;
    assert_ok(&child);
    assert_eq!(child["data"]["child"]["firstName"], "Erased");
    assert_eq!(child["data"]["child"]["upn"], Value::Null);
    assert!(!child["data"]["child"]["assessments"].as_array().expect("assessments").is_empty());
    // The audit keeps the fact; a second erasure is refused.
    let events = audit_event::Entity::find()
        .filter(audit_event::Column::ChildId.eq(c.clone()))
        .filter(audit_event::Column::Action.eq("child.erase"))
        .count(&zone.app.db)
        .await
        .expect("events");
    assert_eq!(events, 1);
    assert_refused(&zone.as_(&zone.admin, ERASE, json!({ "c": c, "r": "Again" })).await, "CONFLICT");
}

#[tokio::test]
async fn only_the_backbones_admins_erase_and_a_reason_is_required() {
    let zone = Zone::new().await;
    let c = zone.child_a1.clone();
    for who in [&zone.link_worker, &zone.anchor_lead, &zone.partner_worker, &zone.funder, &zone.analyst] {
        assert_refused(&zone.as_(who, ERASE, json!({ "c": c, "r": "The family asked" })).await, "FORBIDDEN");
    }
    let body = zone.as_(&zone.admin, ERASE, json!({ "c": c, "r": "  " })).await;
    assert_refused(&body, "INVALID_INPUT");
    let missing = json!({ "c": uuid::Uuid::now_v7().to_string(), "r": "The family asked" });
    assert_refused(&zone.as_(&zone.admin, ERASE, missing).await, "NOT_FOUND");
    let child = "query($c: ID!) { child(id: $c) { firstName } }";
    assert_eq!(zone.as_(&zone.admin, child, json!({ "c": c })).await["data"]["child"]["firstName"], "Ada", "untouched");
    assert_ok(&zone.as_(&zone.admin, ERASE, json!({ "c": c, "r": "The family asked" })).await);
    assert_eq!(zone.as_(&zone.admin, child, json!({ "c": c })).await["data"]["child"]["firstName"], "Erased");
}

#[tokio::test]
async fn nothing_more_is_recorded_about_an_erased_child() {
    let zone = Zone::new().await;
    let (a1, a2) = (zone.child_a1.clone(), zone.child_a2.clone());
    let programme = zone.programme(&zone.partner_1, "Mentoring", 5).await;
    let homework = zone.programme(&zone.partner_1, "Homework Club", 5).await;
    for c in [&a1, &a2] {
        zone.ready_for_referral(c, &[&zone.partner_1]).await;
        zone.refer(c, &programme, backbone::domain::ReferralStatus::Accepted).await;
    }
    assert_ok(&zone.as_(&zone.admin, ERASE, json!({ "c": a1, "r": "The family asked" })).await);
    let events = || async { audit_event::Entity::find().count(&zone.app.db).await.expect("count") };
    let before = events().await;

    // Every kind of change, by the link worker, the partner and an admin: refused, nothing written.
    for (write, vars) in crate::break_glass::writes_to_a_child(&a1, &homework) {
        for who in [&zone.link_worker, &zone.admin] {
            let refused = zone.as_(who, write, vars.clone()).await;
            assert_refused(&refused, "CONFLICT");
            let message = refused["errors"][0]["message"].as_str().unwrap_or_default();
            assert!(message.contains("erased"), "{write}: {refused}");
        }
    }
    let register = |c: &str| {
        json!({"i": {"programmeId": programme, "heldOn": "2025-10-07", "durationMinutes": 60, "kind": "GROUP",
            "attendees": [{"childId": c, "status": "ATTENDED", "engagement": "PARTICIPATING"}]}})
    };
    let log = "mutation($i: LogSessionInput!) { logSession(input: $i) { id } }";
    assert_refused(&zone.as_(&zone.partner_worker, log, register(&a1)).await, "CONFLICT");
    // Reading what is left writes only its read events.
    let read = zone.as_(&zone.link_worker, "query($c: ID!) { child(id: $c) { firstName } }", json!({ "c": a1 })).await;
    assert_eq!(read["data"]["child"]["firstName"], "Erased", "{read}");
    let after = events().await;
    let written: Vec<String> = audit_event::Entity::find()
        .filter(audit_event::Column::Seq.gt(before as i64))
        .all(&zone.app.db)
        .await
        .expect("events")
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(
        written.iter().all(|a| a.ends_with(".read")),
        "only reads since the erasure: {written:?} ({before} → {after})"
    );

    // The allowance: the other child takes the same changes.
    assert_ok(&zone.as_(&zone.partner_worker, log, register(&a2)).await);
    let (contact, vars) = &crate::break_glass::writes_to_a_child(&a2, &programme)[0];
    assert_ok(&zone.as_(&zone.link_worker_2, contact, vars.clone()).await);
}
