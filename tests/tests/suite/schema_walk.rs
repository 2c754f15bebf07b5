//! Shared by `read_audit` and `field_views`: the served schema (by introspection) as a
//! graph of object types, and a zone in which every record that hangs off a child exists
//! with every text field filled in.

use backbone::auth::Actor;
use backbone::domain::outcomes::{self, DEFAULT_FRAMEWORK};
use backbone::domain::{GiverKind, Involvement, Purpose, ReferralStatus, RelationshipKind, children, consent};
use backbone::startup::StartOptions;
use backbone_tests::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// A field of an object type: its name, the named type under any list or non-null
/// wrapper, that type's kind, and whether it takes a required argument.
#[derive(Clone, Debug)]
pub struct FieldInfo {
    pub name: String,
    pub ty: String,
    pub kind: String,
    pub required_args: Vec<String>,
}

/// Object types by name.
pub type Types = BTreeMap<String, Vec<FieldInfo>>;

fn named(t: &Value) -> (String, String) {
    let mut t = t;
    while t["ofType"].is_object() {
        t = &t["ofType"];
    }
    (t["name"].as_str().unwrap_or_default().to_owned(), t["kind"].as_str().unwrap_or_default().to_owned())
}

const TYPE_REF: &str = "kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";

/// The object types of the schema the service serves (introspection is on in this zone).
pub async fn types(zone: &Zone) -> Types {
    let q = format!(
        "{{ __schema {{ types {{ name kind fields {{ name type {{ {TYPE_REF} }} args {{ name type {{ {TYPE_REF} }} }} }} }} }} }}"
    );
    let body = zone.as_(&zone.admin, &q, json!({})).await;
    assert_ok(&body);
    let mut out = Types::new();
    for t in body["data"]["__schema"]["types"].as_array().expect("types") {
        let name = t["name"].as_str().unwrap_or_default();
        if t["kind"] != "OBJECT" || name.starts_with("__") {
            continue;
        }
        let fields = t["fields"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| {
                let (ty, kind) = named(&f["type"]);
                let required_args = f["args"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|a| a["type"]["kind"] == "NON_NULL")
                    .map(|a| a["name"].as_str().unwrap_or_default().to_owned())
                    .collect();
                FieldInfo { name: f["name"].as_str().unwrap_or_default().to_owned(), ty, kind, required_args }
            })
            .collect();
        out.insert(name.to_owned(), fields);
    }
    out
}

/// The object types reachable from `from` (itself included).
pub fn reachable(types: &Types, from: &str) -> Vec<String> {
    let mut seen = vec![from.to_owned()];
    let mut i = 0;
    while i < seen.len() {
        for f in types.get(&seen[i]).into_iter().flatten() {
            if f.kind == "OBJECT" && !seen.contains(&f.ty) {
                seen.push(f.ty.clone());
            }
        }
        i += 1;
    }
    seen
}

/// The rich zone: `zone`, and the child `c` whose record has everything.
pub struct Rich {
    pub zone: Zone,
    /// On `zone.link_worker`'s caseload, referred to `partner_1` (active) and `partner_2`
    /// (withdrawn), with every record and every text field.
    pub c: String,
    /// Another child on the link worker's caseload, on the same session's register.
    pub c2: String,
    pub referral: String,
    pub programme: String,
    pub session: String,
}

async fn ok(zone: &Zone, who: &Account, query: &str, vars: Value) -> Value {
    let body = zone.as_(who, query, vars).await;
    assert_ok(&body);
    body
}

/// Builds the rich zone (introspection on, no complexity or depth limit in the way).
pub async fn rich_zone() -> Rich {
    let app = TestApp::spawn_with(
        |s| {
            s.graphql.introspection = true;
            s.graphql.max_complexity = 1_000_000;
            s.graphql.max_depth = 64;
            s.graphql.max_aliases = 1_000;
        },
        StartOptions::default(),
    )
    .await;
    let zone = Zone::from_app(app).await;
    let (db, system) = (&zone.app.db, Actor::system());
    outcomes::load(db, &system, DEFAULT_FRAMEWORK).await.expect("framework");
    let (lw, pw) = (&zone.link_worker, &zone.partner_worker);

    // A child with every personal field, identified by the link worker (their caseload).
    let identify = "mutation($a: ID, $f: String!, $u: String) { identifyChild(input: {firstName: $f, lastName: \"Fullrecord\", \
        dateOfBirth: \"2015-09-01\", yearGroup: 5, anchorId: $a, upn: $u, contactPhone: \"07700 900002\", \
        contactEmail: \"family@example.org\", postcode: \"ZZ9 9ZZ\", characteristics: {eal: true}, \
        note: \"Identified after a chat at the gate\", on: \"2025-01-06\"}) { id } }";
    let made = ok(&zone, lw, identify, json!({"a": zone.anchor_a, "f": "Dee", "u": "A123456789012"})).await;
    let c = made["data"]["identifyChild"]["id"].as_str().expect("id").to_owned();
    let made = ok(&zone, lw, identify, json!({"a": zone.anchor_a, "f": "Eve", "u": null})).await;
    let c2 = made["data"]["identifyChild"]["id"].as_str().expect("id").to_owned();

    for child in [&c, &c2] {
        zone.ready_for_referral(child, &[&zone.partner_1]).await;
    }
    // A second consent, withdrawn with a reason; an adult with a phone and notes.
    let second = consent::NewConsent {
        child_id: c.clone(),
        given_by: GiverKind::Carer,
        given_by_name: "Sam Example".into(),
        given_on: "2025-02-01".into(),
        purposes: vec![Purpose::Referral],
        partner_ids: vec![zone.partner_2.clone()],
        evidence: "Phoned Sam at 12 Example Road".into(),
    };
    let second = consent::record_consent(db, &system, second).await.expect("consent").id;
    let withdraw = "mutation($id: ID!) { withdrawConsent(input: {consentId: $id, withdrawnOn: \"2025-03-01\", reason: \"Sam moved away from 12 Example Road\"}) { id } }";
    ok(&zone, lw, withdraw, json!({"id": second})).await;
    let rel = children::NewRelationship {
        child_id: c.clone(),
        kind: RelationshipKind::Parent,
        name: "Pat Example".into(),
        involvement: Involvement::MainContact,
        parental_responsibility: true,
        phone: Some("07700 900003".into()),
        notes: Some("Works nights; call after 4pm".into()),
    };
    let rel = children::add_relationship(db, &system, rel).await.expect("relationship").id;

    // Referrals: one active with notes on its history, one withdrawn with a reason.
    let programme = zone.programme(&zone.partner_1, "Mentoring", 10).await;
    let other = zone.programme(&zone.partner_2, "Football", 10).await;
    // Every programme says when it started (so that its `startsOn` has a value).
    {
        use backbone::store::programme;
        use sea_orm::{EntityTrait, sea_query::Expr};
        let start = chrono::NaiveDate::from_ymd_opt(2020, 9, 1).expect("date");
        programme::Entity::update_many()
            .col_expr(programme::Column::StartsOn, Expr::value(start))
            .exec(db)
            .await
            .expect("programme start dates");
    }
    let referral = zone.refer(&c, &programme, ReferralStatus::Proposed).await;
    ok(
        &zone,
        lw,
        "mutation($r: ID!) { sendReferral(referralId: $r, note: \"Mum keen\") { id } }",
        json!({"r": referral}),
    )
    .await;
    let accept =
        "mutation($r: ID!) { respondToReferral(referralId: $r, accept: true, note: \"Starts Tuesday\") { id } }";
    ok(&zone, pw, accept, json!({"r": referral})).await;
    let r2 = zone.refer(&c2, &programme, ReferralStatus::Accepted).await;
    let withdrawn = zone.refer(&c, &other, ReferralStatus::Proposed).await;
    let withdraw = "mutation($r: ID!) { withdrawReferral(referralId: $r, reason: \"Clashes with swimming\") { id } }";
    ok(&zone, lw, withdraw, json!({"r": withdrawn})).await;

    // A session with both children on the register, notes, a contact, notes, a concern.
    let log = "mutation($i: LogSessionInput!) { logSession(input: $i) { id } }";
    let attendees = json!([
        {"childId": c, "status": "ATTENDED", "engagement": "PARTICIPATING"},
        {"childId": c2, "status": "ATTENDED", "engagement": "FULLY_ENGAGED"},
    ]);
    let i = json!({"programmeId": programme, "heldOn": "2025-10-07", "durationMinutes": 60, "kind": "GROUP",
        "notes": "Good group today", "attendees": attendees});
    let session =
        ok(&zone, pw, log, json!({"i": i})).await["data"]["logSession"]["id"].as_str().expect("id").to_owned();
    let _ = r2;
    let contact = "mutation($c: ID!) { logContact(input: {childId: $c, heldOn: \"2025-10-08\", minutes: 15, kind: INFORMAL, withWhom: [CHILD], content: \"Chat at the gate\"}) { id } }";
    ok(&zone, lw, contact, json!({"c": c})).await;
    let note = "mutation($c: ID!, $r: ID) { addProgressNote(input: {childId: $c, referralId: $r, body: \"Settling in\", visibility: SHARED_WITH_LINK_WORKER}) { id } }";
    ok(&zone, pw, note, json!({"c": c, "r": referral})).await;
    ok(&zone, lw, note, json!({"c": c, "r": null})).await;
    let concern = "mutation($c: ID!) { raiseSafeguardingConcern(childId: $c, body: \"Bruise on arm\") { id } }";
    ok(&zone, lw, concern, json!({"c": c})).await;

    // Assessments (one by the partner, so the partner view has one), a plan and a review.
    let assess = "mutation($i: RecordAssessmentInput!) { recordAssessment(input: $i) { id } }";
    for who in [lw, pw] {
        let i = json!({"childId": c, "measure": "reading_attainment", "category": "working_towards",
            "stage": "BASELINE", "assessedOn": "2025-09-15"});
        ok(&zone, who, assess, json!({"i": i})).await;
    }
    let agree = "mutation($i: AgreeSupportPlanInput!) { agreeSupportPlan(input: $i) { goals { id } } }";
    let plan = json!({"childId": c, "agreedOn": "2025-09-15",
        "informalEngagement": "Check-in at the gate", "formalEngagement": "Fortnightly one-to-one",
        "developmentalSupport": "Reading together", "referralIds": [referral], "childTookPart": true,
        "participantRelationshipIds": [rel],
        "goals": [{"area": "emotional_wellbeing", "description": "Feel calmer", "targetLevel": 3}]});
    let agreed = ok(&zone, lw, agree, json!({"i": plan})).await;
    let goal = agreed["data"]["agreeSupportPlan"]["goals"][0]["id"].clone();
    let review = "mutation($i: ReviewSupportPlanInput!) { reviewSupportPlan(input: $i) { id } }";
    let i = json!({"childId": c, "reviewedOn": "2025-12-10", "changes": "Weekly one-to-ones",
        "goals": [{"goalId": goal, "met": false, "note": "Still anxious on Mondays"}]});
    ok(&zone, lw, review, json!({"i": i})).await;

    // A handover away and back, each with a note.
    let assign = "mutation($c: ID!, $w: ID!) { assignLinkWorker(childId: $c, linkWorkerId: $w, note: \"Cover for leave\") { id } }";
    ok(&zone, &zone.anchor_lead, assign, json!({"c": c, "w": zone.link_worker_2.id})).await;
    ok(&zone, &zone.anchor_lead, assign, json!({"c": c, "w": zone.link_worker.id})).await;

    // A correction, so that the history has values.
    let correct = "mutation($c: ID!) { updateChild(input: {childId: $c, contactPhone: \"07700 900005\", \
        reason: \"The family changed their number\"}) { id } }";
    ok(&zone, lw, correct, json!({"c": c})).await;

    // Opened by break-glass from the other anchor, and read under it.
    let open =
        "mutation($c: ID!) { breakGlass(childId: $c, reason: \"Turned up at our breakfast club upset\") { id } }";
    ok(&zone, &zone.link_worker_b, open, json!({"c": c})).await;
    ok(&zone, &zone.link_worker_b, "query($c: ID!) { child(id: $c) { id firstName } }", json!({"c": c})).await;

    Rich { zone, c, c2, referral, programme, session }
}
