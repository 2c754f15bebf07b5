//! Input validation: a bad date of birth, an empty name, an unknown organisation, and the
//! rest each get INVALID_INPUT naming the field — and nothing is written, not even an
//! audit event.

use backbone::store::{audit_event, child, relationship};
use backbone_tests::*;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

const IDENTIFY: &str = "mutation($i: IdentifyChildInput!) { identifyChild(input: $i) { id } }";

fn valid_child() -> Value {
    json!({
        "firstName": "Nia",
        "lastName": "Testchild",
        "dateOfBirth": "2016-07-01",
        "yearGroup": 4,
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
async fn duplicate_upn_is_refused_naming_the_field() {
    let zone = Zone::new().await;
    // A valid UPN: check letter computed from the 12-character body.
    let body = "999123426001";
    let sum: u32 = body.chars().enumerate().map(|(i, c)| c.to_digit(10).unwrap_or(0) * (i as u32 + 2)).sum();
    let letter = "ABCDEFGHJKLMNPQRTUVWXYZ".chars().nth((sum % 23) as usize).unwrap_or('A');
    let mut input = valid_child();
    input["upn"] = json!(format!("{letter}{body}"));
    assert_ok(&zone.as_(&zone.link_worker, IDENTIFY, json!({ "i": input.clone() })).await);
    let before = counts(&zone).await;
    let again = zone.as_(&zone.link_worker, IDENTIFY, json!({ "i": input })).await;
    assert_eq!(error_code(&again), Some("INVALID_INPUT"), "{again}");
    assert_eq!(error_field(&again), Some("upn"));
    assert_eq!(counts(&zone).await, before, "the failed insert left nothing behind");
}
