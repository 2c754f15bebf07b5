//! The demo's resident memory: the first `serve --demo`, which seeds the zone, leaves the
//! service no bigger than a restart on the same database, give or take a few MB (the
//! seeding runs in a process of its own, whose memory goes back to the system).

mod support;

use support::Server;

/// The resident set of a running process, in KiB (Linux's `/proc`).
fn resident_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Starts the demo, lets it settle, and says how much memory it holds.
async fn settled_demo(dir: &std::path::Path, url: &str, cycle: usize) -> u64 {
    let server = Server::start_demo(dir, url, cycle);
    // Answering is part of being started: the console's sign-in page.
    let page = reqwest::get(format!("{}/", server.base)).await.expect("the console answers");
    assert!(page.status().is_success(), "{}", page.status());
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let rss = resident_kib(server.child.id()).expect("/proc says the resident set");
    server.kill_9();
    rss
}

#[tokio::test]
async fn the_first_demo_start_holds_no_more_memory_than_a_restart() {
    if std::env::var("BACKBONE_TEST_DATABASE_URL").is_ok_and(|u| u.starts_with("postgres")) {
        eprintln!("the demo runs on its embedded SQLite file: checked in the SQLite run");
        return;
    }
    if resident_kib(std::process::id()).is_none() {
        eprintln!("no /proc here: nothing checked");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("demo.db").display());
    let first = settled_demo(dir.path(), &url, 1).await;
    let log = std::fs::read_to_string(dir.path().join("serve-1.log")).unwrap_or_default();
    assert!(log.contains("demo zone seeded"), "the first start seeded the zone:\n{log}");
    let restart = settled_demo(dir.path(), &url, 2).await;
    // Before the seeding ran apart, the first start held ~170 MB more than a restart.
    let allowance = 10 * 1024;
    assert!(
        first <= restart + allowance,
        "the first start holds {first} KiB, a restart {restart} KiB: more than {allowance} KiB apart"
    );
}
