//! Families' rights in the console: the family report a link worker prints and hands to
//! a family, and the anchor lead's review of a record opened by break-glass.

use super::Signed;
use super::form::Posted;
use super::layout::{self, text};
use crate::http::AppState;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::html;
use serde_json::json;
use std::sync::Arc;

/// `GET /children/{id}/family-report`: the page to print (the API's own document).
pub async fn family_report(State(state): State<Arc<AppState>>, signed: Signed, Path(id): Path<String>) -> Response {
    match signed.ask(&state, "query($c: ID!) { familyReport(childId: $c) }", json!({ "c": id })).await {
        Ok(data) => {
            let page = data["familyReport"].as_str().unwrap_or_default().to_owned();
            ([(header::CACHE_CONTROL, "no-store")], Html(page)).into_response()
        }
        Err(r) => r.page(Some(&signed.who)),
    }
}

const OPENING: &str = "query($c: ID) { breakGlassOpenings(childId: $c, first: 100) { edges { node { \
    id childId reason openedAt expiresAt endedAt inForce reviewedAt reviewedBy { displayName } \
    openedBy { displayName } organisation { name } } } } }";

/// `GET /break-glass/{id}`: one opening, as the caller may see it, with the review button
/// for the child's anchor lead.
pub async fn opening(State(state): State<Arc<AppState>>, signed: Signed, Path(id): Path<String>) -> Response {
    let data = match signed.ask(&state, OPENING, json!({ "c": null })).await {
        Ok(d) => d,
        Err(r) => return r.page(Some(&signed.who)),
    };
    let edges = data["breakGlassOpenings"]["edges"].as_array().cloned().unwrap_or_default();
    let Some(o) = edges.iter().map(|e| e["node"].clone()).find(|n| text(n, "id") == Some(id.as_str())) else {
        return super::Refusal::not_found(&signed).page(Some(&signed.who));
    };
    let reviewed = text(&o, "reviewedAt").is_some();
    let body = html! {
        h1 { "A record opened by break-glass" }
        (layout::summary(&[
            ("Opened by", html! { (text(&o["openedBy"], "displayName").unwrap_or_default()) ", " (text(&o["organisation"], "name").unwrap_or_default()) }),
            ("Why", html! { (text(&o, "reason").unwrap_or_default()) }),
            ("Opened", html! { (layout::day(text(&o, "openedAt").unwrap_or_default())) " at " (text(&o, "openedAt").and_then(|t| t.get(11..16)).unwrap_or_default()) }),
            ("Until", html! { @if o["inForce"] == true { (text(&o, "expiresAt").and_then(|t| t.get(11..16)).unwrap_or_default()) " (in force)" } @else { "Ended" } }),
            ("Reviewed", html! { @if reviewed { "By " (text(&o["reviewedBy"], "displayName").unwrap_or_default()) } @else { "Not yet" } }),
        ]))
        p { a href={ "/children/" (text(&o, "childId").unwrap_or_default()) } { "The child's record" } }
        @if !reviewed {
            (layout::button_form(&format!("/break-glass/{id}/review"), &signed.csrf, "Mark as reviewed", "button"))
        }
    };
    signed.page("A record opened by break-glass", &[], body)
}

/// `POST /break-glass/{id}/review`.
pub async fn review(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Posted { signed, .. }: Posted,
) -> Response {
    match signed.ask(&state, "mutation($i: ID!) { reviewBreakGlass(id: $i) { id } }", json!({ "i": id })).await {
        Ok(_) => Redirect::to(&format!("/break-glass/{id}")).into_response(),
        Err(r) => r.page(Some(&signed.who)),
    }
}
