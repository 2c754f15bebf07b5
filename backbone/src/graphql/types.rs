//! GraphQL object and enum types. Each converts from storage models or domain enums; no
//! storage model is exposed as-is (that would make every column public API). Personal and
//! free-text fields are nullable: each asks the field matrix (`access::may_see`) and
//! answers null in a view it withholds them from. Every type that carries a child's
//! record is built only by its `new(ctx, model)`, which notes the read for the audit
//! (`graphql::read_audit`).

use crate::access::{self, ChildView, Field};
use crate::domain;
use crate::error::Error;
use crate::graphql::brokering::{
    Contact, EngagementSummary, Handover, ProgressNote, SafeguardingConcern, SupportPackage,
};
use crate::graphql::errors::to_gql;
use crate::graphql::loaders::*;
use crate::graphql::{actor, loader};
use crate::store::{
    child, consent, enrolment, enrolment_transition, lawful_basis, organisation, participation, relationship, user,
};
use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};

/// A GraphQL enum mirroring a domain enum (`remote`), variant for variant.
macro_rules! remote_enum {
    ($(#[$meta:meta])* $name:ident => $remote:literal { $($variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(async_graphql::Enum, Copy, Clone, Debug, Eq, PartialEq)]
        #[graphql(remote = $remote)]
        pub enum $name { $($variant),+ }
    };
}
pub(crate) use remote_enum;

remote_enum!(
    /// What an organisation is to the partnership.
    OrganisationKind => "crate::domain::OrganisationKind" { Backbone, Anchor, Partner, Funder }
);
remote_enum!(
    /// How an adult is related to a child.
    RelationshipKind => "crate::domain::RelationshipKind" { Parent, Carer, TrustedAdult }
);
remote_enum!(
    /// How an adult is involved in the child's support.
    Involvement => "crate::domain::Involvement" { MainContact, AttendsReviews, ReceivesUpdates, SupportsAtHome, Mentor }
);
remote_enum!(
    /// Who gave an agreement or consent.
    GiverKind => "crate::domain::GiverKind" { Parent, Carer, Child }
);
remote_enum!(
    /// UK GDPR Article 6 basis for processing.
    LawfulBasisKind => "crate::domain::LawfulBasisKind" { PublicTask, LegitimateInterests, LegalObligation, VitalInterests }
);
remote_enum!(
    /// Condition for processing special-category data (health, SEND).
    SpecialCategoryCondition => "crate::domain::SpecialCategoryCondition" { SubstantialPublicInterest, HealthOrSocialCare, ExplicitConsent }
);
remote_enum!(
    /// What an onward share may be used for.
    Purpose => "crate::domain::Purpose" { Referral, ProgressMonitoring, Evaluation }
);
remote_enum!(
    /// A child's place in the programme: identified → consented → enrolled → active →
    /// completed, or exited (with a reason) from any open state.
    EnrolmentStatus => "crate::domain::EnrolmentStatus" { Identified, Consented, Enrolled, Active, Completed, Exited }
);
remote_enum!(
    /// Why a child left before completing.
    ExitReason => "crate::domain::ExitReason" { MovedAway, FamilyWithdrew, StatutoryServices, Disengaged, Other }
);

/// A member's role.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum Role {
    LinkWorker,
    AnchorLead,
    PartnerWorker,
    PartnerLead,
    Funder,
    BackboneAnalyst,
    BackboneAdmin,
}

impl From<Role> for domain::Role {
    fn from(r: Role) -> Self {
        match r {
            Role::LinkWorker => domain::Role::LinkWorker,
            Role::AnchorLead => domain::Role::AnchorLead,
            Role::PartnerWorker => domain::Role::PartnerWorker,
            Role::PartnerLead => domain::Role::PartnerLead,
            Role::Funder => domain::Role::Funder,
            Role::BackboneAnalyst => domain::Role::BackboneAnalyst,
            Role::BackboneAdmin => domain::Role::BackboneAdmin,
        }
    }
}

fn role_of(r: domain::Role) -> Role {
    match r {
        domain::Role::LinkWorker => Role::LinkWorker,
        domain::Role::AnchorLead => Role::AnchorLead,
        domain::Role::PartnerWorker => Role::PartnerWorker,
        domain::Role::PartnerLead => Role::PartnerLead,
        domain::Role::Funder => Role::Funder,
        domain::Role::BackboneAnalyst => Role::BackboneAnalyst,
        domain::Role::BackboneAdmin | domain::Role::System => Role::BackboneAdmin,
    }
}

/// Reads a stored enum spelling, as a GraphQL error if the database holds nonsense.
pub(crate) fn stored<T>(parsed: crate::error::Result<T>) -> Result<T> {
    parsed.map_err(|e| to_gql(&e))
}

pub(crate) fn shared(e: std::sync::Arc<Error>) -> async_graphql::Error {
    to_gql(&e)
}

/// The caller's field view (`UNAUTHENTICATED` without a caller).
pub(crate) fn view(ctx: &Context<'_>) -> Result<ChildView> {
    Ok(access::child_view(actor(ctx)?))
}

/// `value` if the field matrix shows `field` in the caller's view, otherwise null.
pub(crate) fn shown<T>(ctx: &Context<'_>, field: Field, value: Option<T>) -> Result<Option<T>> {
    let may = access::may_see(view(ctx)?, field);
    Ok(value.filter(|_| may))
}

/// An organisation of the partnership.
pub struct Organisation(pub organisation::Model);

#[Object]
impl Organisation {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn kind(&self) -> Result<OrganisationKind> {
        Ok(stored(domain::OrganisationKind::from_stored(&self.0.kind))?.into())
    }
}

/// Organisations are not personal data: batch-loaded when the caller is known, read
/// directly otherwise (the user in `login`'s answer, before a token is in use).
/// A user by id, batch-loaded, as a person named on a record (no role or organisation).
pub(crate) async fn user_by_id(ctx: &Context<'_>, id: &str) -> Result<Option<User>> {
    let found = loader(ctx)?.load_one(UserById(id.to_owned())).await.map_err(shared)?;
    Ok(found.map(|u| User { user: u, organisation_id: None, role: None, designated_safeguarding_lead: false }))
}

pub(crate) async fn organisation_by_id(ctx: &Context<'_>, id: &str) -> Result<Organisation> {
    if actor(ctx).is_err() {
        let db = &crate::graphql::services(ctx)?.db;
        return crate::domain::accounts::organisation(db, id).await.map(Organisation).map_err(|e| to_gql(&e));
    }
    loader(ctx)?
        .load_one(OrganisationById(id.to_owned()))
        .await
        .map_err(shared)?
        .map(Organisation)
        .ok_or_else(|| to_gql(&Error::NotFound("organisation")))
}

/// A person with an account: staff of an organisation of the partnership.
pub struct User {
    pub user: user::Model,
    pub organisation_id: Option<String>,
    pub role: Option<domain::Role>,
    pub designated_safeguarding_lead: bool,
}

#[Object]
impl User {
    async fn id(&self) -> ID {
        ID(self.user.id.clone())
    }
    async fn email(&self) -> &str {
        &self.user.email
    }
    async fn display_name(&self) -> &str {
        &self.user.display_name
    }
    /// Their role, when known to the caller (always for `me`).
    async fn role(&self) -> Option<Role> {
        self.role.map(role_of)
    }
    /// Their organisation, when known to the caller (always for `me`).
    async fn organisation(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        match &self.organisation_id {
            Some(id) => Ok(Some(organisation_by_id(ctx, id).await?)),
            None => Ok(None),
        }
    }
    /// Designated safeguarding lead of their organisation.
    async fn designated_safeguarding_lead(&self) -> bool {
        self.designated_safeguarding_lead
    }
}

/// A child on the shared record. Which children a caller sees, and how much of each, is
/// decided by the access policy (see `docs/data-protection.md`).
pub struct Child {
    model: child::Model,
    view: ChildView,
}

impl Child {
    /// The only way to build a `Child` for a response: notes the read (with the fields
    /// selected) in the operation's read log, audited before the response leaves.
    pub fn new(ctx: &Context<'_>, model: child::Model) -> Result<Child> {
        let view = view(ctx)?;
        crate::graphql::read_audit::note(ctx, "Child", &model.id)?;
        Ok(Child { model, view })
    }

    /// The stored record behind this child.
    pub fn model(&self) -> &child::Model {
        &self.model
    }

    fn personal<T: Clone>(&self, field: Field, value: &T) -> Option<T> {
        access::may_see(self.view, field).then(|| value.clone())
    }

    fn id_key(&self) -> String {
        self.model.id.clone()
    }
}

/// Free school meals, SEND, EAL, looked after.
#[derive(SimpleObject)]
pub struct Characteristics {
    pub free_school_meals: bool,
    /// Special educational needs and disabilities.
    pub send: bool,
    /// English as an additional language.
    pub eal: bool,
    pub looked_after: bool,
}

#[Object]
impl Child {
    /// The child's pseudonymous id (UUIDv7).
    async fn id(&self) -> ID {
        ID(self.model.id.clone())
    }
    /// Null in the pseudonymised view; shown in the partner view.
    async fn first_name(&self) -> Option<String> {
        self.personal(Field::ChildFirstName, &self.model.first_name)
    }
    /// The last name's first letter (`W`): shown in the partner view too, so that a
    /// partner can tell two children of the same first name apart.
    async fn last_initial(&self) -> Option<String> {
        self.personal(Field::ChildLastInitial, &()).and_then(|()| access::last_initial(&self.model.last_name))
    }
    async fn last_name(&self) -> Option<String> {
        self.personal(Field::ChildLastName, &self.model.last_name)
    }
    async fn date_of_birth(&self) -> Option<NaiveDate> {
        self.personal(Field::ChildDateOfBirth, &self.model.date_of_birth)
    }
    /// Age in whole years today.
    async fn age(&self) -> i32 {
        crate::domain::age_on(self.model.date_of_birth, Utc::now().date_naive())
    }
    /// School year: -1 nursery, 0 reception, 1–13.
    async fn year_group(&self) -> i32 {
        i32::from(self.model.year_group)
    }
    /// Unique Pupil Number.
    async fn upn(&self) -> Option<String> {
        self.personal(Field::ChildUpn, &self.model.upn).flatten()
    }
    async fn contact_phone(&self) -> Option<String> {
        self.personal(Field::ChildContactPhone, &self.model.contact_phone).flatten()
    }
    async fn contact_email(&self) -> Option<String> {
        self.personal(Field::ChildContactEmail, &self.model.contact_email).flatten()
    }
    async fn postcode(&self) -> Option<String> {
        self.personal(Field::ChildPostcode, &self.model.postcode).flatten()
    }
    /// Null in the partner view.
    async fn characteristics(&self) -> Option<Characteristics> {
        access::may_see(self.view, Field::ChildCharacteristics).then_some(Characteristics {
            free_school_meals: self.model.free_school_meals,
            send: self.model.send,
            eal: self.model.eal,
            looked_after: self.model.looked_after,
        })
    }
    /// The anchor (school or children's centre) that identified the child.
    async fn anchor(&self, ctx: &Context<'_>) -> Result<Organisation> {
        organisation_by_id(ctx, &self.model.anchor_id).await
    }
    /// The child's enrolment; null in the partner view.
    async fn enrolment(&self, ctx: &Context<'_>) -> Result<Option<Enrolment>> {
        let found = loader(ctx)?.load_one(EnrolmentOfChild(self.id_key())).await.map_err(shared)?;
        found.map(|m| Enrolment::new(ctx, m)).transpose()
    }
    /// Parents, carers and trusted adults around the child.
    async fn relationships(&self, ctx: &Context<'_>) -> Result<Vec<Relationship>> {
        let rows = loader(ctx)?.load_one(RelationshipsOfChild(self.model.id.clone())).await.map_err(shared)?;
        rows.unwrap_or_default().into_iter().map(|m| Relationship::new(ctx, m)).collect()
    }
    /// The family's agreements to take part, newest first.
    async fn participation(&self, ctx: &Context<'_>) -> Result<Vec<ParticipationAgreement>> {
        let rows = loader(ctx)?.load_one(ParticipationOfChild(self.model.id.clone())).await.map_err(shared)?;
        rows.unwrap_or_default().into_iter().map(|m| ParticipationAgreement::new(ctx, m)).collect()
    }
    /// Lawful bases for processing, newest first (the first applies).
    async fn lawful_bases(&self, ctx: &Context<'_>) -> Result<Vec<LawfulBasis>> {
        let rows = loader(ctx)?.load_one(LawfulBasesOfChild(self.model.id.clone())).await.map_err(shared)?;
        rows.unwrap_or_default().into_iter().map(|m| LawfulBasis::new(ctx, m)).collect()
    }
    /// Consents to onward sharing, newest first, withdrawn ones included (the history).
    async fn consents(&self, ctx: &Context<'_>) -> Result<Vec<Consent>> {
        let rows = loader(ctx)?.load_one(ConsentsOfChild(self.model.id.clone())).await.map_err(shared)?;
        rows.unwrap_or_default().into_iter().map(|m| Consent::new(ctx, m)).collect()
    }
    /// The support package: the child's referrals (for partners, only their own live
    /// ones), with counts per status.
    async fn support_package(&self, ctx: &Context<'_>) -> Result<SupportPackage> {
        let rows = loader(ctx)?.load_one(ReferralsOfChild(self.id_key())).await.map_err(shared)?;
        Ok(SupportPackage(rows.unwrap_or_default()))
    }
    /// Attendance over every referral the caller may see, and link-worker contact (not in
    /// the partner view).
    async fn engagement(&self, ctx: &Context<'_>) -> Result<EngagementSummary> {
        let l = loader(ctx)?;
        let a = l.load_one(EngagementOfChild(self.id_key())).await.map_err(shared)?;
        let c = if access::may_see(self.view, Field::ChildContactCounts) {
            Some(l.load_one(ContactsOfChild(self.id_key())).await.map_err(shared)?.unwrap_or_default())
        } else {
            None
        };
        Ok(EngagementSummary::new(a.unwrap_or_default(), c))
    }
    /// Link-worker contacts, oldest first (not in the partner view).
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity + 1")]
    async fn contacts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<async_graphql::connection::Connection<String, Contact>> {
        let had_after = after.is_some();
        let page = crate::graphql::query::page_request(ctx, first, after)?;
        let found =
            crate::domain::casework::contacts(&crate::graphql::services(ctx)?.db, actor(ctx)?, &self.model.id, page)
                .await
                .map_err(|e| to_gql(&e))?;
        crate::graphql::query::try_connection(had_after, found, |m| Contact::new(ctx, m), |c| &c.id)
    }
    /// Progress notes the caller may read, newest first.
    async fn progress_notes(&self, ctx: &Context<'_>) -> Result<Vec<ProgressNote>> {
        let rows = loader(ctx)?.load_one(NotesOfChild(self.id_key())).await.map_err(shared)?;
        rows.unwrap_or_default().into_iter().map(|m| ProgressNote::new(ctx, m)).collect()
    }
    /// Safeguarding concerns, newest first: only the anchor's designated safeguarding
    /// leads and backbone admins may ask (`FORBIDDEN` for anyone else, whether or not any
    /// exist).
    async fn safeguarding_concerns(&self, ctx: &Context<'_>) -> Result<Vec<SafeguardingConcern>> {
        let rows = loader(ctx)?.load_one(ConcernsOfChild(self.id_key())).await.map_err(shared)?;
        rows.unwrap_or_default().into_iter().map(|m| SafeguardingConcern::new(ctx, m)).collect()
    }
    /// Assessments on the common outcomes scale, oldest first (partners: their own
    /// organisation's).
    async fn assessments(&self, ctx: &Context<'_>) -> Result<Vec<crate::graphql::outcomes::Assessment>> {
        let rows = loader(ctx)?.load_one(AssessmentsOfChild(self.id_key())).await.map_err(shared)?;
        rows.unwrap_or_default().into_iter().map(|m| crate::graphql::outcomes::Assessment::new(ctx, m)).collect()
    }
    /// Progress per measure: baseline and latest level, change, trend, improved, crossed
    /// the threshold — from the assessments the caller may read.
    async fn progress(&self, ctx: &Context<'_>) -> Result<Vec<crate::graphql::outcomes::MeasureProgress>> {
        let rows = loader(ctx)?.load_one(AssessmentsOfChild(self.id_key())).await.map_err(shared)?;
        Ok(crate::domain::outcomes::progress(&rows.unwrap_or_default()).into_iter().map(Into::into).collect())
    }
    /// The child's individual support plan: null if none was agreed yet, and for partners
    /// (the record beyond the partner view).
    async fn support_plan(&self, ctx: &Context<'_>) -> Result<Option<crate::graphql::plans::SupportPlan>> {
        crate::graphql::plans::of_child(ctx, &self.model.id).await
    }
    /// Handovers between link workers (and anchors), oldest first.
    async fn handovers(&self, ctx: &Context<'_>) -> Result<Vec<Handover>> {
        let rows = loader(ctx)?.load_one(HandoversOfChild(self.id_key())).await.map_err(shared)?;
        rows.unwrap_or_default().into_iter().map(|m| Handover::new(ctx, m)).collect()
    }
    /// Corrections of the child's details, oldest first: each changed field with its old
    /// and new value, who, when and why (only fields the caller sees).
    async fn corrections(&self, ctx: &Context<'_>) -> Result<Vec<crate::graphql::corrections::Correction>> {
        crate::graphql::corrections::of_record(ctx, &self.model.id).await
    }
}

/// A child's enrolment in the programme.
pub struct Enrolment(enrolment::Model);

impl Enrolment {
    /// Notes the read in the operation's read log (see [`Child::new`]).
    pub fn new(ctx: &Context<'_>, model: enrolment::Model) -> Result<Self> {
        crate::graphql::read_audit::note(ctx, "Enrolment", &model.child_id)?;
        Ok(Enrolment(model))
    }
}

#[Object]
impl Enrolment {
    async fn status(&self) -> Result<EnrolmentStatus> {
        Ok(stored(domain::EnrolmentStatus::from_stored(&self.0.status))?.into())
    }
    async fn exit_reason(&self) -> Result<Option<ExitReason>> {
        match &self.0.exit_reason {
            Some(r) => Ok(Some(stored(domain::ExitReason::from_stored(r))?.into())),
            None => Ok(None),
        }
    }
    /// Academic year of the cohort, e.g. `2025/26` (set on enrolment).
    async fn cohort(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        shown(ctx, Field::EnrolmentCohort, self.0.cohort.as_deref())
    }
    /// The link worker whose caseload the child is on.
    async fn link_worker(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(id) = &self.0.link_worker_id else { return Ok(None) };
        Ok(user_by_id(ctx, id).await?.map(|u| User { role: Some(domain::Role::LinkWorker), ..u }))
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Every transition, oldest first, stamped with who and when.
    async fn history(&self, ctx: &Context<'_>) -> Result<Vec<EnrolmentTransition>> {
        let rows = loader(ctx)?.load_one(HistoryOfEnrolment(self.0.id.clone())).await.map_err(shared)?;
        Ok(rows.unwrap_or_default().into_iter().map(EnrolmentTransition).collect())
    }
}

/// Declares the GraphQL type of one step in a status history (enrolment, referral): from,
/// to, when, who, and a note (free text: its row of the field matrix is `note`).
macro_rules! transition_object {
    ($(#[$meta:meta])* $name:ident($model:ty): $domain:ident => $gql:ident, note: $note:expr) => {
        $(#[$meta])*
        pub struct $name(pub $model);

        #[async_graphql::Object]
        impl $name {
            async fn from(&self) -> async_graphql::Result<Option<$gql>> {
                match &self.0.from_status {
                    Some(s) => Ok(Some(crate::graphql::types::stored(crate::domain::$domain::from_stored(s))?.into())),
                    None => Ok(None),
                }
            }
            async fn to(&self) -> async_graphql::Result<$gql> {
                Ok(crate::graphql::types::stored(crate::domain::$domain::from_stored(&self.0.to_status))?.into())
            }
            /// When the step was recorded (the service's clock).
            async fn at(&self) -> chrono::DateTime<chrono::Utc> {
                self.0.at
            }
            /// The day the step happened, as the person who reported it said (the day it was
            /// recorded when they did not say). Metrics and milestones count by this day.
            async fn on(&self) -> chrono::NaiveDate {
                self.0.effective_on
            }
            /// The user who made the transition.
            async fn actor_id(&self) -> Option<async_graphql::ID> {
                self.0.actor_user_id.clone().map(async_graphql::ID)
            }
            async fn note(&self, ctx: &async_graphql::Context<'_>) -> async_graphql::Result<Option<&str>> {
                crate::graphql::types::shown(ctx, $note, self.0.note.as_deref())
            }
        }
    };
}
pub(crate) use transition_object;

transition_object!(
    /// One step in an enrolment's history.
    EnrolmentTransition(enrolment_transition::Model): EnrolmentStatus => EnrolmentStatus,
    note: Field::EnrolmentTransitionNote
);

/// A parent, carer or trusted adult around a child.
pub struct Relationship {
    model: relationship::Model,
    view: ChildView,
}

impl Relationship {
    /// Notes the read in the operation's read log (see [`Child::new`]).
    pub fn new(ctx: &Context<'_>, model: relationship::Model) -> Result<Self> {
        crate::graphql::read_audit::note(ctx, "Relationship", &model.child_id)?;
        Ok(Relationship { model, view: view(ctx)? })
    }
}

#[Object]
impl Relationship {
    async fn id(&self) -> ID {
        ID(self.model.id.clone())
    }
    async fn kind(&self) -> Result<RelationshipKind> {
        Ok(stored(domain::RelationshipKind::from_stored(&self.model.kind))?.into())
    }
    async fn name(&self) -> Option<&str> {
        access::may_see(self.view, Field::RelationshipName).then_some(self.model.name.as_str())
    }
    async fn involvement(&self) -> Result<Involvement> {
        Ok(stored(domain::Involvement::from_stored(&self.model.involvement))?.into())
    }
    async fn parental_responsibility(&self) -> bool {
        self.model.parental_responsibility
    }
    async fn phone(&self) -> Option<&str> {
        self.model.phone.as_deref().filter(|_| access::may_see(self.view, Field::RelationshipPhone))
    }
    async fn notes(&self) -> Option<&str> {
        self.model.notes.as_deref().filter(|_| access::may_see(self.view, Field::RelationshipNotes))
    }
    /// Corrections of this relationship, oldest first.
    async fn corrections(&self, ctx: &Context<'_>) -> Result<Vec<crate::graphql::corrections::Correction>> {
        crate::graphql::corrections::of_record(ctx, &self.model.id).await
    }
}

/// The family's agreement to take part in the programme.
pub struct ParticipationAgreement {
    model: participation::Model,
    view: ChildView,
}

impl ParticipationAgreement {
    /// Notes the read in the operation's read log (see [`Child::new`]).
    pub fn new(ctx: &Context<'_>, model: participation::Model) -> Result<Self> {
        crate::graphql::read_audit::note(ctx, "ParticipationAgreement", &model.child_id)?;
        Ok(ParticipationAgreement { model, view: view(ctx)? })
    }
}

#[Object]
impl ParticipationAgreement {
    async fn id(&self) -> ID {
        ID(self.model.id.clone())
    }
    async fn agreed_by(&self) -> Result<GiverKind> {
        Ok(stored(domain::GiverKind::from_stored(&self.model.agreed_by))?.into())
    }
    async fn agreed_by_name(&self) -> Option<&str> {
        access::may_see(self.view, Field::ParticipationAgreedByName).then_some(self.model.agreed_by_name.as_str())
    }
    async fn agreed_on(&self) -> NaiveDate {
        self.model.agreed_on
    }
    /// How the agreement was evidenced (free text: null outside the full view).
    async fn evidence(&self) -> Option<&str> {
        access::may_see(self.view, Field::ParticipationEvidence).then_some(self.model.evidence.as_str())
    }
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.model.recorded_at
    }
}

/// The lawful basis on which the backbone processes a child's record.
pub struct LawfulBasis(lawful_basis::Model);

impl LawfulBasis {
    /// Notes the read in the operation's read log (see [`Child::new`]).
    pub fn new(ctx: &Context<'_>, model: lawful_basis::Model) -> Result<Self> {
        crate::graphql::read_audit::note(ctx, "LawfulBasis", &model.child_id)?;
        Ok(LawfulBasis(model))
    }
}

#[Object]
impl LawfulBasis {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn basis(&self) -> Result<LawfulBasisKind> {
        Ok(stored(domain::LawfulBasisKind::from_stored(&self.0.basis))?.into())
    }
    async fn special_category(&self) -> Result<Option<SpecialCategoryCondition>> {
        match &self.0.special_category {
            Some(s) => Ok(Some(stored(domain::SpecialCategoryCondition::from_stored(s))?.into())),
            None => Ok(None),
        }
    }
    /// The data-sharing agreement it is recorded under.
    async fn data_sharing_agreement(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        shown(ctx, Field::LawfulBasisDataSharingAgreement, Some(self.0.data_sharing_agreement.as_str()))
    }
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.0.recorded_at
    }
}

/// Consent to share the child's record onward: a history entry, never deleted.
pub struct Consent {
    model: consent::Model,
    view: ChildView,
}

impl Consent {
    /// Notes the read in the operation's read log (see [`Child::new`]).
    pub fn new(ctx: &Context<'_>, model: consent::Model) -> Result<Self> {
        crate::graphql::read_audit::note(ctx, "Consent", &model.child_id)?;
        Ok(Consent { model, view: view(ctx)? })
    }
}

#[Object]
impl Consent {
    async fn id(&self) -> ID {
        ID(self.model.id.clone())
    }
    async fn given_by(&self) -> Result<GiverKind> {
        Ok(stored(domain::GiverKind::from_stored(&self.model.given_by))?.into())
    }
    async fn given_by_name(&self) -> Option<&str> {
        access::may_see(self.view, Field::ConsentGivenByName).then_some(self.model.given_by_name.as_str())
    }
    async fn given_on(&self) -> NaiveDate {
        self.model.given_on
    }
    async fn purposes(&self) -> Result<Vec<Purpose>> {
        self.model
            .purposes
            .split(',')
            .filter(|p| !p.is_empty())
            .map(|p| Ok(stored(domain::Purpose::from_stored(p))?.into()))
            .collect()
    }
    /// The partner organisations this consent covers.
    async fn partners(&self, ctx: &Context<'_>) -> Result<Vec<Organisation>> {
        let ids = loader(ctx)?.load_one(PartnersOfConsent(self.model.id.clone())).await.map_err(shared)?;
        let orgs =
            loader(ctx)?.load_many(ids.unwrap_or_default().into_iter().map(OrganisationById)).await.map_err(shared)?;
        let mut list: Vec<Organisation> = orgs.into_values().map(Organisation).collect();
        list.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        Ok(list)
    }
    /// How the consent was evidenced (free text: null outside the full view).
    async fn evidence(&self) -> Option<&str> {
        access::may_see(self.view, Field::ConsentEvidence).then_some(self.model.evidence.as_str())
    }
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.model.recorded_at
    }
    /// Whether the consent has been withdrawn (it then covers nothing).
    async fn withdrawn(&self) -> bool {
        self.model.withdrawn_at.is_some()
    }
    async fn withdrawn_on(&self) -> Option<NaiveDate> {
        self.model.withdrawn_on
    }
    /// Free text: null outside the full view.
    async fn withdrawal_reason(&self) -> Option<&str> {
        self.model.withdrawal_reason.as_deref().filter(|_| access::may_see(self.view, Field::ConsentWithdrawalReason))
    }
}

/// What `login` returns.
pub struct LoginPayload {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: User,
}

#[Object]
impl LoginPayload {
    /// Send as `Authorization: Bearer <token>`.
    async fn token(&self) -> &str {
        &self.token
    }
    async fn expires_at(&self) -> DateTime<Utc> {
        self.expires_at
    }
    async fn user(&self) -> &User {
        &self.user
    }
}
