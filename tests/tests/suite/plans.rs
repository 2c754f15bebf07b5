//! Individual support plans through the API: agreeing a plan (parts, linked referrals, who
//! took part, goals against the live framework) and reading it back; refusals that name
//! the field and write nothing; termly reviews that mark goals met and schedule the next;
//! who may write and read plans (each denial next to an allowance); a handover moving the
//! pending review; and a caseload of plans costing a fixed number of statements.

use backbone::auth::Actor;
use backbone::domain::enrolment::{self, Transition};
use backbone::domain::outcomes::{self, DEFAULT_FRAMEWORK};
use backbone::domain::{ExitReason, Involvement, ReferralStatus, RelationshipKind, children, plans};
use backbone::startup::StartOptions;
use backbone::store::{audit_event, plan_goal, plan_participant, plan_referral, plan_review, support_plan};
use backbone_tests::*;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

const PLAN: &str = "id agreedOn informalEngagement formalEngagement developmentalSupport childTookPart
    participants { id kind name }
    specialistSupport { id status }
    goals { id areaCode areaName description targetLevel addedOn metOn met latestLevel }
    reviews { dueOn reviewedOn pending changes linkWorker { id } outcomes { goal { id } met note } }
    nextReviewDue";

const REVIEW: &str = "mutation($i: ReviewSupportPlanInput!) { reviewSupportPlan(input: $i) {
    id dueOn reviewedOn pending changes linkWorker { id } outcomes { goal { id met metOn } met note } } }";

fn agree_query() -> String {
    format!("mutation($i: AgreeSupportPlanInput!) {{ agreeSupportPlan(input: $i) {{ {PLAN} }} }}")
}

fn read_query() -> String {
    format!("query($c: ID!) {{ child(id: $c) {{ id firstName supportPlan {{ {PLAN} }} }} }}")
}

async fn zone_with_framework() -> Zone {
    Zone::with_framework().await
}

async fn zone_on(app: TestApp) -> Zone {
    let zone = Zone::from_app(app).await;
    outcomes::load(&zone.app.db, &Actor::system(), DEFAULT_FRAMEWORK).await.expect("default framework loads");
    zone
}

/// Records an adult around `child` (as the system); returns its id.
async fn relationship(zone: &Zone, child: &str, kind: RelationshipKind, name: &str) -> String {
    let rel = children::NewRelationship {
        child_id: child.into(),
        kind,
        name: name.into(),
        involvement: Involvement::AttendsReviews,
        parental_responsibility: kind == RelationshipKind::Parent,
        phone: None,
        notes: None,
    };
    children::add_relationship(&zone.app.db, &Actor::system(), rel).await.expect("relationship").id
}

/// A plan for `child` agreed on 15 September 2025, with two goals and the given links.
fn plan_input(child: &str, referrals: &[&str], participants: &[&str]) -> Value {
    json!({
        "childId": child,
        "agreedOn": "2025-09-15",
        "informalEngagement": "Check-in at the gate each morning",
        "formalEngagement": "Fortnightly one-to-one with the link worker",
        "referralIds": referrals,
        "childTookPart": true,
        "participantRelationshipIds": participants,
        "goals": [
            {"area": "emotional_wellbeing", "description": "Feel calmer at the start of the day", "targetLevel": 3},
            {"area": "relationships", "description": "Make a friend in class", "targetLevel": 4},
        ],
    })
}

async fn agree(zone: &Zone, who: &Account, input: Value) -> Value {
    zone.as_(who, &agree_query(), json!({ "i": input })).await
}

async fn read(zone: &Zone, who: &Account, child: &str) -> Value {
    zone.as_(who, &read_query(), json!({ "c": child })).await
}

async fn review(zone: &Zone, who: &Account, input: Value) -> Value {
    zone.as_(who, REVIEW, json!({ "i": input })).await
}

fn goal_ids(plan: &Value) -> Vec<String> {
    plan["goals"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|g| g["id"].as_str().unwrap_or("").into())
        .collect()
}

async fn rows<E: EntityTrait>(zone: &Zone, _table: E) -> u64
where
    E::Model: Sync,
{
    E::find().count(&zone.app.db).await.expect("count")
}

#[tokio::test]
async fn a_plan_is_agreed_with_goals_participants_and_a_linked_referral_and_read_back() {
    let zone = zone_with_framework().await;
    let c = zone.child_a1.clone();
    zone.ready_for_referral(&c, &[&zone.partner_1]).await;
    let p = zone.programme(&zone.partner_1, "Mentoring", 5).await;
    let r = zone.refer(&c, &p, ReferralStatus::Accepted).await;
    let mum = relationship(&zone, &c, RelationshipKind::Parent, "Pat Testchild").await;
    let coach = relationship(&zone, &c, RelationshipKind::TrustedAdult, "Sam Coach").await;
    let assessed = outcomes::NewAssessment {
        child_id: c.clone(),
        measure: "wellbeing_total".into(),
        value: Some(33.0),
        category: None,
        stage: backbone::domain::AssessmentStage::Baseline,
        assessed_on: "2025-09-10".into(),
    };
    outcomes::record(&zone.app.db, &Actor::system(), assessed).await.expect("assessment");

    let body = agree(&zone, &zone.link_worker, plan_input(&c, &[&r], &[&mum, &coach])).await;
    assert_ok(&body);
    let plan = body["data"]["agreeSupportPlan"].clone();
    assert_eq!(plan["agreedOn"], "2025-09-15");
    assert_eq!(plan["informalEngagement"], "Check-in at the gate each morning");
    assert_eq!(plan["developmentalSupport"], Value::Null);
    assert_eq!(plan["childTookPart"], true);
    assert_eq!(
        plan["participants"],
        json!([
            {"id": mum, "kind": "PARENT", "name": "Pat Testchild"},
            {"id": coach, "kind": "TRUSTED_ADULT", "name": "Sam Coach"},
        ])
    );
    assert_eq!(plan["specialistSupport"], json!([{"id": r, "status": "ACCEPTED"}]));
    let goals = plan["goals"].as_array().cloned().unwrap_or_default();
    assert_eq!(goals.len(), 2, "{plan}");
    assert_eq!(
        (&goals[0]["areaCode"], &goals[0]["areaName"], &goals[0]["targetLevel"]),
        (&json!("emotional_wellbeing"), &json!("Emotional and mental wellbeing"), &json!(3))
    );
    assert_eq!(
        (&goals[0]["addedOn"], &goals[0]["met"], &goals[0]["metOn"]),
        (&json!("2025-09-15"), &json!(false), &Value::Null)
    );
    assert_eq!(goals[0]["latestLevel"], 2, "from the wellbeing assessment: {plan}");
    assert_eq!(goals[1]["latestLevel"], Value::Null, "no relationships assessment yet");
    // Agreed in September: the first review is due at the end of the autumn term, with the
    // child's link worker.
    assert_eq!(
        plan["reviews"],
        json!([{"dueOn": "2025-12-31", "reviewedOn": null, "pending": true, "changes": null,
                "linkWorker": {"id": zone.link_worker.id}, "outcomes": []}])
    );
    assert_eq!(plan["nextReviewDue"], "2025-12-31");

    let back = read(&zone, &zone.link_worker, &c).await;
    assert_ok(&back);
    assert_eq!(back["data"]["child"]["supportPlan"], plan, "read back as agreed");
    let events = audit_event::Entity::find().all(&zone.app.db).await.expect("events");
    assert!(events.iter().any(|e| e.action == "support_plan.agree" && e.child_id.as_deref() == Some(c.as_str())));
    assert!(
        events.iter().any(|e| e.action == "child.read" && e.fields.contains("supportPlan")),
        "the read is audited with the field"
    );
}

#[tokio::test]
async fn invalid_plans_are_refused_naming_the_field_and_nothing_is_written() {
    let zone = zone_with_framework().await;
    let (c, other) = (zone.child_a1.clone(), zone.child_a2.clone());
    zone.ready_for_referral(&c, &[&zone.partner_1]).await;
    zone.ready_for_referral(&other, &[&zone.partner_1]).await;
    let p = zone.programme(&zone.partner_1, "Mentoring", 5).await;
    let r = zone.refer(&c, &p, ReferralStatus::Sent).await;
    let others_referral = zone.refer(&other, &p, ReferralStatus::Sent).await;
    let mum = relationship(&zone, &c, RelationshipKind::Parent, "Pat Testchild").await;
    let others_mum = relationship(&zone, &other, RelationshipKind::Parent, "Jo Otherchild").await;
    let lw = &zone.link_worker;

    let with = |change: &dyn Fn(&mut Value)| {
        let mut i = plan_input(&c, &[&r], &[&mum]);
        change(&mut i);
        i
    };
    let cases: Vec<(Value, &str)> = vec![
        (with(&|i| i["goals"][1]["area"] = json!("happiness")), "goals[1].area"),
        (with(&|i| i["goals"][0]["targetLevel"] = json!(6)), "goals[0].targetLevel"),
        (with(&|i| i["goals"][0]["targetLevel"] = json!(0)), "goals[0].targetLevel"),
        (with(&|i| i["goals"][0]["description"] = json!("   ")), "goals[0].description"),
        (with(&|i| i["goals"] = json!([])), "goals"),
        (with(&|i| i["participantRelationshipIds"] = json!([mum, others_mum])), "participantRelationshipIds[1]"),
        (with(&|i| i["referralIds"] = json!([r, others_referral])), "referralIds[1]"),
        (with(&|i| i["referralIds"] = json!([r, r])), "referralIds[1]"),
        (with(&|i| i["agreedOn"] = json!("2099-01-01")), "agreedOn"),
        (with(&|i| i["agreedOn"] = json!("15/09/2025")), "agreedOn"),
        (
            with(&|i| {
                i["informalEngagement"] = json!(" ");
                i["formalEngagement"] = Value::Null;
                i["referralIds"] = json!([]);
            }),
            "informalEngagement",
        ),
    ];
    for (input, field) in cases {
        let body = agree(&zone, lw, input).await;
        assert_invalid(&body, field);
    }
    // Nothing refused was written.
    assert_eq!(rows(&zone, support_plan::Entity).await, 0);
    assert_eq!(rows(&zone, plan_goal::Entity).await, 0);
    assert_eq!(rows(&zone, plan_review::Entity).await, 0);
    assert_eq!(rows(&zone, plan_participant::Entity).await, 0);
    assert_eq!(rows(&zone, plan_referral::Entity).await, 0);
    let back = read(&zone, lw, &c).await;
    assert_eq!(back["data"]["child"]["supportPlan"], Value::Null, "{back}");

    // The same input, valid, is agreed; a second plan for the child is a conflict.
    assert_ok(&agree(&zone, lw, plan_input(&c, &[&r], &[&mum])).await);
    let again = agree(&zone, lw, plan_input(&c, &[], &[])).await;
    assert_eq!(error_code(&again), Some("CONFLICT"), "{again}");
    let message = again["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("reviewSupportPlan"), "{message}");
    assert_eq!(rows(&zone, support_plan::Entity).await, 1);
}

#[tokio::test]
async fn a_review_marks_goals_met_changes_the_plan_and_schedules_the_next() {
    let zone = zone_with_framework().await;
    let (c, lw) = (zone.child_a1.clone(), &zone.link_worker);
    let agreed = agree(&zone, lw, plan_input(&c, &[], &[])).await;
    assert_ok(&agreed);
    let g = goal_ids(&agreed["data"]["agreeSupportPlan"]);

    // Every open goal needs exactly one outcome; goals of no plan are refused by index.
    let (met, open) = (json!({"goalId": g[0], "met": true}), json!({"goalId": g[1], "met": false}));
    for (on, goals, field) in [
        ("2025-12-10", json!([met]), "goals"),
        ("2025-12-10", json!([met, {"goalId": missing_id(), "met": false}]), "goals[1].goalId"),
        ("2025-12-10", json!([met, {"goalId": g[0], "met": false}]), "goals[1].goalId"),
        ("2025-09-01", json!([met, open]), "reviewedOn"),
    ] {
        let refused = review(&zone, lw, json!({"childId": c, "reviewedOn": on, "goals": goals})).await;
        assert_invalid(&refused, field);
    }
    assert_eq!(rows(&zone, backbone::store::plan_review_goal::Entity).await, 0, "nothing refused was written");

    let body = review(
        &zone,
        lw,
        json!({
            "childId": c,
            "reviewedOn": "2025-12-10",
            "goals": [{"goalId": g[0], "met": true, "note": "Arrives calm most days"}, {"goalId": g[1], "met": false}],
            "changes": "Move to weekly one-to-ones; add a confidence goal",
            "formalEngagement": "Weekly one-to-one with the link worker",
            "addGoals": [{"area": "confidence_aspiration", "description": "Speak up in class", "targetLevel": 3}],
        }),
    )
    .await;
    assert_ok(&body);
    let done = &body["data"]["reviewSupportPlan"];
    assert_eq!(
        (&done["dueOn"], &done["reviewedOn"], &done["pending"]),
        (&json!("2025-12-31"), &json!("2025-12-10"), &json!(false))
    );
    assert_eq!(
        done["outcomes"],
        json!([
            {"goal": {"id": g[0], "met": true, "metOn": "2025-12-10"}, "met": true, "note": "Arrives calm most days"},
            {"goal": {"id": g[1], "met": false, "metOn": null}, "met": false, "note": null},
        ])
    );

    let plan = read(&zone, lw, &c).await["data"]["child"]["supportPlan"].clone();
    assert_eq!(plan["formalEngagement"], "Weekly one-to-one with the link worker", "replaced");
    assert_eq!(plan["informalEngagement"], "Check-in at the gate each morning", "left as it was");
    let goals = plan["goals"].as_array().cloned().unwrap_or_default();
    assert_eq!(goals.len(), 3, "{plan}");
    assert_eq!((&goals[2]["areaCode"], &goals[2]["addedOn"]), (&json!("confidence_aspiration"), &json!("2025-12-10")));
    let reviews = plan["reviews"].as_array().cloned().unwrap_or_default();
    assert_eq!(reviews.len(), 2, "{plan}");
    assert_eq!(reviews[1]["pending"], true);
    assert_eq!(plan["nextReviewDue"], "2026-03-31", "the end of the following (spring) term");

    // One review per term.
    let again = review(
        &zone,
        lw,
        json!({"childId": c, "reviewedOn": "2025-12-15",
        "goals": [{"goalId": g[1], "met": false}, {"goalId": goal_ids(&plan)[2], "met": false}]}),
    )
    .await;
    assert_eq!(error_code(&again), Some("CONFLICT"), "{again}");
    // A met goal is not reviewed again.
    let met_again = review(&zone, lw, json!({"childId": c, "reviewedOn": "2026-02-10",
        "goals": [{"goalId": g[0], "met": true}, {"goalId": g[1], "met": false}, {"goalId": goal_ids(&plan)[2], "met": false}]}))
    .await;
    assert_invalid(&met_again, "goals[0].goalId");

    // After the child leaves the programme, the review recorded is the last one.
    let exit = Transition::Exit(ExitReason::MovedAway);
    enrolment::transition(&zone.app.db, &Actor::system(), &c, exit, None, None).await.expect("exit");
    let last = review(
        &zone,
        lw,
        json!({"childId": c, "reviewedOn": "2026-02-10",
        "goals": [{"goalId": g[1], "met": true}, {"goalId": goal_ids(&plan)[2], "met": false}]}),
    )
    .await;
    assert_ok(&last);
    let plan = read(&zone, lw, &c).await["data"]["child"]["supportPlan"].clone();
    assert_eq!(plan["nextReviewDue"], Value::Null, "{plan}");
    assert_eq!(plan["reviews"].as_array().map(Vec::len), Some(2), "the pending review was completed, none added");
}

#[tokio::test]
async fn a_review_replaces_the_links_but_never_leaves_the_plan_without_a_part() {
    let zone = zone_with_framework().await;
    let (c, other, lw) = (zone.child_a1.clone(), zone.child_a2.clone(), &zone.link_worker);
    zone.ready_for_referral(&c, &[&zone.partner_1]).await;
    zone.ready_for_referral(&other, &[&zone.partner_1]).await;
    let p = zone.programme(&zone.partner_1, "Mentoring", 5).await;
    let r = zone.refer(&c, &p, ReferralStatus::Sent).await;
    let others_referral = zone.refer(&other, &p, ReferralStatus::Sent).await;
    let mum = relationship(&zone, &c, RelationshipKind::Parent, "Pat Testchild").await;
    let gran = relationship(&zone, &c, RelationshipKind::Carer, "Lou Testchild").await;
    // Specialist support only: no part in words.
    let mut input = plan_input(&c, &[&r], &[&mum]);
    input["informalEngagement"] = Value::Null;
    input["formalEngagement"] = Value::Null;
    let agreed = agree(&zone, lw, input).await;
    assert_ok(&agreed);
    let g = goal_ids(&agreed["data"]["agreeSupportPlan"]);
    let base = json!({"childId": c, "reviewedOn": "2025-12-10",
        "goals": [{"goalId": g[0], "met": false}, {"goalId": g[1], "met": false}]});
    let with = |extra: Value| {
        let mut i = base.clone();
        for (k, v) in extra.as_object().cloned().unwrap_or_default() {
            i[k] = v;
        }
        i
    };

    assert_invalid(&review(&zone, lw, with(json!({"referralIds": []}))).await, "informalEngagement");
    assert_invalid(&review(&zone, lw, with(json!({"referralIds": [others_referral]}))).await, "referralIds[0]");
    let body = review(
        &zone,
        lw,
        with(json!({"referralIds": [], "informalEngagement": "Lunchtime club", "participantRelationshipIds": [gran],
                    "childTookPart": false})),
    )
    .await;
    assert_ok(&body);
    let plan = read(&zone, lw, &c).await["data"]["child"]["supportPlan"].clone();
    assert_eq!(plan["specialistSupport"], json!([]), "{plan}");
    assert_eq!(plan["informalEngagement"], "Lunchtime club");
    assert_eq!(plan["childTookPart"], false);
    assert_eq!(plan["participants"], json!([{"id": gran, "kind": "CARER", "name": "Lou Testchild"}]));
}

#[tokio::test]
async fn who_may_agree_review_and_read_a_plan() {
    let zone = zone_with_framework().await;
    let (a1, a2, b1) = (zone.child_a1.clone(), zone.child_a2.clone(), zone.child_b1.clone());
    zone.ready_for_referral(&a1, &[&zone.partner_1]).await;
    let p = zone.programme(&zone.partner_1, "Mentoring", 5).await;
    let r = zone.refer(&a1, &p, ReferralStatus::Accepted).await;

    // Writing: another caseload or anchor cannot see the child; partners, analysts and
    // funders may not write plans at all; the child's link worker, anchor lead and admins may.
    assert_not_found(&agree(&zone, &zone.link_worker_2, plan_input(&a1, &[&r], &[])).await);
    assert_not_found(&agree(&zone, &zone.anchor_lead_b, plan_input(&a1, &[&r], &[])).await);
    for who in [&zone.partner_worker, &zone.partner_lead, &zone.analyst, &zone.funder] {
        assert_forbidden(&agree(&zone, who, plan_input(&a1, &[&r], &[])).await);
    }
    assert_ok(&agree(&zone, &zone.link_worker, plan_input(&a1, &[&r], &[])).await);
    assert_ok(&agree(&zone, &zone.anchor_lead, plan_input(&a2, &[], &[])).await);
    assert_ok(&agree(&zone, &zone.admin, plan_input(&b1, &[], &[])).await);

    let plan = read(&zone, &zone.link_worker, &a1).await["data"]["child"]["supportPlan"].clone();
    let g = goal_ids(&plan);
    let outcome = json!({"childId": a1, "reviewedOn": "2025-12-10",
        "goals": [{"goalId": g[0], "met": false}, {"goalId": g[1], "met": false}]});
    assert_not_found(&review(&zone, &zone.link_worker_2, outcome.clone()).await);
    assert_forbidden(&review(&zone, &zone.partner_worker, outcome.clone()).await);
    assert_forbidden(&review(&zone, &zone.analyst, outcome.clone()).await);
    assert_ok(&review(&zone, &zone.link_worker, outcome).await);

    // Reading: the link worker and anchor lead see the plan; another caseload does not see
    // the child; the partner sees the child but not the plan; the analyst sees the plan
    // without free text; the funder sees no child.
    for who in [&zone.link_worker, &zone.anchor_lead, &zone.admin] {
        let body = read(&zone, who, &a1).await;
        assert_ok(&body);
        assert_eq!(body["data"]["child"]["supportPlan"]["informalEngagement"], "Check-in at the gate each morning");
    }
    assert_not_found(&read(&zone, &zone.link_worker_2, &a1).await);
    let partner = read(&zone, &zone.partner_worker, &a1).await;
    assert_ok(&partner);
    assert_eq!(partner["data"]["child"]["firstName"], "Ada", "the partner sees the child: {partner}");
    assert_eq!(partner["data"]["child"]["supportPlan"], Value::Null, "but not the plan: {partner}");
    let analyst = read(&zone, &zone.analyst, &a1).await;
    assert_ok(&analyst);
    let seen = &analyst["data"]["child"]["supportPlan"];
    assert_eq!(seen["agreedOn"], "2025-09-15", "{analyst}");
    for text in ["informalEngagement", "formalEngagement"] {
        assert_eq!(seen[text], Value::Null, "{text} is free text: {analyst}");
    }
    assert_eq!(seen["goals"][0]["description"], Value::Null, "{analyst}");
    assert_eq!(seen["goals"][0]["targetLevel"], 3, "levels are not free text");
    assert_eq!(seen["specialistSupport"], json!([{"id": r, "status": "ACCEPTED"}]));
    assert_eq!(seen["reviews"][0]["outcomes"].as_array().map(Vec::len), Some(2));
    assert_not_found(&read(&zone, &zone.funder, &a1).await);
}

#[tokio::test]
async fn a_handover_moves_the_pending_review_to_the_new_link_worker() {
    let zone = zone_with_framework().await;
    let (c, lw) = (zone.child_a1.clone(), &zone.link_worker);
    let agreed = agree(&zone, lw, plan_input(&c, &[], &[])).await;
    assert_ok(&agreed);
    let g = goal_ids(&agreed["data"]["agreeSupportPlan"]);
    assert_ok(
        &review(
            &zone,
            lw,
            json!({"childId": c, "reviewedOn": "2025-12-10",
            "goals": [{"goalId": g[0], "met": false}, {"goalId": g[1], "met": false}]}),
        )
        .await,
    );
    let handed = zone
        .as_(
            &zone.anchor_lead,
            "mutation($c: ID!, $w: ID!) { assignLinkWorker(childId: $c, linkWorkerId: $w) { id } }",
            json!({ "c": c, "w": zone.link_worker_2.id }),
        )
        .await;
    assert_ok(&handed);
    let plan = read(&zone, &zone.link_worker_2, &c).await["data"]["child"]["supportPlan"].clone();
    let workers: Vec<(Value, Value)> = plan["reviews"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|r| (r["pending"].clone(), r["linkWorker"]["id"].clone()))
        .collect();
    assert_eq!(
        workers,
        vec![(json!(false), json!(zone.link_worker.id)), (json!(true), json!(zone.link_worker_2.id))],
        "the completed review keeps its link worker; the pending one moves: {plan}"
    );
    // The new link worker records it; the old one no longer sees the child.
    let next = json!({"childId": c, "reviewedOn": "2026-02-10",
        "goals": [{"goalId": g[0], "met": true}, {"goalId": g[1], "met": false}]});
    assert_not_found(&review(&zone, lw, next.clone()).await);
    assert_ok(&review(&zone, &zone.link_worker_2, next).await);
    let events = audit_event::Entity::find().all(&zone.app.db).await.expect("events");
    assert!(events.iter().any(|e| e.action == "child.hand_over"
        && e.child_id.as_deref() == Some(c.as_str())
        && e.fields.contains("supportPlan.reviews.linkWorker")));
}

#[tokio::test]
async fn a_caseload_of_plans_costs_the_same_statements_for_3_children_as_for_8() {
    let counter = Arc::new(AtomicU64::new(0));
    let app = TestApp::spawn_with(
        |s| {
            s.graphql.max_complexity = 1_000_000;
            // The audit sequencer's statements are not the request's (nothing here reads the chain).
            s.audit.chain_millis = 0;
        },
        StartOptions { statement_counter: Some(counter.clone()), ..Default::default() },
    )
    .await;
    let zone = zone_on(app).await;
    let (db, system) = (&zone.app.db, Actor::system());
    let mut caseload = vec![zone.child_a1.clone()];
    for i in 0..7 {
        caseload.push(
            zone.add_child(
                &format!("Kid{}", ["a", "b", "c", "d", "e", "f", "g"][i]),
                &zone.anchor_a,
                &zone.link_worker.id,
            )
            .await,
        );
    }
    for c in &caseload {
        let mum = relationship(&zone, c, RelationshipKind::Parent, "Pat Testchild").await;
        let new = plans::NewPlan {
            child_id: c.clone(),
            agreed_on: "2025-09-15".into(),
            informal_engagement: Some("Check-ins".into()),
            formal_engagement: None,
            developmental_support: None,
            referral_ids: vec![],
            child_took_part: true,
            participant_relationship_ids: vec![mum],
            goals: vec![plans::NewGoal {
                area: "relationships".into(),
                description: "A friend".into(),
                target_level: 3,
            }],
        };
        plans::agree(db, &system, new).await.expect("plan");
    }
    let query =
        format!("query($n: Int!) {{ caseload(first: $n) {{ edges {{ node {{ id supportPlan {{ {PLAN} }} }} }} }} }}");
    let mut costs = Vec::new();
    for n in [3, 8] {
        let before = counter.load(Ordering::SeqCst);
        let body = zone.as_(&zone.link_worker, &query, json!({ "n": n })).await;
        costs.push(counter.load(Ordering::SeqCst) - before);
        assert_ok(&body);
        let edges = body["data"]["caseload"]["edges"].as_array().cloned().unwrap_or_default();
        assert_eq!(edges.len(), n as usize);
        assert!(
            edges.iter().all(|e| e["node"]["supportPlan"]["participants"].as_array().map(Vec::len) == Some(1)),
            "{body}"
        );
    }
    assert!(costs[0] > 0, "the counter counts: {costs:?}");
    assert_eq!(costs[0], costs[1], "statements for 3 and for 8 children: {costs:?}");
}
