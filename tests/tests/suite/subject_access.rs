//! Subject access: everything held about a child — every table that references them, read
//! from the database's own catalogue so that a new table cannot be forgotten — with
//! safeguarding concerns withheld (and why) until released, and who has read or changed
//! the record; for backbone admins only.

use crate::schema_walk::{Rich, rich_zone};
use backbone::store::{audit_event, claim, contract, screening};
use backbone_tests::*;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set, Statement,
};
use serde_json::{Value, json};
use std::collections::BTreeSet;

const SAR: &str = "query($c: ID!, $r: Boolean! = false) { subjectAccess(childId: $c, releaseSafeguarding: $r) { childId json html } }";

/// Names of the rows of a catalogue query.
async fn names(db: &sea_orm::DatabaseConnection, sql: &str) -> Vec<(String, String)> {
    let rows = db.query_all_raw(Statement::from_string(db.get_database_backend(), sql.to_owned())).await.expect(sql);
    rows.iter()
        .map(|r| (r.try_get_by_index::<String>(0).expect("a name"), r.try_get_by_index::<String>(1).expect("a name")))
        .collect()
}

/// Every table that references a child: one with a `child_id` column, or with a foreign
/// key to such a table, read from the database's catalogue.
async fn tables_referencing_a_child(db: &sea_orm::DatabaseConnection) -> BTreeSet<String> {
    let (columns, keys) = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => (
            "SELECT table_name::text, column_name::text FROM information_schema.columns WHERE table_schema = current_schema()",
            "SELECT tc.table_name::text, ccu.table_name::text FROM information_schema.table_constraints tc \
             JOIN information_schema.constraint_column_usage ccu ON tc.constraint_name = ccu.constraint_name \
             AND tc.table_schema = ccu.table_schema WHERE tc.constraint_type = 'FOREIGN KEY' \
             AND tc.table_schema = current_schema()",
        ),
        _ => (
            "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table'",
            "SELECT m.name, f.\"table\" FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f WHERE m.type = 'table'",
        ),
    };
    let mut found: BTreeSet<String> =
        names(db, columns).await.into_iter().filter(|(_, c)| c == "child_id").map(|(t, _)| t).collect();
    found.insert("children".into());
    let keys = names(db, keys).await;
    loop {
        let more: Vec<String> = keys
            .iter()
            .filter(|(t, parent)| found.contains(parent) && !found.contains(t))
            .map(|(t, _)| t.clone())
            .collect();
        if more.is_empty() {
            return found;
        }
        found.extend(more);
    }
}

/// The rich zone's child, also with what it does not make: screening data, a claim on
/// an outcomes contract, the statistics' facts and a change kept for retries.
pub async fn fullest_child() -> Rich {
    let rich = rich_zone().await;
    let (zone, c) = (&rich.zone, &rich.c);
    let db = &zone.app.db;
    let now = chrono::Utc::now();
    screening::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        anchor_id: Set(zone.anchor_a.clone()),
        upn: Set("A123456789012".into()),
        attendance_percent: Set(Some(88.0)),
        attainment: Set(Some("working_towards".into())),
        wellbeing_score: Set(Some(30)),
        practitioner_concern: Set(true),
        statutory_support: Set(None),
        at_risk_areas: Set(3),
        reasons: Set("[]".into()),
        status: Set("accepted".into()),
        rank_key: Set("k".into()),
        framework_version: Set(1),
        child_id: Set(Some(c.clone())),
        imported_by: Set(zone.anchor_lead.id.clone()),
        imported_at: Set(now),
        expires_at: Set(now),
    }
    .insert(db)
    .await
    .expect("screening row");
    let day = chrono::NaiveDate::from_ymd_opt(2025, 9, 1).expect("day");
    let contract = contract::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        name: Set("Outcomes contract".into()),
        definition: Set("{}".into()),
        period_start: Set(day),
        period_end: Set(day),
        cohort: Set(None),
        created_by: Set(zone.admin.id.clone()),
        created_at: Set(now),
        evaluated_as_of: Set(None),
        evaluated_at: Set(None),
    }
    .insert(db)
    .await
    .expect("contract");
    claim::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        contract_id: Set(contract.id),
        milestone_code: Set("engaged".into()),
        child_id: Set(c.clone()),
        instalment: Set(1),
        achieved_on: Set(day),
        full_amount_pence: Set(25_000),
        amount_pence: Set(25_000),
        evidence: Set("[]".into()),
        status: Set("active".into()),
        as_of: Set(day),
        evaluated_at: Set(now),
        reversed_at: Set(None),
        reversal_reason: Set(None),
    }
    .insert(db)
    .await
    .expect("claim");
    // A referral the withdrawn consent no longer covers: refused, and the refusal kept.
    let swimming = zone.programme(&zone.partner_2, "Swimming", 10).await;
    let propose = "mutation($c: ID!, $p: ID!) { proposeReferral(input: {childId: $c, programmeId: $p, needs: \"Likes water\"}) { id } }";
    let r = zone.as_(&zone.link_worker, propose, json!({ "c": c, "p": swimming })).await;
    let send = "mutation($r: ID!) { sendReferral(referralId: $r) { id } }";
    assert_refused(
        &zone.as_(&zone.link_worker, send, json!({ "r": r["data"]["proposeReferral"]["id"] })).await,
        "CONFLICT",
    );
    backbone::domain::metrics::refresh(db, None).await.expect("refresh");
    let contact = "mutation($c: ID!) { logContact(input: {childId: $c, heldOn: \"2025-10-09\", minutes: 5, kind: INFORMAL, \
                   withWhom: [PARENT], content: \"Phoned home\"}) { id } }";
    let sent = zone
        .app
        .http
        .post(zone.app.url("/graphql"))
        .bearer_auth(&zone.link_worker.token)
        .header("Idempotency-Key", "subject-access-test-1")
        .json(&json!({ "query": contact, "variables": { "c": c } }))
        .send()
        .await
        .expect("sent");
    assert_ok(&sent.json::<Value>().await.expect("JSON"));
    rich
}

#[tokio::test]
async fn every_table_that_references_a_child_is_in_the_answer_with_its_rows() {
    let rich = fullest_child().await;
    let (zone, c) = (&rich.zone, &rich.c);
    let body = zone.as_(&zone.admin, SAR, json!({ "c": c })).await;
    assert_ok(&body);
    let answer: Value =
        serde_json::from_str(body["data"]["subjectAccess"]["json"].as_str().expect("json")).expect("JSON");
    let sections = answer["sections"].as_array().expect("sections");
    let listed: BTreeSet<String> = sections.iter().map(|s| s["table"].as_str().expect("table").to_owned()).collect();
    let referencing = tables_referencing_a_child(&zone.app.db).await;
    let missing: Vec<&String> = referencing.difference(&listed).collect();
    assert!(missing.is_empty(), "tables that reference a child but are not in the answer: {missing:?}");
    // The child has something in every table, and every row of it is in the answer.
    for s in sections {
        let table = s["table"].as_str().expect("table");
        let rows = s["rows"].as_array().map_or(0, Vec::len);
        let withheld = s["withheld"]["count"].as_u64().unwrap_or(0);
        assert!(rows > 0 || withheld > 0, "{table}: nothing for the fullest child");
        if referencing.contains(table) && table != "children" && table != "audit_events" {
            let direct = zone
                .app
                .db
                .query_one_raw(Statement::from_sql_and_values(
                    zone.app.db.get_database_backend(),
                    match zone.app.db.get_database_backend() {
                        sea_orm::DbBackend::Postgres => format!("SELECT count(*) FROM {table} WHERE child_id = $1"),
                        _ => format!("SELECT count(*) FROM {table} WHERE child_id = ?"),
                    },
                    [c.clone().into()],
                ))
                .await;
            // Tables linked through another record have no child_id: their count is the
            // link's, checked above as non-empty.
            if let Ok(Some(row)) = direct {
                let held = row.try_get_by_index::<i64>(0).expect("count");
                assert_eq!(i64::try_from(rows).expect("rows") + i64::try_from(withheld).expect("n"), held, "{table}");
            }
        }
    }
    // Values as held: the corrected phone, the adult's notes, the withdrawn consent's reason.
    let text = answer.to_string();
    for held in ["07700 900005", "Works nights; call after 4pm", "Sam moved away from 12 Example Road", "Phoned home"] {
        assert!(text.contains(held), "{held} in the answer");
    }
    // What was shared and what was not, with the basis relied on.
    let shares = answer["share_log"].as_array().expect("share log");
    assert!(shares.iter().any(|e| e["kind"] == "sent" && e["consent"].is_string()), "{shares:?}");
    assert!(shares.iter().any(|e| e["kind"] == "refused"), "{shares:?}");
    // Who has seen it: the link worker and the partner, by name and organisation.
    let log = answer["access_log"].as_array().expect("log");
    assert!(log.iter().any(|e| e["action"] == "child.read" && e["person"].is_string()), "{log:?}");
    assert!(log.iter().any(|e| e["role"] == "partner worker"), "{log:?}");
}

#[tokio::test]
async fn only_backbone_admins_answer_and_safeguarding_is_withheld_until_released() {
    let rich = rich_zone().await;
    let (zone, c) = (&rich.zone, &rich.c);
    for who in [&zone.link_worker, &zone.anchor_lead, &zone.partner_worker, &zone.funder, &zone.analyst] {
        assert_refused(&zone.as_(who, SAR, json!({ "c": c })).await, "FORBIDDEN");
    }
    assert_refused(&zone.as_(&zone.admin, SAR, json!({ "c": uuid::Uuid::now_v7().to_string() })).await, "NOT_FOUND");
    assert_refused(&zone.as_(&zone.admin, SAR, json!({ "c": "not-an-id" })).await, "NOT_FOUND");

    let body = zone.as_(&zone.admin, SAR, json!({ "c": c })).await;
    assert_ok(&body);
    let html = body["data"]["subjectAccess"]["html"].as_str().expect("html");
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains("What the zone holds about Dee Fullrecord"), "{html}");
    assert!(html.contains("Withheld: 1 record."), "the concern is withheld, with why");
    assert!(!html.contains("Bruise on arm") && !body.to_string().contains("Bruise on arm"), "not disclosed");
    assert!(html.contains("Works nights; call after 4pm"));
    assert!(html.contains("Who has read or changed the record, and when"));
    let released = zone.as_(&zone.admin, SAR, json!({ "c": c, "r": true })).await;
    assert_ok(&released);
    assert!(released["data"]["subjectAccess"]["html"].as_str().expect("html").contains("Bruise on arm"));
    // Each answer is audited on the child.
    let asked = audit_event::Entity::find()
        .filter(audit_event::Column::ChildId.eq(c.clone()))
        .filter(audit_event::Column::Action.eq("child.subject_access"))
        .count(&zone.app.db)
        .await
        .expect("events");
    assert_eq!(asked, 2);
}
