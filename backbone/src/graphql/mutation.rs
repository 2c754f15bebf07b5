//! Mutations: the verbs of the domain. Each validates its input (`INVALID_INPUT` naming
//! the field, nothing written), checks access, and writes with its audit event in one
//! transaction — and answers from what that transaction wrote (the domain use case returns
//! the written models), never from a read after the commit that could fail and so answer
//! an error for a change that was made. Nested fields a client selects on the answer are
//! loaded afterwards; an error there is `CHANGE_SAVED` (`errors::saved_after_commit`).

use crate::auth;
use crate::domain::enrolment::Transition;
use crate::domain::{self};
use crate::events::{Event, EventKind};
use crate::graphql::brokering::*;
use crate::graphql::errors::GqlResult;
use crate::graphql::inputs::*;
use crate::graphql::types::*;
use crate::graphql::{actor, services};
use async_graphql::{Context, ID, Object, Result};

pub struct Mutation;

/// How many problems of a bad anchor-data file a response lists.
const MAX_ROW_PROBLEMS: usize = 200;

/// Tells subscribers that a referral moved, after the change committed.
fn referral_moved(ctx: &Context<'_>, r: &crate::store::referral::Model) -> Result<Referral> {
    let status = crate::graphql::types::stored(domain::ReferralStatus::from_stored(&r.status))?;
    services(ctx)?.events.publish(Event::about(r, EventKind::Referral(status)));
    Referral::new(ctx, r.clone())
}

/// The child a change wrote, as its own transaction saw it: the answer never reads the
/// child again after the commit (a read that failed then would answer an error for a
/// change that was made). Nested fields the client selects are loaded afterwards; see
/// "After a change is saved" in `docs/api.md`.
fn child_written(ctx: &Context<'_>, model: crate::store::child::Model) -> Result<Child> {
    Child::new(ctx, model)
}

#[Object]
impl Mutation {
    /// Exchanges an email and password for a bearer token. The only operation open to
    /// callers without a token. After a few failures for one account, or from one
    /// address, every attempt through it is refused for a while (the right password too):
    /// `TOO_MANY_REQUESTS`, with the seconds to wait in `extensions.retryAfter` (over
    /// HTTP, status 429 and `Retry-After`).
    async fn login(&self, ctx: &Context<'_>, email: String, password: String) -> Result<LoginPayload> {
        let s = services(ctx)?;
        let attempt = auth::Attempt {
            email: &email,
            password: &password,
            client: ctx.data_opt::<auth::ClientAddress>().copied().unwrap_or_default(),
            request_id: ctx.data_opt::<auth::RequestId>().map(|r| r.0.clone()),
        };
        let session =
            auth::login(&s.db, attempt, &s.settings.auth, s.allow_demo_logins, auth::TokenKind::Api).await.gql()?;
        // Answered from what `login` read and wrote: no second read after the token exists.
        Ok(LoginPayload {
            token: session.token,
            expires_at: session.expires_at,
            user: User {
                user: session.user,
                organisation_id: Some(session.actor.organisation_id.clone()),
                role: Some(session.actor.role),
                designated_safeguarding_lead: session.actor.designated_safeguarding_lead,
            },
        })
    }

    /// Revokes the token this request carries. Later requests with it are
    /// `UNAUTHENTICATED`.
    async fn logout(&self, ctx: &Context<'_>) -> Result<bool> {
        auth::logout(&services(ctx)?.db, actor(ctx)?).await.gql()?;
        Ok(true)
    }

    /// Records a child identified by an anchor; their enrolment starts at `IDENTIFIED`.
    /// A link worker who identifies a child takes them onto their caseload.
    async fn identify_child(&self, ctx: &Context<'_>, input: IdentifyChildInput) -> Result<Child> {
        let created = domain::children::identify(&services(ctx)?.db, actor(ctx)?, input.into()).await.gql()?;
        child_written(ctx, created)
    }

    /// Records a parent, carer or trusted adult around a child.
    async fn add_relationship(&self, ctx: &Context<'_>, input: AddRelationshipInput) -> Result<Relationship> {
        let a = actor(ctx)?;
        let created = domain::children::add_relationship(&services(ctx)?.db, a, input.into()).await.gql()?;
        Relationship::new(ctx, created)
    }

    /// Corrects a child's details (names, date of birth, year group, UPN, contact details,
    /// postcode, characteristics): only the fields given change, each checked as at
    /// identification; the old values stay in `Child.corrections` with who, when and the
    /// reason. Link workers, anchor leads and admins.
    async fn update_child(
        &self,
        ctx: &Context<'_>,
        input: crate::graphql::corrections::UpdateChildInput,
    ) -> Result<Child> {
        let written = domain::corrections::update_child(&services(ctx)?.db, actor(ctx)?, input.into()).await.gql()?;
        child_written(ctx, written.child)
    }

    /// Corrects a parent, carer or trusted adult; the old values stay in
    /// `Relationship.corrections`.
    async fn update_relationship(
        &self,
        ctx: &Context<'_>,
        input: crate::graphql::corrections::UpdateRelationshipInput,
    ) -> Result<Relationship> {
        let (written, _) =
            domain::corrections::update_relationship(&services(ctx)?.db, actor(ctx)?, input.into()).await.gql()?;
        Relationship::new(ctx, written)
    }

    /// Records the family's agreement to take part: `IDENTIFIED → CONSENTED`.
    async fn record_participation(&self, ctx: &Context<'_>, input: RecordParticipationInput) -> Result<Child> {
        let recorded =
            domain::consent::record_participation(&services(ctx)?.db, actor(ctx)?, input.into()).await.gql()?;
        child_written(ctx, recorded.child)
    }

    /// Records the lawful basis for processing the child's record (needed to enrol).
    async fn record_lawful_basis(&self, ctx: &Context<'_>, input: RecordLawfulBasisInput) -> Result<LawfulBasis> {
        let created =
            domain::consent::record_lawful_basis(&services(ctx)?.db, actor(ctx)?, input.into()).await.gql()?;
        LawfulBasis::new(ctx, created)
    }

    /// Records consent to share the child's record with named partners for named
    /// purposes.
    async fn record_consent(&self, ctx: &Context<'_>, input: RecordConsentInput) -> Result<Consent> {
        let a = actor(ctx)?;
        let created = domain::consent::record_consent(&services(ctx)?.db, a, input.into()).await.gql()?;
        Consent::new(ctx, created)
    }

    /// Withdraws a consent; it stays in the history, marked withdrawn.
    async fn withdraw_consent(&self, ctx: &Context<'_>, input: WithdrawConsentInput) -> Result<Consent> {
        let a = actor(ctx)?;
        let updated = domain::consent::withdraw_consent(&services(ctx)?.db, a, input.into()).await.gql()?;
        Consent::new(ctx, updated)
    }

    /// `CONSENTED → ENROLLED`, in a cohort (academic year such as `2025/26`). Needs a
    /// lawful basis on record.
    /// `on`: the day it happened, `YYYY-MM-DD` (today when not given): not in the future,
    /// not before the child was born, not before the enrolment's previous step.
    async fn enrol(&self, ctx: &Context<'_>, child_id: ID, cohort: String, on: Option<String>) -> Result<Child> {
        let input = domain::enrolment::Enrol { child_id: child_id.0, cohort, on };
        let enrolled = domain::enrolment::enrol(&services(ctx)?.db, actor(ctx)?, input).await.gql()?;
        child_written(ctx, enrolled.child)
    }

    /// `ENROLLED → ACTIVE`: support has started.
    /// `on`: the day it happened, `YYYY-MM-DD` (today when not given): not in the future,
    /// not before the child was born, not before the enrolment's previous step.
    async fn start_support(
        &self,
        ctx: &Context<'_>,
        child_id: ID,
        note: Option<String>,
        on: Option<String>,
    ) -> Result<Child> {
        let t = Transition::StartSupport;
        let moved =
            domain::enrolment::transition(&services(ctx)?.db, actor(ctx)?, &child_id, t, note, on).await.gql()?;
        child_written(ctx, moved.child)
    }

    /// `ACTIVE → COMPLETED`: the child finished the programme.
    /// `on`: the day it happened, `YYYY-MM-DD` (today when not given): not in the future,
    /// not before the child was born, not before the enrolment's previous step.
    async fn complete_enrolment(
        &self,
        ctx: &Context<'_>,
        child_id: ID,
        note: Option<String>,
        on: Option<String>,
    ) -> Result<Child> {
        let t = Transition::Complete;
        let moved =
            domain::enrolment::transition(&services(ctx)?.db, actor(ctx)?, &child_id, t, note, on).await.gql()?;
        child_written(ctx, moved.child)
    }

    /// Any open state `→ EXITED`, with a reason.
    /// `on`: the day it happened, `YYYY-MM-DD` (today when not given): not in the future,
    /// not before the child was born, not before the enrolment's previous step.
    async fn exit_child(
        &self,
        ctx: &Context<'_>,
        child_id: ID,
        reason: ExitReason,
        note: Option<String>,
        on: Option<String>,
    ) -> Result<Child> {
        let t = Transition::Exit(reason.into());
        let moved =
            domain::enrolment::transition(&services(ctx)?.db, actor(ctx)?, &child_id, t, note, on).await.gql()?;
        child_written(ctx, moved.child)
    }

    /// Hands a child over to a link worker: puts them on the worker's caseload with
    /// everything pending (open referrals follow), stamped in `Child.handovers`. The
    /// child's anchor lead within the anchor; a backbone admin also to a link worker at
    /// another anchor, which moves the child there (the child changed school).
    async fn assign_link_worker(
        &self,
        ctx: &Context<'_>,
        child_id: ID,
        link_worker_id: ID,
        note: Option<String>,
    ) -> Result<Child> {
        let db = &services(ctx)?.db;
        let handed = domain::casework::hand_over(db, actor(ctx)?, &child_id, &link_worker_id, note).await.gql()?;
        child_written(ctx, handed.child)
    }

    /// Adds an organisation to the partnership (backbone admins).
    async fn create_organisation(&self, ctx: &Context<'_>, input: CreateOrganisationInput) -> Result<Organisation> {
        let new = domain::accounts::NewOrganisation { name: input.name, kind: input.kind.into() };
        let created = domain::accounts::create_organisation(&services(ctx)?.db, actor(ctx)?, new).await.gql()?;
        Ok(Organisation(created))
    }

    /// Creates an account in an organisation (backbone admins).
    async fn create_account(&self, ctx: &Context<'_>, input: CreateAccountInput) -> Result<User> {
        let new: domain::accounts::NewAccount = input.into();
        let (org, role, dsl) = (new.organisation_id.clone(), new.role, new.designated_safeguarding_lead);
        let created = domain::accounts::create_account(&services(ctx)?.db, actor(ctx)?, new).await.gql()?;
        Ok(User { user: created, organisation_id: Some(org), role: Some(role), designated_safeguarding_lead: dsl })
    }

    /// Adds a programme to a partner (by default the caller's own organisation). Partner
    /// leads for their organisation; backbone admins.
    async fn create_programme(
        &self,
        ctx: &Context<'_>,
        input: ProgrammeInput,
        organisation_id: Option<ID>,
    ) -> Result<Programme> {
        let org = organisation_id.map(|o| o.0);
        let created = domain::programmes::create(&services(ctx)?.db, actor(ctx)?, org, input.into()).await.gql()?;
        Ok(Programme(created))
    }

    /// Replaces a programme's details; `status` pauses or reopens it. Capacity cannot go
    /// below the places taken (`CONFLICT`).
    async fn update_programme(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: ProgrammeInput,
        status: Option<ProgrammeStatus>,
    ) -> Result<Programme> {
        let db = &services(ctx)?.db;
        let updated =
            domain::programmes::update(db, actor(ctx)?, &id, input.into(), status.map(Into::into)).await.gql()?;
        Ok(Programme(updated))
    }

    /// Proposes a referral of a child on the caller's caseload to a programme
    /// (`PROPOSED`: the partner does not see it yet).
    async fn propose_referral(&self, ctx: &Context<'_>, input: ProposeReferralInput) -> Result<Referral> {
        let created = domain::referrals::propose(&services(ctx)?.db, actor(ctx)?, input.into()).await.gql()?;
        Referral::new(ctx, created)
    }

    /// `PROPOSED → SENT`: the partner sees the child from now on. `CONFLICT` unless the
    /// child is enrolled, their consent covers the partner, and the programme is active
    /// with a place free.
    /// `on`: the day it happened, `YYYY-MM-DD` (today when not given): not in the future,
    /// not before the child was born, not before the referral's previous step.
    async fn send_referral(
        &self,
        ctx: &Context<'_>,
        referral_id: ID,
        note: Option<String>,
        on: Option<String>,
    ) -> Result<Referral> {
        let r = domain::referrals::send(&services(ctx)?.db, actor(ctx)?, &referral_id, note, on).await.gql()?;
        referral_moved(ctx, &r)
    }

    /// The partner's answer: `SENT → ACCEPTED` (a place must be free) or `SENT → DECLINED`
    /// (a reason is required).
    /// `on`: the day it happened, `YYYY-MM-DD` (today when not given): not in the future,
    /// not before the child was born, not before the referral's previous step.
    async fn respond_to_referral(
        &self,
        ctx: &Context<'_>,
        referral_id: ID,
        accept: bool,
        reason: Option<String>,
        note: Option<String>,
        on: Option<String>,
    ) -> Result<Referral> {
        let db = &services(ctx)?.db;
        let r = domain::referrals::respond(db, actor(ctx)?, &referral_id, accept, reason, note, on).await.gql()?;
        referral_moved(ctx, &r)
    }

    /// `ACTIVE → COMPLETED`, by the link worker or the partner.
    /// `on`: the day it happened, `YYYY-MM-DD` (today when not given): not in the future,
    /// not before the child was born, not before the referral's previous step.
    async fn complete_referral(
        &self,
        ctx: &Context<'_>,
        referral_id: ID,
        note: Option<String>,
        on: Option<String>,
    ) -> Result<Referral> {
        let r = domain::referrals::complete(&services(ctx)?.db, actor(ctx)?, &referral_id, note, on).await.gql()?;
        referral_moved(ctx, &r)
    }

    /// Any open status `→ WITHDRAWN`, by the link worker, with a reason. The partner loses
    /// sight of the child at once.
    /// `on`: the day it happened, `YYYY-MM-DD` (today when not given): not in the future,
    /// not before the child was born, not before the referral's previous step.
    async fn withdraw_referral(
        &self,
        ctx: &Context<'_>,
        referral_id: ID,
        reason: String,
        on: Option<String>,
    ) -> Result<Referral> {
        let r = domain::referrals::withdraw(&services(ctx)?.db, actor(ctx)?, &referral_id, reason, on).await.gql()?;
        referral_moved(ctx, &r)
    }

    /// Logs a session of one of the caller's programmes with its register, all or nothing:
    /// every attendee must have an accepted or active referral to the programme. A child's
    /// first attended session makes their referral `ACTIVE`.
    async fn log_session(&self, ctx: &Context<'_>, input: LogSessionInput) -> Result<Session> {
        let s = services(ctx)?;
        let logged = domain::sessions::log(&s.db, actor(ctx)?, input.into(), s.settings.brokering).await.gql()?;
        for r in &logged.started {
            referral_moved(ctx, r)?;
        }
        for a in &logged.alerts {
            s.events.publish(Event::about(&a.referral, EventKind::AttendanceDropped { rate: a.rate }));
        }
        Ok(Session(logged.session))
    }

    /// Corrects a session's register: lines changed (status, engagement) or added (a
    /// child left off, with an accepted or active referral). The partner that took it,
    /// within `corrections.partnerWindowDays`, or a backbone admin; each line's old values
    /// stay in `AttendanceRecord.corrections`. A child now marked as attended starts their
    /// accepted referral, as when logging.
    async fn correct_register(
        &self,
        ctx: &Context<'_>,
        input: crate::graphql::corrections::CorrectRegisterInput,
    ) -> Result<Session> {
        let s = services(ctx)?;
        let done = domain::corrections::correct_register(&s.db, actor(ctx)?, input.into(), s.settings.corrections)
            .await
            .gql()?;
        for r in &done.started {
            referral_moved(ctx, r)?;
        }
        Ok(Session(done.session))
    }

    /// Logs a link worker's interaction with a child or family.
    async fn log_contact(&self, ctx: &Context<'_>, input: LogContactInput) -> Result<Contact> {
        let created = domain::casework::log_contact(&services(ctx)?.db, actor(ctx)?, input.into()).await.gql()?;
        Contact::new(ctx, created)
    }

    /// Corrects a contact; the old values stay in `Contact.corrections`.
    async fn correct_contact(
        &self,
        ctx: &Context<'_>,
        input: crate::graphql::corrections::CorrectContactInput,
    ) -> Result<Contact> {
        let (written, _) =
            domain::corrections::correct_contact(&services(ctx)?.db, actor(ctx)?, input.into()).await.gql()?;
        Contact::new(ctx, written)
    }

    /// Corrects a progress note: its own organisation only (a partner within
    /// `corrections.partnerWindowDays` of writing it), or a backbone admin; the old values
    /// stay in `ProgressNote.corrections`.
    async fn correct_progress_note(
        &self,
        ctx: &Context<'_>,
        input: crate::graphql::corrections::CorrectProgressNoteInput,
    ) -> Result<ProgressNote> {
        let s = services(ctx)?;
        let (written, _) =
            domain::corrections::correct_progress_note(&s.db, actor(ctx)?, input.into(), s.settings.corrections)
                .await
                .gql()?;
        ProgressNote::new(ctx, written)
    }

    /// Adds a progress note about a child the caller may see.
    async fn add_progress_note(&self, ctx: &Context<'_>, input: AddProgressNoteInput) -> Result<ProgressNote> {
        let created = domain::casework::add_note(&services(ctx)?.db, actor(ctx)?, input.into()).await.gql()?;
        ProgressNote::new(ctx, created)
    }

    /// Erases (de-identifies) a child's record at the family's request: names, date of
    /// birth (kept as the start of its school year), UPN, contact details, postcode, free
    /// text, the adults around the child, correction history and screening data go; the
    /// figures stay (statuses and dates, attendance, assessments, claims), so metrics and
    /// claims still reconcile. Backbone admins only (`FORBIDDEN` otherwise); `CONFLICT`
    /// when already erased or under a legal hold (a safeguarding concern). Write the
    /// reason without names: it is kept on the record. Audited as `child.erase`.
    async fn erase_child(
        &self,
        ctx: &Context<'_>,
        child_id: ID,
        reason: String,
    ) -> Result<crate::graphql::erasure::ErasureReceipt> {
        let erased = domain::erasure::erase(&services(ctx)?.db, actor(ctx)?, &child_id, &reason).await.gql()?;
        Ok(crate::graphql::erasure::ErasureReceipt(erased))
    }

    /// Opens a child's record outside the caller's scope ("break-glass"), with a reason,
    /// for `breakGlass.hours` (3): the record then reads as if it were in scope, for
    /// reading only; every read is audited with the opening, and the child's anchor leads
    /// are told (a `RECORD_OPENED` worklist item, a `recordsOpened` event). Link workers
    /// and anchor leads; `FORBIDDEN` for others, `CONFLICT` for a record in scope already
    /// (backbone admins have every record in scope). Opening it again ends the opening in
    /// force and needs a reason not given before (`INVALID_INPUT` on `reason`). Audited as
    /// `break_glass.open`.
    async fn break_glass(
        &self,
        ctx: &Context<'_>,
        child_id: ID,
        reason: String,
    ) -> Result<crate::graphql::break_glass::BreakGlass> {
        let s = services(ctx)?;
        let hours = i64::from(s.settings.break_glass.hours);
        let opened = domain::break_glass::open(&s.db, actor(ctx)?, &child_id, &reason, hours).await.gql()?;
        s.events.publish(Event::record_opened(&opened.opening, &opened.anchor_id));
        Ok(crate::graphql::break_glass::BreakGlass(opened.opening))
    }

    /// Marks a break-glass opening as reviewed: it leaves the anchor leads' worklists. The
    /// child's anchor leads and backbone admins, never the person who opened it
    /// (`FORBIDDEN`); `CONFLICT` when reviewed already. Audited as `break_glass.review`.
    async fn review_break_glass(&self, ctx: &Context<'_>, id: ID) -> Result<crate::graphql::break_glass::BreakGlass> {
        let reviewed = domain::break_glass::review(&services(ctx)?.db, actor(ctx)?, &id).await.gql()?;
        Ok(crate::graphql::break_glass::BreakGlass(reviewed))
    }

    /// Raises a safeguarding concern about a child the caller may see. Only the anchor's
    /// designated safeguarding leads and backbone admins can read it; the answer is a
    /// receipt.
    async fn raise_safeguarding_concern(
        &self,
        ctx: &Context<'_>,
        child_id: ID,
        body: String,
    ) -> Result<ConcernReceipt> {
        let created = domain::casework::raise_concern(&services(ctx)?.db, actor(ctx)?, &child_id, &body).await.gql()?;
        Ok(ConcernReceipt { id: ID(created.id), created_at: created.created_at })
    }

    /// Marks (or unmarks) an anchor's member as a designated safeguarding lead (backbone
    /// admins).
    async fn set_designated_safeguarding_lead(&self, ctx: &Context<'_>, user_id: ID, designated: bool) -> Result<User> {
        let db = &services(ctx)?.db;
        let (user, m) =
            domain::accounts::set_designated_safeguarding_lead(db, actor(ctx)?, &user_id, designated).await.gql()?;
        Ok(User {
            user,
            organisation_id: Some(m.organisation_id),
            role: Some(crate::graphql::types::stored(domain::Role::from_stored(&m.role))?),
            designated_safeguarding_lead: m.designated_safeguarding_lead,
        })
    }

    /// Records an assessment of a child under the live outcomes framework: the raw value
    /// (`value` for numeric measures, `category` for categorical ones) is mapped to the
    /// common scale. Link workers, anchor leads, admins, and partners for children
    /// referred to them.
    async fn record_assessment(
        &self,
        ctx: &Context<'_>,
        input: RecordAssessmentInput,
    ) -> Result<crate::graphql::outcomes::Assessment> {
        let created = domain::outcomes::record(&services(ctx)?.db, actor(ctx)?, input.into()).await.gql()?;
        crate::graphql::outcomes::Assessment::new(ctx, created)
    }

    /// Agrees a child's individual support plan with the child and family: its parts,
    /// the referrals it links (specialist support), who took part, and goals per outcome
    /// area. Schedules the first termly review. One plan per child (`CONFLICT`: change it
    /// with `reviewSupportPlan`). The child's link worker, their anchor lead, admins.
    async fn agree_support_plan(
        &self,
        ctx: &Context<'_>,
        input: crate::graphql::plans::AgreeSupportPlanInput,
    ) -> Result<crate::graphql::plans::SupportPlan> {
        crate::graphql::plans::agree(ctx, input).await
    }

    /// Records the termly review of a child's support plan: whether each open goal is
    /// met, and what changes (parts and links replaced, goals added). Completes the
    /// pending review and schedules the next for the end of the following term. One
    /// review per term (`CONFLICT`). The child's link worker, their anchor lead, admins.
    async fn review_support_plan(
        &self,
        ctx: &Context<'_>,
        input: crate::graphql::plans::ReviewSupportPlanInput,
    ) -> Result<crate::graphql::plans::PlanReview> {
        crate::graphql::plans::review(ctx, input).await
    }

    /// Needs identification: imports an anchor's data, a CSV file sent as a GraphQL
    /// multipart upload (columns in `docs/outcomes.md`). The whole file is checked first;
    /// if any row is bad, nothing is written and every problem is reported (`INVALID_INPUT`
    /// on `file`, each message naming the line and column; at most 200 are listed). Then the
    /// rows the screening rules flag replace the anchor's earlier, unaccepted candidates.
    /// Anchor leads for their own anchor; backbone admins name `anchorId`.
    async fn import_anchor_data(
        &self,
        ctx: &Context<'_>,
        file: async_graphql::Upload,
        anchor_id: Option<ID>,
        #[graphql(default)] mode: crate::graphql::screening::AnchorDataImportMode,
    ) -> Result<crate::graphql::screening::AnchorDataImport> {
        let actor = actor(ctx)?;
        let upload = file.value(ctx).map_err(|_| {
            crate::graphql::errors::to_gql(&crate::error::Error::invalid("file", "must be an uploaded file"))
        })?;
        let db = &services(ctx)?.db;
        let summary = domain::screening::import(
            db,
            actor,
            anchor_id.map(|a| a.0),
            mode.into(),
            &upload.content,
            &mut |_, _, _| {},
        )
        .await
        .map_err(|e| match e {
            crate::error::Error::InvalidInput(mut problems) if problems.len() > MAX_ROW_PROBLEMS => {
                let more = problems.len() - MAX_ROW_PROBLEMS;
                problems.truncate(MAX_ROW_PROBLEMS);
                let message = format!("… and {more} more problems: `backbone import anchor-data` lists them all");
                problems.push(crate::error::FieldError { field: "file".into(), message });
                crate::error::Error::InvalidInput(problems)
            }
            other => other,
        })
        .gql()?;
        Ok(crate::graphql::screening::AnchorDataImport(summary))
    }

    /// Accepts a candidate: identifies the child (enrolment `IDENTIFIED`) at the
    /// candidate's anchor, with the UPN from the anchor data and the details given here. A
    /// link worker who accepts takes the child onto their caseload. Refused (`CONFLICT`) for
    /// a pupil already receiving statutory support, or accepted before. Anchor staff.
    async fn accept_candidate(
        &self,
        ctx: &Context<'_>,
        input: crate::graphql::screening::AcceptCandidateInput,
    ) -> Result<Child> {
        let (candidate_id, details) = input.split();
        let (_, created) =
            domain::screening::accept(&services(ctx)?.db, actor(ctx)?, &candidate_id, details).await.gql()?;
        child_written(ctx, created)
    }

    /// Rebuilds the metrics summary tables now (they are otherwise rebuilt every
    /// `metrics.refreshMinutes`). Backbone analysts and admins. Returns when.
    async fn refresh_metrics(&self, ctx: &Context<'_>) -> Result<chrono::DateTime<chrono::Utc>> {
        domain::metrics::refresh_now(&services(ctx)?.db, actor(ctx)?).await.gql()
    }

    /// Dismisses a candidate the anchor will not take forward: their screening row is
    /// deleted (the audit log keeps that it was). Anchor staff. Returns the id.
    async fn dismiss_candidate(&self, ctx: &Context<'_>, candidate_id: ID) -> Result<ID> {
        domain::screening::dismiss(&services(ctx)?.db, actor(ctx)?, &candidate_id).await.gql()?;
        Ok(candidate_id)
    }

    /// Records an outcomes contract: its payers (funder organisations) and their shares,
    /// the anchors (and cohort) it covers, its period and its rate card (milestone rules,
    /// prices, instalments, caps, who verifies with what evidence). Every problem is
    /// `INVALID_INPUT` naming its field; nothing is written then. Backbone admins.
    async fn record_contract(
        &self,
        ctx: &Context<'_>,
        input: crate::graphql::contracts::RecordContractInput,
    ) -> Result<crate::graphql::contracts::Contract> {
        crate::graphql::contracts::record(ctx, input).await
    }

    /// Computes a contract's claims from the evidence dated up to `asOf` (`YYYY-MM-DD`, not
    /// in the future, not before its latest evaluation), in one audited transaction:
    /// new claims for milestones achieved, claims that no longer hold reversed (never
    /// deleted), the rest unchanged, so running it twice changes nothing. Backbone admins.
    async fn evaluate_milestones(
        &self,
        ctx: &Context<'_>,
        contract_id: ID,
        as_of: String,
    ) -> Result<crate::graphql::contracts::MilestoneEvaluation> {
        crate::graphql::contracts::evaluate(ctx, contract_id, as_of).await
    }
}
