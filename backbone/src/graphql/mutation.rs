//! Mutations: the verbs of the domain. Each validates its input (`INVALID_INPUT` naming
//! the field, nothing written), checks access, and writes with its audit event in one
//! transaction.

use crate::auth;
use crate::domain::enrolment::Transition;
use crate::domain::{self};
use crate::graphql::errors::GqlResult;
use crate::graphql::inputs::*;
use crate::graphql::types::*;
use crate::graphql::{actor, selected_child_fields, services};
use async_graphql::{Context, ID, Object, Result};

pub struct Mutation;

/// The child after a change, read back (and audited as a read) for the response.
async fn child_after(ctx: &Context<'_>, child_id: &str) -> Result<Child> {
    let actor = actor(ctx)?;
    let fields = selected_child_fields(ctx);
    let model = domain::children::get(&services(ctx)?.db, actor, child_id, fields).await.gql()?;
    Child::new(ctx, model)
}

#[Object]
impl Mutation {
    /// Exchanges an email and password for a bearer token. The only operation open to
    /// callers without a token.
    async fn login(&self, ctx: &Context<'_>, email: String, password: String) -> Result<LoginPayload> {
        let s = services(ctx)?;
        let ttl = chrono::Duration::minutes(s.settings.auth.token_ttl_minutes);
        let session = auth::login(&s.db, &email, &password, ttl, s.allow_demo_logins).await.gql()?;
        let (user, _) = domain::accounts::me(&s.db, &session.actor).await.gql()?;
        Ok(LoginPayload {
            token: session.token,
            expires_at: session.expires_at,
            user: User {
                user,
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
        child_after(ctx, &created.id).await
    }

    /// Records a parent, carer or trusted adult around a child.
    async fn add_relationship(&self, ctx: &Context<'_>, input: AddRelationshipInput) -> Result<Relationship> {
        let a = actor(ctx)?;
        let created = domain::children::add_relationship(&services(ctx)?.db, a, input.into()).await.gql()?;
        Ok(Relationship { model: created, view: crate::access::child_view(a) })
    }

    /// Records the family's agreement to take part: `IDENTIFIED → CONSENTED`.
    async fn record_participation(&self, ctx: &Context<'_>, input: RecordParticipationInput) -> Result<Child> {
        let created =
            domain::consent::record_participation(&services(ctx)?.db, actor(ctx)?, input.into()).await.gql()?;
        child_after(ctx, &created.child_id).await
    }

    /// Records the lawful basis for processing the child's record (needed to enrol).
    async fn record_lawful_basis(&self, ctx: &Context<'_>, input: RecordLawfulBasisInput) -> Result<LawfulBasis> {
        let created =
            domain::consent::record_lawful_basis(&services(ctx)?.db, actor(ctx)?, input.into()).await.gql()?;
        Ok(LawfulBasis(created))
    }

    /// Records consent to share the child's record with named partners for named
    /// purposes.
    async fn record_consent(&self, ctx: &Context<'_>, input: RecordConsentInput) -> Result<Consent> {
        let a = actor(ctx)?;
        let created = domain::consent::record_consent(&services(ctx)?.db, a, input.into()).await.gql()?;
        Ok(Consent { model: created, view: crate::access::child_view(a) })
    }

    /// Withdraws a consent; it stays in the history, marked withdrawn.
    async fn withdraw_consent(&self, ctx: &Context<'_>, input: WithdrawConsentInput) -> Result<Consent> {
        let a = actor(ctx)?;
        let updated = domain::consent::withdraw_consent(&services(ctx)?.db, a, input.into()).await.gql()?;
        Ok(Consent { model: updated, view: crate::access::child_view(a) })
    }

    /// `CONSENTED → ENROLLED`, in a cohort (academic year such as `2025/26`). Needs a
    /// lawful basis on record.
    async fn enrol(&self, ctx: &Context<'_>, child_id: ID, cohort: String) -> Result<Child> {
        let input = domain::enrolment::Enrol { child_id: child_id.0.clone(), cohort };
        domain::enrolment::enrol(&services(ctx)?.db, actor(ctx)?, input).await.gql()?;
        child_after(ctx, &child_id).await
    }

    /// `ENROLLED → ACTIVE`: support has started.
    async fn start_support(&self, ctx: &Context<'_>, child_id: ID, note: Option<String>) -> Result<Child> {
        domain::enrolment::transition(&services(ctx)?.db, actor(ctx)?, &child_id, Transition::StartSupport, note)
            .await
            .gql()?;
        child_after(ctx, &child_id).await
    }

    /// `ACTIVE → COMPLETED`: the child finished the programme.
    async fn complete_enrolment(&self, ctx: &Context<'_>, child_id: ID, note: Option<String>) -> Result<Child> {
        domain::enrolment::transition(&services(ctx)?.db, actor(ctx)?, &child_id, Transition::Complete, note)
            .await
            .gql()?;
        child_after(ctx, &child_id).await
    }

    /// Any open state `→ EXITED`, with a reason.
    async fn exit_child(
        &self,
        ctx: &Context<'_>,
        child_id: ID,
        reason: ExitReason,
        note: Option<String>,
    ) -> Result<Child> {
        let t = Transition::Exit(reason.into());
        domain::enrolment::transition(&services(ctx)?.db, actor(ctx)?, &child_id, t, note).await.gql()?;
        child_after(ctx, &child_id).await
    }

    /// Hands a child over to a link worker: puts them on the worker's caseload with
    /// everything pending (open referrals follow), stamped in `Child.handovers`. A worker
    /// at another anchor moves the child to that anchor (the child changed school). The
    /// child's anchor lead, or a backbone admin.
    async fn assign_link_worker(
        &self,
        ctx: &Context<'_>,
        child_id: ID,
        link_worker_id: ID,
        note: Option<String>,
    ) -> Result<Child> {
        domain::casework::hand_over(&services(ctx)?.db, actor(ctx)?, &child_id, &link_worker_id, note).await.gql()?;
        child_after(ctx, &child_id).await
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
}
