//! A link worker's casework around a child: contacts with the child and family, progress
//! notes (from link workers and partners, with visibility), safeguarding concerns (read
//! only by the anchor's designated safeguarding leads and backbone admins), and handing a
//! child over to another link worker with everything pending.

use crate::access::{self, Right};
use crate::audit::{Audited, now};
use crate::auth::Actor;
use crate::domain::{
    ChildChange, ContactKind, ContactParty, NoteVisibility, Page, PageRequest, ReferralStatus, Role, join_list,
};
use crate::domain::{enrolment, validate};
use crate::error::{Error, Result};
use crate::store::bundle::{Read, Reader};
use crate::store::{child, contact, handover, plan_review, progress_note, referral, safeguarding_concern};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set};
use validator::Validate;

#[derive(Debug, Clone, Validate)]
pub struct NewContact {
    #[validate(custom(function = "crate::domain::validate::id"))]
    pub child_id: String,
    #[validate(custom(function = "crate::domain::validate::past_date"))]
    pub held_on: String,
    #[validate(range(min = 1, max = 600, message = "must be from 1 to 600 minutes"))]
    pub minutes: i32,
    pub kind: ContactKind,
    /// Checked by hand: at least one.
    pub with_whom: Vec<ContactParty>,
    #[validate(custom(function = "crate::domain::validate::narrative"))]
    pub content: String,
}

impl NewContact {
    /// Tidies and validates the contact (nothing is read); the day it was held.
    pub fn check(&mut self) -> Result<chrono::NaiveDate> {
        self.content = validate::tidy(&self.content);
        self.validate()?;
        if self.with_whom.is_empty() {
            return Err(Error::invalid("withWhom", "must name at least one person the contact was with"));
        }
        validate::past_date_in("heldOn", &self.held_on)
    }
}

/// Logs a link worker's interaction with a child or family.
pub async fn log_contact(db: &DatabaseConnection, actor: &Actor, mut input: NewContact) -> Result<contact::Model> {
    let held_on = input.check()?;
    let mut tx = Audited::begin(db, actor).await?;
    let child = access::find_child(&*tx, actor, &input.child_id).await?;
    access::require(actor, Right::Write)?;
    validate::not_before_birth("heldOn", held_on, access::birth_bound(actor, &child))?;
    let created = contact::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        child_id: Set(input.child_id.clone()),
        link_worker_id: Set(actor.user_id.clone()),
        held_on: Set(held_on),
        minutes: Set(input.minutes),
        kind: Set(input.kind.as_str().to_owned()),
        with_whom: Set(join_list(&input.with_whom, ContactParty::as_str)),
        content: Set(input.content),
        recorded_at: Set(now()),
    }
    .insert(&*tx)
    .await?;
    tx.record("contact.log", Some(&input.child_id), &["contacts"]);
    tx.commit().await?;
    Ok(created)
}

/// A child's contacts, newest record first, a page at a time (record scope).
pub async fn contacts(
    db: &DatabaseConnection,
    actor: &Actor,
    child_id: &str,
    page: PageRequest,
) -> Result<Page<contact::Model>> {
    let query = contact::Entity::find()
        .filter(contact::Column::ChildId.eq(child_id.to_owned()))
        .filter(contact::Column::ChildId.in_subquery(access::record_child_ids(actor)));
    crate::domain::keyset_page(db, query, contact::Column::Id, page).await
}

#[derive(Debug, Clone, Validate)]
pub struct NewNote {
    #[validate(custom(function = "crate::domain::validate::id"))]
    pub child_id: String,
    #[validate(custom(function = "crate::domain::validate::id"))]
    pub referral_id: Option<String>,
    #[validate(custom(function = "crate::domain::validate::narrative"))]
    pub body: String,
    pub visibility: NoteVisibility,
}

impl NewNote {
    /// Tidies and validates the note (nothing is read).
    pub fn check(&mut self) -> Result<()> {
        self.body = validate::tidy(&self.body);
        Ok(self.validate()?)
    }
}

/// Adds a progress note about a child in the caller's scope. A partner's note may name one
/// of their referrals of the child.
pub async fn add_note(db: &DatabaseConnection, actor: &Actor, mut input: NewNote) -> Result<progress_note::Model> {
    input.check()?;
    access::may_write_casework(actor)?;
    let mut tx = Audited::begin(db, actor).await?;
    access::find_child(&*tx, actor, &input.child_id).await?;
    if let Some(r) = &input.referral_id {
        let not_theirs = || Error::invalid("referralId", "must be a referral of this child you may see");
        let found = access::find_referral(&*tx, actor, r).await.map_err(|e| match e {
            Error::NotFound(_) => not_theirs(),
            e => e,
        })?;
        if found.child_id != input.child_id {
            return Err(not_theirs());
        }
    }
    let created = progress_note::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        child_id: Set(input.child_id.clone()),
        referral_id: Set(input.referral_id.clone()),
        author_id: Set(actor.user_id.clone()),
        organisation_id: Set(actor.organisation_id.clone()),
        visibility: Set(input.visibility.as_str().to_owned()),
        body: Set(input.body),
        created_at: Set(now()),
    }
    .insert(&*tx)
    .await?;
    tx.record("progress_note.add", Some(&input.child_id), &["progressNotes"]);
    tx.commit().await?;
    Ok(created)
}

/// Progress notes of many children the caller may read, newest first (loader).
pub async fn notes_of<R: Reader>(conn: &R, actor: &Actor, child_ids: &[String]) -> Result<Vec<progress_note::Model>> {
    Ok(progress_note::Entity::find()
        .filter(progress_note::Column::ChildId.is_in(child_ids.to_vec()))
        .filter(access::note_condition(actor))
        .order_by_desc(progress_note::Column::Id)
        .read(conn)
        .await?)
}

/// Raises a safeguarding concern about a child in the caller's scope. The author does not
/// read it back unless they are a designated lead: the answer is an acknowledgement.
pub async fn raise_concern(
    db: &DatabaseConnection,
    actor: &Actor,
    child_id: &str,
    body: &str,
) -> Result<safeguarding_concern::Model> {
    validate::id(child_id).map_err(|_| Error::invalid("childId", "must be an id returned by this API"))?;
    let body = validate::tidy(body);
    validate::narrative(&body).map_err(|e| Error::invalid("body", validate::message(e)))?;
    access::may_write_casework(actor)?;
    let mut tx = Audited::begin(db, actor).await?;
    access::find_child(&*tx, actor, child_id).await?;
    let created = safeguarding_concern::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        child_id: Set(child_id.to_owned()),
        raised_by: Set(actor.user_id.clone()),
        organisation_id: Set(actor.organisation_id.clone()),
        body: Set(body),
        created_at: Set(now()),
    }
    .insert(&*tx)
    .await?;
    tx.record("safeguarding_concern.raise", Some(child_id), &["safeguardingConcerns"]);
    tx.commit().await?;
    Ok(created)
}

/// Safeguarding concerns of many children, newest first: `FORBIDDEN` for anyone but the
/// designated leads and admins, whether or not any exist (loader).
pub async fn concerns_of<R: Reader>(
    conn: &R,
    actor: &Actor,
    child_ids: &[String],
) -> Result<Vec<safeguarding_concern::Model>> {
    access::may_read_safeguarding(actor)?;
    Ok(safeguarding_concern::Entity::find()
        .filter(safeguarding_concern::Column::ChildId.is_in(child_ids.to_vec()))
        .filter(safeguarding_concern::Column::ChildId.in_subquery(access::visible_child_ids(actor)))
        .filter(access::safeguarding_condition(actor))
        .order_by_desc(safeguarding_concern::Column::Id)
        .read(conn)
        .await?)
}

/// Hands a child over to another link worker — at the same anchor, or at another anchor
/// when the child moves school — moving the caseload entry and everything pending with it
/// (open referrals and the support plan's pending review follow the new worker), stamped
/// in the handover history. Anchor leads within their anchor; backbone admins, also
/// across anchors. Answers with the child as written (their anchor moved, if it did) and
/// the handover.
pub async fn hand_over(
    db: &DatabaseConnection,
    actor: &Actor,
    child_id: &str,
    to_link_worker_id: &str,
    note: Option<String>,
) -> Result<ChildChange<handover::Model>> {
    validate::id(child_id).map_err(|_| Error::invalid("childId", "must be an id returned by this API"))?;
    let note = validate::blank_to_none(note);
    if let Some(n) = note.as_deref() {
        validate::notes(n).map_err(|e| Error::invalid("note", validate::message(e)))?;
    }
    let mut tx = Audited::begin(db, actor).await?;
    let found = access::find_child(&*tx, actor, child_id).await?;
    access::may_hand_over(actor, &found.anchor_id)?;
    let member = crate::domain::accounts::membership_of(&*tx, to_link_worker_id).await?;
    let Some(member) = member.filter(|m| m.role == Role::LinkWorker.as_str()) else {
        return Err(Error::invalid("linkWorkerId", "must be the id of a link worker"));
    };
    access::may_hand_over_to(actor, &found.anchor_id, &member.organisation_id)?;
    let current = enrolment::of_child(&*tx, child_id).await?;
    if current.link_worker_id.as_deref() == Some(to_link_worker_id) && member.organisation_id == found.anchor_id {
        return Err(Error::conflict("the child is already on this link worker's caseload"));
    }
    let at = now();
    let from_anchor = found.anchor_id.clone();
    let child = if member.organisation_id != from_anchor {
        let mut moved: child::ActiveModel = found.into();
        moved.anchor_id = Set(member.organisation_id.clone());
        moved.updated_at = Set(at);
        moved.update(&*tx).await?
    } else {
        found
    };
    let from_worker = current.link_worker_id.clone();
    let mut active: crate::store::enrolment::ActiveModel = current.into();
    active.link_worker_id = Set(Some(to_link_worker_id.to_owned()));
    active.updated_at = Set(at);
    active.update(&*tx).await?;
    let moved = referral::Entity::update_many()
        .col_expr(referral::Column::LinkWorkerId, Expr::value(to_link_worker_id.to_owned()))
        .col_expr(referral::Column::UpdatedAt, Expr::value(at))
        .filter(referral::Column::ChildId.eq(child_id.to_owned()))
        .filter(referral::Column::Status.is_in(ReferralStatus::spellings(ReferralStatus::OPEN)))
        .exec(&*tx)
        .await?
        .rows_affected;
    // The support plan's pending review is the new link worker's to hold.
    plan_review::Entity::update_many()
        .col_expr(plan_review::Column::LinkWorkerId, Expr::value(Some(to_link_worker_id.to_owned())))
        .filter(plan_review::Column::ChildId.eq(child_id.to_owned()))
        .filter(plan_review::Column::ReviewedOn.is_null())
        .exec(&*tx)
        .await?;
    let record = handover::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        child_id: Set(child_id.to_owned()),
        from_link_worker_id: Set(from_worker),
        to_link_worker_id: Set(to_link_worker_id.to_owned()),
        from_anchor_id: Set(from_anchor),
        to_anchor_id: Set(member.organisation_id),
        referrals_moved: Set(moved as i32),
        actor_user_id: Set(actor.user_id.clone()),
        at: Set(at),
        note: Set(note),
    }
    .insert(&*tx)
    .await?;
    tx.record(
        "child.hand_over",
        Some(child_id),
        &["enrolment.linkWorker", "anchor", "referrals.linkWorker", "supportPlan.reviews.linkWorker"],
    );
    tx.commit().await?;
    Ok(ChildChange { child, change: record })
}

/// Handover history of many children, oldest first (record scope; loader).
pub async fn handovers_of<R: Reader>(conn: &R, actor: &Actor, child_ids: &[String]) -> Result<Vec<handover::Model>> {
    Ok(handover::Entity::find()
        .filter(handover::Column::ChildId.is_in(child_ids.to_vec()))
        .filter(handover::Column::ChildId.in_subquery(access::record_child_ids(actor)))
        .order_by_asc(handover::Column::Id)
        .read(conn)
        .await?)
}
