//! Outcomes contracts through the API: a contract validated field by field, each milestone
//! rule paying a child who achieves it and not one who does not, re-evaluation that changes
//! nothing, corrected evidence reversing a claim (kept, never deleted), caps, and who may
//! record, evaluate and read what — admins the claims and their evidence, paying funders
//! only protected totals.

use backbone::auth::Actor;
use backbone::domain::outcomes::{self, DEFAULT_FRAMEWORK, NewAssessment};
use backbone::domain::plans::Term;
use backbone::domain::sessions::{self, Attendee, NewSession};
use backbone::domain::{
    AssessmentStage, AttendanceStatus, Engagement, OrganisationKind, ReferralStatus, Role, SessionKind, accounts,
};
use backbone::settings::Settings;
use backbone::store::attendance;
use backbone_tests::*;
use chrono::{Duration, NaiveDate, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

const RECORD: &str = "mutation($i: RecordContractInput!) { recordContract(input: $i) { id name payers { organisation { id } sharePercent } rateCard { milestones { code rule { kind sessionsAtLeast area levelsAtLeast toStage measure fromBelow toAtLeast } pricePence instalments { sharePercent afterDays } } capPerChildPence } } }";
const EVALUATE: &str = "mutation($c: ID!, $d: String!) { evaluateMilestones(contractId: $c, asOf: $d) { asOf created reversed unchanged active amountPayablePence } }";
const CLAIMS: &str = "query($c: ID!, $s: ClaimStatus) { contract(id: $c) { evaluatedAsOf claims(first: 40, status: $s) { edges { node { id milestoneCode childId instalment achievedOn fullAmountPence amountPence status reversalReason evidence { kind id on role } } } } } }";
const TOTALS: &str = "query($c: ID!) { milestones(contractId: $c) { asOf exact children childrenSuppressed amountPayablePence payers { sharePercent amountPence } milestones { code children suppressed amountPayablePence payers { organisation { id } amountPence } } } }";
const LIST: &str = "{ contracts(first: 10) { edges { node { id name } } } }";

fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// The school term before the current one: wholly in the past, whatever today is.
fn last_term() -> Term {
    Term::containing(Term::containing(today()).starts_on - Duration::days(1))
}

/// A zone with the framework loaded, a second funder (the council) and evidence:
/// - `child_a1` (anchor A): enrolled with consent; 2 sessions attended in last term;
///   wellbeing up from level 2 (baseline) to 4 (endpoint); attendance 85% then 96%.
/// - `child_a2` (anchor A): enrolled with consent; 1 session attended, 1 missed; wellbeing
///   level 2 at baseline and endpoint; attendance 85% then 93%.
/// - `child_a3` (anchor A): identified, never enrolled, nothing else.
/// - `child_b1` (anchor B, not covered): as `child_a1`.
struct Fixture {
    zone: Zone,
    council: String,
    child_a3: String,
    /// `child_a1`'s attendance readings: the low one and the recovered one.
    a1_recovered_reading: String,
    a1_attended: Vec<String>,
}

async fn fixture() -> Fixture {
    let zone = Zone::new().await;
    let (db, system) = (&zone.app.db, Actor::system());
    outcomes::load(db, &system, DEFAULT_FRAMEWORK).await.expect("framework");
    let council = accounts::create_organisation(
        db,
        &system,
        accounts::NewOrganisation { name: "Test Council".into(), kind: OrganisationKind::Funder },
    )
    .await
    .expect("council")
    .id;
    let child_a3 = zone.add_child("Dot", &zone.anchor_a, &zone.link_worker.id).await;
    let programme = zone.programme(&zone.partner_1, "Mentoring", 10).await;
    for c in [&zone.child_a1, &zone.child_a2, &zone.child_b1] {
        zone.ready_for_referral(c, &[&zone.partner_1]).await;
        zone.refer(c, &programme, ReferralStatus::Accepted).await;
    }
    let term = last_term().starts_on;
    let on = |days: i64| day(term + Duration::days(days));
    let mut a1_attended = Vec::new();
    for (offset, a2_came) in [(7, true), (14, false)] {
        let line = |child: &str, came: bool| Attendee {
            child_id: child.into(),
            status: if came { AttendanceStatus::Attended } else { AttendanceStatus::Absent },
            engagement: came.then_some(Engagement::FullyEngaged),
        };
        let input = NewSession {
            programme_id: programme.clone(),
            held_on: on(offset),
            duration_minutes: 60,
            kind: SessionKind::Group,
            notes: None,
            attendees: vec![line(&zone.child_a1, true), line(&zone.child_a2, a2_came), line(&zone.child_b1, true)],
        };
        let logged = sessions::log(db, &system, input, Settings::default().brokering).await.expect("session");
        let line = attendance::Entity::find()
            .filter(attendance::Column::SessionId.eq(logged.session.id))
            .filter(attendance::Column::ChildId.eq(zone.child_a1.clone()))
            .one(db)
            .await
            .expect("read")
            .expect("a1 on the register");
        a1_attended.push(line.id);
    }
    let assess = async |child: &str, measure: &str, value: f64, stage: AssessmentStage, days: i64| {
        let input = NewAssessment {
            child_id: child.into(),
            measure: measure.into(),
            value: Some(value),
            category: None,
            stage,
            assessed_on: on(days),
        };
        outcomes::record(db, &system, input).await.expect("assessment").id
    };
    let mut a1_recovered_reading = String::new();
    for (child, end_wellbeing, end_attendance) in
        [(&zone.child_a1, 50.0, 96.0), (&zone.child_a2, 35.0, 93.0), (&zone.child_b1, 50.0, 96.0)]
    {
        assess(child, "wellbeing_total", 35.0, AssessmentStage::Baseline, 1).await;
        assess(child, "attendance_percent", 85.0, AssessmentStage::Baseline, 1).await;
        assess(child, "wellbeing_total", end_wellbeing, AssessmentStage::Endpoint, 40).await;
        let id = assess(child, "attendance_percent", end_attendance, AssessmentStage::Review, 40).await;
        if child == &zone.child_a1 {
            a1_recovered_reading = id;
        }
    }
    Fixture { zone, council, child_a3, a1_recovered_reading, a1_attended }
}

fn milestone(code: &str, rule: Value, price: i64) -> Value {
    json!({
        "code": code, "name": code, "rule": rule, "pricePence": price,
        "verifiedBy": "The backbone team", "evidence": "Records in the backbone",
    })
}

/// One milestone of each kind, at `price` each.
fn four_milestones(price: i64) -> Value {
    json!([
        milestone("enrolled", json!({"kind": "ENROLLED_WITH_CONSENT"}), price),
        milestone("engaged", json!({"kind": "ENGAGED", "sessionsAtLeast": 2}), price),
        milestone("improved", json!({"kind": "IMPROVED", "area": "emotional_wellbeing"}), price),
        milestone("recovered", json!({"kind": "ATTENDANCE_RECOVERED", "fromBelow": 90, "toAtLeast": 95}), price),
    ])
}

fn contract_input(f: &Fixture, rate_card: Value) -> Value {
    json!({ "i": {
        "name": "Test impact bond",
        "periodStart": day(last_term().starts_on - Duration::days(30)),
        "periodEnd": day(today() + Duration::days(365)),
        "anchorIds": [f.zone.anchor_a],
        "payers": [
            {"organisationId": f.council, "sharePercent": 60},
            {"organisationId": f.zone.funder_org, "sharePercent": 40},
        ],
        "rateCard": rate_card,
    }})
}

async fn record(f: &Fixture, rate_card: Value) -> String {
    let body = f.zone.as_(&f.zone.admin, RECORD, contract_input(f, rate_card)).await;
    assert_ok(&body);
    body["data"]["recordContract"]["id"].as_str().expect("id").to_owned()
}

async fn evaluate(f: &Fixture, contract: &str) -> Value {
    let body = f.zone.as_(&f.zone.admin, EVALUATE, json!({"c": contract, "d": day(today())})).await;
    assert_ok(&body);
    body["data"]["evaluateMilestones"].clone()
}

async fn claims(f: &Fixture, contract: &str, status: Option<&str>) -> Vec<Value> {
    let body = f.zone.as_(&f.zone.admin, CLAIMS, json!({"c": contract, "s": status})).await;
    assert_ok(&body);
    let edges = body["data"]["contract"]["claims"]["edges"].as_array().expect("edges").clone();
    edges.into_iter().map(|e| e["node"].clone()).collect()
}

/// (milestone, child) of each claim, sorted.
fn achieved(list: &[Value]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = list
        .iter()
        .map(|c| (c["milestoneCode"].as_str().unwrap_or("").to_owned(), c["childId"].as_str().unwrap_or("").to_owned()))
        .collect();
    out.sort();
    out
}

fn claim<'a>(list: &'a [Value], milestone: &str, child: &str) -> &'a Value {
    list.iter().find(|c| c["milestoneCode"] == milestone && c["childId"] == child).expect("claim")
}

#[tokio::test]
async fn a_contract_is_checked_field_by_field_and_nothing_is_written_when_it_is_wrong() {
    let f = fixture().await;
    let z = &f.zone;
    let bad = json!({ "i": {
        "name": " ",
        "periodStart": "2026-09-01",
        "periodEnd": "2026-08-31",
        "cohort": "2025-26",
        "anchorIds": [z.partner_1],
        "payers": [
            {"organisationId": z.anchor_a, "sharePercent": 60},
            {"organisationId": z.funder_org, "sharePercent": 30.5},
        ],
        "rateCard": {
            "milestones": [
                milestone("engaged", json!({"kind": "ENGAGED"}), -5),
                {
                    "code": "improved", "name": "Improved", "pricePence": 100,
                    "rule": {"kind": "IMPROVED", "area": "happiness", "sessionsAtLeast": 3},
                    "instalments": [{"sharePercent": 50, "afterDays": 0}, {"sharePercent": 40, "afterDays": 90}],
                    "verifiedBy": "x", "evidence": "y",
                },
            ],
            "capPerChildPence": -1,
        },
    }});
    let body = z.as_(&z.admin, RECORD, bad).await;
    assert_eq!(error_code(&body), Some("INVALID_INPUT"), "{body}");
    let fields: Vec<&str> = body["errors"][0]["extensions"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|e| e["field"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        fields,
        [
            "name",
            "periodEnd",
            "cohort",
            "anchorIds[0]",
            "payers[0].organisationId",
            "payers",
            "rateCard.milestones[0].rule.sessionsAtLeast",
            "rateCard.milestones[0].pricePence",
            "rateCard.milestones[1].rule.sessionsAtLeast",
            "rateCard.milestones[1].rule.area",
            "rateCard.milestones[1].instalments",
            "rateCard.capPerChildPence",
        ]
    );
    let messages = body["errors"][0]["extensions"]["fields"].to_string();
    for says in [
        "must be the id of a funder organisation",
        "must be the id of an anchor organisation",
        "must add up to 100%, not 90.5%",
        "\\\"happiness\\\" is not an area of the live outcomes framework",
        "is not used by the IMPROVED rule",
    ] {
        assert!(messages.contains(says), "{says}: {messages}");
    }
    let listed = z.as_(&z.admin, LIST, json!({})).await;
    assert_eq!(listed["data"]["contracts"]["edges"], json!([]), "nothing written: {listed}");

    // A good one is stored with its defaults: all of the price on achievement.
    let body = z.as_(&z.admin, RECORD, contract_input(&f, json!({"milestones": four_milestones(100)}))).await;
    assert_ok(&body);
    let c = &body["data"]["recordContract"];
    assert_eq!(c["payers"][0]["sharePercent"], 60.0);
    assert_eq!(c["rateCard"]["milestones"][1]["rule"]["sessionsAtLeast"], 2);
    assert_eq!(c["rateCard"]["milestones"][2]["rule"]["toStage"], "ENDPOINT");
    assert_eq!(c["rateCard"]["milestones"][3]["rule"]["measure"], "attendance_percent");
    assert_eq!(c["rateCard"]["milestones"][0]["instalments"], json!([{"sharePercent": 100.0, "afterDays": 0}]));
}

#[tokio::test]
async fn each_rule_pays_a_child_who_achieves_it_and_re_evaluating_changes_nothing() {
    let f = fixture().await;
    let z = &f.zone;
    let contract = record(&f, json!({"milestones": four_milestones(10000)})).await;
    let summary = evaluate(&f, &contract).await;
    assert_eq!(
        (summary["created"].clone(), summary["reversed"].clone(), summary["active"].clone()),
        (json!(5), json!(0), json!(5)),
        "{summary}"
    );
    assert_eq!(summary["amountPayablePence"], 50000);
    let list = claims(&f, &contract, None).await;
    let (a1, a2) = (z.child_a1.clone(), z.child_a2.clone());
    let mut expected = vec![
        ("engaged".to_owned(), a1.clone()),
        ("enrolled".to_owned(), a1.clone()),
        ("enrolled".to_owned(), a2.clone()),
        ("improved".to_owned(), a1.clone()),
        ("recovered".to_owned(), a1.clone()),
    ];
    expected.sort();
    // child_a2 attended once, stayed level and reached 93%: only enrolled. child_a3 was
    // never enrolled; child_b1 achieved everything, at an anchor the contract does not cover.
    assert_eq!(achieved(&list), expected, "{list:?}");
    assert!(!list.iter().any(|c| c["childId"] == f.child_a3.as_str() || c["childId"] == z.child_b1.as_str()));

    // Evidence: ids and dates of the records the claim rests on.
    let engaged = claim(&list, "engaged", &a1);
    let ids: Vec<&str> =
        engaged["evidence"].as_array().expect("evidence").iter().filter_map(|e| e["id"].as_str()).collect();
    assert_eq!(ids, f.a1_attended.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(engaged["evidence"].as_array().expect("evidence").iter().all(|e| e["kind"] == "ATTENDANCE"));
    assert_eq!(engaged["achievedOn"], day(last_term().starts_on + Duration::days(14)));
    let improved = claim(&list, "improved", &a1);
    let roles: Vec<&str> =
        improved["evidence"].as_array().expect("e").iter().filter_map(|e| e["role"].as_str()).collect();
    assert_eq!(roles, ["BASELINE", "ENDPOINT"]);
    let recovered = claim(&list, "recovered", &a1);
    assert_eq!(recovered["evidence"][1]["id"], f.a1_recovered_reading.as_str());
    let enrolled = claim(&list, "enrolled", &a1);
    let kinds: Vec<&str> =
        enrolled["evidence"].as_array().expect("e").iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(kinds, ["ENROLMENT_TRANSITION", "CONSENT"]);
    assert_eq!(enrolled["achievedOn"], day(today()));

    // Running it again with the same records changes nothing.
    let again = evaluate(&f, &contract).await;
    assert_eq!(
        (again["created"].clone(), again["reversed"].clone(), again["unchanged"].clone()),
        (json!(0), json!(0), json!(5)),
        "{again}"
    );
    let ids_before: Vec<&Value> = list.iter().map(|c| &c["id"]).collect();
    let after = claims(&f, &contract, None).await;
    assert_eq!(after.iter().map(|c| &c["id"]).collect::<Vec<_>>(), ids_before);
    // And it may not go back in time.
    let earlier = day(today() - Duration::days(1));
    let body = z.as_(&z.admin, EVALUATE, json!({"c": contract, "d": earlier})).await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
    let body = z.as_(&z.admin, EVALUATE, json!({"c": contract, "d": day(today() + Duration::days(1))})).await;
    assert_eq!((error_code(&body), error_field(&body)), (Some("INVALID_INPUT"), Some("asOf")), "{body}");
}

#[tokio::test]
async fn enrolled_with_consent_is_achieved_on_the_day_the_enrolment_happened_not_when_recorded() {
    let f = fixture().await;
    let z = &f.zone;
    // `child_a3` enrolled on a day of last term, recorded today; the others enrolled today.
    let enrolled_on = last_term().starts_on + Duration::days(20);
    z.enrolled_on(&f.child_a3, &[&z.partner_1], Some(&day(enrolled_on))).await;
    let rate_card = json!({"milestones": [milestone("enrolled", json!({"kind": "ENROLLED_WITH_CONSENT"}), 10000)]});
    let contract = record(&f, rate_card).await;
    let as_of = enrolled_on + Duration::days(1);
    let body = z.as_(&z.admin, EVALUATE, json!({"c": contract, "d": day(as_of)})).await;
    assert_ok(&body);
    let list = claims(&f, &contract, None).await;
    assert_eq!(achieved(&list), [("enrolled".to_owned(), f.child_a3.clone())], "only a3 by {as_of}: {list:?}");
    let claim = claim(&list, "enrolled", &f.child_a3);
    assert_eq!(claim["achievedOn"], day(enrolled_on));
    let step = &claim["evidence"][0];
    assert_eq!(
        (step["kind"].as_str(), step["on"].as_str()),
        (Some("ENROLMENT_TRANSITION"), Some(day(enrolled_on).as_str()))
    );
}

#[tokio::test]
async fn corrected_evidence_reverses_the_claim_and_it_is_kept() {
    let f = fixture().await;
    let z = &f.zone;
    let contract = record(&f, json!({"milestones": four_milestones(10000)})).await;
    evaluate(&f, &contract).await;
    let before = claims(&f, &contract, Some("ACTIVE")).await;
    let recovered_id = claim(&before, "recovered", &z.child_a1)["id"].clone();

    // The recovered reading was entered wrongly: it was 93.0%. And a register line was
    // wrong: the child missed the first session.
    let db = &z.app.db;
    db.execute_unprepared(&format!(
        "UPDATE assessments SET raw_number = 93.0, level = 3 WHERE id = '{}'",
        f.a1_recovered_reading
    ))
    .await
    .expect("correct the reading");
    db.execute_unprepared(&format!(
        "UPDATE attendances SET status = 'absent', engagement = NULL WHERE id = '{}'",
        f.a1_attended[0]
    ))
    .await
    .expect("correct the register");
    let summary = evaluate(&f, &contract).await;
    assert_eq!(
        (summary["created"].clone(), summary["reversed"].clone(), summary["unchanged"].clone()),
        (json!(0), json!(2), json!(3)),
        "{summary}"
    );
    let reversed = claims(&f, &contract, Some("REVERSED")).await;
    assert_eq!(
        achieved(&reversed),
        [("engaged".to_owned(), z.child_a1.clone()), ("recovered".to_owned(), z.child_a1.clone())]
    );
    let gone = claim(&reversed, "recovered", &z.child_a1);
    assert_eq!(gone["id"], recovered_id, "the very claim, kept");
    assert!(gone["reversalReason"].as_str().is_some_and(|r| r.contains("no longer holds")), "{gone}");

    // Corrected back: a new claim, the reversed one stays as it was.
    db.execute_unprepared(&format!(
        "UPDATE assessments SET raw_number = 96.0, level = 4 WHERE id = '{}'",
        f.a1_recovered_reading
    ))
    .await
    .expect("correct again");
    let summary = evaluate(&f, &contract).await;
    assert_eq!((summary["created"].clone(), summary["reversed"].clone()), (json!(1), json!(0)), "{summary}");
    let all = claims(&f, &contract, None).await;
    let recovered: Vec<&Value> =
        all.iter().filter(|c| c["milestoneCode"] == "recovered" && c["childId"] == z.child_a1.as_str()).collect();
    assert_eq!(recovered.len(), 2);
    assert_eq!(recovered[0]["status"], "REVERSED");
    assert_eq!(recovered[1]["status"], "ACTIVE");
    assert_ne!(recovered[1]["id"], recovered_id);
}

#[tokio::test]
async fn caps_limit_what_a_child_and_the_contract_pay_oldest_achievement_first() {
    let f = fixture().await;
    let z = &f.zone;
    let mut card = json!({"milestones": four_milestones(10000), "capPerChildPence": 25000, "totalCapPence": 30000});
    // The last milestone in two halves, the second after a sustainment period not yet over.
    card["milestones"][3]["instalments"] =
        json!([{"sharePercent": 50, "afterDays": 0}, {"sharePercent": 50, "afterDays": 400}]);
    let contract = record(&f, card).await;
    let summary = evaluate(&f, &contract).await;
    assert_eq!(summary["amountPayablePence"], 30000, "the total cap: {summary}");
    let list = claims(&f, &contract, None).await;
    let amount = |m: &str, c: &str| claim(&list, m, c)["amountPence"].clone();
    let (a1, a2) = (z.child_a1.as_str(), z.child_a2.as_str());
    // child_a1, oldest first: engaged (day 14) 100, improved (day 40) 100, recovered (day 40,
    // half the price) 50; enrolled (today) nothing left under the child's 250 cap.
    assert_eq!(
        (amount("engaged", a1), amount("improved", a1), amount("recovered", a1), amount("enrolled", a1)),
        (json!(10000), json!(10000), json!(5000), json!(0))
    );
    assert_eq!(claim(&list, "recovered", a1)["fullAmountPence"], 5000);
    // child_a2's enrolment gets what is left of the 300 total.
    assert_eq!(amount("enrolled", a2), json!(5000));
    assert!(list.iter().all(|c| c["instalment"] == 1), "the second half is not due yet");
}

#[tokio::test]
async fn admins_see_claims_paying_funders_protected_totals_and_nobody_else_anything() {
    let f = fixture().await;
    let z = &f.zone;
    let (db, system) = (&z.app.db, Actor::system());
    let other_funder = accounts::create_organisation(
        db,
        &system,
        accounts::NewOrganisation { name: "Another Trust".into(), kind: OrganisationKind::Funder },
    )
    .await
    .expect("org");
    accounts::create_account(
        db,
        &system,
        accounts::NewAccount {
            email: "other@test.zone".into(),
            display_name: "Other Funder".into(),
            password: PASSWORD.into(),
            organisation_id: other_funder.id.clone(),
            role: Role::Funder,
            designated_safeguarding_lead: false,
            is_demo: false,
        },
    )
    .await
    .expect("account");
    let outsider = Account {
        id: String::new(),
        email: "other@test.zone".into(),
        token: z.app.login("other@test.zone", PASSWORD).await,
    };

    // Recording and evaluating: backbone admins only.
    let input = contract_input(&f, json!({"milestones": four_milestones(10000)}));
    for who in [&z.link_worker, &z.anchor_lead, &z.partner_lead, &z.funder, &z.analyst] {
        assert_forbidden(&z.as_(who, RECORD, input.clone()).await);
    }
    let contract = record(&f, json!({"milestones": four_milestones(10000)})).await;
    for who in [&z.funder, &z.analyst, &z.link_worker] {
        assert_forbidden(&z.as_(who, EVALUATE, json!({"c": contract, "d": day(today())})).await);
    }
    evaluate(&f, &contract).await;

    // The list: admins and analysts all, a paying funder its own, another funder none,
    // staff who work with children nothing.
    let names = |body: &Value| body["data"]["contracts"]["edges"].as_array().map_or(0, Vec::len);
    for (who, n) in [(&z.admin, 1), (&z.analyst, 1), (&z.funder, 1), (&outsider, 0)] {
        let body = z.as_(who, LIST, json!({})).await;
        assert_ok(&body);
        assert_eq!(names(&body), n, "{}: {body}", who.email);
    }
    for who in [&z.link_worker, &z.partner_worker] {
        assert_forbidden(&z.as_(who, LIST, json!({})).await);
    }

    // Claims with evidence: admins yes; the paying funder and the analyst no.
    assert_eq!(claims(&f, &contract, None).await.len(), 5);
    for who in [&z.funder, &z.analyst] {
        let body = z.as_(who, CLAIMS, json!({"c": contract})).await;
        assert_eq!(error_code(&body), Some("FORBIDDEN"), "{}: {body}", who.email);
    }
    assert_not_found(&z.as_(&outsider, CLAIMS, json!({"c": contract})).await);

    // Totals: the paying funder under disclosure control (one child is too few to show,
    // and so is the amount it would reveal); admins and analysts exactly.
    let body = z.as_(&z.funder, TOTALS, json!({"c": contract})).await;
    assert_ok(&body);
    let t = &body["data"]["milestones"];
    assert_eq!(t["exact"], false);
    let engaged = &t["milestones"][1];
    assert_eq!(
        (engaged["code"].clone(), engaged["children"].clone(), engaged["suppressed"].clone()),
        (json!("engaged"), Value::Null, json!(true))
    );
    assert_eq!(engaged["amountPayablePence"], Value::Null);
    assert_eq!(engaged["payers"][0]["amountPence"], Value::Null);
    assert_eq!(t["amountPayablePence"], Value::Null, "a total would reveal the hidden cells");
    assert!(!body.to_string().contains(&z.child_a1), "never a child id");
    for who in [&z.admin, &z.analyst] {
        let body = z.as_(who, TOTALS, json!({"c": contract})).await;
        assert_ok(&body);
        let t = &body["data"]["milestones"];
        assert_eq!((t["exact"].clone(), t["children"].clone()), (json!(true), json!(2)), "{body}");
        assert_eq!(t["milestones"][0]["children"], 2, "enrolled: a1 and a2");
        assert_eq!(t["milestones"][0]["amountPayablePence"], 20000);
        // 60% to the council, 40% to the foundation.
        assert_eq!(t["milestones"][0]["payers"][0]["amountPence"], 12000);
        assert_eq!(t["milestones"][0]["payers"][1]["amountPence"], 8000);
        assert_eq!(t["amountPayablePence"], 50000);
    }
    assert_not_found(&z.as_(&outsider, TOTALS, json!({"c": contract})).await);
    for who in [&z.link_worker, &z.partner_worker, &z.anchor_lead] {
        assert_forbidden(&z.as_(who, TOTALS, json!({"c": contract})).await);
    }

    // The download: admins the claim lines, the paying funder the protected totals, another
    // funder nothing it could tell from a missing contract, others 403, no token 401.
    let get = async |token: Option<&str>| {
        let mut req = z.app.http.get(z.app.url(&format!("/exports/claims.csv?contract={contract}")));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("sent");
        (resp.status().as_u16(), resp.text().await.expect("body"))
    };
    let (status, csv) = get(Some(&z.admin.token)).await;
    assert_eq!(status, 200, "{csv}");
    assert!(csv.starts_with("claim_id,milestone_code,child_id,"), "{csv}");
    assert!(csv.contains(&z.child_a1) && csv.contains(&f.a1_attended[0]), "lines with evidence: {csv}");
    let (status, csv) = get(Some(&z.funder.token)).await;
    assert_eq!(status, 200, "{csv}");
    assert!(csv.starts_with("milestone_code,milestone,price_pence,children,amount_payable_pence,"), "{csv}");
    assert!(csv.contains("\nengaged,engaged,10000,c,c,c,c\n"), "{csv}");
    assert!(!csv.contains(&z.child_a1), "{csv}");
    let resp = z.app.http.get(z.app.url(&format!("/exports/claims.csv?contract={contract}")));
    let resp = resp.bearer_auth(&z.admin.token).send().await.expect("sent");
    let cache = resp.headers().get("cache-control").and_then(|v| v.to_str().ok());
    assert_eq!(cache, Some("no-store"), "claim lines name children: never cached");
    let resp = z.app.http.get(z.app.url("/exports/claims.csv")).bearer_auth(&z.admin.token).send().await.expect("sent");
    assert_eq!(resp.status().as_u16(), 400);
    let body: Value = resp.json().await.expect("a JSON refusal");
    assert_eq!(error_field(&body), Some("contract"), "{body}");
    assert_eq!(get(Some(&outsider.token)).await.0, 404);
    assert_eq!(get(Some(&z.analyst.token)).await.0, 403);
    assert_eq!(get(Some(&z.link_worker.token)).await.0, 403);
    assert_eq!(get(None).await.0, 401);
}
