//! aedifion's legacy semicolon format (2018 websocket demo, reference §5.2):
//! `<datapoint>;<ISO-8601 UTC time>;<value>`, e.g.
//! `bacnet221-AbsPower_SI;2018-12-20T10:35:01.000000Z;0.15845434`.
//!
//! Parsed robustly: the value is the text after the last `;`, the time the text between the
//! last two, and the datapoint everything before (so a `;` inside a name does no harm).

use chrono::NaiveDate;

use crate::model::time::Nanos;

/// One decoded legacy observation.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LegacyRecord {
    /// The datapoint name (its hash id is usually the topic's last level).
    pub datapoint: String,
    /// The time as written, e.g. `2018-12-20T10:35:01.5Z`.
    pub time_text: String,
    /// The time in nanoseconds since the epoch.
    pub timestamp_nanos: Nanos,
    /// The observed value.
    pub value: f64,
}

/// Why a payload is not in the legacy format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LegacyError {
    #[error("the legacy format is one observation on one line")]
    SeveralLines,
    #[error("expected three parts `datapoint;time;value` separated by `;`")]
    NotThreeParts,
    #[error("the datapoint name is empty")]
    EmptyDatapoint,
    #[error("`{0}` is not an ISO-8601 UTC time like 2018-12-20T10:35:01Z")]
    InvalidTime(String),
    #[error("`{0}` is not a finite number")]
    InvalidValue(String),
}

/// Parses a legacy payload (a trailing newline is tolerated).
pub fn parse_legacy(payload: &str) -> Result<LegacyRecord, LegacyError> {
    let payload = payload.strip_suffix('\n').unwrap_or(payload);
    let payload = payload.strip_suffix('\r').unwrap_or(payload);
    if payload.contains(['\n', '\r']) {
        return Err(LegacyError::SeveralLines);
    }
    let mut parts = payload.rsplitn(3, ';');
    let (Some(value_text), Some(time_text), Some(datapoint)) =
        (parts.next(), parts.next(), parts.next())
    else {
        return Err(LegacyError::NotThreeParts);
    };
    if datapoint.is_empty() {
        return Err(LegacyError::EmptyDatapoint);
    }
    let timestamp_nanos =
        parse_utc_time(time_text).ok_or_else(|| LegacyError::InvalidTime(short(time_text)))?;
    let value =
        parse_value(value_text).ok_or_else(|| LegacyError::InvalidValue(short(value_text)))?;
    Ok(LegacyRecord {
        datapoint: datapoint.to_owned(),
        time_text: time_text.to_owned(),
        timestamp_nanos,
        value,
    })
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction]Z` (1 to 9 fraction digits) → nanoseconds since the epoch.
pub fn parse_utc_time(text: &str) -> Option<Nanos> {
    let bytes = text.as_bytes();
    let without_zone = text.strip_suffix('Z')?;
    if bytes.len() < 20
        || bytes[4] != b'-'
        || bytes[7] != b'-'
        || bytes[10] != b'T'
        || bytes[13] != b':'
        || bytes[16] != b':'
    {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = without_zone.get(range)?;
        if !digits.bytes().all(|byte| byte.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    };
    let year = i32::try_from(number(0..4)?).ok()?;
    let date = NaiveDate::from_ymd_opt(year, number(5..7)?, number(8..10)?)?;
    let nanosecond = parse_fraction_nanos(without_zone.get(19..)?)?;
    let time = date.and_hms_nano_opt(
        number(11..13)?,
        number(14..16)?,
        number(17..19)?,
        nanosecond,
    )?;
    time.and_utc().timestamp_nanos_opt()
}

/// `""` → 0, `".5"` → 500 000 000; at most nine digits.
fn parse_fraction_nanos(text: &str) -> Option<u32> {
    if text.is_empty() {
        return Some(0);
    }
    let digits = text.strip_prefix('.')?;
    if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let value: u32 = digits.parse().ok()?;
    let scale = 10u32.pow(u32::try_from(9 - digits.len()).ok()?);
    Some(value * scale)
}

/// A decimal number (point, not comma), optionally signed; no NaN or Inf.
fn parse_value(text: &str) -> Option<f64> {
    let text = text.trim();
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !crate::model::decode::influx::is_float_syntax(unsigned) {
        return None;
    }
    text.parse::<f64>().ok().filter(|value| value.is_finite())
}

fn short(text: &str) -> String {
    const MAX_CHARS: usize = 40;
    match text.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_demo_payload_parses() {
        let record =
            parse_legacy("bacnet221-AbsPower_SI;2018-12-20T10:35:01.000000Z;0.15845434").unwrap();
        assert_eq!(record.datapoint, "bacnet221-AbsPower_SI");
        assert_eq!(record.timestamp_nanos, 1_545_302_101_000_000_000);
        assert_eq!(record.value, 0.15845434);
    }

    #[test]
    fn fractions_of_any_length_up_to_nanoseconds_are_kept() {
        assert_eq!(
            parse_utc_time("2018-12-20T10:35:01.5Z"),
            Some(1_545_302_101_500_000_000)
        );
        assert_eq!(parse_utc_time("1970-01-01T00:00:00.000000001Z"), Some(1));
        assert_eq!(parse_utc_time("1970-01-01T00:00:00.0000000001Z"), None);
        assert_eq!(parse_utc_time("1970-01-01T00:00:00.Z"), None);
    }

    #[test]
    fn semicolons_inside_the_name_are_tolerated() {
        let record = parse_legacy("a;b;2018-12-20T10:35:01Z;-1.5\n").unwrap();
        assert_eq!(record.datapoint, "a;b");
        assert_eq!(record.value, -1.5);
    }

    #[test]
    fn malformed_payloads_are_refused_with_a_reason() {
        assert_eq!(parse_legacy("x;1.7"), Err(LegacyError::NotThreeParts));
        assert_eq!(
            parse_legacy(";2018-12-20T10:35:01Z;1"),
            Err(LegacyError::EmptyDatapoint)
        );
        assert!(matches!(
            parse_legacy("x;2018-12-20 10:35:01;1.7"),
            Err(LegacyError::InvalidTime(_))
        ));
        assert!(matches!(
            parse_legacy("x;2018-02-30T10:35:01Z;1.7"),
            Err(LegacyError::InvalidTime(_))
        ));
        assert!(matches!(
            parse_legacy("x;2018-12-20T10:35:01+01:00;1.7"),
            Err(LegacyError::InvalidTime(_))
        ));
        assert!(matches!(
            parse_legacy("x;2018-12-20T10:35:01Z;NaN"),
            Err(LegacyError::InvalidValue(_))
        ));
        assert!(matches!(
            parse_legacy("x;2018-12-20T10:35:01Z;1,5"),
            Err(LegacyError::InvalidValue(_))
        ));
        assert_eq!(
            parse_legacy("x;2018-12-20T10:35:01Z;1\ny;2018-12-20T10:35:01Z;2"),
            Err(LegacyError::SeveralLines)
        );
    }

    #[test]
    fn multibyte_text_never_panics_the_time_parser() {
        assert_eq!(parse_utc_time("2018-12-20T10:35:0äZ"), None);
        assert_eq!(parse_utc_time("ääää-12-20T10:35:01Z"), None);
    }
}
