//! The share log: every time a child's record went to an organisation beyond their anchor
//! — each referral sent to a partner, each read by a partner's staff — and every time it
//! did not (a referral refused because consent did not cover the partner; sharing stopped
//! when consent was withdrawn), each with the lawful basis and the consent it relied on.
//! Per child (for the family, and the basis of the family report) and per organisation.
//! Worked out from the record (referral steps, the audit's reads, consents) and the
//! `share_refusals` table; who may read which is `access::may_read_share_log`.

use crate::access;
use crate::audit::Audited;
use crate::auth::Actor;
use crate::domain::{OrganisationKind, Page, PageRequest, ReferralStatus};
use crate::error::{Error, Result};
use crate::store::{
    audit_event, consent, consent_partner, lawful_basis, organisation, programme, referral, referral_transition,
    share_refusal, user,
};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use std::collections::{HashMap, HashSet};

/// What happened to the record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ShareKind {
    /// A referral was sent to the partner: the partner view went to them.
    Sent,
    /// A partner's staff read the record (the partner view).
    Read,
    /// The record was not shared: consent did not cover the organisation.
    Refused,
    /// Sharing stopped: the consent covering the organisation was withdrawn.
    Stopped,
}

/// Why a share was refused (`share_refusals.reason`).
pub const CONSENT_DOES_NOT_COVER: &str = "consent_does_not_cover";

/// One entry of the share log.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ShareEntry {
    /// Stable and unique in a log: the page cursor.
    pub key: String,
    pub kind: ShareKind,
    pub at: DateTime<Utc>,
    pub child_id: String,
    pub organisation_id: String,
    pub organisation: String,
    /// Who did it (the link worker who sent, the partner's reader), when known.
    pub person: Option<String>,
    /// What, in words.
    pub what: String,
    /// The lawful basis relied on, in words (none for refusals and stops).
    pub lawful_basis: Option<String>,
    /// The consent relied on (or withdrawn), in words.
    pub consent: Option<String>,
}

/// Whose log.
#[derive(Clone, Debug)]
pub enum Subject {
    Child(String),
    Organisation(String),
}

/// Records, in its own transaction, that a child's record was not shared with an
/// organisation (the refused write itself rolled back).
pub async fn record_refusal(
    db: &DatabaseConnection,
    actor: &Actor,
    child_id: &str,
    organisation_id: &str,
    what: String,
) -> Result<()> {
    // Not the change the request asked for: kept out of its idempotency record and its
    // "saved" bookkeeping, so the request still answers as refused.
    let actor = Actor { writes: None, ..actor.clone() };
    let mut tx = Audited::begin(db, &actor).await?;
    share_refusal::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        child_id: Set(child_id.to_owned()),
        organisation_id: Set(organisation_id.to_owned()),
        reason: Set(CONSENT_DOES_NOT_COVER.to_owned()),
        what: Set(what),
        actor_user_id: Set(actor.user_id.clone()),
        at: Set(Utc::now()),
    }
    .insert(&*tx)
    .await?;
    tx.record("share.refuse", Some(child_id), &["organisation", "consent"]);
    tx.commit().await
}

fn day(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

/// What the record holds about the consents and lawful bases of some children.
struct Bases {
    consents: Vec<consent::Model>,
    covers: HashMap<String, HashSet<String>>,
    bases: Vec<lawful_basis::Model>,
}

impl Bases {
    async fn of<C: ConnectionTrait>(conn: &C, child_ids: &[String]) -> Result<Bases> {
        let consents =
            consent::Entity::find().filter(consent::Column::ChildId.is_in(child_ids.to_vec())).all(conn).await?;
        let mut covers: HashMap<String, HashSet<String>> = HashMap::new();
        for p in consent_partner::Entity::find()
            .filter(consent_partner::Column::ConsentId.is_in(consents.iter().map(|c| c.id.clone())))
            .all(conn)
            .await?
        {
            covers.entry(p.consent_id).or_default().insert(p.organisation_id);
        }
        let bases = lawful_basis::Entity::find()
            .filter(lawful_basis::Column::ChildId.is_in(child_ids.to_vec()))
            .all(conn)
            .await?;
        Ok(Bases { consents, covers, bases })
    }

    /// The consent in force on `on` covering `organisation` for `child`: the latest given.
    fn consent_on(&self, child: &str, organisation: &str, on: NaiveDate) -> Option<String> {
        self.consents
            .iter()
            .filter(|c| c.child_id == child && c.given_on <= on && c.withdrawn_on.is_none_or(|w| w > on))
            .filter(|c| self.covers.get(&c.id).is_some_and(|o| o.contains(organisation)))
            .max_by_key(|c| c.given_on)
            .map(|c| {
                let purposes = c.purposes.replace(['[', ']', '"'], "").replace(',', ", ").replace('_', " ");
                format!("consent given {} by {} for {purposes}", day(c.given_on), c.given_by.replace('_', " "))
            })
    }

    /// The lawful basis on record at `at` for `child` (the latest recorded by then).
    fn basis_at(&self, child: &str, at: DateTime<Utc>) -> Option<String> {
        let of_child = || self.bases.iter().filter(|b| b.child_id == child);
        of_child()
            .filter(|b| b.recorded_at <= at)
            .max_by_key(|b| b.recorded_at)
            .or_else(|| of_child().min_by_key(|b| b.recorded_at))
            .map(|b| format!("{} (data-sharing agreement {})", b.basis.replace('_', " "), b.data_sharing_agreement))
    }
}

/// The share log of a child or an organisation, newest first, a page at a time.
pub async fn log(
    db: &DatabaseConnection,
    actor: &Actor,
    subject: Subject,
    page: PageRequest,
) -> Result<Page<ShareEntry>> {
    let mut entries = entries(db, actor, &subject).await?;
    entries.sort_by(|a, b| (b.at, &b.key).cmp(&(a.at, &a.key)));
    let start =
        match &page.after {
            None => 0,
            Some(after) => entries.iter().position(|e| &e.key == after).map(|p| p + 1).ok_or_else(|| {
                Error::invalid("after", "is not an entry of this log: start again from the first page")
            })?,
        };
    let first = usize::try_from(page.first).unwrap_or(usize::MAX);
    let has_next_page = entries.len() > start.saturating_add(first);
    Ok(Page { items: entries.into_iter().skip(start).take(first).collect(), has_next_page })
}

/// Every entry of the share log of `subject` (unsorted), after the access check; audited
/// as a read (`share_log.read`) of each child in it.
pub async fn entries(db: &DatabaseConnection, actor: &Actor, subject: &Subject) -> Result<Vec<ShareEntry>> {
    access::may_read_share_log(actor, matches!(subject, Subject::Organisation(_)))?;
    let (child_filter, org_filter): (Option<&str>, Option<&str>) = match subject {
        Subject::Child(id) => {
            if uuid::Uuid::parse_str(id).is_err() {
                return Err(Error::NotFound("child"));
            }
            access::read_child(db, actor, id).await?;
            (Some(id.as_str()), None)
        }
        Subject::Organisation(id) => {
            crate::domain::accounts::organisation(db, id).await?;
            (None, Some(id.as_str()))
        }
    };
    let out = gather(db, child_filter, org_filter).await?;
    let mut tx = Audited::begin(db, actor).await?;
    let mut read: Vec<&str> = out.iter().map(|e| e.child_id.as_str()).chain(child_filter).collect();
    read.sort_unstable();
    read.dedup();
    for child in read {
        tx.record("share_log.read", Some(child), &["shareLog"]);
    }
    tx.commit().await?;
    Ok(out)
}

/// Every entry of the share log of a child or an organisation, with no access check (for
/// callers that made it: `entries`, subject access, the family report).
pub(crate) async fn gather(
    db: &DatabaseConnection,
    child_filter: Option<&str>,
    org_filter: Option<&str>,
) -> Result<Vec<ShareEntry>> {
    let partners: HashMap<String, String> = organisation::Entity::find()
        .filter(organisation::Column::Kind.eq(OrganisationKind::Partner.as_str()))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let name_of = |org: &str| partners.get(org).cloned().unwrap_or_else(|| "an organisation".to_owned());

    // Referrals sent.
    let mut referrals = referral::Entity::find();
    if let Some(c) = child_filter {
        referrals = referrals.filter(referral::Column::ChildId.eq(c));
    }
    if let Some(o) = org_filter {
        referrals = referrals.filter(referral::Column::OrganisationId.eq(o));
    }
    let referrals: HashMap<String, referral::Model> =
        referrals.all(db).await?.into_iter().map(|r| (r.id.clone(), r)).collect();
    let sends = referral_transition::Entity::find()
        .filter(referral_transition::Column::ReferralId.is_in(referrals.keys().cloned()))
        .filter(referral_transition::Column::ToStatus.eq(ReferralStatus::Sent.as_str()))
        .all(db)
        .await?;
    let programmes: HashMap<String, String> = programme::Entity::find()
        .filter(programme::Column::Id.is_in(referrals.values().map(|r| r.programme_id.clone())))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect();

    // Partners' reads.
    let mut reads = audit_event::Entity::find()
        .filter(audit_event::Column::ActorOrganisationId.is_in(partners.keys().cloned()))
        .filter(audit_event::Column::Action.like("%.read"));
    if let Some(c) = child_filter {
        reads = reads.filter(audit_event::Column::ChildId.eq(c));
    }
    if let Some(o) = org_filter {
        reads = reads.filter(audit_event::Column::ActorOrganisationId.eq(o));
    }
    let reads: Vec<audit_event::Model> = reads.all(db).await?.into_iter().filter(|e| e.child_id.is_some()).collect();

    // Refusals.
    let mut refusals = share_refusal::Entity::find();
    if let Some(c) = child_filter {
        refusals = refusals.filter(share_refusal::Column::ChildId.eq(c));
    }
    if let Some(o) = org_filter {
        refusals = refusals.filter(share_refusal::Column::OrganisationId.eq(o));
    }
    let refusals = refusals.all(db).await?;

    let mut children: HashSet<String> = referrals.values().map(|r| r.child_id.clone()).collect();
    children.extend(reads.iter().filter_map(|e| e.child_id.clone()));
    children.extend(refusals.iter().map(|r| r.child_id.clone()));
    if let Some(c) = child_filter {
        children.insert(c.to_owned());
    }
    let mut child_ids: Vec<String> = children.into_iter().collect();
    if org_filter.is_some() {
        // Withdrawn consents that covered the organisation, for children not yet listed.
        let covered: Vec<String> = consent_partner::Entity::find()
            .filter(consent_partner::Column::OrganisationId.eq(org_filter.unwrap_or_default()))
            .all(db)
            .await?
            .into_iter()
            .map(|p| p.consent_id)
            .collect();
        for c in consent::Entity::find()
            .filter(consent::Column::Id.is_in(covered))
            .filter(consent::Column::WithdrawnOn.is_not_null())
            .all(db)
            .await?
        {
            if !child_ids.contains(&c.child_id) {
                child_ids.push(c.child_id);
            }
        }
    }
    let bases = Bases::of(db, &child_ids).await?;
    let mut people_ids: Vec<String> = sends.iter().filter_map(|t| t.actor_user_id.clone()).collect();
    people_ids.extend(reads.iter().filter_map(|e| e.actor_user_id.clone()));
    people_ids.extend(refusals.iter().map(|r| r.actor_user_id.clone()));
    let people: HashMap<String, String> = user::Entity::find()
        .filter(user::Column::Id.is_in(people_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.display_name))
        .collect();
    let person = |id: Option<&String>| id.and_then(|i| people.get(i).cloned());

    let mut out = Vec::new();
    for t in sends {
        let Some(r) = referrals.get(&t.referral_id) else { continue };
        let programme = programmes.get(&r.programme_id).map_or("a programme", String::as_str);
        out.push(ShareEntry {
            key: t.id.clone(),
            kind: ShareKind::Sent,
            at: t.at,
            child_id: r.child_id.clone(),
            organisation_id: r.organisation_id.clone(),
            organisation: name_of(&r.organisation_id),
            person: person(t.actor_user_id.as_ref()),
            what: format!("a referral to {programme} sent on {}, with the needs it gives", day(t.effective_on)),
            lawful_basis: bases.basis_at(&r.child_id, t.at),
            consent: bases.consent_on(&r.child_id, &r.organisation_id, t.effective_on),
        });
    }
    for e in reads {
        let (Some(child), Some(org)) = (e.child_id.clone(), e.actor_organisation_id.clone()) else { continue };
        let fields: Vec<String> = serde_json::from_str(&e.fields).unwrap_or_default();
        out.push(ShareEntry {
            key: format!("read-{}", e.id),
            kind: ShareKind::Read,
            at: e.at,
            what: format!("read {} ({})", e.action.trim_end_matches(".read").replace('_', " "), fields.join(", ")),
            lawful_basis: bases.basis_at(&child, e.at),
            consent: bases.consent_on(&child, &org, e.at.date_naive()),
            organisation: name_of(&org),
            person: person(e.actor_user_id.as_ref()),
            child_id: child,
            organisation_id: org,
        });
    }
    for r in refusals {
        out.push(ShareEntry {
            key: r.id.clone(),
            kind: ShareKind::Refused,
            at: r.at,
            organisation: name_of(&r.organisation_id),
            person: person(Some(&r.actor_user_id)),
            what: format!("not shared: {} (consent did not cover this organisation)", r.what),
            lawful_basis: None,
            consent: None,
            child_id: r.child_id,
            organisation_id: r.organisation_id,
        });
    }
    for c in bases.consents.iter().filter(|c| c.withdrawn_on.is_some()) {
        let Some(covered) = bases.covers.get(&c.id) else { continue };
        for org in covered.iter().filter(|o| org_filter.is_none_or(|f| f == o.as_str())) {
            let withdrawn_on = c.withdrawn_on.unwrap_or(c.given_on);
            out.push(ShareEntry {
                key: format!("stop-{}-{org}", c.id),
                kind: ShareKind::Stopped,
                at: c.withdrawn_at.unwrap_or(c.recorded_at),
                child_id: c.child_id.clone(),
                organisation_id: org.clone(),
                organisation: name_of(org),
                person: None,
                what: format!("sharing stopped: the consent was withdrawn on {}", day(withdrawn_on)),
                lawful_basis: None,
                consent: Some(format!("consent given {} by {}", day(c.given_on), c.given_by.replace('_', " "))),
            });
        }
    }
    Ok(out)
}
