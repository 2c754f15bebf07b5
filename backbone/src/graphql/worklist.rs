//! GraphQL types of the worklist (`domain::worklist`); the query is `Query.worklist`.

use crate::domain::break_glass as domain_break_glass;
use crate::domain::worklist as domain;
use crate::graphql::brokering::{Programme, Referral, child_by_id, programme_by_id, referral_if_visible};
use crate::graphql::types::Child;
use async_graphql::{Context, Enum, Object, Result};
use chrono::NaiveDate;

/// What a worklist item asks for.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::worklist::ItemKind")]
pub enum WorklistKind {
    /// A support-plan review whose due day has passed.
    ReviewOverdue,
    /// A support-plan review due soon (`worklist.review_due_within_days`).
    ReviewDue,
    /// A referral a partner has not answered (`worklist.unanswered_working_days`).
    ReferralUnanswered,
    /// A child taking part, not contacted lately (`worklist.no_contact_days`).
    NoRecentContact,
    /// A child's attendance at a programme is dropping (`brokering.attendanceAlertBelow`
    /// once `brokering.attendanceAlertAfterSessions` were offered).
    AttendanceDropping,
    /// A child's consent is due for review (`worklist.consentReviewMonths` after it was
    /// given) or past it.
    ConsentReview,
    /// A child's lawful basis is due for review (as consent, after it was recorded).
    LawfulBasisReview,
    /// (Anchor leads) a record of your anchor opened by break-glass, waiting for your
    /// review (`reviewBreakGlass`).
    RecordOpened,
    /// (Partners) a referral sent to you, waiting for your answer.
    ReferralAwaitingAnswer,
    /// (Partners) a programme with children on it and no register logged lately
    /// (`worklist.registerDueDays`).
    RegisterDue,
}

/// One thing that needs the caller.
pub struct WorklistItem(pub domain::Item);

#[Object]
impl WorklistItem {
    async fn kind(&self) -> WorklistKind {
        self.0.kind.into()
    }
    /// Why, in words (`referral sent 12 working days ago and not yet answered`).
    async fn why(&self) -> &str {
        &self.0.why
    }
    /// Since when it has stood.
    async fn since(&self) -> NaiveDate {
        self.0.since
    }
    /// The child (an audited read), as the caller's view shows them; none for a
    /// programme's register.
    async fn child(&self, ctx: &Context<'_>) -> Result<Option<Child>> {
        let Some(id) = &self.0.child_id else { return Ok(None) };
        child_by_id(ctx, id).await
    }
    /// The programme, for register items.
    async fn programme(&self, ctx: &Context<'_>) -> Result<Option<Programme>> {
        let Some(id) = &self.0.programme_id else { return Ok(None) };
        programme_by_id(ctx, id).await.map(Some)
    }
    /// The break-glass opening, for `RECORD_OPENED` items.
    async fn break_glass(&self, ctx: &Context<'_>) -> Result<Option<crate::graphql::break_glass::BreakGlass>> {
        if self.0.kind != domain::ItemKind::RecordOpened {
            return Ok(None);
        }
        let s = crate::graphql::services(ctx)?;
        let found = domain_break_glass::find(&s.db, crate::graphql::actor(ctx)?, &self.0.key)
            .await
            .map_err(|e| crate::graphql::errors::to_gql(&e))?;
        Ok(found.map(crate::graphql::break_glass::BreakGlass))
    }
    /// The referral, for referral and attendance items (an audited read).
    async fn referral(&self, ctx: &Context<'_>) -> Result<Option<Referral>> {
        let Some(id) = &self.0.referral_id else { return Ok(None) };
        referral_if_visible(ctx, id).await
    }
}
