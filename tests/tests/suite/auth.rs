//! Authentication: login, bearer tokens, expiry, logout, demo accounts.

use backbone::auth::Actor;
use backbone::domain::{Role, accounts};
use backbone::startup::StartOptions;
use backbone_tests::*;
use serde_json::{Value, json};

#[tokio::test]
async fn login_me_and_logout() {
    let zone = Zone::new().await;
    let me = zone.as_(&zone.link_worker, "{ me { email role organisation { name kind } } }", json!({})).await;
    assert_ok(&me);
    assert_eq!(me["data"]["me"]["role"], "LINK_WORKER");
    assert_eq!(me["data"]["me"]["organisation"]["name"], "Test Primary");
    assert_eq!(me["data"]["me"]["organisation"]["kind"], "ANCHOR");

    let out = zone.as_(&zone.link_worker, "mutation { logout }", json!({})).await;
    assert_eq!(out["data"]["logout"], true);
    let after = zone.as_(&zone.link_worker, "{ me { email } }", json!({})).await;
    assert_eq!(error_code(&after), Some("UNAUTHENTICATED"), "{after}");
}

#[tokio::test]
async fn wrong_password_unknown_email_and_missing_token_are_unauthenticated() {
    let zone = Zone::new().await;
    let q = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }";
    let wrong = zone.app.graphql(None, q, json!({"e": "lw@test.zone", "p": "nope-nope-nope"})).await;
    assert_eq!(error_code(&wrong), Some("UNAUTHENTICATED"));
    // An email no account can have (a NUL, which PostgreSQL cannot even compare) is unknown.
    for e in ["lw\u{0}@test.zone", "lw@test.zone\u{7}"] {
        let odd = zone.app.graphql(None, q, json!({"e": e, "p": PASSWORD})).await;
        assert_eq!(error_code(&odd), Some("UNAUTHENTICATED"), "{odd}");
    }
    let unknown = zone.app.graphql(None, q, json!({"e": "nobody@test.zone", "p": PASSWORD})).await;
    assert_eq!(error_code(&unknown), Some("UNAUTHENTICATED"));
    assert_eq!(wrong["errors"][0]["message"], unknown["errors"][0]["message"], "no hint which was wrong");

    let anon = zone.app.graphql(None, "{ me { email } }", json!({})).await;
    assert_eq!(error_code(&anon), Some("UNAUTHENTICATED"));
    let anon_child =
        zone.app.graphql(None, "query($id: ID!) { child(id: $id) { id } }", json!({"id": zone.child_a1})).await;
    assert_eq!(error_code(&anon_child), Some("UNAUTHENTICATED"));
    let bogus = zone.app.graphql(Some("bb_not-a-token"), "{ me { email } }", json!({})).await;
    assert_eq!(error_code(&bogus), Some("UNAUTHENTICATED"));
}

#[tokio::test]
async fn tokens_expire() {
    // A zero-minute lifetime: the token is already expired when first used.
    let app = TestApp::spawn_with(|s| s.auth.token_ttl_minutes = 0, StartOptions::default()).await;
    let zone = Zone::from_app(app).await;
    let me = zone.as_(&zone.admin, "{ me { email } }", json!({})).await;
    assert_eq!(error_code(&me), Some("UNAUTHENTICATED"), "{me}");
}

#[tokio::test]
async fn demo_accounts_cannot_log_in_outside_demo_mode() {
    let zone = Zone::new().await;
    let input = accounts::NewAccount {
        email: "linkworker@demo.zone".into(),
        display_name: "Demo Worker".into(),
        password: "demo".into(),
        organisation_id: zone.anchor_a.clone(),
        role: Role::LinkWorker,
        designated_safeguarding_lead: false,
        is_demo: true,
    };
    accounts::create_account(&zone.app.db, &Actor::system(), input).await.expect("demo account");
    let q = "mutation { login(email: \"linkworker@demo.zone\", password: \"demo\") { token } }";
    let body = zone.app.graphql(None, q, json!({})).await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
}

#[tokio::test]
async fn demo_mode_seeds_the_zone_and_every_demo_account_logs_in() {
    let app = TestApp::spawn_with(|_| {}, StartOptions { demo: true, ..Default::default() }).await;
    let expected = [
        ("linkworker@demo.zone", "LINK_WORKER"),
        ("anchorlead@demo.zone", "ANCHOR_LEAD"),
        ("partner@demo.zone", "PARTNER_WORKER"),
        ("partnerlead@demo.zone", "PARTNER_LEAD"),
        ("funder@demo.zone", "FUNDER"),
        ("analyst@demo.zone", "BACKBONE_ANALYST"),
        ("admin@demo.zone", "BACKBONE_ADMIN"),
    ];
    for (email, role) in expected {
        let token = app.login(email, "demo").await;
        let me = app.graphql(Some(&token), "{ me { role } }", json!({})).await;
        assert_eq!(me["data"]["me"]["role"], role, "{email}");
    }
    let admin = app.login("admin@demo.zone", "demo").await;
    let mut seen = 0;
    let mut after: Option<String> = None;
    loop {
        let page = app
            .graphql(
                Some(&admin),
                "query($a: String) { children(first: 100, after: $a) { edges { node { id } } pageInfo { hasNextPage endCursor } } }",
                json!({ "a": after }),
            )
            .await;
        assert_ok(&page);
        seen += page["data"]["children"]["edges"].as_array().map(Vec::len).unwrap_or(0);
        if page["data"]["children"]["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["data"]["children"]["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(seen, 200);
    // Each demo account with casework has a worklist with each kind the demo's record
    // makes (a review falling due within the window depends on the day it is seeded; a
    // lawful basis is reviewed a year after it was recorded, so not in a demo seeded today).
    for (email, kinds) in [
        (
            "linkworker@demo.zone",
            &["REVIEW_OVERDUE", "CONSENT_REVIEW", "REFERRAL_UNANSWERED", "ATTENDANCE_DROPPING", "NO_RECENT_CONTACT"][..],
        ),
        ("partner@demo.zone", &["REFERRAL_AWAITING_ANSWER", "REGISTER_DUE"][..]),
    ] {
        let token = app.login(email, "demo").await;
        let body = app.graphql(Some(&token), "{ worklist(first: 100) { edges { node { kind } } } }", json!({})).await;
        assert_ok(&body);
        let found: Vec<&str> = body["data"]["worklist"]["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .filter_map(|e| e["node"]["kind"].as_str())
            .collect();
        for kind in kinds {
            assert!(found.contains(kind), "{email}: {kind} in {found:?}");
        }
    }
    // GraphiQL's own schema query (deeply nested type references) passes the limits.
    let type_ref = "kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }";
    let introspection = format!(
        "query IntrospectionQuery {{ __schema {{ queryType {{ name }} mutationType {{ name }} types {{ ...FullType }} directives {{ name locations args {{ ...InputValue }} }} }} }} \
         fragment FullType on __Type {{ kind name description fields(includeDeprecated: true) {{ name args {{ ...InputValue }} type {{ ...TypeRef }} isDeprecated }} \
         inputFields {{ ...InputValue }} interfaces {{ ...TypeRef }} enumValues(includeDeprecated: true) {{ name }} possibleTypes {{ ...TypeRef }} }} \
         fragment InputValue on __InputValue {{ name type {{ ...TypeRef }} defaultValue }} \
         fragment TypeRef on __Type {{ {type_ref} }}"
    );
    let schema = app.graphql(Some(&admin), &introspection, json!({})).await;
    assert_ok(&schema);
    assert_eq!(schema["data"]["__schema"]["queryType"]["name"], "Query");

    // GraphiQL is served, from the binary, in demo mode, at /graphiql (the console is at /).
    let page = app.http.get(app.url("/graphiql")).send().await.expect("GraphiQL");
    assert_eq!(page.status(), 200);
    let console = app.http.get(app.url("/sign-in")).send().await.expect("console");
    assert!(console.text().await.unwrap_or_default().contains("Demo mode"), "the sign-in page says how to sign in");
}

#[tokio::test]
async fn demo_mode_refuses_a_non_loopback_address() {
    let dir = tempfile::tempdir().expect("dir");
    let mut settings = test_settings(&fresh_database(&dir).await);
    settings.server.bind = "0.0.0.0:0".parse().expect("addr");
    let built =
        backbone::startup::Application::build(settings, StartOptions { demo: true, ..Default::default() }).await;
    let err = built.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("loopback"), "{err}");
}

const LOGIN: &str = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }";

/// A login over HTTP, with optional extra headers: the status, `Retry-After` and body.
async fn try_login(
    app: &TestApp,
    email: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> (u16, Option<u64>, Value) {
    let mut req =
        app.http.post(app.url("/graphql")).json(&json!({ "query": LOGIN, "variables": { "e": email, "p": password } }));
    if let Some(xff) = forwarded_for {
        req = req.header("x-forwarded-for", xff);
    }
    let resp = req.send().await.expect("sent");
    let status = resp.status().as_u16();
    let retry = resp.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    (status, retry, resp.json().await.expect("JSON body"))
}

/// The `auth.lockout` audit events: (actor role, child, fields).
async fn lockouts(app: &TestApp) -> Vec<(String, Option<String>, String)> {
    use backbone::store::audit_event;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("auth.lockout"))
        .order_by_asc(audit_event::Column::Id)
        .all(&app.db)
        .await
        .expect("audit events")
        .into_iter()
        .map(|e| (e.actor_role, e.child_id, e.fields))
        .collect()
}

fn assert_throttled(answer: &(u16, Option<u64>, Value), what: &str) {
    let (status, retry, body) = answer;
    assert_eq!(*status, 429, "{what}: {body}");
    assert!(retry.is_some_and(|s| s >= 1), "{what}: Retry-After missing: {body}");
    assert_eq!(error_code(body), Some("TOO_MANY_REQUESTS"), "{what}: {body}");
    assert_eq!(body["errors"][0]["extensions"]["retryAfter"].as_u64(), *retry, "{what}: {body}");
    assert!(body["data"].is_null() || body["data"]["login"].is_null(), "{what}: a token was issued: {body}");
}

#[tokio::test]
async fn guessing_locks_the_account_even_against_the_right_password_and_is_audited() {
    let app = TestApp::spawn_with(
        |s| {
            s.auth.max_failures_per_account = 3;
            s.auth.lockout_secs = 2;
            s.auth.max_lockout_secs = 4;
        },
        StartOptions::default(),
    )
    .await;
    let zone = Zone::from_app(app).await;
    let app = &zone.app;
    let lw = zone.link_worker.email.as_str();

    // Two wrong passwords are refused as usual; the third locks the account.
    for _ in 0..2 {
        let (status, _, body) = try_login(app, lw, "wrong-password", None).await;
        assert_eq!((status, error_code(&body)), (200, Some("UNAUTHENTICATED")), "{body}");
    }
    let third = try_login(app, lw, "wrong-password", None).await;
    assert_throttled(&third, "the third failure");
    // The right password is refused during the lockout.
    let right = try_login(app, lw, PASSWORD, None).await;
    assert_throttled(&right, "the right password during the lockout");
    // Another account from the same address is not locked.
    let (status, _, other) = try_login(app, &zone.link_worker_2.email, PASSWORD, None).await;
    assert_eq!(status, 200, "{other}");
    assert!(other["data"]["login"]["token"].is_string(), "{other}");

    // An email no account has is locked just the same, with the same words: a lockout
    // does not tell a guesser which emails exist.
    for _ in 0..2 {
        try_login(app, "nobody@test.zone", "wrong-password", None).await;
    }
    let unknown = try_login(app, "nobody@test.zone", "wrong-password", None).await;
    assert_throttled(&unknown, "an unknown email");
    assert_eq!(unknown.2["errors"][0]["message"], third.2["errors"][0]["message"], "the same refusal");

    // Each lockout is one audit event, about no child, and the chain is intact.
    let events = lockouts(app).await;
    assert_eq!(events.len(), 2, "{events:?}");
    for (role, child, fields) in &events {
        assert_eq!((role.as_str(), child, fields.as_str()), ("system", &None, "[\"account\"]"), "{events:?}");
    }
    let verdict = backbone::audit::verify(&app.db, &app.audit, |_, _| {}).await.expect("verify");
    assert!(matches!(verdict, backbone::audit::Verdict::Intact { .. }), "{verdict:?}");

    // Once the lockout has passed, the right password works again.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let (status, _, body) = try_login(app, lw, PASSWORD, None).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["login"]["token"].is_string(), "{body}");
}

#[tokio::test]
async fn a_successful_login_forgets_the_accounts_failures() {
    let app = TestApp::spawn_with(|s| s.auth.max_failures_per_account = 3, StartOptions::default()).await;
    let zone = Zone::from_app(app).await;
    let (app, lw) = (&zone.app, zone.link_worker.email.as_str());
    for _ in 0..2 {
        try_login(app, lw, "wrong-password", None).await;
    }
    let (status, _, body) = try_login(app, lw, PASSWORD, None).await;
    assert_eq!(status, 200, "{body}");
    // Two more failures: four in all, but only two since the success — not locked.
    for _ in 0..2 {
        let (status, _, body) = try_login(app, lw, "wrong-password", None).await;
        assert_eq!((status, error_code(&body)), (200, Some("UNAUTHENTICATED")), "{body}");
    }
    // The third since the success locks.
    assert_throttled(&try_login(app, lw, "wrong-password", None).await, "the third failure since");
}

#[tokio::test]
async fn counts_are_deleted_once_their_window_has_passed() {
    use backbone::store::login_throttle;
    use sea_orm::{EntityTrait, PaginatorTrait};
    let app = TestApp::spawn_with(|s| s.auth.failure_window_secs = 1, StartOptions::default()).await;
    try_login(&app, "first@test.zone", "wrong", None).await;
    // One row for the email, one for the address.
    assert_eq!(login_throttle::Entity::find().count(&app.db).await.expect("count"), 2);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    try_login(&app, "second@test.zone", "wrong", None).await;
    let rows = login_throttle::Entity::find().all(&app.db).await.expect("rows");
    assert_eq!(rows.len(), 2, "the first email's count is gone, the address's restarted: {rows:?}");
    assert!(rows.iter().all(|r| r.failures == 1), "{rows:?}");
}

#[tokio::test]
async fn guessing_from_one_address_locks_that_address_and_forwarded_for_is_only_believed_from_a_trusted_proxy() {
    // Without trusted proxies, X-Forwarded-For is ignored: every guess counts against the
    // socket's peer (127.0.0.1), whatever the header claims.
    let app = TestApp::spawn_with(|s| s.auth.max_failures_per_address = 4, StartOptions::default()).await;
    let zone = Zone::from_app(app).await;
    let app = &zone.app;
    for n in 0..3 {
        let xff = format!("203.0.113.{n}");
        let (status, _, body) = try_login(app, &format!("guess{n}@test.zone"), "wrong", Some(&xff)).await;
        assert_eq!((status, error_code(&body)), (200, Some("UNAUTHENTICATED")), "{body}");
    }
    assert_throttled(&try_login(app, "guess3@test.zone", "wrong", Some("203.0.113.3")).await, "the fourth guess");
    // Every account is now refused from that address, the right password included.
    let blocked = try_login(app, &zone.admin.email, PASSWORD, Some("198.51.100.1")).await;
    assert_throttled(&blocked, "another account from the locked address");
    let events = lockouts(app).await;
    assert_eq!(events.iter().map(|e| e.2.as_str()).collect::<Vec<_>>(), ["[\"address\"]"], "{events:?}");

    // Behind a trusted proxy (here, loopback), the client it names is the one counted.
    let app = TestApp::spawn_with(
        |s| {
            s.auth.max_failures_per_address = 2;
            s.auth.trusted_proxies = vec!["127.0.0.1".parse().expect("ip")];
        },
        StartOptions::default(),
    )
    .await;
    let zone = Zone::from_app(app).await;
    let app = &zone.app;
    try_login(app, "guess@test.zone", "wrong", Some("203.0.113.9")).await;
    // A client cannot pass for another by writing its own header before the proxy's.
    let spoofed = try_login(app, "guess@test.zone", "wrong", Some("192.0.2.1, 203.0.113.9")).await;
    assert_throttled(&spoofed, "the second guess from 203.0.113.9");
    assert_throttled(&try_login(app, &zone.admin.email, PASSWORD, Some("203.0.113.9")).await, "locked client");
    let (status, _, body) = try_login(app, &zone.admin.email, PASSWORD, Some("203.0.113.10")).await;
    assert_eq!(status, 200, "another client behind the same proxy is not locked: {body}");
    assert!(body["data"]["login"]["token"].is_string(), "{body}");
}

#[tokio::test]
async fn a_token_over_its_rate_is_refused_with_429() {
    let app = TestApp::spawn_with(|s| s.auth.requests_per_minute = 5, StartOptions::default()).await;
    let zone = Zone::from_app(app).await;
    let app = &zone.app;
    let me = |token: String| {
        let req = app.http.post(app.url("/graphql")).bearer_auth(token).json(&json!({ "query": "{ me { role } }" }));
        async move {
            let resp = req.send().await.expect("sent");
            let status = resp.status().as_u16();
            let retry = resp.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
            (status, retry, resp.json::<Value>().await.expect("JSON"))
        }
    };
    // The zone's own login used none of this token's allowance.
    for n in 0..5 {
        let (status, _, body) = me(zone.funder.token.clone()).await;
        assert_eq!(status, 200, "request {n}: {body}");
        assert_eq!(body["data"]["me"]["role"], "FUNDER", "{body}");
    }
    let (status, retry, body) = me(zone.funder.token.clone()).await;
    assert_eq!(status, 429, "{body}");
    assert!(retry.as_deref().and_then(|r| r.parse::<u64>().ok()).is_some_and(|s| s >= 1), "{retry:?}");
    assert_eq!(error_code(&body), Some("TOO_MANY_REQUESTS"), "{body}");
    assert!(body["errors"][0]["extensions"]["requestId"].is_string(), "{body}");
    assert!(body["data"].is_null(), "{body}");
    // Another token has its own allowance.
    let (status, _, body) = me(zone.analyst.token.clone()).await;
    assert_eq!((status, &body["data"]["me"]["role"]), (200, &json!("BACKBONE_ANALYST")), "{body}");
}

#[tokio::test]
async fn a_tokens_allowance_is_shared_by_every_process_on_one_postgres_database() {
    use backbone::http::RateLimiter;
    let zone = Zone::new().await;
    let db = &zone.app.db;
    let postgres = db.get_database_backend() == sea_orm::DbBackend::Postgres;
    // Two limiters over one database stand for two processes.
    let (a, b) = (RateLimiter::new(4, Some(db)), RateLimiter::new(4, Some(db)));
    let token = zone.funder.token.as_str();
    for (n, limiter) in [&a, &b, &a, &b].into_iter().enumerate() {
        assert!(limiter.take(token).await.is_ok(), "request {n} is within the allowance");
    }
    let fifth = b.take(token).await;
    if postgres {
        assert!(
            matches!(fifth, Err(backbone::error::Error::TooManyRequests { retry_after_secs: 15.., .. })),
            "{fifth:?}"
        );
        assert!(a.take(token).await.is_err(), "refused on the other process too");
    } else {
        // SQLite: one process serves the file, and counts on its own.
        assert!(fifth.is_ok(), "{fifth:?}");
        assert!(b.take(token).await.is_ok(), "the fourth on one limiter");
        assert!(b.take(token).await.is_err(), "the fifth on one limiter is refused");
    }
    assert!(a.take(&zone.analyst.token).await.is_ok(), "another token has its own allowance");
}
