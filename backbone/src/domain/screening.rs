//! Needs identification at the anchor: anchor data (a CSV a school exports from its own
//! records) is validated as a whole, screened against the rules in the live outcomes
//! framework's `[screening]` section, and the pupils the rules flag become a ranked list
//! of candidates for the anchor's link workers. Accepting a candidate identifies the
//! child; a candidate who already receives statutory support is listed as excluded, with
//! that reason, and cannot be accepted.
//!
//! Data minimisation: only flagged rows are stored, and only the pupil's UPN and the
//! indicators (never a name). A new import replaces the anchor's earlier, unaccepted
//! rows. Rows expire `expires_after_days` after their import; expired rows are never
//! listed, and [`purge`] deletes them unless the child they led to is enrolled.

use crate::access;
use crate::audit::{Audited, now};
use crate::auth::Actor;
use crate::domain::children::{self, NewChild};
use crate::domain::{
    EnrolmentStatus, Page, PageRequest, ScreeningReason, ScreeningStatus, StatutorySupport, outcomes, validate,
};
use crate::error::{Error, FieldError, Result};
use crate::store::db::Hold;
use crate::store::{child, enrolment, screening};
use backbone_seeds::framework::{Framework, Measure, RawValue};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set,
};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;

/// The columns of an anchor-data file, in the documented order. `statutory_support` may
/// be left out; every other column is required. Any other column is refused.
pub const COLUMNS: &[&str] =
    &["upn", "attendance_percent", "attainment", "wellbeing_score", "practitioner_concern", "statutory_support"];
const OPTIONAL_COLUMNS: &[&str] = &["statutory_support"];
/// Rows are written (and progress reported) in chunks of this many.
const CHUNK: usize = 500;

/// One valid row of anchor data.
#[derive(Clone, Debug, PartialEq)]
pub struct AnchorRow {
    /// The line of the file the row is on (the header is line 1).
    pub line: u64,
    pub upn: String,
    pub attendance_percent: Option<f64>,
    pub attainment: Option<String>,
    pub wellbeing_score: Option<i16>,
    pub practitioner_concern: bool,
    pub statutory_support: Option<StatutorySupport>,
}

/// A problem with one line of the file (line 1 is the header).
#[derive(Clone, Debug, PartialEq)]
pub struct RowError {
    pub line: u64,
    pub column: Option<&'static str>,
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.column {
            Some(column) => write!(f, "line {}, {column}: {}", self.line, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

/// The measures screening reads, from the framework's `[screening]` section.
struct Measures<'a> {
    attendance: &'a Measure,
    attainment: &'a Measure,
    wellbeing: &'a Measure,
}

fn measures(framework: &Framework) -> Result<Measures<'_>> {
    let find = |code: &str| {
        framework.measure(code).map(|(_, m)| m).ok_or_else(|| {
            Error::Internal(anyhow::anyhow!("the live framework names a screening measure it lacks: {code}"))
        })
    };
    let s = &framework.screening;
    Ok(Measures {
        attendance: find(&s.attendance_measure)?,
        attainment: find(&s.attainment_measure)?,
        wellbeing: find(&s.wellbeing_measure)?,
    })
}

/// Reads and validates a whole anchor-data file. Every problem is reported, each with its
/// line; the rows are returned only if there is none. `progress(done, total)` is called as
/// rows are checked.
pub fn parse(
    bytes: &[u8],
    framework: &Framework,
    progress: &mut dyn FnMut(usize, usize),
) -> std::result::Result<Vec<AnchorRow>, Vec<RowError>> {
    let header_error = |message: String| vec![RowError { line: 1, column: None, message }];
    let measures = measures(framework).map_err(|_| header_error("the outcomes framework is incomplete".into()))?;
    let total =
        bytes.split(|b| *b == b'\n').filter(|l| !l.iter().all(u8::is_ascii_whitespace)).count().saturating_sub(1);
    let mut reader = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(bytes);
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.trim().to_ascii_lowercase()).collect(),
        Err(e) => return Err(header_error(format!("the file is not readable CSV text: {}", csv_problem(&e)))),
    };
    let positions = read_header(&header).map_err(header_error)?;
    let mut rows = Vec::with_capacity(total);
    let mut errors = Vec::new();
    let mut first_line_of: HashMap<String, u64> = HashMap::new();
    let mut record = csv::StringRecord::new();
    let mut done = 0;
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                errors.push(RowError { line, column: None, message: format!("is not readable: {}", csv_problem(&e)) });
                break;
            }
        }
        let line = record.position().map_or(line, |p| p.line());
        if record.iter().all(str::is_empty) {
            continue;
        }
        done += 1;
        if record.len() != header.len() {
            let message = format!("has {} values, but the header has {} columns", record.len(), header.len());
            errors.push(RowError { line, column: None, message });
        } else {
            match read_row(line, &record, &positions, &measures) {
                Ok(row) => {
                    if let Some(first) = first_line_of.get(&row.upn) {
                        let message = format!("repeats the UPN of line {first}: one row per pupil");
                        errors.push(RowError { line, column: Some("upn"), message });
                    } else {
                        first_line_of.insert(row.upn.clone(), line);
                        rows.push(row);
                    }
                }
                Err(mut problems) => errors.append(&mut problems),
            }
        }
        if done % CHUNK == 0 {
            progress(done, total.max(done));
        }
    }
    progress(done, done);
    if done == 0 && errors.is_empty() {
        return Err(vec![RowError { line: 2, column: None, message: "the file has a header but no rows".into() }]);
    }
    if errors.is_empty() { Ok(rows) } else { Err(errors) }
}

fn csv_problem(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "it is not UTF-8 text (save it as CSV UTF-8)".into(),
        _ => "malformed CSV (check its quotes)".into(),
    }
}

/// Where each known column is in the file.
fn read_header(header: &[String]) -> std::result::Result<HashMap<&'static str, usize>, String> {
    let mut positions = HashMap::new();
    for (i, name) in header.iter().enumerate() {
        let Some(known) = COLUMNS.iter().find(|c| **c == name.as_str()) else {
            let looks_personal = ["name", "first", "last", "surname", "birth", "dob", "address", "postcode", "phone"]
                .iter()
                .any(|p| name.contains(p));
            return Err(if looks_personal {
                format!(
                    "column \"{name}\" is not accepted: anchor data holds no names or contact details, only the UPN and the indicators"
                )
            } else {
                format!("column \"{name}\" is not one of {}", COLUMNS.join(", "))
            });
        };
        if positions.insert(*known, i).is_some() {
            return Err(format!("column \"{name}\" appears twice"));
        }
    }
    let missing: Vec<&str> =
        COLUMNS.iter().filter(|c| !OPTIONAL_COLUMNS.contains(c) && !positions.contains_key(*c)).copied().collect();
    if !missing.is_empty() {
        return Err(format!("the header lacks the column(s) {} (expected {})", missing.join(", "), COLUMNS.join(",")));
    }
    Ok(positions)
}

fn read_row(
    line: u64,
    record: &csv::StringRecord,
    positions: &HashMap<&'static str, usize>,
    measures: &Measures<'_>,
) -> std::result::Result<AnchorRow, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut fail =
        |column: &'static str, message: String| errors.push(RowError { line, column: Some(column), message });
    let value = |column: &str| positions.get(column).and_then(|i| record.get(*i)).unwrap_or("");

    let upn = value("upn").to_ascii_uppercase();
    if upn.is_empty() {
        fail("upn", "is required".into());
    } else if let Err(e) = validate::upn(&upn) {
        fail("upn", e.message.map_or_else(|| "is not a valid UPN".into(), |m| m.into_owned()));
    }
    let number = |column: &'static str, measure: &Measure| -> std::result::Result<Option<f64>, String> {
        let text = value(column);
        if text.is_empty() {
            return Ok(None);
        }
        let n: f64 = text.trim_end_matches('%').trim().parse().map_err(|_| format!("\"{text}\" is not a number"))?;
        measure.level_of(&RawValue::Number(n)).map_err(|e| e.0)?;
        Ok(Some(n))
    };
    let attendance_percent = number("attendance_percent", measures.attendance).unwrap_or_else(|m| {
        fail("attendance_percent", m);
        None
    });
    let wellbeing_score = number("wellbeing_score", measures.wellbeing).unwrap_or_else(|m| {
        fail("wellbeing_score", m);
        None
    });
    let attainment = match value("attainment").to_ascii_lowercase().replace([' ', '-'], "_") {
        text if text.is_empty() => None,
        text => match measures.attainment.level_of(&RawValue::Category(text.clone())) {
            Ok(_) => Some(text),
            Err(e) => {
                fail("attainment", e.0);
                None
            }
        },
    };
    let practitioner_concern = match value("practitioner_concern").to_ascii_lowercase().as_str() {
        "" | "no" | "n" | "false" | "0" => false,
        "yes" | "y" | "true" | "1" => true,
        other => {
            fail("practitioner_concern", format!("must be yes or no, not \"{other}\""));
            false
        }
    };
    let statutory_support = match value("statutory_support").to_ascii_lowercase().replace([' ', '-'], "_") {
        text if text.is_empty() || text == "none" => None,
        text => match StatutorySupport::ALL.iter().find(|s| s.as_str() == text) {
            Some(s) => Some(*s),
            None => {
                fail("statutory_support", format!("must be blank, in_care or edge_of_care, not \"{text}\""));
                None
            }
        },
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(AnchorRow {
        line,
        upn,
        attendance_percent,
        attainment,
        wellbeing_score: wellbeing_score.map(|w| w as i16),
        practitioner_concern,
        statutory_support,
    })
}

/// Why the rules flagged a pupil.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Reason {
    pub code: String,
    pub message: String,
}

impl Reason {
    fn new(code: ScreeningReason, message: String) -> Reason {
        Reason { code: code.as_str().to_owned(), message }
    }

    pub fn code(&self) -> Result<ScreeningReason> {
        ScreeningReason::from_stored(&self.code)
    }
}

/// What the rules make of one row.
#[derive(Clone, Debug, PartialEq)]
pub struct Screened {
    /// The rules that fired, in the framework's order; empty when none did.
    pub reasons: Vec<Reason>,
    /// The areas of the common scale in which the row's indicators are at risk.
    pub at_risk_areas: BTreeSet<String>,
}

/// Applies the framework's screening rules to one row: attendance below
/// `attendance_below`; at risk (at or below a measure's at-risk level) in at least
/// `at_risk_areas_at_least` areas, counting attendance, attainment and wellbeing; and,
/// when `flag_practitioner_concern` is on, a practitioner's concern.
pub fn screen(row: &AnchorRow, framework: &Framework) -> Result<Screened> {
    let measures = measures(framework)?;
    let rules = &framework.screening;
    let mut at_risk_areas = BTreeSet::new();
    let mut area_names = Vec::new();
    let indicators = [
        (measures.attendance, row.attendance_percent.map(RawValue::Number)),
        (measures.attainment, row.attainment.clone().map(RawValue::Category)),
        (measures.wellbeing, row.wellbeing_score.map(|w| RawValue::Number(f64::from(w)))),
    ];
    for (measure, raw) in indicators {
        let Some(raw) = raw else { continue };
        let level = measure.level_of(&raw).map_err(|e| Error::Internal(anyhow::anyhow!("a checked value: {e}")))?;
        if measure.is_at_risk(level)
            && let Some((area, _)) = framework.measure(&measure.code)
            && at_risk_areas.insert(area.code.clone())
        {
            area_names.push(area.name.to_lowercase());
        }
    }
    let mut reasons = Vec::new();
    if let Some(attendance) = row.attendance_percent.filter(|a| *a < rules.attendance_below) {
        let message = format!("attendance {attendance:.1}% is below {:.1}%", rules.attendance_below);
        reasons.push(Reason::new(ScreeningReason::LowAttendance, message));
    }
    if at_risk_areas.len() >= rules.at_risk_areas_at_least as usize {
        let message = format!(
            "at risk in {} areas ({}); the rule is {} or more",
            at_risk_areas.len(),
            area_names.join(", "),
            rules.at_risk_areas_at_least
        );
        reasons.push(Reason::new(ScreeningReason::AtRiskAreas, message));
    }
    if rules.flag_practitioner_concern && row.practitioner_concern {
        reasons.push(Reason::new(ScreeningReason::PractitionerConcern, "a practitioner raised a concern".into()));
    }
    Ok(Screened { reasons, at_risk_areas })
}

/// The sort key of the ranked list: candidates before excluded pupils; then more reasons,
/// more areas at risk and lower attendance first; the id breaks ties.
fn rank_key(status: ScreeningStatus, screened: &Screened, attendance: Option<f64>, id: &str) -> String {
    let group = u8::from(status != ScreeningStatus::Candidate);
    let reasons = 9usize.saturating_sub(screened.reasons.len());
    let areas = 9usize.saturating_sub(screened.at_risk_areas.len());
    let attendance = attendance.map_or(9999, |a| (a * 10.0).round() as u32);
    format!("{group}{reasons}{areas}{attendance:04}{id}")
}

/// What an import did.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportSummary {
    pub anchor_id: String,
    /// Rows in the file.
    pub rows: usize,
    /// Flagged rows stored as candidates.
    pub candidates: usize,
    /// Flagged rows of pupils already receiving statutory support (stored, excluded).
    pub excluded: usize,
    /// Rows whose UPN is a child already in the zone (not stored).
    pub already_identified: usize,
    /// Rows no rule flagged (not stored).
    pub not_flagged: usize,
    /// Earlier unaccepted rows of this anchor that the import replaced.
    pub replaced: u64,
    pub framework_version: i32,
    pub expires_at: DateTime<Utc>,
}

/// Which earlier rows an import replaces (never an accepted one: that child is identified).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ImportMode {
    /// Only the earlier rows of the pupils in the file: a school sending one year group
    /// keeps the candidates of the others.
    #[default]
    PupilsInFile,
    /// Every earlier row of the anchor: the file is the anchor's whole current data.
    ReplaceAll,
}

/// Progress of a long import: rows checked, then rows written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Checked,
    Written,
}

/// Imports an anchor's data: checks the whole file first (every problem reported as
/// `INVALID_INPUT` on `file`, each naming its line) and writes nothing unless every row
/// is valid; then stores the rows the rules flag, replacing the anchor's earlier
/// unaccepted rows of the pupils in the file (or all of them, [`ImportMode::ReplaceAll`]),
/// all in one transaction. Anchor leads, for their own anchor; backbone
/// admins and the system, for the anchor they name.
pub async fn import(
    db: &DatabaseConnection,
    actor: &Actor,
    anchor_id: Option<String>,
    mode: ImportMode,
    bytes: &[u8],
    progress: &mut (dyn FnMut(Step, usize, usize) + Send),
) -> Result<ImportSummary> {
    let anchor_id = anchor_id
        .map(|a| a.trim().to_owned())
        .or_else(|| access::default_import_anchor(actor))
        .ok_or_else(|| Error::invalid("anchorId", "is required: name the anchor whose data this is"))?;
    access::may_import_anchor_data(actor, &anchor_id)?;
    children::ensure_anchor(db, &anchor_id).await?;
    let live = outcomes::live(db).await?;
    let framework = &live.framework;
    let rows = parse(bytes, framework, &mut |done, total| progress(Step::Checked, done, total)).map_err(|errors| {
        Error::InvalidInput(
            errors.iter().map(|e| FieldError { field: "file".into(), message: e.to_string() }).collect(),
        )
    })?;

    let mut known = HashSet::new();
    let upns: Vec<String> = rows.iter().map(|r| r.upn.clone()).collect();
    for chunk in upns.chunks(CHUNK) {
        let found: Vec<Option<String>> = child::Entity::find()
            .select_only()
            .column(child::Column::Upn)
            .filter(child::Column::Upn.is_in(chunk.to_vec()))
            .into_tuple()
            .all(db)
            .await?;
        known.extend(found.into_iter().flatten());
    }

    let at = now();
    let expires_at = at + chrono::Duration::days(i64::from(framework.screening.expires_after_days));
    let mut summary = ImportSummary {
        anchor_id: anchor_id.clone(),
        rows: rows.len(),
        candidates: 0,
        excluded: 0,
        already_identified: 0,
        not_flagged: 0,
        replaced: 0,
        framework_version: live.model.version,
        expires_at,
    };
    let mut flagged = Vec::new();
    for row in rows {
        if known.contains(&row.upn) {
            summary.already_identified += 1;
            continue;
        }
        let screened = screen(&row, framework)?;
        if screened.reasons.is_empty() {
            summary.not_flagged += 1;
            continue;
        }
        let status = if row.statutory_support.is_some() {
            summary.excluded += 1;
            ScreeningStatus::Excluded
        } else {
            summary.candidates += 1;
            ScreeningStatus::Candidate
        };
        let id = uuid::Uuid::now_v7().to_string();
        let reasons = serde_json::to_string(&screened.reasons).map_err(|e| Error::Internal(e.into()))?;
        flagged.push(screening::ActiveModel {
            rank_key: Set(rank_key(status, &screened, row.attendance_percent, &id)),
            id: Set(id),
            anchor_id: Set(anchor_id.clone()),
            upn: Set(row.upn),
            attendance_percent: Set(row.attendance_percent),
            attainment: Set(row.attainment),
            wellbeing_score: Set(row.wellbeing_score),
            practitioner_concern: Set(row.practitioner_concern),
            statutory_support: Set(row.statutory_support.map(|s| s.as_str().to_owned())),
            at_risk_areas: Set(screened.at_risk_areas.len() as i16),
            reasons: Set(reasons),
            status: Set(status.as_str().to_owned()),
            framework_version: Set(live.model.version),
            child_id: Set(None),
            imported_by: Set(actor.user_id.clone()),
            imported_at: Set(at),
            expires_at: Set(expires_at),
        });
    }

    let mut tx = Audited::begin(db, actor).await?;
    // The anchor is held to the end, so two imports for it never interleave.
    crate::store::organisation::Entity::find_by_id(anchor_id.clone()).held().one(&*tx).await?;
    let earlier = || {
        screening::Entity::delete_many()
            .filter(screening::Column::AnchorId.eq(anchor_id.clone()))
            .filter(screening::Column::Status.ne(ScreeningStatus::Accepted.as_str()))
    };
    summary.replaced = match mode {
        ImportMode::ReplaceAll => earlier().exec(&*tx).await?.rows_affected,
        ImportMode::PupilsInFile => {
            let mut replaced = 0;
            for chunk in upns.chunks(CHUNK) {
                replaced +=
                    earlier().filter(screening::Column::Upn.is_in(chunk.to_vec())).exec(&*tx).await?.rows_affected;
            }
            replaced
        }
    };
    let total = flagged.len();
    let mut written = 0;
    let mut rest = flagged.into_iter().peekable();
    while rest.peek().is_some() {
        let chunk: Vec<screening::ActiveModel> = rest.by_ref().take(CHUNK).collect();
        written += chunk.len();
        screening::Entity::insert_many(chunk).exec(&*tx).await?;
        progress(Step::Written, written, total);
    }
    tx.record_fields(
        "anchor_data.import",
        None,
        vec![
            format!("anchor:{anchor_id}"),
            format!("rows:{}", summary.rows),
            format!("candidates:{}", summary.candidates),
            format!("excluded:{}", summary.excluded),
            format!("mode:{}", if mode == ImportMode::ReplaceAll { "replace_all" } else { "pupils_in_file" }),
        ],
    );
    tx.commit().await?;
    Ok(summary)
}

fn listed() -> Condition {
    Condition::all()
        .add(screening::Column::Status.is_in([ScreeningStatus::Candidate.as_str(), ScreeningStatus::Excluded.as_str()]))
        .add(screening::Column::ExpiresAt.gt(now()))
}

/// The ranked list of candidates (and, after them, the excluded pupils with their reason)
/// of the anchors in the caller's scope, or of one anchor. Expired rows are never listed.
/// Every row read is audited.
pub async fn candidates(
    db: &DatabaseConnection,
    actor: &Actor,
    anchor_id: Option<String>,
    page: PageRequest,
) -> Result<Page<screening::Model>> {
    access::may_see_candidates(actor)?;
    let mut query = screening::Entity::find().filter(access::screening_condition(actor)).filter(listed());
    if let Some(anchor) = anchor_id {
        query = query.filter(screening::Column::AnchorId.eq(anchor));
    }
    let mut tx = Audited::begin(db, actor).await?;
    // The cursor is the last row's id; the list is keyed (and paged) by its rank key.
    let after = match &page.after {
        None => None,
        Some(id) => Some(
            screening::Entity::find_by_id(id.clone())
                .filter(access::screening_condition(actor))
                .one(&*tx)
                .await?
                .map(|s| s.rank_key)
                .ok_or_else(|| Error::invalid("after", "is not a cursor of this list"))?,
        ),
    };
    let found =
        crate::domain::keyset_page(&*tx, query, screening::Column::RankKey, PageRequest { after, ..page }).await?;
    for s in &found.items {
        tx.record_fields("candidate.read", None, vec![format!("screening:{}", s.id)]);
    }
    tx.commit().await?;
    Ok(found)
}

/// A listed row the caller may act on, or `NOT_FOUND` (also once it has expired).
async fn find_listed<C: sea_orm::ConnectionTrait>(conn: &C, actor: &Actor, id: &str) -> Result<screening::Model> {
    validate::id(id).map_err(|_| Error::invalid("candidateId", "must be an id returned by this API"))?;
    screening::Entity::find_by_id(id.to_owned())
        .filter(access::screening_condition(actor))
        .filter(screening::Column::ExpiresAt.gt(now()))
        .one(conn)
        .await?
        .ok_or(Error::NotFound("candidate"))
}

fn refuse_unless_candidate(found: &screening::Model) -> Result<()> {
    match ScreeningStatus::from_stored(&found.status)? {
        ScreeningStatus::Candidate => Ok(()),
        ScreeningStatus::Accepted => Err(Error::conflict("this candidate has already been accepted")),
        ScreeningStatus::Excluded => {
            let why = found.statutory_support.as_deref().unwrap_or("statutory support").replace('_', " ");
            Err(Error::conflict(format!(
                "this pupil already receives statutory support ({why}), so is not a candidate for the programme"
            )))
        }
    }
}

/// Accepts a candidate: identifies the child (enrolment `identified`) at the candidate's
/// anchor with the UPN from the anchor data and the details the link worker gives, and
/// links the screening row to them. A link worker who accepts takes the child onto their
/// caseload. One transaction.
pub async fn accept(
    db: &DatabaseConnection,
    actor: &Actor,
    candidate_id: &str,
    mut details: NewChild,
) -> Result<(screening::Model, child::Model)> {
    let found = find_listed(db, actor, candidate_id).await?;
    refuse_unless_candidate(&found)?;
    details.upn = Some(found.upn.clone());
    details.anchor_id = Some(found.anchor_id.clone());
    let checked = children::check_new_child(db, actor, details).await?;
    let mut tx = Audited::begin(db, actor).await?;
    let current = find_listed(&*tx, actor, candidate_id).await?;
    refuse_unless_candidate(&current)?;
    let created = children::insert_identified(&mut tx, actor, checked).await?;
    let mut accepted: screening::ActiveModel = current.into();
    accepted.status = Set(ScreeningStatus::Accepted.as_str().to_owned());
    accepted.child_id = Set(Some(created.id.clone()));
    let accepted = accepted.update(&*tx).await?;
    tx.record("candidate.accept", Some(&created.id), &["screening", "upn"]);
    tx.commit().await?;
    Ok((accepted, created))
}

/// Dismisses a candidate the link worker will not take forward: the row is deleted (the
/// audit log keeps that it was). Same people as [`accept`].
pub async fn dismiss(db: &DatabaseConnection, actor: &Actor, candidate_id: &str) -> Result<()> {
    let mut tx = Audited::begin(db, actor).await?;
    let found = find_listed(&*tx, actor, candidate_id).await?;
    access::may_identify_at(actor, &found.anchor_id)?;
    if found.status == ScreeningStatus::Accepted.as_str() {
        return Err(Error::conflict("this candidate has been accepted: the child is identified"));
    }
    screening::Entity::delete_by_id(found.id.clone()).exec(&*tx).await?;
    tx.record_fields("candidate.dismiss", None, vec![format!("screening:{}", found.id)]);
    tx.commit().await?;
    Ok(())
}

/// Screening rows expired by `at`, except those of children now enrolled (enrolled,
/// active or completed), whose record keeps why they were identified.
fn expired_by(at: DateTime<Utc>) -> Condition {
    let kept = [EnrolmentStatus::Enrolled, EnrolmentStatus::Active, EnrolmentStatus::Completed].map(|s| s.as_str());
    let enrolled = Query::select()
        .column(enrolment::Column::ChildId)
        .from(enrolment::Entity)
        .and_where(enrolment::Column::Status.is_in(kept))
        .to_owned();
    Condition::all().add(screening::Column::ExpiresAt.lte(at)).add(
        Condition::any()
            .add(screening::Column::ChildId.is_null())
            .add(screening::Column::ChildId.not_in_subquery(enrolled)),
    )
}

/// How many screening rows [`purge`] would delete at `at`.
pub async fn expired(db: &DatabaseConnection, at: DateTime<Utc>) -> Result<u64> {
    Ok(sea_orm::PaginatorTrait::count(screening::Entity::find().filter(expired_by(at)), db).await?)
}

/// Deletes screening rows that expired by `at`, except those of children now enrolled.
/// Backbone admins and the system (the retention schedule, `domain::retention`). Returns
/// how many rows were deleted.
pub async fn purge(db: &DatabaseConnection, actor: &Actor, at: DateTime<Utc>) -> Result<u64> {
    access::require_backbone_admin(actor, "purge screening data")?;
    let mut tx = Audited::begin(db, actor).await?;
    let deleted = screening::Entity::delete_many().filter(expired_by(at)).exec(&*tx).await?.rows_affected;
    tx.record_fields("screening.purge", None, vec![format!("deleted:{deleted}")]);
    tx.commit().await?;
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use backbone_seeds::framework::default_framework;

    fn parse_text(text: &str) -> std::result::Result<Vec<AnchorRow>, Vec<RowError>> {
        parse(text.as_bytes(), &default_framework(), &mut |_, _| {})
    }

    const HEADER: &str = "upn,attendance_percent,attainment,wellbeing_score,practitioner_concern,statutory_support\n";

    #[test]
    fn the_columns_are_the_seeds_header() {
        assert_eq!(format!("{}\n", COLUMNS.join(",")), HEADER);
        assert_eq!(HEADER.trim_end(), backbone_seeds::screening::ANCHOR_DATA_HEADER);
    }

    fn row(attendance: Option<f64>, attainment: Option<&str>, wellbeing: Option<i16>, concern: bool) -> AnchorRow {
        AnchorRow {
            line: 2,
            upn: "A123456789012".into(),
            attendance_percent: attendance,
            attainment: attainment.map(str::to_owned),
            wellbeing_score: wellbeing,
            practitioner_concern: concern,
            statutory_support: None,
        }
    }

    fn codes(s: &Screened) -> Vec<String> {
        s.reasons.iter().map(|r| r.code.clone()).collect()
    }

    #[test]
    fn attendance_below_the_threshold_flags_and_at_the_threshold_does_not() {
        let f = default_framework();
        let low = screen(&row(Some(89.9), Some("at"), Some(50), false), &f).expect("ok");
        assert_eq!(codes(&low), ["low_attendance"]);
        assert_eq!(low.reasons[0].message, "attendance 89.9% is below 90.0%");
        let ok = screen(&row(Some(90.0), Some("at"), Some(50), false), &f).expect("ok");
        assert!(ok.reasons.is_empty(), "{ok:?}");
    }

    #[test]
    fn three_areas_at_risk_flag_and_two_do_not() {
        let f = default_framework();
        // 92% attendance is level 3 (not at risk): only two areas at risk.
        let two = screen(&row(Some(92.0), Some("below"), Some(30), false), &f).expect("ok");
        assert_eq!(two.at_risk_areas.len(), 2);
        assert!(two.reasons.is_empty());
        // 85% attendance is level 2 (at risk) and below 90%: both rules fire.
        let three = screen(&row(Some(85.0), Some("working_towards"), Some(32), false), &f).expect("ok");
        assert_eq!(three.at_risk_areas.len(), 3);
        assert_eq!(codes(&three), ["low_attendance", "at_risk_areas"]);
        assert!(three.reasons[1].message.starts_with("at risk in 3 areas ("), "{}", three.reasons[1].message);
    }

    #[test]
    fn a_practitioner_concern_flags_on_its_own_unless_the_rule_is_off() {
        let mut f = default_framework();
        let concern = row(Some(99.0), Some("above"), Some(60), true);
        assert_eq!(codes(&screen(&concern, &f).expect("ok")), ["practitioner_concern"]);
        f.screening.flag_practitioner_concern = false;
        assert!(screen(&concern, &f).expect("ok").reasons.is_empty());
    }

    #[test]
    fn the_rules_come_from_the_framework() {
        let mut f = default_framework();
        f.screening.attendance_below = 95.0;
        f.screening.at_risk_areas_at_least = 1;
        let s = screen(&row(Some(94.0), Some("at"), Some(30), false), &f).expect("ok");
        assert_eq!(codes(&s), ["low_attendance", "at_risk_areas"]);
    }

    #[test]
    fn ranking_puts_more_reasons_then_lower_attendance_first_and_excluded_last() {
        let f = default_framework();
        let key = |status, attendance: f64, wellbeing: i16, concern: bool| {
            let r = row(Some(attendance), Some("below"), Some(wellbeing), concern);
            rank_key(status, &screen(&r, &f).expect("ok"), Some(attendance), "x")
        };
        let many = key(ScreeningStatus::Candidate, 70.0, 20, true);
        let fewer_low = key(ScreeningStatus::Candidate, 60.0, 50, false);
        let fewer_higher = key(ScreeningStatus::Candidate, 85.0, 50, false);
        let excluded = key(ScreeningStatus::Excluded, 50.0, 20, true);
        let mut keys = vec![excluded.clone(), fewer_higher.clone(), many.clone(), fewer_low.clone()];
        keys.sort();
        assert_eq!(keys, [many, fewer_low, fewer_higher, excluded]);
    }

    #[test]
    fn a_valid_file_parses_with_blanks_and_spelling_variants() {
        let text = format!("{HEADER}A123456789012,85.5,Working towards,30,Yes,\nB123456789012,,,,,in care\n");
        // The check letters above are not real; use generated UPNs instead.
        let text = text.replace("A123456789012", &good_upn(1)).replace("B123456789012", &good_upn(2));
        let rows = parse_text(&text).expect("ok");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].attendance_percent, Some(85.5));
        assert_eq!(rows[0].attainment.as_deref(), Some("working_towards"));
        assert!(rows[0].practitioner_concern);
        assert_eq!(rows[1].statutory_support, Some(StatutorySupport::InCare));
        assert_eq!(rows[1].line, 3);
    }

    fn good_upn(n: u64) -> String {
        let body = format!("{:012}", 880_000_000_000u64 + n);
        let letter = backbone_seeds::upn_check_letter(&body).expect("ok");
        format!("{letter}{body}")
    }

    #[test]
    fn every_bad_row_is_reported_with_its_line_and_column() {
        let text = format!(
            "{HEADER}{},85.5,at,50,no,\n{},101,at,50,no,\nX1,90,top,13,maybe,adopted\n{},90,at,50,no\n{},95,at,50,no,\n",
            good_upn(1),
            good_upn(2),
            good_upn(3),
            good_upn(1),
        );
        let errors = parse_text(&text).expect_err("refused");
        let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert!(
            shown.iter().any(|e| e.starts_with("line 3, attendance_percent: must be a number from 0 to 100")),
            "{shown:?}"
        );
        for column in ["upn", "attainment", "wellbeing_score", "practitioner_concern", "statutory_support"] {
            assert!(shown.iter().any(|e| e.starts_with(&format!("line 4, {column}: "))), "{column}: {shown:?}");
        }
        assert!(shown.contains(&"line 5: has 5 values, but the header has 6 columns".to_owned()), "{shown:?}");
        assert!(shown.contains(&"line 6, upn: repeats the UPN of line 2: one row per pupil".to_owned()), "{shown:?}");
        assert!(!shown.iter().any(|e| e.starts_with("line 2")), "line 2 is valid: {shown:?}");
    }

    #[test]
    fn the_header_must_name_the_columns_and_never_a_name() {
        let missing = parse_text("upn,attendance_percent\n").expect_err("refused");
        assert!(missing[0].message.contains("lacks the column(s) attainment, wellbeing_score, practitioner_concern"));
        let named = parse_text(&HEADER.replace("upn,", "upn,first_name,")).expect_err("refused");
        assert!(named[0].message.contains("anchor data holds no names"), "{named:?}");
        let twice = parse_text(&HEADER.replace("attainment,", "attainment,attainment,")).expect_err("refused");
        assert!(twice[0].message.contains("appears twice"));
        let empty = parse_text(HEADER).expect_err("refused");
        assert_eq!(empty[0].message, "the file has a header but no rows");
        let binary = parse(&[0xff, 0xfe, 0x00, b'\n'], &default_framework(), &mut |_, _| {}).expect_err("refused");
        assert!(binary[0].message.contains("UTF-8"), "{binary:?}");
    }

    #[test]
    fn progress_is_reported_to_the_last_row() {
        let mut text = HEADER.to_owned();
        for n in 0..1200 {
            text.push_str(&format!("{},96,at,50,no,\n", good_upn(n)));
        }
        let mut seen = Vec::new();
        parse(text.as_bytes(), &default_framework(), &mut |done, total| seen.push((done, total))).expect("ok");
        assert_eq!(seen, [(500, 1200), (1000, 1200), (1200, 1200)]);
    }
}
