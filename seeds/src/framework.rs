//! The outcomes framework as data: the outcome areas the zone model uses, the measures
//! in each area, and how every measure's raw score maps onto one common scale of five
//! levels (1 "Needs significant support" … 5 "Flourishing").
//!
//! The framework is a readable TOML file. The partnership's default is
//! `seeds/framework/outcomes.toml` ([`DEFAULT_TOML`]); its format and the validation rules
//! are documented in `docs/outcomes.md`. [`parse`] reads a file and checks it, reporting
//! every problem it finds, each naming its place in the file.
//!
//! Licensed questionnaires are administered outside the backbone and only their scores
//! are entered: a framework never holds a questionnaire's items.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// The partnership's default framework, as TOML.
pub const DEFAULT_TOML: &str = include_str!("../framework/outcomes.toml");

/// The outcome areas a framework may use, by code.
pub const KNOWN_AREAS: &[&str] =
    &["emotional_wellbeing", "relationships", "confidence_aspiration", "progress_at_school", "attendance_engagement"];

/// The lowest level on the common scale.
const LOWEST_LEVEL: u8 = 1;
/// The highest level on the common scale.
const HIGHEST_LEVEL: u8 = 5;

/// Parses a framework from TOML and validates it.
///
/// A TOML syntax error or a value of the wrong type is one [`FrameworkError`] with place
/// `file` and the TOML parser's message, which gives the line and column. Otherwise every
/// validation problem is reported, not just the first.
pub fn parse(text: &str) -> Result<Framework, Vec<FrameworkError>> {
    let framework: Framework = toml::from_str(text).map_err(|error| {
        vec![FrameworkError { place: "file".to_owned(), message: error.to_string().trim_end().to_owned() }]
    })?;
    let errors = validate(&framework);
    if errors.is_empty() { Ok(framework) } else { Err(errors) }
}

/// The partnership's default framework ([`DEFAULT_TOML`]).
///
/// # Panics
///
/// If the default file is invalid; a unit test proves it is not.
pub fn default_framework() -> Framework {
    match parse(DEFAULT_TOML) {
        Ok(framework) => framework,
        Err(errors) => {
            let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
            panic!("the default outcomes framework is invalid:\n{}", errors.join("\n"))
        }
    }
}

/// A whole outcomes framework.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    /// The framework's name, for people.
    pub name: String,
    /// The common scale: exactly levels 1 to 5, in order.
    pub scale: Vec<Level>,
    /// The outcome areas, each with one or more measures.
    pub areas: Vec<Area>,
    /// The rules that suggest children as candidates for support.
    pub screening: Screening,
}

impl Framework {
    /// The measure with this code, and the area it belongs to.
    pub fn measure(&self, code: &str) -> Option<(&Area, &Measure)> {
        self.areas.iter().find_map(|area| area.measures.iter().find(|m| m.code == code).map(|m| (area, m)))
    }
}

/// One level of the common scale.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Level {
    /// 1 to 5; higher is always better.
    pub level: u8,
    /// Short label, e.g. "Flourishing".
    pub label: String,
    /// What the level means, in plain English.
    pub description: String,
}

/// An outcome area, e.g. relationships.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Area {
    /// One of [`KNOWN_AREAS`].
    pub code: String,
    /// Display name.
    pub name: String,
    /// One or more measures.
    pub measures: Vec<Measure>,
}

/// One way of measuring an area, with the mapping of its raw score to the common scale.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Measure {
    /// Unique across the whole framework, e.g. `attendance_percent`.
    pub code: String,
    /// Display name.
    pub name: String,
    /// The instrument: what is measured and how, in plain English. Never its items.
    pub instrument: String,
    /// Who may use the instrument, and on what terms.
    pub licence: Licence,
    /// Whether a higher raw score is better or worse.
    pub direction: Direction,
    /// The raw range or categories, and their levels on the common scale.
    pub scoring: Scoring,
    /// A level at or below this (1 to 4) means the child is at risk on this measure.
    pub at_risk_at_or_below: u8,
}

impl Measure {
    /// The level on the common scale of a raw score, or why the score is not valid for
    /// this measure.
    pub fn level_of(&self, raw: &RawValue) -> Result<u8, RangeError> {
        match (&self.scoring, raw) {
            (Scoring::Numeric { min, max, decimals, bands }, RawValue::Number(value)) => {
                let value = *value;
                if !value.is_finite() || value < *min || value > *max {
                    return Err(numeric_range_error(*min, *max));
                }
                if decimal_places(value) > usize::from(*decimals) {
                    let places = if *decimals == 1 { "place" } else { "places" };
                    return Err(RangeError(format!("must have at most {decimals} decimal {places}")));
                }
                let last = bands.len().checked_sub(1);
                bands
                    .iter()
                    .enumerate()
                    .find(|&(i, band)| band.from <= value && (value < band.to || (Some(i) == last && value <= band.to)))
                    .map(|(_, band)| band.level)
                    .ok_or_else(|| numeric_range_error(*min, *max))
            }
            (Scoring::Numeric { min, max, .. }, RawValue::Category(_)) => Err(numeric_range_error(*min, *max)),
            (Scoring::Categories { categories }, RawValue::Category(value)) => {
                categories.iter().find(|c| c.value == *value).map(|c| c.level).ok_or_else(|| category_error(categories))
            }
            (Scoring::Categories { categories }, RawValue::Number(_)) => Err(category_error(categories)),
        }
    }

    /// Whether a level on the common scale means the child is at risk on this measure.
    pub fn is_at_risk(&self, level: u8) -> bool {
        level <= self.at_risk_at_or_below
    }
}

fn numeric_range_error(min: f64, max: f64) -> RangeError {
    RangeError(format!("must be a number from {min} to {max}"))
}

fn category_error(categories: &[Category]) -> RangeError {
    let values: Vec<&str> = categories.iter().map(|c| c.value.as_str()).collect();
    RangeError(format!("must be one of: {}", values.join(", ")))
}

/// Decimal places in the shortest decimal form of a finite number (`95.3` has 1).
fn decimal_places(value: f64) -> usize {
    let text = value.to_string();
    text.split_once('.').map_or(0, |(_, fraction)| fraction.len())
}

/// An instrument's licence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Licence {
    /// Open, licensed or the partnership's own.
    pub kind: LicenceKind,
    /// Who holds the licence; required for licensed instruments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    /// The terms in plain English, e.g. that only totals are entered.
    pub note: String,
}

/// The kind of an instrument's licence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LicenceKind {
    /// Free to use, e.g. school records.
    Open,
    /// A licensed questionnaire: administered outside the backbone, only its score is
    /// entered, its items are never embedded.
    Licensed,
    /// The partnership's own measure.
    Own,
}

/// Whether a higher raw score is better or worse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// A higher raw score is better (e.g. attendance).
    HigherIsBetter,
    /// A lower raw score is better (e.g. behaviour incidents).
    LowerIsBetter,
}

/// A measure's raw range or categories and their levels. In TOML, a `scoring` table with
/// `kind = "numeric"` or `kind = "categories"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Scoring {
    /// A number from `min` to `max` with at most `decimals` decimal places, mapped to
    /// levels by bands.
    Numeric {
        /// Lowest valid raw score.
        min: f64,
        /// Highest valid raw score.
        max: f64,
        /// Most decimal places a raw score may have.
        decimals: u8,
        /// Bands in ascending order, covering `min` to `max` without gaps or overlaps.
        bands: Vec<Band>,
    },
    /// One of a fixed set of values.
    Categories {
        /// The valid values and their levels.
        categories: Vec<Category>,
    },
}

/// A range of raw scores with one level: `[from, to)`, except that the last band of a
/// measure also includes `to` (its `max`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    /// Lowest raw score in the band.
    pub from: f64,
    /// First raw score of the next band (or the measure's `max`, for the last band).
    pub to: f64,
    /// Level on the common scale.
    pub level: u8,
}

/// A valid value of a categorical measure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    /// The value as stored and entered, e.g. `working_towards`.
    pub value: String,
    /// Display label, e.g. "Working towards expected".
    pub label: String,
    /// Level on the common scale.
    pub level: u8,
}

/// The rules that suggest children as candidates for support.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Screening {
    /// A child whose attendance (percentage, 0–100) is below this is a candidate.
    pub attendance_below: f64,
    /// A child at risk in at least this many areas is a candidate.
    pub at_risk_areas_at_least: u32,
    /// Code of the measure screening reads for wellbeing.
    pub wellbeing_measure: String,
    /// Code of the (numeric) measure screening compares with `attendance_below`.
    pub attendance_measure: String,
    /// Code of the measure screening reads for attainment.
    pub attainment_measure: String,
    /// Screening data of a child who is not enrolled is deleted this many days after
    /// its import.
    pub expires_after_days: u32,
    /// A practitioner's concern flags a child on its own (default: yes).
    #[serde(default = "yes")]
    pub flag_practitioner_concern: bool,
}

fn yes() -> bool {
    true
}

/// A problem with a framework file.
#[derive(Clone, Debug, PartialEq)]
pub struct FrameworkError {
    /// Where: `file` for a TOML error, otherwise a path such as
    /// `areas[2].measures[0].scoring.bands[3]` (indexes count from 0, in file order).
    pub place: String,
    /// What is wrong, for a person.
    pub message: String,
}

impl fmt::Display for FrameworkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place, self.message)
    }
}

impl std::error::Error for FrameworkError {}

/// A raw score as entered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawValue {
    /// For a numeric measure.
    Number(f64),
    /// For a categorical measure: the category's `value`.
    Category(String),
}

/// Why a raw score is not valid for a measure, as a message for a person, e.g.
/// "must be a number from 14 to 70".
#[derive(Clone, Debug, PartialEq)]
pub struct RangeError(pub String);

impl fmt::Display for RangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RangeError {}

/// Collects validation errors.
struct Errors(Vec<FrameworkError>);

impl Errors {
    fn push(&mut self, place: impl Into<String>, message: impl Into<String>) {
        self.0.push(FrameworkError { place: place.into(), message: message.into() });
    }

    fn non_empty(&mut self, place: &str, value: &str) {
        if value.trim().is_empty() {
            self.push(place, "must not be empty");
        }
    }

    fn code(&mut self, place: &str, value: &str) {
        if value.is_empty() {
            self.push(place, "must not be empty");
        } else if !value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
            self.push(place, format!("\"{value}\" must use only lower-case letters, digits and underscores"));
        }
    }

    fn level(&mut self, place: &str, level: u8) -> bool {
        let ok = (LOWEST_LEVEL..=HIGHEST_LEVEL).contains(&level);
        if !ok {
            self.push(place, format!("level {level} is not on the scale (1 to 5)"));
        }
        ok
    }
}

fn validate(framework: &Framework) -> Vec<FrameworkError> {
    let mut errors = Errors(Vec::new());
    errors.non_empty("name", &framework.name);
    validate_scale(&framework.scale, &mut errors);

    if framework.areas.is_empty() {
        errors.push("areas", "there must be at least one area");
    }
    let mut area_codes: HashMap<&str, usize> = HashMap::new();
    let mut measure_codes: HashMap<&str, String> = HashMap::new();
    for (a, area) in framework.areas.iter().enumerate() {
        let place = format!("areas[{a}]");
        if !KNOWN_AREAS.contains(&area.code.as_str()) {
            errors.push(
                format!("{place}.code"),
                format!("unknown area \"{}\"; the known areas are: {}", area.code, KNOWN_AREAS.join(", ")),
            );
        } else if let Some(first) = area_codes.get(area.code.as_str()) {
            errors.push(format!("{place}.code"), format!("area \"{}\" is repeated (also areas[{first}])", area.code));
        } else {
            area_codes.insert(&area.code, a);
        }
        errors.non_empty(&format!("{place}.name"), &area.name);
        if area.measures.is_empty() {
            errors.push(format!("{place}.measures"), "an area must have at least one measure");
        }
        for (m, measure) in area.measures.iter().enumerate() {
            let place = format!("{place}.measures[{m}]");
            if let Some(first) = measure_codes.get(measure.code.as_str()) {
                errors.push(
                    format!("{place}.code"),
                    format!("measure code \"{}\" is already used by {first}", measure.code),
                );
            } else {
                measure_codes.insert(&measure.code, place.clone());
            }
            validate_measure(&place, measure, &mut errors);
        }
    }

    validate_screening(framework, &mut errors);
    errors.0
}

fn validate_scale(scale: &[Level], errors: &mut Errors) {
    if scale.len() != usize::from(HIGHEST_LEVEL) {
        errors.push("scale", format!("must have exactly 5 levels, 1 to 5 in order, not {}", scale.len()));
    }
    for (i, level) in scale.iter().enumerate() {
        let place = format!("scale[{i}]");
        let expected = i + 1;
        if usize::from(level.level) != expected {
            errors.push(
                format!("{place}.level"),
                format!("must be {expected}: the levels are 1 to 5 in order, but this is {}", level.level),
            );
        }
        errors.non_empty(&format!("{place}.label"), &level.label);
        errors.non_empty(&format!("{place}.description"), &level.description);
    }
}

fn validate_measure(place: &str, measure: &Measure, errors: &mut Errors) {
    errors.code(&format!("{place}.code"), &measure.code);
    errors.non_empty(&format!("{place}.name"), &measure.name);
    errors.non_empty(&format!("{place}.instrument"), &measure.instrument);

    errors.non_empty(&format!("{place}.licence.note"), &measure.licence.note);
    match (measure.licence.kind, &measure.licence.holder) {
        (LicenceKind::Licensed, None) => {
            errors.push(format!("{place}.licence.holder"), "a licensed instrument must name its licence holder");
        }
        (_, Some(holder)) => errors.non_empty(&format!("{place}.licence.holder"), holder),
        (_, None) => {}
    }

    if !(LOWEST_LEVEL..HIGHEST_LEVEL).contains(&measure.at_risk_at_or_below) {
        errors.push(
            format!("{place}.at_risk_at_or_below"),
            format!("must be a level from 1 to 4, not {}", measure.at_risk_at_or_below),
        );
    }

    match &measure.scoring {
        Scoring::Numeric { min, max, decimals, bands } => {
            let scoring = NumericScoring { min: *min, max: *max, decimals: *decimals, bands };
            validate_bands(&format!("{place}.scoring"), &scoring, measure.direction, errors);
        }
        Scoring::Categories { categories } => validate_categories(&format!("{place}.scoring"), categories, errors),
    }
}

/// The fields of [`Scoring::Numeric`], borrowed.
struct NumericScoring<'a> {
    min: f64,
    max: f64,
    decimals: u8,
    bands: &'a [Band],
}

fn validate_bands(place: &str, scoring: &NumericScoring<'_>, direction: Direction, errors: &mut Errors) {
    let NumericScoring { min, max, decimals, bands } = *scoring;
    let range_ok = min.is_finite() && max.is_finite() && min < max;
    // A bound with more decimal places than a score may have could never be entered.
    let too_precise = |value: f64| value.is_finite() && decimal_places(value) > usize::from(decimals);
    for (key, value) in [("min", min), ("max", max)] {
        if !value.is_finite() {
            errors.push(format!("{place}.{key}"), "must be a finite number");
        } else if too_precise(value) {
            errors
                .push(format!("{place}.{key}"), format!("{value} has more decimal places than decimals = {decimals}"));
        }
    }
    if min.is_finite() && max.is_finite() && min >= max {
        errors.push(format!("{place}.max"), format!("max {max} must be greater than min {min}"));
    }

    let (Some(first), Some(last)) = (bands.first(), bands.last()) else {
        errors.push(format!("{place}.bands"), "there must be at least one band");
        return;
    };
    if range_ok && first.from != min {
        errors.push(format!("{place}.bands[0]"), format!("the first band starts at {}, but min is {min}", first.from));
    }
    if range_ok && last.to != max {
        errors.push(
            format!("{place}.bands[{}]", bands.len() - 1),
            format!("the last band ends at {}, but max is {max}", last.to),
        );
    }

    let mut previous: Option<&Band> = None;
    let mut previous_level: Option<u8> = None;
    for (i, band) in bands.iter().enumerate() {
        let band_place = format!("{place}.bands[{i}]");
        if !band.from.is_finite() || !band.to.is_finite() {
            errors.push(&band_place, "from and to must be finite numbers");
        } else if band.from >= band.to {
            errors.push(&band_place, format!("from {} must be less than to {}", band.from, band.to));
        }
        for (key, value) in [("from", band.from), ("to", band.to)] {
            if too_precise(value) {
                errors.push(&band_place, format!("{key} {value} has more decimal places than decimals = {decimals}"));
            }
        }
        if let Some(previous) = previous {
            if band.from > previous.to {
                errors.push(
                    &band_place,
                    format!(
                        "gap between {} and {}: the previous band ends at {} but this one starts at {}",
                        previous.to, band.from, previous.to, band.from
                    ),
                );
            } else if band.from < previous.to {
                errors.push(
                    &band_place,
                    format!(
                        "overlaps the previous band: it starts at {} but the previous band runs to {}",
                        band.from, previous.to
                    ),
                );
            }
        }
        previous = Some(band);

        if errors.level(&format!("{band_place}.level"), band.level) {
            if let Some(before) = previous_level {
                let (wrong_way, rule) = match direction {
                    Direction::HigherIsBetter => (band.level < before, "higher is better, so levels must not go down"),
                    Direction::LowerIsBetter => (band.level > before, "lower is better, so levels must not go up"),
                };
                if wrong_way {
                    errors.push(
                        format!("{band_place}.level"),
                        format!(
                            "level {} after level {before} in the previous band: {rule} as the score rises",
                            band.level
                        ),
                    );
                }
            }
            previous_level = Some(band.level);
        }
    }
}

fn validate_categories(place: &str, categories: &[Category], errors: &mut Errors) {
    if categories.is_empty() {
        errors.push(format!("{place}.categories"), "there must be at least one category");
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, category) in categories.iter().enumerate() {
        let category_place = format!("{place}.categories[{i}]");
        if let Some(first) = seen.get(category.value.as_str()) {
            errors.push(
                format!("{category_place}.value"),
                format!("value \"{}\" is repeated (also categories[{first}])", category.value),
            );
        } else {
            seen.insert(&category.value, i);
        }
        errors.non_empty(&format!("{category_place}.value"), &category.value);
        errors.non_empty(&format!("{category_place}.label"), &category.label);
        errors.level(&format!("{category_place}.level"), category.level);
    }
}

fn validate_screening(framework: &Framework, errors: &mut Errors) {
    let screening = &framework.screening;
    if !(0.0..=100.0).contains(&screening.attendance_below) {
        errors.push(
            "screening.attendance_below",
            format!("must be a percentage from 0 to 100, not {}", screening.attendance_below),
        );
    }
    let areas = framework.areas.len();
    if screening.at_risk_areas_at_least < 1 {
        errors.push("screening.at_risk_areas_at_least", "must be at least 1");
    } else if areas > 0 && usize::try_from(screening.at_risk_areas_at_least).map_or(true, |n| n > areas) {
        errors.push(
            "screening.at_risk_areas_at_least",
            format!("is {}, but the framework has only {areas} areas", screening.at_risk_areas_at_least),
        );
    }
    if screening.expires_after_days < 1 {
        errors.push("screening.expires_after_days", "must be at least 1");
    }
    for (key, code) in [
        ("wellbeing_measure", &screening.wellbeing_measure),
        ("attendance_measure", &screening.attendance_measure),
        ("attainment_measure", &screening.attainment_measure),
    ] {
        match framework.measure(code) {
            None => errors.push(format!("screening.{key}"), format!("there is no measure with code \"{code}\"")),
            Some((_, measure))
                if key == "attendance_measure" && !matches!(measure.scoring, Scoring::Numeric { .. }) =>
            {
                errors.push(
                    format!("screening.{key}"),
                    format!("measure \"{code}\" must be numeric, to compare with attendance_below"),
                );
            }
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(measure: &Measure, raw: f64) -> u8 {
        measure.level_of(&RawValue::Number(raw)).unwrap_or_else(|e| panic!("{} {raw}: {e}", measure.code))
    }

    fn cat(measure: &Measure, raw: &str) -> Result<u8, RangeError> {
        measure.level_of(&RawValue::Category(raw.to_owned()))
    }

    fn measure<'a>(framework: &'a Framework, code: &str) -> &'a Measure {
        framework.measure(code).map(|(_, m)| m).unwrap_or_else(|| panic!("no measure {code}"))
    }

    /// Parses `text`, expecting errors.
    fn errors_of(text: &str) -> Vec<FrameworkError> {
        match parse(text) {
            Ok(_) => panic!("expected errors"),
            Err(errors) => errors,
        }
    }

    /// Applies one text replacement to the default file, which must match exactly once.
    fn default_with(from: &str, to: &str) -> String {
        assert_eq!(DEFAULT_TOML.matches(from).count(), 1, "{from:?} must occur exactly once");
        DEFAULT_TOML.replace(from, to)
    }

    /// Applies one text replacement to the default file, at the first match after the
    /// line `code = "{measure}"`.
    fn default_with_in(measure: &str, from: &str, to: &str) -> String {
        let start = DEFAULT_TOML.find(&format!("code = \"{measure}\"")).expect("measure in the default file");
        let at = start + DEFAULT_TOML[start..].find(from).expect("text after the measure");
        format!("{}{to}{}", &DEFAULT_TOML[..at], &DEFAULT_TOML[at + from.len()..])
    }

    /// Asserts that the errors are exactly one, at `place`, with a message containing
    /// `message`.
    fn assert_one(errors: &[FrameworkError], place: &str, message: &str) {
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert_eq!(errors[0].place, place, "{errors:#?}");
        assert!(errors[0].message.contains(message), "{:?} should contain {message:?}", errors[0].message);
    }

    #[test]
    fn default_framework_is_valid() {
        let framework = parse(DEFAULT_TOML).unwrap_or_else(|errors| panic!("{errors:#?}"));
        assert_eq!(framework, default_framework());
        let codes: Vec<&str> = framework.areas.iter().map(|a| a.code.as_str()).collect();
        assert_eq!(codes, KNOWN_AREAS);
        let labels: Vec<&str> = framework.scale.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(labels[0], "Needs significant support");
        assert_eq!(labels[4], "Flourishing");
    }

    #[test]
    fn default_framework_has_every_kind_of_measure() {
        let framework = default_framework();
        let (area, wellbeing) = framework.measure("wellbeing_total").expect("wellbeing measure");
        assert_eq!(area.code, "emotional_wellbeing");
        assert_eq!(wellbeing.licence.kind, LicenceKind::Licensed);
        assert_eq!(wellbeing.licence.holder.as_deref(), Some("University of Warwick"));
        assert!(matches!(wellbeing.scoring, Scoring::Numeric { min: 14.0, max: 70.0, decimals: 0, .. }));
        assert!(matches!(measure(&framework, "attendance_percent").scoring, Scoring::Numeric { decimals: 1, .. }));
        assert!(matches!(measure(&framework, "trusted_adult").scoring, Scoring::Categories { .. }));
        assert!(matches!(measure(&framework, "reading_attainment").scoring, Scoring::Categories { .. }));
        assert!(matches!(measure(&framework, "maths_attainment").scoring, Scoring::Categories { .. }));
        assert!(matches!(
            measure(&framework, "confidence_judgement").scoring,
            Scoring::Numeric { min: 1.0, max: 10.0, .. }
        ));
        assert_eq!(measure(&framework, "behaviour_incidents").direction, Direction::LowerIsBetter);
        assert!(framework.measure("nope").is_none());
        assert_eq!(framework.screening.attendance_below, 90.0);
        assert_eq!(framework.screening.at_risk_areas_at_least, 3);
        assert_eq!(framework.screening.expires_after_days, 180);
    }

    #[test]
    fn every_band_edge_of_every_default_numeric_measure_maps_to_its_level() {
        let framework = default_framework();
        let mut checked = 0;
        for measure in framework.areas.iter().flat_map(|a| &a.measures) {
            let Scoring::Numeric { min, max, decimals, bands } = &measure.scoring else { continue };
            let scale = 10f64.powi(i32::from(*decimals));
            // The largest value with the allowed decimals below `edge`.
            let just_below = |edge: f64| ((edge * scale).round() - 1.0) / scale;
            for (i, band) in bands.iter().enumerate() {
                assert_eq!(ok(measure, band.from), band.level, "{} from-edge {}", measure.code, band.from);
                assert_eq!(ok(measure, just_below(band.to)), band.level, "{} below to-edge {}", measure.code, band.to);
                match bands.get(i + 1) {
                    Some(next) => assert_eq!(ok(measure, band.to), next.level, "{} to-edge {}", measure.code, band.to),
                    None => assert_eq!(ok(measure, band.to), band.level, "{} last to-edge {}", measure.code, band.to),
                }
                checked += 1;
            }
            let below = just_below(*min);
            let above = (((*max) * scale).round() + 1.0) / scale;
            let expected = format!("must be a number from {min} to {max}");
            assert_eq!(measure.level_of(&RawValue::Number(below)), Err(RangeError(expected.clone())));
            assert_eq!(measure.level_of(&RawValue::Number(above)), Err(RangeError(expected.clone())));
            assert_eq!(measure.level_of(&RawValue::Number(f64::NAN)), Err(RangeError(expected.clone())));
            assert_eq!(measure.level_of(&RawValue::Category("at".to_owned())), Err(RangeError(expected)));
            // One more decimal place than allowed, inside the range.
            let too_precise = ((*min) * scale * 10.0 + 5.0) / (scale * 10.0);
            let places = if *decimals == 1 { "place" } else { "places" };
            assert_eq!(
                measure.level_of(&RawValue::Number(too_precise)),
                Err(RangeError(format!("must have at most {decimals} decimal {places}"))),
                "{} {too_precise}",
                measure.code
            );
        }
        assert_eq!(checked, 5 * 5, "five bands in each of five numeric measures");
    }

    #[test]
    fn wellbeing_total_maps_as_documented() {
        let framework = default_framework();
        let m = measure(&framework, "wellbeing_total");
        let table = [(14.0, 1), (32.0, 1), (33.0, 2), (40.0, 2), (41.0, 3), (44.0, 3), (45.0, 4), (59.0, 4), (60.0, 5)];
        for (raw, level) in table.into_iter().chain([(70.0, 5)]) {
            assert_eq!(ok(m, raw), level, "{raw}");
        }
        assert_eq!(m.level_of(&RawValue::Number(13.0)), Err(RangeError("must be a number from 14 to 70".into())));
        assert_eq!(m.level_of(&RawValue::Number(71.0)), Err(RangeError("must be a number from 14 to 70".into())));
        assert_eq!(m.level_of(&RawValue::Number(40.5)), Err(RangeError("must have at most 0 decimal places".into())));
        assert!(m.is_at_risk(ok(m, 40.0)));
        assert!(!m.is_at_risk(ok(m, 41.0)));
    }

    #[test]
    fn attendance_maps_as_documented() {
        let framework = default_framework();
        let m = measure(&framework, "attendance_percent");
        let table = [
            (0.0, 1),
            (79.9, 1),
            (80.0, 2),
            (89.9, 2),
            (90.0, 3),
            (94.9, 3),
            (95.0, 4),
            (97.9, 4),
            (98.0, 5),
            (99.9, 5),
            (100.0, 5),
        ];
        for (raw, level) in table {
            assert_eq!(ok(m, raw), level, "{raw}");
        }
        assert_eq!(m.level_of(&RawValue::Number(-0.1)), Err(RangeError("must be a number from 0 to 100".into())));
        assert_eq!(m.level_of(&RawValue::Number(100.1)), Err(RangeError("must be a number from 0 to 100".into())));
        assert_eq!(m.level_of(&RawValue::Number(89.95)), Err(RangeError("must have at most 1 decimal place".into())));
        assert!(m.is_at_risk(ok(m, 89.9)));
        assert!(!m.is_at_risk(ok(m, 90.0)));
    }

    #[test]
    fn practitioner_judgements_map_as_documented() {
        let framework = default_framework();
        for code in ["relationships_judgement", "confidence_judgement"] {
            let m = measure(&framework, code);
            let levels: Vec<u8> = (1..=10).map(|raw| ok(m, f64::from(raw))).collect();
            assert_eq!(levels, [1, 1, 2, 2, 3, 3, 4, 4, 5, 5], "{code}");
            assert!(m.level_of(&RawValue::Number(0.0)).is_err());
            assert!(m.level_of(&RawValue::Number(11.0)).is_err());
            assert!(m.level_of(&RawValue::Number(7.5)).is_err());
            assert!(m.is_at_risk(2) && !m.is_at_risk(3));
        }
    }

    #[test]
    fn behaviour_incidents_lower_is_better_maps_as_documented() {
        let framework = default_framework();
        let m = measure(&framework, "behaviour_incidents");
        let table = [(0.0, 5), (1.0, 4), (2.0, 4), (3.0, 3), (5.0, 3), (6.0, 2), (10.0, 2), (11.0, 1), (50.0, 1)];
        for (raw, level) in table {
            assert_eq!(ok(m, raw), level, "{raw}");
        }
        assert_eq!(m.level_of(&RawValue::Number(51.0)), Err(RangeError("must be a number from 0 to 50".into())));
        assert!(m.is_at_risk(ok(m, 6.0)));
        assert!(!m.is_at_risk(ok(m, 5.0)));
    }

    #[test]
    fn every_default_category_maps_and_unknown_categories_are_refused() {
        let framework = default_framework();
        let trusted = measure(&framework, "trusted_adult");
        assert_eq!(cat(trusted, "yes"), Ok(4));
        assert_eq!(cat(trusted, "no"), Ok(1));
        assert_eq!(cat(trusted, "maybe"), Err(RangeError("must be one of: no, yes".into())));
        assert_eq!(trusted.level_of(&RawValue::Number(1.0)), Err(RangeError("must be one of: no, yes".into())));
        assert!(trusted.is_at_risk(1) && !trusted.is_at_risk(4));
        for code in ["reading_attainment", "maths_attainment"] {
            let m = measure(&framework, code);
            assert_eq!(cat(m, "below"), Ok(1));
            assert_eq!(cat(m, "working_towards"), Ok(2));
            assert_eq!(cat(m, "at"), Ok(4));
            assert_eq!(cat(m, "above"), Ok(5));
            let expected = RangeError("must be one of: below, working_towards, at, above".into());
            assert_eq!(cat(m, "At"), Err(expected.clone()));
            assert_eq!(cat(m, ""), Err(expected));
        }
        // Every category of every categorical measure maps to its own level.
        for m in framework.areas.iter().flat_map(|a| &a.measures) {
            if let Scoring::Categories { categories } = &m.scoring {
                for c in categories {
                    assert_eq!(cat(m, &c.value), Ok(c.level), "{} {}", m.code, c.value);
                }
            }
        }
    }

    #[test]
    fn gap_between_bands_is_refused() {
        let text = default_with("{ from = 33, to = 41, level = 2 }", "{ from = 35, to = 41, level = 2 }");
        assert_one(&errors_of(&text), "areas[0].measures[0].scoring.bands[1]", "gap between 33 and 35");
    }

    #[test]
    fn overlapping_bands_are_refused() {
        let text = default_with("{ from = 33, to = 41, level = 2 }", "{ from = 30, to = 41, level = 2 }");
        assert_one(&errors_of(&text), "areas[0].measures[0].scoring.bands[1]", "overlaps the previous band");
    }

    #[test]
    fn reversed_band_is_refused() {
        let text = default_with("{ from = 41, to = 45, level = 3 }", "{ from = 41, to = 41, level = 3 }");
        let errors = errors_of(&text);
        assert_eq!(errors[0].place, "areas[0].measures[0].scoring.bands[2]");
        assert_eq!(errors[0].message, "from 41 must be less than to 41");
    }

    #[test]
    fn first_band_not_at_min_is_refused() {
        let text = default_with("{ from = 14, to = 33, level = 1 }", "{ from = 15, to = 33, level = 1 }");
        assert_one(
            &errors_of(&text),
            "areas[0].measures[0].scoring.bands[0]",
            "the first band starts at 15, but min is 14",
        );
    }

    #[test]
    fn last_band_not_at_max_is_refused() {
        let text = default_with("{ from = 60, to = 70, level = 5 }", "{ from = 60, to = 69, level = 5 }");
        assert_one(
            &errors_of(&text),
            "areas[0].measures[0].scoring.bands[4]",
            "the last band ends at 69, but max is 70",
        );
    }

    #[test]
    fn band_edge_finer_than_decimals_is_refused() {
        let text = default_with("{ from = 33, to = 41, level = 2 }", "{ from = 33, to = 40.5, level = 2 }")
            .replace("{ from = 41, to = 45, level = 3 }", "{ from = 40.5, to = 45, level = 3 }");
        let errors: Vec<String> = errors_of(&text).iter().map(ToString::to_string).collect();
        assert_eq!(
            errors,
            [
                "areas[0].measures[0].scoring.bands[1]: to 40.5 has more decimal places than decimals = 0",
                "areas[0].measures[0].scoring.bands[2]: from 40.5 has more decimal places than decimals = 0",
            ]
        );
    }

    #[test]
    fn min_not_below_max_is_refused() {
        let text = default_with("min = 14\nmax = 70", "min = 70\nmax = 14");
        let errors = errors_of(&text);
        assert_eq!(errors[0].place, "areas[0].measures[0].scoring.max");
        assert_eq!(errors[0].message, "max 14 must be greater than min 70");
    }

    #[test]
    fn empty_bands_are_refused() {
        let start = DEFAULT_TOML.find("code = \"confidence_judgement\"").expect("measure");
        let from = start + DEFAULT_TOML[start..].find("bands = [").expect("bands");
        let to = from + DEFAULT_TOML[from..].find("\n]\n").expect("end of bands") + 2;
        let text = format!("{}bands = []{}", &DEFAULT_TOML[..from], &DEFAULT_TOML[to..]);
        assert_one(&errors_of(&text), "areas[2].measures[0].scoring.bands", "there must be at least one band");
    }

    #[test]
    fn unknown_area_is_refused() {
        let text = default_with("code = \"confidence_aspiration\"", "code = \"confidence\"");
        assert_one(
            &errors_of(&text),
            "areas[2].code",
            "unknown area \"confidence\"; the known areas are: emotional_wellbeing, relationships, \
             confidence_aspiration, progress_at_school, attendance_engagement",
        );
    }

    #[test]
    fn repeated_area_is_refused() {
        let text = default_with("code = \"confidence_aspiration\"", "code = \"relationships\"");
        assert_one(&errors_of(&text), "areas[2].code", "area \"relationships\" is repeated (also areas[1])");
    }

    #[test]
    fn duplicate_measure_code_is_refused() {
        let text = default_with("code = \"maths_attainment\"", "code = \"reading_attainment\"");
        assert_one(
            &errors_of(&text),
            "areas[3].measures[1].code",
            "measure code \"reading_attainment\" is already used by areas[3].measures[0]",
        );
    }

    #[test]
    fn non_monotonic_levels_are_refused_in_both_directions() {
        let text = default_with("{ from = 41, to = 45, level = 3 }", "{ from = 41, to = 45, level = 1 }");
        assert_one(
            &errors_of(&text),
            "areas[0].measures[0].scoring.bands[2].level",
            "level 1 after level 2 in the previous band: higher is better, so levels must not go down",
        );
        let text = default_with("{ from = 3, to = 6, level = 3 }", "{ from = 3, to = 6, level = 5 }");
        assert_one(
            &errors_of(&text),
            "areas[4].measures[1].scoring.bands[2].level",
            "level 5 after level 4 in the previous band: lower is better, so levels must not go up",
        );
        // Flipping the direction alone makes the lower-is-better bands non-monotonic.
        let text = default_with("direction = \"lower_is_better\"", "direction = \"higher_is_better\"");
        let errors = errors_of(&text);
        assert_eq!(errors.len(), 4, "{errors:#?}");
        assert!(errors.iter().all(|e| e.place.starts_with("areas[4].measures[1].scoring.bands[")));
    }

    #[test]
    fn level_off_the_scale_is_refused() {
        let text =
            default_with_in("reading_attainment", "(greater depth)\", level = 5", "(greater depth)\", level = 6");
        assert_one(
            &errors_of(&text),
            "areas[3].measures[0].scoring.categories[3].level",
            "level 6 is not on the scale (1 to 5)",
        );
        let text = default_with("{ from = 60, to = 70, level = 5 }", "{ from = 60, to = 70, level = 0 }");
        assert_one(
            &errors_of(&text),
            "areas[0].measures[0].scoring.bands[4].level",
            "level 0 is not on the scale (1 to 5)",
        );
    }

    #[test]
    fn repeated_category_is_refused() {
        let text = default_with("{ value = \"no\", label", "{ value = \"yes\", label");
        assert_one(
            &errors_of(&text),
            "areas[1].measures[0].scoring.categories[1].value",
            "value \"yes\" is repeated (also categories[0])",
        );
    }

    #[test]
    fn empty_categories_are_refused() {
        let first = "    { value = \"no\", label = \"No trusted adult named\", level = 1 },\n";
        let second = "    { value = \"yes\", label = \"Names at least one trusted adult\", level = 4 },\n";
        let text = default_with(&format!("categories = [\n{first}{second}]"), "categories = []");
        assert_one(&errors_of(&text), "areas[1].measures[0].scoring.categories", "there must be at least one category");
    }

    #[test]
    fn licensed_instrument_without_holder_is_refused() {
        let text = default_with("holder = \"University of Warwick\"\n", "");
        assert_one(
            &errors_of(&text),
            "areas[0].measures[0].licence.holder",
            "a licensed instrument must name its licence holder",
        );
    }

    #[test]
    fn empty_licence_note_is_refused() {
        let text = default_with("note = \"The partnership's own yes/no indicator. Free to use.\"", "note = \"  \"");
        assert_one(&errors_of(&text), "areas[1].measures[0].licence.note", "must not be empty");
    }

    #[test]
    fn at_risk_threshold_outside_one_to_four_is_refused() {
        let text = default_with(
            "direction = \"lower_is_better\"\nat_risk_at_or_below = 2",
            "direction = \"lower_is_better\"\nat_risk_at_or_below = 5",
        );
        assert_one(&errors_of(&text), "areas[4].measures[1].at_risk_at_or_below", "must be a level from 1 to 4, not 5");
    }

    #[test]
    fn bad_scale_is_refused() {
        let text = default_with("level = 3\nlabel = \"Getting there\"", "level = 4\nlabel = \"\"");
        let errors = errors_of(&text);
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert_eq!(errors[0].to_string(), "scale[2].level: must be 3: the levels are 1 to 5 in order, but this is 4");
        assert_eq!(errors[1].to_string(), "scale[2].label: must not be empty");

        let level_five = DEFAULT_TOML.find("[[scale]]\nlevel = 5").expect("level 5");
        let areas = DEFAULT_TOML.find("[[areas]]").expect("areas");
        let without_level_five = format!("{}{}", &DEFAULT_TOML[..level_five], &DEFAULT_TOML[areas..]);
        assert_one(&errors_of(&without_level_five), "scale", "must have exactly 5 levels, 1 to 5 in order, not 4");
    }

    #[test]
    fn unknown_screening_measure_is_refused() {
        let text = default_with("wellbeing_measure = \"wellbeing_total\"", "wellbeing_measure = \"wemwbs\"");
        assert_one(&errors_of(&text), "screening.wellbeing_measure", "there is no measure with code \"wemwbs\"");
        let text =
            default_with("attendance_measure = \"attendance_percent\"", "attendance_measure = \"trusted_adult\"");
        assert_one(
            &errors_of(&text),
            "screening.attendance_measure",
            "measure \"trusted_adult\" must be numeric, to compare with attendance_below",
        );
    }

    #[test]
    fn bad_screening_numbers_are_refused() {
        let text = default_with("attendance_below = 90.0", "attendance_below = 120.0")
            .replace("at_risk_areas_at_least = 3", "at_risk_areas_at_least = 0")
            .replace("expires_after_days = 180", "expires_after_days = 0");
        let errors: Vec<String> = errors_of(&text).iter().map(ToString::to_string).collect();
        assert_eq!(
            errors,
            [
                "screening.attendance_below: must be a percentage from 0 to 100, not 120",
                "screening.at_risk_areas_at_least: must be at least 1",
                "screening.expires_after_days: must be at least 1",
            ]
        );
        let text = default_with("at_risk_areas_at_least = 3", "at_risk_areas_at_least = 6");
        assert_one(&errors_of(&text), "screening.at_risk_areas_at_least", "is 6, but the framework has only 5 areas");
    }

    #[test]
    fn empty_names_bad_codes_and_measureless_areas_are_refused() {
        let text = default_with("name = \"Northfield outcomes framework\"", "name = \"\"")
            .replace("code = \"wellbeing_total\"", "code = \"Wellbeing\"")
            .replace("wellbeing_measure = \"wellbeing_total\"", "wellbeing_measure = \"Wellbeing\"")
            .replace("label = \"No trusted adult named\"", "label = \"\"");
        let errors: Vec<String> = errors_of(&text).iter().map(ToString::to_string).collect();
        assert_eq!(
            errors,
            [
                "name: must not be empty",
                "areas[0].measures[0].code: \"Wellbeing\" must use only lower-case letters, digits and underscores",
                "areas[1].measures[0].scoring.categories[0].label: must not be empty",
            ]
        );

        let start = DEFAULT_TOML.find("[[areas.measures]]\ncode = \"confidence_judgement\"").expect("measure");
        let end = DEFAULT_TOML.find("# Progress at school").expect("next area");
        let text = format!("{}measures = []\n{}", &DEFAULT_TOML[..start], &DEFAULT_TOML[end..]);
        assert_one(&errors_of(&text), "areas[2].measures", "an area must have at least one measure");
    }

    #[test]
    fn parse_reports_several_errors_at_once() {
        let text = default_with("code = \"confidence_aspiration\"", "code = \"confidence\"")
            .replace("{ from = 33, to = 41, level = 2 }", "{ from = 35, to = 41, level = 2 }")
            .replace("holder = \"University of Warwick\"\n", "")
            .replace("code = \"maths_attainment\"", "code = \"reading_attainment\"")
            .replace("wellbeing_measure = \"wellbeing_total\"", "wellbeing_measure = \"wemwbs\"");
        let places: Vec<String> = errors_of(&text).into_iter().map(|e| e.place).collect();
        assert_eq!(
            places,
            [
                "areas[0].measures[0].licence.holder",
                "areas[0].measures[0].scoring.bands[1]",
                "areas[2].code",
                "areas[3].measures[1].code",
                "screening.wellbeing_measure",
            ]
        );
    }

    #[test]
    fn toml_syntax_error_is_reported_at_file_with_line_and_column() {
        let text = default_with("name = \"Northfield outcomes framework\"", "name = \"Northfield outcomes framework");
        let errors = errors_of(&text);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].place, "file");
        assert!(errors[0].message.contains("line 12, column"), "{}", errors[0].message);
    }

    #[test]
    fn wrong_types_and_unknown_keys_are_reported_at_file() {
        let text = default_with("direction = \"lower_is_better\"", "direction = \"sideways\"");
        let errors = errors_of(&text);
        assert_eq!(errors[0].place, "file");
        assert!(errors[0].message.contains("line "), "{}", errors[0].message);
        assert!(errors[0].message.contains("sideways"), "{}", errors[0].message);

        let text = default_with("holder = \"University of Warwick\"", "holdr = \"University of Warwick\"");
        let errors = errors_of(&text);
        assert_eq!(errors[0].place, "file");
        assert!(errors[0].message.contains("holdr"), "{}", errors[0].message);

        let text = default_with("min = 14\nmax = 70\ndecimals = 0", "min = 14\nmax = 70\ndecimal = 0");
        let errors = errors_of(&text);
        assert_eq!(errors[0].place, "file");
        assert!(errors[0].message.contains("decimal"), "{}", errors[0].message);

        let text = default_with("kind = \"numeric\"\nmin = 14", "kind = \"histogram\"\nmin = 14");
        let errors = errors_of(&text);
        assert_eq!(errors[0].place, "file");
        assert!(errors[0].message.contains("histogram"), "{}", errors[0].message);
    }

    #[test]
    fn framework_round_trips_through_toml() {
        let framework = default_framework();
        let text = toml::to_string(&framework).expect("serialises to TOML");
        assert!(text.contains("kind = \"numeric\""), "{text}");
        assert_eq!(parse(&text), Ok(framework));
    }

    #[test]
    fn default_file_embeds_no_questionnaire_items() {
        // Guard against pasting a licensed questionnaire into the framework: no measure
        // lists items or questions, and the licensed note says only totals are entered.
        let lower = DEFAULT_TOML.to_lowercase();
        assert!(!lower.contains("items ="), "no item lists");
        assert!(!lower.contains("questions ="), "no question lists");
        let framework = default_framework();
        for m in framework.areas.iter().flat_map(|a| &a.measures) {
            if m.licence.kind == LicenceKind::Licensed {
                assert!(m.licence.note.contains("outside the backbone"), "{}", m.code);
                assert!(m.licence.note.contains("only the total score is entered"), "{}", m.code);
            }
        }
    }
}
