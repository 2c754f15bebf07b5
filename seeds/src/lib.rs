//! Deterministic demo data for backbone: one invented "Northfield" zone with its
//! backbone team, two anchor schools, four partner charities, a funder, demo staff
//! accounts, and 200 children at various stages of support.
//!
//! **Everything here is synthetic.** Names are common first names and surnames
//! combined at random, phone numbers are in Ofcom's drama range
//! (`07700 900000`–`07700 900999`), e-mail addresses use `example.org` (children and
//! families) or `demo.zone` (staff accounts), postcodes use the non-existent `ZZ`
//! area, and UPNs use the invented local-authority code `999`. No real personal data
//! may ever be added to this crate.
//!
//! Around the children sits the partnership's brokering work, also invented: each partner
//! offers two or three [`Programme`]s that ran sessions over the summer term 2026 (or
//! start in September), children have [`Referral`]s to them in every status, link
//! workers log [`Contact`]s, link workers and partners write [`ProgressNote`]s, and one
//! [`SafeguardingConcern`] has been raised.
//!
//! Enrolled children (and later) are assessed on the common outcomes scale of the
//! default framework ([`framework::default_framework`]): a baseline around enrolment,
//! termly reviews, a midpoint at the end of the first school year of support and an
//! endpoint for those who completed. Some improve, some hold steady and some fall back
//! (see [`Assessment`]).
//!
//! Apart from the zone, [`screening`] generates an anchor school's data for needs
//! identification as CSV, with the committed sample `seeds/anchor-data/sample.csv`.
//!
//! The generator uses its own small fixed-seed PRNG and a fixed reference date
//! ([`REFERENCE_DATE`], 2026-09-01) instead of the clock, so [`demo_zone`] returns
//! exactly the same zone on every call and on every machine.

use chrono::NaiveDate;

mod assessments;
mod demo;
pub mod framework;
pub mod retention;
pub mod screening;
mod steps;
mod support;

/// Password shared by every demo account. Demo use only.
pub const DEMO_PASSWORD: &str = "demo";

/// The demo zone's "today": the first day of the 2026/27 school year. All generated
/// dates are on or before it, except the steps of the enrolments (and referrals) that move
/// on in the autumn term 2026, up to [`LAST_STEP_DATE`]; year groups are as of this date.
pub const REFERENCE_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2026, 9, 1) {
    Some(date) => date,
    None => panic!("2026-09-01 is a valid date"),
};

/// Builds the demo zone. Deterministic: every call returns an equal value.
pub fn demo_zone() -> DemoZone {
    demo::generate()
}

/// Check letters for UPNs, indexed by the weighted sum modulo 23 (no I, O or S).
const UPN_CHECK_LETTERS: &[u8; 23] = b"ABCDEFGHJKLMNPQRTUVWXYZ";

/// Computes the check letter (the first character) of a Unique Pupil Number.
///
/// `body` is the remaining 12 characters: 3-digit local-authority code, 4-digit
/// school number, 2-digit year of allocation and 3-digit serial. Each digit is
/// multiplied by its position in the full UPN (weights 2 to 13), the products are
/// summed, and the remainder modulo 23 selects a letter from
/// `ABCDEFGHJKLMNPQRTUVWXYZ`. Returns `None` unless `body` is exactly 12 ASCII digits.
pub fn upn_check_letter(body: &str) -> Option<char> {
    if body.len() != 12 || !body.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sum: u32 = body.bytes().zip(2u32..).map(|(digit, weight)| u32::from(digit - b'0') * weight).sum();
    UPN_CHECK_LETTERS.get((sum % 23) as usize).map(|&letter| char::from(letter))
}

/// The whole demo zone: organisations, staff accounts and children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoZone {
    /// Backbone, anchors, partners and funder, in that order.
    pub organisations: Vec<Organisation>,
    /// One staff account per role, plus two extra link workers.
    pub accounts: Vec<Account>,
    /// 200 children: 110 at the primary anchor, then 90 at the secondary anchor.
    pub children: Vec<Child>,
    /// Two or three programmes per partner, in partner order, each with its sessions.
    pub programmes: Vec<Programme>,
}

impl DemoZone {
    /// The programme with this key.
    pub fn programme(&self, key: &str) -> Option<&Programme> {
        self.programmes.iter().find(|p| p.key == key)
    }
}

/// What part an organisation plays in the partnership.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrganisationKind {
    /// The backbone team that coordinates the zone.
    Backbone,
    /// A school at the heart of the zone, where children are identified.
    Anchor,
    /// A charity delivering support to children.
    Partner,
    /// A funder, who sees aggregate reporting only.
    Funder,
}

/// An organisation in the zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    /// Stable key used to refer to the organisation, e.g. `anchor-primary`.
    pub key: String,
    /// Display name.
    pub name: String,
    /// The organisation's part in the partnership.
    pub kind: OrganisationKind,
}

/// A staff member's role within their organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Anchor-school staff member holding a caseload of children.
    LinkWorker,
    /// Lead for the partnership at an anchor school.
    AnchorLead,
    /// Partner-charity staff member working with children.
    PartnerWorker,
    /// Lead for the partnership at a partner charity.
    PartnerLead,
    /// Funder representative.
    Funder,
    /// Backbone analyst (evaluation and reporting).
    BackboneAnalyst,
    /// Backbone administrator.
    BackboneAdmin,
}

/// A demo staff account. Every account's password is [`DEMO_PASSWORD`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Login e-mail, always at `demo.zone`.
    pub email: String,
    /// Invented display name.
    pub display_name: String,
    /// Key of the [`Organisation`] the account belongs to.
    pub organisation_key: String,
    /// Role within that organisation.
    pub role: Role,
    /// Whether this person is their organisation's designated safeguarding lead.
    pub designated_safeguarding_lead: bool,
}

/// How an adult is related to a child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelationshipKind {
    /// A parent (birth, adoptive or step-parent).
    Parent,
    /// A carer: kinship carer, special guardian or foster carer.
    Carer,
    /// A trusted adult outside the family, such as a sports coach or teacher.
    TrustedAdult,
}

/// How an adult is involved in the child's support.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Involvement {
    /// The first person to contact about the child.
    MainContact,
    /// Comes to review meetings.
    AttendsReviews,
    /// Kept informed of progress.
    ReceivesUpdates,
    /// Supports the child's plan at home.
    SupportsAtHome,
    /// Mentors the child.
    Mentor,
}

/// An adult in the child's life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relationship {
    /// How the adult is related to the child.
    pub kind: RelationshipKind,
    /// Invented full name.
    pub name: String,
    /// How the adult is involved in the child's support.
    pub involvement: Involvement,
    /// Whether the adult holds parental responsibility for the child.
    pub parental_responsibility: bool,
    /// Phone number in the drama range, if recorded.
    pub phone: Option<String>,
}

/// Who gave an agreement or consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiverKind {
    /// A parent.
    Parent,
    /// A carer.
    Carer,
    /// The child themself (secondary pupils aged 13 or over only).
    Child,
}

/// The family's agreement to take part in the programme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participation {
    /// Who agreed.
    pub agreed_by: GiverKind,
    /// Name of the person who agreed.
    pub agreed_by_name: String,
    /// When they agreed (after the child was identified).
    pub agreed_on: NaiveDate,
    /// How the agreement is evidenced.
    pub evidence: String,
}

/// UK GDPR Article 6 lawful basis for processing the child's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LawfulBasisKind {
    /// Article 6(1)(e): public task.
    PublicTask,
    /// Article 6(1)(f): legitimate interests.
    LegitimateInterests,
}

/// UK GDPR Article 9 condition for special-category data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecialCategoryCondition {
    /// Article 9(2)(g): substantial public interest (e.g. safeguarding).
    SubstantialPublicInterest,
    /// Article 9(2)(h): health or social care.
    HealthOrSocialCare,
}

/// The recorded lawful basis for holding the child's record, set at enrolment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LawfulBasis {
    /// Article 6 basis.
    pub basis: LawfulBasisKind,
    /// Article 9 condition, if special-category data is held.
    pub special_category: Option<SpecialCategoryCondition>,
    /// The data-sharing agreement in force.
    pub data_sharing_agreement: String,
    /// When the basis was recorded (on or after participation was agreed).
    pub recorded_on: NaiveDate,
}

/// What onward sharing with partners is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Referring the child to a partner.
    Referral,
    /// Sharing progress between partners.
    ProgressMonitoring,
    /// Use in the programme's evaluation.
    Evaluation,
}

/// Consent to share the child's information onward with named partners.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    /// Who gave consent.
    pub given_by: GiverKind,
    /// Name of the person who gave consent.
    pub given_by_name: String,
    /// When consent was given.
    pub given_on: NaiveDate,
    /// Purposes consented to (never empty).
    pub purposes: Vec<Purpose>,
    /// Keys of the partner organisations covered (never empty).
    pub partner_keys: Vec<String>,
    /// How the consent is evidenced.
    pub evidence: String,
    /// When consent was withdrawn, if it has been.
    pub withdrawn_on: Option<NaiveDate>,
    /// Why consent was withdrawn; `Some` exactly when `withdrawn_on` is.
    pub withdrawal_reason: Option<String>,
}

/// Why a child left the programme early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitReason {
    /// The family moved out of the zone.
    MovedAway,
    /// The family withdrew from the programme.
    FamilyWithdrew,
    /// The child's needs are now met by statutory services.
    StatutoryServices,
    /// The child stopped engaging.
    Disengaged,
    /// Any other reason.
    Other,
}

/// Where a child is in the programme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Identified by the anchor school as needing extra help.
    Identified,
    /// The family has agreed to take part.
    Consented,
    /// Enrolled, with a lawful basis recorded.
    Enrolled,
    /// Receiving support.
    Active,
    /// Finished the programme.
    Completed,
    /// Left the programme early.
    Exited(ExitReason),
}

/// A child in the zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Child {
    /// Invented first name.
    pub first_name: String,
    /// Invented surname.
    pub last_name: String,
    /// Date of birth, consistent with `year_group` as of [`REFERENCE_DATE`].
    pub date_of_birth: NaiveDate,
    /// Key of the child's anchor school.
    pub anchor_key: String,
    /// Year group as of [`REFERENCE_DATE`]: 0 = Reception, 1 to 13 otherwise.
    pub year_group: i16,
    /// Unique Pupil Number with a valid check letter, if known.
    pub upn: Option<String>,
    /// Family contact phone (drama range), if recorded.
    pub contact_phone: Option<String>,
    /// Family contact e-mail at `example.org`, if recorded.
    pub contact_email: Option<String>,
    /// Home postcode in the fictional `ZZ` area.
    pub postcode: Option<String>,
    /// Eligible for free school meals.
    pub free_school_meals: bool,
    /// Has special educational needs or disabilities.
    pub send: bool,
    /// English as an additional language.
    pub eal: bool,
    /// Looked after by the local authority.
    pub looked_after: bool,
    /// One to three adults in the child's life; at least one parent or carer holds
    /// parental responsibility.
    pub relationships: Vec<Relationship>,
    /// Current stage in the programme.
    pub stage: Stage,
    /// Programme cohort, `"2025/26"` or `"2026/27"`.
    pub cohort: String,
    /// When the child was identified (within the year before [`REFERENCE_DATE`]).
    pub identified_on: NaiveDate,
    /// The days the enrolment's later steps happened (consent is `participation.agreed_on`).
    pub steps: Steps,
    /// E-mail of the link worker holding the child's case, at the child's anchor.
    pub link_worker_email: Option<String>,
    /// `Some` exactly when the stage is [`Stage::Consented`] or later.
    pub participation: Option<Participation>,
    /// `Some` exactly when the stage is [`Stage::Enrolled`] or later.
    pub lawful_basis: Option<LawfulBasis>,
    /// Onward-sharing consent history (oldest first); empty at [`Stage::Identified`].
    pub consents: Vec<Consent>,
    /// Referrals to partners' programmes, in the order they were proposed; at most one
    /// per programme. Only enrolled children (or later) have any.
    pub referrals: Vec<Referral>,
    /// The link worker's contacts with the child and family, oldest first.
    pub contacts: Vec<Contact>,
    /// Progress notes from the link worker and from partners, in the order written.
    pub notes: Vec<ProgressNote>,
    /// Safeguarding concerns raised about the child (one in the whole zone).
    pub safeguarding_concerns: Vec<SafeguardingConcern>,
    /// Assessments on the outcomes framework, oldest first; only enrolled children (or
    /// later) have any.
    pub assessments: Vec<Assessment>,
}

/// The outcome domains of the common "whole child" scale that programmes serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeDomain {
    /// Emotional wellbeing.
    EmotionalWellbeing,
    /// Relationships with family, peers and adults.
    Relationships,
    /// Confidence and aspiration.
    ConfidenceAspiration,
    /// Progress at school.
    ProgressAtSchool,
    /// Attendance and engagement at school.
    AttendanceEngagement,
}

/// How a programme is attended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttendingType {
    /// At a venue.
    InPerson,
    /// Online only.
    Online,
    /// At a venue or online.
    Both,
}

/// How a session is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    /// A group of children.
    Group,
    /// One child with one worker.
    OneToOne,
}

/// Something a partner offers children, with the sessions it has run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Programme {
    /// Stable key used to refer to the programme, e.g. `kickon-football`.
    pub key: String,
    /// Key of the partner [`Organisation`] running it.
    pub partner_key: String,
    /// Display name.
    pub name: String,
    /// What it is and who it is for.
    pub description: String,
    /// Outcome domains served (never empty).
    pub domains: Vec<OutcomeDomain>,
    /// Youngest age taken.
    pub minimum_age: u8,
    /// Oldest age taken.
    pub maximum_age: u8,
    /// In person, online or both.
    pub attending_type: AttendingType,
    /// Venue; `Some` unless the programme is online only.
    pub location_name: Option<String>,
    /// Venue postcode in the fictional `ZZ` area, if it has a venue.
    pub postcode: Option<String>,
    /// When it runs, in words.
    pub schedule: String,
    /// Places: never exceeded by referrals that took a place.
    pub capacity: u16,
    /// Sessions held, oldest first (none for a programme that starts in September).
    pub sessions: Vec<Session>,
}

/// A child's engagement in a session they attended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engagement {
    /// 1: disengaged.
    Disengaged,
    /// 2: participating.
    Participating,
    /// 3: fully engaged.
    FullyEngaged,
}

impl Engagement {
    /// The level on the 1–3 scale.
    pub fn level(self) -> u8 {
        match self {
            Engagement::Disengaged => 1,
            Engagement::Participating => 2,
            Engagement::FullyEngaged => 3,
        }
    }
}

/// A child's attendance at a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttendanceStatus {
    /// Came.
    Attended,
    /// Was expected and did not come.
    Absent,
    /// The session did not happen for this child (not counted as offered).
    Cancelled,
}

/// One line of a session's register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attendance {
    /// Index of the child in [`DemoZone::children`].
    pub child: usize,
    /// Attended, absent or cancelled.
    pub status: AttendanceStatus,
    /// `Some` exactly when the child attended.
    pub engagement: Option<Engagement>,
}

/// A session a partner held, with its register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The day it was held (on or before [`REFERENCE_DATE`]).
    pub held_on: NaiveDate,
    /// Length in minutes.
    pub duration_minutes: u16,
    /// Group or one-to-one (one child on the register).
    pub kind: SessionKind,
    /// The partner's own notes on the session, if any.
    pub notes: Option<String>,
    /// Children with a place on the programme at the time; never empty.
    pub register: Vec<Attendance>,
}

/// Where a referral of a child to a programme is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferralStatus {
    /// Drafted by the link worker; the partner has not seen it.
    Proposed,
    /// Sent to the partner, awaiting their answer.
    Sent,
    /// Accepted by the partner: holds a place, no session attended yet.
    Accepted,
    /// Declined by the partner, with a reason.
    Declined,
    /// Under way: the child has attended a session.
    Active,
    /// Finished.
    Completed,
    /// Withdrawn by the link worker, with a reason.
    Withdrawn,
}

/// The days a child's enrolment moved on after agreeing to take part, `None` for a step
/// not taken. Each is on or after the one before, after every session, contact and
/// referral step it follows; the end of an enrolment may fall in the autumn term 2026, up
/// to [`LAST_STEP_DATE`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Steps {
    /// Enrolled (with the lawful basis recorded).
    pub enrolled_on: Option<NaiveDate>,
    /// Support started (active, completed).
    pub active_on: Option<NaiveDate>,
    /// Completed or exited.
    pub ended_on: Option<NaiveDate>,
}

/// The last day the generator dates a step on (the end of an enrolment or a referral): the
/// demo is written after it, and the writer never dates a step after the day it runs.
pub const LAST_STEP_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2026, 11, 27) {
    Some(date) => date,
    None => panic!("2026-11-27 is a valid date"),
};

/// The days a referral's steps happened, `None` for a step not taken. The start (active)
/// is dated by the first session the child attended, as the service dates it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReferralDates {
    pub proposed_on: Option<NaiveDate>,
    pub sent_on: Option<NaiveDate>,
    /// Accepted or declined.
    pub answered_on: Option<NaiveDate>,
    /// Completed or withdrawn.
    pub closed_on: Option<NaiveDate>,
}

/// A referral of a child to a partner's programme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referral {
    /// Key of the [`Programme`].
    pub programme_key: String,
    /// What the partner is told: the needs relevant to this programme.
    pub needs: String,
    /// Where the referral is now.
    pub status: ReferralStatus,
    /// For a withdrawn referral, the status it was withdrawn from (proposed, sent,
    /// accepted or active); `None` otherwise.
    pub withdrawn_from: Option<ReferralStatus>,
    /// Why it was declined (the partner) or withdrawn (the link worker); `Some` exactly
    /// when the status is declined or withdrawn.
    pub reason: Option<String>,
    /// The days its steps happened.
    pub dates: ReferralDates,
}

impl Referral {
    /// The statuses the referral went through, from proposed to where it is now.
    pub fn path(&self) -> Vec<ReferralStatus> {
        use ReferralStatus::*;
        let to = |last: ReferralStatus| match last {
            Proposed => vec![Proposed],
            Sent => vec![Proposed, Sent],
            Accepted => vec![Proposed, Sent, Accepted],
            Declined => vec![Proposed, Sent, Declined],
            Active => vec![Proposed, Sent, Accepted, Active],
            Completed => vec![Proposed, Sent, Accepted, Active, Completed],
            Withdrawn => vec![Withdrawn],
        };
        match (self.status, self.withdrawn_from) {
            (Withdrawn, Some(from)) => {
                let mut path = to(from);
                path.push(Withdrawn);
                path
            }
            (status, _) => to(status),
        }
    }

    /// Whether the referral was ever in `status`.
    pub fn reached(&self, status: ReferralStatus) -> bool {
        self.path().contains(&status)
    }

    /// Whether the referral took one of the programme's places (it was accepted).
    pub fn took_a_place(&self) -> bool {
        self.reached(ReferralStatus::Accepted)
    }

    /// Whether the referral is still open (proposed, sent, accepted or active).
    pub fn is_open(&self) -> bool {
        matches!(
            self.status,
            ReferralStatus::Proposed | ReferralStatus::Sent | ReferralStatus::Accepted | ReferralStatus::Active
        )
    }
}

/// A link worker's contact: informal (a chat at the gate) or formal (a planned meeting).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactKind {
    /// A chat at the school gate, a phone call.
    Informal,
    /// A planned meeting or home visit.
    Formal,
}

/// Who a link worker's contact was with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactParty {
    /// The child.
    Child,
    /// A parent or carer.
    Parent,
    /// A trusted adult outside the family.
    TrustedAdult,
    /// School staff.
    SchoolStaff,
}

/// A contact between the child's link worker and the child or family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// When (after the family agreed to take part, on or before [`REFERENCE_DATE`]).
    pub held_on: NaiveDate,
    /// How long, in minutes.
    pub minutes: u16,
    /// Informal or formal.
    pub kind: ContactKind,
    /// Who it was with (never empty).
    pub with_whom: Vec<ContactParty>,
    /// What happened.
    pub content: String,
}

/// Who may read a progress note.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteVisibility {
    /// The author's organisation only.
    Organisation,
    /// The author's organisation and the child's link worker (and anchor lead).
    SharedWithLinkWorker,
}

/// A progress note about a child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgressNote {
    /// E-mail of the demo [`Account`] who wrote it: the child's link worker, or staff of
    /// a partner the child has a referral with.
    pub author_email: String,
    /// For a partner's note, the key of the programme whose referral it is about.
    pub programme_key: Option<String>,
    /// Who may read it.
    pub visibility: NoteVisibility,
    /// The note.
    pub body: String,
}

/// A safeguarding concern, read only by the anchor's designated safeguarding lead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafeguardingConcern {
    /// E-mail of the demo [`Account`] who raised it.
    pub raised_by_email: String,
    /// What was seen or heard, and what was done.
    pub body: String,
}

/// Which point of the two-year programme an assessment marks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssessmentStage {
    /// Around enrolment, before support starts.
    Baseline,
    /// A review at the end of a term.
    Review,
    /// One year in: in the demo, the end of the first school year of support (summer
    /// 2026) for children who started in the autumn term.
    Midpoint,
    /// The end of the programme: in the demo, the children who completed it.
    Endpoint,
}

/// A raw score as the demo enters it. A number is held exactly, as a whole number of
/// the measure's smallest steps, so that the zone can be compared with `Eq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Score {
    /// `units` steps of `10^-decimals`: `{ units: 947, decimals: 1 }` is 94.7.
    Number {
        /// The score in steps of `10^-decimals`.
        units: i64,
        /// Decimal places, as the measure allows.
        decimals: u8,
    },
    /// The `value` of one of a categorical measure's categories.
    Category(String),
}

impl Score {
    /// The number, for a numeric measure.
    pub fn number(&self) -> Option<f64> {
        match self {
            Score::Number { units, decimals } => Some(*units as f64 / 10f64.powi(i32::from(*decimals))),
            Score::Category(_) => None,
        }
    }

    /// The category's value, for a categorical measure.
    pub fn category(&self) -> Option<&str> {
        match self {
            Score::Number { .. } => None,
            Score::Category(value) => Some(value),
        }
    }

    /// The score as the framework reads it ([`framework::Measure::level_of`]).
    pub fn raw(&self) -> framework::RawValue {
        match self {
            Score::Number { .. } => framework::RawValue::Number(self.number().unwrap_or_default()),
            Score::Category(value) => framework::RawValue::Category(value.clone()),
        }
    }
}

/// One measure of the default outcomes framework taken for a child on one date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    /// Code of the measure in [`framework::default_framework`].
    pub measure: String,
    /// The raw score: valid for the measure, so it maps to a level.
    pub score: Score,
    /// Baseline, review, midpoint or endpoint.
    pub stage: AssessmentStage,
    /// When (on or after the baseline, on or before [`REFERENCE_DATE`]).
    pub assessed_on: NaiveDate,
    /// E-mail of the demo [`Account`] who records it: the child's link worker, or a
    /// partner worker whose programme the child attends.
    pub author_email: String,
    /// For a partner's assessment, the programme whose live referral lets the partner
    /// see the child.
    pub programme_key: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upn_check_letter_matches_hand_computed_values() {
        // "123456789012": 1*2 + 2*3 + 3*4 + 4*5 + 5*6 + 6*7 + 7*8 + 8*9 + 9*10
        //   + 0*11 + 1*12 + 2*13 = 368 = 16 * 23, remainder 0 -> 'A'.
        assert_eq!(upn_check_letter("123456789012"), Some('A'));
        // "999400115017": 9*2 + 9*3 + 9*4 + 4*5 + 0*6 + 0*7 + 1*8 + 1*9 + 5*10
        //   + 0*11 + 1*12 + 7*13 = 18+27+36+20+0+0+8+9+50+0+12+91 = 271;
        //   271 - 11*23 = 18 -> the 19th letter of ABCDEFGHJKLMNPQRTUVWXYZ, 'V'.
        assert_eq!(upn_check_letter("999400115017"), Some('V'));
        // "000000000001": 1*13 = 13 -> 'P' (I and O are skipped).
        assert_eq!(upn_check_letter("000000000001"), Some('P'));
        assert_eq!(upn_check_letter("000000000000"), Some('A'));
    }

    #[test]
    fn upn_check_letter_rejects_malformed_bodies() {
        assert_eq!(upn_check_letter(""), None);
        assert_eq!(upn_check_letter("12345678901"), None);
        assert_eq!(upn_check_letter("1234567890123"), None);
        assert_eq!(upn_check_letter("12345678901A"), None);
        // Twelve bytes, but the last character is a non-ASCII digit.
        assert_eq!(upn_check_letter("1234567890\u{663}"), None);
    }

    #[test]
    fn check_letters_skip_confusable_letters() {
        assert_eq!(UPN_CHECK_LETTERS.len(), 23);
        for letter in b"IOS" {
            assert!(!UPN_CHECK_LETTERS.contains(letter));
        }
    }

    #[test]
    fn reference_date_is_first_of_september_2026() {
        assert_eq!(REFERENCE_DATE.to_string(), "2026-09-01");
    }
}
