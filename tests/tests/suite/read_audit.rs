//! Every child a response contains is audited, whatever path reached it: the schema is
//! walked for every path from `Query` to `Child` and to each record hanging off a child,
//! each path is asked, and the audit must hold an event for that request for every child
//! the answer contains (and one of the record's action for a record). Plus the nested path
//! of the report, as a link worker, and "if the audit cannot be written, nothing is
//! returned".

use crate::schema_walk::{Rich, Types, reachable, rich_zone, types};
use backbone::graphql::read_audit::{NOT_CHILD_RECORDS, READ_ACTIONS};
use backbone::store::audit_event;
use backbone_tests::*;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

/// Posts `query` as `who`; returns the body and the request id the service answered with.
async fn asked(zone: &Zone, who: &Account, query: &str) -> (Value, String) {
    let resp = zone
        .app
        .http
        .post(zone.app.url("/graphql"))
        .bearer_auth(&who.token)
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("sent");
    let id = resp.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    (resp.json().await.expect("JSON"), id)
}

async fn events_of(zone: &Zone, request_id: &str) -> Vec<audit_event::Model> {
    audit_event::Entity::find()
        .filter(audit_event::Column::RequestId.eq(request_id.to_owned()))
        .all(&zone.app.db)
        .await
        .expect("events")
}

/// The ids of the `Child` objects in `body` (every object whose `__typename` is `Child`).
fn child_ids(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if m.get("__typename") == Some(&json!("Child"))
                && let Some(id) = m.get("id").and_then(Value::as_str)
            {
                out.push(id.to_owned());
            }
            m.values().for_each(|x| child_ids(x, out));
        }
        Value::Array(l) => l.iter().for_each(|x| child_ids(x, out)),
        _ => {}
    }
}

/// How many objects of `type_name` are in `v`.
fn count_of(v: &Value, type_name: &str) -> usize {
    match v {
        Value::Object(m) => {
            usize::from(m.get("__typename") == Some(&json!(type_name)))
                + m.values().map(|x| count_of(x, type_name)).sum::<usize>()
        }
        Value::Array(l) => l.iter().map(|x| count_of(x, type_name)).sum(),
        _ => 0,
    }
}

/// Every path from `Query` (fields, types) to a record type, at most `depth` object types
/// long, no type twice on a path.
fn paths(types: &Types, targets: &[&str], depth: usize) -> Vec<Vec<(String, String)>> {
    fn walk(
        types: &Types,
        targets: &[&str],
        at: &str,
        path: &mut Vec<(String, String)>,
        out: &mut Vec<Vec<(String, String)>>,
        depth: usize,
    ) {
        for f in types.get(at).into_iter().flatten() {
            if f.kind != "OBJECT" || f.ty == "Query" || path.iter().any(|(_, t)| *t == f.ty) {
                continue;
            }
            path.push((f.name.clone(), f.ty.clone()));
            if targets.contains(&f.ty.as_str()) {
                out.push(path.clone());
            }
            if path.len() < depth {
                walk(types, targets, &f.ty, path, out, depth);
            }
            path.pop();
        }
    }
    let mut out = Vec::new();
    walk(types, targets, "Query", &mut Vec::new(), &mut out, depth);
    out
}

/// The arguments a field needs in the rich zone, as GraphQL source.
fn args(rich: &Rich, on: &str, field: &str) -> String {
    match (on, field) {
        ("Query", "child") => format!("(id: \"{}\")", rich.c),
        ("Query", "referral") => format!("(id: \"{}\")", rich.referral),
        ("Query", "session") => format!("(id: \"{}\")", rich.session),
        ("Query", "sessions") => format!("(programmeId: \"{}\")", rich.programme),
        ("Query", "caseload") => format!("(linkWorkerId: \"{}\")", rich.zone.link_worker.id),
        ("Query", "shareLog") => format!("(childId: \"{}\")", rich.c),
        ("Query", "breakGlassOpenings") => format!("(childId: \"{}\")", rich.c),
        // By then the rich child's safeguarding concern is due for deletion.
        ("Query", "retentionDue") => "(asOf: \"2100-01-01\")".to_owned(),
        _ => String::new(),
    }
}

/// The query for a path: every object on it names its type (and children their id).
fn query_for(rich: &Rich, types: &Types, path: &[(String, String)]) -> String {
    let mut inner = String::from("__typename");
    let (_, last) = path.last().expect("a path");
    if types[last].iter().any(|f| f.name == "id") {
        inner.push_str(" id");
    }
    for i in (0..path.len()).rev() {
        let on = if i == 0 { "Query" } else { path[i - 1].1.as_str() };
        let (field, _) = &path[i];
        let here = if i + 1 < path.len() { "__typename id" } else { "" };
        let here =
            if i + 1 < path.len() && !types[&path[i].1].iter().any(|f| f.name == "id") { "__typename" } else { here };
        inner = format!("{field}{} {{ {here} {inner} }}", args(rich, on, field));
    }
    format!("{{ {inner} }}")
}

#[tokio::test]
async fn every_path_to_a_child_or_a_record_of_one_is_audited_for_each_child_it_returns() {
    let rich = rich_zone().await;
    let zone = &rich.zone;
    let types = types(zone).await;

    // Every type reachable from a child is a record with a read action, or named as not
    // one child's record: a new type fails here until someone decides.
    for t in reachable(&types, "Child") {
        let known = READ_ACTIONS.iter().any(|(n, _)| *n == t) || NOT_CHILD_RECORDS.iter().any(|(n, _)| *n == t);
        assert!(known, "type {t} is reachable from Child: add it to READ_ACTIONS or NOT_CHILD_RECORDS");
    }

    let targets: Vec<&str> = READ_ACTIONS.iter().map(|(t, _)| *t).collect();
    let all = paths(&types, &targets, 7);
    assert!(all.len() > 100, "the walk finds the paths ({})", all.len());
    let mut empty = Vec::new();
    for path in &all {
        // The inbox is a partner's, who sees only the partner view (other paths under it
        // may be empty or refused), the worklist a link worker's (an admin has none);
        // everything else is asked as an admin, who sees all.
        let (inbox, worklist) = (path[0].0 == "referralsInbox", path[0].0 == "worklist");
        let who = if inbox {
            &zone.partner_worker
        } else if worklist {
            &zone.link_worker
        } else {
            &zone.admin
        };
        let inbox = inbox || worklist;
        let q = query_for(&rich, &types, path);
        let (body, request_id) = asked(zone, who, &q).await;
        assert!(inbox || body["errors"].is_null(), "{q}: {body}");
        let (_, last) = path.last().expect("path");
        if count_of(&body["data"], last) == 0 {
            if !inbox {
                empty.push(q);
            }
            continue;
        }
        let events = events_of(zone, &request_id).await;
        let mut ids = Vec::new();
        child_ids(&body["data"], &mut ids);
        for id in &ids {
            assert!(
                events.iter().any(|e| e.action == "child.read" && e.child_id.as_deref() == Some(id)),
                "{q}: child {id} answered without a child.read event for request {request_id}"
            );
        }
        let action = READ_ACTIONS.iter().find(|(t, _)| t == last).map(|(_, a)| *a).expect("action");
        assert!(
            events.iter().any(|e| e.action == action && e.child_id.is_some()),
            "{q}: {last} answered without a {action} event for request {request_id}: {:?}",
            events.iter().map(|e| &e.action).collect::<Vec<_>>()
        );
    }
    assert!(empty.is_empty(), "paths with no data in the rich zone (the fixture must cover them): {empty:#?}");
}

#[tokio::test]
async fn a_link_worker_reading_other_children_through_a_register_is_audited_for_each() {
    let rich = rich_zone().await;
    let zone = &rich.zone;
    let q = format!(
        "{{ child(id: \"{}\") {{ supportPackage {{ referrals {{ attendance {{ session {{ attendees {{ child {{ __typename id firstName lastName }} }} }} }} }} }} }} }}",
        rich.c
    );
    let (body, request_id) = asked(zone, &zone.link_worker, &q).await;
    assert_ok(&body);
    let mut ids = Vec::new();
    child_ids(&body["data"], &mut ids);
    ids.sort();
    ids.dedup();
    let mut expected = vec![rich.c.clone(), rich.c2.clone()];
    expected.sort();
    assert_eq!(ids, expected, "both children on the register are on the link worker's caseload: {body}");
    let events = events_of(zone, &request_id).await;
    for id in &ids {
        let read: Vec<_> =
            events.iter().filter(|e| e.action == "child.read" && e.child_id.as_deref() == Some(id)).collect();
        assert_eq!(read.len(), 1, "one child.read per child per request: {events:?}");
        assert_eq!(read[0].actor_user_id.as_deref(), Some(zone.link_worker.id.as_str()));
        assert!(read[0].fields.contains("lastName"), "the fields selected are named: {}", read[0].fields);
    }
    // The reads of the register lines themselves, for each child on them.
    for id in &ids {
        assert!(events.iter().any(|e| e.action == "attendance.read" && e.child_id.as_deref() == Some(id)));
    }
    // The first child, read at the root, with the field that led on.
    let root = events.iter().find(|e| e.action == "child.read" && e.child_id.as_deref() == Some(&rich.c));
    assert!(root.is_some_and(|e| e.fields.contains("supportPackage")), "{events:?}");
}

#[tokio::test]
async fn a_mutation_answer_is_audited_and_a_read_that_cannot_be_audited_returns_nothing() {
    let zone = Zone::new().await;
    // A mutation's returned child is a read of its own.
    let identify = "mutation($a: ID) { identifyChild(input: {firstName: \"Fay\", lastName: \"Testchild\", dateOfBirth: \"2016-05-04\", yearGroup: 5, anchorId: $a}) { id firstName lastName } }";
    let resp = zone
        .app
        .http
        .post(zone.app.url("/graphql"))
        .bearer_auth(&zone.link_worker.token)
        .json(&json!({ "query": identify, "variables": {"a": zone.anchor_a} }))
        .send()
        .await
        .expect("sent");
    let request_id = resp.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let body: Value = resp.json().await.expect("JSON");
    assert_ok(&body);
    let id = body["data"]["identifyChild"]["id"].as_str().expect("id").to_owned();
    let events = events_of(&zone, &request_id).await;
    assert!(events.iter().any(|e| e.action == "child.identify" && e.child_id.as_deref() == Some(&id)));
    assert!(
        events.iter().any(|e| e.action == "child.read"
            && e.child_id.as_deref() == Some(&id)
            && e.fields == r#"["firstName","id","lastName"]"#),
        "{events:?}"
    );

    // Take the audit trail away: no event can be appended, so no child is returned.
    zone.app
        .db
        .execute_unprepared("ALTER TABLE audit_events RENAME TO audit_events_gone")
        .await
        .expect("break the trail");
    let read = zone
        .as_(&zone.link_worker, "query($c: ID!) { child(id: $c) { firstName } }", json!({"c": zone.child_a1}))
        .await;
    assert_eq!(error_code(&read), Some("INTERNAL"), "{read}");
    assert!(read["data"].is_null() || read["data"]["child"].is_null(), "nothing is returned: {read}");
    assert!(!read.to_string().contains("Ada"), "{read}");
    // A request that reads no child needs no audit, and still answers.
    assert_ok(&zone.as_(&zone.link_worker, "{ me { id } }", json!({})).await);
}

/// The `child.read` events by `who` of `child` so far.
async fn child_reads_by(zone: &Zone, who: &Account, child: &str) -> Vec<audit_event::Model> {
    audit_event::Entity::find()
        .filter(audit_event::Column::ChildId.eq(child.to_owned()))
        .filter(audit_event::Column::Action.eq("child.read"))
        .filter(audit_event::Column::ActorUserId.eq(who.id.clone()))
        .all(&zone.app.db)
        .await
        .expect("events")
}

#[tokio::test]
async fn a_subscription_event_and_an_operation_over_websocket_are_audited_for_the_children_they_carry() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::http::HeaderValue;

    let zone = Zone::new().await;
    let a1 = zone.child_a1.clone();
    let programme = zone.programme(&zone.partner_1, "Mentoring", 5).await;
    zone.ready_for_referral(&a1, &[&zone.partner_1]).await;
    let referral = zone.refer(&a1, &programme, backbone::domain::ReferralStatus::Proposed).await;

    let mut request = format!("ws://{}/graphql/ws", zone.app.address).into_client_request().expect("request");
    request.headers_mut().insert("sec-websocket-protocol", HeaderValue::from_static("graphql-transport-ws"));
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.expect("handshake");
    let send = async |socket: &mut tokio_tungstenite::WebSocketStream<_>, v: Value| {
        socket.send(Message::text(v.to_string())).await.expect("send");
    };
    let next = async |socket: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >| loop {
        let m = tokio::time::timeout(std::time::Duration::from_secs(5), socket.next()).await.expect("in time");
        if let Some(Ok(Message::Text(t))) = m {
            let v: Value = serde_json::from_str(t.as_str()).expect("JSON");
            if !matches!(v["type"].as_str(), Some("ping" | "pong")) {
                return v;
            }
        }
    };
    let token = format!("Bearer {}", zone.partner_worker.token);
    send(&mut socket, json!({"type": "connection_init", "payload": {"authorization": token}})).await;
    assert_eq!(next(&mut socket).await["type"], "connection_ack");
    let inbox = "subscription { referralInbox { referral { child { id firstName } } } }";
    send(&mut socket, json!({"id": "1", "type": "subscribe", "payload": {"query": inbox}})).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    assert!(child_reads_by(&zone, &zone.partner_worker, &a1).await.is_empty());
    let sent = zone
        .as_(&zone.link_worker, "mutation($r: ID!) { sendReferral(referralId: $r) { id } }", json!({"r": referral}))
        .await;
    assert_ok(&sent);
    let event = next(&mut socket).await;
    assert_eq!(event["payload"]["data"]["referralInbox"]["referral"]["child"]["id"], json!(a1), "{event}");
    let reads = child_reads_by(&zone, &zone.partner_worker, &a1).await;
    assert_eq!(reads.len(), 1, "the event's child is one audited read: {reads:?}");
    assert_eq!(reads[0].fields, r#"["firstName","id"]"#);

    // A query over the same connection is audited too.
    let q = format!("{{ child(id: \"{a1}\") {{ firstName }} }}");
    send(&mut socket, json!({"id": "2", "type": "subscribe", "payload": {"query": q}})).await;
    let answer = next(&mut socket).await;
    assert_eq!(answer["payload"]["data"]["child"]["firstName"], "Ada", "{answer}");
    assert_eq!(child_reads_by(&zone, &zone.partner_worker, &a1).await.len(), 2);
}
