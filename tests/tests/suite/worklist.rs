//! The worklist: a link worker's plan reviews overdue or due, referrals a partner has not
//! answered and children not contacted lately, most urgent first; an anchor lead's for
//! the anchor; a partner's referrals waiting for an answer; nobody else's.

use backbone::auth::Actor;
use backbone::domain::outcomes::{self, DEFAULT_FRAMEWORK};
use backbone::domain::referrals;
use backbone::startup::StartOptions;
use backbone_tests::*;
use serde_json::{Value, json};

const WORKLIST: &str = "query($first: Int, $after: String) { worklist(first: $first, after: $after) { \
     edges { cursor node { kind why since child { id firstName } referral { id status } } } \
     pageInfo { hasNextPage endCursor } } }";

/// Every item of the caller's worklist, a page of `first` at a time: (kind, child id).
async fn items(zone: &Zone, who: &Account, first: i32) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    let mut after = Value::Null;
    loop {
        let body = zone.as_(who, WORKLIST, json!({ "first": first, "after": after })).await;
        assert_ok(&body);
        for e in body["data"]["worklist"]["edges"].as_array().expect("edges") {
            let n = &e["node"];
            out.push((
                n["kind"].as_str().expect("kind").to_owned(),
                n["child"]["id"].as_str().unwrap_or("").to_owned(),
                n.clone(),
            ));
        }
        let page = &body["data"]["worklist"]["pageInfo"];
        if page["hasNextPage"] != true {
            return out;
        }
        after = page["endCursor"].clone();
    }
}

fn kinds(list: &[(String, String, Value)]) -> Vec<(&str, &str)> {
    list.iter().map(|(k, c, _)| (k.as_str(), c.as_str())).collect()
}

/// The zone: Ada (link worker's) enrolled in February 2025 with a plan agreed in
/// September 2025 (its review long overdue), never contacted, and a referral sent on 5
/// October 2026 that the partner has not answered; Bea (another link worker's) with a plan
/// agreed today (its review due within the window set here).
async fn zone() -> (Zone, String) {
    let app = TestApp::spawn_with(|s| s.worklist.review_due_within_days = 400, StartOptions::default()).await;
    let zone = Zone::from_app(app).await;
    let (db, system) = (&zone.app.db, Actor::system());
    outcomes::load(db, &system, DEFAULT_FRAMEWORK).await.expect("framework");
    let (ada, bea) = (zone.child_a1.clone(), zone.child_a2.clone());
    zone.enrolled_on(&ada, &[&zone.partner_1], Some("2025-02-03")).await;
    zone.enrolled_on(&bea, &[&zone.partner_1], Some("2025-02-03")).await;
    let p = zone.programme(&zone.partner_1, "Mentoring", 5).await;
    let new = referrals::NewReferral {
        child_id: ada.clone(),
        programme_id: p,
        needs: "Finds groups hard".into(),
        note: None,
        on: Some("2026-10-01".into()),
    };
    let r = referrals::propose(db, &system, new).await.expect("propose").id;
    referrals::send(db, &system, &r, None, Some("2026-10-05".into())).await.expect("send");
    let plan = |child: &str, on: &str| {
        json!({ "childId": child, "agreedOn": on, "informalEngagement": "Check-in at the gate",
            "childTookPart": true,
            "goals": [{"area": "relationships", "description": "Make a friend in class", "targetLevel": 4}] })
    };
    let q = "mutation($i: AgreeSupportPlanInput!) { agreeSupportPlan(input: $i) { id } }";
    assert_ok(&zone.as_(&zone.link_worker, q, json!({ "i": plan(&ada, "2025-09-15") })).await);
    let today = chrono::Utc::now().date_naive().to_string();
    assert_ok(&zone.as_(&zone.link_worker_2, q, json!({ "i": plan(&bea, &today) })).await);
    (zone, r)
}

#[tokio::test]
async fn a_link_worker_sees_what_needs_them_most_urgent_first_and_only_for_their_children() {
    let (zone, referral) = zone().await;
    let ada = zone.child_a1.as_str();
    let mine = items(&zone, &zone.link_worker, 20).await;
    assert_eq!(
        kinds(&mine),
        [("REVIEW_OVERDUE", ada), ("REFERRAL_UNANSWERED", ada), ("NO_RECENT_CONTACT", ada)],
        "{mine:?}"
    );
    let overdue = &mine[0].2;
    assert!(overdue["why"].as_str().expect("why").starts_with("support plan review overdue by "), "{overdue}");
    assert_eq!(overdue["since"], "2025-12-31");
    let unanswered = &mine[1].2;
    assert_eq!(unanswered["referral"]["id"], json!(referral));
    assert_eq!(unanswered["since"], "2026-10-05");
    assert!(unanswered["why"].as_str().expect("why").contains("working days ago and not yet answered"), "{unanswered}");
    assert_eq!(mine[2].2["since"], "2025-02-03", "no contact since the enrolment");
    // One page at a time, each item once, in the same order.
    assert_eq!(kinds(&items(&zone, &zone.link_worker, 1).await), kinds(&mine));

    // The other link worker's Bea: her review is due (within the window), not overdue.
    let theirs = items(&zone, &zone.link_worker_2, 20).await;
    assert_eq!(kinds(&theirs)[0], ("NO_RECENT_CONTACT", zone.child_a2.as_str()), "{theirs:?}");
    assert!(kinds(&theirs).contains(&("REVIEW_DUE", zone.child_a2.as_str())), "{theirs:?}");
    assert!(theirs.iter().all(|(_, c, _)| c == &zone.child_a2), "only her own children: {theirs:?}");

    // The anchor lead sees the anchor's: both children's items.
    let lead = items(&zone, &zone.anchor_lead, 20).await;
    assert_eq!(lead.len(), mine.len() + theirs.len(), "{lead:?}");

    // A contact today takes Ada off for contact, and only that.
    let contact = "mutation($c: ID!, $d: String!) { logContact(input: {childId: $c, heldOn: $d, minutes: 10, \
                   kind: INFORMAL, withWhom: [CHILD], content: \"Chat at the gate\"}) { id } }";
    let today = chrono::Utc::now().date_naive().to_string();
    assert_ok(&zone.as_(&zone.link_worker, contact, json!({ "c": ada, "d": today })).await);
    let after = items(&zone, &zone.link_worker, 20).await;
    assert_eq!(kinds(&after), [("REVIEW_OVERDUE", ada), ("REFERRAL_UNANSWERED", ada)]);
}

#[tokio::test]
async fn a_partner_sees_the_referrals_waiting_for_its_answer_and_others_have_no_worklist() {
    let (zone, referral) = zone().await;
    let theirs = items(&zone, &zone.partner_worker, 20).await;
    assert_eq!(kinds(&theirs), [("REFERRAL_AWAITING_ANSWER", zone.child_a1.as_str())]);
    assert_eq!(theirs[0].2["referral"]["id"], json!(referral));
    assert_eq!(theirs[0].2["child"]["firstName"], "Ada");
    assert!(theirs[0].2["why"].as_str().expect("why").contains("for your answer"));
    // Another partner has nothing waiting.
    assert!(items(&zone, &zone.partner_worker_2, 20).await.is_empty());
    // Answered, it leaves both worklists.
    let accept = "mutation($r: ID!) { respondToReferral(referralId: $r, accept: true) { id } }";
    let answered = zone.as_(&zone.partner_worker, accept, json!({ "r": referral })).await;
    assert_ok(&answered);
    assert!(items(&zone, &zone.partner_worker, 20).await.is_empty());
    let kinds_now: Vec<String> = items(&zone, &zone.link_worker, 20).await.into_iter().map(|i| i.0).collect();
    assert!(!kinds_now.contains(&"REFERRAL_UNANSWERED".to_owned()), "{kinds_now:?}");
    // Funders, analysts and the backbone's admins have no casework: refused.
    for who in [&zone.funder, &zone.analyst, &zone.admin] {
        assert_refused(&zone.as_(who, WORKLIST, json!({})).await, "FORBIDDEN");
    }
    // A cursor that is not an item now is named.
    let body = zone
        .as_(&zone.link_worker, WORKLIST, json!({ "after": "MDFhMjNhY2UtNmQxNi03NDBkLThlZWMtMTc1ODk5MGM4MGE1" }))
        .await;
    assert_refused(&body, "INVALID_INPUT");
}
