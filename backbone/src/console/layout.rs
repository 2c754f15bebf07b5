//! The console's page shell and form pieces, after the GOV.UK Design System's patterns
//! (error summary linking to each field, day/month/year dates, plain words), in the
//! project's own stylesheet (`assets/console/console.css`). Every value is escaped by
//! maud; nothing here decides what a page shows.

use maud::{DOCTYPE, Markup, html};

/// The stylesheet, served at `/console.css`.
pub const STYLESHEET: &str = include_str!("../../assets/console/console.css");

/// Who is signed in, as the header shows them.
#[derive(Clone, Debug)]
pub struct Who {
    pub name: String,
    pub organisation: String,
    pub role: String,
    /// The links of the header's navigation: (path, words).
    pub nav: Vec<(&'static str, &'static str)>,
    /// For the sign-out form.
    pub csrf: String,
}

/// One problem with what was sent: the field's element id (`None` for the form as a
/// whole) and the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub field: Option<String>,
    pub message: String,
}

/// A whole page. `problems` puts "Error: " before the title and the error summary at the
/// top of `main`, as the first thing a screen reader hears.
pub fn page(title: &str, who: Option<&Who>, problems: &[Problem], body: Markup) -> Markup {
    let title =
        if problems.is_empty() { format!("{title} – backbone") } else { format!("Error: {title} – backbone") };
    html! {
        (DOCTYPE)
        html lang="en-GB" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                link rel="stylesheet" href="/console.css";
                // No icon to fetch: a browser would otherwise ask for /favicon.ico.
                link rel="icon" href="data:,";
            }
            body {
                a class="skip-link" href="#main" { "Skip to main content" }
                header class="header" {
                    a class="service" href="/" { "backbone" }
                    @if let Some(who) = who {
                        nav aria-label="Main" {
                            ul { @for (href, words) in &who.nav { li { a href=(href) { (words) } } } }
                        }
                        span class="who" { (who.name) ", " (who.role) " at " (who.organisation) }
                        form method="post" action="/sign-out" {
                            input type="hidden" name="csrf" value=(who.csrf);
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                main id="main" tabindex="-1" {
                    (error_summary(problems))
                    (body)
                }
                footer { "backbone: one shared record for the partnership's children. Every read and change is recorded." }
            }
        }
    }
}

/// The error summary: a heading and a link to each field with a problem.
pub fn error_summary(problems: &[Problem]) -> Markup {
    html! {
        @if !problems.is_empty() {
            div class="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex="-1" {
                h2 id="error-summary-title" { "There is a problem" }
                ul {
                    @for p in problems {
                        li {
                            @match &p.field {
                                Some(id) => a href={ "#" (id) } { (p.message) },
                                None => (p.message),
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The problem for the field with element id `id`, if any.
fn problem_for<'a>(problems: &'a [Problem], id: &str) -> Option<&'a Problem> {
    problems.iter().find(|p| p.field.as_deref() == Some(id))
}

fn error_line(id: &str, problem: Option<&Problem>) -> Markup {
    html! {
        @if let Some(p) = problem {
            p class="error-message" id={ (id) "-error" } { span class="visually-hidden" { "Error: " } (p.message) }
        }
    }
}

fn described_by(id: &str, hint: Option<&str>, problem: Option<&Problem>) -> Option<String> {
    let mut parts = Vec::new();
    if hint.is_some() {
        parts.push(format!("{id}-hint"));
    }
    if problem.is_some() {
        parts.push(format!("{id}-error"));
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// A one-line text input (`kind`: text, email, password, search, number).
pub fn input(kind: &str, id: &str, label: &str, hint: Option<&str>, value: &str, problems: &[Problem]) -> Markup {
    let problem = problem_for(problems, id);
    let autocomplete = match kind {
        "email" => Some("email"),
        "password" => Some("current-password"),
        _ => None,
    };
    html! {
        div class={ "field" @if problem.is_some() { " field--error" } } {
            label for=(id) { (label) }
            @if let Some(h) = hint { p class="hint" id={ (id) "-hint" } { (h) } }
            (error_line(id, problem))
            input type=(kind) id=(id) name=(id) value=(value) autocomplete=[autocomplete]
                class=[problem.map(|_| "input--error")]
                aria-describedby=[described_by(id, hint, problem)];
        }
    }
}

/// A text area.
pub fn textarea(id: &str, label: &str, hint: Option<&str>, value: &str, problems: &[Problem]) -> Markup {
    let problem = problem_for(problems, id);
    html! {
        div class={ "field" @if problem.is_some() { " field--error" } } {
            label for=(id) { (label) }
            @if let Some(h) = hint { p class="hint" id={ (id) "-hint" } { (h) } }
            (error_line(id, problem))
            textarea id=(id) name=(id) rows="5" class=[problem.map(|_| "input--error")]
                aria-describedby=[described_by(id, hint, problem)] { (value) }
        }
    }
}

/// A date as three fields, day, month and year (`{id}-day`, `{id}-month`, `{id}-year`);
/// the error links to the day field.
pub fn date_input(id: &str, legend: &str, hint: Option<&str>, value: &DateParts, problems: &[Problem]) -> Markup {
    let day = format!("{id}-day");
    let problem = problem_for(problems, &day);
    html! {
        div class={ "field" @if problem.is_some() { " field--error" } } {
            fieldset role="group" aria-describedby=[described_by(id, hint, problem)] {
                legend { (legend) }
                @if let Some(h) = hint { p class="hint" id={ (id) "-hint" } { (h) } }
                (error_line(id, problem))
                div class="date-input" {
                    @for (part, words, v, size) in [("day", "Day", &value.day, "2"), ("month", "Month", &value.month, "2"), ("year", "Year", &value.year, "4")] {
                        div class=(part) {
                            label for={ (id) "-" (part) } { (words) }
                            input type="text" inputmode="numeric" id={ (id) "-" (part) } name={ (id) "-" (part) }
                                value=(v) maxlength=(size) class=[problem.map(|_| "input--error")];
                        }
                    }
                }
            }
        }
    }
}

/// What was typed into a date's three fields.
#[derive(Clone, Debug, Default)]
pub struct DateParts {
    pub day: String,
    pub month: String,
    pub year: String,
}

impl DateParts {
    pub fn of(date: chrono::NaiveDate) -> DateParts {
        use chrono::Datelike;
        DateParts { day: date.day().to_string(), month: date.month().to_string(), year: date.year().to_string() }
    }

    /// `YYYY-MM-DD` as the API takes it, or `None` when a part is missing or not a number
    /// (the API then judges the date itself: a real day, not in the future, …).
    pub fn iso(&self) -> Option<String> {
        let n = |s: &str| s.trim().parse::<u32>().ok();
        let (d, m, y) = (n(&self.day)?, n(&self.month)?, n(&self.year)?);
        Some(format!("{y:04}-{m:02}-{d:02}"))
    }
}

/// Radio buttons or checkboxes (`multiple`) for one question; the error links to the
/// first option (`{id}-0`).
pub fn choices(
    id: &str,
    legend: &str,
    options: &[(&str, &str)],
    chosen: &[String],
    multiple: bool,
    problems: &[Problem],
) -> Markup {
    let first = format!("{id}-0");
    let problem = problem_for(problems, &first);
    let kind = if multiple { "checkbox" } else { "radio" };
    html! {
        div class={ "field" @if problem.is_some() { " field--error" } } {
            fieldset aria-describedby=[problem.map(|_| format!("{id}-error"))] {
                legend { (legend) }
                (error_line(id, problem))
                @for (i, (value, words)) in options.iter().enumerate() {
                    div class="choice" {
                        input type=(kind) id={ (id) "-" (i) } name=(id) value=(value)
                            checked[chosen.iter().any(|c| c == value)];
                        label for={ (id) "-" (i) } { (words) }
                    }
                }
            }
        }
    }
}

/// A form posting to `action`, with the CSRF token.
pub fn form(action: &str, csrf: &str, body: Markup) -> Markup {
    html! {
        form method="post" action=(action) novalidate {
            input type="hidden" name="csrf" value=(csrf);
            (body)
        }
    }
}

/// A one-button form (an action on a list row), with the CSRF token.
pub fn button_form(action: &str, csrf: &str, words: &str, class: &str) -> Markup {
    html! {
        form method="post" action=(action) class="inline-form" {
            input type="hidden" name="csrf" value=(csrf);
            button type="submit" class=(class) { (words) }
        }
    }
}

/// A summary list: a term and its value per row.
pub fn summary(rows: &[(&str, Markup)]) -> Markup {
    html! {
        dl class="summary" {
            @for (term, value) in rows { div { dt { (term) } dd { (value) } } }
        }
    }
}

/// A section of a page: its heading, then a table with a row per record, or `empty` in
/// words when there is none.
pub fn section(heading: &str, empty: &str, columns: &[&str], rows: Vec<Vec<Markup>>) -> Markup {
    html! {
        h2 { (heading) }
        @if rows.is_empty() { p { (empty) } } @else { (table(columns, &rows)) }
    }
}

/// A table: its column headings, then a row per record.
pub fn table(columns: &[&str], rows: &[Vec<Markup>]) -> Markup {
    html! {
        table {
            thead { tr { @for c in columns { th scope="col" { (c) } } } }
            tbody { @for row in rows { tr { @for cell in row { td { (cell) } } } } }
        }
    }
}

/// A green confirmation banner.
pub fn banner(words: &str) -> Markup {
    html! { div class="banner" role="status" { p { (words) } } }
}

/// Text that is absent in the caller's view (or empty): an en dash, with words for
/// screen readers.
pub fn shown(value: Option<&str>) -> Markup {
    match value {
        Some(v) if !v.is_empty() => html! { (v) },
        _ => html! { "–" span class="visually-hidden" { " not recorded or not shown to you" } },
    }
}

/// A JSON string value, or nothing.
pub fn text<'a>(v: &'a serde_json::Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(serde_json::Value::as_str)
}

/// A day (`2026-03-27`, or the start of a timestamp) in words: `27 March 2026`; anything
/// else as it is.
pub fn day(value: &str) -> String {
    value
        .get(..10)
        .and_then(|d| d.parse::<chrono::NaiveDate>().ok())
        .map_or_else(|| value.to_owned(), |d| d.format("%-d %B %Y").to_string())
}

/// An enumeration value (`MAIN_CONTACT`) in words (`main contact`).
pub fn words(value: &str) -> String {
    value.replace('_', " ").to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_read_in_words_and_dates_go_to_the_api_as_typed() {
        assert_eq!(day("2026-03-27"), "27 March 2026");
        assert_eq!(day("2026-12-03T08:05:12.113Z"), "3 December 2026");
        assert_eq!(day("soon"), "soon");
        let parts = DateParts { day: " 7".into(), month: "10".into(), year: "2026".into() };
        assert_eq!(parts.iso().as_deref(), Some("2026-10-07"));
        assert_eq!(DateParts { day: "".into(), ..parts.clone() }.iso(), None);
        assert_eq!(DateParts { month: "ten".into(), ..parts }.iso(), None);
    }

    #[test]
    fn the_error_summary_links_each_problem_to_its_field_and_titles_say_error() {
        let problems = [Problem { field: Some("minutes".into()), message: "Enter <minutes>".into() }];
        let page = page("Log a contact", None, &problems, html! {}).into_string();
        assert!(page.contains("<title>Error: Log a contact – backbone</title>"), "{page}");
        assert!(page.contains("href=\"#minutes\""), "{page}");
        assert!(page.contains("Enter &lt;minutes&gt;"), "values are escaped: {page}");
        let field = input("text", "minutes", "How long?", None, "", &problems).into_string();
        assert!(field.contains("aria-describedby=\"minutes-error\""), "{field}");
        assert!(!page_without_problems().contains("There is a problem"));
    }

    fn page_without_problems() -> String {
        page("Home", None, &[], html! {}).into_string()
    }
}
