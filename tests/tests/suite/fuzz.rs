//! The fuzzer's quick run, against the fixture zone: documents generated from the
//! committed SDL, valid and hostile, as every role and anonymously. Fails on any 5xx, any
//! `INTERNAL` and any lost connection, printing the seed and the documents.
//! `FUZZ_SEED` and `FUZZ_COUNT` override the seed and the count.

use backbone_tests::fuzz::{self, Caller};
use backbone_tests::*;

#[tokio::test]
async fn generated_documents_never_crash_the_service_or_answer_internal() {
    let zone = Zone::new().await;
    let seed = std::env::var("FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(20_261_202);
    let count = std::env::var("FUZZ_COUNT").ok().and_then(|s| s.parse().ok()).unwrap_or(2_000);
    let accounts = [
        &zone.link_worker,
        &zone.anchor_lead,
        &zone.partner_worker,
        &zone.partner_lead,
        &zone.funder,
        &zone.analyst,
        &zone.admin,
    ];
    let callers: Vec<Caller> = accounts.iter().map(|a| Caller::account(&a.email, PASSWORD)).collect();
    let ids = [zone.child_a1.clone(), zone.child_a2.clone(), zone.child_b1.clone(), zone.anchor_a.clone()];
    let base = format!("http://{}", zone.app.address);
    let report = fuzz::run(&base, seed, count, callers, &ids, |_| {}).await;
    eprintln!("{}", report.summary());
    assert_eq!(report.sent, count, "every document was sent");
    assert!(report.findings.is_empty(), "seed {seed}:\n{}", report.findings.join("\n\n"));
    // The run reached the service's checks, not only its parser: some documents ran.
    assert!(report.statuses.get(&200).copied().unwrap_or(0) > count / 4, "{}", report.summary());
    assert!(
        report.codes.contains_key("INVALID_INPUT") || report.codes.contains_key("NOT_FOUND"),
        "{}",
        report.summary()
    );
    // The service still answers.
    let after = zone.as_(&zone.admin, "{ me { email } }", serde_json::json!({})).await;
    assert_ok(&after);
}
