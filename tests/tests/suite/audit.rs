//! Audit: every read and write of child-level data appends a hash-chained event in the
//! same transaction, naming actor, action, child and fields; tampering is detected, and
//! so are truncation and re-chaining by someone without the key (checkpoints, MACs).

use backbone::audit::{self, IfMissing, Key, Trust, Verdict};
use backbone::store::{audit_event, audit_head};
use backbone_tests::*;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::json;

/// Verifies as `backbone audit verify` does: what is waiting is chained first.
async fn verify(zone: &Zone) -> Verdict {
    zone.app.chain_audit().await;
    audit::verify(&zone.app.db, &zone.app.audit, |_, _| {}).await.expect("verify")
}

fn broken(verdict: Verdict) -> (i64, String) {
    match verdict {
        Verdict::Broken { seq, reason } => (seq, reason),
        other => panic!("tampering not detected: {other:?}"),
    }
}

/// The chain, once everything written so far is chained.
async fn all_events(zone: &Zone) -> Vec<audit_event::Model> {
    zone.app.chain_audit().await;
    audit_event::Entity::find().order_by_asc(audit_event::Column::Seq).all(&zone.app.db).await.expect("events")
}

/// What someone who can write the database but lacks the key would do: from event `from`
/// on, recompute every event's hash and link with `key` (`None`: plain SHA-256), and move
/// the head to match.
async fn rechain(zone: &Zone, from: i64, key: Option<&Key>) {
    let mut prev = audit::GENESIS.to_owned();
    for mut row in all_events(zone).await {
        if row.seq >= Some(from) {
            row.prev_hash = Some(prev.clone());
            row.hash = Some(audit::event_hash(&row, key));
            let mut active: audit_event::ActiveModel = row.clone().into();
            active.prev_hash = Set(row.prev_hash.clone());
            active.hash = Set(row.hash.clone());
            active.update(&zone.app.db).await.expect("rewrite event");
        }
        prev = row.hash.expect("chained");
    }
    let head = audit_head::ActiveModel { id: Set(1), hash: Set(prev), ..Default::default() };
    head.update(&zone.app.db).await.expect("move head");
}

async fn events_for(zone: &Zone, child: &str) -> Vec<audit_event::Model> {
    audit_event::Entity::find()
        .filter(audit_event::Column::ChildId.eq(child.to_owned()))
        .order_by_asc(audit_event::Column::Id)
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

    match verify(&zone).await {
        Verdict::Intact { events, unkeyed, checkpoints, .. } => {
            assert_eq!(events, audit_event::Entity::find().all(&zone.app.db).await.expect("all").len() as u64);
            assert_eq!(unkeyed, 0, "a new database is keyed from its first event");
            assert_eq!(checkpoints, 1, "the anchor checkpoint written when the key was bound");
        }
        other => panic!("an untouched chain is intact: {other:?}"),
    }
}

#[tokio::test]
async fn tampering_is_detected_at_the_first_altered_event() {
    let zone = Zone::new().await;
    let read = zone.as_(&zone.admin, "{ children { edges { node { id } } } }", json!({})).await;
    assert_ok(&read);
    assert!(matches!(verify(&zone).await, Verdict::Intact { .. }));

    // Alter one event's contents: the chain breaks exactly there.
    zone.app.db.execute_unprepared("UPDATE audit_events SET fields = '[]' WHERE seq = 5").await.expect("tamper");
    match verify(&zone).await {
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
    match verify(&zone).await {
        Verdict::Broken { seq, .. } => assert_eq!(seq, 3),
        other => panic!("deletion not detected: {other:?}"),
    }
}

#[tokio::test]
async fn an_untouched_chain_agrees_with_its_checkpoints() {
    let zone = Zone::new().await;
    let first = audit::checkpoint(&zone.app.db, &zone.app.audit).await.expect("checkpoint");
    let read = zone.as_(&zone.admin, "{ children { edges { node { id } } } }", json!({})).await;
    assert_ok(&read);
    zone.app.chain_audit().await;
    let second = audit::checkpoint(&zone.app.db, &zone.app.audit).await.expect("checkpoint");
    assert!(second.seq > first.seq, "the read was audited after the first checkpoint");
    match verify(&zone).await {
        Verdict::Intact { events, checkpoints, .. } => {
            assert_eq!(events as i64, second.seq);
            assert_eq!(checkpoints, 3, "anchor and two more");
        }
        other => panic!("untouched chain: {other:?}"),
    }
}

#[tokio::test]
async fn deleting_the_tail_and_moving_the_head_back_after_a_checkpoint_is_detected() {
    let zone = Zone::new().await;
    let cp = audit::checkpoint(&zone.app.db, &zone.app.audit).await.expect("checkpoint");
    let keep = cp.seq - 3;
    let kept = all_events(&zone).await.into_iter().find(|e| e.seq == Some(keep)).and_then(|e| e.hash).expect("event");
    zone.app.db.execute_unprepared(&format!("DELETE FROM audit_events WHERE seq > {keep}")).await.expect("delete");
    let head = audit_head::ActiveModel { id: Set(1), seq: Set(keep), hash: Set(kept), ..Default::default() };
    head.update(&zone.app.db).await.expect("move the head back");
    let (seq, reason) = broken(verify(&zone).await);
    assert_eq!(seq, keep + 1);
    assert!(reason.contains("deleted from the end") && reason.contains(&format!("event {}", cp.seq)), "{reason}");
}

#[tokio::test]
async fn rewriting_an_actor_and_rehashing_without_the_key_is_detected() {
    for key in [None, Some(Key::generate().expect("key"))] {
        let zone = Zone::new().await;
        let before = all_events(&zone).await;
        assert!(before.len() > 8);
        zone.app
            .db
            .execute_unprepared(&format!(
                "UPDATE audit_events SET actor_user_id = '{}' WHERE seq = 5",
                zone.partner_worker.id
            ))
            .await
            .expect("rewrite actor");
        rechain(&zone, 5, key.as_ref()).await;
        let (seq, reason) = broken(verify(&zone).await);
        assert_eq!(seq, 5, "{reason}");
        let expected = if key.is_none() { "without the key" } else { "do not match its hash" };
        assert!(reason.contains(expected), "{reason}");
    }
}

#[tokio::test]
async fn rehashing_with_the_right_key_is_intact_so_the_test_above_could_fail() {
    // The rewrite helper itself is faithful: with the real key nothing is left to see
    // (which is why the key is kept outside the database).
    let zone = Zone::new().await;
    rechain(&zone, 5, Some(&zone.app.audit.key)).await;
    assert!(matches!(verify(&zone).await, Verdict::Intact { .. }));
}

#[tokio::test]
async fn events_from_before_the_key_are_checked_as_before_and_anchor_the_keyed_ones() {
    let zone = Zone::new().await;
    // Make the database look as one written before keys: every event SHA-256 only, the
    // head naming no key, no checkpoints.
    rechain(&zone, 1, None).await;
    zone.app.db.execute_unprepared("UPDATE audit_head SET key_id = NULL, keyed_from = NULL").await.expect("unkey");
    std::fs::remove_file(&zone.app.audit.checkpoint_file).expect("no checkpoints");
    let legacy = all_events(&zone).await.len() as u64;

    audit::bind(&zone.app.db, &zone.app.audit).await.expect("bind anchors the key");
    let read = zone.as_(&zone.admin, "{ children { edges { node { id } } } }", json!({})).await;
    assert_ok(&read);
    match verify(&zone).await {
        Verdict::Intact { events, unkeyed, checkpoints, .. } => {
            assert_eq!(unkeyed, legacy);
            assert!(events > legacy, "keyed events follow");
            assert_eq!(checkpoints, 1);
        }
        other => panic!("a pre-key chain with keyed events after it: {other:?}"),
    }

    // A keyed event re-hashed without the key is caught…
    let first_keyed = legacy as i64 + 1;
    rechain(&zone, first_keyed + 1, None).await;
    let (seq, reason) = broken(verify(&zone).await);
    assert_eq!(seq, first_keyed + 1);
    assert!(reason.contains("without the key"), "{reason}");

    // …and so is an unkeyed one rewritten before the anchor: the anchor checkpoint pins it.
    zone.app.db.execute_unprepared("UPDATE audit_events SET action = 'x' WHERE seq = 2").await.expect("rewrite");
    rechain(&zone, 1, None).await;
    let (seq, _) = broken(verify(&zone).await);
    assert!(seq <= first_keyed, "caught at or before the anchor: {seq}");
}

#[tokio::test]
async fn a_forged_checkpoint_and_a_wrong_key_are_named() {
    let zone = Zone::new().await;
    let mut forged = audit::checkpoint(&zone.app.db, &zone.app.audit).await.expect("checkpoint");
    forged.seq += 100;
    let mut lines = std::fs::read_to_string(&zone.app.audit.checkpoint_file).expect("file");
    lines.push_str(&serde_json::to_string(&forged).expect("json"));
    lines.push('\n');
    std::fs::write(&zone.app.audit.checkpoint_file, lines).expect("write");
    let (_, reason) = broken(verify(&zone).await);
    assert!(reason.contains("line 3") && reason.contains("not signed with this key"), "{reason}");

    let other = Trust { key: Key::generate().expect("key"), checkpoint_file: zone.app.audit.checkpoint_file.clone() };
    let refused = audit::bind(&zone.app.db, &other).await;
    assert!(refused.is_err_and(|e| format!("{e:?}").contains("keyed with the key whose id is")));
    std::fs::remove_file(&other.checkpoint_file).expect("remove checkpoints");
    let (_, reason) = broken(audit::verify(&zone.app.db, &other, |_, _| {}).await.expect("verify"));
    assert!(reason.contains("the key given is"), "{reason}");
}

#[tokio::test]
async fn verifying_without_the_key_is_a_clear_error() {
    let zone = Zone::new().await;
    let mut settings = test_settings(&zone.app.database_url);
    settings.audit.key = None;
    settings.audit.key_file = zone.app.audit.checkpoint_file.with_file_name("no-such.key");
    settings.audit.checkpoint_file = zone.app.audit.checkpoint_file.clone();
    let err = Trust::load(&settings, IfMissing::Refuse).expect_err("no key").to_string();
    assert!(err.contains("no audit key at") && err.contains("no-such.key"), "{err}");
    assert!(!std::path::Path::new(&settings.audit.key_file).exists(), "verifying never creates a key");
}
