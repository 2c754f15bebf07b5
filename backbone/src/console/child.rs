//! A child's page — the record as the caller's view shows it: details, participation, the
//! adults around the child, consent history, referrals with engagement, recent contacts,
//! notes — and the forms to log a contact and to add a progress note.

use super::Signed;
use super::form::{Fields, Posted, day_given, minutes_given};
use super::home::name;
use super::layout::{self, DateParts, Problem, shown, text};
use crate::http::AppState;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

const QUERY: &str = "query($c: ID!) { child(id: $c) { id firstName lastName dateOfBirth age yearGroup upn \
    contactPhone contactEmail postcode anchor { name } \
    enrolment { status cohort linkWorker { displayName } } \
    relationships { kind name involvement parentalResponsibility phone } \
    consents { id givenBy givenOn withdrawn withdrawnOn purposes partners { name } } \
    supportPackage { referrals { id status programme { name } partner { name } needs \
      engagement { sessionsOffered sessionsAttended attendanceRate } } } \
    contacts(first: 10) { edges { node { heldOn minutes kind withWhom content linkWorker { displayName } } } } \
    progressNotes { body createdAt organisation { name } } } }";

#[derive(Deserialize, Default)]
pub struct Done {
    done: Option<String>,
}

/// `GET /children/{id}`.
pub async fn show(
    State(state): State<Arc<AppState>>,
    signed: Signed,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Response {
    let data = match signed.ask(&state, QUERY, json!({ "c": id })).await {
        Ok(d) => d,
        Err(r) => return r.page(Some(&signed.who)),
    };
    let c = &data["child"];
    let title = name(c);
    let may_log = crate::access::does_casework(&signed.actor);
    let body = html! {
        @if done.done.as_deref() == Some("contact") { (layout::banner("The contact has been logged.")) }
        @if done.done.as_deref() == Some("note") { (layout::banner("The note has been added.")) }
        @if done.done.as_deref() == Some("proposed") { (layout::banner("The referral has been proposed. Send it to the partner when you are ready.")) }
        @if done.done.as_deref() == Some("consent") { (layout::banner("The consent has been recorded.")) }
        @if done.done.as_deref() == Some("sent") { (layout::banner("The referral has been sent to the partner.")) }
        @if let Some(words) = done.done.as_deref().and_then(super::steps::done_banner) { (layout::banner(words)) }
        span class="caption" { (text(&c["anchor"], "name").unwrap_or_default()) }
        h1 { (title) }
        @if may_log {
            a class="button" href={ "/children/" (id) "/contacts/new" } { "Log a contact" }
            a class="button button--secondary" href={ "/children/" (id) "/refer" } { "Refer to a programme" }
            a class="button button--secondary" href={ "/children/" (id) "/consent" } { "Record consent" }
        }
        a class="button button--secondary" href={ "/children/" (id) "/notes/new" } { "Add a progress note" }
        @if may_log {
            a class="button button--secondary" href={ "/children/" (id) "/family-report" } { "Family report (to print)" }
        }
        (details(c))
        @if may_log { (steps(&id, text(&c["enrolment"], "status").unwrap_or_default())) }
        (adults(c))
        @if may_log { a href={ "/children/" (id) "/adults/new" } { "Add an adult around the child" } }
        (consents(c, may_log.then_some(id.as_str())))
        (referrals(c, may_log.then_some(signed.csrf.as_str())))
        (contacts(c))
        (notes(c))
    };
    signed.page(&title, &[], body)
}

fn details(c: &Value) -> Markup {
    let enrolment = &c["enrolment"];
    layout::summary(&[
        ("Date of birth", shown(text(c, "dateOfBirth").map(layout::day).as_deref())),
        ("Age", html! { (c["age"]) }),
        ("Year group", html! { (c["yearGroup"]) }),
        ("UPN", shown(text(c, "upn"))),
        ("Phone", shown(text(c, "contactPhone"))),
        ("Email", shown(text(c, "contactEmail"))),
        ("Postcode", shown(text(c, "postcode"))),
        ("Status", shown(text(enrolment, "status").map(layout::words).as_deref())),
        ("Cohort", shown(text(enrolment, "cohort"))),
        ("Link worker", shown(text(&enrolment["linkWorker"], "displayName"))),
    ])
}

/// The next steps of the record the link worker can take from here, by its status.
fn steps(id: &str, status: &str) -> Markup {
    let links: &[(&str, &str)] = match status {
        "IDENTIFIED" | "CONSENTED" => &[
            ("participation", "Record the agreement to take part"),
            ("lawful-basis", "Record the lawful basis"),
            ("enrol", "Enrol"),
        ],
        "ENROLLED" | "ACTIVE" => &[("exit", "End the enrolment")],
        _ => &[],
    };
    html! {
        @if !links.is_empty() {
            ul class="actions" {
                @for (slug, words) in links { li { a href={ "/children/" (id) "/" (slug) } { (words) } } }
            }
        }
    }
}

fn list(v: &Value) -> Vec<Value> {
    v.as_array().cloned().unwrap_or_default()
}

fn adults(c: &Value) -> Markup {
    let rows = list(&c["relationships"])
        .iter()
        .map(|r| {
            vec![
                shown(text(r, "name")),
                html! { (layout::words(text(r, "kind").unwrap_or_default()))
                @if r["parentalResponsibility"] == true { " (parental responsibility)" } },
                html! { (layout::words(text(r, "involvement").unwrap_or_default())) },
                shown(text(r, "phone")),
            ]
        })
        .collect();
    layout::section(
        "The adults around the child",
        "None recorded, or not shown to you.",
        &["Name", "Relationship", "Involvement", "Phone"],
        rows,
    )
}

/// The consent history; with the child's id (the link worker's page), a consent in force
/// can be withdrawn.
fn consents(c: &Value, child: Option<&str>) -> Markup {
    let rows = list(&c["consents"])
        .iter()
        .map(|r| {
            let partners = list(&r["partners"]).iter().filter_map(|p| text(p, "name")).collect::<Vec<_>>().join(", ");
            let consent = text(r, "id").unwrap_or_default();
            vec![
                html! { (layout::words(text(r, "givenBy").unwrap_or_default())) },
                html! { (layout::day(text(r, "givenOn").unwrap_or_default())) },
                html! { (partners) },
                html! {
                    @if r["withdrawn"] == true { "Withdrawn " (layout::day(text(r, "withdrawnOn").unwrap_or_default())) }
                    @else {
                        "In force"
                        @if let Some(id) = child {
                            " " a href={ "/children/" (id) "/consents/" (consent) "/withdraw" } { "Withdraw" span class="visually-hidden" { " this consent" } }
                        }
                    }
                },
            ]
        })
        .collect();
    layout::section(
        "Consent to share",
        "No consent recorded, or not shown to you.",
        &["Given by", "On", "With", "State"],
        rows,
    )
}

/// The support package; with `csrf` (the link worker's page), a proposed referral has
/// its Send button.
fn referrals(c: &Value, csrf: Option<&str>) -> Markup {
    let rows = list(&c["supportPackage"]["referrals"])
        .iter()
        .map(|r| {
            let e = &r["engagement"];
            vec![
                html! { (text(&r["programme"], "name").unwrap_or_default()) },
                html! { (text(&r["partner"], "name").unwrap_or_default()) },
                html! {
                    span class="tag" { (layout::words(text(r, "status").unwrap_or_default())) }
                    @if let (Some(csrf), Some("PROPOSED")) = (csrf, text(r, "status")) {
                        " " (layout::button_form(&format!("/referrals/{}/send", text(r, "id").unwrap_or_default()), csrf, "Send to the partner", "button button--secondary"))
                    }
                },
                html! { (e["sessionsAttended"]) " of " (e["sessionsOffered"])
                        @if let Some(rate) = e["attendanceRate"].as_f64() { " (" (format!("{:.0}", rate * 100.0)) "%)" } },
            ]
        })
        .collect();
    layout::section("Support package", "No referrals.", &["Programme", "Partner", "Status", "Attended"], rows)
}

fn contacts(c: &Value) -> Markup {
    let rows = list(&c["contacts"]["edges"])
        .iter()
        .map(|e| {
            let n = &e["node"];
            let with =
                list(&n["withWhom"]).iter().filter_map(Value::as_str).map(layout::words).collect::<Vec<_>>().join(", ");
            vec![
                html! { (layout::day(text(n, "heldOn").unwrap_or_default())) },
                html! { (layout::words(text(n, "kind").unwrap_or_default())) },
                html! { (with) },
                html! { (n["minutes"]) },
                shown(text(n, "content")),
            ]
        })
        .collect();
    layout::section(
        "Recent contacts",
        "None recorded, or not shown to you.",
        &["On", "Kind", "With", "Minutes", "What happened"],
        rows,
    )
}

fn notes(c: &Value) -> Markup {
    let rows = list(&c["progressNotes"]);
    html! {
        h2 { "Progress notes" }
        @if rows.is_empty() { p { "None you may read." } } @else {
            @for n in &rows {
                div class="summary" {
                    p { strong { (text(&n["organisation"], "name").unwrap_or_default()) } ", " (layout::day(text(n, "createdAt").unwrap_or_default())) }
                    p { (shown(text(n, "body"))) }
                }
            }
        }
    }
}

const KINDS: &[(&str, &str)] =
    &[("INFORMAL", "Informal (a chat, a check-in)"), ("FORMAL", "Formal (a planned meeting)")];
const PARTIES: &[(&str, &str)] = &[
    ("CHILD", "The child"),
    ("PARENT", "A parent or carer"),
    ("TRUSTED_ADULT", "A trusted adult"),
    ("SCHOOL_STAFF", "School staff"),
];

/// What the contact form holds (`with-whom` comes as repeated fields).
#[derive(Default)]
pub struct ContactForm {
    csrf: String,
    day: String,
    month: String,
    year: String,
    minutes: String,
    kind: String,
    with_whom: Vec<String>,
    content: String,
}

impl ContactForm {
    fn parse(fields: Fields) -> ContactForm {
        let mut form = ContactForm::default();
        for (k, v) in fields.pairs() {
            match k.as_str() {
                "csrf" => form.csrf = v,
                "held-on-day" => form.day = v,
                "held-on-month" => form.month = v,
                "held-on-year" => form.year = v,
                "minutes" => form.minutes = v,
                "kind" => form.kind = v,
                "with-whom" => form.with_whom.push(v),
                "content" => form.content = v,
                _ => {}
            }
        }
        form
    }
}

fn contact_page(signed: &Signed, id: &str, form: &ContactForm, problems: &[Problem]) -> Response {
    let held = DateParts { day: form.day.clone(), month: form.month.clone(), year: form.year.clone() };
    let body = html! {
        a href={ "/children/" (id) } { "Back to the child's record" }
        h1 { "Log a contact" }
        (layout::form(&format!("/children/{id}/contacts/new"), &signed.csrf, html! {
            (layout::date_input("held-on", "When was it?", Some("For example, 27 3 2026"), &held, problems))
            (layout::input("text", "minutes", "How long was it, in minutes?", None, &form.minutes, problems))
            (layout::choices("kind", "What kind of contact was it?", KINDS, std::slice::from_ref(&form.kind), false, problems))
            (layout::choices("with-whom", "Who was it with?", PARTIES, &form.with_whom, true, problems))
            (layout::textarea("content", "What happened?", Some("Do not write anything you would not want the family to read."), &form.content, problems))
            button type="submit" class="button" { "Log the contact" }
        }))
    };
    signed.page("Log a contact", problems, body)
}

/// `GET /children/{id}/contacts/new`.
pub async fn contact_form(signed: Signed, Path(id): Path<String>) -> Response {
    let today = DateParts::of(crate::domain::validate::today());
    let form = ContactForm { day: today.day, month: today.month, year: today.year, ..ContactForm::default() };
    contact_page(&signed, &id, &form, &[])
}

/// The form's element for each field the API names.
fn contact_element(field: &str) -> Option<&'static str> {
    match field.rsplit('.').next().unwrap_or(field) {
        "heldOn" => Some("held-on-day"),
        "minutes" => Some("minutes"),
        "kind" => Some("kind-0"),
        "withWhom" => Some("with-whom-0"),
        "content" => Some("content"),
        _ => None,
    }
}

/// `POST /children/{id}/contacts/new`: runs `logContact`; the form comes back with every
/// problem named, and nothing written, when it is refused.
pub async fn log_contact(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Posted { signed, fields }: Posted,
) -> Response {
    let form = ContactForm::parse(fields);
    // What the form itself can tell before asking: a date with all three parts, a number.
    let mut problems = Vec::new();
    let held = DateParts { day: form.day.clone(), month: form.month.clone(), year: form.year.clone() };
    let held_on = day_given(&held, "held-on", &mut problems);
    let minutes = minutes_given(&form.minutes, "minutes", &mut problems);
    if !KINDS.iter().any(|(k, _)| *k == form.kind) {
        problems.push(Problem { field: Some("kind-0".into()), message: "Choose what kind of contact it was".into() });
    }
    if form.with_whom.is_empty() || !form.with_whom.iter().all(|w| PARTIES.iter().any(|(p, _)| p == w)) {
        problems.push(Problem { field: Some("with-whom-0".into()), message: "Choose who it was with".into() });
    }
    if !problems.is_empty() {
        return contact_page(&signed, &id, &form, &problems);
    }
    let input = json!({ "childId": id, "heldOn": held_on, "minutes": minutes, "kind": form.kind,
        "withWhom": form.with_whom, "content": form.content });
    let mutation = "mutation($i: LogContactInput!) { logContact(input: $i) { id } }";
    match signed.ask(&state, mutation, json!({ "i": input })).await {
        Ok(_) => Redirect::to(&format!("/children/{id}?done=contact")).into_response(),
        Err(r) if r.on_the_form() => contact_page(&signed, &id, &form, &r.problems(contact_element)),
        Err(r) => r.page(Some(&signed.who)),
    }
}

const VISIBILITIES: &[(&str, &str)] = &[
    ("SHARED_WITH_LINK_WORKER", "Your organisation and the child's link worker"),
    ("ORGANISATION", "Your organisation only"),
];

fn note_page(signed: &Signed, id: &str, body_text: &str, visibility: &str, problems: &[Problem]) -> Response {
    let body = html! {
        a href={ "/children/" (id) } { "Back to the child's record" }
        h1 { "Add a progress note" }
        (layout::form(&format!("/children/{id}/notes/new"), &signed.csrf, html! {
            (layout::textarea("body", "What is the note?", Some("How the child is getting on. A safeguarding concern goes to the designated safeguarding lead, not here."), body_text, problems))
            (layout::choices("visibility", "Who may read it?", VISIBILITIES, &[visibility.to_owned()], false, problems))
            button type="submit" class="button" { "Add the note" }
        }))
    };
    signed.page("Add a progress note", problems, body)
}

/// `GET /children/{id}/notes/new`.
pub async fn note_form(signed: Signed, Path(id): Path<String>) -> Response {
    note_page(&signed, &id, "", "SHARED_WITH_LINK_WORKER", &[])
}

/// `POST /children/{id}/notes/new`: runs `addProgressNote`.
pub async fn add_note(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Posted { signed, fields }: Posted,
) -> Response {
    let (text_, visibility) = (fields.get("body"), fields.get("visibility"));
    let mut problems = Vec::new();
    if text_.trim().is_empty() {
        problems.push(Problem { field: Some("body".into()), message: "Enter the note".into() });
    }
    if !VISIBILITIES.iter().any(|(v, _)| *v == visibility) {
        problems.push(Problem { field: Some("visibility-0".into()), message: "Choose who may read it".into() });
    }
    if !problems.is_empty() {
        return note_page(&signed, &id, &text_, &visibility, &problems);
    }
    let input = json!({ "childId": id, "body": text_, "visibility": visibility });
    let mutation = "mutation($i: AddProgressNoteInput!) { addProgressNote(input: $i) { id } }";
    match signed.ask(&state, mutation, json!({ "i": input })).await {
        Ok(_) => Redirect::to(&format!("/children/{id}?done=note")).into_response(),
        Err(r) if r.on_the_form() => {
            let problems = r.problems(|f| match f.rsplit('.').next().unwrap_or(f) {
                "body" => Some("body"),
                "visibility" => Some("visibility-0"),
                _ => None,
            });
            note_page(&signed, &id, &text_, &visibility, &problems)
        }
        Err(r) => r.page(Some(&signed.who)),
    }
}
