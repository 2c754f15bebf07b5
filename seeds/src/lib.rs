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
//! The generator uses its own small fixed-seed PRNG and a fixed reference date
//! ([`REFERENCE_DATE`], 2026-09-01) instead of the clock, so [`demo_zone`] returns
//! exactly the same zone on every call and on every machine.

use chrono::NaiveDate;

mod demo;

/// Password shared by every demo account. Demo use only.
pub const DEMO_PASSWORD: &str = "demo";

/// The demo zone's "today": the first day of the 2026/27 school year. All generated
/// dates are on or before it, and year groups are as of this date.
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
    /// E-mail of the link worker holding the child's case, at the child's anchor.
    pub link_worker_email: Option<String>,
    /// `Some` exactly when the stage is [`Stage::Consented`] or later.
    pub participation: Option<Participation>,
    /// `Some` exactly when the stage is [`Stage::Enrolled`] or later.
    pub lawful_basis: Option<LawfulBasis>,
    /// Onward-sharing consent history (oldest first); empty at [`Stage::Identified`].
    pub consents: Vec<Consent>,
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
