//! Subscriptions over WebSocket (`/graphql/ws`, protocol `graphql-transport-ws`), against
//! the real service: events reach the subscribers they concern, and only them.
//!
//! Tests → rules:
//!
//! - `partner_inbox_receives_only_their_organisations_referrals`: `referralInbox` delivers
//!   `SENT` for a referral sent to the partner's organisation and nothing for one sent to
//!   another partner; the event's `referral` is read through the caller's scope at
//!   delivery (null once withdrawn); accepting is not an inbox event.
//! - `link_worker_hears_of_acceptance_start_falling_attendance_and_completion`:
//!   `caseloadEvents` delivers `ACCEPTED`, `ACTIVE`, `ATTENDANCE_DROPPED` (once, when the
//!   rate falls below 75% after three sessions offered) and `COMPLETED`, for their own
//!   caseload only.
//! - `connections_and_subscriptions_are_refused_without_the_right`: `connection_init`
//!   without a valid token closes the connection (code 1002); each subscription is
//!   `FORBIDDEN` to the other roles.
//! - `an_anchor_lead_is_told_when_a_record_of_their_anchor_is_opened`: `recordsOpened`
//!   delivers each break-glass opening of the lead's anchor's children, and not another
//!   anchor's.
//! - `logging_out_closes_the_connection_at_the_next_event`: the token is checked again
//!   before each delivery: an event reaches the subscriber, and after `logout` the next
//!   one closes the connection with `4401` instead of being delivered.
//! - `logging_out_closes_the_connection_before_the_next_query`: after `logout`, a query
//!   (`me`, `child { firstName }`, `referralsInbox { needs }`) on the same connection is
//!   not answered: the connection closes with `4401`.
//! - `an_expired_token_or_a_disabled_account_closes_the_connection`: both `4401`, before
//!   any answer.
//! - `a_member_moved_to_another_organisation_is_closed_with_4403`: no event of the old
//!   organisation is delivered, no query answered; a role or designated-lead change is
//!   `4403` too.
//! - `an_unchanged_caller_keeps_their_connection`: the allowance — queries and events go
//!   on being answered on one connection while nothing about the caller changes.
//!
//! Every wait is bounded (`WAIT`), so a missing event fails the test instead of hanging.

use backbone::domain::ReferralStatus;
use backbone_tests::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long to wait for any one message before failing.
const WAIT: Duration = Duration::from_secs(5);

const INBOX: &str = "subscription { referralInbox { kind referralId referral { id status child { id firstName } } } }";
const CASELOAD: &str = "subscription { caseloadEvents { kind referralId attendanceRate referral { id status } } }";
const OPENED: &str = "subscription { recordsOpened { at breakGlass { id reason childId openedBy { id } } } }";

/// What the server said next.
#[derive(Debug)]
enum Received {
    Json(Value),
    /// The connection closed (with the close code, when one was sent).
    Closed(Option<u16>, String),
}

/// Opens a WebSocket to `/graphql/ws` speaking `graphql-transport-ws`.
async fn open(zone: &Zone) -> Socket {
    let mut request = format!("ws://{}/graphql/ws", zone.app.address).into_client_request().expect("request");
    request.headers_mut().insert("sec-websocket-protocol", HeaderValue::from_static("graphql-transport-ws"));
    let (socket, response) = tokio_tungstenite::connect_async(request).await.expect("WebSocket handshake");
    let protocol = response.headers().get("sec-websocket-protocol").and_then(|v| v.to_str().ok());
    assert_eq!(protocol, Some("graphql-transport-ws"), "{response:?}");
    socket
}

async fn send_json(socket: &mut Socket, message: Value) {
    socket.send(Message::text(message.to_string())).await.expect("send to the server");
}

/// The next text message (as JSON) or the close, within `WAIT`.
async fn receive(socket: &mut Socket) -> Received {
    loop {
        let next = tokio::time::timeout(WAIT, socket.next()).await.expect("no message from the server in time");
        match next {
            None => return Received::Closed(None, "stream ended".into()),
            Some(Err(e)) => return Received::Closed(None, e.to_string()),
            Some(Ok(Message::Text(text))) => {
                let value: Value = serde_json::from_str(text.as_str()).expect("JSON message");
                if matches!(value["type"].as_str(), Some("ping" | "pong")) {
                    continue;
                }
                return Received::Json(value);
            }
            Some(Ok(Message::Close(frame))) => {
                return Received::Closed(
                    frame.as_ref().map(|f| u16::from(f.code)),
                    frame.map(|f| f.reason.to_string()).unwrap_or_default(),
                );
            }
            Some(Ok(_)) => continue,
        }
    }
}

async fn next_json(socket: &mut Socket) -> Value {
    match receive(socket).await {
        Received::Json(v) => v,
        closed => panic!("the server closed the connection: {closed:?}"),
    }
}

/// Opens a connection authenticated with `token`, and expects `connection_ack`.
async fn connect(zone: &Zone, token: &str) -> Socket {
    let mut socket = open(zone).await;
    send_json(
        &mut socket,
        json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } }),
    )
    .await;
    assert_eq!(next_json(&mut socket).await, json!({ "type": "connection_ack" }));
    socket
}

/// Subscribes, then gives the server a moment to start the stream (events reach only the
/// subscribers that exist when they are published; this is not a timing assertion).
async fn subscribe(socket: &mut Socket, id: &str, query: &str) {
    send_json(socket, json!({ "id": id, "type": "subscribe", "payload": { "query": query } })).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
}

/// The next event of subscription `id`: its `data.<field>`, asserting no errors.
async fn next_event(socket: &mut Socket, id: &str, field: &str) -> Value {
    let message = next_json(socket).await;
    assert_eq!((message["type"].as_str(), message["id"].as_str()), (Some("next"), Some(id)), "{message}");
    assert!(message["payload"].get("errors").is_none(), "{message}");
    message["payload"]["data"][field].clone()
}

/// Runs a mutation and returns its answer at `data.<field>`, asserting no errors.
async fn mutate(zone: &Zone, who: &Account, query: &str, variables: Value, field: &str) -> Value {
    let body = zone.as_(who, query, variables).await;
    assert_ok(&body);
    body["data"][field].clone()
}

const SEND: &str = "mutation($r: ID!) { sendReferral(referralId: $r) { id status } }";
const ACCEPT: &str = "mutation($r: ID!) { respondToReferral(referralId: $r, accept: true) { id status } }";
const LOG_SESSION: &str = "mutation($p: ID!, $d: String!, $a: [AttendeeInput!]!) { logSession(input: \
     {programmeId: $p, heldOn: $d, durationMinutes: 60, kind: GROUP, attendees: $a}) { id } }";

/// Child a1 proposed to one programme of each partner: (to partner 1, to partner 2).
async fn referred_to_both_partners(zone: &Zone) -> (String, String) {
    let a1 = zone.child_a1.as_str();
    let mentoring = zone.programme(&zone.partner_1, "Mentoring", 5).await;
    let football = zone.programme(&zone.partner_2, "Football", 5).await;
    zone.ready_for_referral(a1, &[&zone.partner_1, &zone.partner_2]).await;
    let to_partner_2 = zone.refer(a1, &football, ReferralStatus::Proposed).await;
    let to_partner_1 = zone.refer(a1, &mentoring, ReferralStatus::Proposed).await;
    (to_partner_1, to_partner_2)
}

/// Child a1 proposed to two programmes of partner 1.
async fn referred_twice_to_partner_1(zone: &Zone) -> (String, String) {
    let a1 = zone.child_a1.as_str();
    let mentoring = zone.programme(&zone.partner_1, "Mentoring", 5).await;
    let homework = zone.programme(&zone.partner_1, "Homework Club", 5).await;
    zone.ready_for_referral(a1, &[&zone.partner_1]).await;
    let first = zone.refer(a1, &mentoring, ReferralStatus::Proposed).await;
    let second = zone.refer(a1, &homework, ReferralStatus::Proposed).await;
    (first, second)
}

#[tokio::test]
async fn partner_inbox_receives_only_their_organisations_referrals() {
    let zone = Zone::new().await;
    let (to_partner_1, to_partner_2) = referred_to_both_partners(&zone).await;

    let mut partner_1 = connect(&zone, &zone.partner_worker.token).await;
    subscribe(&mut partner_1, "1", INBOX).await;
    let mut partner_2 = connect(&zone, &zone.partner_worker_2.token).await;
    subscribe(&mut partner_2, "7", INBOX).await;

    // Partner 2's referral first: partner 1's first event must still be their own.
    for r in [&to_partner_2, &to_partner_1] {
        let sent = mutate(&zone, &zone.link_worker, SEND, json!({ "r": r }), "sendReferral").await;
        assert_eq!(sent["status"], "SENT", "{sent}");
    }
    let event = next_event(&mut partner_1, "1", "referralInbox").await;
    assert_eq!(event["kind"], "SENT", "{event}");
    assert_eq!(event["referralId"], json!(to_partner_1), "partner 1 received another partner's referral: {event}");
    let seen = &event["referral"];
    assert_eq!(seen["id"], json!(to_partner_1), "{event}");
    assert_eq!(seen["status"], "SENT", "{event}");
    assert_eq!(seen["child"], json!({ "id": zone.child_a1, "firstName": "Ada" }), "{event}");
    let event = next_event(&mut partner_2, "7", "referralInbox").await;
    assert_eq!((&event["kind"], &event["referralId"]), (&json!("SENT"), &json!(to_partner_2)), "{event}");

    // Accepting is the partner's own doing, not an inbox event; a withdrawal is, and by
    // then the referral is out of the partner's sight.
    mutate(&zone, &zone.partner_worker, ACCEPT, json!({ "r": to_partner_1 }), "respondToReferral").await;
    let withdraw = "mutation($r: ID!) { withdrawReferral(referralId: $r, reason: \"Moved away\") { id status } }";
    mutate(&zone, &zone.link_worker, withdraw, json!({ "r": to_partner_1 }), "withdrawReferral").await;
    let event = next_event(&mut partner_1, "1", "referralInbox").await;
    assert_eq!((&event["kind"], &event["referralId"]), (&json!("WITHDRAWN"), &json!(to_partner_1)), "{event}");
    assert!(event["referral"].is_null(), "a withdrawn referral was shown to the partner: {event}");
}

#[tokio::test]
async fn link_worker_hears_of_acceptance_start_falling_attendance_and_completion() {
    let zone = Zone::new().await;
    let (a1, a2) = (zone.child_a1.as_str(), zone.child_a2.as_str());
    let mentoring = zone.programme(&zone.partner_1, "Mentoring", 5).await;
    zone.ready_for_referral(a1, &[&zone.partner_1]).await;
    zone.ready_for_referral(a2, &[&zone.partner_1]).await;
    let mine = zone.refer(a1, &mentoring, ReferralStatus::Sent).await;
    // A colleague's child (link_worker_2's caseload).
    let colleagues = zone.refer(a2, &mentoring, ReferralStatus::Sent).await;

    let mut socket = connect(&zone, &zone.link_worker.token).await;
    subscribe(&mut socket, "1", CASELOAD).await;

    // The colleague's referral is accepted first: not this link worker's event.
    let pw = &zone.partner_worker;
    mutate(&zone, pw, ACCEPT, json!({ "r": colleagues }), "respondToReferral").await;
    mutate(&zone, pw, ACCEPT, json!({ "r": mine }), "respondToReferral").await;
    let event = next_event(&mut socket, "1", "caseloadEvents").await;
    assert_eq!((&event["kind"], &event["referralId"]), (&json!("ACCEPTED"), &json!(mine)), "{event}");
    assert_eq!(event["referral"], json!({ "id": mine, "status": "ACCEPTED" }), "{event}");
    assert!(event["attendanceRate"].is_null(), "{event}");

    // Four sessions: attended, then absent three times. The rate falls to 1/2 after two
    // sessions offered (too few to alert), to 1/3 after three (alert), 1/4 after four
    // (already alerted).
    let session = |date: &str, status: &str| {
        let line = if status == "ATTENDED" {
            json!({ "childId": a1, "status": status, "engagement": "PARTICIPATING" })
        } else {
            json!({ "childId": a1, "status": status })
        };
        json!({ "p": mentoring, "d": date, "a": [line] })
    };
    mutate(&zone, pw, LOG_SESSION, session("2025-09-02", "ATTENDED"), "logSession").await;
    let event = next_event(&mut socket, "1", "caseloadEvents").await;
    assert_eq!((&event["kind"], &event["referralId"]), (&json!("ACTIVE"), &json!(mine)), "{event}");
    for date in ["2025-09-09", "2025-09-16", "2025-09-23"] {
        mutate(&zone, pw, LOG_SESSION, session(date, "ABSENT"), "logSession").await;
    }
    let event = next_event(&mut socket, "1", "caseloadEvents").await;
    assert_eq!((&event["kind"], &event["referralId"]), (&json!("ATTENDANCE_DROPPED"), &json!(mine)), "{event}");
    let rate = event["attendanceRate"].as_f64().expect("attendanceRate");
    assert!((rate - 1.0 / 3.0).abs() < 1e-9, "the alert should come with the third session offered: {event}");
    assert_eq!(event["referral"]["status"], "ACTIVE", "{event}");

    // The next event is the completion: no second alert for the fourth session.
    let complete = "mutation($r: ID!) { completeReferral(referralId: $r) { id status } }";
    mutate(&zone, pw, complete, json!({ "r": mine }), "completeReferral").await;
    let event = next_event(&mut socket, "1", "caseloadEvents").await;
    assert_eq!((&event["kind"], &event["referralId"]), (&json!("COMPLETED"), &json!(mine)), "{event}");
    assert_eq!(event["referral"]["status"], "COMPLETED", "{event}");
}

#[tokio::test]
async fn an_anchor_lead_is_told_when_a_record_of_their_anchor_is_opened() {
    let zone = Zone::new().await;
    let mut lead_a = connect(&zone, &zone.anchor_lead.token).await;
    subscribe(&mut lead_a, "1", OPENED).await;
    let mut lead_b = connect(&zone, &zone.anchor_lead_b.token).await;
    subscribe(&mut lead_b, "2", OPENED).await;
    let open = "mutation($c: ID!, $r: String!) { breakGlass(childId: $c, reason: $r) { id } }";
    // Anchor B's child first: lead A's first event must still be their own anchor's.
    let b1 =
        mutate(&zone, &zone.link_worker, open, json!({"c": zone.child_b1, "r": "At our gate"}), "breakGlass").await;
    let a1 =
        mutate(&zone, &zone.link_worker_b, open, json!({"c": zone.child_a1, "r": "At our club"}), "breakGlass").await;
    let event = next_event(&mut lead_a, "1", "recordsOpened").await;
    assert_eq!(event["breakGlass"]["id"], a1["id"], "lead A was told of another anchor's child: {event}");
    assert_eq!(event["breakGlass"]["childId"], json!(zone.child_a1));
    assert_eq!(event["breakGlass"]["reason"], "At our club");
    assert_eq!(event["breakGlass"]["openedBy"]["id"], json!(zone.link_worker_b.id));
    let event = next_event(&mut lead_b, "2", "recordsOpened").await;
    assert_eq!(event["breakGlass"]["id"], b1["id"], "{event}");
}

#[tokio::test]
async fn connections_and_subscriptions_are_refused_without_the_right() {
    let zone = Zone::new().await;

    // No token, a token that was never issued, and a revoked one: the connection closes
    // without an acknowledgement.
    let revoked = zone.app.login(&zone.partner_worker.email, PASSWORD).await;
    let logout = zone.app.graphql(Some(&revoked), "mutation { logout }", json!({})).await;
    assert_eq!(logout["data"]["logout"], true, "{logout}");
    let payloads = [
        json!({}),
        json!({ "authorization": "Bearer not-a-token" }),
        json!({ "authorization": format!("Bearer {revoked}") }),
    ];
    for payload in payloads {
        let mut socket = open(&zone).await;
        send_json(&mut socket, json!({ "type": "connection_init", "payload": payload.clone() })).await;
        match receive(&mut socket).await {
            Received::Closed(code, reason) => {
                assert_eq!(code, Some(1002), "a refusal closed with the wrong code: {reason}");
            }
            Received::Json(message) => panic!("connection_init with {payload} was answered: {message}"),
        }
    }

    // Each subscription is for one kind of staff.
    let refusals = [
        (&zone.link_worker, INBOX),
        (&zone.anchor_lead, INBOX),
        (&zone.partner_worker, CASELOAD),
        (&zone.link_worker, OPENED),
        (&zone.partner_lead, OPENED),
        (&zone.admin, OPENED),
    ];
    for (who, query) in refusals {
        let mut socket = connect(&zone, &who.token).await;
        send_json(&mut socket, json!({ "id": "1", "type": "subscribe", "payload": { "query": query } })).await;
        let message = next_json(&mut socket).await;
        let errors = match message["type"].as_str() {
            Some("next") => message["payload"]["errors"].clone(),
            Some("error") => message["payload"].clone(),
            _ => panic!("expected an error for {}: {message}", who.email),
        };
        assert_eq!(message["id"], "1", "{message}");
        assert_eq!(errors[0]["extensions"]["code"], "FORBIDDEN", "{} subscribing: {message}", who.email);
    }
}

#[tokio::test]
async fn logging_out_closes_the_connection_at_the_next_event() {
    let zone = Zone::new().await;
    let (first, second) = referred_twice_to_partner_1(&zone).await;

    // A token of its own, so that logging it out leaves the zone's accounts signed in.
    let token = zone.app.login(&zone.partner_worker.email, PASSWORD).await;
    let mut socket = connect(&zone, &token).await;
    subscribe(&mut socket, "1", INBOX).await;

    // While the token is valid, events arrive.
    mutate(&zone, &zone.link_worker, SEND, json!({ "r": first }), "sendReferral").await;
    let event = next_event(&mut socket, "1", "referralInbox").await;
    assert_eq!((&event["kind"], &event["referralId"]), (&json!("SENT"), &json!(first)), "{event}");

    // Logged out: the next event closes the connection instead of being delivered.
    let logout = zone.app.graphql(Some(&token), "mutation { logout }", json!({})).await;
    assert_eq!(logout["data"]["logout"], true, "{logout}");
    mutate(&zone, &zone.link_worker, SEND, json!({ "r": second }), "sendReferral").await;
    expect_closed(&mut socket, 4401).await;
}

/// Sends `query` as operation `id` and returns its answer (`next`), checking that
/// `complete` follows.
async fn ask(socket: &mut Socket, id: &str, query: &str, variables: Value) -> Value {
    let payload = json!({ "query": query, "variables": variables });
    send_json(socket, json!({ "id": id, "type": "subscribe", "payload": payload })).await;
    let answer = next_json(socket).await;
    assert_eq!((answer["type"].as_str(), answer["id"].as_str()), (Some("next"), Some(id)), "{answer}");
    assert_eq!(next_json(socket).await, json!({ "id": id, "type": "complete" }));
    answer["payload"].clone()
}

/// The next thing from the server must be the close, with `code`: no answer, no event.
async fn expect_closed(socket: &mut Socket, code: u16) {
    match receive(socket).await {
        Received::Closed(got, reason) => assert_eq!(got, Some(code), "closed with the wrong code: {reason}"),
        Received::Json(message) => panic!("expected the connection to close with {code}, got {message}"),
    }
}

const ME: &str = "{ me { email role } }";
const CHILD: &str = "query($id: ID!) { child(id: $id) { firstName } }";
const NEEDS: &str = "{ referralsInbox { edges { node { needs } } } }";

#[tokio::test]
async fn logging_out_closes_the_connection_before_the_next_query() {
    let zone = Zone::new().await;
    let a1 = zone.child_a1.clone();
    let mentoring = zone.programme(&zone.partner_1, "Mentoring", 5).await;
    zone.ready_for_referral(&a1, &[&zone.partner_1]).await;
    zone.refer(&a1, &mentoring, ReferralStatus::Sent).await;

    // Each of the three reads, on a connection whose token is then revoked.
    let reads = [
        (&zone.link_worker, ME, json!({})),
        (&zone.link_worker, CHILD, json!({ "id": a1 })),
        (&zone.partner_worker, NEEDS, json!({})),
    ];
    for (who, query, variables) in reads {
        let token = zone.app.login(&who.email, PASSWORD).await;
        let mut socket = connect(&zone, &token).await;
        // Answered while the token is good (the allowance of the same read).
        let before = ask(&mut socket, "1", query, variables.clone()).await;
        assert!(before.get("errors").is_none(), "{query}: {before}");
        // Logging out over the socket itself is answered; nothing after it is.
        let out = ask(&mut socket, "2", "mutation { logout }", json!({})).await;
        assert_eq!(out["data"]["logout"], true, "{out}");
        let payload = json!({ "query": query, "variables": variables });
        send_json(&mut socket, json!({ "id": "3", "type": "subscribe", "payload": payload })).await;
        expect_closed(&mut socket, 4401).await;
    }
}

#[tokio::test]
async fn an_expired_token_or_a_disabled_account_closes_the_connection() {
    use backbone::store::{auth_token, user};
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let zone = Zone::new().await;

    // Expired while connected.
    let token = zone.app.login(&zone.link_worker.email, PASSWORD).await;
    let mut socket = connect(&zone, &token).await;
    assert_eq!(ask(&mut socket, "1", ME, json!({})).await["data"]["me"]["role"], "LINK_WORKER");
    let past = chrono::Utc::now() - chrono::Duration::minutes(1);
    auth_token::Entity::update_many()
        .col_expr(auth_token::Column::ExpiresAt, Expr::value(past))
        .filter(auth_token::Column::UserId.eq(zone.link_worker.id.clone()))
        .exec(&zone.app.db)
        .await
        .expect("expire the tokens");
    send_json(&mut socket, json!({ "id": "2", "type": "subscribe", "payload": { "query": ME } })).await;
    expect_closed(&mut socket, 4401).await;

    // Disabled while connected (the token itself still unexpired).
    let mut socket = connect(&zone, &zone.anchor_lead.token).await;
    assert_eq!(ask(&mut socket, "1", ME, json!({})).await["data"]["me"]["role"], "ANCHOR_LEAD");
    user::Entity::update_many()
        .col_expr(user::Column::Disabled, Expr::value(true))
        .filter(user::Column::Id.eq(zone.anchor_lead.id.clone()))
        .exec(&zone.app.db)
        .await
        .expect("disable the account");
    let payload = json!({ "query": CHILD, "variables": { "id": zone.child_a1 } });
    send_json(&mut socket, json!({ "id": "2", "type": "subscribe", "payload": payload })).await;
    expect_closed(&mut socket, 4401).await;
}

/// Changes `who`'s membership with `change` (straight in the database, as an
/// administrator's tool would).
async fn change_membership(zone: &Zone, who: &Account, column: backbone::store::membership::Column, value: Value) {
    use backbone::store::membership;
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let value = match value {
        Value::Bool(b) => Expr::value(b),
        Value::String(s) => Expr::value(s),
        other => panic!("not a membership value: {other}"),
    };
    membership::Entity::update_many()
        .col_expr(column, value)
        .filter(membership::Column::UserId.eq(who.id.clone()))
        .exec(&zone.app.db)
        .await
        .expect("change the membership");
}

#[tokio::test]
async fn a_member_moved_to_another_organisation_is_closed_with_4403() {
    use backbone::store::membership::Column;
    let zone = Zone::new().await;
    let (to_old, to_new) = referred_to_both_partners(&zone).await;

    // Partner 1's worker, subscribed to their inbox, is moved to partner 2.
    let mut socket = connect(&zone, &zone.partner_worker.token).await;
    subscribe(&mut socket, "1", INBOX).await;
    change_membership(&zone, &zone.partner_worker, Column::OrganisationId, json!(zone.partner_2)).await;
    // Neither the old organisation's event nor the new one's reaches the old connection.
    for r in [&to_old, &to_new] {
        mutate(&zone, &zone.link_worker, SEND, json!({ "r": r }), "sendReferral").await;
    }
    expect_closed(&mut socket, 4403).await;

    // A query on a connection opened before the move is not answered either.
    let mut socket = connect(&zone, &zone.link_worker_b.token).await;
    assert_eq!(ask(&mut socket, "1", ME, json!({})).await["data"]["me"]["role"], "LINK_WORKER");
    change_membership(&zone, &zone.link_worker_b, Column::OrganisationId, json!(zone.anchor_a)).await;
    let payload = json!({ "query": CHILD, "variables": { "id": zone.child_b1 } });
    send_json(&mut socket, json!({ "id": "2", "type": "subscribe", "payload": payload })).await;
    expect_closed(&mut socket, 4403).await;

    // Moved back, a new connection works: the refusal was the change, not the account.
    change_membership(&zone, &zone.link_worker_b, Column::OrganisationId, json!(zone.anchor_b)).await;
    let mut socket = connect(&zone, &zone.link_worker_b.token).await;
    let answer = ask(&mut socket, "1", CHILD, json!({ "id": zone.child_b1 })).await;
    assert_eq!(answer["data"]["child"]["firstName"], "Cal", "{answer}");

    // A role or designated-lead change is a change of standing too.
    let changes = [
        (&zone.anchor_lead, Column::Role, json!("link_worker")),
        (&zone.link_worker_2, Column::DesignatedSafeguardingLead, json!(true)),
    ];
    for (who, column, value) in changes {
        let mut socket = connect(&zone, &who.token).await;
        assert!(ask(&mut socket, "1", ME, json!({})).await.get("errors").is_none());
        change_membership(&zone, who, column, value).await;
        send_json(&mut socket, json!({ "id": "2", "type": "subscribe", "payload": { "query": ME } })).await;
        expect_closed(&mut socket, 4403).await;
    }
}

#[tokio::test]
async fn an_unchanged_caller_keeps_their_connection() {
    let zone = Zone::new().await;
    let (first, second) = referred_twice_to_partner_1(&zone).await;

    let mut socket = connect(&zone, &zone.partner_worker.token).await;
    assert_eq!(ask(&mut socket, "q1", ME, json!({})).await["data"]["me"]["role"], "PARTNER_WORKER");
    subscribe(&mut socket, "1", INBOX).await;
    for (n, r) in [&first, &second].into_iter().enumerate() {
        mutate(&zone, &zone.link_worker, SEND, json!({ "r": r }), "sendReferral").await;
        let event = next_event(&mut socket, "1", "referralInbox").await;
        assert_eq!((&event["kind"], &event["referralId"]), (&json!("SENT"), &json!(r)), "{event}");
        assert_eq!(event["referral"]["child"]["firstName"], "Ada", "{event}");
        // Between events, queries on the same connection are answered.
        let id = format!("q{}", n + 2);
        let inbox = ask(&mut socket, &id, NEEDS, json!({})).await;
        assert!(inbox.get("errors").is_none(), "{inbox}");
        let edges = inbox["data"]["referralsInbox"]["edges"].as_array().map(Vec::len);
        assert_eq!(edges, Some(n + 1), "{inbox}");
    }
}
