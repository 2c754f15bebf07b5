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
    /// The child may be one already recorded: `CONFLICT`, naming the existing child
    /// (`extensions.existingChildId`) only when the caller may see them.
    #[error("{message}")]
    Duplicate { message: String, existing_child_id: Option<String> },
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
            Error::Conflict(_) | Error::Duplicate { .. } => "CONFLICT",
            Error::TooManyRequests { .. } => "TOO_MANY_REQUESTS",
            Error::Internal(_) => "INTERNAL",
        }
    }

    /// Maps a database error, turning constraint violations into domain errors: the one
    /// place where the database's words become the domain's. `unique` names the field
    /// blamed for a unique violation.
    ///
    /// A storage fault (see [`is_storage_fault`]) also tells the pool to replace its
    /// connections (`store::db::storage_fault`), so the service recovers without a restart.
    pub fn from_db(err: DbErr, unique: Option<(&str, &str)>) -> Self {
        if is_storage_fault(&err) {
            crate::store::db::storage_fault();
        }
        match (err.sql_err(), unique) {
            (Some(SqlErr::UniqueConstraintViolation(_)), Some((field, message))) => Error::invalid(field, message),
            (Some(SqlErr::UniqueConstraintViolation(_)), None) => {
                Error::conflict("a record with these details already exists")
            }
            _ if is_collision(&err) => Error::conflict(
                "someone else was changing the same record at the same moment; nothing of this was saved: try again",
            ),
            _ => Error::Internal(err.into()),
        }
    }
}

/// Whether a database error means the storage cannot take writes through this connection:
/// SQLite's `SQLITE_READONLY` and `SQLITE_IOERR` families (any extended code: the primary
/// code is the low byte) or `SQLITE_CANTOPEN`, and PostgreSQL's `read_only_sql_transaction`
/// (25006, e.g. a standby after a failover). A SQLite connection opened while its file was
/// read-only stays read-only, so such a connection must be replaced, not retried.
pub fn is_storage_fault(err: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    match err {
        DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e))
        | DbErr::Conn(RuntimeErr::SqlxError(e)) => is_sqlx_storage_fault(e),
        _ => false,
    }
}

/// Whether PostgreSQL gave up one of two transactions that waited on each other
/// (`deadlock_detected`, 40P01) or could not be serialised (40001): nothing of it was
/// written, and the same request again will go through.
fn is_collision(err: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    let (DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e))) = err else {
        return false;
    };
    let sea_orm::sqlx::Error::Database(e) = &**e else { return false };
    e.try_downcast_ref::<sea_orm::sqlx::postgres::PgDatabaseError>().is_some()
        && matches!(e.code().as_deref(), Some("40P01" | "40001"))
}

fn is_sqlx_storage_fault(err: &sea_orm::sqlx::Error) -> bool {
    let sea_orm::sqlx::Error::Database(e) = err else { return false };
    let Some(code) = e.code() else { return false };
    if e.try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>().is_some() {
        code.parse::<i32>().is_ok_and(sqlite_storage_fault)
    } else {
        code == "25006"
    }
}

/// `SQLITE_IOERR` (10), `SQLITE_CANTOPEN` (14), `SQLITE_READONLY` (8), with any extended
/// code (`SQLITE_READONLY_DBMOVED` = 1032, `SQLITE_IOERR_WRITE` = 778, …).
fn sqlite_storage_fault(extended: i32) -> bool {
    matches!(extended & 0xff, 8 | 10 | 14)
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
    fn storage_faults_are_told_from_other_errors() {
        for code in [8, 264, 520, 776, 1032, 1288, 1544, 10, 778, 14] {
            assert!(sqlite_storage_fault(code), "{code}");
        }
        // SQLITE_BUSY, SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_FOREIGNKEY, SQLITE_FULL.
        for code in [5, 2067, 787, 13] {
            assert!(!sqlite_storage_fault(code), "{code}");
        }
        assert!(!is_storage_fault(&DbErr::Custom("attempt to write a readonly database".into())));
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
