//! Field validators shared by the domain's input types (used through `validator`'s
//! `custom` attribute), each with a message that tells a person what to type.

use chrono::{Datelike, NaiveDate, Utc};
use std::borrow::Cow;
use validator::ValidationError;

fn fail(code: &'static str, message: &'static str) -> ValidationError {
    ValidationError::new(code).with_message(Cow::Borrowed(message))
}

/// A person's name: 1–100 characters after trimming, letters and ordinary punctuation.
pub fn name(value: &str) -> Result<(), ValidationError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(fail("empty", "must not be empty"));
    }
    if v.chars().count() > 100 {
        return Err(fail("length", "must be at most 100 characters"));
    }
    if v.chars().any(|c| c.is_control() || c.is_ascii_digit() || "<>{}[]@#$%^*=|\\/".contains(c)) {
        return Err(fail("characters", "must contain only letters, spaces, hyphens and apostrophes"));
    }
    Ok(())
}

/// Free text that must say something: 1–500 characters.
pub fn short_text(value: &str) -> Result<(), ValidationError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(fail("empty", "must not be empty"));
    }
    if v.chars().count() > 500 {
        return Err(fail("length", "must be at most 500 characters"));
    }
    Ok(())
}

/// A title (a programme's name): 1–200 characters.
pub fn title(value: &str) -> Result<(), ValidationError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(fail("empty", "must not be empty"));
    }
    if v.chars().count() > 200 {
        return Err(fail("length", "must be at most 200 characters"));
    }
    Ok(())
}

/// A narrative that must say something (a note, a concern, a description): 1–4000
/// characters.
pub fn narrative(value: &str) -> Result<(), ValidationError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(fail("empty", "must not be empty"));
    }
    if v.chars().count() > 4000 {
        return Err(fail("length", "must be at most 4000 characters"));
    }
    Ok(())
}

/// Parses a date that must not be in the future, as `INVALID_INPUT` naming `field`.
pub fn past_date_in(field: &str, value: &str) -> crate::error::Result<NaiveDate> {
    use crate::error::Error;
    past_date(value).map_err(|e| Error::invalid(field, e.message.map(|m| m.to_string()).unwrap_or_default()))?;
    parse_date(value).ok_or_else(|| Error::invalid(field, "must be a date written YYYY-MM-DD"))
}

/// Optional notes: at most 2000 characters.
pub fn notes(value: &str) -> Result<(), ValidationError> {
    if value.chars().count() > 2000 {
        return Err(fail("length", "must be at most 2000 characters"));
    }
    Ok(())
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(value: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").ok()
}

/// A calendar date (`YYYY-MM-DD`) not in the future.
pub fn past_date(value: &str) -> Result<(), ValidationError> {
    match parse_date(value) {
        None => Err(fail("date", "must be a date written YYYY-MM-DD")),
        Some(d) if d > Utc::now().date_naive() => Err(fail("future", "must not be in the future")),
        Some(_) => Ok(()),
    }
}

/// A child's date of birth: a real date, in the past, at most 25 years ago.
pub fn date_of_birth(value: &str) -> Result<(), ValidationError> {
    past_date(value)?;
    let today = Utc::now().date_naive();
    match parse_date(value) {
        Some(d) if today.year() - d.year() > 25 => {
            Err(fail("too_old", "must be within the last 25 years (a child or young person)"))
        }
        Some(d) if d == today => Err(fail("today", "must be before today")),
        _ => Ok(()),
    }
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
    value.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
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
            self.add(field, e.message.map(|m| m.to_string()).unwrap_or_else(|| "is invalid".into()));
        }
    }

    /// A date written `YYYY-MM-DD`.
    pub fn date(&mut self, field: &str, value: &str) -> Option<NaiveDate> {
        let parsed = parse_date(value);
        if parsed.is_none() {
            self.add(field, "must be a date written YYYY-MM-DD");
        }
        parsed
    }

    /// A date written `YYYY-MM-DD`, not in the future (as [`past_date_in`]).
    pub fn past_date(&mut self, field: &str, value: &str) -> Option<NaiveDate> {
        match past_date_in(field, value) {
            Ok(d) => Some(d),
            Err(crate::error::Error::InvalidInput(mut fields)) => {
                self.0.append(&mut fields);
                None
            }
            Err(_) => None,
        }
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

    #[test]
    fn names() {
        assert!(name("Aoife O'Brien-Smith").is_ok());
        assert!(name("   ").is_err());
        assert!(name("Bobby <script>").is_err());
        assert!(name(&"a".repeat(101)).is_err());
    }

    #[test]
    fn dates() {
        assert!(date_of_birth("2016-02-29").is_ok());
        assert!(date_of_birth("2015-02-29").is_err(), "not a leap year");
        assert!(date_of_birth("29/02/2016").is_err());
        assert!(date_of_birth("2999-01-01").is_err());
        assert!(date_of_birth("1950-01-01").is_err());
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
