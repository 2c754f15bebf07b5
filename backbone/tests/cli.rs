//! The `backbone` command line, run as a real process: migrate, seed, schema, `audit
//! verify` detecting a tampered row, truncation after a checkpoint and a missing key, and
//! CSV exports with formula-like cells neutralised.

use std::path::Path;
use std::process::{Command, Output};

fn backbone(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_backbone"))
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env("BACKBONE_CONFIG", dir.join("none.toml"))
        .env("RUST_LOG", "warn")
        .output()
        .expect("run backbone")
}

/// Runs SQL on the demo database directly, as someone editing the file would.
fn sql(dir: &Path, statements: &[&str]) {
    let db = dir.join("backbone.db");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        use sea_orm::{ConnectionTrait, Database};
        let conn = Database::connect(format!("sqlite://{}", db.display())).await.expect("open");
        for statement in statements {
            conn.execute_unprepared(statement).await.expect("SQL runs");
        }
    });
}

/// No cell of a CSV starts as a formula would.
fn assert_no_formula(csv_text: &str) {
    for line in csv_text.lines() {
        for cell in line.split(',') {
            let cell = cell.trim_start_matches('"');
            let number = cell.parse::<f64>().is_ok();
            assert!(number || !cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "formula cell {cell:?} in {line}");
        }
    }
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn schema_prints_the_sdl() {
    let dir = tempfile::tempdir().expect("dir");
    let out = backbone(dir.path(), &["schema"]);
    assert!(out.status.success());
    let sdl = String::from_utf8_lossy(&out.stdout);
    assert!(sdl.contains("type Query") && sdl.contains("identifyChild"), "{sdl}");
}

#[test]
fn audit_verify_passes_then_names_the_first_altered_event() {
    let dir = tempfile::tempdir().expect("dir");
    let seeded = backbone(dir.path(), &["seed", "demo"]);
    assert!(seeded.status.success(), "{}", text(&seeded));
    // Progress is shown, and reaches its total: at least the 200 children, and more for
    // the referrals, sessions and casework around them.
    let shown = text(&seeded);
    let last = shown.rsplit("seeding the demo zone: ").next().unwrap_or_default();
    let (done, total) = last.split_whitespace().next().and_then(|n| n.split_once('/')).unwrap_or_default();
    assert!(done == total && total.parse::<usize>().is_ok_and(|t| t > 200), "progress shown: {shown}");

    let ok = backbone(dir.path(), &["audit", "verify"]);
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(text(&ok).contains("intact"), "{}", text(&ok));
    // The key was made beside the database at first use, readable by its owner only.
    let key_file = dir.path().join("backbone.db.audit-key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).expect("key file").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(!text(&seeded).contains(std::fs::read_to_string(&key_file).expect("key").trim()), "key never shown");

    // A checkpoint, then the last events deleted and the head moved back to match.
    let cp = backbone(dir.path(), &["audit", "checkpoint"]);
    assert!(cp.status.success() && text(&cp).contains("checkpoint of event"), "{}", text(&cp));
    let cp_text = text(&cp);
    let last: i64 = cp_text
        .split("checkpoint of event ")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("seq");
    let keep = last - 2;
    sql(
        dir.path(),
        &[
            &format!("DELETE FROM audit_events WHERE seq > {keep}"),
            &format!("UPDATE audit_head SET seq = {keep}, hash = (SELECT hash FROM audit_events WHERE seq = {keep})"),
        ],
    );
    let truncated = backbone(dir.path(), &["audit", "verify"]);
    assert!(!truncated.status.success(), "verify must fail: {}", text(&truncated));
    assert!(
        text(&truncated).contains(&format!("BROKEN at event {}", keep + 1)) && text(&truncated).contains("checkpoint"),
        "{}",
        text(&truncated)
    );

    // Tamper with one event in the middle, as someone editing the file directly would.
    sql(dir.path(), &["UPDATE audit_events SET action = 'child.nothing_to_see' WHERE seq = 40"]);
    let broken = backbone(dir.path(), &["audit", "verify"]);
    assert!(!broken.status.success(), "verify must fail: {}", text(&broken));
    assert!(text(&broken).contains("BROKEN at event 40"), "{}", text(&broken));

    // Without the key there is nothing to verify against: a clear error, and no new key.
    std::fs::remove_file(&key_file).expect("remove key");
    let keyless = backbone(dir.path(), &["audit", "verify"]);
    assert!(!keyless.status.success());
    assert!(text(&keyless).contains("cannot verify the audit chain: no audit key at"), "{}", text(&keyless));
    assert!(!key_file.exists(), "verify never makes a key");
}

#[test]
fn new_key_writes_a_private_key_file_once() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("audit.key");
    let out = backbone(dir.path(), &["audit", "new-key", "--out", file.to_str().expect("path")]);
    assert!(out.status.success(), "{}", text(&out));
    let key = std::fs::read_to_string(&file).expect("key");
    assert_eq!(key.trim().len(), 64);
    assert!(key.trim().bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(!text(&out).contains(key.trim()), "the key is not printed");
    let again = backbone(dir.path(), &["audit", "new-key", "--out", file.to_str().expect("path")]);
    assert!(!again.status.success(), "never replaces a key: {}", text(&again));
    assert_eq!(std::fs::read_to_string(&file).expect("key"), key);
}

#[test]
fn migrate_creates_the_database() {
    let dir = tempfile::tempdir().expect("dir");
    let out = backbone(dir.path(), &["migrate"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(dir.path().join("backbone.db").exists());
    let again = backbone(dir.path(), &["migrate"]);
    assert!(again.status.success() && text(&again).contains("up to date"));
}

/// One seeded zone for two checks (seeding is the slow part): a second seed writes
/// nothing, and the programme directory exports in the Open Referral UK shape.
#[test]
fn seeding_twice_writes_nothing_and_the_directory_exports_as_oruk() {
    let dir = tempfile::tempdir().expect("dir");
    assert!(backbone(dir.path(), &["seed", "demo"]).status.success());
    let again = backbone(dir.path(), &["seed", "demo"]);
    assert!(again.status.success());
    assert!(text(&again).contains("already there"), "{}", text(&again));

    let file = dir.path().join("services.json");
    let out = backbone(dir.path(), &["export", "directory", "--out", file.to_str().expect("path")]);
    assert!(out.status.success(), "{}", text(&out));
    let page: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("written")).expect("JSON");
    let services = page["contents"].as_array().cloned().unwrap_or_default();
    assert!(services.len() >= 8, "every partner's programmes: {page}");
    assert_eq!(page["total_items"], serde_json::json!(services.len()));
    for s in &services {
        for field in ["id", "name", "description", "status", "minimum_age", "maximum_age", "organization"] {
            assert!(!s[field].is_null(), "{field} missing in {s}");
        }
        assert!(["active", "temporarily closed"].contains(&s["status"].as_str().unwrap_or("")), "{s}");
        let terms = s["attributes"].as_array().cloned().unwrap_or_default();
        assert!(!terms.is_empty(), "outcome domains as taxonomy terms: {s}");
        assert!(terms.iter().all(|t| t["taxonomy_term"]["vocabulary"] == "backbone-outcome-domains"), "{s}");
        assert!(s.get("capacity").is_none(), "ORUK has no capacity field: {s}");
    }
}

#[test]
fn framework_load_refuses_a_broken_file_naming_the_place_then_loads_versions() {
    let dir = tempfile::tempdir().expect("dir");
    let good = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../seeds/framework/outcomes.toml"))
        .expect("default framework");
    let broken = good.replacen("level = 1 }", "level = 0 }", 1);
    assert_ne!(broken, good, "the test breaks the file");
    std::fs::write(dir.path().join("broken.toml"), &broken).expect("write");
    std::fs::write(dir.path().join("good.toml"), &good).expect("write");

    let out = backbone(dir.path(), &["framework", "load", "broken.toml"]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("nothing was loaded") && text(&out).contains("areas[0]"), "{}", text(&out));

    let out = backbone(dir.path(), &["framework", "load", "good.toml"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("version 1"), "{}", text(&out));
    let again = backbone(dir.path(), &["framework", "load", "good.toml"]);
    assert!(!again.status.success() && text(&again).contains("already the live version"), "{}", text(&again));
}

#[test]
fn import_anchor_data_writes_nothing_from_a_bad_file_then_shows_progress_and_purges() {
    let dir = tempfile::tempdir().expect("dir");
    let seeded = backbone(dir.path(), &["seed", "demo"]);
    assert!(seeded.status.success(), "{}", text(&seeded));
    let school = "Northfield Primary School";

    // A large file with one bad row near the end: every problem is listed, nothing written.
    let good = backbone_seeds::screening::anchor_data_csv(2400, 7);
    let mut lines: Vec<&str> = good.lines().collect();
    let broken_line = format!("{},101,at,50,no,", lines[2390].split(',').next().expect("upn"));
    lines[2390] = &broken_line;
    std::fs::write(dir.path().join("bad.csv"), lines.join("\n")).expect("write");
    let out = backbone(dir.path(), &["import", "anchor-data", "bad.csv", "--anchor", school]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("nothing was imported"), "{}", text(&out));
    assert!(text(&out).contains("line 2391, attendance_percent: must be a number from 0 to 100"), "{}", text(&out));

    // The good file: progress reaches every row, then the summary.
    std::fs::write(dir.path().join("good.csv"), &good).expect("write");
    let out = backbone(dir.path(), &["import", "anchor-data", "good.csv", "--anchor", school]);
    assert!(out.status.success(), "{}", text(&out));
    let shown = text(&out);
    assert!(shown.contains("checked 2400/2400 rows"), "{shown}");
    assert!(shown.contains("imported 2400 rows: "), "{shown}");
    let written = shown.rsplit("wrote ").next().and_then(|w| w.split_whitespace().next()).unwrap_or_default();
    let (done, total) = written.split_once('/').unwrap_or_default();
    assert!(done == total && total.parse::<usize>().is_ok_and(|t| t > 100), "writing progress: {shown}");

    // An unknown anchor is named; nothing has expired yet, so the purge deletes nothing;
    // after the rows' expiry (180 days), a dry run lists them and changes nothing.
    let out = backbone(dir.path(), &["import", "anchor-data", "good.csv", "--anchor", "Nowhere School"]);
    assert!(!out.status.success() && text(&out).contains("Nowhere School"), "{}", text(&out));
    let out = backbone(dir.path(), &["purge"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("nothing is due under the retention schedule"), "{}", text(&out));
    let later = (chrono::Utc::now().date_naive() + chrono::Days::new(200)).to_string();
    let out = backbone(dir.path(), &["purge", "--dry-run", "--as-of", &later]);
    assert!(out.status.success(), "{}", text(&out));
    let listed = text(&out);
    assert!(listed.contains("screening data of pupils never enrolled, past its expiry"), "{listed}");
    assert!(listed.contains("(dry run: nothing changed)"), "{listed}");
    let out = backbone(dir.path(), &["purge", "--as-of", &later]);
    assert!(!out.status.success() && text(&out).contains("--dry-run"), "--as-of only plans: {}", text(&out));
    assert!(text(&backbone(dir.path(), &["purge"])).contains("nothing is due"), "the dry run changed nothing");
}

#[test]
fn metrics_refresh_then_export_exact_or_as_a_funder_sees_them() {
    let dir = tempfile::tempdir().expect("dir");
    let seeded = backbone(dir.path(), &["seed", "demo"]);
    assert!(seeded.status.success(), "{}", text(&seeded));
    // A partner lead named a programme as a spreadsheet formula.
    sql(dir.path(), &["UPDATE programmes SET name = '=cmd|'' /C calc''!A0 ' || name"]);
    let out = backbone(dir.path(), &["metrics", "refresh"]);
    assert!(out.status.success() && text(&out).contains("rebuilt"), "{}", text(&out));
    let by_programme = backbone(dir.path(), &["export", "metrics", "--group-by", "programme", "--as-funder"]);
    assert!(by_programme.status.success(), "{}", text(&by_programme));
    let by_programme = String::from_utf8_lossy(&by_programme.stdout).to_string();
    assert!(by_programme.contains(",'=cmd|' /C calc'!A0 "), "neutralised: {by_programme}");
    assert_no_formula(&by_programme);

    let exact = backbone(dir.path(), &["export", "metrics", "--group-by", "anchor"]);
    assert!(exact.status.success(), "{}", text(&exact));
    let exact = String::from_utf8_lossy(&exact.stdout).to_string();
    assert!(exact.starts_with("group_key,group_label,metric,value\n"), "{exact}");
    assert!(exact.contains(",Northfield Primary School,funnel.identified,"), "{exact}");
    assert!(!exact.lines().any(|l| l.ends_with(",c")), "exact figures are never suppressed");

    let protected = backbone(dir.path(), &["export", "metrics", "--group-by", "anchor", "--as-funder"]);
    let protected = String::from_utf8_lossy(&protected.stdout).to_string();
    assert_eq!(protected.lines().count(), exact.lines().count(), "the same figures, protected");
    assert!(protected.lines().any(|l| l.ends_with(",c")), "some cells are suppressed: {protected}");
    for line in protected.lines().skip(1).filter(|l| !l.contains("rate") && !l.contains("mean") && !l.contains("share"))
    {
        let value = line.rsplit(',').next().unwrap_or_default();
        assert!(value == "c" || value.parse::<i64>().is_ok_and(|v| v % 5 == 0), "not rounded: {line}");
    }
}

/// The demo's outcomes contract, exported: every claim line with its evidence (as a
/// backbone admin sees them), the paying funders' totals with small cells written `c` and
/// no child ids, and the contract in the shape of the INDIGO impact bond data standard.
#[test]
fn the_demo_contract_exports_its_claims_and_the_indigo_shape() {
    let dir = tempfile::tempdir().expect("dir");
    assert!(backbone(dir.path(), &["seed", "demo"]).status.success());
    let contract = "Northfield Children's Outcomes Partnership";
    // A milestone named as a formula, and a reversal reason typed as one.
    sql(
        dir.path(),
        &[
            "UPDATE contracts SET definition = replace(definition, 'Engaged in support', '=1+2')",
            "UPDATE claims SET reversal_reason = '@SUM(1+1)' WHERE id = (SELECT MIN(id) FROM claims)",
        ],
    );

    let out = backbone(dir.path(), &["export", "claims", "--contract", contract]);
    assert!(out.status.success(), "{}", text(&out));
    let lines = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(lines.starts_with("claim_id,milestone_code,child_id,instalment,achieved_on,"), "{lines}");
    assert!(lines.lines().count() > 20, "the demo has claims: {lines}");
    assert!(lines.contains(",engaged,") && lines.contains("attended attendance "), "evidence: {lines}");
    assert!(lines.contains(",'@SUM(1+1),"), "neutralised: {lines}");
    assert_no_formula(&lines);

    let out = backbone(dir.path(), &["export", "claims", "--contract", contract, "--as-funder"]);
    assert!(out.status.success(), "{}", text(&out));
    let totals = String::from_utf8_lossy(&out.stdout).into_owned();
    let rows: Vec<&str> = totals.lines().collect();
    assert_eq!(rows.len(), 5, "a header, three milestones and the total: {totals}");
    assert!(rows[0].starts_with("milestone_code,milestone,price_pence,children,amount_payable_pence,"), "{totals}");
    assert!(rows.iter().any(|r| r.starts_with("wellbeing_improved,") && r.ends_with(",c,c,c,c")), "{totals}");
    assert!(rows.iter().any(|r| r.starts_with("engaged,'=1+2,")), "neutralised: {totals}");
    assert_no_formula(&totals);
    let child_id = lines.lines().nth(1).and_then(|l| l.split(',').nth(2)).expect("a child id");
    assert!(!totals.contains(child_id), "{totals}");

    let file = dir.path().join("indigo.json");
    let out =
        backbone(dir.path(), &["export", "indigo", "--contract", contract, "--out", file.to_str().expect("path")]);
    assert!(out.status.success(), "{}", text(&out));
    let data: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("written")).expect("JSON");
    let project = &data["project"];
    assert_eq!(project["name"]["value"], contract);
    assert_eq!(project["outcome_payment_commitments"].as_array().map(Vec::len), Some(2), "{project}");
    assert_eq!(project["outcome_metrics"].as_array().map(Vec::len), Some(3), "{project}");
    assert_eq!(project["outcome_pricings"][0]["price_per_unit"]["amount"]["value"], 250.0);
    assert_eq!(project["outcome_pricings"][0]["currency"]["value"], "GBP");
    let suppressed = project["results"].as_array().expect("results").iter().filter(|r| r["notes"].is_string()).count();
    assert!(suppressed >= 1, "small counts are not published: {project}");
    assert!(!data.to_string().contains(child_id), "no child ids in the INDIGO data");

    let out = backbone(dir.path(), &["export", "indigo", "--contract", "No such contract"]);
    assert!(!out.status.success() && text(&out).contains("contract not found"), "{}", text(&out));
}

/// Families' rights from the command line: a subject access request answered for the
/// demo child with the safeguarding concern, as an HTML page (the concern withheld, with
/// why) and as JSON (released); a child that is not recorded is named, with exit 1. That
/// child cannot be erased (a legal hold); another can, once.
#[test]
fn subject_access_and_erasure_from_the_command_line() {
    let dir = tempfile::tempdir().expect("dir");
    assert!(backbone(dir.path(), &["seed", "demo"]).status.success());
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (child, concern) = rt.block_on(async {
        use sea_orm::{ConnectionTrait, Database, Statement};
        let conn =
            Database::connect(format!("sqlite://{}", dir.path().join("backbone.db").display())).await.expect("open");
        let q = "SELECT child_id, body FROM safeguarding_concerns LIMIT 1";
        let row = conn
            .query_one_raw(Statement::from_string(conn.get_database_backend(), q))
            .await
            .expect("query")
            .expect("the demo has a concern");
        (row.try_get_by_index::<String>(0).expect("id"), row.try_get_by_index::<String>(1).expect("body"))
    });
    let page = dir.path().join("sar.html");
    let out = backbone(dir.path(), &["export", "subject-access", &child, "--out", page.to_str().expect("path")]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("withheld"), "{}", text(&out));
    let html = std::fs::read_to_string(&page).expect("written");
    assert!(html.contains("What the zone holds about ") && html.contains("Withheld: 1 record."), "{html}");
    assert!(!html.contains(&concern), "the concern is withheld");

    let out = backbone(dir.path(), &["export", "subject-access", &child, "--format", "json", "--release-safeguarding"]);
    assert!(out.status.success(), "{}", text(&out));
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(answer["child_id"], child.as_str());
    assert!(answer.to_string().contains(&concern), "released");

    let missing = backbone(dir.path(), &["export", "subject-access", "01a23b63-0000-7000-8000-000000000000"]);
    assert!(!missing.status.success());
    assert!(text(&missing).contains("not found"), "{}", text(&missing));
    let bad = backbone(dir.path(), &["export", "subject-access", &child, "--format", "pdf"]);
    assert!(!bad.status.success());
    assert!(text(&bad).contains("--format must be json or html"), "{}", text(&bad));

    let held = backbone(dir.path(), &["erase", &child, "--reason", "The family asked"]);
    assert!(!held.status.success());
    assert!(text(&held).contains("legal hold"), "{}", text(&held));
    let other = rt.block_on(async {
        use sea_orm::{ConnectionTrait, Database, Statement};
        let conn =
            Database::connect(format!("sqlite://{}", dir.path().join("backbone.db").display())).await.expect("open");
        let q = "SELECT id FROM children WHERE id NOT IN (SELECT child_id FROM safeguarding_concerns) LIMIT 1";
        let row = conn
            .query_one_raw(Statement::from_string(conn.get_database_backend(), q))
            .await
            .expect("q")
            .expect("a child");
        row.try_get_by_index::<String>(0).expect("id")
    });
    let erased = backbone(dir.path(), &["erase", &other, "--reason", "The family asked"]);
    assert!(erased.status.success(), "{}", text(&erased));
    assert!(text(&erased).contains("erased the record of child"), "{}", text(&erased));
    let again = backbone(dir.path(), &["erase", &other, "--reason", "The family asked"]);
    assert!(!again.status.success() && text(&again).contains("already erased"), "{}", text(&again));
}
