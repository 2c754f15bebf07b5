//! Dates every step of the zone's enrolments and referrals on the day it happened, once
//! the rest of the zone is generated, so that the steps fit what the records already say:
//! a child is enrolled before their first session, a referral is proposed, sent and
//! accepted before the first session of its programme the child is on the register of,
//! closed after the last, and an enrolment ends after everything else in the child's
//! record. The 2025/26 cohort moves through the school year 2025-26; the 2026/27 intake
//! with nothing under way yet is enrolled in September 2026, and some enrolments end in
//! the autumn term 2026 (never after [`LAST_STEP_DATE`]). A stream of its own, so the
//! rest of the zone is exactly what it was before steps were dated.

use crate::demo::{Rng, date, days_after};
use crate::{AttendanceStatus, Child, LAST_STEP_DATE, Programme, ReferralStatus, Stage};
use chrono::NaiveDate;
use std::collections::HashMap;

/// Fixed PRNG seed of this stream ("StepDays" in ASCII).
const SEED: u64 = 0x5374_6570_4461_7973;

/// A child's place on one programme's registers: the first session attended, and the
/// first and last session they were on the register of.
#[derive(Clone, Copy)]
struct OnRegister {
    first_attended: Option<NaiveDate>,
    first: NaiveDate,
    last: NaiveDate,
}

pub(crate) fn generate(children: &mut [Child], programmes: &[Programme]) {
    let mut registers: HashMap<(usize, &str), OnRegister> = HashMap::new();
    for p in programmes {
        for s in &p.sessions {
            for a in &s.register {
                let on = registers.entry((a.child, p.key.as_str())).or_insert(OnRegister {
                    first_attended: None,
                    first: s.held_on,
                    last: s.held_on,
                });
                on.first = on.first.min(s.held_on);
                on.last = on.last.max(s.held_on);
                if a.status == AttendanceStatus::Attended {
                    on.first_attended = Some(on.first_attended.map_or(s.held_on, |d| d.min(s.held_on)));
                }
            }
        }
    }
    let mut rng = Rng(SEED);
    for (index, child) in children.iter_mut().enumerate() {
        date_child(&mut rng, child, |key| registers.get(&(index, key)).copied());
    }
}

/// `day`, but never after the last day the generator dates a step on.
fn capped(day: NaiveDate) -> NaiveDate {
    day.min(LAST_STEP_DATE)
}

fn date_child(rng: &mut Rng, child: &mut Child, register: impl Fn(&str) -> Option<OnRegister>) {
    let (Some(participation), Some(basis)) = (&child.participation, &child.lawful_basis) else {
        return; // identified or consented only: dated by the record already
    };
    let places: Vec<OnRegister> = child.referrals.iter().filter_map(|r| register(&r.programme_key)).collect();
    let first_register = places.iter().map(|p| p.first).min();
    let first_attended = places.iter().filter_map(|p| p.first_attended).min();

    // Enrolled when the lawful basis was recorded, at least two weeks before the first
    // session; the 2026/27 intake with nothing under way yet at the start of that year.
    let agreed = participation.agreed_on;
    let enrolled = if child.cohort == "2026/27" && first_register.is_none() {
        days_after(date(2026, 9, 1), rng.between(1, 25))
    } else {
        match first_register {
            Some(first) => basis.recorded_on.min(days_after(first, -14)),
            None => basis.recorded_on,
        }
    };
    let enrolled = capped(enrolled.max(agreed));
    child.steps.enrolled_on = Some(enrolled);

    let mut latest = [Some(child.identified_on), Some(agreed), Some(basis.recorded_on), Some(enrolled)]
        .into_iter()
        .flatten()
        .chain(child.consents.iter().flat_map(|c| [Some(c.given_on), c.withdrawn_on]).flatten())
        .chain(child.contacts.iter().map(|c| c.held_on))
        .chain(child.assessments.iter().map(|a| a.assessed_on))
        .chain(places.iter().map(|p| p.last))
        .max()
        .unwrap_or(enrolled);

    for r in &mut child.referrals {
        let place = register(&r.programme_key);
        let proposed = match place {
            Some(p) => days_after(p.first, -rng.between(14, 35)),
            None => days_after(enrolled, rng.between(3, 45)),
        };
        let proposed = capped(proposed.max(enrolled));
        r.dates.proposed_on = Some(proposed);
        let mut last = proposed;
        if r.reached(ReferralStatus::Sent) {
            let sent = days_after(last, rng.between(0, 7));
            let sent = place.map_or(sent, |p| sent.min(p.first));
            last = capped(sent).max(last);
            r.dates.sent_on = Some(last);
        }
        if r.reached(ReferralStatus::Accepted) || r.reached(ReferralStatus::Declined) {
            let answered = days_after(last, rng.between(1, 10));
            let answered = place.map_or(answered, |p| answered.min(p.first));
            last = capped(answered).max(last);
            r.dates.answered_on = Some(last);
        }
        if matches!(r.status, ReferralStatus::Completed | ReferralStatus::Withdrawn) {
            let after = place.map_or(last, |p| p.last.max(last));
            last = capped(days_after(after, rng.between(1, 14))).max(last);
            r.dates.closed_on = Some(last);
        }
        latest = latest.max(last);
    }

    if matches!(child.stage, Stage::Active | Stage::Completed) {
        let started = first_attended.unwrap_or_else(|| days_after(enrolled, rng.between(7, 28)));
        let started = capped(started.max(enrolled));
        child.steps.active_on = Some(started);
        latest = latest.max(started);
    }

    let ended = match child.stage {
        // Half finish with the summer term, half after a last review in the autumn.
        Stage::Completed if rng.chance(50) => Some(days_after(latest, 1).max(date(2026, 7, 22))),
        Stage::Completed => Some(days_after(latest, rng.between(7, 45)).max(date(2026, 9, 7))),
        Stage::Exited(_) => Some(days_after(latest, rng.between(7, 75))),
        _ => None,
    };
    child.steps.ended_on = ended.map(|d| capped(d).max(latest));
}

#[cfg(test)]
mod tests {
    use crate::{LAST_STEP_DATE, ReferralStatus, Stage, demo_zone};

    #[test]
    fn every_step_follows_the_one_before_and_none_is_late() {
        let zone = demo_zone();
        for c in &zone.children {
            let agreed = c.participation.as_ref().map(|p| p.agreed_on);
            let s = c.steps;
            let chain = [Some(c.identified_on), agreed, s.enrolled_on, s.active_on, s.ended_on];
            let days: Vec<_> = chain.iter().flatten().collect();
            assert!(days.windows(2).all(|w| w[0] <= w[1]), "{} {:?}", c.first_name, chain);
            assert!(days.iter().all(|d| **d <= LAST_STEP_DATE));
            assert_eq!(s.enrolled_on.is_some(), c.lawful_basis.is_some());
            assert_eq!(s.active_on.is_some(), matches!(c.stage, Stage::Active | Stage::Completed));
            assert_eq!(s.ended_on.is_some(), matches!(c.stage, Stage::Completed | Stage::Exited(_)));
            for r in &c.referrals {
                let d = r.dates;
                let steps = [d.proposed_on, d.sent_on, d.answered_on, d.closed_on];
                let days: Vec<_> = steps.iter().flatten().collect();
                assert!(days.windows(2).all(|w| w[0] <= w[1]), "{steps:?}");
                assert!(d.proposed_on >= s.enrolled_on, "proposed after enrolment");
                assert_eq!(d.sent_on.is_some(), r.reached(ReferralStatus::Sent));
                assert!(s.ended_on.is_none_or(|end| days.iter().all(|day| **day <= end)));
            }
            for p in &zone.programmes {
                for session in &p.sessions {
                    if session.register.iter().any(|a| std::ptr::eq(&zone.children[a.child], c)) {
                        let r = c.referrals.iter().find(|r| r.programme_key == p.key).expect("a referral");
                        assert!(
                            r.dates.answered_on.is_some_and(|a| a <= session.held_on),
                            "accepted before: {:?} {:?} {:?} {:?} {}",
                            c.identified_on,
                            c.participation.as_ref().map(|p| p.agreed_on),
                            s,
                            r.dates,
                            session.held_on
                        );
                        assert!(s.enrolled_on.is_some_and(|e| e <= session.held_on), "enrolled before");
                    }
                }
            }
        }
    }

    #[test]
    fn steps_fall_in_both_school_years() {
        let zone = demo_zone();
        let autumn_2026 = crate::demo::date(2026, 9, 1);
        let ends: Vec<_> = zone.children.iter().filter_map(|c| c.steps.ended_on).collect();
        assert!(ends.iter().any(|d| *d < autumn_2026) && ends.iter().any(|d| *d >= autumn_2026), "{ends:?}");
        let enrolments: Vec<_> = zone.children.iter().filter_map(|c| c.steps.enrolled_on).collect();
        assert!(enrolments.iter().any(|d| *d < autumn_2026) && enrolments.iter().any(|d| *d >= autumn_2026));
    }
}
