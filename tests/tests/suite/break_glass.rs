//! Break-glass: a link worker or anchor lead opens a record outside their scope with a
//! reason, for a limited time, for reading only; every read under it is flagged in the
//! audit; the child's anchor leads are told and review it; it is never renewed without a
//! new reason.
//!
//! Tests → rules:
//!
//! - `a_link_worker_opens_a_record_outside_their_scope_to_read_it_and_every_read_is_flagged`:
//!   `NOT_FOUND` before; opened for `breakGlass.hours`; read in full while in force, each
//!   read's audit event carrying the opening; reads of their own children not flagged;
//!   the chain still verifies.
//! - `an_opened_record_is_for_reading_only`: contact, note, relationship, lawful basis,
//!   correction, referral and exit are `FORBIDDEN` on the opened record, nothing written;
//!   the same writes to their own child go through.
//! - `who_may_break_glass`: partners, funders and analysts `FORBIDDEN`; admins and a
//!   record in scope `CONFLICT`; a blank reason `INVALID_INPUT`; no such child `NOT_FOUND`.
//! - `an_opening_ends_when_it_expires_and_is_renewed_only_with_a_new_reason`.
//! - `the_childs_anchor_lead_is_told_and_reviews_it`: worklist item for the child's
//!   anchor lead (not the other anchor's), review by them (not by the opener), once.
//! - `who_sees_which_openings`: the opener, the child's anchor lead, admins; not another
//!   link worker, not partners.

use backbone::store::{audit_event, break_glass, contact};
use backbone_tests::*;
use chrono::{Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{Value, json};

const OPEN: &str = "mutation($c: ID!, $r: String!) { breakGlass(childId: $c, reason: $r) { id childId reason \
    openedAt expiresAt endedAt inForce openedBy { id } organisation { id } child { id firstName lastName } } }";
const READ: &str = "query($c: ID!) { child(id: $c) { id firstName lastName dateOfBirth } }";
const REVIEW: &str = "mutation($i: ID!) { reviewBreakGlass(id: $i) { id reviewedAt reviewedBy { id } } }";
const LIST: &str = "query($c: ID) { breakGlassOpenings(childId: $c) { edges { node { id reason } } } }";
const WORKLIST: &str =
    "{ worklist(first: 100) { edges { node { kind why child { id } breakGlass { id reason openedBy { id } } } } } }";

/// A link worker's changes to a child's record, one of each kind (contact, note,
/// relationship, lawful basis, correction, referral, exit), with their variables.
pub(crate) fn writes_to_a_child(child: &str, programme: &str) -> Vec<(&'static str, Value)> {
    let c = json!({"c": child});
    vec![
        (
            "mutation($c: ID!) { logContact(input: {childId: $c, heldOn: \"2026-10-07\", minutes: 15, kind: INFORMAL, \
             withWhom: [CHILD], content: \"Chat at the gate\"}) { id } }",
            c.clone(),
        ),
        (
            "mutation($c: ID!) { addProgressNote(input: {childId: $c, body: \"Seemed calmer\", visibility: ORGANISATION}) { id } }",
            c.clone(),
        ),
        (
            "mutation($c: ID!) { addRelationship(input: {childId: $c, kind: PARENT, name: \"Pat Testparent\", \
             involvement: MAIN_CONTACT, parentalResponsibility: true}) { id } }",
            c.clone(),
        ),
        (
            "mutation($c: ID!) { recordLawfulBasis(input: {childId: $c, basis: PUBLIC_TASK, dataSharingAgreement: \"DSA-TEST-1\"}) { id } }",
            c.clone(),
        ),
        (
            "mutation($c: ID!) { updateChild(input: {childId: $c, contactPhone: \"07700 900007\", reason: \"New number\"}) { id } }",
            c.clone(),
        ),
        (
            "mutation($c: ID!, $p: ID!) { proposeReferral(input: {childId: $c, programmeId: $p, needs: \"Mentoring\"}) { id } }",
            json!({"c": child, "p": programme}),
        ),
        ("mutation($c: ID!) { exitChild(childId: $c, reason: MOVED_AWAY) { id } }", c),
    ]
}

async fn opened(zone: &Zone, who: &Account, child: &str, reason: &str) -> Value {
    let body = zone.as_(who, OPEN, json!({"c": child, "r": reason})).await;
    assert_ok(&body);
    body["data"]["breakGlass"].clone()
}

/// The `child.read` events of `who` reading `child`, oldest first.
async fn reads(zone: &Zone, who: &Account, child: &str) -> Vec<audit_event::Model> {
    audit_event::Entity::find()
        .filter(audit_event::Column::ActorUserId.eq(who.id.clone()))
        .filter(audit_event::Column::ChildId.eq(child.to_owned()))
        .filter(audit_event::Column::Action.eq("child.read"))
        .all(&zone.app.db)
        .await
        .expect("events")
}

#[tokio::test]
async fn a_link_worker_opens_a_record_outside_their_scope_to_read_it_and_every_read_is_flagged() {
    let zone = Zone::new().await;
    let (lw_b, a1) = (&zone.link_worker_b, zone.child_a1.as_str());
    let before = zone.as_(lw_b, READ, json!({"c": a1})).await;
    assert_not_found(&before);

    let opening = opened(&zone, lw_b, a1, "Turned up at our breakfast club, upset").await;
    assert_eq!(opening["childId"], json!(a1));
    assert_eq!(opening["inForce"], json!(true));
    assert_eq!(opening["openedBy"]["id"], json!(lw_b.id));
    assert_eq!(opening["organisation"]["id"], json!(zone.anchor_b));
    assert_eq!(opening["child"]["firstName"], "Ada", "the answer shows the record: {opening}");
    let at = |k: &str| opening[k].as_str().expect("time").parse::<chrono::DateTime<Utc>>().expect("time");
    assert_eq!(at("expiresAt") - at("openedAt"), Duration::hours(3), "{opening}");

    let read = zone.as_(lw_b, READ, json!({"c": a1})).await;
    assert_ok(&read);
    assert_eq!(read["data"]["child"]["lastName"], "Testchild", "{read}");
    let flagged = reads(&zone, lw_b, a1).await;
    assert!(flagged.len() >= 2, "the answer and the read are both audited: {flagged:?}");
    let id = opening["id"].as_str().expect("id");
    assert!(flagged.iter().all(|e| e.break_glass_id.as_deref() == Some(id)), "every read is flagged: {flagged:?}");

    // Their own child's reads carry no flag.
    assert_ok(&zone.as_(lw_b, READ, json!({"c": zone.child_b1})).await);
    let own = reads(&zone, lw_b, &zone.child_b1).await;
    assert!(!own.is_empty() && own.iter().all(|e| e.break_glass_id.is_none()), "{own:?}");

    // The flag is part of the chain: it verifies, and altering a flag breaks it.
    let verify = || backbone::audit::verify(&zone.app.db, &zone.app.audit, |_, _| {});
    assert!(matches!(verify().await.expect("verify"), backbone::audit::Verdict::Intact { .. }));
    let mut altered: audit_event::ActiveModel = flagged[0].clone().into();
    altered.break_glass_id = Set(None);
    altered.update(&zone.app.db).await.expect("alter");
    assert!(matches!(verify().await.expect("verify"), backbone::audit::Verdict::Broken { .. }));
}

#[tokio::test]
async fn an_opened_record_is_for_reading_only() {
    let zone = Zone::new().await;
    let (lw_b, a1, b1) = (&zone.link_worker_b, zone.child_a1.as_str(), zone.child_b1.as_str());
    let programme = zone.programme(&zone.partner_1, "Mentoring", 5).await;
    opened(&zone, lw_b, a1, "Needs a safe adult this afternoon").await;
    let contacts = || async { contact::Entity::find().count(&zone.app.db).await.expect("count") };
    let before = contacts().await;
    for (write, vars) in writes_to_a_child(a1, &programme) {
        let refused = zone.as_(lw_b, write, vars).await;
        assert_refused(&refused, "FORBIDDEN");
        let message = refused["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains("reading only"), "{write}: {refused}");
    }
    assert_eq!(contacts().await, before, "nothing was written");
    // The same link worker's own child takes the same writes.
    let (log_contact, _) = &writes_to_a_child(b1, &programme)[0];
    let mine = zone.as_(lw_b, log_contact, json!({"c": b1})).await;
    assert_ok(&mine);
    assert_eq!(contacts().await, before + 1);
}

#[tokio::test]
async fn who_may_break_glass() {
    let zone = Zone::new().await;
    let a1 = zone.child_a1.as_str();
    let reason = "Turned up at our breakfast club";
    for who in [&zone.partner_worker, &zone.partner_lead, &zone.funder, &zone.analyst] {
        assert_refused(&zone.as_(who, OPEN, json!({"c": a1, "r": reason})).await, "FORBIDDEN");
    }
    // In scope already: the admin (every record), the child's own link worker and anchor lead.
    for who in [&zone.admin, &zone.link_worker, &zone.anchor_lead] {
        assert_refused(&zone.as_(who, OPEN, json!({"c": a1, "r": reason})).await, "CONFLICT");
    }
    assert_invalid(&zone.as_(&zone.link_worker_b, OPEN, json!({"c": a1, "r": "   "})).await, "reason");
    assert_not_found(&zone.as_(&zone.link_worker_b, OPEN, json!({"c": missing_id(), "r": reason})).await);
    assert_not_found(&zone.as_(&zone.link_worker_b, OPEN, json!({"c": "not-an-id", "r": reason})).await);
    // The allowance: the other anchor's link worker and lead.
    opened(&zone, &zone.link_worker_b, a1, reason).await;
    opened(&zone, &zone.anchor_lead_b, a1, reason).await;
    assert_eq!(break_glass::Entity::find().count(&zone.app.db).await.expect("count"), 2, "nothing written on refusal");
}

#[tokio::test]
async fn an_opening_ends_when_it_expires_and_is_renewed_only_with_a_new_reason() {
    let zone = Zone::new().await;
    let (lw_b, a1) = (&zone.link_worker_b, zone.child_a1.as_str());
    let first = opened(&zone, lw_b, a1, "Turned up at our breakfast club").await;
    // The same reason again, in other case and spacing, is not a new reason.
    let again = zone.as_(lw_b, OPEN, json!({"c": a1, "r": "turned up at  our breakfast club"})).await;
    assert_invalid(&again, "reason");
    let second = opened(&zone, lw_b, a1, "Mum asked us to check the plan").await;
    let list = zone.as_(&zone.admin, LIST, json!({"c": a1})).await;
    assert_ok(&list);
    assert_eq!(list["data"]["breakGlassOpenings"]["edges"].as_array().map(Vec::len), Some(2), "{list}");
    let one = break_glass::Entity::find_by_id(first["id"].as_str().expect("id").to_owned())
        .one(&zone.app.db)
        .await
        .expect("read")
        .expect("row");
    assert!(one.ended_at.is_some(), "the new opening ended the first");

    // Expired: the record is out of reach again, and not flagged when it was not read.
    let mut expired: break_glass::ActiveModel = break_glass::Entity::find_by_id(second["id"].as_str().expect("id"))
        .one(&zone.app.db)
        .await
        .expect("read")
        .expect("row")
        .into();
    expired.expires_at = Set(Utc::now() - Duration::minutes(1));
    expired.update(&zone.app.db).await.expect("expire");
    assert_not_found(&zone.as_(lw_b, READ, json!({"c": a1})).await);
    let listed = zone.as_(lw_b, "{ breakGlassOpenings { edges { node { inForce } } } }", json!({})).await;
    assert_ok(&listed);
    assert!(
        listed["data"]["breakGlassOpenings"]["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .all(|e| e["node"]["inForce"] == false)
    );
}

#[tokio::test]
async fn the_childs_anchor_lead_is_told_and_reviews_it() {
    let zone = Zone::new().await;
    let (lw_b, a1) = (&zone.link_worker_b, zone.child_a1.as_str());
    let opening = opened(&zone, lw_b, a1, "Turned up at our breakfast club").await;
    let id = opening["id"].as_str().expect("id");
    let items = |body: &Value| -> Vec<Value> {
        body["data"]["worklist"]["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| e["node"].clone())
            .filter(|n| n["kind"] == "RECORD_OPENED")
            .collect()
    };
    let lead = zone.as_(&zone.anchor_lead, WORKLIST, json!({})).await;
    assert_ok(&lead);
    let told = items(&lead);
    assert_eq!(told.len(), 1, "{lead}");
    assert_eq!(told[0]["breakGlass"]["id"], json!(id));
    assert_eq!(told[0]["breakGlass"]["openedBy"]["id"], json!(lw_b.id));
    assert!(told[0]["why"].as_str().unwrap_or_default().contains("breakfast club"), "{told:?}");
    // The opener's own anchor lead, and the child's link worker, are not told.
    for who in [&zone.anchor_lead_b, &zone.link_worker] {
        let other = zone.as_(who, WORKLIST, json!({})).await;
        assert_ok(&other);
        assert!(items(&other).is_empty(), "{other}");
    }
    // The opener's worklist does not take up the opened child's casework.
    let opener = zone.as_(lw_b, WORKLIST, json!({})).await;
    assert_ok(&opener);
    let theirs = opener["data"]["worklist"]["edges"].as_array().expect("edges");
    assert!(theirs.iter().all(|e| e["node"]["child"]["id"] != json!(a1)), "{opener}");

    // Reviewed by the child's anchor lead: not by the opener, not by another anchor's lead.
    assert_refused(&zone.as_(lw_b, REVIEW, json!({"i": id})).await, "FORBIDDEN");
    assert_not_found(&zone.as_(&zone.anchor_lead_b, REVIEW, json!({"i": id})).await);
    let reviewed = zone.as_(&zone.anchor_lead, REVIEW, json!({"i": id})).await;
    assert_ok(&reviewed);
    assert_eq!(reviewed["data"]["reviewBreakGlass"]["reviewedBy"]["id"], json!(zone.anchor_lead.id));
    assert_refused(&zone.as_(&zone.admin, REVIEW, json!({"i": id})).await, "CONFLICT");
    let after = zone.as_(&zone.anchor_lead, WORKLIST, json!({})).await;
    assert!(items(&after).is_empty(), "{after}");
}

#[tokio::test]
async fn who_sees_which_openings() {
    let zone = Zone::new().await;
    let a1 = zone.child_a1.as_str();
    opened(&zone, &zone.link_worker_b, a1, "Turned up at our breakfast club").await;
    let count = |body: &Value| body["data"]["breakGlassOpenings"]["edges"].as_array().map(Vec::len);
    for (who, expected) in [
        (&zone.link_worker_b, 1),
        (&zone.anchor_lead, 1),
        (&zone.admin, 1),
        (&zone.link_worker, 0),
        (&zone.anchor_lead_b, 0),
    ] {
        let body = zone.as_(who, LIST, json!({"c": null})).await;
        assert_ok(&body);
        assert_eq!(count(&body), Some(expected), "{body}");
    }
    for who in [&zone.partner_worker, &zone.funder, &zone.analyst] {
        assert_refused(&zone.as_(who, LIST, json!({"c": null})).await, "FORBIDDEN");
    }
}
