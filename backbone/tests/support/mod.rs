//! What the tests that run the real `backbone` binary share: a fresh database (a SQLite
//! file, or a fresh PostgreSQL database when `BACKBONE_TEST_DATABASE_URL` names a server),
//! its audit key and first accounts, the binary started on a random port, GraphQL over HTTP.

#![allow(dead_code)] // each test file uses its own part of it

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

/// The link worker the harness creates, and their (synthetic) password.
pub const LINK_WORKER: &str = "crash.linkworker@test.zone";
pub const PASSWORD: &str = "crash-harness-password";

/// The settings the harness's processes share: the database, and the audit key and
/// checkpoints in files of the run's directory (PostgreSQL has no default for them).
pub fn settings(dir: &Path, url: &str) -> backbone::settings::Settings {
    let mut s = backbone::settings::Settings::default();
    s.database.url = url.to_owned();
    s.audit.key_file = dir.join("audit-key");
    s.audit.checkpoint_file = dir.join("audit-checkpoints");
    s
}

/// Migrates the fresh database, makes and binds its audit key, and adds the framework, an
/// anchor and its link worker.
pub async fn prepare(dir: &Path, url: &str) {
    use backbone::domain::{OrganisationKind, Role, accounts, outcomes};
    let settings = settings(dir, url);
    let key = backbone::audit::Key::generate().expect("audit key");
    std::fs::write(&settings.audit.key_file, key.to_hex()).expect("write the audit key");
    let db = backbone::store::db::connect(url, 2).await.expect("open the database");
    backbone::store::db::migrate(&db).await.expect("migrate");
    let trust = backbone::audit::Trust::load(&settings, backbone::audit::IfMissing::Refuse).expect("load the key");
    backbone::audit::bind(&db, &trust).await.expect("bind the audit key");
    let system = backbone::auth::Actor::system();
    outcomes::load(&db, &system, outcomes::DEFAULT_FRAMEWORK).await.expect("the default framework");
    let org = |name: &str, kind| accounts::NewOrganisation { name: name.into(), kind };
    accounts::create_organisation(&db, &system, org("Crash Backbone", OrganisationKind::Backbone))
        .await
        .expect("backbone organisation");
    let anchor = accounts::create_organisation(&db, &system, org("Crash Primary", OrganisationKind::Anchor))
        .await
        .expect("anchor");
    let account = accounts::NewAccount {
        email: LINK_WORKER.into(),
        display_name: "Crash Worker".into(),
        password: PASSWORD.into(),
        organisation_id: anchor.id,
        role: Role::LinkWorker,
        designated_safeguarding_lead: false,
        is_demo: false,
    };
    accounts::create_account(&db, &system, account).await.expect("link worker");
    db.close().await.ok();
}

/// Signs the harness's link worker in; their bearer token.
pub async fn login(http: &reqwest::Client, base: &str) -> String {
    let login = post(
        http,
        base,
        None,
        "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }",
        json!({ "e": LINK_WORKER, "p": PASSWORD }),
    )
    .await
    .expect("login answered");
    login["data"]["login"]["token"].as_str().unwrap_or_else(|| panic!("login: {login}")).to_owned()
}

/// The database the harness runs against.
pub struct Target {
    pub url: String,
    pub engine: &'static str,
}

pub async fn target(dir: &Path) -> Target {
    match std::env::var("BACKBONE_TEST_DATABASE_URL") {
        Ok(server) if server.starts_with("postgres") => {
            let name = format!("bb_crash_{}", uuid::Uuid::now_v7().simple());
            use sea_orm::ConnectionTrait;
            let admin = sea_orm::Database::connect(server.clone()).await.expect("connect to PostgreSQL");
            admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.expect("create database");
            admin.close().await.ok();
            let base = server.rsplit_once('/').map(|(b, _)| b.to_owned()).expect("URL with a database path");
            Target { url: format!("{base}/{name}"), engine: "postgres" }
        }
        _ => Target { url: format!("sqlite://{}?mode=rwc", dir.join("crash.db").display()), engine: "sqlite" },
    }
}

pub fn backbone(dir: &Path, url: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_backbone"));
    cmd.current_dir(dir)
        .env("DATABASE_URL", url)
        .env("BACKBONE_CONFIG", dir.join("none.toml"))
        .env("BACKBONE_NO_BROWSER", "1")
        .env("BACKBONE_AUDIT__KEY_FILE", dir.join("audit-key"))
        .env("BACKBONE_AUDIT__CHECKPOINT_FILE", dir.join("audit-checkpoints"))
        // The writers share one token: no per-token rate limit in the way.
        .env("BACKBONE_AUTH__REQUESTS_PER_MINUTE", "0")
        .env("RUST_LOG", "warn");
    cmd
}

pub fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// A running `backbone serve` and the address it reported.
pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Server {
    pub fn start(dir: &Path, url: &str, cycle: usize) -> Server {
        Server::start_with(dir, url, cycle, &[])
    }

    /// As [`Server::start`], with settings of its own (`BACKBONE_…` variables); its log is
    /// `serve-{cycle}.log` in `dir`.
    pub fn start_with(dir: &Path, url: &str, cycle: usize, env: &[(&str, &str)]) -> Server {
        Server::spawn(dir, url, cycle, env, &[])
    }

    /// `backbone serve --demo` on `url` (seeding the demo zone the first time).
    pub fn start_demo(dir: &Path, url: &str, cycle: usize) -> Server {
        Server::spawn(dir, url, cycle, &[], &["--demo"])
    }

    fn spawn(dir: &Path, url: &str, cycle: usize, env: &[(&str, &str)], args: &[&str]) -> Server {
        let log = std::fs::File::create(dir.join(format!("serve-{cycle}.log"))).expect("log file");
        let mut child = backbone(dir, url)
            .envs(env.iter().copied())
            .args(["serve", "--bind", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("start backbone serve");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        // Reads the banner for the address, then keeps draining stdout.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line.trim().strip_prefix("backbone is listening on ") {
                    let _ = tx.send(addr.to_owned());
                }
            }
        });
        match rx.recv_timeout(Duration::from_secs(300)) {
            Ok(base) => Server { child, base },
            Err(_) => {
                let _ = child.kill();
                let log = std::fs::read_to_string(dir.join(format!("serve-{cycle}.log"))).unwrap_or_default();
                panic!("backbone serve did not report its address (cycle {cycle}):\n{log}");
            }
        }
    }

    /// `SIGKILL`: no graceful shutdown, no flush, no destructor.
    pub fn kill_9(mut self) {
        self.child.kill().expect("kill -9");
        self.child.wait().expect("reaped");
    }
}

pub async fn post(
    http: &reqwest::Client,
    base: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> Option<Value> {
    let mut req = http.post(format!("{base}/graphql")).json(&json!({ "query": query, "variables": variables }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.ok()?;
    resp.json().await.ok()
}
