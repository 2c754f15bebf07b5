//! GraphQL types of brokering: programmes, referrals, sessions and registers, engagement,
//! contacts, progress notes, safeguarding concerns and handovers. What each caller sees of
//! them is decided in `access` (the loaders apply it); these types only map.

use crate::access::Field;
use crate::domain;
use crate::error::Error;
use crate::graphql::errors::to_gql;
use crate::graphql::loaders::*;
use crate::graphql::read_audit::note;
use crate::graphql::types::{
    Child, Organisation, User, organisation_by_id, remote_enum, shared, shown, stored, user_by_id,
};
use crate::graphql::{actor, loader};
use crate::store::{
    attendance, contact, handover, programme, progress_note, referral, referral_transition, safeguarding_concern,
    session,
};
use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};

remote_enum!(
    /// An outcome domain of the common "whole child" scale.
    OutcomeDomain => "crate::domain::OutcomeDomain" { EmotionalWellbeing, Relationships, ConfidenceAspiration, ProgressAtSchool, AttendanceEngagement }
);
remote_enum!(
    /// Whether a programme takes referrals.
    ProgrammeStatus => "crate::domain::ProgrammeStatus" { Active, Paused }
);
remote_enum!(
    /// How a programme is attended (Open Referral UK `attending_type`).
    AttendingType => "crate::domain::AttendingType" { InPerson, Online, Both }
);
remote_enum!(
    /// proposed → sent → accepted | declined → active → completed; withdrawn from any open
    /// status.
    ReferralStatus => "crate::domain::ReferralStatus" { Proposed, Sent, Accepted, Declined, Active, Completed, Withdrawn }
);
remote_enum!(
    /// How a session was delivered.
    SessionKind => "crate::domain::SessionKind" { Group, OneToOne }
);
remote_enum!(
    /// A child's attendance at a session (a cancelled session was not offered).
    AttendanceStatus => "crate::domain::AttendanceStatus" { Attended, Absent, Cancelled }
);
remote_enum!(
    /// Informal (a chat at the gate) or formal (a planned meeting).
    ContactKind => "crate::domain::ContactKind" { Informal, Formal }
);
remote_enum!(
    /// Who a link worker's contact was with.
    ContactParty => "crate::domain::ContactParty" { Child, Parent, TrustedAdult, SchoolStaff }
);
remote_enum!(
    /// Who may read a progress note.
    NoteVisibility => "crate::domain::NoteVisibility" { Organisation, SharedWithLinkWorker }
);

/// A child's engagement in one session.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::Engagement")]
pub enum EngagementLevel {
    /// 1
    Disengaged,
    /// 2
    Participating,
    /// 3
    FullyEngaged,
}

/// The buckets of a partner's referral inbox.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::referrals::InboxState")]
pub enum InboxState {
    /// Sent, awaiting your answer.
    New,
    /// Accepted, no session attended yet.
    Accepted,
    /// Sessions under way.
    Active,
}

fn list<T, U: From<T>>(stored_list: &str, parse: impl Fn(&str) -> crate::error::Result<T>) -> Result<Vec<U>> {
    Ok(stored(domain::parse_list(stored_list, parse))?.into_iter().map(U::from).collect())
}

/// The referral as the caller may see it now (an audited read), or `None` once they may
/// not: for fields that name a referral (an event's, a worklist item's).
pub(crate) async fn referral_if_visible(ctx: &Context<'_>, id: &str) -> Result<Option<Referral>> {
    match crate::domain::referrals::get(&crate::graphql::services(ctx)?.db, crate::graphql::actor(ctx)?, id).await {
        Ok(found) => Ok(Some(Referral::new(ctx, found)?)),
        Err(crate::error::Error::NotFound(_)) => Ok(None),
        Err(e) => Err(crate::graphql::errors::to_gql(&e)),
    }
}

/// A child the caller may see (batched through the loader; an audited read), or none.
pub(crate) async fn child_by_id(ctx: &Context<'_>, id: &str) -> Result<Option<Child>> {
    match loader(ctx)?.load_one(ChildById(id.to_owned())).await.map_err(shared)? {
        Some(m) => Ok(Some(Child::new(ctx, m)?)),
        None => Ok(None),
    }
}

pub(crate) async fn programme_by_id(ctx: &Context<'_>, id: &str) -> Result<Programme> {
    loader(ctx)?
        .load_one(ProgrammeById(id.to_owned()))
        .await
        .map_err(shared)?
        .map(Programme)
        .ok_or_else(|| to_gql(&Error::NotFound("programme")))
}

/// What a partner offers.
pub struct Programme(pub programme::Model);

#[Object]
impl Programme {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// The partner organisation that runs it.
    async fn partner(&self, ctx: &Context<'_>) -> Result<Organisation> {
        organisation_by_id(ctx, &self.0.organisation_id).await
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// The outcome domains it serves.
    async fn domains(&self) -> Result<Vec<OutcomeDomain>> {
        list(&self.0.domains, domain::OutcomeDomain::from_stored)
    }
    async fn minimum_age(&self) -> i32 {
        i32::from(self.0.minimum_age)
    }
    async fn maximum_age(&self) -> i32 {
        i32::from(self.0.maximum_age)
    }
    async fn attending_type(&self) -> Result<AttendingType> {
        Ok(stored(domain::AttendingType::from_stored(&self.0.attending_type))?.into())
    }
    /// Where it is delivered in person.
    async fn location_name(&self) -> Option<&str> {
        self.0.location_name.as_deref()
    }
    async fn postcode(&self) -> Option<&str> {
        self.0.postcode.as_deref()
    }
    /// When it runs, in words (ORUK `schedule.description`).
    async fn schedule(&self) -> &str {
        &self.0.schedule
    }
    /// Places: how many children it takes at once.
    async fn capacity(&self) -> i32 {
        self.0.capacity
    }
    /// When it started running (`YYYY-MM-DD`), if known: no session of it is dated before.
    async fn starts_on(&self) -> Option<String> {
        self.0.starts_on.map(|d| d.to_string())
    }
    /// Places taken: accepted and active referrals.
    async fn places_taken(&self, ctx: &Context<'_>) -> Result<i32> {
        let taken = loader(ctx)?.load_one(PlacesTaken(self.0.id.clone())).await.map_err(shared)?;
        Ok(taken.unwrap_or(0) as i32)
    }
    async fn status(&self) -> Result<ProgrammeStatus> {
        Ok(stored(domain::ProgrammeStatus::from_stored(&self.0.status))?.into())
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// A child referred to a programme: one element of their support package.
pub struct Referral(referral::Model);

impl Referral {
    /// The only way to build a `Referral` for a response: notes the read in the
    /// operation's read log (see `Child::new`).
    pub fn new(ctx: &Context<'_>, model: referral::Model) -> Result<Self> {
        note(ctx, "Referral", &model.child_id)?;
        Ok(Referral(model))
    }

    /// The stored referral.
    pub fn model(&self) -> &referral::Model {
        &self.0
    }
}

#[Object]
impl Referral {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn status(&self) -> Result<ReferralStatus> {
        Ok(stored(domain::ReferralStatus::from_stored(&self.0.status))?.into())
    }
    /// A short reference (`K7Q2`, from the id), shown with the child's first name on
    /// registers and in their errors, to tell two children of the same name apart.
    async fn reference(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        shown(ctx, Field::ReferralReference, Some(domain::referrals::reference(&self.0.id)))
    }
    /// The child, while the caller may see them (a partner loses sight of the child when
    /// the referral closes or consent is withdrawn): otherwise null.
    async fn child(&self, ctx: &Context<'_>) -> Result<Option<Child>> {
        child_by_id(ctx, &self.0.child_id).await
    }
    async fn programme(&self, ctx: &Context<'_>) -> Result<Programme> {
        programme_by_id(ctx, &self.0.programme_id).await
    }
    /// The partner organisation it is to.
    async fn partner(&self, ctx: &Context<'_>) -> Result<Organisation> {
        organisation_by_id(ctx, &self.0.organisation_id).await
    }
    /// What the partner is told: the child's needs relevant to this programme (null in
    /// the pseudonymised view, as is all free text).
    async fn needs(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        shown(ctx, Field::ReferralNeeds, Some(self.0.needs.as_str()))
    }
    /// Why it was declined or withdrawn.
    async fn reason(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        shown(ctx, Field::ReferralReason, self.0.reason.as_deref())
    }
    /// The link worker following it up.
    async fn link_worker(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        match &self.0.link_worker_id {
            Some(id) => user_by_id(ctx, id).await,
            None => Ok(None),
        }
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Every transition, oldest first, stamped with who, when and a note.
    async fn history(&self, ctx: &Context<'_>) -> Result<Vec<ReferralTransition>> {
        let rows = loader(ctx)?.load_one(HistoryOfReferral(self.0.id.clone())).await.map_err(shared)?;
        Ok(rows.unwrap_or_default().into_iter().map(ReferralTransition).collect())
    }
    /// Attendance at this programme.
    async fn engagement(&self, ctx: &Context<'_>) -> Result<EngagementSummary> {
        let a = loader(ctx)?.load_one(EngagementOfReferral(self.0.id.clone())).await.map_err(shared)?;
        Ok(EngagementSummary::new(a.unwrap_or_default(), None))
    }
    /// The register lines of this referral, newest session first.
    async fn attendance(&self, ctx: &Context<'_>) -> Result<Vec<AttendanceRecord>> {
        let rows = loader(ctx)?.load_one(AttendanceOfReferral(self.0.id.clone())).await.map_err(shared)?;
        rows.unwrap_or_default().into_iter().map(|m| AttendanceRecord::new(ctx, m)).collect()
    }
}

crate::graphql::types::transition_object!(
    /// One step in a referral's history.
    ReferralTransition(referral_transition::Model): ReferralStatus => ReferralStatus,
    note: Field::ReferralTransitionNote
);

/// Attendance and contact figures, counted in the database within the caller's scope.
#[derive(SimpleObject)]
pub struct EngagementSummary {
    /// Sessions offered: attended or absent (cancelled ones were not offered).
    pub sessions_offered: i32,
    pub sessions_attended: i32,
    /// Attended ÷ offered; null when nothing was offered.
    pub attendance_rate: Option<f64>,
    /// Mean engagement (1 disengaged … 3 fully engaged) in attended sessions.
    pub mean_engagement: Option<f64>,
    pub last_attended: Option<NaiveDate>,
    /// Link-worker contacts (null per referral, and for partners).
    pub contacts: Option<i32>,
    pub contact_minutes: Option<i32>,
    /// The latest session attended or link-worker contact.
    pub last_contact: Option<NaiveDate>,
}

impl EngagementSummary {
    pub fn new(a: domain::engagement::Attendance, c: Option<domain::engagement::Contact>) -> Self {
        // The later of the two (`None` orders before any date).
        let last_contact = a.last_attended.max(c.and_then(|c| c.last));
        EngagementSummary {
            sessions_offered: a.offered as i32,
            sessions_attended: a.attended as i32,
            attendance_rate: a.rate(),
            mean_engagement: a.mean_engagement(),
            last_attended: a.last_attended,
            contacts: c.map(|c| c.count as i32),
            contact_minutes: c.map(|c| c.minutes as i32),
            last_contact,
        }
    }
}

/// A child's support package: their referrals (for partners, only their own live ones)
/// and how many are in each status.
pub struct SupportPackage(pub Vec<referral::Model>);

impl SupportPackage {
    fn count(&self, s: domain::ReferralStatus) -> i32 {
        self.0.iter().filter(|r| r.status == s.as_str()).count() as i32
    }
}

#[Object]
impl SupportPackage {
    async fn referrals(&self, ctx: &Context<'_>) -> Result<Vec<Referral>> {
        self.0.iter().cloned().map(|m| Referral::new(ctx, m)).collect()
    }
    /// Referrals still open (proposed, sent, accepted, active).
    async fn open(&self) -> i32 {
        domain::ReferralStatus::OPEN.iter().map(|s| self.count(*s)).sum()
    }
    async fn proposed(&self) -> i32 {
        self.count(domain::ReferralStatus::Proposed)
    }
    async fn sent(&self) -> i32 {
        self.count(domain::ReferralStatus::Sent)
    }
    async fn accepted(&self) -> i32 {
        self.count(domain::ReferralStatus::Accepted)
    }
    async fn active(&self) -> i32 {
        self.count(domain::ReferralStatus::Active)
    }
    async fn completed(&self) -> i32 {
        self.count(domain::ReferralStatus::Completed)
    }
    async fn declined(&self) -> i32 {
        self.count(domain::ReferralStatus::Declined)
    }
    async fn withdrawn(&self) -> i32 {
        self.count(domain::ReferralStatus::Withdrawn)
    }
}

/// A session of a programme, delivered by its partner.
pub struct Session(pub session::Model);

#[Object]
impl Session {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn programme(&self, ctx: &Context<'_>) -> Result<Programme> {
        programme_by_id(ctx, &self.0.programme_id).await
    }
    async fn held_on(&self) -> NaiveDate {
        self.0.held_on
    }
    async fn duration_minutes(&self) -> i32 {
        self.0.duration_minutes
    }
    async fn kind(&self) -> Result<SessionKind> {
        Ok(stored(domain::SessionKind::from_stored(&self.0.kind))?.into())
    }
    /// The partner's own notes: null for anyone outside its organisation (admins excepted).
    async fn notes(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        let may = crate::access::may_read_session_notes(actor(ctx)?, &self.0.organisation_id);
        shown(ctx, Field::SessionNotes, self.0.notes.as_deref().filter(|_| may))
    }
    /// The register: only the children the caller may see.
    async fn attendees(&self, ctx: &Context<'_>) -> Result<Vec<AttendanceRecord>> {
        let rows = loader(ctx)?.load_one(AttendanceOfSession(self.0.id.clone())).await.map_err(shared)?;
        rows.unwrap_or_default().into_iter().map(|m| AttendanceRecord::new(ctx, m)).collect()
    }
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.0.recorded_at
    }
}

/// One line of a session's register.
pub struct AttendanceRecord(attendance::Model);

impl AttendanceRecord {
    /// Notes the read in the operation's read log (see `Child::new`).
    pub fn new(ctx: &Context<'_>, model: attendance::Model) -> Result<Self> {
        note(ctx, "AttendanceRecord", &model.child_id)?;
        Ok(AttendanceRecord(model))
    }
}

#[Object]
impl AttendanceRecord {
    /// The short reference of the referral the child attends on (`K7Q2`; see
    /// `Referral.reference`), to tell two children of the same name apart.
    async fn reference(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        shown(ctx, Field::AttendanceReference, Some(domain::referrals::reference(&self.0.referral_id)))
    }
    /// The child, while the caller may see them.
    async fn child(&self, ctx: &Context<'_>) -> Result<Option<Child>> {
        child_by_id(ctx, &self.0.child_id).await
    }
    async fn referral_id(&self) -> ID {
        ID(self.0.referral_id.clone())
    }
    async fn session(&self, ctx: &Context<'_>) -> Result<Option<Session>> {
        Ok(loader(ctx)?.load_one(SessionById(self.0.session_id.clone())).await.map_err(shared)?.map(Session))
    }
    async fn held_on(&self) -> NaiveDate {
        self.0.held_on
    }
    /// Corrections of this line of the register, oldest first.
    async fn corrections(&self, ctx: &Context<'_>) -> Result<Vec<crate::graphql::corrections::Correction>> {
        crate::graphql::corrections::of_record(ctx, &self.0.id).await
    }
    async fn status(&self) -> Result<AttendanceStatus> {
        Ok(stored(domain::AttendanceStatus::from_stored(&self.0.status))?.into())
    }
    async fn engagement(&self) -> Result<Option<EngagementLevel>> {
        match self.0.engagement {
            Some(level) => Ok(Some(stored(domain::Engagement::from_level(level))?.into())),
            None => Ok(None),
        }
    }
}

/// A link worker's interaction with a child or family.
pub struct Contact(contact::Model);

impl Contact {
    /// Notes the read in the operation's read log (see `Child::new`).
    pub fn new(ctx: &Context<'_>, model: contact::Model) -> Result<Self> {
        note(ctx, "Contact", &model.child_id)?;
        Ok(Contact(model))
    }
}

#[Object]
impl Contact {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn held_on(&self) -> NaiveDate {
        self.0.held_on
    }
    async fn minutes(&self) -> i32 {
        self.0.minutes
    }
    async fn kind(&self) -> Result<ContactKind> {
        Ok(stored(domain::ContactKind::from_stored(&self.0.kind))?.into())
    }
    async fn with_whom(&self) -> Result<Vec<ContactParty>> {
        list(&self.0.with_whom, domain::ContactParty::from_stored)
    }
    /// Null in the pseudonymised view.
    async fn content(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        shown(ctx, Field::ContactContent, Some(self.0.content.as_str()))
    }
    /// Corrections of this contact, oldest first.
    async fn corrections(&self, ctx: &Context<'_>) -> Result<Vec<crate::graphql::corrections::Correction>> {
        crate::graphql::corrections::of_record(ctx, &self.0.id).await
    }
    async fn link_worker(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        user_by_id(ctx, &self.0.link_worker_id).await
    }
}

/// A progress note about a child.
pub struct ProgressNote(progress_note::Model);

impl ProgressNote {
    /// Notes the read in the operation's read log (see `Child::new`).
    pub fn new(ctx: &Context<'_>, model: progress_note::Model) -> Result<Self> {
        note(ctx, "ProgressNote", &model.child_id)?;
        Ok(ProgressNote(model))
    }
}

#[Object]
impl ProgressNote {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// Free text: null in the pseudonymised view.
    async fn body(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        shown(ctx, Field::ProgressNoteBody, Some(self.0.body.as_str()))
    }
    async fn visibility(&self) -> Result<NoteVisibility> {
        Ok(stored(domain::NoteVisibility::from_stored(&self.0.visibility))?.into())
    }
    /// Corrections of this note, oldest first.
    async fn corrections(&self, ctx: &Context<'_>) -> Result<Vec<crate::graphql::corrections::Correction>> {
        crate::graphql::corrections::of_record(ctx, &self.0.id).await
    }
    async fn author(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        user_by_id(ctx, &self.0.author_id).await
    }
    /// The author's organisation.
    async fn organisation(&self, ctx: &Context<'_>) -> Result<Organisation> {
        organisation_by_id(ctx, &self.0.organisation_id).await
    }
    /// The referral it is about, if any.
    async fn referral_id(&self) -> Option<ID> {
        self.0.referral_id.clone().map(ID)
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A safeguarding concern: read only by the anchor's designated safeguarding leads and
/// backbone admins.
pub struct SafeguardingConcern(safeguarding_concern::Model);

impl SafeguardingConcern {
    /// Notes the read in the operation's read log (see `Child::new`).
    pub fn new(ctx: &Context<'_>, model: safeguarding_concern::Model) -> Result<Self> {
        note(ctx, "SafeguardingConcern", &model.child_id)?;
        Ok(SafeguardingConcern(model))
    }
}

#[Object]
impl SafeguardingConcern {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// Free text: null outside the full view.
    async fn body(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        shown(ctx, Field::SafeguardingConcernBody, Some(self.0.body.as_str()))
    }
    async fn raised_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        user_by_id(ctx, &self.0.raised_by).await
    }
    async fn organisation(&self, ctx: &Context<'_>) -> Result<Organisation> {
        organisation_by_id(ctx, &self.0.organisation_id).await
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// The answer to raising a concern: an acknowledgement, not the concern (its author may
/// not be a designated lead).
#[derive(SimpleObject)]
pub struct ConcernReceipt {
    pub id: ID,
    pub created_at: DateTime<Utc>,
}

/// A child handed over from one link worker (and anchor) to another.
pub struct Handover(handover::Model);

impl Handover {
    /// Notes the read in the operation's read log (see `Child::new`).
    pub fn new(ctx: &Context<'_>, model: handover::Model) -> Result<Self> {
        note(ctx, "Handover", &model.child_id)?;
        Ok(Handover(model))
    }
}

// `fromLinkWorker` and `fromAnchor` are the API's names, not conversions.
#[allow(clippy::wrong_self_convention)]
#[Object]
impl Handover {
    async fn from_link_worker(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        match &self.0.from_link_worker_id {
            Some(id) => user_by_id(ctx, id).await,
            None => Ok(None),
        }
    }
    async fn to_link_worker(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        user_by_id(ctx, &self.0.to_link_worker_id).await
    }
    async fn from_anchor(&self, ctx: &Context<'_>) -> Result<Organisation> {
        organisation_by_id(ctx, &self.0.from_anchor_id).await
    }
    async fn to_anchor(&self, ctx: &Context<'_>) -> Result<Organisation> {
        organisation_by_id(ctx, &self.0.to_anchor_id).await
    }
    /// Open referrals that moved to the new link worker.
    async fn referrals_moved(&self) -> i32 {
        self.0.referrals_moved
    }
    async fn actor_id(&self) -> ID {
        ID(self.0.actor_user_id.clone())
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    async fn note(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        shown(ctx, Field::HandoverNote, self.0.note.as_deref())
    }
}
