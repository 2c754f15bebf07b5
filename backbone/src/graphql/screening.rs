//! GraphQL types of needs identification: the anchor-data import's summary, and the
//! ranked candidates with the reasons the rules gave. Resolvers live in `query.rs` and
//! `mutation.rs`; the rules and who may see what live in `domain::screening` and `access`.

use crate::domain::{self, screening};
use crate::graphql::inputs::CharacteristicsInput;
use crate::graphql::types::{Organisation, organisation_by_id, stored};
use crate::store::screening as store;
use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

/// A screening rule that flagged a pupil (the framework's `[screening]` section).
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::ScreeningReason")]
pub enum ScreeningReason {
    /// Attendance below the framework's `attendance_below`.
    LowAttendance,
    /// At risk in at least `at_risk_areas_at_least` areas of the common scale.
    AtRiskAreas,
    /// A practitioner raised a concern.
    PractitionerConcern,
}

/// Statutory support a pupil already receives.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::StatutorySupport")]
pub enum StatutorySupport {
    /// Looked after by the local authority.
    InCare,
    /// On the edge of care.
    EdgeOfCare,
}

/// Which earlier candidates of the anchor an import replaces (accepted ones never).
#[derive(Enum, Copy, Clone, Debug, Default, Eq, PartialEq)]
#[graphql(remote = "crate::domain::screening::ImportMode")]
pub enum AnchorDataImportMode {
    /// Only those of the pupils in the file (the default): sending one year group keeps
    /// the other year groups' candidates.
    #[default]
    PupilsInFile,
    /// All of them: the file is the anchor's whole current data.
    ReplaceAll,
}

/// Why a pupil was flagged, for a person to read.
#[derive(SimpleObject)]
pub struct CandidateReason {
    pub code: ScreeningReason,
    pub message: String,
}

/// A pupil the screening rules flagged at an anchor: their UPN and indicators only (no
/// name until a link worker accepts them). Excluded pupils already receive statutory
/// support and are listed after the candidates, with that reason.
pub struct Candidate(pub store::Model);

#[Object]
impl Candidate {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn anchor(&self, ctx: &Context<'_>) -> Result<Organisation> {
        organisation_by_id(ctx, &self.0.anchor_id).await
    }
    /// The pupil's Unique Pupil Number, from the anchor's data.
    async fn upn(&self) -> &str {
        &self.0.upn
    }
    async fn attendance_percent(&self) -> Option<f64> {
        self.0.attendance_percent
    }
    /// Attainment against expected: `below`, `working_towards`, `at`, `above`.
    async fn attainment(&self) -> Option<&str> {
        self.0.attainment.as_deref()
    }
    async fn wellbeing_score(&self) -> Option<i32> {
        self.0.wellbeing_score.map(i32::from)
    }
    async fn practitioner_concern(&self) -> bool {
        self.0.practitioner_concern
    }
    /// In how many areas of the common scale the indicators are at risk.
    async fn at_risk_areas(&self) -> i32 {
        i32::from(self.0.at_risk_areas)
    }
    /// The rules that flagged the pupil, in the framework's order.
    async fn reasons(&self) -> Result<Vec<CandidateReason>> {
        let reasons: Vec<screening::Reason> = serde_json::from_str(&self.0.reasons)
            .map_err(|e| crate::graphql::errors::to_gql(&crate::error::Error::Internal(e.into())))?;
        reasons
            .into_iter()
            .map(|r| Ok(CandidateReason { code: stored(r.code())?.into(), message: r.message }))
            .collect()
    }
    /// True when the pupil already receives statutory support and is not a candidate.
    async fn excluded(&self) -> bool {
        self.0.status == domain::ScreeningStatus::Excluded.as_str()
    }
    /// The statutory support that excludes the pupil, if any.
    async fn statutory_support(&self) -> Result<Option<StatutorySupport>> {
        self.0
            .statutory_support
            .as_deref()
            .map(|s| stored(domain::StatutorySupport::from_stored(s)).map(Into::into))
            .transpose()
    }
    /// Why the pupil is excluded, for a person to read; null for candidates.
    async fn exclusion_reason(&self) -> Option<String> {
        self.0.statutory_support.as_deref().map(|s| {
            format!("already receives statutory support ({}): not a candidate for the programme", s.replace('_', " "))
        })
    }
    /// The outcomes framework version whose rules flagged the pupil.
    async fn framework_version(&self) -> i32 {
        self.0.framework_version
    }
    async fn imported_at(&self) -> DateTime<Utc> {
        self.0.imported_at
    }
    /// After this, the row is no longer listed and the retention schedule (`backbone purge`) deletes it.
    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.expires_at
    }
}

/// What an anchor-data import did. Only flagged rows are stored.
pub struct AnchorDataImport(pub screening::ImportSummary);

#[Object]
impl AnchorDataImport {
    async fn anchor(&self, ctx: &Context<'_>) -> Result<Organisation> {
        organisation_by_id(ctx, &self.0.anchor_id).await
    }
    /// Rows in the file.
    async fn rows(&self) -> i32 {
        self.0.rows as i32
    }
    /// Flagged pupils now listed as candidates.
    async fn candidates(&self) -> i32 {
        self.0.candidates as i32
    }
    /// Flagged pupils listed as excluded (already receiving statutory support).
    async fn excluded(&self) -> i32 {
        self.0.excluded as i32
    }
    /// Rows of children already in the zone (matched by UPN; not stored).
    async fn already_identified(&self) -> i32 {
        self.0.already_identified as i32
    }
    /// Rows no rule flagged (not stored).
    async fn not_flagged(&self) -> i32 {
        self.0.not_flagged as i32
    }
    /// Earlier, unaccepted rows of this anchor that the import replaced.
    async fn replaced(&self) -> i32 {
        self.0.replaced as i32
    }
    /// The outcomes framework version whose rules were applied.
    async fn framework_version(&self) -> i32 {
        self.0.framework_version
    }
    /// When the stored rows expire.
    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.expires_at
    }
}

/// Accepting a candidate: the child's details, which anchor data never holds. The UPN and
/// the anchor come from the candidate.
#[derive(InputObject)]
pub struct AcceptCandidateInput {
    pub candidate_id: ID,
    pub first_name: String,
    pub last_name: String,
    /// `YYYY-MM-DD`.
    pub date_of_birth: String,
    /// -1 nursery, 0 reception, 1–13.
    pub year_group: i64,
    pub contact_phone: Option<String>,
    pub contact_email: Option<String>,
    pub postcode: Option<String>,
    pub characteristics: Option<CharacteristicsInput>,
    /// Kept in the enrolment history; the screening reasons are recorded with the candidate.
    pub note: Option<String>,
    /// The day the child was identified, `YYYY-MM-DD` (today when not given): not in the
    /// future, not before the child was born.
    pub on: Option<String>,
    /// You have checked that a child already recorded at the anchor with the same name
    /// and date of birth is another child: accept this one all the same (audited).
    #[graphql(default)]
    pub confirm_not_duplicate: bool,
}

impl AcceptCandidateInput {
    /// The candidate's id and the child's details.
    pub fn split(self) -> (String, domain::children::NewChild) {
        let c = self.characteristics.unwrap_or_default();
        let child = domain::children::NewChild {
            first_name: self.first_name,
            last_name: self.last_name,
            date_of_birth: self.date_of_birth,
            anchor_id: None,
            year_group: crate::graphql::inputs::int(self.year_group),
            upn: None,
            contact_phone: self.contact_phone,
            contact_email: self.contact_email,
            postcode: self.postcode,
            free_school_meals: c.free_school_meals,
            send: c.send,
            eal: c.eal,
            looked_after: c.looked_after,
            note: self.note,
            on: self.on,
            confirm_not_duplicate: self.confirm_not_duplicate,
        };
        (self.candidate_id.0, child)
    }
}
