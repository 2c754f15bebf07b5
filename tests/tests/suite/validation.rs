//! Input validation: a bad date of birth, an empty name, an unknown organisation, and the
//! rest each get INVALID_INPUT naming the field — and nothing is written, not even an
//! audit event. Names without a letter or with characters that hide or reverse text,
//! dates that do not exist or are not written `YYYY-MM-DD`, a date of birth that does not
//! fit the year group, events dated before the child was born or before the floor, and
//! numbers beyond their type are all refused the same way.

use backbone::domain::ReferralStatus;
use backbone::domain::validate::school_year_start;
use backbone::store::{assessment, audit_event, child, consent, contact, relationship, session};
use backbone_tests::*;
use chrono::Datelike;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

const IDENTIFY: &str = "mutation($i: IdentifyChildInput!) { identifyChild(input: $i) { id } }";

/// A date of birth in the middle of `year_group`'s range this school year.
fn born_in_year_group(year_group: i32) -> String {
    let start = school_year_start(chrono::Utc::now().date_naive()).year();
    format!("{}-01-15", start - year_group - 4)
}

fn valid_child() -> Value {
    json!({
        "firstName": "Nia",
        "lastName": "Testchild",
        "dateOfBirth": born_in_year_group(5),
        "yearGroup": 5,
        "upn": null,
        "contactEmail": "parent@example.org",
        "postcode": "ZZ2 2AB"
    })
}

async fn counts(zone: &Zone) -> (u64, u64, u64) {
    let db = &zone.app.db;
    (
        child::Entity::find().count(db).await.expect("count"),
        relationship::Entity::find().count(db).await.expect("count"),
        audit_event::Entity::find().count(db).await.expect("count"),
    )
}

#[tokio::test]
async fn each_bad_field_is_named_and_nothing_is_written() {
    let zone = Zone::new().await;
    let before = counts(&zone).await;
    let cases: Vec<(&str, Value, &str)> = vec![
        ("dateOfBirth", json!("2016-02-30"), "dateOfBirth"),
        ("dateOfBirth", json!("01/02/2016"), "dateOfBirth"),
        ("dateOfBirth", json!("2999-01-01"), "dateOfBirth"),
        ("firstName", json!(""), "firstName"),
        ("lastName", json!("   "), "lastName"),
        ("anchorId", json!(uuid::Uuid::now_v7().to_string()), "anchorId"),
        ("anchorId", json!("not-an-id"), "anchorId"),
        ("yearGroup", json!(20), "yearGroup"),
        ("upn", json!("A12345678901X"), "upn"),
        ("contactEmail", json!("not an email"), "contactEmail"),
        ("contactPhone", json!("call me"), "contactPhone"),
        ("postcode", json!("NOWHERE"), "postcode"),
    ];
    for (field, value, named) in cases {
        let mut input = valid_child();
        input[field] = value.clone();
        let body = zone.as_(&zone.link_worker, IDENTIFY, json!({ "i": input })).await;
        assert_eq!(error_code(&body), Some("INVALID_INPUT"), "{field}={value}: {body}");
        assert_eq!(error_field(&body), Some(named), "{field}={value}: {body}");
        assert!(body["data"].is_null() || body["data"]["identifyChild"].is_null());
    }
    // An anchor id that names a partner is an unknown anchor too.
    let mut input = valid_child();
    input["anchorId"] = json!(zone.partner_1);
    let body = zone.as_(&zone.anchor_lead, IDENTIFY, json!({ "i": input })).await;
    assert_eq!(error_field(&body), Some("anchorId"), "{body}");

    assert_eq!(counts(&zone).await, before, "nothing written, not even audit events");

    // Several bad fields at once are all listed.
    let mut input = valid_child();
    input["firstName"] = json!("");
    input["dateOfBirth"] = json!("yesterday");
    let body = zone.as_(&zone.link_worker, IDENTIFY, json!({ "i": input })).await;
    let fields: Vec<&str> = body["errors"][0]["extensions"]["fields"]
        .as_array()
        .map(|a| a.iter().filter_map(|f| f["field"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(fields, vec!["dateOfBirth", "firstName"], "{body}");

    // And the valid input is accepted, so the cases above failed for their one field.
    let ok = zone.as_(&zone.link_worker, IDENTIFY, json!({ "i": valid_child() })).await;
    assert_ok(&ok);
    assert_eq!(counts(&zone).await.0, before.0 + 1);
}

#[tokio::test]
async fn relationship_and_consent_inputs_are_validated_without_writing() {
    let zone = Zone::new().await;
    let before = counts(&zone).await;
    let rel = "mutation($c: ID!, $n: String!, $pr: Boolean!, $ph: String) { addRelationship(input: {childId: $c, kind: TRUSTED_ADULT, name: $n, involvement: MENTOR, parentalResponsibility: $pr, phone: $ph}) { id } }";
    let empty_name = zone.as_(&zone.link_worker, rel, json!({"c": zone.child_a1, "n": "", "pr": false})).await;
    assert_eq!(error_field(&empty_name), Some("name"), "{empty_name}");
    let bad_phone =
        zone.as_(&zone.link_worker, rel, json!({"c": zone.child_a1, "n": "Sam Coach", "pr": false, "ph": "12"})).await;
    assert_eq!(error_field(&bad_phone), Some("phone"), "{bad_phone}");
    let trusted_pr = zone.as_(&zone.link_worker, rel, json!({"c": zone.child_a1, "n": "Sam Coach", "pr": true})).await;
    assert_eq!(error_field(&trusted_pr), Some("parentalResponsibility"), "{trusted_pr}");

    let consent = "mutation($c: ID!, $p: [ID!]!, $on: String!) { recordConsent(input: {childId: $c, givenBy: PARENT, givenByName: \"Pat\", givenOn: $on, purposes: [], partnerIds: $p, evidence: \"Form\"}) { id } }";
    let no_purpose = zone
        .as_(&zone.link_worker, consent, json!({"c": zone.child_a1, "p": [zone.partner_1], "on": "2026-01-01"}))
        .await;
    assert_eq!(error_code(&no_purpose), Some("INVALID_INPUT"), "{no_purpose}");
    assert_eq!(counts(&zone).await, before);

    let enrol_bad_cohort = zone
        .as_(
            &zone.link_worker,
            "mutation($c: ID!) { enrol(childId: $c, cohort: \"next year\") { id } }",
            json!({"c": zone.child_a1}),
        )
        .await;
    assert_eq!(error_field(&enrol_bad_cohort), Some("cohort"), "{enrol_bad_cohort}");
    assert_eq!(counts(&zone).await, before);
}

#[tokio::test]
async fn duplicate_upn_is_refused_naming_the_child_already_recorded() {
    let zone = Zone::new().await;
    // A valid UPN: check letter computed from the 12-character body.
    let body = "999123426001";
    let sum: u32 = body.chars().enumerate().map(|(i, c)| c.to_digit(10).unwrap_or(0) * (i as u32 + 2)).sum();
    let letter = "ABCDEFGHJKLMNPQRTUVWXYZ".chars().nth((sum % 23) as usize).unwrap_or('A');
    let mut input = valid_child();
    input["upn"] = json!(format!("{letter}{body}"));
    let first = zone.as_(&zone.link_worker, IDENTIFY, json!({ "i": input.clone() })).await;
    assert_ok(&first);
    let before = counts(&zone).await;
    // Another name, the same UPN: the same pupil, whatever else is said, even when the
    // caller says it is another child.
    input["firstName"] = json!("Other");
    input["confirmNotDuplicate"] = json!(true);
    let again = zone.as_(&zone.link_worker, IDENTIFY, json!({ "i": input.clone() })).await;
    assert_eq!(error_code(&again), Some("CONFLICT"), "{again}");
    assert_eq!(again["errors"][0]["extensions"]["existingChildId"], first["data"]["identifyChild"]["id"]);
    // A link worker of another anchor, who may not see the child, is refused without it.
    let other = zone.as_(&zone.link_worker_b, IDENTIFY, json!({ "i": input })).await;
    assert_eq!(error_code(&other), Some("CONFLICT"), "{other}");
    assert!(other["errors"][0]["extensions"].get("existingChildId").is_none(), "{other}");
    assert!(!other["errors"][0]["message"].as_str().unwrap_or_default().contains("Nia"), "{other}");
    assert_eq!(counts(&zone).await, before, "the refused writes left nothing behind");
}

/// Every row a refused write could have left.
async fn all_counts(zone: &Zone) -> Vec<u64> {
    let db = &zone.app.db;
    let (c, r, a) = counts(zone).await;
    vec![
        c,
        r,
        a,
        assessment::Entity::find().count(db).await.expect("count"),
        session::Entity::find().count(db).await.expect("count"),
        contact::Entity::find().count(db).await.expect("count"),
        consent::Entity::find().count(db).await.expect("count"),
    ]
}

#[tokio::test]
async fn names_must_show_a_letter_and_hide_nothing() {
    let zone = Zone::new().await;
    let before = all_counts(&zone).await;
    let cases: Vec<(&str, &str)> = vec![
        ("firstName", "\u{200B}"),
        ("firstName", "\u{200B}\u{200C}\u{200D}\u{2060}\u{FEFF}"),
        ("firstName", "\u{3000}\u{00A0}"),
        ("firstName", "\u{3164}"),
        ("firstName", "--"),
        ("lastName", "Smith\u{202E}evil"),
        ("lastName", "Smith\u{2066}evil\u{2069}"),
        ("lastName", "Smith\u{200F}"),
        ("lastName", "Smith\u{061C}"),
        ("firstName", "Nia\u{0007}"),
        ("firstName", "Nia\nJones"),
        ("firstName", "Ni\u{200B}a"),
    ];
    for (field, value) in cases {
        let mut input = valid_child();
        input[field] = json!(value);
        let body = zone.as_(&zone.link_worker, IDENTIFY, json!({ "i": input })).await;
        assert_invalid(&body, field);
    }
    // The same rule for the adults around a child and for who gave consent.
    let rel = "mutation($c: ID!, $n: String!) { addRelationship(input: {childId: $c, kind: PARENT, name: $n, involvement: MAIN_CONTACT}) { id } }";
    for name in ["\u{200B}\u{200B}", "Pat\u{202E}evil"] {
        let body = zone.as_(&zone.link_worker, rel, json!({"c": zone.child_a1, "n": name})).await;
        assert_invalid(&body, "name");
    }
    let consent = "mutation($c: ID!, $p: [ID!]!, $n: String!, $e: String!) { recordConsent(input: {childId: $c, givenBy: PARENT, givenByName: $n, givenOn: \"2025-01-10\", purposes: [REFERRAL], partnerIds: $p, evidence: $e}) { id } }";
    let body = zone
        .as_(
            &zone.link_worker,
            consent,
            json!({"c": zone.child_a1, "p": [zone.partner_1], "n": "\u{FEFF}", "e": "Form"}),
        )
        .await;
    assert_invalid(&body, "givenByName");
    let body = zone
        .as_(
            &zone.link_worker,
            consent,
            json!({"c": zone.child_a1, "p": [zone.partner_1], "n": "Pat", "e": "Form\u{202D}"}),
        )
        .await;
    assert_invalid(&body, "evidence");
    assert_eq!(all_counts(&zone).await, before, "nothing written, not even audit events");

    // A name written with a combining mark is stored composed (NFC), trimmed.
    let mut input = valid_child();
    input["firstName"] = json!("  Zoe\u{0308} ");
    let created = zone.as_(&zone.link_worker, IDENTIFY, json!({ "i": input })).await;
    assert_ok(&created);
    let id = created["data"]["identifyChild"]["id"].as_str().expect("id").to_owned();
    let stored = child::Entity::find_by_id(id).one(&zone.app.db).await.expect("read").expect("child");
    assert_eq!(stored.first_name, "Zo\u{00EB}");
}

#[tokio::test]
async fn dates_must_exist_and_be_written_yyyy_mm_dd() {
    let zone = Zone::new().await;
    let before = all_counts(&zone).await;
    for (value, says) in [
        ("2016-02-30", "30 February 2016 is not a date"),
        ("2015-02-29", "29 February 2015 is not a date"),
        ("2016-04-31", "31 April 2016 is not a date"),
        ("2016-13-01", "no month 13"),
        ("2016-4-12", "YYYY-MM-DD"),
        ("2016-04-1", "YYYY-MM-DD"),
        ("12/04/2016", "YYYY-MM-DD"),
    ] {
        let mut input = valid_child();
        input["dateOfBirth"] = json!(value);
        let body = zone.as_(&zone.link_worker, IDENTIFY, json!({ "i": input })).await;
        assert_invalid(&body, "dateOfBirth");
        let message = body["errors"][0]["extensions"]["fields"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{value}: {body}");
    }
    // The same parser everywhere a date is taken.
    let consent = "mutation($c: ID!, $p: [ID!]!, $on: String!) { recordConsent(input: {childId: $c, givenBy: PARENT, givenByName: \"Pat\", givenOn: $on, purposes: [REFERRAL], partnerIds: $p, evidence: \"Form\"}) { id } }";
    for on in ["2025-4-12", "2025-02-30", "1999-12-31"] {
        let body =
            zone.as_(&zone.link_worker, consent, json!({"c": zone.child_a1, "p": [zone.partner_1], "on": on})).await;
        assert_invalid(&body, "givenOn");
    }
    // Consent cannot be given before the child was born (fixture children: 4 May 2016).
    let body = zone
        .as_(&zone.link_worker, consent, json!({"c": zone.child_a1, "p": [zone.partner_1], "on": "2016-05-03"}))
        .await;
    assert_invalid(&body, "givenOn");
    assert_eq!(all_counts(&zone).await, before);
}

#[tokio::test]
async fn a_date_of_birth_must_fit_the_year_group() {
    let zone = Zone::new().await;
    let before = all_counts(&zone).await;
    let yesterday = (chrono::Utc::now().date_naive() - chrono::Duration::days(1)).to_string();
    let cases = vec![
        (yesterday.clone(), 5),
        (yesterday, 0),
        (born_in_year_group(5), 7),
        (born_in_year_group(5), 3),
        (born_in_year_group(10), -1),
    ];
    for (born, year) in cases {
        let mut input = valid_child();
        input["dateOfBirth"] = json!(born);
        input["yearGroup"] = json!(year);
        let body = zone.as_(&zone.link_worker, IDENTIFY, json!({ "i": input })).await;
        assert_invalid(&body, "dateOfBirth");
        let message = body["errors"][0]["extensions"]["fields"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains("aged") && message.contains("does not fit"), "{born} in {year}: {body}");
    }
    assert_eq!(all_counts(&zone).await, before);
    // One year either way is accepted (held back, moved up).
    for (year, name) in [(4, "Ana"), (5, "Bea"), (6, "Cy")] {
        let mut input = valid_child();
        input["yearGroup"] = json!(year);
        input["firstName"] = json!(name);
        assert_ok(&zone.as_(&zone.link_worker, IDENTIFY, json!({ "i": input })).await);
    }
}

#[tokio::test]
async fn numbers_beyond_their_type_name_the_field() {
    let zone = Zone::with_framework().await;
    let p = zone.programme(&zone.partner_1, "Test Club", 10).await;
    let before = all_counts(&zone).await;
    // Inside an input object written in the query, and as a variable.
    let literal = format!(
        "mutation {{ identifyChild(input: {{firstName: \"Nia\", lastName: \"Testchild\", dateOfBirth: \"{}\", yearGroup: 2147483648}}) {{ id }} }}",
        born_in_year_group(5)
    );
    let body = zone.as_(&zone.link_worker, &literal, json!({})).await;
    assert_invalid(&body, "yearGroup");
    for year in [json!(2_147_483_648_i64), json!(-2_147_483_649_i64), json!(99)] {
        let mut input = valid_child();
        input["yearGroup"] = year;
        let body = zone.as_(&zone.link_worker, IDENTIFY, json!({ "i": input })).await;
        assert_invalid(&body, "yearGroup");
    }
    // In a filter.
    let listed = zone
        .as_(
            &zone.link_worker,
            "query($y: Int) { children(filter: {yearGroup: $y}) { edges { cursor } } }",
            json!({"y": 2_147_483_648_i64}),
        )
        .await;
    assert_invalid(&listed, "filter.yearGroup");
    let listed =
        zone.as_(&zone.link_worker, "{ programmes(filter: {age: 2147483648}) { edges { cursor } } }", json!({})).await;
    assert_invalid(&listed, "filter.age");
    let metrics = zone.as_(&zone.admin, "{ metrics(filter: {yearGroup: 2147483648}) { protected } }", json!({})).await;
    assert_invalid(&metrics, "filter.yearGroup");
    // In a support plan's goals, named as the plan names them.
    let plan = format!(
        "mutation {{ agreeSupportPlan(input: {{childId: \"{}\", agreedOn: \"2025-09-03\", informalEngagement: \"Lunch club\", childTookPart: true, goals: [{{area: \"emotional_wellbeing\", description: \"Feel calmer\", targetLevel: 2147483648}}]}}) {{ id }} }}",
        zone.child_a1
    );
    let body = zone.as_(&zone.link_worker, &plan, json!({})).await;
    assert_invalid(&body, "goals[0].targetLevel");
    let contact = "mutation($c: ID!, $m: Int!) { logContact(input: {childId: $c, heldOn: \"2025-09-03\", minutes: $m, kind: INFORMAL, withWhom: [CHILD], content: \"Chat\"}) { id } }";
    let body = zone.as_(&zone.link_worker, contact, json!({"c": zone.child_a1, "m": 2_147_483_648_i64})).await;
    assert_invalid(&body, "minutes");
    // A value of the wrong kind deep in a list of input objects.
    let session = format!(
        "mutation {{ logSession(input: {{programmeId: \"{p}\", heldOn: \"2025-09-03\", durationMinutes: 60, kind: GROUP, attendees: [{{childId: \"{}\", status: ATTENDED, engagement: 7}}]}}) {{ id }} }}",
        zone.child_a1
    );
    let body = zone.as_(&zone.partner_worker, &session, json!({})).await;
    assert_invalid(&body, "attendees[0].engagement");
    assert_eq!(all_counts(&zone).await, before);
}

const RECORD_ASSESSMENT: &str = "mutation($c: ID!, $on: String!) { recordAssessment(input: {childId: $c, measure: \"wellbeing_total\", value: 40, stage: BASELINE, assessedOn: $on}) { id } }";
const LOG_SESSION: &str = "mutation($p: ID!, $d: String!, $m: Int!, $a: [AttendeeInput!]!) { logSession(input: {programmeId: $p, heldOn: $d, durationMinutes: $m, kind: GROUP, attendees: $a}) { id } }";
const LOG_CONTACT: &str = "mutation($c: ID!, $on: String!) { logContact(input: {childId: $c, heldOn: $on, minutes: 15, kind: INFORMAL, withWhom: [CHILD], content: \"Chat at the gate\"}) { id } }";

#[tokio::test]
async fn events_cannot_predate_the_child_or_the_floor_nor_lie_ahead() {
    let zone = Zone::with_framework().await;
    zone.ready_for_referral(&zone.child_a1, &[&zone.partner_1]).await;
    let p = zone.programme(&zone.partner_1, "Test Club", 10).await;
    zone.refer(&zone.child_a1, &p, ReferralStatus::Accepted).await;
    let before = all_counts(&zone).await;
    let tomorrow = (chrono::Utc::now().date_naive() + chrono::Duration::days(1)).to_string();
    // Fixture children were born on 4 May 2016.
    for on in ["1901-06-01", "1999-12-31", "2016-05-03", "2016-4-12", tomorrow.as_str()] {
        let body = zone.as_(&zone.link_worker, RECORD_ASSESSMENT, json!({"c": zone.child_a1, "on": on})).await;
        assert_invalid(&body, "assessedOn");
        let body = zone.as_(&zone.link_worker, LOG_CONTACT, json!({"c": zone.child_a1, "on": on})).await;
        assert_invalid(&body, "heldOn");
    }
    let attended = json!([{"childId": zone.child_a1, "status": "ATTENDED", "engagement": "PARTICIPATING"}]);
    // A partner sees an age, not a date of birth: the session is refused when it lies
    // before the year of birth, so trying dates cannot find the birthday out.
    for on in ["1900-01-01", "1999-12-31", "2015-12-31", "2016-4-12", tomorrow.as_str()] {
        let body =
            zone.as_(&zone.partner_worker, LOG_SESSION, json!({"p": p, "d": on, "m": 60, "a": attended.clone()})).await;
        assert_invalid(&body, "heldOn");
    }
    for minutes in [json!(0), json!(601), json!(2_147_483_648_i64)] {
        let body = zone
            .as_(
                &zone.partner_worker,
                LOG_SESSION,
                json!({"p": p, "d": "2025-09-03", "m": minutes, "a": attended.clone()}),
            )
            .await;
        assert_invalid(&body, "durationMinutes");
    }
    assert_eq!(all_counts(&zone).await, before, "nothing written, not even audit events");
    // The floor itself and the birthday are accepted.
    assert_ok(&zone.as_(&zone.link_worker, RECORD_ASSESSMENT, json!({"c": zone.child_a1, "on": "2016-05-04"})).await);
    assert_ok(&zone.as_(&zone.link_worker, LOG_CONTACT, json!({"c": zone.child_a1, "on": "2025-09-03"})).await);
    assert_ok(
        &zone.as_(&zone.partner_worker, LOG_SESSION, json!({"p": p, "d": "2025-09-03", "m": 60, "a": attended})).await,
    );
}

#[tokio::test]
async fn sessions_cannot_predate_the_programme() {
    let zone = Zone::new().await;
    zone.ready_for_referral(&zone.child_a1, &[&zone.partner_1]).await;
    let p = zone.programme(&zone.partner_1, "Test Club", 10).await;
    zone.refer(&zone.child_a1, &p, ReferralStatus::Accepted).await;
    let update = "mutation($id: ID!, $on: String) { updateProgramme(id: $id, input: {name: \"Test Club\", \
        description: \"A test programme\", domains: [RELATIONSHIPS], minimumAge: 5, maximumAge: 16, \
        attendingType: IN_PERSON, locationName: \"Test Hall\", schedule: \"Tuesdays\", capacity: 10, \
        startsOn: $on}) { startsOn } }";
    // The start date is a real date, as every other.
    for on in ["2025-02-30", "2025-9-1", "1900-09-01"] {
        assert_invalid(&zone.as_(&zone.partner_lead, update, json!({"id": p, "on": on})).await, "startsOn");
    }
    let body = zone.as_(&zone.partner_lead, update, json!({"id": p, "on": "2025-09-01"})).await;
    assert_eq!(body["data"]["updateProgramme"]["startsOn"], "2025-09-01", "{body}");
    let attended = json!([{"childId": zone.child_a1, "status": "ATTENDED", "engagement": "PARTICIPATING"}]);
    let before = all_counts(&zone).await;
    let early = zone
        .as_(&zone.partner_worker, LOG_SESSION, json!({"p": p, "d": "2025-08-31", "m": 60, "a": attended.clone()}))
        .await;
    assert_invalid(&early, "heldOn");
    let message = early["errors"][0]["extensions"]["fields"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("before the programme started (1 September 2025)"), "{early}");
    assert_eq!(all_counts(&zone).await, before, "nothing written");
    // Its first day is allowed.
    assert_ok(
        &zone.as_(&zone.partner_worker, LOG_SESSION, json!({"p": p, "d": "2025-09-01", "m": 60, "a": attended})).await,
    );
}

#[tokio::test]
async fn free_text_keeps_lines_but_not_control_or_direction_characters() {
    let zone = Zone::new().await;
    let before = all_counts(&zone).await;
    for content in ["Chat\u{202E}evil", "bell\u{0007}", "\u{200B}\n\t"] {
        let body = zone
            .as_(
                &zone.link_worker,
                "mutation($c: ID!, $t: String!) { logContact(input: {childId: $c, heldOn: \"2025-09-03\", minutes: 15, kind: INFORMAL, withWhom: [CHILD], content: $t}) { id } }",
                json!({"c": zone.child_a1, "t": content}),
            )
            .await;
        assert_invalid(&body, "content");
    }
    assert_eq!(all_counts(&zone).await, before);
    let body = zone
        .as_(
            &zone.link_worker,
            "mutation($c: ID!, $t: String!) { logContact(input: {childId: $c, heldOn: \"2025-09-03\", minutes: 15, kind: INFORMAL, withWhom: [CHILD], content: $t}) { id content } }",
            json!({"c": zone.child_a1, "t": "Line one\r\nLine two\twith a tab"}),
        )
        .await;
    assert_ok(&body);
    assert_eq!(body["data"]["logContact"]["content"], "Line one\nLine two\twith a tab");
}
