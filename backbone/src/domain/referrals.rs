//! Referrals: a link worker brokering a child to a partner's programme.
//!
//! ```text
//! proposed ─send→ sent ─accept→ accepted ─first session attended→ active ─complete→ completed
//!                   └─decline(reason)→ declined
//! proposed | sent | accepted | active ─withdraw(reason)→ withdrawn
//! ```
//!
//! Link workers (and anchor leads, admins) propose, send, complete and withdraw for
//! children in their scope; the partner accepts, declines and completes. Every transition
//! is stamped (actor, time, note) in `referral_transitions`, with the day it happened
//! (`effective_on`: the caller's `on`, today by default; never in the future, before the
//! child was born or before the referral's previous step — the start, dated by the first
//! session attended, is moved up to the day of acceptance when the register is dated
//! earlier). Sending needs the child enrolled, consent covering the partner, and the
//! programme active with a place free.

use crate::access::{self, Right};
use crate::audit::{Audited, now};
use crate::auth::Actor;
use crate::domain::validate::{self, On};
use crate::domain::{EnrolmentStatus, Page, PageRequest, ReferralStatus, enrolment};
use crate::error::{Error, Result};
use crate::store::bundle::{Read, Reader};
use crate::store::{child, referral, referral_transition};
use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use validator::Validate;

/// A move in the referral state machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Move {
    Send,
    Accept,
    Decline,
    /// The first session the child attended.
    Start,
    Complete,
    Withdraw,
}

impl Move {
    fn verb(self) -> &'static str {
        match self {
            Move::Send => "send",
            Move::Accept => "accept",
            Move::Decline => "decline",
            Move::Start => "start",
            Move::Complete => "complete",
            Move::Withdraw => "withdraw",
        }
    }
}

/// The state machine itself: where `m` leads from `from`, or `CONFLICT`.
pub fn next(from: ReferralStatus, m: Move) -> Result<ReferralStatus> {
    use ReferralStatus::*;
    let to = match (from, m) {
        (Proposed, Move::Send) => Sent,
        (Sent, Move::Accept) => Accepted,
        (Sent, Move::Decline) => Declined,
        (Accepted, Move::Start) => Active,
        (Active, Move::Complete) => Completed,
        (Proposed | Sent | Accepted | Active, Move::Withdraw) => Withdrawn,
        _ => return Err(Error::conflict(format!("cannot {} a referral that is {}", m.verb(), from))),
    };
    Ok(to)
}

/// A referral's short reference (`K7Q2`): four characters derived from its id, without
/// the easily confused 0, 1, I and O, for telling two children of the same first name
/// apart on a register without showing more of who they are. Not unique across the zone;
/// shown beside the child's name, never instead of the id.
pub fn reference(referral_id: &str) -> String {
    use sha2::{Digest, Sha256};
    const ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    let digest = Sha256::digest(referral_id.as_bytes());
    let bits = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    (0..4).map(|i| char::from(ALPHABET[((bits >> (27 - 5 * i)) & 31) as usize])).collect()
}

/// When a referral's step happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepOn<'a> {
    /// As the caller said: refused before the child was born (as far as the caller may
    /// know it) or before the referral's previous step.
    Given(On<'a>),
    /// The day of the first session attended (already checked against the child's birth),
    /// moved up to the previous step's day when earlier: a register logged late does not
    /// date the start before the acceptance.
    Register(NaiveDate),
}

/// The latest step of a referral: the day it happened and the status it led to.
pub async fn last_step<C: ConnectionTrait>(conn: &C, referral_id: &str) -> Result<Option<(NaiveDate, String)>> {
    Ok(referral_transition::Entity::find()
        .filter(referral_transition::Column::ReferralId.eq(referral_id.to_owned()))
        .order_by_desc(referral_transition::Column::EffectiveOn)
        .order_by_desc(referral_transition::Column::Id)
        .one(conn)
        .await?
        .map(|t| (t.effective_on, t.to_status)))
}

/// Refuses a day before the child's birth, as far as `actor` may know it.
async fn not_before_birth<C: ConnectionTrait>(conn: &C, actor: &Actor, child_id: &str, on: On<'_>) -> Result<()> {
    let found = child::Entity::find_by_id(child_id.to_owned())
        .one(conn)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("referral of a missing child {child_id}")))?;
    validate::not_before_birth(on.field, on.day, access::birth_bound(actor, &found))
}

/// Applies `m` to a referral inside `tx`, stamping it in the history as recorded now and
/// as happened `on`.
pub async fn apply(
    tx: &mut Audited,
    found: referral::Model,
    m: Move,
    reason: Option<String>,
    note: Option<String>,
    on: StepOn<'_>,
) -> Result<referral::Model> {
    let from = ReferralStatus::from_stored(&found.status)?;
    let to = next(from, m)?;
    let previous = last_step(&**tx, &found.id).await?;
    let day = match on {
        StepOn::Given(given) => {
            not_before_birth(&**tx, tx.actor(), &found.child_id, given).await?;
            let before = previous.as_ref().map(|(d, s)| (*d, s.as_str()));
            validate::step_follows(given.field, given.day, before, "referral")?;
            given.day
        }
        StepOn::Register(held_on) => previous.map_or(held_on, |(d, _)| held_on.max(d)),
    };
    let at = now();
    let (id, child_id) = (found.id.clone(), found.child_id.clone());
    let mut active: referral::ActiveModel = found.into();
    active.status = Set(to.as_str().to_owned());
    if reason.is_some() {
        active.reason = Set(reason);
    }
    active.updated_at = Set(at);
    let updated = active.update(&**tx).await?;
    stamp(tx, &id, Some(from), to, note, day).await?;
    tx.record(&format!("referral.{}", to.as_str()), Some(&child_id), &["referral.status"]);
    Ok(updated)
}

async fn stamp(
    tx: &Audited,
    referral_id: &str,
    from: Option<ReferralStatus>,
    to: ReferralStatus,
    note: Option<String>,
    on: NaiveDate,
) -> Result<()> {
    referral_transition::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        referral_id: Set(referral_id.to_owned()),
        from_status: Set(from.map(|f| f.as_str().to_owned())),
        to_status: Set(to.as_str().to_owned()),
        actor_user_id: Set(Some(tx.actor().user_id.clone())),
        at: Set(now()),
        effective_on: Set(on),
        note: Set(note),
    }
    .insert(&**tx)
    .await?;
    Ok(())
}

fn check_note(note: &Option<String>) -> Result<()> {
    match note {
        Some(n) => {
            crate::domain::validate::notes(n).map_err(|e| Error::invalid("note", crate::domain::validate::message(e)))
        }
        None => Ok(()),
    }
}

fn check_id(field: &str, id: &str) -> Result<()> {
    crate::domain::validate::id(id).map_err(|_| Error::invalid(field, "must be an id returned by this API"))
}

#[derive(Debug, Clone, Validate)]
pub struct NewReferral {
    #[validate(custom(function = "crate::domain::validate::id"))]
    pub child_id: String,
    #[validate(custom(function = "crate::domain::validate::id"))]
    pub programme_id: String,
    /// What the partner is told: the needs relevant to this programme.
    #[validate(custom(function = "crate::domain::validate::short_narrative"))]
    pub needs: String,
    #[validate(custom(function = "crate::domain::validate::notes"))]
    pub note: Option<String>,
    /// The day the referral was proposed (`YYYY-MM-DD`); today when not given.
    pub on: Option<String>,
}

/// Proposes a referral (`proposed`): a draft the link worker can still change their mind
/// about; the partner does not see it until it is sent.
pub async fn propose(db: &DatabaseConnection, actor: &Actor, input: NewReferral) -> Result<referral::Model> {
    input.validate()?;
    let day = validate::step_date("on", input.on.as_deref())?;
    let mut tx = Audited::begin(db, actor).await?;
    let found = access::find_child(&*tx, actor, &input.child_id).await?;
    access::require(actor, Right::Write)?;
    validate::not_before_birth("on", day, access::birth_bound(actor, &found))?;
    let programme = crate::domain::programmes::find_named(&*tx, &input.programme_id).await?;
    let enrolment = enrolment::of_child(&*tx, &input.child_id).await?;
    let status = EnrolmentStatus::from_stored(&enrolment.status)?;
    if matches!(status, EnrolmentStatus::Completed | EnrolmentStatus::Exited) {
        return Err(Error::conflict(format!("cannot refer a child whose enrolment is {status}")));
    }
    let open = referral::Entity::find()
        .filter(referral::Column::ChildId.eq(input.child_id.clone()))
        .filter(referral::Column::ProgrammeId.eq(programme.id.clone()))
        .filter(referral::Column::Status.is_in(ReferralStatus::spellings(ReferralStatus::OPEN)))
        .count(&*tx)
        .await?;
    if open > 0 {
        return Err(Error::conflict("the child already has an open referral to this programme"));
    }
    let at = now();
    let created = referral::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        child_id: Set(input.child_id.clone()),
        programme_id: Set(programme.id.clone()),
        organisation_id: Set(programme.organisation_id.clone()),
        link_worker_id: Set(enrolment.link_worker_id.clone()),
        status: Set(ReferralStatus::Proposed.as_str().to_owned()),
        needs: Set(crate::domain::validate::tidy(&input.needs)),
        reason: Set(None),
        created_by: Set(actor.user_id.clone()),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(&*tx)
    .await?;
    let note = crate::domain::validate::blank_to_none(input.note);
    stamp(&tx, &created.id, None, ReferralStatus::Proposed, note, day).await?;
    tx.record("referral.proposed", Some(&input.child_id), &["referral"]);
    tx.commit().await?;
    Ok(created)
}

/// Opens the transaction and finds the referral in the caller's scope.
async fn begin_for(db: &DatabaseConnection, actor: &Actor, referral_id: &str) -> Result<(Audited, referral::Model)> {
    check_id("referralId", referral_id)?;
    let tx = Audited::begin(db, actor).await?;
    let found = access::find_referral(&*tx, actor, referral_id).await?;
    Ok((tx, found))
}

/// `proposed → sent`. Refused with `CONFLICT` unless the child is enrolled (or active),
/// their consent covers the partner, and the programme is active with a place free.
pub async fn send(
    db: &DatabaseConnection,
    actor: &Actor,
    referral_id: &str,
    note: Option<String>,
    on: Option<String>,
) -> Result<referral::Model> {
    check_note(&note)?;
    let day = validate::step_date("on", on.as_deref())?;
    let (mut tx, found) = begin_for(db, actor, referral_id).await?;
    access::require(actor, Right::Write)?;
    next(ReferralStatus::from_stored(&found.status)?, Move::Send)?;
    let enrolment = enrolment::of_child(&*tx, &found.child_id).await?;
    let status = EnrolmentStatus::from_stored(&enrolment.status)?;
    if !matches!(status, EnrolmentStatus::Enrolled | EnrolmentStatus::Active) {
        return Err(Error::conflict(format!(
            "cannot send a referral for a child whose enrolment is {status}: enrol them first"
        )));
    }
    let covered = crate::store::child::Entity::find_by_id(found.child_id.clone())
        .filter(crate::store::child::Column::Id.in_subquery(access::consent_covers(&found.organisation_id)))
        .count(&*tx)
        .await?;
    let programme = crate::domain::programmes::find(&*tx, &found.programme_id).await?;
    if covered == 0 {
        // Nothing of the send is written; the refusal to share is (the share log).
        drop(tx);
        let what = format!("a referral to {}", programme.name);
        crate::domain::sharing::record_refusal(db, actor, &found.child_id, &found.organisation_id, what).await?;
        return Err(Error::conflict(
            "the child's consent does not cover sharing with this partner: record a consent naming it first",
        ));
    }
    crate::domain::programmes::ensure_open(&*tx, &programme).await?;
    let note = crate::domain::validate::blank_to_none(note);
    let updated = apply(&mut tx, found, Move::Send, None, note, StepOn::Given(On { day, field: "on" })).await?;
    tx.commit().await?;
    Ok(updated)
}

/// The partner's answer to a sent referral: accept (a place must be free), or decline
/// with a reason.
pub async fn respond(
    db: &DatabaseConnection,
    actor: &Actor,
    referral_id: &str,
    accept: bool,
    reason: Option<String>,
    note: Option<String>,
    on: Option<String>,
) -> Result<referral::Model> {
    check_note(&note)?;
    let reason = crate::domain::validate::blank_to_none(reason);
    if !accept {
        match &reason {
            None => return Err(Error::invalid("reason", "is required when declining a referral")),
            Some(r) => crate::domain::validate::short_text(r)
                .map_err(|e| Error::invalid("reason", crate::domain::validate::message(e)))?,
        }
    }
    let day = validate::step_date("on", on.as_deref())?;
    let (mut tx, found) = begin_for(db, actor, referral_id).await?;
    access::may_act_for_partner(actor, &found.organisation_id)?;
    let m = if accept { Move::Accept } else { Move::Decline };
    next(ReferralStatus::from_stored(&found.status)?, m)?;
    if accept {
        let programme = crate::domain::programmes::find(&*tx, &found.programme_id).await?;
        crate::domain::programmes::ensure_open(&*tx, &programme).await?;
    }
    let note = crate::domain::validate::blank_to_none(note);
    let on = StepOn::Given(On { day, field: "on" });
    let updated = apply(&mut tx, found, m, if accept { None } else { reason }, note, on).await?;
    tx.commit().await?;
    Ok(updated)
}

/// `active → completed`, by the child's link worker or the partner.
pub async fn complete(
    db: &DatabaseConnection,
    actor: &Actor,
    referral_id: &str,
    note: Option<String>,
    on: Option<String>,
) -> Result<referral::Model> {
    check_note(&note)?;
    let day = validate::step_date("on", on.as_deref())?;
    let (mut tx, found) = begin_for(db, actor, referral_id).await?;
    access::may_complete_referral(actor, &found.organisation_id)?;
    let note = crate::domain::validate::blank_to_none(note);
    let updated = apply(&mut tx, found, Move::Complete, None, note, StepOn::Given(On { day, field: "on" })).await?;
    tx.commit().await?;
    Ok(updated)
}

/// Any open status `→ withdrawn`, by the link worker, with a reason. The partner loses
/// sight of the child on the next request.
pub async fn withdraw(
    db: &DatabaseConnection,
    actor: &Actor,
    referral_id: &str,
    reason: String,
    on: Option<String>,
) -> Result<referral::Model> {
    let reason = crate::domain::validate::tidy(&reason);
    crate::domain::validate::short_text(&reason)
        .map_err(|e| Error::invalid("reason", crate::domain::validate::message(e)))?;
    let day = validate::step_date("on", on.as_deref())?;
    let (mut tx, found) = begin_for(db, actor, referral_id).await?;
    access::require(actor, Right::Write)?;
    let on = StepOn::Given(On { day, field: "on" });
    let updated = apply(&mut tx, found, Move::Withdraw, Some(reason), None, on).await?;
    tx.commit().await?;
    Ok(updated)
}

/// One referral, audited as a read of the child's referral.
pub async fn get(db: &DatabaseConnection, actor: &Actor, referral_id: &str) -> Result<referral::Model> {
    if uuid::Uuid::parse_str(referral_id).is_err() {
        return Err(Error::NotFound("referral"));
    }
    let mut tx = Audited::begin(db, actor).await?;
    let found = access::read_referral(&*tx, actor, referral_id).await?;
    tx.record("referral.read", Some(&found.child_id), &["referral"]);
    tx.commit().await?;
    Ok(found)
}

/// The buckets of a partner's referral inbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InboxState {
    /// Sent, awaiting the partner's answer.
    New,
    /// Accepted, no session attended yet.
    Accepted,
    /// Active: sessions under way.
    Active,
}

impl InboxState {
    fn status(self) -> ReferralStatus {
        match self {
            InboxState::New => ReferralStatus::Sent,
            InboxState::Accepted => ReferralStatus::Accepted,
            InboxState::Active => ReferralStatus::Active,
        }
    }
}

/// A partner's referral inbox: their organisation's live referrals (optionally one
/// bucket, optionally one programme), oldest first. Each is an audited read.
pub async fn inbox(
    db: &DatabaseConnection,
    actor: &Actor,
    state: Option<InboxState>,
    programme_id: Option<String>,
    page: PageRequest,
) -> Result<Page<referral::Model>> {
    access::require_partner(actor)?;
    let mut query = referral::Entity::find().filter(access::referral_condition(actor));
    if let Some(s) = state {
        query = query.filter(referral::Column::Status.eq(s.status().as_str()));
    }
    if let Some(p) = programme_id {
        query = query.filter(referral::Column::ProgrammeId.eq(p));
    }
    let mut tx = Audited::begin(db, actor).await?;
    let found = crate::domain::keyset_page(&*tx, query, referral::Column::Id, page).await?;
    for r in &found.items {
        tx.record("referral.read", Some(&r.child_id), &["referral"]);
    }
    tx.commit().await?;
    Ok(found)
}

/// Referrals of many children, oldest first, in the caller's referral scope (loader).
pub async fn of_children<R: Reader>(conn: &R, actor: &Actor, child_ids: &[String]) -> Result<Vec<referral::Model>> {
    Ok(referral::Entity::find()
        .filter(referral::Column::ChildId.is_in(child_ids.to_vec()))
        .filter(access::referral_condition(actor))
        .order_by_asc(referral::Column::Id)
        .read(conn)
        .await?)
}

/// The transition history of many referrals, oldest first (loader).
pub async fn history_of<R: Reader>(
    conn: &R,
    actor: &Actor,
    referral_ids: &[String],
) -> Result<Vec<referral_transition::Model>> {
    Ok(referral_transition::Entity::find()
        .filter(referral_transition::Column::ReferralId.is_in(referral_ids.to_vec()))
        .filter(referral_transition::Column::ReferralId.in_subquery(access::visible_referral_ids(actor)))
        .order_by_asc(referral_transition::Column::Id)
        .read(conn)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_is_four_plain_characters_fixed_by_the_id() {
        let r = reference("01a23ace-6d16-740d-8eec-1758990c80a5");
        assert_eq!(r.len(), 4);
        assert!(r.chars().all(|c| "23456789ABCDEFGHJKLMNPQRSTUVWXYZ".contains(c)), "{r}");
        assert_eq!(r, reference("01a23ace-6d16-740d-8eec-1758990c80a5"));
        assert_ne!(r, reference("01a23ace-6d16-740d-8eec-1758990c80a6"));
    }
    use ReferralStatus::*;

    const MOVES: [Move; 6] = [Move::Send, Move::Accept, Move::Decline, Move::Start, Move::Complete, Move::Withdraw];

    #[test]
    fn the_happy_path_and_the_decline() {
        assert_eq!(next(Proposed, Move::Send).ok(), Some(Sent));
        assert_eq!(next(Sent, Move::Accept).ok(), Some(Accepted));
        assert_eq!(next(Accepted, Move::Start).ok(), Some(Active));
        assert_eq!(next(Active, Move::Complete).ok(), Some(Completed));
        assert_eq!(next(Sent, Move::Decline).ok(), Some(Declined));
    }

    #[test]
    fn only_the_drawn_moves_are_allowed() {
        let allowed = |s: ReferralStatus, m: Move| {
            matches!(
                (s, m),
                (Proposed, Move::Send)
                    | (Sent, Move::Accept | Move::Decline)
                    | (Accepted, Move::Start)
                    | (Active, Move::Complete)
                    | (Proposed | Sent | Accepted | Active, Move::Withdraw)
            )
        };
        for s in ReferralStatus::ALL {
            for m in MOVES {
                assert_eq!(next(*s, m).is_ok(), allowed(*s, m), "{s} {m:?}");
            }
        }
        let msg = next(Declined, Move::Accept).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("declined"), "{msg}");
    }

    #[test]
    fn closed_referrals_stay_closed() {
        for s in [Declined, Completed, Withdrawn] {
            for m in MOVES {
                assert!(matches!(next(s, m), Err(Error::Conflict(_))), "{s} {m:?}");
            }
        }
    }
}
