//! Identifying a child: the link worker (or anchor lead) records a child newly identified
//! at their anchor. The duplicate check is the API's: a child who may already be recorded
//! comes back as a question, answered by ticking "this is a different child".

use super::Signed;
use super::form::{Fields, Posted};
use super::layout::{self, DateParts, Problem};
use crate::http::AppState;
use axum::extract::State;
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

fn page(signed: &Signed, f: &IdentifyForm, problems: &[Problem], ask_duplicate: bool) -> Response {
    let body = html! {
        h1 { "Identify a child" }
        p { "Record a child your anchor has identified as needing extra help. You can add the adults around them, consent and enrolment afterwards." }
        (layout::form("/children/new", &signed.csrf, html! {
            (layout::input("text", "first-name", "First name", None, &f.first_name, problems))
            (layout::input("text", "last-name", "Last name", None, &f.last_name, problems))
            (layout::date_input("date-of-birth", "Date of birth", Some("For example, 4 5 2016"), &f.born, problems))
            (layout::input("text", "year-group", "Year group", Some("A number from 0 (reception) to 13"), &f.year_group, problems))
            (layout::input("text", "upn", "Unique pupil number (optional)", Some("13 characters, from the school's records"), &f.upn, problems))
            (layout::textarea("note", "How was the child identified? (optional)", None, &f.note, problems))
            @if ask_duplicate {
                (layout::choices("not-duplicate", "Is this a different child from the one already recorded?", &[("yes", "Yes, this is a different child")], &[if f.not_duplicate { "yes".to_owned() } else { String::new() }], true, problems))
            }
            button type="submit" class="button" { "Identify the child" }
        }))
    };
    signed.page("Identify a child", problems, body)
}

/// `GET /children/new`.
pub async fn form(signed: Signed) -> Response {
    if let Err(e) = crate::access::may_identify_at(&signed.actor, &signed.actor.organisation_id) {
        return signed.refused(&e);
    }
    page(&signed, &IdentifyForm::default(), &[], false)
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
    let f = IdentifyForm::parse(fields);
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
        return page(&signed, &f, &problems, false);
    }
    let optional = |s: &str| if s.trim().is_empty() { Value::Null } else { json!(s.trim()) };
    let input = json!({
        "firstName": f.first_name, "lastName": f.last_name, "dateOfBirth": born, "yearGroup": year_group,
        "upn": optional(&f.upn), "note": optional(&f.note), "confirmNotDuplicate": f.not_duplicate,
    });
    let mutation = "mutation($i: IdentifyChildInput!) { identifyChild(input: $i) { id } }";
    match signed.ask(&state, mutation, json!({ "i": input })).await {
        Ok(data) => {
            let id = data["identifyChild"]["id"].as_str().unwrap_or_default();
            Redirect::to(&format!("/children/{id}")).into_response()
        }
        // The duplicate check: the API says who it may be (to those who may see them).
        Err(r) if r.code == "CONFLICT" => {
            let problems =
                vec![Problem { field: Some("not-duplicate-0".into()), message: super::sentence(&r.message) }];
            page(&signed, &f, &problems, true)
        }
        Err(r) if r.on_the_form() => page(&signed, &f, &r.problems(element), false),
        Err(r) => r.page(Some(&signed.who)),
    }
}
