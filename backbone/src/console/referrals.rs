//! Brokering from the console: the link worker finds a programme with places and
//! proposes a referral (`proposeReferral`), then sends it to the partner from the child's
//! page (`sendReferral`) — two steps, as in the API, each one form.

use super::Signed;
use super::form::Posted;
use super::layout::{self, Problem, text};
use crate::http::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde_json::{Value, json};
use std::sync::Arc;

const PROGRAMMES: &str = "query($c: ID!) { child(id: $c) { id firstName lastName age } \
    programmes(filter: {hasCapacity: true, status: ACTIVE}, first: 100) { edges { node { id name partner { name } \
    capacity placesTaken minimumAge maximumAge schedule } } } }";

fn page(signed: &Signed, id: &str, data: &Value, chosen: &str, needs: &str, problems: &[Problem]) -> Response {
    let child = &data["child"];
    let age = child["age"].as_i64().unwrap_or_default();
    let options: Vec<(String, String)> = data["programmes"]["edges"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|e| &e["node"])
        .filter(|p| p["minimumAge"].as_i64().unwrap_or(0) <= age && age <= p["maximumAge"].as_i64().unwrap_or(99))
        .map(|p| {
            let places = p["capacity"].as_i64().unwrap_or(0) - p["placesTaken"].as_i64().unwrap_or(0);
            let words = format!(
                "{} ({}): {}; {} {} free",
                text(p, "name").unwrap_or_default(),
                text(&p["partner"], "name").unwrap_or_default(),
                text(p, "schedule").unwrap_or_default(),
                places,
                if places == 1 { "place" } else { "places" }
            );
            (text(p, "id").unwrap_or_default().to_owned(), words)
        })
        .collect();
    let choices: Vec<(&str, &str)> = options.iter().map(|(v, w)| (v.as_str(), w.as_str())).collect();
    let body = html! {
        a href={ "/children/" (id) } { "Back to the child's record" }
        span class="caption" { (super::home::name(child)) }
        h1 { "Refer to a programme" }
        @if choices.is_empty() {
            p { "No open programme for a child of this age has a place free." }
        } @else {
            (layout::form(&format!("/children/{id}/refer"), &signed.csrf, html! {
                (layout::choices("programme", "Which programme?", &choices, &[chosen.to_owned()], false, problems))
                (layout::textarea("needs", "What does the child need from it?", Some("The partner reads this: what would help, in words the family would recognise."), needs, problems))
                button type="submit" class="button" { "Propose the referral" }
            }))
        }
    };
    signed.page("Refer to a programme", problems, body)
}

/// `GET /children/{id}/refer`: programmes with a place, open, for the child's age.
pub async fn form(State(state): State<Arc<AppState>>, signed: Signed, Path(id): Path<String>) -> Response {
    match signed.ask(&state, PROGRAMMES, json!({ "c": id })).await {
        Ok(data) => page(&signed, &id, &data, "", "", &[]),
        Err(r) => r.page(Some(&signed.who)),
    }
}

/// `POST /children/{id}/refer`: runs `proposeReferral`.
pub async fn propose(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Posted { signed, fields }: Posted,
) -> Response {
    let (programme, needs) = (fields.get("programme"), fields.get("needs"));
    let mut problems = Vec::new();
    if programme.is_empty() {
        problems.push(Problem { field: Some("programme-0".into()), message: "Choose a programme".into() });
    }
    if needs.trim().is_empty() {
        problems.push(Problem { field: Some("needs".into()), message: "Enter what the child needs from it".into() });
    }
    if !problems.is_empty() {
        return again(&state, &signed, &id, &programme, &needs, &problems).await;
    }
    let mutation = "mutation($i: ProposeReferralInput!) { proposeReferral(input: $i) { id } }";
    let input = json!({ "childId": id, "programmeId": programme, "needs": needs });
    match signed.ask(&state, mutation, json!({ "i": input })).await {
        Ok(_) => Redirect::to(&format!("/children/{id}?done=proposed")).into_response(),
        Err(r) if r.on_the_form() => {
            let problems = r.problems(|f| match f.rsplit('.').next().unwrap_or(f) {
                "needs" => Some("needs"),
                "programmeId" => Some("programme-0"),
                _ => None,
            });
            again(&state, &signed, &id, &programme, &needs, &problems).await
        }
        Err(r) => r.page(Some(&signed.who)),
    }
}

/// The form again, with what was sent and its problems.
async fn again(
    state: &AppState,
    signed: &Signed,
    id: &str,
    programme: &str,
    needs: &str,
    problems: &[Problem],
) -> Response {
    match signed.ask(state, PROGRAMMES, json!({ "c": id })).await {
        Ok(data) => page(signed, id, &data, programme, needs, problems),
        Err(r) => r.page(Some(&signed.who)),
    }
}

/// `POST /referrals/{id}/send`: runs `sendReferral`; back to the child's page.
pub async fn send(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Posted { signed, .. }: Posted,
) -> Response {
    let mutation = "mutation($r: ID!) { sendReferral(referralId: $r) { id child { id } } }";
    match signed.ask(&state, mutation, json!({ "r": id })).await {
        Ok(data) => {
            let child = text(&data["sendReferral"]["child"], "id").unwrap_or_default();
            Redirect::to(&format!("/children/{child}?done=sent")).into_response()
        }
        Err(r) => r.page(Some(&signed.who)),
    }
}
