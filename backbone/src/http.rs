//! HTTP: the router, the request limits in front of GraphQL, identity resolution, health
//! endpoints, the charts (`http/charts.rs`) and the downloads (`/exports/claims.csv`,
//! `/exports/metrics.csv`).
//!
//! Order of defences for `/graphql`: a request id is assigned; the body is refused unread
//! if it exceeds `server.max_body_bytes` (413; `server.max_upload_bytes` for a
//! `multipart/form-data` file upload); the whole request is cut off after
//! `server.request_timeout_secs` (408); a bearer token over `auth.requests_per_minute` is
//! refused (429, `rate.rs`); batches above `graphql.max_batch` are refused; values nested
//! deeper than `graphql.max_value_depth` (in the query's text or the variables) are
//! refused unparsed (400, `graphql::limits::check_nesting`); then the schema's depth,
//! complexity and alias limits apply before anything runs. `login`'s own throttle
//! (`auth::throttle`) answers 429 too, once it has run. A panic while handling any request
//! answers it with `INTERNAL` (500 here, or a GraphQL error from
//! `graphql::limits::CatchPanics`) and the process serves on.

use crate::auth;
use crate::error::Error;
use crate::graphql::errors::{already_done, bad_request, finish, saved_after_commit};
use crate::graphql::{AppSchema, Identity, make_loader};
use crate::idempotency;
use async_graphql::ParseRequestError;
use async_graphql::{BatchRequest, BatchResponse, Response};
use async_graphql_axum::{GraphQLBatchRequest, GraphQLResponse, rejection::GraphQLRejection};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use sea_orm::DatabaseConnection;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// `GET /charts/…`: metrics charts as SVG and PNG.
mod charts;
/// The per-token request rate limit on `/graphql`.
mod rate;
/// `/graphql/ws`: the WebSocket transport, checking the caller for every operation and event.
mod ws;

pub use rate::RateLimiter;

/// What the handlers share.
pub struct AppState {
    pub schema: AppSchema,
    pub db: DatabaseConnection,
    pub max_batch: usize,
    pub allow_demo_logins: bool,
    /// How long an `Idempotency-Key` is kept (`graphql.idempotency_key_hours`).
    pub idempotency_ttl: chrono::Duration,
    /// Proxies whose `X-Forwarded-For` names the client (`auth.trusted_proxies`).
    pub trusted_proxies: Vec<IpAddr>,
    /// The per-token request rate limit on `/graphql`.
    pub rate: RateLimiter,
    /// Values nested deeper than this are refused unparsed (`graphql.max_value_depth`).
    pub max_value_depth: usize,
    /// A WebSocket message larger than this closes the connection (`server.max_body_bytes`).
    pub max_ws_message: usize,
    /// Sign-in throttling and session lifetimes (`auth.*`), for the console's sign-in.
    pub auth: crate::settings::AuthSettings,
    /// The console's cookies carry `Secure` (the service does not listen on loopback only).
    pub cookies_secure: bool,
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The service's router with every layer.
pub fn router(state: Arc<AppState>, settings: &crate::settings::Settings) -> Router {
    let mut app = Router::new()
        // POST only: a GET would put operations (and `login`'s password) in URLs and logs.
        .route("/graphql", post(graphql))
        .route("/graphql/ws", get(graphql_ws))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .merge(charts::routes(settings))
        .route("/exports/claims.csv", {
            let rules = settings.disclosure;
            get(move |state: State<Arc<AppState>>, headers: HeaderMap, query| claims_csv(state, headers, query, rules))
        })
        .route("/exports/metrics.csv", {
            let settings = charts::MetricsSettings::of(settings);
            get(move |state: State<Arc<AppState>>, headers: HeaderMap, query| {
                metrics_csv(state, headers, query, settings)
            })
        })
        .merge(crate::console::routes())
        .with_state(state);
    if settings.server.graphiql {
        app = app.merge(crate::graphiql::routes());
    }
    app.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
            .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                // Ids only: never a query's variables (they may hold personal data).
                let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
            }))
            .layer(PropagateRequestIdLayer::new(REQUEST_ID))
            .layer(axum::middleware::from_fn(catch_panics))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                Duration::from_secs(settings.server.request_timeout_secs),
            ))
            .layer(axum::middleware::from_fn_with_state(
                BodyLimits { body: settings.server.max_body_bytes, upload: settings.server.max_upload_bytes },
                limit_body,
            ))
            .layer(CompressionLayer::new()),
    )
}

/// Answers a request whose handler panicked with 500 and the coded `INTERNAL` body (with
/// the request id), instead of dropping the connection. GraphQL operations have their own
/// catch inside the schema (`graphql::limits::CatchPanics`); this covers the rest.
async fn catch_panics(request: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    use futures_util::FutureExt;
    let id = request_id(request.headers());
    match std::panic::AssertUnwindSafe(next.run(request)).catch_unwind().await {
        Ok(response) => response,
        Err(_) => failure(&Error::Internal(anyhow::anyhow!("a request handler panicked")), &id),
    }
}

#[derive(Clone, Copy)]
struct BodyLimits {
    body: usize,
    upload: usize,
}

fn is_multipart(headers: &HeaderMap) -> bool {
    content_type(headers).starts_with("multipart/form-data")
}

fn content_type(headers: &HeaderMap) -> String {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").trim_start().to_ascii_lowercase()
}

/// Caps the request body: `upload` bytes for a multipart file upload, `body` bytes for
/// anything else. An announced length over the cap is refused unread; a chunked body is cut
/// off when it passes the cap (the GraphQL handler answers 413 either way). A 413 says
/// `Connection: close`: the rest of the body is never read, so the connection cannot carry
/// another request, and a client told so opens a new one instead of losing its next
/// request on this one.
async fn limit_body(
    State(limits): State<BodyLimits>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let limit = if is_multipart(request.headers()) { limits.upload } else { limits.body };
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let mut response = if announced.is_some_and(|n| n > limit) {
        let id = request_id(request.headers());
        refuse(StatusCode::PAYLOAD_TOO_LARGE, "the request body is too large".into(), &id)
    } else {
        let (parts, body) = request.into_parts();
        let limited = axum::body::Body::new(http_body_util::Limited::new(body, limit));
        next.run(axum::extract::Request::from_parts(parts, limited)).await
    };
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE {
        response.headers_mut().insert(header::CONNECTION, axum::http::HeaderValue::from_static("close"));
    }
    response
}

/// The request's id (set by the first layer), for error bodies.
fn request_id(headers: &HeaderMap) -> String {
    headers.get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-").to_owned()
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Resolves the caller once for the whole request.
async fn identify(state: &AppState, headers: &HeaderMap, request_id: &str) -> Result<Identity, Response> {
    let Some(token) = bearer(headers) else {
        return Ok(Identity::Unknown(
            "authentication required: log in, then send the token as `Authorization: Bearer <token>`",
        ));
    };
    match auth::authenticate(&state.db, token, state.allow_demo_logins, Some(request_id.to_owned())).await {
        Ok(actor) => Ok(Identity::Known(actor)),
        Err(Error::Unauthenticated(why)) => Ok(Identity::Unknown(why)),
        Err(other) => {
            let err = crate::graphql::errors::to_gql(&other).into_server_error(Default::default());
            Err(Response::from_errors(vec![err]))
        }
    }
}

/// A refusal before execution, as a GraphQL error body with a code and the request id.
fn refuse(status: StatusCode, message: String, request_id: &str) -> axum::response::Response {
    let body = finish(Response::from_errors(vec![bad_request(message)]), request_id);
    (status, Json(body)).into_response()
}

/// Turns an unreadable request into a coded JSON error (413 when over the size limit,
/// whether announced by `content-length` or found while reading a chunked body).
fn rejected(rejection: GraphQLRejection, request_id: &str) -> axum::response::Response {
    let too_large = || refuse(StatusCode::PAYLOAD_TOO_LARGE, "the request body is too large".into(), request_id);
    match rejection.0 {
        ParseRequestError::PayloadTooLarge => too_large(),
        ParseRequestError::Io(e) if e.to_string().contains("length limit exceeded") => too_large(),
        ParseRequestError::InvalidRequest(e) => {
            refuse(StatusCode::BAD_REQUEST, format!("the body is not a GraphQL request in JSON: {e}"), request_id)
        }
        other => {
            tracing::debug!(error = ?other, "unreadable request");
            refuse(StatusCode::BAD_REQUEST, "the body is not a GraphQL request in JSON".into(), request_id)
        }
    }
}

async fn graphql(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    peer: Option<axum::Extension<axum::extract::ConnectInfo<SocketAddr>>>,
    request: Result<GraphQLBatchRequest, GraphQLRejection>,
) -> axum::response::Response {
    let request_id = request_id(&headers);
    let client = client_address(&headers, peer, &state.trusted_proxies);
    if let Some(token) = bearer(&headers)
        && let Err(e) = state.rate.take(token).await
    {
        return failure(&e, &request_id);
    }
    // Bearer tokens, never cookies: a cross-site form cannot carry one, so accepting
    // multipart uploads opens no forgery.
    if !content_type(&headers).starts_with("application/json") && !is_multipart(&headers) {
        let msg = "send the request as `content-type: application/json` (or `multipart/form-data` to upload a file)"
            .to_owned();
        return refuse(StatusCode::UNSUPPORTED_MEDIA_TYPE, msg, &request_id);
    }
    let batch = match request {
        Ok(r) => r.into_inner(),
        Err(rejection) => return rejected(rejection, &request_id),
    };
    let count = match &batch {
        BatchRequest::Single(_) => 1,
        BatchRequest::Batch(list) => list.len(),
    };
    if count > state.max_batch {
        let msg = if state.max_batch == 1 {
            "batched requests are turned off: send one operation per request".to_owned()
        } else {
            format!("at most {} operations may be batched in one request", state.max_batch)
        };
        return refuse(StatusCode::BAD_REQUEST, msg, &request_id);
    }
    let operations: &[async_graphql::Request] = match &batch {
        BatchRequest::Single(req) => std::slice::from_ref(req),
        BatchRequest::Batch(list) => list,
    };
    for req in operations {
        if let Err(refusal) = crate::graphql::limits::check_nesting(req, state.max_value_depth) {
            let body = finish(Response::from_errors(vec![refusal]), &request_id);
            return (StatusCode::BAD_REQUEST, Json(body)).into_response();
        }
    }
    let key = match headers.get(idempotency::HEADER).map(|v| v.to_str().map(idempotency::valid_key)) {
        None => None,
        Some(Ok(Ok(key))) => Some(key),
        Some(Ok(Err(why))) => return refuse(StatusCode::BAD_REQUEST, why, &request_id),
        Some(Err(_)) => {
            let why = idempotency::valid_key("").err().unwrap_or_default();
            return refuse(StatusCode::BAD_REQUEST, why, &request_id);
        }
    };
    if key.is_some() && count > 1 {
        let msg = "an Idempotency-Key names one operation: send it with a single operation, not a batch".to_owned();
        return refuse(StatusCode::BAD_REQUEST, msg, &request_id);
    }
    let identity = match identify(&state, &headers, &request_id).await {
        Ok(identity) => identity,
        Err(response) => {
            return GraphQLResponse::from(BatchResponse::Single(finish(response, &request_id))).into_response();
        }
    };
    let run = |req: async_graphql::Request, writes: Option<Arc<idempotency::WriteLog>>| {
        let (state, identity, request_id) = (state.clone(), &identity, request_id.clone());
        async move { run_operation(&state, identity, req, writes, client, &request_id).await }
    };
    // Mutations carry a write log (what committed, for the answer; the key, if sent).
    let log_for =
        |req: &async_graphql::Request| idempotency::is_mutation(req).then(|| idempotency::WriteLog::new(None));
    let response = match batch {
        BatchRequest::Single(req) => match (&identity, key) {
            (Identity::Known(actor), Some(key)) if idempotency::is_mutation(&req) => {
                return idempotent(&state, actor, key, req, &request_id, run).await;
            }
            _ => {
                let writes = log_for(&req);
                BatchResponse::Single(run(req, writes).await)
            }
        },
        BatchRequest::Batch(list) => {
            let mut out = Vec::with_capacity(list.len());
            for req in list {
                let writes = log_for(&req);
                out.push(run(req, writes).await);
            }
            BatchResponse::Batch(out)
        }
    };
    let wait = throttled(&response);
    let mut answer = GraphQLResponse::from(response).into_response();
    if let Some(secs) = wait {
        *answer.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        answer.headers_mut().insert(header::RETRY_AFTER, axum::http::HeaderValue::from(secs));
    }
    answer
}

/// Runs one operation as `identity`, with its loader, client address and request id,
/// and finishes its errors (codes, request id; "saved" for an error after a change
/// committed). What `/graphql` runs, and what the console runs in-process.
async fn run_operation(
    state: &AppState,
    identity: &Identity,
    req: async_graphql::Request,
    writes: Option<Arc<idempotency::WriteLog>>,
    client: auth::ClientAddress,
    request_id: &str,
) -> Response {
    let (req, driver) = match identity {
        Identity::Known(actor) => {
            let actor = crate::auth::Actor { writes: writes.clone(), ..actor.clone() };
            let (loader, driver) = make_loader(&state.db, &actor);
            (req.data(loader).data(Identity::Known(actor)), Some(driver))
        }
        Identity::Unknown(why) => (req.data(Identity::Unknown(why)), None),
    };
    let req = req.data(client).data(auth::RequestId(request_id.to_owned()));
    let response = match driver {
        Some(driver) => driver.drive(state.schema.execute(req)).await,
        None => state.schema.execute(req).await,
    };
    let response = finish(response, request_id);
    match &writes {
        Some(w) if w.committed() => saved_after_commit(response, &w.saved_fields(), &w.child_ids()),
        _ => response,
    }
}

/// Runs one operation in-process as `identity` (the console's pages), exactly as
/// `/graphql` would: a mutation carries its write log.
pub async fn execute(
    state: &AppState,
    identity: &Identity,
    req: async_graphql::Request,
    client: auth::ClientAddress,
    request_id: &str,
) -> Response {
    let writes = idempotency::is_mutation(&req).then(|| idempotency::WriteLog::new(None));
    run_operation(state, identity, req, writes, client, request_id).await
}

/// The longest wait asked by a `TOO_MANY_REQUESTS` error in the response (a throttled
/// `login`), which then goes out as `429` with `Retry-After`.
fn throttled(response: &BatchResponse) -> Option<u64> {
    let responses = match response {
        BatchResponse::Single(r) => std::slice::from_ref(r),
        BatchResponse::Batch(list) => list.as_slice(),
    };
    responses
        .iter()
        .flat_map(|r| &r.errors)
        .filter_map(|e| e.extensions.as_ref())
        .filter(|x| x.get("code") == Some(&async_graphql::Value::from("TOO_MANY_REQUESTS")))
        .filter_map(|x| match x.get("retryAfter") {
            Some(async_graphql::Value::Number(n)) => n.as_u64(),
            _ => None,
        })
        .max()
}

/// Header on an answer replayed for a retry with an `Idempotency-Key`.
const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// Runs a mutation sent with an `Idempotency-Key` (see `idempotency.rs`): replays the
/// stored answer of an earlier request with the same key and request; refuses the key
/// for a different request (`CONFLICT`); answers `ALREADY_DONE` if the earlier request's
/// change was made but its answer lost; otherwise runs it, the key recorded by the
/// transaction that commits, and stores the answer.
async fn idempotent<F, Fut>(
    state: &AppState,
    actor: &crate::auth::Actor,
    key: String,
    req: async_graphql::Request,
    request_id: &str,
    run: F,
) -> axum::response::Response
where
    F: FnOnce(async_graphql::Request, Option<Arc<idempotency::WriteLog>>) -> Fut,
    Fut: std::future::Future<Output = Response>,
{
    let request_hash = idempotency::fingerprint(&req);
    let single = |r: Response| GraphQLResponse::from(BatchResponse::Single(r)).into_response();
    match idempotency::prior(&state.db, &actor.user_id, &key, &request_hash).await {
        Ok(idempotency::Prior::Unused) => {}
        Ok(idempotency::Prior::OtherRequest) => {
            let err = Error::conflict(
                "this Idempotency-Key was already used for a different request: use a new key for a new change",
            );
            let e = crate::graphql::errors::to_gql(&err).into_server_error(Default::default());
            return single(finish(Response::from_errors(vec![e]), request_id));
        }
        Ok(idempotency::Prior::Answer { body, child_ids }) => {
            if let Err(e) = idempotency::audit_replay(&state.db, actor, &child_ids).await {
                let e = crate::graphql::errors::to_gql(&e).into_server_error(Default::default());
                return single(finish(Response::from_errors(vec![e]), request_id));
            }
            return ([(header::CONTENT_TYPE, "application/json"), (REPLAYED, "true")], body).into_response();
        }
        Ok(idempotency::Prior::AnswerLost(child_ids)) => {
            let mut response = single(already_done(&child_ids, request_id));
            response.headers_mut().insert(REPLAYED, axum::http::HeaderValue::from_static("true"));
            return response;
        }
        Err(e) => {
            let e = crate::graphql::errors::to_gql(&e).into_server_error(Default::default());
            return single(finish(Response::from_errors(vec![e]), request_id));
        }
    }
    let claim =
        idempotency::Claim { key: key.clone(), request_hash, expires_at: crate::audit::now() + state.idempotency_ttl };
    let writes = idempotency::WriteLog::new(Some(claim));
    let response = run(req, Some(writes.clone())).await;
    if writes.committed() {
        match serde_json::to_string(&response) {
            Ok(body) => {
                if let Err(e) = idempotency::store_answer(&state.db, &actor.user_id, &key, body).await {
                    // A retry then gets `ALREADY_DONE` with the children's ids instead.
                    tracing::warn!(error = %e, "the answer to an idempotent write could not be stored");
                }
            }
            Err(e) => tracing::warn!(error = %e, "the answer to an idempotent write could not be serialised"),
        }
    }
    single(response)
}

/// Subscriptions over WebSocket. The token comes in the `connection_init` payload as
/// `{"authorization": "Bearer <token>"}` (or `{"token": "<token>"}`); without a valid one
/// the connection is refused. It is checked again, and the caller resolved afresh, before
/// every operation and every event (`http/ws.rs`): a revoked or expired token or a
/// disabled account closes the connection with 4401, a changed membership with 4403. A
/// message larger than `server.max_body_bytes` closes the connection.
async fn graphql_ws(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    peer: Option<axum::Extension<axum::extract::ConnectInfo<SocketAddr>>>,
    upgrade: axum::extract::WebSocketUpgrade,
) -> axum::response::Response {
    let Some(protocol) = ws::protocol(&headers) else {
        let why = "ask for the `graphql-transport-ws` (or `graphql-ws`) WebSocket protocol".to_owned();
        return refuse(StatusCode::BAD_REQUEST, why, &request_id(&headers));
    };
    let client = client_address(&headers, peer, &state.trusted_proxies);
    // A message over the body limit closes the connection, as a body over it is refused.
    let upgrade = upgrade.max_message_size(state.max_ws_message).max_frame_size(state.max_ws_message);
    upgrade.protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS).on_upgrade(move |socket| {
        ws::serve(socket, state.schema.clone(), state.db.clone(), state.allow_demo_logins, protocol, client)
    })
}

/// Where a request comes from: the socket's peer, unless that peer is a trusted proxy
/// (`auth.trusted_proxies`): then the nearest address in `X-Forwarded-For` that is not
/// itself a trusted proxy (read from the right, as each proxy appends the one it saw).
/// A header from anyone else is ignored: a client could write anything in it.
pub(crate) fn client_address(
    headers: &HeaderMap,
    peer: Option<axum::Extension<axum::extract::ConnectInfo<SocketAddr>>>,
    trusted: &[IpAddr],
) -> auth::ClientAddress {
    let Some(peer) = peer.map(|axum::Extension(axum::extract::ConnectInfo(addr))| addr.ip()) else {
        return auth::ClientAddress(None);
    };
    if !trusted.contains(&peer) {
        return auth::ClientAddress(Some(peer));
    }
    let forwarded = headers
        .get_all(HeaderName::from_static("x-forwarded-for"))
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|hop| hop.trim().parse::<IpAddr>().ok())
        .collect::<Vec<_>>();
    for hop in forwarded.into_iter().rev() {
        match hop {
            Some(ip) if trusted.contains(&ip) => continue,
            Some(ip) => return auth::ClientAddress(Some(ip)),
            // An unreadable hop: nothing to the left of it can be trusted.
            None => break,
        }
    }
    auth::ClientAddress(Some(peer))
}

/// A refusal outside `/graphql` (downloads, charts): the HTTP status of the domain error,
/// and the same JSON body with `extensions.code` and the request id as `/graphql` gives.
fn failure(err: &Error, request_id: &str) -> axum::response::Response {
    let status = match err {
        Error::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        Error::Forbidden(_) => StatusCode::FORBIDDEN,
        Error::NotFound(_) => StatusCode::NOT_FOUND,
        Error::InvalidInput(_) => StatusCode::BAD_REQUEST,
        Error::Conflict(_) | Error::Duplicate { .. } => StatusCode::CONFLICT,
        Error::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
        Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let error = crate::graphql::errors::to_gql(err).into_server_error(Default::default());
    let mut response = (status, Json(finish(Response::from_errors(vec![error]), request_id))).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Bearer"));
    }
    if let Error::TooManyRequests { retry_after_secs, .. } = err {
        response.headers_mut().insert(header::RETRY_AFTER, axum::http::HeaderValue::from(*retry_after_secs));
    }
    response
}

/// The caller of a route outside `/graphql` (a chart or a download): signed in, or the
/// refusal to send (401, or 500 if the token could not be checked).
async fn signed_in(
    state: &AppState,
    headers: &HeaderMap,
    request_id: &str,
) -> Result<crate::auth::Actor, axum::response::Response> {
    // A signed-in console page's chart or download: its session cookie, when no bearer
    // token is sent (these are GETs that change nothing; the cookie is `SameSite=Strict`).
    if bearer(headers).is_none()
        && let Some(session) = crate::console::cookie(headers, crate::console::SESSION_COOKIE)
    {
        let idle = state.auth.console_idle_minutes;
        return crate::auth::authenticate_session(
            &state.db,
            &session,
            state.allow_demo_logins,
            idle,
            Some(request_id.to_owned()),
        )
        .await
        .map_err(|e| failure(&e, request_id));
    }
    match identify(state, headers, request_id).await {
        Ok(Identity::Known(actor)) => Ok(actor),
        Ok(Identity::Unknown(why)) => Err(failure(&Error::Unauthenticated(why), request_id)),
        Err(response) => Err((StatusCode::INTERNAL_SERVER_ERROR, Json(finish(response, request_id))).into_response()),
    }
}

/// A query string that could not be read, as a coded refusal.
fn unreadable_query(request_id: &str) -> axum::response::Response {
    failure(&Error::invalid("query", "the query string is not valid URL encoding"), request_id)
}

/// The caller of a metrics route (a chart or a download) and its query parameters: signed
/// in, allowed to read metrics (`access::metrics_audience`), with a readable query string;
/// or the refusal to send.
async fn metrics_caller(
    state: &AppState,
    headers: &HeaderMap,
    request_id: &str,
    query: Result<axum::extract::Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
) -> Result<(crate::auth::Actor, Vec<(String, String)>), axum::response::Response> {
    let actor = signed_in(state, headers, request_id).await?;
    crate::access::metrics_audience(&actor).map_err(|e| failure(&e, request_id))?;
    match query {
        Ok(axum::extract::Query(pairs)) => Ok((actor, pairs)),
        Err(_) => Err(unreadable_query(request_id)),
    }
}

/// `GET /exports/metrics.csv?groupBy=anchor&period=2025-26&…`: the shared metrics as a CSV
/// download (one row per figure), with the bearer token as for `/graphql` and the same
/// parameters as the charts plus `groupBy` (`anchor`, `partner`, `programme`, `yearGroup`,
/// `cohort`, `fsm`, `send`, `eal`). Funders get exactly what the `metrics` query gives them
/// (suppressed cells as `c`); analysts and admins exact figures; anyone else 403.
async fn metrics_csv(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    query: Result<axum::extract::Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
    settings: charts::MetricsSettings,
) -> axum::response::Response {
    use crate::domain::metrics::{self, Dimension};
    let request_id = request_id(&headers);
    let (actor, mut pairs) = match metrics_caller(&state, &headers, &request_id, query).await {
        Ok(found) => found,
        Err(refusal) => return refusal,
    };
    let group_by = match pairs.iter().position(|(name, _)| name == "groupBy").map(|i| pairs.remove(i).1) {
        None => None,
        Some(name) => match Dimension::from_name(&name, "groupBy") {
            Ok(d) => Some(d),
            Err(e) => return failure(&e, &request_id),
        },
    };
    let found = match charts::filter(pairs) {
        Ok(filter) => {
            metrics::metrics(&state.db, &actor, settings.rules, settings.engaged_after, filter, group_by).await
        }
        Err(e) => Err(e),
    };
    match found.map_err(charts::as_parameters).and_then(|m| metrics::to_csv(&m)) {
        Ok(m) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (header::CONTENT_DISPOSITION, "attachment; filename=\"metrics.csv\""),
                (header::CACHE_CONTROL, "no-store"),
            ],
            m,
        )
            .into_response(),
        Err(e) => failure(&e, &request_id),
    }
}

/// The query of a claims download.
#[derive(serde::Deserialize)]
struct ClaimsExport {
    contract: Option<String>,
}

/// `GET /exports/claims.csv?contract=ID`: an outcomes contract's claims as a CSV download,
/// with the bearer token as for `/graphql`. Backbone admins get every claim line with its
/// evidence, funders who pay into the contract the totals per milestone under disclosure
/// control (`access::claims_download`); anyone else 403, a contract the caller may not see
/// 404. Errors come as a JSON body with a code, as from `/graphql`. Never cached: the lines
/// name children.
async fn claims_csv(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    query: Result<axum::extract::Query<ClaimsExport>, axum::extract::rejection::QueryRejection>,
    rules: crate::domain::disclosure::Rules,
) -> axum::response::Response {
    let request_id = request_id(&headers);
    let actor = match signed_in(&state, &headers, &request_id).await {
        Ok(actor) => actor,
        Err(refusal) => return refusal,
    };
    let contract = match query {
        Ok(axum::extract::Query(ClaimsExport { contract: Some(contract) })) => contract,
        Ok(_) => {
            let why = "give the contract's id: /exports/claims.csv?contract=ID";
            return failure(&Error::invalid("contract", why), &request_id);
        }
        Err(_) => return unreadable_query(&request_id),
    };
    match crate::domain::contracts::download(&state.db, &actor, &contract, &rules).await {
        Ok((id, csv)) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"claims-{id}.csv\"")),
                (header::CACHE_CONTROL, "no-store".to_owned()),
            ],
            csv,
        )
            .into_response(),
        Err(e) => failure(&e, &request_id),
    }
}

async fn healthz() -> &'static str {
    "ok"
}

/// How long `/readyz` waits for its write probe: a database that cannot take a write in
/// this time (unreachable, so the pool is still trying to connect, or its write lock held
/// that long) is reported unavailable rather than left hanging a load balancer's check.
const READY_PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Ready when a write could succeed now (`store::db::probe_writable`: a rolled-back write
/// on SQLite, not a standby and not read-only on PostgreSQL), not merely when the
/// database answers: a read-only or unreachable database is `503`. A failed probe is a
/// storage fault, so the pool replaces its connections (`error::Error::from_db`).
async fn readyz(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    let engine = crate::store::db::engine(&state.db);
    let probe = tokio::time::timeout(READY_PROBE_TIMEOUT, crate::store::db::probe_writable(&state.db)).await;
    let failure = match probe {
        Ok(Ok(())) => {
            return (StatusCode::OK, Json(serde_json::json!({ "status": "ready", "database": engine })));
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "database not ready for writes");
            let _ = Error::from_db(e, None);
            "unavailable"
        }
        Err(_) => {
            tracing::warn!(seconds = READY_PROBE_TIMEOUT.as_secs(), "database write probe timed out");
            "unavailable"
        }
    };
    (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({ "status": failure, "database": engine })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    async fn broken() -> &'static str {
        // A handler bug: indexing past the end of a list.
        let found: Vec<&'static str> = Vec::new();
        found[std::hint::black_box(0)]
    }

    /// A route whose handler panics, behind the request id and the panic catcher as in
    /// `router`.
    fn app() -> Router {
        Router::new().route("/broken", get(broken)).route("/fine", get(healthz)).layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(axum::middleware::from_fn(catch_panics)),
        )
    }

    fn get_request(path: &str) -> axum::http::Request<axum::body::Body> {
        axum::http::Request::get(path).body(axum::body::Body::empty()).expect("request")
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_500_internal_with_the_request_id_and_the_router_serves_on() {
        let app = app();
        let response = app.clone().oneshot(get_request("/broken")).await.expect("an answer, not a lost connection");
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        let body: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON");
        assert_eq!(body["errors"][0]["extensions"]["code"], "INTERNAL", "{body}");
        let id = body["errors"][0]["extensions"]["requestId"].as_str().unwrap_or_default().to_owned();
        assert!(id.len() == 36 && body["errors"][0]["message"].as_str().unwrap_or("").contains(&id), "{body}");
        assert!(!body.to_string().contains("a handler bug"), "the panic's message stays in the log: {body}");
        let fine = app.oneshot(get_request("/fine")).await.expect("answer");
        assert_eq!(fine.status(), StatusCode::OK);
    }
}
