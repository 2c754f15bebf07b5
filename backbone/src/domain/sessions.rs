//! Sessions and attendance: a partner logs a session of one of its programmes, with a
//! register of the children referred to that programme (attended / absent / cancelled,
//! and each attendee's engagement). The register is all-or-nothing: one bad line and
//! nothing is written. A child's first attended session makes their referral `active`.

use crate::access;
use crate::audit::{Audited, now};
use crate::auth::Actor;
use crate::domain::engagement;
use crate::domain::referrals::{self, Move};
use crate::domain::{AttendanceStatus, Engagement, ReferralStatus, SessionKind, validate};
use crate::error::{Error, FieldError, Result};
use crate::settings::BrokeringSettings;
use crate::store::bundle::{Read, Reader};
use crate::store::db::Hold;
use crate::store::{attendance, child, referral, session};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
};
use std::collections::{HashMap, HashSet};

/// One line of a register.
#[derive(Debug, Clone)]
pub struct Attendee {
    pub child_id: String,
    pub status: AttendanceStatus,
    /// Required when attended; not given otherwise.
    pub engagement: Option<Engagement>,
}

#[derive(Debug, Clone)]
pub struct NewSession {
    pub programme_id: String,
    pub held_on: String,
    pub duration_minutes: i32,
    pub kind: SessionKind,
    pub notes: Option<String>,
    pub attendees: Vec<Attendee>,
}

/// A child's attendance at a programme dropped below the configured rate with this
/// session: the link worker is told.
#[derive(Debug, Clone)]
pub struct AttendanceAlert {
    pub referral: referral::Model,
    pub rate: f64,
}

/// What logging a session did.
#[derive(Debug, Clone)]
pub struct Logged {
    pub session: session::Model,
    /// Referrals that became `active` with this session.
    pub started: Vec<referral::Model>,
    pub alerts: Vec<AttendanceAlert>,
}

/// Checks every field and line, reporting all problems at once.
fn check(input: &NewSession) -> Result<chrono::NaiveDate> {
    let mut problems = Vec::new();
    let mut bad = |field: String, message: &str| problems.push(FieldError { field, message: message.to_owned() });
    if validate::id(&input.programme_id).is_err() {
        bad("programmeId".into(), "must be an id returned by this API");
    }
    let held_on = validate::past_date_in("heldOn", &input.held_on);
    if let Err(Error::InvalidInput(e)) = &held_on {
        problems.extend(e.iter().cloned());
    }
    let mut bad = |field: String, message: &str| problems.push(FieldError { field, message: message.to_owned() });
    if !(1..=600).contains(&input.duration_minutes) {
        bad("durationMinutes".into(), "must be from 1 to 600 minutes");
    }
    if let Some(Err(e)) = input.notes.as_deref().map(validate::notes) {
        bad("notes".into(), &validate::message(e));
    }
    if input.attendees.is_empty() || input.attendees.len() > 200 {
        bad("attendees".into(), "must list from 1 to 200 children");
    }
    if input.kind == SessionKind::OneToOne && input.attendees.len() > 1 {
        bad("attendees".into(), "a one-to-one session has one child");
    }
    check_lines(&input.attendees, &mut problems);
    if !problems.is_empty() {
        return Err(Error::InvalidInput(problems));
    }
    held_on
}

/// Checks the lines of a register (ids, each child once, engagement given exactly for
/// those who attended), adding every problem to `problems`.
pub(crate) fn check_lines(attendees: &[Attendee], problems: &mut Vec<FieldError>) {
    let mut bad = |field: String, message: &str| problems.push(FieldError { field, message: message.to_owned() });
    let mut seen = HashSet::new();
    for (i, a) in attendees.iter().enumerate() {
        if validate::id(&a.child_id).is_err() {
            bad(format!("attendees[{i}].childId"), "must be an id returned by this API");
        } else if !seen.insert(a.child_id.as_str()) {
            bad(format!("attendees[{i}].childId"), "lists the same child twice");
        }
        match (a.status, a.engagement) {
            (AttendanceStatus::Attended, None) => {
                bad(format!("attendees[{i}].engagement"), "is required for a child who attended")
            }
            (AttendanceStatus::Absent | AttendanceStatus::Cancelled, Some(_)) => {
                bad(format!("attendees[{i}].engagement"), "is only given for a child who attended")
            }
            _ => {}
        }
    }
}

/// The referrals to `programme_id` of these children that may be on its register
/// (accepted or active, and visible to the caller: consent still covering the partner),
/// by child; each listed child without one is an `INVALID_INPUT` line, all at once.
pub(crate) async fn placed_referrals<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    programme_id: &str,
    attendees: &[Attendee],
) -> Result<HashMap<String, referral::Model>> {
    let child_ids: Vec<String> = attendees.iter().map(|a| a.child_id.clone()).collect();
    let live: HashMap<String, referral::Model> = referral::Entity::find()
        .filter(referral::Column::ProgrammeId.eq(programme_id.to_owned()))
        .filter(referral::Column::ChildId.is_in(child_ids))
        .filter(referral::Column::Status.is_in(ReferralStatus::spellings(ReferralStatus::PLACED)))
        .filter(access::referral_condition(actor))
        // Held to the end of the transaction (in one order), so a register and a change
        // to the same referral never interleave.
        .order_by_asc(referral::Column::Id)
        .held()
        .all(conn)
        .await?
        .into_iter()
        .map(|r| (r.child_id.clone(), r))
        .collect();
    let missing: Vec<FieldError> = attendees
        .iter()
        .enumerate()
        .filter(|(_, a)| !live.contains_key(&a.child_id))
        .map(|(i, _)| FieldError {
            field: format!("attendees[{i}].childId"),
            message: "has no accepted or active referral to this programme".into(),
        })
        .collect();
    if missing.is_empty() { Ok(live) } else { Err(Error::InvalidInput(missing)) }
}

/// Names each register line's problem by the child as the caller sees them, with the
/// short reference of their referral to the programme (`Kai W. (ref K7Q2): lists the same
/// child twice`), where the caller may see such a referral; other lines keep only their
/// place (`attendees[2].childId`). Other errors pass unchanged, and so does everything if
/// the names cannot be read: a refusal is never lost for want of its label.
pub(crate) async fn name_lines<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    programme_id: &str,
    attendees: &[Attendee],
    err: Error,
) -> Error {
    let Error::InvalidInput(mut problems) = err else { return err };
    if let Ok(labels) = line_labels(conn, actor, programme_id, attendees).await {
        for p in &mut problems {
            if let Some(label) = line_of(&p.field).and_then(|i| labels.get(&i)) {
                p.message = format!("{label}: {}", p.message);
            }
        }
    }
    Error::InvalidInput(problems)
}

/// The register line a problem's field names (`attendees[2].childId` → 2).
pub(crate) fn line_of(field: &str) -> Option<usize> {
    field.strip_prefix("attendees[")?.split(']').next()?.parse().ok()
}

/// Each line's label (see [`name_lines`]), by its place in `attendees`.
async fn line_labels<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    programme_id: &str,
    attendees: &[Attendee],
) -> Result<HashMap<usize, String>> {
    let ids: Vec<String> =
        attendees.iter().filter(|a| validate::id(&a.child_id).is_ok()).map(|a| a.child_id.clone()).collect();
    if validate::id(programme_id).is_err() || ids.is_empty() {
        return Ok(HashMap::new());
    }
    let referrals: HashMap<String, referral::Model> = referral::Entity::find()
        .filter(referral::Column::ProgrammeId.eq(programme_id.to_owned()))
        .filter(referral::Column::ChildId.is_in(ids.clone()))
        .filter(access::referral_condition(actor))
        .order_by_asc(referral::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(|r| (r.child_id.clone(), r))
        .collect();
    let children: HashMap<String, child::Model> = child::Entity::find()
        .filter(child::Column::Id.is_in(referrals.keys().cloned()))
        .all(conn)
        .await?
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    Ok(attendees
        .iter()
        .enumerate()
        .filter_map(|(i, a)| {
            let (r, c) = (referrals.get(&a.child_id)?, children.get(&a.child_id)?);
            Some((i, access::register_label(actor, c, &referrals::reference(&r.id))))
        })
        .collect())
}

/// Logs a session and its register in one transaction.
pub async fn log(
    db: &DatabaseConnection,
    actor: &Actor,
    input: NewSession,
    alert: BrokeringSettings,
) -> Result<Logged> {
    let held_on = match check(&input) {
        Ok(day) => day,
        Err(e) => return Err(name_lines(db, actor, &input.programme_id, &input.attendees, e).await),
    };
    let programme = crate::domain::programmes::find_named(db, &input.programme_id).await?;
    access::may_act_for_partner(actor, &programme.organisation_id)?;
    if let Some(start) = programme.starts_on
        && held_on < start
    {
        let why = format!("must not be before the programme started ({})", validate::long_date(start));
        return Err(Error::invalid("heldOn", why));
    }

    let mut tx = Audited::begin(db, actor).await?;
    // Each attendee must have a referral to this programme that is accepted or active,
    // and be visible to the caller (consent still covering the partner).
    let live = match placed_referrals(&*tx, actor, &programme.id, &input.attendees).await {
        Ok(live) => live,
        Err(e) => return Err(name_lines(&*tx, actor, &programme.id, &input.attendees, e).await),
    };
    // No one attends a session before they were born.
    let attendees = child::Entity::find()
        .filter(child::Column::Id.is_in(input.attendees.iter().map(|a| a.child_id.clone())))
        .all(&*tx)
        .await?;
    for c in &attendees {
        validate::not_before_birth("heldOn", held_on, access::birth_bound(actor, c))?;
    }
    let referral_ids: Vec<String> = live.values().map(|r| r.id.clone()).collect();
    let before = engagement::by_referral(&*tx, actor, &referral_ids).await?;

    let created = session::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        programme_id: Set(programme.id.clone()),
        organisation_id: Set(programme.organisation_id.clone()),
        held_on: Set(held_on),
        duration_minutes: Set(input.duration_minutes),
        kind: Set(input.kind.as_str().to_owned()),
        notes: Set(validate::blank_to_none(input.notes)),
        recorded_by: Set(actor.user_id.clone()),
        recorded_at: Set(now()),
    }
    .insert(&*tx)
    .await?;
    // The whole register in one statement.
    let lines: Vec<attendance::ActiveModel> = input
        .attendees
        .iter()
        .map(|a| attendance::ActiveModel {
            id: Set(uuid::Uuid::now_v7().to_string()),
            session_id: Set(created.id.clone()),
            referral_id: Set(live[&a.child_id].id.clone()),
            child_id: Set(a.child_id.clone()),
            held_on: Set(held_on),
            status: Set(a.status.as_str().to_owned()),
            engagement: Set(a.engagement.map(Engagement::level)),
        })
        .collect();
    if !lines.is_empty() {
        attendance::Entity::insert_many(lines).exec(&*tx).await?;
    }
    let mut started = Vec::new();
    for a in &input.attendees {
        let r = &live[&a.child_id];
        tx.record("attendance.record", Some(&a.child_id), &["attendance"]);
        if a.status == AttendanceStatus::Attended && r.status == ReferralStatus::Accepted.as_str() {
            let on = referrals::StepOn::Register(held_on);
            started.push(referrals::apply(&mut tx, r.clone(), Move::Start, None, None, on).await?);
        }
    }
    let after = engagement::by_referral(&*tx, actor, &referral_ids).await?;
    let dropped = |id: &String| {
        let now = after.get(id).copied().unwrap_or_default();
        let was = before.get(id).copied().unwrap_or_default();
        now.dropping(alert) && !was.dropping(alert)
    };
    let alerts = live
        .values()
        .filter(|r| dropped(&r.id))
        .map(|r| AttendanceAlert { referral: r.clone(), rate: after.get(&r.id).and_then(|e| e.rate()).unwrap_or(0.0) })
        .collect();
    tx.commit().await?;
    Ok(Logged { session: created, started, alerts })
}

/// Records a read of the registers of `sessions`: one `attendance.read` per child on them
/// that the caller may see.
async fn audit_registers(tx: &mut Audited, actor: &Actor, sessions: &[session::Model]) -> Result<()> {
    let ids: Vec<String> = sessions.iter().map(|s| s.id.clone()).collect();
    let mut children: Vec<String> =
        attendance_of_sessions(&**tx, actor, &ids).await?.into_iter().map(|a| a.child_id).collect();
    children.sort();
    children.dedup();
    for c in &children {
        tx.record("attendance.read", Some(c), &["session", "attendance"]);
    }
    Ok(())
}

/// One session the caller may see, or `NOT_FOUND`. Audited as a read of its register.
pub async fn get(db: &DatabaseConnection, actor: &Actor, session_id: &str) -> Result<session::Model> {
    if uuid::Uuid::parse_str(session_id).is_err() {
        return Err(Error::NotFound("session"));
    }
    let mut tx = Audited::begin(db, actor).await?;
    let found = session::Entity::find_by_id(session_id.to_owned())
        .filter(access::session_condition(actor))
        .one(&*tx)
        .await?
        .ok_or(Error::NotFound("session"))?;
    audit_registers(&mut tx, actor, std::slice::from_ref(&found)).await?;
    tx.commit().await?;
    Ok(found)
}

/// Sessions of a programme the caller may see, oldest first, a page at a time. Audited as
/// a read of their registers.
pub async fn of_programme(
    db: &DatabaseConnection,
    actor: &Actor,
    programme_id: &str,
    page: crate::domain::PageRequest,
) -> Result<crate::domain::Page<session::Model>> {
    let query = session::Entity::find()
        .filter(session::Column::ProgrammeId.eq(programme_id.to_owned()))
        .filter(access::session_condition(actor));
    let mut tx = Audited::begin(db, actor).await?;
    let found = crate::domain::keyset_page(&*tx, query, session::Column::Id, page).await?;
    audit_registers(&mut tx, actor, &found.items).await?;
    tx.commit().await?;
    Ok(found)
}

/// Register lines of many sessions, in the caller's attendance scope (loader).
pub async fn attendance_of_sessions<R: Reader>(
    conn: &R,
    actor: &Actor,
    session_ids: &[String],
) -> Result<Vec<attendance::Model>> {
    Ok(attendance::Entity::find()
        .filter(attendance::Column::SessionId.is_in(session_ids.to_vec()))
        .filter(access::attendance_condition(actor))
        .order_by_asc(attendance::Column::Id)
        .read(conn)
        .await?)
}

/// Register lines of many referrals, newest first (loader).
pub async fn attendance_of_referrals<R: Reader>(
    conn: &R,
    actor: &Actor,
    referral_ids: &[String],
) -> Result<Vec<attendance::Model>> {
    Ok(attendance::Entity::find()
        .filter(attendance::Column::ReferralId.is_in(referral_ids.to_vec()))
        .filter(access::attendance_condition(actor))
        .order_by_desc(attendance::Column::HeldOn)
        .read(conn)
        .await?)
}

/// Sessions by id, in the caller's session scope (loader).
pub async fn by_ids<R: Reader>(conn: &R, actor: &Actor, ids: &[String]) -> Result<Vec<session::Model>> {
    Ok(session::Entity::find()
        .filter(session::Column::Id.is_in(ids.to_vec()))
        .filter(access::session_condition(actor))
        .read(conn)
        .await?)
}
