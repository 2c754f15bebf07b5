//! Organisations and accounts: run by the backbone team (and the system, for seeds).

use crate::audit::{Audited, now};
use crate::auth::{self, Actor};
use crate::domain::{OrganisationKind, Role};
use crate::error::{Error, Result};
use crate::store::bundle::{Read, Reader};
use crate::store::{membership, organisation, user};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use validator::Validate;

fn require_backbone_admin(actor: &Actor) -> Result<()> {
    crate::access::require_backbone_admin(actor, "manage organisations and accounts")
}

#[derive(Debug, Clone, Validate)]
pub struct NewOrganisation {
    #[validate(custom(function = "crate::domain::validate::short_text"))]
    pub name: String,
    pub kind: OrganisationKind,
}

/// Adds an organisation to the partnership.
pub async fn create_organisation(
    db: &DatabaseConnection,
    actor: &Actor,
    mut input: NewOrganisation,
) -> Result<organisation::Model> {
    require_backbone_admin(actor)?;
    input.name = crate::domain::validate::tidy(&input.name);
    input.validate()?;
    let mut tx = Audited::begin(db, actor).await?;
    let org = organisation::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        name: Set(input.name),
        kind: Set(input.kind.as_str().to_owned()),
        created_at: Set(now()),
    }
    .insert(&*tx)
    .await
    .map_err(|e| Error::from_db(e, Some(("name", "an organisation with this name already exists"))))?;
    tx.record("organisation.create", None, &["name", "kind"]);
    tx.commit().await?;
    Ok(org)
}

#[derive(Debug, Clone, Validate)]
pub struct NewAccount {
    #[validate(email(message = "must be an email address"))]
    pub email: String,
    #[validate(custom(function = "crate::domain::validate::name"))]
    pub display_name: String,
    #[validate(length(min = 12, max = 200, message = "must be 12 to 200 characters"))]
    pub password: String,
    pub organisation_id: String,
    pub role: Role,
    pub designated_safeguarding_lead: bool,
    /// A demo account (can log in only in demo mode, on loopback).
    pub is_demo: bool,
}

/// Creates an account with its membership of one organisation.
pub async fn create_account(db: &DatabaseConnection, actor: &Actor, mut input: NewAccount) -> Result<user::Model> {
    require_backbone_admin(actor)?;
    input.display_name = crate::domain::validate::tidy(&input.display_name);
    // Demo accounts use the short password "demo"; every other account a real one.
    if !input.is_demo {
        input.validate()?;
    }
    if input.role == Role::System {
        return Err(Error::invalid("role", "the system role cannot be given to an account"));
    }
    let org = organisation::Entity::find_by_id(input.organisation_id.clone())
        .one(db)
        .await?
        .ok_or_else(|| Error::invalid("organisationId", "no organisation has this id"))?;
    if OrganisationKind::from_stored(&org.kind)? != input.role.organisation_kind() {
        return Err(Error::invalid(
            "role",
            format!(
                "a {} must belong to a {} organisation",
                input.role.as_str().replace('_', " "),
                input.role.organisation_kind()
            ),
        ));
    }
    let password_hash = auth::hash_password(input.password.clone()).await?;
    let mut tx = Audited::begin(db, actor).await?;
    let id = uuid::Uuid::now_v7().to_string();
    let created = user::ActiveModel {
        id: Set(id.clone()),
        email: Set(input.email.trim().to_lowercase()),
        display_name: Set(input.display_name.clone()),
        password_hash: Set(password_hash),
        is_demo: Set(input.is_demo),
        disabled: Set(false),
        created_at: Set(now()),
    }
    .insert(&*tx)
    .await
    .map_err(|e| Error::from_db(e, Some(("email", "an account with this email already exists"))))?;
    membership::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        user_id: Set(id),
        organisation_id: Set(org.id),
        role: Set(input.role.as_str().to_owned()),
        designated_safeguarding_lead: Set(input.designated_safeguarding_lead),
        created_at: Set(now()),
    }
    .insert(&*tx)
    .await?;
    tx.record("account.create", None, &["email", "displayName", "organisation", "role"]);
    tx.commit().await?;
    Ok(created)
}

/// The caller's own account and organisation.
pub async fn me(db: &DatabaseConnection, actor: &Actor) -> Result<(user::Model, organisation::Model)> {
    let u = user::Entity::find_by_id(actor.user_id.clone()).one(db).await?.ok_or(Error::NotFound("user"))?;
    let o = organisation(db, &actor.organisation_id).await?;
    Ok((u, o))
}

/// An organisation by id. Organisations are not personal data: anyone signed in may see
/// their names and kinds.
pub async fn organisation<C: ConnectionTrait>(db: &C, id: &str) -> Result<organisation::Model> {
    organisation::Entity::find_by_id(id.to_owned()).one(db).await?.ok_or(Error::NotFound("organisation"))
}

/// The id of the organisation with this id or, failing that, this exact name (for the
/// command line, where people type names).
pub async fn organisation_id_by_id_or_name<C: ConnectionTrait>(db: &C, id_or_name: &str) -> Result<Option<String>> {
    let found = organisation::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(organisation::Column::Id.eq(id_or_name.to_owned()))
                .add(organisation::Column::Name.eq(id_or_name.to_owned())),
        )
        .one(db)
        .await?;
    Ok(found.map(|o| o.id))
}

/// Organisations by id (for the per-request loader). Not personal data: no scope.
pub async fn organisations_by_ids<R: Reader>(
    db: &R,
    _actor: &Actor,
    ids: &[String],
) -> Result<Vec<organisation::Model>> {
    Ok(organisation::Entity::find().filter(organisation::Column::Id.is_in(ids.to_vec())).read(db).await?)
}

/// The membership of a user, if any.
pub async fn membership_of<C: ConnectionTrait>(db: &C, user_id: &str) -> Result<Option<membership::Model>> {
    Ok(membership::Entity::find().filter(membership::Column::UserId.eq(user_id.to_owned())).one(db).await?)
}

/// Organisations, optionally of one kind, a page at a time.
pub async fn organisations(
    db: &DatabaseConnection,
    kind: Option<OrganisationKind>,
    page: crate::domain::PageRequest,
) -> Result<crate::domain::Page<organisation::Model>> {
    let mut query = organisation::Entity::find();
    if let Some(kind) = kind {
        query = query.filter(organisation::Column::Kind.eq(kind.as_str()));
    }
    crate::domain::keyset_page(db, query, organisation::Column::Id, page).await
}

/// Marks (or unmarks) an anchor's member as a designated safeguarding lead: they then read
/// the safeguarding concerns about that anchor's children. Backbone admins only. Takes
/// effect on the member's next request.
pub async fn set_designated_safeguarding_lead(
    db: &DatabaseConnection,
    actor: &Actor,
    user_id: &str,
    designated: bool,
) -> Result<(user::Model, membership::Model)> {
    require_backbone_admin(actor)?;
    let member = membership_of(db, user_id).await?.ok_or_else(|| Error::invalid("userId", "no account has this id"))?;
    let org = organisation(db, &member.organisation_id).await?;
    if designated && org.kind != OrganisationKind::Anchor.as_str() {
        return Err(Error::invalid("userId", "designated safeguarding leads are staff of an anchor"));
    }
    let mut tx = Audited::begin(db, actor).await?;
    let mut active: membership::ActiveModel = member.into();
    active.designated_safeguarding_lead = Set(designated);
    let updated = active.update(&*tx).await?;
    let account = user::Entity::find_by_id(updated.user_id.clone()).one(&*tx).await?.ok_or(Error::NotFound("user"))?;
    tx.record("account.designated_safeguarding_lead", None, &["designatedSafeguardingLead"]);
    tx.commit().await?;
    Ok((account, updated))
}
