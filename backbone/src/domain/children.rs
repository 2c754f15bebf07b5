//! Children: identification, reading (always through `access`, always audited), lists,
//! caseloads, and the adults around each child.

use crate::access::{self, Right};
use crate::audit::{Audited, now};
use crate::auth::Actor;
use crate::domain::enrolment;
use crate::domain::{EnrolmentStatus, Involvement, OrganisationKind, Page, PageRequest, RelationshipKind};
use crate::error::{Error, Result};
use crate::store::bundle::{Read, Reader};
use crate::store::db::Hold;
use crate::store::{child, child_name_word, enrolment as enrolment_store, enrolment_transition, relationship, user};
use backbone_migration::names;
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
};
use validator::Validate;

#[derive(Debug, Clone, Validate)]
pub struct NewChild {
    #[validate(custom(function = "crate::domain::validate::name"))]
    pub first_name: String,
    #[validate(custom(function = "crate::domain::validate::name"))]
    pub last_name: String,
    #[validate(custom(function = "crate::domain::validate::date_of_birth"))]
    pub date_of_birth: String,
    /// The anchor; defaults to the caller's own anchor.
    #[validate(custom(function = "crate::domain::validate::id"))]
    pub anchor_id: Option<String>,
    #[validate(range(min = -1, max = 13, message = "must be a school year from -1 (nursery) and 0 (reception) to 13"))]
    pub year_group: i32,
    #[validate(custom(function = "crate::domain::validate::upn"))]
    pub upn: Option<String>,
    #[validate(custom(function = "crate::domain::validate::phone"))]
    pub contact_phone: Option<String>,
    #[validate(email(message = "must be an email address"))]
    pub contact_email: Option<String>,
    #[validate(custom(function = "crate::domain::validate::postcode"))]
    pub postcode: Option<String>,
    pub free_school_meals: bool,
    pub send: bool,
    pub eal: bool,
    pub looked_after: bool,
    #[validate(custom(function = "crate::domain::validate::notes"))]
    pub note: Option<String>,
    /// The day the child was identified (`YYYY-MM-DD`); today when not given.
    pub on: Option<String>,
    /// The caller has checked that a child already recorded at the anchor with the same
    /// name and date of birth is another child: the new one is identified all the same,
    /// and the audit says so.
    pub confirm_not_duplicate: bool,
}

/// Records a child identified by an anchor, with their enrolment at `identified` (as
/// happened on `input.on`, today by default; not before the child was born). A link
/// worker who identifies a child takes them onto their caseload.
pub async fn identify(db: &DatabaseConnection, actor: &Actor, input: NewChild) -> Result<child::Model> {
    let checked = check_new_child(db, actor, input).await?;
    let mut tx = Audited::begin(db, actor).await?;
    let created = insert_identified(&mut tx, actor, checked).await?;
    tx.commit().await?;
    Ok(created)
}

impl NewChild {
    /// Text as the service keeps it: trimmed, normalised, blank optional details not given.
    pub fn tidy(&mut self) {
        use crate::domain::validate::{blank_to_none, tidy};
        self.first_name = tidy(&self.first_name);
        self.last_name = tidy(&self.last_name);
        self.upn = blank_to_none(self.upn.take());
        self.contact_phone = blank_to_none(self.contact_phone.take());
        self.contact_email = blank_to_none(self.contact_email.take());
        self.postcode = blank_to_none(self.postcode.take());
    }

    /// The date of birth, checked against the year group as of today (after `validate`).
    pub fn check_age(&self) -> Result<chrono::NaiveDate> {
        use crate::domain::validate;
        let date_of_birth = validate::date(&self.date_of_birth).map_err(|m| Error::invalid("dateOfBirth", m))?;
        let rules = validate::rules();
        validate::fits_year_group(date_of_birth, self.year_group, validate::today(), rules.year_group_tolerance)
            .map_err(|m| Error::invalid("dateOfBirth", m))?;
        Ok(date_of_birth)
    }
}

/// A new child's details, validated, with the anchor checked and the actor allowed to
/// identify children there.
pub struct CheckedChild {
    input: NewChild,
    anchor_id: String,
    date_of_birth: chrono::NaiveDate,
    identified_on: chrono::NaiveDate,
}

/// Validates a new child's details and checks the actor may identify children at their
/// anchor; nothing is written.
pub async fn check_new_child(db: &DatabaseConnection, actor: &Actor, mut input: NewChild) -> Result<CheckedChild> {
    input.tidy();
    access::require(actor, Right::Write)?;
    input.validate()?;
    let date_of_birth = input.check_age()?;
    let identified_on = crate::domain::validate::step_date("on", input.on.as_deref())?;
    crate::domain::validate::not_before_birth("on", identified_on, date_of_birth)?;
    let anchor_id = match (&input.anchor_id, actor.organisation_kind) {
        (Some(id), _) => id.trim().to_owned(),
        (None, OrganisationKind::Anchor) => actor.organisation_id.clone(),
        (None, _) => return Err(Error::invalid("anchorId", "is required: name the child's anchor")),
    };
    ensure_anchor(db, &anchor_id).await?;
    access::may_identify_at(actor, &anchor_id)?;
    Ok(CheckedChild { input, anchor_id, date_of_birth, identified_on })
}

/// Refuses (`INVALID_INPUT` on `anchorId`) unless `anchor_id` is an anchor organisation.
pub(crate) async fn ensure_anchor<C: ConnectionTrait>(conn: &C, anchor_id: &str) -> Result<()> {
    match crate::domain::accounts::organisation(conn, anchor_id).await {
        Ok(o) if o.kind == OrganisationKind::Anchor.as_str() => Ok(()),
        Ok(_) | Err(Error::NotFound(_)) => Err(Error::invalid("anchorId", "must be the id of an anchor organisation")),
        Err(e) => Err(e),
    }
}

/// Writes a checked new child with their enrolment at `identified`, inside `tx`.
pub async fn insert_identified(tx: &mut Audited, actor: &Actor, checked: CheckedChild) -> Result<child::Model> {
    let CheckedChild { input, anchor_id, date_of_birth, identified_on } = checked;
    let name_key = names::key(&input.first_name, &input.last_name);
    let upn = input.upn.as_ref().map(|u| u.to_uppercase());
    let same =
        Same { anchor_id: &anchor_id, name_key: &name_key, date_of_birth, upn: upn.as_deref(), other_than: None };
    let confirmed_against = refuse_duplicate(tx, actor, same, input.confirm_not_duplicate).await?;
    let at = now();
    let child_id = uuid::Uuid::now_v7().to_string();
    let created = child::ActiveModel {
        id: Set(child_id.clone()),
        first_name: Set(input.first_name),
        last_name: Set(input.last_name),
        name_key: Set(name_key),
        date_of_birth: Set(date_of_birth),
        anchor_id: Set(anchor_id),
        year_group: Set(input.year_group as i16),
        upn: Set(upn),
        contact_phone: Set(input.contact_phone),
        contact_email: Set(input.contact_email.map(|e| e.to_lowercase())),
        postcode: Set(input.postcode.map(|p| p.to_uppercase())),
        free_school_meals: Set(input.free_school_meals),
        send: Set(input.send),
        eal: Set(input.eal),
        looked_after: Set(input.looked_after),
        created_at: Set(at),
        updated_at: Set(at),
        erased_at: Set(None),
        erasure_reason: Set(None),
    }
    .insert(&**tx)
    .await
    .map_err(|e| Error::from_db(e, Some(("upn", "a child with this UPN is already recorded in the zone"))))?;
    write_name_words(&**tx, &child_id, &created.first_name, &created.last_name, false).await?;
    let enrolment_id = uuid::Uuid::now_v7().to_string();
    enrolment_store::ActiveModel {
        id: Set(enrolment_id.clone()),
        child_id: Set(child_id.clone()),
        status: Set(EnrolmentStatus::Identified.as_str().to_owned()),
        exit_reason: Set(None),
        cohort: Set(None),
        link_worker_id: Set(enrolment::default_link_worker(actor)),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(&**tx)
    .await?;
    enrolment_transition::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        enrolment_id: Set(enrolment_id),
        from_status: Set(None),
        to_status: Set(EnrolmentStatus::Identified.as_str().to_owned()),
        actor_user_id: Set(Some(actor.user_id.clone())),
        at: Set(at),
        effective_on: Set(identified_on),
        note: Set(crate::domain::validate::blank_to_none(input.note)),
    }
    .insert(&**tx)
    .await?;
    tx.record(
        "child.identify",
        Some(&child_id),
        &["firstName", "lastName", "dateOfBirth", "anchor", "yearGroup", "upn", "contact", "characteristics"],
    );
    record_not_duplicate(tx, &child_id, confirmed_against);
    Ok(created)
}

/// Audits a user's decision that `child_id` is not the child `existing` it matched, on
/// both children, so either's history shows it.
pub(crate) fn record_not_duplicate(tx: &mut Audited, child_id: &str, existing: Option<String>) {
    if let Some(existing) = existing {
        tx.record("child.confirm_not_duplicate", Some(child_id), &["confirmNotDuplicate"]);
        tx.record("child.confirm_not_duplicate", Some(&existing), &["confirmNotDuplicate"]);
    }
}

/// What makes a child the same as one already recorded: the same folded name and date of
/// birth at the same anchor, or the same UPN anywhere in the zone.
#[derive(Clone, Copy)]
pub(crate) struct Same<'a> {
    pub anchor_id: &'a str,
    pub name_key: &'a str,
    pub date_of_birth: chrono::NaiveDate,
    pub upn: Option<&'a str>,
    /// The child being corrected, who is not their own duplicate.
    pub other_than: Option<&'a str>,
}

/// Refuses (`CONFLICT`) a child who may already be recorded, naming the existing child
/// only when the caller may see them. A name and date of birth match may be overridden
/// (`confirmed`): the existing child's id is answered, for the audit. A UPN identifies one
/// pupil, so its match is never overridden.
pub(crate) async fn refuse_duplicate(
    tx: &Audited,
    actor: &Actor,
    same: Same<'_>,
    confirmed: bool,
) -> Result<Option<String>> {
    // The anchor is held (its row locked on PostgreSQL) to the end of the transaction, so
    // the same child identified twice at the same moment is still found the second time.
    crate::store::organisation::Entity::find_by_id(same.anchor_id.to_owned()).held().one(&**tx).await?;
    let mut matches = sea_orm::Condition::all()
        .add(child::Column::AnchorId.eq(same.anchor_id))
        .add(child::Column::NameKey.eq(same.name_key))
        .add(child::Column::DateOfBirth.eq(same.date_of_birth));
    if let Some(upn) = same.upn {
        matches = sea_orm::Condition::any().add(matches).add(child::Column::Upn.eq(upn));
    }
    if let Some(itself) = same.other_than {
        matches = sea_orm::Condition::all().add(matches).add(child::Column::Id.ne(itself));
    }
    let found = child::Entity::find().filter(matches).order_by_asc(child::Column::Id).all(&**tx).await?;
    let by_upn = found.iter().find(|c| same.upn.is_some() && c.upn.as_deref() == same.upn);
    let Some(existing) = by_upn.or(found.first()) else { return Ok(None) };
    if by_upn.is_none() && confirmed {
        return Ok(Some(existing.id.clone()));
    }
    let visible = access::read_child(&**tx, actor, &existing.id).await.is_ok();
    let message = match (by_upn.is_some(), visible) {
        (true, true) => format!(
            "a child with this UPN is already recorded: {} {} (existingChildId); open their record instead",
            existing.first_name, existing.last_name
        ),
        (true, false) => "a child with this UPN is already recorded in the zone: ask the anchor's lead".to_owned(),
        (false, true) => format!(
            "{} {}, born {}, is already recorded at this anchor (existingChildId): open their record, or, if this \
             is another child, send it again with confirmNotDuplicate",
            existing.first_name,
            existing.last_name,
            existing.date_of_birth.format("%-d %B %Y")
        ),
        (false, false) => "a child with this name and date of birth is already recorded at this anchor: ask the \
                           anchor's lead to check, or, if this is another child, send it again with \
                           confirmNotDuplicate"
            .to_owned(),
    };
    Err(Error::Duplicate { message, existing_child_id: visible.then(|| existing.id.clone()) })
}

/// Writes the folded words of a child's names (for [`list`]'s name search), first removing
/// the words written before when `replace`.
pub(crate) async fn write_name_words<C: ConnectionTrait>(
    conn: &C,
    child_id: &str,
    first_name: &str,
    last_name: &str,
    replace: bool,
) -> Result<()> {
    if replace {
        child_name_word::Entity::delete_many().filter(child_name_word::Column::ChildId.eq(child_id)).exec(conn).await?;
    }
    let rows: Vec<child_name_word::ActiveModel> = [("first", first_name), ("last", last_name)]
        .into_iter()
        .flat_map(|(part, name)| {
            names::words(name).into_iter().map(move |word| child_name_word::ActiveModel {
                child_id: Set(child_id.to_owned()),
                part: Set(part.to_owned()),
                word: Set(word),
            })
        })
        .collect();
    if !rows.is_empty() {
        child_name_word::Entity::insert_many(rows).exec(conn).await?;
    }
    Ok(())
}

/// Reads one child in the caller's scope (`NOT_FOUND` otherwise). The read is audited
/// where the answer is built: the GraphQL `Child` is made only by `Child::new`, which
/// notes it in the request's read log (`graphql::read_audit`), written before the
/// response leaves.
pub async fn get(db: &DatabaseConnection, actor: &Actor, child_id: &str) -> Result<child::Model> {
    if uuid::Uuid::parse_str(child_id).is_err() {
        return Err(Error::NotFound("child"));
    }
    access::read_child(db, actor, child_id).await
}

/// Narrows a list of children.
#[derive(Debug, Clone, Default)]
pub struct ChildFilter {
    pub status: Option<EnrolmentStatus>,
    pub anchor_id: Option<String>,
    pub year_group: Option<i32>,
    pub link_worker_id: Option<String>,
    /// Words each of which must begin a word of the child's first or last name (of the
    /// first name only for those who see no more), ignoring case, accents and apostrophes.
    pub name: Option<String>,
}

/// The longest name search, in characters.
const MAX_NAME_SEARCH: usize = 100;

/// The condition of a name search: every folded word of `search` begins a folded word of
/// one of the name `parts` (`first`, `last`). Each word is a range of the words' index:
/// from the word itself up to (not including) the word with its last character's
/// successor.
fn name_matches(search: &str, parts: &[&str]) -> Result<sea_orm::Condition> {
    let refused = || Error::invalid("filter.name", format!("must be 1 to {MAX_NAME_SEARCH} characters of a name"));
    let search = crate::domain::validate::tidy(search);
    if search.chars().count() > MAX_NAME_SEARCH {
        return Err(refused());
    }
    let words = names::words(&search);
    if words.is_empty() {
        return Err(refused());
    }
    let mut all = sea_orm::Condition::all();
    for word in words {
        let mut sub = Query::select()
            .column(child_name_word::Column::ChildId)
            .from(child_name_word::Entity)
            .and_where(child_name_word::Column::Word.gte(word.as_str()))
            .and_where(child_name_word::Column::Part.is_in(parts.iter().copied()))
            .to_owned();
        if let Some(end) = successor(&word) {
            sub.and_where(child_name_word::Column::Word.lt(end));
        }
        all = all.add(child::Column::Id.in_subquery(sub));
    }
    Ok(all)
}

/// The first string after every string that starts with `prefix`, if there is one.
fn successor(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = (u32::from(last) + 1..=u32::from(char::MAX)).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// Lists the children in the caller's scope, a page at a time. Each child answered is
/// audited where the answer is built, as for [`get`].
pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    filter: ChildFilter,
    page: PageRequest,
) -> Result<Page<child::Model>> {
    if filter.status.is_some() || filter.link_worker_id.is_some() {
        access::may_filter_by_record(actor)?;
    }
    let mut query = child::Entity::find().filter(access::child_condition(actor));
    if let Some(name) = filter.name {
        let parts = access::name_search_parts(actor)?;
        query = query.filter(name_matches(&name, parts)?);
    }
    for (field, id) in [("filter.anchorId", &filter.anchor_id), ("filter.linkWorkerId", &filter.link_worker_id)] {
        if let Some(id) = id {
            crate::domain::validate::id(id).map_err(|_| Error::invalid(field, "must be an id returned by this API"))?;
        }
    }
    if let Some(anchor) = filter.anchor_id {
        query = query.filter(child::Column::AnchorId.eq(anchor));
    }
    if let Some(year) = filter.year_group {
        if !(-1..=13).contains(&year) {
            return Err(Error::invalid(
                "filter.yearGroup",
                "must be a school year from -1 (nursery) and 0 (reception) to 13",
            ));
        }
        query = query.filter(child::Column::YearGroup.eq(year));
    }
    if filter.status.is_some() || filter.link_worker_id.is_some() {
        let mut sub = Query::select().column(enrolment_store::Column::ChildId).from(enrolment_store::Entity).to_owned();
        if let Some(status) = filter.status {
            sub.and_where(enrolment_store::Column::Status.eq(status.as_str()));
        }
        if let Some(worker) = filter.link_worker_id {
            sub.and_where(enrolment_store::Column::LinkWorkerId.eq(worker));
        }
        query = query.filter(child::Column::Id.in_subquery(sub));
    }
    crate::domain::keyset_page(db, query, child::Column::Id, page).await
}

/// The filter selecting a link worker's caseload (by default the caller's), after checking
/// that the caller may see it. List it with [`list`].
pub async fn caseload_filter(
    db: &DatabaseConnection,
    actor: &Actor,
    link_worker_id: Option<String>,
) -> Result<ChildFilter> {
    let worker_id = link_worker_id.unwrap_or_else(|| actor.user_id.clone());
    if worker_id == actor.user_id {
        // A link worker's own caseload: who they are was resolved with the request.
        access::require_own_caseload(actor)?;
        return Ok(ChildFilter { link_worker_id: Some(worker_id), ..ChildFilter::default() });
    }
    let member = crate::domain::accounts::membership_of(db, &worker_id).await?;
    // Whether the id is a link worker at all is itself only for those who may see the
    // caseload: every other answer is the same refusal.
    match member.filter(|m| m.role == crate::domain::Role::LinkWorker.as_str()) {
        Some(m) => access::may_view_caseload(actor, &worker_id, &m.organisation_id)?,
        None => {
            return Err(access::may_view_caseload(actor, &worker_id, "")
                .err()
                .unwrap_or_else(|| Error::invalid("linkWorkerId", "must be the id of a link worker")));
        }
    }
    Ok(ChildFilter { link_worker_id: Some(worker_id), ..ChildFilter::default() })
}

#[derive(Debug, Clone, Validate)]
pub struct NewRelationship {
    #[validate(custom(function = "crate::domain::validate::id"))]
    pub child_id: String,
    pub kind: RelationshipKind,
    #[validate(custom(function = "crate::domain::validate::name"))]
    pub name: String,
    pub involvement: Involvement,
    pub parental_responsibility: bool,
    #[validate(custom(function = "crate::domain::validate::phone"))]
    pub phone: Option<String>,
    #[validate(custom(function = "crate::domain::validate::notes"))]
    pub notes: Option<String>,
}

impl NewRelationship {
    /// Tidies and validates the details (nothing is read or written).
    pub fn check(&mut self) -> Result<()> {
        self.name = crate::domain::validate::tidy(&self.name);
        self.phone = crate::domain::validate::blank_to_none(self.phone.take());
        self.notes = crate::domain::validate::blank_to_none(self.notes.take());
        self.validate()?;
        if self.kind == RelationshipKind::TrustedAdult && self.parental_responsibility {
            return Err(Error::invalid(
                "parentalResponsibility",
                "a trusted adult does not hold parental responsibility",
            ));
        }
        Ok(())
    }
}

/// Records a parent, carer or trusted adult around the child, and how they are involved.
pub async fn add_relationship(
    db: &DatabaseConnection,
    actor: &Actor,
    mut input: NewRelationship,
) -> Result<relationship::Model> {
    input.check()?;
    let mut tx = Audited::begin(db, actor).await?;
    access::find_child(&*tx, actor, &input.child_id).await?;
    access::require(actor, Right::Write)?;
    let created = relationship::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        child_id: Set(input.child_id.clone()),
        kind: Set(input.kind.as_str().to_owned()),
        name: Set(input.name),
        involvement: Set(input.involvement.as_str().to_owned()),
        parental_responsibility: Set(input.parental_responsibility),
        phone: Set(input.phone),
        notes: Set(input.notes),
        recorded_by: Set(actor.user_id.clone()),
        recorded_at: Set(now()),
    }
    .insert(&*tx)
    .await?;
    tx.record("relationship.add", Some(&input.child_id), &["relationships"]);
    tx.commit().await?;
    Ok(created)
}

/// Relationships of many children at once (for the per-request loader).
pub async fn relationships_of<R: Reader>(
    conn: &R,
    actor: &Actor,
    child_ids: &[String],
) -> Result<Vec<relationship::Model>> {
    Ok(relationship::Entity::find()
        .filter(relationship::Column::ChildId.is_in(child_ids.to_vec()))
        .filter(relationship::Column::ChildId.in_subquery(access::record_child_ids(actor)))
        .order_by_asc(relationship::Column::Id)
        .read(conn)
        .await?)
}

/// Enrolments of many children at once (for the per-request loader).
pub async fn enrolments_of<R: Reader>(
    conn: &R,
    actor: &Actor,
    child_ids: &[String],
) -> Result<Vec<enrolment_store::Model>> {
    Ok(enrolment_store::Entity::find()
        .filter(enrolment_store::Column::ChildId.is_in(child_ids.to_vec()))
        .filter(enrolment_store::Column::ChildId.in_subquery(access::record_child_ids(actor)))
        .read(conn)
        .await?)
}

/// The transition history of many enrolments at once, oldest first.
pub async fn transitions_of<R: Reader>(
    conn: &R,
    actor: &Actor,
    enrolment_ids: &[String],
) -> Result<Vec<enrolment_transition::Model>> {
    let visible = Query::select()
        .column(enrolment_store::Column::Id)
        .from(enrolment_store::Entity)
        .and_where(enrolment_store::Column::ChildId.in_subquery(access::record_child_ids(actor)))
        .to_owned();
    Ok(enrolment_transition::Entity::find()
        .filter(enrolment_transition::Column::EnrolmentId.is_in(enrolment_ids.to_vec()))
        .filter(enrolment_transition::Column::EnrolmentId.in_subquery(visible))
        .order_by_asc(enrolment_transition::Column::Id)
        .read(conn)
        .await?)
}

/// Users by id (link workers and authors named on records), for staff who work with children.
pub async fn users_by_id<R: Reader>(conn: &R, actor: &Actor, ids: &[String]) -> Result<Vec<user::Model>> {
    access::may_see_staff(actor)?;
    Ok(user::Entity::find().filter(user::Column::Id.is_in(ids.to_vec())).read(conn).await?)
}

/// Children by id, in the caller's row scope (for the per-request loader: a referral's or a
/// register line's child).
pub async fn by_ids<R: Reader>(conn: &R, actor: &Actor, ids: &[String]) -> Result<Vec<child::Model>> {
    Ok(child::Entity::find()
        .filter(child::Column::Id.is_in(ids.to_vec()))
        .filter(access::child_condition(actor))
        .read(conn)
        .await?)
}
