//! Subscriptions, over WebSocket at `/graphql/ws` (`graphql-transport-ws` or the older
//! `graphql-ws` protocol). The client sends its token in the `connection_init` payload
//! (`{"authorization": "Bearer <token>"}`). The token is checked again, and the caller
//! resolved afresh, before every operation on the connection runs (`http/ws.rs`) and
//! before every event is delivered ([`events`]): a revoked or expired token or a disabled
//! account closes the connection with `4401`, a caller whose organisation, role or
//! designated-lead flag changed with `4403` ([`Connection::recheck`]), before anything
//! else is sent. Events carry ids; the `referral` of an event is read (and audited)
//! through the caller's scope at delivery, so access ended by a withdrawal is already
//! ended here.

use crate::auth::{self, Actor, ClientAddress};
use crate::domain::ReferralStatus;
use crate::error::Error;
use crate::events::{Event, EventKind};
use crate::graphql::brokering::Referral;
use crate::graphql::errors::to_gql;
use crate::graphql::{actor, services};
use async_graphql::{Context, Enum, ID, Object, Result, Subscription as SubscriptionRoot};
use chrono::{DateTime, Utc};
use futures_util::Stream;
use sea_orm::DatabaseConnection;
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;

pub struct Subscription;

/// `graphql-transport-ws`'s close code for a caller who is no longer authenticated.
pub const CLOSE_UNAUTHORIZED: u16 = 4401;
/// `graphql-transport-ws`'s close code for a caller who is no longer allowed what they
/// connected as.
pub const CLOSE_FORBIDDEN: u16 = 4403;
/// WebSocket's close code for a failure of the server's own.
pub const CLOSE_INTERNAL: u16 = 1011;

/// Why the server closes a WebSocket connection: the close frame's code and reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Close {
    pub code: u16,
    pub reason: &'static str,
}

/// One WebSocket connection's standing: the token it authenticated with, who that was at
/// `connection_init`, and the signal that closes the connection (`http/ws.rs` watches
/// it and sends nothing else once it is raised). Shared by every operation on the
/// connection; holds no identity an operation runs with — each gets its own, resolved by
/// [`Connection::recheck`].
pub struct Connection {
    db: DatabaseConnection,
    token: String,
    allow_demo: bool,
    initial: Actor,
    client: ClientAddress,
    close: Arc<tokio::sync::watch::Sender<Option<Close>>>,
}

impl Connection {
    pub fn new(
        db: DatabaseConnection,
        token: String,
        allow_demo: bool,
        initial: Actor,
        client: ClientAddress,
        close: Arc<tokio::sync::watch::Sender<Option<Close>>>,
    ) -> Connection {
        Connection { db, token, allow_demo, initial, client, close }
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Where the connection comes from.
    pub fn client(&self) -> ClientAddress {
        self.client
    }

    /// Checks the token again and resolves the caller afresh. The caller, if they still
    /// stand where they stood at `connection_init`; otherwise the connection is told to
    /// close — `4401` for a revoked or expired token or a disabled account (anything
    /// `UNAUTHENTICATED`), `4403` for a changed organisation, role or designated-lead
    /// flag, `1011` if the check itself failed — and `None` is returned: the caller must
    /// then run and deliver nothing.
    pub async fn recheck(&self, request_id: Option<String>) -> Option<Actor> {
        let close = match auth::authenticate(&self.db, &self.token, self.allow_demo, request_id).await {
            Ok(actor) if actor.same_standing(&self.initial) => return Some(actor),
            Ok(_) => Close { code: CLOSE_FORBIDDEN, reason: "your organisation or role has changed: connect again" },
            Err(Error::Unauthenticated(_)) => Close {
                code: CLOSE_UNAUTHORIZED,
                reason: "the token is invalid, expired or revoked, or the account is disabled: log in again",
            },
            Err(e) => {
                tracing::error!(error = ?e, "re-checking a WebSocket connection's token");
                Close { code: CLOSE_INTERNAL, reason: "internal error" }
            }
        };
        tracing::info!(user_id = %self.initial.user_id, code = close.code, "closing a WebSocket connection");
        self.close.send_if_modified(|current| {
            let first = current.is_none();
            if first {
                *current = Some(close);
            }
            first
        });
        None
    }
}

/// What happened.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum ReferralEventKind {
    Sent,
    Accepted,
    Declined,
    Active,
    Completed,
    Withdrawn,
    /// The child's attendance at the programme fell below the alert rate.
    AttendanceDropped,
}

/// An event about a referral.
pub struct ReferralEvent(Event);

#[Object]
impl ReferralEvent {
    async fn kind(&self) -> ReferralEventKind {
        match &self.0.kind {
            EventKind::Referral(ReferralStatus::Sent) => ReferralEventKind::Sent,
            EventKind::Referral(ReferralStatus::Accepted) => ReferralEventKind::Accepted,
            EventKind::Referral(ReferralStatus::Declined) => ReferralEventKind::Declined,
            EventKind::Referral(ReferralStatus::Active) => ReferralEventKind::Active,
            EventKind::Referral(ReferralStatus::Completed) => ReferralEventKind::Completed,
            // A referral stream is never given a record opened (`access::inbox_events`,
            // `caseload_events`).
            EventKind::Referral(_) | EventKind::RecordOpened { .. } => ReferralEventKind::Withdrawn,
            EventKind::AttendanceDropped { .. } => ReferralEventKind::AttendanceDropped,
        }
    }
    async fn referral_id(&self) -> ID {
        ID(self.0.record_id.clone())
    }
    /// The attendance rate that triggered an `ATTENDANCE_DROPPED` event.
    async fn attendance_rate(&self) -> Option<f64> {
        match self.0.kind {
            EventKind::AttendanceDropped { rate } => Some(rate),
            _ => None,
        }
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    /// The referral as the caller may see it now (an audited read); null once they may
    /// not.
    async fn referral(&self, ctx: &Context<'_>) -> Result<Option<Referral>> {
        crate::graphql::brokering::referral_if_visible(ctx, &self.0.record_id).await
    }
}

/// A child's record opened by break-glass.
pub struct RecordOpenedEvent(Event);

#[Object]
impl RecordOpenedEvent {
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    /// The opening, as the caller may see it now.
    async fn break_glass(&self, ctx: &Context<'_>) -> Result<Option<crate::graphql::break_glass::BreakGlass>> {
        let found = crate::domain::break_glass::find(&services(ctx)?.db, actor(ctx)?, &self.0.record_id)
            .await
            .map_err(|e| to_gql(&e))?;
        Ok(found.map(crate::graphql::break_glass::BreakGlass))
    }
}

/// Events from the bus that pass `keep`. Every subscription's stream comes from here:
/// before each event is handed on (and so before its `referral` is read), the
/// connection's caller is checked again ([`Connection::recheck`]); if they no longer
/// stand where they stood, the event is withheld and the stream waits while the
/// connection closes.
fn events<F, T>(ctx: &Context<'_>, keep: F, wrap: fn(Event) -> T) -> Result<impl Stream<Item = T> + use<F, T>>
where
    F: Fn(&Event) -> bool + Send + Sync + 'static,
    T: Send + 'static,
{
    let connection = ctx
        .data_opt::<Arc<Connection>>()
        .cloned()
        .ok_or_else(|| to_gql(&Error::Unauthenticated("subscribe over /graphql/ws with a token")))?;
    let rx = services(ctx)?.events.subscribe();
    Ok(futures_util::stream::unfold((rx, connection, keep), move |(mut rx, connection, keep)| async move {
        loop {
            match rx.recv().await {
                Ok(event) if keep(&event) => {
                    if connection.recheck(None).await.is_none() {
                        // Nothing more from this stream: the connection is closing.
                        std::future::pending::<()>().await;
                    }
                    return Some((wrap(event), (rx, connection, keep)));
                }
                Ok(_) | Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return None,
            }
        }
    }))
}

#[SubscriptionRoot]
impl Subscription {
    /// A partner's referral inbox: referrals to their organisation as they are sent,
    /// completed or withdrawn.
    async fn referral_inbox(&self, ctx: &Context<'_>) -> Result<impl Stream<Item = ReferralEvent> + use<>> {
        let keep = crate::access::inbox_events(actor(ctx)?).map_err(|e| to_gql(&e))?;
        events(ctx, keep, ReferralEvent)
    }

    /// A link worker's caseload events: their referrals accepted, declined, started or
    /// completed by partners, and attendance dropping below the alert rate.
    async fn caseload_events(&self, ctx: &Context<'_>) -> Result<impl Stream<Item = ReferralEvent> + use<>> {
        let keep = crate::access::caseload_events(actor(ctx)?).map_err(|e| to_gql(&e))?;
        events(ctx, keep, ReferralEvent)
    }

    /// An anchor lead's records opened: each time a record of their anchor's children is
    /// opened by break-glass. Anchor leads only.
    async fn records_opened(&self, ctx: &Context<'_>) -> Result<impl Stream<Item = RecordOpenedEvent> + use<>> {
        let keep = crate::access::break_glass_events(actor(ctx)?).map_err(|e| to_gql(&e))?;
        events(ctx, keep, RecordOpenedEvent)
    }
}
