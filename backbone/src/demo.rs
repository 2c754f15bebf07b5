//! The demo zone: the synthetic data of `backbone-seeds`, written through the same domain
//! use cases a user would call, so it is validated and audited like real work.
//! Organisations, accounts, children and programmes are written as [`Actor::system`]; the
//! brokering is written as the demo staff who would do it — link workers propose, send
//! and withdraw referrals, log contacts and record assessments on the outcomes scale,
//! partner staff answer referrals, log sessions, write their notes and record their own
//! assessments (the system stands in for partners without demo accounts) — so authorship
//! and visibility are real. Idempotent: a database that already holds the zone is left
//! alone.
//!
//! Order matters, as it would in real life: children are enrolled and supported before
//! they are referred or assessed, referrals are sent and answered before sessions are
//! logged, partner notes and assessments are written while their referral is live, and
//! referrals are completed or withdrawn before a child's enrolment completes or ends.

use crate::auth::Actor;
use crate::domain::casework::{NewContact, NewNote};
use crate::domain::consent::{NewConsent, NewLawfulBasis, NewParticipation, Withdrawal};
use crate::domain::enrolment::{Enrol, Transition};
use crate::domain::outcomes::{self, NewAssessment};
use crate::domain::programmes::ProgrammeFields;
use crate::domain::referrals::NewReferral;
use crate::domain::sessions::{Attendee, NewSession};
use crate::domain::{self, accounts, casework, children, consent, enrolment, programmes, referrals, sessions};
use crate::store::organisation;
use backbone_seeds as seeds;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use std::collections::HashMap;

/// Whether the database already holds the demo zone (its backbone organisation).
pub async fn is_seeded(db: &DatabaseConnection) -> anyhow::Result<bool> {
    let marker = seeds::demo_zone().organisations[0].name.clone();
    Ok(organisation::Entity::find().filter(organisation::Column::Name.eq(marker)).one(db).await?.is_some())
}

/// The demo accounts, as printed at start-up: (email, what they show).
pub const DEMO_ACCOUNTS: &[(&str, &str)] = &[
    ("linkworker@demo.zone", "link worker: a caseload at the primary school, with referrals and contacts"),
    ("anchorlead@demo.zone", "anchor lead of the primary school (designated safeguarding lead)"),
    ("partner@demo.zone", "partner worker at a mentoring charity: referral inbox and sessions"),
    ("partnerlead@demo.zone", "partner lead at the same charity"),
    ("funder@demo.zone", "funder: aggregates only"),
    ("analyst@demo.zone", "backbone analyst: pseudonymised records"),
    ("admin@demo.zone", "backbone admin: everything, every read audited"),
];

fn org_kind(k: seeds::OrganisationKind) -> domain::OrganisationKind {
    match k {
        seeds::OrganisationKind::Backbone => domain::OrganisationKind::Backbone,
        seeds::OrganisationKind::Anchor => domain::OrganisationKind::Anchor,
        seeds::OrganisationKind::Partner => domain::OrganisationKind::Partner,
        seeds::OrganisationKind::Funder => domain::OrganisationKind::Funder,
    }
}

fn role(r: seeds::Role) -> domain::Role {
    match r {
        seeds::Role::LinkWorker => domain::Role::LinkWorker,
        seeds::Role::AnchorLead => domain::Role::AnchorLead,
        seeds::Role::PartnerWorker => domain::Role::PartnerWorker,
        seeds::Role::PartnerLead => domain::Role::PartnerLead,
        seeds::Role::Funder => domain::Role::Funder,
        seeds::Role::BackboneAnalyst => domain::Role::BackboneAnalyst,
        seeds::Role::BackboneAdmin => domain::Role::BackboneAdmin,
    }
}

fn giver(g: seeds::GiverKind) -> domain::GiverKind {
    match g {
        seeds::GiverKind::Parent => domain::GiverKind::Parent,
        seeds::GiverKind::Carer => domain::GiverKind::Carer,
        seeds::GiverKind::Child => domain::GiverKind::Child,
    }
}

fn relationship_kind(k: seeds::RelationshipKind) -> domain::RelationshipKind {
    match k {
        seeds::RelationshipKind::Parent => domain::RelationshipKind::Parent,
        seeds::RelationshipKind::Carer => domain::RelationshipKind::Carer,
        seeds::RelationshipKind::TrustedAdult => domain::RelationshipKind::TrustedAdult,
    }
}

fn involvement(i: seeds::Involvement) -> domain::Involvement {
    match i {
        seeds::Involvement::MainContact => domain::Involvement::MainContact,
        seeds::Involvement::AttendsReviews => domain::Involvement::AttendsReviews,
        seeds::Involvement::ReceivesUpdates => domain::Involvement::ReceivesUpdates,
        seeds::Involvement::SupportsAtHome => domain::Involvement::SupportsAtHome,
        seeds::Involvement::Mentor => domain::Involvement::Mentor,
    }
}

fn exit_reason(r: seeds::ExitReason) -> domain::ExitReason {
    match r {
        seeds::ExitReason::MovedAway => domain::ExitReason::MovedAway,
        seeds::ExitReason::FamilyWithdrew => domain::ExitReason::FamilyWithdrew,
        seeds::ExitReason::StatutoryServices => domain::ExitReason::StatutoryServices,
        seeds::ExitReason::Disengaged => domain::ExitReason::Disengaged,
        seeds::ExitReason::Other => domain::ExitReason::Other,
    }
}

fn purpose(p: seeds::Purpose) -> domain::Purpose {
    match p {
        seeds::Purpose::Referral => domain::Purpose::Referral,
        seeds::Purpose::ProgressMonitoring => domain::Purpose::ProgressMonitoring,
        seeds::Purpose::Evaluation => domain::Purpose::Evaluation,
    }
}

fn outcome_domain(d: seeds::OutcomeDomain) -> domain::OutcomeDomain {
    match d {
        seeds::OutcomeDomain::EmotionalWellbeing => domain::OutcomeDomain::EmotionalWellbeing,
        seeds::OutcomeDomain::Relationships => domain::OutcomeDomain::Relationships,
        seeds::OutcomeDomain::ConfidenceAspiration => domain::OutcomeDomain::ConfidenceAspiration,
        seeds::OutcomeDomain::ProgressAtSchool => domain::OutcomeDomain::ProgressAtSchool,
        seeds::OutcomeDomain::AttendanceEngagement => domain::OutcomeDomain::AttendanceEngagement,
    }
}

fn attending_type(a: seeds::AttendingType) -> domain::AttendingType {
    match a {
        seeds::AttendingType::InPerson => domain::AttendingType::InPerson,
        seeds::AttendingType::Online => domain::AttendingType::Online,
        seeds::AttendingType::Both => domain::AttendingType::Both,
    }
}

fn session_kind(k: seeds::SessionKind) -> domain::SessionKind {
    match k {
        seeds::SessionKind::Group => domain::SessionKind::Group,
        seeds::SessionKind::OneToOne => domain::SessionKind::OneToOne,
    }
}

fn attendance_status(s: seeds::AttendanceStatus) -> domain::AttendanceStatus {
    match s {
        seeds::AttendanceStatus::Attended => domain::AttendanceStatus::Attended,
        seeds::AttendanceStatus::Absent => domain::AttendanceStatus::Absent,
        seeds::AttendanceStatus::Cancelled => domain::AttendanceStatus::Cancelled,
    }
}

fn engagement(e: seeds::Engagement) -> domain::Engagement {
    match e {
        seeds::Engagement::Disengaged => domain::Engagement::Disengaged,
        seeds::Engagement::Participating => domain::Engagement::Participating,
        seeds::Engagement::FullyEngaged => domain::Engagement::FullyEngaged,
    }
}

fn contact_kind(k: seeds::ContactKind) -> domain::ContactKind {
    match k {
        seeds::ContactKind::Informal => domain::ContactKind::Informal,
        seeds::ContactKind::Formal => domain::ContactKind::Formal,
    }
}

fn contact_party(p: seeds::ContactParty) -> domain::ContactParty {
    match p {
        seeds::ContactParty::Child => domain::ContactParty::Child,
        seeds::ContactParty::Parent => domain::ContactParty::Parent,
        seeds::ContactParty::TrustedAdult => domain::ContactParty::TrustedAdult,
        seeds::ContactParty::SchoolStaff => domain::ContactParty::SchoolStaff,
    }
}

fn note_visibility(v: seeds::NoteVisibility) -> domain::NoteVisibility {
    match v {
        seeds::NoteVisibility::Organisation => domain::NoteVisibility::Organisation,
        seeds::NoteVisibility::SharedWithLinkWorker => domain::NoteVisibility::SharedWithLinkWorker,
    }
}

fn assessment_stage(s: seeds::AssessmentStage) -> domain::AssessmentStage {
    match s {
        seeds::AssessmentStage::Baseline => domain::AssessmentStage::Baseline,
        seeds::AssessmentStage::Review => domain::AssessmentStage::Review,
        seeds::AssessmentStage::Midpoint => domain::AssessmentStage::Midpoint,
        seeds::AssessmentStage::Endpoint => domain::AssessmentStage::Endpoint,
    }
}

fn day(d: chrono::NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// The day a step happened, as the service is told it: the generator's day, or today if
/// that is still to come (the demo seeded before the generator's last step date), so the
/// steps keep their order and none is in the future.
fn step_day(d: Option<chrono::NaiveDate>) -> Option<String> {
    d.map(|d| day(d.min(crate::domain::validate::today())))
}

/// The enrolment transitions that bring a child from `consented` to `stage`, except the
/// last step of a completed or exited child (see [`final_transition`]).
fn transitions_after_consent(c: &seeds::Child) -> Vec<Transition> {
    use seeds::Stage::*;
    match c.stage {
        Identified | Consented => vec![],
        Enrolled => vec![Transition::Enrol],
        Active | Completed => vec![Transition::Enrol, Transition::StartSupport],
        // An exited child who got as far as a lawful basis had been enrolled.
        Exited(_) if c.lawful_basis.is_some() => vec![Transition::Enrol],
        Exited(_) => vec![],
    }
}

/// The transition that completes or ends a child's enrolment, made once their referrals
/// are closed (a finished enrolment takes no referrals).
fn final_transition(c: &seeds::Child) -> Option<(Transition, Option<String>)> {
    match c.stage {
        seeds::Stage::Completed => Some((Transition::Complete, None)),
        seeds::Stage::Exited(reason) => {
            Some((Transition::Exit(exit_reason(reason)), Some("Left the programme".into())))
        }
        _ => None,
    }
}

/// Who does what in the demo: the system, and an [`Actor`] for each demo account, as
/// `auth` would resolve them at login.
struct Actors {
    system: Actor,
    by_email: HashMap<String, Actor>,
    /// The demo partner worker of each partner organisation (by key), where there is one.
    partner_staff: HashMap<String, String>,
}

impl Actors {
    fn new(zone: &seeds::DemoZone, orgs: &HashMap<String, String>, users: &HashMap<String, String>) -> Self {
        let mut by_email = HashMap::new();
        let mut partner_staff = HashMap::new();
        for a in &zone.accounts {
            let (Some(user_id), Some(organisation_id), Some(org)) = (
                users.get(&a.email),
                orgs.get(&a.organisation_key),
                zone.organisations.iter().find(|o| o.key == a.organisation_key),
            ) else {
                continue;
            };
            let actor = Actor {
                user_id: user_id.clone(),
                organisation_id: organisation_id.clone(),
                organisation_kind: org_kind(org.kind),
                role: role(a.role),
                designated_safeguarding_lead: a.designated_safeguarding_lead,
                token_id: None,
                request_id: None,
                writes: None,
            };
            by_email.insert(a.email.clone(), actor);
            if a.role == seeds::Role::PartnerWorker {
                partner_staff.entry(a.organisation_key.clone()).or_insert_with(|| a.email.clone());
            }
        }
        Actors { system: Actor::system(), by_email, partner_staff }
    }

    /// The demo account with this email.
    fn account(&self, email: &str) -> anyhow::Result<&Actor> {
        self.by_email.get(email).ok_or_else(|| anyhow::anyhow!("no demo account {email}"))
    }

    /// The child's link worker.
    fn link_worker(&self, c: &seeds::Child) -> anyhow::Result<&Actor> {
        let email =
            c.link_worker_email.as_deref().ok_or_else(|| anyhow::anyhow!("{} has no link worker", c.first_name))?;
        self.account(email)
    }

    /// Who acts for a partner: its demo partner worker, or the system if it has none.
    fn partner(&self, partner_key: &str) -> &Actor {
        self.partner_staff.get(partner_key).and_then(|e| self.by_email.get(e)).unwrap_or(&self.system)
    }
}

/// Counts steps of the seeding and reports them every so often.
struct Steps<F: FnMut(usize, usize)> {
    done: usize,
    total: usize,
    report: F,
}

impl<F: FnMut(usize, usize)> Steps<F> {
    fn tick(&mut self) {
        self.done += 1;
        if self.done.is_multiple_of(25) || self.done == self.total {
            (self.report)(self.done, self.total);
        }
    }
}

/// Writes the demo zone unless it is already there. Returns whether anything was written.
///
/// `progress(done, total)` is called every 25 steps and at the end. A step is a child's
/// record, a referral (proposed, sent and answered), a session with its register, a
/// child's casework (notes, concerns, assessments, referrals closed, contacts, enrolment
/// finished), or the outcomes contract (recorded and evaluated): twice the number of
/// children plus the referrals and sessions, plus one.
pub async fn seed(db: &DatabaseConnection, progress: impl FnMut(usize, usize)) -> anyhow::Result<bool> {
    if is_seeded(db).await? {
        return Ok(false);
    }
    let zone = seeds::demo_zone();
    let system = Actor::system();
    // The default outcomes framework, unless that very file is already live.
    match crate::domain::outcomes::load(db, &system, seeds::framework::DEFAULT_TOML).await {
        Ok(_) | Err(crate::error::Error::Conflict(_)) => {}
        Err(e) => anyhow::bail!("loading the default outcomes framework: {e}"),
    }
    let mut orgs: HashMap<String, String> = HashMap::new();
    for o in &zone.organisations {
        let input = accounts::NewOrganisation { name: o.name.clone(), kind: org_kind(o.kind) };
        let created = accounts::create_organisation(db, &system, input).await?;
        orgs.insert(o.key.clone(), created.id);
    }
    let org = |key: &str| orgs.get(key).cloned().ok_or_else(|| anyhow::anyhow!("unknown organisation key {key}"));
    let mut users: HashMap<String, String> = HashMap::new();
    for a in &zone.accounts {
        let input = accounts::NewAccount {
            email: a.email.clone(),
            display_name: a.display_name.clone(),
            password: seeds::DEMO_PASSWORD.to_owned(),
            organisation_id: org(&a.organisation_key)?,
            role: role(a.role),
            designated_safeguarding_lead: a.designated_safeguarding_lead,
            is_demo: true,
        };
        let created = accounts::create_account(db, &system, input).await?;
        users.insert(a.email.clone(), created.id);
    }
    let actors = Actors::new(&zone, &orgs, &users);
    let mut programme_ids: HashMap<&str, String> = HashMap::new();
    for p in &zone.programmes {
        let created = programmes::create(db, &system, Some(org(&p.partner_key)?), programme_fields(p)).await?;
        programme_ids.insert(&p.key, created.id);
    }
    let programme_id =
        |key: &str| programme_ids.get(key).cloned().ok_or_else(|| anyhow::anyhow!("unknown programme key {key}"));
    let referral_count: usize = zone.children.iter().map(|c| c.referrals.len()).sum();
    let session_count: usize = zone.programmes.iter().map(|p| p.sessions.len()).sum();
    // The last step is the outcomes contract, recorded and evaluated.
    let total = 2 * zone.children.len() + referral_count + session_count + 1;
    let mut steps = Steps { done: 0, total, report: progress };

    let mut child_ids = Vec::with_capacity(zone.children.len());
    for c in &zone.children {
        child_ids.push(seed_child(db, &system, c, &org, &users).await?);
        steps.tick();
    }

    // Referrals, in the generator's order, so a place is free whenever one is needed.
    let mut referral_ids: HashMap<(usize, &str), String> = HashMap::new();
    for (i, c) in zone.children.iter().enumerate() {
        for r in &c.referrals {
            let partner = zone
                .programme(&r.programme_key)
                .map(|p| actors.partner(&p.partner_key))
                .ok_or_else(|| anyhow::anyhow!("unknown programme key {}", r.programme_key))?;
            let id =
                open_referral(db, actors.link_worker(c)?, partner, &child_ids[i], programme_id(&r.programme_key)?, r)
                    .await?;
            referral_ids.insert((i, r.programme_key.as_str()), id);
            steps.tick();
        }
    }

    let alerts = crate::settings::Settings::default().brokering;
    for p in &zone.programmes {
        let staff = actors.partner(&p.partner_key);
        for s in &p.sessions {
            let input = NewSession {
                programme_id: programme_id(&p.key)?,
                held_on: day(s.held_on),
                duration_minutes: i32::from(s.duration_minutes),
                kind: session_kind(s.kind),
                notes: s.notes.clone(),
                attendees: s
                    .register
                    .iter()
                    .map(|a| Attendee {
                        child_id: child_ids[a.child].clone(),
                        status: attendance_status(a.status),
                        engagement: a.engagement.map(engagement),
                    })
                    .collect(),
            };
            sessions::log(db, staff, input, alerts).await?;
            steps.tick();
        }
    }

    for (i, c) in zone.children.iter().enumerate() {
        let referral_id =
            |key: &str| referral_ids.get(&(i, key)).cloned().ok_or_else(|| anyhow::anyhow!("no referral to {key}"));
        seed_casework(db, &actors, &zone, c, &child_ids[i], &referral_id).await?;
        steps.tick();
    }

    // Needs identification: the primary school's lead imports its data, so its link
    // workers have candidates to work through.
    let lead = actors.account("anchorlead@demo.zone")?;
    crate::domain::screening::import(
        db,
        lead,
        None,
        crate::domain::screening::ImportMode::default(),
        seeds::screening::SAMPLE_ANCHOR_DATA.as_bytes(),
        &mut |_, _, _| {},
    )
    .await
    .map_err(|e| anyhow::anyhow!("importing the sample anchor data: {e}"))?;

    seed_contract(db, &org("funder")?, vec![org("anchor-primary")?, org("anchor-secondary")?])
        .await
        .map_err(|e| anyhow::anyhow!("the demo outcomes contract: {e}"))?;
    steps.tick();
    Ok(true)
}

/// The name of the demo's outcomes contract.
pub const DEMO_CONTRACT: &str = "Northfield Children's Outcomes Partnership";

/// The demo's outcomes contract: a collective impact bond paid 60% by the city council (a
/// second funder organisation, made here) and 40% by the community foundation (the demo
/// funder's organisation), covering both anchors over the school years 2025/26 and
/// 2026/27, with three milestones; evaluated as of the demo's fixed date
/// ([`seeds::REFERENCE_DATE`]), never the clock, so that the claims are the same on every
/// run and on every day.
async fn seed_contract(db: &DatabaseConnection, foundation: &str, anchor_ids: Vec<String>) -> crate::error::Result<()> {
    use crate::domain::contracts::{self, NewContract, NewPayer};
    use crate::domain::milestones::{NewInstalment, NewMilestone, NewRateCard, NewRule, RuleKind};
    let system = Actor::system();
    let council = accounts::create_organisation(
        db,
        &system,
        accounts::NewOrganisation { name: "Northfield City Council".into(), kind: domain::OrganisationKind::Funder },
    )
    .await?;
    let mut engaged = NewRule::of(RuleKind::Engaged);
    engaged.sessions_at_least = Some(6);
    let mut improved = NewRule::of(RuleKind::Improved);
    improved.area = Some("emotional_wellbeing".into());
    improved.levels_at_least = Some(1);
    let mut recovered = NewRule::of(RuleKind::AttendanceRecovered);
    recovered.from_below = Some(90.0);
    recovered.to_at_least = Some(95.0);
    let milestone =
        |code: &str, name: &str, rule: NewRule, price_pence: i64, verified_by: &str, evidence: &str| NewMilestone {
            code: code.into(),
            name: name.into(),
            rule,
            price_pence,
            instalments: None,
            minimum_duration_days: None,
            verified_by: verified_by.into(),
            evidence: evidence.into(),
        };
    let mut attendance = milestone(
        "attendance_recovered",
        "School attendance recovered",
        recovered,
        60000,
        "The anchor school's attendance officer",
        "Attendance percentages recorded as assessments (attendance_percent)",
    );
    attendance.instalments = Some(vec![
        NewInstalment { share_percent: 50.0, after_days: 0 },
        NewInstalment { share_percent: 50.0, after_days: 90 },
    ]);
    attendance.minimum_duration_days = Some(28);
    let input = NewContract {
        name: DEMO_CONTRACT.into(),
        period_start: "2025-09-01".into(),
        period_end: "2027-08-31".into(),
        cohort: None,
        anchor_ids,
        payers: vec![
            NewPayer { organisation_id: council.id, share_percent: 60.0 },
            NewPayer { organisation_id: foundation.to_owned(), share_percent: 40.0 },
        ],
        rate_card: NewRateCard {
            milestones: vec![
                milestone(
                    "engaged",
                    "Engaged in support",
                    engaged,
                    25000,
                    "The backbone team, from partners' registers",
                    "Session registers: at least 6 sessions attended within one term",
                ),
                milestone(
                    "wellbeing_improved",
                    "Emotional wellbeing improved",
                    improved,
                    90000,
                    "The backbone's evaluation lead",
                    "Baseline and endpoint assessments on the common scale",
                ),
                attendance,
            ],
            cap_per_child_pence: Some(150000),
            total_cap_pence: Some(6000000),
        },
    };
    let contract = contracts::record(db, &system, input).await?;
    contracts::evaluate(db, &system, &contract.model.id, &day(seeds::REFERENCE_DATE)).await?;
    Ok(())
}

fn programme_fields(p: &seeds::Programme) -> ProgrammeFields {
    ProgrammeFields {
        name: p.name.clone(),
        description: p.description.clone(),
        domains: p.domains.iter().map(|d| outcome_domain(*d)).collect(),
        minimum_age: i32::from(p.minimum_age),
        maximum_age: i32::from(p.maximum_age),
        attending_type: attending_type(p.attending_type),
        location_name: p.location_name.clone(),
        postcode: p.postcode.clone(),
        schedule: p.schedule.clone(),
        capacity: i32::from(p.capacity),
        starts_on: None,
    }
}

/// Proposes a referral as the child's link worker, sends it, and has the partner accept
/// or decline it, as far as the referral got. Returns its id.
async fn open_referral(
    db: &DatabaseConnection,
    link_worker: &Actor,
    partner: &Actor,
    child_id: &str,
    programme_id: String,
    r: &seeds::Referral,
) -> anyhow::Result<String> {
    use seeds::ReferralStatus::{Accepted, Declined, Sent};
    let d = r.dates;
    let input = NewReferral {
        child_id: child_id.to_owned(),
        programme_id,
        needs: r.needs.clone(),
        note: None,
        on: step_day(d.proposed_on),
    };
    let id = referrals::propose(db, link_worker, input).await?.id;
    if r.reached(Sent) {
        referrals::send(db, link_worker, &id, None, step_day(d.sent_on)).await?;
    }
    if r.reached(Accepted) {
        referrals::respond(db, partner, &id, true, None, None, step_day(d.answered_on)).await?;
    } else if r.reached(Declined) {
        referrals::respond(db, partner, &id, false, r.reason.clone(), None, step_day(d.answered_on)).await?;
    }
    Ok(id)
}

/// A child's casework once the sessions are logged: progress notes, concerns and
/// assessments (partner staff write and record theirs while the referral is still live),
/// then referrals completed or withdrawn, the link worker's contacts, and finally the end
/// of the enrolment.
async fn seed_casework(
    db: &DatabaseConnection,
    actors: &Actors,
    zone: &seeds::DemoZone,
    c: &seeds::Child,
    child_id: &str,
    referral_id: &impl Fn(&str) -> anyhow::Result<String>,
) -> anyhow::Result<()> {
    let partner_for = |key: &str| zone.programme(key).map_or(&actors.system, |p| actors.partner(&p.partner_key));
    for n in &c.notes {
        let input = NewNote {
            child_id: child_id.to_owned(),
            referral_id: n.programme_key.as_deref().map(referral_id).transpose()?,
            body: n.body.clone(),
            visibility: note_visibility(n.visibility),
        };
        casework::add_note(db, actors.account(&n.author_email)?, input).await?;
    }
    for s in &c.safeguarding_concerns {
        casework::raise_concern(db, actors.account(&s.raised_by_email)?, child_id, &s.body).await?;
    }
    // Oldest first, under the framework the seed loaded: the child's link worker, or a
    // partner worker whose referral is live.
    for a in &c.assessments {
        let input = NewAssessment {
            child_id: child_id.to_owned(),
            measure: a.measure.clone(),
            value: a.score.number(),
            category: a.score.category().map(str::to_owned),
            stage: assessment_stage(a.stage),
            assessed_on: day(a.assessed_on),
        };
        outcomes::record(db, actors.account(&a.author_email)?, input).await?;
    }
    for r in &c.referrals {
        match r.status {
            seeds::ReferralStatus::Completed => {
                let (by, id) = (partner_for(&r.programme_key), referral_id(&r.programme_key)?);
                referrals::complete(db, by, &id, None, step_day(r.dates.closed_on)).await?;
            }
            seeds::ReferralStatus::Withdrawn => {
                let reason = r.reason.clone().unwrap_or_else(|| "Withdrawn".into());
                let (by, id) = (actors.link_worker(c)?, referral_id(&r.programme_key)?);
                referrals::withdraw(db, by, &id, reason, step_day(r.dates.closed_on)).await?;
            }
            _ => {}
        }
    }
    for k in &c.contacts {
        let input = NewContact {
            child_id: child_id.to_owned(),
            held_on: day(k.held_on),
            minutes: i32::from(k.minutes),
            kind: contact_kind(k.kind),
            with_whom: k.with_whom.iter().map(|p| contact_party(*p)).collect(),
            content: k.content.clone(),
        };
        casework::log_contact(db, actors.link_worker(c)?, input).await?;
    }
    seed_plan(db, actors, c, child_id, referral_id).await?;
    if let Some((transition, note)) = final_transition(c) {
        enrolment::transition(db, &actors.system, child_id, transition, note, step_day(c.steps.ended_on)).await?;
    }
    Ok(())
}

/// A support plan for a child still taking part with a referral still open, agreed by
/// their link worker two weeks after the enrolment (so its reviews fall due, and many of
/// the 2025/26 cohort's are overdue: the worklist shows them), with the specialist support
/// of those referrals and one goal on the area of the child's first referral.
async fn seed_plan(
    db: &DatabaseConnection,
    actors: &Actors,
    c: &seeds::Child,
    child_id: &str,
    referral_id: &impl Fn(&str) -> anyhow::Result<String>,
) -> anyhow::Result<()> {
    let open = |r: &&seeds::Referral| {
        matches!(
            r.status,
            seeds::ReferralStatus::Sent | seeds::ReferralStatus::Accepted | seeds::ReferralStatus::Active
        )
    };
    let (Some(enrolled_on), None) = (c.steps.enrolled_on, final_transition(c)) else { return Ok(()) };
    let referrals: Vec<&seeds::Referral> = c.referrals.iter().filter(open).collect();
    let agreed_on = (enrolled_on + chrono::Duration::days(14)).min(seeds::LAST_STEP_DATE);
    if referrals.is_empty() || c.link_worker_email.is_none() || agreed_on > domain::validate::today() {
        return Ok(());
    }
    let input = domain::plans::NewPlan {
        child_id: child_id.to_owned(),
        agreed_on: day(agreed_on),
        informal_engagement: Some("A check-in at the gate on Mondays and Thursdays".into()),
        formal_engagement: Some("A one-to-one with the link worker every half term".into()),
        developmental_support: None,
        referral_ids: referrals.iter().map(|r| referral_id(&r.programme_key)).collect::<anyhow::Result<_>>()?,
        child_took_part: true,
        participant_relationship_ids: Vec::new(),
        goals: vec![domain::plans::NewGoal {
            area: "relationships".into(),
            description: "Feel settled with friends in class".into(),
            target_level: 4,
        }],
    };
    domain::plans::agree(db, actors.link_worker(c)?, input).await?;
    Ok(())
}

/// Writes one child's record, up to (not including) the end of their enrolment. Returns
/// the child's id.
async fn seed_child(
    db: &DatabaseConnection,
    system: &Actor,
    c: &seeds::Child,
    org: &impl Fn(&str) -> anyhow::Result<String>,
    users: &HashMap<String, String>,
) -> anyhow::Result<String> {
    let new = children::NewChild {
        first_name: c.first_name.clone(),
        last_name: c.last_name.clone(),
        date_of_birth: day(c.date_of_birth),
        anchor_id: Some(org(&c.anchor_key)?),
        year_group: i32::from(c.year_group),
        upn: c.upn.clone(),
        contact_phone: c.contact_phone.clone(),
        contact_email: c.contact_email.clone(),
        postcode: c.postcode.clone(),
        free_school_meals: c.free_school_meals,
        send: c.send,
        eal: c.eal,
        looked_after: c.looked_after,
        note: Some("Identified from attendance and wellbeing data".into()),
        on: step_day(Some(c.identified_on)),
        confirm_not_duplicate: false,
    };
    let child = children::identify(db, system, new).await?;
    if let Some(worker) = c.link_worker_email.as_ref().and_then(|e| users.get(e)) {
        crate::domain::casework::hand_over(db, system, &child.id, worker, None).await?;
    }
    for r in &c.relationships {
        let input = children::NewRelationship {
            child_id: child.id.clone(),
            kind: relationship_kind(r.kind),
            name: r.name.clone(),
            involvement: involvement(r.involvement),
            parental_responsibility: r.parental_responsibility,
            phone: r.phone.clone(),
            notes: None,
        };
        children::add_relationship(db, system, input).await?;
    }
    if let Some(p) = &c.participation {
        let input = NewParticipation {
            child_id: child.id.clone(),
            agreed_by: giver(p.agreed_by),
            agreed_by_name: p.agreed_by_name.clone(),
            agreed_on: day(p.agreed_on),
            evidence: p.evidence.clone(),
        };
        consent::record_participation(db, system, input).await?;
    }
    if let Some(b) = &c.lawful_basis {
        let input = NewLawfulBasis {
            child_id: child.id.clone(),
            basis: match b.basis {
                seeds::LawfulBasisKind::PublicTask => domain::LawfulBasisKind::PublicTask,
                seeds::LawfulBasisKind::LegitimateInterests => domain::LawfulBasisKind::LegitimateInterests,
            },
            special_category: b.special_category.map(|s| match s {
                seeds::SpecialCategoryCondition::SubstantialPublicInterest => {
                    domain::SpecialCategoryCondition::SubstantialPublicInterest
                }
                seeds::SpecialCategoryCondition::HealthOrSocialCare => {
                    domain::SpecialCategoryCondition::HealthOrSocialCare
                }
            }),
            data_sharing_agreement: b.data_sharing_agreement.clone(),
        };
        consent::record_lawful_basis(db, system, input).await?;
    }
    for k in &c.consents {
        let partner_ids = k.partner_keys.iter().map(|p| org(p)).collect::<anyhow::Result<Vec<_>>>()?;
        let input = NewConsent {
            child_id: child.id.clone(),
            given_by: giver(k.given_by),
            given_by_name: k.given_by_name.clone(),
            given_on: day(k.given_on),
            purposes: k.purposes.iter().map(|p| purpose(*p)).collect(),
            partner_ids,
            evidence: k.evidence.clone(),
        };
        let recorded = consent::record_consent(db, system, input).await?;
        if let (Some(on), Some(reason)) = (k.withdrawn_on, &k.withdrawal_reason) {
            let input = Withdrawal { consent_id: recorded.id, withdrawn_on: day(on), reason: reason.clone() };
            consent::withdraw_consent(db, system, input).await?;
        }
    }
    for t in transitions_after_consent(c) {
        match t {
            Transition::Enrol => {
                let cohort = c.cohort.clone();
                let on = step_day(c.steps.enrolled_on);
                enrolment::enrol(db, system, Enrol { child_id: child.id.clone(), cohort, on }).await?;
            }
            other => {
                enrolment::transition(db, system, &child.id, other, None, step_day(c.steps.active_on)).await?;
            }
        }
    }
    Ok(child.id)
}
