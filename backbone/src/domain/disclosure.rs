//! Disclosure control: the one place that decides what an aggregate may show. Every count a
//! funder can reach (metrics, milestone totals, exports, charts) passes through [`protect`];
//! every mean, share or amount derived from a count passes through [`derived`].
//!
//! For a protected audience (funders):
//! 1. **Primary suppression.** A count from 1 to `threshold − 1` is suppressed: no value,
//!    `suppressed` set (`c` in CSV, as UK official statistics mark it). Zero is shown.
//! 2. **Secondary suppression.** Within one relation (cells that add up to a total the
//!    reader can also get), a single suppressed cell could be recovered as the total minus
//!    the others; so when exactly one cell is suppressed, the smallest other non-zero cell is
//!    suppressed too, to a fixpoint. [`protect_linked`] takes any set of relations (the
//!    metrics' whole catalogue as linked tables, see `domain::metrics::protected`);
//!    [`protect_table`] and [`protect`] are its rows-and-columns and one-line cases.
//! 3. **Rounding.** Every count shown is rounded to the nearest multiple of `rounding_base`
//!    (halves up), so two requests whose populations differ by one child almost always
//!    show the same figures, and never the exact difference.
//!
//! Means and shares are suppressed when their base count is. Backbone analysts and admins
//! see exact figures; nobody else reaches an aggregate.

/// The configured thresholds (`[disclosure]` in the settings).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rules {
    /// Counts below this (and above zero) are suppressed.
    pub threshold: i64,
    /// Counts shown are rounded to a multiple of this.
    pub rounding_base: i64,
}

impl Default for Rules {
    fn default() -> Self {
        Rules { threshold: 10, rounding_base: 5 }
    }
}

/// Who is reading, as disclosure control sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    /// Backbone analysts and admins (and the system): exact figures.
    Unrestricted,
    /// Funders: suppressed and rounded figures.
    Protected,
}

/// A count as it may be shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Count {
    pub value: Option<i64>,
    pub suppressed: bool,
    /// Whether disclosure control applied (figures derived from it are rounded too).
    pub protected: bool,
}

impl Count {
    fn exact(value: i64) -> Count {
        Count { value: Some(value), suppressed: false, protected: false }
    }

    fn shown(value: i64) -> Count {
        Count { value: Some(value), suppressed: false, protected: true }
    }

    /// A count as stored after protection: the published value, `None` when suppressed.
    pub fn published(value: Option<i64>) -> Count {
        value.map_or(Count::SUPPRESSED, Count::shown)
    }

    const SUPPRESSED: Count = Count { value: None, suppressed: true, protected: true };

    /// For CSV: the number, or `c` when suppressed.
    pub fn csv(&self) -> String {
        self.value.map_or_else(|| "c".to_owned(), |v| v.to_string())
    }
}

fn round_to(value: i64, base: i64) -> i64 {
    if base <= 1 { value } else { ((value + base / 2) / base) * base }
}

/// Protects one breakdown: `cells` are counts that add up to something the reader can also
/// get (pass a single count as a one-element slice). Unrestricted audiences get the exact
/// values.
pub fn protect(audience: Audience, rules: &Rules, cells: &[i64]) -> Vec<Count> {
    protect_table(audience, rules, &[cells.to_vec()]).remove(0)
}

/// Protects a table whose rows and columns each add up to something the reader can get
/// (groups × categories, with a total row): the rows and columns are the relations of
/// [`protect_linked`].
pub fn protect_table(audience: Audience, rules: &Rules, rows: &[Vec<i64>]) -> Vec<Vec<Count>> {
    let mut values = Vec::new();
    let mut index: Vec<Vec<usize>> = Vec::new();
    for row in rows {
        index.push((values.len()..values.len() + row.len()).collect());
        values.extend_from_slice(row);
    }
    let width = rows.iter().map(Vec::len).max().unwrap_or(0);
    let relations: Vec<Vec<usize>> = index
        .iter()
        .cloned()
        .chain((0..width).map(|c| index.iter().filter_map(|r| r.get(c).copied()).collect()))
        .collect();
    let mut shown = protect_linked(audience, rules, &values, &relations).into_iter();
    rows.iter().map(|r| shown.by_ref().take(r.len()).collect()).collect()
}

/// Protects linked tables: `values` are exact counts, each `relations` entry a set of
/// cells that satisfy one additive relation the reader knows (a total and its parts, two
/// cells that count the same children). For a protected audience: primary suppression;
/// then, while some relation holds exactly one suppressed cell (the others would give it
/// back by subtraction), the smallest other non-zero cell of that relation is suppressed
/// too (ties: the lowest index), to a fixpoint; then rounding. The result depends only on
/// the values and relations, so every process computes the same.
pub fn protect_linked(audience: Audience, rules: &Rules, values: &[i64], relations: &[Vec<usize>]) -> Vec<Count> {
    if audience == Audience::Unrestricted {
        return values.iter().map(|v| Count::exact(*v)).collect();
    }
    let hidden = secondary(values, relations, values.iter().map(|v| *v > 0 && *v < rules.threshold).collect());
    values
        .iter()
        .zip(hidden)
        .map(|(v, h)| if h { Count::SUPPRESSED } else { Count::shown(round_to(*v, rules.rounding_base)) })
        .collect()
}

/// Secondary suppression over `relations`, from the cells already `hidden`.
fn secondary(values: &[i64], relations: &[Vec<usize>], mut hidden: Vec<bool>) -> Vec<bool> {
    let mut of_cell: Vec<Vec<usize>> = vec![Vec::new(); values.len()];
    for (r, cells) in relations.iter().enumerate() {
        for c in cells {
            of_cell[*c].push(r);
        }
    }
    // Relations to look at again; each pass only adds suppressions, so this ends.
    let mut pending: std::collections::BTreeSet<usize> = (0..relations.len()).collect();
    while let Some(r) = pending.pop_first() {
        let cells = &relations[r];
        if cells.len() < 2 || cells.iter().filter(|c| hidden[**c]).count() != 1 {
            continue;
        }
        let partner = cells.iter().filter(|c| !hidden[**c] && values[**c] > 0).min_by_key(|c| (values[**c], **c));
        if let Some(c) = partner {
            hidden[*c] = true;
            pending.extend(of_cell[*c].iter().copied());
        }
    }
    hidden
}

/// Protects a single count (no breakdown to hide it in).
pub fn protect_one(audience: Audience, rules: &Rules, value: i64) -> Count {
    protect(audience, rules, &[value])[0]
}

/// A mean or share computed over the children counted in `base`: shown only when the base
/// is, and for a protected audience rounded to two decimal places (a ratio to full precision
/// would give away the exact counts behind it).
pub fn derived(base: Count, value: Option<f64>) -> Option<f64> {
    match (base.suppressed, base.protected) {
        (true, _) => None,
        (false, true) => value.map(|v| (v * 100.0).round() / 100.0),
        (false, false) => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: Rules = Rules { threshold: 10, rounding_base: 5 };

    fn values(counts: &[Count]) -> Vec<Option<i64>> {
        counts.iter().map(|c| c.value).collect()
    }

    #[test]
    fn small_counts_are_suppressed_zero_is_not_and_the_rest_are_rounded() {
        let shown = protect(Audience::Protected, &RULES, &[0, 1, 9, 10, 12, 13, 97]);
        assert_eq!(values(&shown), [Some(0), None, None, Some(10), Some(10), Some(15), Some(95)]);
        assert_eq!(shown.iter().filter(|c| c.suppressed).count(), 2);
    }

    #[test]
    fn a_lone_suppressed_cell_takes_the_smallest_other_with_it() {
        // 23 in all: 3 + 20 would let 23 − 20 recover the 3.
        let shown = protect(Audience::Protected, &RULES, &[3, 20, 40]);
        assert_eq!(values(&shown), [None, None, Some(40)]);
        // Two suppressed cells already hide each other.
        let shown = protect(Audience::Protected, &RULES, &[3, 4, 40]);
        assert_eq!(values(&shown), [None, None, Some(40)]);
        // Zeros are not partners: suppressing a known zero hides nothing.
        let shown = protect(Audience::Protected, &RULES, &[0, 3, 40, 25]);
        assert_eq!(values(&shown), [Some(0), None, Some(40), None]);
    }

    #[test]
    fn a_table_is_protected_along_rows_and_columns() {
        // Two groups and their total, by two categories. The 4 would be recovered from its
        // row (24 − 20) and its column (34 − 30) without secondary suppression.
        let table = vec![vec![4, 20], vec![30, 40], vec![34, 60]];
        let shown = protect_table(Audience::Protected, &RULES, &table);
        let hidden: Vec<(usize, usize)> =
            (0..3).flat_map(|r| (0..2).map(move |c| (r, c))).filter(|(r, c)| shown[*r][*c].suppressed).collect();
        for r in 0..3 {
            let n = hidden.iter().filter(|(row, _)| *row == r).count();
            assert!(n != 1, "row {r} has a lone suppressed cell: {hidden:?}");
        }
        for c in 0..2 {
            let n = hidden.iter().filter(|(_, col)| *col == c).count();
            assert!(n != 1, "column {c} has a lone suppressed cell: {hidden:?}");
        }
        assert!(hidden.contains(&(0, 0)));
    }

    #[test]
    fn linked_tables_hide_a_cell_everywhere_it_can_be_recovered() {
        // Cells: 0 the zone, 1–2 two anchors, 3–4 the second anchor's two year groups. The
        // 9 is hidden; the 45 partners it in the anchors' table; then the second anchor's
        // own table holds one hidden cell (its total), so the 20 goes too.
        let values = [54, 9, 45, 20, 25];
        let relations = vec![vec![0, 1, 2], vec![2, 3, 4]];
        let shown = protect_linked(Audience::Protected, &RULES, &values, &relations);
        let hidden: Vec<usize> = (0..5).filter(|i| shown[*i].suppressed).collect();
        for r in &relations {
            assert_ne!(r.iter().filter(|c| hidden.contains(c)).count(), 1, "{hidden:?} in {r:?}");
        }
        assert_eq!(hidden, [1, 2, 3]);
        assert_eq!((shown[0].value, shown[4].value), (Some(55), Some(25)));
        // An equality: two cells that count the same children hide together.
        let shown = protect_linked(Audience::Protected, &RULES, &[3, 20, 23, 20], &[vec![0, 1, 2], vec![1, 3]]);
        assert!(shown[1].suppressed && shown[3].suppressed, "{shown:?}");
        assert_eq!(shown[2].value, Some(25));
        // Exact for the backbone team.
        let exact = protect_linked(Audience::Unrestricted, &RULES, &[3, 20, 23], &[vec![0, 1, 2]]);
        assert_eq!(exact.iter().map(|c| c.value).collect::<Vec<_>>(), [Some(3), Some(20), Some(23)]);
    }

    #[test]
    fn analysts_see_exact_figures() {
        let shown = protect(Audience::Unrestricted, &RULES, &[3, 12]);
        assert_eq!(values(&shown), [Some(3), Some(12)]);
        assert!(shown.iter().all(|c| !c.suppressed));
    }

    #[test]
    fn derived_figures_follow_their_base() {
        let base = protect_one(Audience::Protected, &RULES, 4);
        assert_eq!(derived(base, Some(0.75)), None);
        let base = protect_one(Audience::Protected, &RULES, 40);
        assert_eq!(derived(base, Some(0.75)), Some(0.75));
        assert_eq!(derived(base, Some(19.0 / 41.0)), Some(0.46), "rounded for funders");
        let exact = protect_one(Audience::Unrestricted, &RULES, 41);
        assert_eq!(derived(exact, Some(19.0 / 41.0)), Some(19.0 / 41.0));
        assert_eq!(base.csv(), "40");
        assert_eq!(protect_one(Audience::Protected, &RULES, 4).csv(), "c");
    }

    #[test]
    fn populations_differing_by_one_child_rarely_differ_and_never_by_exactly_one() {
        for n in 10..200 {
            let (a, b) = (protect_one(Audience::Protected, &RULES, n), protect_one(Audience::Protected, &RULES, n + 1));
            let (a, b) = (a.value.expect("shown"), b.value.expect("shown"));
            assert!(a == b || b - a == RULES.rounding_base, "{n}: {a} then {b}");
        }
    }
}
