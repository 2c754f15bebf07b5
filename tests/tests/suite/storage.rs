//! Storage faults: a SQLite file (or a PostgreSQL database) that turns read-only while the
//! service runs, then writable again. Writes fail cleanly (coded errors), `/readyz` says
//! 503, and once the database is writable the service writes again without a restart,
//! `/readyz` 200.
//!
//! Tests run as root, which ignores file permissions, so the file is made read-only with
//! `chattr +i` (immutable) on the database and its `-wal` — never the `-shm`, which SQLite
//! maps into memory (writing to an immutable mapping kills the process with `SIGBUS`).
//! Where `chattr +i` cannot work (not root, a filesystem without the attribute), the test
//! says so loudly and skips.

use backbone::startup::StartOptions;
use backbone_tests::*;
use futures_util::future::join_all;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Command;

/// Files made immutable for as long as this lives (released on drop, even on a panic).
struct ReadOnly {
    files: Vec<PathBuf>,
}

impl ReadOnly {
    /// Makes `files` unwritable even for root, or says why it cannot.
    fn make(files: Vec<PathBuf>) -> Result<ReadOnly, String> {
        let guard = ReadOnly { files };
        for f in &guard.files {
            let out = Command::new("chattr").arg("+i").arg(f).output().map_err(|e| format!("chattr: {e}"))?;
            if !out.status.success() {
                return Err(format!("chattr +i {}: {}", f.display(), String::from_utf8_lossy(&out.stderr).trim()));
            }
            if std::fs::OpenOptions::new().append(true).open(f).is_ok() {
                return Err(format!("{} is still writable after chattr +i", f.display()));
            }
        }
        Ok(guard)
    }

    fn release(&mut self) {
        for f in self.files.drain(..) {
            let _ = Command::new("chattr").arg("-i").arg(&f).status();
        }
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        self.release();
    }
}

/// The same ten children again and again, each time said to be another
/// (`confirmNotDuplicate`): this is about the storage, not about duplicates.
const IDENTIFY: &str = "mutation($n: String!) { identifyChild(input: {firstName: $n, lastName: \"Testchild\", \
                        dateOfBirth: \"2015-09-09\", yearGroup: 6, confirmNotDuplicate: true}) { id } }";

async fn identify_many(zone: &Zone, n: usize) -> Vec<Value> {
    let names = ["Ann", "Ben", "Cat", "Dan", "Eve", "Fin", "Gus", "Hal", "Ivy", "Jo"];
    join_all((0..n).map(|i| zone.as_(&zone.link_worker, IDENTIFY, json!({ "n": names[i % names.len()] })))).await
}

async fn readyz(zone: &Zone) -> reqwest::StatusCode {
    zone.app.http.get(zone.app.url("/readyz")).send().await.expect("readyz answered").status()
}

/// While the database is read-only: every write is a coded error with a request id and
/// nothing returned, and `/readyz` says 503.
async fn writes_fail_cleanly(zone: &Zone) {
    for body in identify_many(zone, 8).await {
        assert_eq!(error_code(&body), Some("INTERNAL"), "{body}");
        assert!(body["errors"][0]["extensions"]["requestId"].is_string(), "{body}");
        assert!(body["data"].is_null(), "{body}");
        let text = body.to_string().to_lowercase();
        for word in ["readonly", "read-only", "read only", "sqlite", "postgres", "transaction"] {
            assert!(!text.contains(word), "no database words reach the client: {body}");
        }
    }
    let contact = zone
        .as_(
            &zone.link_worker,
            "mutation($c: ID!) { logContact(input: {childId: $c, heldOn: \"2025-01-10\", minutes: 20, kind: INFORMAL, \
             withWhom: [CHILD], content: \"check-in\"}) { id } }",
            json!({ "c": zone.child_a1 }),
        )
        .await;
    assert_eq!(error_code(&contact), Some("INTERNAL"), "{contact}");
    assert_eq!(readyz(zone).await, 503, "not ready while writes cannot succeed");
    assert_eq!(readyz(zone).await, 503, "still not ready");
}

/// Writable again: writes succeed at once, without a restart and before anyone asks
/// `/readyz` (connections opened during the fault are replaced, not reused); then ready.
async fn writes_recover(zone: &Zone) {
    for round in 0..3 {
        for body in identify_many(zone, 8).await {
            assert_ok(&body);
            assert!(body["data"]["identifyChild"]["id"].is_string(), "round {round}: {body}");
        }
    }
    assert_eq!(readyz(zone).await, 200);
    let count = zone.as_(&zone.link_worker, "{ caseload(first: 100) { edges { node { id } } } }", json!({})).await;
    assert_ok(&count);
    // Ada from the fixture, 2 before the fault, 24 after; none of the 8 refused ones.
    assert_eq!(count["data"]["caseload"]["edges"].as_array().map(Vec::len), Some(27), "{count}");
}

async fn zone_with_8_connections() -> Zone {
    let app = TestApp::spawn_with(|s| s.database.max_connections = 8, StartOptions::default()).await;
    let zone = Zone::from_app(app).await;
    for body in identify_many(&zone, 2).await {
        assert_ok(&body);
    }
    assert_eq!(readyz(&zone).await, 200);
    zone
}

#[tokio::test]
async fn a_read_only_database_fails_cleanly_and_recovers_without_a_restart() {
    if std::env::var("BACKBONE_TEST_DATABASE_URL").is_ok_and(|u| u.starts_with("postgres")) {
        return; // SQLite only; the PostgreSQL case is the test below.
    }
    let zone = zone_with_8_connections().await;
    let file = zone.app.database_url.strip_prefix("sqlite://").map(|u| u.split('?').next().unwrap_or(u).to_owned());
    let file = file.expect("a SQLite URL");
    let files = vec![PathBuf::from(&file), PathBuf::from(format!("{file}-wal"))];
    let mut read_only = match ReadOnly::make(files) {
        Ok(g) => g,
        Err(why) => {
            eprintln!(
                "\n!!!!! SKIPPED storage::a_read_only_database_fails_cleanly_and_recovers_without_a_restart:\n\
                 !!!!! cannot make a file read-only for this user here ({why}).\n\
                 !!!!! Run the suite as root on a filesystem with chattr +i (ext4, xfs, btrfs).\n"
            );
            return;
        }
    };
    writes_fail_cleanly(&zone).await;
    read_only.release();
    writes_recover(&zone).await;
}

/// The PostgreSQL counterpart: the test database turns read-only for new sessions
/// (`default_transaction_read_only`) and its sessions are cut off, as after a failover to a
/// standby; the pool reconnects to read-only sessions. Once the database is writable again,
/// those sessions would stay read-only for good — unless replaced.
#[tokio::test]
async fn a_read_only_postgres_database_fails_cleanly_and_recovers_without_a_restart() {
    let server = match std::env::var("BACKBONE_TEST_DATABASE_URL") {
        Ok(server) if server.starts_with("postgres") => server,
        _ => return, // PostgreSQL only; the SQLite case is the test above.
    };
    let zone = zone_with_8_connections().await;
    let name = zone.app.database_url.rsplit('/').next().expect("a database name").to_owned();
    let admin = sea_orm::Database::connect(server).await.expect("connect to the server");
    let set = |on: bool| format!("ALTER DATABASE \"{name}\" SET default_transaction_read_only = {on}");
    admin.execute_unprepared(&set(true)).await.expect("read-only");
    admin
        .execute_unprepared(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        ))
        .await
        .expect("cut off the sessions");
    writes_fail_cleanly(&zone).await;
    admin.execute_unprepared(&set(false)).await.expect("writable");
    writes_recover(&zone).await;
    admin.close().await.ok();
}
