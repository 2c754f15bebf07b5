//! Engagement, counted in SQL: per referral and per child, sessions offered (attended or
//! absent; a cancelled session was not offered), attended, the attendance rate, the mean
//! engagement in attended sessions, and the last session attended; and the frequency and
//! length of link-worker contact. Every count runs inside the caller's scope, so a partner's
//! figures cover only their own organisation's sessions.

use crate::access;
use crate::auth::Actor;
use crate::error::Result;
use crate::store::bundle::{Read, Reader};
use crate::store::{attendance, contact};
use chrono::NaiveDate;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use std::collections::HashMap;

/// Attendance figures for one referral or one child.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Attendance {
    pub offered: i64,
    pub attended: i64,
    /// Sum of engagement levels (1–3) over attended sessions.
    pub engagement_total: i64,
    pub last_attended: Option<NaiveDate>,
}

impl Attendance {
    /// Attended ÷ offered, when anything was offered.
    pub fn rate(&self) -> Option<f64> {
        (self.offered > 0).then(|| self.attended as f64 / self.offered as f64)
    }

    /// Is attendance dropping by the brokering rule: the rate below
    /// `attendance_alert_below` once `attendance_alert_after_sessions` were offered?
    pub fn dropping(&self, rule: crate::settings::BrokeringSettings) -> bool {
        self.offered >= rule.attendance_alert_after_sessions
            && self.rate().is_some_and(|r| r < rule.attendance_alert_below)
    }

    /// Mean engagement (1–3) over attended sessions.
    pub fn mean_engagement(&self) -> Option<f64> {
        (self.attended > 0).then(|| self.engagement_total as f64 / self.attended as f64)
    }
}

/// Link-worker contact figures for one child.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Contact {
    pub count: i64,
    pub minutes: i64,
    pub last: Option<NaiveDate>,
}

/// Sessions offered among grouped register lines (attended or absent; a cancelled session
/// was not offered). Shared with the metrics' summary tables, so both count alike.
pub(crate) const OFFERED_SQL: &str = "SUM(CASE WHEN status IN ('attended', 'absent') THEN 1 ELSE 0 END)";
/// Sessions attended among grouped register lines.
pub(crate) const ATTENDED_SQL: &str = "SUM(CASE WHEN status = 'attended' THEN 1 ELSE 0 END)";

/// One key's register lines, summed.
#[derive(sea_orm::FromQueryResult, serde::Deserialize)]
struct Grouped {
    key: String,
    offered: i64,
    attended: i64,
    engagement: Option<i64>,
    last_attended: Option<NaiveDate>,
}

fn into_map(rows: Vec<Grouped>) -> HashMap<String, Attendance> {
    rows.into_iter()
        .map(|g| {
            let engagement_total = g.engagement.unwrap_or(0);
            (
                g.key,
                Attendance {
                    offered: g.offered,
                    attended: g.attended,
                    engagement_total,
                    last_attended: g.last_attended,
                },
            )
        })
        .collect()
}

/// One child's link-worker contacts, summed.
#[derive(sea_orm::FromQueryResult, serde::Deserialize)]
struct Contacts {
    child_id: String,
    count: i64,
    minutes: Option<i64>,
    last: Option<NaiveDate>,
}

async fn attendance_grouped<R: Reader>(
    conn: &R,
    actor: &Actor,
    key: attendance::Column,
    keys: &[String],
) -> Result<HashMap<String, Attendance>> {
    // Fixed SQL fragments (no input): the status spellings are the service's own.
    let rows: Vec<Grouped> = attendance::Entity::find()
        .select_only()
        .column_as(key, "key")
        .column_as(Expr::cust(OFFERED_SQL), "offered")
        .column_as(Expr::cust(ATTENDED_SQL), "attended")
        .column_as(Expr::cust("SUM(CASE WHEN status = 'attended' THEN engagement ELSE 0 END)"), "engagement")
        .column_as(Expr::cust("MAX(CASE WHEN status = 'attended' THEN held_on END)"), "last_attended")
        .filter(key.is_in(keys.to_vec()))
        .filter(access::attendance_condition(actor))
        .group_by(key)
        .read_as(conn)
        .await?;
    Ok(into_map(rows))
}

/// Attendance per referral, for referrals the caller may see.
pub async fn by_referral<R: Reader>(
    conn: &R,
    actor: &Actor,
    referral_ids: &[String],
) -> Result<HashMap<String, Attendance>> {
    attendance_grouped(conn, actor, attendance::Column::ReferralId, referral_ids).await
}

/// Attendance per child over every referral the caller may see.
pub async fn by_child<R: Reader>(conn: &R, actor: &Actor, child_ids: &[String]) -> Result<HashMap<String, Attendance>> {
    attendance_grouped(conn, actor, attendance::Column::ChildId, child_ids).await
}

/// Link-worker contact per child (record scope: not for partners).
pub async fn contacts_by_child<R: Reader>(
    conn: &R,
    actor: &Actor,
    child_ids: &[String],
) -> Result<HashMap<String, Contact>> {
    let rows: Vec<Contacts> = contact::Entity::find()
        .select_only()
        .column(contact::Column::ChildId)
        .column_as(Expr::cust("COUNT(*)"), "count")
        .column_as(Expr::cust("SUM(minutes)"), "minutes")
        .column_as(Expr::cust("MAX(held_on)"), "last")
        .filter(contact::Column::ChildId.is_in(child_ids.to_vec()))
        .filter(contact::Column::ChildId.in_subquery(access::record_child_ids(actor)))
        .group_by(contact::Column::ChildId)
        .read_as(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|c| (c.child_id, Contact { count: c.count, minutes: c.minutes.unwrap_or(0), last: c.last }))
        .collect())
}
