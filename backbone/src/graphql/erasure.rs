//! GraphQL type of an erasure's receipt (`domain::erasure`); the mutation is
//! `Mutation.eraseChild`.

use crate::domain::erasure as domain;
use async_graphql::{ID, Object};
use chrono::{DateTime, Utc};

/// What an erasure did: the record is de-identified; its figures stay.
pub struct ErasureReceipt(pub domain::Erased);

#[Object]
impl ErasureReceipt {
    async fn child_id(&self) -> ID {
        ID(self.0.child_id.clone())
    }
    async fn erased_at(&self) -> DateTime<Utc> {
        self.0.erased_at
    }
    /// Rows deleted or changed, over every table.
    async fn rows_changed(&self) -> u64 {
        self.0.rows_changed
    }
}
