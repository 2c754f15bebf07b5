//! Abuse limits, each a setting with a safe default: body size, depth, complexity,
//! aliases, batching, page size, introspection. Each is shown refusing and (where it
//! has one) allowing just inside the limit.

use backbone::startup::StartOptions;
use backbone_tests::*;
use serde_json::json;

#[tokio::test]
async fn an_oversized_body_is_refused_before_parsing() {
    let zone = Zone::new().await;
    let padding = " ".repeat(70 * 1024);
    let query = format!("{{ me {{ email }} {padding} }}");
    let resp = zone
        .app
        .http
        .post(zone.app.url("/graphql"))
        .bearer_auth(&zone.admin.token)
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 413);
    // Just under the limit is fine.
    let query = format!("{{ me {{ email }} {} }}", " ".repeat(60 * 1024));
    let body = zone.app.graphql(Some(&zone.admin.token), &query, json!({})).await;
    assert_ok(&body);
}

#[tokio::test]
async fn a_client_still_sending_an_oversized_body_reads_the_413_not_a_reset() {
    let app = TestApp::spawn().await;
    // Several sizes past the limit, as a client sends them (the whole body, then reads):
    // each gets its answer, on a kept-alive connection the next request can use.
    for kib in [70, 300, 1_000, 3_000, 300, 70, 1_000, 3_000] {
        let query = format!("{{ me {{ email }} {} }}", " ".repeat(kib * 1024));
        let resp = app.http.post(app.url("/graphql")).json(&json!({ "query": query })).send().await;
        let resp = resp.unwrap_or_else(|e| panic!("{kib} KiB: the connection was lost: {e:?}"));
        assert_eq!(resp.status(), 413, "{kib} KiB");
        // The unread rest leaves the connection unusable: the client is told so.
        assert_eq!(resp.headers().get("connection").and_then(|v| v.to_str().ok()), Some("close"));
        let body: serde_json::Value = resp.json().await.expect("a JSON answer");
        assert_eq!(error_code(&body), Some("BAD_REQUEST"), "{body}");
    }
    assert_ok(&app.graphql(None, "{ __typename }", json!({})).await);
}

#[tokio::test]
async fn depth_and_aliases_are_limited() {
    let zone = Zone::new().await;
    let t = Some(zone.admin.token.as_str());
    // Depth 11 (the limit is 10): the query is refused before it runs.
    let deep = "{ children { edges { node { consents { partners { id } } enrolment { linkWorker { organisation { id } } } } } } }";
    let ok = zone.app.graphql(t, deep, json!({})).await;
    assert_ok(&ok);
    let app = TestApp::spawn_with(|s| s.graphql.max_depth = 4, StartOptions::default()).await;
    let z2 = Zone::from_app(app).await;
    let refused = z2.app.graphql(Some(&z2.admin.token), deep, json!({})).await;
    assert_eq!(error_code(&refused), Some("BAD_REQUEST"), "{refused}");
    assert!(refused["data"].is_null());

    let aliases =
        |n: usize| format!("{{ {} }}", (0..n).map(|i| format!("a{i}: me {{ email }}")).collect::<Vec<_>>().join(" "));
    assert_ok(&zone.app.graphql(t, &aliases(15), json!({})).await);
    let body = zone.app.graphql(t, &aliases(16), json!({})).await;
    assert_eq!(error_code(&body), Some("BAD_REQUEST"), "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap_or("").contains("aliases"));
}

#[tokio::test]
async fn complexity_is_limited() {
    let app = TestApp::spawn_with(|s| s.graphql.max_complexity = 50, StartOptions::default()).await;
    let zone = Zone::from_app(app).await;
    let t = Some(zone.admin.token.as_str());
    // 100 children × several fields is far above 50; 2 children is below.
    let big = zone
        .app
        .graphql(t, "{ children(first: 100) { edges { node { id firstName lastName age } } } }", json!({}))
        .await;
    assert_eq!(error_code(&big), Some("BAD_REQUEST"), "{big}");
    let small = zone.app.graphql(t, "{ children(first: 2) { edges { node { id firstName } } } }", json!({})).await;
    assert_ok(&small);
}

#[tokio::test]
async fn batching_is_off_by_default_and_capped_when_on() {
    let zone = Zone::new().await;
    let batch = json!([{ "query": "{ me { email } }" }, { "query": "{ me { role } }" }]);
    let send = |app: &TestApp, token: &str| {
        app.http.post(app.url("/graphql")).bearer_auth(token.to_owned()).json(&batch).send()
    };
    let body: serde_json::Value = send(&zone.app, &zone.admin.token).await.expect("sent").json().await.expect("json");
    assert_eq!(error_code(&body), Some("BAD_REQUEST"), "{body}");

    let app = TestApp::spawn_with(|s| s.graphql.max_batch = 2, StartOptions::default()).await;
    let z2 = Zone::from_app(app).await;
    let body: serde_json::Value = send(&z2.app, &z2.admin.token).await.expect("sent").json().await.expect("json");
    assert_eq!(body.as_array().map(Vec::len), Some(2), "{body}");
    assert_eq!(body[1]["data"]["me"]["role"], "BACKBONE_ADMIN");
}

#[tokio::test]
async fn page_size_is_limited_and_pages_follow_cursors() {
    let zone = Zone::new().await;
    let t = Some(zone.admin.token.as_str());
    let q = "query($f: Int, $a: String) { children(first: $f, after: $a) { edges { node { id } } pageInfo { hasNextPage endCursor } } }";
    let too_many = zone.app.graphql(t, q, json!({"f": 101})).await;
    assert_eq!(error_code(&too_many), Some("INVALID_INPUT"));
    assert_eq!(error_field(&too_many), Some("first"));
    let zero = zone.app.graphql(t, q, json!({"f": 0})).await;
    assert_eq!(error_field(&zero), Some("first"));
    let bad_cursor = zone.app.graphql(t, q, json!({"f": 1, "a": "garbage"})).await;
    assert_eq!(error_field(&bad_cursor), Some("after"));

    let mut ids = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = zone.app.graphql(t, q, json!({"f": 2, "a": after})).await;
        assert_ok(&page);
        for e in page["data"]["children"]["edges"].as_array().cloned().unwrap_or_default() {
            ids.push(e["node"]["id"].as_str().unwrap_or_default().to_owned());
        }
        if page["data"]["children"]["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["data"]["children"]["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(ids, vec![zone.child_a1.clone(), zone.child_a2.clone(), zone.child_b1.clone()]);
}

#[tokio::test]
async fn introspection_is_off_outside_demo_mode_and_graphiql_not_served() {
    let zone = Zone::new().await;
    let body = zone.app.graphql(Some(&zone.admin.token), "{ __schema { queryType { name } } }", json!({})).await;
    assert!(body["data"]["__schema"].is_null(), "{body}");
    let page = zone.app.http.get(zone.app.url("/graphiql")).send().await.expect("sent");
    assert_eq!(page.status(), 404);
    let health = zone.app.http.get(zone.app.url("/healthz")).send().await.expect("sent");
    assert_eq!(health.status(), 200);
    let ready: serde_json::Value =
        zone.app.http.get(zone.app.url("/readyz")).send().await.expect("sent").json().await.expect("json");
    assert_eq!(ready["status"], "ready");
}

#[tokio::test]
async fn every_error_carries_a_code_and_request_id_and_malformed_queries_are_bad_requests() {
    let zone = Zone::new().await;
    let resp = zone
        .app
        .http
        .post(zone.app.url("/graphql"))
        .bearer_auth(&zone.admin.token)
        .json(&json!({"query": "{ me { nope } }"}))
        .send()
        .await
        .expect("sent");
    let header = resp.headers().get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(error_code(&body), Some("BAD_REQUEST"), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["requestId"].as_str().map(str::to_owned), header);
    let syntax = zone.app.graphql(Some(&zone.admin.token), "{ me { ", json!({})).await;
    assert_eq!(error_code(&syntax), Some("BAD_REQUEST"), "{syntax}");
}

#[tokio::test]
async fn a_stalled_request_is_cut_off_at_the_timeout() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // A client that announces a body and then stalls (slowloris) holds a connection only
    // until the request timeout.
    let app = TestApp::spawn_with(|s| s.server.request_timeout_secs = 1, StartOptions::default()).await;
    let mut stream = tokio::net::TcpStream::connect(app.address).await.expect("connect");
    let head = "POST /graphql HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"query\":";
    stream.write_all(head.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        let mut buf = [0u8; 1024];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    response.extend_from_slice(&buf[..n]);
                    if response.windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server never answered the stalled request");
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
}

#[tokio::test]
async fn only_json_posts_reach_graphql_and_unreadable_bodies_get_coded_errors() {
    let app = TestApp::spawn().await;
    // GET would put operations (and passwords) in URLs: not allowed.
    let get = app.http.get(app.url("/graphql?query=%7B__typename%7D")).send().await.expect("sent");
    assert_eq!(get.status(), 405);
    // Not JSON.
    let plain = app
        .http
        .post(app.url("/graphql"))
        .header("content-type", "text/plain")
        .body(r#"{"query":"{ __typename }"}"#)
        .send()
        .await
        .expect("sent");
    assert_eq!(plain.status(), 415);
    let body: serde_json::Value = plain.json().await.expect("json");
    assert_eq!(error_code(&body), Some("BAD_REQUEST"));
    // JSON content type, but not JSON.
    let garbage = app
        .http
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body("not json")
        .send()
        .await
        .expect("sent");
    assert_eq!(garbage.status(), 400);
    let body: serde_json::Value = garbage.json().await.expect("json");
    assert_eq!(error_code(&body), Some("BAD_REQUEST"), "{body}");
    assert!(body["errors"][0]["extensions"]["requestId"].is_string());
}

#[tokio::test]
async fn an_oversized_chunked_body_is_refused_as_too_large() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn().await;
    let mut stream = tokio::net::TcpStream::connect(app.address).await.expect("connect");
    let head = "POST /graphql HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n";
    stream.write_all(head.as_bytes()).await.expect("head");
    let chunk = format!("{{\"query\":\"{{ __typename }}\",\"pad\":\"{}\"}}", "x".repeat(70 * 1024));
    let _ = stream.write_all(format!("{:x}\r\n{chunk}\r\n0\r\n\r\n", chunk.len()).as_bytes()).await;
    let mut response = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(20), stream.read_to_end(&mut response)).await;
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
}

/// Posts a raw GraphQL body; the status and the JSON answer.
async fn post(app: &TestApp, token: Option<&str>, body: &serde_json::Value) -> (u16, serde_json::Value) {
    let mut req = app.http.post(app.url("/graphql")).json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("the service answered (it did not crash)");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or_default())
}

fn nested_list(n: usize) -> String {
    format!("{}\"x\"{}", "[".repeat(n), "]".repeat(n))
}

fn nested_object(n: usize) -> String {
    format!("{}1{}", "{a: ".repeat(n), "}".repeat(n))
}

fn nested_json(n: usize) -> serde_json::Value {
    let mut v = json!(1);
    for i in 0..n {
        v = if i % 2 == 0 { json!([v]) } else { json!({ "a": v }) };
    }
    v
}

/// Refused as a nesting refusal: HTTP 400, `BAD_REQUEST`, the request id, nothing run.
fn assert_nesting_refused(status: u16, body: &serde_json::Value) {
    assert_eq!(status, 400, "{body}");
    assert_eq!(error_code(body), Some("BAD_REQUEST"), "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap_or("").contains("nested more than 16 deep"), "{body}");
    assert!(body["errors"][0]["extensions"]["requestId"].is_string(), "{body}");
    assert!(body["data"].is_null(), "{body}");
}

#[tokio::test]
async fn values_nested_past_the_limit_are_refused_unparsed_and_the_service_serves_on() {
    let zone = Zone::new().await;
    let app = &zone.app;
    let admin = Some(zone.admin.token.as_str());
    let attacks = [
        // The reported attacks: no token needed.
        (None, json!({ "query": format!("{{ child(id: {}) {{ id }} }}", nested_list(2_000)) })),
        (None, json!({ "query": format!("{{ child(id: {}) {{ id }} }}", nested_object(3_000)) })),
        (None, json!({ "query": format!("query($v: ID = {}) {{ me {{ email }} }}", nested_object(3_000)) })),
        (admin, json!({ "query": format!("{{ me @include(if: {}) {{ email }} }}", nested_list(3_000)) })),
        (
            admin,
            json!({ "query": format!("query($v: {}ID{}) {{ me {{ email }} }}", "[".repeat(3_000), "]".repeat(3_000)) }),
        ),
        // Just past the limit, in an input object of a real mutation.
        (
            admin,
            json!({ "query": format!("mutation {{ identifyChild(input: {{firstName: {}}}) {{ id }} }}", nested_list(17)) }),
        ),
        // Variables: deep, but within what the JSON reader itself accepts.
        (admin, json!({ "query": "query($v: ID) { child(id: $v) { id } }", "variables": { "v": nested_json(100) } })),
    ];
    for (token, body) in &attacks {
        let (status, answer) = post(app, *token, body).await;
        assert_nesting_refused(status, &answer);
        let next = app.graphql(admin, "{ me { email } }", json!({})).await;
        assert_ok(&next);
    }
    // JSON nested past what the JSON reader accepts is refused as unreadable, also 400.
    // (Built as text: a `serde_json::Value` that deep would overflow the test's own stack.)
    let raw = format!(
        r#"{{"query":"{{ me {{ email }} }}","variables":{{"v":{}1{}}}}}"#,
        "[".repeat(3_000),
        "]".repeat(3_000)
    );
    let resp = app
        .http
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body(raw)
        .send()
        .await
        .expect("answered");
    assert_eq!(resp.status(), 400);
    assert_ok(&app.graphql(admin, "{ me { email } }", json!({})).await);
    // A batch with one deep operation is refused whole.
    let app2 = TestApp::spawn_with(|s| s.graphql.max_batch = 2, StartOptions::default()).await;
    let batch =
        json!([{ "query": "{ __typename }" }, { "query": format!("{{ child(id: {}) {{ id }} }}", nested_list(40)) }]);
    let (status, answer) = post(&app2, None, &batch).await;
    assert_nesting_refused(status, &answer);
}

#[tokio::test]
async fn a_value_at_exactly_the_limit_passes_the_check() {
    let zone = Zone::new().await;
    let admin = Some(zone.admin.token.as_str());
    // 16 deep passes the nesting check and reaches validation, which refuses the list as
    // an id: an ordinary GraphQL error (HTTP 200), not the nesting refusal.
    let at_limit = [
        json!({ "query": format!("{{ child(id: {}) {{ id }} }}", nested_list(16)) }),
        json!({ "query": format!("query($v: ID = {}) {{ me {{ email }} }}", nested_object(16)) }),
        json!({ "query": "query($v: ID) { me { email } }", "variables": { "v": nested_json(16) } }),
    ];
    for body in &at_limit {
        let (status, answer) = post(&zone.app, admin, body).await;
        assert_eq!(status, 200, "{answer}");
        let message = answer["errors"][0]["message"].as_str().unwrap_or("");
        assert!(!message.contains("nested more than"), "{answer}");
        // A caller's error about the value's type (naming the field where it can).
        assert!(matches!(error_code(&answer), Some("BAD_REQUEST" | "INVALID_INPUT")), "{answer}");
    }
    // And a lower limit is a setting.
    let app = TestApp::spawn_with(|s| s.graphql.max_value_depth = 2, StartOptions::default()).await;
    let (status, _) =
        post(&app, None, &json!({ "query": format!("{{ child(id: {}) {{ id }} }}", nested_list(3)) })).await;
    assert_eq!(status, 400);
    let (status, _) =
        post(&app, None, &json!({ "query": format!("{{ child(id: {}) {{ id }} }}", nested_list(2)) })).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn selection_sets_and_fragments_that_would_recurse_without_end_are_refused() {
    let zone = Zone::new().await;
    let admin = Some(zone.admin.token.as_str());
    // Selections 3,000 deep (introspection, which the data-field depth does not count).
    let deep = format!("{{ __schema {{ {}name{} }} }}", "types { ".repeat(3_000), " }".repeat(3_000));
    let (status, answer) = post(&zone.app, admin, &json!({ "query": deep })).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(error_code(&answer), Some("BAD_REQUEST"));
    // Fragments each spreading the next twice: 2^30 fields once expanded, refused at once.
    let mut q = "{ ...F0 }".to_owned();
    for i in 0..30 {
        q.push_str(&format!(" fragment F{i} on Query {{ ...F{} ...F{} }}", i + 1, i + 1));
    }
    q.push_str(" fragment F30 on Query { me { email } }");
    let started = std::time::Instant::now();
    let answer = zone.app.graphql(admin, &q, json!({})).await;
    assert_eq!(error_code(&answer), Some("BAD_REQUEST"), "{answer}");
    assert!(answer["errors"][0]["message"].as_str().unwrap_or("").contains("fragments expand"), "{answer}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    // A fragment cycle: refused by validation.
    let cycle = "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A me { email } }";
    assert_eq!(error_code(&zone.app.graphql(admin, cycle, json!({})).await), Some("BAD_REQUEST"));
    assert_ok(&zone.app.graphql(admin, "{ me { email } }", json!({})).await);
}

mod over_websocket {
    use super::*;
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::http::HeaderValue;

    /// The errors of the answer to operation `id` (from an `error` or a `next` message).
    async fn answer_to<S>(socket: &mut S, id: &str) -> serde_json::Value
    where
        S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
    {
        loop {
            let next = tokio::time::timeout(std::time::Duration::from_secs(10), socket.next())
                .await
                .expect("an answer in time");
            let text = match next {
                Some(Ok(Message::Text(t))) => t.to_string(),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => panic!("the connection ended instead: {other:?}"),
            };
            let message: serde_json::Value = serde_json::from_str(&text).expect("JSON");
            if message["id"] != id {
                continue;
            }
            match message["type"].as_str() {
                Some("error") => return json!({ "errors": message["payload"] }),
                Some("next") => return message["payload"].clone(),
                _ => continue,
            }
        }
    }

    #[tokio::test]
    async fn deep_values_are_refused_and_the_connection_and_service_serve_on() {
        let zone = Zone::new().await;
        let mut request = format!("ws://{}/graphql/ws", zone.app.address).into_client_request().expect("request");
        request.headers_mut().insert("sec-websocket-protocol", HeaderValue::from_static("graphql-transport-ws"));
        let (mut socket, _) = tokio_tungstenite::connect_async(request).await.expect("handshake");
        let send = |v: serde_json::Value| Message::text(v.to_string());
        let init = json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {}", zone.admin.token) } });
        socket.send(send(init)).await.expect("init");
        let ack = socket.next().await.expect("ack").expect("ack");
        assert!(ack.to_string().contains("connection_ack"), "{ack}");
        let attacks = [
            json!({ "query": format!("{{ child(id: {}) {{ id }} }}", nested_list(2_000)) }),
            json!({ "query": format!("query($v: ID = {}) {{ me {{ email }} }}", nested_object(3_000)) }),
            json!({ "query": format!("subscription {{ referralInbox(x: {}) {{ kind }} }}", nested_list(17)) }),
            json!({ "query": "query($v: ID) { child(id: $v) { id } }", "variables": { "v": nested_json(100) } }),
        ];
        for (i, payload) in attacks.iter().enumerate() {
            let id = format!("bad{i}");
            socket.send(send(json!({ "id": id, "type": "subscribe", "payload": payload }))).await.expect("sent");
            let answer = answer_to(&mut socket, &id).await;
            assert_eq!(error_code(&answer), Some("BAD_REQUEST"), "{answer}");
            assert!(answer["errors"][0]["message"].as_str().unwrap_or("").contains("nested more than"), "{answer}");
        }
        // At the limit: past the check (refused by validation, for another reason).
        let at = json!({ "query": format!("{{ child(id: {}) {{ id }} }}", nested_list(16)) });
        socket.send(send(json!({ "id": "at", "type": "subscribe", "payload": at }))).await.expect("sent");
        let answer = answer_to(&mut socket, "at").await;
        assert!(!answer["errors"][0]["message"].as_str().unwrap_or("").contains("nested more than"), "{answer}");
        // The same connection still answers, and so does the service.
        let me = json!({ "query": "{ me { email } }" });
        socket.send(send(json!({ "id": "ok", "type": "subscribe", "payload": me }))).await.expect("sent");
        let answer = answer_to(&mut socket, "ok").await;
        assert_eq!(answer["data"]["me"]["email"], zone.admin.email.as_str(), "{answer}");
        // A message over the body limit (64 KiB) ends the connection, not the service.
        let huge = json!({ "query": format!("{{ me {{ email }} }} {}", " ".repeat(70 * 1024)) });
        let _ = socket.send(send(json!({ "id": "huge", "type": "subscribe", "payload": huge }))).await;
        let ended = tokio::time::timeout(std::time::Duration::from_secs(10), async {
            loop {
                match socket.next().await {
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return true,
                    Some(Ok(Message::Text(t))) if t.contains("\"huge\"") => return false,
                    Some(Ok(_)) => continue,
                }
            }
        })
        .await;
        assert_eq!(ended, Ok(true), "the oversized message was answered instead of closing the connection");
        assert_ok(&zone.app.graphql(Some(&zone.admin.token), "{ me { email } }", json!({})).await);
    }
}

/// A link worker's caseload overview at the largest page: each child with their enrolment,
/// consents, referrals and assessments (as `docs/api.md` shows it under the limits).
pub const CASELOAD_OVERVIEW: &str = "query($first: Int) { caseload(first: $first) { edges { cursor node { \
     id firstName lastName yearGroup age \
     enrolment { status cohort linkWorker { id displayName } } \
     consents { id givenOn purposes withdrawn withdrawnOn partners { id name } } \
     supportPackage { open referrals { id status programme { id name } partner { name } engagement { attendanceRate lastAttended } } } \
     assessments { id area measure level atRisk stage assessedOn } \
     progress { area measure latestLevel latestOn change trend } \
     } } pageInfo { hasNextPage endCursor } } }";

#[tokio::test]
async fn the_caseload_overview_of_a_full_page_passes_the_default_limit() {
    let zone = Zone::new().await;
    let body = zone.as_(&zone.link_worker, CASELOAD_OVERVIEW, json!({ "first": 100 })).await;
    assert_ok(&body);
    assert!(!body["data"]["caseload"]["edges"].as_array().expect("edges").is_empty());
}

#[tokio::test]
async fn a_costly_query_is_refused_with_its_cost_the_limit_and_what_to_lower() {
    let app = TestApp::spawn_with(|s| s.graphql.max_complexity = 500, StartOptions::default()).await;
    let zone = Zone::from_app(app).await;
    let body = zone.as_(&zone.link_worker, CASELOAD_OVERVIEW, json!({ "first": 100 })).await;
    assert_eq!(error_code(&body), Some("BAD_REQUEST"), "{body}");
    let ext = &body["errors"][0]["extensions"];
    let cost = ext["cost"].as_u64().expect("cost");
    assert!(cost > 500, "{body}");
    assert_eq!(ext["limit"], 500);
    let message = body["errors"][0]["message"].as_str().expect("message");
    assert!(message.contains(&format!("cost {cost}")) && message.contains("limit of 500"), "{message}");
    // The advice names the list and a page size that fits; that page size passes.
    let advice = ext["advice"].as_str().expect("advice");
    let fits: u64 = advice
        .split("caseload(first: ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a page size in {advice:?}"));
    assert!((1..100).contains(&fits), "{advice}");
    assert_ok(&zone.as_(&zone.link_worker, CASELOAD_OVERVIEW, json!({ "first": fits })).await);
    // Without a page size given (a list is 20 by default), the advice says what to do.
    let app = TestApp::spawn_with(|s| s.graphql.max_complexity = 50, StartOptions::default()).await;
    let zone = Zone::from_app(app).await;
    let body = zone.as_(&zone.admin, "{ children { edges { node { id firstName lastName } } } }", json!({})).await;
    assert_eq!(error_code(&body), Some("BAD_REQUEST"), "{body}");
    let advice = body["errors"][0]["extensions"]["advice"].as_str().expect("advice");
    assert!(advice.contains("fewer fields") && advice.contains("20 when not given"), "{body}");
}
