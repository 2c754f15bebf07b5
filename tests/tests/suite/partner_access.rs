//! The partner access rule (`backbone/src/access.rs`) and the casework around it, over the
//! real HTTP API: every rule shown both allowing and refusing.
//!
//! Tests → rules:
//!
//! - `partner_sees_a_child_only_while_referred_and_covered_by_consent`: row scope; a
//!   proposed referral shows nothing, a sent one shows the child (read, list, inbox), and a
//!   consent that names only another partner hides the child again despite the referral.
//! - `partner_view_is_narrow_and_holds_only_their_own_live_referrals`: field view; first
//!   name, age, year group, anchor; nothing else of the record; only their organisation's
//!   live referrals, never another partner's; safeguarding `FORBIDDEN`.
//! - `withdrawing_consent_ends_partner_access_on_the_next_request`: child, inbox, referral
//!   and register lines disappear for the same token at once; no more registering.
//! - `withdrawing_the_referral_ends_partner_access_on_the_next_request`: likewise.
//! - `partners_answer_only_their_own_referrals_and_broker_nothing`: respond and complete
//!   (another partner `NOT_FOUND`, even one that sees the child; decline needs a reason),
//!   no propose/send/withdraw/logContact, nothing changed by a refusal.
//! - `only_partner_leads_manage_their_own_programmes`: create/update programmes.
//! - `log_session_registers_only_children_placed_on_the_programme`: the register rule,
//!   all or nothing; another partner may not log.
//! - `progress_notes_are_read_by_their_audience_only`: note visibility per role; no note
//!   or concern about a child out of sight.
//! - `safeguarding_concerns_are_read_only_by_designated_leads_and_admins`: receipts for
//!   authors, the same refusal whether or not a concern exists, designation on the next
//!   request.
//! - `funders_see_no_casework_and_analysts_no_notes`: funders no referral, session or note;
//!   analysts referrals and sessions, no notes; neither completes a referral, the link
//!   worker does.

use backbone::domain::ReferralStatus;
use backbone_tests::*;
use serde_json::{Value, json};
use std::collections::BTreeSet;

const CHILD: &str = "query($id: ID!) { child(id: $id) { id firstName } }";
const CHILDREN: &str = "{ children(first: 100) { edges { node { id } } } }";
const INBOX: &str = "{ referralsInbox(first: 100) { edges { node { id status child { id } } } } }";
const REFERRAL: &str = "query($id: ID!) { referral(id: $id) { id status child { id firstName } } }";
const SEND: &str = "mutation($r: ID!) { sendReferral(referralId: $r) { id status } }";
const RESPOND: &str = "mutation($r: ID!, $a: Boolean!, $why: String) { respondToReferral(referralId: $r, accept: $a, \
     reason: $why) { id status reason } }";
const WITHDRAW_REFERRAL: &str =
    "mutation($r: ID!) { withdrawReferral(referralId: $r, reason: \"Family changed their mind\") { id status } }";
const PROPOSE: &str = "mutation($c: ID!, $p: ID!) { proposeReferral(input: {childId: $c, programmeId: $p, \
     needs: \"Would enjoy a group\"}) { id status } }";
const RECORD_CONSENT: &str = "mutation($c: ID!, $p: [ID!]!) { recordConsent(input: {childId: $c, givenBy: PARENT, \
     givenByName: \"Pat Example\", givenOn: \"2025-02-01\", purposes: [REFERRAL], partnerIds: $p, \
     evidence: \"Signed form\"}) { id } }";
const WITHDRAW_CONSENT: &str = "mutation($id: ID!) { withdrawConsent(input: {consentId: $id, \
     withdrawnOn: \"2025-06-01\", reason: \"The family asked\"}) { id withdrawn } }";
const LOG_SESSION: &str = "mutation($p: ID!, $d: String!, $a: [AttendeeInput!]!) { logSession(input: \
     {programmeId: $p, heldOn: $d, durationMinutes: 60, kind: GROUP, notes: \"Worked on confidence\", \
     attendees: $a}) { id } }";
const SESSIONS: &str = "query($p: ID!) { sessions(programmeId: $p, first: 100) { edges { node { id } } } }";
const SESSION: &str = "query($id: ID!) { session(id: $id) { id notes attendees { status child { id firstName } } } }";
const ADD_NOTE: &str = "mutation($c: ID!, $r: ID, $b: String!, $v: NoteVisibility!) { addProgressNote(input: \
     {childId: $c, referralId: $r, body: $b, visibility: $v}) { id visibility } }";
const NOTES: &str = "query($id: ID!) { child(id: $id) { id progressNotes { body } } }";
const CONCERNS: &str = "query($id: ID!) { child(id: $id) { id safeguardingConcerns { body } } }";
const RAISE: &str =
    "mutation($c: ID!, $b: String!) { raiseSafeguardingConcern(childId: $c, body: $b) { id createdAt } }";
const SET_DSL: &str = "mutation($u: ID!, $d: Boolean!) { setDesignatedSafeguardingLead(userId: $u, designated: $d) \
     { id designatedSafeguardingLead } }";

// ---- assertions -------------------------------------------------------------------

/// Answered without errors; the value at `data.<field>`.
fn data<'a>(body: &'a Value, field: &str) -> &'a Value {
    assert_ok(body);
    &body["data"][field]
}

fn id_of(body: &Value, field: &str) -> String {
    data(body, field)["id"].as_str().unwrap_or_else(|| panic!("no {field}.id in {body}")).to_owned()
}

fn strings(values: &Value, key: &str) -> BTreeSet<String> {
    values.as_array().map(|a| a.iter().filter_map(|v| v[key].as_str().map(str::to_owned)).collect()).unwrap_or_default()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

// ---- operations -------------------------------------------------------------------

async fn read_child(zone: &Zone, who: &Account, id: &str) -> Value {
    zone.as_(who, CHILD, json!({ "id": id })).await
}

/// `child(id)` answered with that child, first name shown.
async fn assert_sees(zone: &Zone, who: &Account, id: &str) {
    let body = read_child(zone, who, id).await;
    assert_eq!(data(&body, "child")["id"], id, "{} should see the child: {body}", who.email);
}

/// The ids `children` lists for `who`.
async fn listed(zone: &Zone, who: &Account) -> BTreeSet<String> {
    let body = zone.as_(who, CHILDREN, json!({})).await;
    let edges = data(&body, "children")["edges"].clone();
    edges.as_array().expect("edges").iter().filter_map(|e| e["node"]["id"].as_str().map(str::to_owned)).collect()
}

/// The referral ids in `who`'s inbox (and the whole answer, to search for child ids).
async fn inbox(zone: &Zone, who: &Account) -> (BTreeSet<String>, String) {
    let body = zone.as_(who, INBOX, json!({})).await;
    let edges = data(&body, "referralsInbox")["edges"].clone();
    let ids = edges.as_array().expect("edges").iter().filter_map(|e| e["node"]["id"].as_str().map(str::to_owned));
    (ids.collect(), body.to_string())
}

async fn referral(zone: &Zone, who: &Account, id: &str) -> Value {
    zone.as_(who, REFERRAL, json!({ "id": id })).await
}

/// A referral's status as the admin sees it (to prove a refusal changed nothing).
async fn status_of(zone: &Zone, id: &str) -> String {
    let body = referral(zone, &zone.admin, id).await;
    data(&body, "referral")["status"].as_str().expect("status").to_owned()
}

async fn send(zone: &Zone, who: &Account, id: &str) -> Value {
    zone.as_(who, SEND, json!({ "r": id })).await
}

async fn respond(zone: &Zone, who: &Account, id: &str, accept: bool, reason: Option<&str>) -> Value {
    zone.as_(who, RESPOND, json!({ "r": id, "a": accept, "why": reason })).await
}

async fn record_consent(zone: &Zone, who: &Account, child: &str, partners: &[&str]) -> String {
    id_of(&zone.as_(who, RECORD_CONSENT, json!({ "c": child, "p": partners })).await, "recordConsent")
}

async fn withdraw_consent(zone: &Zone, who: &Account, consent: &str) {
    let body = zone.as_(who, WITHDRAW_CONSENT, json!({ "id": consent })).await;
    assert_eq!(data(&body, "withdrawConsent")["withdrawn"], true, "{body}");
}

fn attended(child: &str) -> Value {
    json!({ "childId": child, "status": "ATTENDED", "engagement": "FULLY_ENGAGED" })
}

fn absent(child: &str) -> Value {
    json!({ "childId": child, "status": "ABSENT" })
}

async fn log_session(zone: &Zone, who: &Account, programme: &str, held_on: &str, attendees: Value) -> Value {
    zone.as_(who, LOG_SESSION, json!({ "p": programme, "d": held_on, "a": attendees })).await
}

async fn session_count(zone: &Zone, who: &Account, programme: &str) -> usize {
    let body = zone.as_(who, SESSIONS, json!({ "p": programme })).await;
    data(&body, "sessions")["edges"].as_array().map(Vec::len).expect("edges")
}

async fn add_note(zone: &Zone, who: &Account, child: &str, referral: Option<&str>, body: &str, vis: &str) -> Value {
    zone.as_(who, ADD_NOTE, json!({ "c": child, "r": referral, "b": body, "v": vis })).await
}

/// The bodies of the progress notes `who` reads on `child`.
async fn note_bodies(zone: &Zone, who: &Account, child: &str) -> BTreeSet<String> {
    let body = zone.as_(who, NOTES, json!({ "id": child })).await;
    strings(&data(&body, "child")["progressNotes"], "body")
}

async fn concerns(zone: &Zone, who: &Account, child: &str) -> Value {
    zone.as_(who, CONCERNS, json!({ "id": child })).await
}

/// `safeguardingConcerns` refused with `FORBIDDEN` and not a concern in the answer; the
/// error (without its request id) to compare refusals. (The child itself may still be
/// answered: only the field is refused.)
fn concerns_refused(body: &Value) -> Value {
    assert_eq!(error_code(body), Some("FORBIDDEN"), "{body}");
    assert_eq!(body["errors"][0]["path"], json!(["child", "safeguardingConcerns"]), "{body}");
    assert!(body["data"]["child"]["safeguardingConcerns"].is_null(), "concerns shown: {body}");
    // The answer's data differs by who asks (the child may be answered); the error must not.
    let mut shape = error_shape(body);
    if let Some(fields) = shape.as_object_mut() {
        fields.remove("data");
    }
    shape
}

fn concern_bodies(body: &Value) -> BTreeSet<String> {
    strings(&data(body, "child")["safeguardingConcerns"], "body")
}

// ---- the rules --------------------------------------------------------------------

#[tokio::test]
async fn partner_sees_a_child_only_while_referred_and_covered_by_consent() {
    let zone = Zone::new().await;
    let a1 = zone.child_a1.as_str();
    let partners = [&zone.partner_worker, &zone.partner_lead];
    let programme = zone.programme(&zone.partner_1, "Mentoring", 5).await;
    let consent_1 = zone.ready_for_referral(a1, &[&zone.partner_1]).await;
    let r = zone.refer(a1, &programme, ReferralStatus::Proposed).await;

    // Proposed: the partner does not know of the child, nor of the referral.
    for who in partners {
        let hidden = read_child(&zone, who, a1).await;
        assert_not_found(&hidden);
        assert_eq!(error_shape(&hidden), error_shape(&read_child(&zone, who, &missing_id()).await));
        assert!(!listed(&zone, who).await.contains(a1), "{}", who.email);
        let (ids, text) = inbox(&zone, who).await;
        assert!(ids.is_empty() && !text.contains(a1), "{text}");
        assert_not_found(&referral(&zone, who, &r).await);
    }

    // Sent by the link worker: the partner's staff see the child, in every way in.
    assert_eq!(data(&send(&zone, &zone.link_worker, &r).await, "sendReferral")["status"], "SENT");
    for who in partners {
        let body = read_child(&zone, who, a1).await;
        assert_eq!(data(&body, "child")["firstName"], "Ada", "{body}");
        assert_eq!(listed(&zone, who).await, set(&[a1]), "{}", who.email);
        let (ids, text) = inbox(&zone, who).await;
        assert_eq!(ids, set(&[&r]));
        assert!(text.contains(a1), "the inbox names the child: {text}");
        assert_eq!(data(&referral(&zone, who, &r).await, "referral")["child"]["id"], a1);
    }
    // Another partner: nothing.
    assert_not_found(&read_child(&zone, &zone.partner_worker_2, a1).await);
    assert!(listed(&zone, &zone.partner_worker_2).await.is_empty());
    assert!(inbox(&zone, &zone.partner_worker_2).await.0.is_empty());

    // The consent now names only partner 2: the sent referral alone does not show the child.
    record_consent(&zone, &zone.link_worker, a1, &[&zone.partner_2]).await;
    withdraw_consent(&zone, &zone.link_worker, &consent_1).await;
    assert_eq!(status_of(&zone, &r).await, "SENT", "the referral is still sent");
    for who in partners {
        assert_not_found(&read_child(&zone, who, a1).await);
        assert!(listed(&zone, who).await.is_empty(), "{}", who.email);
        assert!(inbox(&zone, who).await.0.is_empty(), "{}", who.email);
        assert_not_found(&referral(&zone, who, &r).await);
    }
    // Partner 2 is covered by consent but has no referral: still nothing.
    assert_not_found(&read_child(&zone, &zone.partner_worker_2, a1).await);

    // A consent naming partner 1 again: back in sight.
    record_consent(&zone, &zone.link_worker, a1, &[&zone.partner_1]).await;
    for who in partners {
        assert_sees(&zone, who, a1).await;
    }
    // Accepted is live too.
    assert_eq!(
        data(&respond(&zone, &zone.partner_lead, &r, true, None).await, "respondToReferral")["status"],
        "ACCEPTED"
    );
    assert_sees(&zone, &zone.partner_worker, a1).await;
    assert_eq!(inbox(&zone, &zone.partner_worker).await.0, set(&[&r]));
}

#[tokio::test]
async fn partner_view_is_narrow_and_holds_only_their_own_live_referrals() {
    let zone = Zone::new().await;
    let a1 = zone.child_a1.as_str();
    let mentoring = zone.programme(&zone.partner_1, "Mentoring", 5).await;
    let homework = zone.programme(&zone.partner_1, "Homework Club", 5).await;
    let football = zone.programme(&zone.partner_2, "Football", 5).await;
    zone.ready_for_referral(a1, &[&zone.partner_1, &zone.partner_2]).await;
    let r1 = zone.refer(a1, &mentoring, ReferralStatus::Sent).await;
    let r1_proposed = zone.refer(a1, &homework, ReferralStatus::Proposed).await;
    let r2 = zone.refer(a1, &football, ReferralStatus::Sent).await;
    // Something behind every hidden field.
    let rel = "mutation($c: ID!) { addRelationship(input: {childId: $c, kind: PARENT, name: \"Pat Example\", \
        involvement: MAIN_CONTACT}) { id } }";
    assert_ok(&zone.as_(&zone.link_worker, rel, json!({ "c": a1 })).await);
    let contact = "mutation($c: ID!) { logContact(input: {childId: $c, heldOn: \"2025-03-01\", minutes: 20, \
        kind: INFORMAL, withWhom: [PARENT], content: \"Chat at the gate\"}) { id } }";
    assert_ok(&zone.as_(&zone.link_worker, contact, json!({ "c": a1 })).await);
    assert_ok(&zone.as_(&zone.link_worker, RAISE, json!({ "c": a1, "b": "Bruise noticed" })).await);

    let view = "query($id: ID!) { child(id: $id) { id firstName age yearGroup anchor { id } lastName dateOfBirth \
        upn contactPhone contactEmail postcode characteristics { freeSchoolMeals } enrolment { status } \
        relationships { id } consents { id } participation { id } lawfulBases { id } handovers { at } \
        contacts { edges { node { id } } } engagement { contacts } \
        supportPackage { referrals { id status partner { id } } open proposed sent } } }";
    let full = zone.as_(&zone.admin, view, json!({ "id": a1 })).await;
    let c = data(&full, "child");
    // The admin's full view proves every field below has something to hide.
    for field in ["lastName", "dateOfBirth", "contactPhone", "postcode", "characteristics", "enrolment"] {
        assert!(!c[field].is_null(), "{field} empty in the full view: {full}");
    }
    for list in ["relationships", "consents", "participation", "lawfulBases", "handovers"] {
        assert!(!c[list].as_array().expect(list).is_empty(), "{list} empty in the full view: {full}");
    }
    assert_eq!(strings(&c["supportPackage"]["referrals"], "id"), set(&[&r1, &r1_proposed, &r2]));

    for who in [&zone.partner_worker, &zone.partner_lead] {
        let body = zone.as_(who, view, json!({ "id": a1 })).await;
        let c = data(&body, "child");
        assert_eq!(c["firstName"], "Ada", "{body}");
        assert!(c["age"].is_i64(), "{body}");
        assert_eq!(c["yearGroup"], 5, "{body}");
        assert_eq!(c["anchor"]["id"], json!(zone.anchor_a), "{body}");
        let hidden = [
            "lastName",
            "dateOfBirth",
            "upn",
            "contactPhone",
            "contactEmail",
            "postcode",
            "characteristics",
            "enrolment",
        ];
        for field in hidden {
            assert!(c[field].is_null(), "{field} shown to a partner: {body}");
        }
        for list in ["relationships", "consents", "participation", "lawfulBases", "handovers"] {
            assert_eq!(c[list], json!([]), "{list} shown to a partner: {body}");
        }
        assert_eq!(c["contacts"]["edges"], json!([]), "{body}");
        assert!(c["engagement"]["contacts"].is_null(), "{body}");
        // Only their own organisation's live referral: not the proposed one, not partner 2's.
        let package = &c["supportPackage"];
        assert_eq!(package["referrals"], json!([{ "id": r1, "status": "SENT", "partner": { "id": zone.partner_1 } }]));
        assert_eq!((&package["open"], &package["proposed"], &package["sent"]), (&json!(1), &json!(0), &json!(1)));
        assert_not_found(&referral(&zone, who, &r2).await);
        assert_not_found(&referral(&zone, who, &r1_proposed).await);
        // Safeguarding concerns are not theirs to read.
        concerns_refused(&concerns(&zone, who, a1).await);
    }

    // Partner 2 sees the same child through its own referral, and only that one.
    let body = zone.as_(&zone.partner_worker_2, view, json!({ "id": a1 })).await;
    let package = &data(&body, "child")["supportPackage"];
    assert_eq!(package["referrals"], json!([{ "id": r2, "status": "SENT", "partner": { "id": zone.partner_2 } }]));
    assert_not_found(&referral(&zone, &zone.partner_worker_2, &r1).await);

    // Lists carry the same narrow view.
    let list = "{ children(first: 10) { edges { node { id lastName supportPackage { referrals { id } } } } } }";
    let body = zone.as_(&zone.partner_worker, list, json!({})).await;
    let edges = &data(&body, "children")["edges"];
    assert_eq!(
        edges,
        &json!([{ "node": { "id": a1, "lastName": null, "supportPackage": { "referrals": [{ "id": r1 }] } } }])
    );
}

#[tokio::test]
async fn withdrawing_consent_ends_partner_access_on_the_next_request() {
    let zone = Zone::new().await;
    let a1 = zone.child_a1.as_str();
    let programme = zone.programme(&zone.partner_1, "Mentoring", 5).await;
    let consent = zone.ready_for_referral(a1, &[&zone.partner_1]).await;
    let r = zone.refer(a1, &programme, ReferralStatus::Accepted).await;
    let logged = log_session(&zone, &zone.partner_worker, &programme, "2025-09-02", json!([attended(a1)])).await;
    let session = id_of(&logged, "logSession");
    assert_eq!(status_of(&zone, &r).await, "ACTIVE", "the first attended session starts the referral");

    // Active: seen everywhere, by both partner accounts.
    for who in [&zone.partner_worker, &zone.partner_lead] {
        assert_sees(&zone, who, a1).await;
        assert_eq!(inbox(&zone, who).await.0, set(&[&r]));
        assert_eq!(data(&referral(&zone, who, &r).await, "referral")["child"]["id"], a1);
        let body = zone.as_(who, SESSION, json!({ "id": session })).await;
        let lines = &data(&body, "session")["attendees"];
        assert_eq!(lines, &json!([{ "status": "ATTENDED", "child": { "id": a1, "firstName": "Ada" } }]), "{body}");
    }

    withdraw_consent(&zone, &zone.link_worker, &consent).await;

    // Same tokens, very next requests: gone, also through nested fields.
    for who in [&zone.partner_worker, &zone.partner_lead] {
        assert_not_found(&read_child(&zone, who, a1).await);
        assert!(listed(&zone, who).await.is_empty(), "{}", who.email);
        let (ids, text) = inbox(&zone, who).await;
        assert!(ids.is_empty() && !text.contains(a1), "{text}");
        assert_not_found(&referral(&zone, who, &r).await);
        // Their own session is still theirs, but its register no longer names the child.
        let body = zone.as_(who, SESSION, json!({ "id": session })).await;
        let lines = data(&body, "session")["attendees"].as_array().expect("attendees").clone();
        assert!(lines.iter().all(|l| l["child"].is_null()), "{body}");
        assert!(!body.to_string().contains(a1), "the register still names the child: {body}");
        let nested = "query($p: ID!) { sessions(programmeId: $p) { edges { node { attendees { child { id } } } } } }";
        let body = zone.as_(who, nested, json!({ "p": programme })).await;
        assert_ok(&body);
        assert!(!body.to_string().contains(a1), "{body}");
    }
    // Nor may they register the child any more: nothing written.
    let again = log_session(&zone, &zone.partner_worker, &programme, "2025-09-09", json!([absent(a1)])).await;
    assert_invalid(&again, "attendees[0].childId");
    assert_eq!(session_count(&zone, &zone.admin, &programme).await, 1);
    // The link worker still has the whole record, referral included.
    assert_sees(&zone, &zone.link_worker, a1).await;
    assert_eq!(data(&referral(&zone, &zone.link_worker, &r).await, "referral")["status"], "ACTIVE");
}

#[tokio::test]
async fn withdrawing_the_referral_ends_partner_access_on_the_next_request() {
    let zone = Zone::new().await;
    let a1 = zone.child_a1.as_str();
    let programme = zone.programme(&zone.partner_1, "Mentoring", 5).await;
    zone.ready_for_referral(a1, &[&zone.partner_1]).await;
    let r = zone.refer(a1, &programme, ReferralStatus::Sent).await;
    assert_sees(&zone, &zone.partner_worker, a1).await;
    assert_eq!(inbox(&zone, &zone.partner_worker).await.0, set(&[&r]));

    // Withdrawing is the link worker's: the partner sees the referral but may not.
    assert_forbidden(&zone.as_(&zone.partner_lead, WITHDRAW_REFERRAL, json!({ "r": r })).await);
    assert_eq!(status_of(&zone, &r).await, "SENT");

    let body = zone.as_(&zone.link_worker, WITHDRAW_REFERRAL, json!({ "r": r })).await;
    assert_eq!(data(&body, "withdrawReferral")["status"], "WITHDRAWN");

    for who in [&zone.partner_worker, &zone.partner_lead] {
        assert_not_found(&read_child(&zone, who, a1).await);
        assert!(listed(&zone, who).await.is_empty(), "{}", who.email);
        assert!(inbox(&zone, who).await.0.is_empty(), "{}", who.email);
        assert_not_found(&referral(&zone, who, &r).await);
        assert_not_found(&respond(&zone, who, &r, true, None).await);
    }
    assert_eq!(status_of(&zone, &r).await, "WITHDRAWN");
}

#[tokio::test]
async fn partners_answer_only_their_own_referrals_and_broker_nothing() {
    let zone = Zone::new().await;
    let (a1, a2) = (zone.child_a1.as_str(), zone.child_a2.as_str());
    let mentoring = zone.programme(&zone.partner_1, "Mentoring", 5).await;
    let homework = zone.programme(&zone.partner_1, "Homework Club", 5).await;
    zone.ready_for_referral(a1, &[&zone.partner_1, &zone.partner_2]).await;
    let football = zone.programme(&zone.partner_2, "Football", 5).await;
    let r = zone.refer(a1, &mentoring, ReferralStatus::Sent).await;
    zone.refer(a1, &football, ReferralStatus::Sent).await;

    // Another partner's staff see the child (through their own referral), but partner 1's
    // referral is not theirs to know of, let alone answer or complete.
    assert_sees(&zone, &zone.partner_worker_2, a1).await;
    let other = respond(&zone, &zone.partner_worker_2, &r, true, None).await;
    assert_not_found(&other);
    assert_eq!(
        error_shape(&other),
        error_shape(&respond(&zone, &zone.partner_worker_2, &missing_id(), true, None).await)
    );
    let complete = "mutation($r: ID!) { completeReferral(referralId: $r) { id } }";
    assert_not_found(&zone.as_(&zone.partner_worker_2, complete, json!({ "r": r })).await);
    // Declining needs a reason.
    assert_invalid(&respond(&zone, &zone.partner_worker, &r, false, None).await, "reason");
    assert_invalid(&respond(&zone, &zone.partner_worker, &r, false, Some("  ")).await, "reason");
    assert_eq!(status_of(&zone, &r).await, "SENT", "a refused answer changed the referral");

    // Brokering is the link worker's: a partner proposes nothing (FORBIDDEN for a child they
    // see, NOT_FOUND for one they do not), sends nothing.
    assert_forbidden(&zone.as_(&zone.partner_worker, PROPOSE, json!({ "c": a1, "p": homework })).await);
    assert_not_found(&zone.as_(&zone.partner_lead, PROPOSE, json!({ "c": a2, "p": homework })).await);
    let draft = zone.refer(a1, &homework, ReferralStatus::Proposed).await;
    assert_not_found(&send(&zone, &zone.partner_lead, &draft).await);
    assert_forbidden(&send(&zone, &zone.partner_worker, &r).await);
    assert_eq!(status_of(&zone, &draft).await, "PROPOSED");
    // Nor do they log a link worker's contacts, even about a child they see: nothing written.
    let contact = "mutation($c: ID!) { logContact(input: {childId: $c, heldOn: \"2025-03-01\", minutes: 20, \
        kind: INFORMAL, withWhom: [PARENT], content: \"Chat at the gate\"}) { id } }";
    assert_forbidden(&zone.as_(&zone.partner_worker, contact, json!({ "c": a1 })).await);
    let contacts = "query($id: ID!) { child(id: $id) { contacts { edges { node { id } } } } }";
    let body = zone.as_(&zone.admin, contacts, json!({ "id": a1 })).await;
    assert_eq!(data(&body, "child")["contacts"]["edges"], json!([]), "a refused contact was written");
    let package = "query($id: ID!) { child(id: $id) { supportPackage { referrals { id } } } }";
    let body = zone.as_(&zone.admin, package, json!({ "id": a1 })).await;
    assert_eq!(strings(&data(&body, "child")["supportPackage"]["referrals"], "id").len(), 3, "{body}");

    // Their own: accept one, decline another with a reason.
    let accepted = respond(&zone, &zone.partner_worker, &r, true, None).await;
    assert_eq!(data(&accepted, "respondToReferral")["status"], "ACCEPTED");
    assert_ok(&send(&zone, &zone.link_worker, &draft).await);
    let declined = respond(&zone, &zone.partner_lead, &draft, false, Some("No places on Fridays")).await;
    let declined = data(&declined, "respondToReferral");
    assert_eq!((&declined["status"], &declined["reason"]), (&json!("DECLINED"), &json!("No places on Fridays")));
    // A declined referral is closed: the partner loses it, keeps the accepted one.
    assert_not_found(&referral(&zone, &zone.partner_worker, &draft).await);
    assert_eq!(inbox(&zone, &zone.partner_worker).await.0, set(&[&r]));
    // Answering twice is a conflict, not a second answer.
    assert_refused(&respond(&zone, &zone.partner_worker, &r, true, None).await, "CONFLICT");
}

#[tokio::test]
async fn only_partner_leads_manage_their_own_programmes() {
    let zone = Zone::new().await;
    let input = "{name: $n, description: \"Weekly mentoring\", domains: [CONFIDENCE_ASPIRATION], minimumAge: 7, \
        maximumAge: 14, attendingType: IN_PERSON, locationName: \"Community Hall\", postcode: \"ZZ1 1ZZ\", \
        schedule: \"Thursdays after school\", capacity: 10}";
    let create = format!(
        "mutation($n: String!, $o: ID) {{ createProgramme(input: {input}, organisationId: $o) {{ id name partner {{ id }} }} }}"
    );
    let update = format!(
        "mutation($id: ID!, $n: String!) {{ updateProgramme(id: $id, input: {input}, status: PAUSED) {{ id name status }} }}"
    );
    let read = "query($id: ID!) { programme(id: $id) { name status } }";
    let partner_2_programmes = "query($p: ID!) { programmes(filter: {partnerId: $p}) { edges { node { id } } } }";
    let football = zone.programme(&zone.partner_2, "Football", 5).await;

    // Creating: the partner's lead, for their own organisation.
    assert_forbidden(&zone.as_(&zone.partner_worker, &create, json!({ "n": "Worker's Club" })).await);
    let o1 = json!({ "n": "Worker's Club", "o": zone.partner_1 });
    assert_forbidden(&zone.as_(&zone.partner_worker, &create, o1.clone()).await);
    assert_forbidden(&zone.as_(&zone.link_worker, &create, o1).await);
    let own = zone.as_(&zone.partner_lead, &create, json!({ "n": "Lead's Club" })).await;
    assert_eq!(data(&own, "createProgramme")["partner"]["id"], json!(zone.partner_1), "{own}");
    let own = id_of(&own, "createProgramme");
    let o2 = json!({ "n": "Not Yours", "o": zone.partner_2 });
    assert_forbidden(&zone.as_(&zone.partner_lead, &create, o2).await);
    let body = zone.as_(&zone.partner_worker, partner_2_programmes, json!({ "p": zone.partner_2 })).await;
    assert_eq!(data(&body, "programmes")["edges"], json!([{ "node": { "id": football } }]), "a refused create wrote");

    // Updating: likewise.
    assert_forbidden(&zone.as_(&zone.partner_lead, &update, json!({ "id": football, "n": "Hijacked" })).await);
    assert_forbidden(&zone.as_(&zone.partner_worker, &update, json!({ "id": own, "n": "Renamed" })).await);
    let body = zone.as_(&zone.partner_worker_2, read, json!({ "id": football })).await;
    assert_eq!(data(&body, "programme"), &json!({ "name": "Football", "status": "ACTIVE" }));
    let body = zone.as_(&zone.partner_lead, &update, json!({ "id": own, "n": "Renamed" })).await;
    assert_eq!(data(&body, "updateProgramme"), &json!({ "id": own, "name": "Renamed", "status": "PAUSED" }));

    // A backbone admin manages any partner's programmes.
    let body = zone.as_(&zone.admin, &create, json!({ "n": "Admin's Club", "o": zone.partner_2 })).await;
    assert_eq!(data(&body, "createProgramme")["partner"]["id"], json!(zone.partner_2));
    assert_ok(&zone.as_(&zone.admin, &update, json!({ "id": football, "n": "Football Plus" })).await);
}

#[tokio::test]
async fn log_session_registers_only_children_placed_on_the_programme() {
    let zone = Zone::new().await;
    let (a1, a2, b1) = (zone.child_a1.as_str(), zone.child_a2.as_str(), zone.child_b1.as_str());
    let mentoring = zone.programme(&zone.partner_1, "Mentoring", 5).await;
    let homework = zone.programme(&zone.partner_1, "Homework Club", 5).await;
    for child in [a1, a2, b1] {
        zone.ready_for_referral(child, &[&zone.partner_1]).await;
    }
    let placed = zone.refer(a1, &mentoring, ReferralStatus::Accepted).await;
    let _awaiting = zone.refer(a2, &mentoring, ReferralStatus::Sent).await;
    let _elsewhere = zone.refer(b1, &homework, ReferralStatus::Accepted).await;
    let pw = &zone.partner_worker;

    // One bad line and nothing is written; each bad line is named.
    let body = log_session(&zone, pw, &mentoring, "2025-09-02", json!([attended(a1), absent(a2), absent(b1)])).await;
    assert_invalid(&body, "attendees[1].childId");
    let fields = strings(&body["errors"][0]["extensions"]["fields"], "field");
    assert_eq!(fields, set(&["attendees[1].childId", "attendees[2].childId"]), "{body}");
    assert_invalid(
        &log_session(&zone, pw, &mentoring, "2025-09-02", json!([absent(b1), attended(a1)])).await,
        "attendees[0].childId",
    );
    assert_invalid(
        &log_session(&zone, pw, &mentoring, "2025-09-02", json!([attended(a1), absent(&missing_id())])).await,
        "attendees[1].childId",
    );
    assert_eq!(session_count(&zone, pw, &mentoring).await, 0);
    assert_eq!(session_count(&zone, &zone.admin, &mentoring).await, 0);
    assert_eq!(status_of(&zone, &placed).await, "ACCEPTED", "a refused register started the referral");

    // Another partner may not log this partner's sessions, even naming a placed child.
    assert_forbidden(
        &log_session(&zone, &zone.partner_worker_2, &mentoring, "2025-09-02", json!([attended(a1)])).await,
    );
    assert_eq!(session_count(&zone, &zone.admin, &mentoring).await, 0);

    // Accepted, then active: both may be registered.
    assert_ok(&log_session(&zone, pw, &mentoring, "2025-09-02", json!([attended(a1)])).await);
    assert_eq!(status_of(&zone, &placed).await, "ACTIVE");
    assert_ok(&log_session(&zone, &zone.partner_lead, &mentoring, "2025-09-09", json!([absent(a1)])).await);
    assert_eq!(session_count(&zone, pw, &mentoring).await, 2);
    // The sessions are partner 1's: partner 2 lists none of them.
    assert_eq!(session_count(&zone, &zone.partner_worker_2, &mentoring).await, 0);
}

#[tokio::test]
async fn progress_notes_are_read_by_their_audience_only() {
    let zone = Zone::new().await;
    let a1 = zone.child_a1.as_str();
    let mentoring = zone.programme(&zone.partner_1, "Mentoring", 5).await;
    let football = zone.programme(&zone.partner_2, "Football", 5).await;
    zone.ready_for_referral(a1, &[&zone.partner_1, &zone.partner_2]).await;
    let r1 = zone.refer(a1, &mentoring, ReferralStatus::Sent).await;
    zone.refer(a1, &football, ReferralStatus::Sent).await;

    let notes = [
        (&zone.partner_worker, Some(r1.as_str()), "P1 for the organisation", "ORGANISATION"),
        (&zone.partner_worker, None, "P1 for the link worker", "SHARED_WITH_LINK_WORKER"),
        (&zone.link_worker, None, "LW for the anchor", "ORGANISATION"),
        (&zone.link_worker, None, "LW marked shared", "SHARED_WITH_LINK_WORKER"),
    ];
    for (who, referral, body, visibility) in notes {
        let added = add_note(&zone, who, a1, referral, body, visibility).await;
        assert_eq!(data(&added, "addProgressNote")["visibility"], visibility, "{added}");
    }
    // Partner 2 sees the child, but may not pin a note on partner 1's referral.
    let other = add_note(&zone, &zone.partner_worker_2, a1, Some(&r1), "Sneaky", "ORGANISATION").await;
    assert_invalid(&other, "referralId");
    // About a child they do not see, a partner writes nothing (as if the child did not exist).
    assert_not_found(&add_note(&zone, &zone.partner_worker, &zone.child_a2, None, "Who?", "ORGANISATION").await);
    let raise = zone.as_(&zone.partner_worker, RAISE, json!({ "c": zone.child_a2, "b": "Who?" })).await;
    assert_not_found(&raise);

    let partner_1 = set(&["P1 for the organisation", "P1 for the link worker"]);
    let anchor = set(&["P1 for the link worker", "LW for the anchor", "LW marked shared"]);
    let everything =
        set(&["P1 for the organisation", "P1 for the link worker", "LW for the anchor", "LW marked shared"]);
    assert_eq!(note_bodies(&zone, &zone.partner_lead, a1).await, partner_1, "partner lead");
    assert_eq!(note_bodies(&zone, &zone.partner_worker, a1).await, partner_1, "partner worker");
    assert_eq!(note_bodies(&zone, &zone.partner_worker_2, a1).await, set(&[]), "another partner");
    assert_eq!(note_bodies(&zone, &zone.link_worker, a1).await, anchor, "link worker");
    assert_eq!(note_bodies(&zone, &zone.anchor_lead, a1).await, anchor, "anchor lead");
    assert_eq!(note_bodies(&zone, &zone.admin, a1).await, everything, "admin");
}

#[tokio::test]
async fn safeguarding_concerns_are_read_only_by_designated_leads_and_admins() {
    let zone = Zone::new().await;
    let a1 = zone.child_a1.as_str();
    let mentoring = zone.programme(&zone.partner_1, "Mentoring", 5).await;
    zone.ready_for_referral(a1, &[&zone.partner_1]).await;
    zone.refer(a1, &mentoring, ReferralStatus::Sent).await;
    // A second child on the link worker's caseload, about whom nobody raises anything.
    let identify = "mutation { identifyChild(input: {firstName: \"Quin\", lastName: \"Quiet\", \
        dateOfBirth: \"2018-01-15\", yearGroup: 4}) { id } }";
    let quiet = id_of(&zone.as_(&zone.link_worker, identify, json!({})).await, "identifyChild");

    let before = concerns_refused(&concerns(&zone, &zone.link_worker, a1).await);

    // Authors get a receipt, not the concern.
    for (who, text) in [(&zone.link_worker, "Bruise noticed"), (&zone.partner_worker, "Said they were scared")] {
        let receipt = zone.as_(who, RAISE, json!({ "c": a1, "b": text })).await;
        let receipt = data(&receipt, "raiseSafeguardingConcern");
        assert!(receipt["id"].is_string() && receipt["createdAt"].is_string(), "{receipt}");
    }
    for who in [&zone.funder, &zone.analyst] {
        assert_forbidden(&zone.as_(who, RAISE, json!({ "c": a1, "b": "Anything" })).await);
    }

    // The link worker is refused alike whether or not a concern exists.
    let after = concerns_refused(&concerns(&zone, &zone.link_worker, a1).await);
    let none = concerns_refused(&concerns(&zone, &zone.link_worker, &quiet).await);
    assert_eq!(after, before, "a concern's existence shows");
    assert_eq!(after, none, "a concern's existence shows");
    for who in [&zone.partner_worker, &zone.anchor_lead] {
        concerns_refused(&concerns(&zone, who, a1).await);
    }

    // Admins read every concern.
    let both = set(&["Bruise noticed", "Said they were scared"]);
    assert_eq!(concern_bodies(&concerns(&zone, &zone.admin, a1).await), both);

    // Designating is for admins only.
    let lead = json!({ "u": zone.anchor_lead.id, "d": true });
    assert_forbidden(&zone.as_(&zone.anchor_lead, SET_DSL, lead.clone()).await);
    assert_forbidden(&zone.as_(&zone.link_worker, SET_DSL, lead.clone()).await);
    concerns_refused(&concerns(&zone, &zone.anchor_lead, a1).await);
    let set_lead = zone.as_(&zone.admin, SET_DSL, lead).await;
    assert_eq!(data(&set_lead, "setDesignatedSafeguardingLead")["designatedSafeguardingLead"], true);

    // The anchor lead's very next request (same token): their anchor's children's concerns.
    assert_eq!(concern_bodies(&concerns(&zone, &zone.anchor_lead, a1).await), both);
    assert_eq!(concern_bodies(&concerns(&zone, &zone.anchor_lead, &quiet).await), set(&[]));
    // A designated lead of another anchor reads nothing of anchor A's children.
    assert_ok(&zone.as_(&zone.admin, SET_DSL, json!({ "u": zone.anchor_lead_b.id, "d": true })).await);
    assert_not_found(&concerns(&zone, &zone.anchor_lead_b, a1).await);
    assert_eq!(concern_bodies(&concerns(&zone, &zone.anchor_lead_b, &zone.child_b1).await), set(&[]));

    // Undesignated: refused again on the next request.
    assert_ok(&zone.as_(&zone.admin, SET_DSL, json!({ "u": zone.anchor_lead.id, "d": false })).await);
    concerns_refused(&concerns(&zone, &zone.anchor_lead, a1).await);
}

#[tokio::test]
async fn funders_see_no_casework_and_analysts_no_notes() {
    let zone = Zone::new().await;
    let a1 = zone.child_a1.as_str();
    let mentoring = zone.programme(&zone.partner_1, "Mentoring", 5).await;
    zone.ready_for_referral(a1, &[&zone.partner_1]).await;
    let r = zone.refer(a1, &mentoring, ReferralStatus::Accepted).await;
    let session = id_of(
        &log_session(&zone, &zone.partner_worker, &mentoring, "2025-09-02", json!([attended(a1)])).await,
        "logSession",
    );
    assert_ok(&add_note(&zone, &zone.partner_worker, a1, Some(&r), "Settled in well", "SHARED_WITH_LINK_WORKER").await);
    assert_ok(&add_note(&zone, &zone.link_worker, a1, None, "Mum pleased", "ORGANISATION").await);
    assert_eq!(note_bodies(&zone, &zone.admin, a1).await.len(), 2, "notes to hide");

    // Funders: no referral, session, register or note; answered as for nothing at all.
    let funder = &zone.funder;
    let hidden = referral(&zone, funder, &r).await;
    assert_not_found(&hidden);
    assert_eq!(error_shape(&hidden), error_shape(&referral(&zone, funder, &missing_id()).await));
    assert_not_found(&zone.as_(funder, SESSION, json!({ "id": session })).await);
    assert_eq!(session_count(&zone, funder, &mentoring).await, 0);
    assert_forbidden(&zone.as_(funder, INBOX, json!({})).await);
    assert_not_found(&zone.as_(funder, NOTES, json!({ "id": a1 })).await);
    assert_forbidden(&add_note(&zone, funder, a1, None, "Funder note", "ORGANISATION").await);

    // Analysts: referrals and sessions (pseudonymised, without the partner's session notes)…
    let analyst = &zone.analyst;
    let body = referral(&zone, analyst, &r).await;
    let seen = data(&body, "referral");
    assert_eq!((&seen["status"], &seen["child"]["id"]), (&json!("ACTIVE"), &json!(a1)), "{body}");
    assert!(seen["child"]["firstName"].is_null(), "{body}");
    let body = zone.as_(analyst, SESSION, json!({ "id": session })).await;
    let seen = data(&body, "session");
    assert!(seen["notes"].is_null(), "{body}");
    assert_eq!(seen["attendees"], json!([{ "status": "ATTENDED", "child": { "id": a1, "firstName": null } }]));
    assert_eq!(session_count(&zone, analyst, &mentoring).await, 1);
    // …but no narrative: no progress notes, and none to write.
    assert_eq!(note_bodies(&zone, analyst, a1).await, set(&[]));
    assert_forbidden(&add_note(&zone, analyst, a1, None, "Analyst note", "ORGANISATION").await);
    // …and no free text: the referral's needs, its history notes, contact content are null
    // for the analyst, and there for the link worker.
    let contact = "mutation($c: ID!) { logContact(input: {childId: $c, heldOn: \"2025-09-03\", minutes: 15, \
                   kind: INFORMAL, withWhom: [PARENT], content: \"Spoke with Pat at the gate\"}) { id } }";
    assert_ok(&zone.as_(&zone.link_worker, contact, json!({ "c": a1 })).await);
    let free_text = "query($r: ID!, $c: ID!) { referral(id: $r) { needs history { note } } \
                     child(id: $c) { contacts(first: 5) { edges { node { content } } } } }";
    let of = |body: &Value| {
        (
            body["data"]["referral"]["needs"].clone(),
            body["data"]["child"]["contacts"]["edges"][0]["node"]["content"].clone(),
        )
    };
    let worker = zone.as_(&zone.link_worker, free_text, json!({ "r": r, "c": a1 })).await;
    assert_ok(&worker);
    assert_eq!(
        of(&worker),
        (json!("Low confidence; finds groups hard"), json!("Spoke with Pat at the gate")),
        "{worker}"
    );
    let pseudonymised = zone.as_(analyst, free_text, json!({ "r": r, "c": a1 })).await;
    assert_ok(&pseudonymised);
    assert_eq!(of(&pseudonymised), (Value::Null, Value::Null), "{pseudonymised}");
    let notes = pseudonymised["data"]["referral"]["history"].as_array().cloned().unwrap_or_default();
    assert!(!notes.is_empty() && notes.iter().all(|h| h["note"].is_null()), "{pseudonymised}");

    // Completing is for the child's link worker or the partner: the analyst, who sees the
    // referral, is refused; the funder is answered as for nothing; the link worker may.
    let complete = "mutation($r: ID!) { completeReferral(referralId: $r) { id status } }";
    assert_forbidden(&zone.as_(analyst, complete, json!({ "r": r })).await);
    assert_not_found(&zone.as_(funder, complete, json!({ "r": r })).await);
    assert_eq!(status_of(&zone, &r).await, "ACTIVE", "a refused completion changed the referral");
    let body = zone.as_(&zone.link_worker, complete, json!({ "r": r })).await;
    assert_eq!(data(&body, "completeReferral")["status"], "COMPLETED");
}

/// Partners may list their referred children, but not narrow them by enrolment status or
/// link worker (both outside the partner view); staff may.
#[tokio::test]
async fn partners_may_not_filter_children_by_what_they_may_not_see() {
    let zone = Zone::new().await;
    let a1 = zone.child_a1.as_str();
    let mentoring = zone.programme(&zone.partner_1, "Mentoring", 5).await;
    zone.ready_for_referral(a1, &[&zone.partner_1]).await;
    zone.refer(a1, &mentoring, ReferralStatus::Sent).await;
    let by_status = "{ children(filter: {status: ENROLLED}) { edges { node { id } } } }";
    let by_worker = "query($w: ID!) { children(filter: {linkWorkerId: $w}) { edges { node { id } } } }";
    let by_year = "{ children(filter: {yearGroup: 5}) { edges { node { id } } } }";
    let pw = &zone.partner_worker;
    assert_forbidden(&zone.as_(pw, by_status, json!({})).await);
    assert_forbidden(&zone.as_(pw, by_worker, json!({ "w": zone.link_worker.id })).await);
    let year = zone.as_(pw, by_year, json!({})).await;
    assert_eq!(year["data"]["children"]["edges"][0]["node"]["id"], json!(a1), "{year}");
    let staff = zone.as_(&zone.anchor_lead, by_status, json!({})).await;
    assert_eq!(staff["data"]["children"]["edges"][0]["node"]["id"], json!(a1), "{staff}");
}
