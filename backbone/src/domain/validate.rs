//! Field validators shared by the domain's input types (used through `validator`'s
//! `custom` attribute, or through [`Problems`]), each with a message that tells a person
//! what to type. One of each: [`text`] for every piece of text (on its [`tidy`] form, which
//! is also what is stored), [`date`] for every date, [`event_date`] for the date of
//! something that happened, [`fits_year_group`] for a date of birth against a year group.
//! The tunable rules ([`Rules`], the `[validation]` settings) are installed once at
//! start-up with [`configure`]; being process-wide, one process runs with one set.

use chrono::{Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::sync::RwLock;
use unicode_normalization::UnicodeNormalization;
use validator::ValidationError;

fn fail(code: &'static str, message: &'static str) -> ValidationError {
    ValidationError::new(code).with_message(Cow::Borrowed(message))
}

fn fail_owned(code: &'static str, message: String) -> ValidationError {
    ValidationError::new(code).with_message(Cow::Owned(message))
}

// ---------------------------------------------------------------------------------------
// The rules that are settings.

/// The validation rules a deployment may tune (`[validation]` in the settings).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rules {
    /// No event (a session, contact, assessment, consent, participation, plan or review,
    /// a contract's period, an as-of date) may be dated before this day.
    pub earliest_event: NaiveDate,
    /// How many school years a child's year group may differ from the one their date of
    /// birth gives (children held back or moved up a year).
    pub year_group_tolerance: i32,
}

impl Default for Rules {
    fn default() -> Self {
        Rules { earliest_event: NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(NaiveDate::MIN), year_group_tolerance: 1 }
    }
}

static RULES: RwLock<Option<Rules>> = RwLock::new(None);

/// Installs the configured rules; the service does this once at start-up (until then,
/// and in unit tests, the defaults apply).
pub fn configure(rules: Rules) {
    if let Ok(mut r) = RULES.write() {
        *r = Some(rules);
    }
}

/// The rules in force.
pub fn rules() -> Rules {
    RULES.read().ok().and_then(|r| *r).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// Text.

/// Text as the service keeps it: NFC-normalised, line endings as `\n`, trimmed. Every
/// stored piece of text goes through this, and every text check looks at its result.
pub fn tidy(value: &str) -> String {
    let nfc: String = value.nfc().collect();
    nfc.replace("\r\n", "\n").replace('\r', "\n").trim().to_owned()
}

/// Characters that change the direction text is shown in (embeddings, overrides,
/// isolates and marks): they can make `Smith` display as something else.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Characters that show nothing (zero-width spaces, joiners used alone, fillers, tags,
/// soft hyphens, line and paragraph separators).
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200D}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{2060}'..='\u{2064}'
            | '\u{206A}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{E0000}'..='\u{E007F}'
    )
}

/// Joiners some scripts need between letters (Persian, Indic scripts): allowed in names,
/// but never on their own.
fn is_joiner(c: char) -> bool {
    matches!(c, '\u{200C}' | '\u{200D}')
}

/// What a piece of text is, which decides what it may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextKind {
    /// A person's name (a child, a parent, a member of staff): one line, at most 100
    /// characters, letters and ordinary punctuation.
    Name,
    /// One line that must say something, at most `max` characters (a reason, evidence,
    /// a title, a reference).
    Line { max: usize },
    /// Free text over lines (notes, needs, descriptions), at most `max` characters;
    /// `required` when it may not be blank.
    Text { max: usize, required: bool },
}

/// The one check of every piece of text the service takes, on its [`tidy`] form:
/// no control characters (free text may hold line breaks and tabs), no characters that
/// reverse or hide text, at least one letter in a name or a line, within its length.
pub fn text(value: &str, kind: TextKind) -> Result<(), ValidationError> {
    let v = tidy(value);
    let one_line = !matches!(kind, TextKind::Text { .. });
    if v.chars().any(is_bidi_control) {
        return Err(fail(
            "bidi",
            "must not contain hidden characters that change the direction text is shown in (such as a right-to-left override)",
        ));
    }
    if one_line && v.chars().any(|c| c.is_control() || c == '\u{2028}' || c == '\u{2029}') {
        return Err(fail("control", "must be one line, without tabs, line breaks or other control characters"));
    }
    if !one_line && v.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(fail("control", "must not contain control characters (only line breaks and tabs are allowed)"));
    }
    if one_line && v.chars().any(|c| is_invisible(c) && !is_joiner(c)) {
        return Err(fail("invisible", "must not contain invisible characters such as zero-width spaces"));
    }
    let (max, required) = match kind {
        TextKind::Name => (100, true),
        TextKind::Line { max } => (max, true),
        TextKind::Text { max, required } => (max, required),
    };
    if v.is_empty() {
        return if required { Err(fail("empty", "must not be empty")) } else { Ok(()) };
    }
    if one_line && !v.chars().any(char::is_alphabetic) {
        return Err(fail("letters", "must contain at least one letter"));
    }
    if !one_line && !v.chars().any(|c| !c.is_whitespace() && !is_invisible(c)) {
        return Err(fail("empty", "must not be empty: write something that can be read"));
    }
    if v.chars().count() > max {
        return Err(fail_owned("length", format!("must be at most {max} characters")));
    }
    if kind == TextKind::Name && v.chars().any(|c| c.is_ascii_digit() || "<>{}[]@#$%^*=|\\/".contains(c)) {
        return Err(fail("characters", "must contain only letters, spaces, hyphens and apostrophes"));
    }
    Ok(())
}

/// A person's name: 1–100 characters, at least one letter, letters and ordinary
/// punctuation.
pub fn name(value: &str) -> Result<(), ValidationError> {
    text(value, TextKind::Name)
}

/// One line that must say something: 1–500 characters.
pub fn short_text(value: &str) -> Result<(), ValidationError> {
    text(value, TextKind::Line { max: 500 })
}

/// A title (a programme's name): 1–200 characters.
pub fn title(value: &str) -> Result<(), ValidationError> {
    text(value, TextKind::Line { max: 200 })
}

/// A narrative that must say something (a note, a concern, a description): 1–4000
/// characters.
pub fn narrative(value: &str) -> Result<(), ValidationError> {
    text(value, TextKind::Text { max: 4000, required: true })
}

/// Free text that must say something, at most 500 characters (a referral's needs).
pub fn short_narrative(value: &str) -> Result<(), ValidationError> {
    text(value, TextKind::Text { max: 500, required: true })
}

/// Optional notes: at most 2000 characters.
pub fn notes(value: &str) -> Result<(), ValidationError> {
    text(value, TextKind::Text { max: 2000, required: false })
}

/// A reference to a document (a data-sharing agreement): 1–100 characters.
pub fn reference(value: &str) -> Result<(), ValidationError> {
    text(value, TextKind::Line { max: 100 })
}

/// A validator's message, for callers that report one field by hand.
pub fn message(e: ValidationError) -> String {
    e.message.map(|m| m.to_string()).unwrap_or_else(|| "is invalid".into())
}

// ---------------------------------------------------------------------------------------
// Dates.

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A date as people write it: `1 January 2000`.
pub fn long_date(d: NaiveDate) -> String {
    format!("{} {} {}", d.day(), MONTHS[d.month0() as usize], d.year())
}

/// The one date parser: exactly `YYYY-MM-DD` with zero-padded month and day, and a day
/// that exists. The message says which is wrong ("30 February 2016 is not a date").
pub fn date(value: &str) -> Result<NaiveDate, String> {
    let v = value.trim();
    let b = v.as_bytes();
    let shaped = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() });
    if !shaped {
        return Err("must be a date written YYYY-MM-DD, such as 2016-04-12".into());
    }
    let number = |r: std::ops::Range<usize>| v[r].parse::<u32>().unwrap_or(0);
    let (year, month, day) = (number(0..4) as i32, number(5..7), number(8..10));
    if !(1..=12).contains(&month) {
        return Err(format!("{v} is not a date: there is no month {month} (months run from 01 to 12)"));
    }
    NaiveDate::from_ymd_opt(year, month, day)
        .ok_or_else(|| format!("{day} {} {year} is not a date", MONTHS[month as usize - 1]))
}

/// Parses a date as [`date`] does, or `None`.
pub fn parse_date(value: &str) -> Option<NaiveDate> {
    date(value).ok()
}

/// Today, as the service dates things.
pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// The date of something that happened: a real date, not in the future, not before the
/// earliest event date ([`Rules::earliest_event`]).
pub fn event_date(value: &str) -> Result<NaiveDate, String> {
    let d = date(value)?;
    if d > today() {
        return Err("must not be in the future".into());
    }
    not_before_floor(d)?;
    Ok(d)
}

/// A date of a period or a plan, which may lie ahead: a real date, not before the
/// earliest event date.
pub fn period_date(value: &str) -> Result<NaiveDate, String> {
    let d = date(value)?;
    not_before_floor(d)?;
    Ok(d)
}

fn not_before_floor(d: NaiveDate) -> Result<(), String> {
    let floor = rules().earliest_event;
    if d < floor {
        return Err(format!("must not be before {} (the earliest date this service records)", long_date(floor)));
    }
    Ok(())
}

/// Parses an event date (as [`event_date`]), as `INVALID_INPUT` naming `field`.
pub fn past_date_in(field: &str, value: &str) -> crate::error::Result<NaiveDate> {
    event_date(value).map_err(|m| crate::error::Error::invalid(field, m))
}

/// An event date (as [`event_date`]), for `validator`'s `custom` attribute.
pub fn past_date(value: &str) -> Result<(), ValidationError> {
    event_date(value).map(|_| ()).map_err(|m| fail_owned("date", m))
}

/// Refuses (`INVALID_INPUT` naming `field`) an event dated before the child was born.
/// `born` is what the caller may know of the birth (see `access::birth_bound`).
pub fn not_before_birth(field: &str, on: NaiveDate, born: NaiveDate) -> crate::error::Result<()> {
    if on < born {
        return Err(crate::error::Error::invalid(field, "must not be before the child was born"));
    }
    Ok(())
}

/// When a step of an enrolment or a referral happened: the day, and the input field that
/// gave it (named in errors).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct On<'a> {
    pub day: NaiveDate,
    pub field: &'a str,
}

/// The day a step of an enrolment or a referral happened (`field`, the mutation's `on`):
/// an event date (as [`event_date`]) when given, today when not (or blank). Checked
/// against the child's birth and the step before it where the step is written
/// ([`step_follows`]).
pub fn step_date(field: &str, on: Option<&str>) -> crate::error::Result<NaiveDate> {
    match on.map(str::trim).filter(|s| !s.is_empty()) {
        Some(v) => past_date_in(field, v),
        None => Ok(today()),
    }
}

/// Refuses (`INVALID_INPUT` naming `field`) a step dated before the step it follows:
/// `previous` is that step's date and what it made the record (`enrolled`, `sent`), and
/// `of` what the record is (`enrolment`, `referral`).
pub fn step_follows(
    field: &str,
    on: NaiveDate,
    previous: Option<(NaiveDate, &str)>,
    of: &str,
) -> crate::error::Result<()> {
    match previous {
        Some((before, status)) if on < before => Err(crate::error::Error::invalid(
            field,
            format!("must not be before {}, the date of this {of}'s previous step ({status})", long_date(before)),
        )),
        _ => Ok(()),
    }
}

/// A child's date of birth: a real date, before today, at most 25 years ago.
pub fn date_of_birth(value: &str) -> Result<(), ValidationError> {
    let d = date(value).map_err(|m| fail_owned("date", m))?;
    let today = today();
    if d > today {
        return Err(fail("future", "must not be in the future"));
    }
    if d == today {
        return Err(fail("today", "must be before today"));
    }
    if crate::domain::age_on(d, today) > 25 {
        return Err(fail("too_old", "must be within the last 25 years (a child or young person)"));
    }
    Ok(())
}

/// How a year group is spoken of: `Nursery`, `Reception`, `Year 5`.
pub fn year_group_name(year_group: i32) -> String {
    match year_group {
        -1 => "Nursery".into(),
        0 => "Reception".into(),
        n => format!("Year {n}"),
    }
}

/// The first day of the school year `on` falls in (1 September).
pub fn school_year_start(on: NaiveDate) -> NaiveDate {
    let year = if on.month() >= 9 { on.year() } else { on.year() - 1 };
    NaiveDate::from_ymd_opt(year, 9, 1).unwrap_or(on)
}

/// The year group a child born on `born` is in during the school year `on` falls in, as
/// in England: Reception (0) children are aged 4 on the 31 August before the year starts
/// (and turn 5 during it), Year N children are aged N + 4 then (turning N + 5).
pub fn expected_year_group(born: NaiveDate, on: NaiveDate) -> i32 {
    let eve = school_year_start(on).pred_opt().unwrap_or(on);
    crate::domain::age_on(born, eve) - 4
}

/// Checks a date of birth fits a year group this school year, give or take
/// `tolerance` years; the message says which birth dates fit.
pub fn fits_year_group(born: NaiveDate, year_group: i32, on: NaiveDate, tolerance: i32) -> Result<(), String> {
    let expected = expected_year_group(born, on);
    if (expected - year_group).abs() <= tolerance {
        return Ok(());
    }
    let start = school_year_start(on);
    let youngest_in = |n: i32| NaiveDate::from_ymd_opt(start.year() - n - 4, 8, 31);
    let oldest_in = |n: i32| NaiveDate::from_ymd_opt(start.year() - n - 5, 9, 1);
    let (Some(first), Some(last)) = (oldest_in(year_group + tolerance), youngest_in(year_group - tolerance)) else {
        return Err("does not fit the year group".into());
    };
    let allowing = match tolerance {
        0 => String::new(),
        1 => "allowing one school year either way, ".into(),
        t => format!("allowing {t} school years either way, "),
    };
    Err(format!(
        "does not fit {}: a child in {} this school year is aged {} turning {}; {allowing}the date of birth \
         would be between {} and {}",
        year_group_name(year_group),
        year_group_name(year_group),
        year_group + 4,
        year_group + 5,
        long_date(first),
        long_date(last),
    ))
}

/// A Unique Pupil Number: 13 characters, a check letter then 12 characters (the last may
/// be a letter for a temporary UPN), with a correct check letter.
pub fn upn(value: &str) -> Result<(), ValidationError> {
    const LETTERS: &str = "ABCDEFGHJKLMNPQRTUVWXYZ";
    let v: Vec<char> = value.trim().to_uppercase().chars().collect();
    if v.len() != 13 || !v[1..12].iter().all(|c| c.is_ascii_digit()) {
        return Err(fail("upn", "must be 13 characters: a letter then 12 digits"));
    }
    let value_of = |c: char| -> Option<u32> { c.to_digit(10).or_else(|| LETTERS.find(c).map(|i| i as u32)) };
    let mut sum = 0u32;
    for (i, c) in v[1..].iter().enumerate() {
        let Some(n) = value_of(*c) else {
            return Err(fail("upn", "must be 13 characters: a letter then 12 digits"));
        };
        sum += n * (i as u32 + 2);
    }
    let expected = LETTERS.chars().nth((sum % 23) as usize);
    if expected != Some(v[0]) {
        return Err(fail("upn_check", "has a wrong check letter: check it was copied correctly"));
    }
    Ok(())
}

/// A telephone number: digits, spaces, and an optional leading `+`; 10–15 digits.
pub fn phone(value: &str) -> Result<(), ValidationError> {
    let v = value.trim();
    let digits = v.chars().filter(char::is_ascii_digit).count();
    let ok_chars = v.chars().enumerate().all(|(i, c)| c.is_ascii_digit() || c == ' ' || (c == '+' && i == 0));
    if !ok_chars || !(10..=15).contains(&digits) {
        return Err(fail("phone", "must be a telephone number of 10 to 15 digits"));
    }
    Ok(())
}

/// A UK postcode such as `SW1A 1AA` (outward code, a space, inward code).
pub fn postcode(value: &str) -> Result<(), ValidationError> {
    let v = value.trim().to_uppercase();
    let Some((outward, inward)) = v.split_once(' ') else {
        return Err(fail("postcode", "must be a UK postcode such as SW1A 1AA"));
    };
    let out_ok = (2..=4).contains(&outward.len())
        && outward.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && outward.chars().all(|c| c.is_ascii_alphanumeric())
        && outward.chars().any(|c| c.is_ascii_digit());
    let inw: Vec<char> = inward.chars().collect();
    let in_ok =
        inw.len() == 3 && inw[0].is_ascii_digit() && inw[1].is_ascii_alphabetic() && inw[2].is_ascii_alphabetic();
    if out_ok && in_ok { Ok(()) } else { Err(fail("postcode", "must be a UK postcode such as SW1A 1AA")) }
}

/// An academic year such as `2025/26`.
pub fn cohort(value: &str) -> Result<(), ValidationError> {
    let bad = || fail("cohort", "must be an academic year written like 2025/26");
    let (a, b) = value.trim().split_once('/').ok_or_else(bad)?;
    let (Ok(start), Ok(end)) = (a.parse::<i32>(), b.parse::<i32>()) else {
        return Err(bad());
    };
    if a.len() != 4 || b.len() != 2 || (start + 1) % 100 != end || !(2000..=2100).contains(&start) {
        return Err(bad());
    }
    Ok(())
}

/// A UUID as the API hands them out.
pub fn id(value: &str) -> Result<(), ValidationError> {
    uuid::Uuid::parse_str(value.trim()).map(|_| ()).map_err(|_| fail("id", "must be an id returned by this API"))
}

/// Optional text as the service keeps it: trimmed, and blank counts as not given.
pub fn blank_to_none(value: Option<String>) -> Option<String> {
    value.map(|s| tidy(&s)).filter(|s| !s.is_empty())
}

/// Every problem found in one pass over an input, each naming its field as the API spells
/// it, reported together as one `INVALID_INPUT`.
#[derive(Default, Debug)]
pub struct Problems(pub Vec<crate::error::FieldError>);

impl Problems {
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(crate::error::FieldError { field: field.into(), message: message.into() });
    }

    /// Adds a validator's failure, if any, under `field`.
    pub fn check(&mut self, field: impl Into<String>, result: Result<(), ValidationError>) {
        if let Err(e) = result {
            self.add(field, message(e));
        }
    }

    /// Checks text (as [`text`]) under `field`; its tidy form, to store.
    pub fn text(&mut self, field: &str, value: &str, kind: TextKind) -> String {
        self.check(field, text(value, kind));
        tidy(value)
    }

    /// Adds a parser's failure, if any, under `field`; the value if it parsed.
    pub fn take<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        result.map_err(|m| self.add(field, m)).ok()
    }

    /// The date of a period or plan (as [`period_date`]): it may lie ahead.
    pub fn date(&mut self, field: &str, value: &str) -> Option<NaiveDate> {
        self.take(field, period_date(value))
    }

    /// The date of something that happened (as [`event_date`]).
    pub fn past_date(&mut self, field: &str, value: &str) -> Option<NaiveDate> {
        self.take(field, event_date(value))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok` with `value` if nothing was found, else every problem as `INVALID_INPUT`.
    pub fn into_result<T>(self, value: T) -> crate::error::Result<T> {
        if self.0.is_empty() { Ok(value) } else { Err(crate::error::Error::InvalidInput(self.0)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    fn says(result: Result<(), ValidationError>, words: &str) {
        let e = result.expect_err(words);
        let m = message(e);
        assert!(m.contains(words), "{m:?} should say {words:?}");
    }

    #[test]
    fn names_take_letters_and_ordinary_punctuation() {
        assert!(name("Aoife O'Brien-Smith").is_ok());
        assert!(name("Zoë").is_ok());
        assert!(name("محمد").is_ok());
        assert!(name("मनीषा").is_ok(), "combining marks of Indic scripts");
        assert!(name("می\u{200C}خواهم").is_ok(), "a zero-width non-joiner between letters (Persian)");
        assert!(name(&"a".repeat(100)).is_ok());
        says(name(&"a".repeat(101)), "at most 100");
        says(name("   "), "must not be empty");
        says(name(""), "must not be empty");
        says(name("Bobby <script>"), "only letters");
        says(name("R2D2"), "only letters");
    }

    #[test]
    fn names_of_nothing_visible_are_refused() {
        for invisible in
            ["\u{200B}", "\u{200B}\u{200C}\u{200D}\u{2060}\u{FEFF}", "\u{00A0}\u{3000}", "\u{3164}", "\u{115F}"]
        {
            assert!(name(invisible).is_err(), "{invisible:?}");
            assert!(short_text(invisible).is_err(), "{invisible:?}");
        }
        says(name("\u{200D}\u{200D}"), "at least one letter");
        says(name("-- ' --"), "at least one letter");
        says(name("Nia\u{200B}"), "invisible");
        says(short_text("Moved\u{200B} school"), "invisible");
    }

    #[test]
    fn direction_overrides_are_refused_everywhere() {
        for bidi in [
            '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
            '\u{200E}', '\u{200F}', '\u{061C}',
        ] {
            let v = format!("Smith{bidi}evil");
            says(name(&v), "direction");
            says(short_text(&v), "direction");
            says(title(&v), "direction");
            says(narrative(&v), "direction");
            says(notes(&v), "direction");
        }
    }

    #[test]
    fn control_characters_are_refused_but_free_text_keeps_lines_and_tabs() {
        says(name("Nia\u{0007}"), "control");
        says(name("Nia\nJones"), "one line");
        says(short_text("a\tb"), "one line");
        says(title("Club\u{2028}night"), "one line");
        assert!(narrative("Line one\nLine two\twith a tab").is_ok());
        assert!(narrative("Windows line\r\nendings").is_ok(), "CRLF is kept as a line break");
        says(narrative("bell\u{0007}"), "control");
        says(notes("nul\u{0000}"), "control");
        says(notes("escape\u{001B}[31m"), "control");
        assert!(notes("").is_ok(), "notes may be blank");
        says(narrative(" \n\t\u{200B} "), "must not be empty");
        assert!(narrative("👍").is_ok(), "an emoji says something");
        assert!(notes("👨\u{200D}👩\u{200D}👧 family day").is_ok(), "joiners inside emoji are fine in free text");
    }

    #[test]
    fn lengths_count_characters_after_normalising() {
        // "é" written as e + combining acute is one character once NFC.
        let decomposed = "e\u{0301}".repeat(100);
        assert!(name(&decomposed).is_ok());
        assert!(title(&"x".repeat(200)).is_ok());
        says(title(&"x".repeat(201)), "at most 200");
        says(short_text(&"x".repeat(501)), "at most 500");
        says(narrative(&"x".repeat(4001)), "at most 4000");
        says(notes(&"x".repeat(2001)), "at most 2000");
    }

    #[test]
    fn tidy_is_nfc_trimmed_with_plain_line_endings() {
        assert_eq!(tidy("  Zoe\u{0308}  "), "Zoë");
        assert_eq!(tidy("Zoe\u{0308}").chars().count(), 3);
        assert_eq!(tidy("a\r\nb\rc"), "a\nb\nc");
        assert_eq!(blank_to_none(Some(" \u{3000} ".into())), None);
        assert_eq!(blank_to_none(Some(" Cafe\u{0301} ".into())).as_deref(), Some("Café"));
    }

    #[test]
    fn dates_must_be_written_yyyy_mm_dd_and_exist() {
        assert_eq!(date("2016-02-29"), Ok(d("2016-02-29")));
        assert_eq!(date(" 2016-04-12 "), Ok(d("2016-04-12")));
        assert_eq!(date("2016-02-30"), Err("30 February 2016 is not a date".into()));
        assert_eq!(date("2015-02-29"), Err("29 February 2015 is not a date".into()));
        assert_eq!(date("2016-04-31"), Err("31 April 2016 is not a date".into()));
        assert_eq!(date("2016-01-00"), Err("0 January 2016 is not a date".into()));
        assert!(date("2016-13-01").is_err_and(|m| m.contains("no month 13")));
        assert!(date("2016-00-10").is_err_and(|m| m.contains("no month 0")));
        for malformed in [
            "2016-4-12",
            "2016-04-1",
            "16-04-12",
            "12/04/2016",
            "2016/04/12",
            "20160412",
            "2016-04-12T00:00",
            "+2016-04-12",
            "２０１６-04-12",
            "",
            "yesterday",
            "2016-0a-12",
        ] {
            assert!(date(malformed).is_err_and(|m| m.contains("YYYY-MM-DD")), "{malformed:?}");
        }
    }

    #[test]
    fn events_are_not_in_the_future_nor_before_the_floor() {
        let today = today();
        assert!(event_date(&today.to_string()).is_ok());
        assert!(event_date(&today.succ_opt().expect("tomorrow").to_string()).is_err_and(|m| m.contains("future")));
        assert!(event_date("2000-01-01").is_ok(), "the floor itself");
        assert_eq!(
            event_date("1999-12-31"),
            Err("must not be before 1 January 2000 (the earliest date this service records)".into())
        );
        assert!(event_date("1901-05-05").is_err());
        assert!(period_date("2099-08-31").is_ok(), "a period may lie ahead");
        assert!(period_date("1900-01-01").is_err());
        assert!(
            past_date_in("assessedOn", "1901-01-01")
                .is_err_and(|e| matches!(e, crate::error::Error::InvalidInput(f) if f[0].field == "assessedOn"))
        );
        assert!(not_before_birth("heldOn", d("2016-05-03"), d("2016-05-04")).is_err());
        assert!(not_before_birth("heldOn", d("2016-05-04"), d("2016-05-04")).is_ok());
    }

    #[test]
    fn dates_of_birth() {
        assert!(date_of_birth("2016-02-29").is_ok());
        says(date_of_birth("2015-02-29"), "29 February 2015 is not a date");
        says(date_of_birth("29/02/2016"), "YYYY-MM-DD");
        says(date_of_birth("2016-4-12"), "YYYY-MM-DD");
        says(date_of_birth("2999-01-01"), "future");
        says(date_of_birth(&today().to_string()), "before today");
        says(date_of_birth("1950-01-01"), "25 years");
    }

    #[test]
    fn year_groups_follow_the_english_school_year() {
        // In 2026/27 Reception children were born 1 September 2021 to 31 August 2022.
        let autumn = d("2026-12-02");
        let summer = d("2027-07-20");
        assert_eq!(school_year_start(autumn), d("2026-09-01"));
        assert_eq!(school_year_start(summer), d("2026-09-01"));
        assert_eq!(school_year_start(d("2026-08-31")), d("2025-09-01"));
        assert_eq!(expected_year_group(d("2021-09-01"), autumn), 0);
        assert_eq!(expected_year_group(d("2022-08-31"), summer), 0);
        assert_eq!(expected_year_group(d("2021-08-31"), autumn), 1, "the oldest of the year above");
        assert_eq!(expected_year_group(d("2016-07-01"), autumn), 6);
        assert_eq!(expected_year_group(d("2022-09-01"), autumn), -1, "nursery");
    }

    #[test]
    fn a_date_of_birth_must_fit_the_year_group_give_or_take_the_tolerance() {
        let on = d("2026-12-02");
        let born = d("2016-07-01"); // Year 6 in 2026/27
        for year in 5..=7 {
            assert!(fits_year_group(born, year, on, 1).is_ok(), "Year {year}");
        }
        assert!(fits_year_group(born, 6, on, 0).is_ok());
        assert!(fits_year_group(born, 7, on, 0).is_err());
        let m = fits_year_group(born, 8, on, 1).expect_err("two years out");
        assert_eq!(
            m,
            "does not fit Year 8: a child in Year 8 this school year is aged 12 turning 13; allowing one school \
             year either way, the date of birth would be between 1 September 2012 and 31 August 2015"
        );
        assert!(born >= d("2012-09-01") && born > d("2015-08-31"), "the range given leaves the child out");
        assert!(fits_year_group(born, 4, on, 1).is_err());
        // Born yesterday: not in Year 5, nor in Reception.
        let yesterday = d("2026-12-01");
        assert!(fits_year_group(yesterday, 5, on, 1).is_err_and(|m| m.contains("Year 5")));
        assert!(fits_year_group(yesterday, 0, on, 1).is_err_and(|m| m.contains("Reception")));
        assert!(fits_year_group(yesterday, 0, on, 2).is_err(), "age 0 is two years below Nursery");
        assert!(fits_year_group(d("2023-01-10"), -1, on, 1).is_ok(), "nursery age");
    }

    #[test]
    fn rules_default_until_configured() {
        assert_eq!(Rules::default().earliest_event, d("2000-01-01"));
        assert_eq!(Rules::default().year_group_tolerance, 1);
    }

    #[test]
    fn upns() {
        // Body 999123425001: weights 2..13 → 18+27+36+5+12+21+32+18+20+0+0+13 = 202;
        // 202 mod 23 = 18 → the 19th letter of ABCDEFGHJKLMNPQRTUVWXYZ is "V"... computed:
        let body = "999123425001";
        let sum: u32 = body.chars().enumerate().map(|(i, c)| c.to_digit(10).unwrap_or(0) * (i as u32 + 2)).sum();
        let letter = "ABCDEFGHJKLMNPQRTUVWXYZ".chars().nth((sum % 23) as usize).unwrap_or('?');
        assert!(upn(&format!("{letter}{body}")).is_ok());
        let wrong = if letter == 'A' { 'B' } else { 'A' };
        assert!(upn(&format!("{wrong}{body}")).is_err());
        assert!(upn("A12345").is_err());
    }

    #[test]
    fn phones_postcodes_cohorts() {
        assert!(phone("07700 900123").is_ok());
        assert!(phone("+44 7700 900123").is_ok());
        assert!(phone("call me").is_err());
        assert!(postcode("SW1A 1AA").is_ok());
        assert!(postcode("zz9 9zz").is_ok());
        assert!(postcode("SW1A1AA").is_err());
        assert!(postcode("12 345").is_err());
        assert!(cohort("2025/26").is_ok());
        assert!(cohort("2099/00").is_ok());
        assert!(cohort("2025/27").is_err());
        assert!(cohort("25/26").is_err());
    }
}
