//! Natural ("human") ordering of names: `a2` before `a10`, case-insensitive first.
//!
//! The order is total and consistent with equality (only identical strings compare `Equal`), so
//! it can drive a binary search over sorted children. Ties after the case-insensitive, numeric
//! comparison are broken by the raw bytes, which keeps the order stable and deterministic.

use std::cmp::Ordering;
use std::iter::Peekable;
use std::str::Chars;

/// Compares two names naturally: runs of ASCII digits compare by numeric value, other characters
/// compare case-insensitively; remaining ties fall back to a byte-wise comparison.
pub fn natural_cmp(left: &str, right: &str) -> Ordering {
    natural_cmp_folded(left, right).then_with(|| left.cmp(right))
}

/// One comparable piece of a name: a digit run or a single (case-folded) character.
/// Field order is the comparison order (derived `Ord`).
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Token<'a> {
    /// The folded code point for a character; `'0'` for a digit run, so numbers sort where
    /// digits would among the other characters.
    position: u32,
    /// Length of the digit run without leading zeros (a longer run is a larger number).
    digits_len: usize,
    /// The digit run without leading zeros (equal lengths compare lexically = numerically).
    digits: &'a str,
}

/// Splits the next token off `chars`; `text` and `offset` let digit runs borrow from the input.
fn next_token<'a>(
    text: &'a str,
    chars: &mut Peekable<Chars<'a>>,
    offset: &mut usize,
) -> Option<Token<'a>> {
    let first = chars.next()?;
    let start = *offset;
    *offset += first.len_utf8();
    if !first.is_ascii_digit() {
        return Some(Token {
            position: fold_case(first) as u32,
            digits_len: 0,
            digits: "",
        });
    }
    while let Some(next) = chars.peek().copied().filter(char::is_ascii_digit) {
        chars.next();
        *offset += next.len_utf8();
    }
    // Leading zeros do not change the value; without them, longer runs are larger numbers.
    let digits = text[start..*offset].trim_start_matches('0');
    Some(Token {
        position: '0' as u32,
        digits_len: digits.len(),
        digits,
    })
}

/// Lowercases one character to a single character (the first of its lowercase mapping).
fn fold_case(character: char) -> char {
    if character.is_ascii() {
        character.to_ascii_lowercase()
    } else {
        character.to_lowercase().next().unwrap_or(character)
    }
}

/// The case-insensitive, numeric-aware part of [`natural_cmp`] (a total preorder). Works on bytes
/// while both sides are ASCII (the common case for topics) and hands the rest to the
/// character-based comparison at the first non-ASCII byte, which is always a character boundary.
fn natural_cmp_folded(left: &str, right: &str) -> Ordering {
    let (left_bytes, right_bytes) = (left.as_bytes(), right.as_bytes());
    let (mut left_index, mut right_index) = (0, 0);
    loop {
        let (left_byte, right_byte) =
            match (left_bytes.get(left_index), right_bytes.get(right_index)) {
                (Some(&left_byte), Some(&right_byte)) => (left_byte, right_byte),
                (None, None) => return Ordering::Equal,
                (None, Some(_)) => return Ordering::Less,
                (Some(_), None) => return Ordering::Greater,
            };
        if !left_byte.is_ascii() || !right_byte.is_ascii() {
            return natural_cmp_chars(&left[left_index..], &right[right_index..]);
        }
        if left_byte.is_ascii_digit() && right_byte.is_ascii_digit() {
            let left_end = digit_run_end(left_bytes, left_index);
            let right_end = digit_run_end(right_bytes, right_index);
            let left_digits = trim_leading_zeros(&left_bytes[left_index..left_end]);
            let right_digits = trim_leading_zeros(&right_bytes[right_index..right_end]);
            let by_value = left_digits
                .len()
                .cmp(&right_digits.len())
                .then_with(|| left_digits.cmp(right_digits));
            if by_value != Ordering::Equal {
                return by_value;
            }
            (left_index, right_index) = (left_end, right_end);
            continue;
        }
        // A number sorts where its first digit would; letters compare lowercased.
        let ascii_key = |byte: u8| {
            if byte.is_ascii_digit() {
                b'0'
            } else {
                byte.to_ascii_lowercase()
            }
        };
        let by_character = ascii_key(left_byte).cmp(&ascii_key(right_byte));
        if by_character != Ordering::Equal {
            return by_character;
        }
        left_index += 1;
        right_index += 1;
    }
}

fn digit_run_end(bytes: &[u8], start: usize) -> usize {
    start
        + bytes[start..]
            .iter()
            .take_while(|byte| byte.is_ascii_digit())
            .count()
}

fn trim_leading_zeros(digits: &[u8]) -> &[u8] {
    let zeros = digits.iter().take_while(|&&digit| digit == b'0').count();
    &digits[zeros..]
}

/// The character-based comparison behind [`natural_cmp_folded`], for any Unicode text.
fn natural_cmp_chars(left: &str, right: &str) -> Ordering {
    let mut left_chars = left.chars().peekable();
    let mut right_chars = right.chars().peekable();
    let (mut left_offset, mut right_offset) = (0, 0);
    loop {
        let left_token = next_token(left, &mut left_chars, &mut left_offset);
        let right_token = next_token(right, &mut right_chars, &mut right_offset);
        match (left_token, right_token) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(l), Some(r)) => match l.cmp(&r) {
                Ordering::Equal => continue,
                unequal => return unequal,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sorted(names: &[&str]) -> Vec<String> {
        let mut owned: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        owned.sort_by(|a, b| natural_cmp(a, b));
        owned
    }

    #[test]
    fn numbers_compare_by_value_not_by_text() {
        assert_eq!(sorted(&["a10", "a2", "a1"]), ["a1", "a2", "a10"]);
        assert_eq!(
            sorted(&["room 100", "room 20", "room 3"]),
            ["room 3", "room 20", "room 100"]
        );
    }

    #[test]
    fn case_is_ignored_before_the_tie_break() {
        assert_eq!(sorted(&["b", "A", "a", "B"]), ["A", "a", "B", "b"]);
        assert_eq!(natural_cmp("Zone", "apple"), Ordering::Greater);
    }

    #[test]
    fn leading_zeros_tie_on_value_and_are_broken_by_bytes() {
        assert_eq!(natural_cmp_folded("a01", "a1"), Ordering::Equal);
        assert_ne!(natural_cmp("a01", "a1"), Ordering::Equal);
        assert_eq!(natural_cmp("a01", "a1"), natural_cmp("a01", "a1"));
    }

    #[test]
    fn huge_digit_runs_do_not_overflow() {
        let big = "9".repeat(60);
        let bigger = format!("1{}", "0".repeat(60));
        assert_eq!(natural_cmp(&big, &bigger), Ordering::Less);
    }

    #[test]
    fn empty_and_punctuation_names_sort_consistently() {
        assert_eq!(sorted(&["b", "", "-x", "1"]), ["", "-x", "1", "b"]);
        assert_eq!(natural_cmp("Ä", "ä"), natural_cmp("Ä", "ä"));
        assert_eq!(natural_cmp_folded("Ä", "ä"), Ordering::Equal);
    }

    proptest! {
        #[test]
        fn the_ascii_fast_path_agrees_with_the_character_comparison(
            a in "[aBzZ09_ ./ÄäK\u{212A}-]{0,8}", b in "[aBzZ09_ ./ÄäK\u{212A}-]{0,8}"
        ) {
            prop_assert_eq!(natural_cmp_folded(&a, &b), natural_cmp_chars(&a, &b));
        }

        #[test]
        fn order_is_total_antisymmetric_and_transitive(
            a in "[aB0-9_ ]{0,6}", b in "[aB0-9_ ]{0,6}", c in "[aB0-9_ ]{0,6}"
        ) {
            prop_assert_eq!(natural_cmp(&a, &b), natural_cmp(&b, &a).reverse());
            prop_assert_eq!(natural_cmp(&a, &b) == Ordering::Equal, a == b);
            if natural_cmp(&a, &b) != Ordering::Greater && natural_cmp(&b, &c) != Ordering::Greater {
                prop_assert_ne!(natural_cmp(&a, &c), Ordering::Greater);
            }
        }
    }
}
