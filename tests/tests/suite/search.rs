//! Finding children by name: every word given must begin a word of the first or the last
//! name, ignoring case, accents and apostrophes, within the caller's scope, by the parts of
//! the name the caller's view shows (partners: first names only; analysts: refused).

use backbone::domain::ReferralStatus;
use backbone_tests::*;
use serde_json::{Value, json};

const BY_NAME: &str = "query($n: String!, $after: String) { children(filter: {name: $n}, first: 1, after: $after) { \
                       edges { node { id } } pageInfo { hasNextPage endCursor } } }";

fn ids(body: &Value) -> Vec<String> {
    assert_ok(body);
    body["data"]["children"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["id"].as_str().expect("id").to_owned())
        .collect()
}

/// Every child a search finds, a page of one at a time.
async fn find(zone: &Zone, who: &Account, name: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut after = Value::Null;
    loop {
        let body = zone.as_(who, BY_NAME, json!({ "n": name, "after": after })).await;
        found.extend(ids(&body));
        let page = &body["data"]["children"]["pageInfo"];
        if page["hasNextPage"] != true {
            return found;
        }
        after = page["endCursor"].clone();
    }
}

async fn identify(zone: &Zone, who: &Account, first: &str, last: &str) -> String {
    let q = "mutation($i: IdentifyChildInput!) { identifyChild(input: $i) { id } }";
    let i = json!({"firstName": first, "lastName": last, "dateOfBirth": "2016-05-04", "yearGroup": 5});
    let body = zone.as_(who, q, json!({ "i": i })).await;
    assert_ok(&body);
    body["data"]["identifyChild"]["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn a_link_worker_finds_a_child_by_the_start_of_any_name_ignoring_case_accents_and_apostrophes() {
    let zone = Zone::new().await;
    let lw = &zone.link_worker;
    let zoe = identify(&zone, lw, "Zoë", "O'Brien").await;
    let mary = identify(&zone, lw, "Mary-Jo", "Smith Jones").await;
    for name in ["zoe obrien", "ZOË", " o'b  zo ", "O’Brien", "obri"] {
        assert_eq!(find(&zone, lw, name).await, vec![zoe.clone()], "{name:?}");
    }
    for name in ["jo", "mary smith", "jones mary-jo"] {
        assert_eq!(find(&zone, lw, name).await, vec![mary.clone()], "{name:?}");
    }
    for name in ["ada", "ADA", " Ada  testch ", "testchild ada"] {
        assert_eq!(find(&zone, lw, name).await, vec![zone.child_a1.clone()], "{name:?}");
    }
    // A prefix, not any substring; every word must match.
    assert!(find(&zone, lw, "rien").await.is_empty());
    assert!(find(&zone, lw, "ada smith").await.is_empty());
    // Within scope: the other anchor's Cal is not found by the link worker, but is by an admin.
    assert!(find(&zone, lw, "cal").await.is_empty());
    assert_eq!(find(&zone, &zone.admin, "cal").await, vec![zone.child_b1.clone()]);
    // Paginated: the Testchildren on the link worker's caseload, one page at a time.
    let dee = identify(&zone, lw, "Dee", "Testchild").await;
    let mut everyone = find(&zone, lw, "testchild").await;
    everyone.sort();
    let mut expected = vec![zone.child_a1.clone(), dee];
    expected.sort();
    assert_eq!(everyone, expected);
    assert!(everyone.contains(&zone.child_a1) && !everyone.contains(&zone.child_b1), "{everyone:?}");
    // `%` and `_` are not patterns.
    assert_invalid(&zone.as_(lw, BY_NAME, json!({ "n": "%" })).await, "filter.name");
    assert!(find(&zone, lw, "%da").await.is_empty());
    assert!(find(&zone, lw, "_da").await.is_empty());
    // Ids in a filter must be ids (a NUL is not even comparable on PostgreSQL).
    let by_ids = "query($a: ID, $w: ID) { children(filter: {anchorId: $a, linkWorkerId: $w}) { edges { cursor } } }";
    assert_invalid(&zone.as_(&zone.admin, by_ids, json!({ "a": "a\u{0}b" })).await, "filter.anchorId");
    assert_invalid(&zone.as_(&zone.admin, by_ids, json!({ "w": "nobody" })).await, "filter.linkWorkerId");
    // An empty or overlong search is named.
    assert_invalid(&zone.as_(lw, BY_NAME, json!({ "n": "   " })).await, "filter.name");
    assert_invalid(&zone.as_(lw, BY_NAME, json!({ "n": "a".repeat(101) })).await, "filter.name");
}

#[tokio::test]
async fn a_corrected_name_is_found_and_the_old_one_is_not() {
    let zone = Zone::new().await;
    let q = "mutation($i: UpdateChildInput!) { updateChild(input: $i) { id } }";
    let i = json!({"childId": zone.child_a1, "firstName": "Adaeze", "lastName": "Okafor", "reason": "Misspelt"});
    assert_ok(&zone.as_(&zone.link_worker, q, json!({ "i": i })).await);
    assert_eq!(find(&zone, &zone.link_worker, "adaeze okaf").await, vec![zone.child_a1.clone()]);
    assert!(find(&zone, &zone.link_worker, "ada testchild").await.is_empty());
}

#[tokio::test]
async fn a_partner_finds_only_its_referred_children_by_first_name_and_an_analyst_not_at_all() {
    let zone = Zone::new().await;
    zone.ready_for_referral(&zone.child_a1, &[&zone.partner_1]).await;
    let p = zone.programme(&zone.partner_1, "Mentoring", 5).await;
    zone.refer(&zone.child_a1, &p, ReferralStatus::Accepted).await;
    // By first name, among the children referred to the partner (Bea is not).
    assert_eq!(find(&zone, &zone.partner_worker, "ad").await, vec![zone.child_a1.clone()]);
    assert!(find(&zone, &zone.partner_worker, "bea").await.is_empty());
    // Not by the surname the partner does not see: a search would read it.
    assert!(find(&zone, &zone.partner_worker, "testchild").await.is_empty());
    assert!(find(&zone, &zone.partner_worker, "ada testchild").await.is_empty());
    // Another partner, not referred to, finds no one.
    assert!(find(&zone, &zone.partner_worker_2, "ada").await.is_empty());
    // An analyst sees no names, so may not search by them; they still list by year group.
    assert_refused(&zone.as_(&zone.analyst, BY_NAME, json!({ "n": "ada" })).await, "FORBIDDEN");
    let listed =
        zone.as_(&zone.analyst, "{ children(filter: {yearGroup: 5}) { edges { node { id } } } }", json!({})).await;
    assert_ok(&listed);
}
