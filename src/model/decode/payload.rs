//! Payload classification and value extraction. Runs on the worker thread, once per message.
//!
//! Order (aedifion reference §5.0): empty; not UTF-8 → binary; `META/…` → metadata JSON;
//! `CONTROLS/…` → SWOP JSON; otherwise line protocol if any line parses, then the legacy
//! semicolon format, a plain number (with unit), JSON, and finally text. Documents starting
//! with `{` or `[` are tried as JSON before line protocol, so a JSON line that happens to look
//! like a point never turns a JSON payload into a broken Influx one.

use std::fmt::Write as _;
use std::sync::{Arc, LazyLock};

use serde::{Deserialize, Serialize};

use crate::model::aedifion::controls::SwopFacts;
use crate::model::aedifion::datapoints::{AedifionFacts, MetaFacts};
use crate::model::aedifion::family::{self as aedifion, TopicFamily};
use crate::model::aedifion::swop;
use crate::model::decode::decoder_override::DecoderChoice;
use crate::model::decode::influx::{self, FieldValue, InfluxError};
use crate::model::decode::json_values;
use crate::model::decode::legacy;
use crate::model::time::Nanos;

/// What a payload was recognised as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PayloadFormat {
    /// Zero bytes.
    Empty,
    /// Valid UTF-8 that is nothing more specific.
    Text,
    /// Any JSON document that is nothing more specific.
    Json,
    /// A plain number, optionally followed by a unit ("21.5 °C").
    Number,
    /// InfluxDB line protocol (one or more lines).
    Influx,
    /// aedifion's legacy `datapoint;timestamp;value` format.
    Legacy,
    /// JSON metadata on `META/...`.
    Meta,
    /// SWOP control message on `CONTROLS/...`.
    Swop,
    /// Not valid UTF-8: shown as hex.
    Binary,
}

impl PayloadFormat {
    /// The lower-case name machine-readable outputs use (`topicscope decode`, JSON Lines).
    pub fn name(self) -> &'static str {
        match self {
            PayloadFormat::Empty => "empty",
            PayloadFormat::Text => "text",
            PayloadFormat::Json => "json",
            PayloadFormat::Number => "number",
            PayloadFormat::Influx => "influx",
            PayloadFormat::Legacy => "legacy",
            PayloadFormat::Meta => "meta",
            PayloadFormat::Swop => "swop",
            PayloadFormat::Binary => "binary",
        }
    }
}

/// Which number inside a payload a value (and a plot series) refers to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ValueKey {
    /// The whole payload is the number.
    Whole,
    /// A numeric (or boolean) JSON leaf, addressed like `a.b[2].c`.
    JsonPath(KeyText),
    /// A field of an Influx line, e.g. measurement `RoomTemp`, field `value`. A legacy
    /// semicolon payload gives its datapoint with field `value`, so it lines up with the same
    /// datapoint sent as line protocol.
    InfluxField {
        /// The measurement (datapoint name), unescaped.
        measurement: KeyText,
        /// The field key, unescaped.
        field: KeyText,
    },
}

/// Text of a [`ValueKey`] (a JSON path, a measurement or a field name), shared: a clone costs a
/// reference count, not a copy. The field name `value` (nearly every aedifion line) is one copy
/// for the whole process, and measurement names are interned on the worker
/// ([`KeyText::measurement`]) and kept by the datapoint registry, so a million stored messages
/// do not hold a million copies of their names. Compares, orders and hashes as its text.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyText(Arc<str>);

/// The one shared copy of the field name `value`.
static VALUE_FIELD: LazyLock<Arc<str>> = LazyLock::new(|| Arc::from("value"));

/// Measurement names interned at most per thread: a broker can name any number of
/// measurements, so the set is forgotten (and started again) once it holds this many.
const MAX_INTERNED_MEASUREMENTS: usize = 65_536;

thread_local! {
    static MEASUREMENTS: std::cell::RefCell<Interner> = std::cell::RefCell::default();
}

/// A bounded set of shared texts.
#[derive(Default)]
struct Interner {
    names: std::collections::HashSet<Arc<str>>,
}

impl Interner {
    fn intern(&mut self, name: &str) -> Arc<str> {
        if let Some(known) = self.names.get(name) {
            return Arc::clone(known);
        }
        if self.names.len() >= MAX_INTERNED_MEASUREMENTS {
            self.names = std::collections::HashSet::new();
        }
        let name: Arc<str> = name.into();
        self.names.insert(Arc::clone(&name));
        name
    }
}

impl KeyText {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The shared text itself (cloning it costs a reference count).
    pub fn shared(&self) -> &Arc<str> {
        &self.0
    }

    /// A measurement name, interned per thread: on the worker, every message naming the same
    /// datapoint gets the same copy of its name, which the datapoint registry then keeps too.
    pub fn measurement(name: &str) -> Self {
        KeyText(MEASUREMENTS.with_borrow_mut(|names| names.intern(name)))
    }

    /// True for the process-wide copy of `value`, which costs a message nothing.
    pub fn is_value_field(&self) -> bool {
        Arc::ptr_eq(&self.0, &VALUE_FIELD)
    }
}

impl From<&str> for KeyText {
    fn from(text: &str) -> Self {
        if text == "value" {
            KeyText(Arc::clone(&VALUE_FIELD))
        } else {
            KeyText(text.into())
        }
    }
}

impl From<String> for KeyText {
    fn from(text: String) -> Self {
        KeyText::from(text.as_str())
    }
}

impl std::ops::Deref for KeyText {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for KeyText {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for KeyText {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<&str> for KeyText {
    fn eq(&self, other: &&str) -> bool {
        *self.0 == **other
    }
}

impl std::fmt::Debug for KeyText {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&*self.0, formatter)
    }
}

impl std::fmt::Display for KeyText {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl Serialize for KeyText {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(KeyText::from)
    }
}

/// One number found in a payload.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExtractedValue {
    /// Where in the payload the number was found.
    pub key: ValueKey,
    /// The number (booleans as 0/1). Never NaN or infinite.
    pub value: f64,
    /// Time written inside the payload (Influx timestamp, legacy ISO time), if any.
    pub timestamp_nanos: Option<Nanos>,
}

/// The result of decoding one payload: cheap to keep next to the raw bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// What the payload was recognised as.
    pub format: PayloadFormat,
    /// One line, at most [`PREVIEW_CHARS`] characters, for the tree.
    pub preview: String,
    /// Numbers that can be plotted, in payload order (bounded count).
    pub values: Vec<ExtractedValue>,
    /// The rare parts (a problem, aedifion facts), boxed so every other message pays one
    /// pointer: read them with [`Decoded::problem`] and [`Decoded::aedifion`].
    pub(crate) extra: Option<Box<DecodedExtra>>,
}

/// The parts of a [`Decoded`] most payloads do not have.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct DecodedExtra {
    problem: Option<Box<str>>,
    aedifion: Option<AedifionFacts>,
}

impl Decoded {
    /// Why the payload is not what it looked like (e.g. a malformed Influx line), for the UI.
    pub fn problem(&self) -> Option<&str> {
        self.extra.as_deref()?.problem.as_deref()
    }

    /// What the datapoint registry needs from a META or SWOP message.
    pub fn aedifion(&self) -> Option<&AedifionFacts> {
        self.extra.as_deref()?.aedifion.as_ref()
    }

    /// Heap bytes of the rare parts (for memory estimates).
    pub fn extra_heap_bytes(&self) -> usize {
        let Some(extra) = self.extra.as_deref() else {
            return 0;
        };
        crate::model::heap::heap_bytes(size_of::<DecodedExtra>())
            + extra
                .problem
                .as_ref()
                .map_or(0, |problem| crate::model::heap::heap_bytes(problem.len()))
    }

    fn with_extra(mut self, problem: Option<String>, aedifion: Option<AedifionFacts>) -> Decoded {
        if problem.is_none() && aedifion.is_none() {
            self.extra = None;
            return self;
        }
        self.extra = Some(Box::new(DecodedExtra {
            problem: problem.map(String::into_boxed_str),
            aedifion,
        }));
        self
    }
}

/// Maximum length of [`Decoded::preview`] in characters.
pub const PREVIEW_CHARS: usize = 120;

/// Payloads above this size are previewed but not decoded (nor scanned beyond the preview).
pub const MAX_DECODE_BYTES: usize = 1024 * 1024;

/// At most this many values are taken from one line-protocol payload.
pub const MAX_VALUES: usize = 256;

/// Bytes shown in the hex preview of a binary payload.
const HEX_PREVIEW_BYTES: usize = 32;

/// Bytes looked at to preview a payload too large to decode.
const LARGE_PREVIEW_BYTES: usize = 4 * PREVIEW_CHARS;

impl Decoded {
    /// Classifies a payload received on `topic`, extracts its numbers and builds a one-line
    /// preview. Never panics, whatever the bytes.
    pub fn from_payload(topic: &str, payload: &[u8]) -> Decoded {
        Decoded::decode_auto(aedifion::topic_family(topic), payload).compacted()
    }

    fn decode_auto(family: TopicFamily, payload: &[u8]) -> Decoded {
        if payload.is_empty() {
            return Decoded::plain(PayloadFormat::Empty, String::new());
        }
        if payload.len() > MAX_DECODE_BYTES {
            return decode_too_large(payload);
        }
        let Ok(text) = std::str::from_utf8(payload) else {
            return decode_binary(payload);
        };
        match family {
            TopicFamily::Meta => decode_meta(text),
            TopicFamily::Controls => decode_controls(text),
            TopicFamily::TimeSeries => decode_time_series(text),
        }
    }

    /// Gives back the spare capacity of the preview, values and problem text: a `Decoded` is
    /// kept for as long as its message, and a vector's first push reserves room for four values.
    fn compacted(mut self) -> Decoded {
        self.preview.shrink_to_fit();
        self.values.shrink_to_fit();
        self
    }

    fn plain(format: PayloadFormat, preview: String) -> Decoded {
        Decoded {
            format,
            preview,
            values: Vec::new(),
            extra: None,
        }
    }

    fn with_problem(mut self, problem: impl Into<String>) -> Decoded {
        let problem = Some(problem.into().into_boxed_str());
        match self.extra.as_deref_mut() {
            Some(extra) => extra.problem = problem,
            None => {
                self.extra = Some(Box::new(DecodedExtra {
                    problem,
                    aedifion: None,
                }));
            }
        }
        self
    }
}

impl Decoded {
    /// Like [`Decoded::from_payload`], but with the decoder fixed by `choice` (a profile's
    /// per-topic override or `topicscope decode --format`). A payload the chosen decoder cannot
    /// read is shown as text with the reason. Never panics, whatever the bytes.
    pub fn from_payload_as(topic: &str, payload: &[u8], choice: DecoderChoice) -> Decoded {
        Decoded::from_family_payload_as(aedifion::topic_family(topic), payload, choice)
    }

    /// Like [`Decoded::from_payload_as`] for a topic whose family is already known (the worker
    /// classifies each topic once, see [`crate::model::decode::message::Message::new_as`]).
    pub fn from_family_payload_as(
        family: TopicFamily,
        payload: &[u8],
        choice: DecoderChoice,
    ) -> Decoded {
        Decoded::decode_as(family, payload, choice).compacted()
    }

    fn decode_as(family: TopicFamily, payload: &[u8], choice: DecoderChoice) -> Decoded {
        let text = match (choice, std::str::from_utf8(payload)) {
            (DecoderChoice::Auto, _) => return Decoded::decode_auto(family, payload),
            _ if payload.is_empty() || payload.len() > MAX_DECODE_BYTES => {
                return Decoded::decode_auto(family, payload);
            }
            (_, Err(_)) => return decode_binary(payload),
            (_, Ok(text)) => text,
        };
        match choice {
            DecoderChoice::Auto => Decoded::decode_auto(family, payload),
            DecoderChoice::Influx => match decode_influx(text) {
                InfluxOutcome::Decoded(decoded) => decoded,
                InfluxOutcome::NoPoints(first_error) => {
                    let why = first_error.map_or_else(
                        || "no line protocol: the payload has no point lines".to_owned(),
                        |(error, _)| format!("not valid line protocol: {error}"),
                    );
                    Decoded::plain(PayloadFormat::Text, one_line_preview(text)).with_problem(why)
                }
            },
            DecoderChoice::Legacy => match legacy::parse_legacy(text) {
                Ok(record) => decode_legacy(record),
                Err(error) => Decoded::plain(PayloadFormat::Text, one_line_preview(text))
                    .with_problem(format!("not the legacy format: {error}")),
            },
            DecoderChoice::Json => decode_json_or_number(text),
            DecoderChoice::Meta => decode_meta(text),
            DecoderChoice::Swop => decode_controls(text),
        }
    }
}

/// JSON, else a plain number with unit, else text saying why.
fn decode_json_or_number(text: &str) -> Decoded {
    if let Some(decoded) = decode_json(text) {
        return decoded;
    }
    match json_values::parse_number_with_unit(text) {
        Some((value, _unit)) => Decoded {
            values: vec![ExtractedValue {
                key: ValueKey::Whole,
                value,
                timestamp_nanos: None,
            }],
            ..Decoded::plain(PayloadFormat::Number, one_line_preview(text))
        },
        None => Decoded::plain(PayloadFormat::Text, one_line_preview(text))
            .with_problem("neither JSON nor a number (with an optional unit)"),
    }
}

fn decode_too_large(payload: &[u8]) -> Decoded {
    let prefix = &payload[..LARGE_PREVIEW_BYTES.min(payload.len())];
    let text = match std::str::from_utf8(prefix) {
        Ok(text) => Some(text),
        // Cut inside a character: the part before the cut is still text.
        Err(error) if error.error_len().is_none() => {
            std::str::from_utf8(&prefix[..error.valid_up_to()]).ok()
        }
        Err(_) => None,
    };
    let decoded = match text {
        Some(text) => Decoded::plain(PayloadFormat::Text, one_line_preview(text)),
        None => decode_binary(payload),
    };
    decoded.with_problem(format!(
        "payload is {}, too large to decode (limit {}); only the start is previewed",
        human_bytes(payload.len()),
        human_bytes(MAX_DECODE_BYTES)
    ))
}

fn decode_binary(payload: &[u8]) -> Decoded {
    let mut preview = format!("{} bytes:", payload.len());
    for byte in payload.iter().take(HEX_PREVIEW_BYTES) {
        let _ = write!(preview, " {byte:02x}");
    }
    if payload.len() > HEX_PREVIEW_BYTES {
        preview.push_str(" …");
    }
    Decoded::plain(PayloadFormat::Binary, preview)
}

fn decode_meta(text: &str) -> Decoded {
    let Ok(document) = serde_json::from_str::<serde_json::Value>(text) else {
        return decode_time_series(text)
            .with_problem("metadata on META/… must be a JSON object, and this is not JSON");
    };
    match aedifion::summarize_meta(&document) {
        Some(summary) => Decoded::plain(PayloadFormat::Meta, one_line_preview(&summary.preview()))
            .with_extra(
                summary.problem.map(|problem| problem.to_string()),
                MetaFacts::from_document(&document).map(AedifionFacts::Meta),
            ),
        None => {
            decode_json_or_text(text).with_problem("metadata on META/… must be one JSON object")
        }
    }
}

fn decode_controls(text: &str) -> Decoded {
    let Ok(document) = serde_json::from_str::<serde_json::Value>(text) else {
        return decode_time_series(text)
            .with_problem("not a SWOP message: SWOP messages are JSON objects");
    };
    let Some(summary) = aedifion::recognize_swop(&document) else {
        let why = if document.is_object() {
            "not a SWOP message: no string `type`"
        } else {
            "not a SWOP message: a SWOP message is one JSON object"
        };
        return decode_json_or_text(text).with_problem(why);
    };
    let problem = swop_problem(&document);
    Decoded {
        format: PayloadFormat::Swop,
        preview: one_line_preview(&summary.preview()),
        // Walked again (not from `document`) to keep document order; SWOP messages are small.
        values: json_values::extract_json_values(text)
            .map(|found| found.values)
            .unwrap_or_default(),
        extra: None,
    }
    .with_extra(
        problem,
        SwopFacts::from_document(&document).map(AedifionFacts::Swop),
    )
}

/// What the strict SWOP validator (the one the composer and `topicscope setpoint` use) says about
/// a message: its refusal, or its remarks; `None` for a clean message. A numeric `swop_version`
/// is only normalised (the reference's own example writes one), so it is not a problem.
fn swop_problem(document: &serde_json::Value) -> Option<String> {
    let message = match swop::parse_value(document) {
        Err(error) => return Some(error.to_string()),
        Ok(message) => message,
    };
    let remarks: Vec<String> = message
        .notes()
        .iter()
        .filter(|note| !matches!(note, swop::SwopNote::NumericVersion { .. }))
        .map(ToString::to_string)
        .collect();
    (!remarks.is_empty()).then(|| remarks.join("; "))
}

fn decode_time_series(text: &str) -> Decoded {
    // An object or array is tried as JSON first; anything else (a JSON string, `true`) only
    // after the other formats. Each payload is parsed as JSON at most once.
    let json_first = text.trim_start().starts_with(['{', '[']);
    if json_first && let Some(decoded) = decode_json(text) {
        return decoded;
    }
    let first_influx_error = match decode_influx(text) {
        InfluxOutcome::Decoded(decoded) => return decoded,
        InfluxOutcome::NoPoints(first_error) => first_error,
    };
    if let Ok(record) = legacy::parse_legacy(text) {
        return decode_legacy(record);
    }
    if let Some((value, _unit)) = json_values::parse_number_with_unit(text) {
        return Decoded {
            format: PayloadFormat::Number,
            preview: one_line_preview(text),
            values: vec![ExtractedValue {
                key: ValueKey::Whole,
                value,
                timestamp_nanos: None,
            }],
            extra: None,
        };
    }
    if !json_first && let Some(decoded) = decode_json(text) {
        return decoded;
    }
    let decoded = Decoded::plain(PayloadFormat::Text, one_line_preview(text));
    match first_influx_error {
        Some((error, line)) if looks_like_line_protocol(line) => {
            decoded.with_problem(format!("not valid line protocol: {error}"))
        }
        _ => decoded,
    }
}

fn decode_json_or_text(text: &str) -> Decoded {
    decode_json(text).unwrap_or_else(|| Decoded::plain(PayloadFormat::Text, one_line_preview(text)))
}

/// `None` when `text` is not JSON.
fn decode_json(text: &str) -> Option<Decoded> {
    let found = json_values::extract_json_values(text).ok()?;
    let problem = found.truncated.then(|| {
        format!(
            "only the first {} numbers (nested up to {} levels) are extracted",
            json_values::MAX_JSON_VALUES,
            json_values::MAX_JSON_DEPTH
        )
    });
    Some(
        Decoded {
            format: PayloadFormat::Json,
            preview: one_line_preview(text),
            values: found.values,
            extra: None,
        }
        .with_extra(problem, None),
    )
}

fn decode_legacy(record: legacy::LegacyRecord) -> Decoded {
    let preview = format!(
        "{} value={} ({})",
        record.datapoint,
        format_number(record.value),
        record.time_text
    );
    Decoded {
        format: PayloadFormat::Legacy,
        preview: one_line_preview(&preview),
        values: vec![ExtractedValue {
            key: ValueKey::InfluxField {
                measurement: KeyText::measurement(&record.datapoint),
                field: "value".into(),
            },
            value: record.value,
            timestamp_nanos: Some(record.timestamp_nanos),
        }],
        extra: None,
    }
}

enum InfluxOutcome<'a> {
    /// At least one line is a valid point.
    Decoded(Decoded),
    /// No line is; the first error and its line, if there was any line at all.
    NoPoints(Option<(InfluxError, &'a str)>),
}

fn decode_influx(text: &str) -> InfluxOutcome<'_> {
    let mut values = Vec::new();
    let mut preview = None;
    let mut first_error: Option<(InfluxError, &str)> = None;
    let (mut good_lines, mut bad_lines, mut dropped_values) = (0usize, 0usize, 0usize);
    for (line_number, line_text) in influx::payload_lines(text) {
        match influx::parse_line(line_text) {
            Ok(line) => {
                good_lines += 1;
                if preview.is_none() {
                    preview = Some(influx_line_preview(&line));
                }
                dropped_values += push_influx_values(line, &mut values);
            }
            Err(mut error) => {
                bad_lines += 1;
                if first_error.is_none() {
                    error.line_number = line_number;
                    first_error = Some((error, line_text));
                }
            }
        }
    }
    let Some(mut preview) = preview else {
        return InfluxOutcome::NoPoints(first_error);
    };
    let total_lines = good_lines + bad_lines;
    if total_lines > 1 {
        let _ = write!(preview, " (+{} more lines)", total_lines - 1);
    }
    let problem = match first_error {
        Some((error, _)) => Some(format!(
            "{error} ({bad_lines} of {total_lines} lines could not be decoded)"
        )),
        None if dropped_values > 0 => {
            Some(format!("only the first {MAX_VALUES} values are extracted"))
        }
        None => None,
    };
    InfluxOutcome::Decoded(
        Decoded {
            format: PayloadFormat::Influx,
            preview: one_line_preview(&preview),
            values,
            extra: None,
        }
        .with_extra(problem, None),
    )
}

/// Moves the line's plottable fields into `values`; returns how many did not fit.
fn push_influx_values(line: influx::Line, values: &mut Vec<ExtractedValue>) -> usize {
    let mut dropped = 0;
    // One copy of the measurement for all fields of the line.
    let mut measurement: Option<KeyText> = None;
    for (field, field_value) in line.fields {
        let Some(value) = field_value.as_f64() else {
            continue;
        };
        if values.len() >= MAX_VALUES {
            dropped += 1;
            continue;
        }
        values.push(ExtractedValue {
            key: ValueKey::InfluxField {
                measurement: measurement
                    .get_or_insert_with(|| KeyText::measurement(&line.measurement))
                    .clone(),
                field: field.into(),
            },
            value,
            timestamp_nanos: line.timestamp_nanos,
        });
    }
    dropped
}

/// `RoomTemperature value=20.3,quality=1` with names unescaped.
fn influx_line_preview(line: &influx::Line) -> String {
    let mut preview = line.measurement.clone();
    for (index, (field, value)) in line.fields.iter().enumerate() {
        preview.push(if index == 0 { ' ' } else { ',' });
        preview.push_str(field);
        preview.push('=');
        match value {
            FieldValue::Float(number) => preview.push_str(&format_number(*number)),
            FieldValue::Integer(number) => {
                let _ = write!(preview, "{number}");
            }
            FieldValue::Unsigned(number) => {
                let _ = write!(preview, "{number}");
            }
            FieldValue::Boolean(flag) => {
                let _ = write!(preview, "{flag}");
            }
            FieldValue::String(text) => {
                let _ = write!(preview, "\"{text}\"");
            }
        }
        if preview.len() > PREVIEW_CHARS * 4 {
            break;
        }
    }
    preview
}

/// A line that failed but has the `name key=value` shape, so the failure is worth reporting.
fn looks_like_line_protocol(line: &str) -> bool {
    line.split_once(' ')
        .is_some_and(|(_, rest)| rest.contains('='))
}

/// Shortest exact text for ordinary magnitudes, scientific notation for huge or tiny ones.
fn format_number(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude != 0.0 && !(1e-6..1e15).contains(&magnitude) {
        format!("{value:e}")
    } else {
        format!("{value}")
    }
}

fn human_bytes(bytes: usize) -> String {
    const KIB: f64 = 1024.0;
    let bytes_f = bytes as f64;
    if bytes_f >= KIB * KIB {
        format!("{:.1} MiB", bytes_f / (KIB * KIB))
    } else if bytes_f >= KIB {
        format!("{:.1} KiB", bytes_f / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// One line of at most [`PREVIEW_CHARS`] characters: whitespace runs (newlines, tabs) become
/// one space, control and text-direction characters become `�`, and a cut is marked with `…`.
/// Reads only as much of `text` as the preview needs.
pub fn one_line_preview(text: &str) -> String {
    let mut preview = String::with_capacity(text.len().min(PREVIEW_CHARS * 2));
    let mut char_count = 0;
    let mut pending_space = false;
    for character in text.chars() {
        if character.is_whitespace() {
            pending_space = char_count > 0;
            continue;
        }
        let needed = 1 + usize::from(pending_space);
        if char_count + needed > PREVIEW_CHARS {
            while char_count >= PREVIEW_CHARS {
                preview.pop();
                char_count -= 1;
            }
            preview.push('…');
            return preview;
        }
        if pending_space {
            preview.push(' ');
            char_count += 1;
            pending_space = false;
        }
        preview.push(if is_unsafe_to_show(character) {
            '\u{FFFD}'
        } else {
            character
        });
        char_count += 1;
    }
    preview
}

/// Control characters, and the bidirectional overrides that can make text display reordered.
fn is_unsafe_to_show(character: char) -> bool {
    character.is_control() || matches!(character, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERIES_TOPIC: &str = "lbg01/mybuilding/Pm2cx76I";

    fn decode(payload: &str) -> Decoded {
        Decoded::from_payload(SERIES_TOPIC, payload.as_bytes())
    }

    fn field(measurement: &str, field: &str) -> ValueKey {
        ValueKey::InfluxField {
            measurement: measurement.into(),
            field: field.into(),
        }
    }

    #[test]
    fn empty_payload_is_empty() {
        let decoded = decode("");
        assert_eq!(decoded.format, PayloadFormat::Empty);
        assert!(decoded.values.is_empty());
    }

    #[test]
    fn canonical_influx_line_gives_one_timestamped_value() {
        let decoded = decode("RoomTemperature value=20.3 1465839830100400200");
        assert_eq!(decoded.format, PayloadFormat::Influx);
        assert_eq!(decoded.preview, "RoomTemperature value=20.3");
        assert_eq!(
            decoded.values,
            vec![ExtractedValue {
                key: field("RoomTemperature", "value"),
                value: 20.3,
                timestamp_nanos: Some(1_465_839_830_100_400_200)
            }]
        );
        assert_eq!(decoded.problem(), None);
    }

    #[test]
    fn every_numeric_or_boolean_field_becomes_a_value_and_strings_do_not() {
        let decoded = decode(r#"m a=1i,b=true,c="x",d=2.5 7"#);
        let keys: Vec<_> = decoded
            .values
            .iter()
            .map(|found| (found.key.clone(), found.value))
            .collect();
        assert_eq!(
            keys,
            vec![
                (field("m", "a"), 1.0),
                (field("m", "b"), 1.0),
                (field("m", "d"), 2.5)
            ]
        );
    }

    #[test]
    fn partly_broken_influx_keeps_good_lines_and_reports_the_first_error() {
        let decoded = decode("a value=1 1\nb value=NaN 2\nc value=3 3\n");
        assert_eq!(decoded.format, PayloadFormat::Influx);
        assert_eq!(decoded.values.len(), 2);
        assert_eq!(decoded.preview, "a value=1 (+2 more lines)");
        let problem = decoded.problem().unwrap();
        assert!(problem.starts_with("line 2, byte 9: `NaN`"), "{problem}");
        assert!(
            problem.ends_with("(1 of 3 lines could not be decoded)"),
            "{problem}"
        );
    }

    #[test]
    fn a_broken_single_line_is_text_with_the_reason() {
        let decoded = decode("RoomTemperature value=20,3 1465839830100400200");
        assert_eq!(decoded.format, PayloadFormat::Text);
        assert!(decoded.problem().unwrap().contains("decimal comma"));
        assert_eq!(decode("hello world").problem(), None);
    }

    #[test]
    fn legacy_payload_is_recognised() {
        let decoded = decode("bacnet221-AbsPower_SI;2018-12-20T10:35:01.000000Z;0.15845434");
        assert_eq!(decoded.format, PayloadFormat::Legacy);
        assert_eq!(
            decoded.values[0].key,
            field("bacnet221-AbsPower_SI", "value")
        );
        assert_eq!(
            decoded.values[0].timestamp_nanos,
            Some(1_545_302_101_000_000_000)
        );
        assert_eq!(
            decoded.preview,
            "bacnet221-AbsPower_SI value=0.15845434 (2018-12-20T10:35:01.000000Z)"
        );
    }

    #[test]
    fn plain_numbers_with_units_are_whole_values() {
        for (text, expected) in [
            ("21.5", 21.5),
            ("21.5 °C", 21.5),
            ("42 %", 42.0),
            ("-1e3\n", -1000.0),
        ] {
            let decoded = decode(text);
            assert_eq!(decoded.format, PayloadFormat::Number, "{text}");
            assert_eq!(
                decoded.values,
                vec![ExtractedValue {
                    key: ValueKey::Whole,
                    value: expected,
                    timestamp_nanos: None
                }]
            );
        }
    }

    #[test]
    fn json_leaves_are_extracted_with_paths() {
        let decoded = decode("{\n  \"temp\": {\"value\": 21.5},\n  \"on\": true\n}");
        assert_eq!(decoded.format, PayloadFormat::Json);
        assert_eq!(
            decoded.preview,
            r#"{ "temp": {"value": 21.5}, "on": true }"#
        );
        assert_eq!(
            decoded.values[0].key,
            ValueKey::JsonPath("temp.value".into())
        );
        assert_eq!(decoded.values[1].value, 1.0);
    }

    #[test]
    fn broken_json_with_a_point_line_is_influx_with_a_problem() {
        let decoded = decode("[\n\"x\",\nm v=1\n]");
        assert_eq!(decoded.format, PayloadFormat::Influx);
        assert!(decoded.problem().unwrap().contains("3 of 4 lines"));
        let decoded = decode("{\"a\":\n\"m v=1\"}");
        assert_eq!(decoded.format, PayloadFormat::Json);
    }

    #[test]
    fn invalid_utf8_is_binary_with_a_hex_preview() {
        let decoded = Decoded::from_payload(SERIES_TOPIC, &[0xff, 0x00, 0x41]);
        assert_eq!(decoded.format, PayloadFormat::Binary);
        assert_eq!(decoded.preview, "3 bytes: ff 00 41");
        let long = vec![0xfe; 1000];
        let preview = Decoded::from_payload(SERIES_TOPIC, &long).preview;
        assert!(
            preview.ends_with(" …") && preview.chars().count() <= PREVIEW_CHARS,
            "{preview}"
        );
    }

    #[test]
    fn meta_topic_gives_metadata_preview() {
        let decoded = Decoded::from_payload(
            "META/lbg01/proj",
            br#"{"name":"AS11","objtype":"device","source":"BACnet"}"#,
        );
        assert_eq!(decoded.format, PayloadFormat::Meta);
        assert_eq!(decoded.preview, "name=AS11 objtype=device");
        assert_eq!(decoded.problem(), None);
    }

    #[test]
    fn meta_topic_with_non_json_says_why() {
        let decoded = Decoded::from_payload(
            "META/lbg01/proj",
            b"name=RoomTemperature;objtype=analogInput",
        );
        assert_eq!(decoded.format, PayloadFormat::Text);
        assert!(decoded.problem().unwrap().contains("JSON object"));
        let decoded = Decoded::from_payload("META/lbg01/proj", br#"[{"name":"x"}]"#);
        assert_eq!(decoded.format, PayloadFormat::Json);
        assert!(decoded.problem().is_some());
    }

    #[test]
    fn controls_topic_gives_swop_preview_and_values() {
        let payload = br#"{"type":"NEWSPT","swop_version":"0.2","datapoint":"RTs","value":20.5,"priority":13}"#;
        let decoded = Decoded::from_payload("CONTROLS/lbg01/proj", payload);
        assert_eq!(decoded.format, PayloadFormat::Swop);
        assert_eq!(decoded.preview, "NEWSPT datapoint=RTs value=20.5 prio 13");
        assert_eq!(decoded.values[0].key, ValueKey::JsonPath("value".into()));
        assert_eq!(decoded.problem(), None);
    }

    #[test]
    fn controls_problems_are_the_strict_validators_refusals_and_remarks() {
        let problem = |payload: &str| {
            Decoded::from_payload("CONTROLS/lbg01/proj", payload.as_bytes())
                .problem()
                .map(str::to_owned)
                .unwrap_or_default()
        };
        let out_of_range = problem(
            r#"{"type":"NEWSPT","swop_version":"0.2","datapoint":"x","value":1,"priority":17}"#,
        );
        assert_eq!(
            out_of_range,
            "invalid NEWSPT: `priority` 17 is outside the BACnet range 1 to 16"
        );
        // The same sentence the composer and `topicscope setpoint` give for the message.
        let strict = swop::parse(
            br#"{"type":"NEWSPT","swop_version":"0.2","datapoint":"x","value":1,"priority":17}"#,
        );
        assert_eq!(strict.unwrap_err().to_string(), out_of_range);
        assert!(problem(r#"{"type":"newspt","swop_version":"0.2"}"#).contains("upper case"));
        assert!(
            problem(r#"{"type":"NEWSPT","swop_version":"0.2","datapoint":"x","value":"15,3"}"#)
                .contains("decimal comma")
        );
        assert_eq!(
            problem(r#"{"type":"ACKSPT","swop_version":"0.2","reference":"r","state":"written"}"#),
            ""
        );
        // Normalised, as the reference says, and not flagged.
        assert_eq!(
            problem(r#"{"type":"NEWSPT","swop_version":0.1,"datapoint":"x","value":1}"#),
            ""
        );
    }

    #[test]
    fn controls_topic_without_type_is_json_with_a_problem() {
        let decoded = Decoded::from_payload("CONTROLS/lbg01/proj", br#"{"swop_version":"0.2"}"#);
        assert_eq!(decoded.format, PayloadFormat::Json);
        assert!(decoded.problem().unwrap().contains("no string `type`"));
    }

    #[test]
    fn preview_is_one_line_bounded_and_without_control_characters() {
        assert_eq!(
            one_line_preview("  a\n\tb\u{7}c\u{202E}d  "),
            "a b\u{FFFD}c\u{FFFD}d"
        );
        let long = "ä".repeat(500);
        let preview = one_line_preview(&long);
        assert_eq!(preview.chars().count(), PREVIEW_CHARS);
        assert!(preview.ends_with('…'));
        assert_eq!(
            one_line_preview(&"x".repeat(PREVIEW_CHARS)),
            "x".repeat(PREVIEW_CHARS)
        );
    }

    #[test]
    fn oversized_payloads_are_previewed_but_not_decoded() {
        let mut payload = b"m value=1 1\n".repeat(MAX_DECODE_BYTES / 10);
        payload.extend_from_slice("ä".as_bytes());
        let decoded = Decoded::from_payload(SERIES_TOPIC, &payload);
        assert_eq!(decoded.format, PayloadFormat::Text);
        assert!(decoded.values.is_empty());
        assert!(decoded.problem().unwrap().contains("too large to decode"));
        assert!(decoded.preview.chars().count() <= PREVIEW_CHARS);
    }

    #[test]
    fn value_count_of_one_payload_is_capped() {
        let payload: String = (0..MAX_VALUES + 10)
            .map(|index| format!("m v={index} {index}\n"))
            .collect();
        let decoded = decode(&payload);
        assert_eq!(decoded.values.len(), MAX_VALUES);
        assert!(decoded.problem().unwrap().contains("only the first"));
    }

    #[test]
    fn huge_and_tiny_numbers_preview_compactly() {
        assert_eq!(format_number(1e300), "1e300");
        assert_eq!(format_number(20.3), "20.3");
        assert_eq!(format_number(0.0), "0");
    }
}
