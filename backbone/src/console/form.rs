//! Reading what a form sent: its fields, and the checks the form itself can make before
//! asking the API (a date with all three parts, a whole number) — each problem worded
//! once.

use super::Signed;
use super::layout::{DateParts, Problem};
use crate::error::Error;
use crate::http::AppState;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::response::Response;
use std::sync::Arc;

/// A form posted by a signed-in person, its CSRF token checked: a form without this
/// session's token is refused (403) before the handler runs, and nothing is done.
pub struct Posted {
    pub signed: Signed,
    pub fields: Fields,
}

impl FromRequest<Arc<AppState>> for Posted {
    type Rejection = Response;

    async fn from_request(request: Request, state: &Arc<AppState>) -> Result<Posted, Response> {
        let (mut parts, body) = request.into_parts();
        let signed = Signed::from_request_parts(&mut parts, state).await?;
        // The body's size is already bounded (`server.max_body_bytes`, in `http.rs`).
        let bytes = axum::body::to_bytes(body, usize::MAX)
            .await
            .map_err(|_| signed.refused(&Error::invalid("form", "could not be read: send it again")))?;
        let fields = Fields::parse(&bytes);
        if let Some(refused) = signed.forged(&fields.get("csrf")) {
            return Err(refused);
        }
        Ok(Posted { signed, fields })
    }
}

/// The `name=value` pairs of an `application/x-www-form-urlencoded` body, in order.
pub struct Fields(Vec<(String, String)>);

impl Fields {
    pub fn parse(body: &[u8]) -> Fields {
        Fields(serde_urlencoded::from_bytes::<Vec<(String, String)>>(body).unwrap_or_default())
    }

    /// The first value of `name` (empty when absent).
    pub fn get(&self, name: &str) -> String {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
    }

    /// Every pair, in order (repeated fields: checkboxes, a register's lines).
    pub fn pairs(self) -> Vec<(String, String)> {
        self.0
    }
}

/// The day typed into the date fields `{id}-day`…, as the API takes it, or a problem
/// linking to the day.
pub fn day_given(parts: &DateParts, id: &str, problems: &mut Vec<Problem>) -> Option<String> {
    let day = parts.iso();
    if day.is_none() {
        problems.push(Problem {
            field: Some(format!("{id}-day")),
            message: "Enter the date as a day, month and year, in numbers".into(),
        });
    }
    day
}

/// A whole number of minutes typed into `id`, or a problem linking to it.
pub fn minutes_given(value: &str, id: &str, problems: &mut Vec<Problem>) -> Option<i64> {
    let minutes = value.trim().parse::<i64>().ok();
    if minutes.is_none() {
        problems.push(Problem { field: Some(id.into()), message: "Enter how long it was, in whole minutes".into() });
    }
    minutes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_keep_their_order_and_checks_name_their_field() {
        let f = Fields::parse(b"a=1&b=x+y&a=2");
        assert_eq!(f.get("a"), "1");
        assert_eq!(f.get("b"), "x y");
        assert_eq!(f.get("c"), "");
        assert_eq!(f.pairs().len(), 3);
        let mut problems = Vec::new();
        assert_eq!(minutes_given("a while", "minutes", &mut problems), None);
        assert_eq!(minutes_given(" 15 ", "minutes", &mut problems), Some(15));
        assert_eq!(day_given(&DateParts::default(), "held-on", &mut problems), None);
        let fields: Vec<_> = problems.iter().filter_map(|p| p.field.as_deref()).collect();
        assert_eq!(fields, ["minutes", "held-on-day"]);
    }
}
