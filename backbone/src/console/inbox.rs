//! A partner's referrals: the inbox (new, accepted, active), accepting one, and declining
//! one with a reason.

use super::Signed;
use super::form::Posted;
use super::home::name;
use super::layout::{self, Problem, text};
use crate::http::AppState;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

const TABS: &[(&str, &str)] = &[("NEW", "New"), ("ACCEPTED", "Accepted"), ("ACTIVE", "Active")];

#[derive(Deserialize, Default)]
pub struct Tab {
    state: Option<String>,
    after: Option<String>,
    done: Option<String>,
}

const QUERY: &str = "query($s: InboxState, $after: String) { referralsInbox(state: $s, first: 25, after: $after) { \
    edges { node { id status needs createdAt child { id firstName lastInitial age yearGroup } programme { name } \
    engagement { sessionsOffered sessionsAttended } } } pageInfo { hasNextPage endCursor } } }";

/// `GET /inbox`.
pub async fn show(State(state): State<Arc<AppState>>, signed: Signed, Query(tab): Query<Tab>) -> Response {
    let current = tab.state.as_deref().filter(|s| TABS.iter().any(|(t, _)| t == s)).unwrap_or("NEW");
    let data = match signed.ask(&state, QUERY, json!({ "s": current, "after": tab.after })).await {
        Ok(d) => d,
        Err(r) => return r.page(Some(&signed.who)),
    };
    let list = &data["referralsInbox"];
    let rows: Vec<Value> = list["edges"].as_array().cloned().unwrap_or_default();
    let banner = match tab.done.as_deref() {
        Some("accepted") => Some("The referral has been accepted."),
        Some("declined") => Some("The referral has been declined. The link worker has been told why."),
        _ => None,
    };
    let body = html! {
        @if let Some(b) = banner { (layout::banner(b)) }
        h1 { "Referrals" }
        nav aria-label="Referrals by state" {
            ul class="tabs" {
                @for (t, words) in TABS {
                    li { a href={ "/inbox?state=" (t) } aria-current=[(*t == current).then_some("page")] { (words) } }
                }
            }
        }
        @if rows.is_empty() { p { "There are no referrals here." } } @else {
            table {
                thead { tr { th scope="col" { "Child" } th scope="col" { "Programme" } th scope="col" { "Needs" } th scope="col" { "Attended" } @if current == "NEW" { th scope="col" { "Answer" } } } }
                tbody { @for e in &rows {
                    @let r = &e["node"];
                    @let id = text(r, "id").unwrap_or_default();
                    tr {
                        td { a href={ "/children/" (text(&r["child"], "id").unwrap_or_default()) } { (name(&r["child"])) " " (text(&r["child"], "lastInitial").unwrap_or_default()) }
                             br; span class="hint" { "Age " (r["child"]["age"]) ", year " (r["child"]["yearGroup"]) } }
                        td { (text(&r["programme"], "name").unwrap_or_default()) }
                        td { (layout::shown(text(r, "needs"))) }
                        td { (r["engagement"]["sessionsAttended"]) " of " (r["engagement"]["sessionsOffered"]) }
                        @if current == "NEW" {
                            td {
                                (layout::button_form(&format!("/referrals/{id}/accept"), &signed.csrf, "Accept", "button"))
                                a class="button button--secondary" href={ "/referrals/" (id) "/decline" } { "Decline" }
                            }
                        }
                    }
                } }
            }
            @if list["pageInfo"]["hasNextPage"] == true {
                nav class="pagination" aria-label="Pages of referrals" {
                    a href={ "/inbox?state=" (current) "&after=" (super::encode(text(&list["pageInfo"], "endCursor").unwrap_or_default())) } { "Next page" }
                }
            }
        }
    };
    signed.page("Referrals", &[], body)
}

const RESPOND: &str = "mutation($r: ID!, $a: Boolean!, $why: String) { respondToReferral(referralId: $r, accept: $a, reason: $why) { id status } }";

/// `POST /referrals/{id}/accept`.
pub async fn accept(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Posted { signed, .. }: Posted,
) -> Response {
    match signed.ask(&state, RESPOND, json!({ "r": id, "a": true, "why": null })).await {
        Ok(_) => Redirect::to("/inbox?done=accepted").into_response(),
        Err(r) => r.page(Some(&signed.who)),
    }
}

fn decline_page(signed: &Signed, id: &str, reason: &str, problems: &[Problem]) -> Response {
    let body = html! {
        a href="/inbox" { "Back to referrals" }
        h1 { "Decline the referral" }
        (layout::form(&format!("/referrals/{id}/decline"), &signed.csrf, html! {
            (layout::textarea("reason", "Why are you declining it?", Some("The link worker reads this: say what would help, for example when a place may be free."), reason, problems))
            button type="submit" class="button button--warning" { "Decline the referral" }
        }))
    };
    signed.page("Decline the referral", problems, body)
}

/// `GET /referrals/{id}/decline`.
pub async fn decline_form(signed: Signed, Path(id): Path<String>) -> Response {
    decline_page(&signed, &id, "", &[])
}

/// `POST /referrals/{id}/decline`: a reason is required.
pub async fn decline(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Posted { signed, fields }: Posted,
) -> Response {
    let reason = fields.get("reason");
    if reason.trim().is_empty() {
        let problem =
            Problem { field: Some("reason".into()), message: "Enter why you are declining the referral".into() };
        return decline_page(&signed, &id, &reason, &[problem]);
    }
    match signed.ask(&state, RESPOND, json!({ "r": id, "a": false, "why": reason })).await {
        Ok(_) => Redirect::to("/inbox?done=declined").into_response(),
        Err(r) if r.on_the_form() => {
            let problems = r.problems(|f| (f == "reason").then_some("reason"));
            decline_page(&signed, &id, &reason, &problems)
        }
        Err(r) => r.page(Some(&signed.who)),
    }
}
