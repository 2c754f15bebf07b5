//! Programmes: what a partner offers — outcome domains served, ages, where and when,
//! places — named after the Open Referral UK service fields where the standard has them
//! (see [`crate::domain::directory`]). Partner leads manage their own; anyone signed in
//! browses the active ones. Programmes are not personal data; changes are still audited.

use crate::access;
use crate::audit::{Audited, now};
use crate::auth::Actor;
use crate::domain::{
    AttendingType, OrganisationKind, OutcomeDomain, Page, PageRequest, ProgrammeStatus, ReferralStatus, join_list,
};
use crate::error::{Error, Result};
use crate::store::bundle::{Read, Reader};
use crate::store::db::Hold;
use crate::store::{programme, referral};
use sea_orm::Condition;
use sea_orm::sea_query::{Expr, ExprTrait, Func, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set,
};
use std::collections::HashMap;
use validator::Validate;

/// A new programme, or every field of a programme being changed.
#[derive(Debug, Clone, Validate)]
pub struct ProgrammeFields {
    #[validate(custom(function = "crate::domain::validate::title"))]
    pub name: String,
    #[validate(custom(function = "crate::domain::validate::narrative"))]
    pub description: String,
    /// Checked by hand: at least one.
    pub domains: Vec<OutcomeDomain>,
    #[validate(range(min = 0, max = 25, message = "must be an age from 0 to 25"))]
    pub minimum_age: i32,
    #[validate(range(min = 0, max = 25, message = "must be an age from 0 to 25"))]
    pub maximum_age: i32,
    pub attending_type: AttendingType,
    #[validate(custom(function = "crate::domain::validate::title"))]
    pub location_name: Option<String>,
    #[validate(custom(function = "crate::domain::validate::postcode"))]
    pub postcode: Option<String>,
    #[validate(custom(function = "crate::domain::validate::short_text"))]
    pub schedule: String,
    #[validate(range(min = 1, max = 10000, message = "must be a number of places from 1 to 10000"))]
    pub capacity: i32,
    /// When it started (or starts) running, `YYYY-MM-DD`, if known: no session of it may
    /// be dated before.
    pub starts_on: Option<String>,
}

impl ProgrammeFields {
    fn check(&mut self) -> Result<()> {
        use crate::domain::validate::tidy;
        self.name = tidy(&self.name);
        self.description = tidy(&self.description);
        self.schedule = tidy(&self.schedule);
        self.location_name = crate::domain::validate::blank_to_none(self.location_name.take());
        self.postcode = self.postcode.take().map(|s| s.trim().to_uppercase()).filter(|s| !s.is_empty());
        self.validate()?;
        if self.domains.is_empty() {
            return Err(Error::invalid("domains", "must name at least one outcome domain"));
        }
        if self.minimum_age > self.maximum_age {
            return Err(Error::invalid("maximumAge", "must not be below minimumAge"));
        }
        if self.attending_type != AttendingType::Online && self.location_name.is_none() {
            return Err(Error::invalid("locationName", "is required for a programme attended in person"));
        }
        self.starts_on = crate::domain::validate::blank_to_none(self.starts_on.take());
        if let Some(on) = &self.starts_on {
            crate::domain::validate::period_date(on).map_err(|m| Error::invalid("startsOn", m))?;
        }
        Ok(())
    }

    /// The start date, once [`check`](Self::check)ed.
    fn start(&self) -> Option<chrono::NaiveDate> {
        self.starts_on.as_deref().and_then(crate::domain::validate::parse_date)
    }

    fn apply(&self, active: &mut programme::ActiveModel) {
        active.name = Set(self.name.clone());
        active.description = Set(self.description.clone());
        active.domains = Set(join_list(&self.domains, OutcomeDomain::as_str));
        active.minimum_age = Set(self.minimum_age as i16);
        active.maximum_age = Set(self.maximum_age as i16);
        active.attending_type = Set(self.attending_type.as_str().to_owned());
        active.location_name = Set(self.location_name.clone());
        active.postcode = Set(self.postcode.clone());
        active.schedule = Set(self.schedule.clone());
        active.capacity = Set(self.capacity);
        active.starts_on = Set(self.start());
        active.updated_at = Set(now());
    }
}

/// Adds a programme to a partner organisation (by default the caller's own).
pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    organisation_id: Option<String>,
    mut fields: ProgrammeFields,
) -> Result<programme::Model> {
    let organisation_id = organisation_id.map(|s| s.trim().to_owned()).unwrap_or_else(|| actor.organisation_id.clone());
    access::may_manage_programmes(actor, &organisation_id)?;
    fields.check()?;
    match crate::domain::accounts::organisation(db, &organisation_id).await {
        Ok(o) if o.kind == OrganisationKind::Partner.as_str() => {}
        Ok(_) | Err(Error::NotFound(_)) => {
            return Err(Error::invalid("organisationId", "must be the id of a partner organisation"));
        }
        Err(e) => return Err(e),
    }
    let mut tx = Audited::begin(db, actor).await?;
    let at = now();
    let mut active = programme::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        organisation_id: Set(organisation_id),
        status: Set(ProgrammeStatus::Active.as_str().to_owned()),
        created_at: Set(at),
        ..Default::default()
    };
    fields.apply(&mut active);
    let created = active.insert(&*tx).await?;
    tx.record("programme.create", None, &["programme"]);
    tx.commit().await?;
    Ok(created)
}

/// Replaces a programme's details, and optionally pauses or reopens it. Lowering the
/// capacity below the places already taken is a `CONFLICT`.
pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    programme_id: &str,
    mut fields: ProgrammeFields,
    status: Option<ProgrammeStatus>,
) -> Result<programme::Model> {
    let found = find(db, programme_id).await?;
    access::may_manage_programmes(actor, &found.organisation_id)?;
    fields.check()?;
    let mut tx = Audited::begin(db, actor).await?;
    // Held to the end (as `ensure_open` holds it), so no referral takes a place meanwhile.
    let found = programme::Entity::find_by_id(found.id).held().one(&*tx).await?.ok_or(Error::NotFound("programme"))?;
    let taken = places_taken_in(&*tx, &found.id).await?;
    if i64::from(fields.capacity) < taken {
        return Err(Error::conflict(format!(
            "{taken} places are taken: capacity cannot go below that (complete or withdraw referrals first)"
        )));
    }
    let mut active: programme::ActiveModel = found.into();
    fields.apply(&mut active);
    if let Some(s) = status {
        active.status = Set(s.as_str().to_owned());
    }
    let updated = active.update(&*tx).await?;
    tx.record("programme.update", None, &["programme"]);
    tx.commit().await?;
    Ok(updated)
}

/// A programme by id (programmes are not personal: anyone signed in may read one).
pub async fn find<C: ConnectionTrait>(conn: &C, programme_id: &str) -> Result<programme::Model> {
    if uuid::Uuid::parse_str(programme_id).is_err() {
        return Err(Error::NotFound("programme"));
    }
    programme::Entity::find_by_id(programme_id.to_owned()).one(conn).await?.ok_or(Error::NotFound("programme"))
}

/// The programme an input names (`programmeId`): `INVALID_INPUT` when there is none.
pub async fn find_named<C: ConnectionTrait>(conn: &C, programme_id: &str) -> Result<programme::Model> {
    find(conn, programme_id).await.map_err(|e| match e {
        Error::NotFound(_) => Error::invalid("programmeId", "must be the id of a programme"),
        e => e,
    })
}

/// Programmes by id (for the per-request loader). Not personal data: no scope.
pub async fn by_ids<R: Reader>(conn: &R, _actor: &Actor, ids: &[String]) -> Result<Vec<programme::Model>> {
    Ok(programme::Entity::find().filter(programme::Column::Id.is_in(ids.to_vec())).read(conn).await?)
}

/// Narrows the programme directory.
#[derive(Debug, Clone, Default)]
pub struct ProgrammeFilter {
    pub domain: Option<OutcomeDomain>,
    /// Programmes whose age range includes this age.
    pub age: Option<i32>,
    pub partner_id: Option<String>,
    /// Only programmes with a place free.
    pub has_capacity: Option<bool>,
    /// Defaults to active programmes only.
    pub status: Option<ProgrammeStatus>,
}

/// Programmes that are full: places taken (accepted or active referrals) ≥ capacity.
fn full_programmes() -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column((referral::Entity, referral::Column::ProgrammeId))
        .from(referral::Entity)
        .inner_join(
            programme::Entity,
            Expr::col((programme::Entity, programme::Column::Id))
                .equals((referral::Entity, referral::Column::ProgrammeId)),
        )
        .and_where(
            Expr::col((referral::Entity, referral::Column::Status))
                .is_in(ReferralStatus::spellings(ReferralStatus::PLACED)),
        )
        .group_by_col((referral::Entity, referral::Column::ProgrammeId))
        .group_by_col((programme::Entity, programme::Column::Capacity))
        .and_having(
            Expr::expr(Func::count(Expr::col((referral::Entity, referral::Column::Id))))
                .gte(Expr::col((programme::Entity, programme::Column::Capacity))),
        )
        .to_owned()
}

/// The programme directory, a page at a time.
pub async fn list(
    db: &DatabaseConnection,
    filter: ProgrammeFilter,
    page: PageRequest,
) -> Result<Page<programme::Model>> {
    let status = filter.status.unwrap_or(ProgrammeStatus::Active);
    let mut query = programme::Entity::find().filter(programme::Column::Status.eq(status.as_str()));
    if let Some(d) = filter.domain {
        // Domains are stored as a comma-separated list of codes: match one whole code.
        let code = d.as_str();
        query = query.filter(
            Condition::any()
                .add(programme::Column::Domains.eq(code))
                .add(programme::Column::Domains.like(format!("{code},%")))
                .add(programme::Column::Domains.like(format!("%,{code}")))
                .add(programme::Column::Domains.like(format!("%,{code},%"))),
        );
    }
    if let Some(age) = filter.age {
        if !(0..=25).contains(&age) {
            return Err(Error::invalid("filter.age", "must be an age from 0 to 25"));
        }
        query = query.filter(programme::Column::MinimumAge.lte(age)).filter(programme::Column::MaximumAge.gte(age));
    }
    if let Some(partner) = filter.partner_id {
        query = query.filter(programme::Column::OrganisationId.eq(partner));
    }
    match filter.has_capacity {
        Some(true) => query = query.filter(programme::Column::Id.not_in_subquery(full_programmes())),
        Some(false) => query = query.filter(programme::Column::Id.in_subquery(full_programmes())),
        None => {}
    }
    crate::domain::keyset_page(db, query, programme::Column::Id, page).await
}

/// Places taken (accepted or active referrals) in each of many programmes, counted in SQL.
pub async fn places_taken<R: Reader>(conn: &R, programme_ids: &[String]) -> Result<HashMap<String, i64>> {
    /// One programme's places taken.
    #[derive(sea_orm::FromQueryResult, serde::Deserialize)]
    struct Taken {
        programme_id: String,
        taken: i64,
    }
    let rows: Vec<Taken> = referral::Entity::find()
        .select_only()
        .column(referral::Column::ProgrammeId)
        .column_as(referral::Column::Id.count(), "taken")
        .filter(referral::Column::ProgrammeId.is_in(programme_ids.to_vec()))
        .filter(referral::Column::Status.is_in(ReferralStatus::spellings(ReferralStatus::PLACED)))
        .group_by(referral::Column::ProgrammeId)
        .read_as(conn)
        .await?;
    Ok(rows.into_iter().map(|t| (t.programme_id, t.taken)).collect())
}

/// Places taken in one programme.
async fn places_taken_in<C: ConnectionTrait>(conn: &C, programme_id: &str) -> Result<i64> {
    let id = programme_id.to_owned();
    Ok(places_taken(conn, std::slice::from_ref(&id)).await?.get(&id).copied().unwrap_or(0))
}

/// Refuses with `CONFLICT` when the programme cannot take another child: paused, or every
/// place taken. The programme is held (its row locked on PostgreSQL) to the end of the
/// transaction, so two referrals never take its last place at once.
pub async fn ensure_open<C: ConnectionTrait>(conn: &C, programme: &programme::Model) -> Result<()> {
    let programme = &programme::Entity::find_by_id(programme.id.clone())
        .held()
        .one(conn)
        .await?
        .ok_or(Error::NotFound("programme"))?;
    if programme.status != ProgrammeStatus::Active.as_str() {
        return Err(Error::conflict(format!("the programme \"{}\" is paused and takes no referrals", programme.name)));
    }
    let taken = places_taken_in(conn, &programme.id).await?;
    if taken >= i64::from(programme.capacity) {
        return Err(Error::conflict(format!(
            "the programme \"{}\" is full ({taken} of {} places taken)",
            programme.name, programme.capacity
        )));
    }
    Ok(())
}
