//! Signing in and out. The sign-in form carries a random token that must match a cookie
//! set with it (there is no session yet to derive one from); guessing is throttled as
//! for the API's `login` (`auth::throttle`): the same lockouts, whichever door is used.

use super::form::Posted;
use super::layout::{self, Problem};
use super::{SESSION_COOKIE, cookie, same, set_cookie};
use crate::auth::{self, Attempt, TokenKind};
use crate::error::Error;
use crate::http::AppState;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;
use std::sync::Arc;

/// The cookie holding the sign-in form's token.
const FORM_COOKIE: &str = "backbone_sign_in";

#[derive(Deserialize, Default)]
pub struct Next {
    next: Option<String>,
    signed_out: Option<String>,
}

/// Where to go after signing in: a path of this service only, never another site.
fn next_path(next: Option<&str>) -> String {
    match next {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') && !p.contains("://") => {
            p.to_owned()
        }
        _ => "/".to_owned(),
    }
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).unwrap_or_default();
    hex::encode(bytes)
}

fn form_page(
    state: &AppState,
    status: StatusCode,
    email: &str,
    next: &str,
    problems: &[Problem],
    notice: Option<&str>,
) -> Response {
    let token = random_token();
    let body = html! {
        @if let Some(n) = notice { (layout::banner(n)) }
        h1 { "Sign in to backbone" }
        @if state.allow_demo_logins {
            p class="hint" { "Demo mode: sign in with a demo account (for example linkworker@demo.zone), password demo." }
        }
        form method="post" action="/sign-in" novalidate {
            input type="hidden" name="csrf" value=(token);
            input type="hidden" name="next" value=(next);
            (layout::input("email", "email", "Email address", None, email, problems))
            (layout::input("password", "password", "Password", None, "", problems))
            button type="submit" class="button" { "Sign in" }
        }
    };
    let mut out = (status, Html(layout::page("Sign in", None, problems, body).into_string())).into_response();
    out.headers_mut().append(header::SET_COOKIE, set_cookie(state, FORM_COOKIE, &token, None));
    out.headers_mut().insert(header::CACHE_CONTROL, "no-store".parse().expect("header"));
    out
}

/// `GET /sign-in`.
pub async fn show(State(state): State<Arc<AppState>>, Query(q): Query<Next>) -> Response {
    let notice = q.signed_out.is_some().then_some("You have signed out.");
    form_page(&state, StatusCode::OK, "", &next_path(q.next.as_deref()), &[], notice)
}

#[derive(Deserialize)]
pub struct SignIn {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: Option<String>,
}

/// `POST /sign-in`: checks the form's token, then the email and password.
pub async fn submit(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    peer: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    Form(form): Form<SignIn>,
) -> Response {
    let next = next_path(form.next.as_deref());
    let expected = cookie(&headers, FORM_COOKIE).unwrap_or_default();
    if expected.is_empty() || !same(&expected, &form.csrf) {
        let problem = Problem { field: None, message: "The sign-in form had expired. Try again.".into() };
        return form_page(&state, StatusCode::FORBIDDEN, &form.email, &next, &[problem], None);
    }
    let mut problems = Vec::new();
    if form.email.trim().is_empty() {
        problems.push(Problem { field: Some("email".into()), message: "Enter your email address".into() });
    }
    if form.password.is_empty() {
        problems.push(Problem { field: Some("password".into()), message: "Enter your password".into() });
    }
    if !problems.is_empty() {
        return form_page(&state, StatusCode::BAD_REQUEST, &form.email, &next, &problems, None);
    }
    let request_id = super::request_id(&headers);
    let attempt = Attempt {
        email: &form.email,
        password: &form.password,
        client: crate::http::client_address(&headers, peer, &state.trusted_proxies),
        request_id: Some(request_id.clone()),
    };
    match auth::login(&state.db, attempt, &state.auth, state.allow_demo_logins, TokenKind::Console).await {
        Ok(session) => {
            let mut out = Redirect::to(&next).into_response();
            let age = (session.expires_at - chrono::Utc::now()).num_seconds().max(0);
            out.headers_mut().append(header::SET_COOKIE, set_cookie(&state, SESSION_COOKIE, &session.token, Some(age)));
            out.headers_mut().append(header::SET_COOKIE, set_cookie(&state, FORM_COOKIE, "", Some(0)));
            out
        }
        Err(Error::Unauthenticated(_)) => {
            let problem =
                Problem { field: Some("email".into()), message: "Enter a correct email address and password".into() };
            form_page(&state, StatusCode::UNAUTHORIZED, &form.email, &next, &[problem], None)
        }
        Err(e @ Error::TooManyRequests { .. }) => {
            let problem = Problem { field: None, message: super::sentence(&e.to_string()) };
            form_page(&state, StatusCode::TOO_MANY_REQUESTS, &form.email, &next, &[problem], None)
        }
        Err(e) => super::Refusal::from_error(&e, &request_id).page(None),
    }
}

/// `POST /sign-out`: revokes the session and clears its cookie.
pub async fn sign_out(State(state): State<Arc<AppState>>, Posted { signed, .. }: Posted) -> Response {
    if let Err(e) = auth::logout(&state.db, &signed.actor).await {
        return signed.refused(&e);
    }
    let mut out = Redirect::to("/sign-in?signed_out=1").into_response();
    out.headers_mut().append(header::SET_COOKIE, set_cookie(&state, SESSION_COOKIE, "", Some(0)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_of_this_service_are_followed_after_sign_in() {
        assert_eq!(next_path(Some("/children/1")), "/children/1");
        for away in ["//evil.example", "https://evil.example", "/\\evil.example", "evil", "/x?u=https://e"] {
            assert_eq!(next_path(Some(away)), "/", "{away}");
        }
        assert_eq!(next_path(None), "/");
    }
}
