//! Synthetic anchor data for needs identification: the CSV file an anchor school exports
//! for the backbone to screen, one row per pupil. All of it is invented.
//!
//! The file format (documented in `docs/outcomes.md`, "Anchor data (needs
//! identification)") is fixed:
//!
//! ```text
//! upn,attendance_percent,attainment,wellbeing_score,practitioner_concern,statutory_support
//! ```
//!
//! | column | value |
//! |---|---|
//! | `upn` | a 13-character Unique Pupil Number with a correct check letter; required, unique in the file |
//! | `attendance_percent` | 0 to 100 with at most one decimal place, or blank |
//! | `attainment` | `below`, `working_towards`, `at` or `above`, or blank |
//! | `wellbeing_score` | a whole number from 14 to 70, or blank |
//! | `practitioner_concern` | `yes` or `no`; blank means no |
//! | `statutory_support` | blank, `in_care` or `edge_of_care` |
//!
//! [`anchor_data_csv`] generates a realistic mix for one school, the demo zone's
//! primary anchor: most pupils are doing fine, about a fifth show one or more risk
//! signals (attendance below 90%, attainment below or working towards expected, a
//! wellbeing score of 40 or less, a practitioner's concern), a few (about 2%) already have
//! statutory support, and some cells are blank. [`SAMPLE_ANCHOR_DATA`] is the committed
//! sample, `seeds/anchor-data/sample.csv`; a unit test proves it equals
//! `anchor_data_csv(SAMPLE_ROWS, SAMPLE_SEED)`.
//!
//! UPNs use the invented local-authority code `999`, as the demo children's do, but
//! serial numbers from 500 up, which the demo children (serials 1 to 200) never use.

use crate::demo::Rng;
use crate::upn_check_letter;

/// The committed sample file: [`anchor_data_csv`]`(`[`SAMPLE_ROWS`]`, `[`SAMPLE_SEED`]`)`.
pub const SAMPLE_ANCHOR_DATA: &str = include_str!("../anchor-data/sample.csv");

/// Rows (pupils) in the committed sample.
pub const SAMPLE_ROWS: usize = 120;

/// Seed of the committed sample ("Screenin" in ASCII).
pub const SAMPLE_SEED: u64 = 0x5363_7265_656E_696E;

/// The header row, naming the columns in order.
pub const ANCHOR_DATA_HEADER: &str =
    "upn,attendance_percent,attainment,wellbeing_score,practitioner_concern,statutory_support";

/// Year groups at the primary anchor (0 = Reception); each pupil's UPN was allocated in
/// the year they started Reception.
const YEAR_GROUPS: std::ops::RangeInclusive<i16> = 0..=6;

/// The first serial number used; the demo children's are 1 to 200.
const FIRST_SERIAL: usize = 500;

/// Serial numbers per allocation year (500 to 999).
const SERIALS: usize = 500;

/// The most rows [`anchor_data_csv`] can generate with distinct UPNs.
pub const MAX_ANCHOR_DATA_ROWS: usize = SERIALS * 7;

/// Schools (invented school numbers in LA 999) where pupils' UPNs were allocated: mostly
/// the anchor itself, where they started Reception; sometimes a school they moved from.
const ALLOCATING_SCHOOLS: &[(u16, usize)] = &[(2101, 85), (2114, 5), (2137, 4), (2150, 3), (2163, 3)];

/// What a pupil's row shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Profile {
    /// Doing fine on every signal.
    Fine,
    /// One or more risk signals.
    Flagged,
    /// Already known to statutory services: in care (`true`) or on the edge of care.
    Statutory { in_care: bool },
}

/// The risk signals a row can show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Signal {
    Attendance,
    Attainment,
    Wellbeing,
    Concern,
}

/// Generates the anchor data of one school as CSV: the header, then `rows` rows, each
/// line ending in `\n`. Deterministic: the same `rows` and `seed` give the same text.
///
/// # Panics
///
/// If `rows` is more than [`MAX_ANCHOR_DATA_ROWS`] (there are not enough distinct UPNs).
pub fn anchor_data_csv(rows: usize, seed: u64) -> String {
    assert!(rows <= MAX_ANCHOR_DATA_ROWS, "at most {MAX_ANCHOR_DATA_ROWS} rows, not {rows}");
    let mut rng = Rng(seed);

    // Exact shares, shuffled: about 2% statutory, 20% flagged, the rest fine.
    let statutory = (rows * 2).div_ceil(100);
    let flagged = (rows / 5).min(rows - statutory);
    let mut profiles: Vec<Profile> = (0..statutory)
        .map(|i| Profile::Statutory { in_care: i % 2 == 1 })
        .chain(std::iter::repeat_n(Profile::Flagged, flagged))
        .chain(std::iter::repeat_n(Profile::Fine, rows - statutory - flagged))
        .collect();
    rng.shuffle(&mut profiles);

    // Distinct (year group, serial) pairs, so UPNs never repeat.
    let mut pupils: Vec<(i16, usize)> =
        YEAR_GROUPS.flat_map(|year| (0..SERIALS).map(move |s| (year, FIRST_SERIAL + s))).collect();
    rng.shuffle(&mut pupils);

    let mut csv = String::with_capacity(64 * (rows + 1));
    csv.push_str(ANCHOR_DATA_HEADER);
    csv.push('\n');
    for (profile, (year_group, serial)) in profiles.into_iter().zip(pupils) {
        let upn = upn(&mut rng, year_group, serial);
        let row = row(&mut rng, profile);
        csv.push_str(&upn);
        for cell in row {
            csv.push(',');
            csv.push_str(&cell);
        }
        csv.push('\n');
    }
    csv
}

/// A UPN: LA 999, the school that allocated it, the year the pupil started Reception, and
/// the serial; with its check letter.
fn upn(rng: &mut Rng, year_group: i16, serial: usize) -> String {
    let total: usize = ALLOCATING_SCHOOLS.iter().map(|&(_, w)| w).sum();
    let mut roll = rng.below(total);
    let mut school = ALLOCATING_SCHOOLS[0].0;
    for &(number, weight) in ALLOCATING_SCHOOLS {
        if roll < weight {
            school = number;
            break;
        }
        roll -= weight;
    }
    let allocated = (2026 - i32::from(year_group)) % 100;
    let body = format!("999{school:04}{allocated:02}{serial:03}");
    let letter = upn_check_letter(&body).expect("the UPN body is twelve digits");
    format!("{letter}{body}")
}

/// Attendance in tenths of a percent, written with one decimal (`96.4`).
fn percent(tenths: i64) -> String {
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// The five cells after the UPN.
fn row(rng: &mut Rng, profile: Profile) -> [String; 5] {
    let signals: Vec<Signal> = match profile {
        Profile::Fine => Vec::new(),
        Profile::Flagged => {
            // Attendance and attainment are the commonest signals: they usually come first.
            let mut all: Vec<(usize, Signal)> =
                [Signal::Attendance, Signal::Attainment, Signal::Wellbeing, Signal::Concern]
                    .into_iter()
                    .map(|s| {
                        let common = matches!(s, Signal::Attendance | Signal::Attainment);
                        (rng.below(if common { 60 } else { 100 }), s)
                    })
                    .collect();
            all.sort_by_key(|&(rank, _)| rank);
            let count = match rng.below(100) {
                0..55 => 1,
                55..85 => 2,
                85..97 => 3,
                _ => 4,
            };
            all[..count].iter().map(|&(_, s)| s).collect()
        }
        Profile::Statutory { .. } => {
            [Signal::Attendance, Signal::Wellbeing, Signal::Concern].into_iter().filter(|_| rng.chance(50)).collect()
        }
    };
    let has = |s: Signal| signals.contains(&s);

    let attendance = if has(Signal::Attendance) {
        // Mostly persistent absence (80–89.9%), sometimes severe.
        if rng.chance(75) { percent(rng.between(800, 899)) } else { percent(rng.between(600, 799)) }
    } else if rng.chance(3) {
        String::new()
    } else if profile == Profile::Fine {
        percent(rng.between(930, 1000))
    } else {
        percent(rng.between(900, 1000))
    };

    let attainment = if has(Signal::Attainment) {
        if rng.chance(65) { "working_towards" } else { "below" }
    } else if rng.chance(5) {
        ""
    } else if profile == Profile::Fine && rng.chance(30) {
        "above"
    } else {
        "at"
    };

    let wellbeing = if has(Signal::Wellbeing) {
        rng.between(22, 40).to_string()
    } else if rng.chance(10) {
        // Not every pupil answered the wellbeing survey.
        String::new()
    } else {
        rng.between(41, 60).to_string()
    };

    let concern = if has(Signal::Concern) {
        "yes"
    } else if rng.chance(25) {
        ""
    } else {
        "no"
    };

    let statutory = match profile {
        Profile::Statutory { in_care: true } => "in_care",
        Profile::Statutory { in_care: false } => "edge_of_care",
        _ => "",
    };

    [attendance, attainment.to_owned(), wellbeing, concern.to_owned(), statutory.to_owned()]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One row as the format allows it, or why not.
    #[derive(Debug)]
    struct Row {
        upn: String,
        attendance: Option<f64>,
        attainment: Option<String>,
        wellbeing: Option<i64>,
        concern: bool,
        statutory: Option<String>,
    }

    impl Row {
        fn flagged(&self) -> bool {
            self.attendance.is_some_and(|a| a < 90.0)
                || matches!(self.attainment.as_deref(), Some("below" | "working_towards"))
                || self.wellbeing.is_some_and(|w| w <= 40)
                || self.concern
        }

        fn fine(&self) -> bool {
            self.attendance.is_some_and(|a| a >= 93.0)
                && matches!(self.attainment.as_deref(), Some("at" | "above"))
                && self.wellbeing.is_some_and(|w| (41..=60).contains(&w))
                && !self.concern
                && self.statutory.is_none()
        }
    }

    /// Parses and checks a whole file against the format; panics naming the line.
    fn parse(csv: &str) -> Vec<Row> {
        let mut lines = csv.split_terminator('\n');
        assert_eq!(lines.next(), Some(ANCHOR_DATA_HEADER));
        assert!(csv.ends_with('\n') && !csv.contains('\r') && !csv.contains('"'));
        let mut rows = Vec::new();
        for (n, line) in lines.enumerate() {
            let at = format!("line {}: {line}", n + 2);
            let cells: Vec<&str> = line.split(',').collect();
            assert_eq!(cells.len(), 6, "{at}");
            let upn = cells[0];
            assert_eq!(upn.len(), 13, "{at}");
            let (letter, body) = upn.split_at(1);
            assert_eq!(upn_check_letter(body).map(String::from).as_deref(), Some(letter), "{at}");
            let attendance = (!cells[1].is_empty()).then(|| {
                let places = cells[1].split_once('.').map_or(0, |(_, f)| f.len());
                assert!(places <= 1, "{at}");
                let value: f64 = cells[1].parse().unwrap_or_else(|_| panic!("{at}"));
                assert!((0.0..=100.0).contains(&value), "{at}");
                value
            });
            let attainment = (!cells[2].is_empty()).then(|| {
                assert!(["below", "working_towards", "at", "above"].contains(&cells[2]), "{at}");
                cells[2].to_owned()
            });
            let wellbeing = (!cells[3].is_empty()).then(|| {
                let value: i64 = cells[3].parse().unwrap_or_else(|_| panic!("{at}"));
                assert!((14..=70).contains(&value), "{at}");
                value
            });
            assert!(["yes", "no", ""].contains(&cells[4]), "{at}");
            assert!(["", "in_care", "edge_of_care"].contains(&cells[5]), "{at}");
            rows.push(Row {
                upn: upn.to_owned(),
                attendance,
                attainment,
                wellbeing,
                concern: cells[4] == "yes",
                statutory: (!cells[5].is_empty()).then(|| cells[5].to_owned()),
            });
        }
        let mut upns: Vec<&str> = rows.iter().map(|r| r.upn.as_str()).collect();
        upns.sort_unstable();
        upns.dedup();
        assert_eq!(upns.len(), rows.len(), "UPNs are unique within the file");
        rows
    }

    #[test]
    fn the_committed_sample_is_the_generator_output() {
        let generated = anchor_data_csv(SAMPLE_ROWS, SAMPLE_SEED);
        if std::env::var_os("UPDATE_ANCHOR_SAMPLE").is_some() {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/anchor-data/sample.csv");
            std::fs::write(path, &generated).expect("write the sample");
            return;
        }
        assert!(
            SAMPLE_ANCHOR_DATA == generated,
            "seeds/anchor-data/sample.csv is stale: run UPDATE_ANCHOR_SAMPLE=1 cargo test -p backbone-seeds \
             the_committed_sample, then rebuild"
        );
        assert_eq!(parse(SAMPLE_ANCHOR_DATA).len(), SAMPLE_ROWS);
    }

    #[test]
    fn every_row_obeys_the_format() {
        for (rows, seed) in [(SAMPLE_ROWS, SAMPLE_SEED), (1000, 1), (7, 2), (1, 3)] {
            assert_eq!(parse(&anchor_data_csv(rows, seed)).len(), rows);
        }
        assert_eq!(anchor_data_csv(0, 4), format!("{ANCHOR_DATA_HEADER}\n"));
        assert_eq!(parse(&anchor_data_csv(MAX_ANCHOR_DATA_ROWS, 5)).len(), MAX_ANCHOR_DATA_ROWS);
    }

    #[test]
    fn the_mix_is_mostly_fine_with_flagged_statutory_and_blank_rows() {
        for (rows, seed) in [(SAMPLE_ROWS, SAMPLE_SEED), (1000, 1), (500, 9)] {
            let parsed = parse(&anchor_data_csv(rows, seed));
            let share = |test: &dyn Fn(&Row) -> bool| parsed.iter().filter(|r| test(r)).count() * 100 / rows;
            let flagged = share(&|r| r.flagged());
            assert!((15..=25).contains(&flagged), "{flagged}% flagged");
            let statutory = parsed.iter().filter(|r| r.statutory.is_some()).count();
            assert!(statutory >= 1 && (1..=3).contains(&(statutory * 100).div_ceil(rows)), "{statutory} statutory");
            assert!(parsed.iter().any(|r| r.statutory.as_deref() == Some("in_care")));
            assert!(parsed.iter().any(|r| r.statutory.as_deref() == Some("edge_of_care")));
            assert!(share(&|r| r.fine()) >= 55, "most pupils are fine");
            assert!(parsed.iter().any(|r| r.attendance.is_none()));
            assert!(parsed.iter().any(|r| r.attainment.is_none()));
            assert!(parsed.iter().any(|r| r.wellbeing.is_none()));
            // Every kind of signal appears, and some rows have more than one.
            assert!(parsed.iter().any(|r| r.attendance.is_some_and(|a| a < 90.0)));
            assert!(parsed.iter().any(|r| r.attainment.as_deref() == Some("below")));
            assert!(parsed.iter().any(|r| r.attainment.as_deref() == Some("working_towards")));
            assert!(parsed.iter().any(|r| r.wellbeing.is_some_and(|w| w <= 40)));
            assert!(parsed.iter().any(|r| r.concern));
            let signals = |r: &Row| {
                usize::from(r.attendance.is_some_and(|a| a < 90.0))
                    + usize::from(matches!(r.attainment.as_deref(), Some("below" | "working_towards")))
                    + usize::from(r.wellbeing.is_some_and(|w| w <= 40))
                    + usize::from(r.concern)
            };
            assert!(parsed.iter().any(|r| signals(r) >= 2));
        }
    }

    #[test]
    fn blank_concern_appears_and_means_no() {
        let csv = anchor_data_csv(SAMPLE_ROWS, SAMPLE_SEED);
        assert!(csv.lines().skip(1).any(|l| l.split(',').nth(4) == Some("")));
        assert!(csv.lines().skip(1).any(|l| l.split(',').nth(4) == Some("no")));
    }

    #[test]
    fn upns_do_not_collide_with_the_demo_children() {
        let zone = crate::demo_zone();
        let demo: Vec<&str> = zone.children.iter().filter_map(|c| c.upn.as_deref()).collect();
        assert!(!demo.is_empty());
        for row in parse(&anchor_data_csv(MAX_ANCHOR_DATA_ROWS, SAMPLE_SEED)) {
            assert!(!demo.contains(&row.upn.as_str()), "{}", row.upn);
            assert!(row.upn[1..].starts_with("999"), "{}", row.upn);
            let serial: usize = row.upn[10..].parse().expect("serial");
            assert!(serial >= FIRST_SERIAL, "{}", row.upn);
        }
    }

    #[test]
    fn is_deterministic_for_a_seed() {
        assert_eq!(anchor_data_csv(50, 7), anchor_data_csv(50, 7));
        assert_ne!(anchor_data_csv(50, 7), anchor_data_csv(50, 8));
    }

    #[test]
    #[should_panic(expected = "at most")]
    fn refuses_more_rows_than_distinct_upns() {
        anchor_data_csv(MAX_ANCHOR_DATA_ROWS + 1, 1);
    }
}
