//! The subject-access answer as a document a family can be given: one HTML page, plain
//! words, every table as a table, what is withheld and why, and who has read or changed
//! the record. Self-contained (its small stylesheet inline), so it can be saved, emailed
//! or printed (a browser's "Save as PDF" makes the PDF from the same page). Every value
//! is escaped (maud escapes all text it writes).

use super::{AccessEntry, FamilyReport, Section, SubjectAccess};
use crate::domain::sharing::{ShareEntry, ShareKind};
use maud::{DOCTYPE, Markup, html};
use sea_orm::JsonValue;

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;\
color:#0b0c0c;line-height:1.5}table{border-collapse:collapse;width:100%;margin:0 0 2rem;font-size:.9rem}\
th,td{border:1px solid #b1b4b6;padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:#f3f2f1}\
.withheld{border-left:.3rem solid #0b0c0c;padding:.5rem 1rem;background:#f3f2f1}@media print{body{margin:0}}";

/// A column's name in words: `given_on` → "Given on".
fn words(column: &str) -> String {
    let spaced = column.replace('_', " ");
    let mut chars = spaced.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// A value as text: blank for nothing, yes/no, lists joined.
fn cell(v: &JsonValue) -> String {
    match v {
        JsonValue::Null => String::new(),
        JsonValue::Bool(true) => "yes".into(),
        JsonValue::Bool(false) => "no".into(),
        JsonValue::String(s) => s.clone(),
        JsonValue::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// A table: a header row, then each row's cells as text.
fn table(headers: &[&str], rows: Vec<Vec<String>>) -> Markup {
    html! {
        table {
            thead { tr { @for h in headers { th scope="col" { (h) } } } }
            tbody { @for row in &rows { tr { @for c in row { td { (c) } } } } }
        }
    }
}

fn section(s: &Section) -> Markup {
    let columns: Vec<&String> =
        s.rows.first().and_then(JsonValue::as_object).map(|o| o.keys().collect()).unwrap_or_default();
    let headers: Vec<String> = columns.iter().map(|c| words(c)).collect();
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    let rows = s.rows.iter().map(|row| columns.iter().map(|c| cell(&row[c.as_str()])).collect()).collect();
    html! {
        h2 id=(s.table) { (s.heading) }
        @if let Some(w) = &s.withheld {
            p.withheld { "Withheld: " (w.count) " " (if w.count == 1 { "record" } else { "records" }) ". " (w.reason) }
        } @else if s.rows.is_empty() {
            p { "Nothing is held." }
        } @else {
            (table(&headers, rows))
        }
    }
}

fn access_log(entries: &[AccessEntry]) -> Markup {
    let rows = entries
        .iter()
        .map(|e| {
            vec![
                e.at.format("%-d %B %Y %H:%M UTC").to_string(),
                e.person.clone().unwrap_or_else(|| "the service itself".to_owned()),
                e.organisation.clone().unwrap_or_default(),
                e.role.clone(),
                if e.break_glass {
                    format!("{} (opened by break-glass)", e.action.replace('.', ": ").replace('_', " "))
                } else {
                    e.action.replace('.', ": ").replace('_', " ")
                },
                e.fields.join(", "),
            ]
        })
        .collect();
    html! {
        h2 id="who-has-seen-it" { "Who has read or changed the record, and when" }
        @if entries.is_empty() {
            p { "Nobody has." }
        } @else {
            (table(&["When", "Who", "Organisation", "Role", "What", "Which parts"], rows))
        }
    }
}

/// What a share log entry was, in words.
fn share_kind(kind: ShareKind) -> &'static str {
    match kind {
        ShareKind::Sent => "Shared",
        ShareKind::Read => "Read",
        ShareKind::Refused => "Not shared",
        ShareKind::Stopped => "Sharing stopped",
    }
}

/// The share log as a table (`id` of its heading), newest first.
fn share_log(id: &str, heading: &str, entries: &[&ShareEntry]) -> Markup {
    let rows = entries
        .iter()
        .map(|e| {
            vec![
                e.at.format("%-d %B %Y").to_string(),
                e.organisation.clone(),
                share_kind(e.kind).to_owned(),
                e.what.clone(),
                e.lawful_basis.clone().unwrap_or_default(),
                e.consent.clone().unwrap_or_default(),
            ]
        })
        .collect();
    html! {
        h2 id=(id) { (heading) }
        @if entries.is_empty() {
            p { "The record has not been shared with any organisation beyond the school or centre that holds it." }
        } @else {
            (table(&["When", "With", "Shared or not", "What", "On what basis", "Consent"], rows))
        }
    }
}

/// The document for `answer`.
pub fn to_html(answer: &SubjectAccess) -> String {
    // The raw audit rows are shown in words, in the access log.
    let shown: Vec<&Section> = answer.sections.iter().filter(|s| s.table != "audit_events").collect();
    let page = html! {
        (DOCTYPE)
        html lang="en-GB" {
            head {
                meta charset="utf-8";
                title { "What the zone holds about " (answer.child_name) }
                style { (STYLE) }
            }
            body {
                h1 { "What the zone holds about " (answer.child_name) }
                p { "This is everything the partnership's shared record holds about " (answer.child_name)
                    ", produced on " (answer.produced_at.format("%-d %B %Y")) " in answer to a request to see it. "
                    "Each part below is one kind of record, as it is held. Where something is withheld, it says so "
                    "and why. The last part lists everyone who has read or changed the record, and when." }
                h2 { "Contents" }
                ul {
                    @for s in &shown { li { a href={ "#" (s.table) } { (s.heading) } } }
                    li { a href="#who-has-seen-it" { "Who has read or changed the record, and when" } }
                    li { a href="#shared" { "Who the record was shared with, and why" } }
                }
                @for s in &shown { (section(s)) }
                (access_log(&answer.access_log))
                (share_log("shared", "Who the record was shared with, and why", &answer.share_log.iter().collect::<Vec<_>>()))
            }
        }
    };
    page.into_string()
}

/// The family report as a page to print and hand over.
pub fn family_html(report: &FamilyReport) -> String {
    let first = &report.first_name;
    let viewers = report
        .viewers
        .iter()
        .map(|v| {
            vec![
                v.person.clone(),
                v.organisation.clone(),
                v.role.clone(),
                match v.break_glass {
                    0 => format!("{} {}", v.times, if v.times == 1 { "time" } else { "times" }),
                    n => format!(
                        "{} {}, {n} of them in an emergency (break-glass)",
                        v.times,
                        if v.times == 1 { "time" } else { "times" }
                    ),
                },
                v.first.format("%-d %B %Y").to_string(),
                v.last.format("%-d %B %Y").to_string(),
            ]
        })
        .collect();
    let page = html! {
        (DOCTYPE)
        html lang="en-GB" {
            head {
                meta charset="utf-8";
                title { "Who knows about " (first) ", and why" }
                style { (STYLE) }
            }
            body {
                h1 { "Who knows about " (first) ", and why" }
                p { "This page says which organisations in the partnership hold " (first) "'s record, what has "
                    "been shared with whom and on what basis, and who has looked at it. It was produced on "
                    (report.produced_at.format("%-d %B %Y")) " by " (report.anchor) "." }
                h2 { "Who holds the record" }
                ul { @for h in &report.holders { li { strong { (h.organisation) } ": " (h.why) "." } } }
                (share_log("shared", "What was shared, with whom, and why", &report.shared.iter().collect::<Vec<_>>()))
                h2 { "Who has looked at the record" }
                @if report.viewers.is_empty() {
                    p { "Nobody has looked at it yet." }
                } @else {
                    (table(&["Who", "Organisation", "Role", "How often", "First", "Last"], viewers))
                }
                h2 { "Your rights" }
                p { "You can ask for a copy of everything held about " (first) ", ask for anything wrong to be "
                    "corrected, withdraw consent to share, or ask for the record to be erased. Ask " (report.anchor)
                    ", who will pass your request to the partnership's data-protection team." }
            }
        }
    };
    page.into_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn columns_read_as_words_and_values_as_text() {
        assert_eq!(words("given_on"), "Given on");
        assert_eq!(cell(&json!(null)), "");
        assert_eq!(cell(&json!(true)), "yes");
        assert_eq!(cell(&json!(["a", 2])), "a, 2");
    }

    #[test]
    fn text_is_escaped_and_withheld_sections_say_why() {
        let answer = SubjectAccess {
            child_id: "c".into(),
            child_name: "Zoë <O'Brien>".into(),
            produced_at: chrono::Utc::now(),
            sections: vec![
                Section {
                    table: "contacts",
                    heading: "Contacts",
                    rows: vec![json!({"content": "<script>alert(1)</script>"})],
                    withheld: None,
                },
                Section {
                    table: "safeguarding_concerns",
                    heading: "Safeguarding concerns",
                    rows: vec![],
                    withheld: Some(super::super::Withheld { count: 2, reason: "Because." }),
                },
            ],
            access_log: vec![],
            share_log: vec![],
        };
        let page = to_html(&answer);
        assert!(!page.contains("<script>"), "{page}");
        assert!(page.contains("&lt;script&gt;"));
        assert!(page.contains("Zoë &lt;O'Brien&gt;"));
        assert!(page.contains("Withheld: 2 records. Because."));
    }
}
