//! Subject access: everything the zone holds about one child, for the family's right of
//! access — every row of every table that references the child (directly by `child_id`,
//! or through a record of theirs: a consent's partners, a referral's steps, the sessions
//! on their registers, …), the statistics worked out from them, and who has read or
//! changed the record and when (from the audit). As data ([`SubjectAccess`], JSON) and as
//! a readable document ([`to_html`]).
//!
//! [`TABLES`] is the list of what is held; the suite fails when a table that references a
//! child is missing from it, so a new table cannot be forgotten. What is withheld, and
//! why, is `access::subject_access_withheld`; who may ask is
//! `access::may_answer_subject_access`.

use crate::access;
use crate::audit::Audited;
use crate::auth::Actor;
use crate::error::{Error, Result};
use crate::store::{audit_event, organisation, user};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement, SimpleExpr};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, FromQueryResult, JsonValue, QueryFilter, QueryOrder};
use serde::Serialize;
use std::collections::HashMap;

mod family;
mod html;
pub use family::{FamilyReport, family_report};
pub use html::{family_html, to_html};

/// How a table's rows belong to the child.
#[derive(Clone, Copy, Debug)]
pub enum Link {
    /// The child's own row (`children.id`).
    Itself,
    /// A `child_id` column.
    ChildId,
    /// `column` names a row of `parent` (by `parent_column`) that has the child's
    /// `child_id`.
    Via { column: &'static str, parent: &'static str, parent_column: &'static str },
    /// A JSON list of child ids in `child_ids` names the child.
    Listed,
}

/// One table of what is held, with its heading in the family's words.
#[derive(Clone, Copy, Debug)]
pub struct Table {
    pub name: &'static str,
    pub heading: &'static str,
    pub link: Link,
}

const fn via(name: &'static str, heading: &'static str, column: &'static str, parent: &'static str) -> Table {
    Table { name, heading, link: Link::Via { column, parent, parent_column: "id" } }
}

const fn direct(name: &'static str, heading: &'static str) -> Table {
    Table { name, heading, link: Link::ChildId }
}

/// Everything held about a child, in the order the document shows it.
pub const TABLES: &[Table] = &[
    Table { name: "children", heading: "The child's record", link: Link::Itself },
    direct("corrections", "Corrections made to the record, with the old and new values and why"),
    direct("relationships", "Parents, carers and trusted adults"),
    direct("participation_agreements", "Agreement to take part"),
    direct("lawful_bases", "The lawful basis for holding the record"),
    direct("consents", "Consents to share the record"),
    via("consent_partners", "The organisations each consent covers", "consent_id", "consents"),
    direct("enrolments", "Taking part in the zone"),
    via("enrolment_transitions", "Each step of taking part, and when", "enrolment_id", "enrolments"),
    direct("handovers", "Changes of link worker or school"),
    direct("referrals", "Referrals to partners' programmes"),
    via("referral_transitions", "Each step of each referral, and when", "referral_id", "referrals"),
    Table {
        name: "sessions",
        heading: "Sessions the child was registered at",
        link: Link::Via { column: "id", parent: "attendances", parent_column: "session_id" },
    },
    direct("attendances", "Registers: sessions attended or missed"),
    direct("contacts", "Contacts with the child and family"),
    direct("progress_notes", "Progress notes"),
    direct("safeguarding_concerns", "Safeguarding concerns"),
    direct("assessments", "Assessments on the zone's outcomes scale"),
    direct("support_plans", "Support plans"),
    direct("plan_goals", "Goals of the support plans"),
    via("plan_participants", "Adults taking part in the support plans", "plan_id", "support_plans"),
    via("plan_referrals", "Referrals that are part of the support plans", "plan_id", "support_plans"),
    direct("plan_reviews", "Reviews of the support plans"),
    via("plan_review_goals", "Each goal at each review", "review_id", "plan_reviews"),
    direct("share_refusals", "Times the record was not shared with an organisation, and why"),
    direct(
        "break_glasses",
        "Times the record was opened outside its usual scope in an emergency (break-glass), by whom and why",
    ),
    direct("screenings", "Screening data from the school's records"),
    direct("claims", "Outcomes-contract claims that used the child's progress as evidence"),
    direct("child_facts", "Figures worked out for the zone's statistics: taking part"),
    direct("referral_facts", "Figures worked out for the zone's statistics: referrals"),
    direct("outcome_facts", "Figures worked out for the zone's statistics: outcomes"),
    direct("attendance_facts", "Figures worked out for the zone's statistics: attendance"),
    direct("child_name_words", "The words of the child's name, kept for searching"),
    Table {
        name: "idempotency_keys",
        heading: "Recent changes kept for a day so a retry is not made twice",
        link: Link::Listed,
    },
    direct("audit_events", "The record of who read or changed the record (below, in words)"),
];

/// What of a table is not disclosed, and why.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Withheld {
    pub count: usize,
    pub reason: &'static str,
}

/// One table's rows.
#[derive(Clone, Debug, Serialize)]
pub struct Section {
    pub table: &'static str,
    pub heading: &'static str,
    /// Each row as held, column by column.
    pub rows: Vec<JsonValue>,
    /// Rows held but not disclosed, when an exemption applies.
    pub withheld: Option<Withheld>,
}

/// One read or change of the record: when, by whom, of which organisation, doing what.
#[derive(Clone, Debug, Serialize)]
pub struct AccessEntry {
    pub at: DateTime<Utc>,
    pub action: String,
    pub person: Option<String>,
    pub organisation: Option<String>,
    pub role: String,
    pub fields: Vec<String>,
    /// Read under a break-glass opening: outside the reader's usual scope, for the reason
    /// the opening gives (`domain::break_glass`).
    pub break_glass: bool,
}

/// Everything held about a child, and who has seen it.
#[derive(Clone, Debug, Serialize)]
pub struct SubjectAccess {
    pub child_id: String,
    /// The child's name as recorded, for the document's title.
    pub child_name: String,
    pub produced_at: DateTime<Utc>,
    pub sections: Vec<Section>,
    /// Every read and change of the record, oldest first.
    pub access_log: Vec<AccessEntry>,
    /// Every share of the record with an organisation beyond the anchor, and every
    /// refusal to share (`domain::sharing`), newest first.
    pub share_log: Vec<crate::domain::sharing::ShareEntry>,
}

impl Table {
    /// The condition that picks this table's rows of the child (`child_id` a UUID,
    /// checked before).
    pub(crate) fn rows_of_child(&self, child_id: &str) -> SimpleExpr {
        match self.link {
            Link::Itself => Expr::col(Alias::new("id")).eq(child_id),
            Link::ChildId => Expr::col(Alias::new("child_id")).eq(child_id),
            Link::Via { column, parent, parent_column } => Expr::col(Alias::new(column)).in_subquery(
                Query::select()
                    .column(Alias::new(parent_column))
                    .from(Alias::new(parent))
                    .and_where(Expr::col(Alias::new("child_id")).eq(child_id))
                    .to_owned(),
            ),
            // Ids are UUIDs: the pattern holds no wildcard.
            Link::Listed => Expr::col(Alias::new("child_ids")).like(format!("%\"{child_id}\"%")),
        }
    }
}

fn rows_of(table: &Table, child_id: &str) -> SelectStatement {
    Query::select()
        .expr(Expr::cust("*"))
        .from(Alias::new(table.name))
        .and_where(table.rows_of_child(child_id))
        .to_owned()
}

/// Everything held about `child_id`, for a data-protection request (see
/// `access::may_answer_subject_access`). Safeguarding concerns are withheld unless
/// `release_safeguarding` (after the data-protection lead has reviewed them). Audited as
/// `child.subject_access`.
pub async fn export(
    db: &DatabaseConnection,
    actor: &Actor,
    child_id: &str,
    release_safeguarding: bool,
) -> Result<SubjectAccess> {
    access::may_answer_subject_access(actor)?;
    if uuid::Uuid::parse_str(child_id).is_err() {
        return Err(Error::NotFound("child"));
    }
    let backend = db.get_database_backend();
    let mut tx = Audited::begin(db, actor).await?;
    let child = access::find_child(&*tx, actor, child_id).await?;
    let mut sections = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        let rows = JsonValue::find_by_statement(backend.build(&rows_of(table, child_id))).all(&*tx).await?;
        let withheld = access::subject_access_withheld(table.name, release_safeguarding);
        let section = match withheld {
            Some(reason) if !rows.is_empty() => Section {
                table: table.name,
                heading: table.heading,
                withheld: Some(Withheld { count: rows.len(), reason }),
                rows: Vec::new(),
            },
            _ => Section { table: table.name, heading: table.heading, rows, withheld: None },
        };
        sections.push(section);
    }
    let access_log = access_log(&tx, child_id).await?;
    let share_log = shares_newest_first(db, child_id).await?;
    tx.record("child.subject_access", Some(child_id), &["all"]);
    tx.commit().await?;
    Ok(SubjectAccess {
        child_id: child.id,
        child_name: format!("{} {}", child.first_name, child.last_name),
        produced_at: Utc::now(),
        sections,
        access_log,
        share_log,
    })
}

async fn shares_newest_first(
    db: &DatabaseConnection,
    child_id: &str,
) -> Result<Vec<crate::domain::sharing::ShareEntry>> {
    let mut shares = crate::domain::sharing::gather(db, Some(child_id), None).await?;
    shares.sort_by(|a, b| (b.at, &b.key).cmp(&(a.at, &a.key)));
    Ok(shares)
}

pub(crate) async fn access_log(tx: &Audited, child_id: &str) -> Result<Vec<AccessEntry>> {
    let events = audit_event::Entity::find()
        .filter(audit_event::Column::ChildId.eq(child_id))
        .order_by_asc(audit_event::Column::Id)
        .all(&**tx)
        .await?;
    let user_ids: Vec<String> = events.iter().filter_map(|e| e.actor_user_id.clone()).collect();
    let org_ids: Vec<String> = events.iter().filter_map(|e| e.actor_organisation_id.clone()).collect();
    let people: HashMap<String, String> = user::Entity::find()
        .filter(user::Column::Id.is_in(user_ids))
        .all(&**tx)
        .await?
        .into_iter()
        .map(|u| (u.id, u.display_name))
        .collect();
    let organisations: HashMap<String, String> = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(org_ids))
        .all(&**tx)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    Ok(events
        .into_iter()
        .map(|e| AccessEntry {
            at: e.at,
            person: e.actor_user_id.as_ref().and_then(|u| people.get(u).cloned()),
            organisation: e.actor_organisation_id.as_ref().and_then(|o| organisations.get(o).cloned()),
            role: e.actor_role.replace('_', " "),
            fields: serde_json::from_str(&e.fields).unwrap_or_default(),
            break_glass: e.break_glass_id.is_some(),
            action: e.action,
        })
        .collect())
}
