//! A partner lead's programmes: adding one (`createProgramme`) and changing one — what it
//! offers, for whom, where and when, how many places, paused or taking referrals
//! (`updateProgramme`). Linked from the registers page for those who manage programmes.

use super::Signed;
use super::form::{Fields, Posted};
use super::layout::{self, DateParts, Problem, text};
use crate::http::AppState;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

const DOMAINS: &[(&str, &str)] = &[
    ("EMOTIONAL_WELLBEING", "Emotional wellbeing"),
    ("RELATIONSHIPS", "Relationships"),
    ("CONFIDENCE_ASPIRATION", "Confidence and aspiration"),
    ("PROGRESS_AT_SCHOOL", "Progress at school"),
    ("ATTENDANCE_ENGAGEMENT", "Attendance and engagement"),
];
const ATTENDING: &[(&str, &str)] = &[("IN_PERSON", "In person"), ("ONLINE", "Online"), ("BOTH", "Both")];
const STATUS: &[(&str, &str)] = &[("ACTIVE", "Taking referrals"), ("PAUSED", "Paused: takes no referrals")];

const PROGRAMME: &str = "query($p: ID!) { programme(id: $p) { id name description domains minimumAge maximumAge \
    attendingType locationName postcode schedule capacity startsOn placesTaken status partner { id name } } }";

/// What the form holds, as typed.
#[derive(Default)]
struct ProgrammeForm {
    name: String,
    description: String,
    domains: Vec<String>,
    minimum_age: String,
    maximum_age: String,
    attending: String,
    location: String,
    postcode: String,
    schedule: String,
    capacity: String,
    starts: DateParts,
    status: String,
}

impl ProgrammeForm {
    fn parse(fields: Fields) -> ProgrammeForm {
        let mut f = ProgrammeForm::default();
        for (k, v) in fields.pairs() {
            match k.as_str() {
                "name" => f.name = v,
                "description" => f.description = v,
                "domains" => f.domains.push(v),
                "minimum-age" => f.minimum_age = v,
                "maximum-age" => f.maximum_age = v,
                "attending" => f.attending = v,
                "location" => f.location = v,
                "postcode" => f.postcode = v,
                "schedule" => f.schedule = v,
                "capacity" => f.capacity = v,
                "starts-on-day" => f.starts.day = v,
                "starts-on-month" => f.starts.month = v,
                "starts-on-year" => f.starts.year = v,
                "status" => f.status = v,
                _ => {}
            }
        }
        f
    }

    /// The form filled from a programme as the API gives it.
    fn of(p: &Value) -> ProgrammeForm {
        let s = |k: &str| text(p, k).unwrap_or_default().to_owned();
        let starts = text(p, "startsOn")
            .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .map(DateParts::of)
            .unwrap_or_default();
        ProgrammeForm {
            name: s("name"),
            description: s("description"),
            domains: p["domains"]
                .as_array()
                .map(|d| d.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
                .unwrap_or_default(),
            minimum_age: p["minimumAge"].to_string(),
            maximum_age: p["maximumAge"].to_string(),
            attending: s("attendingType"),
            location: s("locationName"),
            postcode: s("postcode"),
            schedule: s("schedule"),
            capacity: p["capacity"].to_string(),
            starts,
            status: s("status"),
        }
    }

    /// The API's input, or the problems the form can see itself.
    fn input(&self) -> Result<Value, Vec<Problem>> {
        let mut problems = Vec::new();
        let mut number = |value: &str, id: &str, words: &str| {
            let n = value.trim().parse::<i64>().ok();
            if n.is_none() {
                problems.push(Problem { field: Some(id.into()), message: format!("Enter {words} as a whole number") });
            }
            n
        };
        let (minimum, maximum) = (
            number(&self.minimum_age, "minimum-age", "the youngest age"),
            number(&self.maximum_age, "maximum-age", "the oldest age"),
        );
        let capacity = number(&self.capacity, "capacity", "the places");
        if self.domains.is_empty() {
            problems.push(Problem {
                field: Some("domains-0".into()),
                message: "Choose at least one outcome area it serves".into(),
            });
        }
        if !ATTENDING.iter().any(|(v, _)| *v == self.attending) {
            problems.push(Problem { field: Some("attending-0".into()), message: "Choose how children attend".into() });
        }
        let typed = [&self.starts.day, &self.starts.month, &self.starts.year].iter().any(|p| !p.trim().is_empty());
        let starts = if typed { super::form::day_given(&self.starts, "starts-on", &mut problems) } else { None };
        if !problems.is_empty() {
            return Err(problems);
        }
        let optional = |s: &str| if s.trim().is_empty() { Value::Null } else { json!(s.trim()) };
        Ok(json!({
            "name": self.name, "description": self.description, "domains": self.domains,
            "minimumAge": minimum, "maximumAge": maximum, "attendingType": self.attending,
            "locationName": optional(&self.location), "postcode": optional(&self.postcode),
            "schedule": self.schedule, "capacity": capacity, "startsOn": starts,
        }))
    }
}

fn element(field: &str) -> Option<&'static str> {
    match field.rsplit('.').next().unwrap_or(field) {
        "name" => Some("name"),
        "description" => Some("description"),
        "domains" => Some("domains-0"),
        "minimumAge" => Some("minimum-age"),
        "maximumAge" => Some("maximum-age"),
        "attendingType" => Some("attending-0"),
        "locationName" => Some("location"),
        "postcode" => Some("postcode"),
        "schedule" => Some("schedule"),
        "capacity" => Some("capacity"),
        "startsOn" => Some("starts-on-day"),
        "status" => Some("status-0"),
        _ => None,
    }
}

/// The form; `existing` is the programme being changed (its id and places taken).
fn page(
    signed: &Signed,
    f: &ProgrammeForm,
    existing: Option<(&str, &Value)>,
    problems: &[Problem],
    saved: bool,
) -> Response {
    let (title, action) = match existing {
        Some((id, _)) => ("Change a programme", format!("/programmes/{id}")),
        None => ("Add a programme", "/programmes/new".to_owned()),
    };
    let body = html! {
        @if saved { (layout::banner("The programme has been saved.")) }
        a href="/registers" { "Back to the programmes" }
        h1 { (title) }
        @if let Some((_, taken)) = existing { p { (taken) " places are taken now: the places cannot go below that." } }
        (layout::form(&action, &signed.csrf, html! {
            (layout::input("text", "name", "Name", None, &f.name, problems))
            (layout::textarea("description", "What it offers", None, &f.description, problems))
            (layout::choices("domains", "Which outcome areas does it serve?", DOMAINS, &f.domains, true, problems))
            (layout::input("text", "minimum-age", "Youngest age", None, &f.minimum_age, problems))
            (layout::input("text", "maximum-age", "Oldest age", None, &f.maximum_age, problems))
            (layout::choices("attending", "How do children attend?", ATTENDING, std::slice::from_ref(&f.attending), false, problems))
            (layout::input("text", "location", "Where (optional when online)", None, &f.location, problems))
            (layout::input("text", "postcode", "Postcode (optional when online)", None, &f.postcode, problems))
            (layout::input("text", "schedule", "When it runs", Some("For example, Tuesdays 15:30 to 17:00 in term time"), &f.schedule, problems))
            (layout::input("text", "capacity", "Places", Some("How many children it takes at once"), &f.capacity, problems))
            (layout::date_input("starts-on", "When did (or does) it start? (optional)", None, &f.starts, problems))
            @if existing.is_some() {
                (layout::choices("status", "Is it taking referrals?", STATUS, std::slice::from_ref(&f.status), false, problems))
            }
            button type="submit" class="button" { "Save the programme" }
        }))
    };
    signed.page(title, problems, body)
}

/// `GET /programmes/new`.
pub async fn new_form(signed: Signed) -> Response {
    if let Err(e) = crate::access::may_manage_programmes(&signed.actor, &signed.actor.organisation_id) {
        return signed.refused(&e);
    }
    page(&signed, &ProgrammeForm::default(), None, &[], false)
}

/// `POST /programmes/new`: runs `createProgramme`; then to its page.
pub async fn create(State(state): State<Arc<AppState>>, Posted { signed, fields }: Posted) -> Response {
    let f = ProgrammeForm::parse(fields);
    let input = match f.input() {
        Ok(i) => i,
        Err(problems) => return page(&signed, &f, None, &problems, false),
    };
    let mutation = "mutation($i: ProgrammeInput!) { createProgramme(input: $i) { id } }";
    match signed.ask(&state, mutation, json!({ "i": input })).await {
        Ok(d) => {
            Redirect::to(&format!("/programmes/{}?done=saved", text(&d["createProgramme"], "id").unwrap_or_default()))
                .into_response()
        }
        Err(r) if r.on_the_form() => page(&signed, &f, None, &r.problems(element), false),
        Err(r) => r.page(Some(&signed.who)),
    }
}

#[derive(Deserialize, Default)]
pub struct Done {
    done: Option<String>,
}

/// The programme, when the caller manages its partner's programmes.
async fn managed(state: &AppState, signed: &Signed, id: &str) -> Result<Value, Response> {
    let data = signed.ask(state, PROGRAMME, json!({ "p": id })).await.map_err(|r| r.page(Some(&signed.who)))?;
    let p = data["programme"].clone();
    crate::access::may_manage_programmes(&signed.actor, text(&p["partner"], "id").unwrap_or_default())
        .map_err(|e| signed.refused(&e))?;
    Ok(p)
}

/// `GET /programmes/{id}`.
pub async fn edit_form(
    State(state): State<Arc<AppState>>,
    signed: Signed,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Response {
    let p = match managed(&state, &signed, &id).await {
        Ok(p) => p,
        Err(refused) => return refused,
    };
    let saved = done.done.as_deref() == Some("saved");
    page(&signed, &ProgrammeForm::of(&p), Some((&id, &p["placesTaken"])), &[], saved)
}

/// `POST /programmes/{id}`: runs `updateProgramme`.
pub async fn update(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Posted { signed, fields }: Posted,
) -> Response {
    let p = match managed(&state, &signed, &id).await {
        Ok(p) => p,
        Err(refused) => return refused,
    };
    let f = ProgrammeForm::parse(fields);
    let taken = &p["placesTaken"];
    let input = match f.input() {
        Ok(i) => i,
        Err(problems) => return page(&signed, &f, Some((&id, taken)), &problems, false),
    };
    let status = if STATUS.iter().any(|(v, _)| *v == f.status) { json!(f.status) } else { Value::Null };
    let mutation = "mutation($p: ID!, $i: ProgrammeInput!, $s: ProgrammeStatus) { updateProgramme(id: $p, input: $i, status: $s) { id } }";
    match signed.ask(&state, mutation, json!({ "p": id, "i": input, "s": status })).await {
        Ok(_) => Redirect::to(&format!("/programmes/{id}?done=saved")).into_response(),
        Err(r) if r.on_the_form() => page(&signed, &f, Some((&id, taken)), &r.problems(element), false),
        Err(r) => r.page(Some(&signed.who)),
    }
}
