//! Correcting what was recorded: a child's details, the adults around them, a contact, a
//! progress note, a session's register. Each correction is validated as the original was
//! (the same checks, for the fields it changes), writes the new value, keeps the old one in
//! the record's history (`corrections`: who changed which field, when, from what to what,
//! and why — a reason is required), and is audited, all in one transaction. Who may
//! correct what is in `access` (`may_correct_*`); who sees an entry of the history is
//! `access::may_see_correction`. Metrics and claims read the records as corrected at their
//! next refresh.

use crate::access;
use crate::audit::{Audited, now};
use crate::auth::Actor;
use crate::domain::casework::{NewContact, NewNote};
use crate::domain::children::{self, NewChild, NewRelationship};
use crate::domain::{
    ChildChange, ContactKind, ContactParty, CorrectedRecord, Involvement, NoteVisibility, RelationshipKind, join_list,
    validate,
};
use crate::error::{Error, Result};
use crate::settings::CorrectionSettings;
use crate::store::bundle::{Read, Reader};
use crate::store::{attendance, child, contact, correction, progress_note, referral, relationship, session};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set};
use validator::Validate;

/// The longest reason for a correction, in characters.
const MAX_REASON: usize = 1000;

/// One field changed by a correction: its GraphQL name and the values before and after,
/// as text (`null` for no value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub field: &'static str,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// Collects the fields a correction changes.
#[derive(Default)]
struct Changes(Vec<Change>);

impl Changes {
    /// Notes `field` if the value given differs from the one recorded.
    fn note<T: PartialEq>(&mut self, field: &'static str, old: &T, new: &T, text: impl Fn(&T) -> Option<String>) {
        if old != new {
            self.0.push(Change { field, old: text(old), new: text(new) });
        }
    }

    fn fields(&self) -> Vec<String> {
        self.0.iter().map(|c| c.field.to_owned()).collect()
    }

    /// Refuses a correction that changes nothing: every value given is already recorded.
    fn require_some(&self) -> Result<()> {
        if self.0.is_empty() {
            Err(Error::invalid("input", "changes nothing: give at least one value that differs from the record"))
        } else {
            Ok(())
        }
    }
}

/// The problems a correction brings: those of the corrected record (`next`) that the record
/// as it stands (`was`) does not have already — a value already recorded is not judged again
/// (a rule may have changed since it was written), but a change that breaks a rule across
/// fields is refused on the field the rule names.
fn new_problems<T, U>(next: Result<T>, was: Result<U>) -> Result<Option<T>> {
    match next {
        Ok(v) => Ok(Some(v)),
        Err(Error::InvalidInput(problems)) => {
            let old = match was {
                Err(Error::InvalidInput(old)) => old,
                _ => Vec::new(),
            };
            let fresh: Vec<_> = problems.into_iter().filter(|p| !old.contains(p)).collect();
            if fresh.is_empty() { Ok(None) } else { Err(Error::InvalidInput(fresh)) }
        }
        Err(other) => Err(other),
    }
}

/// An enumeration value as the API spells it (`TRUSTED_ADULT`).
fn spelt(value: &str) -> Option<String> {
    Some(value.to_uppercase())
}

#[allow(clippy::ptr_arg)] // the type `Changes::note` compares: the field's own type
fn text(s: &String) -> Option<String> {
    Some(s.clone())
}

fn maybe(s: &Option<String>) -> Option<String> {
    s.clone()
}

fn shown<T: ToString>(v: &T) -> Option<String> {
    Some(v.to_string())
}

/// Checks a correction's reason: required, 1 to 1000 characters of text.
pub(crate) fn check_reason(reason: &str) -> Result<String> {
    let reason = validate::tidy(reason);
    validate::text(&reason, validate::TextKind::Text { max: MAX_REASON, required: true })
        .map_err(|e| Error::invalid("reason", validate::message(e)))?;
    Ok(reason)
}

fn check_id(field: &str, id: &str) -> Result<()> {
    validate::id(id).map_err(|_| Error::invalid(field, "must be an id returned by this API"))
}

/// Writes the history of one correction of one record, inside `tx`, and audits it.
async fn keep_history(
    tx: &mut Audited,
    actor: &Actor,
    record: CorrectedRecord,
    record_id: &str,
    child_id: &str,
    reason: &str,
    changes: &Changes,
) -> Result<Vec<correction::Model>> {
    let at = now();
    let mut written = Vec::with_capacity(changes.0.len());
    for c in &changes.0 {
        let row = correction::ActiveModel {
            id: Set(uuid::Uuid::now_v7().to_string()),
            child_id: Set(child_id.to_owned()),
            record_kind: Set(record.as_str().to_owned()),
            record_id: Set(record_id.to_owned()),
            field: Set(c.field.to_owned()),
            old_value: Set(c.old.clone()),
            new_value: Set(c.new.clone()),
            reason: Set(reason.to_owned()),
            corrected_by: Set(actor.user_id.clone()),
            corrected_at: Set(at),
        }
        .insert(&**tx)
        .await?;
        written.push(row);
    }
    let action = match record {
        CorrectedRecord::Child => "child.correct",
        CorrectedRecord::Relationship => "relationship.correct",
        CorrectedRecord::Contact => "contact.correct",
        CorrectedRecord::ProgressNote => "progress_note.correct",
        CorrectedRecord::Attendance => "attendance.correct",
    };
    tx.record_fields(action, Some(child_id), changes.fields());
    Ok(written)
}

/// New values for a child's details; `None` leaves a field as it is. For the optional
/// details, `Some(None)` clears them.
#[derive(Debug, Clone, Default)]
pub struct ChildCorrection {
    pub child_id: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub date_of_birth: Option<String>,
    pub year_group: Option<i32>,
    pub upn: Option<Option<String>>,
    pub contact_phone: Option<Option<String>>,
    pub contact_email: Option<Option<String>>,
    pub postcode: Option<Option<String>>,
    pub free_school_meals: Option<bool>,
    pub send: Option<bool>,
    pub eal: Option<bool>,
    pub looked_after: Option<bool>,
    pub reason: String,
    /// The corrected name and date of birth match another child at the anchor, and the
    /// user has checked it is another child (audited on both).
    pub confirm_not_duplicate: bool,
}

/// Corrects a child's details. Answers with the child as written and the history entries.
pub async fn update_child(
    db: &DatabaseConnection,
    actor: &Actor,
    input: ChildCorrection,
) -> Result<ChildChange<Vec<correction::Model>>> {
    check_id("childId", &input.child_id)?;
    let reason = check_reason(&input.reason)?;
    access::may_correct_record(actor)?;
    let mut tx = Audited::begin(db, actor).await?;
    let found = access::find_child(&*tx, actor, &input.child_id).await?;
    let was = NewChild {
        first_name: found.first_name.clone(),
        last_name: found.last_name.clone(),
        date_of_birth: found.date_of_birth.format("%Y-%m-%d").to_string(),
        anchor_id: Some(found.anchor_id.clone()),
        year_group: i32::from(found.year_group),
        upn: found.upn.clone(),
        contact_phone: found.contact_phone.clone(),
        contact_email: found.contact_email.clone(),
        postcode: found.postcode.clone(),
        free_school_meals: found.free_school_meals,
        send: found.send,
        eal: found.eal,
        looked_after: found.looked_after,
        note: None,
        on: None,
        confirm_not_duplicate: false,
    };
    let mut next = was.clone();
    let ChildCorrection {
        first_name,
        last_name,
        date_of_birth,
        year_group,
        upn,
        contact_phone,
        contact_email,
        postcode,
        ..
    } = input;
    next.first_name = first_name.unwrap_or(next.first_name);
    next.last_name = last_name.unwrap_or(next.last_name);
    next.date_of_birth = date_of_birth.unwrap_or(next.date_of_birth);
    next.year_group = year_group.unwrap_or(next.year_group);
    next.upn = upn.unwrap_or(next.upn);
    next.contact_phone = contact_phone.unwrap_or(next.contact_phone);
    next.contact_email = contact_email.unwrap_or(next.contact_email);
    next.postcode = postcode.unwrap_or(next.postcode);
    next.free_school_meals = input.free_school_meals.unwrap_or(next.free_school_meals);
    next.send = input.send.unwrap_or(next.send);
    next.eal = input.eal.unwrap_or(next.eal);
    next.looked_after = input.looked_after.unwrap_or(next.looked_after);
    next.tidy();
    // Kept as identification keeps them.
    next.upn = next.upn.map(|u| u.trim().to_uppercase());
    next.contact_email = next.contact_email.map(|e| e.to_lowercase());
    next.postcode = next.postcode.map(|p| p.trim().to_uppercase());

    let mut changes = Changes::default();
    changes.note("firstName", &was.first_name, &next.first_name, text);
    changes.note("lastName", &was.last_name, &next.last_name, text);
    changes.note("dateOfBirth", &was.date_of_birth, &next.date_of_birth, text);
    changes.note("yearGroup", &was.year_group, &next.year_group, shown);
    changes.note("upn", &was.upn, &next.upn, maybe);
    changes.note("contactPhone", &was.contact_phone, &next.contact_phone, maybe);
    changes.note("contactEmail", &was.contact_email, &next.contact_email, maybe);
    changes.note("postcode", &was.postcode, &next.postcode, maybe);
    changes.note("characteristics.freeSchoolMeals", &was.free_school_meals, &next.free_school_meals, shown);
    changes.note("characteristics.send", &was.send, &next.send, shown);
    changes.note("characteristics.eal", &was.eal, &next.eal, shown);
    changes.note("characteristics.lookedAfter", &was.looked_after, &next.looked_after, shown);
    changes.require_some()?;
    new_problems(next.validate().map_err(Error::from), was.validate().map_err(Error::from))?;
    let date_of_birth = if was.date_of_birth != next.date_of_birth || was.year_group != next.year_group {
        next.check_age()?
    } else {
        found.date_of_birth
    };

    let renamed = was.first_name != next.first_name || was.last_name != next.last_name;
    let name_key = backbone_migration::names::key(&next.first_name, &next.last_name);
    let confirmed_against = if renamed || date_of_birth != found.date_of_birth || next.upn != was.upn {
        let same = children::Same {
            anchor_id: &found.anchor_id,
            name_key: &name_key,
            date_of_birth,
            upn: next.upn.as_deref(),
            other_than: Some(&found.id),
        };
        children::refuse_duplicate(&tx, actor, same, input.confirm_not_duplicate).await?
    } else {
        None
    };
    if renamed {
        children::write_name_words(&*tx, &found.id, &next.first_name, &next.last_name, true).await?;
    }
    let mut active: child::ActiveModel = found.clone().into();
    active.name_key = Set(name_key);
    active.first_name = Set(next.first_name);
    active.last_name = Set(next.last_name);
    active.date_of_birth = Set(date_of_birth);
    active.year_group = Set(next.year_group as i16);
    active.upn = Set(next.upn);
    active.contact_phone = Set(next.contact_phone);
    active.contact_email = Set(next.contact_email);
    active.postcode = Set(next.postcode);
    active.free_school_meals = Set(next.free_school_meals);
    active.send = Set(next.send);
    active.eal = Set(next.eal);
    active.looked_after = Set(next.looked_after);
    active.updated_at = Set(now());
    let child = active
        .update(&*tx)
        .await
        .map_err(|e| Error::from_db(e, Some(("upn", "a child with this UPN is already recorded in the zone"))))?;
    let history = keep_history(&mut tx, actor, CorrectedRecord::Child, &child.id, &child.id, &reason, &changes).await?;
    children::record_not_duplicate(&mut tx, &child.id, confirmed_against);
    tx.commit().await?;
    Ok(ChildChange { child, change: history })
}

/// New values for a relationship; `None` leaves a field as it is; `Some(None)` clears an
/// optional one.
#[derive(Debug, Clone, Default)]
pub struct RelationshipCorrection {
    pub relationship_id: String,
    pub kind: Option<RelationshipKind>,
    pub name: Option<String>,
    pub involvement: Option<Involvement>,
    pub parental_responsibility: Option<bool>,
    pub phone: Option<Option<String>>,
    pub notes: Option<Option<String>>,
    pub reason: String,
}

/// Corrects a parent, carer or trusted adult recorded around a child.
pub async fn update_relationship(
    db: &DatabaseConnection,
    actor: &Actor,
    input: RelationshipCorrection,
) -> Result<(relationship::Model, Vec<correction::Model>)> {
    check_id("relationshipId", &input.relationship_id)?;
    let reason = check_reason(&input.reason)?;
    access::may_correct_record(actor)?;
    let mut tx = Audited::begin(db, actor).await?;
    let found = relationship::Entity::find_by_id(input.relationship_id.clone())
        .filter(relationship::Column::ChildId.in_subquery(access::record_child_ids(actor)))
        .one(&*tx)
        .await?
        .ok_or(Error::NotFound("relationship"))?;
    let was = NewRelationship {
        child_id: found.child_id.clone(),
        kind: RelationshipKind::from_stored(&found.kind)?,
        name: found.name.clone(),
        involvement: Involvement::from_stored(&found.involvement)?,
        parental_responsibility: found.parental_responsibility,
        phone: found.phone.clone(),
        notes: found.notes.clone(),
    };
    let mut next = was.clone();
    next.kind = input.kind.unwrap_or(next.kind);
    next.name = input.name.unwrap_or(next.name);
    next.involvement = input.involvement.unwrap_or(next.involvement);
    next.parental_responsibility = input.parental_responsibility.unwrap_or(next.parental_responsibility);
    next.phone = input.phone.unwrap_or(next.phone);
    next.notes = input.notes.unwrap_or(next.notes);
    let checked = next.check();
    let recorded = was.clone().check();

    let mut changes = Changes::default();
    changes.note("kind", &was.kind, &next.kind, |k| spelt(k.as_str()));
    changes.note("name", &was.name, &next.name, text);
    changes.note("involvement", &was.involvement, &next.involvement, |k| spelt(k.as_str()));
    changes.note("parentalResponsibility", &was.parental_responsibility, &next.parental_responsibility, shown);
    changes.note("phone", &was.phone, &next.phone, maybe);
    changes.note("notes", &was.notes, &next.notes, maybe);
    changes.require_some()?;
    new_problems(checked, recorded)?;

    let mut active: relationship::ActiveModel = found.clone().into();
    active.kind = Set(next.kind.as_str().to_owned());
    active.name = Set(next.name);
    active.involvement = Set(next.involvement.as_str().to_owned());
    active.parental_responsibility = Set(next.parental_responsibility);
    active.phone = Set(next.phone);
    active.notes = Set(next.notes);
    let written = active.update(&*tx).await?;
    let history =
        keep_history(&mut tx, actor, CorrectedRecord::Relationship, &written.id, &written.child_id, &reason, &changes)
            .await?;
    tx.commit().await?;
    Ok((written, history))
}

/// New values for a contact; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ContactCorrection {
    pub contact_id: String,
    pub held_on: Option<String>,
    pub minutes: Option<i32>,
    pub kind: Option<ContactKind>,
    pub with_whom: Option<Vec<ContactParty>>,
    pub content: Option<String>,
    pub reason: String,
}

/// Corrects a contact with a child or family.
pub async fn correct_contact(
    db: &DatabaseConnection,
    actor: &Actor,
    input: ContactCorrection,
) -> Result<(contact::Model, Vec<correction::Model>)> {
    check_id("contactId", &input.contact_id)?;
    let reason = check_reason(&input.reason)?;
    access::may_correct_record(actor)?;
    let mut tx = Audited::begin(db, actor).await?;
    let found = contact::Entity::find_by_id(input.contact_id.clone())
        .filter(contact::Column::ChildId.in_subquery(access::record_child_ids(actor)))
        .one(&*tx)
        .await?
        .ok_or(Error::NotFound("contact"))?;
    let parties = |s: &str| -> Result<Vec<ContactParty>> {
        s.split(',').filter(|p| !p.is_empty()).map(ContactParty::from_stored).collect()
    };
    let was = NewContact {
        child_id: found.child_id.clone(),
        held_on: found.held_on.format("%Y-%m-%d").to_string(),
        minutes: found.minutes,
        kind: ContactKind::from_stored(&found.kind)?,
        with_whom: parties(&found.with_whom)?,
        content: found.content.clone(),
    };
    let mut next = was.clone();
    next.held_on = input.held_on.unwrap_or(next.held_on);
    next.minutes = input.minutes.unwrap_or(next.minutes);
    next.kind = input.kind.unwrap_or(next.kind);
    next.with_whom = input.with_whom.unwrap_or(next.with_whom);
    next.content = input.content.unwrap_or(next.content);
    let checked = next.check();
    let recorded = was.clone().check();
    let with_whom = |w: &Vec<ContactParty>| spelt(&join_list(w, ContactParty::as_str));

    let mut changes = Changes::default();
    changes.note("heldOn", &was.held_on, &next.held_on.trim().to_owned(), text);
    changes.note("minutes", &was.minutes, &next.minutes, shown);
    changes.note("kind", &was.kind, &next.kind, |k| spelt(k.as_str()));
    changes.note("withWhom", &with_whom(&was.with_whom), &with_whom(&next.with_whom), |w| w.clone());
    changes.note("content", &was.content, &next.content, text);
    changes.require_some()?;
    let held_on = new_problems(checked, recorded)?.unwrap_or(found.held_on);
    if held_on != found.held_on {
        let child = access::find_child(&*tx, actor, &found.child_id).await?;
        validate::not_before_birth("heldOn", held_on, access::birth_bound(actor, &child))?;
    }

    let mut active: contact::ActiveModel = found.clone().into();
    active.held_on = Set(held_on);
    active.minutes = Set(next.minutes);
    active.kind = Set(next.kind.as_str().to_owned());
    active.with_whom = Set(join_list(&next.with_whom, ContactParty::as_str));
    active.content = Set(next.content);
    let written = active.update(&*tx).await?;
    let history =
        keep_history(&mut tx, actor, CorrectedRecord::Contact, &written.id, &written.child_id, &reason, &changes)
            .await?;
    tx.commit().await?;
    Ok((written, history))
}

/// New values for a progress note; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct NoteCorrection {
    pub note_id: String,
    pub body: Option<String>,
    pub visibility: Option<NoteVisibility>,
    pub reason: String,
}

/// Corrects a progress note: only its own organisation (a partner within the window of
/// `settings`), or a backbone admin.
pub async fn correct_progress_note(
    db: &DatabaseConnection,
    actor: &Actor,
    input: NoteCorrection,
    settings: CorrectionSettings,
) -> Result<(progress_note::Model, Vec<correction::Model>)> {
    check_id("noteId", &input.note_id)?;
    let reason = check_reason(&input.reason)?;
    access::may_write_casework(actor)?;
    let mut tx = Audited::begin(db, actor).await?;
    let found = progress_note::Entity::find_by_id(input.note_id.clone())
        .filter(access::note_condition(actor))
        .one(&*tx)
        .await?
        .ok_or(Error::NotFound("progress note"))?;
    let window = chrono::Duration::days(settings.partner_window_days);
    access::may_correct_note(actor, &found.organisation_id, found.created_at, now(), window)?;
    let was = NewNote {
        child_id: found.child_id.clone(),
        referral_id: found.referral_id.clone(),
        body: found.body.clone(),
        visibility: NoteVisibility::from_stored(&found.visibility)?,
    };
    let mut next = was.clone();
    next.body = input.body.unwrap_or(next.body);
    next.visibility = input.visibility.unwrap_or(next.visibility);
    let checked = next.check();
    let recorded = was.clone().check();
    let mut changes = Changes::default();
    changes.note("body", &was.body, &next.body, text);
    changes.note("visibility", &was.visibility, &next.visibility, |v| spelt(v.as_str()));
    changes.require_some()?;
    new_problems(checked, recorded)?;
    let mut active: progress_note::ActiveModel = found.clone().into();
    active.body = Set(next.body);
    active.visibility = Set(next.visibility.as_str().to_owned());
    let written = active.update(&*tx).await?;
    let history =
        keep_history(&mut tx, actor, CorrectedRecord::ProgressNote, &written.id, &written.child_id, &reason, &changes)
            .await?;
    tx.commit().await?;
    Ok((written, history))
}

/// Corrections to a session's register: each line gives a child's status (and engagement
/// when they attended), checked as when the register was taken. A child already on the
/// register has their line corrected; a child left off it is added (they must have an
/// accepted or active referral to the programme, as when logging).
#[derive(Debug, Clone)]
pub struct RegisterCorrection {
    pub session_id: String,
    pub attendees: Vec<crate::domain::sessions::Attendee>,
    pub reason: String,
}

/// What correcting a register did.
pub struct RegisterCorrected {
    pub session: session::Model,
    pub history: Vec<correction::Model>,
    /// Referrals that became `active` because a child is now marked as having attended.
    pub started: Vec<referral::Model>,
}

/// Corrects a session's register: the partner that took it within the window of
/// `settings`, or a backbone admin.
pub async fn correct_register(
    db: &DatabaseConnection,
    actor: &Actor,
    input: RegisterCorrection,
    settings: CorrectionSettings,
) -> Result<RegisterCorrected> {
    use crate::domain::referrals::{self, Move};
    use crate::domain::sessions::{check_lines, line_of, name_lines, placed_referrals};
    use crate::domain::{AttendanceStatus, Engagement, ReferralStatus};
    check_id("sessionId", &input.session_id)?;
    let reason = check_reason(&input.reason)?;
    let mut problems = Vec::new();
    if input.attendees.is_empty() || input.attendees.len() > 200 {
        problems.push(crate::error::FieldError {
            field: "attendees".into(),
            message: "must list from 1 to 200 children".into(),
        });
    }
    check_lines(&input.attendees, &mut problems);
    let visible = session::Entity::find_by_id(input.session_id.clone()).filter(access::session_condition(actor));
    if !problems.is_empty() {
        let programme = visible.one(db).await?.map(|s| s.programme_id).unwrap_or_default();
        return Err(name_lines(db, actor, &programme, &input.attendees, Error::InvalidInput(problems)).await);
    }
    let mut tx = Audited::begin(db, actor).await?;
    let found = visible.one(&*tx).await?.ok_or(Error::NotFound("session"))?;
    let window = chrono::Duration::days(settings.partner_window_days);
    access::may_correct_register(actor, &found.organisation_id, found.recorded_at, now(), window)?;
    let lines: std::collections::HashMap<String, attendance::Model> = attendance::Entity::find()
        .filter(attendance::Column::SessionId.eq(found.id.clone()))
        .all(&*tx)
        .await?
        .into_iter()
        .map(|a| (a.child_id.clone(), a))
        .collect();
    let added: Vec<_> = input.attendees.iter().filter(|a| !lines.contains_key(&a.child_id)).cloned().collect();
    let placed = if added.is_empty() {
        Default::default()
    } else {
        let placed = match placed_referrals(&*tx, actor, &found.programme_id, &added).await {
            Ok(placed) => placed,
            Err(Error::InvalidInput(problems)) => {
                // Each problem names its line among those added: name it by its place in
                // the input, as every other problem of the input is.
                let at = |i: usize| input.attendees.iter().position(|a| a.child_id == added[i].child_id);
                let problems = problems
                    .into_iter()
                    .map(|mut p| {
                        if let Some(i) = line_of(&p.field)
                            && let Some(j) = at(i)
                        {
                            p.field = p.field.replacen(&format!("attendees[{i}]"), &format!("attendees[{j}]"), 1);
                        }
                        p
                    })
                    .collect();
                let err = Error::InvalidInput(problems);
                return Err(name_lines(&*tx, actor, &found.programme_id, &input.attendees, err).await);
            }
            Err(e) => return Err(e),
        };
        let born = child::Entity::find()
            .filter(child::Column::Id.is_in(added.iter().map(|a| a.child_id.clone())))
            .all(&*tx)
            .await?;
        for c in &born {
            validate::not_before_birth("attendees", found.held_on, access::birth_bound(actor, c))?;
        }
        placed
    };

    let mut history = Vec::new();
    let mut started = Vec::new();
    let mut changed_any = false;
    let status_text = |s: AttendanceStatus| spelt(s.as_str());
    let level_text = |e: Option<i16>| -> Option<String> {
        e.and_then(|l| Engagement::from_level(l).ok()).and_then(|e| spelt(e.as_str()))
    };
    for a in &input.attendees {
        let mut changes = Changes::default();
        let new_level = a.engagement.map(Engagement::level);
        let (line, referral_id) = match lines.get(&a.child_id) {
            Some(line) => {
                let was = AttendanceStatus::from_stored(&line.status)?;
                changes.note("status", &was, &a.status, |s| status_text(*s));
                changes.note("engagement", &line.engagement, &new_level, |e| level_text(*e));
                if changes.0.is_empty() {
                    continue;
                }
                let mut active: attendance::ActiveModel = line.clone().into();
                active.status = Set(a.status.as_str().to_owned());
                active.engagement = Set(new_level);
                (active.update(&*tx).await?, line.referral_id.clone())
            }
            None => {
                let r = &placed[&a.child_id];
                changes.0.push(Change { field: "status", old: None, new: status_text(a.status) });
                if new_level.is_some() {
                    changes.0.push(Change { field: "engagement", old: None, new: level_text(new_level) });
                }
                let line = attendance::ActiveModel {
                    id: Set(uuid::Uuid::now_v7().to_string()),
                    session_id: Set(found.id.clone()),
                    referral_id: Set(r.id.clone()),
                    child_id: Set(a.child_id.clone()),
                    held_on: Set(found.held_on),
                    status: Set(a.status.as_str().to_owned()),
                    engagement: Set(new_level),
                }
                .insert(&*tx)
                .await?;
                (line, r.id.clone())
            }
        };
        changed_any = true;
        history.extend(
            keep_history(&mut tx, actor, CorrectedRecord::Attendance, &line.id, &line.child_id, &reason, &changes)
                .await?,
        );
        if a.status == AttendanceStatus::Attended {
            let r = referral::Entity::find_by_id(referral_id).one(&*tx).await?.ok_or(Error::NotFound("referral"))?;
            if r.status == ReferralStatus::Accepted.as_str() {
                started.push(
                    referrals::apply(&mut tx, r, Move::Start, None, None, referrals::StepOn::Register(found.held_on))
                        .await?,
                );
            }
        }
    }
    if !changed_any {
        return Err(Error::invalid("attendees", "changes nothing: every line given is already on the register"));
    }
    tx.commit().await?;
    Ok(RegisterCorrected { session: found, history, started })
}

/// The correction history of many records (by id), oldest first, each entry only where
/// the caller sees the child and the corrected field (loader). A record's history is
/// reached through the record, which has its own scope.
pub async fn of_records<R: Reader>(conn: &R, actor: &Actor, record_ids: &[String]) -> Result<Vec<correction::Model>> {
    let view = access::child_view(actor);
    let rows = correction::Entity::find()
        .filter(correction::Column::RecordId.is_in(record_ids.to_vec()))
        .filter(correction::Column::ChildId.in_subquery(access::visible_child_ids(actor)))
        .order_by_asc(correction::Column::Id)
        .read(conn)
        .await?;
    Ok(rows.into_iter().filter(|c| access::may_see_correction(view, &c.record_kind, &c.field)).collect())
}
