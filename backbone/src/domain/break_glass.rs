//! Break-glass: a link worker or anchor lead opens a child's record outside their scope —
//! a child of another anchor who turns up in trouble, a record they need before it is
//! handed over — with a stated reason, for a limited time (`break_glass.hours`, 3 by
//! default). While the opening is in force the record reads as if it were in their scope
//! (`access::child_condition`), for reading only (`access::refuse_changes`); every
//! read is audited with the opening's id (`audit_events.break_glass_id`), and the child's
//! anchor is told: a worklist item for its leads until one of them (or a backbone admin)
//! reviews the opening, and a `recordsOpened` event. An opening is never extended: opening
//! the record again ends the one in force and needs a reason not given before.

use crate::access;
use crate::audit::Audited;
use crate::auth::Actor;
use crate::domain::corrections::check_reason;
use crate::domain::{Page, PageRequest, keyset_page};
use crate::error::{Error, Result};
use crate::store::{break_glass, child};
use chrono::{Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, Set, prelude::Expr,
};

/// An opening, and the anchor of the child it opened (the organisation told).
#[derive(Clone, Debug)]
pub struct Opened {
    pub opening: break_glass::Model,
    pub anchor_id: String,
}

/// Two reasons are the same when they read the same, whatever the case and spacing.
fn same_reason(a: &str, b: &str) -> bool {
    let fold = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    fold(a) == fold(b)
}

/// Opens `child_id`'s record for the caller for `hours`, with `reason`. `FORBIDDEN` for
/// roles that may not; `NOT_FOUND` for no such child; `CONFLICT` when the record is in
/// their scope already; `INVALID_INPUT` (`reason`) when blank or given for an earlier
/// opening of the same record. An opening in force is ended by the new one.
pub async fn open(db: &DatabaseConnection, actor: &Actor, child_id: &str, reason: &str, hours: i64) -> Result<Opened> {
    access::may_break_glass(actor)?;
    let reason = check_reason(reason)?;
    if uuid::Uuid::parse_str(child_id).is_err() {
        return Err(Error::NotFound("child"));
    }
    let mut tx = Audited::begin(db, actor).await?;
    let found = access::find_child_to_open(&*tx, child_id).await?;
    if access::in_own_scope(&*tx, actor, child_id).await? {
        return Err(Error::conflict("this child's record is in your scope already: open it as usual"));
    }
    let earlier = break_glass::Entity::find()
        .filter(break_glass::Column::UserId.eq(actor.user_id.clone()))
        .filter(break_glass::Column::ChildId.eq(child_id))
        .all(&*tx)
        .await?;
    if earlier.iter().any(|o| same_reason(&o.reason, &reason)) {
        return Err(Error::invalid(
            "reason",
            "you opened this record before for this reason: opening it again needs a new reason",
        ));
    }
    let now = Utc::now();
    break_glass::Entity::update_many()
        .col_expr(break_glass::Column::EndedAt, Expr::value(now))
        .filter(access::in_force(actor))
        .filter(break_glass::Column::ChildId.eq(child_id))
        .exec(&*tx)
        .await?;
    let opening = break_glass::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        child_id: Set(child_id.to_owned()),
        user_id: Set(actor.user_id.clone()),
        organisation_id: Set(actor.organisation_id.clone()),
        role: Set(actor.role.as_str().to_owned()),
        reason: Set(reason),
        opened_at: Set(now),
        expires_at: Set(now + Duration::hours(hours)),
        ended_at: Set(None),
        reviewed_at: Set(None),
        reviewed_by: Set(None),
    }
    .insert(&*tx)
    .await?;
    tx.record("break_glass.open", Some(child_id), &["breakGlass.reason"]);
    tx.commit().await?;
    Ok(Opened { opening, anchor_id: found.anchor_id })
}

/// Marks an opening as reviewed by the child's anchor lead or a backbone admin (never the
/// person who opened it): it leaves their worklists. `NOT_FOUND` for an opening the
/// caller may not see; `CONFLICT` when reviewed already.
pub async fn review(db: &DatabaseConnection, actor: &Actor, id: &str) -> Result<break_glass::Model> {
    if uuid::Uuid::parse_str(id).is_err() {
        return Err(Error::NotFound("break-glass opening"));
    }
    access::break_glass_condition(actor)?;
    let mut tx = Audited::begin(db, actor).await?;
    let found = break_glass::Entity::find_by_id(id.to_owned())
        .filter(access::break_glass_condition(actor)?)
        .one(&*tx)
        .await?
        .ok_or(Error::NotFound("break-glass opening"))?;
    let anchor = child::Entity::find_by_id(found.child_id.clone())
        .one(&*tx)
        .await?
        .map(|c| c.anchor_id)
        .ok_or(Error::NotFound("child"))?;
    access::may_review_break_glass(actor, &anchor, &found.user_id)?;
    if found.reviewed_at.is_some() {
        return Err(Error::conflict("this opening has been reviewed already"));
    }
    let mut reviewed: break_glass::ActiveModel = found.clone().into();
    reviewed.reviewed_at = Set(Some(Utc::now()));
    reviewed.reviewed_by = Set(Some(actor.user_id.clone()));
    let reviewed = reviewed.update(&*tx).await?;
    tx.record("break_glass.review", Some(&found.child_id), &["breakGlass.reviewedAt"]);
    tx.commit().await?;
    Ok(reviewed)
}

/// An opening the caller may see (`access::break_glass_condition`), or none.
pub async fn find(db: &DatabaseConnection, actor: &Actor, id: &str) -> Result<Option<break_glass::Model>> {
    Ok(break_glass::Entity::find_by_id(id.to_owned()).filter(access::break_glass_condition(actor)?).one(db).await?)
}

/// Which openings to list.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub child_id: Option<String>,
    /// Only those not reviewed yet.
    pub to_review: bool,
}

/// The openings the caller may see (`access::break_glass_condition`), oldest first.
pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    filter: Filter,
    page: PageRequest,
) -> Result<Page<break_glass::Model>> {
    let mut cond = Condition::all().add(access::break_glass_condition(actor)?);
    if let Some(child_id) = filter.child_id {
        cond = cond.add(break_glass::Column::ChildId.eq(child_id));
    }
    if filter.to_review {
        cond = cond.add(break_glass::Column::ReviewedAt.is_null());
    }
    keyset_page(db, break_glass::Entity::find().filter(cond), break_glass::Column::Id, page).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_is_the_same_whatever_its_case_and_spacing() {
        assert!(same_reason("Child at our door,  distressed", "child at our door, distressed"));
        assert!(!same_reason("Child at our door", "Child at our door again"));
    }
}
