//! The one access policy: which children an [`Actor`] may see, how much of each, and what
//! they may do. Three tiers, as in `docs/architecture.md`:
//!
//! 1. **Row scope** ([`child_condition`]): applied inside every query that touches
//!    children, so a child outside it answers exactly as a child that does not exist
//!    (`NOT_FOUND`) and never appears in a list. Records hanging off a child (referrals,
//!    attendance, notes, …) have their own scopes here, each built on the child's.
//! 2. **Field view** ([`child_view`]): full, pseudonymised for analysts, or the narrow
//!    partner view; what each view shows of each field is one table, [`FIELD_MATRIX`],
//!    asked through [`may_see`].
//! 3. **Rights** ([`Right`], ordered): what the actor may do to children in scope.
//!
//! | role            | scope                                   | view          | right  |
//! |-----------------|-----------------------------------------|---------------|--------|
//! | link worker     | their caseload, at their anchor          | full          | Write  |
//! | anchor lead     | every child of their anchor              | full          | Manage |
//! | partner (both)  | children with a live referral to their organisation, while consent covers it | partner | None (partner verbs only) |
//! | funder          | never a child                            | —             | None   |
//! | backbone analyst| every child                              | pseudonymised | Read   |
//! | backbone admin  | every child                              | full          | Manage |
//! | system          | every child                              | full          | Manage |
//!
//! A link worker or anchor lead may also **open a record outside their scope by
//! break-glass** ([`may_break_glass`]): with a stated reason, for a limited time, to read
//! only ([`refuse_changes`]), every read flagged in the audit and the child's anchor told.
//!
//! A live referral is one that is `sent`, `accepted` or `active`. Consent covers a partner
//! while a consent naming that organisation is not withdrawn. Both are checked in the
//! query itself, so a withdrawal ends access on the very next request.

use crate::auth::Actor;
use crate::domain::{NoteVisibility, OrganisationKind, ReferralStatus, Role};
use crate::error::{Error, Result};
use crate::store::db::Hold;
use crate::store::{
    assessment, attendance, break_glass, child, consent, consent_partner, contract, contract_payer, enrolment,
    progress_note, referral, safeguarding_concern, screening, session,
};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter};

/// What an actor may do to the children in their scope, weakest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Right {
    /// Nothing: not even to know a child exists.
    None,
    /// Read a pseudonymised view.
    Read,
    /// Record and change the child's record: relationships, consent, enrolment, referrals.
    Write,
    /// Also manage caseloads: assign link workers, hand children over.
    Manage,
}

/// How much of a child's record an actor sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildView {
    Full,
    /// No names, date of birth, UPN, contact details or postcode.
    Pseudonymised,
    /// What a partner's work needs: first name, age, year group, the anchor, and their
    /// own referrals (with the needs the link worker wrote for them). Nothing else.
    Partner,
}

/// The actor's right over the children in their scope.
pub fn right(actor: &Actor) -> Right {
    match actor.role {
        Role::LinkWorker => Right::Write,
        Role::AnchorLead | Role::BackboneAdmin | Role::System => Right::Manage,
        Role::BackboneAnalyst => Right::Read,
        Role::PartnerWorker | Role::PartnerLead | Role::Funder => Right::None,
    }
}

/// Refuses with `FORBIDDEN` unless the actor holds at least `needed`.
pub fn require(actor: &Actor, needed: Right) -> Result<()> {
    if right(actor) >= needed {
        Ok(())
    } else {
        Err(Error::forbidden(format!("your role ({}) may not do this", actor.role.as_str().replace('_', " "))))
    }
}

fn is_partner(actor: &Actor) -> bool {
    matches!(actor.role, Role::PartnerWorker | Role::PartnerLead)
}

/// The field view of children for this actor.
pub fn child_view(actor: &Actor) -> ChildView {
    match actor.role {
        Role::BackboneAnalyst => ChildView::Pseudonymised,
        Role::PartnerWorker | Role::PartnerLead => ChildView::Partner,
        _ => ChildView::Full,
    }
}

fn nothing() -> Condition {
    Condition::all().add(Expr::val(1).eq(0))
}

/// Children with a live referral to `organisation_id`.
fn live_referrals_to(organisation_id: &str) -> SelectStatement {
    Query::select()
        .column(referral::Column::ChildId)
        .from(referral::Entity)
        .and_where(referral::Column::OrganisationId.eq(organisation_id.to_owned()))
        .and_where(referral::Column::Status.is_in(ReferralStatus::spellings(ReferralStatus::LIVE)))
        .to_owned()
}

/// Children whose consent (not withdrawn) covers sharing with `organisation_id`.
pub fn consent_covers(organisation_id: &str) -> SelectStatement {
    Query::select()
        .column((consent::Entity, consent::Column::ChildId))
        .from(consent::Entity)
        .inner_join(
            consent_partner::Entity,
            Expr::col((consent_partner::Entity, consent_partner::Column::ConsentId))
                .equals((consent::Entity, consent::Column::Id)),
        )
        .and_where(Expr::col((consent_partner::Entity, consent_partner::Column::OrganisationId)).eq(organisation_id))
        .and_where(Expr::col((consent::Entity, consent::Column::WithdrawnAt)).is_null())
        .to_owned()
}

/// The row scope: a condition on `children` selecting exactly the children this actor may
/// see now — their own scope ([`scope_condition`]) and, for link workers and anchor
/// leads, the records they have opened by break-glass while the opening is in force
/// ([`break_glass_in_force`]). Every query that reads children includes it.
pub fn child_condition(actor: &Actor) -> Condition {
    match actor.role {
        Role::LinkWorker | Role::AnchorLead => {
            Condition::any().add(scope_condition(actor)).add(child::Column::Id.in_subquery(opened_by(actor)))
        }
        _ => scope_condition(actor),
    }
}

/// The children the actor has opened by break-glass, while each opening is in force: not
/// ended, not expired, and opened where they stand now (their organisation and role).
fn opened_by(actor: &Actor) -> SelectStatement {
    Query::select()
        .column(break_glass::Column::ChildId)
        .from(break_glass::Entity)
        .cond_where(in_force(actor))
        .to_owned()
}

/// The actor's break-glass openings in force now.
pub fn in_force(actor: &Actor) -> Condition {
    Condition::all()
        .add(break_glass::Column::UserId.eq(actor.user_id.clone()))
        .add(break_glass::Column::OrganisationId.eq(actor.organisation_id.clone()))
        .add(break_glass::Column::Role.eq(actor.role.as_str()))
        .add(break_glass::Column::EndedAt.is_null())
        .add(break_glass::Column::ExpiresAt.gt(Utc::now()))
}

/// The actor's own scope, without break-glass: the children whose record they may
/// change, and whose casework comes to their worklist.
pub fn scope_condition(actor: &Actor) -> Condition {
    match actor.role {
        Role::BackboneAdmin | Role::BackboneAnalyst | Role::System => Condition::all(),
        Role::AnchorLead => Condition::all().add(child::Column::AnchorId.eq(actor.organisation_id.clone())),
        Role::LinkWorker => Condition::all().add(child::Column::AnchorId.eq(actor.organisation_id.clone())).add(
            child::Column::Id.in_subquery(
                Query::select()
                    .column(enrolment::Column::ChildId)
                    .from(enrolment::Entity)
                    .and_where(enrolment::Column::LinkWorkerId.eq(actor.user_id.clone()))
                    .to_owned(),
            ),
        ),
        Role::PartnerWorker | Role::PartnerLead => Condition::all()
            .add(child::Column::Id.in_subquery(live_referrals_to(&actor.organisation_id)))
            .add(child::Column::Id.in_subquery(consent_covers(&actor.organisation_id))),
        Role::Funder => nothing(),
    }
}

/// The children (ids) the actor may see, as a subquery.
pub fn visible_child_ids(actor: &Actor) -> SelectStatement {
    Query::select().column(child::Column::Id).from(child::Entity).cond_where(child_condition(actor)).to_owned()
}

/// The children whose record beyond the partner view (enrolment, relationships,
/// consents, contacts, …) the actor may see: the row scope, except for partners, who see
/// none of it.
pub fn record_child_ids(actor: &Actor) -> SelectStatement {
    let cond = if is_partner(actor) { nothing() } else { child_condition(actor) };
    Query::select().column(child::Column::Id).from(child::Entity).cond_where(cond).to_owned()
}

/// As [`record_child_ids`], in the actor's own scope only (without break-glass): the
/// children whose casework comes to their worklist.
pub fn own_record_child_ids(actor: &Actor) -> SelectStatement {
    let cond = if is_partner(actor) { nothing() } else { scope_condition(actor) };
    Query::select().column(child::Column::Id).from(child::Entity).cond_where(cond).to_owned()
}

/// The referrals the actor may see: every referral of a child in scope; for partners,
/// only their own organisation's live referrals (never another partner's).
pub fn referral_condition(actor: &Actor) -> Condition {
    let cond = Condition::all().add(referral::Column::ChildId.in_subquery(visible_child_ids(actor)));
    if is_partner(actor) {
        cond.add(referral::Column::OrganisationId.eq(actor.organisation_id.clone()))
            .add(referral::Column::Status.is_in(ReferralStatus::spellings(ReferralStatus::LIVE)))
    } else {
        cond
    }
}

/// The referrals (ids) the actor may see, as a subquery.
pub fn visible_referral_ids(actor: &Actor) -> SelectStatement {
    Query::select().column(referral::Column::Id).from(referral::Entity).cond_where(referral_condition(actor)).to_owned()
}

/// Attendance rows the actor may see: those of referrals they may see.
pub fn attendance_condition(actor: &Actor) -> Condition {
    Condition::all().add(attendance::Column::ReferralId.in_subquery(visible_referral_ids(actor)))
}

/// Sessions the actor may see: a partner's own organisation's; for staff, sessions a child
/// in their scope was registered at; admins, analysts and the system all.
pub fn session_condition(actor: &Actor) -> Condition {
    match actor.role {
        Role::BackboneAdmin | Role::BackboneAnalyst | Role::System => Condition::all(),
        Role::PartnerWorker | Role::PartnerLead => {
            Condition::all().add(session::Column::OrganisationId.eq(actor.organisation_id.clone()))
        }
        Role::LinkWorker | Role::AnchorLead => Condition::all().add(
            session::Column::Id.in_subquery(
                Query::select()
                    .column(attendance::Column::SessionId)
                    .from(attendance::Entity)
                    .cond_where(attendance_condition(actor))
                    .to_owned(),
            ),
        ),
        Role::Funder => nothing(),
    }
}

/// May the actor read a session's own notes? Only its organisation and backbone admins.
pub fn may_read_session_notes(actor: &Actor, session_organisation_id: &str) -> bool {
    matches!(actor.role, Role::BackboneAdmin | Role::System) || actor.organisation_id == session_organisation_id
}

/// Progress notes the actor may read: their own organisation's notes on children in scope;
/// notes shared with the link worker also by the child's link worker and anchor lead;
/// admins all. Analysts (pseudonymised view) and funders none: narrative identifies.
pub fn note_condition(actor: &Actor) -> Condition {
    match actor.role {
        Role::BackboneAdmin | Role::System => Condition::all(),
        Role::PartnerWorker | Role::PartnerLead => Condition::all()
            .add(progress_note::Column::ChildId.in_subquery(visible_child_ids(actor)))
            .add(progress_note::Column::OrganisationId.eq(actor.organisation_id.clone())),
        Role::LinkWorker | Role::AnchorLead => {
            Condition::all().add(progress_note::Column::ChildId.in_subquery(record_child_ids(actor))).add(
                Condition::any()
                    .add(progress_note::Column::OrganisationId.eq(actor.organisation_id.clone()))
                    .add(progress_note::Column::Visibility.eq(NoteVisibility::SharedWithLinkWorker.as_str())),
            )
        }
        Role::BackboneAnalyst | Role::Funder => nothing(),
    }
}

/// Assessments the actor may read: every assessment of a child whose record they see
/// (analysts too: levels are not identifying); partners only their own organisation's,
/// of children they see; funders none (they get aggregates).
pub fn assessment_condition(actor: &Actor) -> Condition {
    match actor.role {
        Role::PartnerWorker | Role::PartnerLead => Condition::all()
            .add(assessment::Column::ChildId.in_subquery(visible_child_ids(actor)))
            .add(assessment::Column::OrganisationId.eq(actor.organisation_id.clone())),
        Role::Funder => nothing(),
        _ => Condition::all().add(assessment::Column::ChildId.in_subquery(record_child_ids(actor))),
    }
}

/// May the actor record an assessment for a child in their scope? Link workers, anchor
/// leads and admins (the right to write), and partners (children referred to them).
pub fn may_assess(actor: &Actor) -> Result<()> {
    if is_partner(actor) { Ok(()) } else { require(actor, Right::Write) }
}

/// May the actor write progress notes and raise safeguarding concerns about children in
/// their scope? Staff who work with children: link workers, anchor leads, partners, admins.
pub fn may_write_casework(actor: &Actor) -> Result<()> {
    match actor.role {
        Role::BackboneAnalyst | Role::Funder => {
            Err(Error::forbidden(format!("your role ({}) may not do this", actor.role.as_str().replace('_', " "))))
        }
        _ => Ok(()),
    }
}

/// May the actor agree and review individual support plans of children in their scope?
/// The child's link worker, their anchor's leads and backbone admins (the right to
/// write); not partners, analysts or funders — refused before the child is looked up, so
/// the answer says nothing about whether the child exists. Reading a plan is the record
/// scope ([`record_child_ids`]), with free text withheld in the pseudonymised view
/// ([`may_read_free_text`]).
pub fn may_write_plan(actor: &Actor) -> Result<()> {
    if right(actor) >= Right::Write {
        Ok(())
    } else {
        Err(Error::forbidden(format!(
            "your role ({}) may not agree or review support plans: the child's link worker, anchor lead or a backbone admin does",
            actor.role.as_str().replace('_', " ")
        )))
    }
}

/// Safeguarding concerns the actor may read: those about children of their anchor if they
/// are a designated safeguarding lead there; backbone admins all; nobody else any.
pub fn safeguarding_condition(actor: &Actor) -> Condition {
    match actor.role {
        Role::BackboneAdmin | Role::System => Condition::all(),
        _ if actor.designated_safeguarding_lead && actor.organisation_kind == OrganisationKind::Anchor => {
            Condition::all().add(
                safeguarding_concern::Column::ChildId.in_subquery(
                    Query::select()
                        .column(child::Column::Id)
                        .from(child::Entity)
                        .and_where(child::Column::AnchorId.eq(actor.organisation_id.clone()))
                        .to_owned(),
                ),
            )
        }
        _ => nothing(),
    }
}

/// May the actor read safeguarding concerns at all? Refused the same way whether or not a
/// concern exists, so that existence does not leak.
pub fn may_read_safeguarding(actor: &Actor) -> Result<()> {
    let dsl = actor.designated_safeguarding_lead && actor.organisation_kind == OrganisationKind::Anchor;
    if dsl || matches!(actor.role, Role::BackboneAdmin | Role::System) {
        Ok(())
    } else {
        Err(Error::forbidden(
            "only the anchor's designated safeguarding leads and backbone admins read safeguarding concerns",
        ))
    }
}

/// May the actor act for this partner organisation (respond to its referrals, log its
/// sessions)? Its partner workers and leads; backbone admins and the system.
pub fn may_act_for_partner(actor: &Actor, organisation_id: &str) -> Result<()> {
    match actor.role {
        Role::PartnerWorker | Role::PartnerLead if actor.organisation_id == organisation_id => Ok(()),
        Role::BackboneAdmin | Role::System => Ok(()),
        _ => Err(Error::forbidden("only the partner organisation's own staff may do this")),
    }
}

/// May the actor complete a referral to this partner organisation? The partner's own staff,
/// or whoever may write to the child's record (the link worker, anchor lead, admins).
pub fn may_complete_referral(actor: &Actor, organisation_id: &str) -> Result<()> {
    may_act_for_partner(actor, organisation_id).or_else(|_| require(actor, Right::Write))
}

/// Real-time events a partner's `referralInbox` receives: their organisation's referrals
/// as they are sent, completed or withdrawn. Partner staff only.
pub fn inbox_events(actor: &Actor) -> Result<impl Fn(&crate::events::Event) -> bool + Send + Sync + use<>> {
    use crate::events::EventKind;
    require_partner(actor)?;
    let org = actor.organisation_id.clone();
    Ok(move |e: &crate::events::Event| {
        e.organisation_id == org
            && matches!(
                e.kind,
                EventKind::Referral(ReferralStatus::Sent | ReferralStatus::Completed | ReferralStatus::Withdrawn)
            )
    })
}

/// Real-time events a link worker's `caseloadEvents` receives: referrals they follow
/// accepted, declined, started or completed, and attendance dropping. Link workers only.
pub fn caseload_events(actor: &Actor) -> Result<impl Fn(&crate::events::Event) -> bool + Send + Sync + use<>> {
    use crate::events::EventKind;
    require_link_worker(actor)?;
    let me = actor.user_id.clone();
    Ok(move |e: &crate::events::Event| {
        e.link_worker_id.as_deref() == Some(me.as_str())
            && matches!(
                e.kind,
                EventKind::Referral(
                    ReferralStatus::Accepted
                        | ReferralStatus::Declined
                        | ReferralStatus::Active
                        | ReferralStatus::Completed
                ) | EventKind::AttendanceDropped { .. }
            )
    })
}

/// May the actor manage this partner organisation's programmes? Its partner leads, and
/// backbone admins.
pub fn may_manage_programmes(actor: &Actor, organisation_id: &str) -> Result<()> {
    match actor.role {
        Role::PartnerLead if actor.organisation_id == organisation_id => Ok(()),
        Role::BackboneAdmin | Role::System => Ok(()),
        _ => Err(Error::forbidden("only the partner's leads (or backbone admins) manage its programmes")),
    }
}

/// May the actor see staff accounts named on records (link workers, authors)? Everyone
/// who works with children; not funders.
pub fn may_see_staff(actor: &Actor) -> Result<()> {
    if actor.role == Role::Funder { Err(Error::forbidden("funders see aggregates only")) } else { Ok(()) }
}

/// Loads a child the actor may see, or `NOT_FOUND` — the same answer whether the child
/// does not exist or is outside the actor's scope, so that existence does not leak — and
/// holds the child's record (its row locked on PostgreSQL until the transaction ends;
/// SQLite has one writer at a time anyway): every use case that changes a child's record
/// finds the child this way first, so two changes to one child never interleave and a
/// check (consent, enrolment, a plan's review) still holds when the change is written.
pub async fn find_child<C: ConnectionTrait>(conn: &C, actor: &Actor, child_id: &str) -> Result<child::Model> {
    child::Entity::find_by_id(child_id.to_owned())
        .filter(child_condition(actor))
        .held()
        .one(conn)
        .await?
        .ok_or(Error::NotFound("child"))
}

/// Like [`find_child`], without holding the child's record: for reading only.
pub async fn read_child<C: ConnectionTrait>(conn: &C, actor: &Actor, child_id: &str) -> Result<child::Model> {
    child::Entity::find_by_id(child_id.to_owned())
        .filter(child_condition(actor))
        .one(conn)
        .await?
        .ok_or(Error::NotFound("child"))
}

/// Whether a child is in the actor's own scope (without break-glass).
pub async fn in_own_scope<C: ConnectionTrait>(conn: &C, actor: &Actor, child_id: &str) -> Result<bool> {
    Ok(child::Entity::find_by_id(child_id.to_owned()).filter(scope_condition(actor)).one(conn).await?.is_some())
}

/// Whether an audited action leaves a child's record as it was: reading what is there
/// (and answering a subject access or a family's report), replaying a stored answer,
/// opening or reviewing by break-glass, the erasure itself and retention, and the
/// outcomes contracts' evaluation of the evidence kept. Anything else is a change, and
/// [`refuse_changes`] judges it.
pub fn leaves_record_unchanged(action: &str) -> bool {
    action.ends_with(".read")
        || action.ends_with(".purge")
        || matches!(
            action,
            "child.erase"
                | "child.subject_access"
                | "child.family_report"
                | "answer.replay"
                | "break_glass.open"
                | "break_glass.review"
                | "claim.create"
                | "claim.reverse"
                | "contract.evaluate"
        )
}

/// Called by [`crate::audit::Audited::commit`] with the children a transaction changed,
/// whatever use case changed them, so that nothing is written when it refuses:
/// `CONFLICT` for an erased child (nothing more is recorded about a child whose family
/// asked for erasure); `FORBIDDEN` for a child the actor reaches only by break-glass (an
/// opening is for reading only).
pub async fn refuse_changes<C: ConnectionTrait>(conn: &C, actor: &Actor, mut child_ids: Vec<String>) -> Result<()> {
    child_ids.sort();
    child_ids.dedup();
    if child_ids.is_empty() {
        return Ok(());
    }
    let mut refused = Condition::any().add(child::Column::ErasedAt.is_not_null());
    if matches!(actor.role, Role::LinkWorker | Role::AnchorLead) {
        refused = refused.add(
            Condition::all()
                .add(child::Column::Id.in_subquery(opened_by(actor)))
                .add(Condition::not(scope_condition(actor))),
        );
    }
    let Some(found) =
        child::Entity::find().filter(child::Column::Id.is_in(child_ids)).filter(refused).one(conn).await?
    else {
        return Ok(());
    };
    match found.erased_at {
        Some(at) => Err(Error::conflict(format!(
            "this child's record was erased on {}: nothing more can be recorded about them",
            at.format("%-d %B %Y")
        ))),
        None => Err(Error::forbidden(
            "this record is open to you by break-glass, for reading only: ask the child's anchor to record this",
        )),
    }
}

/// Loads a child to open by break-glass: any child of the partnership ([`may_break_glass`]
/// has said who may), or `NOT_FOUND`; held as [`find_child`] holds a child.
pub async fn find_child_to_open<C: ConnectionTrait>(conn: &C, child_id: &str) -> Result<child::Model> {
    child::Entity::find_by_id(child_id.to_owned()).held().one(conn).await?.ok_or(Error::NotFound("child"))
}

/// Loads a referral the actor may see, or `NOT_FOUND`, holding its child's record and the
/// referral (as [`find_child`]).
pub async fn find_referral<C: ConnectionTrait>(conn: &C, actor: &Actor, referral_id: &str) -> Result<referral::Model> {
    // The referral's child first, then the referral: every use case holds a child's record
    // before the records hanging off it, so two never wait on each other.
    let of_referral = Query::select()
        .column(referral::Column::ChildId)
        .from(referral::Entity)
        .and_where(referral::Column::Id.eq(referral_id.to_owned()))
        .to_owned();
    child::Entity::find().filter(child::Column::Id.in_subquery(of_referral)).held().one(conn).await?;
    referral::Entity::find_by_id(referral_id.to_owned())
        .filter(referral_condition(actor))
        .held()
        .one(conn)
        .await?
        .ok_or(Error::NotFound("referral"))
}

/// Like [`find_referral`], holding nothing: for reading only.
pub async fn read_referral<C: ConnectionTrait>(conn: &C, actor: &Actor, referral_id: &str) -> Result<referral::Model> {
    referral::Entity::find_by_id(referral_id.to_owned())
        .filter(referral_condition(actor))
        .one(conn)
        .await?
        .ok_or(Error::NotFound("referral"))
}

/// May the actor identify a new child at this anchor? Link workers and anchor leads at
/// their own anchor; backbone admins (and the system) anywhere.
pub fn may_identify_at(actor: &Actor, anchor_id: &str) -> Result<()> {
    require(actor, Right::Write)?;
    match actor.role {
        Role::BackboneAdmin | Role::System => Ok(()),
        _ if actor.organisation_kind == OrganisationKind::Anchor && actor.organisation_id == anchor_id => Ok(()),
        _ => Err(Error::forbidden("you may identify children only at your own anchor")),
    }
}

/// Who may read shared metrics and milestone totals, and how: the backbone team (analysts,
/// admins, the system) exact figures; funders figures under disclosure control; nobody
/// else any aggregate.
pub fn metrics_audience(actor: &Actor) -> Result<crate::domain::disclosure::Audience> {
    use crate::domain::disclosure::Audience;
    match actor.role {
        Role::BackboneAnalyst | Role::BackboneAdmin | Role::System => Ok(Audience::Unrestricted),
        Role::Funder => Ok(Audience::Protected),
        _ => Err(Error::forbidden("shared metrics are for funders and the backbone team")),
    }
}

/// Who may rebuild the metrics summary tables on demand: the backbone team (exact-figure
/// readers), not funders.
pub fn may_refresh_metrics(actor: &Actor) -> Result<()> {
    match metrics_audience(actor)? {
        crate::domain::disclosure::Audience::Unrestricted => Ok(()),
        crate::domain::disclosure::Audience::Protected => {
            Err(Error::forbidden("only the backbone team refreshes the metrics"))
        }
    }
}

/// The anchor an import is for when the caller names none: their own organisation (the
/// access check then judges it), except for backbone admins and the system, who act for
/// every anchor and must name one.
pub fn default_import_anchor(actor: &Actor) -> Option<String> {
    match actor.role {
        Role::BackboneAdmin | Role::System => None,
        _ => Some(actor.organisation_id.clone()),
    }
}

/// Needs identification: may the actor import anchor data for this anchor? Its anchor
/// leads; backbone admins and the system, for any anchor.
pub fn may_import_anchor_data(actor: &Actor, anchor_id: &str) -> Result<()> {
    match actor.role {
        Role::BackboneAdmin | Role::System => Ok(()),
        Role::AnchorLead if actor.organisation_id == anchor_id => Ok(()),
        Role::AnchorLead => Err(Error::forbidden("you may import anchor data only for your own anchor")),
        _ => Err(Error::forbidden("only anchor leads and backbone admins import anchor data")),
    }
}

/// May the actor see screening candidates at all? Anchor staff (link workers and leads),
/// backbone admins and the system. Partners, funders and analysts never: the pupils are not
/// in the programme.
pub fn may_see_candidates(actor: &Actor) -> Result<()> {
    match actor.role {
        Role::LinkWorker | Role::AnchorLead | Role::BackboneAdmin | Role::System => Ok(()),
        _ => Err(Error::forbidden("candidates are for the anchor's link workers and leads")),
    }
}

/// The screened pupils the actor may see and act on: anchor staff, those of their own
/// anchor; backbone admins and the system, all; nobody else, any.
pub fn screening_condition(actor: &Actor) -> Condition {
    match actor.role {
        Role::BackboneAdmin | Role::System => Condition::all(),
        Role::LinkWorker | Role::AnchorLead => {
            Condition::all().add(screening::Column::AnchorId.eq(actor.organisation_id.clone()))
        }
        _ => nothing(),
    }
}

/// Asking for "my caseload" without naming a link worker: only link workers have one.
pub fn require_own_caseload(actor: &Actor) -> Result<()> {
    if actor.role == Role::LinkWorker {
        Ok(())
    } else {
        Err(Error::forbidden("only link workers have a caseload: name a link worker with linkWorkerId"))
    }
}

/// May the actor see the caseload of this link worker (a member of `link_worker_org`)?
/// A link worker sees their own; anchor leads those of their anchor; analysts (in their
/// pseudonymised view) and admins any.
pub fn may_view_caseload(actor: &Actor, link_worker_id: &str, link_worker_org: &str) -> Result<()> {
    match actor.role {
        Role::LinkWorker if actor.user_id == link_worker_id => Ok(()),
        Role::AnchorLead if actor.organisation_id == link_worker_org => Ok(()),
        Role::BackboneAnalyst | Role::BackboneAdmin | Role::System => Ok(()),
        _ => Err(Error::forbidden("you may not see this caseload")),
    }
}

/// May the actor hand over a child of `child_anchor`? Its anchor lead (within the anchor)
/// or a backbone admin (also to another anchor, when the child moves school).
pub fn may_hand_over(actor: &Actor, child_anchor: &str) -> Result<()> {
    require(actor, Right::Manage)?;
    match actor.role {
        Role::BackboneAdmin | Role::System => Ok(()),
        Role::AnchorLead if actor.organisation_id == child_anchor => Ok(()),
        _ => Err(Error::forbidden("only the child's anchor lead or a backbone admin hands a child over")),
    }
}

/// May the actor move a child of `child_anchor` to a link worker at `to_anchor`? Within
/// the anchor, whoever may hand over; across anchors, backbone admins only (answered as a
/// bad `linkWorkerId`, since the anchor lead may hand over, just not there).
pub fn may_hand_over_to(actor: &Actor, child_anchor: &str, to_anchor: &str) -> Result<()> {
    may_hand_over(actor, child_anchor)?;
    if child_anchor == to_anchor || matches!(actor.role, Role::BackboneAdmin | Role::System) {
        Ok(())
    } else {
        Err(Error::invalid(
            "linkWorkerId",
            "must be a link worker at the child's anchor (only backbone admins move a child to another anchor)",
        ))
    }
}

/// Backbone admins (and the system) only: organisations, accounts, designated leads, the
/// outcomes framework.
pub fn require_backbone_admin(actor: &Actor, what: &str) -> Result<()> {
    match actor.role {
        Role::BackboneAdmin | Role::System => Ok(()),
        _ => Err(Error::forbidden(format!("only backbone admins {what}"))),
    }
}

/// Outcomes contracts the actor may see: backbone admins, analysts and the system every
/// contract; a funder the contracts its organisation pays into (a payer); nobody else any
/// (`FORBIDDEN`, before any contract is looked up). Claim lines and their evidence need
/// [`may_manage_contracts`] besides; funders reach only protected totals
/// (`domain::disclosure`).
pub fn contract_condition(actor: &Actor) -> Result<Condition> {
    match actor.role {
        Role::BackboneAdmin | Role::BackboneAnalyst | Role::System => Ok(Condition::all()),
        Role::Funder => Ok(Condition::all().add(
            contract::Column::Id.in_subquery(
                Query::select()
                    .column(contract_payer::Column::ContractId)
                    .from(contract_payer::Entity)
                    .and_where(contract_payer::Column::OrganisationId.eq(actor.organisation_id.clone()))
                    .to_owned(),
            ),
        )),
        _ => Err(Error::forbidden("outcomes contracts are for the backbone team and the contracts' funders")),
    }
}

/// May the actor record outcomes contracts, evaluate their milestones and read claims with
/// their evidence (child ids, attendance and assessment ids)? Backbone admins and the
/// system only: analysts see totals, funders protected totals.
pub fn may_manage_contracts(actor: &Actor) -> Result<()> {
    require_backbone_admin(actor, "record outcomes contracts, evaluate milestones and read claims")
}

/// What a download of a contract's claims (`/exports/claims.csv`) gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClaimsDownload {
    /// Every claim line, with the child's pseudonymous id and the evidence.
    Lines,
    /// The totals per milestone, under funders' disclosure control.
    ProtectedTotals,
}

/// What the actor may download of a contract's claims: backbone admins (and the system)
/// the claim lines; funders the protected totals (of contracts they pay into, by
/// [`contract_condition`]); anyone else nothing (`FORBIDDEN`; analysts read the exact
/// totals through the API).
pub fn claims_download(actor: &Actor) -> Result<ClaimsDownload> {
    match actor.role {
        Role::BackboneAdmin | Role::System => Ok(ClaimsDownload::Lines),
        Role::Funder => Ok(ClaimsDownload::ProtectedTotals),
        _ => Err(Error::forbidden("claims are downloaded by backbone admins and the contracts' funders")),
    }
}

/// Partner staff only: the referral inbox and its subscription.
pub fn require_partner(actor: &Actor) -> Result<()> {
    if is_partner(actor) { Ok(()) } else { Err(Error::forbidden("the referral inbox is for partner staff")) }
}

/// Partner staff only: taking registers (the console's registers pages; `logSession`
/// judges each register itself).
pub fn may_take_registers(actor: &Actor) -> Result<()> {
    if is_partner(actor) { Ok(()) } else { Err(Error::forbidden("registers are taken by partners' staff")) }
}

/// Link workers only: caseload events.
pub fn require_link_worker(actor: &Actor) -> Result<()> {
    if actor.role == Role::LinkWorker { Ok(()) } else { Err(Error::forbidden("caseload events are for link workers")) }
}

/// May the actor narrow children by enrolment status or link worker? Not partners: both
/// are outside the partner view, and filtering on them would reveal them.
pub fn may_filter_by_record(actor: &Actor) -> Result<()> {
    if is_partner(actor) {
        Err(Error::forbidden("partners may not filter children by enrolment status or link worker"))
    } else {
        Ok(())
    }
}

/// The parts of children's names the actor may find them by: a search is a way of reading
/// a name, so only the parts the actor's view shows — first and last names for those who
/// see full names, first names only for partners, none for analysts (refused).
pub fn name_search_parts(actor: &Actor) -> Result<&'static [&'static str]> {
    let view = child_view(actor);
    if may_see(view, Field::ChildLastName) {
        Ok(&["first", "last"])
    } else if may_see(view, Field::ChildFirstName) {
        Ok(&["first"])
    } else {
        Err(Error::forbidden("finding children by name is for those who see their names"))
    }
}

/// May the actor answer a family's data-protection request (subject access) about a
/// child? The backbone runs the partnership's data protection, so its admins (and the
/// command line) do; everyone else, the child's own link worker included, is refused:
/// such a request goes to the backbone, which answers it for the whole zone.
pub fn may_answer_subject_access(actor: &Actor) -> Result<()> {
    require_backbone_admin(actor, "answer subject access requests (the partnership's data-protection team)")
}

/// May the actor read a share log: a child's (whoever may write to the child's record —
/// their link worker, the anchor's lead, admins — for the family; the child must be in
/// scope), or an organisation's (`of_organisation`: backbone admins only)?
pub fn may_read_share_log(actor: &Actor, of_organisation: bool) -> Result<()> {
    match (of_organisation, actor.role) {
        (true, Role::BackboneAdmin | Role::System) => Ok(()),
        (true, _) => Err(Error::forbidden("an organisation's share log is for the backbone's data-protection team")),
        (false, _) if right(actor) >= Right::Write => Ok(()),
        (false, _) => Err(Error::forbidden(
            "a child's share log is for the child's link worker, the anchor's lead and the backbone's admins",
        )),
    }
}

/// Whether the actor does a link worker's casework on the children in their scope —
/// contacts, referrals, consent, the family report — so that the console offers it:
/// link workers and anchor leads (the API judges each action itself).
pub fn does_casework(actor: &Actor) -> bool {
    matches!(actor.role, Role::LinkWorker | Role::AnchorLead)
}

/// May the actor open a child's record outside their scope by break-glass
/// (`domain::break_glass`)? Link workers and anchor leads — the people a child in
/// trouble at another school may turn up with. (Backbone admins have every record in
/// scope already; partners, analysts and funders never open a record.)
pub fn may_break_glass(actor: &Actor) -> Result<()> {
    match actor.role {
        Role::LinkWorker | Role::AnchorLead => Ok(()),
        Role::BackboneAdmin | Role::System => {
            Err(Error::conflict("every child's record is already in your scope: there is no glass to break"))
        }
        _ => Err(Error::forbidden("only link workers and anchor leads may open a record by break-glass")),
    }
}

/// The break-glass openings the actor may see: their own; for an anchor lead (the
/// anchor's data-protection lead), every opening of a child of their anchor; for backbone
/// admins and the system, all. `FORBIDDEN` for anyone else.
pub fn break_glass_condition(actor: &Actor) -> Result<Condition> {
    let own = break_glass::Column::UserId.eq(actor.user_id.clone());
    let of_anchor = break_glass::Column::ChildId.in_subquery(anchor_children(actor));
    match actor.role {
        Role::BackboneAdmin | Role::System => Ok(Condition::all()),
        Role::AnchorLead => Ok(Condition::any().add(own).add(of_anchor)),
        Role::LinkWorker => Ok(Condition::all().add(own)),
        _ => Err(Error::forbidden("break-glass openings are for anchor staff and backbone admins")),
    }
}

/// The openings that wait for the actor's review, on their worklist: for an anchor lead,
/// those of their anchor's children not reviewed yet (but their own); for anyone else
/// none (backbone admins review from `breakGlassOpenings`).
pub fn break_glass_to_review(actor: &Actor) -> Option<Condition> {
    (actor.role == Role::AnchorLead).then(|| {
        Condition::all()
            .add(break_glass::Column::ReviewedAt.is_null())
            .add(break_glass::Column::UserId.ne(actor.user_id.clone()))
            .add(break_glass::Column::ChildId.in_subquery(anchor_children(actor)))
    })
}

fn anchor_children(actor: &Actor) -> SelectStatement {
    Query::select()
        .column(child::Column::Id)
        .from(child::Entity)
        .and_where(child::Column::AnchorId.eq(actor.organisation_id.clone()))
        .to_owned()
}

/// May the actor review (mark as seen) a break-glass opening of a child at `anchor_id`?
/// That anchor's leads — its data-protection leads — and backbone admins; never the
/// person who opened it.
pub fn may_review_break_glass(actor: &Actor, anchor_id: &str, opened_by: &str) -> Result<()> {
    if actor.user_id == opened_by {
        return Err(Error::forbidden("an opening is reviewed by someone else: the anchor's lead or a backbone admin"));
    }
    match actor.role {
        Role::BackboneAdmin | Role::System => Ok(()),
        Role::AnchorLead if actor.organisation_id == anchor_id => Ok(()),
        _ => Err(Error::forbidden("a break-glass opening is reviewed by the child's anchor lead or a backbone admin")),
    }
}

/// The openings in force for the actor among `child_ids`: child id → opening id. What
/// [`crate::audit::ReadLog::flush`] flags their reads with. No query for roles that never
/// open a record.
pub async fn break_glass_in_force<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    child_ids: Vec<String>,
) -> Result<std::collections::HashMap<String, String>> {
    if !matches!(actor.role, Role::LinkWorker | Role::AnchorLead) || child_ids.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    Ok(break_glass::Entity::find()
        .filter(break_glass::Column::ChildId.is_in(child_ids))
        .filter(in_force(actor))
        .all(conn)
        .await?
        .into_iter()
        .map(|g| (g.child_id, g.id))
        .collect())
}

/// Real-time events an anchor lead's `recordsOpened` receives: break-glass openings of
/// their anchor's children. Anchor leads only.
pub fn break_glass_events(actor: &Actor) -> Result<impl Fn(&crate::events::Event) -> bool + Send + Sync + use<>> {
    use crate::events::EventKind;
    if actor.role != Role::AnchorLead {
        return Err(Error::forbidden("records opened by break-glass are told to the anchor's lead"));
    }
    let org = actor.organisation_id.clone();
    Ok(move |e: &crate::events::Event| e.organisation_id == org && matches!(e.kind, EventKind::RecordOpened { .. }))
}

/// May the actor erase (de-identify) a child's record? As for subject access: the
/// backbone's data-protection team (backbone admins, and the command line).
pub fn may_erase(actor: &Actor) -> Result<()> {
    require_backbone_admin(actor, "carry out erasure requests (the partnership's data-protection team)")
}

/// What a subject-access answer withholds of `table`, and why (`None`: disclosed in
/// full). Safeguarding concerns are withheld until the data-protection lead has reviewed
/// them (`release_safeguarding`): disclosing one may put the child at risk.
pub fn subject_access_withheld(table: &str, release_safeguarding: bool) -> Option<&'static str> {
    match table {
        "safeguarding_concerns" if !release_safeguarding => Some(
            "Safeguarding concerns are withheld where telling the family could put the child at risk of serious \
             harm. The data-protection lead reviews each one with the designated safeguarding lead before any is \
             released.",
        ),
        _ => None,
    }
}

/// May the actor correct a child's details, the adults around them, or a contact? Whoever
/// may write to the record (link workers, anchor leads, admins) — refused before anything
/// is looked up, so the answer says nothing about whether the record exists.
pub fn may_correct_record(actor: &Actor) -> Result<()> {
    if right(actor) >= Right::Write {
        Ok(())
    } else {
        Err(Error::forbidden(format!(
            "your role ({}) may not correct a child's record: the child's link worker, anchor lead or a backbone admin does",
            actor.role.as_str().replace('_', " ")
        )))
    }
}

/// A partner's own records (registers, progress notes) are theirs to correct for
/// `window` after they were recorded; backbone admins (and the system) correct them later.
fn within_partner_window(recorded_at: DateTime<Utc>, now: DateTime<Utc>, window: chrono::Duration) -> Result<()> {
    if now - recorded_at <= window {
        Ok(())
    } else {
        Err(Error::forbidden(format!(
            "this was recorded more than {} days ago: ask a backbone admin to correct it",
            window.num_days()
        )))
    }
}

/// May the actor correct a progress note written by `note_org` at `written_at`? Only the
/// organisation that wrote it: its link workers and leads at any time, its partner staff
/// within `window`; backbone admins (and the system) any note. Asked once the note is
/// found in the caller's note scope ([`note_condition`]).
pub fn may_correct_note(
    actor: &Actor,
    note_org: &str,
    written_at: DateTime<Utc>,
    now: DateTime<Utc>,
    window: chrono::Duration,
) -> Result<()> {
    match actor.role {
        Role::BackboneAdmin | Role::System => Ok(()),
        _ if actor.organisation_id != note_org => {
            Err(Error::forbidden("only the organisation that wrote a note corrects it"))
        }
        Role::PartnerWorker | Role::PartnerLead => within_partner_window(written_at, now, window),
        Role::LinkWorker | Role::AnchorLead => Ok(()),
        Role::BackboneAnalyst | Role::Funder => Err(Error::forbidden("your role may not correct notes")),
    }
}

/// May the actor correct the register of a session of `session_org`, recorded at
/// `recorded_at`? The partner that took it, within `window`; backbone admins (and the
/// system) at any time; nobody else (link workers see registers, they do not take them).
pub fn may_correct_register(
    actor: &Actor,
    session_org: &str,
    recorded_at: DateTime<Utc>,
    now: DateTime<Utc>,
    window: chrono::Duration,
) -> Result<()> {
    match actor.role {
        Role::BackboneAdmin | Role::System => Ok(()),
        Role::PartnerWorker | Role::PartnerLead if actor.organisation_id == session_org => {
            within_partner_window(recorded_at, now, window)
        }
        _ => Err(Error::forbidden("only the partner that took a register corrects it")),
    }
}

/// Each field a user may correct, by record type and GraphQL field name, with the matrix
/// field that guards its values (`None`: shown wherever the record is). An entry of a
/// record's correction history is shown only to callers who see the corrected field, so
/// history never shows what the record itself withholds.
pub const CORRECTABLE: &[(&str, &str, Option<Field>)] = &[
    ("Child", "firstName", Some(Field::ChildFirstName)),
    ("Child", "lastName", Some(Field::ChildLastName)),
    ("Child", "dateOfBirth", Some(Field::ChildDateOfBirth)),
    ("Child", "yearGroup", None),
    ("Child", "upn", Some(Field::ChildUpn)),
    ("Child", "contactPhone", Some(Field::ChildContactPhone)),
    ("Child", "contactEmail", Some(Field::ChildContactEmail)),
    ("Child", "postcode", Some(Field::ChildPostcode)),
    ("Child", "characteristics.freeSchoolMeals", Some(Field::ChildCharacteristics)),
    ("Child", "characteristics.send", Some(Field::ChildCharacteristics)),
    ("Child", "characteristics.eal", Some(Field::ChildCharacteristics)),
    ("Child", "characteristics.lookedAfter", Some(Field::ChildCharacteristics)),
    ("Relationship", "kind", None),
    ("Relationship", "name", Some(Field::RelationshipName)),
    ("Relationship", "involvement", None),
    ("Relationship", "parentalResponsibility", None),
    ("Relationship", "phone", Some(Field::RelationshipPhone)),
    ("Relationship", "notes", Some(Field::RelationshipNotes)),
    ("Contact", "heldOn", None),
    ("Contact", "minutes", None),
    ("Contact", "kind", None),
    ("Contact", "withWhom", None),
    ("Contact", "content", Some(Field::ContactContent)),
    ("ProgressNote", "body", Some(Field::ProgressNoteBody)),
    ("ProgressNote", "visibility", None),
    ("AttendanceRecord", "status", None),
    ("AttendanceRecord", "engagement", None),
];

/// May a caller with this view see an entry of a correction history (a field of a record
/// they see)? From [`CORRECTABLE`]; an unknown field is shown to nobody.
pub fn may_see_correction(view: ChildView, record_type: &str, field: &str) -> bool {
    CORRECTABLE
        .iter()
        .find(|(t, f, _)| *t == record_type && *f == field)
        .is_some_and(|(.., guard)| guard.is_none_or(|g| may_see(view, g)))
}

/// A child as a register line names them to the caller, with their referral's short
/// reference: the first name and the last name's initial where the caller's view shows
/// them (`Kai W. (ref K7Q2)`), the reference alone where it shows no name.
pub fn register_label(actor: &Actor, child: &child::Model, reference: &str) -> String {
    let view = child_view(actor);
    let mut label = String::new();
    if may_see(view, Field::ChildFirstName) {
        label.push_str(&child.first_name);
        if let Some(initial) = may_see(view, Field::ChildLastInitial).then(|| last_initial(&child.last_name)).flatten()
        {
            label.push_str(&format!(" {initial}."));
        }
        label.push(' ');
    }
    label.push_str(&format!("(ref {reference})"));
    label
}

/// The first letter of a last name, in capitals (`O'Brien` → `O`).
pub fn last_initial(last_name: &str) -> Option<String> {
    last_name.chars().find(|c| c.is_alphabetic()).map(|c| c.to_uppercase().collect())
}

/// Whose worklist a caller has (`domain::worklist`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorklistScope {
    /// The children of the caller's record scope: a link worker's caseload, an anchor
    /// lead's anchor.
    Caseload,
    /// The referrals sent to the caller's organisation.
    Partner,
}

/// May the actor have a worklist, and of what? Link workers and anchor leads (their
/// children), partners' staff (their referrals); nobody else has casework to do.
pub fn worklist_scope(actor: &Actor) -> Result<WorklistScope> {
    match actor.role {
        Role::LinkWorker | Role::AnchorLead => Ok(WorklistScope::Caseload),
        Role::PartnerWorker | Role::PartnerLead => Ok(WorklistScope::Partner),
        _ => Err(Error::forbidden("the worklist is for link workers, anchor leads and partners' staff")),
    }
}

/// The views a field is shown in (a row of the field matrix).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Views {
    pub full: bool,
    pub pseudonymised: bool,
    pub partner: bool,
}

impl Views {
    /// Whether `view` is one of these views.
    pub fn include(self, view: ChildView) -> bool {
        match view {
            ChildView::Full => self.full,
            ChildView::Pseudonymised => self.pseudonymised,
            ChildView::Partner => self.partner,
        }
    }
}

/// Only the full view (link workers, anchor leads, admins).
const FULL: Views = Views { full: true, pseudonymised: false, partner: false };
/// The full view and the partner view; never the pseudonymised view (it identifies).
const FULL_PARTNER: Views = Views { full: true, pseudonymised: false, partner: true };
/// The full view and the pseudonymised view (not identifying); not what a partner's work needs.
const FULL_ANALYST: Views = Views { full: true, pseudonymised: true, partner: false };
/// Every view: codes and levels, not identifying and needed by each.
const EVERY: Views = Views { full: true, pseudonymised: true, partner: true };

/// A field of a child's record, or of a record hanging off a child, that carries personal
/// data, free text or the record beyond a partner's work. Every resolver of such a field
/// asks [`may_see`]; no GraphQL type compares views itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    ChildFirstName,
    /// The first letter of the last name: enough for a partner to tell two children of
    /// the same first name apart.
    ChildLastInitial,
    ChildLastName,
    ChildDateOfBirth,
    ChildUpn,
    ChildContactPhone,
    ChildContactEmail,
    ChildPostcode,
    ChildCharacteristics,
    /// Link-worker contact counts in the child's engagement.
    ChildContactCounts,
    EnrolmentCohort,
    EnrolmentTransitionNote,
    RelationshipName,
    RelationshipPhone,
    RelationshipNotes,
    ParticipationAgreedByName,
    ParticipationEvidence,
    LawfulBasisDataSharingAgreement,
    ConsentGivenByName,
    ConsentEvidence,
    ConsentWithdrawalReason,
    ReferralNeeds,
    ReferralReason,
    /// A referral's short reference (`referrals::reference`): for telling children of one
    /// name apart beside their names, so shown where first names are.
    ReferralReference,
    /// The same reference on a register line.
    AttendanceReference,
    ReferralTransitionNote,
    SessionNotes,
    ContactContent,
    ProgressNoteBody,
    SafeguardingConcernBody,
    HandoverNote,
    AssessmentArea,
    AssessmentMeasure,
    AssessmentCategory,
    PlanInformalEngagement,
    PlanFormalEngagement,
    PlanDevelopmentalSupport,
    PlanGoalAreaCode,
    PlanGoalAreaName,
    PlanGoalDescription,
    PlanReviewChanges,
    GoalOutcomeNote,
    CorrectionOldValue,
    CorrectionNewValue,
    CorrectionReason,
}

/// The field matrix: each field, its GraphQL type and field name, and the views that see
/// it. Mirrored in `docs/data-protection.md`. The pseudonymised view (analysts) sees no
/// name, contact detail, UPN or free text about a child or the adults around them; the
/// partner view only what a partner's work needs (first name, age, year group, the
/// anchor, their own referrals with the needs written for them, their own sessions,
/// notes and assessments) — never UPN, safeguarding or the record beyond it. Which rows
/// (records) a caller sees at all is the row scope above, applied in every query.
pub const FIELD_MATRIX: &[(Field, &str, &str, Views)] = &[
    (Field::ChildFirstName, "Child", "firstName", FULL_PARTNER),
    (Field::ChildLastInitial, "Child", "lastInitial", FULL_PARTNER),
    (Field::ChildLastName, "Child", "lastName", FULL),
    (Field::ChildDateOfBirth, "Child", "dateOfBirth", FULL),
    (Field::ChildUpn, "Child", "upn", FULL),
    (Field::ChildContactPhone, "Child", "contactPhone", FULL),
    (Field::ChildContactEmail, "Child", "contactEmail", FULL),
    (Field::ChildPostcode, "Child", "postcode", FULL),
    (Field::ChildCharacteristics, "Child", "characteristics", FULL_ANALYST),
    (Field::ChildContactCounts, "EngagementSummary", "contacts", FULL_ANALYST),
    (Field::EnrolmentCohort, "Enrolment", "cohort", FULL_ANALYST),
    (Field::EnrolmentTransitionNote, "EnrolmentTransition", "note", FULL),
    (Field::RelationshipName, "Relationship", "name", FULL),
    (Field::RelationshipPhone, "Relationship", "phone", FULL),
    (Field::RelationshipNotes, "Relationship", "notes", FULL),
    (Field::ParticipationAgreedByName, "ParticipationAgreement", "agreedByName", FULL),
    (Field::ParticipationEvidence, "ParticipationAgreement", "evidence", FULL),
    (Field::LawfulBasisDataSharingAgreement, "LawfulBasis", "dataSharingAgreement", FULL_ANALYST),
    (Field::ConsentGivenByName, "Consent", "givenByName", FULL),
    (Field::ConsentEvidence, "Consent", "evidence", FULL),
    (Field::ConsentWithdrawalReason, "Consent", "withdrawalReason", FULL),
    (Field::ReferralNeeds, "Referral", "needs", FULL_PARTNER),
    (Field::ReferralReason, "Referral", "reason", FULL_PARTNER),
    (Field::ReferralReference, "Referral", "reference", FULL_PARTNER),
    (Field::AttendanceReference, "AttendanceRecord", "reference", FULL_PARTNER),
    (Field::ReferralTransitionNote, "ReferralTransition", "note", FULL_PARTNER),
    (Field::SessionNotes, "Session", "notes", FULL_PARTNER),
    (Field::ContactContent, "Contact", "content", FULL),
    (Field::ProgressNoteBody, "ProgressNote", "body", FULL_PARTNER),
    (Field::SafeguardingConcernBody, "SafeguardingConcern", "body", FULL),
    (Field::HandoverNote, "Handover", "note", FULL),
    (Field::AssessmentArea, "Assessment", "area", EVERY),
    (Field::AssessmentMeasure, "Assessment", "measure", EVERY),
    (Field::AssessmentCategory, "Assessment", "category", EVERY),
    (Field::PlanInformalEngagement, "SupportPlan", "informalEngagement", FULL),
    (Field::PlanFormalEngagement, "SupportPlan", "formalEngagement", FULL),
    (Field::PlanDevelopmentalSupport, "SupportPlan", "developmentalSupport", FULL),
    (Field::PlanGoalAreaCode, "PlanGoal", "areaCode", FULL_ANALYST),
    (Field::PlanGoalAreaName, "PlanGoal", "areaName", FULL_ANALYST),
    (Field::PlanGoalDescription, "PlanGoal", "description", FULL),
    (Field::PlanReviewChanges, "PlanReview", "changes", FULL),
    (Field::GoalOutcomeNote, "GoalOutcome", "note", FULL),
    (Field::CorrectionOldValue, "Correction", "oldValue", FULL_PARTNER),
    (Field::CorrectionNewValue, "Correction", "newValue", FULL_PARTNER),
    (Field::CorrectionReason, "Correction", "reason", FULL_PARTNER),
];

/// Text fields reachable from a child that are not about a child or the adults around
/// them — the partnership's directory (organisations, programmes, staff named on records),
/// the framework's codes, pagination cursors — shown in every view.
pub const DIRECTORY_FIELDS: &[(&str, &str)] = &[
    ("MeasureProgress", "area"),
    ("MeasureProgress", "measure"),
    ("Organisation", "name"),
    ("User", "email"),
    ("User", "displayName"),
    ("Programme", "name"),
    ("Programme", "description"),
    ("Programme", "locationName"),
    ("Programme", "postcode"),
    ("Programme", "schedule"),
    ("Programme", "startsOn"),
    ("PageInfo", "startCursor"),
    ("PageInfo", "endCursor"),
    ("ContactEdge", "cursor"),
    ("Correction", "field"),
];

/// May a caller with this view see this field? The one answer, from [`FIELD_MATRIX`].
pub fn may_see(view: ChildView, field: Field) -> bool {
    FIELD_MATRIX.iter().find(|(f, ..)| *f == field).is_some_and(|(.., views)| views.include(view))
}

/// [`may_see`] by GraphQL names (`Consent`, `evidence`); a directory field is seen in
/// every view; a field in neither list is seen in none (a new field is withheld until it
/// is added to the matrix).
pub fn may_see_named(view: ChildView, type_name: &str, field_name: &str) -> bool {
    DIRECTORY_FIELDS.contains(&(type_name, field_name))
        || FIELD_MATRIX.iter().any(|(_, t, f, views)| *t == type_name && *f == field_name && views.include(view))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_has_one_row_of_the_matrix_and_every_row_one_field() {
        for (i, (field, t, f, _)) in FIELD_MATRIX.iter().enumerate() {
            assert_eq!(FIELD_MATRIX.iter().filter(|(x, ..)| x == field).count(), 1, "{field:?} twice");
            assert!(!FIELD_MATRIX[..i].iter().any(|(_, t2, f2, _)| t2 == t && f2 == f), "{t}.{f} has two rows");
            assert!(!DIRECTORY_FIELDS.contains(&(*t, *f)), "{t}.{f} is both a matrix row and a directory field");
        }
    }

    #[test]
    fn the_pseudonymised_view_withholds_free_text_and_names_and_shows_codes() {
        use ChildView::*;
        for field in [
            Field::ConsentEvidence,
            Field::ConsentWithdrawalReason,
            Field::ParticipationEvidence,
            Field::RelationshipNotes,
            Field::ChildFirstName,
            Field::ReferralNeeds,
            Field::SessionNotes,
        ] {
            assert!(!may_see(Pseudonymised, field), "{field:?}");
            assert!(may_see(Full, field), "{field:?}");
        }
        assert!(may_see(Pseudonymised, Field::AssessmentArea));
        assert!(may_see(Pseudonymised, Field::ChildCharacteristics));
        assert!(!may_see_named(Pseudonymised, "Consent", "evidence"));
        assert!(may_see_named(Pseudonymised, "Organisation", "name"));
    }

    #[test]
    fn the_partner_view_shows_what_a_partners_work_needs_only() {
        use ChildView::Partner;
        for field in [Field::ChildFirstName, Field::ReferralNeeds, Field::ProgressNoteBody, Field::SessionNotes] {
            assert!(may_see(Partner, field), "{field:?}");
        }
        for field in [
            Field::ChildUpn,
            Field::ChildLastName,
            Field::SafeguardingConcernBody,
            Field::ChildCharacteristics,
            Field::ConsentEvidence,
            Field::ContactContent,
        ] {
            assert!(!may_see(Partner, field), "{field:?}");
        }
        assert!(!may_see_named(Partner, "Child", "aFieldNobodyAdded"), "a field outside the matrix is withheld");
    }
}

/// What a refusal may tell `actor` of a child's birth when they date an event before it
/// (a session, an assessment, a contact): the date itself to those who see the child's
/// date of birth, only 1 January of the birth year to others (partners and analysts see
/// an age, not a date of birth), so that trying dates one by one cannot find it out.
pub fn birth_bound(actor: &Actor, child: &child::Model) -> chrono::NaiveDate {
    use chrono::Datelike;
    match child_view(actor) {
        ChildView::Full => child.date_of_birth,
        ChildView::Partner | ChildView::Pseudonymised => {
            chrono::NaiveDate::from_ymd_opt(child.date_of_birth.year(), 1, 1).unwrap_or(child.date_of_birth)
        }
    }
}

#[cfg(test)]
mod birth_bound_tests {
    use super::*;

    fn actor(role: Role, kind: OrganisationKind) -> Actor {
        Actor::in_role("u", "o", kind, role)
    }

    #[test]
    fn only_those_who_see_the_date_of_birth_are_refused_by_it() {
        let born = chrono::NaiveDate::from_ymd_opt(2016, 5, 4).expect("date");
        let child = child::Model {
            id: "c".into(),
            first_name: "Nia".into(),
            last_name: "Testchild".into(),
            name_key: "nia|testchild".into(),
            date_of_birth: born,
            anchor_id: "a".into(),
            year_group: 5,
            upn: None,
            contact_phone: None,
            contact_email: None,
            postcode: None,
            free_school_meals: false,
            send: false,
            eal: false,
            looked_after: false,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
            erased_at: None,
            erasure_reason: None,
        };
        let link_worker = actor(Role::LinkWorker, OrganisationKind::Anchor);
        let partner = actor(Role::PartnerWorker, OrganisationKind::Partner);
        let analyst = actor(Role::BackboneAnalyst, OrganisationKind::Backbone);
        assert_eq!(birth_bound(&link_worker, &child), born, "the link worker's refusal follows the real date");
        let year_start = chrono::NaiveDate::from_ymd_opt(2016, 1, 1).expect("date");
        assert_eq!(birth_bound(&partner, &child), year_start, "a partner learns no more than the year");
        assert_eq!(birth_bound(&analyst, &child), year_start);
    }
}
