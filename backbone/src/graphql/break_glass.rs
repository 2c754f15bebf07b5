//! GraphQL types of break-glass (`domain::break_glass`): the mutations are
//! `Mutation.breakGlass` and `Mutation.reviewBreakGlass`, the list
//! `Query.breakGlassOpenings`, the anchor lead's events `Subscription.recordsOpened`.

use crate::graphql::brokering::child_by_id;
use crate::graphql::types::{Child, Organisation, User, organisation_by_id, user_by_id};
use crate::store::break_glass;
use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};

/// A child's record opened outside the reader's scope, for a stated reason and a
/// limited time. Seen by whoever opened it, the child's anchor leads and backbone admins.
pub struct BreakGlass(pub break_glass::Model);

#[Object]
impl BreakGlass {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn child_id(&self) -> ID {
        ID(self.0.child_id.clone())
    }
    /// The child (an audited read), if the caller may see them now: the person who opened
    /// the record, only while the opening is in force.
    async fn child(&self, ctx: &Context<'_>) -> Result<Option<Child>> {
        child_by_id(ctx, &self.0.child_id).await
    }
    /// Who opened it.
    async fn opened_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        user_by_id(ctx, &self.0.user_id).await
    }
    /// The organisation they opened it from.
    async fn organisation(&self, ctx: &Context<'_>) -> Result<Organisation> {
        organisation_by_id(ctx, &self.0.organisation_id).await
    }
    /// Why, in their words.
    async fn reason(&self) -> &str {
        &self.0.reason
    }
    async fn opened_at(&self) -> DateTime<Utc> {
        self.0.opened_at
    }
    /// When it ends (`breakGlass.hours` after it was opened).
    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.expires_at
    }
    /// When it ended early: the record was opened again, with a new reason.
    async fn ended_at(&self) -> Option<DateTime<Utc>> {
        self.0.ended_at
    }
    /// Whether it is in force now.
    async fn in_force(&self) -> bool {
        self.0.ended_at.is_none() && self.0.expires_at > Utc::now()
    }
    async fn reviewed_at(&self) -> Option<DateTime<Utc>> {
        self.0.reviewed_at
    }
    async fn reviewed_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(id) = &self.0.reviewed_by else { return Ok(None) };
        user_by_id(ctx, id).await
    }
}
