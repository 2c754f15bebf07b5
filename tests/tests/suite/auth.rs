//! Authentication: login, bearer tokens, expiry, logout, demo accounts.

use backbone::auth::Actor;
use backbone::domain::{Role, accounts};
use backbone::startup::StartOptions;
use backbone_tests::*;
use serde_json::json;

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

    // GraphiQL is served, from the binary, in demo mode.
    let page = app.http.get(app.url("/")).send().await.expect("GraphiQL");
    assert_eq!(page.status(), 200);
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
