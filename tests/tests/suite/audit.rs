//! Audit: every read and write of child-level data appends a hash-chained event in the
//! same transaction, naming actor, action, child and fields; tampering is detected.

use backbone::audit::{self, Verdict};
use backbone::store::audit_event;
use backbone_tests::*;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;

async fn events_for(zone: &Zone, child: &str) -> Vec<audit_event::Model> {
    audit_event::Entity::find()
        .filter(audit_event::Column::ChildId.eq(child.to_owned()))
        .order_by_asc(audit_event::Column::Seq)
        .all(&zone.app.db)
        .await
        .expect("events")
}

#[tokio::test]
async fn reads_and_writes_are_audited_with_actor_fields_and_request_id() {
    let zone = Zone::new().await;
    let before = events_for(&zone, &zone.child_a1).await.len();
    let read = zone
        .as_(
            &zone.link_worker,
            "query($c: ID!) { child(id: $c) { firstName dateOfBirth } }",
            json!({"c": zone.child_a1}),
        )
        .await;
    assert_ok(&read);
    let events = events_for(&zone, &zone.child_a1).await;
    assert_eq!(events.len(), before + 1);
    let last = events.last().expect("event");
    assert_eq!(last.action, "child.read");
    assert_eq!(last.actor_user_id.as_deref(), Some(zone.link_worker.id.as_str()));
    assert_eq!(last.actor_role, "link_worker");
    assert_eq!(last.fields, r#"["dateOfBirth","firstName"]"#);
    assert!(last.request_id.is_some());

    // A list read audits each child returned, and only those.
    let list = zone.as_(&zone.anchor_lead, "{ children { edges { node { lastName } } } }", json!({})).await;
    assert_ok(&list);
    assert_eq!(events_for(&zone, &zone.child_a2).await.last().map(|e| e.action.as_str()), Some("child.read"));
    let b1 = events_for(&zone, &zone.child_b1).await;
    assert!(
        b1.iter().all(|e| e.actor_user_id.as_deref() != Some(zone.anchor_lead.id.as_str())),
        "not read, not audited"
    );

    // A write is audited with what it touched.
    let write = zone
        .as_(
            &zone.link_worker,
            "mutation($c: ID!) { addRelationship(input: {childId: $c, kind: PARENT, name: \"Pat Testchild\", involvement: MAIN_CONTACT, parentalResponsibility: true}) { id } }",
            json!({"c": zone.child_a1}),
        )
        .await;
    assert_ok(&write);
    let events = events_for(&zone, &zone.child_a1).await;
    assert!(events.iter().any(|e| e.action == "relationship.add" && e.fields.contains("relationships")));

    // A denied read is not an access, and leaves no event for that actor.
    let denied = zone.as_(&zone.funder, "query($c: ID!) { child(id: $c) { id } }", json!({"c": zone.child_a1})).await;
    assert_eq!(error_code(&denied), Some("NOT_FOUND"));
    assert!(events_for(&zone, &zone.child_a1).await.iter().all(|e| e.actor_role != "funder"));

    assert_eq!(
        audit::verify(&zone.app.db, |_, _| {}).await.expect("verify"),
        Verdict::Intact { events: audit_event::Entity::find().all(&zone.app.db).await.expect("all").len() as u64 }
    );
}

#[tokio::test]
async fn tampering_is_detected_at_the_first_altered_event() {
    let zone = Zone::new().await;
    let read = zone.as_(&zone.admin, "{ children { edges { node { id } } } }", json!({})).await;
    assert_ok(&read);
    assert!(matches!(audit::verify(&zone.app.db, |_, _| {}).await.expect("verify"), Verdict::Intact { .. }));

    // Alter one event's contents: the chain breaks exactly there.
    zone.app.db.execute_unprepared("UPDATE audit_events SET fields = '[]' WHERE seq = 5").await.expect("tamper");
    match audit::verify(&zone.app.db, |_, _| {}).await.expect("verify") {
        Verdict::Broken { seq, reason } => {
            assert_eq!(seq, 5);
            assert!(reason.contains("altered"), "{reason}");
        }
        other => panic!("tampering not detected: {other:?}"),
    }
}

#[tokio::test]
async fn deleting_an_event_is_detected() {
    let zone = Zone::new().await;
    zone.app.db.execute_unprepared("DELETE FROM audit_events WHERE seq = 3").await.expect("delete");
    match audit::verify(&zone.app.db, |_, _| {}).await.expect("verify") {
        Verdict::Broken { seq, .. } => assert_eq!(seq, 3),
        other => panic!("deletion not detected: {other:?}"),
    }
}
