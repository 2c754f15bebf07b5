//! Retention: the zone's schedule applied with a clock moved forward (no waiting) —
//! expired screening data deleted, safeguarding concerns kept until the child is 25 and
//! their closed case held until then, closed cases erased six years after they ended,
//! audit events counted and kept — and listed for the backbone's admins only.

use backbone::auth::Actor;
use backbone::domain::retention::{self, DueKind};
use backbone::store::{audit_event, child, safeguarding_concern, screening};
use backbone_seeds::retention::default_schedule;
use backbone_tests::*;
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::json;

const DUE: &str = "query($d: NaiveDate!) { retentionDue(asOf: $d) { kind why count child { id } } }";

fn day(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

/// Ada and Bea, enrolled in February 2025 and exited on 1 June 2025; Bea with a
/// safeguarding concern (both born 4 May 2016: 25 on 4 May 2041); an expired screening row.
async fn zone() -> Zone {
    let zone = Zone::with_framework().await;
    for child in [&zone.child_a1, &zone.child_a2] {
        zone.enrolled_on(child, &[&zone.partner_1], Some("2025-02-03")).await;
    }
    let exit = "mutation($c: ID!) { exitChild(childId: $c, reason: MOVED_AWAY, on: \"2025-06-01\") { id } }";
    assert_ok(&zone.as_(&zone.link_worker, exit, json!({ "c": zone.child_a1 })).await);
    assert_ok(&zone.as_(&zone.link_worker_2, exit, json!({ "c": zone.child_a2 })).await);
    let concern = "mutation($c: ID!) { raiseSafeguardingConcern(childId: $c, body: \"Worried about home\") { id } }";
    assert_ok(&zone.as_(&zone.link_worker_2, concern, json!({ "c": zone.child_a2 })).await);
    let now = Utc::now();
    screening::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        anchor_id: Set(zone.anchor_a.clone()),
        upn: Set("B123456789012".into()),
        attendance_percent: Set(Some(85.0)),
        attainment: Set(None),
        wellbeing_score: Set(None),
        practitioner_concern: Set(false),
        statutory_support: Set(None),
        at_risk_areas: Set(3),
        reasons: Set("[]".into()),
        status: Set("candidate".into()),
        rank_key: Set("k".into()),
        framework_version: Set(1),
        child_id: Set(None),
        imported_by: Set(zone.anchor_lead.id.clone()),
        imported_at: Set(now - Duration::days(200)),
        expires_at: Set(now - Duration::days(20)),
    }
    .insert(&zone.app.db)
    .await
    .expect("screening row");
    zone
}

fn kinds(due: &[retention::Due]) -> Vec<(DueKind, Option<&str>)> {
    due.iter().map(|d| (d.kind, d.child_id.as_deref())).collect()
}

#[tokio::test]
async fn the_schedule_applies_as_the_clock_moves_and_holds_what_it_must() {
    let zone = zone().await;
    let (db, system, schedule) = (&zone.app.db, Actor::system(), default_schedule());
    let (ada, bea) = (zone.child_a1.as_str(), zone.child_a2.as_str());
    let at = |d: &str| Utc.from_utc_datetime(&day(d).and_hms_opt(12, 0, 0).expect("time"));

    // The day before six years: only the expired screening row.
    let due = retention::due(db, &schedule, day("2031-05-31"), at("2031-05-31")).await.expect("due");
    assert_eq!(kinds(&due), [(DueKind::ScreeningExpired, None)]);

    // Six years after they ended: Ada is erased, Bea is held (her concern), the screening
    // row goes; nothing yet of the audit.
    let done = retention::apply(db, &system, &schedule, day("2031-06-02"), at("2031-06-02"), &zone.app.audit)
        .await
        .expect("apply");
    assert_eq!(
        kinds(&done),
        [(DueKind::ScreeningExpired, None), (DueKind::ClosedCase, Some(ada)), (DueKind::ClosedCaseHeld, Some(bea))]
    );
    assert!(done[2].why.contains("legal hold"), "{:?}", done[2]);
    let read = |id: &str| child::Entity::find_by_id(id.to_owned()).one(db);
    assert_eq!(read(ada).await.expect("read").expect("Ada").first_name, "Erased");
    assert_eq!(read(bea).await.expect("read").expect("Bea").first_name, "Bea");
    assert_eq!(screening::Entity::find().count(db).await.expect("count"), 0);
    // Applied again the same day, nothing more goes.
    let again = retention::apply(db, &system, &schedule, day("2031-06-02"), at("2031-06-02"), &zone.app.audit)
        .await
        .expect("apply");
    assert_eq!(kinds(&again), [(DueKind::ClosedCaseHeld, Some(bea))]);

    // Bea turns 25: her concern goes, then her case is erased; the audit, eight years on,
    // goes too (every event here was written in 2026), under a signed checkpoint.
    let done = retention::apply(db, &system, &schedule, day("2041-05-04"), at("2041-05-04"), &zone.app.audit)
        .await
        .expect("apply");
    assert_eq!(
        kinds(&done),
        [(DueKind::SafeguardingConcerns, Some(bea)), (DueKind::ClosedCase, Some(bea)), (DueKind::AuditEvents, None)]
    );
    assert_eq!(safeguarding_concern::Entity::find().count(db).await.expect("count"), 0);
    assert_eq!(read(bea).await.expect("read").expect("Bea").first_name, "Erased");
    let left = audit_event::Entity::find().all(db).await.expect("events");
    assert_eq!(
        left.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        ["audit.purge"],
        "only the purge's own event"
    );
    zone.app.chain_audit().await;
    match backbone::audit::verify(db, &zone.app.audit, |_, _| {}).await.expect("verify") {
        backbone::audit::Verdict::Intact { events, .. } => assert_eq!(events, 1),
        broken => panic!("the chain after a purge: {broken:?}"),
    }
    // Removing what is left, without the key's checkpoint, is still caught.
    audit_event::Entity::delete_many().exec(db).await.expect("delete");
    assert!(matches!(
        backbone::audit::verify(db, &zone.app.audit, |_, _| {}).await.expect("verify"),
        backbone::audit::Verdict::Broken { .. }
    ));
}

#[tokio::test]
async fn events_deleted_without_a_purge_checkpoint_break_the_chain() {
    let zone = zone().await;
    let db = &zone.app.db;
    // Someone with the database but not the key deletes the oldest events.
    audit_event::Entity::delete_many().filter(audit_event::Column::Seq.lte(3)).exec(db).await.expect("delete");
    match backbone::audit::verify(db, &zone.app.audit, |_, _| {}).await.expect("verify") {
        backbone::audit::Verdict::Broken { seq, reason } => {
            assert_eq!(seq, 1, "{reason}");
            assert!(reason.contains("missing"), "{reason}");
        }
        intact => panic!("deleted events went unnoticed: {intact:?}"),
    }
}

#[tokio::test]
async fn what_is_due_is_listed_for_the_backbones_admins_only() {
    let zone = zone().await;
    let body = zone.as_(&zone.admin, DUE, json!({ "d": "2031-06-02" })).await;
    assert_ok(&body);
    let due = body["data"]["retentionDue"].as_array().expect("due");
    let kinds: Vec<&str> = due.iter().map(|d| d["kind"].as_str().expect("kind")).collect();
    assert_eq!(kinds, ["SCREENING_EXPIRED", "CLOSED_CASE", "CLOSED_CASE_HELD"], "{due:?}");
    assert_eq!(due[1]["child"]["id"], json!(zone.child_a1));
    assert!(due[1]["why"].as_str().expect("why").contains("participation ended on 1 June 2025"), "{due:?}");
    // Listing changes nothing.
    let ada = "query($c: ID!) { child(id: $c) { firstName } }";
    assert_eq!(zone.as_(&zone.admin, ada, json!({ "c": zone.child_a1 })).await["data"]["child"]["firstName"], "Ada");
    for who in [&zone.link_worker, &zone.anchor_lead, &zone.partner_lead, &zone.funder, &zone.analyst] {
        assert_refused(&zone.as_(who, DUE, json!({ "d": "2031-06-02" })).await, "FORBIDDEN");
    }
}
