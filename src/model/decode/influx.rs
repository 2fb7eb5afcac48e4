//! InfluxDB 1.x line protocol: parsing (every line of a payload, with typed errors that point at
//! a byte) and writing (escaping that the parser reads back exactly).
//!
//! ```text
//! line      = measurement [ "," tag_set ] SP field_set [ SP timestamp ]
//! tag_set   = tag_key "=" tag_value *( "," tag_key "=" tag_value )
//! field_set = field_key "=" field_value *( "," field_key "=" field_value )
//! ```
//!
//! Escapes: measurement `\,` `\ `; tag keys, tag values and field keys `\,` `\=` `\ `; string
//! field values `\"`; everywhere `\\` is one backslash and a backslash before any other
//! character is literal (InfluxDB's documented backslash rules). Lines are separated by `\n`
//! (a trailing `\r` is dropped); blank lines and lines starting with `#` are skipped. Runs of
//! spaces between the sections are accepted, like InfluxDB does.

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::model::time::Nanos;

/// Longest string field value InfluxDB accepts.
pub const MAX_STRING_FIELD_BYTES: usize = 64 * 1024;

/// Smallest and largest timestamps InfluxDB accepts (1677-09-21 … 2262-04-11).
pub const TIMESTAMP_RANGE_NANOS: std::ops::RangeInclusive<Nanos> = (i64::MIN + 2)..=(i64::MAX - 1);

/// Timestamps at or above this are plausibly nanoseconds (after 1973-03-03).
const PLAUSIBLE_NANOS_FROM: Nanos = 100_000_000_000_000_000;

/// Timestamps from here up to [`PLAUSIBLE_NANOS_FROM`] look like seconds, milliseconds or
/// microseconds since the epoch written where nanoseconds belong.
const WRONG_PRECISION_FROM: Nanos = 1_000_000_000;

/// Longest excerpt of payload text quoted inside an error message.
const EXCERPT_CHARS: usize = 40;

/// Keys InfluxDB reserves; a line using one as a tag or field key is refused.
const RESERVED_KEYS: [&str; 3] = ["time", "_field", "_measurement"];

/// A typed field value. Serialises as `{"type": "float", "value": 20.3}`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "type", content = "value", rename_all = "lowercase")]
pub enum FieldValue {
    /// The default for a bare number (`value=1` is 1.0). Never NaN or infinite.
    Float(f64),
    /// Digits with an `i` suffix, signed 64 bit.
    Integer(i64),
    /// Digits with a `u` suffix (InfluxDB 2.x only).
    Unsigned(u64),
    /// A double-quoted string, unescaped.
    String(String),
    /// `t`, `T`, `true`, `True`, `TRUE` and the same for false.
    Boolean(bool),
}

impl FieldValue {
    /// The value as a plottable number: booleans as 0/1, strings as `None`.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            FieldValue::Float(value) => Some(*value),
            // Precision loss above 2^53 is acceptable for plotting.
            FieldValue::Integer(value) => Some(*value as f64),
            FieldValue::Unsigned(value) => Some(*value as f64),
            FieldValue::Boolean(value) => Some(if *value { 1.0 } else { 0.0 }),
            FieldValue::String(_) => None,
        }
    }

    /// The type's name as the InfluxDB documentation writes it.
    pub fn type_name(&self) -> &'static str {
        match self {
            FieldValue::Float(_) => "float",
            FieldValue::Integer(_) => "integer",
            FieldValue::Unsigned(_) => "unsigned",
            FieldValue::String(_) => "string",
            FieldValue::Boolean(_) => "boolean",
        }
    }
}

/// One parsed line (a point), names unescaped.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Line {
    /// The measurement; for aedifion the datapoint name.
    pub measurement: String,
    /// Tags in the order written.
    pub tags: Vec<(String, String)>,
    /// Fields in the order written (at least one).
    pub fields: Vec<(String, FieldValue)>,
    /// Nanoseconds since the epoch, if the line has a timestamp.
    pub timestamp_nanos: Option<Nanos>,
}

/// How well a line matches aedifion's documented profile `<datapoint> value=<float> <ns>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AedifionFit {
    /// Exactly the documented profile: the platform stores it.
    Storable,
    /// Valid line protocol whose fate on the platform is undocumented (extra fields, no
    /// timestamp, a timestamp that looks like seconds/ms/µs).
    Undocumented,
    /// Valid line protocol the platform does not store (no float `value` field).
    NotStorable,
}

impl Line {
    /// A line in aedifion's profile: `<datapoint> value=<float> <timestamp>`.
    pub fn aedifion_value(datapoint: &str, value: f64, timestamp_nanos: Nanos) -> Self {
        Self {
            measurement: datapoint.to_owned(),
            tags: Vec::new(),
            fields: vec![("value".to_owned(), FieldValue::Float(value))],
            timestamp_nanos: Some(timestamp_nanos),
        }
    }

    /// The line as line-protocol text (no trailing newline).
    pub fn to_line_protocol(&self) -> Result<String, InfluxWriteError> {
        write_line(
            &self.measurement,
            self.tags
                .iter()
                .map(|(key, value)| (key.as_str(), value.as_str())),
            self.fields.iter().map(|(key, value)| (key.as_str(), value)),
            self.timestamp_nanos,
        )
    }

    /// Whether aedifion would store this line (see [`AedifionFit`]).
    pub fn aedifion_fit(&self) -> AedifionFit {
        let Some((_, value)) = self.fields.iter().find(|(key, _)| key == "value") else {
            return AedifionFit::NotStorable;
        };
        if !matches!(value, FieldValue::Float(_)) {
            return AedifionFit::NotStorable;
        }
        let plain = self.fields.len() == 1 && self.timestamp_nanos.is_some();
        if plain && !self.timestamp_has_wrong_precision() {
            AedifionFit::Storable
        } else {
            AedifionFit::Undocumented
        }
    }

    /// Whether the timestamp looks like seconds, milliseconds or microseconds written where
    /// nanoseconds belong (a common bug in publishers).
    pub fn timestamp_has_wrong_precision(&self) -> bool {
        self.timestamp_nanos.is_some_and(|nanos| {
            (WRONG_PRECISION_FROM..PLAUSIBLE_NANOS_FROM).contains(&nanos.saturating_abs())
        })
    }
}

/// A line that is not valid line protocol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line_number}, byte {}: {reason}", byte_position + 1)]
pub struct InfluxError {
    /// 1-based line number in the payload (comments and blank lines count).
    pub line_number: usize,
    /// 0-based byte offset inside the line where the problem was found.
    pub byte_position: usize,
    /// What is wrong, in words a publisher can act on.
    pub reason: InfluxErrorReason,
}

/// Why a line is not valid line protocol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InfluxErrorReason {
    #[error("the measurement (datapoint name) is empty")]
    EmptyMeasurement,
    #[error("no field set: write at least one field such as `value=20.3` after a space")]
    MissingFieldSet,
    #[error("{element} `{key}` has no `=` (escape spaces, commas and `=` inside names with `\\`)")]
    MissingEquals { element: &'static str, key: String },
    #[error("decimal comma in `{text}`: line protocol needs a decimal point")]
    DecimalComma { text: String },
    #[error("empty tag key")]
    EmptyTagKey,
    #[error("tag `{key}` has an empty value")]
    EmptyTagValue { key: String },
    #[error("empty field key")]
    EmptyFieldKey,
    #[error("field `{key}` has an empty value")]
    EmptyFieldValue { key: String },
    #[error("`{key}` is a reserved key and cannot be a tag or field")]
    ReservedKey { key: String },
    #[error("`{text}` is not allowed: field values must be finite numbers (no NaN or Inf)")]
    NotFinite { text: String },
    #[error("`{text}`: a leading `+` is not allowed")]
    LeadingPlus { text: String },
    #[error("`{text}` is not a valid float")]
    InvalidFloat { text: String },
    #[error("`{text}` is too large for a 64-bit float")]
    FloatOutOfRange { text: String },
    #[error("`{text}` is not a valid integer (digits followed by `i`)")]
    InvalidInteger { text: String },
    #[error("`{text}` does not fit a signed 64-bit integer")]
    IntegerOutOfRange { text: String },
    #[error("`{text}` is not a valid unsigned integer (digits followed by `u`)")]
    InvalidUnsigned { text: String },
    #[error("`{text}` does not fit an unsigned 64-bit integer")]
    UnsignedOutOfRange { text: String },
    #[error("`{text}` is neither a number, a boolean (true/false) nor a string in double quotes")]
    InvalidFieldValue { text: String },
    #[error("string field value has no closing `\"`")]
    UnterminatedString,
    #[error("string field value is {length_bytes} bytes; the limit is 64 KiB")]
    StringTooLong { length_bytes: usize },
    #[error("the timestamp must not be quoted")]
    QuotedTimestamp,
    #[error("timestamp `{text}` has a fraction: write whole nanoseconds")]
    FractionalTimestamp { text: String },
    #[error("timestamp `{text}` is not an integer number of nanoseconds")]
    InvalidTimestamp { text: String },
    #[error("timestamp `{text}` is outside the range InfluxDB accepts (years 1677 to 2262)")]
    TimestampOutOfRange { text: String },
    #[error("unexpected text `{text}` after the timestamp")]
    TrailingText { text: String },
}

/// A line that cannot be written as line protocol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InfluxWriteError {
    #[error("the measurement (datapoint name) is empty")]
    EmptyMeasurement,
    #[error("the measurement `{0}` starts with `#`, which would make the line a comment")]
    MeasurementStartsWithHash(String),
    #[error("the measurement consists only of tabs, which readers skip")]
    OnlyTabs,
    #[error("{element} contains a line break, which line protocol cannot carry")]
    LineBreak { element: &'static str },
    #[error("empty {element} key")]
    EmptyKey { element: &'static str },
    #[error("tag `{0}` has an empty value")]
    EmptyTagValue(String),
    #[error("`{0}` is a reserved key and cannot be a tag or field")]
    ReservedKey(String),
    #[error("a line needs at least one field")]
    NoFields,
    #[error("field `{0}` is NaN or infinite, which line protocol cannot carry")]
    NotFinite(String),
    #[error("string field `{field}` is {length_bytes} bytes; the limit is 64 KiB")]
    StringTooLong { field: String, length_bytes: usize },
    #[error("timestamp {0} is outside the range InfluxDB accepts (years 1677 to 2262)")]
    TimestampOutOfRange(Nanos),
}

// ---------------------------------------------------------------------------------------------
// Escaping and writing

/// Escapes a measurement: `\`, `,` and space get a backslash.
pub fn escape_measurement(name: &str) -> Cow<'_, str> {
    escape(name, b"\\, ")
}

/// Escapes a tag key: `\`, `,`, `=` and space get a backslash.
pub fn escape_tag_key(key: &str) -> Cow<'_, str> {
    escape(key, b"\\,= ")
}

/// Escapes a tag value: `\`, `,`, `=` and space get a backslash.
pub fn escape_tag_value(value: &str) -> Cow<'_, str> {
    escape(value, b"\\,= ")
}

/// Escapes a field key: `\`, `,`, `=` and space get a backslash.
pub fn escape_field_key(key: &str) -> Cow<'_, str> {
    escape(key, b"\\,= ")
}

/// Escapes the inside of a string field value (without the surrounding quotes): `\` and `"`.
pub fn escape_string_field(text: &str) -> Cow<'_, str> {
    escape(text, b"\\\"")
}

fn escape<'a>(text: &'a str, special: &[u8]) -> Cow<'a, str> {
    if !text.bytes().any(|byte| special.contains(&byte)) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for character in text.chars() {
        if character.is_ascii() && special.contains(&(character as u8)) {
            escaped.push('\\');
        }
        escaped.push(character);
    }
    Cow::Owned(escaped)
}

/// Writes one line of line protocol (no trailing newline) from its parts, escaping names.
/// Refuses what the protocol cannot carry (line breaks, NaN, empty names, reserved keys…),
/// so every line it writes parses back to the same values.
pub fn write_line<'a>(
    measurement: &str,
    tags: impl IntoIterator<Item = (&'a str, &'a str)>,
    fields: impl IntoIterator<Item = (&'a str, &'a FieldValue)>,
    timestamp_nanos: Option<Nanos>,
) -> Result<String, InfluxWriteError> {
    check_name(measurement, "measurement")?;
    if measurement.is_empty() {
        return Err(InfluxWriteError::EmptyMeasurement);
    }
    // Readers skip leading whitespace before looking for the `#` of a comment; spaces are
    // escaped, tabs are not, so a tab-only measurement would expose the first field key.
    let after_tabs = measurement.trim_start_matches('\t');
    if after_tabs.is_empty() {
        return Err(InfluxWriteError::OnlyTabs);
    }
    if after_tabs.starts_with('#') {
        return Err(InfluxWriteError::MeasurementStartsWithHash(
            measurement.to_owned(),
        ));
    }
    let mut line = String::with_capacity(measurement.len() + 32);
    line.push_str(&escape_measurement(measurement));
    for (key, value) in tags {
        check_key(key, "tag")?;
        check_name(value, "tag value")?;
        if value.is_empty() {
            return Err(InfluxWriteError::EmptyTagValue(key.to_owned()));
        }
        line.push(',');
        line.push_str(&escape_tag_key(key));
        line.push('=');
        line.push_str(&escape_tag_value(value));
    }
    let mut separator = ' ';
    for (key, value) in fields {
        check_key(key, "field")?;
        line.push(separator);
        separator = ',';
        line.push_str(&escape_field_key(key));
        line.push('=');
        write_field_value(&mut line, key, value)?;
    }
    if separator == ' ' {
        return Err(InfluxWriteError::NoFields);
    }
    if let Some(nanos) = timestamp_nanos {
        if !TIMESTAMP_RANGE_NANOS.contains(&nanos) {
            return Err(InfluxWriteError::TimestampOutOfRange(nanos));
        }
        let _ = write!(line, " {nanos}");
    }
    Ok(line)
}

/// Writes `<datapoint> value=<float> <timestamp>`, the one form aedifion documents storing.
pub fn write_aedifion_value(
    datapoint: &str,
    value: f64,
    timestamp_nanos: Nanos,
) -> Result<String, InfluxWriteError> {
    write_line(
        datapoint,
        [],
        [("value", &FieldValue::Float(value))],
        Some(timestamp_nanos),
    )
}

fn check_name(text: &str, element: &'static str) -> Result<(), InfluxWriteError> {
    if text.contains('\n') {
        return Err(InfluxWriteError::LineBreak { element });
    }
    Ok(())
}

fn check_key(key: &str, element: &'static str) -> Result<(), InfluxWriteError> {
    check_name(key, element)?;
    if key.is_empty() {
        return Err(InfluxWriteError::EmptyKey { element });
    }
    if RESERVED_KEYS.contains(&key) {
        return Err(InfluxWriteError::ReservedKey(key.to_owned()));
    }
    Ok(())
}

fn write_field_value(
    line: &mut String,
    key: &str,
    value: &FieldValue,
) -> Result<(), InfluxWriteError> {
    match value {
        FieldValue::Float(number) => {
            if !number.is_finite() {
                return Err(InfluxWriteError::NotFinite(key.to_owned()));
            }
            // Debug prints the shortest text that reads back to the same f64 ("1.0", "1e300").
            let _ = write!(line, "{number:?}");
        }
        FieldValue::Integer(number) => {
            let _ = write!(line, "{number}i");
        }
        FieldValue::Unsigned(number) => {
            let _ = write!(line, "{number}u");
        }
        FieldValue::Boolean(flag) => line.push_str(if *flag { "true" } else { "false" }),
        FieldValue::String(text) => {
            check_name(text, "string field value")?;
            if text.len() > MAX_STRING_FIELD_BYTES {
                return Err(InfluxWriteError::StringTooLong {
                    field: key.to_owned(),
                    length_bytes: text.len(),
                });
            }
            line.push('"');
            line.push_str(&escape_string_field(text));
            line.push('"');
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Parsing

/// The lines of a payload that carry points, as `(1-based line number, text)`: blank lines and
/// `#` comments are skipped, a trailing `\r` is removed.
pub fn payload_lines(payload: &str) -> impl Iterator<Item = (usize, &str)> {
    payload.split('\n').enumerate().filter_map(|(index, line)| {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let content = line.trim_start_matches([' ', '\t']);
        if content.is_empty() || content.starts_with('#') {
            None
        } else {
            Some((index + 1, line))
        }
    })
}

/// Parses every point line of a payload; a malformed line gives its error and the others
/// still decode.
pub fn parse_payload(payload: &str) -> Vec<Result<Line, InfluxError>> {
    payload_lines(payload)
        .map(|(line_number, line)| {
            parse_line(line).map_err(|mut error| {
                error.line_number = line_number;
                error
            })
        })
        .collect()
}

/// Parses one line (without its newline). The error's `line_number` is 1.
pub fn parse_line(line: &str) -> Result<Line, InfluxError> {
    let mut parser = LineParser { line, position: 0 };
    parser
        .line()
        .map_err(|(byte_position, reason)| InfluxError {
            line_number: 1,
            byte_position,
            reason,
        })
}

type ParseResult<T> = Result<T, (usize, InfluxErrorReason)>;

/// Characters a backslash escapes in each element (a backslash before anything else is literal).
const MEASUREMENT_ESCAPES: &[u8] = b"\\, ";
const KEY_ESCAPES: &[u8] = b"\\,= ";
const STRING_ESCAPES: &[u8] = b"\\\"";

struct LineParser<'a> {
    line: &'a str,
    position: usize,
}

impl<'a> LineParser<'a> {
    fn line(&mut self) -> ParseResult<Line> {
        let measurement = self.measurement()?;
        let tags = self.tags()?;
        if self.skip_spaces() == 0 || self.at_end() {
            return Err((self.position, InfluxErrorReason::MissingFieldSet));
        }
        let fields = self.fields()?;
        let timestamp_nanos = self.timestamp()?;
        Ok(Line {
            measurement,
            tags,
            fields,
            timestamp_nanos,
        })
    }

    fn measurement(&mut self) -> ParseResult<String> {
        let raw = self.scan_escaped(b", ");
        if raw.is_empty() {
            return Err((0, InfluxErrorReason::EmptyMeasurement));
        }
        if self.at_end() {
            return Err((self.position, InfluxErrorReason::MissingFieldSet));
        }
        Ok(unescape(raw, MEASUREMENT_ESCAPES))
    }

    fn tags(&mut self) -> ParseResult<Vec<(String, String)>> {
        let mut tags = Vec::new();
        while self.peek() == Some(b',') {
            self.position += 1;
            let key_start = self.position;
            let raw_key = self.scan_escaped(b"=, ");
            if raw_key.is_empty() {
                return Err((key_start, InfluxErrorReason::EmptyTagKey));
            }
            let key = unescape(raw_key, KEY_ESCAPES);
            if self.peek() != Some(b'=') {
                return Err((
                    self.position,
                    InfluxErrorReason::MissingEquals {
                        element: "tag",
                        key: excerpt(&key),
                    },
                ));
            }
            check_reserved(&key, key_start)?;
            self.position += 1;
            let raw_value = self.scan_escaped(b", ");
            if raw_value.is_empty() {
                return Err((
                    self.position,
                    InfluxErrorReason::EmptyTagValue { key: excerpt(&key) },
                ));
            }
            tags.push((key, unescape(raw_value, KEY_ESCAPES)));
        }
        Ok(tags)
    }

    fn fields(&mut self) -> ParseResult<Vec<(String, FieldValue)>> {
        let mut fields: Vec<(String, FieldValue)> = Vec::with_capacity(1);
        let mut previous_value_raw: Option<&str> = None;
        loop {
            let key_start = self.position;
            let raw_key = self.scan_escaped(b"=, ");
            if raw_key.is_empty() {
                return Err((key_start, InfluxErrorReason::EmptyFieldKey));
            }
            if self.peek() != Some(b'=') {
                return Err((
                    self.position,
                    missing_field_equals(raw_key, previous_value_raw),
                ));
            }
            let key = unescape(raw_key, KEY_ESCAPES);
            check_reserved(&key, key_start)?;
            self.position += 1;
            let value_start = self.position;
            let value = self.field_value(&key)?;
            previous_value_raw = Some(&self.line[value_start..self.position]);
            fields.push((key, value));
            if self.peek() != Some(b',') {
                return Ok(fields);
            }
            self.position += 1;
        }
    }

    fn field_value(&mut self, key: &str) -> ParseResult<FieldValue> {
        if self.peek() == Some(b'"') {
            return self.string_value();
        }
        let start = self.position;
        let raw = self.scan_plain(b", ");
        if raw.is_empty() {
            return Err((
                start,
                InfluxErrorReason::EmptyFieldValue { key: excerpt(key) },
            ));
        }
        parse_unquoted_value(raw).map_err(|reason| (start, reason))
    }

    fn string_value(&mut self) -> ParseResult<FieldValue> {
        let opening = self.position;
        self.position += 1;
        let bytes = self.line.as_bytes();
        let content_start = self.position;
        while let Some(&byte) = bytes.get(self.position) {
            match byte {
                b'\\' => self.position += 2,
                b'"' => {
                    let raw = &self.line[content_start..self.position];
                    self.position += 1;
                    if raw.len() > MAX_STRING_FIELD_BYTES {
                        return Err((
                            opening,
                            InfluxErrorReason::StringTooLong {
                                length_bytes: raw.len(),
                            },
                        ));
                    }
                    return Ok(FieldValue::String(unescape(raw, STRING_ESCAPES)));
                }
                _ => self.position += 1,
            }
        }
        self.position = self.line.len();
        Err((opening, InfluxErrorReason::UnterminatedString))
    }

    fn timestamp(&mut self) -> ParseResult<Option<Nanos>> {
        if self.skip_spaces() == 0 || self.at_end() {
            // A field value ends only at a space, a comma (handled by `fields`) or the end.
            if self.at_end() {
                return Ok(None);
            }
            return Err((self.position, self.trailing_text()));
        }
        let start = self.position;
        if self.peek() == Some(b'"') {
            return Err((start, InfluxErrorReason::QuotedTimestamp));
        }
        let raw = self.scan_plain(b" ");
        let nanos = parse_timestamp(raw).map_err(|reason| (start, reason))?;
        self.skip_spaces();
        if !self.at_end() {
            return Err((self.position, self.trailing_text()));
        }
        Ok(Some(nanos))
    }

    fn trailing_text(&self) -> InfluxErrorReason {
        InfluxErrorReason::TrailingText {
            text: excerpt(&self.line[self.position..]),
        }
    }

    /// Advances over bytes up to the first unescaped stop byte (or the end) and returns them raw.
    fn scan_escaped(&mut self, stops: &[u8]) -> &'a str {
        let bytes = self.line.as_bytes();
        let start = self.position;
        while let Some(&byte) = bytes.get(self.position) {
            if byte == b'\\' {
                // Skipping the next byte is safe: stop bytes are ASCII, never inside a character.
                self.position = (self.position + 2).min(bytes.len());
            } else if stops.contains(&byte) {
                break;
            } else {
                self.position += 1;
            }
        }
        &self.line[start..self.position]
    }

    /// Advances up to the first stop byte (no escapes) and returns what it passed.
    fn scan_plain(&mut self, stops: &[u8]) -> &'a str {
        let bytes = self.line.as_bytes();
        let start = self.position;
        while bytes
            .get(self.position)
            .is_some_and(|byte| !stops.contains(byte))
        {
            self.position += 1;
        }
        &self.line[start..self.position]
    }

    fn skip_spaces(&mut self) -> usize {
        let start = self.position;
        while self.peek() == Some(b' ') {
            self.position += 1;
        }
        self.position - start
    }

    fn peek(&self) -> Option<u8> {
        self.line.as_bytes().get(self.position).copied()
    }

    fn at_end(&self) -> bool {
        self.position >= self.line.len()
    }
}

fn check_reserved(key: &str, position: usize) -> ParseResult<()> {
    if RESERVED_KEYS.contains(&key) {
        return Err((
            position,
            InfluxErrorReason::ReservedKey {
                key: key.to_owned(),
            },
        ));
    }
    Ok(())
}

/// A field "key" without `=` right after a number is almost always the second half of a
/// decimal comma (`value=20,3`); say so instead of complaining about a missing `=`.
fn missing_field_equals(raw_key: &str, previous_value_raw: Option<&str>) -> InfluxErrorReason {
    if let Some(previous) = previous_value_raw {
        let previous_is_number = previous
            .bytes()
            .all(|byte| byte.is_ascii_digit() || byte == b'-');
        let key_is_digits =
            !raw_key.is_empty() && raw_key.bytes().all(|byte| byte.is_ascii_digit());
        if previous_is_number && key_is_digits {
            return InfluxErrorReason::DecimalComma {
                text: excerpt(&format!("{previous},{raw_key}")),
            };
        }
    }
    InfluxErrorReason::MissingEquals {
        element: "field",
        key: excerpt(&unescape(raw_key, KEY_ESCAPES)),
    }
}

/// Removes backslashes before the given characters; other backslashes stay literal.
fn unescape(raw: &str, escapable: &[u8]) -> String {
    if !raw.contains('\\') {
        return raw.to_owned();
    }
    let mut text = String::with_capacity(raw.len());
    let mut characters = raw.chars().peekable();
    while let Some(character) = characters.next() {
        if character == '\\'
            && let Some(&next) = characters.peek()
            && next.is_ascii()
            && escapable.contains(&(next as u8))
        {
            text.push(next);
            characters.next();
            continue;
        }
        text.push(character);
    }
    text
}

/// A short, single-line quote of payload text for an error message.
fn excerpt(text: &str) -> String {
    match text.char_indices().nth(EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

fn parse_unquoted_value(raw: &str) -> Result<FieldValue, InfluxErrorReason> {
    match raw {
        "t" | "T" | "true" | "True" | "TRUE" => return Ok(FieldValue::Boolean(true)),
        "f" | "F" | "false" | "False" | "FALSE" => return Ok(FieldValue::Boolean(false)),
        _ => {}
    }
    let starts_numeric = raw.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.');
    if starts_numeric && let Some(digits) = raw.strip_suffix('i') {
        return parse_integer(digits, raw);
    }
    if starts_numeric && let Some(digits) = raw.strip_suffix('u') {
        return parse_unsigned(digits, raw);
    }
    parse_float(raw).map(FieldValue::Float)
}

fn parse_integer(digits: &str, raw: &str) -> Result<FieldValue, InfluxErrorReason> {
    let unsigned = digits.strip_prefix('-').unwrap_or(digits);
    if unsigned.is_empty() || !unsigned.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(InfluxErrorReason::InvalidInteger { text: excerpt(raw) });
    }
    digits
        .parse()
        .map(FieldValue::Integer)
        .map_err(|_| InfluxErrorReason::IntegerOutOfRange { text: excerpt(raw) })
}

fn parse_unsigned(digits: &str, raw: &str) -> Result<FieldValue, InfluxErrorReason> {
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(InfluxErrorReason::InvalidUnsigned { text: excerpt(raw) });
    }
    digits
        .parse()
        .map(FieldValue::Unsigned)
        .map_err(|_| InfluxErrorReason::UnsignedOutOfRange { text: excerpt(raw) })
}

/// Strict float grammar: `-`? digits with an optional `.` (at least one digit), then an optional
/// exponent. Refuses what Rust's parser would take but InfluxDB does not (`+1`, `NaN`, `inf`).
fn parse_float(raw: &str) -> Result<f64, InfluxErrorReason> {
    if raw.starts_with('+') {
        return Err(InfluxErrorReason::LeadingPlus { text: excerpt(raw) });
    }
    let unsigned = raw.strip_prefix('-').unwrap_or(raw);
    let lower = unsigned.to_ascii_lowercase();
    if matches!(lower.as_str(), "nan" | "inf" | "infinity") {
        return Err(InfluxErrorReason::NotFinite { text: excerpt(raw) });
    }
    if !is_float_syntax(unsigned) {
        let looks_numeric = unsigned.starts_with(|c: char| c.is_ascii_digit() || c == '.');
        return Err(if looks_numeric {
            InfluxErrorReason::InvalidFloat { text: excerpt(raw) }
        } else {
            InfluxErrorReason::InvalidFieldValue { text: excerpt(raw) }
        });
    }
    match raw.parse::<f64>() {
        Ok(value) if value.is_finite() => Ok(value),
        _ => Err(InfluxErrorReason::FloatOutOfRange { text: excerpt(raw) }),
    }
}

/// `digits [. digits] [e [+-] digits]` or `. digits …`, with at least one mantissa digit.
pub(crate) fn is_float_syntax(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut index = 0;
    let integer_digits = count_digits(&bytes[index..]);
    index += integer_digits;
    let mut fraction_digits = 0;
    if bytes.get(index) == Some(&b'.') {
        index += 1;
        fraction_digits = count_digits(&bytes[index..]);
        index += fraction_digits;
    }
    if integer_digits + fraction_digits == 0 {
        return false;
    }
    if matches!(bytes.get(index), Some(b'e' | b'E')) {
        index += 1;
        if matches!(bytes.get(index), Some(b'+' | b'-')) {
            index += 1;
        }
        let exponent_digits = count_digits(&bytes[index..]);
        if exponent_digits == 0 {
            return false;
        }
        index += exponent_digits;
    }
    index == bytes.len()
}

fn count_digits(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .take_while(|byte| byte.is_ascii_digit())
        .count()
}

fn parse_timestamp(raw: &str) -> Result<Nanos, InfluxErrorReason> {
    let unsigned = raw.strip_prefix('-').unwrap_or(raw);
    if unsigned.is_empty() || !unsigned.bytes().all(|byte| byte.is_ascii_digit()) {
        let fractional = unsigned.contains('.')
            && unsigned
                .bytes()
                .all(|byte| byte.is_ascii_digit() || byte == b'.');
        return Err(if fractional {
            InfluxErrorReason::FractionalTimestamp { text: excerpt(raw) }
        } else {
            InfluxErrorReason::InvalidTimestamp { text: excerpt(raw) }
        });
    }
    match raw.parse::<Nanos>() {
        Ok(nanos) if TIMESTAMP_RANGE_NANOS.contains(&nanos) => Ok(nanos),
        _ => Err(InfluxErrorReason::TimestampOutOfRange { text: excerpt(raw) }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn float_line(measurement: &str, value: f64, timestamp_nanos: Option<Nanos>) -> Line {
        Line {
            measurement: measurement.to_owned(),
            tags: Vec::new(),
            fields: vec![("value".to_owned(), FieldValue::Float(value))],
            timestamp_nanos,
        }
    }

    fn reason(line: &str) -> InfluxErrorReason {
        parse_line(line).expect_err("line must be refused").reason
    }

    #[test]
    fn canonical_aedifion_line_parses() {
        let line = parse_line("RoomTemperature value=20.3 1465839830100400200").unwrap();
        assert_eq!(
            line,
            float_line("RoomTemperature", 20.3, Some(1_465_839_830_100_400_200))
        );
        assert_eq!(line.aedifion_fit(), AedifionFit::Storable);
    }

    #[test]
    fn escapes_in_measurement_tags_and_fields_are_removed() {
        let line = parse_line(r"Room\ Temp\,1,k\=x=v\=y\ z f\ 1=1i,s=t").unwrap();
        assert_eq!(line.measurement, "Room Temp,1");
        assert_eq!(line.tags, vec![("k=x".to_owned(), "v=y z".to_owned())]);
        assert_eq!(line.fields[0], ("f 1".to_owned(), FieldValue::Integer(1)));
        assert_eq!(line.fields[1], ("s".to_owned(), FieldValue::Boolean(true)));
        assert_eq!(line.timestamp_nanos, None);
    }

    #[test]
    fn double_backslash_is_one_backslash_and_a_lone_one_is_literal() {
        let line = parse_line(r"a\\ b\x=1").unwrap();
        assert_eq!(line.measurement, r"a\");
        assert_eq!(line.fields[0].0, r"b\x");
        let line = parse_line(r"a\\,t=v\x f=1").unwrap();
        assert_eq!(line.measurement, r"a\");
        assert_eq!(line.tags[0].1, r"v\x");
    }

    #[test]
    fn string_fields_unescape_quotes_and_backslashes() {
        let line = parse_line(r#"Label value="on \"manual\" mode \\ ok" 1"#).unwrap();
        assert_eq!(
            line.fields[0].1,
            FieldValue::String(r#"on "manual" mode \ ok"#.to_owned())
        );
    }

    #[test]
    fn string_field_may_contain_commas_spaces_and_equals() {
        let line = parse_line(r#"m a="x, y=z",b=2 5"#).unwrap();
        assert_eq!(line.fields[0].1, FieldValue::String("x, y=z".to_owned()));
        assert_eq!(line.fields[1].1, FieldValue::Float(2.0));
        assert_eq!(line.timestamp_nanos, Some(5));
    }

    #[test]
    fn float_forms_influx_accepts_are_accepted() {
        for (text, expected) in [
            ("1", 1.0),
            ("1.", 1.0),
            (".5", 0.5),
            ("2.09e1", 20.9),
            ("1.e+78", 1e78),
            ("-3.5", -3.5),
        ] {
            let line = parse_line(&format!("m value={text} 1")).unwrap();
            assert_eq!(line.fields[0].1, FieldValue::Float(expected), "{text}");
        }
    }

    #[test]
    fn number_types_and_booleans_are_told_apart() {
        let line = parse_line("m a=42i,b=-7i,c=7u,d=T,e=false,f=FALSE").unwrap();
        let values: Vec<_> = line.fields.into_iter().map(|(_, value)| value).collect();
        assert_eq!(
            values,
            vec![
                FieldValue::Integer(42),
                FieldValue::Integer(-7),
                FieldValue::Unsigned(7),
                FieldValue::Boolean(true),
                FieldValue::Boolean(false),
                FieldValue::Boolean(false),
            ]
        );
    }

    #[test]
    fn malformed_values_are_refused_with_a_reason() {
        assert!(matches!(
            reason("m value=NaN 1"),
            InfluxErrorReason::NotFinite { .. }
        ));
        assert!(matches!(
            reason("m value=-Inf 1"),
            InfluxErrorReason::NotFinite { .. }
        ));
        assert!(matches!(
            reason("m value=+1.5 1"),
            InfluxErrorReason::LeadingPlus { .. }
        ));
        assert!(matches!(
            reason("m value=yes 1"),
            InfluxErrorReason::InvalidFieldValue { .. }
        ));
        assert!(matches!(
            reason("m value=1.2.3 1"),
            InfluxErrorReason::InvalidFloat { .. }
        ));
        assert!(matches!(
            reason("m value=1e999 1"),
            InfluxErrorReason::FloatOutOfRange { .. }
        ));
        assert!(matches!(
            reason("m value=9223372036854775808i 1"),
            InfluxErrorReason::IntegerOutOfRange { .. }
        ));
        assert!(matches!(
            reason("m value=1.5i 1"),
            InfluxErrorReason::InvalidInteger { .. }
        ));
        assert!(matches!(
            reason("m value=-1u 1"),
            InfluxErrorReason::InvalidUnsigned { .. }
        ));
        assert!(matches!(
            reason(r#"m value="open 1"#),
            InfluxErrorReason::UnterminatedString
        ));
    }

    #[test]
    fn decimal_comma_is_named_as_such() {
        let error = parse_line("RoomTemperature value=20,3 1465839830100400200").unwrap_err();
        assert_eq!(
            error.reason,
            InfluxErrorReason::DecimalComma {
                text: "20,3".to_owned()
            }
        );
        assert_eq!(error.byte_position, 26);
    }

    #[test]
    fn structural_errors_point_at_the_offending_byte() {
        let error = parse_line("Room Temperature value=20.3 1").unwrap_err();
        assert_eq!(error.byte_position, 16);
        assert!(matches!(
            error.reason,
            InfluxErrorReason::MissingEquals {
                element: "field",
                ..
            }
        ));
        assert_eq!(
            parse_line(" value=1 1").unwrap_err().reason,
            InfluxErrorReason::EmptyMeasurement
        );
        assert_eq!(
            parse_line("m").unwrap_err().reason,
            InfluxErrorReason::MissingFieldSet
        );
        assert_eq!(
            parse_line("m,t=v").unwrap_err().reason,
            InfluxErrorReason::MissingFieldSet
        );
        assert_eq!(
            parse_line("m =1").unwrap_err().reason,
            InfluxErrorReason::EmptyFieldKey
        );
        assert_eq!(
            parse_line("m,=x v=1").unwrap_err().reason,
            InfluxErrorReason::EmptyTagKey
        );
        assert!(matches!(
            reason("m,room= v=1"),
            InfluxErrorReason::EmptyTagValue { .. }
        ));
        assert!(matches!(
            reason("m,time=x v=1"),
            InfluxErrorReason::ReservedKey { .. }
        ));
        assert!(matches!(
            reason("m time=1"),
            InfluxErrorReason::ReservedKey { .. }
        ));
    }

    #[test]
    fn timestamps_are_checked_for_quotes_fractions_and_range() {
        assert_eq!(reason(r#"m v=1 "1""#), InfluxErrorReason::QuotedTimestamp);
        assert!(matches!(
            reason("m v=1 1465839830.1004"),
            InfluxErrorReason::FractionalTimestamp { .. }
        ));
        assert!(matches!(
            reason("m v=1 99999999999999999999"),
            InfluxErrorReason::TimestampOutOfRange { .. }
        ));
        assert!(matches!(
            reason("m v=1 9223372036854775807"),
            InfluxErrorReason::TimestampOutOfRange { .. }
        ));
        assert!(matches!(
            reason("m v=1 12abc"),
            InfluxErrorReason::InvalidTimestamp { .. }
        ));
        assert!(matches!(
            reason("m v=1 1 extra"),
            InfluxErrorReason::TrailingText { .. }
        ));
        assert_eq!(
            parse_line("m v=1 -9223372036854775806")
                .unwrap()
                .timestamp_nanos,
            Some(-9_223_372_036_854_775_806)
        );
    }

    #[test]
    fn space_runs_between_sections_are_tolerated() {
        let line = parse_line("m   v=1   5  ").unwrap();
        assert_eq!(line.timestamp_nanos, Some(5));
    }

    #[test]
    fn payload_skips_comments_and_blank_lines_and_keeps_good_lines_after_a_bad_one() {
        let results = parse_payload("# header\r\n\na v=1 1\r\nbad line\n  \nb v=2 2\n");
        assert_eq!(results.len(), 3);
        assert_eq!(results[0].as_ref().unwrap().measurement, "a");
        assert_eq!(results[1].as_ref().unwrap_err().line_number, 4);
        assert_eq!(results[2].as_ref().unwrap().measurement, "b");
    }

    #[test]
    fn error_message_names_line_and_byte() {
        let results = parse_payload("a v=1\nb v=NaN");
        let error = results[1].as_ref().unwrap_err();
        assert_eq!(
            error.to_string(),
            "line 2, byte 5: `NaN` is not allowed: field values must be finite numbers (no NaN or Inf)"
        );
    }

    #[test]
    fn escaping_functions_escape_exactly_their_special_characters() {
        assert_eq!(escape_measurement(r"a b,c=d\e"), r"a\ b\,c=d\\e");
        assert_eq!(escape_tag_key("a b,c=d"), r"a\ b\,c\=d");
        assert_eq!(escape_tag_value("x=1"), r"x\=1");
        assert_eq!(escape_field_key("f 1"), r"f\ 1");
        assert_eq!(escape_string_field(r#"say "hi" \o/"#), r#"say \"hi\" \\o/"#);
        assert!(matches!(
            escape_measurement("plain"),
            Cow::Borrowed("plain")
        ));
    }

    #[test]
    fn written_lines_parse_back_to_the_same_line() {
        let line = Line {
            measurement: "Außen temp, \"Nord\"=1 \\".to_owned(),
            tags: vec![("ro om".to_owned(), "A=1,2".to_owned())],
            fields: vec![
                ("value".to_owned(), FieldValue::Float(-0.1)),
                ("n".to_owned(), FieldValue::Integer(i64::MIN)),
                ("u".to_owned(), FieldValue::Unsigned(u64::MAX)),
                (
                    "s".to_owned(),
                    FieldValue::String("a \"b\" \\ c".to_owned()),
                ),
                ("b".to_owned(), FieldValue::Boolean(false)),
                ("big".to_owned(), FieldValue::Float(1e300)),
            ],
            timestamp_nanos: Some(1_600_000_000_000_000_000),
        };
        let text = line.to_line_protocol().unwrap();
        assert_eq!(parse_line(&text).unwrap(), line);
    }

    #[test]
    fn aedifion_writer_produces_the_documented_form() {
        assert_eq!(
            write_aedifion_value("Room Temperature 1.OG", 21.5, 1_600_000_000_000_000_000).unwrap(),
            r"Room\ Temperature\ 1.OG value=21.5 1600000000000000000"
        );
        assert_eq!(write_aedifion_value("x", 1.0, 1).unwrap(), "x value=1.0 1");
    }

    #[test]
    fn writer_refuses_what_line_protocol_cannot_carry() {
        let value = FieldValue::Float(1.0);
        assert_eq!(
            write_line("", [], [("v", &value)], None),
            Err(InfluxWriteError::EmptyMeasurement)
        );
        assert_eq!(
            write_line("\t", [], [("v", &value)], None),
            Err(InfluxWriteError::OnlyTabs)
        );
        assert!(matches!(
            write_line("\t#x", [], [("v", &value)], None),
            Err(InfluxWriteError::MeasurementStartsWithHash(_))
        ));
        assert!(matches!(
            write_line("a\nb", [], [("v", &value)], None),
            Err(InfluxWriteError::LineBreak { .. })
        ));
        assert_eq!(
            write_line("m", [], [], None),
            Err(InfluxWriteError::NoFields)
        );
        assert!(matches!(
            write_line("m", [("k", "")], [("v", &value)], None),
            Err(InfluxWriteError::EmptyTagValue(_))
        ));
        assert!(matches!(
            write_line("m", [], [("time", &value)], None),
            Err(InfluxWriteError::ReservedKey(_))
        ));
        assert!(matches!(
            write_aedifion_value("m", f64::NAN, 1),
            Err(InfluxWriteError::NotFinite(_))
        ));
        assert!(matches!(
            write_aedifion_value("m", 1.0, i64::MAX),
            Err(InfluxWriteError::TimestampOutOfRange(_))
        ));
    }

    #[test]
    fn aedifion_fit_follows_the_documented_profile() {
        let fit = |text: &str| parse_line(text).unwrap().aedifion_fit();
        assert_eq!(fit("m value=1 1"), AedifionFit::Storable);
        assert_eq!(fit("m value=1"), AedifionFit::Undocumented);
        assert_eq!(fit("m value=1 1465839830100"), AedifionFit::Undocumented);
        assert_eq!(
            fit("m value=1,q=1i 1600000000000000000"),
            AedifionFit::Undocumented
        );
        assert_eq!(fit("m value=1i 1"), AedifionFit::NotStorable);
        assert_eq!(fit("m other=1 1"), AedifionFit::NotStorable);
    }
}
