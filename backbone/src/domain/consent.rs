//! Three records UK guidance keeps apart, kept apart here:
//! - the family's **agreement to take part** (moves the enrolment `identified → consented`);
//! - the **lawful basis** on which the backbone processes the record, under a named
//!   data-sharing agreement (needed before enrolment);
//! - **consent to each onward share**: who gave it, when, for which purposes and which
//!   partner organisations, on what evidence, and its withdrawal. Consent is a history:
//!   a withdrawal is stamped on the record, never a deletion.

use crate::access::{self, Right};
use crate::audit::{Audited, now};
use crate::auth::Actor;
use crate::domain::enrolment::{self, Transition};
use crate::domain::{ChildChange, validate};
use crate::domain::{GiverKind, LawfulBasisKind, OrganisationKind, Purpose, SpecialCategoryCondition};
use crate::error::{Error, Result};
use crate::store::bundle::{Read, Reader};
use crate::store::{child, consent, consent_partner, lawful_basis, organisation, participation};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set};
use validator::Validate;

/// Opens the transaction of a write to a child's record: the child in the actor's scope
/// (as this transaction reads it) and the right to write checked; with `dated`, also
/// refuses a date (`(field, date)`) before the child was born.
async fn begin_write(
    db: &DatabaseConnection,
    actor: &Actor,
    child_id: &str,
    dated: Option<(&str, chrono::NaiveDate)>,
) -> Result<(Audited, child::Model)> {
    let tx = Audited::begin(db, actor).await?;
    let found = access::find_child(&*tx, actor, child_id).await?;
    access::require(actor, Right::Write)?;
    if let Some((field, on)) = dated {
        validate::not_before_birth(field, on, access::birth_bound(actor, &found))?;
    }
    Ok((tx, found))
}

#[derive(Debug, Clone, Validate)]
pub struct NewParticipation {
    #[validate(custom(function = "crate::domain::validate::id"))]
    pub child_id: String,
    pub agreed_by: GiverKind,
    #[validate(custom(function = "crate::domain::validate::name"))]
    pub agreed_by_name: String,
    #[validate(custom(function = "crate::domain::validate::past_date"))]
    pub agreed_on: String,
    #[validate(custom(function = "crate::domain::validate::short_text"))]
    pub evidence: String,
}

/// Records the family's agreement to take part; the enrolment moves to `consented`, as
/// happened on the day agreed (so not before the child was identified).
/// Answers with the child as this transaction read them and the agreement it wrote.
pub async fn record_participation(
    db: &DatabaseConnection,
    actor: &Actor,
    mut input: NewParticipation,
) -> Result<ChildChange<participation::Model>> {
    input.agreed_by_name = validate::tidy(&input.agreed_by_name);
    input.evidence = validate::tidy(&input.evidence);
    input.validate()?;
    let agreed_on = validate::past_date_in("agreedOn", &input.agreed_on)?;
    let (mut tx, child) = begin_write(db, actor, &input.child_id, Some(("agreedOn", agreed_on))).await?;
    let created = participation::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        child_id: Set(input.child_id.clone()),
        agreed_by: Set(input.agreed_by.as_str().to_owned()),
        agreed_by_name: Set(input.agreed_by_name),
        agreed_on: Set(agreed_on),
        evidence: Set(input.evidence),
        recorded_by: Set(actor.user_id.clone()),
        recorded_at: Set(now()),
    }
    .insert(&*tx)
    .await?;
    tx.record("participation.record", Some(&input.child_id), &["participation"]);
    // The agreement is the step: the enrolment became `consented` the day it was given.
    let on = validate::On { day: agreed_on, field: "agreedOn" };
    enrolment::apply(&mut tx, &input.child_id, Transition::AgreeToTakePart, None, None, on).await?;
    tx.commit().await?;
    Ok(ChildChange { child, change: created })
}

#[derive(Debug, Clone, Validate)]
pub struct NewLawfulBasis {
    #[validate(custom(function = "crate::domain::validate::id"))]
    pub child_id: String,
    pub basis: LawfulBasisKind,
    pub special_category: Option<SpecialCategoryCondition>,
    #[validate(custom(function = "crate::domain::validate::reference"))]
    pub data_sharing_agreement: String,
}

/// Records the lawful basis for processing the child's record (the newest one applies).
pub async fn record_lawful_basis(
    db: &DatabaseConnection,
    actor: &Actor,
    mut input: NewLawfulBasis,
) -> Result<lawful_basis::Model> {
    input.data_sharing_agreement = validate::tidy(&input.data_sharing_agreement);
    input.validate()?;
    let (mut tx, _) = begin_write(db, actor, &input.child_id, None).await?;
    let created = lawful_basis::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        child_id: Set(input.child_id.clone()),
        basis: Set(input.basis.as_str().to_owned()),
        special_category: Set(input.special_category.map(|s| s.as_str().to_owned())),
        data_sharing_agreement: Set(input.data_sharing_agreement),
        recorded_by: Set(actor.user_id.clone()),
        recorded_at: Set(now()),
    }
    .insert(&*tx)
    .await?;
    tx.record("lawful_basis.record", Some(&input.child_id), &["lawfulBasis"]);
    tx.commit().await?;
    Ok(created)
}

#[derive(Debug, Clone, Validate)]
pub struct NewConsent {
    #[validate(custom(function = "crate::domain::validate::id"))]
    pub child_id: String,
    pub given_by: GiverKind,
    #[validate(custom(function = "crate::domain::validate::name"))]
    pub given_by_name: String,
    #[validate(custom(function = "crate::domain::validate::past_date"))]
    pub given_on: String,
    /// Checked by hand: `validator`'s length check needs serialisable items.
    pub purposes: Vec<Purpose>,
    #[validate(length(min = 1, max = 50, message = "must name at least one partner organisation"))]
    pub partner_ids: Vec<String>,
    #[validate(custom(function = "crate::domain::validate::short_text"))]
    pub evidence: String,
}

/// Records consent to share the child's record onward with named partners, for named
/// purposes. Every partner id must be a partner organisation.
pub async fn record_consent(db: &DatabaseConnection, actor: &Actor, mut input: NewConsent) -> Result<consent::Model> {
    input.given_by_name = validate::tidy(&input.given_by_name);
    input.evidence = validate::tidy(&input.evidence);
    input.validate()?;
    if input.purposes.is_empty() {
        return Err(Error::invalid("purposes", "must name at least one purpose"));
    }
    let given_on = validate::past_date_in("givenOn", &input.given_on)?;
    let mut partner_ids = input.partner_ids.iter().map(|p| p.trim().to_owned()).collect::<Vec<_>>();
    partner_ids.sort();
    partner_ids.dedup();
    let partners = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(partner_ids.clone()))
        .filter(organisation::Column::Kind.eq(OrganisationKind::Partner.as_str()))
        .all(db)
        .await?;
    if partners.len() != partner_ids.len() {
        return Err(Error::invalid("partnerIds", "every id must be a partner organisation"));
    }
    let purposes = crate::domain::join_list(&input.purposes, Purpose::as_str);
    let (mut tx, _) = begin_write(db, actor, &input.child_id, Some(("givenOn", given_on))).await?;
    let consent_id = uuid::Uuid::now_v7().to_string();
    let created = consent::ActiveModel {
        id: Set(consent_id.clone()),
        child_id: Set(input.child_id.clone()),
        given_by: Set(input.given_by.as_str().to_owned()),
        given_by_name: Set(input.given_by_name),
        given_on: Set(given_on),
        purposes: Set(purposes),
        evidence: Set(input.evidence),
        recorded_by: Set(actor.user_id.clone()),
        recorded_at: Set(now()),
        withdrawn_on: Set(None),
        withdrawal_reason: Set(None),
        withdrawn_by: Set(None),
        withdrawn_at: Set(None),
    }
    .insert(&*tx)
    .await?;
    for partner in partner_ids {
        consent_partner::ActiveModel { consent_id: Set(consent_id.clone()), organisation_id: Set(partner) }
            .insert(&*tx)
            .await?;
    }
    tx.record("consent.record", Some(&input.child_id), &["consents"]);
    tx.commit().await?;
    Ok(created)
}

#[derive(Debug, Clone, Validate)]
pub struct Withdrawal {
    #[validate(custom(function = "crate::domain::validate::id"))]
    pub consent_id: String,
    #[validate(custom(function = "crate::domain::validate::past_date"))]
    pub withdrawn_on: String,
    #[validate(custom(function = "crate::domain::validate::short_text"))]
    pub reason: String,
}

/// Withdraws a consent. The record stays, stamped with the withdrawal; a consent already
/// withdrawn is a `CONFLICT`.
pub async fn withdraw_consent(db: &DatabaseConnection, actor: &Actor, mut input: Withdrawal) -> Result<consent::Model> {
    input.reason = validate::tidy(&input.reason);
    input.validate()?;
    let withdrawn_on = validate::past_date_in("withdrawnOn", &input.withdrawn_on)?;
    // A consent of a child outside the caller's scope answers exactly as a missing one.
    let mut tx = Audited::begin(db, actor).await?;
    let found = consent::Entity::find_by_id(input.consent_id.clone())
        .filter(consent::Column::ChildId.in_subquery(access::record_child_ids(actor)))
        .one(&*tx)
        .await?
        .ok_or(Error::NotFound("consent"))?;
    access::require(actor, Right::Write)?;
    if found.withdrawn_at.is_some() {
        return Err(Error::conflict("this consent has already been withdrawn"));
    }
    if withdrawn_on < found.given_on {
        return Err(Error::invalid("withdrawnOn", "must not be before the consent was given"));
    }
    let child_id = found.child_id.clone();
    let mut active: consent::ActiveModel = found.into();
    active.withdrawn_on = Set(Some(withdrawn_on));
    active.withdrawal_reason = Set(Some(input.reason));
    active.withdrawn_by = Set(Some(actor.user_id.clone()));
    active.withdrawn_at = Set(Some(now()));
    let updated = active.update(&*tx).await?;
    tx.record("consent.withdraw", Some(&child_id), &["consents"]);
    tx.commit().await?;
    Ok(updated)
}

/// Consents of many children, newest first (for the per-request loader).
pub async fn consents_of<R: Reader>(conn: &R, actor: &Actor, child_ids: &[String]) -> Result<Vec<consent::Model>> {
    Ok(consent::Entity::find()
        .filter(consent::Column::ChildId.is_in(child_ids.to_vec()))
        .filter(consent::Column::ChildId.in_subquery(access::record_child_ids(actor)))
        .order_by_desc(consent::Column::Id)
        .read(conn)
        .await?)
}

/// The partner organisations each of many consents covers.
pub async fn partners_of<R: Reader>(conn: &R, consent_ids: &[String]) -> Result<Vec<consent_partner::Model>> {
    Ok(consent_partner::Entity::find()
        .filter(consent_partner::Column::ConsentId.is_in(consent_ids.to_vec()))
        .read(conn)
        .await?)
}

/// Agreements to take part of many children, newest first.
pub async fn participation_of<R: Reader>(
    conn: &R,
    actor: &Actor,
    child_ids: &[String],
) -> Result<Vec<participation::Model>> {
    Ok(participation::Entity::find()
        .filter(participation::Column::ChildId.is_in(child_ids.to_vec()))
        .filter(participation::Column::ChildId.in_subquery(access::record_child_ids(actor)))
        .order_by_desc(participation::Column::Id)
        .read(conn)
        .await?)
}

/// Lawful bases of many children, newest first.
pub async fn lawful_bases_of<R: Reader>(
    conn: &R,
    actor: &Actor,
    child_ids: &[String],
) -> Result<Vec<lawful_basis::Model>> {
    Ok(lawful_basis::Entity::find()
        .filter(lawful_basis::Column::ChildId.is_in(child_ids.to_vec()))
        .filter(lawful_basis::Column::ChildId.in_subquery(access::record_child_ids(actor)))
        .order_by_desc(lawful_basis::Column::Id)
        .read(conn)
        .await?)
}
