//! GraphQL types of corrections: the `Correction` entries of a record's history (on
//! `Child`, `Relationship`, `Contact`, `ProgressNote` and `AttendanceRecord`) and the
//! inputs of `updateChild`, `updateRelationship`, `correctContact`, `correctProgressNote`
//! and `correctRegister`. Resolvers only map: the rules are in `domain::corrections` and
//! `access`.

use crate::access::Field;
use crate::domain::corrections;
use crate::graphql::brokering::{ContactKind, ContactParty, NoteVisibility};
use crate::graphql::inputs::int;
use crate::graphql::loader;
use crate::graphql::loaders::CorrectionsOfRecord;
use crate::graphql::types::{Involvement, RelationshipKind, User, shared, shown, user_by_id};
use crate::store::correction;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result};
use chrono::{DateTime, Utc};

/// One field of a record corrected by a user: the value before and after, who, when and
/// why. Shown only to those who see the corrected field on the record; the values and the
/// reason are null in the pseudonymised view.
pub struct Correction(pub correction::Model);

#[Object]
impl Correction {
    /// The corrected field, as the record's GraphQL type names it (`lastName`,
    /// `characteristics.eal`, `heldOn`, `status`, …).
    async fn field(&self) -> &str {
        &self.0.field
    }
    /// The value before, as text (null if there was none).
    async fn old_value(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        shown(ctx, Field::CorrectionOldValue, self.0.old_value.as_deref())
    }
    /// The value after, as text (null if the correction cleared it).
    async fn new_value(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        shown(ctx, Field::CorrectionNewValue, self.0.new_value.as_deref())
    }
    /// Why it was corrected, in the words of whoever corrected it.
    async fn reason(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        shown(ctx, Field::CorrectionReason, Some(self.0.reason.as_str()))
    }
    /// Who corrected it (staff accounts are not shown to funders).
    async fn corrected_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        user_by_id(ctx, &self.0.corrected_by).await
    }
    async fn corrected_at(&self) -> DateTime<Utc> {
        self.0.corrected_at
    }
}

/// The corrections of one record, oldest first, as the caller may see them.
pub(crate) async fn of_record(ctx: &Context<'_>, record_id: &str) -> Result<Vec<Correction>> {
    let rows = loader(ctx)?.load_one(CorrectionsOfRecord(record_id.to_owned())).await.map_err(shared)?;
    Ok(rows.unwrap_or_default().into_iter().map(Correction).collect())
}

/// A value given, or null to clear it, or left out to keep it.
fn replacement<T>(v: MaybeUndefined<T>) -> Option<Option<T>> {
    match v {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(s) => Some(Some(s)),
    }
}

/// New values for a child's characteristics; each left out stays as it is.
#[derive(InputObject, Default)]
pub struct CharacteristicsCorrection {
    pub free_school_meals: Option<bool>,
    pub send: Option<bool>,
    pub eal: Option<bool>,
    pub looked_after: Option<bool>,
}

/// Corrections to a child's details: give only the fields to change (each checked as at
/// identification); `null` clears an optional detail. A reason is required.
#[derive(InputObject)]
pub struct UpdateChildInput {
    pub child_id: ID,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// `YYYY-MM-DD`; checked against the year group.
    pub date_of_birth: Option<String>,
    /// -1 nursery, 0 reception, 1–13; checked against the date of birth.
    pub year_group: Option<i64>,
    pub upn: MaybeUndefined<String>,
    pub contact_phone: MaybeUndefined<String>,
    pub contact_email: MaybeUndefined<String>,
    pub postcode: MaybeUndefined<String>,
    pub characteristics: Option<CharacteristicsCorrection>,
    /// Why (1–1000 characters), kept in the history.
    pub reason: String,
    /// The corrected name and date of birth match another child at the anchor, and you
    /// have checked it is another child: correct it all the same (audited). A UPN match
    /// is never overridden.
    #[graphql(default)]
    pub confirm_not_duplicate: bool,
}

impl From<UpdateChildInput> for corrections::ChildCorrection {
    fn from(i: UpdateChildInput) -> Self {
        let c = i.characteristics.unwrap_or_default();
        corrections::ChildCorrection {
            child_id: i.child_id.0,
            first_name: i.first_name,
            last_name: i.last_name,
            date_of_birth: i.date_of_birth,
            year_group: i.year_group.map(int),
            upn: replacement(i.upn),
            contact_phone: replacement(i.contact_phone),
            contact_email: replacement(i.contact_email),
            postcode: replacement(i.postcode),
            free_school_meals: c.free_school_meals,
            send: c.send,
            eal: c.eal,
            looked_after: c.looked_after,
            reason: i.reason,
            confirm_not_duplicate: i.confirm_not_duplicate,
        }
    }
}

/// Corrections to a parent, carer or trusted adult: only the fields to change; `null`
/// clears the phone or notes. A reason is required.
#[derive(InputObject)]
pub struct UpdateRelationshipInput {
    pub relationship_id: ID,
    pub kind: Option<RelationshipKind>,
    pub name: Option<String>,
    pub involvement: Option<Involvement>,
    pub parental_responsibility: Option<bool>,
    pub phone: MaybeUndefined<String>,
    pub notes: MaybeUndefined<String>,
    /// Why (1–1000 characters), kept in the history.
    pub reason: String,
}

impl From<UpdateRelationshipInput> for corrections::RelationshipCorrection {
    fn from(i: UpdateRelationshipInput) -> Self {
        corrections::RelationshipCorrection {
            relationship_id: i.relationship_id.0,
            kind: i.kind.map(Into::into),
            name: i.name,
            involvement: i.involvement.map(Into::into),
            parental_responsibility: i.parental_responsibility,
            phone: replacement(i.phone),
            notes: replacement(i.notes),
            reason: i.reason,
        }
    }
}

/// Corrections to a contact: only the fields to change. A reason is required.
#[derive(InputObject)]
pub struct CorrectContactInput {
    pub contact_id: ID,
    /// `YYYY-MM-DD`, not in the future.
    pub held_on: Option<String>,
    pub minutes: Option<i64>,
    pub kind: Option<ContactKind>,
    pub with_whom: Option<Vec<ContactParty>>,
    pub content: Option<String>,
    /// Why (1–1000 characters), kept in the history.
    pub reason: String,
}

impl From<CorrectContactInput> for corrections::ContactCorrection {
    fn from(i: CorrectContactInput) -> Self {
        corrections::ContactCorrection {
            contact_id: i.contact_id.0,
            held_on: i.held_on,
            minutes: i.minutes.map(int),
            kind: i.kind.map(Into::into),
            with_whom: i.with_whom.map(|w| w.into_iter().map(Into::into).collect()),
            content: i.content,
            reason: i.reason,
        }
    }
}

/// Corrections to a progress note: only the fields to change. A reason is required.
#[derive(InputObject)]
pub struct CorrectProgressNoteInput {
    pub note_id: ID,
    pub body: Option<String>,
    pub visibility: Option<NoteVisibility>,
    /// Why (1–1000 characters), kept in the history.
    pub reason: String,
}

impl From<CorrectProgressNoteInput> for corrections::NoteCorrection {
    fn from(i: CorrectProgressNoteInput) -> Self {
        corrections::NoteCorrection {
            note_id: i.note_id.0,
            body: i.body,
            visibility: i.visibility.map(Into::into),
            reason: i.reason,
        }
    }
}

/// Corrections to a session's register: the lines to change or add (as in `logSession`).
/// A reason is required.
#[derive(InputObject)]
pub struct CorrectRegisterInput {
    pub session_id: ID,
    pub attendees: Vec<crate::graphql::inputs::AttendeeInput>,
    /// Why (1–1000 characters), kept in each line's history.
    pub reason: String,
}

impl From<CorrectRegisterInput> for corrections::RegisterCorrection {
    fn from(i: CorrectRegisterInput) -> Self {
        corrections::RegisterCorrection {
            session_id: i.session_id.0,
            attendees: i.attendees.into_iter().map(Into::into).collect(),
            reason: i.reason,
        }
    }
}
