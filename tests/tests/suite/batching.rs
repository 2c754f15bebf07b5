//! Batch loading: a caseload query with a rich nested selection costs the same number of
//! SQL statements for 10 children as for 100 (the per-request loader fetches each nested
//! list once per level, not once per child), and on PostgreSQL at most 8 for 100 (a
//! level's batches are one statement).

use backbone::auth::Actor;
use backbone::domain::{Involvement, NoteVisibility, ReferralStatus, RelationshipKind, casework, children};
use backbone::startup::StartOptions;
use backbone::store::audit_event;
use backbone_tests::*;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

const CASELOAD: &str = "query($first: Int!) { caseload(first: $first) { edges { node {
    id firstName
    enrolment { status linkWorker { id } history { to } }
    relationships { kind name }
    consents { id partners { id } }
    supportPackage { open referrals { status programme { name } partner { name } history { to } engagement { sessionsOffered } } }
    engagement { attendanceRate contacts }
    progressNotes { body }
    handovers { note }
} } } }";

/// Runs `query` as `who`, returning the body and the statements the service ran for it.
async fn counted(zone: &Zone, counter: &AtomicU64, who: &Account, query: &str, vars: Value) -> (Value, u64) {
    let before = counter.load(Ordering::SeqCst);
    let body = zone.as_(who, query, vars).await;
    let after = counter.load(Ordering::SeqCst);
    (body, after - before)
}

/// The `child.read` events so far (each record hanging off a child read — a referral, a
/// note — is its own event besides, appended in the same batch).
async fn audit_count(zone: &Zone) -> u64 {
    audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("child.read"))
        .count(&zone.app.db)
        .await
        .expect("count audit events")
}

/// A caseload of 100 children on `zone.link_worker`'s caseload, in a service that counts
/// its statements; returns the zone, the counter, the caseload (oldest first) and how many
/// of the children were referred (and have relationships, consents and notes).
async fn a_caseload_of_100() -> (Zone, Arc<AtomicU64>, Vec<String>, usize) {
    let counter = Arc::new(AtomicU64::new(0));
    // The default limits: a caseload of 100 with this selection is the product's own use.
    let app = TestApp::spawn_with(
        // The audit sequencer's statements are not the request's (nothing here reads the chain).
        |s| s.audit.chain_millis = 0,
        StartOptions { statement_counter: Some(counter.clone()), ..Default::default() },
    )
    .await;
    let zone = Zone::from_app(app).await;
    let (db, system) = (&zone.app.db, Actor::system());

    // 99 more children on the link worker's caseload (child_a1 is the first), so the
    // caseload is 100 children.
    let mut caseload = vec![zone.child_a1.clone()];
    for i in 0..99 {
        let c = add_child(
            db,
            &format!("Kid{}", alpha(i)),
            &zone.anchor_a,
            &zone.link_worker.id,
            Some(format!("Assigned {i}")),
        )
        .await;
        caseload.push(c);
    }

    // Nested lists that are not empty, both within the first 10 and beyond: relationships,
    // consents, referrals (with history and sessions), notes, contacts.
    let p = zone.programme(&zone.partner_1, "Mentoring", 100).await;
    let q = zone.programme(&zone.partner_2, "Football", 100).await;
    let referred: Vec<String> =
        caseload.iter().enumerate().filter(|(i, _)| i % 7 == 0).map(|(_, c)| c.clone()).collect();
    let mut attendees = Vec::new();
    for (n, c) in referred.iter().enumerate() {
        zone.ready_for_referral(c, &[&zone.partner_1, &zone.partner_2]).await;
        zone.refer(c, &p, ReferralStatus::Accepted).await;
        if n % 2 == 0 {
            zone.refer(c, &q, ReferralStatus::Sent).await;
        }
        attendees.push(json!({ "childId": c, "status": if n % 3 == 1 { "ABSENT" } else { "ATTENDED" },
            "engagement": if n % 3 == 1 { Value::Null } else { json!("PARTICIPATING") } }));
        let rel = children::NewRelationship {
            child_id: c.clone(),
            kind: RelationshipKind::Parent,
            name: "Pat Testchild".into(),
            involvement: Involvement::MainContact,
            parental_responsibility: true,
            phone: None,
            notes: None,
        };
        children::add_relationship(db, &system, rel).await.expect("relationship");
        let note = casework::NewNote {
            child_id: c.clone(),
            referral_id: None,
            body: format!("Settling in well ({n})"),
            visibility: NoteVisibility::SharedWithLinkWorker,
        };
        casework::add_note(db, &system, note).await.expect("note");
    }
    let session = zone
        .as_(
            &zone.partner_worker,
            "mutation($i: LogSessionInput!) { logSession(input: $i) { id } }",
            json!({ "i": { "programmeId": p, "heldOn": "2026-10-06", "durationMinutes": 60, "kind": "GROUP", "attendees": attendees } }),
        )
        .await;
    assert_ok(&session);
    for c in [&caseload[0], &caseload[3], &caseload[50]] {
        let contact = zone
            .as_(
                &zone.link_worker,
                "mutation($c: ID!) { logContact(input: {childId: $c, heldOn: \"2026-10-07\", minutes: 15, kind: INFORMAL, withWhom: [CHILD], content: \"Chat at the gate\"}) { id } }",
                json!({ "c": c }),
            )
            .await;
        assert_ok(&contact);
    }

    (zone, counter, caseload, referred.len())
}

/// The caseload query as the link worker for 10 and for 100 children, checking the answers:
/// returns the statements each request ran and the audit events each appended.
async fn measure(zone: &Zone, counter: &AtomicU64, caseload: &[String], referred: usize, query: &str) -> [u64; 4] {
    // Warm up once (first use of the pool's connections), then count.
    assert_ok(&zone.as_(&zone.link_worker, query, json!({ "first": 1 })).await);
    let audit_before_10 = audit_count(zone).await;
    let (ten, at_10) = counted(zone, counter, &zone.link_worker, query, json!({ "first": 10 })).await;
    let audit_10 = audit_count(zone).await - audit_before_10;
    let (hundred, at_100) = counted(zone, counter, &zone.link_worker, query, json!({ "first": 100 })).await;
    let audit_100 = audit_count(zone).await - audit_before_10 - audit_10;
    assert_ok(&ten);
    assert_ok(&hundred);

    let edges = |b: &Value| b["data"]["caseload"]["edges"].as_array().cloned().unwrap_or_default();
    let (ten, hundred) = (edges(&ten), edges(&hundred));
    assert_eq!((ten.len(), hundred.len()), (10, 100));
    let ids: Vec<&str> = hundred.iter().map(|e| e["node"]["id"].as_str().unwrap_or_default()).collect();
    assert_eq!(ids, caseload.iter().map(String::as_str).collect::<Vec<_>>(), "oldest record first");
    assert_eq!(ten[..], hundred[..10], "the first page is the start of the longer one");
    if query == CASELOAD {
        // The answers are what they should be, nested lists included.
        let with =
            |key: &str| hundred.iter().filter(|e| e["node"][key].as_array().is_some_and(|l| !l.is_empty())).count();
        assert_eq!(with("relationships"), referred);
        assert_eq!(with("consents"), referred);
        assert_eq!(with("progressNotes"), referred);
        assert_eq!(with("handovers"), 100);
        let referrals: usize =
            hundred.iter().map(|e| e["node"]["supportPackage"]["referrals"].as_array().map_or(0, Vec::len)).sum();
        assert_eq!(referrals, referred + referred.div_ceil(2));
        let first = &hundred[0]["node"];
        assert_eq!(first["enrolment"]["status"], "ENROLLED");
        assert_eq!(first["enrolment"]["linkWorker"]["id"], zone.link_worker.id.as_str());
        assert_eq!(
            first["enrolment"]["history"],
            json!([{"to": "IDENTIFIED"}, {"to": "CONSENTED"}, {"to": "ENROLLED"}])
        );
        assert_eq!(first["supportPackage"]["open"], 2);
        assert_eq!(first["supportPackage"]["referrals"][0]["status"], "ACTIVE");
        assert_eq!(first["supportPackage"]["referrals"][0]["programme"]["name"], "Mentoring");
        assert_eq!(first["supportPackage"]["referrals"][0]["engagement"]["sessionsOffered"], 1);
        assert_eq!(first["supportPackage"]["referrals"][1]["partner"]["name"], "Test Sports");
        assert_eq!(first["consents"][0]["partners"].as_array().map(Vec::len), Some(2));
        assert_eq!(first["engagement"]["contacts"], 1);
        assert_eq!(hundred[50]["node"]["engagement"]["contacts"], 1);
    }
    assert!(at_10 > 0, "the counter counts");
    [at_10, at_100, audit_10, audit_100]
}

/// No nested field costs a statement per child: the rich selection runs as many
/// statements for 100 children as for 10 (and so does a selection of ids alone), while the
/// audit trail still records one event per child read (appended in one batch).
#[tokio::test]
async fn a_caseload_of_100_costs_as_many_statements_as_a_caseload_of_10() {
    let (zone, counter, caseload, referred) = a_caseload_of_100().await;
    // A loader batch waits 1 ms for its keys; on a machine starved of CPU (the whole suite
    // at once) a sibling's keys can come after it and make a second batch. Up to three
    // tries: a count that grows with the caseload grows every time.
    let mut tries = 0;
    let [rich_10, rich_100, audit_10, audit_100] = loop {
        let m = measure(&zone, &counter, &caseload, referred, CASELOAD).await;
        tries += 1;
        if m[0] == m[1] || tries == 3 {
            break m;
        }
    };
    assert_eq!(
        rich_10, rich_100,
        "statements for a caseload of 10: {rich_10}, of 100: {rich_100} (audit events appended: {audit_10} and {audit_100})"
    );
    assert_eq!((audit_10, audit_100), (10, 100), "one audit event per child read");
    if zone.app.db.get_database_backend() == sea_orm::DbBackend::Postgres {
        // Who is calling (1), the children (1), each level's batches bundled into one
        // statement (3), the break-glass check and the audit events (2): the round trips
        // PostgreSQL costs. (SQLite, in-process, runs each batch alone.)
        assert!(rich_100 <= 8, "a caseload of 100 with the rich selection in at most 8 statements, not {rich_100}");
    }
    let bare = "query($first: Int!) { caseload(first: $first) { edges { node { id } } } }";
    let [bare_10, bare_100, ..] = measure(&zone, &counter, &caseload, referred, bare).await;
    assert_eq!(bare_10, bare_100, "ids only: {bare_10} for 10, {bare_100} for 100");
    assert!(rich_10 > bare_10, "the nested fields are loaded: {rich_10} vs {bare_10}");
}

/// 0 → "a", 25 → "z", 26 → "ba": a name-safe suffix (names may not contain digits).
fn alpha(mut i: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'a' + (i % 26) as u8);
        i /= 26;
        if i == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// Who is calling — token, account, membership, organisation — is read in one statement
/// per request, and nothing of it is kept between requests: a token revoked a moment ago
/// is refused on the next one, in one statement too.
#[tokio::test]
async fn who_is_calling_is_resolved_in_one_statement_and_never_cached() {
    let counter = Arc::new(AtomicU64::new(0));
    let options = StartOptions { statement_counter: Some(counter.clone()), ..Default::default() };
    // The audit sequencer's statements are not the request's (nothing here reads the chain).
    let zone = Zone::from_app(TestApp::spawn_with(|s| s.audit.chain_millis = 0, options).await).await;
    let (db, counter) = (&zone.app.db, &counter);
    let resolve = |token: String| async move {
        let before = counter.load(Ordering::SeqCst);
        let actor = backbone::auth::authenticate(db, &token, false, None).await;
        (actor, counter.load(Ordering::SeqCst) - before)
    };
    for who in [&zone.link_worker, &zone.partner_lead, &zone.funder] {
        let (actor, statements) = resolve(who.token.clone()).await;
        let actor = actor.expect("a token in force");
        assert_eq!((actor.user_id.as_str(), statements), (who.id.as_str(), 1));
    }
    let (actor, _) = resolve(zone.link_worker.token.clone()).await;
    assert_eq!(actor.expect("in force").role, backbone::domain::Role::LinkWorker);

    assert_ok(&zone.as_(&zone.link_worker, "mutation { logout }", json!({})).await);
    let (refused, statements) = resolve(zone.link_worker.token.clone()).await;
    assert!(matches!(refused, Err(backbone::error::Error::Unauthenticated(_))), "{refused:?}");
    assert_eq!(statements, 1);
    let (unknown, _) = resolve(format!("bb_{}", "0".repeat(64))).await;
    assert!(matches!(unknown, Err(backbone::error::Error::Unauthenticated(_))), "{unknown:?}");
}
