//! GraphQL input types. Dates are `YYYY-MM-DD` strings, validated by the domain so that a
//! bad one is `INVALID_INPUT` naming the field, like every other bad input. Whole numbers
//! the domain range-checks are taken as 64-bit (`Int` still) and narrowed with [`int`],
//! so that `yearGroup: 2147483648` is the domain's `INVALID_INPUT` naming `yearGroup`
//! rather than a coercion error that cannot say which field it was.

use crate::domain;
use crate::graphql::brokering::*;
use crate::graphql::types::*;
use async_graphql::{ID, InputObject};

/// Narrows a whole number the domain range-checks: one beyond `i32` becomes `i32`'s
/// nearest end, which every domain range refuses, naming the field.
pub fn int(value: i64) -> i32 {
    value.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
}

/// Narrows `children`.
#[derive(InputObject, Default)]
pub struct ChildFilter {
    pub status: Option<EnrolmentStatus>,
    pub anchor_id: Option<ID>,
    pub year_group: Option<i64>,
    pub link_worker_id: Option<ID>,
    /// Finds children by name: every word (e.g. `zoe obr`) must begin a word of the first
    /// or the last name, ignoring case, accents and apostrophes. Partners search first
    /// names only; analysts may not search (`FORBIDDEN`); 1–100 characters.
    pub name: Option<String>,
}

impl From<ChildFilter> for domain::children::ChildFilter {
    fn from(f: ChildFilter) -> Self {
        domain::children::ChildFilter {
            status: f.status.map(Into::into),
            anchor_id: f.anchor_id.map(|i| i.0),
            year_group: f.year_group.map(int),
            link_worker_id: f.link_worker_id.map(|i| i.0),
            name: f.name,
        }
    }
}

/// Characteristics recorded with a child.
#[derive(InputObject, Default)]
pub struct CharacteristicsInput {
    #[graphql(default)]
    pub free_school_meals: bool,
    #[graphql(default)]
    pub send: bool,
    #[graphql(default)]
    pub eal: bool,
    #[graphql(default)]
    pub looked_after: bool,
}

/// A child identified by an anchor.
#[derive(InputObject)]
pub struct IdentifyChildInput {
    pub first_name: String,
    pub last_name: String,
    /// `YYYY-MM-DD`.
    pub date_of_birth: String,
    /// Defaults to the caller's own anchor.
    pub anchor_id: Option<ID>,
    /// -1 nursery, 0 reception, 1–13.
    pub year_group: i64,
    pub upn: Option<String>,
    pub contact_phone: Option<String>,
    pub contact_email: Option<String>,
    pub postcode: Option<String>,
    pub characteristics: Option<CharacteristicsInput>,
    /// Why the child was identified (kept in the enrolment history).
    pub note: Option<String>,
    /// The day the child was identified, `YYYY-MM-DD` (today when not given): not in the
    /// future, not before the child was born.
    pub on: Option<String>,
    /// You have checked that a child already recorded at the anchor with the same name
    /// and date of birth is another child: identify this one all the same (audited).
    #[graphql(default)]
    pub confirm_not_duplicate: bool,
}

impl From<IdentifyChildInput> for domain::children::NewChild {
    fn from(i: IdentifyChildInput) -> Self {
        let c = i.characteristics.unwrap_or_default();
        domain::children::NewChild {
            first_name: i.first_name,
            last_name: i.last_name,
            date_of_birth: i.date_of_birth,
            anchor_id: i.anchor_id.map(|a| a.0),
            year_group: int(i.year_group),
            upn: i.upn,
            contact_phone: i.contact_phone,
            contact_email: i.contact_email,
            postcode: i.postcode,
            free_school_meals: c.free_school_meals,
            send: c.send,
            eal: c.eal,
            looked_after: c.looked_after,
            note: i.note,
            on: i.on,
            confirm_not_duplicate: i.confirm_not_duplicate,
        }
    }
}

/// A parent, carer or trusted adult.
#[derive(InputObject)]
pub struct AddRelationshipInput {
    pub child_id: ID,
    pub kind: RelationshipKind,
    pub name: String,
    pub involvement: Involvement,
    #[graphql(default)]
    pub parental_responsibility: bool,
    pub phone: Option<String>,
    pub notes: Option<String>,
}

impl From<AddRelationshipInput> for domain::children::NewRelationship {
    fn from(i: AddRelationshipInput) -> Self {
        domain::children::NewRelationship {
            child_id: i.child_id.0,
            kind: i.kind.into(),
            name: i.name,
            involvement: i.involvement.into(),
            parental_responsibility: i.parental_responsibility,
            phone: i.phone,
            notes: i.notes,
        }
    }
}

/// The family's agreement to take part.
#[derive(InputObject)]
pub struct RecordParticipationInput {
    pub child_id: ID,
    pub agreed_by: GiverKind,
    pub agreed_by_name: String,
    /// `YYYY-MM-DD`.
    pub agreed_on: String,
    /// E.g. "Signed form, filed at school".
    pub evidence: String,
}

impl From<RecordParticipationInput> for domain::consent::NewParticipation {
    fn from(i: RecordParticipationInput) -> Self {
        domain::consent::NewParticipation {
            child_id: i.child_id.0,
            agreed_by: i.agreed_by.into(),
            agreed_by_name: i.agreed_by_name,
            agreed_on: i.agreed_on,
            evidence: i.evidence,
        }
    }
}

/// The lawful basis for processing the child's record.
#[derive(InputObject)]
pub struct RecordLawfulBasisInput {
    pub child_id: ID,
    pub basis: LawfulBasisKind,
    pub special_category: Option<SpecialCategoryCondition>,
    /// The data-sharing agreement's reference.
    pub data_sharing_agreement: String,
}

impl From<RecordLawfulBasisInput> for domain::consent::NewLawfulBasis {
    fn from(i: RecordLawfulBasisInput) -> Self {
        domain::consent::NewLawfulBasis {
            child_id: i.child_id.0,
            basis: i.basis.into(),
            special_category: i.special_category.map(Into::into),
            data_sharing_agreement: i.data_sharing_agreement,
        }
    }
}

/// Consent to share the record onward.
#[derive(InputObject)]
pub struct RecordConsentInput {
    pub child_id: ID,
    pub given_by: GiverKind,
    pub given_by_name: String,
    /// `YYYY-MM-DD`.
    pub given_on: String,
    pub purposes: Vec<Purpose>,
    /// Partner organisations the record may be shared with.
    pub partner_ids: Vec<ID>,
    pub evidence: String,
}

impl From<RecordConsentInput> for domain::consent::NewConsent {
    fn from(i: RecordConsentInput) -> Self {
        domain::consent::NewConsent {
            child_id: i.child_id.0,
            given_by: i.given_by.into(),
            given_by_name: i.given_by_name,
            given_on: i.given_on,
            purposes: i.purposes.into_iter().map(Into::into).collect(),
            partner_ids: i.partner_ids.into_iter().map(|p| p.0).collect(),
            evidence: i.evidence,
        }
    }
}

/// Withdrawal of a consent.
#[derive(InputObject)]
pub struct WithdrawConsentInput {
    pub consent_id: ID,
    /// `YYYY-MM-DD`.
    pub withdrawn_on: String,
    pub reason: String,
}

impl From<WithdrawConsentInput> for domain::consent::Withdrawal {
    fn from(i: WithdrawConsentInput) -> Self {
        domain::consent::Withdrawal { consent_id: i.consent_id.0, withdrawn_on: i.withdrawn_on, reason: i.reason }
    }
}

/// A new organisation (backbone admins).
#[derive(InputObject)]
pub struct CreateOrganisationInput {
    pub name: String,
    pub kind: OrganisationKind,
}

/// A new account (backbone admins).
#[derive(InputObject)]
pub struct CreateAccountInput {
    pub email: String,
    pub display_name: String,
    /// At least 12 characters.
    pub password: String,
    pub organisation_id: ID,
    pub role: Role,
    #[graphql(default)]
    pub designated_safeguarding_lead: bool,
}

impl From<CreateAccountInput> for domain::accounts::NewAccount {
    fn from(i: CreateAccountInput) -> Self {
        domain::accounts::NewAccount {
            email: i.email,
            display_name: i.display_name,
            password: i.password,
            organisation_id: i.organisation_id.0,
            role: i.role.into(),
            designated_safeguarding_lead: i.designated_safeguarding_lead,
            is_demo: false,
        }
    }
}

/// Narrows `programmes`.
#[derive(InputObject, Default)]
pub struct ProgrammeFilter {
    /// Programmes serving this outcome domain.
    pub domain: Option<OutcomeDomain>,
    /// Programmes whose age range includes this age.
    pub age: Option<i64>,
    /// One partner's programmes.
    pub partner_id: Option<ID>,
    /// `true`: only programmes with a place free; `false`: only full ones.
    pub has_capacity: Option<bool>,
    /// Defaults to `ACTIVE`.
    pub status: Option<ProgrammeStatus>,
}

impl From<ProgrammeFilter> for domain::programmes::ProgrammeFilter {
    fn from(f: ProgrammeFilter) -> Self {
        domain::programmes::ProgrammeFilter {
            domain: f.domain.map(Into::into),
            age: f.age.map(int),
            partner_id: f.partner_id.map(|i| i.0),
            has_capacity: f.has_capacity,
            status: f.status.map(Into::into),
        }
    }
}

/// A programme's details (Open Referral UK field names where the standard has them).
#[derive(InputObject)]
pub struct ProgrammeInput {
    pub name: String,
    pub description: String,
    /// The outcome domains it serves (at least one).
    pub domains: Vec<OutcomeDomain>,
    pub minimum_age: i64,
    pub maximum_age: i64,
    pub attending_type: AttendingType,
    /// Required unless attended online only.
    pub location_name: Option<String>,
    pub postcode: Option<String>,
    /// When it runs, in words, e.g. "Tuesdays 15:30–17:00 in term time".
    pub schedule: String,
    /// Places: how many children it takes at once.
    pub capacity: i64,
    /// When it started (or starts) running, `YYYY-MM-DD`, if known: no session of it may
    /// be dated before. Leave out when not known.
    pub starts_on: Option<String>,
}

impl From<ProgrammeInput> for domain::programmes::ProgrammeFields {
    fn from(i: ProgrammeInput) -> Self {
        domain::programmes::ProgrammeFields {
            name: i.name,
            description: i.description,
            domains: i.domains.into_iter().map(Into::into).collect(),
            minimum_age: int(i.minimum_age),
            maximum_age: int(i.maximum_age),
            attending_type: i.attending_type.into(),
            location_name: i.location_name,
            postcode: i.postcode,
            schedule: i.schedule,
            capacity: int(i.capacity),
            starts_on: i.starts_on,
        }
    }
}

/// A referral the link worker proposes.
#[derive(InputObject)]
pub struct ProposeReferralInput {
    pub child_id: ID,
    pub programme_id: ID,
    /// What the partner is told: the child's needs relevant to this programme.
    pub needs: String,
    pub note: Option<String>,
    /// The day the referral was proposed, `YYYY-MM-DD` (today when not given): not in the
    /// future, not before the child was born.
    pub on: Option<String>,
}

impl From<ProposeReferralInput> for domain::referrals::NewReferral {
    fn from(i: ProposeReferralInput) -> Self {
        domain::referrals::NewReferral {
            child_id: i.child_id.0,
            programme_id: i.programme_id.0,
            needs: i.needs,
            note: i.note,
            on: i.on,
        }
    }
}

/// One line of a session's register.
#[derive(InputObject)]
pub struct AttendeeInput {
    pub child_id: ID,
    pub status: AttendanceStatus,
    /// Required when attended; not given otherwise.
    pub engagement: Option<EngagementLevel>,
}

impl From<AttendeeInput> for domain::sessions::Attendee {
    fn from(a: AttendeeInput) -> Self {
        domain::sessions::Attendee {
            child_id: a.child_id.0,
            status: a.status.into(),
            engagement: a.engagement.map(Into::into),
        }
    }
}

/// A session and its register (one child for one-to-one, many for a group).
#[derive(InputObject)]
pub struct LogSessionInput {
    pub programme_id: ID,
    /// `YYYY-MM-DD`, not in the future.
    pub held_on: String,
    pub duration_minutes: i64,
    pub kind: SessionKind,
    pub notes: Option<String>,
    pub attendees: Vec<AttendeeInput>,
}

impl From<LogSessionInput> for domain::sessions::NewSession {
    fn from(i: LogSessionInput) -> Self {
        domain::sessions::NewSession {
            programme_id: i.programme_id.0,
            held_on: i.held_on,
            duration_minutes: int(i.duration_minutes),
            kind: i.kind.into(),
            notes: i.notes,
            attendees: i.attendees.into_iter().map(Into::into).collect(),
        }
    }
}

/// A link worker's interaction with a child or family.
#[derive(InputObject)]
pub struct LogContactInput {
    pub child_id: ID,
    /// `YYYY-MM-DD`, not in the future.
    pub held_on: String,
    pub minutes: i64,
    pub kind: ContactKind,
    pub with_whom: Vec<ContactParty>,
    pub content: String,
}

impl From<LogContactInput> for domain::casework::NewContact {
    fn from(i: LogContactInput) -> Self {
        domain::casework::NewContact {
            child_id: i.child_id.0,
            held_on: i.held_on,
            minutes: int(i.minutes),
            kind: i.kind.into(),
            with_whom: i.with_whom.into_iter().map(Into::into).collect(),
            content: i.content,
        }
    }
}

/// A progress note.
#[derive(InputObject)]
pub struct AddProgressNoteInput {
    pub child_id: ID,
    /// The referral it is about (partners: one of yours).
    pub referral_id: Option<ID>,
    pub body: String,
    pub visibility: NoteVisibility,
}

impl From<AddProgressNoteInput> for domain::casework::NewNote {
    fn from(i: AddProgressNoteInput) -> Self {
        domain::casework::NewNote {
            child_id: i.child_id.0,
            referral_id: i.referral_id.map(|r| r.0),
            body: i.body,
            visibility: i.visibility.into(),
        }
    }
}

/// One measure taken for one child.
#[derive(InputObject)]
pub struct RecordAssessmentInput {
    pub child_id: ID,
    /// A measure code of the live framework (see `outcomesFramework`).
    pub measure: String,
    /// The raw score, for a numeric measure.
    pub value: Option<f64>,
    /// The category, for a categorical measure.
    pub category: Option<String>,
    pub stage: crate::graphql::outcomes::AssessmentStage,
    /// `YYYY-MM-DD`, not in the future.
    pub assessed_on: String,
}

impl From<RecordAssessmentInput> for domain::outcomes::NewAssessment {
    fn from(i: RecordAssessmentInput) -> Self {
        domain::outcomes::NewAssessment {
            child_id: i.child_id.0,
            measure: i.measure,
            value: i.value,
            category: i.category,
            stage: i.stage.into(),
            assessed_on: i.assessed_on,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_beyond_32_bits_narrow_to_a_value_every_range_refuses() {
        assert_eq!(super::int(5), 5);
        assert_eq!(super::int(-1), -1);
        assert_eq!(super::int(2_147_483_648), i32::MAX);
        assert_eq!(super::int(i64::MIN), i32::MIN);
    }
}
