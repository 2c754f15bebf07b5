//! Enrolment: a child's time in the programme, and its state machine
//!
//! ```text
//! identified ─agree to take part→ consented ─enrol→ enrolled ─start support→ active ─complete→ completed
//!      └──────────────┴──────────────────────┴────────────┴──exit(reason)→ exited
//! ```
//!
//! Every transition is stamped (actor, time, note) in `enrolment_transitions`, with the
//! day it happened (`effective_on`: the caller's `on`, today by default; never in the
//! future, before the child was born, or before the enrolment's previous step). Anything
//! else is refused with `CONFLICT`, naming the current status.

use crate::access::{self, Right};
use crate::audit::{Audited, now};
use crate::auth::Actor;
use crate::domain::validate::{self, On};
use crate::domain::{ChildChange, EnrolmentStatus, ExitReason, OrganisationKind, Role};
use crate::error::{Error, Result};
use crate::store::{child, enrolment, enrolment_transition, lawful_basis};
use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use validator::Validate;

/// A move in the enrolment state machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    AgreeToTakePart,
    Enrol,
    StartSupport,
    Complete,
    Exit(ExitReason),
}

impl Transition {
    fn verb(self) -> &'static str {
        match self {
            Transition::AgreeToTakePart => "record agreement to take part for",
            Transition::Enrol => "enrol",
            Transition::StartSupport => "start support for",
            Transition::Complete => "complete",
            Transition::Exit(_) => "exit",
        }
    }
}

/// The state machine itself: where `transition` leads from `from`, or `CONFLICT`.
pub fn next(from: EnrolmentStatus, transition: Transition) -> Result<EnrolmentStatus> {
    use EnrolmentStatus::*;
    let to = match (from, transition) {
        (Identified, Transition::AgreeToTakePart) => Consented,
        (Consented, Transition::Enrol) => Enrolled,
        (Enrolled, Transition::StartSupport) => Active,
        (Active, Transition::Complete) => Completed,
        (Identified | Consented | Enrolled | Active, Transition::Exit(_)) => Exited,
        _ => {
            return Err(Error::conflict(format!("cannot {} a child whose enrolment is {}", transition.verb(), from)));
        }
    };
    Ok(to)
}

/// The enrolment of a child (every child has exactly one, from identification).
pub async fn of_child<C: ConnectionTrait>(conn: &C, child_id: &str) -> Result<enrolment::Model> {
    enrolment::Entity::find()
        .filter(enrolment::Column::ChildId.eq(child_id.to_owned()))
        .one(conn)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("child {child_id} has no enrolment")))
}

/// The latest step of an enrolment: the day it happened and the status it led to.
pub async fn last_step<C: ConnectionTrait>(conn: &C, enrolment_id: &str) -> Result<Option<(NaiveDate, String)>> {
    Ok(enrolment_transition::Entity::find()
        .filter(enrolment_transition::Column::EnrolmentId.eq(enrolment_id.to_owned()))
        .order_by_desc(enrolment_transition::Column::EffectiveOn)
        .order_by_desc(enrolment_transition::Column::Id)
        .one(conn)
        .await?
        .map(|t| (t.effective_on, t.to_status)))
}

/// Applies `transition` inside `tx`, stamping it in the history as recorded now and as
/// happened `on` — refused (`INVALID_INPUT` on `on.field`) before the child was born (as
/// far as the caller may know it) or before the enrolment's previous step. Used by every
/// use case that moves a child along.
pub async fn apply(
    tx: &mut Audited,
    child_id: &str,
    transition: Transition,
    cohort: Option<String>,
    note: Option<String>,
    on: On<'_>,
) -> Result<enrolment::Model> {
    let current = of_child(&**tx, child_id).await?;
    let from = EnrolmentStatus::from_stored(&current.status)?;
    let to = next(from, transition)?;
    let found = child::Entity::find_by_id(child_id.to_owned())
        .one(&**tx)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("enrolment of a missing child {child_id}")))?;
    validate::not_before_birth(on.field, on.day, access::birth_bound(tx.actor(), &found))?;
    let previous = last_step(&**tx, &current.id).await?;
    validate::step_follows(on.field, on.day, previous.as_ref().map(|(d, s)| (*d, s.as_str())), "enrolment")?;
    let at = now();
    let mut active: enrolment::ActiveModel = current.clone().into();
    active.status = Set(to.as_str().to_owned());
    if let Transition::Exit(reason) = transition {
        active.exit_reason = Set(Some(reason.as_str().to_owned()));
    }
    if cohort.is_some() {
        active.cohort = Set(cohort);
    }
    active.updated_at = Set(at);
    let updated = active.update(&**tx).await?;
    enrolment_transition::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        enrolment_id: Set(current.id),
        from_status: Set(Some(from.as_str().to_owned())),
        to_status: Set(to.as_str().to_owned()),
        actor_user_id: Set(Some(tx.actor().user_id.clone())),
        at: Set(at),
        effective_on: Set(on.day),
        note: Set(note),
    }
    .insert(&**tx)
    .await?;
    tx.record(&format!("enrolment.{}", to.as_str()), Some(child_id), &["enrolment.status"]);
    Ok(updated)
}

/// Loads the child in the actor's scope, checks the right, and opens the transaction.
async fn begin_for_child(
    db: &DatabaseConnection,
    actor: &Actor,
    child_id: &str,
    needed: Right,
) -> Result<(Audited, child::Model)> {
    let tx = Audited::begin(db, actor).await?;
    let found = access::find_child(&*tx, actor, child_id).await?;
    access::require(actor, needed)?;
    Ok((tx, found))
}

#[derive(Debug, Clone, Validate)]
pub struct Enrol {
    #[validate(custom(function = "crate::domain::validate::id"))]
    pub child_id: String,
    #[validate(custom(function = "crate::domain::validate::cohort"))]
    pub cohort: String,
    /// The day the child was enrolled (`YYYY-MM-DD`); today when not given.
    pub on: Option<String>,
}

/// `consented → enrolled`. Needs a lawful basis on record for processing the child's data.
/// Answers with the child and the enrolment as this transaction wrote them.
pub async fn enrol(db: &DatabaseConnection, actor: &Actor, input: Enrol) -> Result<ChildChange<enrolment::Model>> {
    input.validate()?;
    let day = validate::step_date("on", input.on.as_deref())?;
    let (mut tx, child) = begin_for_child(db, actor, &input.child_id, Right::Write).await?;
    let bases = lawful_basis::Entity::find()
        .filter(lawful_basis::Column::ChildId.eq(input.child_id.clone()))
        .count(&*tx)
        .await?;
    let current = of_child(&*tx, &input.child_id).await?;
    if bases == 0 && current.status == EnrolmentStatus::Consented.as_str() {
        return Err(Error::conflict("record the lawful basis for processing this child's data before enrolling"));
    }
    let cohort = Some(input.cohort.trim().to_owned());
    let updated = apply(&mut tx, &input.child_id, Transition::Enrol, cohort, None, On { day, field: "on" }).await?;
    tx.commit().await?;
    Ok(ChildChange { child, change: updated })
}

/// A transition that needs nothing but the child: start support, complete, exit — as
/// happened `on` (`YYYY-MM-DD`; today when not given). Answers with the child and the
/// enrolment as this transaction wrote them.
pub async fn transition(
    db: &DatabaseConnection,
    actor: &Actor,
    child_id: &str,
    transition: Transition,
    note: Option<String>,
    on: Option<String>,
) -> Result<ChildChange<enrolment::Model>> {
    crate::domain::validate::id(child_id)
        .map_err(|_| Error::invalid("childId", "must be an id returned by this API"))?;
    let note = crate::domain::validate::blank_to_none(note);
    if let Some(n) = &note {
        crate::domain::validate::notes(n).map_err(|e| Error::invalid("note", crate::domain::validate::message(e)))?;
    }
    let day = validate::step_date("on", on.as_deref())?;
    let (mut tx, child) = begin_for_child(db, actor, child_id, Right::Write).await?;
    let updated = apply(&mut tx, child_id, transition, None, note, On { day, field: "on" }).await?;
    tx.commit().await?;
    Ok(ChildChange { child, change: updated })
}

/// The default link worker for a newly identified child: the identifying link worker.
pub fn default_link_worker(actor: &Actor) -> Option<String> {
    (actor.role == Role::LinkWorker && actor.organisation_kind == OrganisationKind::Anchor)
        .then(|| actor.user_id.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use EnrolmentStatus::*;

    #[test]
    fn the_happy_path() {
        assert_eq!(next(Identified, Transition::AgreeToTakePart).ok(), Some(Consented));
        assert_eq!(next(Consented, Transition::Enrol).ok(), Some(Enrolled));
        assert_eq!(next(Enrolled, Transition::StartSupport).ok(), Some(Active));
        assert_eq!(next(Active, Transition::Complete).ok(), Some(Completed));
    }

    #[test]
    fn exit_from_every_open_state_only() {
        for s in [Identified, Consented, Enrolled, Active] {
            assert_eq!(next(s, Transition::Exit(ExitReason::MovedAway)).ok(), Some(Exited));
        }
        for s in [Completed, Exited] {
            assert!(matches!(next(s, Transition::Exit(ExitReason::Other)), Err(Error::Conflict(_))));
        }
    }

    #[test]
    fn everything_else_is_refused() {
        let all = [
            Transition::AgreeToTakePart,
            Transition::Enrol,
            Transition::StartSupport,
            Transition::Complete,
            Transition::Exit(ExitReason::Other),
        ];
        let allowed = |s: EnrolmentStatus, t: Transition| {
            matches!(
                (s, t),
                (Identified, Transition::AgreeToTakePart)
                    | (Consented, Transition::Enrol)
                    | (Enrolled, Transition::StartSupport)
                    | (Active, Transition::Complete)
                    | (Identified | Consented | Enrolled | Active, Transition::Exit(_))
            )
        };
        for s in EnrolmentStatus::ALL {
            for t in all {
                assert_eq!(next(*s, t).is_ok(), allowed(*s, t), "{s} {t:?}");
            }
        }
        let msg = next(Completed, Transition::Enrol).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("completed"), "{msg}");
    }
}
