//! The access policy (`backbone/src/access.rs`) as a matrix, one test per rule; every
//! rule is shown both allowing and refusing, over the real HTTP API.
//!
//! Tests → rules:
//!
//! - `children_lists_are_exact_for_every_role`: the row scope; `children(first: 100)` per
//!   role is exactly the expected set of ids, and each link worker's caseload is their child.
//! - `existence_does_not_leak`: a child out of scope answers, read or written, exactly (code,
//!   message, shape) as an id that names no child.
//! - `link_worker_sees_and_writes_only_their_caseload`: link worker; own caseload in full,
//!   Write there only, no Manage (`assignLinkWorker`, others' caseloads `FORBIDDEN`).
//! - `anchor_lead_manages_their_own_anchor_only`: anchor lead; every child of their anchor,
//!   Manage within it (`INVALID_INPUT` on `linkWorkerId` across anchors), identify at their
//!   own anchor only, no `createOrganisation`.
//! - `access_follows_the_caseload_on_the_next_request`: reassignment moves access at once.
//! - `partners_see_and_write_no_child`: partner worker and lead; no child, no write.
//! - `funder_never_sees_a_child`: funder; no child, no write, no identify, no caseload.
//! - `analyst_sees_every_child_pseudonymised_and_writes_nothing`: backbone analyst; every
//!   child with personal fields (and adults' names) null, Read only.
//! - `admin_sees_everything_in_full_and_writes_anywhere`: backbone admin; every child in
//!   full, Manage everywhere (handover across anchors too), `createOrganisation`.
//! - `nested_reads_respect_the_row_scope`: batched nested reads (relationships, enrolment,
//!   consents) never reach past the row scope.

use backbone_tests::*;
use serde_json::{Value, json};
use std::collections::BTreeSet;

const CHILD: &str = "query($id: ID!) { child(id: $id) { id firstName anchor { id } } }";
const CHILDREN: &str = "{ children(first: 100) { edges { node { id firstName } } } }";
const CASELOAD: &str = "query($w: ID) { caseload(linkWorkerId: $w, first: 100) { edges { node { id } } } }";
const ADD_RELATIONSHIP: &str = "mutation($c: ID!, $n: String!) { addRelationship(input: {childId: $c, kind: PARENT, \
     name: $n, involvement: MAIN_CONTACT, parentalResponsibility: true}) { id name } }";
const ASSIGN: &str = "mutation($c: ID!, $w: ID!) { assignLinkWorker(childId: $c, linkWorkerId: $w) { id enrolment { linkWorker { id } } } }";
const IDENTIFY: &str = "mutation($a: ID, $f: String!) { identifyChild(input: {firstName: $f, lastName: \"Child\", \
     dateOfBirth: \"2019-01-15\", yearGroup: 3, anchorId: $a}) { id anchor { id } enrolment { linkWorker { id } } } }";
const CREATE_ORGANISATION: &str =
    "mutation { createOrganisation(input: {name: \"Another Charity\", kind: PARTNER}) { id } }";
const RECORD_CONSENT: &str = "mutation($c: ID!, $p: ID!) { recordConsent(input: {childId: $c, givenBy: PARENT, \
     givenByName: \"Pat Example\", givenOn: \"2025-01-10\", purposes: [REFERRAL], partnerIds: [$p], \
     evidence: \"Signed form\"}) { id } }";

// ---- operations -------------------------------------------------------------------

async fn read_child(zone: &Zone, who: &Account, id: &str) -> Value {
    zone.as_(who, CHILD, json!({ "id": id })).await
}

async fn list_children(zone: &Zone, who: &Account) -> Value {
    zone.as_(who, CHILDREN, json!({})).await
}

async fn caseload(zone: &Zone, who: &Account, worker: Option<&str>) -> Value {
    zone.as_(who, CASELOAD, json!({ "w": worker })).await
}

async fn add_relationship(zone: &Zone, who: &Account, child: &str, name: &str) -> Value {
    zone.as_(who, ADD_RELATIONSHIP, json!({ "c": child, "n": name })).await
}

async fn assign(zone: &Zone, who: &Account, child: &str, worker: &str) -> Value {
    zone.as_(who, ASSIGN, json!({ "c": child, "w": worker })).await
}

/// Identifies a new child, each time another (a first name of its own: the same child twice
/// would be refused as a duplicate).
async fn identify(zone: &Zone, who: &Account, anchor: Option<&str>) -> Value {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let mut n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut first = String::from("New");
    loop {
        first.push(char::from(b'a' + (n % 26) as u8));
        n /= 26;
        if n == 0 {
            break;
        }
    }
    zone.as_(who, IDENTIFY, json!({ "a": anchor, "f": first })).await
}

/// The link worker on a child's record and its relationships' names, as the admin sees them
/// (to prove that a refused write changed nothing).
async fn record_of(zone: &Zone, child: &str) -> (Value, Vec<String>) {
    let q = "query($id: ID!) { child(id: $id) { enrolment { linkWorker { id } } relationships { name } } }";
    let body = zone.as_(&zone.admin, q, json!({ "id": child })).await;
    assert_ok(&body);
    let names = body["data"]["child"]["relationships"]
        .as_array()
        .map(|rs| rs.iter().filter_map(|r| r["name"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    (body["data"]["child"]["enrolment"]["linkWorker"]["id"].clone(), names)
}

// ---- assertions -------------------------------------------------------------------

/// The ids in a connection (`children` or `caseload`), asserting there was no error.
fn ids_of(body: &Value, field: &str) -> BTreeSet<String> {
    assert_ok(body);
    let edges = body["data"][field]["edges"].as_array().unwrap_or_else(|| panic!("no {field} edges in {body}"));
    edges.iter().map(|e| e["node"]["id"].as_str().expect("node id").to_owned()).collect()
}

fn set(ids: &[&String]) -> BTreeSet<String> {
    ids.iter().map(|s| (*s).clone()).collect()
}

async fn visible(zone: &Zone, who: &Account) -> BTreeSet<String> {
    ids_of(&list_children(zone, who).await, "children")
}

/// `child(id)` answered with that child.
fn assert_reads(body: &Value, id: &str) {
    assert_ok(body);
    assert_eq!(body["data"]["child"]["id"], id, "{body}");
}

// ---- the matrix -------------------------------------------------------------------

#[tokio::test]
async fn children_lists_are_exact_for_every_role() {
    let zone = Zone::new().await;
    let (a1, a2, b1) = (&zone.child_a1, &zone.child_a2, &zone.child_b1);
    let expected: [(&str, &Account, BTreeSet<String>); 10] = [
        ("link_worker", &zone.link_worker, set(&[a1])),
        ("link_worker_2", &zone.link_worker_2, set(&[a2])),
        ("link_worker_b", &zone.link_worker_b, set(&[b1])),
        ("anchor_lead", &zone.anchor_lead, set(&[a1, a2])),
        ("anchor_lead_b", &zone.anchor_lead_b, set(&[b1])),
        ("partner_worker", &zone.partner_worker, set(&[])),
        ("partner_lead", &zone.partner_lead, set(&[])),
        ("funder", &zone.funder, set(&[])),
        ("analyst", &zone.analyst, set(&[a1, a2, b1])),
        ("admin", &zone.admin, set(&[a1, a2, b1])),
    ];
    for (name, who, want) in expected {
        assert_eq!(visible(&zone, who).await, want, "children as {name}");
    }
    // Each link worker's own caseload is exactly their child.
    for (who, child) in [(&zone.link_worker, a1), (&zone.link_worker_2, a2), (&zone.link_worker_b, b1)] {
        assert_eq!(ids_of(&caseload(&zone, who, None).await, "caseload"), set(&[child]), "{}", who.email);
    }
}

#[tokio::test]
async fn existence_does_not_leak() {
    let zone = Zone::new().await;
    let (a1, a2, b1) = (&zone.child_a1, &zone.child_a2, &zone.child_b1);
    let hidden: [(&Account, &String); 7] = [
        (&zone.link_worker, a2),
        (&zone.link_worker, b1),
        (&zone.anchor_lead, b1),
        (&zone.anchor_lead_b, a1),
        (&zone.partner_worker, a1),
        (&zone.partner_lead, a2),
        (&zone.funder, b1),
    ];
    for (who, child) in hidden {
        // Read: the same answer, message included, as for an id that names no child.
        let out_of_scope = read_child(&zone, who, child).await;
        let nonexistent = read_child(&zone, who, &missing_id()).await;
        assert_not_found(&out_of_scope);
        assert_not_found(&nonexistent);
        assert!(out_of_scope["errors"][0]["message"].is_string(), "{out_of_scope}");
        assert_eq!(error_shape(&out_of_scope), error_shape(&nonexistent), "read as {}", who.email);

        // Write: likewise (the scope is checked before the right, so no role learns more).
        let out_of_scope = add_relationship(&zone, who, child, "Pat Example").await;
        let nonexistent = add_relationship(&zone, who, &missing_id(), "Pat Example").await;
        assert_not_found(&out_of_scope);
        assert_eq!(error_shape(&out_of_scope), error_shape(&nonexistent), "write as {}", who.email);
    }
    // The child does exist: someone in scope reads it.
    assert_reads(&read_child(&zone, &zone.link_worker_2, a2).await, a2);
}

#[tokio::test]
async fn link_worker_sees_and_writes_only_their_caseload() {
    let zone = Zone::new().await;
    let me = &zone.link_worker;
    let (a1, a2, b1) = (&zone.child_a1, &zone.child_a2, &zone.child_b1);

    // Reads: their own child, in full; not a colleague's, not another anchor's.
    let own = read_child(&zone, me, a1).await;
    assert_reads(&own, a1);
    assert_eq!(own["data"]["child"]["firstName"], "Ada");
    assert_not_found(&read_child(&zone, me, a2).await);
    assert_not_found(&read_child(&zone, me, b1).await);
    let listed = visible(&zone, me).await;
    assert!(listed.contains(a1) && !listed.contains(a2) && !listed.contains(b1), "{listed:?}");

    // Caseloads: their own (by default or by name), not a colleague's, not another anchor's.
    assert_eq!(ids_of(&caseload(&zone, me, None).await, "caseload"), set(&[a1]));
    assert_eq!(ids_of(&caseload(&zone, me, Some(&me.id)).await, "caseload"), set(&[a1]));
    assert_forbidden(&caseload(&zone, me, Some(&zone.link_worker_2.id)).await);
    assert_forbidden(&caseload(&zone, me, Some(&zone.link_worker_b.id)).await);

    // Writes: to their own child only.
    let added = add_relationship(&zone, me, a1, "Pat Example").await;
    assert_ok(&added);
    assert_eq!(added["data"]["addRelationship"]["name"], "Pat Example");
    assert_eq!(record_of(&zone, a1).await.1, vec!["Pat Example".to_owned()]);
    assert_not_found(&add_relationship(&zone, me, a2, "Sneaky Entry").await);
    assert_not_found(&add_relationship(&zone, me, b1, "Sneaky Entry").await);
    assert!(record_of(&zone, a2).await.1.is_empty(), "a refused write was recorded");
    assert!(record_of(&zone, b1).await.1.is_empty(), "a refused write was recorded");

    // Managing caseloads is not theirs, even for their own child.
    assert_forbidden(&assign(&zone, me, a1, &me.id).await);
    assert_forbidden(&assign(&zone, me, a1, &zone.link_worker_2.id).await);
    assert_eq!(record_of(&zone, a1).await.0, json!(me.id), "a refused assignment moved the child");

    // Identifying: at their own anchor (onto their own caseload), not at another.
    let new = identify(&zone, me, None).await;
    assert_ok(&new);
    assert_eq!(new["data"]["identifyChild"]["anchor"]["id"], json!(zone.anchor_a));
    assert_eq!(new["data"]["identifyChild"]["enrolment"]["linkWorker"]["id"], json!(me.id));
    assert_forbidden(&identify(&zone, me, Some(&zone.anchor_b)).await);
}

#[tokio::test]
async fn anchor_lead_manages_their_own_anchor_only() {
    let zone = Zone::new().await;
    let me = &zone.anchor_lead;
    let (a1, a2, b1) = (&zone.child_a1, &zone.child_a2, &zone.child_b1);

    // Reads: every child of anchor A, in full; none of anchor B.
    for (child, name) in [(a1, "Ada"), (a2, "Bea")] {
        let body = read_child(&zone, me, child).await;
        assert_reads(&body, child);
        assert_eq!(body["data"]["child"]["firstName"], name);
    }
    assert_not_found(&read_child(&zone, me, b1).await);
    assert_eq!(visible(&zone, me).await, set(&[a1, a2]));

    // Caseloads of their anchor's link workers, not another anchor's.
    assert_eq!(ids_of(&caseload(&zone, me, Some(&zone.link_worker_2.id)).await, "caseload"), set(&[a2]));
    assert_forbidden(&caseload(&zone, me, Some(&zone.link_worker_b.id)).await);

    // Assigning: within their anchor only.
    let moved = assign(&zone, me, a1, &zone.link_worker_2.id).await;
    assert_ok(&moved);
    assert_eq!(moved["data"]["assignLinkWorker"]["enrolment"]["linkWorker"]["id"], json!(zone.link_worker_2.id));
    let across = assign(&zone, me, a2, &zone.link_worker_b.id).await;
    assert_refused(&across, "INVALID_INPUT");
    assert_eq!(error_field(&across), Some("linkWorkerId"), "{across}");
    assert_eq!(record_of(&zone, a2).await.0, json!(zone.link_worker_2.id), "a refused assignment moved the child");
    // A child of another anchor is not theirs to touch (nor to know of).
    assert_not_found(&assign(&zone, me, b1, &zone.link_worker.id).await);
    assert_eq!(record_of(&zone, b1).await.0, json!(zone.link_worker_b.id));

    // Writing to their anchor's children: allowed.
    assert_ok(&add_relationship(&zone, me, a2, "Pat Example").await);
    assert_not_found(&add_relationship(&zone, me, b1, "Pat Example").await);

    // Identifying: at their own anchor (by default), not at another.
    let new = identify(&zone, me, Some(&zone.anchor_a)).await;
    assert_ok(&new);
    assert_eq!(new["data"]["identifyChild"]["anchor"]["id"], json!(zone.anchor_a));
    assert_ok(&identify(&zone, me, None).await);
    assert_forbidden(&identify(&zone, me, Some(&zone.anchor_b)).await);

    // Organisations are the backbone's to create.
    assert_forbidden(&zone.as_(me, CREATE_ORGANISATION, json!({})).await);
}

#[tokio::test]
async fn access_follows_the_caseload_on_the_next_request() {
    let zone = Zone::new().await;
    let (lw, lw2) = (&zone.link_worker, &zone.link_worker_2);
    let (a1, a2) = (&zone.child_a1, &zone.child_a2);

    assert_not_found(&read_child(&zone, lw, a2).await);
    assert_reads(&read_child(&zone, lw2, a2).await, a2);

    let moved = assign(&zone, &zone.anchor_lead, a2, &lw.id).await;
    assert_ok(&moved);
    assert_eq!(moved["data"]["assignLinkWorker"]["enrolment"]["linkWorker"]["id"], json!(lw.id));

    // Same tokens, very next requests: the new worker has the child, the old one does not.
    assert_reads(&read_child(&zone, lw, a2).await, a2);
    assert_eq!(visible(&zone, lw).await, set(&[a1, a2]));
    assert_eq!(ids_of(&caseload(&zone, lw, None).await, "caseload"), set(&[a1, a2]));
    assert_ok(&add_relationship(&zone, lw, a2, "Pat Example").await);

    assert_not_found(&read_child(&zone, lw2, a2).await);
    assert_eq!(visible(&zone, lw2).await, set(&[]));
    assert_eq!(ids_of(&caseload(&zone, lw2, None).await, "caseload"), set(&[]));
    assert_not_found(&add_relationship(&zone, lw2, a2, "Pat Example").await);
}

#[tokio::test]
async fn partners_see_and_write_no_child() {
    let zone = Zone::new().await;
    let children = [&zone.child_a1, &zone.child_a2, &zone.child_b1];
    for who in [&zone.partner_worker, &zone.partner_lead] {
        // Signed in and answered: they may list the partnership's organisations.
        let orgs = zone.as_(who, "{ organisations(kind: PARTNER) { edges { node { id } } } }", json!({})).await;
        assert_eq!(ids_of(&orgs, "organisations"), set(&[&zone.partner_1, &zone.partner_2]), "{}", who.email);

        for child in children {
            assert_not_found(&read_child(&zone, who, child).await);
        }
        let list = list_children(&zone, who).await;
        assert_ok(&list);
        assert_eq!(list["data"]["children"]["edges"], json!([]), "{}", who.email);

        assert_not_found(&add_relationship(&zone, who, &zone.child_a1, "Pat Example").await);
        assert_forbidden(&identify(&zone, who, Some(&zone.anchor_a)).await);
        // Without an anchor too: the right comes before the input (as docs/api.md says).
        assert_forbidden(&identify(&zone, who, None).await);
        assert_forbidden(&caseload(&zone, who, Some(&zone.link_worker.id)).await);
    }
    assert!(record_of(&zone, &zone.child_a1).await.1.is_empty(), "a refused write was recorded");
    assert_eq!(visible(&zone, &zone.admin).await.len(), 3, "a refused identification was recorded");
}

#[tokio::test]
async fn funder_never_sees_a_child() {
    let zone = Zone::new().await;
    let me = &zone.funder;
    let who = zone.as_(me, "{ me { role } }", json!({})).await;
    assert_eq!(who["data"]["me"]["role"], "FUNDER", "{who}");

    for child in [&zone.child_a1, &zone.child_a2, &zone.child_b1] {
        assert_not_found(&read_child(&zone, me, child).await);
    }
    let list = list_children(&zone, me).await;
    assert_ok(&list);
    assert_eq!(list["data"]["children"]["edges"], json!([]));

    assert_not_found(&add_relationship(&zone, me, &zone.child_a1, "Pat Example").await);
    assert_forbidden(&identify(&zone, me, Some(&zone.anchor_a)).await);
    assert_forbidden(&caseload(&zone, me, None).await);
    assert_forbidden(&caseload(&zone, me, Some(&zone.link_worker.id)).await);
    // Out of scope before out of right: assigning a child the funder cannot see is NOT_FOUND.
    assert_not_found(&assign(&zone, me, &zone.child_a1, &zone.link_worker.id).await);
    assert!(record_of(&zone, &zone.child_a1).await.1.is_empty(), "a refused write was recorded");
}

#[tokio::test]
async fn analyst_sees_every_child_pseudonymised_and_writes_nothing() {
    let zone = Zone::new().await;
    let me = &zone.analyst;
    // A child with every personal field recorded, and an adult around each fixture child.
    let full = "mutation($a: ID) { identifyChild(input: {firstName: \"Dee\", lastName: \"Fullrecord\", \
        dateOfBirth: \"2018-01-15\", yearGroup: 4, anchorId: $a, upn: \"A123456789012\", \
        contactPhone: \"07700 900002\", contactEmail: \"family@example.org\", postcode: \"ZZ9 9ZZ\", \
        characteristics: {eal: true}}) { id upn contactEmail } }";
    let dee = zone.as_(&zone.admin, full, json!({ "a": zone.anchor_b })).await;
    assert_ok(&dee);
    assert_eq!(dee["data"]["identifyChild"]["upn"], "A123456789012", "the admin sees the UPN");
    let dee = dee["data"]["identifyChild"]["id"].as_str().expect("id").to_owned();
    for child in [&zone.child_a1, &zone.child_a2, &zone.child_b1, &dee] {
        assert_ok(&add_relationship(&zone, &zone.admin, child, "Pat Example").await);
    }

    let q = "query($id: ID!) { child(id: $id) { id firstName lastName dateOfBirth upn contactPhone contactEmail \
        postcode age yearGroup characteristics { freeSchoolMeals eal } relationships { kind name phone } } }";
    for child in [&zone.child_a1, &zone.child_a2, &zone.child_b1, &dee] {
        let body = zone.as_(me, q, json!({ "id": child })).await;
        assert_reads(&body, child);
        let c = &body["data"]["child"];
        for personal in ["firstName", "lastName", "dateOfBirth", "upn", "contactPhone", "contactEmail", "postcode"] {
            assert!(c[personal].is_null(), "{personal} shown to an analyst: {body}");
        }
        assert!(c["age"].is_i64() && c["yearGroup"].is_i64(), "{body}");
        assert!(c["characteristics"]["freeSchoolMeals"].is_boolean(), "{body}");
        assert_eq!(c["relationships"][0]["kind"], "PARENT", "{body}");
        assert!(c["relationships"][0]["name"].is_null(), "an adult's name shown to an analyst: {body}");
        // The same fields are there for someone with the full view.
        let admin = zone.as_(&zone.admin, q, json!({ "id": child })).await;
        assert!(admin["data"]["child"]["firstName"].is_string(), "{admin}");
        assert_eq!(admin["data"]["child"]["relationships"][0]["name"], "Pat Example", "{admin}");
    }
    let dee_body = zone.as_(me, q, json!({ "id": dee })).await;
    assert_eq!(dee_body["data"]["child"]["yearGroup"], 4);
    assert_eq!(dee_body["data"]["child"]["characteristics"]["eal"], true);

    // Every child, pseudonymised in lists too.
    let list = list_children(&zone, me).await;
    assert_eq!(ids_of(&list, "children"), set(&[&zone.child_a1, &zone.child_a2, &zone.child_b1, &dee]));
    for edge in list["data"]["children"]["edges"].as_array().expect("edges") {
        assert!(edge["node"]["firstName"].is_null(), "{list}");
    }

    // Read only.
    assert_forbidden(&add_relationship(&zone, me, &zone.child_a1, "Analyst Entry").await);
    assert_forbidden(&identify(&zone, me, Some(&zone.anchor_a)).await);
    assert_forbidden(&identify(&zone, me, None).await);
    assert_forbidden(&assign(&zone, me, &zone.child_a1, &zone.link_worker_2.id).await);
    assert_forbidden(&zone.as_(me, CREATE_ORGANISATION, json!({})).await);
    let (worker, names) = record_of(&zone, &zone.child_a1).await;
    assert_eq!(names, vec!["Pat Example".to_owned()], "a refused write was recorded");
    assert_eq!(worker, json!(zone.link_worker.id), "a refused assignment moved the child");
}

#[tokio::test]
async fn admin_sees_everything_in_full_and_writes_anywhere() {
    let zone = Zone::new().await;
    let me = &zone.admin;
    for (child, name, anchor) in [
        (&zone.child_a1, "Ada", &zone.anchor_a),
        (&zone.child_a2, "Bea", &zone.anchor_a),
        (&zone.child_b1, "Cal", &zone.anchor_b),
    ] {
        let body = read_child(&zone, me, child).await;
        assert_reads(&body, child);
        assert_eq!(body["data"]["child"]["firstName"], name);
        assert_eq!(body["data"]["child"]["anchor"]["id"], json!(anchor));
    }
    let list = list_children(&zone, me).await;
    let names: BTreeSet<&str> = list["data"]["children"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .filter_map(|e| e["node"]["firstName"].as_str())
        .collect();
    assert_eq!(names, BTreeSet::from(["Ada", "Bea", "Cal"]), "{list}");

    // Writes anywhere, any caseload.
    assert_ok(&add_relationship(&zone, me, &zone.child_b1, "Pat Example").await);
    assert_eq!(record_of(&zone, &zone.child_b1).await.1, vec!["Pat Example".to_owned()]);
    let moved = assign(&zone, me, &zone.child_a1, &zone.link_worker_2.id).await;
    assert_ok(&moved);
    assert_eq!(moved["data"]["assignLinkWorker"]["enrolment"]["linkWorker"]["id"], json!(zone.link_worker_2.id));
    assert_eq!(ids_of(&caseload(&zone, me, Some(&zone.link_worker_b.id)).await, "caseload"), set(&[&zone.child_b1]));
    assert_ok(&identify(&zone, me, Some(&zone.anchor_b)).await);
    // An admin has no anchor of their own, so must name one.
    assert_invalid(&identify(&zone, me, None).await, "anchorId");
    // An admin (only) hands a child over to another anchor's link worker: the child moves
    // anchor with them, and the handover is stamped.
    let across = assign(&zone, me, &zone.child_b1, &zone.link_worker.id).await;
    assert_ok(&across);
    let moved = zone
        .as_(
            me,
            "query($c: ID!) { child(id: $c) { anchor { id } handovers { fromAnchor { id } toAnchor { id } } } }",
            json!({"c": zone.child_b1}),
        )
        .await;
    assert_eq!(moved["data"]["child"]["anchor"]["id"], json!(zone.anchor_a), "{moved}");
    let last = moved["data"]["child"]["handovers"].as_array().and_then(|h| h.last()).cloned().unwrap_or_default();
    assert_eq!(last["fromAnchor"]["id"], json!(zone.anchor_b), "{moved}");
    assert_eq!(last["toAnchor"]["id"], json!(zone.anchor_a), "{moved}");

    // Organisations: the admin's to create, not an anchor lead's.
    let created = zone.as_(me, CREATE_ORGANISATION, json!({})).await;
    assert_ok(&created);
    assert!(created["data"]["createOrganisation"]["id"].is_string(), "{created}");
    assert_forbidden(&zone.as_(&zone.anchor_lead, CREATE_ORGANISATION, json!({})).await);
}

#[tokio::test]
async fn nested_reads_respect_the_row_scope() {
    let zone = Zone::new().await;
    let (a1, a2, b1) = (&zone.child_a1, &zone.child_a2, &zone.child_b1);
    // Adults and consents around every child, so a leaking batch would have rows to leak.
    assert_ok(&add_relationship(&zone, &zone.link_worker, a1, "Pat Example").await);
    assert_ok(&add_relationship(&zone, &zone.admin, a2, "Secret Colleague").await);
    assert_ok(&add_relationship(&zone, &zone.admin, b1, "Secret Elsewhere").await);
    let mut consents = Vec::new();
    for child in [a1, a2, b1] {
        let body = zone.as_(&zone.admin, RECORD_CONSENT, json!({ "c": child, "p": zone.partner_1 })).await;
        assert_ok(&body);
        consents.push(body["data"]["recordConsent"]["id"].as_str().expect("consent id").to_owned());
    }

    let nested = "{ children(first: 50) { edges { node { id relationships { name } \
        enrolment { status linkWorker { id } history { to } } consents { id partners { id } } } } } }";
    let body = zone.as_(&zone.link_worker, nested, json!({})).await;
    assert_eq!(ids_of(&body, "children"), set(&[a1]));
    let node = &body["data"]["children"]["edges"][0]["node"];
    assert_eq!(node["relationships"], json!([{ "name": "Pat Example" }]), "{body}");
    assert_eq!(node["enrolment"]["status"], "IDENTIFIED", "{body}");
    assert_eq!(node["enrolment"]["linkWorker"]["id"], json!(zone.link_worker.id), "{body}");
    assert_eq!(node["consents"], json!([{ "id": consents[0], "partners": [{ "id": zone.partner_1 }] }]), "{body}");
    let text = body.to_string();
    for leaked in [a2.as_str(), b1.as_str(), &consents[1], &consents[2], "Secret"] {
        assert!(!text.contains(leaked), "{leaked} leaked to a link worker: {text}");
    }

    // The same through `caseload` and `child`.
    let through_caseload = nested.replace("children(first: 50)", "caseload(first: 50)");
    let body = zone.as_(&zone.link_worker, &through_caseload, json!({})).await;
    assert_eq!(ids_of(&body, "caseload"), set(&[a1]));
    assert!(!body.to_string().contains("Secret"), "{body}");
    let one = "query($id: ID!) { child(id: $id) { relationships { name } consents { id } } }";
    assert_not_found(&zone.as_(&zone.link_worker, one, json!({ "id": a2 })).await);

    // An anchor lead's batch holds both anchor-A children's rows, none of anchor B's.
    let body = zone.as_(&zone.anchor_lead, nested, json!({})).await;
    assert_eq!(ids_of(&body, "children"), set(&[a1, a2]));
    let text = body.to_string();
    assert!(text.contains("Pat Example") && text.contains("Secret Colleague"), "{text}");
    assert!(
        !text.contains("Secret Elsewhere") && !text.contains(&consents[2]) && !text.contains(b1.as_str()),
        "{text}"
    );

    // Partners and the funder: nothing, nested or not.
    for who in [&zone.partner_worker, &zone.partner_lead, &zone.funder] {
        let body = zone.as_(who, nested, json!({})).await;
        assert_eq!(ids_of(&body, "children"), set(&[]), "{}", who.email);
    }
}

#[tokio::test]
async fn ids_of_consents_and_link_workers_do_not_leak_either() {
    let zone = Zone::new().await;
    // A real consent on child_a1, recorded by its link worker.
    let recorded = zone
        .as_(
            &zone.link_worker,
            "mutation($c: ID!, $p: [ID!]!) { recordConsent(input: {childId: $c, givenBy: PARENT, givenByName: \"Pat\", \
             givenOn: \"2026-01-05\", purposes: [REFERRAL], partnerIds: $p, evidence: \"Signed form\"}) { id } }",
            json!({ "c": zone.child_a1, "p": [zone.partner_1] }),
        )
        .await;
    assert_ok(&recorded);
    let consent = recorded["data"]["recordConsent"]["id"].as_str().unwrap_or_default().to_owned();
    let withdraw = "mutation($id: ID!) { withdrawConsent(input: {consentId: $id, withdrawnOn: \"2026-02-01\", reason: \"Asked\"}) { id } }";
    // Outside the scope, a real consent answers exactly as a missing one...
    for who in [&zone.partner_worker, &zone.funder, &zone.link_worker_2, &zone.anchor_lead_b] {
        let real = zone.as_(who, withdraw, json!({ "id": consent })).await;
        let missing = zone.as_(who, withdraw, json!({ "id": missing_id() })).await;
        assert_not_found(&real);
        assert_eq!(error_shape(&real), error_shape(&missing), "{}", who.email);
    }
    // ...an analyst sees it but may not write; the link worker may.
    assert_forbidden(&zone.as_(&zone.analyst, withdraw, json!({ "id": consent })).await);
    assert_ok(&zone.as_(&zone.link_worker, withdraw, json!({ "id": consent })).await);

    // Naming a link worker's caseload: a real link worker and any other id get the same
    // refusal from those who may not look.
    for who in [&zone.funder, &zone.partner_lead, &zone.link_worker_2, &zone.anchor_lead_b] {
        let real = caseload(&zone, who, Some(&zone.link_worker.id)).await;
        let other = caseload(&zone, who, Some(&zone.admin.id)).await;
        let missing = caseload(&zone, who, Some(&missing_id())).await;
        assert_forbidden(&real);
        assert_eq!(error_shape(&real), error_shape(&other), "{}", who.email);
        assert_eq!(error_shape(&real), error_shape(&missing), "{}", who.email);
    }
    // Those who may look learn that a non-link-worker id is not one.
    let not_a_worker = caseload(&zone, &zone.admin, Some(&zone.funder.id)).await;
    assert_eq!(error_code(&not_a_worker), Some("INVALID_INPUT"));
    assert_eq!(error_field(&not_a_worker), Some("linkWorkerId"));
    // Analysts may look at any caseload, pseudonymised.
    let analyst = zone
        .as_(
            &zone.analyst,
            "query($w: ID) { caseload(linkWorkerId: $w) { edges { node { id firstName } } } }",
            json!({ "w": zone.link_worker.id }),
        )
        .await;
    assert_ok(&analyst);
    assert_eq!(analyst["data"]["caseload"]["edges"][0]["node"]["id"], zone.child_a1.as_str());
    assert!(analyst["data"]["caseload"]["edges"][0]["node"]["firstName"].is_null());
}
