//! The one access policy: which children an [`Actor`] may see, how much of each, and what
//! they may do. Three tiers, as in `docs/architecture.md`:
//!
//! 1. **Row scope** ([`child_condition`]): applied inside every query that touches
//!    children, so a child outside it answers exactly as a child that does not exist
//!    (`NOT_FOUND`) and never appears in a list.
//! 2. **Field view** ([`child_view`]): full, or pseudonymised for analysts.
//! 3. **Rights** ([`Right`], ordered): what the actor may do to children in scope.
//!
//! | role            | scope                        | view          | right  |
//! |-----------------|------------------------------|---------------|--------|
//! | link worker     | their caseload, at their anchor | full       | Write  |
//! | anchor lead     | every child of their anchor  | full          | Manage |
//! | partner (both)  | none yet (referrals later)   | —             | None   |
//! | funder          | never a child                | —             | None   |
//! | backbone analyst| every child                  | pseudonymised | Read   |
//! | backbone admin  | every child                  | full          | Manage |
//! | system          | every child                  | full          | Manage |

use crate::auth::Actor;
use crate::domain::{OrganisationKind, Role};
use crate::error::{Error, Result};
use crate::store::{child, enrolment};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter};

/// What an actor may do to the children in their scope, weakest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Right {
    /// Nothing: not even to know a child exists.
    None,
    /// Read a pseudonymised view.
    Read,
    /// Record and change the child's record: relationships, consent, enrolment.
    Write,
    /// Also manage caseloads: assign link workers.
    Manage,
}

/// How much of a child's record an actor sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildView {
    Full,
    /// No names, date of birth, UPN, contact details or postcode.
    Pseudonymised,
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

/// The field view of children for this actor.
pub fn child_view(actor: &Actor) -> ChildView {
    match actor.role {
        Role::BackboneAnalyst => ChildView::Pseudonymised,
        _ => ChildView::Full,
    }
}

/// The row scope: a condition on `children` selecting exactly the children this actor may
/// see. Every query that reads children includes it.
pub fn child_condition(actor: &Actor) -> Condition {
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
        // Partners see children only through live referrals (a later change); funders
        // never see a child.
        Role::PartnerWorker | Role::PartnerLead | Role::Funder => Condition::all().add(Expr::val(1).eq(0)),
    }
}

/// Loads a child the actor may see, or `NOT_FOUND` — the same answer whether the child
/// does not exist or is outside the actor's scope, so that existence does not leak.
pub async fn find_child<C: ConnectionTrait>(conn: &C, actor: &Actor, child_id: &str) -> Result<child::Model> {
    child::Entity::find_by_id(child_id.to_owned())
        .filter(child_condition(actor))
        .one(conn)
        .await?
        .ok_or(Error::NotFound("child"))
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
