//! The one mapping from domain errors to GraphQL errors, and the last check on every
//! response: each error carries `extensions.code` and `extensions.requestId`, and an
//! error that reached the client without a code (a resolver that forgot to map) is
//! treated as internal: its message is replaced, never shown.

use crate::error::Error;
use async_graphql::{ErrorExtensionValues, Response, Value};

/// Maps a domain error to a GraphQL error. Internal causes are logged here, once, with
/// their chain; the client sees only that something went wrong and the request id.
pub fn to_gql(err: &Error) -> async_graphql::Error {
    let message = match err {
        Error::Internal(cause) => {
            tracing::error!(error = ?cause, "internal error");
            "internal error".to_owned()
        }
        other => other.to_string(),
    };
    let mut gql = async_graphql::Error::new(message);
    let mut ext = ErrorExtensionValues::default();
    ext.set("code", err.code());
    if let Error::TooManyRequests { retry_after_secs, .. } = err {
        ext.set("retryAfter", *retry_after_secs);
    }
    if let Error::InvalidInput(fields) = err {
        if let Some(first) = fields.first() {
            ext.set("field", first.field.clone());
        }
        let list: Vec<Value> = fields
            .iter()
            .map(|f| {
                let mut m = async_graphql::indexmap::IndexMap::new();
                m.insert(async_graphql::Name::new("field"), Value::from(f.field.clone()));
                m.insert(async_graphql::Name::new("message"), Value::from(f.message.clone()));
                Value::Object(m)
            })
            .collect();
        ext.set("fields", Value::List(list));
    }
    gql.extensions = Some(ext);
    gql
}

/// `result.gql()?` in resolvers: the domain result, mapped.
pub trait GqlResult<T> {
    fn gql(self) -> async_graphql::Result<T>;
}

impl<T> GqlResult<T> for crate::error::Result<T> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(|e| to_gql(&e))
    }
}

/// A request-level refusal (limits, batching, malformed requests).
pub fn bad_request(message: impl Into<String>) -> async_graphql::ServerError {
    let mut e = async_graphql::ServerError::new(message, None);
    let mut ext = ErrorExtensionValues::default();
    ext.set("code", "BAD_REQUEST");
    e.extensions = Some(ext);
    e
}

/// Gives every error in `response` a code and the request id.
pub fn finish(mut response: Response, request_id: &str) -> Response {
    for e in &mut response.errors {
        let has_code = e.extensions.as_ref().is_some_and(|x| x.get("code").is_some());
        if !has_code {
            let code = if e.path.is_empty() {
                // Parse and validation errors (syntax, unknown fields, depth, complexity).
                "BAD_REQUEST"
            } else {
                tracing::error!(message = %e.message, "resolver error without a code");
                e.message = "internal error".into();
                "INTERNAL"
            };
            e.extensions.get_or_insert_with(Default::default).set("code", code);
        }
        let ext = e.extensions.get_or_insert_with(Default::default);
        if ext.get("code") == Some(&Value::from("INTERNAL")) {
            e.message = format!("internal error: quote request id {request_id} when reporting it");
        }
        ext.set("requestId", request_id);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::{PathSegment, ServerError};

    fn code(e: &ServerError) -> Option<Value> {
        e.extensions.as_ref().and_then(|x| x.get("code").cloned())
    }

    #[test]
    fn internal_causes_never_reach_the_client() {
        let err = Error::Internal(anyhow::anyhow!("duplicate key value violates constraint children_pkey at 10.0.0.5"));
        let mut server = to_gql(&err).into_server_error(Default::default());
        server.path = vec![PathSegment::Field("child".into())];
        let response = finish(Response::from_errors(vec![server]), "req-123");
        let e = &response.errors[0];
        assert_eq!(code(e), Some(Value::from("INTERNAL")));
        assert!(e.message.contains("req-123"));
        assert!(!e.message.contains("constraint") && !e.message.contains("10.0.0.5"), "{}", e.message);
    }

    #[test]
    fn an_uncoded_resolver_error_is_treated_as_internal_and_a_parse_error_as_bad_request() {
        let mut leaked = ServerError::new("sqlx: connection refused (db.internal:5432)", None);
        leaked.path = vec![PathSegment::Field("children".into())];
        let parse = ServerError::new("Unknown field \"nope\"", None);
        let response = finish(Response::from_errors(vec![leaked, parse]), "req-9");
        assert_eq!(code(&response.errors[0]), Some(Value::from("INTERNAL")));
        assert!(!response.errors[0].message.contains("db.internal"));
        assert_eq!(code(&response.errors[1]), Some(Value::from("BAD_REQUEST")));
        assert_eq!(response.errors[1].message, "Unknown field \"nope\"");
        for e in &response.errors {
            assert_eq!(e.extensions.as_ref().and_then(|x| x.get("requestId").cloned()), Some(Value::from("req-9")));
        }
    }

    #[test]
    fn invalid_input_names_every_field() {
        let err = Error::InvalidInput(vec![
            crate::error::FieldError { field: "dateOfBirth".into(), message: "must be a date".into() },
            crate::error::FieldError { field: "firstName".into(), message: "must not be empty".into() },
        ]);
        let gql = to_gql(&err);
        let ext = gql.extensions.expect("extensions");
        assert_eq!(ext.get("field"), Some(&Value::from("dateOfBirth")));
        assert!(matches!(ext.get("fields"), Some(Value::List(l)) if l.len() == 2));
    }
}
