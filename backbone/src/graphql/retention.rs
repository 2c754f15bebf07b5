//! GraphQL type of what the retention schedule makes due (`domain::retention`); the query
//! is `Query.retentionDue`.

use crate::domain::retention as domain;
use crate::graphql::brokering::child_by_id;
use crate::graphql::types::Child;
use async_graphql::{Context, Enum, Object, Result};

/// What the schedule does with a kind of record.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::retention::DueKind")]
pub enum RetentionKind {
    /// Expired screening data of pupils never enrolled: deleted.
    ScreeningExpired,
    /// A child's safeguarding concerns, the child past the age they are kept to: deleted.
    SafeguardingConcerns,
    /// A closed case past its period: erased (de-identified, the figures kept).
    ClosedCase,
    /// A closed case past its period, kept under a legal hold (a safeguarding concern).
    ClosedCaseHeld,
    /// Audit events past their period: deleted, the chain going on from a signed checkpoint.
    AuditEvents,
}

/// One thing the retention schedule says must go (or is kept, and why).
pub struct RetentionDue(pub domain::Due);

#[Object]
impl RetentionDue {
    async fn kind(&self) -> RetentionKind {
        self.0.kind.into()
    }
    /// Why, in words.
    async fn why(&self) -> &str {
        &self.0.why
    }
    /// How many rows.
    async fn count(&self) -> u64 {
        self.0.count
    }
    /// The child it is about (an audited read); none for screening rows and the audit.
    async fn child(&self, ctx: &Context<'_>) -> Result<Option<Child>> {
        let Some(id) = &self.0.child_id else { return Ok(None) };
        child_by_id(ctx, id).await
    }
}
