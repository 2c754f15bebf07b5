//! Finding children by name: every word must appear in the first or the last name, in any
//! case, within the caller's scope; only for those who see full names.

use backbone_tests::*;
use serde_json::{Value, json};

const BY_NAME: &str = "query($n: String!) { children(filter: {name: $n}) { edges { node { id } } } }";

fn ids(body: &Value) -> Vec<String> {
    assert_ok(body);
    body["data"]["children"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn a_link_worker_finds_a_child_by_any_part_of_the_name_in_their_scope_only() {
    let zone = Zone::new().await;
    let find = async |who: &Account, name: &str| zone.as_(who, BY_NAME, json!({ "n": name })).await;
    for name in ["ada", "ADA", " Ada  testch ", "dA", "testchild ada"] {
        assert_eq!(ids(&find(&zone.link_worker, name).await), vec![zone.child_a1.clone()], "{name:?}");
    }
    // Every word must match: a first name with another surname finds no one.
    assert!(ids(&find(&zone.link_worker, "ada smith").await).is_empty());
    // Within scope: the other anchor's Cal is not found by the link worker, but is by an admin.
    assert!(ids(&find(&zone.link_worker, "cal").await).is_empty());
    assert_eq!(ids(&find(&zone.admin, "cal").await), vec![zone.child_b1.clone()]);
    let everyone = ids(&find(&zone.link_worker, "testchild").await);
    assert!(everyone.contains(&zone.child_a1) && !everyone.contains(&zone.child_b1), "{everyone:?}");
    // `%` and `_` are letters to look for, not patterns.
    assert!(ids(&find(&zone.link_worker, "%").await).is_empty());
    assert!(ids(&find(&zone.link_worker, "a_a").await).is_empty());
    // An empty or overlong search is named.
    assert_invalid(&find(&zone.link_worker, "   ").await, "filter.name");
    assert_invalid(&find(&zone.link_worker, &"a".repeat(101)).await, "filter.name");
}

#[tokio::test]
async fn those_who_do_not_see_full_names_may_not_search_by_them() {
    let zone = Zone::new().await;
    // A partner sees first names only, an analyst no names: a search would read them.
    for who in [&zone.partner_worker, &zone.partner_lead, &zone.analyst] {
        let body = zone.as_(who, BY_NAME, json!({ "n": "ada" })).await;
        assert_refused(&body, "FORBIDDEN");
    }
    // The same callers may still list children by what they may filter on (allowance).
    let listed =
        zone.as_(&zone.analyst, "{ children(filter: {yearGroup: 5}) { edges { node { id } } } }", json!({})).await;
    assert_ok(&listed);
}
