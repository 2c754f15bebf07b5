//! Screening candidates: the pupils the screening rules flagged in the anchor's latest data
//! (`candidates`), most in need first, each with why; the link worker or lead accepts one
//! (the identify form, `identify::accept_form`) or dismisses one (`dismissCandidate`).
//! Pupils excluded because they already receive statutory support are listed after, with
//! the reason, and nothing to do.

use super::Signed;
use super::form::Posted;
use super::layout::{self, text};
use crate::http::AppState;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

pub const QUERY: &str = "query($after: String) { candidates(first: 100, after: $after) { \
    pageInfo { hasNextPage endCursor } \
    edges { node { id upn attendancePercent attainment wellbeingScore atRiskAreas excluded exclusionReason \
      reasons { message } } } } }";

/// The candidates listed, in the order given.
pub fn rows(data: &Value) -> Vec<Value> {
    data["candidates"]["edges"].as_array().cloned().unwrap_or_default().into_iter().map(|e| e["node"].clone()).collect()
}

#[derive(Deserialize, Default)]
pub struct Shown {
    after: Option<String>,
    done: Option<String>,
}

/// `GET /candidates`.
pub async fn list(State(state): State<Arc<AppState>>, signed: Signed, Query(shown): Query<Shown>) -> Response {
    let data = match signed.ask(&state, QUERY, json!({ "after": shown.after })).await {
        Ok(d) => d,
        Err(r) => return r.page(Some(&signed.who)),
    };
    let all = rows(&data);
    let (excluded, candidates): (Vec<_>, Vec<_>) = all.iter().partition(|c| c["excluded"] == true);
    let csrf = signed.csrf.clone();
    let flagged = candidates
        .iter()
        .map(|c| {
            let id = text(c, "id").unwrap_or_default();
            let reasons: Vec<&str> =
                c["reasons"].as_array().map(|r| r.iter().filter_map(|x| text(x, "message")).collect()).unwrap_or_default();
            vec![
                html! { (text(c, "upn").unwrap_or_default()) },
                html! { @match c["attendancePercent"].as_f64() { Some(p) => (format!("{p:.0}%")), None => "–" } },
                html! { (c["atRiskAreas"]) },
                html! { ul { @for r in &reasons { li { (r) } } } },
                html! {
                    a class="button" href={ "/candidates/" (id) "/accept" } { "Accept" span class="visually-hidden" { " " (text(c, "upn").unwrap_or_default()) } }
                    (layout::button_form(&format!("/candidates/{id}/dismiss"), &csrf, "Dismiss", "button button--secondary"))
                },
            ]
        })
        .collect();
    let left_out = excluded
        .iter()
        .map(|c| vec![html! { (text(c, "upn").unwrap_or_default()) }, layout::shown(text(c, "exclusionReason"))])
        .collect();
    let next = &data["candidates"]["pageInfo"];
    let body = html! {
        @if shown.done.as_deref() == Some("dismissed") { (layout::banner("The candidate has been dismissed.")) }
        h1 { "Candidates" }
        p { "Pupils the screening rules flagged in your anchor's latest data, most in need first. Accept one to identify the child; dismiss one you will not take forward." }
        (layout::section("Flagged", "No candidates: nobody was flagged in the latest data, or it has expired.", &["UPN", "Attendance", "Areas at risk", "Why", "Action"], flagged))
        (layout::section("Already receiving statutory support", "None.", &["UPN", "Why they are not candidates"], left_out))
        @if next["hasNextPage"] == true {
            a href={ "/candidates?after=" (super::encode(text(next, "endCursor").unwrap_or_default())) } { "Next page" }
        }
    };
    signed.page("Candidates", &[], body)
}

/// `POST /candidates/{id}/dismiss`: runs `dismissCandidate`.
pub async fn dismiss(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Posted { signed, .. }: Posted,
) -> Response {
    let mutation = "mutation($c: ID!) { dismissCandidate(candidateId: $c) }";
    match signed.ask(&state, mutation, json!({ "c": id })).await {
        Ok(_) => Redirect::to("/candidates?done=dismissed").into_response(),
        Err(r) => r.page(Some(&signed.who)),
    }
}
