//! `/graphql/ws`: the GraphQL WebSocket transport (async-graphql's protocol state machine)
//! with the caller checked again for every operation and every event.
//!
//! `connection_init` authenticates the token and records who that was
//! ([`Connection`]); the connection's data holds nothing else of the caller — no
//! `Identity`, no loader — so nothing resolved at init outlives a change. Each
//! `subscribe`/`start` goes through [`Guarded`], which re-checks the token and resolves
//! the caller afresh before the operation runs, and gives the operation its own
//! `Identity`, loader and request id; each subscription event is re-checked by
//! `graphql::subscription::events`. When a check fails the connection's close signal is
//! raised and [`serve`] sends the close frame (`4401`, `4403`) instead of anything else.

use crate::auth::{self, ClientAddress};
use crate::error::Error;
use crate::graphql::errors::{finish, to_gql};
use crate::graphql::subscription::{Close, Connection};
use crate::graphql::{AppSchema, Identity, make_spawned_loader};
use async_graphql::http::{WebSocketProtocols, WsMessage};
use async_graphql::{Data, Executor, Request, Response};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::stream::{self, BoxStream};
use futures_util::{FutureExt, SinkExt, StreamExt};
use sea_orm::DatabaseConnection;
use std::sync::{Arc, OnceLock};
use tokio::sync::watch;

/// The protocol the client asked for in `Sec-WebSocket-Protocol`, if it is one we speak.
pub(super) fn protocol(headers: &axum::http::HeaderMap) -> Option<WebSocketProtocols> {
    let value = headers.get(axum::http::header::SEC_WEBSOCKET_PROTOCOL)?.to_str().ok()?;
    value.split(',').find_map(|p| p.trim().parse().ok())
}

/// The token of a `connection_init` payload: `{"authorization": "Bearer <token>"}` or
/// `{"token": "<token>"}`.
fn token_of(payload: &serde_json::Value) -> Option<String> {
    payload
        .get("authorization")
        .or_else(|| payload.get("Authorization"))
        .and_then(|v| v.as_str())
        .map(|v| v.trim_start_matches("Bearer ").trim_start_matches("bearer ").trim().to_owned())
        .or_else(|| payload.get("token").and_then(|v| v.as_str()).map(str::to_owned))
}

/// The schema, run only for a caller re-checked just before.
#[derive(Clone)]
struct Guarded {
    schema: AppSchema,
    /// Set once `connection_init` succeeds.
    connection: Arc<OnceLock<Arc<Connection>>>,
}

impl Executor for Guarded {
    async fn execute(&self, request: Request) -> Response {
        // The WebSocket transport only streams; this is the same path, first answer.
        self.execute_stream(request, None).next().await.unwrap_or_default()
    }

    fn execute_stream(&self, request: Request, session_data: Option<Arc<Data>>) -> BoxStream<'static, Response> {
        let Some(connection) = self.connection.get().cloned() else {
            // The transport runs nothing before `connection_init` has succeeded.
            return stream::empty().boxed();
        };
        let schema = self.schema.clone();
        let request_id = uuid::Uuid::now_v7().to_string();
        stream::once(async move {
            let Some(actor) = connection.recheck(Some(request_id.clone())).await else {
                // Nothing runs: the connection is closing.
                return stream::pending().boxed();
            };
            let request = request
                .data(make_spawned_loader(connection.db(), &actor))
                .data(Identity::Known(actor))
                .data(connection.client())
                .data(auth::RequestId(request_id.clone()));
            schema
                .execute_stream_with_session_data(request, session_data.unwrap_or_default())
                .map(move |response| finish(response, &request_id))
                .boxed()
        })
        .flatten()
        .boxed()
    }
}

/// Serves one WebSocket connection until either side ends it, or until a check of the
/// caller raises the close signal: then the close frame is the last thing sent.
pub(super) async fn serve(
    socket: WebSocket,
    schema: AppSchema,
    db: DatabaseConnection,
    allow_demo: bool,
    protocol: WebSocketProtocols,
    client: ClientAddress,
) {
    let (mut sink, source) = socket.split();
    let input = source.take_while(|r| futures_util::future::ready(r.is_ok())).filter_map(|r| {
        futures_util::future::ready(match r {
            Ok(m @ (Message::Text(_) | Message::Binary(_))) => Some(m.into_data()),
            _ => None,
        })
    });
    // Held here for the whole connection, so the signal never reads as dropped.
    let close = Arc::new(watch::Sender::new(None::<Close>));
    let mut closing = close.subscribe();
    let connection = Arc::new(OnceLock::new());
    let executor = Guarded { schema, connection: connection.clone() };
    let init = {
        let close = close.clone();
        move |payload: serde_json::Value| {
            let init = async move {
                let token = token_of(&payload).ok_or_else(|| {
                    async_graphql::Error::new("send {\"authorization\": \"Bearer <token>\"} in connection_init")
                })?;
                let actor = auth::authenticate(&db, &token, allow_demo, None).await.map_err(|e| to_gql(&e))?;
                let standing = Arc::new(Connection::new(db, token, allow_demo, actor, client, close));
                let _ = connection.set(standing.clone());
                let mut data = Data::default();
                data.insert(standing);
                Ok(data)
            };
            // A panic while checking the token refuses the connection, not the process.
            std::panic::AssertUnwindSafe(init).catch_unwind().map(|done| {
                done.unwrap_or_else(|_| Err(to_gql(&Error::Internal(anyhow::anyhow!("connection_init panicked")))))
            })
        }
    };
    let messages = async_graphql::http::WebSocket::new(executor, input, protocol).on_connection_init(init);
    futures_util::pin_mut!(messages);
    let close_frame = |c: Close| Message::Close(Some(CloseFrame { code: c.code, reason: c.reason.into() }));
    loop {
        let next = tokio::select! {
            biased;
            _ = closing.changed() => None,
            message = messages.next() => match message {
                Some(message) => Some(message),
                None => break,
            },
        };
        // A raised signal wins over anything an operation produced meanwhile.
        let raised = *close.borrow();
        let out = match (raised, next) {
            (Some(c), _) => {
                let _ = sink.send(close_frame(c)).await;
                break;
            }
            (None, None) => continue,
            (None, Some(WsMessage::Text(text))) => Message::Text(text.into()),
            (None, Some(WsMessage::Close(code, reason))) => {
                Message::Close(Some(CloseFrame { code, reason: reason.into() }))
            }
        };
        if sink.send(out).await.is_err() {
            break;
        }
    }
}
