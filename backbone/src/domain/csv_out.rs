//! The one CSV writer: every CSV the service or the command line writes (metrics, claim
//! lines, claim totals) is built here, so that no cell can carry a spreadsheet formula.
//!
//! A cell a spreadsheet would read as a formula — one starting with `=`, `+`, `-`, `@`, a
//! tab or a carriage return (OWASP's CSV injection triggers), also after leading spaces or
//! line breaks, or with the full-width `＝ ＋ － ＠` some spreadsheets accept — is written
//! with a single quote `'` in front, so that it opens as the text that was typed. A cell
//! that is wholly a plain decimal number (`-0.5`, `-3`) is data, not a formula, and is
//! left as it is so that negative figures stay readable and summable. Quoting (commas,
//! quotes, line breaks) is the `csv` crate's, applied after neutralising.

use crate::error::{Error, Result};
use std::borrow::Cow;

/// A CSV document being written, row by row.
pub struct CsvOut {
    writer: csv::Writer<Vec<u8>>,
}

impl CsvOut {
    /// Starts a document with its header row (the header is neutralised too).
    pub fn new<I, S>(header: I) -> Result<CsvOut>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut out = CsvOut { writer: csv::Writer::from_writer(Vec::new()) };
        out.row(header)?;
        Ok(out)
    }

    /// Writes one row, neutralising every cell.
    pub fn row<I, S>(&mut self, cells: I) -> Result<()>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let cells: Vec<String> = cells.into_iter().map(|c| neutralise(c.as_ref()).into_owned()).collect();
        self.writer.write_record(&cells).map_err(csv_error)
    }

    /// The finished document.
    pub fn finish(self) -> Result<String> {
        let bytes = self.writer.into_inner().map_err(csv_error)?;
        String::from_utf8(bytes).map_err(csv_error)
    }
}

fn csv_error(e: impl std::fmt::Display) -> Error {
    Error::Internal(anyhow::anyhow!("writing CSV: {e}"))
}

/// The characters that make a spreadsheet read a cell as a formula when they come first.
fn is_trigger(c: char) -> bool {
    matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r' | '\n' | '＝' | '＋' | '－' | '＠')
}

/// Whether the whole cell is a plain decimal number: an optional `-`, digits, and an
/// optional fraction (what the exports write for figures, e.g. `-0.5000`).
fn is_plain_number(cell: &str) -> bool {
    let digits = cell.strip_prefix('-').unwrap_or(cell);
    let (whole, fraction) = match digits.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (digits, None),
    };
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

/// The cell as it is safe to write: prefixed with `'` when a spreadsheet would otherwise
/// run it as a formula; unchanged otherwise.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    let first_visible = cell.trim_start_matches([' ', '\u{a0}', '\u{3000}']).chars().next();
    let starts_badly = cell.chars().next().is_some_and(is_trigger) || first_visible.is_some_and(is_trigger);
    if starts_badly && !is_plain_number(cell) { Cow::Owned(format!("'{cell}")) } else { Cow::Borrowed(cell) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_triggers_are_prefixed_with_a_quote() {
        for cell in [
            "=1+2",
            "=cmd|' /C calc'!A0",
            "+44 20 7946 0000",
            "-2+3",
            "@SUM(A1:A2)",
            "\t=1",
            "\r=1",
            "\n=1",
            "  =HYPERLINK(\"http://x\")",
            "＝1+2",
            "-",
            "--1",
            "-1e5",
            "-inf",
            "-1.",
        ] {
            assert_eq!(neutralise(cell), format!("'{cell}"), "{cell:?}");
        }
    }

    #[test]
    fn ordinary_text_and_numbers_are_left_alone() {
        for cell in ["", "Year 5 reading club", "c", "40", "0.7500", "-0.5000", "-3", "2025-26", "a=b", "it's -1"] {
            assert_eq!(neutralise(cell), cell, "{cell:?}");
        }
    }

    #[test]
    fn neutralised_cells_keep_correct_quoting() {
        let mut out = CsvOut::new(["name", "value"]).expect("header");
        out.row(["=cmd|' /C calc'!A0", "-0.5"]).expect("row");
        out.row(["=HYPERLINK(\"http://x\",\"a, b\")", "=1+2"]).expect("row");
        out.row(["plain, with comma", "@x"]).expect("row");
        let text = out.finish().expect("csv");
        assert_eq!(
            text,
            "name,value\n'=cmd|' /C calc'!A0,-0.5\n\"'=HYPERLINK(\"\"http://x\"\",\"\"a, b\"\")\",'=1+2\n\"plain, with comma\",'@x\n"
        );
        // Read back by a CSV reader, every cell is what was typed, with the quote in front.
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let rows: Vec<Vec<String>> =
            reader.records().map(|r| r.expect("record").iter().map(str::to_owned).collect()).collect();
        assert_eq!(rows[1], vec!["'=HYPERLINK(\"http://x\",\"a, b\")".to_owned(), "'=1+2".to_owned()]);
    }
}
