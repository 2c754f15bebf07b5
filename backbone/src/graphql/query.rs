//! Queries. Each resolver gets the caller, calls the domain, and maps the result.

use crate::domain::{self, Page, PageRequest};
use crate::error::Error;
use crate::graphql::brokering::{InboxState, Programme, Referral, Session};
use crate::graphql::errors::{GqlResult, to_gql};
use crate::graphql::inputs::{ChildFilter, ProgrammeFilter};
use crate::graphql::types::{Child, Organisation, OrganisationKind, User};
use crate::graphql::{actor, services};
use crate::store::{child, organisation};
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, Object, Result};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub struct Query;

/// Cursors are opaque to clients: the id of the last item, encoded.
pub fn encode_cursor(id: &str) -> String {
    URL_SAFE_NO_PAD.encode(id)
}

pub(crate) fn page_request(ctx: &Context<'_>, first: Option<i32>, after: Option<String>) -> Result<PageRequest> {
    let limits = &services(ctx)?.settings.graphql;
    let after = match after {
        None => None,
        Some(c) => Some(
            URL_SAFE_NO_PAD
                .decode(c.as_bytes())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .filter(|id| uuid::Uuid::parse_str(id).is_ok())
                .ok_or_else(|| Error::invalid("after", "is not a cursor this API returned"))
                .gql()?,
        ),
    };
    PageRequest::new(first, after, limits.default_page_size, limits.max_page_size).gql()
}

/// A page of items as a Relay connection, each edge's cursor its item's id.
pub(crate) fn connection<M, T: async_graphql::OutputType>(
    had_after: bool,
    page: Page<M>,
    wrap: impl Fn(M) -> T,
    id: impl Fn(&M) -> &String,
) -> Connection<String, T> {
    let mut conn = Connection::new(had_after, page.has_next_page);
    conn.edges.extend(page.items.into_iter().map(|m| Edge::new(encode_cursor(id(&m)), wrap(m))));
    conn
}

/// A page of items as a Relay connection, built by a constructor that may fail (one that
/// notes a read in the operation's read log).
pub(crate) fn try_connection<M, T: async_graphql::OutputType>(
    had_after: bool,
    page: Page<M>,
    wrap: impl Fn(M) -> Result<T>,
    id: impl Fn(&M) -> &String,
) -> Result<Connection<String, T>> {
    let mut conn = Connection::new(had_after, page.has_next_page);
    for m in page.items {
        let cursor = encode_cursor(id(&m));
        conn.edges.push(Edge::new(cursor, wrap(m)?));
    }
    Ok(conn)
}

/// One page of children (each audited by `Child::new`) as a Relay connection.
async fn child_connection(
    ctx: &Context<'_>,
    filter: domain::children::ChildFilter,
    first: Option<i32>,
    after: Option<String>,
) -> Result<Connection<String, Child>> {
    let actor = actor(ctx)?;
    let had_after = after.is_some();
    let page = page_request(ctx, first, after)?;
    let found: Page<child::Model> = domain::children::list(&services(ctx)?.db, actor, filter, page).await.gql()?;
    try_connection(had_after, found, |m| Child::new(ctx, m), |m| &m.id)
}

#[Object]
impl Query {
    /// The caller: their account, organisation and role.
    async fn me(&self, ctx: &Context<'_>) -> Result<User> {
        let actor = actor(ctx)?;
        let (user, _) = domain::accounts::me(&services(ctx)?.db, actor).await.gql()?;
        Ok(User {
            user,
            organisation_id: Some(actor.organisation_id.clone()),
            role: Some(actor.role),
            designated_safeguarding_lead: actor.designated_safeguarding_lead,
        })
    }

    /// What the zone's retention schedule (`seeds/retention/schedule.toml`) says must go
    /// as of `asOf` (today by default: a later day to plan ahead), and why, and what is
    /// kept under a legal hold. Nothing is changed (the service applies the schedule
    /// daily). Backbone admins only.
    async fn retention_due(
        &self,
        ctx: &Context<'_>,
        as_of: Option<chrono::NaiveDate>,
    ) -> Result<Vec<crate::graphql::retention::RetentionDue>> {
        let schedule = backbone_seeds::retention::default_schedule();
        let day = as_of.unwrap_or_else(crate::domain::validate::today);
        let due = domain::retention::list(&services(ctx)?.db, actor(ctx)?, &schedule, day).await.gql()?;
        Ok(due.into_iter().map(crate::graphql::retention::RetentionDue).collect())
    }

    /// The family report of a child, as an HTML page to print and hand to the family:
    /// who holds the record and why, what was shared with whom and on what basis, who
    /// has looked at it. For the child's link worker, the anchor's lead and backbone
    /// admins (as the share log). Audited as `child.family_report`.
    async fn family_report(&self, ctx: &Context<'_>, child_id: ID) -> Result<String> {
        let report = domain::subject_access::family_report(&services(ctx)?.db, actor(ctx)?, &child_id).await.gql()?;
        Ok(domain::subject_access::family_html(&report))
    }

    /// The share log of a child (`childId`: their link worker, the anchor's lead, backbone
    /// admins) or of an organisation (`organisationId`: backbone admins): each referral
    /// sent, each partner's read, each refusal to share and each stop on consent's
    /// withdrawal, with the lawful basis and consent relied on; newest first. Give exactly
    /// one of the two ids.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity + 1")]
    async fn share_log(
        &self,
        ctx: &Context<'_>,
        child_id: Option<ID>,
        organisation_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, crate::graphql::sharing::ShareEntry>> {
        use domain::sharing::Subject;
        let subject = match (child_id, organisation_id) {
            (Some(c), None) => Subject::Child(c.0),
            (None, Some(o)) => Subject::Organisation(o.0),
            _ => return Err(to_gql(&Error::invalid("childId", "give either childId or organisationId"))),
        };
        let actor = actor(ctx)?;
        let had_after = after.is_some();
        let page = page_request(ctx, first, after)?;
        let found = domain::sharing::log(&services(ctx)?.db, actor, subject, page).await.gql()?;
        try_connection(had_after, found, |e| Ok(crate::graphql::sharing::ShareEntry(e)), |e| &e.key)
    }

    /// Break-glass openings, oldest first: a link worker's own; an anchor lead's own and
    /// every opening of their anchor's children; all, for backbone admins. `toReview`:
    /// only those not reviewed yet. `FORBIDDEN` for partners, funders and analysts.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity + 1")]
    async fn break_glass_openings(
        &self,
        ctx: &Context<'_>,
        child_id: Option<ID>,
        to_review: Option<bool>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, crate::graphql::break_glass::BreakGlass>> {
        let actor = actor(ctx)?;
        let had_after = after.is_some();
        let page = page_request(ctx, first, after)?;
        let filter =
            domain::break_glass::Filter { child_id: child_id.map(|c| c.0), to_review: to_review.unwrap_or(false) };
        let found = domain::break_glass::list(&services(ctx)?.db, actor, filter, page).await.gql()?;
        try_connection(had_after, found, |o| Ok(crate::graphql::break_glass::BreakGlass(o)), |o| &o.id)
    }

    /// Everything the zone holds about a child, for the family's right of access: every
    /// record that references them (safeguarding concerns withheld, with the reason,
    /// unless `releaseSafeguarding` after review) and who has read or changed it.
    /// Backbone admins only (the partnership's data-protection team); `FORBIDDEN` for
    /// anyone else. Audited as `child.subject_access`.
    async fn subject_access(
        &self,
        ctx: &Context<'_>,
        child_id: ID,
        #[graphql(default)] release_safeguarding: bool,
    ) -> Result<crate::graphql::subject_access::SubjectAccessAnswer> {
        let answer = domain::subject_access::export(&services(ctx)?.db, actor(ctx)?, &child_id, release_safeguarding)
            .await
            .gql()?;
        Ok(crate::graphql::subject_access::SubjectAccessAnswer(answer))
    }

    /// One child, if the caller may see them; otherwise `NOT_FOUND`, exactly as for a
    /// child that does not exist. Audited with the fields selected.
    async fn child(&self, ctx: &Context<'_>, id: ID) -> Result<Child> {
        let model = domain::children::get(&services(ctx)?.db, actor(ctx)?, &id).await.gql()?;
        Child::new(ctx, model)
    }

    /// The children the caller may see, oldest record first. Each child returned is an
    /// audited read.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity + 1")]
    async fn children(
        &self,
        ctx: &Context<'_>,
        filter: Option<ChildFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Child>> {
        child_connection(ctx, filter.unwrap_or_default().into(), first, after).await
    }

    /// A link worker's caseload: by default the caller's own. Anchor leads may name a
    /// link worker of their anchor; admins any.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity + 1")]
    async fn caseload(
        &self,
        ctx: &Context<'_>,
        link_worker_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Child>> {
        let filter = domain::children::caseload_filter(&services(ctx)?.db, actor(ctx)?, link_worker_id.map(|i| i.0))
            .await
            .gql()?;
        child_connection(ctx, filter, first, after).await
    }

    /// The organisations of the partnership (anchors, partners, funders, the backbone):
    /// anyone signed in may list them, e.g. to find partner ids for a consent.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity + 1")]
    async fn organisations(
        &self,
        ctx: &Context<'_>,
        kind: Option<OrganisationKind>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Organisation>> {
        actor(ctx)?;
        let had_after = after.is_some();
        let page = page_request(ctx, first, after)?;
        let found: Page<organisation::Model> =
            domain::accounts::organisations(&services(ctx)?.db, kind.map(Into::into), page).await.gql()?;
        Ok(connection(had_after, found, Organisation, |o| &o.id))
    }

    /// The programme directory: active programmes by default. Anyone signed in.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity + 1")]
    async fn programmes(
        &self,
        ctx: &Context<'_>,
        filter: Option<ProgrammeFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Programme>> {
        actor(ctx)?;
        let had_after = after.is_some();
        let page = page_request(ctx, first, after)?;
        let found =
            domain::programmes::list(&services(ctx)?.db, filter.unwrap_or_default().into(), page).await.gql()?;
        Ok(connection(had_after, found, Programme, |p| &p.id))
    }

    /// One programme. Anyone signed in.
    async fn programme(&self, ctx: &Context<'_>, id: ID) -> Result<Programme> {
        actor(ctx)?;
        Ok(Programme(domain::programmes::find(&services(ctx)?.db, &id).await.gql()?))
    }

    /// One referral, if the caller may see it (`NOT_FOUND` otherwise). Audited.
    async fn referral(&self, ctx: &Context<'_>, id: ID) -> Result<Referral> {
        Referral::new(ctx, domain::referrals::get(&services(ctx)?.db, actor(ctx)?, &id).await.gql()?)
    }

    /// A partner's referral inbox: their organisation's live referrals, oldest first —
    /// `NEW` (sent, awaiting an answer), `ACCEPTED` (no session yet), `ACTIVE`. Each
    /// referral returned is an audited read.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity + 1")]
    async fn referrals_inbox(
        &self,
        ctx: &Context<'_>,
        state: Option<InboxState>,
        programme_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Referral>> {
        let actor = actor(ctx)?;
        let had_after = after.is_some();
        let page = page_request(ctx, first, after)?;
        let found =
            domain::referrals::inbox(&services(ctx)?.db, actor, state.map(Into::into), programme_id.map(|p| p.0), page)
                .await
                .gql()?;
        try_connection(had_after, found, |m| Referral::new(ctx, m), |r| &r.id)
    }

    /// What needs the caller today, most urgent first: a link worker's (an anchor lead's:
    /// the anchor's) plan reviews due or overdue, referrals a partner has not answered,
    /// children not contacted lately, attendance dropping, consents and lawful bases due
    /// for review; a partner's referrals waiting for an answer and programmes without a
    /// recent register. `FORBIDDEN` for anyone else. Thresholds are settings
    /// (`worklist.*`, `brokering.*`).
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity + 1")]
    async fn worklist(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, crate::graphql::worklist::WorklistItem>> {
        let actor = actor(ctx)?;
        let had_after = after.is_some();
        let page = page_request(ctx, first, after)?;
        let s = services(ctx)?;
        let today = crate::domain::validate::today();
        let thresholds =
            domain::worklist::Thresholds { worklist: s.settings.worklist, attendance: s.settings.brokering };
        let found = domain::worklist::list(&s.db, actor, thresholds, today, page).await.gql()?;
        try_connection(had_after, found, |i| Ok(crate::graphql::worklist::WorklistItem(i)), |i| &i.key)
    }

    /// Sessions of a programme the caller may see, oldest first: a partner sees its own;
    /// link workers those their children were registered at.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity + 1")]
    async fn sessions(
        &self,
        ctx: &Context<'_>,
        programme_id: ID,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Session>> {
        let actor = actor(ctx)?;
        let had_after = after.is_some();
        let page = page_request(ctx, first, after)?;
        let found = domain::sessions::of_programme(&services(ctx)?.db, actor, &programme_id, page).await.gql()?;
        Ok(connection(had_after, found, Session, |s| &s.id))
    }

    /// One session the caller may see (`NOT_FOUND` otherwise).
    async fn session(&self, ctx: &Context<'_>, id: ID) -> Result<Session> {
        Ok(Session(domain::sessions::get(&services(ctx)?.db, actor(ctx)?, &id).await.gql()?))
    }

    /// The outcomes framework: the live version, or `version`. Anyone signed in.
    async fn outcomes_framework(
        &self,
        ctx: &Context<'_>,
        version: Option<i32>,
    ) -> Result<crate::graphql::outcomes::OutcomesFramework> {
        actor(ctx)?;
        let found = domain::outcomes::version(&services(ctx)?.db, version).await.gql()?;
        Ok(crate::graphql::outcomes::OutcomesFramework(found))
    }

    /// Shared metrics for a filter and an optional breakdown from the catalogue, computed
    /// in the database from the summary tables (as of `refreshedAt`). Funders get figures
    /// under disclosure control (small counts suppressed, the rest rounded); backbone
    /// analysts and admins exact ones; everyone else `FORBIDDEN`. Definitions in
    /// `docs/funders.md`.
    async fn metrics(
        &self,
        ctx: &Context<'_>,
        filter: Option<crate::graphql::metrics::MetricsFilter>,
        group_by: Option<crate::graphql::metrics::MetricsDimension>,
    ) -> Result<crate::graphql::metrics::Metrics> {
        let s = services(ctx)?;
        let found = domain::metrics::metrics(
            &s.db,
            actor(ctx)?,
            s.settings.disclosure,
            s.settings.metrics.engaged_after_sessions,
            filter.unwrap_or_default().into(),
            group_by.map(Into::into),
        )
        .await
        .gql()?;
        Ok(crate::graphql::metrics::Metrics(found))
    }

    /// Needs identification: the pupils the screening rules flagged in the latest anchor
    /// data, ranked (more reasons, more areas at risk, lower attendance first), each with
    /// its reasons; then the excluded pupils (already receiving statutory support) with
    /// that reason. Anchor link workers and leads see their own anchor's; backbone admins
    /// every anchor's, or `anchorId`'s. Expired rows are never listed. Audited.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity + 1")]
    async fn candidates(
        &self,
        ctx: &Context<'_>,
        anchor_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, crate::graphql::screening::Candidate>> {
        let actor = actor(ctx)?;
        let had_after = after.is_some();
        let page = page_request(ctx, first, after)?;
        let found =
            domain::screening::candidates(&services(ctx)?.db, actor, anchor_id.map(|a| a.0), page).await.gql()?;
        Ok(connection(had_after, found, crate::graphql::screening::Candidate, |c| &c.id))
    }

    /// Outcomes contracts, oldest first: backbone admins and analysts every contract; a
    /// funder those its organisation pays into; anyone else `FORBIDDEN`.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity + 1")]
    async fn contracts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, crate::graphql::contracts::Contract>> {
        crate::graphql::contracts::list(ctx, first, after).await
    }

    /// One outcomes contract with its rate card and payers (and, for backbone admins, its
    /// claims with their evidence). `NOT_FOUND` for a contract the caller may not see.
    async fn contract(&self, ctx: &Context<'_>, id: ID) -> Result<crate::graphql::contracts::Contract> {
        crate::graphql::contracts::get(ctx, id).await
    }

    /// Totals per milestone of a contract's active claims, as of its latest evaluation:
    /// children achieving each milestone, the amount payable and each payer's part. Funders
    /// who pay into the contract get them under disclosure control (a small count is null
    /// with `suppressed`, and its amount null too); backbone analysts and admins exact
    /// figures; never a child id or evidence.
    async fn milestones(
        &self,
        ctx: &Context<'_>,
        contract_id: ID,
    ) -> Result<crate::graphql::contracts::ContractMilestones> {
        crate::graphql::contracts::totals(ctx, contract_id).await
    }
}
