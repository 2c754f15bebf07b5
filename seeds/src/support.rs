//! The brokering around the demo children, all invented: the partners' programmes,
//! referrals to them in every status, the sessions of the summer term 2026 with their
//! registers, link-worker contacts, progress notes, and one safeguarding concern.
//!
//! It runs after the children are generated, with its own fixed-seed [`Rng`], so the
//! children themselves are exactly as they would be without it.

use chrono::NaiveDate;

use crate::demo::{LINK_WORKER, PRIMARY, Rng, SECONDARY, age_on, date, days_after};
use crate::{
    Account, Attendance, AttendanceStatus, AttendingType, Child, Contact, ContactKind, ContactParty, Engagement,
    ExitReason, NoteVisibility, OutcomeDomain, Programme, ProgressNote, Purpose, REFERENCE_DATE, Referral,
    ReferralDates, ReferralStatus, RelationshipKind, Role, SafeguardingConcern, Session, SessionKind, Stage,
};

/// Fixed PRNG seed for the brokering ("Brokerin" in ASCII).
const SEED: u64 = 0x4272_6F6B_6572_696E;

/// Number of teaching weeks in the summer term 2026.
const TERM_WEEKS: usize = 12;

/// The Monday of each teaching week of the summer term 2026: 20 April to 13 July,
/// skipping the half-term week of 25 May.
fn term_weeks() -> Vec<NaiveDate> {
    let half_term = date(2026, 5, 25);
    let mut weeks = Vec::with_capacity(TERM_WEEKS);
    let mut monday = date(2026, 4, 20);
    while weeks.len() < TERM_WEEKS {
        if monday != half_term {
            weeks.push(monday);
        }
        monday = days_after(monday, 7);
    }
    weeks
}

/// How a programme delivers its sessions.
#[derive(Clone, Copy, Debug)]
enum Delivery {
    /// Group sessions on `weekday` (0 = Monday) of term weeks `from..`, every `every` weeks.
    Weekly { weekday: i64, from: usize, every: usize },
    /// Group sessions on `days` consecutive weekdays from `first` (a holiday camp).
    Camp { first: NaiveDate, days: i64 },
    /// One-to-one sessions: `count` per child, `every` weeks apart, in term time.
    OneToOne { count: usize, every: usize },
    /// Starts after the reference date: no sessions yet.
    FromSeptember,
}

/// A programme as described here, before its sessions are generated.
struct Spec {
    key: &'static str,
    partner: &'static str,
    name: &'static str,
    description: &'static str,
    domains: &'static [OutcomeDomain],
    ages: (u8, u8),
    /// Only children of this anchor are referred (the venue is that school, say).
    only_at: Option<&'static str>,
    attending: AttendingType,
    venue: Option<(&'static str, &'static str)>,
    schedule: &'static str,
    capacity: u16,
    minutes: u16,
    delivery: Delivery,
    /// What link workers write as the child's needs when referring.
    needs: &'static [&'static str],
}

fn catalogue() -> Vec<Spec> {
    use AttendingType::{Both, InPerson, Online};
    use OutcomeDomain::{
        AttendanceEngagement, ConfidenceAspiration, EmotionalWellbeing, ProgressAtSchool, Relationships,
    };
    let family_roots = ("Family Roots Centre, Oak Road", "ZZ5 3PL");
    vec![
        Spec {
            key: "brightpath-mentoring",
            partner: "partner-1",
            name: "Brightpath One-to-One Mentoring",
            description: "A trained volunteer mentor meets the child every other week to set goals, build \
                          confidence and talk about the future.",
            domains: &[ConfidenceAspiration, Relationships, ProgressAtSchool],
            ages: (8, 16),
            only_at: None,
            attending: InPerson,
            venue: Some(("Brightpath Centre, Mill Lane", "ZZ2 5HT")),
            schedule: "Fortnightly, 45 minutes, during the school day",
            capacity: 6,
            minutes: 45,
            delivery: Delivery::OneToOne { count: 6, every: 2 },
            needs: &[
                "Low confidence and few positive adult role models; would benefit from a consistent mentor",
                "Finds it hard to set goals or talk about the future; very quiet in class",
                "Recent changes at home; needs a trusted adult to talk to outside the family",
            ],
        },
        Spec {
            key: "brightpath-lunch-club",
            partner: "partner-1",
            name: "Brightpath Lunch Club",
            description: "A small weekly lunchtime group at Northfield Primary School where children practise \
                          friendship skills with two mentors.",
            domains: &[Relationships, EmotionalWellbeing],
            ages: (6, 11),
            only_at: Some(PRIMARY),
            attending: InPerson,
            venue: Some(("Northfield Primary School", "ZZ1 4NP")),
            schedule: "Tuesdays 12:15-1:00pm in term time",
            capacity: 12,
            minutes: 45,
            delivery: Delivery::Weekly { weekday: 1, from: 0, every: 1 },
            needs: &[
                "Struggles with friendships at lunchtime; often alone in the playground",
                "Falls out with classmates and finds it hard to calm down afterwards",
                "Anxious in unstructured times; would benefit from a small, calm group",
            ],
        },
        Spec {
            key: "brightpath-step-up",
            partner: "partner-1",
            name: "Step Up to Secondary",
            description: "A transition group for Year 5 and Year 6 pupils getting ready for secondary school: \
                          visits, worries and practical skills, with a mentor who stays with them into Year 7.",
            domains: &[ConfidenceAspiration, EmotionalWellbeing, ProgressAtSchool],
            ages: (9, 11),
            only_at: Some(PRIMARY),
            attending: Both,
            venue: Some(("Northfield Academy", "ZZ3 2QD")),
            schedule: "Thursdays 3:30-4:30pm from 10 September 2026",
            capacity: 10,
            minutes: 60,
            delivery: Delivery::FromSeptember,
            needs: &[
                "Very worried about moving up to secondary school next year",
                "Needs help with organisation and independence before the move to Year 7",
            ],
        },
        Spec {
            key: "kickon-football",
            partner: "partner-2",
            name: "Kick On After-School Football",
            description: "Weekly coached football for girls and boys, with a focus on teamwork, respect and \
                          coming to school on time.",
            domains: &[AttendanceEngagement, ConfidenceAspiration, Relationships],
            ages: (7, 14),
            only_at: None,
            attending: InPerson,
            venue: Some(("Northfield Recreation Ground", "ZZ4 7HT")),
            schedule: "Wednesdays 3:45-5:15pm in term time",
            capacity: 16,
            minutes: 90,
            delivery: Delivery::Weekly { weekday: 2, from: 0, every: 1 },
            needs: &[
                "Loves sport but school attendance has dipped; football could be a reason to come in",
                "Lots of energy and low mood at home; needs a positive team activity",
                "Finds it hard to follow adults' instructions; would benefit from a structured team",
            ],
        },
        Spec {
            key: "kickon-holiday-camp",
            partner: "partner-2",
            name: "Kick On Summer Multi-Sports Camp",
            description: "A free week of multi-sports in the summer holidays, with lunch provided.",
            domains: &[ConfidenceAspiration, Relationships, EmotionalWellbeing],
            ages: (5, 11),
            only_at: None,
            attending: InPerson,
            venue: Some(("Northfield Leisure Centre", "ZZ4 2BW")),
            schedule: "3-7 August 2026, 10am-3pm daily",
            capacity: 20,
            minutes: 300,
            delivery: Delivery::Camp { first: date(2026, 8, 3), days: 5 },
            needs: &[
                "Long summer holiday with little to do; family would welcome a free week with lunch",
                "Few chances to mix with other children outside school",
            ],
        },
        Spec {
            key: "soundworks-band",
            partner: "partner-3",
            name: "SoundWorks Band Project",
            description: "Young people form a band, write songs and play a gig at the end of term, coached by \
                          professional musicians.",
            domains: &[ConfidenceAspiration, EmotionalWellbeing, Relationships],
            ages: (11, 16),
            only_at: Some(SECONDARY),
            attending: InPerson,
            venue: Some(("SoundWorks Studio, Canal Street", "ZZ2 8DN")),
            schedule: "Thursdays 4:00-6:00pm in term time",
            capacity: 10,
            minutes: 120,
            delivery: Delivery::Weekly { weekday: 3, from: 0, every: 1 },
            needs: &[
                "Withdrawn in class but lights up when talking about music",
                "Needs a creative outlet and a sense of belonging outside school",
            ],
        },
        Spec {
            key: "soundworks-art-club",
            partner: "partner-3",
            name: "Little Makers Art Club",
            description: "A relaxed after-school art club where younger children explore paint, clay and \
                          collage, and talk about how they feel.",
            domains: &[EmotionalWellbeing, Relationships],
            ages: (5, 10),
            only_at: Some(PRIMARY),
            attending: InPerson,
            venue: Some(("Northfield Primary School", "ZZ1 4NP")),
            schedule: "Mondays 3:20-4:20pm in term time",
            capacity: 12,
            minutes: 60,
            delivery: Delivery::Weekly { weekday: 0, from: 0, every: 1 },
            needs: &[
                "Finds it hard to put feelings into words; loves drawing",
                "Quiet and anxious; would benefit from a calm, creative space",
            ],
        },
        Spec {
            key: "soundworks-online",
            partner: "partner-3",
            name: "SoundWorks Beats Online",
            description: "Online music production: making beats and tracks at home on a loaned laptop, with a \
                          tutor on a video call.",
            domains: &[ConfidenceAspiration, ProgressAtSchool],
            ages: (12, 16),
            only_at: Some(SECONDARY),
            attending: Online,
            venue: None,
            schedule: "Tuesdays 6:00-7:00pm online, second half of each term",
            capacity: 8,
            minutes: 60,
            delivery: Delivery::Weekly { weekday: 1, from: 4, every: 1 },
            needs: &[
                "Anxious in groups; likely to engage more easily online at first",
                "Interested in music technology; needs something to work towards",
            ],
        },
        Spec {
            key: "familyroots-play-therapy",
            partner: "partner-4",
            name: "Family Roots Play Therapy",
            description: "A six-week block of one-to-one play therapy with a qualified therapist, for children \
                          finding it hard to cope with big feelings.",
            domains: &[EmotionalWellbeing],
            ages: (4, 11),
            only_at: Some(PRIMARY),
            attending: InPerson,
            venue: Some(family_roots),
            schedule: "Weekly, 50 minutes, in six-week blocks",
            capacity: 5,
            minutes: 50,
            delivery: Delivery::OneToOne { count: 6, every: 1 },
            needs: &[
                "Big feelings after a family bereavement; often tearful in class",
                "Angry outbursts at school and at home; parent asking for help",
            ],
        },
        Spec {
            key: "familyroots-parent-child",
            partner: "partner-4",
            name: "Parent and Child Together",
            description: "Fortnightly sessions for a parent or carer and their child to play, talk and plan \
                          together, led by a family therapist.",
            domains: &[Relationships, EmotionalWellbeing],
            ages: (4, 16),
            only_at: None,
            attending: Both,
            venue: Some(family_roots),
            schedule: "Fridays 1:30-3:00pm, fortnightly",
            capacity: 8,
            minutes: 90,
            delivery: Delivery::Weekly { weekday: 4, from: 1, every: 2 },
            needs: &[
                "Relationship with parent under strain; both would like help to get on better",
                "Parent new to the area and isolated; child's behaviour difficult at home",
            ],
        },
    ]
}

const DECLINE_REASONS: &[&str] = &[
    "No places on the only day this child can come; please refer again next term",
    "Needs look better met by a specialist service; we have suggested the school nurse refers on",
    "Sessions clash with the child's regular after-school care arrangements",
    "The family could not commit to the session time when we called",
];

const WITHDRAW_PROPOSED: &[&str] =
    &["The family decided against it after talking it through", "The child chose a different activity instead"];

const WITHDRAW_SENT: &[&str] = &[
    "The family asked to wait until next term",
    "The child chose a different activity instead",
    "Transport to the venue could not be arranged",
];

const WITHDRAW_ACCEPTED: &[&str] =
    &["Transport to the venue could not be arranged", "The family asked to wait until next term"];

const LINK_WORKER_NOTES: &[&str] = &[
    "Review with family: {name} is settling well and more confident in class. Next review in six weeks.",
    "Attendance improving this half term. Agreed with the class teacher to keep the morning check-ins going.",
    "{name} said they are finding lunchtimes hard. Will look at a lunchtime group at the next review.",
    "Parent asked for help with the school uniform grant; signposted to the school office.",
    "Plan reviewed: goals on friendships and reading kept; goal on punctuality met.",
    "{name} talked about wanting to join a club. Looking at options with partners that consent covers.",
];

const CONTACT_GATE: &[&str] = &[
    "Chat with {parent} at the school gate about how {name} is getting on; all positive this week.",
    "Quick catch-up with {parent} at pick-up: mornings are still a struggle, agreed to keep in touch.",
    "Phone call with {parent} to check the new routine is working; it is.",
];

const CONTACT_CHILD: &[&str] = &[
    "Check-in with {name} at break time: happier this week and proud of a piece of writing.",
    "Check-in with {name}: worried about a falling-out with a friend; talked through what to do.",
    "Walked round the playground with {name} at lunchtime; chatted about the weekend.",
];

const CONTACT_REVIEW: &[&str] = &[
    "Review meeting with {parent}, {name} and the class teacher: goals updated, support continues.",
    "Planning meeting with {parent}, {name} and the SENCo: agreed next steps and who does what.",
];

const CONTACT_HOME: &[&str] = &[
    "Home visit to {parent}: talked through the support plan and what {name} would like to try.",
    "Home visit: {parent} shared worries about sleep and screen time; agreed small steps to try.",
];

const CONTACT_STAFF: &[&str] = &[
    "Catch-up with {name}'s class teacher about progress and attendance.",
    "Spoke with the pastoral lead about {name}'s week; nothing new to act on.",
];

/// A referral being planned, before its text is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Plan {
    /// Ends (for now) in this status; never withdrawn.
    At(ReferralStatus),
    /// Withdrawn from this status.
    WithdrawnFrom(ReferralStatus),
}

/// Decides how far a referral got.
type Roll = fn(&mut Rng) -> Plan;

/// A child attending a programme's sessions.
struct Member {
    child: usize,
    referral: usize,
    /// First slot (session index, or week for one-to-one) the child is on the register.
    join: usize,
    /// Last slot on the register, if they stopped before the end (withdrawn).
    leave: Option<usize>,
    /// From this many lines in, the child attends only now and then.
    fade_from: Option<usize>,
    /// Usual attendance, in percent.
    attends: usize,
    /// Usual engagement level, 1 to 3.
    engagement: i64,
    /// Lines written so far, and whether one was attended.
    lines: usize,
    started: bool,
    /// One-to-one only: weekday of their sessions.
    weekday: i64,
}

/// Fills in each child's referrals, contacts, notes and concerns, and returns the
/// programmes with their sessions.
pub(crate) fn generate(children: &mut [Child], accounts: &[Account]) -> Vec<Programme> {
    let mut rng = Rng(SEED);
    let specs = catalogue();
    plan_referrals(&mut rng, children, &specs);
    let fading = choose_fading(&mut rng, children, &specs);
    let programmes = specs.iter().map(|spec| programme(&mut rng, spec, children, &fading)).collect();
    for (c, child) in children.iter_mut().enumerate() {
        contacts(&mut rng, child);
        let fades: Vec<usize> = fading.iter().filter(|&&(fc, _)| fc == c).map(|&(_, r)| r).collect();
        notes(&mut rng, child, &specs, accounts, &fades);
    }
    raise_concern(children, &specs, accounts);
    programmes
}

/// Whether a consent still in force covers referring the child to `partner`.
fn covers(child: &Child, partner: &str) -> bool {
    child.consents.iter().any(|c| {
        c.withdrawn_on.is_none()
            && c.purposes.contains(&Purpose::Referral)
            && c.partner_keys.iter().any(|k| k == partner)
    })
}

fn fits(child: &Child, spec: &Spec) -> bool {
    let age = age_on(child.date_of_birth, REFERENCE_DATE);
    (i32::from(spec.ages.0)..=i32::from(spec.ages.1)).contains(&age)
        && spec.only_at.is_none_or(|anchor| child.anchor_key == anchor)
        && covers(child, spec.partner)
}

fn first_name_in(text: &str, child: &Child) -> String {
    text.replace("{name}", &child.first_name)
}

/// Chooses every child's referrals: how many, to which programme, and where each is now.
fn plan_referrals(rng: &mut Rng, children: &mut [Child], specs: &[Spec]) {
    use ReferralStatus::*;
    // Places taken so far per programme: a referral is only made while a place is free.
    let mut taken = vec![0u16; specs.len()];
    for child in children.iter_mut() {
        if child.lawful_basis.is_none() || child.link_worker_email.is_none() {
            continue;
        }
        // Each referral wanted: whether it must be to a programme already running, and how
        // far it got.
        let mut wanted: Vec<(bool, Roll)> = Vec::new();
        match child.stage {
            Stage::Active => {
                if rng.chance(90) {
                    wanted.push((true, |rng| match rng.below(100) {
                        0..75 => Plan::At(Active),
                        75..92 => Plan::At(Completed),
                        _ => Plan::WithdrawnFrom(Active),
                    }));
                }
                if rng.chance(40) {
                    wanted.push((false, |rng| match rng.below(100) {
                        0..20 => Plan::At(Proposed),
                        20..50 => Plan::At(Sent),
                        50..75 => Plan::At(Accepted),
                        75..87 => Plan::At(Declined),
                        87..92 => Plan::WithdrawnFrom(Proposed),
                        _ => Plan::WithdrawnFrom(Sent),
                    }));
                }
            }
            Stage::Completed => {
                if rng.chance(90) {
                    wanted.push((true, |_| Plan::At(Completed)));
                }
                if rng.chance(15) {
                    wanted.push((false, |_| Plan::At(Declined)));
                }
            }
            Stage::Enrolled => {
                if rng.chance(70) {
                    wanted.push((false, |rng| match rng.below(100) {
                        0..25 => Plan::At(Proposed),
                        25..60 => Plan::At(Sent),
                        60..85 => Plan::At(Accepted),
                        _ => Plan::At(Declined),
                    }));
                }
            }
            Stage::Exited(_) => {
                if rng.chance(70) {
                    wanted.push((false, |rng| Plan::WithdrawnFrom(if rng.chance(50) { Sent } else { Accepted })));
                }
            }
            Stage::Identified | Stage::Consented => {}
        }
        for (delivering, roll) in wanted {
            let mut plan = roll(rng);
            let mut open: Vec<usize> = (0..specs.len())
                .filter(|&p| taken[p] < specs[p].capacity && fits(child, &specs[p]))
                .filter(|&p| !child.referrals.iter().any(|r| r.programme_key == specs[p].key))
                .filter(|&p| !delivering || !matches!(specs[p].delivery, Delivery::FromSeptember))
                // The summer camp is over: nothing about it is still waiting.
                .filter(|&p| {
                    delivering
                        || !matches!(specs[p].delivery, Delivery::Camp { .. })
                        || matches!(plan, Plan::At(Declined) | Plan::WithdrawnFrom(_))
                })
                .collect();
            // A programme starting in September is where most new referrals go, if it fits.
            let starting: Vec<usize> =
                open.iter().copied().filter(|&p| matches!(specs[p].delivery, Delivery::FromSeptember)).collect();
            if !starting.is_empty() && rng.chance(60) {
                open = starting;
            }
            if open.is_empty() {
                continue;
            }
            let p = open[rng.below(open.len())];
            let spec = &specs[p];
            if matches!(spec.delivery, Delivery::Camp { .. }) && plan == Plan::At(Active) {
                // The camp is over: everyone who went has completed it.
                plan = Plan::At(Completed);
            }
            let referral = referral(rng, child, spec, plan);
            if referral.took_a_place() {
                taken[p] += 1;
            }
            child.referrals.push(referral);
        }
    }
}

fn referral(rng: &mut Rng, child: &Child, spec: &Spec, plan: Plan) -> Referral {
    use ReferralStatus::*;
    let needs = rng.pick(spec.needs).to_owned();
    let (status, withdrawn_from, reason) = match plan {
        Plan::At(Declined) => (Declined, None, Some(rng.pick(DECLINE_REASONS).to_owned())),
        Plan::At(status) => (status, None, None),
        Plan::WithdrawnFrom(from) => {
            let reason = match (child.stage, from) {
                (Stage::Exited(exit), _) => exit_reason_text(exit, child),
                (_, Proposed) => rng.pick(WITHDRAW_PROPOSED).to_owned(),
                (_, Sent) => rng.pick(WITHDRAW_SENT).to_owned(),
                (_, Accepted) => rng.pick(WITHDRAW_ACCEPTED).to_owned(),
                _ => first_name_in("Attendance fell away after half term and {name} did not want to carry on", child),
            };
            (Withdrawn, Some(from), Some(reason))
        }
    };
    Referral {
        programme_key: spec.key.to_owned(),
        needs,
        status,
        withdrawn_from,
        reason,
        dates: ReferralDates::default(),
    }
}

fn exit_reason_text(exit: ExitReason, child: &Child) -> String {
    match exit {
        ExitReason::MovedAway => "The family moved out of the zone before the place started".to_owned(),
        ExitReason::FamilyWithdrew => "The family withdrew from the programme".to_owned(),
        ExitReason::StatutoryServices => "Needs are now met by statutory services".to_owned(),
        ExitReason::Disengaged => first_name_in("{name} stopped engaging with support", child),
        ExitReason::Other => "Family circumstances changed; support ended".to_owned(),
    }
}

/// The (child, referral) pairs whose attendance fades after a good start: every referral
/// withdrawn from active, a few active ones, and always one active referral of a child on
/// the demo link worker's caseload whose only sessions are at that programme, so the demo
/// shows attendance dropping below 75%.
fn choose_fading(rng: &mut Rng, children: &[Child], specs: &[Spec]) -> Vec<(usize, usize)> {
    let weekly = |key: &str| {
        specs.iter().any(|s| s.key == key && matches!(s.delivery, Delivery::Weekly { from: 0, every: 1, .. }))
    };
    let mut fading = Vec::new();
    let mut shown = false;
    for (c, child) in children.iter().enumerate() {
        let attending = child.referrals.iter().filter(|r| r.reached(ReferralStatus::Active)).count();
        for (r, referral) in child.referrals.iter().enumerate() {
            if referral.status == ReferralStatus::Withdrawn && referral.reached(ReferralStatus::Active) {
                fading.push((c, r));
            } else if referral.status == ReferralStatus::Active && weekly(&referral.programme_key) {
                let show = !shown && attending == 1 && child.link_worker_email.as_deref() == Some(LINK_WORKER);
                shown |= show;
                if show || rng.chance(5) {
                    fading.push((c, r));
                }
            }
        }
    }
    fading
}

/// The programme as published, with the sessions it held.
fn programme(rng: &mut Rng, spec: &Spec, children: &[Child], fading: &[(usize, usize)]) -> Programme {
    let mut members: Vec<Member> = Vec::new();
    for (c, child) in children.iter().enumerate() {
        for (r, referral) in child.referrals.iter().enumerate() {
            if referral.programme_key != spec.key || !referral.reached(ReferralStatus::Active) {
                continue;
            }
            let fades = fading.contains(&(c, r));
            members.push(Member {
                child: c,
                referral: r,
                join: 0,
                leave: None,
                fade_from: fades.then(|| rng.between(3, 5) as usize),
                attends: rng.between(84, 98) as usize,
                engagement: match rng.below(10) {
                    0 => 1,
                    1..=5 => 2,
                    _ => 3,
                },
                lines: 0,
                started: false,
                weekday: rng.between(0, 4),
            });
        }
    }
    let sessions = match spec.delivery {
        Delivery::Weekly { weekday, from, every } => {
            let days: Vec<NaiveDate> =
                term_weeks().into_iter().skip(from).step_by(every).map(|monday| days_after(monday, weekday)).collect();
            group_sessions(rng, spec, children, &mut members, &days, true)
        }
        Delivery::Camp { first, days } => {
            let days: Vec<NaiveDate> = (0..days).map(|d| days_after(first, d)).collect();
            group_sessions(rng, spec, children, &mut members, &days, false)
        }
        Delivery::OneToOne { count, every } => one_to_one_sessions(rng, spec, children, &mut members, count, every),
        Delivery::FromSeptember => Vec::new(),
    };
    let (location_name, postcode) = match spec.venue {
        Some((name, postcode)) => (Some(name.to_owned()), Some(postcode.to_owned())),
        None => (None, None),
    };
    Programme {
        key: spec.key.to_owned(),
        partner_key: spec.partner.to_owned(),
        name: spec.name.to_owned(),
        description: spec.description.to_owned(),
        domains: spec.domains.to_vec(),
        minimum_age: spec.ages.0,
        maximum_age: spec.ages.1,
        attending_type: spec.attending,
        location_name,
        postcode,
        schedule: spec.schedule.to_owned(),
        capacity: spec.capacity,
        sessions,
    }
}

/// One register line for `member`, the session not being cancelled for everyone.
fn line(rng: &mut Rng, member: &mut Member) -> Attendance {
    let k = member.lines;
    member.lines += 1;
    let attended = if !member.started {
        // A child's first session on the register is the one that starts their referral.
        true
    } else if let Some(fade) = member.fade_from.filter(|&f| k >= f) {
        // After a good start, only now and then: one session in three.
        (k - fade) % 3 == 2
    } else if rng.chance(3) {
        return Attendance { child: member.child, status: AttendanceStatus::Cancelled, engagement: None };
    } else {
        rng.chance(member.attends)
    };
    if !attended {
        return Attendance { child: member.child, status: AttendanceStatus::Absent, engagement: None };
    }
    member.started = true;
    let usual = if member.fade_from.is_some_and(|f| k >= f) { 1 } else { member.engagement };
    let level = match rng.below(100) {
        0..20 => usual - 1,
        20..35 => usual + 1,
        _ => usual,
    };
    let engagement = match level.clamp(1, 3) {
        1 => Engagement::Disengaged,
        2 => Engagement::Participating,
        _ => Engagement::FullyEngaged,
    };
    Attendance { child: member.child, status: AttendanceStatus::Attended, engagement: Some(engagement) }
}

const CANCELLED_NOTES: &[&str] =
    &["Cancelled: venue unavailable at short notice", "Cancelled: session leader unwell, no cover available"];

const GROUP_NOTES: &[&str] = &[
    "Good session; the group is starting to gel.",
    "Two new starters this week; buddied them up with regulars.",
    "Lively session; ended with a calm-down activity that worked well.",
    "Worked on the end-of-term showcase.",
];

fn group_sessions(
    rng: &mut Rng,
    spec: &Spec,
    children: &[Child],
    members: &mut [Member],
    days: &[NaiveDate],
    term_time: bool,
) -> Vec<Session> {
    let n = days.len();
    // In term time, some children join a few weeks in, and a withdrawn child stops
    // coming a few sessions after their attendance faded; a session may be called off.
    for member in members.iter_mut() {
        let referral = &children[member.child].referrals[member.referral];
        if term_time && n >= 8 && rng.chance(30) {
            member.join = rng.between(1, 3) as usize;
        }
        if referral.status == ReferralStatus::Withdrawn {
            member.fade_from = Some(2);
            member.leave = Some((member.join + rng.between(6, 8) as usize).min(n - 1));
        }
    }
    let called_off = (term_time && n >= 8 && rng.chance(50)).then(|| rng.between(4, n as i64 - 2) as usize);
    let mut sessions = Vec::with_capacity(n);
    for (slot, &held_on) in days.iter().enumerate() {
        let on_register = |m: &&mut Member| m.join <= slot && m.leave.is_none_or(|leave| slot <= leave);
        let cancelled = called_off == Some(slot);
        let register: Vec<Attendance> = members
            .iter_mut()
            .filter(on_register)
            .map(|member| {
                if cancelled {
                    Attendance { child: member.child, status: AttendanceStatus::Cancelled, engagement: None }
                } else {
                    line(rng, member)
                }
            })
            .collect();
        if register.is_empty() {
            continue;
        }
        let notes = if cancelled {
            Some(rng.pick(CANCELLED_NOTES).to_owned())
        } else {
            rng.chance(30).then(|| rng.pick(GROUP_NOTES).to_owned())
        };
        sessions.push(Session { held_on, duration_minutes: spec.minutes, kind: SessionKind::Group, notes, register });
    }
    sessions
}

fn one_to_one_sessions(
    rng: &mut Rng,
    spec: &Spec,
    children: &[Child],
    members: &mut [Member],
    count: usize,
    every: usize,
) -> Vec<Session> {
    let weeks = term_weeks();
    let span = every * (count - 1);
    let mut sessions = Vec::new();
    for member in members.iter_mut() {
        let referral = &children[member.child].referrals[member.referral];
        let start = rng.below(TERM_WEEKS - span);
        let held = if referral.status == ReferralStatus::Withdrawn {
            member.fade_from = Some(2);
            rng.between(3, count as i64 - 1) as usize
        } else {
            count
        };
        for k in 0..held {
            let held_on = days_after(weeks[start + k * every], member.weekday);
            let attendance = line(rng, member);
            sessions.push(Session {
                held_on,
                duration_minutes: spec.minutes,
                kind: SessionKind::OneToOne,
                notes: None,
                register: vec![attendance],
            });
        }
    }
    // Oldest first (a stable sort keeps each day's sessions in child order).
    sessions.sort_by_key(|s| s.held_on);
    sessions
}

/// A weekday on or before `day` (weekends move back to Friday).
fn weekday_on_or_before(day: NaiveDate) -> NaiveDate {
    use chrono::{Datelike, Weekday};
    match day.weekday() {
        Weekday::Sat => days_after(day, -1),
        Weekday::Sun => days_after(day, -2),
        _ => day,
    }
}

/// The link worker's contacts with the child and family since they agreed to take part.
fn contacts(rng: &mut Rng, child: &mut Child) {
    let Some(participation) = &child.participation else { return };
    if child.link_worker_email.is_none() {
        return;
    }
    let count = match child.stage {
        Stage::Identified => 0,
        Stage::Consented => rng.between(0, 1),
        Stage::Enrolled | Stage::Completed => rng.between(1, 2),
        Stage::Active => rng.between(1, 3),
        Stage::Exited(_) => rng.between(0, 2),
    };
    let parent = child
        .relationships
        .iter()
        .find(|r| r.kind != RelationshipKind::TrustedAdult)
        .map(|r| r.name.split(' ').next().unwrap_or("the parent").to_owned())
        .unwrap_or_else(|| "the parent".to_owned());
    let trusted_adult = child.relationships.iter().find(|r| r.kind == RelationshipKind::TrustedAdult);
    let room = (REFERENCE_DATE - participation.agreed_on).num_days();
    let mut contacts = Vec::new();
    for _ in 0..count {
        let held_on = weekday_on_or_before(days_after(participation.agreed_on, rng.between(0, room)));
        let held_on = held_on.max(participation.agreed_on);
        let (kind, with_whom, minutes, text) = match rng.below(if trusted_adult.is_some() { 6 } else { 5 }) {
            0 => (ContactKind::Informal, vec![ContactParty::Parent], rng.between(5, 15), rng.pick(CONTACT_GATE)),
            1 => (ContactKind::Informal, vec![ContactParty::Child], rng.between(5, 15), rng.pick(CONTACT_CHILD)),
            2 => (
                ContactKind::Formal,
                vec![ContactParty::Parent, ContactParty::Child, ContactParty::SchoolStaff],
                rng.between(30, 60),
                rng.pick(CONTACT_REVIEW),
            ),
            3 => (ContactKind::Formal, vec![ContactParty::Parent], rng.between(45, 75), rng.pick(CONTACT_HOME)),
            4 => (ContactKind::Informal, vec![ContactParty::SchoolStaff], rng.between(10, 20), rng.pick(CONTACT_STAFF)),
            _ => (
                ContactKind::Formal,
                vec![ContactParty::TrustedAdult],
                rng.between(20, 40),
                "Met {adult}, who mentors {name}, to agree how best to support them together.",
            ),
        };
        let adult = trusted_adult.map(|r| r.name.as_str()).unwrap_or("their mentor");
        let content = text.replace("{name}", &child.first_name).replace("{parent}", &parent).replace("{adult}", adult);
        contacts.push(Contact { held_on, minutes: minutes as u16, kind, with_whom, content });
    }
    contacts.sort_by_key(|c| c.held_on);
    child.contacts = contacts;
}

/// The first demo account of `partner` with `role`.
fn partner_account<'a>(accounts: &'a [Account], partner: &str, role: Role) -> Option<&'a Account> {
    accounts.iter().find(|a| a.organisation_key == partner && a.role == role)
}

fn partner_of<'a>(specs: &'a [Spec], programme_key: &str) -> &'a str {
    specs.iter().find(|s| s.key == programme_key).map_or("", |s| s.partner)
}

/// Notes from the link worker, and from partner staff (where the partner has demo
/// accounts) about referrals that took a place, written while the referral was live.
/// `fading` lists the child's referrals whose attendance faded.
fn notes(rng: &mut Rng, child: &mut Child, specs: &[Spec], accounts: &[Account], fading: &[usize]) {
    let Some(link_worker) = child.link_worker_email.clone() else { return };
    let mut notes = Vec::new();
    if child.lawful_basis.is_some() {
        let count = match rng.below(100) {
            0..45 => 0,
            45..85 => 1,
            _ => 2,
        };
        for _ in 0..count {
            notes.push(ProgressNote {
                author_email: link_worker.clone(),
                programme_key: None,
                visibility: NoteVisibility::Organisation,
                body: first_name_in(rng.pick(LINK_WORKER_NOTES), child),
            });
        }
    }
    for (r, referral) in child.referrals.iter().enumerate() {
        if !referral.took_a_place() {
            continue;
        }
        let partner = partner_of(specs, &referral.programme_key);
        let Some(worker) = partner_account(accounts, partner, Role::PartnerWorker) else { continue };
        let fades = fading.contains(&r);
        // A partner always tells the link worker when attendance falls away.
        if !fades && !rng.chance(75) {
            continue;
        }
        let body = partner_note_text(rng, child, referral, fades);
        let visibility =
            if fades || rng.chance(55) { NoteVisibility::SharedWithLinkWorker } else { NoteVisibility::Organisation };
        notes.push(ProgressNote {
            author_email: worker.email.clone(),
            programme_key: Some(referral.programme_key.clone()),
            visibility,
            body,
        });
        if let Some(lead) = partner_account(accounts, partner, Role::PartnerLead)
            && rng.chance(25)
        {
            notes.push(ProgressNote {
                author_email: lead.email.clone(),
                programme_key: Some(referral.programme_key.clone()),
                visibility: NoteVisibility::Organisation,
                body: first_name_in("Reviewed at supervision: no concerns about {name}'s place.", child),
            });
        }
    }
    child.notes = notes;
}

fn partner_note_text(rng: &mut Rng, child: &Child, referral: &Referral, fades: bool) -> String {
    let text = match referral.status {
        _ if fades => "{name} has missed most sessions since half term; we tried calling home twice without reply.",
        ReferralStatus::Accepted => "Welcome call with {name}'s family: start date agreed and consent form checked.",
        ReferralStatus::Completed => rng.pick(&[
            "{name} completed the programme: attendance was good and confidence has grown noticeably.",
            "Final session done. {name} set two goals to keep working on with their link worker.",
        ]),
        ReferralStatus::Withdrawn => "Place confirmed with the family; waiting to hear back about transport.",
        _ => rng.pick(&[
            "{name} has settled well and looks forward to sessions.",
            "{name} was quiet at first but now joins in and chats about school.",
            "{name} finds the start of sessions hard; arriving five minutes early with a job to do helps.",
        ]),
    };
    first_name_in(text, child)
}

/// Exactly one safeguarding concern, about a child at the primary anchor (whose
/// designated safeguarding lead reads it): raised by partner staff who saw the child at
/// a session, or else by the child's link worker.
fn raise_concern(children: &mut [Child], specs: &[Spec], accounts: &[Account]) {
    let on_caseload = |c: &Child| {
        c.anchor_key == PRIMARY && c.stage == Stage::Active && c.link_worker_email.as_deref() == Some(LINK_WORKER)
    };
    // Partner staff who see the child at an active referral's sessions.
    let worker = |c: &Child| {
        c.referrals
            .iter()
            .filter(|r| r.status == ReferralStatus::Active)
            .find_map(|r| partner_account(accounts, partner_of(specs, &r.programme_key), Role::PartnerWorker))
            .map(|a| a.email.clone())
    };
    let by_partner =
        children.iter().enumerate().find_map(|(i, c)| on_caseload(c).then(|| worker(c)).flatten().map(|w| (i, w)));
    let (index, raised_by) = match by_partner {
        Some(found) => found,
        None => match children.iter().position(on_caseload) {
            Some(i) => (i, LINK_WORKER.to_owned()),
            None => return,
        },
    };
    let child = &mut children[index];
    let body = first_name_in(
        "At today's session {name} arrived hungry for the third week running and said there is often no food \
         at home at weekends. {name} did not want us to tell anyone. Told {name} we would need to share this \
         to help; passed to the school's designated safeguarding lead by phone the same afternoon.",
        child,
    );
    child.safeguarding_concerns.push(SafeguardingConcern { raised_by_email: raised_by, body });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DemoZone, demo_zone};
    use std::collections::HashMap;

    fn referrals(zone: &DemoZone) -> impl Iterator<Item = (usize, &Child, &Referral)> {
        zone.children.iter().enumerate().flat_map(|(i, c)| c.referrals.iter().map(move |r| (i, c, r)))
    }

    /// (offered, attended) per (child, programme key), from the registers.
    fn attendance(zone: &DemoZone) -> HashMap<(usize, &str), (usize, usize)> {
        let mut counts: HashMap<(usize, &str), (usize, usize)> = HashMap::new();
        for programme in &zone.programmes {
            for session in &programme.sessions {
                for line in &session.register {
                    let entry = counts.entry((line.child, programme.key.as_str())).or_default();
                    entry.0 += usize::from(line.status != AttendanceStatus::Cancelled);
                    entry.1 += usize::from(line.status == AttendanceStatus::Attended);
                }
            }
        }
        counts
    }

    #[test]
    fn every_partner_has_two_or_three_programmes() {
        let zone = demo_zone();
        let partners: Vec<&str> = zone
            .organisations
            .iter()
            .filter(|o| o.kind == crate::OrganisationKind::Partner)
            .map(|o| o.key.as_str())
            .collect();
        assert_eq!(partners.len(), 4);
        for partner in &partners {
            let count = zone.programmes.iter().filter(|p| p.partner_key == *partner).count();
            assert!((2..=3).contains(&count), "{partner} has {count} programmes");
        }
        let mut keys: Vec<&str> = zone.programmes.iter().map(|p| p.key.as_str()).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), zone.programmes.len(), "programme keys are unique");
        for p in &zone.programmes {
            assert!(partners.contains(&p.partner_key.as_str()), "{}", p.key);
            assert!(!p.name.is_empty() && !p.description.is_empty() && !p.schedule.is_empty(), "{}", p.key);
            assert!(p.description.chars().count() <= 2000 && p.name.chars().count() <= 200, "{}", p.key);
            assert!(!p.domains.is_empty(), "{}", p.key);
            assert!(p.minimum_age <= p.maximum_age && p.maximum_age <= 25, "{}", p.key);
            assert!(p.capacity >= 1, "{}", p.key);
            assert_eq!(p.location_name.is_some(), p.attending_type != AttendingType::Online, "{}", p.key);
            assert_eq!(p.location_name.is_some(), p.postcode.is_some(), "{}", p.key);
            if let Some(postcode) = &p.postcode {
                assert!(postcode.starts_with("ZZ") && postcode.len() == 7, "{postcode}");
            }
        }
        // One programme starts in September: referrals to it wait, with no sessions yet.
        assert!(zone.programmes.iter().any(|p| p.sessions.is_empty()));
    }

    #[test]
    fn every_referral_status_appears_with_reasons_where_due() {
        use ReferralStatus::*;
        let zone = demo_zone();
        for status in [Proposed, Sent, Accepted, Declined, Active, Completed, Withdrawn] {
            assert!(referrals(&zone).any(|(_, _, r)| r.status == status), "no {status:?} referral");
        }
        for (_, child, r) in referrals(&zone) {
            assert_eq!(r.reason.is_some(), matches!(r.status, Declined | Withdrawn), "{child:?}");
            assert_eq!(r.withdrawn_from.is_some(), r.status == Withdrawn, "{child:?}");
            if let Some(from) = r.withdrawn_from {
                assert!(matches!(from, Proposed | Sent | Accepted | Active), "{from:?}");
            }
            for text in [Some(&r.needs), r.reason.as_ref()].into_iter().flatten() {
                assert!(!text.is_empty() && text.chars().count() <= 500, "{text}");
            }
        }
        // Withdrawn after sessions had started (attendance fell away) and before.
        assert!(referrals(&zone).any(|(_, _, r)| r.withdrawn_from == Some(Active)));
        assert!(referrals(&zone).any(|(_, _, r)| matches!(r.withdrawn_from, Some(Proposed | Sent | Accepted))));
    }

    #[test]
    fn referrals_fit_the_child_and_their_stage() {
        let zone = demo_zone();
        for (_, child, r) in referrals(&zone) {
            let programme = zone.programme(&r.programme_key).expect("the referral names a programme");
            // The domain refuses to send a referral without enrolment, a link worker or a
            // consent in force naming the partner.
            assert!(child.lawful_basis.is_some() && child.link_worker_email.is_some(), "{child:?}");
            assert!(
                child.consents.iter().any(|c| c.withdrawn_on.is_none()
                    && c.purposes.contains(&Purpose::Referral)
                    && c.partner_keys.contains(&programme.partner_key)),
                "{child:?}"
            );
            let age = age_on(child.date_of_birth, REFERENCE_DATE);
            assert!(
                (i32::from(programme.minimum_age)..=i32::from(programme.maximum_age)).contains(&age),
                "{} aged {age} at {}",
                child.first_name,
                programme.key
            );
            match child.stage {
                Stage::Enrolled => assert!(!r.reached(ReferralStatus::Active), "{child:?}"),
                Stage::Completed | Stage::Exited(_) => assert!(!r.is_open(), "{child:?}"),
                Stage::Active => {}
                Stage::Identified | Stage::Consented => panic!("a referral before enrolment: {child:?}"),
            }
        }
        for child in &zone.children {
            let mut keys: Vec<&str> = child.referrals.iter().map(|r| r.programme_key.as_str()).collect();
            keys.sort_unstable();
            keys.dedup();
            assert_eq!(keys.len(), child.referrals.len(), "one referral per programme: {child:?}");
        }
    }

    #[test]
    fn capacity_is_never_exceeded() {
        let zone = demo_zone();
        for p in &zone.programmes {
            // In the order they are written (children in order, each child's referrals in
            // order), every referral finds a place free when it is sent or accepted.
            let mut taken = 0;
            for (_, child, r) in referrals(&zone).filter(|(_, _, r)| r.programme_key == p.key) {
                assert!(taken < p.capacity, "{} full before {}'s referral", p.key, child.first_name);
                taken += u16::from(r.took_a_place());
            }
            let live = referrals(&zone)
                .filter(|(_, _, r)| r.programme_key == p.key)
                .filter(|(_, _, r)| matches!(r.status, ReferralStatus::Accepted | ReferralStatus::Active))
                .count();
            assert!(live <= usize::from(p.capacity), "{}", p.key);
        }
    }

    #[test]
    fn registers_list_children_with_a_place_and_are_well_formed() {
        let zone = demo_zone();
        let mut seen = [false; 3];
        let mut levels = [false; 3];
        let mut sessions = 0;
        for p in &zone.programmes {
            let mut previous = None;
            for session in &p.sessions {
                sessions += 1;
                assert!(session.held_on <= REFERENCE_DATE && session.held_on >= date(2026, 4, 20), "{}", p.key);
                assert!(previous.is_none_or(|d| d <= session.held_on), "{} sessions in date order", p.key);
                previous = Some(session.held_on);
                assert!(!session.register.is_empty() && session.duration_minutes >= 1);
                if session.kind == SessionKind::OneToOne {
                    assert_eq!(session.register.len(), 1, "{}", p.key);
                }
                let mut children: Vec<usize> = session.register.iter().map(|a| a.child).collect();
                children.sort_unstable();
                children.dedup();
                assert_eq!(children.len(), session.register.len(), "a child twice on a register");
                for line in &session.register {
                    let child = &zone.children[line.child];
                    let referral = child.referrals.iter().find(|r| r.programme_key == p.key);
                    assert!(
                        referral.is_some_and(|r| r.reached(ReferralStatus::Active)),
                        "{} on the {} register without a place",
                        child.first_name,
                        p.key
                    );
                    assert_eq!(line.engagement.is_some(), line.status == AttendanceStatus::Attended);
                    seen[line.status as usize] = true;
                    if let Some(e) = line.engagement {
                        levels[usize::from(e.level() - 1)] = true;
                    }
                }
            }
        }
        assert_eq!(seen, [true; 3], "attended, absent and cancelled all appear");
        assert_eq!(levels, [true; 3], "engagement 1, 2 and 3 all appear");
        assert!((60..=150).contains(&sessions), "{sessions} sessions");
        // Every referral that became active did so at an attended session; accepted ones
        // have not started.
        let counts = attendance(&zone);
        for (i, child, r) in referrals(&zone) {
            let attended = counts.get(&(i, r.programme_key.as_str())).map_or(0, |c| c.1);
            assert_eq!(attended > 0, r.reached(ReferralStatus::Active), "{child:?}");
        }
        // A whole session was called off somewhere.
        assert!(
            zone.programmes
                .iter()
                .flat_map(|p| &p.sessions)
                .any(|s| s.register.len() > 1 && s.register.iter().all(|a| a.status == AttendanceStatus::Cancelled))
        );
    }

    #[test]
    fn a_child_on_the_demo_caseload_has_attendance_below_75_percent() {
        let zone = demo_zone();
        let counts = attendance(&zone);
        let low = |offered: usize, attended: usize| offered >= 3 && attended * 4 < offered * 3;
        let found = zone.children.iter().enumerate().any(|(i, child)| {
            let attending: Vec<&Referral> =
                child.referrals.iter().filter(|r| r.reached(ReferralStatus::Active)).collect();
            child.link_worker_email.as_deref() == Some(LINK_WORKER)
                && attending.len() == 1
                && attending[0].status == ReferralStatus::Active
                && counts.get(&(i, attending[0].programme_key.as_str())).is_some_and(|&(o, a)| low(o, a))
        });
        assert!(found, "an open referral whose attendance dropped below 75%");
        // But most children attend well.
        let good = counts.values().filter(|&&(o, a)| !low(o, a)).count();
        assert!(good * 100 / counts.len() >= 70, "{good} of {}", counts.len());
    }

    #[test]
    fn notes_are_written_by_staff_who_may_write_them() {
        let zone = demo_zone();
        let (mut by_link_worker, mut shared, mut private) = (0, 0, 0);
        for child in &zone.children {
            for note in &child.notes {
                assert!(!note.body.is_empty() && note.body.chars().count() <= 4000);
                let author = zone.accounts.iter().find(|a| a.email == note.author_email).expect("a demo account");
                match &note.programme_key {
                    None => {
                        assert_eq!(Some(&note.author_email), child.link_worker_email.as_ref(), "{child:?}");
                        by_link_worker += 1;
                    }
                    Some(key) => {
                        let programme = zone.programme(key).expect("a programme");
                        assert!(matches!(author.role, Role::PartnerWorker | Role::PartnerLead));
                        assert_eq!(author.organisation_key, programme.partner_key);
                        // Partners see the child only through a live referral: the note
                        // is written while the referral holds a place.
                        let referral = child.referrals.iter().find(|r| &r.programme_key == key);
                        assert!(referral.is_some_and(Referral::took_a_place), "{child:?}");
                        match note.visibility {
                            NoteVisibility::SharedWithLinkWorker => shared += 1,
                            NoteVisibility::Organisation => private += 1,
                        }
                    }
                }
            }
        }
        assert!(by_link_worker >= 20 && shared >= 5 && private >= 5, "{by_link_worker} {shared} {private}");
    }

    #[test]
    fn contacts_are_dated_and_with_someone() {
        let zone = demo_zone();
        let mut total = 0;
        for child in &zone.children {
            if child.contacts.is_empty() {
                continue;
            }
            let participation = child.participation.as_ref().expect("contacts only after agreement");
            assert!(child.link_worker_email.is_some());
            let mut previous = participation.agreed_on;
            for contact in &child.contacts {
                total += 1;
                assert!(contact.held_on >= previous && contact.held_on <= REFERENCE_DATE, "{child:?}");
                previous = contact.held_on;
                assert!(!contact.with_whom.is_empty() && (1..=600).contains(&contact.minutes));
                assert!(!contact.content.is_empty() && !contact.content.contains('{'), "{}", contact.content);
                if contact.with_whom.contains(&ContactParty::TrustedAdult) {
                    assert!(child.relationships.iter().any(|r| r.kind == RelationshipKind::TrustedAdult));
                }
            }
        }
        assert!((150..=400).contains(&total), "{total} contacts");
        let active = zone.children.iter().filter(|c| c.stage == Stage::Active);
        assert!(active.clone().all(|c| !c.contacts.is_empty()));
    }

    #[test]
    fn exactly_one_safeguarding_concern_readable_by_the_anchor_lead() {
        let zone = demo_zone();
        let concerns: Vec<(&Child, &SafeguardingConcern)> =
            zone.children.iter().flat_map(|c| c.safeguarding_concerns.iter().map(move |s| (c, s))).collect();
        assert_eq!(concerns.len(), 1);
        let (child, concern) = concerns[0];
        let lead = zone.accounts.iter().find(|a| a.email == "anchorlead@demo.zone").expect("the anchor lead");
        assert!(lead.designated_safeguarding_lead && lead.organisation_key == child.anchor_key);
        assert!(!concern.body.is_empty() && concern.body.chars().count() <= 4000);
        // Raised by someone who could see the child: their link worker, or partner staff
        // with an active referral.
        let author = zone.accounts.iter().find(|a| a.email == concern.raised_by_email).expect("a demo account");
        let partner_sees = child.referrals.iter().any(|r| {
            r.status == ReferralStatus::Active
                && zone.programme(&r.programme_key).is_some_and(|p| p.partner_key == author.organisation_key)
        });
        assert!(child.link_worker_email.as_ref() == Some(&author.email) || partner_sees, "{concern:?}");
    }

    #[test]
    fn the_demo_partner_inbox_has_new_accepted_and_active_referrals() {
        let zone = demo_zone();
        let partner = zone.accounts.iter().find(|a| a.email == "partner@demo.zone").expect("the partner worker");
        for status in [ReferralStatus::Sent, ReferralStatus::Accepted, ReferralStatus::Active] {
            assert!(
                referrals(&zone).any(|(_, _, r)| r.status == status
                    && zone.programme(&r.programme_key).is_some_and(|p| p.partner_key == partner.organisation_key)),
                "no {status:?} referral for the demo partner"
            );
        }
    }
}
