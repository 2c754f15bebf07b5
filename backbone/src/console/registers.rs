//! A partner's registers: their programmes, and taking a session's register — a tick
//! list of the children placed on the programme (attended, absent, cancelled, with their
//! engagement), one submit, all or nothing (`logSession`).

use super::Signed;
use super::form::{Fields, Posted, day_given, minutes_given};
use super::home::name;
use super::layout::{self, DateParts, Problem, text};
use crate::http::AppState;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

/// The organisation's programmes, those taking referrals and those paused (whose children
/// still come to sessions).
const PROGRAMMES: &str = "query($org: ID) { \
    active: programmes(filter: {partnerId: $org, status: ACTIVE}, first: 100) { edges { node { \
      id name schedule capacity placesTaken status } } } \
    paused: programmes(filter: {partnerId: $org, status: PAUSED}, first: 100) { edges { node { \
      id name schedule capacity placesTaken status } } } }";

#[derive(Deserialize, Default)]
pub struct Done {
    done: Option<String>,
}

/// `GET /registers`: the organisation's programmes, each with a link to take its register.
pub async fn list(State(state): State<Arc<AppState>>, signed: Signed, Query(done): Query<Done>) -> Response {
    if let Err(e) = crate::access::may_take_registers(&signed.actor) {
        return signed.refused(&e);
    }
    let data = match signed.ask(&state, PROGRAMMES, json!({ "org": signed.actor.organisation_id })).await {
        Ok(d) => d,
        Err(r) => return r.page(Some(&signed.who)),
    };
    let edges = |list: &str| data[list]["edges"].as_array().cloned().unwrap_or_default();
    let rows: Vec<Value> = edges("active").into_iter().chain(edges("paused")).collect();
    // The programmes' leads change them (the API judges each change again).
    let manages = crate::access::may_manage_programmes(&signed.actor, &signed.actor.organisation_id).is_ok();
    let body = html! {
        @if done.done.as_deref() == Some("register") { (layout::banner("The register has been saved.")) }
        h1 { "Registers" }
        @if manages { p { a class="button button--secondary" href="/programmes/new" { "Add a programme" } } }
        @if rows.is_empty() { p { "Your organisation has no programmes." } } @else {
            table {
                thead { tr { th scope="col" { "Programme" } th scope="col" { "When" } th scope="col" { "Places taken" } th scope="col" { span class="visually-hidden" { "Action" } } } }
                tbody { @for e in &rows {
                    @let p = &e["node"];
                    tr {
                        td { (text(p, "name").unwrap_or_default()) }
                        td { (text(p, "schedule").unwrap_or_default()) }
                        td { (p["placesTaken"]) " of " (p["capacity"]) @if p["status"] == "PAUSED" { " (paused)" } }
                        td {
                            a href={ "/programmes/" (text(p, "id").unwrap_or_default()) "/register" } { "Take a register" span class="visually-hidden" { " for " (text(p, "name").unwrap_or_default()) } }
                            @if manages { " " a href={ "/programmes/" (text(p, "id").unwrap_or_default()) } { "Change" span class="visually-hidden" { " " (text(p, "name").unwrap_or_default()) } } }
                        }
                    }
                } }
            }
        }
    };
    signed.page("Registers", &[], body)
}

const ON_IT: &str = "query($p: ID!) { programme(id: $p) { id name } \
    accepted: referralsInbox(programmeId: $p, state: ACCEPTED, first: 100) { edges { node { child { id firstName lastInitial } } } } \
    active: referralsInbox(programmeId: $p, state: ACTIVE, first: 100) { edges { node { child { id firstName lastInitial } } } } }";

const STATUSES: &[(&str, &str)] =
    &[("ATTENDED", "Attended"), ("ABSENT", "Absent"), ("CANCELLED", "Cancelled for them")];
const ENGAGEMENT: &[(&str, &str)] = &[
    ("", "Not recorded"),
    ("DISENGAGED", "Disengaged"),
    ("PARTICIPATING", "Participating"),
    ("FULLY_ENGAGED", "Fully engaged"),
];
const KINDS: &[(&str, &str)] = &[("GROUP", "A group session"), ("ONE_TO_ONE", "One to one")];

/// One child on the register, and what was ticked for them.
#[derive(Clone, Default)]
struct Line {
    child_id: String,
    name: String,
    status: String,
    engagement: String,
}

/// What the register form holds.
#[derive(Default)]
struct RegisterForm {
    csrf: String,
    held: DateParts,
    minutes: String,
    kind: String,
    lines: Vec<Line>,
}

impl RegisterForm {
    fn parse(fields: Fields) -> RegisterForm {
        let mut form = RegisterForm::default();
        for (k, v) in fields.pairs() {
            match k.as_str() {
                "csrf" => form.csrf = v,
                "held-on-day" => form.held.day = v,
                "held-on-month" => form.held.month = v,
                "held-on-year" => form.held.year = v,
                "minutes" => form.minutes = v,
                "kind" => form.kind = v,
                "child" => form.lines.push(Line { child_id: v, ..Line::default() }),
                other => {
                    if let Some((field, id)) = other.split_once(':')
                        && let Some(line) = form.lines.iter_mut().find(|l| l.child_id == id)
                    {
                        match field {
                            "status" => line.status = v,
                            "engagement" => line.engagement = v,
                            _ => {}
                        }
                    }
                }
            }
        }
        form
    }
}

/// The children placed on the programme (accepted or active), and its name.
async fn on_it(state: &AppState, signed: &Signed, programme: &str) -> Result<(String, Vec<Line>), Response> {
    let data = signed.ask(state, ON_IT, json!({ "p": programme })).await.map_err(|r| r.page(Some(&signed.who)))?;
    let mut lines = Vec::new();
    for list in ["accepted", "active"] {
        for e in data[list]["edges"].as_array().cloned().unwrap_or_default() {
            let c = &e["node"]["child"];
            let Some(id) = text(c, "id") else { continue };
            let label = format!("{} {}", name(c), text(c, "lastInitial").unwrap_or_default()).trim().to_owned();
            lines.push(Line { child_id: id.to_owned(), name: label, ..Line::default() });
        }
    }
    Ok((text(&data["programme"], "name").unwrap_or_default().to_owned(), lines))
}

fn register_page(signed: &Signed, programme: &str, title: &str, form: &RegisterForm, problems: &[Problem]) -> Response {
    let body = html! {
        a href="/registers" { "Back to registers" }
        span class="caption" { (title) }
        h1 { "Take a register" }
        (layout::form(&format!("/programmes/{programme}/register"), &signed.csrf, html! {
            (layout::date_input("held-on", "When was the session?", None, &form.held, problems))
            (layout::input("text", "minutes", "How long was it, in minutes?", None, &form.minutes, problems))
            (layout::choices("kind", "What kind of session was it?", KINDS, std::slice::from_ref(&form.kind), false, problems))
            h2 { "Who came" }
            @if form.lines.is_empty() { p { "No children are placed on this programme yet." } }
            @for (i, line) in form.lines.iter().enumerate() { (attendee(i, line, problems)) }
            button type="submit" class="button" { "Save the register" }
        }))
    };
    signed.page("Take a register", problems, body)
}

fn attendee(i: usize, line: &Line, problems: &[Problem]) -> Markup {
    let status_id = format!("status-{i}");
    let engagement_id = format!("engagement-{i}");
    let problem = problems
        .iter()
        .find(|p| p.field.as_deref() == Some(&format!("{status_id}-0")) || p.field.as_deref() == Some(&engagement_id));
    html! {
        div class={ "field" @if problem.is_some() { " field--error" } } {
            input type="hidden" name="child" value=(line.child_id);
            fieldset {
                legend { (line.name) }
                @if let Some(p) = problem {
                    p class="error-message" id={ (status_id) "-error" } { span class="visually-hidden" { "Error: " } (p.message) }
                }
                @for (j, (value, words)) in STATUSES.iter().enumerate() {
                    div class="choice" {
                        input type="radio" id={ (status_id) "-" (j) } name={ "status:" (line.child_id) } value=(value) checked[line.status == *value];
                        label for={ (status_id) "-" (j) } { (words) }
                    }
                }
                label for=(engagement_id) { "Engagement" }
                select id=(engagement_id) name={ "engagement:" (line.child_id) } {
                    @for (value, words) in ENGAGEMENT { option value=(value) selected[line.engagement == *value] { (words) } }
                }
            }
        }
    }
}

/// `GET /programmes/{id}/register`.
pub async fn form(State(state): State<Arc<AppState>>, signed: Signed, Path(id): Path<String>) -> Response {
    let (title, lines) = match on_it(&state, &signed, &id).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let form = RegisterForm {
        held: DateParts::of(crate::domain::validate::today()),
        minutes: "60".into(),
        kind: "GROUP".into(),
        lines,
        ..RegisterForm::default()
    };
    register_page(&signed, &id, &title, &form, &[])
}

/// The form's element for each field the API names (`attendees[2].status` → the third
/// child's first radio).
fn element(field: &str) -> Option<String> {
    let field = field.strip_prefix("input.").unwrap_or(field);
    if let Some(rest) = field.strip_prefix("attendees[") {
        let (i, what) = rest.split_once(']')?;
        return Some(if what.ends_with("engagement") { format!("engagement-{i}") } else { format!("status-{i}-0") });
    }
    match field {
        "heldOn" => Some("held-on-day".into()),
        "durationMinutes" => Some("minutes".into()),
        "kind" => Some("kind-0".into()),
        _ => None,
    }
}

/// `POST /programmes/{id}/register`: every child needs a status; the register is saved
/// whole, or not at all with every problem named.
pub async fn save(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Posted { signed, fields }: Posted,
) -> Response {
    let mut form = RegisterForm::parse(fields);
    // The names come from the record again, never from the form.
    let (title, placed) = match on_it(&state, &signed, &id).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    for line in &mut form.lines {
        line.name = placed.iter().find(|p| p.child_id == line.child_id).map(|p| p.name.clone()).unwrap_or_default();
    }
    let mut problems = Vec::new();
    let held_on = day_given(&form.held, "held-on", &mut problems);
    let minutes = minutes_given(&form.minutes, "minutes", &mut problems);
    for (i, line) in form.lines.iter().enumerate() {
        let who = if line.name.is_empty() { "this child" } else { &line.name };
        if !STATUSES.iter().any(|(s, _)| *s == line.status) {
            problems.push(Problem {
                field: Some(format!("status-{i}-0")),
                message: format!("Choose whether {who} attended"),
            });
        } else if line.status == "ATTENDED" && line.engagement.is_empty() {
            problems.push(Problem {
                field: Some(format!("engagement-{i}")),
                message: format!("Choose how engaged {who} was"),
            });
        }
    }
    if !problems.is_empty() {
        return register_page(&signed, &id, &title, &form, &problems);
    }
    let attendees: Vec<Value> = form
        .lines
        .iter()
        .map(|l| {
            let engagement = if l.engagement.is_empty() { Value::Null } else { json!(l.engagement) };
            json!({ "childId": l.child_id, "status": l.status, "engagement": engagement })
        })
        .collect();
    let input = json!({ "programmeId": id, "heldOn": held_on, "durationMinutes": minutes, "kind": form.kind, "attendees": attendees });
    match signed
        .ask(&state, "mutation($i: LogSessionInput!) { logSession(input: $i) { id } }", json!({ "i": input }))
        .await
    {
        Ok(_) => Redirect::to("/registers?done=register").into_response(),
        Err(r) if r.on_the_form() => register_page(&signed, &id, &title, &form, &r.problems(element)),
        Err(r) => r.page(Some(&signed.who)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_apis_field_names_lead_to_the_registers_elements() {
        assert_eq!(element("input.attendees[2].status").as_deref(), Some("status-2-0"));
        assert_eq!(element("attendees[0].engagement").as_deref(), Some("engagement-0"));
        assert_eq!(element("heldOn").as_deref(), Some("held-on-day"));
        assert_eq!(element("notes"), None);
        let form = RegisterForm::parse(Fields::parse(
            b"csrf=t&child=c1&status%3Ac1=ATTENDED&child=c2&engagement%3Ac2=DISENGAGED&status%3Ax=ABSENT",
        ));
        assert_eq!(form.lines.len(), 2);
        assert_eq!((form.lines[0].status.as_str(), form.lines[1].engagement.as_str()), ("ATTENDED", "DISENGAGED"));
        assert!(form.lines[1].status.is_empty(), "a status for a child not on the form is ignored");
    }
}
