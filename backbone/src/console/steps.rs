//! The steps of a child's record that are one short form each, described as data and run
//! by one pair of handlers: agreeing to take part, the lawful basis, enrolling, ending the
//! enrolment (exit), adding an adult around the child, and withdrawing a consent. Each
//! form asks its questions, checks what it can itself (a choice made, a date with its
//! three parts), then runs its mutation in-process as the signed-in person; the API's
//! refusal of a field is shown on that field, and nothing is written.

use super::Signed;
use super::form::{Fields, Posted};
use super::layout::{self, DateParts, Problem};
use crate::http::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// One question of a step's form.
struct Question {
    /// The form field's name (and element id).
    name: &'static str,
    /// The API's name for it (the input field or argument).
    api: &'static str,
    label: &'static str,
    hint: Option<&'static str>,
    kind: Kind,
}

enum Kind {
    /// One line of text; `optional` ones are left out when blank.
    Text { optional: bool },
    /// A longer text.
    Words { optional: bool },
    /// A day, month and year (today to begin with).
    Date,
    /// One of these (value, words), and what to say when none is chosen.
    Choice(&'static [(&'static str, &'static str)], &'static str),
    /// A yes-or-no box.
    Tick,
}

/// A step: its page, its questions and the mutation they answer.
pub struct Step {
    /// Its page's address after `/children/{id}/` (after `consents/{id}/` for a consent).
    slug: &'static str,
    title: &'static str,
    intro: &'static str,
    button: &'static str,
    /// What the child's page says once it is done (`?done=…`).
    pub done: &'static str,
    /// The mutation: `$i` is the input object, or (no `input_type`) each question is a
    /// variable of its own, with `$childId` (or `$recordId`) beside them.
    mutation: &'static str,
    input_type: Option<&'static str>,
    /// The record the step acts on, when not the child (the consent withdrawn): the
    /// API's name for its id.
    record: Option<&'static str>,
    questions: &'static [Question],
}

pub const PARTICIPATION: Step = Step {
    slug: "participation",
    title: "Agreement to take part",
    intro: "Who agreed that the child takes part in the zone's support, and when.",
    button: "Record the agreement",
    done: "The agreement to take part has been recorded.",
    mutation: "mutation($i: RecordParticipationInput!) { recordParticipation(input: $i) { id } }",
    input_type: Some("RecordParticipationInput"),
    record: None,
    questions: &[
        Question {
            name: "agreed-by",
            api: "agreedBy",
            label: "Who agreed?",
            hint: None,
            kind: Kind::Choice(super::consent::GIVERS, "Choose who agreed"),
        },
        Question {
            name: "agreed-by-name",
            api: "agreedByName",
            label: "Their name",
            hint: None,
            kind: Kind::Text { optional: false },
        },
        Question { name: "agreed-on", api: "agreedOn", label: "When did they agree?", hint: None, kind: Kind::Date },
        Question {
            name: "evidence",
            api: "evidence",
            label: "Evidence",
            hint: Some("Where the signed form is kept, for example \"Paper form, school office file\""),
            kind: Kind::Text { optional: false },
        },
    ],
};

pub const LAWFUL_BASIS: Step = Step {
    slug: "lawful-basis",
    title: "Lawful basis",
    intro: "The basis on which the partnership holds and shares the child's record, under its data-sharing agreement.",
    button: "Record the lawful basis",
    done: "The lawful basis has been recorded.",
    mutation: "mutation($i: RecordLawfulBasisInput!) { recordLawfulBasis(input: $i) { id } }",
    input_type: Some("RecordLawfulBasisInput"),
    record: None,
    questions: &[
        Question {
            name: "basis",
            api: "basis",
            label: "Which basis?",
            hint: None,
            kind: Kind::Choice(
                &[
                    ("PUBLIC_TASK", "Public task"),
                    ("LEGITIMATE_INTERESTS", "Legitimate interests"),
                    ("LEGAL_OBLIGATION", "Legal obligation"),
                    ("VITAL_INTERESTS", "Vital interests"),
                ],
                "Choose the lawful basis",
            ),
        },
        Question {
            name: "agreement",
            api: "dataSharingAgreement",
            label: "The data-sharing agreement's reference",
            hint: None,
            kind: Kind::Text { optional: false },
        },
    ],
};

pub const ENROL: Step = Step {
    slug: "enrol",
    title: "Enrol the child",
    intro: "Enrolling needs the agreement to take part and the lawful basis recorded first.",
    button: "Enrol",
    done: "The child has been enrolled.",
    mutation: "mutation($childId: ID!, $cohort: String!, $on: String) { enrol(childId: $childId, cohort: $cohort, on: $on) { id } }",
    input_type: None,
    record: None,
    questions: &[
        Question {
            name: "cohort",
            api: "cohort",
            label: "Cohort",
            hint: Some("The school year they join in, for example 2026/27"),
            kind: Kind::Text { optional: false },
        },
        Question { name: "on", api: "on", label: "When were they enrolled?", hint: None, kind: Kind::Date },
    ],
};

pub const EXIT: Step = Step {
    slug: "exit",
    title: "End the child's enrolment",
    intro: "The record is kept; open referrals stay as they are until their partners close them.",
    button: "End the enrolment",
    done: "The enrolment has ended.",
    mutation: "mutation($childId: ID!, $reason: ExitReason!, $note: String, $on: String) { exitChild(childId: $childId, reason: $reason, note: $note, on: $on) { id } }",
    input_type: None,
    record: None,
    questions: &[
        Question {
            name: "reason",
            api: "reason",
            label: "Why is it ending?",
            hint: None,
            kind: Kind::Choice(
                &[
                    ("MOVED_AWAY", "The family moved away"),
                    ("FAMILY_WITHDREW", "The family withdrew"),
                    ("STATUTORY_SERVICES", "Statutory services took over"),
                    ("DISENGAGED", "The child disengaged"),
                    ("OTHER", "Another reason"),
                ],
                "Choose why the enrolment is ending",
            ),
        },
        Question {
            name: "note",
            api: "note",
            label: "Anything to add (optional)",
            hint: None,
            kind: Kind::Words { optional: true },
        },
        Question { name: "on", api: "on", label: "When did it end?", hint: None, kind: Kind::Date },
    ],
};

pub const ADULT: Step = Step {
    slug: "adults/new",
    title: "Add an adult around the child",
    intro: "A parent, carer or trusted adult, and how they are involved.",
    button: "Add them",
    done: "The adult has been added.",
    mutation: "mutation($i: AddRelationshipInput!) { addRelationship(input: $i) { id } }",
    input_type: Some("AddRelationshipInput"),
    record: None,
    questions: &[
        Question {
            name: "kind",
            api: "kind",
            label: "Who are they to the child?",
            hint: None,
            kind: Kind::Choice(
                &[("PARENT", "A parent"), ("CARER", "A carer"), ("TRUSTED_ADULT", "A trusted adult")],
                "Choose who they are to the child",
            ),
        },
        Question { name: "name", api: "name", label: "Their name", hint: None, kind: Kind::Text { optional: false } },
        Question {
            name: "involvement",
            api: "involvement",
            label: "How are they involved?",
            hint: None,
            kind: Kind::Choice(
                &[
                    ("MAIN_CONTACT", "The main contact"),
                    ("ATTENDS_REVIEWS", "Comes to reviews"),
                    ("RECEIVES_UPDATES", "Receives updates"),
                    ("SUPPORTS_AT_HOME", "Supports at home"),
                    ("MENTOR", "A mentor"),
                ],
                "Choose how they are involved",
            ),
        },
        Question {
            name: "parental-responsibility",
            api: "parentalResponsibility",
            label: "They have parental responsibility",
            hint: None,
            kind: Kind::Tick,
        },
        Question {
            name: "phone",
            api: "phone",
            label: "Phone (optional)",
            hint: None,
            kind: Kind::Text { optional: true },
        },
    ],
};

pub const WITHDRAW: Step = Step {
    slug: "withdraw",
    title: "Withdraw a consent",
    intro: "The consent stays in the history, marked withdrawn; nothing more is shared under it.",
    button: "Withdraw the consent",
    done: "The consent has been withdrawn.",
    mutation: "mutation($i: WithdrawConsentInput!) { withdrawConsent(input: $i) { id } }",
    input_type: Some("WithdrawConsentInput"),
    record: Some("consentId"),
    questions: &[
        Question {
            name: "withdrawn-on",
            api: "withdrawnOn",
            label: "When was it withdrawn?",
            hint: None,
            kind: Kind::Date,
        },
        Question { name: "reason", api: "reason", label: "Why?", hint: None, kind: Kind::Words { optional: false } },
    ],
};

/// What was typed, by form field name (dates as their three parts, ticks as "yes").
type Answers = Map<String, Value>;

fn date_parts(answers: &Answers, name: &str) -> DateParts {
    let part = |p: &str| answers.get(&format!("{name}-{p}")).and_then(Value::as_str).unwrap_or_default().to_owned();
    DateParts { day: part("day"), month: part("month"), year: part("year") }
}

fn answer<'a>(answers: &'a Answers, name: &str) -> &'a str {
    answers.get(name).and_then(Value::as_str).unwrap_or_default()
}

fn page(
    signed: &Signed,
    step: &Step,
    action: &str,
    back: &str,
    child: &Value,
    answers: &Answers,
    problems: &[Problem],
) -> Response {
    let body = html! {
        a href=(back) { "Back to the child's record" }
        span class="caption" { (super::home::name(child)) }
        h1 { (step.title) }
        p { (step.intro) }
        (layout::form(action, &signed.csrf, html! {
            @for q in step.questions {
                @match q.kind {
                    Kind::Text { .. } => (layout::input("text", q.name, q.label, q.hint, answer(answers, q.name), problems)),
                    Kind::Words { .. } => (layout::textarea(q.name, q.label, q.hint, answer(answers, q.name), problems)),
                    Kind::Date => (layout::date_input(q.name, q.label, q.hint, &date_parts(answers, q.name), problems)),
                    Kind::Choice(options, _) => (layout::choices(q.name, q.label, options, &[answer(answers, q.name).to_owned()], false, problems)),
                    Kind::Tick => (layout::choices(q.name, q.label, &[("yes", "Yes")], &[answer(answers, q.name).to_owned()], true, problems)),
                }
            }
            button type="submit" class="button" { (step.button) }
        }))
    };
    signed.page(step.title, problems, body)
}

/// The element a problem with the API's field `field` links to.
fn element(step: &Step, field: &str) -> Option<String> {
    let api = field.rsplit('.').next().unwrap_or(field);
    step.questions.iter().find(|q| q.api == api).map(|q| match q.kind {
        Kind::Date => format!("{}-day", q.name),
        Kind::Choice(..) | Kind::Tick => format!("{}-0", q.name),
        Kind::Text { .. } | Kind::Words { .. } => q.name.to_owned(),
    })
}

/// The child the form is about, as the caller may see them (`NOT_FOUND` otherwise).
async fn child(state: &AppState, signed: &Signed, id: &str) -> Result<Value, Response> {
    let found =
        signed.ask(state, "query($c: ID!) { child(id: $c) { id firstName lastName } }", json!({ "c": id })).await;
    found.map(|d| d["child"].clone()).map_err(|r| r.page(Some(&signed.who)))
}

async fn show(
    state: &AppState,
    signed: &Signed,
    step: &Step,
    id: &str,
    record: Option<&str>,
    answers: &Answers,
    problems: &[Problem],
) -> Response {
    let (action, back) = paths(step, id, record);
    match child(state, signed, id).await {
        Ok(c) => page(signed, step, &action, &back, &c, answers, problems),
        Err(page) => page,
    }
}

fn paths(step: &Step, id: &str, record: Option<&str>) -> (String, String) {
    let back = format!("/children/{id}");
    let action = match record {
        Some(r) => format!("{back}/consents/{r}/{}", step.slug),
        None => format!("{back}/{}", step.slug),
    };
    (action, back)
}

/// Every date of the form today, to begin with.
fn first_answers(step: &Step) -> Answers {
    let today = DateParts::of(crate::domain::validate::today());
    let mut answers = Answers::new();
    for q in step.questions.iter().filter(|q| matches!(q.kind, Kind::Date)) {
        for (part, v) in [("day", &today.day), ("month", &today.month), ("year", &today.year)] {
            answers.insert(format!("{}-{part}", q.name), Value::String(v.clone()));
        }
    }
    answers
}

fn parse(fields: Fields) -> Answers {
    fields.pairs().into_iter().map(|(k, v)| (k, Value::String(v))).collect()
}

/// What the form can check itself, and the API's input from what was typed.
fn input(step: &Step, answers: &Answers) -> Result<Map<String, Value>, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut input = Map::new();
    for q in step.questions {
        let given = answer(answers, q.name).trim();
        let value = match &q.kind {
            Kind::Text { optional } | Kind::Words { optional } => {
                if given.is_empty() && *optional {
                    continue;
                }
                Value::String(given.to_owned())
            }
            Kind::Date => match super::form::day_given(&date_parts(answers, q.name), q.name, &mut problems) {
                Some(day) => Value::String(day),
                None => continue,
            },
            Kind::Choice(options, missing) => {
                if !options.iter().any(|(v, _)| *v == given) {
                    problems.push(Problem { field: Some(format!("{}-0", q.name)), message: (*missing).to_owned() });
                    continue;
                }
                Value::String(given.to_owned())
            }
            Kind::Tick => Value::Bool(given == "yes"),
        };
        input.insert(q.api.to_owned(), value);
    }
    if problems.is_empty() { Ok(input) } else { Err(problems) }
}

async fn submit(
    state: &AppState,
    signed: &Signed,
    step: &Step,
    id: &str,
    record: Option<&str>,
    answers: Answers,
) -> Response {
    let mut given = match input(step, &answers) {
        Ok(given) => given,
        Err(problems) => return show(state, signed, step, id, record, &answers, &problems).await,
    };
    match (step.record, record) {
        (Some(name), Some(r)) => given.insert(name.to_owned(), json!(r)),
        _ => given.insert("childId".to_owned(), json!(id)),
    };
    let variables = if step.input_type.is_some() { json!({ "i": given }) } else { Value::Object(given) };
    match signed.ask(state, step.mutation, variables).await {
        Ok(_) => Redirect::to(&format!("/children/{id}?done={}", step.slug.replace('/', "-"))).into_response(),
        Err(r) if r.on_the_form() => {
            let problems = r.problems(|f| element(step, f));
            show(state, signed, step, id, record, &answers, &problems).await
        }
        Err(r) => r.page(Some(&signed.who)),
    }
}

/// The step of the child's record at `/children/{id}/{slug}`.
fn step_at(slug: &str) -> Option<&'static Step> {
    [&PARTICIPATION, &LAWFUL_BASIS, &ENROL, &EXIT].into_iter().find(|s| s.slug == slug)
}

/// The banner of the step `done` names, for the child's page.
pub fn done_banner(done: &str) -> Option<&'static str> {
    [&PARTICIPATION, &LAWFUL_BASIS, &ENROL, &EXIT, &ADULT, &WITHDRAW]
        .into_iter()
        .find(|s| s.slug.replace('/', "-") == done)
        .map(|s| s.done)
}

/// `GET /children/{id}/{step}` (participation, lawful-basis, enrol, exit).
pub async fn form(
    State(state): State<Arc<AppState>>,
    signed: Signed,
    Path((id, step)): Path<(String, String)>,
) -> Response {
    match step_at(&step) {
        Some(step) => show(&state, &signed, step, &id, None, &first_answers(step), &[]).await,
        None => super::Refusal::not_found(&signed).page(Some(&signed.who)),
    }
}

/// `POST /children/{id}/{step}`.
pub async fn save(
    State(state): State<Arc<AppState>>,
    Path((id, step)): Path<(String, String)>,
    Posted { signed, fields }: Posted,
) -> Response {
    match step_at(&step) {
        Some(step) => submit(&state, &signed, step, &id, None, parse(fields)).await,
        None => super::Refusal::not_found(&signed).page(Some(&signed.who)),
    }
}

/// `GET /children/{id}/adults/new`.
pub async fn adult_form(State(state): State<Arc<AppState>>, signed: Signed, Path(id): Path<String>) -> Response {
    show(&state, &signed, &ADULT, &id, None, &first_answers(&ADULT), &[]).await
}

/// `POST /children/{id}/adults/new`: runs `addRelationship`.
pub async fn add_adult(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Posted { signed, fields }: Posted,
) -> Response {
    submit(&state, &signed, &ADULT, &id, None, parse(fields)).await
}

/// `GET /children/{id}/consents/{consent}/withdraw`.
pub async fn withdraw_form(
    State(state): State<Arc<AppState>>,
    signed: Signed,
    Path((id, consent)): Path<(String, String)>,
) -> Response {
    show(&state, &signed, &WITHDRAW, &id, Some(&consent), &first_answers(&WITHDRAW), &[]).await
}

/// `POST /children/{id}/consents/{consent}/withdraw`: runs `withdrawConsent`.
pub async fn withdraw(
    State(state): State<Arc<AppState>>,
    Path((id, consent)): Path<(String, String)>,
    Posted { signed, fields }: Posted,
) -> Response {
    submit(&state, &signed, &WITHDRAW, &id, Some(&consent), parse(fields)).await
}
