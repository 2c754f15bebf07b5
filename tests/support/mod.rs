//! Test support: start the real backbone service on a random loopback port with a fresh
//! database, build a small fixture zone through the domain (as the system actor), and
//! speak GraphQL over HTTP as any role.
//!
//! Database: a temporary SQLite file by default; when `BACKBONE_TEST_DATABASE_URL` names
//! a PostgreSQL server (`postgres://user@host:port/postgres`), each test gets its own
//! freshly created database there, so tests run in parallel on either engine.

/// The fuzzer (documents from the SDL, run against a service over HTTP).
pub mod fuzz;

use backbone::auth::Actor;
use backbone::domain::{
    AttendingType, GiverKind, LawfulBasisKind, OrganisationKind, OutcomeDomain, Purpose, ReferralStatus, Role,
    accounts, children, consent, enrolment, programmes, referrals,
};
use backbone::settings::Settings;
use backbone::startup::{Application, StartOptions};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};
use std::net::SocketAddr;

/// The password of every fixture account.
pub const PASSWORD: &str = "correct-horse-battery";

/// A running service and its database.
pub struct TestApp {
    pub address: SocketAddr,
    pub db: DatabaseConnection,
    pub database_url: String,
    /// The audit key and checkpoint file the service writes with (for `audit::verify`).
    pub audit: backbone::audit::Trust,
    /// The settings it was started with (to start another service on the same database).
    pub settings: Settings,
    pub http: reqwest::Client,
    _dir: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// Runs raw SQL written with `?` placeholders on either engine (PostgreSQL numbers them).
pub async fn execute_sql(
    db: &DatabaseConnection,
    sql: &str,
    values: Vec<sea_orm::Value>,
) -> Result<sea_orm::ExecResult, sea_orm::DbErr> {
    use sea_orm::ConnectionTrait;
    let backend = db.get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Postgres => {
            let mut n = 0;
            sql.chars()
                .map(|c| {
                    if c == '?' {
                        n += 1;
                        format!("${n}")
                    } else {
                        c.to_string()
                    }
                })
                .collect()
        }
        _ => sql.to_owned(),
    };
    db.execute_raw(sea_orm::Statement::from_sql_and_values(backend, sql, values)).await
}

/// A fresh, empty database URL for one test.
pub async fn fresh_database(dir: &tempfile::TempDir) -> String {
    match std::env::var("BACKBONE_TEST_DATABASE_URL") {
        Ok(server) if server.starts_with("postgres") => {
            let name = format!("bb_test_{}", uuid::Uuid::now_v7().simple());
            let admin = Database::connect(server.clone()).await.expect("connect to the test PostgreSQL server");
            admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.expect("create test database");
            admin.close().await.ok();
            let base = server.rsplit_once('/').map(|(b, _)| b.to_owned()).expect("URL with a database path");
            format!("{base}/{name}")
        }
        _ => format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display()),
    }
}

/// Settings for a test: loopback, port 0, the given database; the per-token rate limit
/// off and login throttling too high to trip (the tests of them set their own).
pub fn test_settings(database_url: &str) -> Settings {
    let mut s = Settings::default();
    s.database.url = database_url.to_owned();
    s.database.max_connections = 4;
    s.server.bind = "127.0.0.1:0".parse().expect("address");
    s.auth.requests_per_minute = 0;
    s.auth.max_failures_per_account = 10_000;
    s.auth.max_failures_per_address = 10_000;
    s
}

impl TestApp {
    /// Starts the service with default settings and an empty database.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}, StartOptions::default()).await
    }

    /// Starts the service with adjusted settings.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Settings), options: StartOptions) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let database_url = fresh_database(&dir).await;
        let mut settings = test_settings(&database_url);
        if settings.sqlite_path().is_none() {
            // PostgreSQL has no default place for the audit key and checkpoints (on SQLite
            // they are made beside the database file).
            settings.audit.key = Some(backbone::audit::Key::generate().expect("key").to_hex());
            settings.audit.checkpoint_file = dir.path().join("audit-checkpoints");
        }
        adjust(&mut settings);
        let audit = backbone::audit::Trust::load(&settings, backbone::audit::IfMissing::Create).expect("audit key");
        let app = Application::build(settings.clone(), options).await.expect("application builds");
        let address = app.address();
        let db = app.db().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.run_until(async move {
            let _ = stopped.await;
        }));
        TestApp { address, db, database_url, audit, settings, http: reqwest::Client::new(), _dir: dir, _stop: stop }
    }

    /// Chains every audit event written so far (what the service's sequencer does a moment
    /// after each commit), so that a test reads the chain as it stands.
    pub async fn chain_audit(&self) {
        backbone::audit::chain(&self.db).await.expect("audit events chained");
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address, path)
    }

    /// Posts a GraphQL operation with an optional bearer token; returns the JSON body.
    pub async fn graphql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut req = self.http.post(self.url("/graphql")).json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("request sent");
        resp.json().await.expect("JSON body")
    }

    /// Posts a GraphQL operation with one file upload (the GraphQL multipart request
    /// spec): `file` becomes the variable `$file`. Returns the JSON body.
    pub async fn upload(&self, token: &str, query: &str, mut variables: Value, file: &[u8]) -> Value {
        variables["file"] = Value::Null;
        let operations = json!({ "query": query, "variables": variables }).to_string();
        let form = reqwest::multipart::Form::new()
            .text("operations", operations)
            .text("map", json!({ "0": ["variables.file"] }).to_string())
            .part("0", reqwest::multipart::Part::bytes(file.to_vec()).file_name("anchor-data.csv"));
        let resp = self.http.post(self.url("/graphql")).bearer_auth(token).multipart(form).send().await.expect("sent");
        resp.json().await.expect("JSON body")
    }

    /// Logs in and returns the token (panics if login fails).
    pub async fn login(&self, email: &str, password: &str) -> String {
        let body = self
            .graphql(
                None,
                "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }",
                json!({ "e": email, "p": password }),
            )
            .await;
        body["data"]["login"]["token"].as_str().unwrap_or_else(|| panic!("login as {email} failed: {body}")).to_owned()
    }
}

/// The code of the first error, if any.
pub fn error_code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}

/// The field named by the first error, if any.
pub fn error_field(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["field"].as_str()
}

/// Panics with the body unless there are no errors.
pub fn assert_ok(body: &Value) {
    assert!(body.get("errors").is_none(), "unexpected errors: {body}");
}

/// Refused with `code`, and nothing of the record in `data`.
pub fn assert_refused(body: &Value, code: &str) {
    assert_eq!(error_code(body), Some(code), "{body}");
    assert!(body["data"].is_null(), "a refusal returned data: {body}");
}

/// Refused as `INVALID_INPUT` naming `field` (the first problem), with nothing written
/// back in `data`.
pub fn assert_invalid(body: &Value, field: &str) {
    assert_eq!(error_code(body), Some("INVALID_INPUT"), "{body}");
    assert_eq!(error_field(body), Some(field), "{body}");
    let data = &body["data"];
    assert!(data.is_null() || data.as_object().is_some_and(|d| d.values().all(Value::is_null)), "no data: {body}");
}

pub fn assert_not_found(body: &Value) {
    assert_refused(body, "NOT_FOUND");
}

pub fn assert_forbidden(body: &Value) {
    assert_refused(body, "FORBIDDEN");
}

/// The first error without its per-request id: what a caller could compare, e.g. a child
/// out of scope against an id that names nothing.
pub fn error_shape(body: &Value) -> Value {
    let mut e = body["errors"][0].clone();
    if let Some(ext) = e["extensions"].as_object_mut() {
        ext.remove("requestId");
    }
    json!({ "error": e, "errors": body["errors"].as_array().map(Vec::len), "data": body["data"] })
}

/// A fresh id of the same shape as real ones, naming nothing.
pub fn missing_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The day the fixture's children were identified.
pub const IDENTIFIED_ON: &str = "2025-01-06";

/// The fixture's way of describing a new child at `anchor`: a Year 5 "Testchild" born
/// 4 May 2016, identified on [`IDENTIFIED_ON`].
pub fn new_child(first: &str, anchor: &str) -> children::NewChild {
    children::NewChild {
        first_name: first.into(),
        last_name: "Testchild".into(),
        date_of_birth: "2016-05-04".into(),
        anchor_id: Some(anchor.into()),
        year_group: 5,
        upn: None,
        contact_phone: Some("07700 900001".into()),
        contact_email: None,
        postcode: Some("ZZ1 1ZZ".into()),
        free_school_meals: true,
        send: false,
        eal: false,
        looked_after: false,
        note: None,
        // Before the fixture's agreement to take part (see `Zone::ready_for_referral`).
        on: Some(IDENTIFIED_ON.into()),
        confirm_not_duplicate: false,
    }
}

/// Identifies a child at `anchor` (as the system) and hands them to `worker`'s caseload,
/// with an optional handover note. Returns the child's id.
pub async fn add_child(
    db: &DatabaseConnection,
    first: &str,
    anchor: &str,
    worker: &str,
    note: Option<String>,
) -> String {
    let system = Actor::system();
    let c = children::identify(db, &system, new_child(first, anchor)).await.expect("child");
    backbone::domain::casework::hand_over(db, &system, &c.id, worker, note).await.expect("assign");
    c.id
}

/// A small zone: two anchors, two partners, a funder, the backbone, one account per role
/// (and a second link worker at each anchor), and three children.
pub struct Zone {
    pub app: TestApp,
    pub anchor_a: String,
    pub anchor_b: String,
    pub partner_1: String,
    pub partner_2: String,
    pub funder_org: String,
    /// Link worker at anchor A; `child_a1` is on their caseload.
    pub link_worker: Account,
    /// Another link worker at anchor A; `child_a2` is on their caseload.
    pub link_worker_2: Account,
    /// Link worker at anchor B; `child_b1` is on their caseload.
    pub link_worker_b: Account,
    pub anchor_lead: Account,
    pub anchor_lead_b: Account,
    pub partner_worker: Account,
    pub partner_lead: Account,
    /// Partner worker at partner 2.
    pub partner_worker_2: Account,
    pub funder: Account,
    pub analyst: Account,
    pub admin: Account,
    pub child_a1: String,
    pub child_a2: String,
    pub child_b1: String,
}

/// An account of the fixture, logged in.
pub struct Account {
    pub id: String,
    pub email: String,
    pub token: String,
}

impl Zone {
    /// Starts the service and builds the fixture zone.
    pub async fn new() -> Zone {
        Self::from_app(TestApp::spawn().await).await
    }

    /// The fixture zone with the default outcomes framework loaded.
    pub async fn with_framework() -> Zone {
        let zone = Self::new().await;
        let system = backbone::auth::Actor::system();
        backbone::domain::outcomes::load(&zone.app.db, &system, backbone::domain::outcomes::DEFAULT_FRAMEWORK)
            .await
            .expect("default framework loads");
        zone
    }

    pub async fn from_app(app: TestApp) -> Zone {
        let system = Actor::system();
        let db = &app.db;
        let org = |name: &str, kind| accounts::NewOrganisation { name: name.into(), kind };
        let mk = |n: &str, k| org(n, k);
        let create =
            |input| async { accounts::create_organisation(db, &system, input).await.expect("organisation").id };
        let _backbone = create(mk("Test Backbone", OrganisationKind::Backbone)).await;
        let backbone = _backbone.clone();
        let anchor_a = create(mk("Test Primary", OrganisationKind::Anchor)).await;
        let anchor_b = create(mk("Test Secondary", OrganisationKind::Anchor)).await;
        let partner_1 = create(mk("Test Mentoring", OrganisationKind::Partner)).await;
        let partner_2 = create(mk("Test Sports", OrganisationKind::Partner)).await;
        let funder_org = create(mk("Test Foundation", OrganisationKind::Funder)).await;

        let account = |email: &str, org: &str, role: Role| accounts::NewAccount {
            email: email.into(),
            display_name: "Test Person".into(),
            password: PASSWORD.into(),
            organisation_id: org.into(),
            role,
            designated_safeguarding_lead: false,
            is_demo: false,
        };
        let specs = [
            ("lw@test.zone", anchor_a.clone(), Role::LinkWorker),
            ("lw2@test.zone", anchor_a.clone(), Role::LinkWorker),
            ("lwb@test.zone", anchor_b.clone(), Role::LinkWorker),
            ("lead@test.zone", anchor_a.clone(), Role::AnchorLead),
            ("leadb@test.zone", anchor_b.clone(), Role::AnchorLead),
            ("pw@test.zone", partner_1.clone(), Role::PartnerWorker),
            ("pl@test.zone", partner_1.clone(), Role::PartnerLead),
            ("pw2@test.zone", partner_2.clone(), Role::PartnerWorker),
            ("funder@test.zone", funder_org.clone(), Role::Funder),
            ("analyst@test.zone", backbone.clone(), Role::BackboneAnalyst),
            ("admin@test.zone", backbone.clone(), Role::BackboneAdmin),
        ];
        let mut made = Vec::new();
        for (email, org, role) in specs {
            let u = accounts::create_account(db, &system, account(email, &org, role)).await.expect("account");
            let token = app.login(email, PASSWORD).await;
            made.push(Account { id: u.id, email: email.into(), token });
        }
        let mut it = made.into_iter();
        let mut next = || it.next().expect("account");
        let (link_worker, link_worker_2, link_worker_b) = (next(), next(), next());
        let (anchor_lead, anchor_lead_b, partner_worker, partner_lead) = (next(), next(), next(), next());
        let partner_worker_2 = next();
        let (funder, analyst, admin) = (next(), next(), next());

        let add = async |first: &str, anchor: &str, worker: &str| add_child(db, first, anchor, worker, None).await;
        let child_a1 = add("Ada", &anchor_a, &link_worker.id).await;
        let child_a2 = add("Bea", &anchor_a, &link_worker_2.id).await;
        let child_b1 = add("Cal", &anchor_b, &link_worker_b.id).await;
        // The fixture's own events are chained, as the sequencer would soon after.
        app.chain_audit().await;
        Zone {
            app,
            anchor_a,
            anchor_b,
            partner_1,
            partner_2,
            funder_org,
            link_worker,
            link_worker_2,
            link_worker_b,
            anchor_lead,
            anchor_lead_b,
            partner_worker,
            partner_lead,
            partner_worker_2,
            funder,
            analyst,
            admin,
            child_a1,
            child_a2,
            child_b1,
        }
    }

    /// Runs an operation as `who`.
    pub async fn as_(&self, who: &Account, query: &str, variables: Value) -> Value {
        self.app.graphql(Some(&who.token), query, variables).await
    }

    /// A new child at `anchor` on `worker`'s caseload, as the fixture's own children are.
    pub async fn add_child(&self, first: &str, anchor: &str, worker: &str) -> String {
        add_child(&self.app.db, first, anchor, worker, None).await
    }

    /// Adds an active programme to a partner (as the system), with `capacity` places, for
    /// ages 5–16, serving emotional wellbeing and relationships. Returns its id.
    pub async fn programme(&self, partner: &str, name: &str, capacity: i32) -> String {
        let fields = programmes::ProgrammeFields {
            name: name.into(),
            description: "A test programme".into(),
            domains: vec![OutcomeDomain::EmotionalWellbeing, OutcomeDomain::Relationships],
            minimum_age: 5,
            maximum_age: 16,
            attending_type: AttendingType::InPerson,
            location_name: Some("Test Hall".into()),
            postcode: Some("ZZ1 1ZZ".into()),
            schedule: "Tuesdays 15:30-17:00 in term time".into(),
            capacity,
            starts_on: None,
        };
        programmes::create(&self.app.db, &Actor::system(), Some(partner.into()), fields).await.expect("programme").id
    }

    /// Makes a child ready to be referred (as the system): agreement to take part, lawful
    /// basis, consent covering `partners`, enrolled today. Returns the consent's id.
    pub async fn ready_for_referral(&self, child: &str, partners: &[&str]) -> String {
        self.enrolled_on(child, partners, None).await
    }

    /// As [`Zone::ready_for_referral`], enrolled `on` a day (`YYYY-MM-DD`; today for `None`)
    /// on or after the agreement to take part (10 January 2025).
    pub async fn enrolled_on(&self, child: &str, partners: &[&str], on: Option<&str>) -> String {
        let (db, system) = (&self.app.db, Actor::system());
        let participation = consent::NewParticipation {
            child_id: child.into(),
            agreed_by: GiverKind::Parent,
            agreed_by_name: "Pat Example".into(),
            agreed_on: "2025-01-10".into(),
            evidence: "Signed form".into(),
        };
        consent::record_participation(db, &system, participation).await.expect("participation");
        let basis = consent::NewLawfulBasis {
            child_id: child.into(),
            basis: LawfulBasisKind::PublicTask,
            special_category: None,
            data_sharing_agreement: "Test DSA".into(),
        };
        consent::record_lawful_basis(db, &system, basis).await.expect("lawful basis");
        let given = consent::NewConsent {
            child_id: child.into(),
            given_by: GiverKind::Parent,
            given_by_name: "Pat Example".into(),
            given_on: "2025-01-10".into(),
            purposes: vec![Purpose::Referral, Purpose::ProgressMonitoring],
            partner_ids: partners.iter().map(|p| (*p).to_owned()).collect(),
            evidence: "Signed form".into(),
        };
        let c = consent::record_consent(db, &system, given).await.expect("consent");
        let enrol = enrolment::Enrol { child_id: child.into(), cohort: "2025/26".into(), on: on.map(str::to_owned) };
        enrolment::enrol(db, &system, enrol).await.expect("enrol");
        c.id
    }

    /// Refers a ready child to a programme and moves the referral (as the system) as far as
    /// `until`: `Proposed`, `Sent` or `Accepted`. Returns the referral's id.
    pub async fn refer(&self, child: &str, programme: &str, until: ReferralStatus) -> String {
        let (db, system) = (&self.app.db, Actor::system());
        let new = referrals::NewReferral {
            child_id: child.into(),
            programme_id: programme.into(),
            needs: "Low confidence; finds groups hard".into(),
            note: None,
            on: None,
        };
        let r = referrals::propose(db, &system, new).await.expect("propose").id;
        if until == ReferralStatus::Proposed {
            return r;
        }
        referrals::send(db, &system, &r, None, None).await.expect("send");
        if until == ReferralStatus::Sent {
            return r;
        }
        referrals::respond(db, &system, &r, true, None, None, None).await.expect("accept");
        assert_eq!(until, ReferralStatus::Accepted, "refer() moves a referral at most to accepted");
        r
    }
}
