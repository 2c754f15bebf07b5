//! Charts for funders and the backbone team: pure functions that draw figures which have
//! already passed disclosure control (`domain::metrics`, `domain::disclosure`) as SVG, and
//! turn an SVG into PNG.
//!
//! Nothing here counts anything: every number drawn comes from a [`Count`] as the caller
//! may see it. A suppressed count is drawn as a small hatched box labelled `c`, never as a
//! zero or as a bar whose length could be read as a value. The output is deterministic
//! (same figures, same bytes), every text is escaped, and every chart is accessible: an
//! SVG `role="img"` with a `<title>` and a `<desc>` that states every figure in words, and
//! every figure also written as a label beside its mark.
//!
//! PNG rendering uses `resvg` with one embedded font (DejaVu Sans, see
//! `backbone/assets/fonts/README.md`) and no system fonts, so a PNG is the same on every
//! machine.

use crate::domain::disclosure::{Audience, Count, Rules};
use crate::domain::metrics::{AreaOutcome, Group, MonthAttendance};
use crate::error::{Error, Result};
use std::fmt::Write as _;
use std::sync::{Arc, OnceLock};

/// What every chart states besides its data.
#[derive(Clone, Copy, Debug)]
pub struct Frame<'a> {
    pub title: &'a str,
    /// What the figures cover, in words (`2025-26 · anchor: Northfield Primary`).
    pub selection: &'a str,
    /// Who the figures were protected for: the footer says how.
    pub audience: Audience,
    pub rules: Rules,
}

const WIDTH: f64 = 720.0;
const FONT: &str = "DejaVu Sans, Verdana, Arial, sans-serif";
const INK: &str = "#1a1a1a";
const MUTED: &str = "#4d4d4d";
const GRID: &str = "#d9d9d9";
const BAR: &str = "#0072b2";
const BASELINE: &str = "#e69f00";
const LATEST: &str = "#0072b2";
const HATCH: &str = "#6f6f6f";
/// Top of the plot: below the title and the selection line.
const PLOT_TOP: f64 = 72.0;
const LINE: f64 = 16.0;
/// A suppressed count's mark: a hatched box this long, whatever the scale.
const SUPPRESSED_MARK: f64 = 26.0;

const STAGES: [&str; 6] = ["Identified", "Consented", "Enrolled", "Active", "Completed", "Exited"];
const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// Text for XML content and attribute values: markup characters escaped, characters XML
/// forbids (most control characters) replaced by spaces.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A coordinate with at most one decimal, without a trailing `.0`: short and stable.
fn num(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    let r = if r == 0.0 { 0.0 } else { r };
    if r.fract() == 0.0 { format!("{r:.0}") } else { format!("{r:.1}") }
}

/// A rough width of a text in DejaVu Sans (a little over its average advance), for layout only.
fn text_width(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * size * 0.55
}

/// A font size at most `size` (and at least 10) at which `text` fits in `width`.
fn fit(text: &str, size: f64, width: f64) -> f64 {
    let needed = text_width(text, size);
    if needed <= width { size } else { (size * width / needed).max(10.0) }
}

/// `text` broken at spaces into lines that fit in `width`.
fn wrap(text: &str, size: f64, width: f64) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let candidate = if line.is_empty() { word.to_owned() } else { format!("{line} {word}") };
        if !line.is_empty() && text_width(&candidate, size) > width {
            lines.push(std::mem::replace(&mut line, word.to_owned()));
        } else {
            line = candidate;
        }
    }
    lines.push(line);
    lines
}

/// How a count reads: the number, or `c`.
fn label(count: &Count) -> String {
    match count.value {
        Some(v) if !count.suppressed => v.to_string(),
        _ => "c".to_owned(),
    }
}

/// How a count reads in a sentence.
fn spoken(count: &Count) -> String {
    match count.value {
        Some(v) if !count.suppressed => v.to_string(),
        _ => "c (suppressed)".to_owned(),
    }
}

/// A count's value when it may be drawn to scale.
fn shown(count: &Count) -> Option<i64> {
    if count.suppressed { None } else { count.value }
}

/// An axis from 0 to `top` in at most five steps of 1, 2 or 5 × 10ⁿ: `(top, step)`.
fn axis(max: i64) -> (i64, i64) {
    let max = max.max(1);
    let mut power = 1_i64;
    loop {
        for m in [1, 2, 5] {
            let step = power * m;
            let steps = (max + step - 1) / step;
            if steps <= 5 {
                return (steps * step, step);
            }
        }
        power = power.saturating_mul(10);
    }
}

/// The lines every chart ends with: how its figures were protected.
fn disclosure_notes(frame: &Frame<'_>) -> Vec<String> {
    match frame.audience {
        Audience::Protected => {
            let t = frame.rules.threshold;
            let rounded = if frame.rules.rounding_base > 1 {
                format!("others rounded to {}", frame.rules.rounding_base)
            } else {
                "others exact".to_owned()
            };
            vec![
                format!("Counts under {t} suppressed (c); {rounded}."),
                format!(
                    "c = suppressed: fewer than {t} children (or hidden so that such a count cannot be worked out)."
                ),
            ]
        }
        Audience::Unrestricted => {
            vec!["Exact figures for the backbone team: not for sharing outside it.".to_owned()]
        }
    }
}

/// SVG elements, written in order.
#[derive(Default)]
struct Canvas {
    body: String,
}

impl Canvas {
    fn text(&mut self, x: f64, y: f64, size: f64, anchor: &str, fill: &str, text: &str) {
        let _ = writeln!(
            self.body,
            r#"<text x="{}" y="{}" font-size="{}" text-anchor="{anchor}" fill="{fill}">{}</text>"#,
            num(x),
            num(y),
            num(size),
            escape(text)
        );
    }

    fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str) {
        // A zero draws nothing: its label says 0.
        if w <= 0.0 || h <= 0.0 {
            return;
        }
        let _ = writeln!(
            self.body,
            r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{fill}"/>"#,
            num(x),
            num(y),
            num(w.max(0.0)),
            num(h.max(0.0))
        );
    }

    /// The mark of a suppressed count: hatched, outlined with a dashed line in the
    /// series' colour.
    fn hatched(&mut self, x: f64, y: f64, w: f64, h: f64, outline: &str) {
        let _ = writeln!(
            self.body,
            r#"<rect x="{}" y="{}" width="{}" height="{}" fill="url(#suppressed)" stroke="{outline}" stroke-width="1.5" stroke-dasharray="3 2"/>"#,
            num(x),
            num(y),
            num(w),
            num(h)
        );
    }

    fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, stroke: &str) {
        let _ = writeln!(
            self.body,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{stroke}" stroke-width="1"/>"#,
            num(x1),
            num(y1),
            num(x2),
            num(y2)
        );
    }
}

/// The whole document: the frame around a chart's `body`, whose marks end at `bottom`;
/// `notes` (the chart's own) go in the footer above the disclosure lines.
fn document(width: f64, bottom: f64, frame: &Frame<'_>, desc: &str, notes: &[String], body: &Canvas) -> String {
    let mut footer: Vec<String> = notes.to_vec();
    footer.extend(disclosure_notes(frame));
    let desc = format!("{desc} {}", footer.join(" "));
    let footer: Vec<String> = footer.iter().flat_map(|l| wrap(l, 11.0, width - 48.0)).collect();
    let height = bottom + 12.0 + footer.len() as f64 * LINE + 8.0;
    let mut out = String::with_capacity(body.body.len() + 2048);
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-labelledby="chart-title chart-desc" font-family="{FONT}">"#,
        w = num(width),
        h = num(height)
    );
    let _ = writeln!(out, r#"<title id="chart-title">{}</title>"#, escape(frame.title));
    let _ = writeln!(out, r#"<desc id="chart-desc">{}</desc>"#, escape(&desc));
    let _ = writeln!(
        out,
        r##"<defs><pattern id="suppressed" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/><line x1="0" y1="0" x2="0" y2="6" stroke="{HATCH}" stroke-width="2"/></pattern></defs>"##
    );
    let _ = writeln!(out, r##"<rect width="100%" height="100%" fill="#ffffff"/>"##);
    let mut head = Canvas::default();
    head.text(24.0, 32.0, fit(frame.title, 18.0, width - 48.0), "start", INK, frame.title);
    head.text(24.0, 52.0, fit(frame.selection, 12.0, width - 48.0), "start", MUTED, frame.selection);
    out.push_str(&head.body);
    out.push_str(&body.body);
    let mut foot = Canvas::default();
    for (i, line) in footer.iter().enumerate() {
        foot.text(24.0, bottom + 12.0 + (i as f64 + 0.75) * LINE, 11.0, "start", MUTED, line);
    }
    out.push_str(&foot.body);
    out.push_str("</svg>\n");
    out
}

/// The enrolment funnel: children who reached each stage, one horizontal bar per stage.
pub fn funnel_svg(group: &Group, frame: &Frame<'_>) -> String {
    let (x0, length, row, bar) = (140.0, 480.0, 36.0, 22.0);
    let (top, _) = axis(group.funnel.iter().filter_map(shown).max().unwrap_or(0));
    let mut c = Canvas::default();
    let y0 = PLOT_TOP + 8.0;
    let bottom = y0 + row * STAGES.len() as f64;
    c.line(x0, y0 - 4.0, x0, bottom, INK);
    let mut said = Vec::new();
    for (i, (stage, count)) in STAGES.iter().zip(&group.funnel).enumerate() {
        let y = y0 + row * i as f64 + (row - bar) / 2.0;
        c.text(x0 - 10.0, y + bar / 2.0 + 4.5, 13.0, "end", INK, stage);
        let end = match shown(count) {
            Some(v) => {
                let w = length * v as f64 / top as f64;
                c.rect(x0, y, w, bar, BAR);
                x0 + w
            }
            None => {
                c.hatched(x0, y, SUPPRESSED_MARK, bar, BAR);
                x0 + SUPPRESSED_MARK
            }
        };
        c.text(end + 6.0, y + bar / 2.0 + 4.5, 13.0, "start", INK, &label(count));
        said.push(format!("{}: {}", stage.to_lowercase(), spoken(count)));
    }
    let desc = format!("Horizontal bar chart. Children who reached each stage of enrolment: {}.", said.join("; "));
    document(WIDTH, bottom, frame, &desc, &[], &c)
}

/// Levels in one outcome area at baseline (each child's first assessment in the area) and
/// at each child's latest assessment: grouped bars per level 1–5. `scale` names the levels
/// (from the outcomes framework; may be empty). `None`: no child in the selection has been
/// assessed in the area.
pub fn levels_svg(outcome: Option<&AreaOutcome>, area_name: &str, scale: &[String], frame: &Frame<'_>) -> String {
    let (left, right) = (64.0, WIDTH - 24.0);
    let mut c = Canvas::default();
    // Legend.
    let ly = PLOT_TOP + 4.0;
    let mut x = left;
    for (colour, name) in [(BASELINE, "Baseline (first assessment)"), (LATEST, "Latest assessment")] {
        c.rect(x, ly, 12.0, 12.0, colour);
        c.text(x + 18.0, ly + 10.5, 12.0, "start", INK, name);
        x += 18.0 + text_width(name, 12.0) + 24.0;
    }
    let plot_top = ly + 40.0;
    let plot_bottom = plot_top + 220.0;
    let mut notes = Vec::new();
    if !scale.is_empty() {
        let key: Vec<String> = scale.iter().enumerate().map(|(i, s)| format!("{} {}", i + 1, s)).collect();
        notes.push(format!("Levels of the common scale: {}.", key.join(" · ")));
    }
    let Some(outcome) = outcome else {
        c.line(left, plot_bottom, right, plot_bottom, INK);
        c.text(
            (left + right) / 2.0,
            (plot_top + plot_bottom) / 2.0,
            14.0,
            "middle",
            MUTED,
            "No assessments in this area for this selection.",
        );
        let desc = format!(
            "Grouped bar chart of children's levels in {area_name}: no assessments in this area for this selection."
        );
        return document(WIDTH, plot_bottom + 24.0, frame, &desc, &notes, &c);
    };
    let max = outcome.baseline.iter().chain(&outcome.latest).filter_map(shown).max().unwrap_or(0);
    let (top, step) = axis(max);
    let scale_y = |v: f64| plot_bottom - (plot_bottom - plot_top) * v / top as f64;
    // Nothing to scale (all zero or suppressed): only the zero line.
    let last_tick = if max == 0 { 0 } else { top };
    let mut tick = 0;
    while tick <= last_tick {
        let y = scale_y(tick as f64);
        c.line(left, y, right, y, if tick == 0 { INK } else { GRID });
        c.text(left - 8.0, y + 4.0, 11.0, "end", MUTED, &tick.to_string());
        tick += step;
    }
    c.text(left - 8.0, plot_top - 14.0, 11.0, "start", MUTED, "Children");
    // Levels 1–5 (`metrics::LEVELS`): the distributions always have one count per level.
    let levels = outcome.baseline.len().min(outcome.latest.len()).max(1);
    let slot = (right - left) / levels as f64;
    let bar = (slot * 0.32).min(40.0);
    let mut said = Vec::new();
    for (i, (baseline, latest)) in outcome.baseline.iter().zip(&outcome.latest).enumerate() {
        let centre = left + slot * (i as f64 + 0.5);
        let pair = [baseline, latest];
        for (j, (count, colour)) in pair.iter().zip([BASELINE, LATEST]).enumerate() {
            let x = centre - bar - 2.0 + j as f64 * (bar + 4.0);
            let label_y = match shown(count) {
                Some(v) => {
                    let y = scale_y(v as f64);
                    c.rect(x, y, bar, plot_bottom - y, colour);
                    y - 5.0
                }
                None => {
                    c.hatched(x, plot_bottom - SUPPRESSED_MARK, bar, SUPPRESSED_MARK, colour);
                    plot_bottom - SUPPRESSED_MARK - 5.0
                }
            };
            c.text(x + bar / 2.0, label_y, 11.0, "middle", INK, &label(count));
        }
        c.text(centre, plot_bottom + 18.0, 12.0, "middle", INK, &format!("Level {}", i + 1));
        said.push(format!("level {}: baseline {}, latest {}", i + 1, spoken(pair[0]), spoken(pair[1])));
    }
    let assessed = format!("Children assessed in this area: {}.", label(&outcome.children));
    notes.insert(0, assessed.clone());
    let desc = format!(
        "Grouped bar chart of children's levels in {area_name}, at baseline and at their latest assessment. {assessed} {}.",
        said.join("; ")
    );
    document(WIDTH, plot_bottom + 28.0, frame, &desc, &notes, &c)
}

/// `YYYY-MM` as (year, month 1–12).
fn year_month(text: &str) -> Option<(i32, u32)> {
    let (y, m) = text.split_once('-')?;
    let (y, m) = (y.parse().ok()?, m.parse().ok()?);
    (1..=12).contains(&m).then_some((y, m))
}

/// Attendance over time: the share of offered sessions attended, month by month, as
/// points joined by a line that breaks where a month is suppressed or missing. Each month
/// also shows its base (`n`, children offered a session).
pub fn attendance_svg(months: &[MonthAttendance], frame: &Frame<'_>) -> String {
    // Every month from the first to the last, so gaps show as gaps.
    let mut slots: Vec<(String, Option<&MonthAttendance>)> = Vec::new();
    let parsed: Vec<(i32, u32)> = months.iter().filter_map(|m| year_month(&m.month)).collect();
    if let (Some(first), Some(last)) = (parsed.iter().min(), parsed.iter().max()) {
        let (mut y, mut m) = *first;
        while (y, m) <= *last && slots.len() < 240 {
            let key = format!("{y:04}-{m:02}");
            slots.push((key.clone(), months.iter().find(|a| a.month == key)));
            (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        }
    }
    let width = WIDTH.max(88.0 + slots.len() as f64 * 46.0);
    let (left, right) = (64.0, width - 24.0);
    let plot_top = PLOT_TOP + 28.0;
    let plot_bottom = plot_top + 200.0;
    let mut c = Canvas::default();
    c.text(left - 8.0, plot_top - 14.0, 11.0, "start", MUTED, "Sessions attended (% of sessions offered)");
    for pct in [0, 25, 50, 75, 100] {
        let y = plot_bottom - (plot_bottom - plot_top) * pct as f64 / 100.0;
        c.line(left, y, right, y, if pct == 0 { INK } else { GRID });
        c.text(left - 8.0, y + 4.0, 11.0, "end", MUTED, &format!("{pct}%"));
    }
    let notes = vec!["n = children offered at least one session that month.".to_owned()];
    if slots.is_empty() {
        c.text(
            (left + right) / 2.0,
            (plot_top + plot_bottom) / 2.0,
            14.0,
            "middle",
            MUTED,
            "No attendance recorded for this selection.",
        );
        let desc = "Line chart of attendance by month: no attendance recorded for this selection.";
        return document(width, plot_bottom + 24.0, frame, desc, &notes, &c);
    }
    let slot = (right - left) / slots.len() as f64;
    let mut said = Vec::new();
    let mut run: Vec<(f64, f64)> = Vec::new();
    let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut points = Canvas::default();
    for (i, (key, found)) in slots.iter().enumerate() {
        let x = left + slot * (i as f64 + 0.5);
        let (year, month) = year_month(key).unwrap_or((0, 1));
        c.text(x, plot_bottom + 16.0, 11.0, "middle", INK, MONTHS[(month - 1) as usize]);
        if i == 0 || month == 1 {
            c.text(x, plot_bottom + 30.0, 11.0, "middle", MUTED, &year.to_string());
        }
        let point = found.and_then(|f| if f.children.suppressed { None } else { f.rate });
        match (found, point) {
            (Some(f), Some(rate)) => {
                let y = plot_bottom - (plot_bottom - plot_top) * rate.clamp(0.0, 1.0);
                run.push((x, y));
                let pct = format!("{:.0}%", rate * 100.0);
                let _ = writeln!(points.body, r#"<circle cx="{}" cy="{}" r="4" fill="{BAR}"/>"#, num(x), num(y));
                points.text(x, y - 9.0, 11.0, "middle", INK, &pct);
                said.push(format!("{key}: {pct} (n = {})", label(&f.children)));
            }
            (Some(f), None) => {
                runs.push(std::mem::take(&mut run));
                if f.children.suppressed {
                    // A gap, shaded over the whole height: no rate to read off.
                    let _ = writeln!(
                        c.body,
                        r#"<rect x="{}" y="{}" width="{}" height="{}" fill="url(#suppressed)" fill-opacity="0.3"/>"#,
                        num(x - slot * 0.3),
                        num(plot_top),
                        num(slot * 0.6),
                        num(plot_bottom - plot_top)
                    );
                    c.text(x, (plot_top + plot_bottom) / 2.0 + 5.0, 14.0, "middle", INK, "c");
                    said.push(format!("{key}: c (suppressed)"));
                } else {
                    said.push(format!("{key}: no sessions offered (n = {})", label(&f.children)));
                }
            }
            (None, _) => {
                runs.push(std::mem::take(&mut run));
                said.push(format!("{key}: no attendance recorded"));
            }
        }
        if let Some(f) = found {
            c.text(x, plot_bottom + 46.0, 10.0, "middle", MUTED, &format!("n={}", label(&f.children)));
        }
    }
    runs.push(run);
    for run in runs.iter().filter(|r| r.len() > 1) {
        let path: Vec<String> = run.iter().map(|(x, y)| format!("{},{}", num(*x), num(*y))).collect();
        let _ =
            writeln!(c.body, r#"<polyline points="{}" fill="none" stroke="{BAR}" stroke-width="2"/>"#, path.join(" "));
    }
    c.body.push_str(&points.body);
    let desc = format!(
        "Line chart of the share of offered sessions attended, by month, with gaps where a month is suppressed or missing. {}.",
        said.join("; ")
    );
    document(width, plot_bottom + 52.0, frame, &desc, &notes, &c)
}

/// PNG pixels per SVG unit: twice, for sharp text on high-density screens and in print.
const PNG_SCALE: f32 = 2.0;

static FONT_DATA: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");

/// The one font PNG rendering knows (no system fonts: the same output on every machine).
fn fonts() -> Arc<resvg::usvg::fontdb::Database> {
    static FONTS: OnceLock<Arc<resvg::usvg::fontdb::Database>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut db = resvg::usvg::fontdb::Database::new();
            db.load_font_source(resvg::usvg::fontdb::Source::Binary(Arc::new(FONT_DATA)));
            db.set_sans_serif_family("DejaVu Sans");
            Arc::new(db)
        })
        .clone()
}

/// Renders one of these charts to PNG (at twice its SVG size). CPU-bound: call it off the
/// async runtime (`spawn_blocking`).
pub fn png(svg: &str) -> Result<Vec<u8>> {
    let internal = |what: &str| Error::Internal(anyhow::anyhow!("chart PNG: {what}"));
    let options = resvg::usvg::Options { font_family: "DejaVu Sans".to_owned(), fontdb: fonts(), ..Default::default() };
    let tree = resvg::usvg::Tree::from_str(svg, &options).map_err(|e| internal(&e.to_string()))?;
    let size = tree.size().to_int_size().scale_by(PNG_SCALE).ok_or_else(|| internal("size"))?;
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height()).ok_or_else(|| internal("pixmap"))?;
    resvg::render(&tree, resvg::tiny_skia::Transform::from_scale(PNG_SCALE, PNG_SCALE), &mut pixmap.as_mut());
    pixmap.encode_png().map_err(|e| internal(&e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::disclosure::{protect, protect_one};
    use crate::domain::metrics::Group;

    const RULES: Rules = Rules { threshold: 10, rounding_base: 5 };

    fn frame(audience: Audience) -> Frame<'static> {
        Frame { title: "Enrolment funnel", selection: "2025-26 · anchor: Test <Primary> & Co", audience, rules: RULES }
    }

    fn group(audience: Audience, funnel: [i64; 6]) -> Group {
        let cells = funnel.map(|v| protect_one(audience, &RULES, v));
        Group {
            key: None,
            label: "total".into(),
            funnel: cells,
            referrals: Vec::new(),
            sessions_delivered: None,
            children_offered_sessions: protect_one(audience, &RULES, 0),
            attendance_rate: None,
            engaged_children: protect_one(audience, &RULES, 0),
            outcomes: Vec::new(),
        }
    }

    fn outcome(audience: Audience, baseline: &[i64], latest: &[i64]) -> AreaOutcome {
        let children = baseline.iter().sum();
        AreaOutcome {
            area: "emotional_wellbeing".into(),
            children: protect_one(audience, &RULES, children),
            baseline: protect(audience, &RULES, baseline),
            latest: protect(audience, &RULES, latest),
            children_reassessed: protect_one(audience, &RULES, children),
            mean_change: None,
            share_improved: None,
        }
    }

    fn month(audience: Audience, month: &str, children: i64, rate: f64) -> MonthAttendance {
        let base = protect_one(audience, &RULES, children);
        MonthAttendance {
            month: month.into(),
            children: base,
            rate: crate::domain::disclosure::derived(base, Some(rate)),
        }
    }

    /// Well-formed XML, checked by a real parser (the one `resvg` uses), and SVG that the
    /// renderer accepts.
    fn assert_well_formed(svg: &str) {
        let doc = resvg::usvg::roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("{e}\n{svg}"));
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        assert_eq!(root.attribute("role"), Some("img"));
        let children: Vec<&str> = root.children().filter(|n| n.is_element()).map(|n| n.tag_name().name()).collect();
        assert_eq!(&children[..2], ["title", "desc"], "title and desc come first");
        resvg::usvg::Tree::from_str(svg, &resvg::usvg::Options::default()).expect("a valid SVG");
    }

    /// The texts drawn (not the title or description).
    fn labels(svg: &str) -> Vec<String> {
        let doc = resvg::usvg::roxmltree::Document::parse(svg).expect("XML");
        doc.descendants().filter(|n| n.has_tag_name("text")).map(|n| n.text().unwrap_or("").to_owned()).collect()
    }

    fn rects(svg: &str) -> usize {
        svg.matches("<rect ").count()
    }

    #[test]
    fn funnel_shows_a_suppressed_count_as_c_and_not_as_a_zero_bar() {
        // 4 is suppressed, 0 is a true zero.
        let g = group(Audience::Protected, [42, 31, 4, 0, 18, 12]);
        let svg = funnel_svg(&g, &frame(Audience::Protected));
        assert_well_formed(&svg);
        let texts = labels(&svg);
        for value in ["40", "30", "c", "0", "20", "10"] {
            assert!(texts.iter().any(|t| t == value), "no label {value}: {texts:?}");
        }
        // One hatched mark for the one suppressed stage, and none for the zero.
        assert_eq!(svg.matches("url(#suppressed)").count(), 1, "{svg}");
        assert!(svg.contains("enrolled: c (suppressed)"), "the description says so");
        assert!(svg.contains("active: 0"));
        assert!(svg.contains("Counts under 10 suppressed (c); others rounded to 5."));
        assert!(svg.contains("c = suppressed: fewer than 10 children"));
    }

    #[test]
    fn exact_figures_are_labelled_and_say_who_they_are_for() {
        let g = group(Audience::Unrestricted, [42, 31, 4, 0, 18, 12]);
        let svg = funnel_svg(&g, &frame(Audience::Unrestricted));
        assert_well_formed(&svg);
        let texts = labels(&svg);
        for value in ["42", "31", "4", "0", "18", "12"] {
            assert!(texts.iter().any(|t| t == value), "no label {value}: {texts:?}");
        }
        assert!(!svg.contains("url(#suppressed)\""));
        assert!(!svg.contains("suppressed (c)"));
        assert!(svg.contains("Exact figures for the backbone team"));
        // Five bars drawn (the zero has none) besides the background and pattern.
        assert_eq!(rects(&svg), 5 + 2, "{svg}");
    }

    #[test]
    fn text_is_escaped() {
        let g = group(Audience::Protected, [42, 31, 4, 0, 18, 12]);
        let f = Frame { title: "Funnel <script>alert(1)</script> & \"more\"", ..frame(Audience::Protected) };
        let svg = funnel_svg(&g, &f);
        assert_well_formed(&svg);
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("Funnel &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;more&quot;"));
        assert!(svg.contains("Test &lt;Primary&gt; &amp; Co"));
    }

    #[test]
    fn levels_draw_baseline_and_latest_per_level_with_suppression() {
        let a = outcome(Audience::Protected, &[3, 20, 40, 15, 0], &[0, 10, 30, 35, 13]);
        let scale: Vec<String> =
            ["Needs significant support", "Needs some support", "Getting there", "Doing well", "Flourishing"]
                .map(str::to_owned)
                .to_vec();
        let svg = levels_svg(Some(&a), "Emotional wellbeing", &scale, &frame(Audience::Protected));
        assert_well_formed(&svg);
        let texts = labels(&svg);
        // Baseline: 3 is suppressed and 15 (the smallest other) with it; latest untouched.
        assert_eq!(svg.matches("url(#suppressed)").count(), 2, "{svg}");
        assert_eq!(texts.iter().filter(|t| *t == "c").count(), 2, "{texts:?}");
        for value in ["20", "40", "35", "30", "10", "Level 1", "Level 5"] {
            assert!(texts.iter().any(|t| t == value), "no label {value}: {texts:?}");
        }
        assert!(svg.contains("level 1: baseline c (suppressed), latest 0"), "{svg}");
        assert!(svg.contains("5 Flourishing"));
        let none = levels_svg(None, "Relationships", &[], &frame(Audience::Protected));
        assert_well_formed(&none);
        assert!(none.contains("No assessments in this area"));
    }

    #[test]
    fn attendance_breaks_the_line_at_suppressed_and_missing_months() {
        let months = [
            month(Audience::Protected, "2025-09", 40, 0.9),
            month(Audience::Protected, "2025-10", 4, 0.53),
            month(Audience::Protected, "2025-11", 35, 0.8),
            month(Audience::Protected, "2025-12", 30, 0.77),
            month(Audience::Protected, "2026-02", 30, 0.7),
        ];
        let svg = attendance_svg(&months, &frame(Audience::Protected));
        assert_well_formed(&svg);
        let texts = labels(&svg);
        for value in ["90%", "80%", "77%", "70%", "c", "n=c", "n=40", "Jan", "2025", "2026"] {
            assert!(texts.iter().any(|t| t == value), "no label {value}: {texts:?}");
        }
        // October's rate is not shown; the line runs only Nov–Dec (Sep and Feb stand alone).
        assert!(!texts.iter().any(|t| t == "53%"));
        assert_eq!(svg.matches("<polyline").count(), 1, "{svg}");
        assert_eq!(svg.matches("<circle").count(), 4);
        assert!(svg.contains("2025-10: c (suppressed)"));
        assert!(svg.contains("2026-01: no attendance recorded"));
        let empty = attendance_svg(&[], &frame(Audience::Protected));
        assert_well_formed(&empty);
        assert!(empty.contains("No attendance recorded"));
    }

    #[test]
    fn output_is_deterministic() {
        let g = group(Audience::Protected, [42, 31, 4, 0, 18, 12]);
        assert_eq!(funnel_svg(&g, &frame(Audience::Protected)), funnel_svg(&g, &frame(Audience::Protected)));
        let months = [month(Audience::Protected, "2025-09", 40, 0.9)];
        assert_eq!(
            attendance_svg(&months, &frame(Audience::Protected)),
            attendance_svg(&months, &frame(Audience::Protected))
        );
    }

    #[test]
    fn axes_use_round_steps() {
        assert_eq!(axis(0), (1, 1));
        assert_eq!(axis(4), (4, 1));
        assert_eq!(axis(7), (8, 2));
        assert_eq!(axis(42), (50, 10));
        assert_eq!(axis(95), (100, 20));
        assert_eq!(axis(1234), (1500, 500));
        assert_eq!(num(12.0), "12");
        assert_eq!(num(-0.01), "0");
        assert_eq!(num(3.25), "3.3");
    }

    #[test]
    fn long_lines_are_wrapped_and_long_titles_shrunk() {
        let long = "Levels of the common scale: 1 Needs significant support · 2 Needs some support · 3 Getting there";
        let lines = wrap(long, 11.0, 300.0);
        assert!(lines.len() > 1, "{lines:?}");
        assert!(lines.iter().all(|l| text_width(l, 11.0) <= 300.0), "{lines:?}");
        assert_eq!(lines.join(" "), long);
        assert_eq!(wrap("short", 11.0, 300.0), ["short"]);
        assert_eq!(fit("short", 18.0, 672.0), 18.0);
        assert!(fit(&"x".repeat(100), 18.0, 672.0) < 18.0);
    }

    #[test]
    fn png_starts_with_the_png_signature_and_renders_text() {
        let g = group(Audience::Protected, [42, 31, 4, 0, 18, 12]);
        let bytes = png(&funnel_svg(&g, &frame(Audience::Protected))).expect("png");
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        assert!(bytes.len() > 5_000, "text and bars drawn: {} bytes", bytes.len());
    }
}
