//! The enrolment state machine over HTTP: every allowed transition, and refusals with
//! CONFLICT for illegal ones — nothing changes when refused.

use backbone_tests::*;
use serde_json::{Value, json};

const STATUS: &str = "query($c: ID!) { child(id: $c) { enrolment { status exitReason cohort history { from to } } } }";

async fn status(zone: &Zone, child: &str) -> Value {
    let body = zone.as_(&zone.link_worker, STATUS, json!({"c": child})).await;
    assert_ok(&body);
    body["data"]["child"]["enrolment"].clone()
}

async fn participate(zone: &Zone, child: &str) -> Value {
    zone.as_(
        &zone.link_worker,
        "mutation($c: ID!) { recordParticipation(input: {childId: $c, agreedBy: PARENT, agreedByName: \"Pat Testchild\", agreedOn: \"2026-01-10\", evidence: \"Signed form\"}) { id } }",
        json!({"c": child}),
    )
    .await
}

async fn lawful_basis(zone: &Zone, child: &str) -> Value {
    zone.as_(
        &zone.link_worker,
        "mutation($c: ID!) { recordLawfulBasis(input: {childId: $c, basis: PUBLIC_TASK, dataSharingAgreement: \"DSA-TEST-1\"}) { id basis } }",
        json!({"c": child}),
    )
    .await
}

async fn enrol(zone: &Zone, child: &str) -> Value {
    zone.as_(
        &zone.link_worker,
        "mutation($c: ID!) { enrol(childId: $c, cohort: \"2026/27\") { id } }",
        json!({"c": child}),
    )
    .await
}

async fn simple(zone: &Zone, mutation: &str, child: &str) -> Value {
    let q = format!("mutation($c: ID!) {{ {mutation}(childId: $c) {{ id }} }}");
    zone.as_(&zone.link_worker, &q, json!({"c": child})).await
}

async fn exit(zone: &Zone, child: &str) -> Value {
    zone.as_(
        &zone.link_worker,
        "mutation($c: ID!) { exitChild(childId: $c, reason: MOVED_AWAY, note: \"Family moved\") { enrolment { status exitReason } } }",
        json!({"c": child}),
    )
    .await
}

fn conflict(body: &Value) {
    assert_eq!(error_code(body), Some("CONFLICT"), "{body}");
}

#[tokio::test]
async fn the_whole_path_with_every_refusal_on_the_way() {
    let zone = Zone::new().await;
    let c = zone.child_a1.clone();
    assert_eq!(status(&zone, &c).await["status"], "IDENTIFIED");
    // From identified: only agreement to take part (or exit) is allowed.
    conflict(&enrol(&zone, &c).await);
    conflict(&simple(&zone, "startSupport", &c).await);
    conflict(&simple(&zone, "completeEnrolment", &c).await);
    assert_ok(&participate(&zone, &c).await);
    assert_eq!(status(&zone, &c).await["status"], "CONSENTED");

    // From consented: agreeing again is refused; enrolling needs a lawful basis first.
    conflict(&participate(&zone, &c).await);
    conflict(&simple(&zone, "startSupport", &c).await);
    let no_basis = enrol(&zone, &c).await;
    conflict(&no_basis);
    assert!(no_basis["errors"][0]["message"].as_str().unwrap_or("").contains("lawful basis"), "{no_basis}");
    assert_ok(&lawful_basis(&zone, &c).await);
    assert_ok(&enrol(&zone, &c).await);
    let s = status(&zone, &c).await;
    assert_eq!(s["status"], "ENROLLED");
    assert_eq!(s["cohort"], "2026/27");

    conflict(&enrol(&zone, &c).await);
    conflict(&simple(&zone, "completeEnrolment", &c).await);
    assert_ok(&simple(&zone, "startSupport", &c).await);
    assert_eq!(status(&zone, &c).await["status"], "ACTIVE");

    conflict(&simple(&zone, "startSupport", &c).await);
    assert_ok(&simple(&zone, "completeEnrolment", &c).await);
    let done = status(&zone, &c).await;
    assert_eq!(done["status"], "COMPLETED");
    let history: Vec<(Value, Value)> = done["history"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|h| (h["from"].clone(), h["to"].clone()))
        .collect();
    assert_eq!(
        history,
        vec![
            (Value::Null, json!("IDENTIFIED")),
            (json!("IDENTIFIED"), json!("CONSENTED")),
            (json!("CONSENTED"), json!("ENROLLED")),
            (json!("ENROLLED"), json!("ACTIVE")),
            (json!("ACTIVE"), json!("COMPLETED")),
        ]
    );
    // Terminal: nothing more, not even exit.
    conflict(&exit(&zone, &c).await);
    conflict(&simple(&zone, "completeEnrolment", &c).await);
    assert_eq!(status(&zone, &c).await["status"], "COMPLETED");
}

#[tokio::test]
async fn exit_from_each_open_state_and_never_after() {
    let zone = Zone::new().await;
    // identified → exited
    let body = exit(&zone, &zone.child_a1).await;
    assert_ok(&body);
    assert_eq!(body["data"]["exitChild"]["enrolment"]["status"], "EXITED");
    assert_eq!(body["data"]["exitChild"]["enrolment"]["exitReason"], "MOVED_AWAY");
    conflict(&exit(&zone, &zone.child_a1).await);
    conflict(&participate(&zone, &zone.child_a1).await);

    // Other open states, on fresh children identified by the link worker (who then has
    // them on their caseload).
    for (stage, name) in [("consented", "Eli"), ("enrolled", "Eve"), ("active", "Ezra")] {
        let created = zone
            .as_(
                &zone.link_worker,
                "mutation($f: String!) { identifyChild(input: {firstName: $f, lastName: \"Testchild\", dateOfBirth: \"2015-09-09\", yearGroup: 6, on: \"2026-01-05\"}) { id enrolment { status linkWorker { id } } } }",
                json!({ "f": name }),
            )
            .await;
        assert_ok(&created);
        assert_eq!(created["data"]["identifyChild"]["enrolment"]["linkWorker"]["id"], zone.link_worker.id.as_str());
        let c = created["data"]["identifyChild"]["id"].as_str().unwrap_or_default().to_owned();
        assert_ok(&participate(&zone, &c).await);
        if stage != "consented" {
            assert_ok(&lawful_basis(&zone, &c).await);
            assert_ok(&enrol(&zone, &c).await);
        }
        if stage == "active" {
            assert_ok(&simple(&zone, "startSupport", &c).await);
        }
        let out = exit(&zone, &c).await;
        assert_ok(&out);
        assert_eq!(out["data"]["exitChild"]["enrolment"]["status"], "EXITED", "from {stage}");
        conflict(&simple(&zone, "startSupport", &c).await);
    }
}

#[tokio::test]
async fn consent_is_a_history_and_withdrawal_happens_once() {
    let zone = Zone::new().await;
    let c = zone.child_a1.clone();
    let recorded = zone
        .as_(
            &zone.link_worker,
            "mutation($c: ID!, $p: [ID!]!) { recordConsent(input: {childId: $c, givenBy: PARENT, givenByName: \"Pat Testchild\", givenOn: \"2026-02-01\", purposes: [REFERRAL, PROGRESS_MONITORING], partnerIds: $p, evidence: \"Signed consent form\"}) { id withdrawn purposes partners { name } } }",
            json!({"c": c, "p": [zone.partner_1, zone.partner_2]}),
        )
        .await;
    assert_ok(&recorded);
    let consent = &recorded["data"]["recordConsent"];
    assert_eq!(consent["withdrawn"], false);
    assert_eq!(consent["partners"].as_array().map(Vec::len), Some(2));
    let id = consent["id"].as_str().unwrap_or_default().to_owned();

    let withdraw = "mutation($id: ID!) { withdrawConsent(input: {consentId: $id, withdrawnOn: \"2026-03-01\", reason: \"Family asked\"}) { withdrawn withdrawnOn withdrawalReason } }";
    let first = zone.as_(&zone.link_worker, withdraw, json!({"id": id})).await;
    assert_ok(&first);
    assert_eq!(first["data"]["withdrawConsent"]["withdrawn"], true);
    conflict(&zone.as_(&zone.link_worker, withdraw, json!({"id": id})).await);

    // The withdrawn consent is still on the record.
    let read = zone
        .as_(&zone.link_worker, "query($c: ID!) { child(id: $c) { consents { id withdrawn } } }", json!({"c": c}))
        .await;
    assert_eq!(read["data"]["child"]["consents"][0]["withdrawn"], true);

    // A consent naming a non-partner organisation (an anchor) is invalid.
    let bad = zone
        .as_(
            &zone.link_worker,
            "mutation($c: ID!, $p: [ID!]!) { recordConsent(input: {childId: $c, givenBy: PARENT, givenByName: \"Pat\", givenOn: \"2026-02-01\", purposes: [REFERRAL], partnerIds: $p, evidence: \"Form\"}) { id } }",
            json!({"c": c, "p": [zone.anchor_b]}),
        )
        .await;
    assert_eq!(error_code(&bad), Some("INVALID_INPUT"));
    assert_eq!(error_field(&bad), Some("partnerIds"));
}
