//! Brokering over GraphQL, each step as the role that takes it: the programme directory
//! and its validation, the referral state machine (and the refusals of `sendReferral`),
//! registers that are all-or-nothing, engagement counted exactly, link-worker contacts,
//! handing a child over with their open referrals, and the audit trail all this leaves.

use backbone::domain::ReferralStatus;
use backbone::store::audit_event;
use backbone_tests::*;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// The string at a JSON pointer, or "" (the assertion that follows then fails visibly).
fn s(body: &Value, pointer: &str) -> String {
    body.pointer(pointer).and_then(Value::as_str).unwrap_or_default().to_owned()
}

/// A date `days` from today (UTC), `YYYY-MM-DD`.
fn date_from_today(days: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(days)).format("%Y-%m-%d").to_string()
}

fn programme_input(name: &str) -> Value {
    json!({
        "name": name,
        "description": "Leadership and confidence for upper juniors",
        "domains": ["CONFIDENCE_ASPIRATION", "PROGRESS_AT_SCHOOL"],
        "minimumAge": 9,
        "maximumAge": 11,
        "attendingType": "BOTH",
        "locationName": "  Community Hall  ",
        "postcode": "zz1 1zz",
        "schedule": "Thursdays 16:00-17:30 in term time",
        "capacity": 1,
    })
}

const PROGRAMME: &str = "id name description domains minimumAge maximumAge attendingType locationName postcode schedule capacity placesTaken status partner { id }";

async fn create_programme(zone: &Zone, who: &Account, input: &Value) -> Value {
    let q = format!("mutation($i: ProgrammeInput!) {{ createProgramme(input: $i) {{ {PROGRAMME} }} }}");
    zone.as_(who, &q, json!({ "i": input })).await
}

async fn update_programme(zone: &Zone, who: &Account, id: &str, input: &Value, status: Option<&str>) -> Value {
    let q = format!(
        "mutation($id: ID!, $i: ProgrammeInput!, $s: ProgrammeStatus) {{ updateProgramme(id: $id, input: $i, status: $s) {{ {PROGRAMME} }} }}"
    );
    zone.as_(who, &q, json!({ "id": id, "i": input, "s": status })).await
}

/// The fields `zone.programme` gives a programme, for updating one.
fn fixture_programme_input(name: &str, capacity: i32) -> Value {
    json!({
        "name": name,
        "description": "A test programme",
        "domains": ["EMOTIONAL_WELLBEING", "RELATIONSHIPS"],
        "minimumAge": 5,
        "maximumAge": 16,
        "attendingType": "IN_PERSON",
        "locationName": "Test Hall",
        "postcode": "ZZ1 1ZZ",
        "schedule": "Tuesdays 15:30-17:00 in term time",
        "capacity": capacity,
    })
}

/// Ids of the programmes matching `filter` (sorted), as the link worker browses.
async fn programme_ids(zone: &Zone, filter: Value) -> Vec<String> {
    let body = zone
        .as_(
            &zone.link_worker,
            "query($f: ProgrammeFilter) { programmes(filter: $f, first: 100) { edges { node { id } } } }",
            json!({ "f": filter }),
        )
        .await;
    assert_ok(&body);
    let mut ids: Vec<String> = body["data"]["programmes"]["edges"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|e| s(e, "/node/id"))
        .collect();
    ids.sort();
    ids
}

fn sorted(ids: &[&String]) -> Vec<String> {
    let mut v: Vec<String> = ids.iter().map(|s| (*s).clone()).collect();
    v.sort();
    v
}

async fn propose(zone: &Zone, who: &Account, child: &str, programme: &str, note: Option<&str>) -> Value {
    zone.as_(
        who,
        "mutation($c: ID!, $p: ID!, $n: String) { proposeReferral(input: {childId: $c, programmeId: $p, needs: \"Low confidence; finds groups hard\", note: $n}) { id status } }",
        json!({ "c": child, "p": programme, "n": note }),
    )
    .await
}

async fn proposed_id(zone: &Zone, who: &Account, child: &str, programme: &str) -> String {
    let body = propose(zone, who, child, programme, None).await;
    assert_ok(&body);
    assert_eq!(body["data"]["proposeReferral"]["status"], "PROPOSED");
    s(&body, "/data/proposeReferral/id")
}

async fn send(zone: &Zone, who: &Account, referral: &str, note: Option<&str>) -> Value {
    zone.as_(
        who,
        "mutation($r: ID!, $n: String) { sendReferral(referralId: $r, note: $n) { id status } }",
        json!({ "r": referral, "n": note }),
    )
    .await
}

async fn respond(
    zone: &Zone,
    who: &Account,
    referral: &str,
    accept: bool,
    reason: Option<&str>,
    note: Option<&str>,
) -> Value {
    zone.as_(
        who,
        "mutation($r: ID!, $a: Boolean!, $why: String, $n: String) { respondToReferral(referralId: $r, accept: $a, reason: $why, note: $n) { id status reason } }",
        json!({ "r": referral, "a": accept, "why": reason, "n": note }),
    )
    .await
}

async fn complete(zone: &Zone, who: &Account, referral: &str, note: Option<&str>) -> Value {
    zone.as_(
        who,
        "mutation($r: ID!, $n: String) { completeReferral(referralId: $r, note: $n) { id status } }",
        json!({ "r": referral, "n": note }),
    )
    .await
}

async fn withdraw(zone: &Zone, who: &Account, referral: &str, reason: &str) -> Value {
    zone.as_(
        who,
        "mutation($r: ID!, $why: String!) { withdrawReferral(referralId: $r, reason: $why) { id status reason } }",
        json!({ "r": referral, "why": reason }),
    )
    .await
}

/// A referral as `who` sees it (the raw body: it may be an error).
async fn read_referral(zone: &Zone, who: &Account, referral: &str) -> Value {
    zone.as_(
        who,
        "query($r: ID!) { referral(id: $r) { id status reason needs linkWorker { id } history { from to actorId note } } }",
        json!({ "r": referral }),
    )
    .await
}

/// A referral's status as `who` sees it (panics on an error).
async fn status_of(zone: &Zone, who: &Account, referral: &str) -> String {
    let body = read_referral(zone, who, referral).await;
    assert_ok(&body);
    s(&body, "/data/referral/status")
}

fn attendee(child: &str, status: &str, engagement: Option<&str>) -> Value {
    json!({ "childId": child, "status": status, "engagement": engagement })
}

async fn log_session(zone: &Zone, who: &Account, programme: &str, held_on: &str, attendees: Value) -> Value {
    let kind = if attendees.as_array().map_or(0, Vec::len) > 1 { "GROUP" } else { "ONE_TO_ONE" };
    zone.as_(
        who,
        "mutation($i: LogSessionInput!) { logSession(input: $i) { id heldOn kind attendees { status engagement child { id } } } }",
        json!({ "i": {
            "programmeId": programme,
            "heldOn": held_on,
            "durationMinutes": 90,
            "kind": kind,
            "notes": "Register taken at the door",
            "attendees": attendees,
        }}),
    )
    .await
}

async fn audit_events_for(zone: &Zone, child: &str) -> Vec<audit_event::Model> {
    audit_event::Entity::find()
        .filter(audit_event::Column::ChildId.eq(child.to_owned()))
        .order_by_asc(audit_event::Column::Id)
        .all(&zone.app.db)
        .await
        .expect("audit events")
}

// ---------------------------------------------------------------------------------------
// Programmes
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn the_programme_directory_filters_pauses_and_pages() {
    let zone = Zone::new().await;
    let created = create_programme(&zone, &zone.partner_lead, &programme_input("Young Leaders")).await;
    assert_ok(&created);
    let p = &created["data"]["createProgramme"];
    assert_eq!(p["name"], "Young Leaders");
    assert_eq!(p["description"], "Leadership and confidence for upper juniors");
    assert_eq!(p["domains"], json!(["CONFIDENCE_ASPIRATION", "PROGRESS_AT_SCHOOL"]));
    assert_eq!((p["minimumAge"].as_i64(), p["maximumAge"].as_i64()), (Some(9), Some(11)));
    assert_eq!(p["attendingType"], "BOTH");
    assert_eq!(p["locationName"], "Community Hall", "trimmed");
    assert_eq!(p["postcode"], "ZZ1 1ZZ", "normalised");
    assert_eq!(p["schedule"], "Thursdays 16:00-17:30 in term time");
    assert_eq!((p["capacity"].as_i64(), p["placesTaken"].as_i64()), (Some(1), Some(0)));
    assert_eq!(p["status"], "ACTIVE");
    assert_eq!(p["partner"]["id"], zone.partner_1.as_str(), "the caller's own organisation by default");
    let young = s(p, "/id");
    let football = zone.programme(&zone.partner_2, "Football Club", 10).await; // ages 5–16
    let art = zone.programme(&zone.partner_1, "Art Club", 5).await; // ages 5–16

    // By domain: one whole code, whether first or last in the stored list.
    assert_eq!(programme_ids(&zone, json!({"domain": "CONFIDENCE_ASPIRATION"})).await, vec![young.clone()]);
    assert_eq!(programme_ids(&zone, json!({"domain": "PROGRESS_AT_SCHOOL"})).await, vec![young.clone()]);
    assert_eq!(programme_ids(&zone, json!({"domain": "RELATIONSHIPS"})).await, sorted(&[&football, &art]));
    assert_eq!(programme_ids(&zone, json!({"domain": "ATTENDANCE_ENGAGEMENT"})).await, Vec::<String>::new());
    // By age: inside the range (both ends), and just outside it.
    let all = sorted(&[&young, &football, &art]);
    assert_eq!(programme_ids(&zone, json!({"age": 9})).await, all);
    assert_eq!(programme_ids(&zone, json!({"age": 11})).await, all);
    assert_eq!(programme_ids(&zone, json!({"age": 8})).await, sorted(&[&football, &art]));
    assert_eq!(programme_ids(&zone, json!({"age": 12})).await, sorted(&[&football, &art]));
    assert_eq!(programme_ids(&zone, json!({"age": 17})).await, Vec::<String>::new());
    // By partner.
    assert_eq!(programme_ids(&zone, json!({"partnerId": zone.partner_1})).await, sorted(&[&young, &art]));
    assert_eq!(programme_ids(&zone, json!({"partnerId": zone.partner_2})).await, vec![football.clone()]);
    // By capacity: nothing is full until the one place of Young Leaders is taken.
    assert_eq!(programme_ids(&zone, json!({"hasCapacity": true})).await, all);
    assert_eq!(programme_ids(&zone, json!({"hasCapacity": false})).await, Vec::<String>::new());
    zone.ready_for_referral(&zone.child_a1, &[&zone.partner_1]).await;
    zone.refer(&zone.child_a1, &young, ReferralStatus::Accepted).await;
    assert_eq!(programme_ids(&zone, json!({"hasCapacity": true})).await, sorted(&[&football, &art]));
    assert_eq!(programme_ids(&zone, json!({"hasCapacity": false})).await, vec![young.clone()]);
    assert_eq!(
        programme_ids(&zone, json!({"hasCapacity": true, "partnerId": zone.partner_1})).await,
        vec![art.clone()]
    );
    let full = zone
        .as_(&zone.link_worker, "query($id: ID!) { programme(id: $id) { placesTaken } }", json!({"id": young}))
        .await;
    assert_eq!(full["data"]["programme"]["placesTaken"], 1, "{full}");

    // Paused programmes are hidden by default and listed with status: PAUSED.
    let paused =
        update_programme(&zone, &zone.partner_lead, &art, &fixture_programme_input("Art Club", 5), Some("PAUSED"))
            .await;
    assert_ok(&paused);
    assert_eq!(paused["data"]["updateProgramme"]["status"], "PAUSED");
    assert_eq!(programme_ids(&zone, json!({})).await, sorted(&[&young, &football]));
    assert_eq!(programme_ids(&zone, Value::Null).await, sorted(&[&young, &football]));
    assert_eq!(programme_ids(&zone, json!({"status": "PAUSED"})).await, vec![art.clone()]);
    assert_eq!(
        programme_ids(&zone, json!({"status": "PAUSED", "partnerId": zone.partner_2})).await,
        Vec::<String>::new()
    );

    // Pages: first: 1, then after the cursor; together they are the whole (active) list.
    let page = "query($after: String) { programmes(first: 1, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }";
    let one = zone.as_(&zone.partner_worker, page, json!({"after": null})).await;
    assert_ok(&one);
    let one = &one["data"]["programmes"];
    assert_eq!(one["edges"].as_array().map(Vec::len), Some(1));
    assert_eq!(one["pageInfo"]["hasNextPage"], true);
    let cursor = s(one, "/pageInfo/endCursor");
    assert_eq!(cursor, s(one, "/edges/0/cursor"));
    let two = zone.as_(&zone.partner_worker, page, json!({"after": cursor})).await;
    assert_ok(&two);
    let two = &two["data"]["programmes"];
    assert_eq!(two["edges"].as_array().map(Vec::len), Some(1));
    assert_eq!(two["pageInfo"]["hasNextPage"], false);
    let both = sorted(&[&s(one, "/edges/0/node/id"), &s(two, "/edges/0/node/id")]);
    assert_eq!(both, sorted(&[&young, &football]));
    let bad = zone.as_(&zone.partner_worker, page, json!({"after": "not-a-cursor"})).await;
    assert_invalid(&bad, "after");
}

#[tokio::test]
async fn programme_validation_names_the_field_and_capacity_cannot_go_below_places_taken() {
    let zone = Zone::new().await;
    let with = |key: &str, value: Value| {
        let mut input = programme_input("Young Leaders");
        input[key] = value;
        input
    };
    let cases = [
        (with("domains", json!([])), "domains"),
        (with("minimumAge", json!(12)), "maximumAge"),
        (with("maximumAge", json!(26)), "maximumAge"),
        (json!({"attendingType": "IN_PERSON", "locationName": null}), "locationName"),
        (json!({"attendingType": "IN_PERSON", "locationName": "   "}), "locationName"),
        (with("capacity", json!(0)), "capacity"),
        (with("name", json!("  ")), "name"),
        (with("postcode", json!("nowhere")), "postcode"),
    ];
    for (input, field) in cases {
        let mut full = programme_input("Young Leaders");
        for (k, v) in input.as_object().cloned().unwrap_or_default() {
            full[k] = v;
        }
        assert_invalid(&create_programme(&zone, &zone.partner_lead, &full).await, field);
    }
    // Online programmes need no location.
    let mut online = programme_input("Online Tutoring");
    online["attendingType"] = json!("ONLINE");
    online["locationName"] = Value::Null;
    online["postcode"] = Value::Null;
    let created = create_programme(&zone, &zone.partner_lead, &online).await;
    assert_ok(&created);
    let online_id = s(&created, "/data/createProgramme/id");
    assert_eq!(programme_ids(&zone, json!({"status": "ACTIVE"})).await, vec![online_id], "nothing else was written");
    // Partner workers do not manage programmes; a lead does not manage another partner's.
    assert_refused(&create_programme(&zone, &zone.partner_worker, &programme_input("X")).await, "FORBIDDEN");
    let theirs = zone.programme(&zone.partner_2, "Football Club", 10).await;
    let other =
        update_programme(&zone, &zone.partner_lead, &theirs, &fixture_programme_input("Mine now", 10), None).await;
    assert_refused(&other, "FORBIDDEN");

    // Two of three places taken: capacity may go down to 2, not to 1.
    let mut three = programme_input("Homework Club");
    three["capacity"] = json!(3);
    three["minimumAge"] = json!(5);
    let created = create_programme(&zone, &zone.partner_lead, &three).await;
    assert_ok(&created);
    let id = s(&created, "/data/createProgramme/id");
    for child in [&zone.child_a1, &zone.child_a2] {
        zone.ready_for_referral(child, &[&zone.partner_1]).await;
        zone.refer(child, &id, ReferralStatus::Accepted).await;
    }
    let mut lower = three.clone();
    lower["capacity"] = json!(1);
    let refused = update_programme(&zone, &zone.partner_lead, &id, &lower, None).await;
    assert_refused(&refused, "CONFLICT");
    let now = zone
        .as_(&zone.partner_lead, "query($id: ID!) { programme(id: $id) { capacity placesTaken } }", json!({"id": id}))
        .await;
    assert_eq!(now["data"]["programme"], json!({"capacity": 3, "placesTaken": 2}));
    lower["capacity"] = json!(0);
    assert_invalid(&update_programme(&zone, &zone.partner_lead, &id, &lower, None).await, "capacity");
    lower["capacity"] = json!(2);
    let ok = update_programme(&zone, &zone.partner_lead, &id, &lower, None).await;
    assert_ok(&ok);
    assert_eq!(ok["data"]["updateProgramme"]["capacity"], 2);
}

// ---------------------------------------------------------------------------------------
// Referrals
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_referral_from_proposal_to_completion_is_stamped_counted_and_audited() {
    let zone = Zone::new().await;
    let c = zone.child_a1.clone();
    zone.ready_for_referral(&c, &[&zone.partner_1]).await;
    let p = zone.programme(&zone.partner_1, "Mentoring", 5).await;
    let p2 = zone.programme(&zone.partner_1, "Chess Club", 5).await;

    let proposed = propose(&zone, &zone.link_worker, &c, &p, Some("Discussed with mum")).await;
    assert_ok(&proposed);
    assert_eq!(proposed["data"]["proposeReferral"]["status"], "PROPOSED");
    let r = s(&proposed, "/data/proposeReferral/id");
    // The partner does not see a proposal.
    assert_refused(&read_referral(&zone, &zone.partner_worker, &r).await, "NOT_FOUND");

    let sent = send(&zone, &zone.link_worker, &r, Some("Sent after review")).await;
    assert_ok(&sent);
    assert_eq!(sent["data"]["sendReferral"]["status"], "SENT");
    let inbox = zone
        .as_(
            &zone.partner_worker,
            "{ referralsInbox(state: NEW) { edges { node { id needs child { firstName } } } } }",
            json!({}),
        )
        .await;
    assert_ok(&inbox);
    assert_eq!(
        inbox["data"]["referralsInbox"]["edges"],
        json!([{"node": {"id": r, "needs": "Low confidence; finds groups hard", "child": {"firstName": "Ada"}}}])
    );

    let accepted = respond(&zone, &zone.partner_worker, &r, true, None, Some("Place offered")).await;
    assert_ok(&accepted);
    assert_eq!(accepted["data"]["respondToReferral"]["status"], "ACCEPTED");
    // Completing an accepted referral (no session yet) is illegal, and changes nothing.
    assert_refused(&complete(&zone, &zone.link_worker, &r, None).await, "CONFLICT");
    assert_eq!(status_of(&zone, &zone.link_worker, &r).await, "ACCEPTED");

    let session = log_session(
        &zone,
        &zone.partner_worker,
        &p,
        "2026-10-06",
        json!([attendee(&c, "ATTENDED", Some("FULLY_ENGAGED"))]),
    )
    .await;
    assert_ok(&session);
    assert_eq!(status_of(&zone, &zone.link_worker, &r).await, "ACTIVE");
    assert_ok(&propose(&zone, &zone.link_worker, &c, &p2, None).await);

    let package = "query($c: ID!) { child(id: $c) { supportPackage { open proposed sent accepted active completed declined withdrawn referrals { id status programme { name } partner { id } } } } }";
    let before = zone.as_(&zone.link_worker, package, json!({"c": c})).await;
    assert_ok(&before);
    let sp = &before["data"]["child"]["supportPackage"];
    let counts = |sp: &Value| {
        ["open", "proposed", "sent", "accepted", "active", "completed", "declined", "withdrawn"]
            .map(|k| sp[k].as_i64().unwrap_or(-1))
    };
    assert_eq!(counts(sp), [2, 1, 0, 0, 1, 0, 0, 0], "{sp}");

    let done = complete(&zone, &zone.partner_worker, &r, Some("Finished the term")).await;
    assert_ok(&done);
    assert_eq!(done["data"]["completeReferral"]["status"], "COMPLETED");
    assert_refused(&complete(&zone, &zone.link_worker, &r, None).await, "CONFLICT");

    let read = read_referral(&zone, &zone.link_worker, &r).await;
    assert_ok(&read);
    let lw = zone.link_worker.id.as_str();
    let pw = zone.partner_worker.id.as_str();
    assert_eq!(
        read["data"]["referral"]["history"],
        json!([
            {"from": null, "to": "PROPOSED", "actorId": lw, "note": "Discussed with mum"},
            {"from": "PROPOSED", "to": "SENT", "actorId": lw, "note": "Sent after review"},
            {"from": "SENT", "to": "ACCEPTED", "actorId": pw, "note": "Place offered"},
            {"from": "ACCEPTED", "to": "ACTIVE", "actorId": pw, "note": null},
            {"from": "ACTIVE", "to": "COMPLETED", "actorId": pw, "note": "Finished the term"},
        ])
    );
    let after = zone.as_(&zone.link_worker, package, json!({"c": c})).await;
    let sp = &after["data"]["child"]["supportPackage"];
    assert_eq!(counts(sp), [1, 1, 0, 0, 0, 1, 0, 0], "{sp}");
    let referrals = sp["referrals"].as_array().cloned().unwrap_or_default();
    assert_eq!(referrals.len(), 2);
    assert_eq!(
        referrals[0],
        json!({"id": r, "status": "COMPLETED", "programme": {"name": "Mentoring"}, "partner": {"id": zone.partner_1}})
    );
    assert_eq!(referrals[1]["status"], "PROPOSED");
    assert_eq!(referrals[1]["programme"]["name"], "Chess Club");

    // A contact, so that every kind of brokering event is on the trail.
    let contact = zone
        .as_(
            &zone.link_worker,
            "mutation($c: ID!) { logContact(input: {childId: $c, heldOn: \"2026-10-07\", minutes: 20, kind: INFORMAL, withWhom: [CHILD], content: \"Asked how mentoring went\"}) { id } }",
            json!({"c": c}),
        )
        .await;
    assert_ok(&contact);
    // Reading the programme's sessions reads their registers, audited per child shown. The
    // partner no longer sees this child (the referral is completed); the link worker does.
    let sessions = "query($p: ID!) { sessions(programmeId: $p) { edges { node { id attendees { child { id } } } } } }";
    let partners = zone.as_(&zone.partner_lead, sessions, json!({"p": p})).await;
    assert_eq!(partners["data"]["sessions"]["edges"][0]["node"]["attendees"], json!([]), "{partners}");
    let workers = zone.as_(&zone.link_worker, sessions, json!({"p": p})).await;
    assert_eq!(workers["data"]["sessions"]["edges"][0]["node"]["attendees"][0]["child"]["id"], json!(c), "{workers}");

    // The audit trail: each step with its actor, all about this child.
    let events = audit_events_for(&zone, &c).await;
    let by = |action: &str, actor: &str| {
        events.iter().any(|e| e.action == action && e.actor_user_id.as_deref() == Some(actor))
    };
    for (action, actor) in [
        ("referral.proposed", lw),
        ("referral.sent", lw),
        ("referral.accepted", pw),
        ("attendance.record", pw),
        ("referral.active", pw),
        ("referral.completed", pw),
        ("contact.log", lw),
        ("referral.read", lw),
        ("referral.read", pw),
        ("attendance.read", lw),
    ] {
        assert!(
            by(action, actor),
            "no {action} by {actor} among {:?}",
            events.iter().map(|e| &e.action).collect::<Vec<_>>()
        );
    }
    assert!(
        !by("attendance.read", &zone.partner_lead.id),
        "a register line the partner no longer sees was audited as read"
    );
    let sent_event = events.iter().find(|e| e.action == "referral.sent").expect("referral.sent");
    assert_eq!(sent_event.actor_role, "link_worker");
    assert_eq!(sent_event.fields, r#"["referral.status"]"#);
    assert!(sent_event.request_id.is_some());
    // The refused completion left no event.
    assert_eq!(events.iter().filter(|e| e.action == "referral.completed").count(), 1);
}

#[tokio::test]
async fn declining_and_withdrawing_need_reasons_and_illegal_moves_conflict() {
    let zone = Zone::new().await;
    let c = zone.child_a1.clone();
    zone.ready_for_referral(&c, &[&zone.partner_1]).await;
    let p = zone.programme(&zone.partner_1, "Homework Club", 5).await;

    let r = proposed_id(&zone, &zone.link_worker, &c, &p).await;
    // A second open referral of the same child to the same programme.
    assert_refused(&propose(&zone, &zone.link_worker, &c, &p, None).await, "CONFLICT");
    assert_ok(&send(&zone, &zone.link_worker, &r, None).await);
    assert_refused(&send(&zone, &zone.link_worker, &r, None).await, "CONFLICT");
    assert_refused(&propose(&zone, &zone.link_worker, &c, &p, None).await, "CONFLICT");
    // Only the partner answers.
    assert_refused(&respond(&zone, &zone.link_worker, &r, true, None, None).await, "FORBIDDEN");

    // Declining needs a reason; nothing changes without one.
    assert_invalid(&respond(&zone, &zone.partner_worker, &r, false, None, None).await, "reason");
    assert_invalid(&respond(&zone, &zone.partner_worker, &r, false, Some("   "), None).await, "reason");
    assert_eq!(status_of(&zone, &zone.partner_worker, &r).await, "SENT");
    let declined = respond(&zone, &zone.partner_worker, &r, false, Some("No places on Tuesdays"), None).await;
    assert_ok(&declined);
    assert_eq!(declined["data"]["respondToReferral"]["status"], "DECLINED");
    assert_eq!(declined["data"]["respondToReferral"]["reason"], "No places on Tuesdays");
    // The partner loses sight of it; the link worker reads the reason.
    assert_refused(&read_referral(&zone, &zone.partner_worker, &r).await, "NOT_FOUND");
    let read = read_referral(&zone, &zone.link_worker, &r).await;
    assert_eq!(read["data"]["referral"]["status"], "DECLINED");
    assert_eq!(read["data"]["referral"]["reason"], "No places on Tuesdays");
    // Declined is closed: no answer, send or withdrawal moves it (an admin may act for the
    // partner, and is still refused).
    assert_refused(&respond(&zone, &zone.admin, &r, true, None, None).await, "CONFLICT");
    assert_refused(&send(&zone, &zone.link_worker, &r, None).await, "CONFLICT");
    assert_refused(&withdraw(&zone, &zone.link_worker, &r, "Changed our mind").await, "CONFLICT");
    assert_eq!(status_of(&zone, &zone.link_worker, &r).await, "DECLINED");

    // A closed referral is no duplicate: the child may be referred again.
    let again = proposed_id(&zone, &zone.link_worker, &c, &p).await;
    assert_invalid(&withdraw(&zone, &zone.link_worker, &again, "").await, "reason");
    assert_invalid(&withdraw(&zone, &zone.link_worker, &again, "   ").await, "reason");
    assert_eq!(status_of(&zone, &zone.link_worker, &again).await, "PROPOSED");
    let withdrawn = withdraw(&zone, &zone.link_worker, &again, "Family changed their mind").await;
    assert_ok(&withdrawn);
    assert_eq!(
        withdrawn["data"]["withdrawReferral"],
        json!({"id": again, "status": "WITHDRAWN", "reason": "Family changed their mind"})
    );
    assert_refused(&withdraw(&zone, &zone.link_worker, &again, "Twice").await, "CONFLICT");
    assert_refused(&send(&zone, &zone.link_worker, &again, None).await, "CONFLICT");
    let history = read_referral(&zone, &zone.link_worker, &again).await;
    let steps: Vec<Value> = history["data"]["referral"]["history"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|h| h["to"].clone())
        .collect();
    assert_eq!(steps, vec![json!("PROPOSED"), json!("WITHDRAWN")]);

    // Accepting needs a place free: of two referrals sent to a one-place programme, the
    // second answer cannot be yes (and changes nothing).
    let one_place = zone.programme(&zone.partner_1, "One Place", 1).await;
    zone.ready_for_referral(&zone.child_b1, &[&zone.partner_1]).await;
    let first = zone.refer(&zone.child_b1, &one_place, ReferralStatus::Sent).await;
    let second = proposed_id(&zone, &zone.link_worker, &c, &one_place).await;
    assert_ok(&send(&zone, &zone.link_worker, &second, None).await);
    assert_ok(&respond(&zone, &zone.partner_worker, &first, true, None, None).await);
    let full = respond(&zone, &zone.partner_worker, &second, true, None, None).await;
    assert_refused(&full, "CONFLICT");
    assert!(full["errors"][0]["message"].as_str().unwrap_or("").contains("full"), "{full}");
    assert_eq!(status_of(&zone, &zone.partner_worker, &second).await, "SENT");

    // Partners may not withdraw; withdrawing an accepted referral frees its place.
    assert_refused(&withdraw(&zone, &zone.partner_worker, &first, "We are full").await, "FORBIDDEN");
    assert_ok(&withdraw(&zone, &zone.link_worker_b, &first, "Moving school").await);
    assert_refused(&read_referral(&zone, &zone.partner_worker, &first).await, "NOT_FOUND");
    let accepted = respond(&zone, &zone.partner_worker, &second, true, None, None).await;
    assert_ok(&accepted);
    assert_eq!(accepted["data"]["respondToReferral"]["status"], "ACCEPTED");
    let third = proposed_id(&zone, &zone.link_worker, &c, &p).await;
    assert_ok(&send(&zone, &zone.link_worker, &third, None).await);
    assert_eq!(status_of(&zone, &zone.partner_worker, &third).await, "SENT");
}

#[tokio::test]
async fn send_is_refused_unless_enrolled_consented_and_the_programme_open() {
    let zone = Zone::new().await;
    let open = zone.programme(&zone.partner_1, "Open Club", 5).await;

    // Not enrolled: consent covers the partner, but the child is only identified.
    let consent = zone
        .as_(
            &zone.link_worker,
            "mutation($c: ID!, $p: [ID!]!) { recordConsent(input: {childId: $c, givenBy: PARENT, givenByName: \"Pat Testchild\", givenOn: \"2026-02-01\", purposes: [REFERRAL], partnerIds: $p, evidence: \"Signed form\"}) { id } }",
            json!({"c": zone.child_a1, "p": [zone.partner_1]}),
        )
        .await;
    assert_ok(&consent);
    let not_enrolled = proposed_id(&zone, &zone.link_worker, &zone.child_a1, &open).await;
    let refused = send(&zone, &zone.link_worker, &not_enrolled, None).await;
    assert_refused(&refused, "CONFLICT");
    assert!(refused["errors"][0]["message"].as_str().unwrap_or("").contains("enrol"), "{refused}");

    // Enrolled, but the consent covers another partner only.
    zone.ready_for_referral(&zone.child_a2, &[&zone.partner_2]).await;
    let uncovered = proposed_id(&zone, &zone.link_worker_2, &zone.child_a2, &open).await;
    let refused = send(&zone, &zone.link_worker_2, &uncovered, None).await;
    assert_refused(&refused, "CONFLICT");
    assert!(refused["errors"][0]["message"].as_str().unwrap_or("").contains("consent"), "{refused}");

    // Ready, but the programme is paused.
    zone.ready_for_referral(&zone.child_b1, &[&zone.partner_1]).await;
    let paused_programme = zone.programme(&zone.partner_1, "Paused Club", 5).await;
    let to_paused = proposed_id(&zone, &zone.link_worker_b, &zone.child_b1, &paused_programme).await;
    let input = fixture_programme_input("Paused Club", 5);
    assert_ok(&update_programme(&zone, &zone.partner_lead, &paused_programme, &input, Some("PAUSED")).await);
    let refused = send(&zone, &zone.link_worker_b, &to_paused, None).await;
    assert_refused(&refused, "CONFLICT");
    assert!(refused["errors"][0]["message"].as_str().unwrap_or("").contains("paused"), "{refused}");

    // Ready, but the programme's one place is taken.
    let full = zone.programme(&zone.partner_1, "Full Club", 1).await;
    let filler = zone.add_child("Fay", &zone.anchor_b, &zone.link_worker_b.id).await;
    zone.ready_for_referral(&filler, &[&zone.partner_1]).await;
    zone.refer(&filler, &full, ReferralStatus::Accepted).await;
    let to_full = proposed_id(&zone, &zone.link_worker_b, &zone.child_b1, &full).await;
    let refused = send(&zone, &zone.link_worker_b, &to_full, None).await;
    assert_refused(&refused, "CONFLICT");
    assert!(refused["errors"][0]["message"].as_str().unwrap_or("").contains("full"), "{refused}");

    // Nothing changed: each is still a proposal with one step of history, unseen by the partner.
    for (who, r) in [
        (&zone.link_worker, &not_enrolled),
        (&zone.link_worker_2, &uncovered),
        (&zone.link_worker_b, &to_paused),
        (&zone.link_worker_b, &to_full),
    ] {
        let read = read_referral(&zone, who, r).await;
        assert_ok(&read);
        assert_eq!(read["data"]["referral"]["status"], "PROPOSED");
        assert_eq!(read["data"]["referral"]["history"].as_array().map(Vec::len), Some(1), "{read}");
        assert_refused(&read_referral(&zone, &zone.partner_worker, r).await, "NOT_FOUND");
    }
    let events = audit_events_for(&zone, &zone.child_b1).await;
    assert!(events.iter().all(|e| e.action != "referral.sent"), "a refused send is not recorded");

    // Reopened, the paused programme takes the referral.
    assert_ok(&update_programme(&zone, &zone.partner_lead, &paused_programme, &input, Some("ACTIVE")).await);
    let sent = send(&zone, &zone.link_worker_b, &to_paused, None).await;
    assert_ok(&sent);
    assert_eq!(sent["data"]["sendReferral"]["status"], "SENT");
}

// ---------------------------------------------------------------------------------------
// Sessions, registers and engagement
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_register_with_one_bad_line_writes_nothing() {
    let zone = Zone::new().await;
    let (a1, a2, b1) = (zone.child_a1.clone(), zone.child_a2.clone(), zone.child_b1.clone());
    for c in [&a1, &a2, &b1] {
        zone.ready_for_referral(c, &[&zone.partner_1]).await;
    }
    let p = zone.programme(&zone.partner_1, "Drama", 10).await;
    let r1 = zone.refer(&a1, &p, ReferralStatus::Accepted).await;
    let r2 = zone.refer(&a2, &p, ReferralStatus::Accepted).await;
    let r3 = zone.refer(&b1, &p, ReferralStatus::Sent).await; // sent, not yet accepted
    let stranger = uuid::Uuid::now_v7().to_string();
    let good = |c: &str| attendee(c, "ATTENDED", Some("FULLY_ENGAGED"));
    let today = date_from_today(0);
    let tomorrow = date_from_today(1);

    let cases = [
        ("2026-10-01", json!([good(&a1), good(&b1)]), "attendees[1].childId"),
        ("2026-10-01", json!([good(&a1), good(&stranger)]), "attendees[1].childId"),
        ("2026-10-01", json!([good(&a1), attendee(&a1, "ABSENT", None)]), "attendees[1].childId"),
        ("2026-10-01", json!([good(&a1), attendee(&a2, "ATTENDED", None)]), "attendees[1].engagement"),
        ("2026-10-01", json!([good(&a1), attendee(&a2, "ABSENT", Some("PARTICIPATING"))]), "attendees[1].engagement"),
        ("2026-10-01", json!([good(&a1), attendee(&a2, "CANCELLED", Some("DISENGAGED"))]), "attendees[1].engagement"),
        ("2026-10-01", json!([good(&a1), good(&a2), attendee("not-an-id", "ABSENT", None)]), "attendees[2].childId"),
        (tomorrow.as_str(), json!([good(&a1), good(&a2)]), "heldOn"),
        ("2026-13-01", json!([good(&a1), good(&a2)]), "heldOn"),
        ("2026-10-01", json!([]), "attendees"),
    ];
    for (held_on, attendees, field) in cases {
        let body = log_session(&zone, &zone.partner_worker, &p, held_on, attendees.clone()).await;
        assert_eq!(error_code(&body), Some("INVALID_INPUT"), "{attendees}: {body}");
        assert_eq!(error_field(&body), Some(field), "{attendees}: {body}");
    }
    // Another partner's staff may not log this programme's sessions.
    assert_refused(
        &log_session(&zone, &zone.partner_worker_2, &p, "2026-10-01", json!([good(&a1)])).await,
        "FORBIDDEN",
    );

    // Nothing was written: no session, no register line, no referral moved.
    let sessions =
        "query($p: ID!) { sessions(programmeId: $p) { edges { node { id attendees { status child { id } } } } } }";
    let none = zone.as_(&zone.partner_worker, sessions, json!({"p": p})).await;
    assert_ok(&none);
    assert_eq!(none["data"]["sessions"]["edges"], json!([]));
    for (r, status) in [(&r1, "ACCEPTED"), (&r2, "ACCEPTED"), (&r3, "SENT")] {
        assert_eq!(status_of(&zone, &zone.partner_worker, r).await, status);
    }
    for c in [&a1, &a2, &b1] {
        assert!(audit_events_for(&zone, c).await.iter().all(|e| e.action != "attendance.record"));
    }

    // A good group register, held today: one session, each line, and only the attendee starts.
    let ok = log_session(
        &zone,
        &zone.partner_worker,
        &p,
        &today,
        json!([attendee(&a1, "ATTENDED", Some("PARTICIPATING")), attendee(&a2, "ABSENT", None)]),
    )
    .await;
    assert_ok(&ok);
    let s1 = &ok["data"]["logSession"];
    assert_eq!(s1["kind"], "GROUP");
    assert_eq!(s1["heldOn"], today.as_str());
    assert_eq!(
        s1["attendees"],
        json!([
            {"status": "ATTENDED", "engagement": "PARTICIPATING", "child": {"id": a1}},
            {"status": "ABSENT", "engagement": null, "child": {"id": a2}},
        ])
    );
    let one = zone.as_(&zone.partner_worker, sessions, json!({"p": p})).await;
    assert_eq!(one["data"]["sessions"]["edges"].as_array().map(Vec::len), Some(1));
    assert_eq!(status_of(&zone, &zone.partner_worker, &r1).await, "ACTIVE");
    assert_eq!(status_of(&zone, &zone.partner_worker, &r2).await, "ACCEPTED");
}

/// The engagement figures of one summary, floats compared as numbers.
#[allow(clippy::too_many_arguments)]
fn assert_engagement(
    e: &Value,
    offered: i64,
    attended: i64,
    rate: Option<f64>,
    mean: Option<f64>,
    last_attended: Option<&str>,
    contacts: Option<i64>,
    last_contact: Option<&str>,
) {
    assert_eq!(e["sessionsOffered"].as_i64(), Some(offered), "offered: {e}");
    assert_eq!(e["sessionsAttended"].as_i64(), Some(attended), "attended: {e}");
    assert_eq!(e["attendanceRate"].as_f64(), rate, "rate: {e}");
    assert_eq!(e["meanEngagement"].as_f64(), mean, "mean engagement: {e}");
    assert_eq!(e["lastAttended"].as_str(), last_attended, "last attended: {e}");
    assert_eq!(e["contacts"].as_i64(), contacts, "contacts: {e}");
    assert_eq!(e["lastContact"].as_str(), last_contact, "last contact: {e}");
}

#[tokio::test]
async fn engagement_counts_attended_and_absent_but_not_cancelled_within_the_callers_scope() {
    let zone = Zone::new().await;
    let (a1, a2) = (zone.child_a1.clone(), zone.child_a2.clone());
    zone.ready_for_referral(&a1, &[&zone.partner_1, &zone.partner_2]).await;
    zone.ready_for_referral(&a2, &[&zone.partner_1]).await;
    let p = zone.programme(&zone.partner_1, "Drama", 10).await;
    let q = zone.programme(&zone.partner_2, "Football", 10).await;
    let r1 = zone.refer(&a1, &p, ReferralStatus::Accepted).await;
    let r2 = zone.refer(&a2, &p, ReferralStatus::Accepted).await;
    let rq = zone.refer(&a1, &q, ReferralStatus::Accepted).await;

    let a = |c: &str, st: &str, e: Option<&str>| attendee(c, st, e);
    let register = [
        ("2026-09-07", json!([a(&a1, "ATTENDED", Some("FULLY_ENGAGED")), a(&a2, "ABSENT", None)])),
        ("2026-09-14", json!([a(&a1, "ATTENDED", Some("DISENGAGED")), a(&a2, "ATTENDED", Some("DISENGAGED"))])),
        ("2026-09-21", json!([a(&a1, "CANCELLED", None), a(&a2, "CANCELLED", None)])),
        ("2026-09-28", json!([a(&a1, "ABSENT", None), a(&a2, "ATTENDED", Some("FULLY_ENGAGED"))])),
        ("2026-10-05", json!([a(&a1, "ATTENDED", Some("PARTICIPATING")), a(&a2, "ABSENT", None)])),
        ("2026-10-19", json!([a(&a1, "CANCELLED", None), a(&a2, "CANCELLED", None)])),
    ];
    for (held_on, attendees) in register {
        assert_ok(&log_session(&zone, &zone.partner_worker, &p, held_on, attendees).await);
    }
    assert_ok(
        &log_session(&zone, &zone.partner_worker_2, &q, "2026-10-12", json!([a(&a1, "ATTENDED", Some("DISENGAGED"))]))
            .await,
    );

    let query = "query($c: ID!) { child(id: $c) {
        engagement { sessionsOffered sessionsAttended attendanceRate meanEngagement lastAttended contacts contactMinutes lastContact }
        supportPackage { referrals { id status engagement { sessionsOffered sessionsAttended attendanceRate meanEngagement lastAttended contacts contactMinutes lastContact } } }
    } }";
    let read = |who: &'static str, c: String| {
        let zone = &zone;
        async move {
            let account = match who {
                "lead" => &zone.anchor_lead,
                _ => &zone.partner_worker,
            };
            let body = zone.as_(account, query, json!({"c": c})).await;
            assert_ok(&body);
            body["data"]["child"].clone()
        }
    };
    let referral_engagement = |child: &Value, id: &str| {
        child["supportPackage"]["referrals"]
            .as_array()
            .and_then(|rs| rs.iter().find(|r| r["id"] == id).cloned())
            .map(|r| r["engagement"].clone())
            .unwrap_or(Value::Null)
    };

    // The anchor lead sees both partners' sessions: for Ada, 4 offered and 3 attended at
    // Drama (engagement 3 + 1 + 2), 1 of 1 at Football (engagement 1); cancelled ones don't count.
    let ada = read("lead", a1.clone()).await;
    assert_engagement(&ada["engagement"], 5, 4, Some(0.8), Some(1.75), Some("2026-10-12"), Some(0), Some("2026-10-12"));
    assert_eq!(ada["engagement"]["contactMinutes"], 0);
    let e = referral_engagement(&ada, &r1);
    assert_engagement(&e, 4, 3, Some(0.75), Some(2.0), Some("2026-10-05"), None, Some("2026-10-05"));
    assert!(e["contactMinutes"].is_null());
    assert_engagement(
        &referral_engagement(&ada, &rq),
        1,
        1,
        Some(1.0),
        Some(1.0),
        Some("2026-10-12"),
        None,
        Some("2026-10-12"),
    );
    assert_eq!(
        ada["supportPackage"]["referrals"].as_array().map(|rs| rs.iter().all(|r| r["status"] == "ACTIVE")),
        Some(true)
    );

    // Bea: 4 offered, 2 attended (engagement 1 + 3).
    let bea = read("lead", a2.clone()).await;
    assert_engagement(&bea["engagement"], 4, 2, Some(0.5), Some(2.0), Some("2026-09-28"), Some(0), Some("2026-09-28"));
    assert_engagement(
        &referral_engagement(&bea, &r2),
        4,
        2,
        Some(0.5),
        Some(2.0),
        Some("2026-09-28"),
        None,
        Some("2026-09-28"),
    );

    // Partner 1 counts only its own sessions, and sees no link-worker contact figures.
    let ada_p1 = read("partner", a1.clone()).await;
    assert_engagement(&ada_p1["engagement"], 4, 3, Some(0.75), Some(2.0), Some("2026-10-05"), None, Some("2026-10-05"));
    assert!(ada_p1["engagement"]["contactMinutes"].is_null());
    assert_eq!(ada_p1["supportPackage"]["referrals"].as_array().map(Vec::len), Some(1), "only its own referral");
    assert_engagement(
        &referral_engagement(&ada_p1, &r1),
        4,
        3,
        Some(0.75),
        Some(2.0),
        Some("2026-10-05"),
        None,
        Some("2026-10-05"),
    );

    // Nothing offered yet: no rate, no mean.
    let r_new = proposed_id(&zone, &zone.link_worker_2, &a2, &zone.programme(&zone.partner_1, "Art", 5).await).await;
    let bea = read("lead", a2.clone()).await;
    assert_engagement(&referral_engagement(&bea, &r_new), 0, 0, None, None, None, None, None);
}

#[tokio::test]
async fn contacts_are_validated_and_counted_exactly() {
    let zone = Zone::new().await;
    let c = zone.child_a1.clone();
    let log = |who: &'static str, input: Value| {
        let zone = &zone;
        async move {
            let account = if who == "lw2" { &zone.link_worker_2 } else { &zone.link_worker };
            zone.as_(
                account,
                "mutation($i: LogContactInput!) { logContact(input: $i) { id heldOn minutes kind withWhom content linkWorker { id } } }",
                json!({"i": input}),
            )
            .await
        }
    };
    let input = |held_on: &str, minutes: i64, kind: &str, with_whom: Value, content: &str| json!({"childId": c, "heldOn": held_on, "minutes": minutes, "kind": kind, "withWhom": with_whom, "content": content});
    let tomorrow = date_from_today(1);
    for (bad, field) in [
        (input("2026-10-01", 30, "FORMAL", json!([]), "Home visit"), "withWhom"),
        (input("2026-10-01", 0, "FORMAL", json!(["PARENT"]), "Home visit"), "minutes"),
        (input("2026-10-01", 601, "FORMAL", json!(["PARENT"]), "Home visit"), "minutes"),
        (input(&tomorrow, 30, "FORMAL", json!(["PARENT"]), "Home visit"), "heldOn"),
        (input("01/10/2026", 30, "FORMAL", json!(["PARENT"]), "Home visit"), "heldOn"),
        (input("2026-10-01", 30, "FORMAL", json!(["PARENT"]), "   "), "content"),
    ] {
        assert_invalid(&log("lw", bad).await, field);
    }
    // Another link worker's child is not found.
    assert_refused(&log("lw2", input("2026-10-01", 30, "FORMAL", json!(["PARENT"]), "Home visit")).await, "NOT_FOUND");

    let first =
        log("lw", input("2026-10-01", 45, "FORMAL", json!(["PARENT", "CHILD", "PARENT"]), "  Home visit with mum  "))
            .await;
    assert_ok(&first);
    let logged = &first["data"]["logContact"];
    assert_eq!(logged["heldOn"], "2026-10-01");
    assert_eq!(logged["minutes"], 45);
    assert_eq!(logged["kind"], "FORMAL");
    assert_eq!(logged["withWhom"], json!(["CHILD", "PARENT"]), "sorted, without the duplicate");
    assert_eq!(logged["content"], "Home visit with mum", "trimmed");
    assert_eq!(logged["linkWorker"]["id"], zone.link_worker.id.as_str());
    assert_ok(&log("lw", input("2026-11-02", 10, "INFORMAL", json!(["CHILD"]), "Chat at the gate")).await);
    assert_ok(
        &log(
            "lw",
            input("2026-09-15", 5, "INFORMAL", json!(["SCHOOL_STAFF", "TRUSTED_ADULT"]), "Word with the class teacher"),
        )
        .await,
    );

    let read = zone
        .as_(
            &zone.link_worker,
            "query($c: ID!) { child(id: $c) { engagement { sessionsOffered contacts contactMinutes lastContact lastAttended } contacts(first: 10) { edges { node { kind withWhom minutes heldOn } } } } }",
            json!({"c": c}),
        )
        .await;
    assert_ok(&read);
    let child = &read["data"]["child"];
    assert_eq!(
        child["engagement"],
        json!({"sessionsOffered": 0, "contacts": 3, "contactMinutes": 60, "lastContact": "2026-11-02", "lastAttended": null})
    );
    assert_eq!(
        child["contacts"]["edges"],
        json!([
            {"node": {"kind": "FORMAL", "withWhom": ["CHILD", "PARENT"], "minutes": 45, "heldOn": "2026-10-01"}},
            {"node": {"kind": "INFORMAL", "withWhom": ["CHILD"], "minutes": 10, "heldOn": "2026-11-02"}},
            {"node": {"kind": "INFORMAL", "withWhom": ["SCHOOL_STAFF", "TRUSTED_ADULT"], "minutes": 5, "heldOn": "2026-09-15"}},
        ])
    );
    let page = zone
        .as_(
            &zone.link_worker,
            "query($c: ID!) { child(id: $c) { contacts(first: 2) { pageInfo { hasNextPage } } } }",
            json!({"c": c}),
        )
        .await;
    assert_eq!(page["data"]["child"]["contacts"]["pageInfo"]["hasNextPage"], true);
    let events = audit_events_for(&zone, &c).await;
    assert_eq!(
        events.iter().filter(|e| e.action == "contact.log").count(),
        3,
        "one event per contact, none for refusals"
    );
}

// ---------------------------------------------------------------------------------------
// Handover
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_handover_moves_the_child_and_their_open_referrals_only() {
    let zone = Zone::new().await;
    let c = zone.child_a1.clone();
    zone.ready_for_referral(&c, &[&zone.partner_1]).await;
    let p = zone.programme(&zone.partner_1, "Mentoring", 5).await;
    let p2 = zone.programme(&zone.partner_1, "Chess Club", 5).await;
    let open = zone.refer(&c, &p, ReferralStatus::Sent).await;
    let done = zone.refer(&c, &p2, ReferralStatus::Accepted).await;
    assert_ok(
        &log_session(
            &zone,
            &zone.partner_worker,
            &p2,
            "2026-10-01",
            json!([attendee(&c, "ATTENDED", Some("PARTICIPATING"))]),
        )
        .await,
    );
    assert_ok(&complete(&zone, &zone.partner_worker, &done, None).await);
    let worker_of = |who: &'static str, r: String| {
        let zone = &zone;
        async move {
            let account = if who == "lead" { &zone.anchor_lead } else { &zone.link_worker_2 };
            let body = read_referral(zone, account, &r).await;
            assert_ok(&body);
            s(&body, "/data/referral/linkWorker/id")
        }
    };
    assert_eq!(worker_of("lead", open.clone()).await, zone.link_worker.id);
    assert_ok(&read_referral(&zone, &zone.link_worker, &open).await);

    // Only the anchor lead (or an admin) hands over; only to a link worker.
    let assign = "mutation($c: ID!, $w: ID!, $n: String) { assignLinkWorker(childId: $c, linkWorkerId: $w, note: $n) {
        enrolment { linkWorker { id } }
        handovers { fromLinkWorker { id } toLinkWorker { id } fromAnchor { id } toAnchor { id } referralsMoved note actorId }
    } }";
    let vars = |w: &str| json!({"c": c, "w": w, "n": "Ada's worker is on long-term leave"});
    assert_refused(&zone.as_(&zone.link_worker, assign, vars(&zone.link_worker_2.id)).await, "FORBIDDEN");
    assert_invalid(&zone.as_(&zone.anchor_lead, assign, vars(&zone.partner_worker.id)).await, "linkWorkerId");
    assert_invalid(&zone.as_(&zone.anchor_lead, assign, vars(&zone.link_worker_b.id)).await, "linkWorkerId");
    assert_refused(&zone.as_(&zone.anchor_lead, assign, vars(&zone.link_worker.id)).await, "CONFLICT");

    let moved = zone.as_(&zone.anchor_lead, assign, vars(&zone.link_worker_2.id)).await;
    assert_ok(&moved);
    let child = &moved["data"]["assignLinkWorker"];
    assert_eq!(child["enrolment"]["linkWorker"]["id"], zone.link_worker_2.id.as_str());
    let handovers = child["handovers"].as_array().cloned().unwrap_or_default();
    assert_eq!(handovers.len(), 2, "the fixture's first assignment, then this one: {handovers:?}");
    assert_eq!(handovers[0]["fromLinkWorker"], Value::Null);
    assert_eq!(handovers[0]["toLinkWorker"]["id"], zone.link_worker.id.as_str());
    assert_eq!(
        handovers[1],
        json!({
            "fromLinkWorker": {"id": zone.link_worker.id},
            "toLinkWorker": {"id": zone.link_worker_2.id},
            "fromAnchor": {"id": zone.anchor_a},
            "toAnchor": {"id": zone.anchor_a},
            "referralsMoved": 1,
            "note": "Ada's worker is on long-term leave",
            "actorId": zone.anchor_lead.id,
        })
    );

    // The open referral follows the child; the completed one keeps its worker.
    assert_eq!(worker_of("lead", open.clone()).await, zone.link_worker_2.id);
    assert_eq!(worker_of("lw2", open.clone()).await, zone.link_worker_2.id);
    assert_eq!(worker_of("lead", done.clone()).await, zone.link_worker.id);

    // The old link worker loses sight of the child and every referral on the next request.
    let lw = &zone.link_worker;
    assert_refused(&zone.as_(lw, "query($c: ID!) { child(id: $c) { id } }", json!({"c": c})).await, "NOT_FOUND");
    assert_refused(&read_referral(&zone, lw, &open).await, "NOT_FOUND");
    assert_refused(&read_referral(&zone, lw, &done).await, "NOT_FOUND");
    assert_refused(&send(&zone, lw, &open, None).await, "NOT_FOUND");
    let caseload = "{ caseload(first: 50) { edges { node { id } } } }";
    let old = zone.as_(lw, caseload, json!({})).await;
    assert_ok(&old);
    assert_eq!(old["data"]["caseload"]["edges"], json!([]));
    let new = zone.as_(&zone.link_worker_2, caseload, json!({})).await;
    let ids: Vec<String> = new["data"]["caseload"]["edges"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|e| s(e, "/node/id"))
        .collect();
    assert_eq!(sorted(&ids.iter().collect::<Vec<_>>()), sorted(&[&c, &zone.child_a2]));
    // The new worker carries on: the partner accepts and the new worker is on the history.
    assert_ok(&respond(&zone, &zone.partner_worker, &open, true, None, None).await);
    assert_ok(&withdraw(&zone, &zone.link_worker_2, &open, "Family moving away").await);
    let history = read_referral(&zone, &zone.link_worker_2, &open).await;
    assert_eq!(history["data"]["referral"]["history"][3]["actorId"], zone.link_worker_2.id.as_str());
    let events = audit_events_for(&zone, &c).await;
    assert!(
        events
            .iter()
            .any(|e| e.action == "child.hand_over" && e.actor_user_id.as_deref() == Some(zone.anchor_lead.id.as_str()))
    );
}

#[tokio::test]
async fn a_partner_tells_two_children_of_one_name_apart_by_initial_and_reference() {
    let zone = Zone::new().await;
    let q = "mutation($l: String!) { identifyChild(input: {firstName: \"Kai\", lastName: $l, dateOfBirth: \
             \"2016-05-04\", yearGroup: 5, on: \"2025-01-06\"}) { id } }";
    let mut kais = Vec::new();
    for last in ["Walker", "jones"] {
        let body = zone.as_(&zone.link_worker, q, json!({ "l": last })).await;
        assert_ok(&body);
        kais.push(body["data"]["identifyChild"]["id"].as_str().expect("id").to_owned());
    }
    let p = zone.programme(&zone.partner_1, "Football", 10).await;
    let mut refs = Vec::new();
    for kai in &kais {
        zone.ready_for_referral(kai, &[&zone.partner_1]).await;
        zone.refer(kai, &p, ReferralStatus::Accepted).await;
    }
    let seen = "{ referralsInbox { edges { node { reference child { id firstName lastInitial lastName } } } } }";
    let body = zone.as_(&zone.partner_worker, seen, json!({})).await;
    assert_ok(&body);
    for kai in &kais {
        let node = body["data"]["referralsInbox"]["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| &e["node"])
            .find(|n| n["child"]["id"] == json!(kai))
            .unwrap_or_else(|| panic!("{kai} in {body}"))
            .clone();
        assert_eq!(node["child"]["firstName"], "Kai");
        assert!(node["child"]["lastName"].is_null(), "the surname stays withheld: {node}");
        let reference = node["reference"].as_str().expect("reference").to_owned();
        assert_eq!(reference.len(), 4);
        refs.push((node["child"]["lastInitial"].clone(), reference));
    }
    assert_eq!((refs[0].0.clone(), refs[1].0.clone()), (json!("W"), json!("J")));
    assert_ne!(refs[0].1, refs[1].1);
    // An analyst sees no initial (the pseudonymised view shows no part of a name).
    let c = "query($id: ID!) { child(id: $id) { lastInitial } }";
    let body = zone.as_(&zone.analyst, c, json!({ "id": kais[0] })).await;
    assert_ok(&body);
    assert!(body["data"]["child"]["lastInitial"].is_null(), "{body}");

    // A register error names the child as the partner sees them; a line of a child the
    // partner does not see keeps only its place.
    let good = |c: &str| attendee(c, "ATTENDED", Some("FULLY_ENGAGED"));
    let stranger = zone.child_a2.clone();
    let lines = json!([good(&kais[0]), attendee(&kais[0], "ABSENT", None), good(&stranger)]);
    let body = log_session(&zone, &zone.partner_worker, &p, "2026-10-01", lines).await;
    assert_refused(&body, "INVALID_INPUT");
    let message = body["errors"][0]["extensions"]["fields"][0]["message"].as_str().expect("message");
    assert_eq!(message, format!("Kai W. (ref {}): lists the same child twice", refs[0].1));
    let body =
        log_session(&zone, &zone.partner_worker, &p, "2026-10-01", json!([good(&kais[1]), good(&stranger)])).await;
    assert_refused(&body, "INVALID_INPUT");
    let problem = &body["errors"][0]["extensions"]["fields"][0];
    assert_eq!(problem["field"], "attendees[1].childId", "{body}");
    assert_eq!(problem["message"], "has no accepted or active referral to this programme", "no name: {body}");
}
