//! Real-time events for subscriptions: a partner's referral inbox, a link worker's
//! caseload, and the records an anchor's lead is told were opened by break-glass. Published after the change has committed; carry ids only, so that what a
//! subscriber sees of the record is resolved through `access` when the event is delivered.
//!
//! Each process delivers to its subscribers from a broadcast channel. On SQLite (one
//! process) an event goes straight onto it. On PostgreSQL every process sharing the
//! database hears every event: [`Bus::publish`] sends it with `NOTIFY` (ids and a status
//! only, never personal data), and each process's listener (`LISTEN`, on a connection of
//! its own) puts what it hears onto its channel — its own events included, so an event is
//! delivered once, the same way, wherever it happened. Events sent while a listener's
//! connection is down (the server restarting) are not heard by that process; the listener
//! reconnects by itself.

use crate::domain::ReferralStatus;
use chrono::{DateTime, Utc};
use sea_orm::sqlx;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc};

/// The channel every process listens on.
const CHANNEL: &str = "backbone_events";

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

/// An event as it travels between processes: plain values, no personal data.
#[derive(Serialize, Deserialize)]
struct Wire {
    kind: String,
    status: Option<String>,
    rate: Option<f64>,
    child_id: Option<String>,
    record_id: String,
    organisation_id: String,
    link_worker_id: Option<String>,
    at: DateTime<Utc>,
}

impl Event {
    fn to_wire(&self) -> String {
        let (kind, status, rate, child_id) = match &self.kind {
            EventKind::Referral(s) => ("referral", Some(s.as_str().to_owned()), None, None),
            EventKind::AttendanceDropped { rate } => ("attendance_dropped", None, Some(*rate), None),
            EventKind::RecordOpened { child_id } => ("record_opened", None, None, Some(child_id.clone())),
        };
        let wire = Wire {
            kind: kind.to_owned(),
            status,
            rate,
            child_id,
            record_id: self.record_id.clone(),
            organisation_id: self.organisation_id.clone(),
            link_worker_id: self.link_worker_id.clone(),
            at: self.at,
        };
        serde_json::to_string(&wire).unwrap_or_default()
    }

    fn from_wire(text: &str) -> Option<Event> {
        let w: Wire = serde_json::from_str(text).ok()?;
        let kind = match w.kind.as_str() {
            "referral" => EventKind::Referral(ReferralStatus::from_stored(w.status.as_deref()?).ok()?),
            "attendance_dropped" => EventKind::AttendanceDropped { rate: w.rate? },
            "record_opened" => EventKind::RecordOpened { child_id: w.child_id? },
            _ => return None,
        };
        Some(Event {
            kind,
            record_id: w.record_id,
            organisation_id: w.organisation_id,
            link_worker_id: w.link_worker_id,
            at: w.at,
        })
    }
}

/// The event bus: this process's subscribers, and on PostgreSQL every other process's.
#[derive(Clone)]
pub struct Bus {
    local: broadcast::Sender<Event>,
    /// On PostgreSQL: the queue of events to `NOTIFY`, in the order published.
    notify: Option<mpsc::UnboundedSender<String>>,
}

impl Default for Bus {
    /// One process's bus, with nobody else to tell.
    fn default() -> Self {
        Bus { local: broadcast::channel(1024).0, notify: None }
    }
}

impl Bus {
    /// The bus for a service on `db`: on PostgreSQL it listens for every process's events
    /// and sends its own to all of them.
    pub async fn connect(db: &sea_orm::DatabaseConnection) -> anyhow::Result<Bus> {
        let bus = Bus::default();
        if db.get_database_backend() != sea_orm::DbBackend::Postgres {
            return Ok(bus);
        }
        let pool = db.get_postgres_connection_pool().clone();
        let mut listener = sqlx::postgres::PgListener::connect_with(&pool).await?;
        listener.listen(CHANNEL).await?;
        let heard = bus.local.clone();
        tokio::spawn(async move {
            loop {
                match listener.recv().await {
                    Ok(n) => match Event::from_wire(n.payload()) {
                        Some(event) => drop(heard.send(event)),
                        None => tracing::warn!("an event heard from another process could not be read"),
                    },
                    Err(e) => {
                        // The connection went (the next `recv` reconnects): events sent
                        // meanwhile are not heard here.
                        tracing::warn!(error = %e, "listening for events: the connection went; reconnecting");
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    }
                }
            }
        });
        let (notify, mut queue) = mpsc::unbounded_channel::<String>();
        tokio::spawn(async move {
            while let Some(payload) = queue.recv().await {
                let sent = sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(&payload).execute(&pool).await;
                if let Err(e) = sent {
                    tracing::error!(error = %e, "an event could not be sent to the other processes");
                }
            }
        });
        Ok(Bus { notify: Some(notify), ..bus })
    }

    /// Publishes to whoever is subscribed (nobody is fine): here, or through the database
    /// to every process (this one included).
    pub fn publish(&self, event: Event) {
        match &self.notify {
            Some(notify) => {
                if notify.send(event.to_wire()).is_err() {
                    let _ = self.local.send(event);
                }
            }
            None => {
                let _ = self.local.send(event);
            }
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.local.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_event_travels_between_processes_unchanged() {
        let at = Utc::now();
        let kinds = [
            EventKind::Referral(ReferralStatus::Accepted),
            EventKind::AttendanceDropped { rate: 0.5 },
            EventKind::RecordOpened { child_id: "c1".into() },
        ];
        for kind in kinds {
            let sent = Event {
                kind: kind.clone(),
                record_id: "r1".into(),
                organisation_id: "o1".into(),
                link_worker_id: Some("w1".into()),
                at,
            };
            let heard = Event::from_wire(&sent.to_wire()).expect("read back");
            assert_eq!(
                (heard.kind, heard.record_id, heard.link_worker_id, heard.at),
                (kind, sent.record_id, sent.link_worker_id, at)
            );
        }
        assert!(Event::from_wire("{\"kind\": \"other\"}").is_none());
    }
}
