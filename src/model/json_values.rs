//! Plottable numbers inside JSON payloads, and plain-number payloads with an optional unit.

use serde_json::Value;

use super::payload::{ExtractedValue, ValueKey};

/// At most this many values are taken from one JSON payload.
pub const MAX_JSON_VALUES: usize = 64;

/// Values nested deeper than this are not looked at.
pub const MAX_JSON_DEPTH: usize = 32;

/// Longest unit accepted after a plain number, in characters.
const MAX_UNIT_CHARS: usize = 16;

/// Numbers found in a JSON document.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JsonValues {
    /// In document order, at most [`MAX_JSON_VALUES`].
    pub values: Vec<ExtractedValue>,
    /// More numbers (or deeper ones) existed than were taken.
    pub truncated: bool,
}

/// Every numeric leaf, and every boolean leaf as 0/1, addressed like `a.b[2].c`. A document
/// that is itself a number or boolean gives [`ValueKey::Whole`]. Keys that are not plain
/// words are written quoted, like `a["x.y"]`.
pub fn extract_json_values(document: &Value) -> JsonValues {
    let mut found = JsonValues::default();
    if let Some(value) = leaf_number(document) {
        found.values.push(ExtractedValue {
            key: ValueKey::Whole,
            value,
            timestamp_nanos: None,
        });
        return found;
    }
    let mut path = String::new();
    walk(document, &mut path, 0, &mut found);
    found
}

fn leaf_number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(number) => number.as_f64().filter(|number| number.is_finite()),
        Value::Bool(flag) => Some(if *flag { 1.0 } else { 0.0 }),
        _ => None,
    }
}

fn walk(value: &Value, path: &mut String, depth: usize, found: &mut JsonValues) {
    if found.values.len() >= MAX_JSON_VALUES {
        found.truncated = true;
        return;
    }
    if let Some(number) = leaf_number(value) {
        found.values.push(ExtractedValue {
            key: ValueKey::JsonPath(path.clone()),
            value: number,
            timestamp_nanos: None,
        });
        return;
    }
    let has_children = matches!(value, Value::Array(items) if !items.is_empty())
        || matches!(value, Value::Object(members) if !members.is_empty());
    if has_children && depth >= MAX_JSON_DEPTH {
        found.truncated = true;
        return;
    }
    let path_length = path.len();
    match value {
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                path.push('[');
                path.push_str(&index.to_string());
                path.push(']');
                walk(item, path, depth + 1, found);
                path.truncate(path_length);
            }
        }
        Value::Object(members) => {
            for (key, member) in members {
                push_key(path, key);
                walk(member, path, depth + 1, found);
                path.truncate(path_length);
            }
        }
        _ => {}
    }
}

/// Appends `.key` (or `key` at the root), or `["key"]` when the key would be ambiguous.
fn push_key(path: &mut String, key: &str) {
    let plain = !key.is_empty()
        && !key.contains(['.', '[', ']', '"', '\\'])
        && !key.chars().any(char::is_control);
    if plain {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
    } else {
        path.push('[');
        path.push_str(&serde_json::to_string(key).unwrap_or_default());
        path.push(']');
    }
}

/// A number, optionally followed by a short unit: `21.5`, `-3e2`, `21.5 °C`, `42 %`, `5 m3/h`.
/// Returns the number and the unit (empty when there is none). Text that merely starts with a
/// number (`2018-12-20`, `12:30`, `0x1F`, `3 apples and pears`) is not a number.
pub fn parse_number_with_unit(text: &str) -> Option<(f64, &str)> {
    let text = text.trim();
    let number_length = numeric_prefix_length(text);
    if number_length == 0 {
        return None;
    }
    let (number_text, rest) = text.split_at(number_length);
    let value: f64 = number_text
        .parse()
        .ok()
        .filter(|value: &f64| value.is_finite())?;
    let unit = rest.trim_start();
    if unit.is_empty() {
        return Some((value, ""));
    }
    let radix_prefix = rest.starts_with(['x', 'X', 'b', 'B', 'o', 'O'])
        && number_text.trim_start_matches(['+', '-']) == "0";
    if radix_prefix || !is_unit(unit) {
        return None;
    }
    Some((value, unit))
}

/// Byte length of the leading `[+-] digits [. digits] [e [+-] digits]` (0 if there is none).
fn numeric_prefix_length(text: &str) -> usize {
    let bytes = text.as_bytes();
    let digits_from = |start: usize| {
        bytes[start.min(bytes.len())..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let mut index = usize::from(matches!(bytes.first(), Some(b'+' | b'-')));
    let integer_digits = digits_from(index);
    index += integer_digits;
    let mut fraction_digits = 0;
    if bytes.get(index) == Some(&b'.') {
        fraction_digits = digits_from(index + 1);
        if fraction_digits > 0 || integer_digits > 0 {
            index += 1 + fraction_digits;
        }
    }
    if integer_digits + fraction_digits == 0 {
        return 0;
    }
    if matches!(bytes.get(index), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(bytes.get(index + 1), Some(b'+' | b'-')));
        let exponent_digits = digits_from(index + 1 + sign);
        // Without digits the `e` starts a unit ("5 em"), not an exponent.
        if exponent_digits > 0 {
            index += 1 + sign + exponent_digits;
        }
    }
    index
}

fn is_unit(unit: &str) -> bool {
    let mut characters = unit.chars();
    let Some(first) = characters.next() else {
        return false;
    };
    let first_ok = first.is_alphabetic() || "°%‰‱€$£¥Ω℃℉µ'\"".contains(first);
    first_ok
        && unit.chars().count() <= MAX_UNIT_CHARS
        && !unit
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || ";,=:{}[]".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys_and_values(text: &str) -> Vec<(ValueKey, f64)> {
        let document: Value = serde_json::from_str(text).unwrap();
        extract_json_values(&document)
            .values
            .into_iter()
            .map(|found| (found.key, found.value))
            .collect()
    }

    fn path(text: &str) -> ValueKey {
        ValueKey::JsonPath(text.to_owned())
    }

    #[test]
    fn numeric_and_boolean_leaves_get_dotted_paths() {
        let found = keys_and_values(
            r#"{"a":{"b":[1,"x",{"c":2.5}]},"on":true,"off":false,"s":"3","n":null}"#,
        );
        assert_eq!(
            found,
            vec![
                (path("a.b[0]"), 1.0),
                (path("a.b[2].c"), 2.5),
                (path("on"), 1.0),
                (path("off"), 0.0)
            ]
        );
    }

    #[test]
    fn awkward_keys_are_quoted() {
        let found = keys_and_values(r#"{"x.y":1,"":2,"q\"":3}"#);
        assert_eq!(
            found,
            vec![
                (path(r#"["x.y"]"#), 1.0),
                (path(r#"[""]"#), 2.0),
                (path(r#"["q\""]"#), 3.0)
            ]
        );
    }

    #[test]
    fn a_top_level_array_starts_with_an_index() {
        assert_eq!(keys_and_values("[[5]]"), vec![(path("[0][0]"), 5.0)]);
    }

    #[test]
    fn a_scalar_document_is_the_whole_value() {
        assert_eq!(keys_and_values("true"), vec![(ValueKey::Whole, 1.0)]);
        assert!(keys_and_values(r#""text""#).is_empty());
    }

    #[test]
    fn the_count_is_capped() {
        let text = format!("[{}]", vec!["1"; 100].join(","));
        let document: Value = serde_json::from_str(&text).unwrap();
        let found = extract_json_values(&document);
        assert_eq!(found.values.len(), MAX_JSON_VALUES);
        assert!(found.truncated);
    }

    #[test]
    fn the_depth_is_capped() {
        let text = format!("{}1{}", "[".repeat(40), "]".repeat(40));
        let document: Value = serde_json::from_str(&text).unwrap();
        let found = extract_json_values(&document);
        assert!(found.values.is_empty());
        assert!(found.truncated);
    }

    #[test]
    fn numbers_with_and_without_units_are_recognised() {
        assert_eq!(parse_number_with_unit("21.5"), Some((21.5, "")));
        assert_eq!(parse_number_with_unit(" -3e2\n"), Some((-300.0, "")));
        assert_eq!(parse_number_with_unit("21.5 °C"), Some((21.5, "°C")));
        assert_eq!(parse_number_with_unit("42 %"), Some((42.0, "%")));
        assert_eq!(parse_number_with_unit("42%"), Some((42.0, "%")));
        assert_eq!(parse_number_with_unit("5 m3/h"), Some((5.0, "m3/h")));
        assert_eq!(parse_number_with_unit("+.5 em"), Some((0.5, "em")));
        assert_eq!(parse_number_with_unit("1."), Some((1.0, "")));
    }

    #[test]
    fn text_that_only_starts_with_a_number_is_not_a_number() {
        for text in [
            "2018-12-20",
            "12:30",
            "0x1F",
            "3 apples and pears",
            "1.2.3",
            "1,5",
            "NaN",
            "inf",
            "-",
            ".",
            "",
            "5 a=b",
        ] {
            assert_eq!(parse_number_with_unit(text), None, "{text}");
        }
    }
}
