//! The console: server-rendered pages for the people who work in the zone — link
//! workers, partners' staff, anchor leads — served by the same binary at `/`.
//!
//! **Every page runs GraphQL operations in-process** ([`Signed::ask`]) as the signed-in
//! [`Actor`], through the same schema as `/graphql`: the same access rules, field views,
//! validation, audit (each child a page shows is a `child.read`), events and limits. The
//! console's code holds no SQL, no access decision and no audit call: it turns a form into
//! an operation's variables, and the answer (or its errors) into a page.
//!
//! **Sessions** are the API's opaque tokens, of their own kind (`auth::TokenKind::Console`,
//! stored as a digest, revoked by signing out or when an admin disables the account),
//! carried in an `HttpOnly`, `SameSite=Strict` cookie (`Secure` unless the service
//! listens on loopback), living `auth.console_session_hours` at most and ended after
//! `auth.console_idle_minutes` without a request.
//! **Every form carries a CSRF token** derived from the session's own secret
//! ([`csrf_token`]); the sign-in form, before there is a session, a random one kept in a
//! cookie of its own. Pages work without JavaScript: every action is a plain form.
//!
//! Errors are mapped to pages once ([`Refusal::page`]): `NOT_FOUND` 404, `FORBIDDEN` 403,
//! `UNAUTHENTICATED` back to the sign-in page, `INTERNAL` 500 with the request id; a
//! form's `INVALID_INPUT` and `CONFLICT` come back on the form, with the error summary
//! linking to each field.

mod candidates;
mod child;
mod consent;
mod dashboard;
mod form;
mod home;
mod identify;
mod inbox;
pub mod layout;
mod programmes;
mod referrals;
mod registers;
mod rights;
mod sign_in;
mod steps;

use crate::auth::{self, Actor, ClientAddress};
use crate::error::Error;
use crate::http::AppState;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use layout::{Problem, Who};
use maud::{Markup, html};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// The session cookie.
pub const SESSION_COOKIE: &str = "backbone_session";

/// The console's routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(home::show))
        .route("/console.css", get(stylesheet))
        .route("/sign-in", get(sign_in::show).post(sign_in::submit))
        .route("/sign-out", post(sign_in::sign_out))
        .route("/children/new", get(identify::form).post(identify::identify))
        .route("/candidates", get(candidates::list))
        .route("/candidates/{id}/accept", get(identify::accept_form).post(identify::accept))
        .route("/candidates/{id}/dismiss", post(candidates::dismiss))
        .route("/children/{id}", get(child::show))
        .route("/children/{id}/contacts/new", get(child::contact_form).post(child::log_contact))
        .route("/children/{id}/notes/new", get(child::note_form).post(child::add_note))
        .route("/children/{id}/family-report", get(rights::family_report))
        .route("/children/{id}/refer", get(referrals::form).post(referrals::propose))
        .route("/children/{id}/consent", get(consent::form).post(consent::record))
        .route("/children/{id}/adults/new", get(steps::adult_form).post(steps::add_adult))
        .route("/children/{id}/consents/{consent}/withdraw", get(steps::withdraw_form).post(steps::withdraw))
        // Participation, lawful basis, enrol, exit (`steps::step_at`); a fixed address above wins.
        .route("/children/{id}/{step}", get(steps::form).post(steps::save))
        .route("/referrals/{id}/send", post(referrals::send))
        .route("/break-glass/{id}", get(rights::opening))
        .route("/break-glass/{id}/review", post(rights::review))
        .route("/inbox", get(inbox::show))
        .route("/referrals/{id}/accept", post(inbox::accept))
        .route("/referrals/{id}/decline", get(inbox::decline_form).post(inbox::decline))
        .route("/registers", get(registers::list))
        .route("/dashboard", get(dashboard::show))
        .route("/programmes/{id}/register", get(registers::form).post(registers::save))
        .route("/programmes/new", get(programmes::new_form).post(programmes::create))
        .route("/programmes/{id}", get(programmes::edit_form).post(programmes::update))
}

async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        layout::STYLESHEET,
    )
        .into_response()
}

/// The CSRF token of a session: a digest of its secret, so it is known only to whoever
/// holds the cookie, and ends with the session.
pub fn csrf_token(session_token: &str) -> String {
    hex::encode(Sha256::digest(format!("backbone console form:{session_token}").as_bytes()))
}

/// Compares two strings in time that does not depend on where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// A `Set-Cookie` value: `HttpOnly`, `SameSite=Strict`, `Path=/`, `Secure` unless on
/// loopback; `max_age` 0 clears it.
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if state.cookies_secure {
        c.push_str("; Secure");
    }
    if let Some(secs) = max_age {
        c.push_str(&format!("; Max-Age={secs}"));
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string())
}

/// To the sign-in page, coming back to `to` afterwards (a path of the console only).
fn to_sign_in(to: &str) -> Response {
    let back = if to.starts_with('/') && !to.starts_with("//") && to != "/" {
        format!("?next={}", encode(to))
    } else {
        String::new()
    };
    Redirect::to(&format!("/sign-in{back}")).into_response()
}

/// Percent-encodes a query value.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A signed-in request: who, and what the page needs to act for them.
pub struct Signed {
    pub actor: Actor,
    pub who: Who,
    pub csrf: String,
    request_id: String,
    client: ClientAddress,
}

/// The navigation each role's header offers.
fn nav(role: crate::domain::Role) -> Vec<(&'static str, &'static str)> {
    use crate::domain::Role;
    match role {
        Role::LinkWorker | Role::AnchorLead => vec![("/", "Worklist and children"), ("/candidates", "Candidates")],
        Role::PartnerWorker | Role::PartnerLead => vec![("/inbox", "Referrals"), ("/registers", "Registers")],
        Role::Funder | Role::BackboneAnalyst | Role::BackboneAdmin | Role::System => vec![("/dashboard", "Dashboard")],
    }
}

impl FromRequestParts<Arc<AppState>> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Signed, Response> {
        let here = parts.uri.path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "/".into());
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else { return Err(to_sign_in(&here)) };
        let request_id = request_id(&parts.headers);
        let peer =
            parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().cloned().map(axum::Extension);
        let client = crate::http::client_address(&parts.headers, peer, &state.trusted_proxies);
        let actor = match auth::authenticate_session(
            &state.db,
            &token,
            state.allow_demo_logins,
            state.auth.console_idle_minutes,
            Some(request_id.clone()),
        )
        .await
        {
            Ok(actor) => actor,
            Err(Error::Unauthenticated(_)) => {
                let mut out = to_sign_in(&here);
                out.headers_mut().insert(header::SET_COOKIE, set_cookie(state, SESSION_COOKIE, "", Some(0)));
                return Err(out);
            }
            Err(e) => return Err(Refusal::from_error(&e, &request_id).page(None)),
        };
        let mut signed = Signed {
            who: Who {
                name: String::new(),
                organisation: String::new(),
                role: String::new(),
                nav: nav(actor.role),
                csrf: csrf_token(&token),
            },
            csrf: csrf_token(&token),
            actor,
            request_id,
            client,
        };
        let me = signed
            .ask(state, "{ me { displayName role organisation { name } } }", json!({}))
            .await
            .map_err(|r| r.page(None))?;
        signed.who.name = layout::text(&me["me"], "displayName").unwrap_or_default().to_owned();
        signed.who.role = layout::words(layout::text(&me["me"], "role").unwrap_or_default());
        signed.who.organisation = me["me"]["organisation"]["name"].as_str().unwrap_or_default().to_owned();
        Ok(signed)
    }
}

impl Signed {
    /// Runs one GraphQL operation as the signed-in person, exactly as `/graphql` would
    /// run it for them, and gives its `data` — or why it was refused.
    pub async fn ask(&self, state: &AppState, query: &str, variables: Value) -> Result<Value, Refusal> {
        let request = async_graphql::Request::new(query).variables(async_graphql::Variables::from_json(variables));
        let identity = crate::graphql::Identity::Known(self.actor.clone());
        let response = crate::http::execute(state, &identity, request, self.client, &self.request_id).await;
        if let Some(first) = response.errors.first() {
            return Err(Refusal::from_graphql(first, &response.errors, &self.request_id));
        }
        Ok(response.data.into_json().unwrap_or(Value::Null))
    }

    /// The refusal of a form whose CSRF token is not this session's (403: nothing is
    /// done), or `None` when it is.
    pub fn forged(&self, sent: &str) -> Option<Response> {
        if same(sent, &self.csrf) {
            None
        } else {
            Some(Refusal {
                code: "FORBIDDEN".into(),
                message:
                    "This form has expired or did not come from this service. Go back, reload the page and try again."
                        .into(),
                fields: vec![],
                request_id: self.request_id.clone(),
            }
            .page(Some(&self.who)))
        }
    }

    /// A domain refusal as a page for this person.
    pub fn refused(&self, e: &Error) -> Response {
        Refusal::from_error(e, &self.request_id).page(Some(&self.who))
    }

    /// A page for this person.
    pub fn page(&self, title: &str, problems: &[Problem], body: Markup) -> Response {
        let status = if problems.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
        (status, no_store(), Html(layout::page(title, Some(&self.who), problems, body).into_string())).into_response()
    }
}

/// Pages about children are never cached by the browser or anything between.
fn no_store() -> [(header::HeaderName, &'static str); 1] {
    [(header::CACHE_CONTROL, "no-store")]
}

/// Why an operation was refused, from its first error.
#[derive(Debug)]
pub struct Refusal {
    pub code: String,
    pub message: String,
    /// `INVALID_INPUT`: each field named, with its problem (the API's field names).
    pub fields: Vec<(String, String)>,
    pub request_id: String,
}

impl Refusal {
    fn from_graphql(
        first: &async_graphql::ServerError,
        all: &[async_graphql::ServerError],
        request_id: &str,
    ) -> Refusal {
        let ext = |e: &async_graphql::ServerError, k: &str| {
            e.extensions.as_ref().and_then(|x| x.get(k)).and_then(|v| v.clone().into_json().ok())
        };
        let code = ext(first, "code").and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_else(|| "INTERNAL".into());
        let mut fields = Vec::new();
        for e in all {
            match ext(e, "fields") {
                Some(Value::Array(list)) => {
                    for f in list {
                        if let (Some(field), Some(message)) = (f["field"].as_str(), f["message"].as_str()) {
                            fields.push((field.to_owned(), message.to_owned()));
                        }
                    }
                }
                _ => {
                    if let Some(field) = ext(e, "field").and_then(|v| v.as_str().map(str::to_owned)) {
                        fields.push((field, e.message.clone()));
                    }
                }
            }
        }
        Refusal { code, message: first.message.clone(), fields, request_id: request_id.to_owned() }
    }

    /// `NOT_FOUND`, for a record a page looked for among what the caller may see.
    fn not_found(signed: &Signed) -> Refusal {
        Refusal::from_error(&Error::NotFound("record"), &signed.request_id)
    }

    fn from_error(e: &Error, request_id: &str) -> Refusal {
        let message = match e {
            Error::Internal(_) => format!("internal error: quote request id {request_id} when reporting it"),
            other => other.to_string(),
        };
        Refusal { code: e.code().to_owned(), message, fields: vec![], request_id: request_id.to_owned() }
    }

    /// The problems to show on a form: each field the API named, at the element id
    /// `element` gives it (or on the form as a whole), or the refusal's message.
    pub fn problems<S: Into<String>>(&self, element: impl Fn(&str) -> Option<S>) -> Vec<Problem> {
        if self.fields.is_empty() {
            return vec![Problem { field: None, message: sentence(&self.message) }];
        }
        self.fields
            .iter()
            .map(|(field, message)| Problem {
                field: element(field).map(Into::into),
                message: sentence(message.split_once(": ").map_or(message.as_str(), |(_, m)| m)),
            })
            .collect()
    }

    /// Whether a form should show this refusal on itself (what was sent can be put right)
    /// rather than as a page of its own.
    pub fn on_the_form(&self) -> bool {
        matches!(self.code.as_str(), "INVALID_INPUT" | "CONFLICT" | "BAD_REQUEST")
    }

    /// The refusal as a page of its own.
    pub fn page(&self, who: Option<&Who>) -> Response {
        if self.code == "UNAUTHENTICATED" {
            return to_sign_in("/");
        }
        let (status, title, words) = match self.code.as_str() {
            "NOT_FOUND" => (
                StatusCode::NOT_FOUND,
                "Page not found",
                "We could not find that record. It may not exist, or it may not be shared with you.".to_owned(),
            ),
            "FORBIDDEN" => (StatusCode::FORBIDDEN, "You cannot do this", sentence(&self.message)),
            "TOO_MANY_REQUESTS" => (StatusCode::TOO_MANY_REQUESTS, "Too many attempts", sentence(&self.message)),
            "INVALID_INPUT" | "CONFLICT" | "BAD_REQUEST" => {
                (StatusCode::BAD_REQUEST, "There is a problem", sentence(&self.message))
            }
            _ => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Sorry, there is a problem with the service",
                format!(
                    "Try again later. If it keeps happening, quote reference {} to the backbone team.",
                    self.request_id
                ),
            ),
        };
        let body = html! { h1 { (title) } p { (words) } p { a href="/" { "Go to your home page" } } };
        (status, no_store(), Html(layout::page(title, who, &[], body).into_string())).into_response()
    }
}

/// A message as a sentence: first letter capital, full stop at the end.
fn sentence(message: &str) -> String {
    let mut chars = message.trim().chars();
    let mut out: String = match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => return String::new(),
    };
    if !out.ends_with(['.', '?', '!']) {
        out.push('.');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_by_name_and_csrf_tokens_follow_the_session() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=1; backbone_session=bb_x; b=2"));
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("bb_x"));
        assert_eq!(cookie(&h, "c"), None);
        assert_eq!(csrf_token("bb_x"), csrf_token("bb_x"));
        assert_ne!(csrf_token("bb_x"), csrf_token("bb_y"));
        assert!(!csrf_token("bb_x").contains("bb_x"));
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
    }

    #[test]
    fn messages_read_as_sentences_and_only_console_paths_come_back_after_sign_in() {
        assert_eq!(sentence("must be at least 1"), "Must be at least 1.");
        assert_eq!(sentence("Done."), "Done.");
        let location = |r: Response| r.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
        assert_eq!(location(to_sign_in("/children/1?x=a b")).as_deref(), Some("/sign-in?next=/children/1%3Fx%3Da%20b"));
        assert_eq!(location(to_sign_in("//evil.example")).as_deref(), Some("/sign-in"));
        assert_eq!(location(to_sign_in("https://evil.example")).as_deref(), Some("/sign-in"));
    }
}
