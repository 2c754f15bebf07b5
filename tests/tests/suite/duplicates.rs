//! One child, once: identifying a child who matches one already recorded at the anchor
//! (folded names and date of birth) is `CONFLICT`, naming the existing child to those who
//! may see them and refusing neutrally those who may not; `confirmNotDuplicate` lets the
//! caller go on knowingly, and the audit says so on both children.

use backbone::store::{audit_event, child};
use backbone_tests::*;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

const IDENTIFY: &str = "mutation($i: IdentifyChildInput!) { identifyChild(input: $i) { id } }";

fn sam(first: &str, last: &str) -> Value {
    json!({"firstName": first, "lastName": last, "dateOfBirth": "2016-05-04", "yearGroup": 5})
}

async fn children(zone: &Zone) -> u64 {
    child::Entity::find().count(&zone.app.db).await.expect("count")
}

async fn confirmations(zone: &Zone, child: &str) -> u64 {
    audit_event::Entity::find()
        .filter(audit_event::Column::ChildId.eq(child.to_owned()))
        .filter(audit_event::Column::Action.eq("child.confirm_not_duplicate"))
        .count(&zone.app.db)
        .await
        .expect("events")
}

fn existing(body: &Value) -> &Value {
    &body["errors"][0]["extensions"]["existingChildId"]
}

#[tokio::test]
async fn the_same_child_twice_at_an_anchor_is_refused_naming_the_one_recorded() {
    let zone = Zone::new().await;
    let lw = &zone.link_worker;
    let first = zone.as_(lw, IDENTIFY, json!({ "i": sam("Sam", "Example") })).await;
    assert_ok(&first);
    let sam_id = first["data"]["identifyChild"]["id"].clone();
    let before = children(&zone).await;
    // The same name however written: case, accents, spacing, apostrophes, hyphens.
    for (f, l) in [("Sam", "Example"), ("SAM", " example "), ("Sám", "Exámple"), ("Sa'm", "Ex-ample")] {
        let again = zone.as_(lw, IDENTIFY, json!({ "i": sam(f, l) })).await;
        assert_refused(&again, "CONFLICT");
        assert_eq!(existing(&again), &sam_id, "{f} {l}: {again}");
        let message = again["errors"][0]["message"].as_str().expect("message");
        assert!(
            message.contains("Sam Example, born 4 May 2016") && message.contains("confirmNotDuplicate"),
            "{message}"
        );
    }
    assert_eq!(children(&zone).await, before, "nothing written");
    // Another date of birth, another name, or another anchor is another child.
    let mut other_day = sam("Sam", "Example");
    other_day["dateOfBirth"] = json!("2016-05-05");
    assert_ok(&zone.as_(lw, IDENTIFY, json!({ "i": other_day })).await);
    assert_ok(&zone.as_(lw, IDENTIFY, json!({ "i": sam("Samuel", "Example") })).await);
    assert_ok(&zone.as_(&zone.link_worker_b, IDENTIFY, json!({ "i": sam("Sam", "Example") })).await);
}

#[tokio::test]
async fn a_caller_who_may_not_see_the_child_is_refused_without_being_told_who() {
    let zone = Zone::new().await;
    // Ada Testchild, born 4 May 2016, is on the first link worker's caseload only.
    let ada = sam("Ada", "Testchild");
    let lw2 = zone.as_(&zone.link_worker_2, IDENTIFY, json!({ "i": ada.clone() })).await;
    assert_refused(&lw2, "CONFLICT");
    assert!(existing(&lw2).is_null(), "{lw2}");
    assert!(!lw2["errors"][0]["message"].as_str().expect("message").contains("born"), "{lw2}");
    // The anchor's lead sees every child of the anchor, so is told which.
    let lead = zone.as_(&zone.anchor_lead, IDENTIFY, json!({ "i": ada })).await;
    assert_refused(&lead, "CONFLICT");
    assert_eq!(existing(&lead), &json!(zone.child_a1));
}

#[tokio::test]
async fn confirming_another_child_goes_on_and_is_audited_on_both() {
    let zone = Zone::new().await;
    let mut twin = sam("Ada", "Testchild");
    twin["confirmNotDuplicate"] = json!(true);
    let body = zone.as_(&zone.link_worker, IDENTIFY, json!({ "i": twin })).await;
    assert_ok(&body);
    let new_id = body["data"]["identifyChild"]["id"].as_str().expect("id").to_owned();
    assert_ne!(new_id, zone.child_a1);
    assert_eq!(confirmations(&zone, &new_id).await, 1);
    assert_eq!(confirmations(&zone, &zone.child_a1).await, 1);
    // Without a match the flag changes nothing and nothing is recorded for it.
    let mut lone = sam("Zed", "Unique");
    lone["confirmNotDuplicate"] = json!(true);
    let body = zone.as_(&zone.link_worker, IDENTIFY, json!({ "i": lone })).await;
    assert_ok(&body);
    assert_eq!(confirmations(&zone, body["data"]["identifyChild"]["id"].as_str().expect("id")).await, 0);
    // The flag does not let anyone identify a child they could not otherwise (denial).
    let mut partner = sam("Ada", "Testchild");
    partner["confirmNotDuplicate"] = json!(true);
    partner["anchorId"] = json!(zone.anchor_a);
    assert_refused(&zone.as_(&zone.partner_worker, IDENTIFY, json!({ "i": partner })).await, "FORBIDDEN");
}

const UPDATE: &str = "mutation($i: UpdateChildInput!) { updateChild(input: $i) { id firstName } }";

#[tokio::test]
async fn a_correction_that_makes_one_child_match_another_is_refused_the_same_way() {
    let zone = Zone::new().await;
    // Bea (the other link worker's) corrected to Ada Testchild's name: both born 4 May 2016
    // at anchor A.
    let rename = |confirm: bool| {
        json!({ "i": { "childId": zone.child_a2, "firstName": "ada", "reason": "Spelled from the wrong form",
            "confirmNotDuplicate": confirm } })
    };
    let mine = zone.as_(&zone.link_worker_2, UPDATE, rename(false)).await;
    assert_refused(&mine, "CONFLICT");
    assert!(existing(&mine).is_null(), "Ada is not on their caseload: {mine}");
    let lead = zone.as_(&zone.anchor_lead, UPDATE, rename(false)).await;
    assert_refused(&lead, "CONFLICT");
    assert_eq!(existing(&lead), &json!(zone.child_a1));
    let unchanged = child::Entity::find_by_id(zone.child_a2.clone()).one(&zone.app.db).await.expect("read");
    assert_eq!(unchanged.expect("Bea").first_name, "Bea", "nothing written");
    // A correction that leaves the name and date of birth alone is not its own duplicate.
    let postcode = json!({ "i": { "childId": zone.child_a1, "postcode": "W10 4AA", "reason": "Moved house" } });
    assert_ok(&zone.as_(&zone.link_worker, UPDATE, postcode).await);
    // Confirmed, it goes on, audited on both children.
    assert_ok(&zone.as_(&zone.link_worker_2, UPDATE, rename(true)).await);
    assert_eq!(confirmations(&zone, &zone.child_a2).await, 1);
    assert_eq!(confirmations(&zone, &zone.child_a1).await, 1);
}
