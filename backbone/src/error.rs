//! The domain's one error type. Every layer below GraphQL returns [`Error`]; the GraphQL
//! layer maps it exactly once to a response error with `extensions.code`
//! (`graphql::errors`). Internal causes are logged there and never shown to a client.

use sea_orm::{DbErr, SqlErr};

/// A named input field that failed validation, with a message a person can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field's name as the API spells it (camelCase), e.g. `dateOfBirth`.
    pub field: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No valid credentials, or an expired or revoked token.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// The caller may see the record but may not do this to it.
    #[error("{0}")]
    Forbidden(String),
    /// The record does not exist, or the caller may not know that it exists.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// One or more inputs are invalid; nothing was written.
    #[error("invalid input: {}", .0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
    InvalidInput(Vec<FieldError>),
    /// The request is valid but conflicts with the record's state (an illegal transition,
    /// a duplicate).
    #[error("{0}")]
    Conflict(String),
    /// Too many attempts (failed logins, or requests per minute): refused until
    /// `retry_after_secs` have passed. Answered over HTTP with `429` and `Retry-After`.
    #[error("{message}: try again in {}", wait_words(*.retry_after_secs))]
    TooManyRequests { message: &'static str, retry_after_secs: u64 },
    /// Anything else. The cause is logged with the request id; the client sees neither.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// One invalid field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidInput(vec![FieldError { field: field.into(), message: message.into() }])
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Error::Forbidden(message.into())
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Error::Conflict(message.into())
    }

    /// The stable code clients switch on (`extensions.code`).
    pub fn code(&self) -> &'static str {
        match self {
            Error::Unauthenticated(_) => "UNAUTHENTICATED",
            Error::Forbidden(_) => "FORBIDDEN",
            Error::NotFound(_) => "NOT_FOUND",
            Error::InvalidInput(_) => "INVALID_INPUT",
            Error::Conflict(_) => "CONFLICT",
            Error::TooManyRequests { .. } => "TOO_MANY_REQUESTS",
            Error::Internal(_) => "INTERNAL",
        }
    }

    /// Maps a database error, turning constraint violations into domain errors: the one
    /// place where the database's words become the domain's. `unique` names the field
    /// blamed for a unique violation.
    pub fn from_db(err: DbErr, unique: Option<(&str, &str)>) -> Self {
        match (err.sql_err(), unique) {
            (Some(SqlErr::UniqueConstraintViolation(_)), Some((field, message))) => Error::invalid(field, message),
            (Some(SqlErr::UniqueConstraintViolation(_)), None) => {
                Error::conflict("a record with these details already exists")
            }
            _ => Error::Internal(err.into()),
        }
    }
}

impl From<DbErr> for Error {
    fn from(err: DbErr) -> Self {
        Error::from_db(err, None)
    }
}

impl From<validator::ValidationErrors> for Error {
    fn from(errors: validator::ValidationErrors) -> Self {
        let mut fields: Vec<FieldError> = errors
            .field_errors()
            .into_iter()
            .flat_map(|(field, errs)| {
                let field = camel_case(&field);
                errs.iter().map(move |e| FieldError {
                    field: field.clone(),
                    message: e
                        .message
                        .as_ref()
                        .map(|m| m.to_string())
                        .unwrap_or_else(|| format!("is invalid ({})", e.code)),
                })
            })
            .collect();
        fields.sort_by(|a, b| a.field.cmp(&b.field));
        Error::InvalidInput(fields)
    }
}

/// "1 second", "45 seconds", "2 minutes" (rounded up): how long to wait, in words.
fn wait_words(secs: u64) -> String {
    match secs {
        1 => "1 second".into(),
        s if s < 120 => format!("{s} seconds"),
        s => format!("{} minutes", s.div_ceil(60)),
    }
}

/// `date_of_birth` → `dateOfBirth`, so that errors name fields as the API does.
pub fn camel_case(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_cases_field_names() {
        assert_eq!(camel_case("date_of_birth"), "dateOfBirth");
        assert_eq!(camel_case("upn"), "upn");
    }

    #[test]
    fn codes_are_stable() {
        assert_eq!(Error::invalid("x", "y").code(), "INVALID_INPUT");
        assert_eq!(Error::NotFound("child").code(), "NOT_FOUND");
        assert_eq!(Error::Internal(anyhow::anyhow!("boom")).to_string(), "internal error");
        let slow = Error::TooManyRequests { message: "too many failed sign-in attempts", retry_after_secs: 61 };
        assert_eq!(slow.code(), "TOO_MANY_REQUESTS");
        assert_eq!(slow.to_string(), "too many failed sign-in attempts: try again in 61 seconds");
        let long = Error::TooManyRequests { message: "too many requests", retry_after_secs: 600 };
        assert_eq!(long.to_string(), "too many requests: try again in 10 minutes");
    }
}
