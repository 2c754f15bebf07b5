//! Subscriptions, over WebSocket at `/graphql/ws` (`graphql-transport-ws` or the older
//! `graphql-ws` protocol). The client sends its token in the `connection_init` payload
//! (`{"authorization": "Bearer <token>"}`); the token is checked again before every event
//! is delivered, so a logged-out or expired token ends the stream. Events carry ids; the
//! `referral` of an event is read (and audited) through the caller's scope at delivery, so
//! access ended by a withdrawal is already ended here.

use crate::auth;
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
use tokio::sync::broadcast::error::RecvError;

pub struct Subscription;

/// The token a WebSocket connection authenticated with.
pub struct ConnectionToken {
    pub token: String,
    pub allow_demo: bool,
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
            EventKind::Referral(_) => ReferralEventKind::Withdrawn,
            EventKind::AttendanceDropped { .. } => ReferralEventKind::AttendanceDropped,
        }
    }
    async fn referral_id(&self) -> ID {
        ID(self.0.referral_id.clone())
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
        match crate::domain::referrals::get(&services(ctx)?.db, actor(ctx)?, &self.0.referral_id).await {
            Ok(found) => Ok(Some(Referral::new(ctx, found)?)),
            Err(Error::NotFound(_)) => Ok(None),
            Err(e) => Err(to_gql(&e)),
        }
    }
}

/// Events from the bus that pass `keep`, for as long as the connection's token is valid.
fn events<F>(ctx: &Context<'_>, keep: F) -> Result<impl Stream<Item = ReferralEvent> + use<F>>
where
    F: Fn(&Event) -> bool + Send + Sync + 'static,
{
    let db: DatabaseConnection = services(ctx)?.db.clone();
    let token = ctx
        .data_opt::<ConnectionToken>()
        .map(|t| (t.token.clone(), t.allow_demo))
        .ok_or_else(|| to_gql(&Error::Unauthenticated("subscribe over /graphql/ws with a token")))?;
    let rx = services(ctx)?.events.subscribe();
    Ok(futures_util::stream::unfold((rx, db, token, keep), |(mut rx, db, token, keep)| async move {
        loop {
            match rx.recv().await {
                Ok(event) if keep(&event) => {
                    // The token must still be valid for each delivery.
                    auth::authenticate(&db, &token.0, token.1, None).await.ok()?;
                    return Some((ReferralEvent(event), (rx, db, token, keep)));
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
        events(ctx, keep)
    }

    /// A link worker's caseload events: their referrals accepted, declined, started or
    /// completed by partners, and attendance dropping below the alert rate.
    async fn caseload_events(&self, ctx: &Context<'_>) -> Result<impl Stream<Item = ReferralEvent> + use<>> {
        let keep = crate::access::caseload_events(actor(ctx)?).map_err(|e| to_gql(&e))?;
        events(ctx, keep)
    }
}
