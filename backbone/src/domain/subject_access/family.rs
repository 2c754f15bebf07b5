//! The family report: for one child, in words a parent understands, which organisations
//! hold the record and why, what was shared with whom and on what basis (the share log),
//! and who has looked at it and when (the audit) — the page a link worker prints and
//! hands to a family. Who may give it: as for the child's share log
//! (`access::may_read_share_log`).

use super::access_log;
use crate::access;
use crate::audit::Audited;
use crate::auth::Actor;
use crate::domain::OrganisationKind;
use crate::domain::sharing::{ShareEntry, ShareKind};
use crate::error::{Error, Result};
use crate::store::{consent, consent_partner, organisation};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use std::collections::BTreeMap;

/// An organisation that holds the record, and why.
#[derive(Clone, Debug)]
pub struct Holder {
    pub organisation: String,
    pub why: String,
}

/// Someone who has looked at the record: how often, first and last.
#[derive(Clone, Debug)]
pub struct Viewer {
    pub person: String,
    pub organisation: String,
    pub role: String,
    pub times: usize,
    /// How many of those were under a break-glass opening.
    pub break_glass: usize,
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
}

/// The report's content.
#[derive(Clone, Debug)]
pub struct FamilyReport {
    pub first_name: String,
    pub anchor: String,
    pub produced_at: DateTime<Utc>,
    pub holders: Vec<Holder>,
    /// Shares, refusals and stops, newest first (partners' reads are in `viewers`).
    pub shared: Vec<ShareEntry>,
    pub viewers: Vec<Viewer>,
}

/// The family report of `child_id`. Audited as `child.family_report`.
pub async fn family_report(db: &DatabaseConnection, actor: &Actor, child_id: &str) -> Result<FamilyReport> {
    access::may_read_share_log(actor, false)?;
    if uuid::Uuid::parse_str(child_id).is_err() {
        return Err(Error::NotFound("child"));
    }
    let mut tx = Audited::begin(db, actor).await?;
    let child = access::find_child(&*tx, actor, child_id).await?;
    let organisations: BTreeMap<String, organisation::Model> =
        organisation::Entity::find().all(&*tx).await?.into_iter().map(|o| (o.id.clone(), o)).collect();
    let name = |id: &str| organisations.get(id).map_or_else(|| "an organisation".to_owned(), |o| o.name.clone());
    let mut holders = vec![Holder {
        organisation: name(&child.anchor_id),
        why: format!("identified {} and keeps the record; their link worker works with the family", child.first_name),
    }];
    for o in organisations.values().filter(|o| o.kind == OrganisationKind::Backbone.as_str()) {
        holders.push(Holder {
            organisation: o.name.clone(),
            why: "runs the partnership's shared record and answers for how it is kept".to_owned(),
        });
    }
    let in_force: Vec<consent::Model> = consent::Entity::find()
        .filter(consent::Column::ChildId.eq(child_id))
        .filter(consent::Column::WithdrawnOn.is_null())
        .all(&*tx)
        .await?;
    let mut partners: BTreeMap<String, String> = BTreeMap::new();
    for p in consent_partner::Entity::find()
        .filter(consent_partner::Column::ConsentId.is_in(in_force.iter().map(|c| c.id.clone())))
        .all(&*tx)
        .await?
    {
        if let Some(c) = in_force.iter().find(|c| c.id == p.consent_id) {
            partners.insert(
                name(&p.organisation_id),
                format!(
                    "may be told what they need to support {}: consent given {}",
                    child.first_name,
                    c.given_on.format("%-d %B %Y")
                ),
            );
        }
    }
    holders.extend(partners.into_iter().map(|(organisation, why)| Holder { organisation, why }));

    let mut viewers: BTreeMap<(String, String, String), Viewer> = BTreeMap::new();
    for e in access_log(&tx, child_id).await?.into_iter().filter(|e| e.action.ends_with(".read")) {
        let person = e.person.unwrap_or_else(|| "the service itself".to_owned());
        let organisation = e.organisation.unwrap_or_default();
        let key = (organisation.clone(), person.clone(), e.role.clone());
        let v = viewers.entry(key).or_insert(Viewer {
            person,
            organisation,
            role: e.role,
            times: 0,
            break_glass: 0,
            first: e.at,
            last: e.at,
        });
        v.times += 1;
        v.break_glass += usize::from(e.break_glass);
        v.first = v.first.min(e.at);
        v.last = v.last.max(e.at);
    }
    let mut shared: Vec<ShareEntry> = crate::domain::sharing::gather(db, Some(child_id), None)
        .await?
        .into_iter()
        .filter(|e| e.kind != ShareKind::Read)
        .collect();
    shared.sort_by(|a, b| (b.at, &b.key).cmp(&(a.at, &a.key)));
    tx.record("child.family_report", Some(child_id), &["shareLog", "accessLog"]);
    tx.commit().await?;
    Ok(FamilyReport {
        first_name: child.first_name,
        anchor: name(&child.anchor_id),
        produced_at: Utc::now(),
        holders,
        shared,
        viewers: viewers.into_values().collect(),
    })
}
