//! Identifying a child: the link worker (or anchor lead) records a child newly identified
//! at their anchor (`identifyChild`), or accepts a screening candidate, whose UPN comes
//! from the anchor's data (`acceptCandidate`). The duplicate check is the API's: a child
//! who may already be recorded comes back as a question, answered by ticking "this is a
//! different child".

use super::Signed;
use super::form::{Fields, Posted};
use super::layout::{self, DateParts, Problem};
use crate::http::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde_json::{Value, json};
use std::sync::Arc;

#[derive(Default)]
struct IdentifyForm {
    csrf: String,
    first_name: String,
    last_name: String,
    born: DateParts,
    year_group: String,
    upn: String,
    note: String,
    not_duplicate: bool,
}

impl IdentifyForm {
    fn parse(fields: Fields) -> IdentifyForm {
        let mut f = IdentifyForm::default();
        for (k, v) in fields.pairs() {
            match k.as_str() {
                "csrf" => f.csrf = v,
                "first-name" => f.first_name = v,
                "last-name" => f.last_name = v,
                "date-of-birth-day" => f.born.day = v,
                "date-of-birth-month" => f.born.month = v,
                "date-of-birth-year" => f.born.year = v,
                "year-group" => f.year_group = v,
                "upn" => f.upn = v,
                "note" => f.note = v,
                "not-duplicate" => f.not_duplicate = v == "yes",
                _ => {}
            }
        }
        f
    }
}

/// A screening candidate being accepted: its id and the UPN from the anchor's data.
struct Candidate {
    id: String,
    upn: String,
}

fn page(
    signed: &Signed,
    f: &IdentifyForm,
    problems: &[Problem],
    ask_duplicate: bool,
    candidate: Option<&Candidate>,
) -> Response {
    let (title, action) = match candidate {
        Some(c) => ("Accept a candidate", format!("/candidates/{}/accept", c.id)),
        None => ("Identify a child", "/children/new".to_owned()),
    };
    let body = html! {
        h1 { (title) }
        @match candidate {
            Some(c) => p { "The pupil with UPN " strong { (c.upn) } " was flagged by the screening rules. Record who they are to identify them; the UPN comes from the anchor's data." },
            None => p { "Record a child your anchor has identified as needing extra help. You can add the adults around them, consent and enrolment afterwards." },
        }
        (layout::form(&action, &signed.csrf, html! {
            (layout::input("text", "first-name", "First name", None, &f.first_name, problems))
            (layout::input("text", "last-name", "Last name", None, &f.last_name, problems))
            (layout::date_input("date-of-birth", "Date of birth", Some("For example, 4 5 2016"), &f.born, problems))
            (layout::input("text", "year-group", "Year group", Some("A number from 0 (reception) to 13"), &f.year_group, problems))
            @if candidate.is_none() {
                (layout::input("text", "upn", "Unique pupil number (optional)", Some("13 characters, from the school's records"), &f.upn, problems))
            }
            (layout::textarea("note", "How was the child identified? (optional)", None, &f.note, problems))
            @if ask_duplicate {
                (layout::choices("not-duplicate", "Is this a different child from the one already recorded?", &[("yes", "Yes, this is a different child")], &[if f.not_duplicate { "yes".to_owned() } else { String::new() }], true, problems))
            }
            button type="submit" class="button" { @if candidate.is_some() { "Accept and identify the child" } @else { "Identify the child" } }
        }))
    };
    signed.page(title, problems, body)
}

/// `GET /children/new`.
pub async fn form(signed: Signed) -> Response {
    if let Err(e) = crate::access::may_identify_at(&signed.actor, &signed.actor.organisation_id) {
        return signed.refused(&e);
    }
    page(&signed, &IdentifyForm::default(), &[], false, None)
}

fn element(field: &str) -> Option<&'static str> {
    match field.rsplit('.').next().unwrap_or(field) {
        "firstName" => Some("first-name"),
        "lastName" => Some("last-name"),
        "dateOfBirth" => Some("date-of-birth-day"),
        "yearGroup" => Some("year-group"),
        "upn" => Some("upn"),
        "note" => Some("note"),
        _ => None,
    }
}

/// `POST /children/new`: runs `identifyChild`; then to the child's page.
pub async fn identify(State(state): State<Arc<AppState>>, Posted { signed, fields }: Posted) -> Response {
    submit(&state, &signed, IdentifyForm::parse(fields), None).await
}

/// `GET /candidates/{id}/accept`: the identify form for a screening candidate.
pub async fn accept_form(State(state): State<Arc<AppState>>, signed: Signed, Path(id): Path<String>) -> Response {
    match candidate(&state, &signed, &id).await {
        Ok(c) => page(&signed, &IdentifyForm::default(), &[], false, Some(&c)),
        Err(refused) => refused,
    }
}

/// `POST /candidates/{id}/accept`: runs `acceptCandidate`; then to the child's page.
pub async fn accept(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Posted { signed, fields }: Posted,
) -> Response {
    match candidate(&state, &signed, &id).await {
        Ok(c) => submit(&state, &signed, IdentifyForm::parse(fields), Some(&c)).await,
        Err(refused) => refused,
    }
}

/// The candidate `id` among those the caller may see (`NOT_FOUND` otherwise).
async fn candidate(state: &AppState, signed: &Signed, id: &str) -> Result<Candidate, Response> {
    let listed = signed
        .ask(state, super::candidates::QUERY, json!({ "after": null }))
        .await
        .map_err(|r| r.page(Some(&signed.who)))?;
    let found = super::candidates::rows(&listed).into_iter().find(|c| c["id"] == id && c["excluded"] == false);
    match found {
        Some(c) => Ok(Candidate { id: id.to_owned(), upn: c["upn"].as_str().unwrap_or_default().to_owned() }),
        None => Err(super::Refusal::not_found(signed).page(Some(&signed.who))),
    }
}

async fn submit(state: &AppState, signed: &Signed, f: IdentifyForm, candidate: Option<&Candidate>) -> Response {
    let mut problems = Vec::new();
    for (value, id, words) in [(&f.first_name, "first-name", "first"), (&f.last_name, "last-name", "last")] {
        if value.trim().is_empty() {
            problems.push(Problem { field: Some(id.into()), message: format!("Enter the child's {words} name") });
        }
    }
    let born = f.born.iso();
    if born.is_none() {
        problems.push(Problem {
            field: Some("date-of-birth-day".into()),
            message: "Enter the date of birth as a day, month and year, in numbers".into(),
        });
    }
    let year_group = f.year_group.trim().parse::<i64>().ok();
    if year_group.is_none() {
        problems.push(Problem { field: Some("year-group".into()), message: "Enter the year group as a number".into() });
    }
    if !problems.is_empty() {
        return page(signed, &f, &problems, false, candidate);
    }
    let optional = |s: &str| if s.trim().is_empty() { Value::Null } else { json!(s.trim()) };
    let mut input = json!({
        "firstName": f.first_name, "lastName": f.last_name, "dateOfBirth": born, "yearGroup": year_group,
        "note": optional(&f.note), "confirmNotDuplicate": f.not_duplicate,
    });
    let (mutation, field) = match candidate {
        Some(c) => {
            input["candidateId"] = json!(c.id);
            ("mutation($i: AcceptCandidateInput!) { acceptCandidate(input: $i) { id } }", "acceptCandidate")
        }
        None => {
            input["upn"] = optional(&f.upn);
            ("mutation($i: IdentifyChildInput!) { identifyChild(input: $i) { id } }", "identifyChild")
        }
    };
    match signed.ask(state, mutation, json!({ "i": input })).await {
        Ok(data) => {
            let id = data[field]["id"].as_str().unwrap_or_default();
            Redirect::to(&format!("/children/{id}")).into_response()
        }
        // The duplicate check: the API says who it may be (to those who may see them).
        Err(r) if r.code == "CONFLICT" && r.message.contains("already recorded") => {
            let problems =
                vec![Problem { field: Some("not-duplicate-0".into()), message: super::sentence(&r.message) }];
            page(signed, &f, &problems, true, candidate)
        }
        Err(r) if r.on_the_form() => page(signed, &f, &r.problems(element), false, candidate),
        Err(r) => r.page(Some(&signed.who)),
    }
}
