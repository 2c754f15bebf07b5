//! How names are compared: the words of a name folded so that a search or a duplicate
//! check finds "Zoë O'Brien" from "zoe obrien". Here, in the migrations' crate, because
//! the migration that keys existing children uses it; the service uses the same function.
//!
//! Folding: compatibility decomposition, combining marks dropped (`ë` → `e`), lower case,
//! apostrophes removed (`O'Brien` → `obrien`), and every other character that is not a
//! letter or digit (spaces, hyphens, dots) separating words.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// The folded words of `name`, in order, without repeats.
pub fn words(name: &str) -> Vec<String> {
    let mut folded = String::with_capacity(name.len());
    for c in name.nfkd() {
        if is_combining_mark(c) || matches!(c, '\'' | '\u{2019}' | '\u{2018}' | '`' | '\u{02BC}') {
            continue;
        }
        if c.is_alphanumeric() {
            folded.extend(c.to_lowercase());
        } else {
            folded.push(' ');
        }
    }
    let mut out: Vec<String> = Vec::new();
    for w in folded.split_whitespace() {
        let w: String = w.chars().take(MAX_WORD).collect();
        if !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

/// The longest folded word kept, in characters (a name is at most 100 characters, but a
/// decomposition can be longer than what it decomposes).
pub const MAX_WORD: usize = 100;

/// One key for a whole name (first and last), equal for two names that fold the same:
/// the folded words of each part, joined.
pub fn key(first_name: &str, last_name: &str) -> String {
    let part = |n: &str| {
        let mut folded = String::new();
        for c in n.nfkd() {
            if is_combining_mark(c) || !c.is_alphanumeric() {
                continue;
            }
            folded.extend(c.to_lowercase());
        }
        folded.chars().take(MAX_WORD).collect::<String>()
    };
    format!("{}|{}", part(first_name), part(last_name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accents_apostrophes_and_case_fold_away() {
        assert_eq!(words("Zoë"), vec!["zoe"]);
        assert_eq!(words("O'Brien"), vec!["obrien"]);
        assert_eq!(words("O\u{2019}Brien"), vec!["obrien"]);
        assert_eq!(words("  Smith-Jones "), vec!["smith", "jones"]);
        assert_eq!(words("Anne anne"), vec!["anne"]);
        assert_eq!(words("ŁUKASZ"), vec!["łukasz"]);
        assert_eq!(words("Ｊｏ"), vec!["jo"]);
        assert!(words(" - ' ").is_empty());
        assert_eq!(words(&"\u{FB03}".repeat(60))[0].chars().count(), MAX_WORD);
    }

    #[test]
    fn a_key_is_the_same_for_names_that_fold_the_same_and_differs_otherwise() {
        assert_eq!(key("Zoë", "O'Brien"), key("zoe", "OBRIEN"));
        assert_eq!(key("Mary Anne", "Smith-Jones"), key("Mary-Anne", "Smith Jones"));
        assert_ne!(key("Ann", "Lee"), key("Anne", "Lee"));
        assert_ne!(key("Lee", "Ann"), key("Ann", "Lee"));
    }
}
