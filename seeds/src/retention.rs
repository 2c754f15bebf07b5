//! The retention schedule as data: how long each kind of record about a child is kept,
//! and what happens then. The zone's schedule is `seeds/retention/schedule.toml`
//! ([`DEFAULT_TOML`]); [`parse`] reads a schedule and checks it, reporting every problem
//! it finds, each naming its place in the file (as the outcomes framework does).

use serde::{Deserialize, Serialize};
use std::fmt;

/// The zone's retention schedule, as TOML.
pub const DEFAULT_TOML: &str = include_str!("../retention/schedule.toml");

/// A whole retention schedule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    pub screening: Screening,
    pub closed_cases: ClosedCases,
    pub safeguarding: Safeguarding,
    pub audit: Audit,
}

/// Screening data of pupils never enrolled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Screening {
    pub delete_when_expired: bool,
}

/// Children whose participation ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClosedCases {
    pub erase_after_years: u32,
}

/// Safeguarding concerns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Safeguarding {
    pub keep_until_age: u32,
}

/// The audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Audit {
    pub keep_years: u32,
}

/// One problem in a schedule, at a place in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleError {
    pub place: String,
    pub message: String,
}

impl fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place, self.message)
    }
}

/// Parses a schedule from TOML and validates it: a syntax error or a value of the wrong
/// type is one error at `file` (the parser's message gives the line); otherwise every
/// range problem is reported.
pub fn parse(text: &str) -> Result<Schedule, Vec<ScheduleError>> {
    let schedule: Schedule = toml::from_str(text).map_err(|error| {
        vec![ScheduleError { place: "file".to_owned(), message: error.to_string().trim_end().to_owned() }]
    })?;
    let mut errors = Vec::new();
    let mut within = |place: &str, value: u32, low: u32, high: u32, what: &str| {
        if !(low..=high).contains(&value) {
            errors.push(ScheduleError {
                place: place.to_owned(),
                message: format!("must be {low} to {high} {what}, not {value}"),
            });
        }
    };
    within("closed_cases.erase_after_years", schedule.closed_cases.erase_after_years, 1, 30, "years");
    within("safeguarding.keep_until_age", schedule.safeguarding.keep_until_age, 18, 100, "years of age");
    within("audit.keep_years", schedule.audit.keep_years, 1, 100, "years");
    if errors.is_empty() { Ok(schedule) } else { Err(errors) }
}

/// The zone's schedule ([`DEFAULT_TOML`]).
///
/// # Panics
///
/// If the file is invalid; a unit test proves it is not.
pub fn default_schedule() -> Schedule {
    match parse(DEFAULT_TOML) {
        Ok(schedule) => schedule,
        Err(errors) => {
            let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
            panic!("the retention schedule is invalid:\n{}", errors.join("\n"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_zones_schedule_is_valid() {
        let s = default_schedule();
        assert_eq!(s.closed_cases.erase_after_years, 6);
        assert_eq!(s.safeguarding.keep_until_age, 25);
    }

    #[test]
    fn every_problem_is_named_by_its_place() {
        let text = DEFAULT_TOML
            .replace("erase_after_years = 6", "erase_after_years = 0")
            .replace("keep_until_age = 25", "keep_until_age = 12");
        let errors = parse(&text).expect_err("invalid");
        let places: Vec<&str> = errors.iter().map(|e| e.place.as_str()).collect();
        assert_eq!(places, ["closed_cases.erase_after_years", "safeguarding.keep_until_age"]);
        assert_eq!(errors[1].message, "must be 18 to 100 years of age, not 12");
        let unknown = parse(&format!("{DEFAULT_TOML}\n[forever]\nkeep = true\n")).expect_err("unknown table");
        assert_eq!(unknown[0].place, "file");
        assert!(unknown[0].message.contains("forever"), "{}", unknown[0].message);
    }
}
