//! GraphQL types of the share log (`domain::sharing`); the query is `Query.shareLog`.

use crate::domain::sharing as domain;
use crate::graphql::brokering::child_by_id;
use crate::graphql::types::Child;
use async_graphql::{Context, Enum, ID, Object, Result};
use chrono::{DateTime, Utc};

/// What happened to the record.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "crate::domain::sharing::ShareKind")]
pub enum ShareKind {
    /// A referral was sent to the partner: the partner view went to them.
    Sent,
    /// A partner's staff read the record (the partner view).
    Read,
    /// Not shared: consent did not cover the organisation.
    Refused,
    /// Sharing stopped: the consent covering the organisation was withdrawn.
    Stopped,
}

/// One share of a child's record with an organisation, or one refusal to share.
pub struct ShareEntry(pub domain::ShareEntry);

#[Object]
impl ShareEntry {
    async fn kind(&self) -> ShareKind {
        self.0.kind.into()
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    async fn organisation_id(&self) -> ID {
        ID(self.0.organisation_id.clone())
    }
    async fn organisation_name(&self) -> &str {
        &self.0.organisation
    }
    /// Who sent or read it, when known.
    async fn person(&self) -> Option<&str> {
        self.0.person.as_deref()
    }
    /// What, in words (`a referral to Mentoring sent on 5 October 2026, with the needs it gives`).
    async fn what(&self) -> &str {
        &self.0.what
    }
    /// The lawful basis relied on, in words; null for refusals and stops.
    async fn lawful_basis(&self) -> Option<&str> {
        self.0.lawful_basis.as_deref()
    }
    /// The consent relied on (or, for a stop, withdrawn), in words.
    async fn consent(&self) -> Option<&str> {
        self.0.consent.as_deref()
    }
    /// The child (an audited read), as the caller's view shows them.
    async fn child(&self, ctx: &Context<'_>) -> Result<Option<Child>> {
        child_by_id(ctx, &self.0.child_id).await
    }
}
