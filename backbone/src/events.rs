//! Real-time events for subscriptions: a partner's referral inbox, a link worker's
//! caseload, and the records an anchor's lead is told were opened by break-glass. Published after the change has committed; carry ids only, so that what a
//! subscriber sees of the record is resolved through `access` when the event is delivered.
//!
//! One process: a broadcast channel. Several processes would fan out through PostgreSQL
//! `LISTEN/NOTIFY` (not built; see `docs/architecture.md`).

use crate::domain::ReferralStatus;
use chrono::{DateTime, Utc};
use tokio::sync::broadcast;

/// Something that happened to a referral.
#[derive(Clone, Debug, PartialEq)]
pub enum EventKind {
    /// The referral moved to this status.
    Referral(ReferralStatus),
    /// The child's attendance at the programme fell below the alert rate.
    AttendanceDropped { rate: f64 },
    /// A child's record was opened by break-glass (`domain::break_glass`); the event's
    /// record is the opening.
    RecordOpened { child_id: String },
}

#[derive(Clone, Debug)]
pub struct Event {
    pub kind: EventKind,
    /// The record it is about: the referral, or the break-glass opening.
    pub record_id: String,
    /// The organisation told: the partner a referral is to; the anchor of a child whose
    /// record was opened.
    pub organisation_id: String,
    /// The link worker following the referral up.
    pub link_worker_id: Option<String>,
    pub at: DateTime<Utc>,
}

impl Event {
    pub fn about(referral: &crate::store::referral::Model, kind: EventKind) -> Event {
        Event {
            kind,
            record_id: referral.id.clone(),
            organisation_id: referral.organisation_id.clone(),
            link_worker_id: referral.link_worker_id.clone(),
            at: Utc::now(),
        }
    }

    /// A child's record opened by break-glass: told to the child's anchor.
    pub fn record_opened(opening: &crate::store::break_glass::Model, anchor_id: &str) -> Event {
        Event {
            kind: EventKind::RecordOpened { child_id: opening.child_id.clone() },
            record_id: opening.id.clone(),
            organisation_id: anchor_id.to_owned(),
            link_worker_id: None,
            at: opening.opened_at,
        }
    }
}

/// The in-process event bus.
#[derive(Clone)]
pub struct Bus(broadcast::Sender<Event>);

impl Default for Bus {
    fn default() -> Self {
        Bus(broadcast::channel(1024).0)
    }
}

impl Bus {
    /// Publishes to whoever is subscribed (nobody is fine).
    pub fn publish(&self, event: Event) {
        let _ = self.0.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.0.subscribe()
    }
}
