//! README's short tour, run as written against the demo: every GraphQL block of the tour
//! (and the queries its prose gives inline), in order, as the account each step names,
//! with the variables it says to set. A block that no longer answers, or a new block the
//! walk does not know, fails here, so the tour stays true of the demo.

use backbone::startup::StartOptions;
use backbone_tests::*;
use serde_json::{Value, json};

/// The tour's GraphQL blocks, as a reader pastes them (the list's indent removed).
fn tour_blocks() -> Vec<String> {
    let readme = include_str!("../../../README.md");
    let start = readme.find("## A short tour").expect("README has the tour");
    let end = start + readme[start..].find("\n## ").expect("a section after the tour");
    let mut blocks = Vec::new();
    let mut rest = &readme[start..end];
    while let Some(open) = rest.find("```graphql\n") {
        let body = &rest[open + "```graphql\n".len()..];
        let close = body.find("```").expect("a closed block");
        let block: Vec<&str> = body[..close].lines().map(|l| l.strip_prefix("   ").unwrap_or(l)).collect();
        blocks.push(block.join("\n"));
        rest = &body[close + 3..];
    }
    blocks
}

/// The inline query of the tour's prose that starts with `prefix`.
fn inline(prefix: &str) -> String {
    let readme = include_str!("../../../README.md");
    let at = readme.find(&format!("`{prefix}")).unwrap_or_else(|| panic!("README gives `{prefix}…`"));
    let body = &readme[at + 1..];
    body[..body.find('`').expect("closed")].to_owned()
}

fn data<'a>(body: &'a Value, field: &str) -> &'a Value {
    assert_ok(body);
    &body["data"][field]
}

fn first_id(body: &Value, field: &str) -> String {
    data(body, field)["edges"][0]["node"]["id"].as_str().unwrap_or_else(|| panic!("{field}: none in {body}")).to_owned()
}

#[tokio::test]
async fn the_readme_tour_runs_as_written_against_the_demo() {
    let app = TestApp::spawn_with(|_| {}, StartOptions { demo: true, ..Default::default() }).await;
    let blocks = tour_blocks();
    assert_eq!(blocks.len(), 16, "the tour's blocks changed: walk the new ones here too");
    let run = async |token: Option<&str>, block: usize, vars: Value| app.graphql(token, &blocks[block], vars).await;

    // 1. Log in as the link worker.
    let login = run(None, 0, json!({})).await;
    let lw = data(&login, "login")["token"].as_str().expect("token").to_owned();
    let lw = Some(lw.as_str());
    // 2. The caseload, the worklist, a search by name.
    assert!(!data(&run(lw, 1, json!({})).await, "caseload")["edges"].as_array().expect("edges").is_empty());
    assert!(!data(&run(lw, 2, json!({})).await, "worklist")["edges"].as_array().expect("edges").is_empty());
    let search = inline("children(filter: {name:");
    let found =
        app.graphql(lw, &format!("{{ {search} {{ edges {{ node {{ firstName lastName }} }} }} }}"), json!({})).await;
    assert!(!data(&found, "children")["edges"].as_array().expect("edges").is_empty(), "{search}: {found}");
    // 3. A consented child: lawful basis, enrol, enrol again.
    let child =
        first_id(&app.graphql(lw, &inline("{ children(filter: {status: CONSENTED}"), json!({})).await, "children");
    let vars = json!({ "child": child });
    assert_ok(&run(lw, 3, vars.clone()).await);
    assert_eq!(data(&run(lw, 4, vars.clone()).await, "enrol")["enrolment"]["status"], "ENROLLED");
    assert_refused(&run(lw, 4, vars.clone()).await, "CONFLICT");
    // 4. Identify a new child.
    assert_eq!(data(&run(lw, 5, json!({})).await, "identifyChild")["enrolment"]["status"], "IDENTIFIED");
    // 5. A programme with a place; propose and send.
    let programme = first_id(&run(lw, 6, json!({})).await, "programmes");
    let proposed = run(lw, 7, json!({ "child": child, "programme": programme })).await;
    let referral = data(&proposed, "proposeReferral")["id"].as_str().expect("id").to_owned();
    let send = "mutation($r: ID!) { sendReferral(referralId: $r) { status } }";
    assert_eq!(data(&app.graphql(lw, send, json!({ "r": referral })).await, "sendReferral")["status"], "SENT");
    // 6. The partner's inbox.
    let partner = app.login("partner@demo.zone", "demo").await;
    let inbox = run(Some(&partner), 8, json!({})).await;
    assert!(!data(&inbox, "referralsInbox")["edges"].as_array().expect("edges").is_empty(), "{inbox}");
    // 7. The framework, an assessment, the child's progress, a support plan.
    assert_ok(&run(lw, 9, json!({})).await);
    assert_ok(&run(lw, 10, vars.clone()).await);
    let progress = app.graphql(lw, &inline("query($child: ID!) { child(id: $child) { progress"), vars.clone()).await;
    assert!(!data(&progress, "child")["progress"].as_array().expect("progress").is_empty(), "{progress}");
    assert_ok(&run(lw, 11, vars).await);
    // 8. Screening candidates.
    assert!(!data(&run(lw, 12, json!({})).await, "candidates")["edges"].as_array().expect("edges").is_empty());
    // 9. The funder: metrics, the contract, its milestones.
    let funder = app.login("funder@demo.zone", "demo").await;
    let funder = Some(funder.as_str());
    assert_eq!(data(&run(funder, 13, json!({})).await, "metrics")["protected"], true);
    let contract = first_id(&run(funder, 14, json!({})).await, "contracts");
    let milestones = run(funder, 15, json!({ "c": contract })).await;
    assert!(!data(&milestones, "milestones")["milestones"].as_array().expect("milestones").is_empty());
}
