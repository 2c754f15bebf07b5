//! Correcting what was recorded: a child's details, a relationship, a contact, a progress
//! note. Each correction is checked as the original was, keeps the old value in a history
//! with who, when and why, is audited, and is refused (nothing written) to those the
//! access policy does not let correct it.

use backbone::startup::StartOptions;
use backbone::store::{audit_event, correction};
use backbone_tests::*;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

const UPDATE_CHILD: &str = "mutation($i: UpdateChildInput!) { updateChild(input: $i) { id lastName dateOfBirth \
    yearGroup postcode characteristics { eal } \
    corrections { field oldValue newValue reason correctedBy { id } correctedAt } } }";

const HISTORY: &str = "query($c: ID!) { child(id: $c) { firstName lastName \
    corrections { field oldValue newValue reason } } }";

async fn corrections_of(zone: &Zone, record: &str) -> Vec<correction::Model> {
    correction::Entity::find()
        .filter(correction::Column::RecordId.eq(record.to_owned()))
        .all(&zone.app.db)
        .await
        .expect("corrections")
}

async fn actions_for(zone: &Zone, child: &str) -> Vec<(String, String)> {
    audit_event::Entity::find()
        .filter(audit_event::Column::ChildId.eq(child.to_owned()))
        .all(&zone.app.db)
        .await
        .expect("events")
        .into_iter()
        .map(|e| (e.action, e.fields))
        .collect()
}

fn fields(body: &Value, path: &[&str]) -> Vec<String> {
    let mut v = &body["data"];
    for p in path {
        v = &v[*p];
    }
    v.as_array().expect("corrections").iter().map(|c| c["field"].as_str().expect("field").to_owned()).collect()
}

#[tokio::test]
async fn a_link_worker_corrects_a_childs_details_and_the_old_values_stay_in_the_history() {
    let zone = Zone::new().await;
    let lw = &zone.link_worker;
    let i = json!({"childId": zone.child_a1, "lastName": " Testchilde ", "postcode": null,
        "characteristics": {"eal": true}, "reason": "Surname misspelt at identification; family moved"});
    let body = zone.as_(lw, UPDATE_CHILD, json!({ "i": i })).await;
    assert_ok(&body);
    let child = &body["data"]["updateChild"];
    assert_eq!(child["lastName"], "Testchilde", "the new value, tidied");
    assert_eq!(child["postcode"], Value::Null, "null clears an optional detail");
    assert_eq!(child["characteristics"]["eal"], true);
    assert_eq!(child["dateOfBirth"], "2016-05-04", "what was not given is unchanged");
    let history = child["corrections"].as_array().expect("history");
    let by_field = |f: &str| history.iter().find(|c| c["field"] == f).unwrap_or_else(|| panic!("{f} in {history:?}"));
    assert_eq!(by_field("lastName")["oldValue"], "Testchild");
    assert_eq!(by_field("lastName")["newValue"], "Testchilde");
    assert_eq!(by_field("postcode")["oldValue"], "ZZ1 1ZZ");
    assert_eq!(by_field("postcode")["newValue"], Value::Null);
    assert_eq!(by_field("characteristics.eal")["oldValue"], "false");
    assert_eq!(by_field("lastName")["reason"], "Surname misspelt at identification; family moved");
    assert_eq!(by_field("lastName")["correctedBy"]["id"], lw.id.as_str());
    assert_eq!(history.len(), 3, "only the fields that changed: {history:?}");
    let audited = actions_for(&zone, &zone.child_a1).await;
    assert!(
        audited.iter().any(|(a, f)| a == "child.correct" && f.contains("lastName") && f.contains("postcode")),
        "{audited:?}"
    );

    // The anchor's lead may correct too (allowance), and the history grows.
    let i = json!({"childId": zone.child_a1, "dateOfBirth": "2016-06-04", "reason": "Birth certificate seen"});
    let body = zone.as_(&zone.anchor_lead, UPDATE_CHILD, json!({ "i": i })).await;
    assert_ok(&body);
    assert_eq!(fields(&body, &["updateChild", "corrections"]).len(), 4);
}

#[tokio::test]
async fn a_correction_is_checked_as_the_original_was_and_a_bad_one_writes_nothing() {
    let zone = Zone::new().await;
    let lw = &zone.link_worker;
    let try_ = async |i: Value| zone.as_(lw, UPDATE_CHILD, json!({ "i": i })).await;
    let c = &zone.child_a1;
    assert_invalid(&try_(json!({"childId": c, "lastName": "Smith", "reason": ""})).await, "reason");
    assert_invalid(&try_(json!({"childId": c, "lastName": "Smith", "reason": "   "})).await, "reason");
    assert_invalid(&try_(json!({"childId": c, "lastName": "Sm<i>th", "reason": "typo"})).await, "lastName");
    assert_invalid(&try_(json!({"childId": c, "dateOfBirth": "2016-02-30", "reason": "typo"})).await, "dateOfBirth");
    // A date of birth that does not fit the year group is refused as at identification.
    assert_invalid(&try_(json!({"childId": c, "dateOfBirth": "2010-05-04", "reason": "typo"})).await, "dateOfBirth");
    assert_invalid(&try_(json!({"childId": c, "upn": "X1", "reason": "typo"})).await, "upn");
    // Giving only what is already recorded changes nothing, and says so.
    assert_invalid(&try_(json!({"childId": c, "lastName": "Testchild", "reason": "typo"})).await, "input");
    // A partly bad correction writes none of it.
    let body = try_(json!({"childId": c, "firstName": "Adah", "postcode": "nope", "reason": "typo"})).await;
    assert_invalid(&body, "postcode");
    assert!(corrections_of(&zone, c).await.is_empty(), "no history was written");
    let now = zone.as_(lw, HISTORY, json!({ "c": c })).await;
    assert_eq!(now["data"]["child"]["firstName"], "Ada", "nothing was written");
}

#[tokio::test]
async fn only_those_who_may_write_to_the_record_correct_it() {
    let zone = Zone::new().await;
    let c = &zone.child_a1;
    zone.ready_for_referral(c, &[&zone.partner_1]).await;
    let programme = zone.programme(&zone.partner_1, "Mentoring", 5).await;
    zone.refer(c, &programme, backbone::domain::ReferralStatus::Accepted).await;
    let i = json!({"childId": c, "firstName": "Adah", "reason": "typo"});
    // Partners (who see the child), analysts and funders may not correct a child's record.
    for who in [&zone.partner_worker, &zone.partner_lead, &zone.analyst, &zone.funder] {
        assert_forbidden(&zone.as_(who, UPDATE_CHILD, json!({ "i": i })).await);
    }
    // Another link worker (not their caseload) and another anchor's lead: as if absent.
    for who in [&zone.link_worker_2, &zone.anchor_lead_b] {
        assert_not_found(&zone.as_(who, UPDATE_CHILD, json!({ "i": i })).await);
    }
    assert!(corrections_of(&zone, c).await.is_empty());
    // The admin may (allowance).
    assert_ok(&zone.as_(&zone.admin, UPDATE_CHILD, json!({ "i": i })).await);
}

#[tokio::test]
async fn the_history_shows_each_caller_only_the_fields_they_see() {
    let zone = Zone::new().await;
    let c = &zone.child_a1;
    zone.ready_for_referral(c, &[&zone.partner_1]).await;
    let programme = zone.programme(&zone.partner_1, "Mentoring", 5).await;
    zone.refer(c, &programme, backbone::domain::ReferralStatus::Accepted).await;
    let i = json!({"childId": c, "firstName": "Adah", "lastName": "Smyth", "yearGroup": 6,
        "reason": "Spelling from the school's records"});
    assert_ok(&zone.as_(&zone.link_worker, UPDATE_CHILD, json!({ "i": i })).await);

    // The partner sees the first name, so its correction; never the surname's.
    let partner = zone.as_(&zone.partner_worker, HISTORY, json!({ "c": c })).await;
    assert_ok(&partner);
    let seen = fields(&partner, &["child", "corrections"]);
    assert!(seen.contains(&"firstName".to_owned()) && seen.contains(&"yearGroup".to_owned()), "{seen:?}");
    assert!(!seen.contains(&"lastName".to_owned()), "the partner view has no surname: {seen:?}");
    assert!(!partner.to_string().contains("Smyth") && !partner.to_string().contains("Testchild"));

    // The analyst sees that the year group was corrected, not any value or the reason.
    let analyst = zone.as_(&zone.analyst, HISTORY, json!({ "c": c })).await;
    assert_ok(&analyst);
    assert_eq!(fields(&analyst, &["child", "corrections"]), vec!["yearGroup".to_owned()]);
    let entry = &analyst["data"]["child"]["corrections"][0];
    assert_eq!((&entry["oldValue"], &entry["reason"]), (&Value::Null, &Value::Null));

    // The link worker sees all three.
    let lw = zone.as_(&zone.link_worker, HISTORY, json!({ "c": c })).await;
    assert_eq!(fields(&lw, &["child", "corrections"]).len(), 3);
}

const ADD_RELATIONSHIP: &str = "mutation($c: ID!) { addRelationship(input: {childId: $c, kind: PARENT, \
    name: \"Pat Example\", involvement: MAIN_CONTACT, parentalResponsibility: true, phone: \"07700 900003\", \
    notes: \"Call after 4pm\"}) { id } }";

const UPDATE_RELATIONSHIP: &str = "mutation($i: UpdateRelationshipInput!) { updateRelationship(input: $i) { \
    name phone notes kind corrections { field oldValue newValue } } }";

#[tokio::test]
async fn relationships_are_corrected_with_their_rules_and_history() {
    let zone = Zone::new().await;
    let lw = &zone.link_worker;
    let made = zone.as_(lw, ADD_RELATIONSHIP, json!({ "c": zone.child_a1 })).await;
    assert_ok(&made);
    let r = made["data"]["addRelationship"]["id"].as_str().expect("id").to_owned();
    let update = async |who: &Account, i: Value| zone.as_(who, UPDATE_RELATIONSHIP, json!({ "i": i })).await;

    let body =
        update(lw, json!({"relationshipId": r, "phone": "07700 900004", "notes": null, "reason": "New number"})).await;
    assert_ok(&body);
    let written = &body["data"]["updateRelationship"];
    assert_eq!((&written["phone"], &written["notes"]), (&json!("07700 900004"), &Value::Null));
    assert_eq!(fields(&body, &["updateRelationship", "corrections"]), vec!["phone", "notes"]);

    // The same rule as when adding: a trusted adult holds no parental responsibility.
    let body = update(lw, json!({"relationshipId": r, "kind": "TRUSTED_ADULT", "reason": "Is a neighbour"})).await;
    assert_invalid(&body, "parentalResponsibility");
    let body = update(
        lw,
        json!({"relationshipId": r, "kind": "TRUSTED_ADULT", "parentalResponsibility": false,
        "reason": "Is a neighbour"}),
    )
    .await;
    assert_ok(&body);

    // A partner may not; a link worker without the child on their caseload finds nothing.
    let i = json!({"relationshipId": r, "name": "Pat Other", "reason": "typo"});
    assert_forbidden(&update(&zone.partner_worker, i.clone()).await);
    assert_not_found(&update(&zone.link_worker_2, i.clone()).await);
    assert_not_found(&update(lw, json!({"relationshipId": missing_id(), "name": "X", "reason": "typo"})).await);
    assert_eq!(corrections_of(&zone, &r).await.len(), 4, "phone, notes, kind, parental responsibility");
}

const LOG_CONTACT: &str = "mutation($c: ID!) { logContact(input: {childId: $c, heldOn: \"2025-10-08\", \
    minutes: 15, kind: INFORMAL, withWhom: [CHILD], content: \"Chat at the gate\"}) { id } }";

const CORRECT_CONTACT: &str = "mutation($i: CorrectContactInput!) { correctContact(input: $i) { \
    heldOn minutes withWhom content corrections { field oldValue newValue } } }";

#[tokio::test]
async fn contacts_are_corrected_by_those_who_log_them() {
    let zone = Zone::new().await;
    let lw = &zone.link_worker;
    let made = zone.as_(lw, LOG_CONTACT, json!({ "c": zone.child_a1 })).await;
    assert_ok(&made);
    let id = made["data"]["logContact"]["id"].as_str().expect("id").to_owned();
    let correct = async |who: &Account, i: Value| zone.as_(who, CORRECT_CONTACT, json!({ "i": i })).await;

    let i = json!({"contactId": id, "heldOn": "2025-10-09", "minutes": 20, "withWhom": ["CHILD", "PARENT"],
        "reason": "Logged against the wrong day"});
    let body = correct(lw, i).await;
    assert_ok(&body);
    let written = &body["data"]["correctContact"];
    assert_eq!((&written["heldOn"], &written["minutes"]), (&json!("2025-10-09"), &json!(20)));
    let history = written["corrections"].as_array().expect("history");
    assert!(
        history.iter().any(|c| c["field"] == "withWhom" && c["oldValue"] == "CHILD" && c["newValue"] == "CHILD,PARENT")
    );

    // As when logging: not in the future, not before birth, with someone, 1–600 minutes.
    for (i, field) in [
        (json!({"contactId": id, "heldOn": "2999-01-01", "reason": "r"}), "heldOn"),
        (json!({"contactId": id, "heldOn": "2001-01-01", "reason": "r"}), "heldOn"),
        (json!({"contactId": id, "withWhom": [], "reason": "r"}), "withWhom"),
        (json!({"contactId": id, "minutes": 0, "reason": "r"}), "minutes"),
    ] {
        assert_invalid(&correct(lw, i).await, field);
    }
    let i = json!({"contactId": id, "content": "Chat at the gate with mum", "reason": "r"});
    for who in [&zone.partner_worker, &zone.analyst, &zone.funder] {
        assert_forbidden(&correct(who, i.clone()).await);
    }
    assert_not_found(&correct(&zone.link_worker_2, i.clone()).await);
    assert_ok(&correct(&zone.anchor_lead, i).await);
    assert_eq!(corrections_of(&zone, &id).await.len(), 4, "heldOn, minutes, withWhom, then content");
}

const ADD_NOTE: &str = "mutation($c: ID!) { addProgressNote(input: {childId: $c, body: \"Settling in\", \
    visibility: SHARED_WITH_LINK_WORKER}) { id } }";

const CORRECT_NOTE: &str = "mutation($i: CorrectProgressNoteInput!) { correctProgressNote(input: $i) { \
    body visibility corrections { field oldValue newValue reason } } }";

#[tokio::test]
async fn a_note_is_corrected_only_by_its_own_organisation() {
    let zone = Zone::new().await;
    let c = &zone.child_a1;
    zone.ready_for_referral(c, &[&zone.partner_1]).await;
    let programme = zone.programme(&zone.partner_1, "Mentoring", 5).await;
    zone.refer(c, &programme, backbone::domain::ReferralStatus::Accepted).await;
    let made = zone.as_(&zone.partner_worker, ADD_NOTE, json!({ "c": c })).await;
    assert_ok(&made);
    let note = made["data"]["addProgressNote"]["id"].as_str().expect("id").to_owned();
    let correct = async |who: &Account, i: Value| zone.as_(who, CORRECT_NOTE, json!({ "i": i })).await;
    let i = json!({"noteId": note, "body": "Settling in well", "reason": "Finished the sentence"});

    // Its partner (within the window) may; its lead too.
    let body = correct(&zone.partner_worker, i.clone()).await;
    assert_ok(&body);
    assert_eq!(body["data"]["correctProgressNote"]["corrections"][0]["oldValue"], "Settling in");
    // The link worker reads the shared note but may not correct another organisation's.
    assert_forbidden(&correct(&zone.link_worker, i.clone()).await);
    // Another partner does not see it at all; analysts and funders may not correct notes.
    assert_not_found(&correct(&zone.partner_worker_2, i.clone()).await);
    for who in [&zone.analyst, &zone.funder] {
        assert_forbidden(&correct(who, i.clone()).await);
    }
    assert_invalid(&correct(&zone.partner_lead, json!({"noteId": note, "body": "", "reason": "r"})).await, "body");
    assert_ok(&correct(&zone.partner_lead, json!({"noteId": note, "visibility": "ORGANISATION", "reason": "r"})).await);
    assert_eq!(corrections_of(&zone, &note).await.len(), 2);
}

#[tokio::test]
async fn after_the_window_a_partner_asks_a_backbone_admin() {
    let app = TestApp::spawn_with(|s| s.corrections.partner_window_days = 0, StartOptions::default()).await;
    let zone = Zone::from_app(app).await;
    let c = &zone.child_a1;
    zone.ready_for_referral(c, &[&zone.partner_1]).await;
    let programme = zone.programme(&zone.partner_1, "Mentoring", 5).await;
    zone.refer(c, &programme, backbone::domain::ReferralStatus::Accepted).await;
    let made = zone.as_(&zone.partner_worker, ADD_NOTE, json!({ "c": c })).await;
    let note = made["data"]["addProgressNote"]["id"].as_str().expect("id").to_owned();
    let i = json!({"noteId": note, "body": "Settling in well", "reason": "r"});
    let refused = zone.as_(&zone.partner_worker, CORRECT_NOTE, json!({ "i": i })).await;
    assert_forbidden(&refused);
    assert!(refused.to_string().contains("backbone admin"), "{refused}");
    assert_ok(&zone.as_(&zone.admin, CORRECT_NOTE, json!({ "i": i })).await);
}

const LOG: &str = "mutation($i: LogSessionInput!) { logSession(input: $i) { id } }";

const CORRECT_REGISTER: &str = "mutation($i: CorrectRegisterInput!) { correctRegister(input: $i) { id \
    attendees { child { id } status engagement corrections { field oldValue newValue reason } } } }";

/// Two children of anchor A with accepted referrals to one programme of partner 1, and a
/// session of it with only the first on the register (attended). Returns (session, programme).
async fn register_with_one(zone: &Zone) -> (String, String) {
    let programme = zone.programme(&zone.partner_1, "Mentoring", 5).await;
    for c in [&zone.child_a1, &zone.child_a2] {
        zone.ready_for_referral(c, &[&zone.partner_1]).await;
        zone.refer(c, &programme, backbone::domain::ReferralStatus::Accepted).await;
    }
    let i = json!({"programmeId": programme, "heldOn": "2025-10-07", "durationMinutes": 60, "kind": "GROUP",
        "attendees": [{"childId": zone.child_a1, "status": "ATTENDED", "engagement": "PARTICIPATING"}]});
    let logged = zone.as_(&zone.partner_worker, LOG, json!({ "i": i })).await;
    assert_ok(&logged);
    (logged["data"]["logSession"]["id"].as_str().expect("id").to_owned(), programme)
}

#[tokio::test]
async fn the_partner_that_took_a_register_corrects_it_and_adds_a_child_left_off() {
    let zone = Zone::new().await;
    let (session, _) = register_with_one(&zone).await;
    let correct = async |who: &Account, i: Value| zone.as_(who, CORRECT_REGISTER, json!({ "i": i })).await;
    let i = json!({"sessionId": session, "reason": "Ticked the wrong row; Bea came, Ada did not",
        "attendees": [{"childId": zone.child_a1, "status": "ABSENT"},
                      {"childId": zone.child_a2, "status": "ATTENDED", "engagement": "FULLY_ENGAGED"}]});
    let body = correct(&zone.partner_worker, i.clone()).await;
    assert_ok(&body);
    let lines = body["data"]["correctRegister"]["attendees"].as_array().expect("lines").clone();
    let line = |c: &str| lines.iter().find(|l| l["child"]["id"] == c).unwrap_or_else(|| panic!("{c}: {lines:?}"));
    let ada = line(&zone.child_a1);
    assert_eq!((&ada["status"], &ada["engagement"]), (&json!("ABSENT"), &Value::Null));
    let fields: Vec<_> =
        ada["corrections"].as_array().expect("history").iter().map(|c| c["oldValue"].clone()).collect();
    assert_eq!(fields, vec![json!("ATTENDED"), json!("PARTICIPATING")]);
    let bea = line(&zone.child_a2);
    assert_eq!(bea["status"], "ATTENDED");
    assert_eq!(bea["corrections"][0]["oldValue"], Value::Null, "added: nothing before");
    // Bea's first attended session starts her referral, as logging it would have.
    let status = zone
        .as_(
            &zone.link_worker_2,
            "query($c: ID!) { child(id: $c) { supportPackage { referrals { status } } } }",
            json!({"c": zone.child_a2}),
        )
        .await;
    assert_eq!(status["data"]["child"]["supportPackage"]["referrals"][0]["status"], "ACTIVE", "{status}");
    // The same lines again change nothing.
    assert_invalid(&correct(&zone.partner_worker, i.clone()).await, "attendees");
}

#[tokio::test]
async fn a_register_correction_is_checked_as_the_register_was_and_only_its_partner_makes_it() {
    let zone = Zone::new().await;
    let (session, _) = register_with_one(&zone).await;
    let correct = async |who: &Account, i: Value| zone.as_(who, CORRECT_REGISTER, json!({ "i": i })).await;
    let line = |status: &str| {
        json!({"sessionId": session, "reason": "r",
        "attendees": [{"childId": zone.child_a1, "status": status}]})
    };
    assert_invalid(&correct(&zone.partner_worker, line("ATTENDED")).await, "attendees[0].engagement");
    let stranger = json!({"sessionId": session, "reason": "r",
        "attendees": [{"childId": zone.child_b1, "status": "ABSENT"}]});
    assert_invalid(&correct(&zone.partner_worker, stranger).await, "attendees[0].childId");
    assert_invalid(
        &correct(
            &zone.partner_worker,
            json!({"sessionId": session, "reason": " ",
        "attendees": [{"childId": zone.child_a1, "status": "ABSENT"}]}),
        )
        .await,
        "reason",
    );
    // The link worker sees the register but did not take it; another partner sees nothing.
    assert_forbidden(&correct(&zone.link_worker, line("ABSENT")).await);
    assert_not_found(&correct(&zone.partner_worker_2, line("ABSENT")).await);
    for who in [&zone.analyst, &zone.funder] {
        let body = correct(who, line("ABSENT")).await;
        assert!(matches!(error_code(&body), Some("FORBIDDEN" | "NOT_FOUND")), "{body}");
    }
    assert_ok(&correct(&zone.partner_lead, line("ABSENT")).await);
}

#[tokio::test]
async fn after_the_window_a_register_is_corrected_by_a_backbone_admin() {
    let app = TestApp::spawn_with(|s| s.corrections.partner_window_days = 0, StartOptions::default()).await;
    let zone = Zone::from_app(app).await;
    let (session, _) = register_with_one(&zone).await;
    let i = json!({"sessionId": session, "reason": "r", "attendees": [{"childId": zone.child_a1, "status": "ABSENT"}]});
    assert_forbidden(&zone.as_(&zone.partner_worker, CORRECT_REGISTER, json!({ "i": i })).await);
    assert_ok(&zone.as_(&zone.admin, CORRECT_REGISTER, json!({ "i": i })).await);
}
