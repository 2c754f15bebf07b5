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
    if let Error::Duplicate { existing_child_id: Some(id), .. } = err {
        ext.set("existingChildId", id.clone());
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

/// A value the client sent that async-graphql could not take as its declared type (a
/// number out of range, a string for an enum, a float for an `Int`): the client's
/// mistake, never an internal error. async-graphql words these
/// `Invalid value for argument "input.attendees.0.engagement", expected type "…"`,
/// `Failed to parse "Int": Only integers from … (occurred while parsing "…Input")` or
/// `Expected input type "…", found ….`; only the first names the field.
fn is_coercion(message: &str) -> bool {
    message.starts_with("Invalid value for argument")
        || message.starts_with("Failed to parse \"")
        || message.starts_with("Expected input type \"")
}

/// The field a coercion message names, as the domain names fields:
/// `input.attendees.0.engagement` → `attendees[0].engagement`, `first` → `first`.
fn coercion_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("Invalid value for argument \"")?;
    let end = rest.find('"')?;
    let path = &rest[..end];
    let mut segments: Vec<&str> = path.split('.').collect();
    // `…, field "childTookPart" of type "Boolean!" is required but not provided` and
    // `…, unknown field "x" of type "…"` name the field after the path.
    let named = rest[end + 1..].split("field \"").nth(1).and_then(|r| r.split('"').next());
    segments.extend(named.filter(|n| !n.is_empty()));
    if segments.len() > 1 {
        segments.remove(0); // the argument holding the input object
    }
    let mut field = String::new();
    for s in segments {
        if s.chars().all(|c| c.is_ascii_digit()) {
            field.push_str(&format!("[{s}]"));
        } else {
            if !field.is_empty() {
                field.push('.');
            }
            field.push_str(s);
        }
    }
    (!field.is_empty()).then_some(field)
}

/// What a coercion error says to a person.
fn coercion_message(message: &str) -> String {
    if message.contains("Only integers from") {
        return "must be a whole number from -2147483648 to 2147483647".into();
    }
    if message.contains("is required but not provided") {
        return "is required".into();
    }
    if message.contains("unknown field") {
        return "is not a field this input takes".into();
    }
    let expected = message
        .split("expected type \"")
        .nth(1)
        .or_else(|| message.strip_prefix("Expected input type \""))
        .and_then(|t| t.split('"').next())
        .filter(|t| !t.is_empty());
    match expected {
        Some(t) => format!("is not a value this field takes (it takes {t})"),
        None => "is not a value this field takes".into(),
    }
}

/// Rewrites a coercion error as `INVALID_INPUT` naming the field, or `BAD_REQUEST` when
/// the field cannot be told; `None` for any other error.
fn coerced(e: &async_graphql::ServerError) -> Option<(String, ErrorExtensionValues)> {
    if !is_coercion(&e.message) {
        return None;
    }
    let message = coercion_message(&e.message);
    match coercion_field(&e.message) {
        Some(field) => {
            let err = Error::invalid(field, message);
            let gql = to_gql(&err);
            Some((gql.message, gql.extensions.unwrap_or_default()))
        }
        None => {
            let mut ext = ErrorExtensionValues::default();
            ext.set("code", "BAD_REQUEST");
            let text = if message.starts_with("must") {
                format!("a number in the request {message}")
            } else {
                format!("a value in the request {message}")
            };
            Some((text, ext))
        }
    }
}

/// Gives every error in `response` a code and the request id.
pub fn finish(mut response: Response, request_id: &str) -> Response {
    for e in &mut response.errors {
        let has_code = e.extensions.as_ref().is_some_and(|x| x.get("code").is_some());
        if !has_code && let Some((message, ext)) = coerced(e) {
            e.message = message;
            e.extensions = Some(ext);
        }
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

/// Notes, for each top-level mutation field, whether its change committed while it ran
/// (the request's [`WriteLog`](crate::idempotency::WriteLog) counts commits), so that an
/// error in its answer afterwards is reported as "saved" ([`saved_after_commit`]), never as
/// a change that was rolled back.
pub struct AfterCommit;

impl async_graphql::extensions::ExtensionFactory for AfterCommit {
    fn create(&self) -> std::sync::Arc<dyn async_graphql::extensions::Extension> {
        std::sync::Arc::new(AfterCommit)
    }
}

#[async_trait::async_trait]
impl async_graphql::extensions::Extension for AfterCommit {
    async fn resolve(
        &self,
        ctx: &async_graphql::extensions::ExtensionContext<'_>,
        info: async_graphql::extensions::ResolveInfo<'_>,
        next: async_graphql::extensions::NextResolve<'_>,
    ) -> async_graphql::ServerResult<Option<Value>> {
        let writes = match ctx.data_opt::<crate::graphql::Identity>() {
            Some(crate::graphql::Identity::Known(actor))
                if info.path_node.parent.is_none() && info.parent_type == "Mutation" =>
            {
                actor.writes.clone()
            }
            _ => None,
        };
        let Some(writes) = writes else { return next.run(ctx, info).await };
        let key = match info.path_node.segment {
            async_graphql::QueryPathSegment::Name(key) => key.to_owned(),
            async_graphql::QueryPathSegment::Index(i) => i.to_string(),
        };
        let before = writes.commits();
        let result = next.run(ctx, info).await;
        if writes.commits() > before {
            writes.note_saved_field(&key);
        }
        result
    }
}

/// Rewrites the errors of a mutation's answer that came after its change committed (the
/// top-level field named in `saved_fields` had committed): `CHANGE_SAVED`, saying the
/// change was made, with the ids of the children it touched — so no client reads it as
/// rolled back and sends it again. An error without a path (the whole answer withheld,
/// e.g. because its read audit could not be written) came after the commit too. Call
/// after [`finish`].
pub fn saved_after_commit(mut response: Response, saved_fields: &[String], child_ids: &[String]) -> Response {
    for e in &mut response.errors {
        let under_saved = match e.path.first() {
            None => !saved_fields.is_empty(),
            Some(async_graphql::PathSegment::Field(f)) => saved_fields.iter().any(|s| s == f),
            Some(_) => false,
        };
        if !under_saved {
            continue;
        }
        let ext = e.extensions.get_or_insert_with(Default::default);
        let request_id = match ext.get("requestId") {
            Some(Value::String(id)) => id.clone(),
            _ => "-".to_owned(),
        };
        // A caller's error on a nested field (a page too large, a field their role may not
        // see) keeps its reason; a failure says only that the answer could not be read.
        let reason = match ext.get("code") {
            Some(Value::String(code)) if code != "INTERNAL" => format!(" ({})", e.message),
            _ => String::new(),
        };
        e.message = format!(
            "the change was saved, but part of the answer could not be read{reason}: do not send it again; read \
             the record to see it (quote request id {request_id} when reporting this)"
        );
        ext.set("code", "CHANGE_SAVED");
        ext.set("changeSaved", true);
        ext.set("childIds", Value::List(child_ids.iter().map(|id| Value::from(id.clone())).collect()));
    }
    response
}

/// The answer to a retry whose first request made its change but whose answer was lost
/// before it was stored: `ALREADY_DONE`, with the ids of the children the change touched.
pub fn already_done(child_ids: &[String], request_id: &str) -> Response {
    let mut e = async_graphql::ServerError::new(
        "this change was already made by an earlier request with the same Idempotency-Key; its answer was not \
         kept: read the record to see it, and do not send the change again",
        None,
    );
    let mut ext = ErrorExtensionValues::default();
    ext.set("code", "ALREADY_DONE");
    ext.set("changeSaved", true);
    ext.set("childIds", Value::List(child_ids.iter().map(|id| Value::from(id.clone())).collect()));
    e.extensions = Some(ext);
    finish(Response::from_errors(vec![e]), request_id)
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

    fn run(query: &str, variables: serde_json::Value) -> Response {
        let schema = crate::graphql::build_schema(&crate::settings::Settings::default().graphql, None);
        let request = async_graphql::Request::new(query).variables(async_graphql::Variables::from_json(variables));
        let response =
            futures_util::FutureExt::now_or_never(schema.execute(request)).expect("no waiting before the resolver");
        finish(response, "req-c")
    }

    fn ext(e: &ServerError, key: &str) -> Option<Value> {
        e.extensions.as_ref().and_then(|x| x.get(key).cloned())
    }

    #[test]
    fn values_async_graphql_cannot_coerce_are_the_callers_mistake() {
        // An enum of the wrong kind, deep in an input object: named as the domain names it.
        let r = run(
            r#"mutation { logSession(input: {programmeId: "x", heldOn: "2026-01-01", durationMinutes: 5, kind: GROUP, attendees: [{childId: "a", status: ATTENDED, engagement: 99}]}) { id } }"#,
            serde_json::json!({}),
        );
        assert_eq!(code(&r.errors[0]), Some(Value::from("INVALID_INPUT")), "{:?}", r.errors);
        assert_eq!(ext(&r.errors[0], "field"), Some(Value::from("attendees[0].engagement")));
        assert!(r.errors[0].message.contains("EngagementLevel"), "{}", r.errors[0].message);
        // A top-level argument of the wrong type.
        let r = run(r#"query { children(first: "many") { edges { cursor } } }"#, serde_json::json!({}));
        assert_eq!(code(&r.errors[0]), Some(Value::from("INVALID_INPUT")), "{:?}", r.errors);
        assert_eq!(ext(&r.errors[0], "field"), Some(Value::from("first")));
        // An Int out of range where async-graphql does not say which field: BAD_REQUEST,
        // not INTERNAL (a resolver error with a path would be).
        let r = run(
            "query($v: Int) { programmes(filter: {age: 5}, first: $v) { edges { cursor } } }",
            serde_json::json!({"v": 99_999_999_999u64}),
        );
        assert_eq!(code(&r.errors[0]), Some(Value::from("BAD_REQUEST")), "{:?}", r.errors);
        assert!(r.errors[0].message.contains("whole number"), "{}", r.errors[0].message);
        assert_eq!(ext(&r.errors[0], "requestId"), Some(Value::from("req-c")));
    }

    #[test]
    fn coercion_fields_are_spelt_as_the_domain_spells_them() {
        let f = |m: &str| coercion_field(m);
        assert_eq!(
            f(r#"Invalid value for argument "input.yearGroup", expected type "Int""#).as_deref(),
            Some("yearGroup")
        );
        assert_eq!(f(r#"Invalid value for argument "first", expected type "Int""#).as_deref(), Some("first"));
        assert_eq!(
            f(r#"Invalid value for argument "input.goals.2.targetLevel", expected type "Int""#).as_deref(),
            Some("goals[2].targetLevel")
        );
        assert_eq!(
            f(r#"Invalid value for argument "input", field "childTookPart" of type "Boolean!" is required but not provided"#)
                .as_deref(),
            Some("childTookPart")
        );
        assert_eq!(
            f(r#"Invalid value for argument "input.goals.0", unknown field "colour" of type "PlanGoalInput""#)
                .as_deref(),
            Some("goals[0].colour")
        );
        assert_eq!(
            coercion_message(
                r#"Invalid value for argument "input", field "a" of type "B!" is required but not provided"#
            ),
            "is required"
        );
        assert_eq!(f(r#"Failed to parse "Int": Only integers (occurred while parsing "X")"#), None);
        assert!(!is_coercion("sqlx: connection refused"));
    }

    #[test]
    fn errors_after_a_commit_say_the_change_was_saved_and_others_do_not() {
        let mut nested = ServerError::new("sqlx: pool closed", None);
        nested.path = vec![PathSegment::Field("made".into()), PathSegment::Field("anchor".into())];
        let mut refused = to_gql(&Error::conflict("no")).into_server_error(Default::default());
        refused.path = vec![PathSegment::Field("other".into())];
        let response = finish(Response::from_errors(vec![nested, refused]), "req-7");
        let response = saved_after_commit(response, &["made".to_owned()], &["c1".to_owned()]);
        let saved = &response.errors[0];
        assert_eq!(code(saved), Some(Value::from("CHANGE_SAVED")));
        assert!(saved.message.contains("was saved") && saved.message.contains("req-7"), "{}", saved.message);
        assert!(!saved.message.contains("pool"), "a failure's cause stays in the log");
        let ext = saved.extensions.as_ref().expect("extensions");
        assert_eq!(ext.get("childIds"), Some(&Value::List(vec![Value::from("c1")])));
        assert_eq!(code(&response.errors[1]), Some(Value::from("CONFLICT")), "a field that saved nothing is untouched");
        // A caller's error under the saved field keeps its reason.
        let mut paged = to_gql(&Error::invalid("first", "must be at most 100")).into_server_error(Default::default());
        paged.path = vec![PathSegment::Field("made".into()), PathSegment::Field("referrals".into())];
        let response =
            saved_after_commit(finish(Response::from_errors(vec![paged]), "req-10"), &["made".to_owned()], &[]);
        assert_eq!(code(&response.errors[0]), Some(Value::from("CHANGE_SAVED")));
        assert!(response.errors[0].message.contains("must be at most 100"), "{}", response.errors[0].message);
        // The whole answer withheld after the commit (its read audit failed).
        let withheld = to_gql(&Error::Internal(anyhow::anyhow!("audit"))).into_server_error(Default::default());
        let response = finish(Response::from_errors(vec![withheld.clone()]), "req-8");
        let response = saved_after_commit(response, &["made".to_owned()], &["c1".to_owned()]);
        assert_eq!(code(&response.errors[0]), Some(Value::from("CHANGE_SAVED")));
        let response = saved_after_commit(finish(Response::from_errors(vec![withheld]), "req-9"), &[], &[]);
        assert_eq!(code(&response.errors[0]), Some(Value::from("INTERNAL")), "nothing saved: still INTERNAL");
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
