//! The share log: each referral sent and each partner's read of a child's record, each
//! refusal to share and each stop when consent is withdrawn, with the lawful basis and
//! consent relied on; per child for those who hold the record, per organisation for the
//! backbone's admins.

use crate::schema_walk::rich_zone;
use backbone_tests::*;
use serde_json::{Value, json};

const LOG: &str = "query($c: ID, $o: ID, $after: String) { shareLog(childId: $c, organisationId: $o, first: 100, after: $after) { \
    edges { node { kind at organisationId organisationName person what lawfulBasis consent child { id } } } \
    pageInfo { hasNextPage endCursor } } }";

fn entries(body: &Value) -> Vec<Value> {
    assert_ok(body);
    body["data"]["shareLog"]["edges"].as_array().expect("edges").iter().map(|e| e["node"].clone()).collect()
}

#[tokio::test]
async fn a_childs_share_log_shows_what_went_where_and_on_what_basis_and_what_did_not() {
    let rich = rich_zone().await;
    let (zone, c) = (&rich.zone, rich.c.clone());
    // A referral to the second partner, whose consent was withdrawn: refused, and logged.
    let football = zone.programme(&zone.partner_2, "Swimming", 10).await;
    let propose = "mutation($c: ID!, $p: ID!) { proposeReferral(input: {childId: $c, programmeId: $p, needs: \"Likes water\"}) { id } }";
    let r = zone.as_(&zone.link_worker, propose, json!({ "c": c, "p": football })).await;
    assert_ok(&r);
    let send = "mutation($r: ID!) { sendReferral(referralId: $r) { id } }";
    let refused = zone.as_(&zone.link_worker, send, json!({ "r": r["data"]["proposeReferral"]["id"] })).await;
    assert_refused(&refused, "CONFLICT");
    // The partner reads the child.
    let read = "query($c: ID!) { child(id: $c) { firstName } }";
    assert_ok(&zone.as_(&zone.partner_worker, read, json!({ "c": c })).await);

    let log = entries(&zone.as_(&zone.link_worker, LOG, json!({ "c": c })).await);
    let of = |kind: &str| log.iter().filter(|e| e["kind"] == kind).collect::<Vec<_>>();
    let sent = of("SENT");
    assert_eq!(sent.len(), 1, "{log:?}");
    assert_eq!(sent[0]["organisationId"], json!(zone.partner_1));
    assert!(sent[0]["what"].as_str().expect("what").starts_with("a referral to Mentoring sent on "), "{log:?}");
    assert!(sent[0]["lawfulBasis"].as_str().expect("basis").contains("public task"), "{log:?}");
    assert!(
        sent[0]["consent"].as_str().expect("consent").starts_with("consent given 10 January 2025 by parent"),
        "{log:?}"
    );
    let reads = of("READ");
    assert!(reads.iter().all(|e| e["organisationId"] == json!(zone.partner_1)), "only partners' reads: {log:?}");
    assert!(reads.iter().any(|e| e["what"].as_str().is_some_and(|w| w.starts_with("read child"))), "{log:?}");
    let refusals = of("REFUSED");
    assert_eq!(refusals.len(), 1, "{log:?}");
    assert_eq!(refusals[0]["organisationId"], json!(zone.partner_2));
    assert!(refusals[0]["what"].as_str().expect("what").contains("a referral to Swimming"), "{log:?}");
    let stops = of("STOPPED");
    assert_eq!(stops.len(), 1, "{log:?}");
    assert!(stops[0]["what"].as_str().expect("what").contains("withdrawn on 1 March 2025"), "{log:?}");
    assert_eq!(stops[0]["organisationId"], json!(zone.partner_2));
    // Newest first.
    let times: Vec<&str> = log.iter().map(|e| e["at"].as_str().expect("at")).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");

    // Per organisation, for the backbone's admins: the partner's shares of every child.
    let org = entries(&zone.as_(&zone.admin, LOG, json!({ "o": zone.partner_2 })).await);
    assert!(org.iter().all(|e| e["organisationId"] == json!(zone.partner_2)), "{org:?}");
    assert!(org.iter().any(|e| e["kind"] == "REFUSED" && e["child"]["id"] == json!(c)), "{org:?}");
}

#[tokio::test]
async fn the_share_log_is_for_those_who_hold_the_record() {
    let rich = rich_zone().await;
    let (zone, c) = (&rich.zone, rich.c.clone());
    assert_ok(&zone.as_(&zone.anchor_lead, LOG, json!({ "c": c })).await);
    assert_ok(&zone.as_(&zone.admin, LOG, json!({ "c": c })).await);
    for who in [&zone.partner_worker, &zone.partner_lead, &zone.funder, &zone.analyst] {
        assert_refused(&zone.as_(who, LOG, json!({ "c": c })).await, "FORBIDDEN");
    }
    // Another link worker's child: not found, as for any child out of scope.
    assert_refused(&zone.as_(&zone.link_worker_2, LOG, json!({ "c": c })).await, "NOT_FOUND");
    // An organisation's log: backbone admins only.
    for who in [&zone.link_worker, &zone.anchor_lead, &zone.partner_lead] {
        assert_refused(&zone.as_(who, LOG, json!({ "o": zone.partner_1 })).await, "FORBIDDEN");
    }
    // Exactly one of the two ids.
    assert_refused(&zone.as_(&zone.admin, LOG, json!({})).await, "INVALID_INPUT");
    assert_refused(&zone.as_(&zone.admin, LOG, json!({ "c": c, "o": zone.partner_1 })).await, "INVALID_INPUT");
}

const REPORT: &str = "query($c: ID!) { familyReport(childId: $c) }";

#[tokio::test]
async fn the_family_report_says_who_holds_the_record_what_was_shared_and_who_looked() {
    let rich = rich_zone().await;
    let (zone, c) = (&rich.zone, rich.c.clone());
    assert_ok(
        &zone.as_(&zone.partner_worker, "query($c: ID!) { child(id: $c) { firstName } }", json!({ "c": c })).await,
    );
    let body = zone.as_(&zone.link_worker, REPORT, json!({ "c": c })).await;
    assert_ok(&body);
    let page = body["data"]["familyReport"].as_str().expect("html");
    assert!(page.starts_with("<!DOCTYPE html>") && page.contains("Who knows about Dee, and why"), "{page}");
    // The anchor holds it; the partner the consent in force covers may be told.
    assert!(page.contains("<strong>Test Primary</strong>: identified Dee"), "{page}");
    assert!(page.contains("<strong>Test Mentoring</strong>: may be told what they need"), "{page}");
    // The referral sent, with its basis; the stop when the second consent was withdrawn.
    assert!(page.contains("a referral to Mentoring sent on") && page.contains("public task"), "{page}");
    assert!(page.contains("Sharing stopped") && page.contains("withdrawn on 1 March 2025"), "{page}");
    // Who looked: the partner's worker among them, by organisation and role.
    assert!(page.contains("Test Mentoring</td><td>partner worker</td>"), "{page}");
    assert!(page.contains("Your rights"), "{page}");
    // For those who hold the record only.
    for who in [&zone.partner_worker, &zone.funder, &zone.analyst] {
        assert_refused(&zone.as_(who, REPORT, json!({ "c": c })).await, "FORBIDDEN");
    }
    assert_refused(&zone.as_(&zone.link_worker_2, REPORT, json!({ "c": c })).await, "NOT_FOUND");
    assert_ok(&zone.as_(&zone.admin, REPORT, json!({ "c": c })).await);
}
