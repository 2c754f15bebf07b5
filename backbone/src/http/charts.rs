//! `GET /charts/{funnel,levels,attendance}.{svg,png}`: the metrics charts over HTTP, for
//! funders and the backbone team, with the bearer token as for `/graphql`.
//!
//! Every chart is drawn from the same domain calls as the `metrics` query
//! (`domain::metrics::metrics`, `domain::metrics::attendance_by_month`), so disclosure
//! control is exactly the same; `crate::charts` only draws. The query string maps to the
//! metrics filter: `period`, `cohort`, `anchorId`, `partnerId`, `programmeId`,
//! `yearGroup`, `characteristic` (`fsm`, `send`, `eal`) and `area` (required for the
//! levels chart). Refusals come as a JSON body with `extensions.code`, as from `/graphql`:
//! 401 `UNAUTHENTICATED`, 403 `FORBIDDEN`, 400 `INVALID_INPUT` naming the parameter, 404
//! `NOT_FOUND` for an unknown chart. Figures are per audience, so nothing is cached.

use super::{AppState, failure, metrics_caller, request_id};
use crate::auth::Actor;
use crate::charts::{self, Frame};
use crate::domain::OutcomeDomain;
use crate::domain::disclosure::Rules;
use crate::domain::metrics::{self, Characteristic, Dimension, Filter};
use crate::error::{Error, FieldError};
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use axum::routing::get;
use std::sync::Arc;

/// The settings a chart or a metrics download needs: the same as the `metrics` query's.
#[derive(Clone, Copy)]
pub(super) struct MetricsSettings {
    pub(super) rules: Rules,
    pub(super) engaged_after: i64,
}

impl MetricsSettings {
    pub(super) fn of(settings: &crate::settings::Settings) -> Self {
        MetricsSettings { rules: settings.disclosure, engaged_after: settings.metrics.engaged_after_sessions }
    }
}

/// The chart routes, merged into the service's router.
pub(super) fn routes(settings: &crate::settings::Settings) -> Router<Arc<AppState>> {
    let config = MetricsSettings::of(settings);
    Router::new().route(
        "/charts/{file}",
        get(
            move |State(state): State<Arc<AppState>>,
                  headers: HeaderMap,
                  Path(file): Path<String>,
                  query: Result<Query<Vec<(String, String)>>, QueryRejection>| async move {
                chart(&state, &headers, &file, query, config).await
            },
        ),
    )
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Funnel,
    Levels,
    Attendance,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Svg,
    Png,
}

fn chart_file(file: &str) -> Option<(Kind, Format)> {
    let (name, ext) = file.rsplit_once('.')?;
    let kind = match name {
        "funnel" => Kind::Funnel,
        "levels" => Kind::Levels,
        "attendance" => Kind::Attendance,
        _ => return None,
    };
    let format = match ext {
        "svg" => Format::Svg,
        "png" => Format::Png,
        _ => return None,
    };
    Some((kind, format))
}

/// A refusal as a JSON body with a code and the request id, as `/graphql` gives.
/// The domain names filter fields as the GraphQL input does (`filter.period`); here they
/// are query parameters (`period`).
pub(super) fn as_parameters(err: Error) -> Error {
    match err {
        Error::InvalidInput(fields) => Error::InvalidInput(
            fields
                .into_iter()
                .map(|f| FieldError { field: f.field.strip_prefix("filter.").unwrap_or(&f.field).to_owned(), ..f })
                .collect(),
        ),
        other => other,
    }
}

const PARAMETERS: &str = "period, cohort, anchorId, partnerId, programmeId, yearGroup, characteristic, area";

/// Reads the query string into a metrics filter. Empty values count as absent; unknown or
/// repeated parameters are refused (a misspelt filter must not silently widen a chart).
pub(super) fn filter(pairs: Vec<(String, String)>) -> crate::Result<Filter> {
    let mut f = Filter::default();
    let mut seen: Vec<String> = Vec::new();
    for (name, value) in pairs {
        let name: String = name.chars().take(40).collect();
        if seen.contains(&name) {
            return Err(Error::invalid(name, "is given more than once"));
        }
        seen.push(name.clone());
        let value = value.trim().to_owned();
        if value.is_empty() {
            continue;
        }
        if value.chars().count() > 100 {
            return Err(Error::invalid(name, "is too long"));
        }
        match name.as_str() {
            "period" => {
                metrics::period(&value).map_err(as_parameters)?;
                f.period = Some(value);
            }
            "cohort" => f.cohort = Some(value),
            "anchorId" => f.anchor_id = Some(value),
            "partnerId" => f.partner_id = Some(value),
            "programmeId" => f.programme_id = Some(value),
            "yearGroup" => {
                let year =
                    value.parse().map_err(|_| Error::invalid("yearGroup", "must be a school year from -1 to 13"))?;
                f.year_group = Some(year);
            }
            "characteristic" => {
                f.characteristic = Some(match value.to_ascii_lowercase().as_str() {
                    "fsm" => Characteristic::Fsm,
                    "send" => Characteristic::Send,
                    "eal" => Characteristic::Eal,
                    _ => return Err(Error::invalid("characteristic", "must be fsm, send or eal")),
                });
            }
            "area" => {
                if !OutcomeDomain::ALL.iter().any(|d| d.as_str() == value) {
                    let known: Vec<&str> = OutcomeDomain::ALL.iter().map(|d| d.as_str()).collect();
                    return Err(Error::invalid("area", format!("must be one of {}", known.join(", "))));
                }
                f.area = Some(value);
            }
            _ => return Err(Error::invalid(name, format!("is not a chart parameter (they are: {PARAMETERS})"))),
        }
    }
    Ok(f)
}

/// What a chart's figures cover, in words, with the names of the organisation or
/// programme filtered on (not personal data) and when the figures were computed.
async fn selection(state: &AppState, filter: &Filter) -> crate::Result<String> {
    let mut parts = vec![match &filter.period {
        Some(p) => metrics::period(p).map_err(as_parameters)?.label,
        None => "All periods".to_owned(),
    }];
    if let Some(cohort) = &filter.cohort {
        parts.push(format!("cohort {cohort}"));
    }
    for (id, dimension, what) in [
        (&filter.anchor_id, Dimension::Anchor, "anchor"),
        (&filter.partner_id, Dimension::Partner, "partner"),
        (&filter.programme_id, Dimension::Programme, "programme"),
    ] {
        if let Some(id) = id {
            let names = metrics::labels(&state.db, dimension, std::slice::from_ref(id)).await?;
            parts.push(format!("{what}: {}", names.get(id).unwrap_or(id)));
        }
    }
    if let Some(year) = filter.year_group {
        parts.push(format!("year {year}"));
    }
    if let Some(c) = filter.characteristic {
        parts.push(
            match c {
                Characteristic::Fsm => "free school meals",
                Characteristic::Send => "SEND",
                Characteristic::Eal => "EAL",
            }
            .to_owned(),
        );
    }
    if let Some(at) = metrics::refreshed_at(&state.db).await? {
        parts.push(format!("figures as of {}", at.format("%Y-%m-%d %H:%M UTC")));
    }
    Ok(parts.join(" · "))
}

/// An outcome area's name and the names of the scale's levels, from the live framework
/// (the code and no names when none is loaded).
async fn area_names(state: &AppState, area: &str) -> crate::Result<(String, Vec<String>)> {
    match crate::domain::outcomes::version(&state.db, None).await {
        Ok(v) => {
            let name = v.framework.areas.iter().find(|a| a.code == area).map_or(area, |a| a.name.as_str()).to_owned();
            let mut scale = v.framework.scale.clone();
            scale.sort_by_key(|l| l.level);
            Ok((name, scale.into_iter().map(|l| l.label).collect()))
        }
        Err(Error::NotFound(_)) => Ok((area.to_owned(), Vec::new())),
        Err(e) => Err(e),
    }
}

/// Draws one chart as SVG for `actor`.
async fn draw(
    state: &AppState,
    actor: &Actor,
    kind: Kind,
    filter: Filter,
    config: MetricsSettings,
) -> crate::Result<String> {
    let selection = selection(state, &filter).await?;
    let (rules, engaged_after) = (config.rules, config.engaged_after);
    Ok(match kind {
        Kind::Funnel => {
            let m = metrics::metrics(&state.db, actor, rules, engaged_after, filter, None).await?;
            let frame = Frame {
                title: "Children at each stage of enrolment",
                selection: &selection,
                audience: m.audience,
                rules: m.rules,
            };
            charts::funnel_svg(&m.total, &frame)
        }
        Kind::Levels => {
            let Some(area) = filter.area.clone() else {
                let known: Vec<&str> = OutcomeDomain::ALL.iter().map(|d| d.as_str()).collect();
                return Err(Error::invalid("area", format!("give an outcome area: one of {}", known.join(", "))));
            };
            let (name, scale) = area_names(state, &area).await?;
            let m = metrics::metrics(&state.db, actor, rules, engaged_after, filter, None).await?;
            let title = format!("{name}: levels at baseline and latest assessment");
            let frame = Frame { title: &title, selection: &selection, audience: m.audience, rules: m.rules };
            let outcome = m.total.outcomes.iter().find(|a| a.area == area);
            charts::levels_svg(outcome, &name, &scale, &frame)
        }
        Kind::Attendance => {
            let audience = crate::access::metrics_audience(actor)?;
            let months = metrics::attendance_by_month(&state.db, actor, rules, engaged_after, filter).await?;
            let frame = Frame { title: "Attendance by month", selection: &selection, audience, rules };
            charts::attendance_svg(&months, &frame)
        }
    })
}

/// Renders a PNG off the async runtime, a few at a time: rendering is CPU-bound, and a
/// burst of PNG requests must not take every core from the rest of the service.
async fn render(svg: String) -> crate::Result<Vec<u8>> {
    static RENDERING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);
    let _turn = RENDERING.acquire().await.map_err(|e| Error::Internal(e.into()))?;
    tokio::task::spawn_blocking(move || charts::png(&svg)).await.map_err(|e| Error::Internal(e.into()))?
}

async fn chart(
    state: &AppState,
    headers: &HeaderMap,
    file: &str,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    config: MetricsSettings,
) -> axum::response::Response {
    let request_id = request_id(headers);
    let Some((kind, format)) = chart_file(file) else {
        return failure(&Error::NotFound("chart"), &request_id);
    };
    // Who may read charts is who may read metrics: refused before anything is read.
    let (actor, pairs) = match metrics_caller(state, headers, &request_id, query).await {
        Ok(found) => found,
        Err(refusal) => return refusal,
    };
    let drawn = match filter(pairs) {
        Ok(filter) => draw(state, &actor, kind, filter, config).await,
        Err(e) => Err(e),
    };
    let svg = match drawn.map_err(as_parameters) {
        Ok(svg) => svg,
        Err(e) => return failure(&e, &request_id),
    };
    let (content_type, body) = match format {
        Format::Svg => ("image/svg+xml", svg.into_bytes()),
        Format::Png => match render(svg).await {
            Ok(png) => ("image/png", png),
            Err(e) => return failure(&e, &request_id),
        },
    };
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            // Figures are per audience and per moment: never from a cache.
            (header::CACHE_CONTROL, "no-store".to_owned()),
            (header::CONTENT_DISPOSITION, format!("inline; filename=\"{file}\"")),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            // An SVG opened on its own is a document: it may run nothing and load nothing.
            (header::CONTENT_SECURITY_POLICY, "default-src 'none'; style-src 'unsafe-inline'".to_owned()),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(result: crate::Result<Filter>) -> String {
        match result {
            Err(Error::InvalidInput(fields)) => fields[0].field.clone(),
            other => panic!("expected INVALID_INPUT, got {other:?}"),
        }
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn chart_files_are_a_fixed_list() {
        assert_eq!(chart_file("funnel.svg"), Some((Kind::Funnel, Format::Svg)));
        assert_eq!(chart_file("levels.png"), Some((Kind::Levels, Format::Png)));
        assert_eq!(chart_file("attendance.svg"), Some((Kind::Attendance, Format::Svg)));
        assert_eq!(chart_file("funnel.gif"), None);
        assert_eq!(chart_file("../funnel.svg"), None);
    }

    #[test]
    fn parameters_map_to_the_filter_and_bad_ones_are_named() {
        let f = filter(pairs(&[
            ("period", "2025-26 autumn"),
            ("cohort", "2025/26"),
            ("anchorId", "a1"),
            ("yearGroup", "5"),
            ("characteristic", "FSM"),
            ("area", "relationships"),
            ("partnerId", ""),
        ]))
        .expect("valid");
        assert_eq!(f.period.as_deref(), Some("2025-26 autumn"));
        assert_eq!(f.cohort.as_deref(), Some("2025/26"));
        assert_eq!(f.anchor_id.as_deref(), Some("a1"));
        assert_eq!(f.partner_id, None);
        assert_eq!(f.year_group, Some(5));
        assert_eq!(f.characteristic, Some(Characteristic::Fsm));
        assert_eq!(f.area.as_deref(), Some("relationships"));

        assert_eq!(field(filter(pairs(&[("period", "last month")]))), "period");
        assert_eq!(field(filter(pairs(&[("yearGroup", "five")]))), "yearGroup");
        assert_eq!(field(filter(pairs(&[("characteristic", "tall")]))), "characteristic");
        assert_eq!(field(filter(pairs(&[("area", "happiness")]))), "area");
        assert_eq!(field(filter(pairs(&[("anchor", "a1")]))), "anchor");
        assert_eq!(field(filter(pairs(&[("area", "relationships"), ("area", "relationships")]))), "area");
    }

    #[test]
    fn domain_field_names_become_parameter_names() {
        let e = as_parameters(Error::invalid("filter.yearGroup", "must be a school year from -1 to 13"));
        assert!(matches!(e, Error::InvalidInput(f) if f[0].field == "yearGroup"));
        let e = as_parameters(Error::invalid("filter", "one at a time"));
        assert!(matches!(e, Error::InvalidInput(f) if f[0].field == "filter"));
    }
}
