//! Recording consent to share from the console (`recordConsent`): who gave it, when, for
//! which purposes, with which partner organisations, and the evidence kept.

use super::Signed;
use super::form::{Fields, Posted};
use super::layout::{self, DateParts, Problem, text};
use crate::http::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde_json::{Value, json};
use std::sync::Arc;

pub(super) const GIVERS: &[(&str, &str)] = &[("PARENT", "A parent"), ("CARER", "A carer"), ("CHILD", "The child")];
const PURPOSES: &[(&str, &str)] = &[
    ("REFERRAL", "Referral to a partner's programme"),
    ("PROGRESS_MONITORING", "Following the child's progress"),
    ("EVALUATION", "Evaluating the programme (de-identified)"),
];
const PARTNERS: &str = "query($c: ID!) { child(id: $c) { id firstName lastName } \
    organisations(kind: PARTNER, first: 100) { edges { node { id name } } } }";

#[derive(Default)]
struct ConsentForm {
    csrf: String,
    given_by: String,
    name: String,
    given: DateParts,
    purposes: Vec<String>,
    partners: Vec<String>,
    evidence: String,
}

impl ConsentForm {
    fn parse(fields: Fields) -> ConsentForm {
        let mut f = ConsentForm::default();
        for (k, v) in fields.pairs() {
            match k.as_str() {
                "csrf" => f.csrf = v,
                "given-by" => f.given_by = v,
                "given-by-name" => f.name = v,
                "given-on-day" => f.given.day = v,
                "given-on-month" => f.given.month = v,
                "given-on-year" => f.given.year = v,
                "purposes" => f.purposes.push(v),
                "partners" => f.partners.push(v),
                "evidence" => f.evidence = v,
                _ => {}
            }
        }
        f
    }
}

fn page(signed: &Signed, id: &str, data: &Value, f: &ConsentForm, problems: &[Problem]) -> Response {
    let partners: Vec<(String, String)> = data["organisations"]["edges"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|e| {
            (
                text(&e["node"], "id").unwrap_or_default().to_owned(),
                text(&e["node"], "name").unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let partner_choices: Vec<(&str, &str)> = partners.iter().map(|(v, w)| (v.as_str(), w.as_str())).collect();
    let body = html! {
        a href={ "/children/" (id) } { "Back to the child's record" }
        span class="caption" { (super::home::name(&data["child"])) }
        h1 { "Record consent to share" }
        (layout::form(&format!("/children/{id}/consent"), &signed.csrf, html! {
            (layout::choices("given-by", "Who gave consent?", GIVERS, std::slice::from_ref(&f.given_by), false, problems))
            (layout::input("text", "given-by-name", "Their name", None, &f.name, problems))
            (layout::date_input("given-on", "When did they give it?", None, &f.given, problems))
            (layout::choices("purposes", "What may the record be shared for?", PURPOSES, &f.purposes, true, problems))
            (layout::choices("partners", "With which partner organisations?", &partner_choices, &f.partners, true, problems))
            (layout::input("text", "evidence", "Evidence", Some("Where the signed form is kept, for example \"Paper form, school office file\""), &f.evidence, problems))
            button type="submit" class="button" { "Record consent" }
        }))
    };
    signed.page("Record consent to share", problems, body)
}

async fn again(state: &AppState, signed: &Signed, id: &str, f: &ConsentForm, problems: &[Problem]) -> Response {
    match signed.ask(state, PARTNERS, json!({ "c": id })).await {
        Ok(data) => page(signed, id, &data, f, problems),
        Err(r) => r.page(Some(&signed.who)),
    }
}

/// `GET /children/{id}/consent`.
pub async fn form(State(state): State<Arc<AppState>>, signed: Signed, Path(id): Path<String>) -> Response {
    let f = ConsentForm { given: DateParts::of(crate::domain::validate::today()), ..ConsentForm::default() };
    again(&state, &signed, &id, &f, &[]).await
}

fn element(field: &str) -> Option<&'static str> {
    match field.rsplit('.').next().unwrap_or(field) {
        "givenBy" => Some("given-by-0"),
        "givenByName" => Some("given-by-name"),
        "givenOn" => Some("given-on-day"),
        "purposes" => Some("purposes-0"),
        "partnerIds" => Some("partners-0"),
        "evidence" => Some("evidence"),
        _ => None,
    }
}

/// `POST /children/{id}/consent`: runs `recordConsent`.
pub async fn record(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Posted { signed, fields }: Posted,
) -> Response {
    let f = ConsentForm::parse(fields);
    let mut problems = Vec::new();
    if !GIVERS.iter().any(|(g, _)| *g == f.given_by) {
        problems.push(Problem { field: Some("given-by-0".into()), message: "Choose who gave consent".into() });
    }
    let given_on = f.given.iso();
    if given_on.is_none() {
        problems.push(Problem {
            field: Some("given-on-day".into()),
            message: "Enter the date as a day, month and year, in numbers".into(),
        });
    }
    if f.purposes.is_empty() || !f.purposes.iter().all(|p| PURPOSES.iter().any(|(v, _)| v == p)) {
        problems.push(Problem {
            field: Some("purposes-0".into()),
            message: "Choose what the record may be shared for".into(),
        });
    }
    if !problems.is_empty() {
        return again(&state, &signed, &id, &f, &problems).await;
    }
    let input = json!({ "childId": id, "givenBy": f.given_by, "givenByName": f.name, "givenOn": given_on,
        "purposes": f.purposes, "partnerIds": f.partners, "evidence": f.evidence });
    let mutation = "mutation($i: RecordConsentInput!) { recordConsent(input: $i) { id } }";
    match signed.ask(&state, mutation, json!({ "i": input })).await {
        Ok(_) => Redirect::to(&format!("/children/{id}?done=consent")).into_response(),
        Err(r) if r.on_the_form() => again(&state, &signed, &id, &f, &r.problems(element)).await,
        Err(r) => r.page(Some(&signed.who)),
    }
}
