//! The demo-zone generator and its tiny PRNG. Everything produced here is invented.

use chrono::{Datelike, NaiveDate, TimeDelta};

use crate::{
    Account, Child, Consent, DemoZone, ExitReason, GiverKind, Involvement, LawfulBasis, LawfulBasisKind, Organisation,
    OrganisationKind, Participation, Purpose, REFERENCE_DATE, Relationship, RelationshipKind, Role,
    SpecialCategoryCondition, Stage, Steps, upn_check_letter,
};

/// Fixed PRNG seed ("Northfld" in ASCII). Changing it changes the whole zone.
const SEED: u64 = 0x4E6F_7274_6866_6C64;

pub(crate) const PRIMARY_CHILDREN: usize = 110;
pub(crate) const SECONDARY_CHILDREN: usize = 90;

pub(crate) const PRIMARY: &str = "anchor-primary";
pub(crate) const SECONDARY: &str = "anchor-secondary";
pub(crate) const LINK_WORKER: &str = "linkworker@demo.zone";
const LINK_WORKER_2: &str = "linkworker2@demo.zone";
const LINK_WORKER_3: &str = "linkworker3@demo.zone";
pub(crate) const PARTNER_KEYS: [&str; 4] = ["partner-1", "partner-2", "partner-3", "partner-4"];

const CHILD_FIRST_NAMES: &[&str] = &[
    "Oliver", "Amelia", "Noah", "Isla", "Muhammad", "Ava", "Leo", "Freya", "Jack", "Ivy", "Harry", "Sophia", "George",
    "Lily", "Arthur", "Grace", "Theo", "Mia", "Oscar", "Evie", "Archie", "Ella", "Aisha", "Zara", "Yusuf", "Maya",
    "Kai", "Ruby", "Ethan", "Poppy", "Jacob", "Amira", "Luca", "Hana", "Reggie", "Willow",
];

const ADULT_FIRST_NAMES: &[&str] = &[
    "Sarah", "Emma", "Laura", "Rachel", "Michelle", "Gemma", "Kelly", "Nadia", "Fatima", "Joanne", "Claire", "Lisa",
    "Amy", "Anna", "Priya", "Blessing", "David", "Paul", "Mark", "Daniel", "James", "Lee", "Imran", "Tariq", "Chris",
    "Darren", "Steven", "Tom", "Sandeep", "Kwame",
];

const SURNAMES: &[&str] = &[
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Wright", "Robinson",
    "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Khan", "Ali", "Hughes", "Edwards",
    "Clarke", "Hussain", "Lewis", "Martin", "Jackson", "Begum", "Nowak", "Okafor", "Mensah", "Campbell", "Murphy",
];

/// Letters used for the inward part of the fictional postcodes.
const POSTCODE_LETTERS: &[u8] = b"ABDEFGHJLNPQRSTUWXYZ";

const PARTICIPATION_EVIDENCE: &[&str] = &[
    "Signed participation agreement",
    "Agreed at home visit; signed form on file",
    "Agreed at school meeting; signed form on file",
    "Verbal agreement by phone, confirmed by letter",
];

const CONSENT_EVIDENCE: &[&str] = &[
    "Signed consent form",
    "Verbal consent, confirmed by letter",
    "Signed consent form at review meeting",
    "Online consent form, confirmed by phone",
];

const WITHDRAWAL_REASONS: &[&str] = &[
    "Family no longer wishes information to be shared",
    "Child asked for information not to be shared with this partner",
    "Support from this partner has ended",
    "Parent changed their mind after a review meeting",
];

/// SplitMix64 (Steele, Lea & Flood 2014): tiny, fast and fully deterministic.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (the modulo bias is irrelevant for demo data); 0 if `n` is 0.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next_u64() % n as u64) as usize }
    }

    /// Uniform in `lo..=hi`; `lo` if the range is empty.
    pub(crate) fn between(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo { lo } else { lo + (self.next_u64() % (hi - lo + 1) as u64) as i64 }
    }

    /// True with the given percentage probability.
    pub(crate) fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    /// One element of a non-empty slice.
    pub(crate) fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    /// Fisher–Yates shuffle.
    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

/// Hands out drama-range phone numbers without repeats (until all 1000 are used).
struct Phones {
    pool: Vec<u16>,
    next: usize,
}

impl Phones {
    fn new(rng: &mut Rng) -> Self {
        let mut pool: Vec<u16> = (0..1000).collect();
        rng.shuffle(&mut pool);
        Phones { pool, next: 0 }
    }

    fn next(&mut self) -> String {
        let n = self.pool[self.next % self.pool.len()];
        self.next += 1;
        format!("07700 900{n:03}")
    }
}

pub(crate) fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("hard-coded dates are valid")
}

pub(crate) fn days_after(day: NaiveDate, days: i64) -> NaiveDate {
    day + TimeDelta::days(days)
}

/// A random date `min_days..=max_days` after `after`, but not after the reference
/// date; `None` if there is not `min_days` of room before the reference date.
fn later(rng: &mut Rng, after: NaiveDate, min_days: i64, max_days: i64) -> Option<NaiveDate> {
    let room = (REFERENCE_DATE - after).num_days();
    (room >= min_days).then(|| days_after(after, rng.between(min_days, max_days.min(room))))
}

/// Completed years of age on `on`.
pub(crate) fn age_on(date_of_birth: NaiveDate, on: NaiveDate) -> i32 {
    let had_birthday = (on.month(), on.day()) >= (date_of_birth.month(), date_of_birth.day());
    on.year() - date_of_birth.year() - i32::from(!had_birthday)
}

fn organisation(key: &str, name: &str, kind: OrganisationKind) -> Organisation {
    Organisation { key: key.to_owned(), name: name.to_owned(), kind }
}

fn organisations() -> Vec<Organisation> {
    use OrganisationKind::{Anchor, Backbone, Funder, Partner};
    vec![
        organisation("backbone", "Northfield Zone Backbone", Backbone),
        organisation(PRIMARY, "Northfield Primary School", Anchor),
        organisation(SECONDARY, "Northfield Academy", Anchor),
        organisation("partner-1", "Brightpath Mentoring Trust", Partner),
        organisation("partner-2", "Kick On Sports Foundation", Partner),
        organisation("partner-3", "SoundWorks Youth Music & Arts", Partner),
        organisation("partner-4", "Family Roots Therapy Service", Partner),
        organisation("funder", "Northfield Community Foundation", Funder),
    ]
}

fn account(email: &str, display_name: &str, organisation_key: &str, role: Role) -> Account {
    Account {
        email: email.to_owned(),
        display_name: display_name.to_owned(),
        organisation_key: organisation_key.to_owned(),
        role,
        designated_safeguarding_lead: false,
    }
}

fn accounts() -> Vec<Account> {
    vec![
        account(LINK_WORKER, "Hannah Clarke", PRIMARY, Role::LinkWorker),
        Account {
            designated_safeguarding_lead: true,
            ..account("anchorlead@demo.zone", "Rachel Evans", PRIMARY, Role::AnchorLead)
        },
        account("partner@demo.zone", "Daniel Okafor", "partner-1", Role::PartnerWorker),
        account("partnerlead@demo.zone", "Priya Shah", "partner-1", Role::PartnerLead),
        account("funder@demo.zone", "Mark Hughes", "funder", Role::Funder),
        account("analyst@demo.zone", "Nadia Hussain", "backbone", Role::BackboneAnalyst),
        account("admin@demo.zone", "Chris Walker", "backbone", Role::BackboneAdmin),
        account(LINK_WORKER_2, "Gemma Wood", PRIMARY, Role::LinkWorker),
        account(LINK_WORKER_3, "Imran Khan", SECONDARY, Role::LinkWorker),
    ]
}

/// Exactly 200 stages in the target proportions (shuffled by the caller).
fn stage_plan() -> Vec<Stage> {
    use ExitReason::{Disengaged, FamilyWithdrew, MovedAway, Other, StatutoryServices};
    let mut stages = Vec::with_capacity(PRIMARY_CHILDREN + SECONDARY_CHILDREN);
    for (stage, count) in [
        (Stage::Identified, 25),
        (Stage::Consented, 20),
        (Stage::Enrolled, 30),
        (Stage::Active, 90),
        (Stage::Completed, 20),
        (Stage::Exited(MovedAway), 4),
        (Stage::Exited(FamilyWithdrew), 3),
        (Stage::Exited(StatutoryServices), 3),
        (Stage::Exited(Disengaged), 4),
        (Stage::Exited(Other), 1),
    ] {
        stages.extend(std::iter::repeat_n(stage, count));
    }
    stages
}

pub(crate) fn generate() -> DemoZone {
    let mut rng = Rng(SEED);
    let mut phones = Phones::new(&mut rng);
    let mut stages = stage_plan();
    rng.shuffle(&mut stages);

    let mut primary_cases = 0usize;
    let mut children: Vec<Child> = stages
        .into_iter()
        .enumerate()
        .map(|(index, stage)| {
            let primary = index < PRIMARY_CHILDREN;
            let mut generator =
                ChildGenerator { rng: &mut rng, phones: &mut phones, primary_cases: &mut primary_cases };
            generator.child(index + 1, primary, stage)
        })
        .collect();

    let accounts = accounts();
    let programmes = crate::support::generate(&mut children, &accounts);
    crate::assessments::generate(&mut children, &programmes, &accounts);
    crate::steps::generate(&mut children, &programmes);
    DemoZone { organisations: organisations(), accounts, children, programmes }
}

/// An adult who can agree or consent on the child's behalf.
struct Giver {
    kind: GiverKind,
    name: String,
}

struct ChildGenerator<'a> {
    rng: &'a mut Rng,
    phones: &'a mut Phones,
    /// Children at the primary given a link worker so far (splits the caseload).
    primary_cases: &'a mut usize,
}

impl ChildGenerator<'_> {
    fn child(&mut self, number: usize, primary: bool, stage: Stage) -> Child {
        let rng = &mut *self.rng;
        let first_name = rng.pick(CHILD_FIRST_NAMES).to_owned();
        let last_name = rng.pick(SURNAMES).to_owned();

        // Timeline: later stages were identified earlier, leaving room for each step.
        let start_of_year = date(2025, 9, 1);
        let (earliest, latest) = match stage {
            Stage::Identified => (120, 364),
            Stage::Consented => (60, 300),
            Stage::Enrolled => (30, 250),
            Stage::Active | Stage::Completed | Stage::Exited(_) => (0, 200),
        };
        let identified_on = days_after(start_of_year, rng.between(earliest, latest));
        let next_year_intake = identified_on >= date(2026, 5, 1)
            && matches!(stage, Stage::Identified | Stage::Consented | Stage::Enrolled);
        let cohort = if next_year_intake { "2026/27" } else { "2025/26" }.to_owned();

        // Children already on the 2025/26 programme were at the school last year, so
        // are not in its entry year now; half the 2026/27 intake are new starters
        // (Reception or Year 7) identified at transition.
        let entry_year: i16 = if primary { 0 } else { 7 };
        let last_year: i16 = if primary { 6 } else { 11 };
        let year_group = if next_year_intake && rng.chance(50) {
            entry_year
        } else {
            rng.between(i64::from(entry_year) + 1, i64::from(last_year)) as i16
        };
        let date_of_birth = birth_date_for_year_group(rng, year_group);

        let upn = rng.chance(80).then(|| upn(rng, primary, year_group, number));
        let contact_phone = rng.chance(60).then(|| self.phones.next());
        let contact_email = rng
            .chance(40)
            .then(|| format!("{}.{}.{number}@example.org", first_name.to_lowercase(), last_name.to_lowercase()));
        let postcode = Some(postcode(rng));

        let free_school_meals = rng.chance(35);
        let send = rng.chance(20);
        let eal = rng.chance(25);
        let looked_after = rng.chance(3);

        let relationships = self.relationships(&last_name, looked_after);
        let link_worker_email = self.link_worker(primary, stage).map(str::to_owned);

        let mut child = Child {
            first_name,
            last_name,
            date_of_birth,
            anchor_key: if primary { PRIMARY } else { SECONDARY }.to_owned(),
            year_group,
            upn,
            contact_phone,
            contact_email,
            postcode,
            free_school_meals,
            send,
            eal,
            looked_after,
            relationships,
            stage,
            cohort,
            identified_on,
            steps: Steps::default(),
            link_worker_email,
            participation: None,
            lawful_basis: None,
            consents: Vec::new(),
            referrals: Vec::new(),
            contacts: Vec::new(),
            notes: Vec::new(),
            safeguarding_concerns: Vec::new(),
            assessments: Vec::new(),
        };
        if stage != Stage::Identified {
            self.agree_and_consent(&mut child);
        }
        child
    }

    fn name(&mut self) -> String {
        format!("{} {}", self.rng.pick(ADULT_FIRST_NAMES), self.rng.pick(SURNAMES))
    }

    /// A family member's name: usually sharing the child's surname.
    fn family_name(&mut self, surname: &str) -> String {
        if self.rng.chance(75) { format!("{} {surname}", self.rng.pick(ADULT_FIRST_NAMES)) } else { self.name() }
    }

    fn maybe_phone(&mut self, percent: usize) -> Option<String> {
        self.rng.chance(percent).then(|| self.phones.next())
    }

    /// One to three adults; at least one parent or carer holds parental responsibility.
    fn relationships(&mut self, surname: &str, looked_after: bool) -> Vec<Relationship> {
        let mut relationships = Vec::with_capacity(3);
        if looked_after {
            // The foster carer is the day-to-day contact; the birth parent keeps
            // parental responsibility (shared with the local authority).
            relationships.push(Relationship {
                kind: RelationshipKind::Carer,
                name: self.name(),
                involvement: Involvement::MainContact,
                parental_responsibility: false,
                phone: self.maybe_phone(95),
            });
            relationships.push(Relationship {
                kind: RelationshipKind::Parent,
                name: self.family_name(surname),
                involvement: Involvement::ReceivesUpdates,
                parental_responsibility: true,
                phone: self.maybe_phone(50),
            });
        } else {
            // Mostly parents; sometimes a kinship carer (e.g. a grandparent with a
            // special guardianship order, so holding parental responsibility).
            let kind = if self.rng.chance(85) { RelationshipKind::Parent } else { RelationshipKind::Carer };
            relationships.push(Relationship {
                kind,
                name: self.family_name(surname),
                involvement: Involvement::MainContact,
                parental_responsibility: true,
                phone: self.maybe_phone(90),
            });
            if self.rng.chance(40) {
                let involvement = self.rng.pick(&[
                    Involvement::AttendsReviews,
                    Involvement::ReceivesUpdates,
                    Involvement::SupportsAtHome,
                ]);
                relationships.push(Relationship {
                    kind,
                    name: self.family_name(surname),
                    involvement,
                    // Occasionally a step-parent without parental responsibility.
                    parental_responsibility: self.rng.chance(85),
                    phone: self.maybe_phone(70),
                });
            }
        }
        if self.rng.chance(50) {
            // A sports coach, teacher or youth worker the child trusts.
            relationships.push(Relationship {
                kind: RelationshipKind::TrustedAdult,
                name: self.name(),
                involvement: Involvement::Mentor,
                parental_responsibility: false,
                phone: self.maybe_phone(40),
            });
        }
        relationships
    }

    /// Identified children mostly have no link worker yet; everyone later has one.
    fn link_worker(&mut self, primary: bool, stage: Stage) -> Option<&'static str> {
        if stage == Stage::Identified && !self.rng.chance(20) {
            return None;
        }
        if !primary {
            return Some(LINK_WORKER_3);
        }
        // Split the primary caseload 11:9 between the two primary link workers.
        let turn = *self.primary_cases % 20;
        *self.primary_cases += 1;
        Some(if turn < 11 { LINK_WORKER } else { LINK_WORKER_2 })
    }

    /// Who agrees on the child's behalf: the main contact, or sometimes the child
    /// themself if a secondary pupil aged 13 or over on `on`.
    fn giver(&mut self, child: &Child, on: NaiveDate) -> Giver {
        let old_enough = child.anchor_key == SECONDARY && age_on(child.date_of_birth, on) >= 13;
        if old_enough && self.rng.chance(25) {
            return Giver { kind: GiverKind::Child, name: format!("{} {}", child.first_name, child.last_name) };
        }
        let contact = child
            .relationships
            .iter()
            .find(|r| r.kind != RelationshipKind::TrustedAdult)
            .expect("every child has a parent or carer");
        Giver {
            kind: if contact.kind == RelationshipKind::Carer { GiverKind::Carer } else { GiverKind::Parent },
            name: contact.name.clone(),
        }
    }

    /// Participation, lawful basis (from enrolment) and onward-sharing consents.
    fn agree_and_consent(&mut self, child: &mut Child) {
        let agreed_on = days_after(child.identified_on, self.rng.between(7, 40));
        let giver = self.giver(child, agreed_on);
        child.participation = Some(Participation {
            agreed_by: giver.kind,
            agreed_by_name: giver.name,
            agreed_on,
            evidence: self.rng.pick(PARTICIPATION_EVIDENCE).to_owned(),
        });

        if child.stage != Stage::Consented {
            let recorded_on = days_after(agreed_on, self.rng.between(0, 14));
            let special_category = if child.send {
                Some(SpecialCategoryCondition::HealthOrSocialCare)
            } else if child.looked_after || self.rng.chance(10) {
                Some(SpecialCategoryCondition::SubstantialPublicInterest)
            } else {
                None
            };
            let data_sharing_agreement = if recorded_on >= date(2026, 4, 1) {
                "Northfield Zone Data Sharing Agreement v2.0 (April 2026)"
            } else {
                "Northfield Zone Data Sharing Agreement v1.3 (September 2025)"
            };
            child.lawful_basis = Some(LawfulBasis {
                basis: if self.rng.chance(80) {
                    LawfulBasisKind::PublicTask
                } else {
                    LawfulBasisKind::LegitimateInterests
                },
                special_category,
                data_sharing_agreement: data_sharing_agreement.to_owned(),
                recorded_on,
            });
        }

        let family_withdrew = child.stage == Stage::Exited(ExitReason::FamilyWithdrew);
        let first_given_on = days_after(agreed_on, self.rng.between(0, 7));
        let mut consents = vec![self.consent(child, first_given_on)];
        // Sometimes a later consent, e.g. after a review added another partner.
        if !family_withdrew
            && self.rng.chance(30)
            && let Some(given_on) = later(self.rng, first_given_on, 21, 120)
        {
            consents.push(self.consent(child, given_on));
        }
        for consent in &mut consents {
            let withdrawn_on = if family_withdrew {
                Some(later(self.rng, consent.given_on, 7, 90).unwrap_or(REFERENCE_DATE))
            } else if self.rng.chance(8) {
                later(self.rng, consent.given_on, 7, 120)
            } else {
                None
            };
            if let Some(withdrawn_on) = withdrawn_on {
                consent.withdrawn_on = Some(withdrawn_on);
                consent.withdrawal_reason = Some(if family_withdrew {
                    "Family withdrew from the programme".to_owned()
                } else {
                    self.rng.pick(WITHDRAWAL_REASONS).to_owned()
                });
            }
        }
        child.consents = consents;
    }

    fn consent(&mut self, child: &Child, given_on: NaiveDate) -> Consent {
        let giver = self.giver(child, given_on);
        let mut purposes = Vec::with_capacity(3);
        for (purpose, percent) in
            [(Purpose::Referral, 90), (Purpose::ProgressMonitoring, 80), (Purpose::Evaluation, 50)]
        {
            if self.rng.chance(percent) {
                purposes.push(purpose);
            }
        }
        if purposes.is_empty() {
            purposes.push(Purpose::Referral);
        }
        let mut partner_keys: Vec<String> = PARTNER_KEYS
            .iter()
            .zip([85, 35, 35, 30])
            .filter(|&(_, percent)| self.rng.chance(percent))
            .map(|(key, _)| (*key).to_owned())
            .collect();
        if partner_keys.is_empty() {
            partner_keys.push(PARTNER_KEYS[0].to_owned());
        }
        Consent {
            given_by: giver.kind,
            given_by_name: giver.name,
            given_on,
            purposes,
            partner_keys,
            evidence: self.rng.pick(CONSENT_EVIDENCE).to_owned(),
            withdrawn_on: None,
            withdrawal_reason: None,
        }
    }
}

/// A birth date placing the child in `year_group` on the reference date: children in
/// year Y (0 = Reception) were born 1 September (2021 − Y) to 31 August (2022 − Y),
/// i.e. are aged 4 + Y on 31 August 2026.
fn birth_date_for_year_group(rng: &mut Rng, year_group: i16) -> NaiveDate {
    let first = date(2021 - i32::from(year_group), 9, 1);
    let last = date(2022 - i32::from(year_group), 8, 31);
    days_after(first, rng.between(0, (last - first).num_days()))
}

/// A UPN with a valid check letter: invented LA code 999, a school number (the
/// primary's own, or for secondary pupils one of several invented feeder primaries),
/// the year the child started Reception, and the child's number as serial.
fn upn(rng: &mut Rng, primary: bool, year_group: i16, number: usize) -> String {
    let school = if primary && rng.chance(85) { 2101 } else { rng.pick(&[2101, 2114, 2137, 2150]) };
    let allocated = (2026 - i32::from(year_group)) % 100;
    let body = format!("999{school:04}{allocated:02}{number:03}");
    let letter = upn_check_letter(&body).expect("the UPN body is twelve digits");
    format!("{letter}{body}")
}

/// A postcode in the fictional ZZ area, e.g. `ZZ4 7HT`.
fn postcode(rng: &mut Rng) -> String {
    format!(
        "ZZ{} {}{}{}",
        rng.between(1, 9),
        rng.between(1, 9),
        char::from(rng.pick(POSTCODE_LETTERS)),
        char::from(rng.pick(POSTCODE_LETTERS)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo_zone;

    fn is_consented_or_later(stage: Stage) -> bool {
        stage != Stage::Identified
    }

    fn is_enrolled_or_later(stage: Stage) -> bool {
        !matches!(stage, Stage::Identified | Stage::Consented)
    }

    fn is_drama_phone(phone: &str) -> bool {
        phone.len() == 12 && phone.starts_with("07700 900") && phone[9..].bytes().all(|b| b.is_ascii_digit())
    }

    fn percent(zone: &DemoZone, test: impl Fn(&Child) -> bool) -> usize {
        zone.children.iter().filter(|c| test(c)).count() * 100 / zone.children.len()
    }

    #[test]
    fn prng_matches_reference_splitmix64() {
        // First output of SplitMix64 seeded with 0 (reference implementation).
        assert_eq!(Rng(0).next_u64(), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn is_deterministic() {
        assert_eq!(demo_zone(), demo_zone());
    }

    #[test]
    fn has_expected_organisations_and_accounts() {
        let zone = demo_zone();
        let keys: Vec<&str> = zone.organisations.iter().map(|o| o.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "backbone",
                "anchor-primary",
                "anchor-secondary",
                "partner-1",
                "partner-2",
                "partner-3",
                "partner-4",
                "funder"
            ]
        );
        let expected = [
            ("linkworker@demo.zone", Role::LinkWorker, "anchor-primary"),
            ("anchorlead@demo.zone", Role::AnchorLead, "anchor-primary"),
            ("partner@demo.zone", Role::PartnerWorker, "partner-1"),
            ("partnerlead@demo.zone", Role::PartnerLead, "partner-1"),
            ("funder@demo.zone", Role::Funder, "funder"),
            ("analyst@demo.zone", Role::BackboneAnalyst, "backbone"),
            ("admin@demo.zone", Role::BackboneAdmin, "backbone"),
            ("linkworker2@demo.zone", Role::LinkWorker, "anchor-primary"),
            ("linkworker3@demo.zone", Role::LinkWorker, "anchor-secondary"),
        ];
        assert_eq!(zone.accounts.len(), expected.len());
        for (email, role, organisation_key) in expected {
            let account =
                zone.accounts.iter().find(|a| a.email == email).unwrap_or_else(|| panic!("missing account {email}"));
            assert_eq!(account.role, role, "{email}");
            assert_eq!(account.organisation_key, organisation_key, "{email}");
            assert_eq!(account.designated_safeguarding_lead, email == "anchorlead@demo.zone");
        }
        for account in &zone.accounts {
            assert!(account.email.ends_with("@demo.zone"), "{}", account.email);
            assert!(keys.contains(&account.organisation_key.as_str()));
        }
    }

    #[test]
    fn has_200_children_split_between_anchors_and_stages() {
        let zone = demo_zone();
        assert_eq!(zone.children.len(), 200);
        let at = |key: &str| zone.children.iter().filter(|c| c.anchor_key == key).count();
        assert_eq!(at(PRIMARY), PRIMARY_CHILDREN);
        assert_eq!(at(SECONDARY), SECONDARY_CHILDREN);
        let count = |test: fn(&Stage) -> bool| zone.children.iter().filter(|c| test(&c.stage)).count();
        assert_eq!(count(|s| *s == Stage::Identified), 25);
        assert_eq!(count(|s| *s == Stage::Consented), 20);
        assert_eq!(count(|s| *s == Stage::Enrolled), 30);
        assert_eq!(count(|s| *s == Stage::Active), 90);
        assert_eq!(count(|s| *s == Stage::Completed), 20);
        assert_eq!(count(|s| matches!(s, Stage::Exited(_))), 15);
        for reason in [
            ExitReason::MovedAway,
            ExitReason::FamilyWithdrew,
            ExitReason::StatutoryServices,
            ExitReason::Disengaged,
            ExitReason::Other,
        ] {
            assert!(zone.children.iter().any(|c| c.stage == Stage::Exited(reason)));
        }
    }

    #[test]
    fn ages_match_year_groups() {
        let end_of_last_school_year = date(2026, 8, 31);
        for child in demo_zone().children {
            let range = if child.anchor_key == PRIMARY { 0..=6 } else { 7..=11 };
            assert!(range.contains(&child.year_group), "{child:?}");
            assert_eq!(
                age_on(child.date_of_birth, end_of_last_school_year),
                4 + i32::from(child.year_group),
                "{child:?}"
            );
        }
    }

    #[test]
    fn age_on_handles_birthdays() {
        assert_eq!(age_on(date(2021, 9, 1), date(2026, 8, 31)), 4);
        assert_eq!(age_on(date(2021, 9, 1), date(2026, 9, 1)), 5);
        assert_eq!(age_on(date(2022, 8, 31), date(2026, 8, 31)), 4);
        assert_eq!(age_on(date(2020, 2, 29), date(2026, 2, 28)), 5);
    }

    #[test]
    fn stage_invariants_hold() {
        for child in demo_zone().children {
            assert_eq!(child.participation.is_some(), is_consented_or_later(child.stage), "{child:?}");
            assert_eq!(child.lawful_basis.is_some(), is_enrolled_or_later(child.stage), "{child:?}");
            if is_consented_or_later(child.stage) {
                assert!((1..=2).contains(&child.consents.len()), "{child:?}");
            } else {
                assert!(child.consents.is_empty(), "{child:?}");
            }
            assert!(child.cohort == "2025/26" || child.cohort == "2026/27", "{}", child.cohort);
        }
    }

    #[test]
    fn dates_are_in_order_and_not_in_the_future() {
        let start = date(2025, 9, 1);
        for child in demo_zone().children {
            assert!(child.identified_on >= start && child.identified_on < REFERENCE_DATE);
            if let Some(participation) = &child.participation {
                assert!(participation.agreed_on > child.identified_on);
                assert!(participation.agreed_on <= REFERENCE_DATE);
                if let Some(basis) = &child.lawful_basis {
                    assert!(basis.recorded_on >= participation.agreed_on);
                    assert!(basis.recorded_on <= REFERENCE_DATE);
                }
                for consent in &child.consents {
                    assert!(consent.given_on >= participation.agreed_on);
                    assert!(consent.given_on <= REFERENCE_DATE);
                    assert_eq!(consent.withdrawn_on.is_some(), consent.withdrawal_reason.is_some());
                    if let Some(withdrawn_on) = consent.withdrawn_on {
                        assert!(withdrawn_on > consent.given_on && withdrawn_on <= REFERENCE_DATE);
                    }
                }
            }
        }
    }

    #[test]
    fn consents_are_well_formed() {
        let zone = demo_zone();
        let mut total = 0;
        let mut withdrawn = 0;
        let mut covering_partner_1 = 0;
        for child in &zone.children {
            for consent in &child.consents {
                total += 1;
                withdrawn += usize::from(consent.withdrawn_on.is_some());
                covering_partner_1 += usize::from(consent.partner_keys.iter().any(|k| k == "partner-1"));
                assert!(!consent.purposes.is_empty());
                assert!(!consent.partner_keys.is_empty());
                assert!(consent.partner_keys.iter().all(|k| PARTNER_KEYS.contains(&k.as_str())));
                assert!(!consent.evidence.is_empty());
                if consent.given_by == GiverKind::Child {
                    assert_eq!(child.anchor_key, SECONDARY);
                    assert!(age_on(child.date_of_birth, consent.given_on) >= 13);
                    assert_eq!(consent.given_by_name, format!("{} {}", child.first_name, child.last_name));
                }
            }
            if let Some(participation) = &child.participation
                && participation.agreed_by == GiverKind::Child
            {
                assert_eq!(child.anchor_key, SECONDARY);
                assert!(age_on(child.date_of_birth, participation.agreed_on) >= 13);
            }
        }
        assert!((5..=20).contains(&(withdrawn * 100 / total)), "{withdrawn}/{total} withdrawn");
        assert!(covering_partner_1 * 100 / total >= 70);
    }

    #[test]
    fn relationships_include_a_parent_or_carer_with_parental_responsibility() {
        for child in demo_zone().children {
            assert!((1..=3).contains(&child.relationships.len()), "{child:?}");
            assert!(
                child.relationships.iter().any(|r| r.parental_responsibility
                    && matches!(r.kind, RelationshipKind::Parent | RelationshipKind::Carer))
            );
            for relationship in &child.relationships {
                if relationship.kind == RelationshipKind::TrustedAdult {
                    assert_eq!(relationship.involvement, Involvement::Mentor);
                    assert!(!relationship.parental_responsibility);
                }
            }
        }
    }

    #[test]
    fn upns_have_correct_check_letters() {
        let zone = demo_zone();
        let mut upns = Vec::new();
        for child in &zone.children {
            if let Some(upn) = &child.upn {
                assert_eq!(upn.len(), 13, "{upn}");
                let (letter, body) = upn.split_at(1);
                assert_eq!(upn_check_letter(body).map(String::from).as_deref(), Some(letter), "{upn}");
                assert!(body.starts_with("999"), "{upn}");
                upns.push(upn.clone());
            }
        }
        assert!((70..=90).contains(&(upns.len() * 100 / zone.children.len())));
        let count = upns.len();
        upns.sort();
        upns.dedup();
        assert_eq!(upns.len(), count, "UPNs are unique");
    }

    #[test]
    fn contact_details_are_fictional() {
        let zone = demo_zone();
        for child in &zone.children {
            let phones = child.contact_phone.iter().chain(child.relationships.iter().filter_map(|r| r.phone.as_ref()));
            for phone in phones {
                assert!(is_drama_phone(phone), "{phone}");
            }
            if let Some(email) = &child.contact_email {
                assert!(email.ends_with("@example.org"), "{email}");
            }
            let postcode = child.postcode.as_deref().expect("every child has a postcode");
            let bytes = postcode.as_bytes();
            assert!(postcode.starts_with("ZZ") && bytes.len() == 7, "{postcode}");
            assert!((b'1'..=b'9').contains(&bytes[2]) && bytes[3] == b' ', "{postcode}");
            assert!((b'1'..=b'9').contains(&bytes[4]), "{postcode}");
            assert!(bytes[5].is_ascii_uppercase() && bytes[6].is_ascii_uppercase(), "{postcode}");
        }
        assert!((50..=70).contains(&percent(&zone, |c| c.contact_phone.is_some())));
        assert!((30..=50).contains(&percent(&zone, |c| c.contact_email.is_some())));
    }

    #[test]
    fn characteristics_are_at_plausible_rates() {
        let zone = demo_zone();
        assert!((25..=45).contains(&percent(&zone, |c| c.free_school_meals)));
        assert!((12..=28).contains(&percent(&zone, |c| c.send)));
        assert!((17..=33).contains(&percent(&zone, |c| c.eal)));
        assert!((1..=6).contains(&percent(&zone, |c| c.looked_after)));
    }

    #[test]
    fn link_workers_hold_cases_at_their_own_anchor() {
        let zone = demo_zone();
        for child in &zone.children {
            match &child.link_worker_email {
                Some(email) => {
                    let account = zone
                        .accounts
                        .iter()
                        .find(|a| &a.email == email)
                        .unwrap_or_else(|| panic!("unknown link worker {email}"));
                    assert_eq!(account.role, Role::LinkWorker);
                    assert_eq!(account.organisation_key, child.anchor_key);
                }
                None => assert_eq!(child.stage, Stage::Identified, "{child:?}"),
            }
        }
        let caseload =
            |email: &str| zone.children.iter().filter(|c| c.link_worker_email.as_deref() == Some(email)).count();
        assert!((40..=60).contains(&caseload(LINK_WORKER)), "{}", caseload(LINK_WORKER));
        assert!(caseload(LINK_WORKER_2) > 0 && caseload(LINK_WORKER_3) > 0);
        let identified_with_worker =
            zone.children.iter().filter(|c| c.stage == Stage::Identified && c.link_worker_email.is_some()).count();
        assert!((1..=12).contains(&identified_with_worker), "{identified_with_worker}");
    }
}
