//! Use cases: the verbs of the partnership, their validation and state machines. Every
//! function takes the caller first (`&Actor`), asks `access` whether they may, and writes
//! through an [`crate::audit::Audited`] transaction so that the audit event lands with
//! the change or not at all. No GraphQL types here.

pub mod accounts;
pub mod break_glass;
pub mod casework;
pub mod children;
pub mod consent;
pub mod contracts;
pub mod corrections;
pub mod csv_out;
pub mod directory;
pub mod disclosure;
pub mod engagement;
pub mod enrolment;
pub mod erasure;
pub mod metrics;
pub mod milestones;
pub mod outcomes;
pub mod plans;
pub mod programmes;
pub mod referrals;
pub mod retention;
pub mod screening;
pub mod sessions;
pub mod sharing;
pub mod subject_access;
pub mod validate;
pub mod worklist;

use crate::error::{Error, Result};

/// What a use case that changes a child's record answers with: the child and the record it
/// wrote, both as its own transaction saw them when it committed. Resolvers build their
/// answer from these, never from a second read that could fail after the commit (and so
/// answer an error for a change that was made).
#[derive(Debug, Clone)]
pub struct ChildChange<T> {
    pub child: crate::store::child::Model,
    pub change: T,
}

/// Declares an enumeration stored as a short string, with its one spelling in the
/// database.
macro_rules! str_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored spelling.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Reads a stored spelling; an unknown one means the database was edited by
            /// hand or a migration is missing.
            pub fn from_stored(text: &str) -> Result<Self> {
                match text {
                    $($text => Ok($name::$variant),)+
                    other => Err(Error::Internal(anyhow::anyhow!(
                        "unknown {} value in the database: {other:?}", stringify!($name)
                    ))),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

str_enum! {
    /// What an organisation is to the partnership.
    pub enum OrganisationKind {
        Backbone => "backbone",
        Anchor => "anchor",
        Partner => "partner",
        Funder => "funder",
    }
}

str_enum! {
    /// A member's role; each belongs to one organisation kind (see [`Role::organisation_kind`]).
    pub enum Role {
        LinkWorker => "link_worker",
        AnchorLead => "anchor_lead",
        PartnerWorker => "partner_worker",
        PartnerLead => "partner_lead",
        Funder => "funder",
        BackboneAnalyst => "backbone_analyst",
        BackboneAdmin => "backbone_admin",
        /// Seeds, imports and jobs: never a person, never logs in.
        System => "system",
    }
}

impl Role {
    /// The kind of organisation a member with this role belongs to.
    pub fn organisation_kind(self) -> OrganisationKind {
        match self {
            Role::LinkWorker | Role::AnchorLead => OrganisationKind::Anchor,
            Role::PartnerWorker | Role::PartnerLead => OrganisationKind::Partner,
            Role::Funder => OrganisationKind::Funder,
            Role::BackboneAnalyst | Role::BackboneAdmin | Role::System => OrganisationKind::Backbone,
        }
    }
}

str_enum! {
    /// How an adult is related to a child.
    pub enum RelationshipKind {
        Parent => "parent",
        Carer => "carer",
        TrustedAdult => "trusted_adult",
    }
}

str_enum! {
    /// How an adult around the child is involved in their support.
    pub enum Involvement {
        MainContact => "main_contact",
        AttendsReviews => "attends_reviews",
        ReceivesUpdates => "receives_updates",
        SupportsAtHome => "supports_at_home",
        Mentor => "mentor",
    }
}

str_enum! {
    /// Who gave an agreement or a consent.
    pub enum GiverKind {
        Parent => "parent",
        Carer => "carer",
        Child => "child",
    }
}

str_enum! {
    /// UK GDPR Article 6 bases on which the backbone processes a child's record.
    pub enum LawfulBasisKind {
        PublicTask => "public_task",
        LegitimateInterests => "legitimate_interests",
        LegalObligation => "legal_obligation",
        VitalInterests => "vital_interests",
    }
}

str_enum! {
    /// UK GDPR Article 9 / DPA 2018 Schedule 1 conditions for special-category data
    /// (health, SEND).
    pub enum SpecialCategoryCondition {
        SubstantialPublicInterest => "substantial_public_interest",
        HealthOrSocialCare => "health_or_social_care",
        ExplicitConsent => "explicit_consent",
    }
}

str_enum! {
    /// What an onward share of the record may be used for.
    pub enum Purpose {
        Referral => "referral",
        ProgressMonitoring => "progress_monitoring",
        Evaluation => "evaluation",
    }
}

str_enum! {
    /// A child's place in the programme.
    pub enum EnrolmentStatus {
        Identified => "identified",
        Consented => "consented",
        Enrolled => "enrolled",
        Active => "active",
        Completed => "completed",
        Exited => "exited",
    }
}

str_enum! {
    /// Why a child left the programme before completing it.
    pub enum ExitReason {
        MovedAway => "moved_away",
        FamilyWithdrew => "family_withdrew",
        StatutoryServices => "statutory_services",
        Disengaged => "disengaged",
        Other => "other",
    }
}

str_enum! {
    /// The outcome domains of the common "whole child" scale that programmes serve.
    pub enum OutcomeDomain {
        EmotionalWellbeing => "emotional_wellbeing",
        Relationships => "relationships",
        ConfidenceAspiration => "confidence_aspiration",
        ProgressAtSchool => "progress_at_school",
        AttendanceEngagement => "attendance_engagement",
    }
}

str_enum! {
    /// When in the two-year programme an assessment was taken.
    pub enum AssessmentStage {
        Baseline => "baseline",
        /// A termly review.
        Review => "review",
        /// One year in.
        Midpoint => "midpoint",
        /// Two years in.
        Endpoint => "endpoint",
    }
}

str_enum! {
    /// Statutory support a pupil already receives; such a pupil is not a candidate.
    pub enum StatutorySupport {
        /// Looked after by the local authority.
        InCare => "in_care",
        /// On the edge of care: supported by children's social care to stay at home.
        EdgeOfCare => "edge_of_care",
    }
}

str_enum! {
    /// A screening rule that flagged a pupil (see the framework's `[screening]` section).
    pub enum ScreeningReason {
        /// Attendance below `attendance_below`.
        LowAttendance => "low_attendance",
        /// At risk in at least `at_risk_areas_at_least` areas.
        AtRiskAreas => "at_risk_areas",
        /// A practitioner raised a concern.
        PractitionerConcern => "practitioner_concern",
    }
}

str_enum! {
    /// Where a screened pupil stands.
    pub enum ScreeningStatus {
        /// Flagged by the rules, waiting for a link worker.
        Candidate => "candidate",
        /// Flagged, but already receiving statutory support.
        Excluded => "excluded",
        /// Accepted: the child is identified.
        Accepted => "accepted",
    }
}

str_enum! {
    /// Whether a programme takes referrals.
    pub enum ProgrammeStatus {
        Active => "active",
        Paused => "paused",
    }
}

str_enum! {
    /// How a programme is attended (Open Referral UK `attending_type`).
    pub enum AttendingType {
        InPerson => "in_person",
        Online => "online",
        Both => "both",
    }
}

str_enum! {
    /// A referral of a child to a programme: proposed → sent → accepted | declined →
    /// active → completed, or withdrawn from any open state.
    pub enum ReferralStatus {
        Proposed => "proposed",
        Sent => "sent",
        Accepted => "accepted",
        Declined => "declined",
        Active => "active",
        Completed => "completed",
        Withdrawn => "withdrawn",
    }
}

impl ReferralStatus {
    /// The statuses in which the partner may see the child (with consent).
    pub const LIVE: &'static [ReferralStatus] =
        &[ReferralStatus::Sent, ReferralStatus::Accepted, ReferralStatus::Active];
    /// The statuses still open: they move with the child on handover.
    pub const OPEN: &'static [ReferralStatus] =
        &[ReferralStatus::Proposed, ReferralStatus::Sent, ReferralStatus::Accepted, ReferralStatus::Active];
    /// The statuses that take up one of the programme's places.
    pub const PLACED: &'static [ReferralStatus] = &[ReferralStatus::Accepted, ReferralStatus::Active];

    /// Stored spellings of a set of statuses, for queries.
    pub fn spellings(set: &[ReferralStatus]) -> Vec<&'static str> {
        set.iter().map(|s| s.as_str()).collect()
    }
}

str_enum! {
    /// How a session was delivered.
    pub enum SessionKind {
        Group => "group",
        OneToOne => "one_to_one",
    }
}

str_enum! {
    /// A child's attendance at a session.
    pub enum AttendanceStatus {
        Attended => "attended",
        Absent => "absent",
        /// The session did not happen for this child (not counted as offered).
        Cancelled => "cancelled",
    }
}

str_enum! {
    /// A link worker's contact: informal (a chat at the gate) or formal (a planned meeting).
    pub enum ContactKind {
        Informal => "informal",
        Formal => "formal",
    }
}

str_enum! {
    /// Who a link worker's contact was with.
    pub enum ContactParty {
        Child => "child",
        Parent => "parent",
        TrustedAdult => "trusted_adult",
        SchoolStaff => "school_staff",
    }
}

str_enum! {
    /// Who may read a progress note.
    pub enum NoteVisibility {
        /// The author's organisation only.
        Organisation => "organisation",
        /// The author's organisation and the child's link worker (and anchor lead).
        SharedWithLinkWorker => "shared_with_link_worker",
    }
}

str_enum! {
    /// A kind of record a user may correct (`domain::corrections`), named as its GraphQL type.
    pub enum CorrectedRecord {
        Child => "Child",
        Relationship => "Relationship",
        Contact => "Contact",
        ProgressNote => "ProgressNote",
        Attendance => "AttendanceRecord",
    }
}

/// A child's engagement in one session: 1 disengaged, 2 participating, 3 fully engaged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Engagement {
    Disengaged = 1,
    Participating = 2,
    FullyEngaged = 3,
}

impl Engagement {
    pub fn level(self) -> i16 {
        self as i16
    }

    /// As the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Engagement::Disengaged => "disengaged",
            Engagement::Participating => "participating",
            Engagement::FullyEngaged => "fully_engaged",
        }
    }

    pub fn from_level(level: i16) -> Result<Engagement> {
        match level {
            1 => Ok(Engagement::Disengaged),
            2 => Ok(Engagement::Participating),
            3 => Ok(Engagement::FullyEngaged),
            other => Err(Error::Internal(anyhow::anyhow!("unknown engagement level in the database: {other}"))),
        }
    }
}

/// Age in whole years on `on`.
pub fn age_on(born: chrono::NaiveDate, on: chrono::NaiveDate) -> i32 {
    use chrono::Datelike;
    let mut age = on.year() - born.year();
    if (on.month(), on.day()) < (born.month(), born.day()) {
        age -= 1;
    }
    age
}

/// Reads a comma-separated list of stored spellings.
pub fn parse_list<T>(stored: &str, parse: impl Fn(&str) -> Result<T>) -> Result<Vec<T>> {
    stored.split(',').filter(|p| !p.is_empty()).map(parse).collect()
}

/// Writes a set of values as a sorted, de-duplicated, comma-separated list.
pub fn join_list<T: Copy>(values: &[T], spell: impl Fn(T) -> &'static str) -> String {
    let mut spelt: Vec<&str> = values.iter().map(|v| spell(*v)).collect();
    spelt.sort_unstable();
    spelt.dedup();
    spelt.join(",")
}

/// A page request for a keyset-paginated list: at most `first` items after the item whose
/// id is `after` (ids are UUIDv7, so id order is creation order).
#[derive(Clone, Debug)]
pub struct PageRequest {
    pub first: u64,
    pub after: Option<String>,
}

impl PageRequest {
    /// Checks `first` against the configured maximum (`INVALID_INPUT` naming `first`).
    pub fn new(first: Option<i32>, after: Option<String>, default: usize, max: usize) -> Result<PageRequest> {
        let first = match first {
            None => default as u64,
            Some(n) if n < 1 => return Err(Error::invalid("first", "must be at least 1")),
            Some(n) if n as usize > max => {
                return Err(Error::invalid("first", format!("must be at most {max} (the page size limit)")));
            }
            Some(n) => n as u64,
        };
        Ok(PageRequest { first, after })
    }
}

/// One page of a list, and whether more follow.
#[derive(Clone, Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_next_page: bool,
}

/// Keyset pagination by id (UUIDv7, so creation order): the one way every list pages.
pub async fn keyset_page<E, C>(
    conn: &C,
    query: sea_orm::Select<E>,
    id: E::Column,
    page: PageRequest,
) -> Result<Page<E::Model>>
where
    E: sea_orm::EntityTrait,
    C: sea_orm::ConnectionTrait,
{
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
    let mut query = query;
    if let Some(after) = page.after {
        query = query.filter(id.gt(after));
    }
    let mut items = query.order_by_asc(id).limit(page.first + 1).all(conn).await?;
    let has_next_page = items.len() as u64 > page.first;
    items.truncate(page.first as usize);
    Ok(Page { items, has_next_page })
}
