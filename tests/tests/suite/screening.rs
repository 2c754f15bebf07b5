//! Needs identification through the API: an anchor-data upload is checked as a whole (a
//! bad row anywhere writes nothing), the screening rules rank candidates with reasons and
//! exclude pupils on statutory support, accepting a candidate identifies the child, rows
//! expire and are purged, and only the anchor's own staff see any of it.

use backbone::auth::Actor;
use backbone::domain::outcomes::{self, DEFAULT_FRAMEWORK};
use backbone::domain::screening;
use backbone::store::screening as store;
use backbone_tests::*;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

const IMPORT: &str = "mutation($file: Upload!, $anchor: ID) { importAnchorData(file: $file, anchorId: $anchor) { rows candidates excluded alreadyIdentified notFlagged replaced frameworkVersion anchor { id } } }";
const CANDIDATES: &str = "query($anchor: ID, $first: Int, $after: String) { candidates(anchorId: $anchor, first: $first, after: $after) { edges { cursor node { id upn attendancePercent attainment wellbeingScore practitionerConcern atRiskAreas excluded statutorySupport exclusionReason reasons { code message } } } pageInfo { hasNextPage } } }";
const ACCEPT: &str = "mutation($i: AcceptCandidateInput!) { acceptCandidate(input: $i) { id upn anchor { id } enrolment { status linkWorker { id } } } }";
const HEADER: &str = "upn,attendance_percent,attainment,wellbeing_score,practitioner_concern,statutory_support\n";

/// A synthetic UPN with a correct check letter, from a number.
fn upn(n: u64) -> String {
    let body = format!("{:012}", 990_000_000_000u64 + n);
    let letter = backbone_seeds::upn_check_letter(&body).expect("twelve digits");
    format!("{letter}{body}")
}

async fn zone_with_framework() -> Zone {
    let zone = Zone::new().await;
    outcomes::load(&zone.app.db, &Actor::system(), DEFAULT_FRAMEWORK).await.expect("default framework loads");
    give_child_a_upn(&zone, &zone.child_a1, &upn(6)).await;
    zone
}

async fn import(zone: &Zone, who: &Account, csv: &str, anchor: Option<&str>) -> Value {
    zone.app.upload(&who.token, IMPORT, json!({ "anchor": anchor }), csv.as_bytes()).await
}

async fn candidates(zone: &Zone, who: &Account) -> Value {
    zone.as_(who, CANDIDATES, json!({})).await
}

fn nodes(body: &Value) -> Vec<Value> {
    body["data"]["candidates"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

async fn stored_rows(zone: &Zone) -> u64 {
    store::Entity::find().count(&zone.app.db).await.expect("count")
}

/// Six pupils: three flagged for different reasons, one flagged but in care, one fine,
/// and one already in the zone (`child_a1`, given UPN 6 here).
fn six_pupils() -> String {
    format!(
        "{HEADER}{},70.0,below,20,yes,\n{},85.0,at,50,no,\n{},99.0,above,60,yes,\n{},80.0,below,20,yes,in_care\n{},97.5,at,52,no,\n{},60.0,below,20,yes,\n",
        upn(1),
        upn(2),
        upn(3),
        upn(4),
        upn(5),
        upn(6)
    )
}

async fn give_child_a_upn(zone: &Zone, child: &str, upn: &str) {
    backbone::store::child::Entity::update_many()
        .col_expr(backbone::store::child::Column::Upn, Expr::value(upn.to_owned()))
        .filter(backbone::store::child::Column::Id.eq(child.to_owned()))
        .exec(&zone.app.db)
        .await
        .expect("upn set");
}

#[tokio::test]
async fn a_bad_row_anywhere_writes_nothing_and_every_bad_row_is_named() {
    let zone = zone_with_framework().await;
    let mut csv = HEADER.to_owned();
    for n in 1..=40 {
        csv.push_str(&format!("{},{},at,50,no,\n", upn(100 + n), if n % 2 == 0 { "70" } else { "98" }));
    }
    // Line 3 (the second row) and the last line are bad; everything between is valid.
    let lines: Vec<&str> = csv.lines().collect();
    let mut bad: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
    bad[2] = format!("{},104,at,50,no,", upn(102));
    let last = bad.len() - 1;
    bad[last] = format!("{},90,top,50,perhaps,", upn(140));
    let bad = bad.join("\n") + "\n";

    let body = import(&zone, &zone.anchor_lead, &bad, None).await;
    assert_refused(&body, "INVALID_INPUT");
    assert_eq!(error_field(&body), Some("file"));
    let messages: Vec<&str> = body["errors"][0]["extensions"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| f["message"].as_str().expect("message"))
        .collect();
    assert_eq!(
        messages,
        [
            "line 3, attendance_percent: must be a number from 0 to 100",
            "line 41, attainment: must be one of: below, working_towards, at, above",
            "line 41, practitioner_concern: must be yes or no, not \"perhaps\"",
        ]
    );
    assert_eq!(stored_rows(&zone).await, 0, "nothing is written when any row is bad");

    // The same file, corrected, imports: the 20 pupils at 70% attendance are flagged.
    let body = import(&zone, &zone.anchor_lead, &csv, None).await;
    assert_ok(&body);
    let summary = &body["data"]["importAnchorData"];
    assert_eq!((summary["rows"].clone(), summary["candidates"].clone()), (json!(40), json!(20)), "{body}");
    assert_eq!(summary["notFlagged"], 20);
    assert_eq!(summary["anchor"]["id"], zone.anchor_a);
    assert_eq!(stored_rows(&zone).await, 20, "rows no rule flags are never stored");
}

#[tokio::test]
async fn candidates_are_ranked_with_reasons_and_statutory_support_is_excluded() {
    let zone = zone_with_framework().await;
    let body = import(&zone, &zone.anchor_lead, &six_pupils(), None).await;
    assert_ok(&body);
    let s = &body["data"]["importAnchorData"];
    assert_eq!(
        [&s["rows"], &s["candidates"], &s["excluded"], &s["alreadyIdentified"], &s["notFlagged"]],
        [&json!(6), &json!(3), &json!(1), &json!(1), &json!(1)],
        "{body}"
    );

    let list = candidates(&zone, &zone.link_worker).await;
    assert_ok(&list);
    let found = nodes(&list);
    let upns: Vec<&str> = found.iter().map(|n| n["upn"].as_str().expect("upn")).collect();
    // Three reasons first; then one reason with an area at risk before one without; the
    // excluded pupil last.
    assert_eq!(upns, [upn(1), upn(2), upn(3), upn(4)]);
    let codes = |n: &Value| -> Vec<String> {
        n["reasons"].as_array().expect("reasons").iter().map(|r| r["code"].as_str().expect("code").to_owned()).collect()
    };
    assert_eq!(codes(&found[0]), ["LOW_ATTENDANCE", "AT_RISK_AREAS", "PRACTITIONER_CONCERN"]);
    assert_eq!(found[0]["atRiskAreas"], 3);
    assert_eq!(found[1]["reasons"][0]["message"], "attendance 85.0% is below 90.0%");
    assert_eq!(codes(&found[2]), ["PRACTITIONER_CONCERN"]);
    assert_eq!(found[2]["excluded"], false);
    assert_eq!(found[3]["excluded"], true);
    assert_eq!(found[3]["statutorySupport"], "IN_CARE");
    assert_eq!(
        found[3]["exclusionReason"],
        "already receives statutory support (in care): not a candidate for the programme"
    );
    assert!(found.iter().all(|n| n["upn"] != json!(upn(5)) && n["upn"] != json!(upn(6))));

    // Pages follow the ranking.
    let first = zone.as_(&zone.link_worker, CANDIDATES, json!({ "first": 2 })).await;
    assert_eq!(first["data"]["candidates"]["pageInfo"]["hasNextPage"], true);
    let cursor = first["data"]["candidates"]["edges"][1]["cursor"].clone();
    let rest = zone.as_(&zone.link_worker, CANDIDATES, json!({ "first": 2, "after": cursor })).await;
    let rest_upns: Vec<Value> = nodes(&rest).iter().map(|n| n["upn"].clone()).collect();
    assert_eq!(rest_upns, [json!(upn(3)), json!(upn(4))]);
    assert_eq!(rest["data"]["candidates"]["pageInfo"]["hasNextPage"], false);
}

#[tokio::test]
async fn accepting_a_candidate_identifies_the_child_once() {
    let zone = zone_with_framework().await;
    assert_ok(&import(&zone, &zone.anchor_lead, &six_pupils(), None).await);
    let found = nodes(&candidates(&zone, &zone.link_worker).await);
    let (top, excluded) = (found[0]["id"].clone(), found[3]["id"].clone());
    let details = |id: &Value| {
        json!({ "i": {
            "candidateId": id, "firstName": "Ada", "lastName": "Example", "dateOfBirth": "2017-01-15",
            "yearGroup": 5, "note": "flagged by screening"
        }})
    };
    // Bad details write nothing: the candidate stays.
    let mut bad = details(&top);
    bad["i"]["dateOfBirth"] = json!("2015-13-40");
    let body = zone.as_(&zone.link_worker, ACCEPT, bad).await;
    assert_refused(&body, "INVALID_INPUT");
    assert_eq!(nodes(&candidates(&zone, &zone.link_worker).await).len(), 4);

    let body = zone.as_(&zone.link_worker, ACCEPT, details(&top)).await;
    assert_ok(&body);
    let child = &body["data"]["acceptCandidate"];
    assert_eq!(child["upn"], json!(upn(1)));
    assert_eq!(child["anchor"]["id"], zone.anchor_a);
    assert_eq!(child["enrolment"]["status"], "IDENTIFIED");
    assert_eq!(child["enrolment"]["linkWorker"]["id"], zone.link_worker.id, "onto the accepter's caseload");

    // Accepted once only; an excluded pupil never.
    assert_refused(&zone.as_(&zone.link_worker, ACCEPT, details(&top)).await, "CONFLICT");
    let body = zone.as_(&zone.link_worker, ACCEPT, details(&excluded)).await;
    assert_refused(&body, "CONFLICT");
    assert!(body["errors"][0]["message"].as_str().expect("message").contains("statutory support (in care)"), "{body}");
    let left: Vec<Value> =
        nodes(&candidates(&zone, &zone.link_worker).await).iter().map(|n| n["upn"].clone()).collect();
    assert_eq!(left, [json!(upn(2)), json!(upn(3)), json!(upn(4))]);

    // A new import replaces the earlier candidates; the accepted child now counts as known.
    let body = import(&zone, &zone.anchor_lead, &six_pupils(), None).await;
    let s = &body["data"]["importAnchorData"];
    assert_eq!((s["replaced"].clone(), s["alreadyIdentified"].clone()), (json!(3), json!(2)), "{body}");
    assert_eq!(s["candidates"], 2, "{body}");
}

#[tokio::test]
async fn only_the_anchors_own_staff_import_and_see_candidates() {
    let zone = zone_with_framework().await;
    let csv = six_pupils();
    // Importing: the anchor's lead, yes; a link worker, another anchor's lead, a partner, no.
    for who in [&zone.link_worker, &zone.partner_lead, &zone.funder, &zone.analyst] {
        assert_forbidden(&import(&zone, who, &csv, None).await);
    }
    assert_forbidden(&import(&zone, &zone.anchor_lead_b, &csv, Some(&zone.anchor_a)).await);
    assert_eq!(stored_rows(&zone).await, 0);
    assert_ok(&import(&zone, &zone.anchor_lead, &csv, None).await);
    // Admins name the anchor.
    let body = import(&zone, &zone.admin, &csv, None).await;
    assert_refused(&body, "INVALID_INPUT");
    assert_eq!(error_field(&body), Some("anchorId"));
    let body = import(&zone, &zone.admin, &csv, Some(&zone.partner_1)).await;
    assert_eq!(error_field(&body), Some("anchorId"), "a partner is not an anchor: {body}");
    assert_ok(&import(&zone, &zone.admin, &csv.replace(&upn(1), &upn(11)), Some(&zone.anchor_b)).await);

    // Reading: each anchor's staff see their own anchor's pupils only; admins all.
    let own = nodes(&candidates(&zone, &zone.link_worker).await);
    assert_eq!(own.len(), 4);
    assert!(own.iter().any(|n| n["upn"] == json!(upn(1))));
    let other = nodes(&candidates(&zone, &zone.link_worker_b).await);
    assert_eq!(other.len(), 4);
    assert!(other.iter().any(|n| n["upn"] == json!(upn(11))) && !other.iter().any(|n| n["upn"] == json!(upn(1))));
    assert_eq!(nodes(&candidates(&zone, &zone.admin).await).len(), 8);
    for who in [&zone.partner_worker, &zone.funder, &zone.analyst] {
        assert_forbidden(&candidates(&zone, who).await);
    }

    // Acting: another anchor's link worker cannot accept or dismiss (as if it did not exist).
    let id = own[0]["id"].clone();
    let accept = json!({ "i": { "candidateId": id, "firstName": "Bo", "lastName": "Example", "dateOfBirth": "2017-01-15", "yearGroup": 5 } });
    assert_not_found(&zone.as_(&zone.link_worker_b, ACCEPT, accept.clone()).await);
    let dismiss = "mutation($c: ID!) { dismissCandidate(candidateId: $c) }";
    assert_not_found(&zone.as_(&zone.link_worker_b, dismiss, json!({ "c": id })).await);
    let body = zone.as_(&zone.link_worker, dismiss, json!({ "c": id })).await;
    assert_ok(&body);
    assert_eq!(nodes(&candidates(&zone, &zone.link_worker).await).len(), 3, "a dismissed candidate is gone");
}

#[tokio::test]
async fn screening_rows_expire_and_purge_keeps_only_enrolled_childrens() {
    let zone = zone_with_framework().await;
    assert_ok(&import(&zone, &zone.anchor_lead, &six_pupils(), None).await);
    let found = nodes(&candidates(&zone, &zone.link_worker).await);
    let accept = json!({ "i": { "candidateId": found[0]["id"], "firstName": "Cy", "lastName": "Example", "dateOfBirth": "2017-01-15", "yearGroup": 5 } });
    assert_ok(&zone.as_(&zone.link_worker, ACCEPT, accept).await);

    // Nothing has expired yet: purging deletes nothing.
    let system = Actor::system();
    assert_eq!(screening::purge(&zone.app.db, &system, chrono::Utc::now()).await.expect("purge"), 0);
    // Only admins and the system purge.
    let lead = backbone::auth::authenticate(&zone.app.db, &zone.anchor_lead.token, false, None).await.expect("actor");
    assert!(matches!(
        screening::purge(&zone.app.db, &lead, chrono::Utc::now()).await,
        Err(backbone::error::Error::Forbidden(_))
    ));

    // Time passes: expired rows are no longer listed even before the purge.
    let later = chrono::Utc::now() + chrono::Duration::days(181);
    store::Entity::update_many()
        .col_expr(store::Column::ExpiresAt, Expr::value(chrono::Utc::now() - chrono::Duration::minutes(1)))
        .exec(&zone.app.db)
        .await
        .expect("aged");
    assert!(nodes(&candidates(&zone, &zone.link_worker).await).is_empty());
    // The accepted child is identified, not enrolled: their row goes too.
    assert_eq!(screening::purge(&zone.app.db, &system, later).await.expect("purge"), 4);
    assert_eq!(stored_rows(&zone).await, 0);

    // Had the child been enrolled, their row would stay.
    assert_ok(&import(&zone, &zone.anchor_lead, &six_pupils().replace(&upn(1), &upn(21)), None).await);
    let found = nodes(&candidates(&zone, &zone.link_worker).await);
    let accept = json!({ "i": { "candidateId": found[0]["id"], "firstName": "Di", "lastName": "Example", "dateOfBirth": "2017-01-15", "yearGroup": 5 } });
    let enrolled = zone.as_(&zone.link_worker, ACCEPT, accept).await["data"]["acceptCandidate"]["id"]
        .as_str()
        .expect("accepted")
        .to_owned();
    backbone::store::enrolment::Entity::update_many()
        .col_expr(backbone::store::enrolment::Column::Status, Expr::value("enrolled"))
        .filter(backbone::store::enrolment::Column::ChildId.eq(enrolled.clone()))
        .exec(&zone.app.db)
        .await
        .expect("enrolled");
    assert_eq!(screening::purge(&zone.app.db, &system, later).await.expect("purge"), 3);
    let kept = store::Entity::find().all(&zone.app.db).await.expect("rows");
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].child_id.as_deref(), Some(enrolled.as_str()));
}

#[tokio::test]
async fn a_candidate_who_is_a_child_already_identified_by_name_is_refused_until_confirmed() {
    let zone = zone_with_framework().await;
    assert_ok(&import(&zone, &zone.anchor_lead, &six_pupils(), None).await);
    let top = nodes(&candidates(&zone, &zone.link_worker).await)[0]["id"].clone();
    // Ada Testchild, born 4 May 2016, is already on the link worker's caseload.
    let mut details = json!({ "i": {
        "candidateId": top, "firstName": "ada", "lastName": "TESTCHILD", "dateOfBirth": "2016-05-04", "yearGroup": 5
    }});
    let body = zone.as_(&zone.link_worker, ACCEPT, details.clone()).await;
    assert_refused(&body, "CONFLICT");
    assert_eq!(body["errors"][0]["extensions"]["existingChildId"], json!(zone.child_a1));
    assert_eq!(nodes(&candidates(&zone, &zone.link_worker).await).len(), 4, "the candidate stays");
    details["i"]["confirmNotDuplicate"] = json!(true);
    let body = zone.as_(&zone.link_worker, ACCEPT, details).await;
    assert_ok(&body);
    assert_ne!(body["data"]["acceptCandidate"]["id"], json!(zone.child_a1));
}

#[tokio::test]
async fn a_re_import_replaces_only_the_pupils_in_the_file_unless_told_to_replace_all() {
    let zone = zone_with_framework().await;
    assert_ok(&import(&zone, &zone.anchor_lead, &six_pupils(), None).await);
    let upns = |body: &Value| -> Vec<Value> { nodes(body).iter().map(|n| n["upn"].clone()).collect() };
    assert_eq!(upns(&candidates(&zone, &zone.link_worker).await).len(), 4);
    // One class's file: pupil 1 again (no longer flagged) and pupil 7 (new, flagged).
    let class = format!("{HEADER}{},97.0,at,55,no,\n{},61.0,below,20,yes,\n", upn(1), upn(7));
    let body = import(&zone, &zone.anchor_lead, &class, None).await;
    assert_eq!(body["data"]["importAnchorData"]["replaced"], 1, "only pupil 1's earlier row: {body}");
    let mut left = upns(&candidates(&zone, &zone.link_worker).await);
    left.sort_by_key(|v| v.to_string());
    let mut expected = vec![json!(upn(2)), json!(upn(3)), json!(upn(4)), json!(upn(7))];
    expected.sort_by_key(|v| v.to_string());
    assert_eq!(left, expected, "the others kept");
    // The whole anchor's data: every earlier row goes.
    let q = "mutation($file: Upload!) { importAnchorData(file: $file, mode: REPLACE_ALL) { replaced candidates } }";
    let only = format!("{HEADER}{},61.0,below,20,yes,\n", upn(8));
    let body = zone.app.upload(&zone.anchor_lead.token, q, json!({}), only.as_bytes()).await;
    assert_eq!(body["data"]["importAnchorData"]["replaced"], 4, "{body}");
    assert_eq!(upns(&candidates(&zone, &zone.link_worker).await), [json!(upn(8))]);
    // The mode changes nothing about who may import (denial).
    let body = zone.app.upload(&zone.link_worker.token, q, json!({}), only.as_bytes()).await;
    assert_refused(&body, "FORBIDDEN");
}
