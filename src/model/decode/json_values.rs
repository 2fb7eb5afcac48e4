//! Plottable numbers inside JSON payloads, and plain-number payloads with an optional unit.
//!
//! JSON is walked while it is parsed (a serde visitor, no `Value` tree), so values come out
//! in document order and a payload is read once.

use std::fmt::{self, Write as _};

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::model::decode::payload::{ExtractedValue, ValueKey};

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

/// Parses `text` as one JSON document and returns every numeric leaf, and every boolean leaf
/// as 0/1, addressed like `a.b[2].c`, in document order. A document that is itself a number
/// or boolean gives [`ValueKey::Whole`]. Keys that are not plain words are written quoted,
/// like `a["x.y"]`. Fails exactly when `text` is not JSON.
pub fn extract_json_values(text: &str) -> Result<JsonValues, serde_json::Error> {
    let mut found = JsonValues::default();
    let mut path = String::new();
    let mut deserializer = serde_json::Deserializer::from_str(text);
    Collector {
        path: &mut path,
        depth: 0,
        found: &mut found,
    }
    .deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(found)
}

/// Visits one JSON value at `path`, recursing into arrays and objects.
struct Collector<'a> {
    path: &'a mut String,
    depth: usize,
    found: &'a mut JsonValues,
}

impl Collector<'_> {
    fn push(self, value: f64) {
        if !value.is_finite() {
            return;
        }
        if self.found.values.len() >= MAX_JSON_VALUES {
            self.found.truncated = true;
            return;
        }
        let key = if self.depth == 0 {
            ValueKey::Whole
        } else {
            ValueKey::JsonPath(self.path.as_str().into())
        };
        self.found.values.push(ExtractedValue {
            key,
            value,
            timestamp_nanos: None,
        });
    }

    fn child(&mut self) -> Collector<'_> {
        Collector {
            path: self.path,
            depth: self.depth + 1,
            found: self.found,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Collector<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Collector<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_bool<E>(self, flag: bool) -> Result<(), E> {
        self.push(if flag { 1.0 } else { 0.0 });
        Ok(())
    }

    fn visit_i64<E>(self, number: i64) -> Result<(), E> {
        // Precision loss above 2^53 is acceptable for plotting.
        self.push(number as f64);
        Ok(())
    }

    fn visit_u64<E>(self, number: u64) -> Result<(), E> {
        self.push(number as f64);
        Ok(())
    }

    fn visit_f64<E>(self, number: f64) -> Result<(), E> {
        self.push(number);
        Ok(())
    }

    fn visit_str<E>(self, _text: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut items: A) -> Result<(), A::Error> {
        if self.depth >= MAX_JSON_DEPTH {
            while items.next_element::<IgnoredAny>()?.is_some() {
                self.found.truncated = true;
            }
            return Ok(());
        }
        let path_length = self.path.len();
        for index in 0usize.. {
            let _ = write!(self.path, "[{index}]");
            let more = items.next_element_seed(self.child())?;
            self.path.truncate(path_length);
            if more.is_none() {
                break;
            }
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut members: A) -> Result<(), A::Error> {
        if self.depth >= MAX_JSON_DEPTH {
            while members.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {
                self.found.truncated = true;
            }
            return Ok(());
        }
        let path_length = self.path.len();
        while let Some(key) = members.next_key::<String>()? {
            push_key(self.path, &key);
            members.next_value_seed(self.child())?;
            self.path.truncate(path_length);
        }
        Ok(())
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
        extract_json_values(text)
            .unwrap()
            .values
            .into_iter()
            .map(|found| (found.key, found.value))
            .collect()
    }

    fn path(text: &str) -> ValueKey {
        ValueKey::JsonPath(text.into())
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
    fn values_come_in_document_order_not_key_order() {
        let found = keys_and_values(r#"{"z":1,"a":2}"#);
        assert_eq!(found, vec![(path("z"), 1.0), (path("a"), 2.0)]);
    }

    #[test]
    fn text_that_is_not_one_json_document_is_refused() {
        assert!(extract_json_values("{\"a\":1} x").is_err());
        assert!(extract_json_values("{\"a\":").is_err());
        assert!(extract_json_values("").is_err());
    }

    #[test]
    fn the_count_is_capped() {
        let text = format!("[{}]", vec!["1"; 100].join(","));
        let found = extract_json_values(&text).unwrap();
        assert_eq!(found.values.len(), MAX_JSON_VALUES);
        assert!(found.truncated);
    }

    #[test]
    fn the_depth_is_capped() {
        let text = format!("{}1{}", "[".repeat(40), "]".repeat(40));
        let found = extract_json_values(&text).unwrap();
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
