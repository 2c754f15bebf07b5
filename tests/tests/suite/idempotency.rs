//! An answer never contradicts the database, and a retry changes nothing: mutations answer
//! from what their own transaction wrote (a storage fault injected between the commit and
//! the answer does not turn a saved change into an error), and writes sent with an
//! `Idempotency-Key` are recorded with their key in the same transaction, so a retry
//! replays the first answer (or says the change was already made).

use backbone::startup::{Application, CommitFault, StartOptions};
use backbone::store::{audit_event, child, idempotency_key};
use backbone_tests::*;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use std::sync::Arc;

/// Identifies a child; the same request twice is the same child, so says it is another
/// (`confirmNotDuplicate`), for a second change with the same details to be one.
const IDENTIFY: &str = "mutation($f: String!) { identifyChild(input: {firstName: $f, lastName: \"Retry\", \
     dateOfBirth: \"2018-11-20\", yearGroup: 3, confirmNotDuplicate: true}) { id firstName enrolment { status } } }";

/// The same, also selecting a non-null nested field (`anchor`).
const IDENTIFY_WITH_ANCHOR: &str = "mutation($f: String!) { identifyChild(input: {firstName: $f, lastName: \
     \"Retry\", dateOfBirth: \"2018-11-20\", yearGroup: 3, confirmNotDuplicate: true}) { id anchor { id } } }";

/// An answer: HTTP status, whether it was replayed, the body.
struct Answer {
    replayed: bool,
    body: Value,
}

async fn post(address: std::net::SocketAddr, token: &str, query: &str, variables: Value, key: Option<&str>) -> Answer {
    let mut req = reqwest::Client::new()
        .post(format!("http://{address}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    let resp = req.send().await.expect("sent");
    let replayed = resp.headers().get("idempotent-replayed").is_some();
    Answer { replayed, body: resp.json().await.expect("JSON body") }
}

async fn children_named(db: &DatabaseConnection, first: &str) -> Vec<String> {
    child::Entity::find()
        .filter(child::Column::FirstName.eq(first))
        .all(db)
        .await
        .expect("children")
        .into_iter()
        .map(|c| c.id)
        .collect()
}

/// Another service on the same database (the first one's storage "went away"): what a
/// restart after a storage fault gives.
struct Restarted {
    address: std::net::SocketAddr,
    db: DatabaseConnection,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn restart(zone: &Zone) -> Restarted {
    let app = Application::build(zone.app.settings.clone(), StartOptions::default()).await.expect("builds");
    let (address, db) = (app.address(), app.db().clone());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    Restarted { address, db, _stop: stop }
}

async fn zone_with_fault() -> (Zone, Arc<CommitFault>) {
    let fault = Arc::new(CommitFault::default());
    let options = StartOptions { commit_fault: Some(fault.clone()), ..StartOptions::default() };
    (Zone::from_app(TestApp::spawn_with(|_| {}, options).await).await, fault)
}

fn codes(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|es| es.iter().filter_map(|e| e["extensions"]["code"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_child_saved_before_a_storage_fault_is_answered_with_their_id_not_an_error() {
    let (zone, fault) = zone_with_fault().await;
    fault.arm();
    let answer = post(zone.app.address, &zone.link_worker.token, IDENTIFY, json!({"f": "Ivy"}), None).await;
    assert!(fault.tripped(), "the fault happened after the commit");
    let body = answer.body;
    // The answer's read audit cannot be written either: no data leaves unaudited, and the
    // one error says the change was made and names the new child.
    assert_eq!(body["data"], Value::Null, "nothing returned unaudited: {body}");
    assert_eq!(codes(&body), vec!["CHANGE_SAVED"], "never INTERNAL for a saved change: {body}");
    let e = &body["errors"][0];
    assert!(e["message"].as_str().is_some_and(|m| m.contains("was saved")), "{body}");
    let id = e["extensions"]["childIds"][0].as_str().unwrap_or_else(|| panic!("an id: {body}")).to_owned();

    let after = restart(&zone).await;
    assert_eq!(children_named(&after.db, "Ivy").await, vec![id], "saved, once");
}

#[tokio::test]
async fn a_failed_non_null_field_after_the_commit_still_says_saved_with_the_childs_id() {
    let (zone, fault) = zone_with_fault().await;
    fault.arm();
    let body =
        post(zone.app.address, &zone.link_worker.token, IDENTIFY_WITH_ANCHOR, json!({"f": "Kit"}), None).await.body;
    assert!(fault.tripped());
    // `anchor` is non-null: its failure nulls the child, and (the field being non-null) the
    // whole `data`; the error still says the change was made, and names the child.
    assert_eq!(codes(&body), vec!["CHANGE_SAVED"], "{body}");
    let after = restart(&zone).await;
    let saved = children_named(&after.db, "Kit").await;
    assert_eq!(saved.len(), 1, "saved once");
    assert_eq!(body["errors"][0]["extensions"]["childIds"], json!(saved), "{body}");
}

#[tokio::test]
async fn every_child_answering_mutation_answers_from_its_own_transaction() {
    let zone = Zone::new().await;
    let exit = "mutation($c: ID!) { exitChild(childId: $c, reason: MOVED_AWAY) { id firstName enrolment { status } } }";
    let body = post(zone.app.address, &zone.link_worker.token, exit, json!({"c": zone.child_a1}), None).await.body;
    assert_ok(&body);
    assert_eq!(body["data"]["exitChild"]["id"], json!(zone.child_a1), "{body}");
    assert_eq!(body["data"]["exitChild"]["firstName"], "Ada", "{body}");
    assert_eq!(body["data"]["exitChild"]["enrolment"]["status"], "EXITED", "{body}");

    // With the database failing after the commit, the answer still never contradicts it.
    let (zone, fault) = zone_with_fault().await;
    fault.arm();
    let body = post(zone.app.address, &zone.link_worker.token, exit, json!({"c": zone.child_a1}), None).await.body;
    assert!(fault.tripped());
    assert_eq!(codes(&body), vec!["CHANGE_SAVED"], "{body}");
    assert_eq!(body["errors"][0]["extensions"]["childIds"], json!([zone.child_a1]), "{body}");
    let after = restart(&zone).await;
    let status = backbone::domain::enrolment::of_child(&after.db, &zone.child_a1).await.expect("enrolment").status;
    assert_eq!(status, "exited", "the change the answer reports is in the database");
}

#[tokio::test]
async fn a_retry_with_the_same_key_replays_the_first_answer_and_changes_nothing() {
    let zone = Zone::new().await;
    let (at, lw) = (zone.app.address, &zone.link_worker.token);
    let first = post(at, lw, IDENTIFY, json!({"f": "Ola"}), Some("key-1")).await;
    assert_ok(&first.body);
    assert!(!first.replayed);
    let again = post(at, lw, IDENTIFY, json!({"f": "Ola"}), Some("key-1")).await;
    assert!(again.replayed, "replayed");
    assert_eq!(again.body, first.body, "the first answer, exactly");
    assert_eq!(children_named(&zone.app.db, "Ola").await.len(), 1, "the retry created nothing");
    let child_id = first.body["data"]["identifyChild"]["id"].as_str().expect("id").to_owned();
    let events = audit_event::Entity::find()
        .filter(audit_event::Column::ChildId.eq(child_id.as_str()))
        .all(&zone.app.db)
        .await
        .expect("events");
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions.iter().filter(|a| **a == "child.identify").count(), 1, "{actions:?}");
    assert_eq!(actions.last(), Some(&"answer.replay"), "the replay is audited: {actions:?}");

    // A different key is a different change (allowance).
    let second = post(at, lw, IDENTIFY, json!({"f": "Ola"}), Some("key-2")).await;
    assert_ok(&second.body);
    assert_ne!(second.body["data"]["identifyChild"]["id"], first.body["data"]["identifyChild"]["id"]);
    assert_eq!(children_named(&zone.app.db, "Ola").await.len(), 2);

    // The same key with a different request is refused (denial), and changes nothing.
    let other = post(at, lw, IDENTIFY, json!({"f": "Pia"}), Some("key-1")).await;
    assert_refused(&other.body, "CONFLICT");
    assert!(children_named(&zone.app.db, "Pia").await.is_empty());

    // Keys are per user: another user's same key is theirs.
    let lead = post(at, &zone.anchor_lead.token, IDENTIFY, json!({"f": "Ola"}), Some("key-1")).await;
    assert_ok(&lead.body);
    assert!(!lead.replayed);
    assert_eq!(children_named(&zone.app.db, "Ola").await.len(), 3);

    // Queries ignore the key.
    let me = post(at, lw, "{ me { id } }", json!({}), Some("key-1")).await;
    assert_ok(&me.body);
    assert!(!me.replayed);
    assert_eq!(me.body["data"]["me"]["id"], json!(zone.link_worker.id));
}

#[tokio::test]
async fn a_retry_after_the_answer_was_lost_says_the_change_was_already_made() {
    let (zone, fault) = zone_with_fault().await;
    fault.arm();
    let lost = post(zone.app.address, &zone.link_worker.token, IDENTIFY, json!({"f": "Uma"}), Some("lost-1")).await;
    assert!(fault.tripped());
    assert_eq!(codes(&lost.body), vec!["CHANGE_SAVED"], "{}", lost.body);
    let id = lost.body["errors"][0]["extensions"]["childIds"][0].clone();
    assert!(id.is_string(), "{}", lost.body);

    // The answer could not be stored (every statement fails); after a restart the key
    // is there, recorded with the change.
    let after = restart(&zone).await;
    let retry = post(after.address, &zone.link_worker.token, IDENTIFY, json!({"f": "Uma"}), Some("lost-1")).await;
    assert!(retry.replayed);
    assert_eq!(codes(&retry.body), vec!["ALREADY_DONE"], "{}", retry.body);
    assert_eq!(retry.body["errors"][0]["extensions"]["childIds"], json!([id]));
    assert!(retry.body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("already made")));
    assert_eq!(children_named(&after.db, "Uma").await.len(), 1, "the retry created nothing");

    let changed = post(after.address, &zone.link_worker.token, IDENTIFY, json!({"f": "Una"}), Some("lost-1")).await;
    assert_refused(&changed.body, "CONFLICT");
}

#[tokio::test]
async fn a_change_that_was_refused_records_no_key_and_expired_keys_are_forgotten() {
    let zone = Zone::new().await;
    let (at, lw) = (zone.app.address, &zone.link_worker.token);
    // Refused (a name of nothing): nothing committed, no key recorded; the corrected
    // request with the same key runs.
    let refused = post(at, lw, IDENTIFY, json!({"f": " "}), Some("key-r")).await;
    assert_eq!(codes(&refused.body), vec!["INVALID_INPUT"], "{}", refused.body);
    assert_eq!(idempotency_key::Entity::find().count(&zone.app.db).await.expect("count"), 0);
    let fixed = post(at, lw, IDENTIFY, json!({"f": "Rae"}), Some("key-r")).await;
    assert_ok(&fixed.body);
    assert!(!fixed.replayed);
    let row = idempotency_key::Entity::find().one(&zone.app.db).await.expect("row").expect("the key, recorded");
    assert_eq!(row.user_id, zone.link_worker.id);
    assert_eq!(row.child_ids, json!([fixed.body["data"]["identifyChild"]["id"]]).to_string());
    assert!(row.response.is_some(), "the answer is stored");
    assert!(row.expires_at > chrono::Utc::now() + chrono::Duration::hours(23), "kept 24 hours by default");

    // Once expired, the key is forgotten: the same request is a new change.
    idempotency_key::Entity::update_many()
        .col_expr(
            idempotency_key::Column::ExpiresAt,
            sea_orm::sea_query::Expr::value(chrono::Utc::now() - chrono::Duration::minutes(1)),
        )
        .exec(&zone.app.db)
        .await
        .expect("expire");
    let later = post(at, lw, IDENTIFY, json!({"f": "Rae"}), Some("key-r")).await;
    assert_ok(&later.body);
    assert!(!later.replayed);
    assert_eq!(children_named(&zone.app.db, "Rae").await.len(), 2);
}

#[tokio::test]
async fn a_malformed_key_is_refused_before_anything_runs() {
    let zone = Zone::new().await;
    let bad = post(zone.app.address, &zone.link_worker.token, IDENTIFY, json!({"f": "Zed"}), Some("has space")).await;
    assert_eq!(codes(&bad.body), vec!["BAD_REQUEST"], "{}", bad.body);
    assert!(bad.body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("Idempotency-Key")));
    assert!(children_named(&zone.app.db, "Zed").await.is_empty());
}

#[tokio::test]
async fn requests_racing_with_one_key_make_one_change() {
    let zone = Zone::new().await;
    let (at, lw) = (zone.app.address, zone.link_worker.token.clone());
    let racing = (0..4).map(|_| {
        let lw = lw.clone();
        tokio::spawn(async move { post(at, &lw, IDENTIFY, json!({"f": "Ria"}), Some("race-1")).await })
    });
    let answers = futures_util::future::join_all(racing).await;
    let saved = children_named(&zone.app.db, "Ria").await;
    assert_eq!(saved.len(), 1, "one change, however many raced");
    for answer in answers {
        let body = answer.expect("joined").body;
        match codes(&body).as_slice() {
            [] => assert_eq!(body["data"]["identifyChild"]["id"], json!(saved[0]), "{body}"),
            [code] => assert!(code == "CONFLICT" || code == "ALREADY_DONE", "{body}"),
            _ => panic!("one error at most: {body}"),
        }
    }
}
