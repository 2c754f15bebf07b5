//! GraphQL type of a subject-access answer (`domain::subject_access`); the query is
//! `Query.subjectAccess`.

use crate::domain::subject_access as domain;
use crate::error::Error;
use crate::graphql::errors::to_gql;
use async_graphql::{Object, Result};

/// Everything the zone holds about one child, and who has read or changed it.
pub struct SubjectAccessAnswer(pub domain::SubjectAccess);

#[Object]
impl SubjectAccessAnswer {
    async fn child_id(&self) -> &str {
        &self.0.child_id
    }
    /// Every table that references the child, row by row, what is withheld and why, and
    /// the access log: one JSON document (as `backbone export subject-access --format
    /// json` writes it).
    async fn json(&self) -> Result<String> {
        serde_json::to_string_pretty(&self.0).map_err(|e| to_gql(&Error::Internal(e.into())))
    }
    /// The same, as a self-contained HTML page a family can be given (print it to PDF
    /// from a browser).
    async fn html(&self) -> String {
        domain::to_html(&self.0)
    }
}
