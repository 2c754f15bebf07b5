//! More than one process on one PostgreSQL database: two real `backbone serve` processes
//! share it, and
//! - an event that happens on one reaches a subscriber on the other (`LISTEN/NOTIFY`);
//! - the audit sequencer and the metrics refresh are each done by exactly one of them,
//!   and the other takes them up when that one is killed (`kill -9`);
//! - a session made on one works on the other, and failed sign-ins count whichever of
//!   them answers (the login throttle is in the database).
//!
//! PostgreSQL only: it runs when `BACKBONE_TEST_DATABASE_URL` names a server (as in
//! `.ci/run`'s PostgreSQL phase); on SQLite — one process's file — it says so and checks
//! nothing.

mod support;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};
use support::*;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

const PARTNER_WORKER: &str = "processes.partner@test.zone";
/// How long anything here may take before the test gives up (not a timing assertion).
const PATIENCE: Duration = Duration::from_secs(60);

/// A partner with a programme and a worker, for the link worker's referrals.
async fn add_partner(url: &str) -> String {
    use backbone::domain::{AttendingType, OrganisationKind, OutcomeDomain, Role, accounts, programmes};
    let db = backbone::store::db::connect(url, 2).await.expect("open the database");
    let system = backbone::auth::Actor::system();
    let org = accounts::NewOrganisation { name: "Processes Sports".into(), kind: OrganisationKind::Partner };
    let partner = accounts::create_organisation(&db, &system, org).await.expect("partner").id;
    let account = accounts::NewAccount {
        email: PARTNER_WORKER.into(),
        display_name: "Processes Partner".into(),
        password: PASSWORD.into(),
        organisation_id: partner.clone(),
        role: Role::PartnerWorker,
        designated_safeguarding_lead: false,
        is_demo: false,
    };
    accounts::create_account(&db, &system, account).await.expect("partner worker");
    let fields = programmes::ProgrammeFields {
        name: "Football".into(),
        description: "After-school football".into(),
        domains: vec![OutcomeDomain::Relationships],
        minimum_age: 5,
        maximum_age: 16,
        attending_type: AttendingType::InPerson,
        location_name: Some("Test Park".into()),
        postcode: Some("ZZ1 1ZZ".into()),
        schedule: "Thursdays 16:00".into(),
        capacity: 10,
        starts_on: None,
    };
    let programme = programmes::create(&db, &system, Some(partner.clone()), fields).await.expect("programme").id;
    db.close().await.ok();
    format!("{partner} {programme}")
}

async fn graphql(base: &str, token: Option<&str>, query: &str, variables: Value) -> Value {
    post(&reqwest::Client::new(), base, token, query, variables).await.unwrap_or_else(|| panic!("{base} answered"))
}

async fn token_of(base: &str, email: &str) -> String {
    let body = graphql(
        base,
        None,
        "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }",
        json!({ "e": email, "p": PASSWORD }),
    )
    .await;
    body["data"]["login"]["token"].as_str().unwrap_or_else(|| panic!("login as {email}: {body}")).to_owned()
}

fn ok(body: &Value) -> &Value {
    assert!(body.get("errors").is_none(), "unexpected errors: {body}");
    &body["data"]
}

/// Waits until `check` holds, or fails naming `what`.
async fn eventually<F: std::future::Future<Output = bool>>(what: &str, mut check: impl FnMut() -> F) {
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < PATIENCE, "{what}: not within {PATIENCE:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!("two processes: {what} ({} ms)", start.elapsed().as_millis());
}

fn log(dir: &Path, n: usize) -> String {
    std::fs::read_to_string(dir.join(format!("serve-{n}.log"))).unwrap_or_default()
}

/// The duties a process's log says it took up.
fn duties(dir: &Path, n: usize) -> Vec<&'static str> {
    let log = log(dir, n);
    let taken = |duty: &str| log.lines().any(|l| l.contains("has taken up the duty") && l.contains(duty));
    ["ChainAudit", "RefreshMetrics"].into_iter().filter(|d| taken(d)).collect()
}

async fn unchained(url: &str) -> i64 {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let db = backbone::store::db::connect(url, 1).await.expect("open the database");
    let n = backbone::store::audit_event::Entity::find()
        .filter(backbone::store::audit_event::Column::Seq.is_null())
        .count(&db)
        .await
        .expect("count");
    db.close().await.ok();
    n as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_events_duties_sessions_the_login_throttle_and_rate_limits() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    let target = target(dir).await;
    if target.engine != "postgres" {
        eprintln!("two processes: PostgreSQL only (set BACKBONE_TEST_DATABASE_URL); nothing checked on SQLite");
        return;
    }
    let url = target.url.as_str();
    prepare(dir, url).await;
    let ids = add_partner(url).await;
    let (_partner, programme) = ids.split_once(' ').expect("ids");
    let env = [
        ("RUST_LOG", "warn,backbone::store::db=info"),
        ("BACKBONE_AUTH__MAX_FAILURES_PER_ACCOUNT", "3"),
        ("BACKBONE_METRICS__REFRESH_MINUTES", "1"),
        ("BACKBONE_AUTH__REQUESTS_PER_MINUTE", "30"),
    ];

    // The first process takes up both duties; the second, started after, neither.
    let a = Server::start_with(dir, url, 1, &env);
    eventually("the first process takes up both duties", || async { duties(dir, 1).len() == 2 }).await;
    let b = Server::start_with(dir, url, 2, &env);
    let (on_a, on_b) = (a.base.clone(), b.base.clone());

    // A session made on A works on B.
    let worker = token_of(&on_a, LINK_WORKER).await;
    let me = graphql(&on_b, Some(&worker), "{ me { email } }", json!({})).await;
    assert_eq!(ok(&me)["me"]["email"], LINK_WORKER);

    // A referral sent on A reaches the partner's inbox subscribed on B.
    let partner = token_of(&on_b, PARTNER_WORKER).await;
    let mut request = format!("{}/graphql/ws", on_b.replacen("http", "ws", 1)).into_client_request().expect("request");
    request.headers_mut().insert("sec-websocket-protocol", HeaderValue::from_static("graphql-transport-ws"));
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.expect("WebSocket to B");
    let init = json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {partner}") } });
    socket.send(Message::text(init.to_string())).await.expect("init");
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": { "query": "subscription { referralInbox { kind referralId } }" } });
    socket.send(Message::text(subscribe.to_string())).await.expect("subscribe");

    let referral = refer(url, &on_a, &worker, programme).await;
    let heard = tokio::time::timeout(PATIENCE, async {
        while let Some(Ok(message)) = socket.next().await {
            let Message::Text(text) = message else { continue };
            let value: Value = serde_json::from_str(text.as_str()).expect("JSON");
            if value["type"] == "next" {
                return value;
            }
        }
        Value::Null
    })
    .await
    .expect("the event reached B");
    assert_eq!(heard["payload"]["data"]["referralInbox"]["referralId"], referral.as_str(), "{heard}");
    assert_eq!(heard["payload"]["data"]["referralInbox"]["kind"], "SENT", "{heard}");

    // Failed sign-ins count on whichever process answers: two on A, one on B, then the
    // account is locked on A.
    let wrong = |base: String| async move {
        graphql(
            &base,
            None,
            "mutation($e: String!) { login(email: $e, password: \"not the password at all\") { token } }",
            json!({ "e": PARTNER_WORKER }),
        )
        .await
    };
    for base in [&on_a, &on_a, &on_b] {
        let body = wrong(base.clone()).await;
        assert!(body.get("errors").is_some(), "{body}");
    }
    let locked = wrong(on_a.clone()).await;
    assert_eq!(locked["errors"][0]["extensions"]["code"], "TOO_MANY_REQUESTS", "{locked}");

    // A token's allowance is one, whichever process answers: 30 a minute in all, not 30
    // on each (a minute's allowance plus the little refilled while the burst runs).
    let burst = token_of(&on_a, LINK_WORKER).await;
    let mut served = [0, 0];
    for n in 0..60 {
        let body = graphql([&on_a, &on_b][n % 2], Some(&burst), "{ me { id } }", json!({})).await;
        if body["errors"][0]["extensions"]["code"] == "TOO_MANY_REQUESTS" {
            break;
        }
        ok(&body);
        served[n % 2] += 1;
    }
    let total = served[0] + served[1];
    assert!((30..40).contains(&total), "served {served:?} before the shared allowance ran out");

    // Only A did the duties all along; B takes them up when A is killed, and chains the
    // events written through it.
    assert!(duties(dir, 2).is_empty(), "B took up no duty while A held them:\n{}", log(dir, 2));
    a.kill_9();
    eventually("B takes up both duties", || async { duties(dir, 2).len() == 2 }).await;
    ok(&graphql(&on_b, Some(&worker), "{ caseload(first: 5) { edges { node { id } } } }", json!({})).await);
    eventually("B chains what was written", || async { unchained(url).await == 0 }).await;
    drop(b);
}

/// The link worker identifies a child on A; the system records their consent and
/// enrolment and proposes them to `programme`; the link worker sends it on A. The id.
async fn refer(url: &str, on_a: &str, worker: &str, programme: &str) -> String {
    use backbone::domain::{GiverKind, LawfulBasisKind, Purpose, consent, enrolment, referrals};
    let child = graphql(
        on_a,
        Some(worker),
        "mutation { identifyChild(input: {firstName: \"Ola\", lastName: \"Testchild\", dateOfBirth: \"2016-05-04\", \
         yearGroup: 5, on: \"2025-01-06\"}) { id } }",
        json!({}),
    )
    .await;
    let child = ok(&child)["identifyChild"]["id"].as_str().expect("child id").to_owned();
    let db = backbone::store::db::connect(url, 2).await.expect("open the database");
    let system = backbone::auth::Actor::system();
    let partner = backbone::domain::programmes::find(&db, programme).await.expect("programme").organisation_id;
    let agreed = consent::NewParticipation {
        child_id: child.clone(),
        agreed_by: GiverKind::Parent,
        agreed_by_name: "Pat Testchild".into(),
        agreed_on: "2025-01-10".into(),
        evidence: "Signed form".into(),
    };
    consent::record_participation(&db, &system, agreed).await.expect("participation");
    let basis = consent::NewLawfulBasis {
        child_id: child.clone(),
        basis: LawfulBasisKind::PublicTask,
        special_category: None,
        data_sharing_agreement: "Test DSA".into(),
    };
    consent::record_lawful_basis(&db, &system, basis).await.expect("lawful basis");
    let given = consent::NewConsent {
        child_id: child.clone(),
        given_by: GiverKind::Parent,
        given_by_name: "Pat Testchild".into(),
        given_on: "2025-01-10".into(),
        purposes: vec![Purpose::Referral],
        partner_ids: vec![partner],
        evidence: "Signed form".into(),
    };
    consent::record_consent(&db, &system, given).await.expect("consent");
    let enrol = enrolment::Enrol { child_id: child.clone(), cohort: "2025/26".into(), on: None };
    enrolment::enrol(&db, &system, enrol).await.expect("enrol");
    let new = referrals::NewReferral {
        child_id: child,
        programme_id: programme.to_owned(),
        needs: "Would enjoy a team".into(),
        note: None,
        on: None,
    };
    let proposed = referrals::propose(&db, &system, new).await.expect("propose").id;
    db.close().await.ok();
    let sent = graphql(
        on_a,
        Some(worker),
        "mutation($r: ID!) { sendReferral(referralId: $r) { id } }",
        json!({"r": proposed}),
    )
    .await;
    ok(&sent)["sendReferral"]["id"].as_str().expect("sent").to_owned()
}
