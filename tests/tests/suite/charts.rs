//! Charts over HTTP (`GET /charts/…`): drawn from the same protected figures as the
//! `metrics` query — suppressed cells as `c` for funders, exact numbers for the backbone
//! team — with the bearer token as for `/graphql`, coded JSON refusals, and no caching.

use backbone::auth::Actor;
use backbone::domain::metrics;
use backbone::domain::outcomes::{self, DEFAULT_FRAMEWORK};
use backbone_tests::*;
use serde_json::{Value, json};

/// The zone's three children plus eleven more at anchor A (14 identified), one of them
/// consented and enrolled (a stage of 1: suppressed for funders), refreshed.
async fn zone() -> Zone {
    let zone = Zone::new().await;
    for n in 0..11 {
        let name = format!("Extra{}", char::from(b'a' + n));
        zone.add_child(&name, &zone.anchor_a, &zone.link_worker.id).await;
    }
    zone.ready_for_referral(&zone.child_a1, &[&zone.partner_1]).await;
    metrics::refresh(&zone.app.db, None).await.expect("refresh");
    zone
}

/// `GET path` with an optional bearer token: status, content type, cache-control, body.
async fn get(zone: &Zone, token: Option<&str>, path: &str) -> (u16, String, String, Vec<u8>) {
    let mut req = zone.app.http.get(zone.app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("request sent");
    let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let (status, content_type, cache) = (resp.status().as_u16(), header("content-type"), header("cache-control"));
    let body = resp.bytes().await.expect("body").to_vec();
    (status, content_type, cache, body)
}

async fn svg(zone: &Zone, who: &Account, path: &str) -> String {
    let (status, content_type, cache, body) = get(zone, Some(&who.token), path).await;
    let text = String::from_utf8(body).expect("UTF-8");
    assert_eq!(status, 200, "{path}: {text}");
    assert_eq!(content_type, "image/svg+xml");
    assert_eq!(cache, "no-store");
    assert!(text.starts_with("<svg ") && text.trim_end().ends_with("</svg>"), "{text}");
    text
}

/// A refusal: the status and a JSON body whose first error has `code` (and `field`).
async fn refused(zone: &Zone, token: Option<&str>, path: &str, status: u16, code: &str, field: Option<&str>) {
    let (got, content_type, _, body) = get(zone, token, path).await;
    let body: Value = serde_json::from_slice(&body).expect("a JSON body");
    assert_eq!(got, status, "{path}: {body}");
    assert!(content_type.starts_with("application/json"), "{content_type}");
    assert_eq!(error_code(&body), Some(code), "{path}: {body}");
    assert!(body["errors"][0]["extensions"]["requestId"].is_string(), "{body}");
    if let Some(field) = field {
        assert_eq!(error_field(&body), Some(field), "{path}: {body}");
    }
}

#[tokio::test]
async fn funders_see_suppressed_cells_as_c_and_analysts_exact_numbers() {
    let zone = zone().await;
    let shown = svg(&zone, &zone.funder, "/charts/funnel.svg").await;
    // 14 identified, rounded to 15; the 1 consented and enrolled child is suppressed.
    assert!(shown.contains(">15</text>"), "{shown}");
    assert!(shown.contains(">c</text>"), "{shown}");
    assert!(shown.contains("enrolled: c (suppressed)"), "{shown}");
    assert!(!shown.contains(">14</text>") && !shown.contains(">1</text>"), "{shown}");
    assert!(shown.contains("Counts under 10 suppressed (c); others rounded to 5"), "{shown}");

    let exact = svg(&zone, &zone.analyst, "/charts/funnel.svg").await;
    assert!(exact.contains(">14</text>") && exact.contains(">1</text>"), "{exact}");
    assert!(exact.contains("enrolled: 1"), "{exact}");
    assert!(!exact.contains(">c</text>") && !exact.contains("suppressed (c)"), "{exact}");

    // The same figures as the GraphQL query gives the funder.
    let q = "{ metrics { total { funnel { identified { value } enrolled { value suppressed } } } } }";
    let body = zone.as_(&zone.funder, q, json!({})).await;
    assert_eq!(body["data"]["metrics"]["total"]["funnel"]["identified"]["value"], 15, "{body}");
    assert_eq!(body["data"]["metrics"]["total"]["funnel"]["enrolled"]["suppressed"], true, "{body}");

    // Filters map to the metrics filter: anchor B alone has one child, suppressed.
    let b = svg(&zone, &zone.funder, &format!("/charts/funnel.svg?anchorId={}&period=", zone.anchor_b)).await;
    assert!(b.contains("identified: c (suppressed)") && b.contains("anchor: Test Secondary"), "{b}");

    // Levels, from the outcomes recorded: one child at level 1 then 4 in wellbeing.
    outcomes::load(&zone.app.db, &Actor::system(), DEFAULT_FRAMEWORK).await.expect("framework");
    let record = "mutation($i: RecordAssessmentInput!) { recordAssessment(input: $i) { level } }";
    for (value, stage, on) in [(30, "BASELINE", "2025-09-15"), (50, "REVIEW", "2025-12-15")] {
        let vars = json!({ "i": { "childId": zone.child_a1, "measure": "wellbeing_total", "value": value, "stage": stage, "assessedOn": on } });
        assert_ok(&zone.as_(&zone.admin, record, vars).await);
    }
    metrics::refresh(&zone.app.db, None).await.expect("refresh");
    let path = "/charts/levels.svg?area=emotional_wellbeing&period=2025-26";
    let exact = svg(&zone, &zone.analyst, path).await;
    assert!(
        exact.contains("level 1: baseline 1, latest 0") && exact.contains("level 4: baseline 0, latest 1"),
        "{exact}"
    );
    assert!(exact.contains("Emotional and mental wellbeing"), "{exact}");
    let shown = svg(&zone, &zone.funder, path).await;
    assert!(shown.contains("level 1: baseline c (suppressed), latest 0"), "{shown}");

    let months = svg(&zone, &zone.funder, "/charts/attendance.svg?period=2025-26").await;
    assert!(months.contains("No attendance recorded"), "{months}");
}

#[tokio::test]
async fn png_charts_and_refusals() {
    let zone = Zone::new().await;
    metrics::refresh(&zone.app.db, None).await.expect("refresh");
    for path in ["/charts/funnel.png", "/charts/levels.png?area=relationships", "/charts/attendance.png"] {
        let (status, content_type, cache, body) = get(&zone, Some(&zone.funder.token), path).await;
        assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
        assert_eq!((content_type.as_str(), cache.as_str()), ("image/png", "no-store"));
        assert_eq!(&body[..8], b"\x89PNG\r\n\x1a\n", "{path}");
    }

    refused(&zone, None, "/charts/funnel.svg", 401, "UNAUTHENTICATED", None).await;
    refused(&zone, Some("not-a-token"), "/charts/funnel.png", 401, "UNAUTHENTICATED", None).await;
    refused(&zone, Some(&zone.link_worker.token), "/charts/funnel.svg", 403, "FORBIDDEN", None).await;
    refused(&zone, Some(&zone.partner_lead.token), "/charts/attendance.png", 403, "FORBIDDEN", None).await;
    let funder = Some(zone.funder.token.as_str());
    refused(&zone, funder, "/charts/levels.svg?area=happiness", 400, "INVALID_INPUT", Some("area")).await;
    refused(&zone, funder, "/charts/levels.svg", 400, "INVALID_INPUT", Some("area")).await;
    refused(&zone, funder, "/charts/funnel.svg?period=last%20month", 400, "INVALID_INPUT", Some("period")).await;
    refused(&zone, funder, "/charts/funnel.svg?yearGroup=14", 400, "INVALID_INPUT", Some("yearGroup")).await;
    refused(&zone, funder, "/charts/funnel.svg?anchor=x", 400, "INVALID_INPUT", Some("anchor")).await;
    let two = format!("/charts/funnel.svg?anchorId={}&yearGroup=5", zone.anchor_a);
    refused(&zone, funder, &two, 400, "INVALID_INPUT", Some("filter")).await;
    refused(&zone, funder, "/charts/pie.svg", 404, "NOT_FOUND", None).await;
}
