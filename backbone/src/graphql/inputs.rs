//! GraphQL input types. Dates are `YYYY-MM-DD` strings, validated by the domain so that a
//! bad one is `INVALID_INPUT` naming the field, like every other bad input.

use crate::domain;
use crate::graphql::types::*;
use async_graphql::{ID, InputObject};

/// Narrows `children`.
#[derive(InputObject, Default)]
pub struct ChildFilter {
    pub status: Option<EnrolmentStatus>,
    pub anchor_id: Option<ID>,
    pub year_group: Option<i32>,
    pub link_worker_id: Option<ID>,
}

impl From<ChildFilter> for domain::children::ChildFilter {
    fn from(f: ChildFilter) -> Self {
        domain::children::ChildFilter {
            status: f.status.map(Into::into),
            anchor_id: f.anchor_id.map(|i| i.0),
            year_group: f.year_group,
            link_worker_id: f.link_worker_id.map(|i| i.0),
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
    pub year_group: i32,
    pub upn: Option<String>,
    pub contact_phone: Option<String>,
    pub contact_email: Option<String>,
    pub postcode: Option<String>,
    pub characteristics: Option<CharacteristicsInput>,
    /// Why the child was identified (kept in the enrolment history).
    pub note: Option<String>,
}

impl From<IdentifyChildInput> for domain::children::NewChild {
    fn from(i: IdentifyChildInput) -> Self {
        let c = i.characteristics.unwrap_or_default();
        domain::children::NewChild {
            first_name: i.first_name,
            last_name: i.last_name,
            date_of_birth: i.date_of_birth,
            anchor_id: i.anchor_id.map(|a| a.0),
            year_group: i.year_group,
            upn: i.upn,
            contact_phone: i.contact_phone,
            contact_email: i.contact_email,
            postcode: i.postcode,
            free_school_meals: c.free_school_meals,
            send: c.send,
            eal: c.eal,
            looked_after: c.looked_after,
            note: i.note,
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
