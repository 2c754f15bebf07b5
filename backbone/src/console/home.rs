//! The home page: for a link worker or anchor lead, the worklist and the children (search
//! by name, filter by status, a page at a time); partners' staff go to their referrals.

use super::Signed;
use super::layout::{self, Problem, text};
use crate::domain::Role;
use crate::http::AppState;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

#[derive(Deserialize, Default)]
pub struct Filters {
    #[serde(default)]
    name: String,
    #[serde(default)]
    status: String,
    after: Option<String>,
}

const STATUSES: &[(&str, &str)] = &[
    ("", "Any status"),
    ("IDENTIFIED", "Identified"),
    ("CONSENTED", "Consented"),
    ("ENROLLED", "Enrolled"),
    ("ACTIVE", "Active"),
    ("COMPLETED", "Completed"),
    ("EXITED", "Exited"),
];

const QUERY: &str = "query($f: ChildFilter, $after: String) { \
    worklist(first: 20) { edges { node { kind why since child { id firstName lastName } programme { id name } breakGlass { id } } } pageInfo { hasNextPage } } \
    children(filter: $f, first: 25, after: $after) { edges { node { id firstName lastName yearGroup enrolment { status } } } pageInfo { hasNextPage endCursor } } }";

/// `GET /`.
pub async fn show(State(state): State<Arc<AppState>>, signed: Signed, Query(f): Query<Filters>) -> Response {
    match signed.actor.role {
        Role::LinkWorker | Role::AnchorLead => {}
        Role::PartnerWorker | Role::PartnerLead => return Redirect::to("/inbox").into_response(),
        Role::Funder | Role::BackboneAnalyst | Role::BackboneAdmin | Role::System => {
            return Redirect::to("/dashboard").into_response();
        }
    }
    let mut filter = json!({});
    if !f.name.trim().is_empty() {
        filter["name"] = json!(f.name.trim());
    }
    if STATUSES.iter().any(|(v, _)| !v.is_empty() && *v == f.status) {
        filter["status"] = json!(f.status);
    }
    let answer = signed.ask(&state, QUERY, json!({ "f": filter, "after": f.after })).await;
    let (data, problems) = match answer {
        Ok(data) => (data, vec![]),
        Err(r) if r.on_the_form() => {
            let problems = r.problems(|field| (field.ends_with("name")).then_some("name"));
            (Value::Null, problems)
        }
        Err(r) => return r.page(Some(&signed.who)),
    };
    let body = html! {
        h1 { "Your worklist" }
        (worklist(&data["worklist"]))
        h2 id="children" { "Children" }
        a class="button button--secondary" href="/children/new" { "Identify a child" }
        (search(&f, &problems))
        (children(&data["children"], &f))
    };
    signed.page("Your worklist", &problems, body)
}

fn worklist(list: &Value) -> Markup {
    let items = list["edges"].as_array().cloned().unwrap_or_default();
    html! {
        @if items.is_empty() {
            p { "Nothing needs you today." }
        } @else {
            table {
                caption class="visually-hidden" { "What needs you, most urgent first" }
                thead { tr { th scope="col" { "What" } th scope="col" { "About" } th scope="col" { "Why" } th scope="col" { "Since" } } }
                tbody {
                    @for e in &items {
                        @let n = &e["node"];
                        tr {
                            td { span class="tag" { (layout::words(text(n, "kind").unwrap_or_default())) } }
                            td {
                                @if let Some(id) = text(&n["child"], "id") {
                                    a href={ "/children/" (id) } { (name(&n["child"])) }
                                } @else if let Some(p) = text(&n["programme"], "name") {
                                    (p)
                                }
                            }
                            td {
                                (text(n, "why").unwrap_or_default())
                                @if let Some(b) = text(&n["breakGlass"], "id") {
                                    " " a href={ "/break-glass/" (b) } { "Review" span class="visually-hidden" { " the opening" } }
                                }
                            }
                            td { (layout::day(text(n, "since").unwrap_or_default())) }
                        }
                    }
                }
            }
            @if list["pageInfo"]["hasNextPage"] == true { p { "Showing the 20 most urgent." } }
        }
    }
}

/// A child's name as the caller's view shows it.
pub fn name(child: &Value) -> String {
    [text(child, "firstName"), text(child, "lastName")].into_iter().flatten().collect::<Vec<_>>().join(" ")
}

fn search(f: &Filters, problems: &[Problem]) -> Markup {
    html! {
        form method="get" action="/" class="search" role="search" {
            (layout::input("search", "name", "Name", Some("Any part of a first or last name"), &f.name, problems))
            div class="field" {
                label for="status" { "Status" }
                select id="status" name="status" {
                    @for (value, words) in STATUSES {
                        option value=(value) selected[*value == f.status] { (words) }
                    }
                }
            }
            button type="submit" class="button button--secondary" { "Search" }
        }
    }
}

fn children(list: &Value, f: &Filters) -> Markup {
    let rows = list["edges"].as_array().cloned().unwrap_or_default();
    let next = list["pageInfo"]["hasNextPage"] == true;
    let cursor = text(&list["pageInfo"], "endCursor").unwrap_or_default();
    html! {
        @if rows.is_empty() {
            p { "No children match." }
        } @else {
            table {
                thead { tr { th scope="col" { "Name" } th scope="col" { "Year" } th scope="col" { "Status" } } }
                tbody {
                    @for e in &rows {
                        @let c = &e["node"];
                        tr {
                            td { a href={ "/children/" (text(c, "id").unwrap_or_default()) } { (name(c)) } }
                            td { (c["yearGroup"]) }
                            td { (layout::words(text(&c["enrolment"], "status").unwrap_or("not enrolled"))) }
                        }
                    }
                }
            }
            @if next {
                nav class="pagination" aria-label="Pages of children" {
                    a href={ "/?name=" (super::encode(&f.name)) "&status=" (super::encode(&f.status)) "&after=" (super::encode(cursor)) "#children" } { "Next page" }
                }
            }
        }
    }
}
