//! The audit sequencer: an event is written by the transaction that did the work, without
//! a place in the chain, and chained a moment later in the order written; nothing is lost
//! when a process stops between the two; a row the service did not write is never
//! chained, and `verify` names it. With no lock shared by every request, what that lock
//! used to guarantee still holds when two changes meet (on PostgreSQL, where transactions
//! run side by side; SQLite has one writer at a time).

use backbone::audit::{self, Audited, Verdict};
use backbone::auth::Actor;
use backbone::domain::casework::{self, NewNote};
use backbone::domain::sessions::{self, Attendee, NewSession};
use backbone::domain::{
    AttendanceStatus, Engagement, NoteVisibility, ReferralStatus, SessionKind, children, referrals,
};
use backbone::error::Error;
use backbone::settings::Settings;
use backbone::startup::{Application, StartOptions};
use backbone::store::{audit_event, audit_head};
use backbone_tests::*;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;

/// A zone whose service never chains by itself (`audit.chain_millis = 0`): the test does.
async fn unchained_zone() -> Zone {
    Zone::from_app(TestApp::spawn_with(|s| s.audit.chain_millis = 0, StartOptions::default()).await).await
}

async fn waiting(db: &DatabaseConnection) -> Vec<audit_event::Model> {
    audit_event::Entity::find()
        .filter(audit_event::Column::Seq.is_null())
        .order_by_asc(audit_event::Column::Id)
        .all(db)
        .await
        .expect("events")
}

async fn verify(zone: &Zone) -> Verdict {
    audit::verify(&zone.app.db, &zone.app.audit, |_, _| {}).await.expect("verify")
}

async fn head_seq(db: &DatabaseConnection) -> i64 {
    audit_head::Entity::find_by_id(1).one(db).await.expect("head").expect("head row").seq
}

const READ: &str = "query($c: ID!) { child(id: $c) { firstName } }";
const RELATE: &str = "mutation($c: ID!) { addRelationship(input: {childId: $c, kind: PARENT, name: \"Pat Testchild\", involvement: MAIN_CONTACT, parentalResponsibility: true}) { id } }";

#[tokio::test]
async fn an_event_is_written_with_its_change_and_chained_afterwards_in_the_order_written() {
    let zone = unchained_zone().await;
    let db = &zone.app.db;
    assert!(waiting(db).await.is_empty(), "the fixture's events are chained");
    assert_ok(&zone.as_(&zone.link_worker, READ, json!({"c": zone.child_a1})).await);
    assert_ok(&zone.as_(&zone.link_worker, RELATE, json!({"c": zone.child_a1})).await);

    // What was answered is recorded already (committed before the answer left), with the
    // writer's MAC but no place in the chain yet.
    let pending = waiting(db).await;
    let a1 = Some(zone.child_a1.clone());
    assert!(pending.iter().any(|e| e.action == "child.read" && e.child_id == a1), "{pending:?}");
    assert!(pending.iter().any(|e| e.action == "relationship.add" && e.child_id == a1), "{pending:?}");
    assert!(pending.iter().all(|e| e.hash.is_none() && e.prev_hash.is_none() && e.mac.is_some()));
    let before = head_seq(db).await;
    match verify(&zone).await {
        Verdict::Intact { events, pending: n, .. } => {
            assert_eq!(n, pending.len() as u64, "waiting events are counted, not yet verified as chained");
            assert_eq!(events as i64, before);
        }
        other => panic!("waiting events are not a broken chain: {other:?}"),
    }

    // The sequencer gives each its place, in the order written, and moves the head.
    assert_eq!(audit::chain(db).await.expect("chain"), pending.len() as u64);
    assert!(waiting(db).await.is_empty());
    let ids: Vec<i64> = pending.iter().map(|e| e.id).collect();
    let chained = audit_event::Entity::find()
        .filter(audit_event::Column::Id.is_in(ids))
        .order_by_asc(audit_event::Column::Id)
        .all(db)
        .await
        .expect("events");
    let seqs: Vec<i64> = chained.iter().filter_map(|e| e.seq).collect();
    assert_eq!(seqs, ((before + 1)..=(before + pending.len() as i64)).collect::<Vec<_>>());
    assert_eq!(head_seq(db).await, before + pending.len() as i64);
    assert_eq!(audit::chain(db).await.expect("chain"), 0, "nothing is chained twice");
    match verify(&zone).await {
        Verdict::Intact { events, pending, .. } => {
            assert_eq!(pending, 0);
            assert_eq!(events as i64, head_seq(db).await);
        }
        other => panic!("a chained log is intact: {other:?}"),
    }
}

#[tokio::test]
async fn a_row_the_service_did_not_write_is_never_chained_and_verify_names_it() {
    let zone = unchained_zone().await;
    let db = &zone.app.db;
    assert_ok(&zone.as_(&zone.link_worker, READ, json!({"c": zone.child_a1})).await);
    assert_ok(&zone.as_(&zone.link_worker_2, READ, json!({"c": zone.child_a2})).await);
    let genuine = waiting(db).await;
    assert!(genuine.len() >= 2, "{genuine:?}");

    // Someone who can write the database but lacks the key adds an event, and alters
    // another before the sequencer reaches it.
    let forged = audit_event::ActiveModel {
        at: Set(audit::now()),
        actor_user_id: Set(Some(zone.partner_worker.id.clone())),
        actor_organisation_id: Set(Some(zone.partner_1.clone())),
        actor_role: Set("partner_worker".into()),
        action: Set("child.read".into()),
        child_id: Set(Some(zone.child_b1.clone())),
        fields: Set("[]".into()),
        request_id: Set(None),
        seq: Set(None),
        prev_hash: Set(None),
        hash: Set(None),
        break_glass_id: Set(None),
        mac: Set(Some("ab".repeat(32))),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("forged row");
    let altered = genuine[0].id;
    db.execute_unprepared(&format!("UPDATE audit_events SET fields = '[]' WHERE id = {altered}")).await.expect("alter");

    let chained = audit::chain(db).await.expect("chain");
    assert_eq!(chained, genuine.len() as u64 - 1, "every genuine, unaltered event is chained");
    let left: Vec<i64> = waiting(db).await.iter().map(|e| e.id).collect();
    assert_eq!(left, vec![altered, forged.id], "neither the altered nor the forged row is chained");
    match verify(&zone).await {
        Verdict::Broken { reason, .. } => {
            assert!(reason.contains(&format!("row {altered}")) && reason.contains("not signed"), "{reason}");
        }
        other => panic!("a row the service did not write is reported: {other:?}"),
    }
    // Without them, the chain is whole: what was chained is intact.
    db.execute_unprepared("DELETE FROM audit_events WHERE seq IS NULL").await.expect("remove");
    assert!(matches!(verify(&zone).await, Verdict::Intact { pending: 0, .. }));
}

#[tokio::test]
async fn events_a_stopped_process_left_unchained_are_chained_when_the_next_one_starts() {
    let zone = unchained_zone().await;
    assert_ok(&zone.as_(&zone.link_worker, READ, json!({"c": zone.child_a1})).await);
    assert_ok(&zone.as_(&zone.link_worker, RELATE, json!({"c": zone.child_a1})).await);
    let left = waiting(&zone.app.db).await.len();
    assert!(left > 0);

    // Another process on the same database, its sequencer on: before it serves, what was
    // waiting is chained; nothing was lost.
    let mut settings = zone.app.settings.clone();
    settings.audit.chain_millis = 200;
    let before = head_seq(&zone.app.db).await;
    let next = Application::build(settings, StartOptions::default()).await.expect("builds");
    assert!(waiting(next.db()).await.is_empty());
    assert_eq!(head_seq(next.db()).await, before + left as i64);
    assert!(matches!(verify(&zone).await, Verdict::Intact { pending: 0, .. }));
}

#[tokio::test]
async fn requests_are_answered_while_another_audited_transaction_is_open() {
    let zone = Zone::new().await;
    let db = &zone.app.db;
    let mut open = Audited::begin(db, &Actor::system()).await.expect("begin");
    open.record("child.read", Some(&zone.child_b1), &["firstName"]);
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        // Nothing is shared by every audited transaction: a read and a write go through
        // while this one is still open (on SQLite, one writer at a time, they would wait).
        let wait = std::time::Duration::from_secs(60);
        let read = tokio::time::timeout(wait, zone.as_(&zone.link_worker, READ, json!({"c": zone.child_a1})))
            .await
            .expect("a read does not wait on another transaction's audit");
        assert_ok(&read);
        let write = tokio::time::timeout(wait, zone.as_(&zone.link_worker, RELATE, json!({"c": zone.child_a1})))
            .await
            .expect("a write does not wait on another transaction's audit");
        assert_ok(&write);
    }
    open.commit().await.expect("commit");
    // Many at once: each event chained once, in one unbroken chain.
    let reads = (0..12).map(|_| zone.as_(&zone.link_worker, READ, json!({"c": zone.child_a1})));
    for body in futures_util::future::join_all(reads).await {
        assert_ok(&body);
    }
    zone.app.chain_audit().await;
    let events = audit_event::Entity::find().all(db).await.expect("events");
    match verify(&zone).await {
        Verdict::Intact { events: n, pending: 0, .. } => assert_eq!(n, events.len() as u64),
        other => panic!("concurrent writers keep one chain: {other:?}"),
    }
}

fn conflict(result: &Result<impl std::fmt::Debug, Error>) -> bool {
    matches!(result, Err(Error::Conflict(_) | Error::Duplicate { .. }))
}

#[tokio::test]
async fn when_two_changes_meet_the_last_place_goes_once_and_a_child_is_identified_once() {
    let zone = Zone::new().await;
    let (db, system) = (&zone.app.db, Actor::system());
    for round in ["a", "b", "c"] {
        // Two referrals sent to a programme with one place, accepted at the same moment.
        let programme = zone.programme(&zone.partner_1, &format!("One place {round}"), 1).await;
        let (x, y) = (
            zone.add_child(&format!("Xan{round}"), &zone.anchor_a, &zone.link_worker.id).await,
            zone.add_child(&format!("Yul{round}"), &zone.anchor_a, &zone.link_worker.id).await,
        );
        zone.ready_for_referral(&x, &[&zone.partner_1]).await;
        zone.ready_for_referral(&y, &[&zone.partner_1]).await;
        let rx = zone.refer(&x, &programme, ReferralStatus::Sent).await;
        let ry = zone.refer(&y, &programme, ReferralStatus::Sent).await;
        let (a, b) = tokio::join!(
            referrals::respond(db, &system, &rx, true, None, None, None),
            referrals::respond(db, &system, &ry, true, None, None, None)
        );
        assert_eq!(
            [a.is_ok(), b.is_ok()].iter().filter(|ok| **ok).count(),
            1,
            "one place, one acceptance: {a:?} {b:?}"
        );
        assert!(conflict(&a) || conflict(&b), "the other is refused as full: {a:?} {b:?}");

        // The same child identified twice at the same moment: recorded once.
        let same = || new_child(&format!("Zia{round}"), &zone.anchor_a);
        let (a, b) = tokio::join!(children::identify(db, &system, same()), children::identify(db, &system, same()));
        assert_eq!([a.is_ok(), b.is_ok()].iter().filter(|ok| **ok).count(), 1, "recorded once: {a:?} {b:?}");
        assert!(conflict(&a) || conflict(&b), "the other is the duplicate question: {a:?} {b:?}");
    }
}

#[tokio::test]
async fn registers_reads_and_notes_on_the_same_referrals_at_once_are_all_answered() {
    // A register holds its referrals and writes attendance against their children; a
    // note holds a child, then its referral; a read holds nothing. None waits on another
    // in a cycle, so none is refused as a conflict.
    let zone = Zone::new().await;
    let (db, system) = (&zone.app.db, Actor::system());
    let programme = zone.programme(&zone.partner_1, "Busy hall", 30).await;
    let mut placed = Vec::new();
    for name in ["Marguerite", "Leopold", "Henrietta", "Octavius", "Philippa", "Quentin"] {
        let child = zone.add_child(name, &zone.anchor_a, &zone.link_worker.id).await;
        zone.ready_for_referral(&child, &[&zone.partner_1]).await;
        let referral = zone.refer(&child, &programme, ReferralStatus::Accepted).await;
        placed.push((child, referral));
    }
    let today = chrono::Utc::now().date_naive();
    for round in 0..20_i64 {
        let register = |days_ago: i64| NewSession {
            programme_id: programme.clone(),
            held_on: (today - chrono::Duration::days(days_ago)).format("%Y-%m-%d").to_string(),
            duration_minutes: 60,
            kind: SessionKind::Group,
            notes: None,
            attendees: placed
                .iter()
                .map(|(child, _)| Attendee {
                    child_id: child.clone(),
                    status: AttendanceStatus::Attended,
                    engagement: Some(Engagement::FullyEngaged),
                })
                .collect(),
        };
        let registers =
            (0..2).map(|k| sessions::log(db, &system, register(round * 2 + k), Settings::default().brokering));
        let reads = placed.iter().map(|(_, r)| referrals::get(db, &system, r));
        let notes = placed.iter().map(|(child, r)| {
            let note = NewNote {
                child_id: child.clone(),
                referral_id: Some(r.clone()),
                body: "Settled in well today".into(),
                visibility: NoteVisibility::SharedWithLinkWorker,
            };
            casework::add_note(db, &system, note)
        });
        let (registers, reads, notes) = tokio::join!(
            futures_util::future::join_all(registers),
            futures_util::future::join_all(reads),
            futures_util::future::join_all(notes)
        );
        for logged in &registers {
            assert!(logged.is_ok(), "round {round}: {logged:?}");
        }
        for read in &reads {
            assert!(read.is_ok(), "round {round}: {read:?}");
        }
        for note in &notes {
            assert!(note.is_ok(), "round {round}: {note:?}");
        }
    }
}
