//! The funder's dashboard (and the backbone team's view of the same figures): the funnel,
//! referrals, attendance and levels per outcome area, for a period and a breakdown, each
//! figure with its suppression marker explained; the charts and the CSV download of the
//! same figures, from the signed-in page (the session cookie goes with them).

use super::Signed;
use super::layout::{self, text};
use crate::http::AppState;
use axum::extract::{Query, State};
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

#[derive(Deserialize, Default)]
pub struct Choice {
    #[serde(default)]
    period: String,
    #[serde(default, rename = "groupBy")]
    group_by: String,
}

const BREAKDOWNS: &[(&str, &str, &str)] = &[
    ("", "", "No breakdown"),
    ("ANCHOR", "anchor", "By anchor"),
    ("PARTNER", "partner", "By partner"),
    ("PROGRAMME", "programme", "By programme"),
    ("YEAR_GROUP", "yearGroup", "By year group"),
    ("FSM", "fsm", "By free school meals"),
    ("SEND", "send", "By SEND"),
    ("EAL", "eal", "By English as an additional language"),
];

const QUERY: &str = "query($f: MetricsFilter, $g: MetricsDimension) { metrics(filter: $f, groupBy: $g) { \
    protected threshold roundingBase period refreshedAt \
    groups { label funnel { identified { value suppressed } consented { value suppressed } enrolled { value suppressed } \
      active { value suppressed } completed { value suppressed } exited { value suppressed } } \
      attendanceRate engagedChildren { value suppressed } } \
    total { label funnel { identified { value suppressed } consented { value suppressed } enrolled { value suppressed } \
      active { value suppressed } completed { value suppressed } exited { value suppressed } } \
      referrals { status count { value suppressed } } attendanceRate engagedChildren { value suppressed } \
      outcomes { area children { value suppressed } baseline { level count { value suppressed } } latest { level count { value suppressed } } } } } }";

/// `GET /dashboard`.
pub async fn show(State(state): State<Arc<AppState>>, signed: Signed, Query(choice): Query<Choice>) -> Response {
    let breakdown = BREAKDOWNS.iter().find(|(g, _, _)| *g == choice.group_by).unwrap_or(&BREAKDOWNS[0]);
    let period = choice.period.trim();
    let filter = if period.is_empty() { json!(null) } else { json!({ "period": period }) };
    let group = if breakdown.0.is_empty() { json!(null) } else { json!(breakdown.0) };
    let data = match signed.ask(&state, QUERY, json!({ "f": filter, "g": group })).await {
        Ok(d) => d,
        Err(r) if r.on_the_form() => {
            let problems = r.problems(|f| (f.ends_with("period")).then_some("period"));
            return signed.page("Dashboard", &problems, form(period, breakdown.0, &problems));
        }
        Err(r) => return r.page(Some(&signed.who)),
    };
    let m = &data["metrics"];
    let contracts = match milestones(&state, &signed).await {
        Ok(c) => c,
        Err(r) => return r.page(Some(&signed.who)),
    };
    let mut params = Vec::new();
    if !period.is_empty() {
        params.push(format!("period={}", super::encode(period)));
    }
    let chart_query = params.join("&");
    if !breakdown.1.is_empty() {
        params.push(format!("groupBy={}", breakdown.1));
    }
    let csv_query = params.join("&");
    let body = html! {
        h1 { "Dashboard" }
        (form(period, breakdown.0, &[]))
        @if m["protected"] == true {
            div class="banner banner--notice" {
                p { "Figures are protected so that no child can be picked out: a count below "
                    (m["threshold"]) " is shown as " strong { "c" } " (suppressed), and other counts are rounded to the nearest "
                    (m["roundingBase"]) ". A figure that would let a suppressed one be worked out is suppressed too." }
            }
        }
        p class="hint" { "Period: " (text(m, "period").unwrap_or("all time")) ". Worked out "
            (text(m, "refreshedAt").map(layout::day).unwrap_or_else(|| "not yet".into())) "." }
        (funnel(m))
        (referrals(&m["total"]))
        (outcomes(&m["total"]))
        (contracts)
        h2 { "Charts and downloads" }
        p { img src={ "/charts/funnel.svg?" (chart_query) } alt="The funnel: children identified, consented, enrolled, receiving support, completed and exited, as in the table above" width="640"; }
        p { a href={ "/exports/metrics.csv?" (csv_query) } download { "Download these figures (CSV)" } }
    };
    signed.page("Dashboard", &[], body)
}

const CONTRACTS: &str = "query { contracts(first: 20) { edges { node { id name currency } } } }";
const TOTALS: &str = "asOf exact children childrenSuppressed amountPayablePence \
    milestones { code name pricePence children suppressed amountPayablePence } \
    payers { organisation { name } sharePercent amountPence }";

/// The outcomes contracts the caller may see (a funder those it pays into), each with its
/// milestones achieved and the amounts payable as of its latest evaluation — for funders
/// under disclosure control, as the API gives them. Nothing when there are none; a role
/// that sees no contracts (`FORBIDDEN`) gets no section.
async fn milestones(state: &AppState, signed: &super::Signed) -> Result<Markup, super::Refusal> {
    let listed = match signed.ask(state, CONTRACTS, json!({})).await {
        Ok(d) => d,
        Err(r) if r.code == "FORBIDDEN" => return Ok(html! {}),
        Err(r) => return Err(r),
    };
    let contracts = listed["contracts"]["edges"].as_array().cloned().unwrap_or_default();
    if contracts.is_empty() {
        return Ok(html! {});
    }
    // One request for every contract's totals, one alias each.
    let fields: Vec<String> =
        (0..contracts.len()).map(|i| format!("m{i}: milestones(contractId: $c{i}) {{ {TOTALS} }}")).collect();
    let params: Vec<String> = (0..contracts.len()).map(|i| format!("$c{i}: ID!")).collect();
    let query = format!("query({}) {{ {} }}", params.join(", "), fields.join(" "));
    let mut variables = serde_json::Map::new();
    for (i, c) in contracts.iter().enumerate() {
        variables.insert(format!("c{i}"), c["node"]["id"].clone());
    }
    let totals = signed.ask(state, &query, Value::Object(variables)).await?;
    Ok(html! {
        h2 { "Outcomes contracts" }
        @for (i, c) in contracts.iter().enumerate() {
            (contract(&c["node"], &totals[format!("m{i}")]))
        }
    })
}

/// Pence as pounds (`£1,234.50`), or words when withheld.
fn money(pence: &Value) -> Markup {
    match pence.as_i64() {
        Some(p) => {
            let pounds = (p / 100).to_string();
            let mut grouped = String::new();
            for (i, d) in pounds.chars().enumerate() {
                if i > 0 && (pounds.len() - i) % 3 == 0 {
                    grouped.push(',');
                }
                grouped.push(d);
            }
            html! { "£" (grouped) "." (format!("{:02}", p % 100)) }
        }
        None => html! { "withheld" span class="visually-hidden" { " (it would reveal a suppressed count)" } },
    }
}

fn contract(c: &Value, t: &Value) -> Markup {
    let count = |value: &Value, suppressed: &Value| cell(&json!({ "value": value, "suppressed": suppressed }));
    let rows = t["milestones"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|m| {
            vec![
                html! { (text(m, "name").unwrap_or_default()) },
                money(&m["pricePence"]),
                count(&m["children"], &m["suppressed"]),
                money(&m["amountPayablePence"]),
            ]
        })
        .collect::<Vec<_>>();
    html! {
        h3 { (text(c, "name").unwrap_or_default()) }
        p class="hint" { @match text(t, "asOf") {
            Some(day) => { "Achieved as of " (layout::day(day)) "." },
            None => { "Not evaluated yet: nothing is payable so far." },
        } }
        (layout::table(&["Milestone", "Price per child", "Children", "Amount payable"], &rows))
        (layout::summary(&[
            ("Children with a milestone achieved", count(&t["children"], &t["childrenSuppressed"])),
            ("Amount payable in all", money(&t["amountPayablePence"])),
        ]))
    }
}

fn form(period: &str, group_by: &str, problems: &[layout::Problem]) -> Markup {
    html! {
        form method="get" action="/dashboard" class="search" {
            (layout::input("text", "period", "Period", Some("An academic year, for example 2025-26; empty for all time"), period, problems))
            div class="field" {
                label for="groupBy" { "Breakdown" }
                select id="groupBy" name="groupBy" {
                    @for (value, _, words) in BREAKDOWNS { option value=(value) selected[*value == group_by] { (words) } }
                }
            }
            button type="submit" class="button button--secondary" { "Show" }
        }
    }
}

/// A count, or `c` with words for screen readers when suppressed.
fn cell(c: &Value) -> Markup {
    if c["suppressed"] == true {
        html! { "c" span class="visually-hidden" { " (suppressed: too few to show)" } }
    } else {
        match c["value"].as_i64() {
            Some(n) => html! { (n) },
            None => html! { "–" },
        }
    }
}

fn rate(r: &Value) -> Markup {
    match r.as_f64() {
        Some(x) => html! { (format!("{:.0}%", x * 100.0)) },
        None => html! { "–" },
    }
}

const STAGES: &[(&str, &str)] = &[
    ("identified", "Identified"),
    ("consented", "Consented"),
    ("enrolled", "Enrolled"),
    ("active", "Receiving support"),
    ("completed", "Completed"),
    ("exited", "Left early"),
];

fn funnel(m: &Value) -> Markup {
    let mut rows: Vec<Value> = m["groups"].as_array().cloned().unwrap_or_default();
    if rows.len() != 1 {
        rows.push(m["total"].clone());
    }
    html! {
        h2 { "Children at each stage" }
        table {
            thead { tr { th scope="col" { "Group" } @for (_, words) in STAGES { th scope="col" { (words) } } th scope="col" { "Engaged" } th scope="col" { "Attendance" } } }
            tbody { @for g in &rows { tr {
                th scope="row" { (text(g, "label").unwrap_or("All")) }
                @for (key, _) in STAGES { td { (cell(&g["funnel"][key])) } }
                td { (cell(&g["engagedChildren"])) }
                td { (rate(&g["attendanceRate"])) }
            } } }
        }
    }
}

fn referrals(total: &Value) -> Markup {
    let rows = total["referrals"].as_array().cloned().unwrap_or_default();
    html! {
        h2 { "Referrals" }
        table {
            thead { tr { th scope="col" { "Status" } th scope="col" { "Children" } } }
            tbody { @for r in &rows { tr { td { (layout::words(text(r, "status").unwrap_or_default())) } td { (cell(&r["count"])) } } } }
        }
    }
}

fn outcomes(total: &Value) -> Markup {
    let areas = total["outcomes"].as_array().cloned().unwrap_or_default();
    html! {
        h2 { "Levels on the common scale, by outcome area" }
        @if areas.is_empty() { p { "No assessments yet." } }
        @for a in &areas {
            h3 { (layout::words(text(a, "area").unwrap_or_default())) " (" (cell(&a["children"])) " children)" }
            table {
                thead { tr { th scope="col" { "Level" } th scope="col" { "At baseline" } th scope="col" { "Latest" } } }
                tbody { @for (i, b) in a["baseline"].as_array().cloned().unwrap_or_default().iter().enumerate() { tr {
                    td { (b["level"]) }
                    td { (cell(&b["count"])) }
                    td { (cell(&a["latest"][i]["count"])) }
                } } }
            }
        }
    }
}
