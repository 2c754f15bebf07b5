//! Effective dates: every step of an enrolment or a referral is dated by the day it
//! happened (`on`, today by default) beside the time it was recorded (`at`, the clock);
//! a day in the future, before the child was born or before the previous step is refused
//! on the field that gave it, with nothing written; metrics count by the day it happened;
//! the migration dates existing steps by the day they were recorded.

use backbone::domain::metrics;
use backbone::domain::validate::today;
use backbone_tests::*;
use chrono::{Datelike, Duration, NaiveDate};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

const HISTORY: &str = "query($c: ID!) { child(id: $c) { enrolment { status history { to at on } } } }";
const FUNNEL: &str = "query($f: MetricsFilter) { metrics(filter: $f) { total { funnel { identified { value } consented { value } enrolled { value } active { value } } } } }";

fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// The term of the catalogue a day falls in, as `metrics(filter: {period})` spells it.
fn term_of(d: NaiveDate) -> String {
    let (start, term) = match d.month() {
        9..=12 => (d.year(), "autumn"),
        1..=3 => (d.year() - 1, "spring"),
        _ => (d.year() - 1, "summer"),
    };
    format!("{start}-{:02} {term}", (start + 1) % 100)
}

/// The first problem's field and message.
fn problem(body: &Value) -> (String, String) {
    let p = &body["errors"][0]["extensions"]["fields"][0];
    (p["field"].as_str().unwrap_or_default().to_owned(), p["message"].as_str().unwrap_or_default().to_owned())
}

/// A new child of the fixture (identified on [`IDENTIFIED_ON`]) on the link worker's
/// caseload, who agreed to take part on 10 January 2025 and has a lawful basis on record.
async fn consented_child(zone: &Zone, name: &str) -> String {
    let c = zone.add_child(name, &zone.anchor_a, &zone.link_worker.id).await;
    let agree = "mutation($c: ID!) { recordParticipation(input: {childId: $c, agreedBy: PARENT, agreedByName: \"Pat Testchild\", agreedOn: \"2025-01-10\", evidence: \"Signed form\"}) { id } }";
    assert_ok(&zone.as_(&zone.link_worker, agree, json!({"c": c})).await);
    let basis = "mutation($c: ID!) { recordLawfulBasis(input: {childId: $c, basis: PUBLIC_TASK, dataSharingAgreement: \"DSA-TEST-1\"}) { id } }";
    assert_ok(&zone.as_(&zone.link_worker, basis, json!({"c": c})).await);
    c
}

async fn enrol(zone: &Zone, child: &str, on: Option<&str>) -> Value {
    let q = "mutation($c: ID!, $on: String) { enrol(childId: $c, cohort: \"2025/26\", on: $on) { id } }";
    zone.as_(&zone.link_worker, q, json!({"c": child, "on": on})).await
}

async fn history(zone: &Zone, child: &str) -> Value {
    let body = zone.as_(&zone.link_worker, HISTORY, json!({"c": child})).await;
    assert_ok(&body);
    body["data"]["child"]["enrolment"].clone()
}

async fn funnel(zone: &Zone, period: &str) -> Value {
    let body = zone.as_(&zone.analyst, FUNNEL, json!({"f": {"period": period}})).await;
    assert_ok(&body);
    body["data"]["metrics"]["total"]["funnel"].clone()
}

#[tokio::test]
async fn a_step_dated_last_month_counts_in_last_months_term_and_is_recorded_now() {
    let zone = Zone::new().await;
    let last_month = today() - Duration::days(30);
    let dee = consented_child(&zone, "Dee").await;
    assert_ok(&enrol(&zone, &dee, Some(&day(last_month))).await);
    let eve = consented_child(&zone, "Eve").await;
    assert_ok(&enrol(&zone, &eve, Some("2026-02-10")).await);

    // Each step as it happened, each recorded by the clock.
    let e = history(&zone, &dee).await;
    let steps = e["history"].as_array().expect("history");
    let on: Vec<(&str, &str)> =
        steps.iter().map(|s| (s["to"].as_str().unwrap_or(""), s["on"].as_str().unwrap_or(""))).collect();
    assert_eq!(
        on,
        [("IDENTIFIED", IDENTIFIED_ON), ("CONSENTED", "2025-01-10"), ("ENROLLED", day(last_month).as_str())]
    );
    for s in steps {
        let at = s["at"].as_str().unwrap_or_default();
        assert!(at.starts_with(&day(today())), "recorded today, whenever it happened: {s}");
    }

    // Metrics count each step in the term it happened in, not the one it was recorded in.
    metrics::refresh(&zone.app.db, None).await.expect("refresh");
    assert_eq!(funnel(&zone, &term_of(last_month)).await["enrolled"]["value"], 1, "Dee, last month");
    assert_eq!(funnel(&zone, "2025-26 spring").await["enrolled"]["value"], 1, "Eve, in February 2026");
    let spring_2025 = funnel(&zone, "2024-25 spring").await;
    assert_eq!(spring_2025["identified"]["value"], 5, "the fixture's three children and these two");
    assert_eq!(spring_2025["consented"]["value"], 2);
    assert_eq!(spring_2025["enrolled"]["value"], 0);
    // A step given no day happened the day it was recorded.
    let frank = consented_child(&zone, "Frank").await;
    assert_ok(&enrol(&zone, &frank, None).await);
    let e = history(&zone, &frank).await;
    assert_eq!(e["history"][2]["on"], day(today()));
}

#[tokio::test]
async fn a_day_in_the_future_before_birth_or_before_the_previous_step_is_refused_and_nothing_changes() {
    let zone = Zone::new().await;
    let c = consented_child(&zone, "Gus").await;
    let tomorrow = day(today() + Duration::days(1));

    let body = enrol(&zone, &c, Some(&tomorrow)).await;
    assert_invalid(&body, "on");
    assert_eq!(problem(&body), ("on".into(), "must not be in the future".into()));
    let body = enrol(&zone, &c, Some("2025-01-09")).await;
    assert_invalid(&body, "on");
    assert_eq!(
        problem(&body).1,
        "must not be before 10 January 2025, the date of this enrolment's previous step (consented)"
    );
    let body = enrol(&zone, &c, Some("10/01/2025")).await;
    assert_eq!(problem(&body), ("on".into(), "must be a date written YYYY-MM-DD, such as 2016-04-12".into()));
    let e = history(&zone, &c).await;
    assert_eq!(e["status"], "CONSENTED", "nothing written: {e}");
    assert_eq!(e["history"].as_array().map(Vec::len), Some(2));

    // The same day as the step before is allowed; then each later step checks its own.
    assert_ok(&enrol(&zone, &c, Some("2025-01-10")).await);
    let start = "mutation($c: ID!, $on: String) { startSupport(childId: $c, on: $on) { id } }";
    assert_ok(&zone.as_(&zone.link_worker, start, json!({"c": c, "on": "2025-02-03"})).await);
    let exit = "mutation($c: ID!, $on: String) { exitChild(childId: $c, reason: MOVED_AWAY, on: $on) { id } }";
    let body = zone.as_(&zone.link_worker, exit, json!({"c": c, "on": "2025-02-02"})).await;
    assert_eq!(problem(&body).0, "on");
    assert!(problem(&body).1.contains("3 February 2025"), "{body}");
    assert_eq!(history(&zone, &c).await["status"], "ACTIVE");

    // Identification: not before the child was born; the agreement to take part is the
    // consented step, so it is not before the identification either.
    let identify = "mutation($on: String) { identifyChild(input: {firstName: \"Hal\", lastName: \"Testchild\", dateOfBirth: \"2015-09-09\", yearGroup: 6, on: $on}) { id } }";
    let body = zone.as_(&zone.link_worker, identify, json!({"on": "2015-09-08"})).await;
    assert_eq!(problem(&body), ("on".into(), "must not be before the child was born".into()));
    let body = zone.as_(&zone.link_worker, identify, json!({"on": "2026-03-02"})).await;
    assert_ok(&body);
    let hal = body["data"]["identifyChild"]["id"].as_str().unwrap_or_default().to_owned();
    let agree = "mutation($c: ID!, $on: String!) { recordParticipation(input: {childId: $c, agreedBy: PARENT, agreedByName: \"Pat Testchild\", agreedOn: $on, evidence: \"Signed form\"}) { id } }";
    let body = zone.as_(&zone.link_worker, agree, json!({"c": hal, "on": "2026-03-01"})).await;
    assert_eq!(problem(&body).0, "agreedOn");
    assert!(problem(&body).1.contains("2 March 2026"), "{body}");
    assert_eq!(history(&zone, &hal).await["status"], "IDENTIFIED");
    assert_ok(&zone.as_(&zone.link_worker, agree, json!({"c": hal, "on": "2026-03-02"})).await);
}

const REFERRAL_HISTORY: &str = "query($r: ID!) { referral(id: $r) { status history { to at on } } }";

async fn referral_steps(zone: &Zone, referral: &str) -> Vec<(String, String)> {
    let body = zone.as_(&zone.link_worker, REFERRAL_HISTORY, json!({"r": referral})).await;
    assert_ok(&body);
    body["data"]["referral"]["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|s| {
            assert!(s["at"].as_str().unwrap_or_default().starts_with(&day(today())), "recorded today: {s}");
            (s["to"].as_str().unwrap_or("").to_owned(), s["on"].as_str().unwrap_or("").to_owned())
        })
        .collect()
}

fn steps(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
}

#[tokio::test]
async fn referral_steps_are_dated_as_they_happened_and_the_start_by_the_register() {
    let zone = Zone::new().await;
    let programme = zone.programme(&zone.partner_1, "Mentoring", 10).await;
    let propose = "mutation($c: ID!, $p: ID!, $on: String) { proposeReferral(input: {childId: $c, programmeId: $p, needs: \"Low confidence\", on: $on}) { id } }";
    let send = "mutation($r: ID!, $on: String) { sendReferral(referralId: $r, on: $on) { status } }";
    let accept =
        "mutation($r: ID!, $on: String) { respondToReferral(referralId: $r, accept: true, on: $on) { status } }";
    let complete = "mutation($r: ID!, $on: String) { completeReferral(referralId: $r, on: $on) { status } }";
    let session = "mutation($p: ID!, $d: String!, $c: ID!) { logSession(input: {programmeId: $p, heldOn: $d, durationMinutes: 60, kind: ONE_TO_ONE, attendees: [{childId: $c, status: ATTENDED, engagement: FULLY_ENGAGED}]}) { id } }";
    let mut referrals = Vec::new();
    for (name, held_on) in [("Ivy", "2026-10-03"), ("Jo", "2026-10-08")] {
        let c = zone.add_child(name, &zone.anchor_a, &zone.link_worker.id).await;
        zone.ready_for_referral(&c, &[&zone.partner_1]).await;
        let body = zone.as_(&zone.link_worker, propose, json!({"c": c, "p": programme, "on": "2026-10-01"})).await;
        assert_ok(&body);
        let r = body["data"]["proposeReferral"]["id"].as_str().unwrap_or_default().to_owned();

        let body = zone.as_(&zone.link_worker, send, json!({"r": r, "on": "2026-09-30"})).await;
        assert_eq!(
            problem(&body),
            (
                "on".into(),
                "must not be before 1 October 2026, the date of this referral's previous step (proposed)".into()
            )
        );
        assert_ok(&zone.as_(&zone.link_worker, send, json!({"r": r, "on": "2026-10-02"})).await);
        let tomorrow = day(today() + Duration::days(1));
        let body = zone.as_(&zone.partner_worker, accept, json!({"r": r, "on": tomorrow})).await;
        assert_eq!(problem(&body), ("on".into(), "must not be in the future".into()));
        assert_eq!(referral_steps(&zone, &r).await.last().map(|s| s.0.clone()), Some("SENT".into()));
        assert_ok(&zone.as_(&zone.partner_worker, accept, json!({"r": r, "on": "2026-10-05"})).await);
        assert_ok(&zone.as_(&zone.partner_worker, session, json!({"p": programme, "d": held_on, "c": c})).await);
        referrals.push(r);
    }
    let dated = |start: &'static str| {
        steps(&[("PROPOSED", "2026-10-01"), ("SENT", "2026-10-02"), ("ACCEPTED", "2026-10-05"), ("ACTIVE", start)])
    };
    // A register dated before the acceptance (logged late) starts the referral on the day
    // it was accepted; one after it, on the day of the session.
    assert_eq!(referral_steps(&zone, &referrals[0]).await, dated("2026-10-05"));
    assert_eq!(referral_steps(&zone, &referrals[1]).await, dated("2026-10-08"));

    let body = zone.as_(&zone.partner_worker, complete, json!({"r": referrals[1], "on": "2026-10-07"})).await;
    assert_eq!(problem(&body).0, "on");
    assert!(problem(&body).1.contains("8 October 2026"), "{body}");
    assert_ok(&zone.as_(&zone.partner_worker, complete, json!({"r": referrals[1], "on": "2026-10-20"})).await);
    let withdraw = "mutation($r: ID!, $on: String) { withdrawReferral(referralId: $r, reason: \"Moved school\", on: $on) { status } }";
    assert_ok(&zone.as_(&zone.link_worker, withdraw, json!({"r": referrals[0]})).await);
    assert_eq!(referral_steps(&zone, &referrals[0]).await.last(), Some(&("WITHDRAWN".into(), day(today()))));

    // Referrals made in a period are counted by the day they were proposed.
    metrics::refresh(&zone.app.db, None).await.expect("refresh");
    let made = "query($f: MetricsFilter) { metrics(filter: $f) { total { referrals { status count { value } } } } }";
    let count = |body: &Value| -> i64 {
        body["data"]["metrics"]["total"]["referrals"]
            .as_array()
            .map(|rs| rs.iter().filter_map(|r| r["count"]["value"].as_i64()).sum())
            .unwrap_or(-1)
    };
    let autumn = zone.as_(&zone.analyst, made, json!({"f": {"period": "2026-27 autumn"}})).await;
    assert_eq!(count(&autumn), 2, "{autumn}");
    let before = zone.as_(&zone.analyst, made, json!({"f": {"period": "2025-26"}})).await;
    assert_eq!(count(&before), 0, "{before}");
}

#[tokio::test]
async fn the_migration_dates_existing_steps_by_the_day_they_were_recorded() {
    use backbone_migration::{Migrator, MigratorTrait};
    let zone = Zone::new().await;
    zone.ready_for_referral(&zone.child_a1, &[&zone.partner_1]).await;
    let programme = zone.programme(&zone.partner_1, "Mentoring", 10).await;
    zone.refer(&zone.child_a1, &programme, backbone::domain::ReferralStatus::Accepted).await;
    let db = &zone.app.db;
    // (Going back past the sequencer needs every event chained.)
    zone.app.chain_audit().await;

    // Back to before the effective dates (and whatever came after them)…
    let all = Migrator::migrations();
    let first = all
        .iter()
        .position(|m| m.name().contains("add_enrolment_transition_effective_on"))
        .expect("the migration is registered");
    Migrator::down(db, Some((all.len() - first) as u32)).await.expect("down");
    // …where steps were recorded on other days, one late in the evening (UTC).
    let recorded =
        [("enrolment_transitions", "2025-03-04T23:59:58Z"), ("referral_transitions", "2025-05-06T00:00:01Z")];
    for (table, at) in recorded {
        let at = chrono::DateTime::parse_from_rfc3339(at).expect("time").to_utc();
        execute_sql(db, &format!("UPDATE {table} SET at = ?"), vec![at.into()]).await.expect("update");
    }
    Migrator::up(db, None).await.expect("up");

    for (table, day) in [("enrolment_transitions", "2025-03-04"), ("referral_transitions", "2025-05-06")] {
        let sql = format!(
            "SELECT COUNT(*) AS n, SUM(CASE WHEN CAST(effective_on AS TEXT) = '{day}' THEN 1 ELSE 0 END) AS dated FROM {table}"
        );
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(db.get_database_backend(), sql))
            .await
            .expect("query")
            .expect("a row");
        let n: i64 = row.try_get("", "n").expect("n");
        let dated: i64 = row.try_get("", "dated").expect("dated");
        assert!(n >= 3, "{table} has steps");
        assert_eq!(dated, n, "every step of {table} dated {day}");
    }
}
