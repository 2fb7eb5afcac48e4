//! `topicscope decode`: decode one payload from a file or stdin and print the result as JSON,
//! so scripts (and tests) can use TopicScope's decoders without a window or a broker.
//!
//! Output: one pretty-printed JSON object on stdout (see [`DECODE_HELP`] for its shape). Exit
//! code 0 when the payload decodes without error under the chosen (or automatic) decoder, 1 when
//! it does not (the errors are in the JSON), 2 when the input cannot be read.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::model::aedifion::family::{self as aedifion, TopicFamily};
use crate::model::aedifion::meta::{self, MetaError, MetaMessage};
use crate::model::aedifion::swop::{self, SwopError, SwopMessage};
use crate::model::decode::decoder_override::{DecoderChoice, UnknownDecoder};
use crate::model::decode::influx::{self, AedifionFit, FieldValue, Line};
use crate::model::decode::json_values;
use crate::model::decode::legacy::{self, LegacyRecord};
use crate::model::decode::payload::{Decoded, ExtractedValue, PayloadFormat, ValueKey};
use crate::model::time::Nanos;

/// Longest excerpt of a failing line quoted in an error.
const EXCERPT_CHARS: usize = 200;

/// Shape of the output, shown by `topicscope decode --help`.
pub const DECODE_HELP: &str = "\
Output (one JSON object on stdout):
  ok           true when the payload decodes without error
  decoder      the decoder asked for (auto, influx, legacy, json, meta, swop)
  format       what the payload was decoded as: influx, legacy, json, number, meta, swop,
               text, binary or empty
  topic        the --topic given, if any
  size_bytes   payload size
  preview      the one-line preview the explorer shows
  values       plottable numbers: {key, value, timestamp_ns}; key is
               {measurement, field} (influx, legacy), {path} (json, swop) or \"whole\" (number)
  lines        influx only: {line_number, measurement, tags, fields, timestamp_ns, time_utc,
               aedifion_fit (storable | undocumented | not_storable), warnings}; each field
               is {type: float|integer|unsigned|string|boolean, value}
  legacy       legacy only: {datapoint, time_text, timestamp_ns, value}
  meta         meta only: {name, subject (device|datapoint), objtype, source, tags, notes}
  swop         swop only: {kind (new_setpoint|acknowledgement|other), ...fields, notes}
  number       json only, for a plain number: {value, unit}
  errors       why it does not decode: {reason, line_number, byte_position (0-based, in the
               line), column (1-based, JSON), text (the failing line)}
  problem      the explorer's one-line remark, if any

Automatic choice: with --topic, META/... is metadata, CONTROLS/... is SWOP, anything else a
time series (line protocol, then legacy, a number with unit, JSON, text). Without --topic, a
JSON object with a string `type` is read as SWOP, one with `name` or `objtype` as metadata.

Exit status: 0 decoded, 1 does not decode (errors in the JSON), 2 input not readable.

Examples:
  echo 'RoomTemperature value=20.3 1465839830100400200' | topicscope decode
  topicscope decode --topic META/lbg01/mybuilding meta-datapoint.json
  topicscope decode --format swop NEWSPT.json";

/// Arguments of `topicscope decode`.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
#[command(after_long_help = DECODE_HELP)]
pub struct DecodeArgs {
    /// Topic the payload was received on; under `--format auto` it selects the decoder family.
    #[arg(long, value_name = "TOPIC")]
    pub topic: Option<String>,
    /// Decoder: auto, influx, legacy, json, meta or swop.
    #[arg(long, value_name = "FORMAT", default_value = "auto", value_parser = parse_choice)]
    pub format: DecoderChoice,
    /// File holding the payload (raw bytes); stdin when absent or `-`.
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
}

fn parse_choice(text: &str) -> Result<DecoderChoice, UnknownDecoder> {
    text.parse()
}

/// The input could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DecodeCommandError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// stdin could not be read.
    #[error("cannot read the payload from stdin: {0}")]
    Stdin(std::io::Error),
    /// stdout could not be written (e.g. a closed pipe).
    #[error("cannot write the result: {0}")]
    Output(std::io::Error),
}

/// Runs the command as the binary does: prints, and returns the exit code.
pub fn main(args: &DecodeArgs) -> ExitCode {
    let result = read_payload(args).and_then(|payload| {
        let report = decode(args.topic.as_deref(), &payload, args.format);
        let mut stdout = std::io::stdout().lock();
        write_report(&report, &mut stdout).map(|()| report.ok)
    });
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(error) => {
            eprintln!("topicscope decode: {error}");
            ExitCode::from(2)
        }
    }
}

fn read_payload(args: &DecodeArgs) -> Result<Vec<u8>, DecodeCommandError> {
    match &args.file {
        Some(path) if path.as_os_str() != "-" => {
            std::fs::read(path).map_err(|source| DecodeCommandError::File {
                path: path.clone(),
                source,
            })
        }
        _ => {
            let mut payload = Vec::new();
            std::io::stdin()
                .read_to_end(&mut payload)
                .map_err(DecodeCommandError::Stdin)?;
            Ok(payload)
        }
    }
}

/// Writes the report as pretty JSON and a newline.
pub fn write_report(report: &DecodeReport, out: &mut impl Write) -> Result<(), DecodeCommandError> {
    serde_json::to_writer_pretty(&mut *out, report)
        .map_err(|error| DecodeCommandError::Output(error.into()))?;
    writeln!(out).map_err(DecodeCommandError::Output)
}

/// Everything `decode` prints (see [`DECODE_HELP`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecodeReport {
    /// The payload decodes without error.
    pub ok: bool,
    /// The decoder asked for.
    pub decoder: DecoderChoice,
    /// What it was decoded as.
    pub format: &'static str,
    /// The topic given, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// Payload size.
    pub size_bytes: usize,
    /// The explorer's one-line preview.
    pub preview: String,
    /// Plottable numbers.
    pub values: Vec<ValueView>,
    /// Influx lines that decoded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lines: Option<Vec<LineView>>,
    /// The legacy record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legacy: Option<LegacyView>,
    /// The metadata message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<MetaMessage>,
    /// The SWOP message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub swop: Option<SwopMessage>,
    /// A plain number and its unit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<NumberView>,
    /// Why (parts of) the payload do not decode.
    pub errors: Vec<ErrorView>,
    /// The explorer's remark.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// One plottable number.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValueView {
    /// Where it is in the payload.
    pub key: KeyView,
    /// The number (booleans as 0/1).
    pub value: f64,
    /// Time written in the payload, if any.
    pub timestamp_ns: Option<Nanos>,
}

/// Where a number is in the payload.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum KeyView {
    /// `"whole"`: the payload is the number.
    Whole(&'static str),
    /// A JSON path such as `temp.value`.
    Path {
        /// The path.
        path: String,
    },
    /// An Influx (or legacy) field.
    Field {
        /// The datapoint.
        measurement: String,
        /// The field key.
        field: String,
    },
}

/// One decoded line-protocol line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LineView {
    /// 1-based line in the payload.
    pub line_number: usize,
    /// The datapoint name, unescaped.
    pub measurement: String,
    /// Tags (a later duplicate key wins).
    pub tags: Map<String, Value>,
    /// Fields as `{type, value}` (a later duplicate key wins).
    pub fields: Map<String, Value>,
    /// Nanoseconds since the epoch, if written.
    pub timestamp_ns: Option<Nanos>,
    /// The timestamp as RFC 3339 UTC, if written.
    pub time_utc: Option<String>,
    /// How well it fits aedifion's documented profile.
    pub aedifion_fit: AedifionFit,
    /// Lints that do not make the line invalid.
    pub warnings: Vec<String>,
}

/// A decoded legacy record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LegacyView {
    /// The datapoint name.
    pub datapoint: String,
    /// The time as written.
    pub time_text: String,
    /// The time in nanoseconds.
    pub timestamp_ns: Nanos,
    /// The value.
    pub value: f64,
}

/// A plain number with an optional unit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NumberView {
    /// The number.
    pub value: f64,
    /// The unit, empty when none.
    pub unit: String,
}

/// Why (part of) a payload does not decode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct ErrorView {
    /// What is wrong.
    pub reason: String,
    /// 1-based line, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line_number: Option<usize>,
    /// 0-based byte offset inside the line (line protocol) or the payload (UTF-8).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub byte_position: Option<usize>,
    /// 1-based column (JSON).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// The failing line (shortened).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl ErrorView {
    fn reason(reason: impl Into<String>) -> ErrorView {
        ErrorView {
            reason: reason.into(),
            ..ErrorView::default()
        }
    }
}

/// Decodes `payload` as `topicscope decode` does. Never panics, whatever the bytes.
pub fn decode(topic: Option<&str>, payload: &[u8], choice: DecoderChoice) -> DecodeReport {
    let decoder = effective_decoder(topic, payload, choice);
    let explorer_topic = topic.map_or_else(|| topic_for(decoder), str::to_owned);
    let decoded = Decoded::from_payload_as(&explorer_topic, payload, decoder);
    let mut report = DecodeReport {
        ok: false,
        decoder: choice,
        format: decoded.format.name(),
        topic: topic.map(str::to_owned),
        size_bytes: payload.len(),
        preview: decoded.preview.clone(),
        values: decoded.values.iter().map(value_view).collect(),
        lines: None,
        legacy: None,
        meta: None,
        swop: None,
        number: None,
        errors: Vec::new(),
        problem: decoded.problem().map(str::to_owned),
    };
    let text = match std::str::from_utf8(payload) {
        Ok(text) => text,
        Err(error) => {
            report.errors.push(ErrorView {
                byte_position: Some(error.valid_up_to()),
                ..ErrorView::reason(format!(
                    "not UTF-8 at byte {}: every supported format is UTF-8 text",
                    error.valid_up_to()
                ))
            });
            return report;
        }
    };
    if payload.is_empty() {
        report
            .errors
            .push(ErrorView::reason("the payload is empty"));
        return report;
    }
    match decoder {
        DecoderChoice::Influx => decode_influx(text, &mut report),
        DecoderChoice::Legacy => decode_legacy(text, &mut report),
        DecoderChoice::Json => decode_json(text, &mut report),
        DecoderChoice::Meta => decode_meta(payload, &mut report),
        DecoderChoice::Swop => decode_swop(payload, &mut report),
        DecoderChoice::Auto => report.errors.push(ErrorView::reason(
            decoded.problem().map(str::to_owned).unwrap_or_else(|| {
                "not line protocol, the legacy format, JSON or a number".to_owned()
            }),
        )),
    }
    report.ok = report.errors.is_empty();
    report
}

/// The decoder `auto` stands for: by topic family, then by what the explorer recognised.
/// `Auto` is returned for payloads that are nothing in particular (text, binary, empty).
fn effective_decoder(topic: Option<&str>, payload: &[u8], choice: DecoderChoice) -> DecoderChoice {
    if choice != DecoderChoice::Auto {
        return choice;
    }
    let family = match topic {
        Some(topic) => aedifion::topic_family(topic),
        None => family_from_payload(payload),
    };
    match family {
        TopicFamily::Meta => return DecoderChoice::Meta,
        TopicFamily::Controls => return DecoderChoice::Swop,
        TopicFamily::TimeSeries => {}
    }
    let decoded = Decoded::from_payload(topic.unwrap_or_default(), payload);
    match decoded.format {
        PayloadFormat::Influx => DecoderChoice::Influx,
        PayloadFormat::Legacy => DecoderChoice::Legacy,
        PayloadFormat::Json | PayloadFormat::Number => DecoderChoice::Json,
        PayloadFormat::Meta => DecoderChoice::Meta,
        PayloadFormat::Swop => DecoderChoice::Swop,
        // Broken line protocol is still best explained by the line-protocol decoder.
        PayloadFormat::Text if looks_like_line_protocol(payload) => DecoderChoice::Influx,
        PayloadFormat::Empty | PayloadFormat::Text | PayloadFormat::Binary => DecoderChoice::Auto,
    }
}

/// Some line has the `name key=value` shape.
fn looks_like_line_protocol(payload: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(payload) else {
        return false;
    };
    influx::payload_lines(text).any(|(_, line)| {
        line.split_once(' ')
            .is_some_and(|(_, rest)| rest.contains('='))
    })
}

/// Without a topic: a JSON object with a string `type` is SWOP, one with `name` or `objtype`
/// is metadata, anything else a time series.
fn family_from_payload(payload: &[u8]) -> TopicFamily {
    let Ok(Value::Object(members)) = serde_json::from_slice::<Value>(payload) else {
        return TopicFamily::TimeSeries;
    };
    if members.get("type").is_some_and(Value::is_string) {
        TopicFamily::Controls
    } else if members.contains_key("name") || members.contains_key("objtype") {
        TopicFamily::Meta
    } else {
        TopicFamily::TimeSeries
    }
}

/// A topic of the family a decoder belongs to, for the explorer's decode.
fn topic_for(decoder: DecoderChoice) -> String {
    match decoder {
        DecoderChoice::Meta => aedifion::META_PREFIX.to_owned(),
        DecoderChoice::Swop => aedifion::CONTROLS_PREFIX.to_owned(),
        _ => String::new(),
    }
}

fn value_view(value: &ExtractedValue) -> ValueView {
    let key = match &value.key {
        ValueKey::Whole => KeyView::Whole("whole"),
        ValueKey::JsonPath(path) => KeyView::Path {
            path: path.to_string(),
        },
        ValueKey::InfluxField { measurement, field } => KeyView::Field {
            measurement: measurement.to_string(),
            field: field.to_string(),
        },
    };
    ValueView {
        key,
        value: value.value,
        timestamp_ns: value.timestamp_nanos,
    }
}

fn decode_influx(text: &str, report: &mut DecodeReport) {
    let mut lines = Vec::new();
    for (line_number, line_text) in influx::payload_lines(text) {
        match influx::parse_line(line_text) {
            Ok(line) => lines.push(line_view(line_number, line)),
            Err(error) => report.errors.push(ErrorView {
                reason: error.reason.to_string(),
                line_number: Some(line_number),
                byte_position: Some(error.byte_position),
                column: None,
                text: Some(excerpt(line_text)),
            }),
        }
    }
    if lines.is_empty() && report.errors.is_empty() {
        report.errors.push(ErrorView::reason(
            "no line protocol: the payload has only blank lines and comments",
        ));
    }
    report.format = if lines.is_empty() { "text" } else { "influx" };
    report.lines = Some(lines);
}

fn line_view(line_number: usize, line: Line) -> LineView {
    let aedifion_fit = line.aedifion_fit();
    let mut warnings = Vec::new();
    if line.timestamp_nanos.is_none() {
        warnings.push("no timestamp: the broker's receive time would be used".to_owned());
    } else if line.timestamp_has_wrong_precision() {
        warnings.push(
            "the timestamp looks like seconds, milliseconds or microseconds; line protocol \
             wants nanoseconds"
                .to_owned(),
        );
    }
    let tags = line
        .tags
        .into_iter()
        .map(|(key, value)| (key, Value::String(value)))
        .collect();
    let fields = line
        .fields
        .into_iter()
        .map(|(key, value)| (key, field_json(value)))
        .collect();
    LineView {
        line_number,
        measurement: line.measurement,
        tags,
        fields,
        timestamp_ns: line.timestamp_nanos,
        time_utc: line.timestamp_nanos.map(time_utc),
        aedifion_fit,
        warnings,
    }
}

/// `{"type": "float", "value": 20.3}`, the shape of the reference's vectors.
fn field_json(value: FieldValue) -> Value {
    let (type_name, json) = match value {
        FieldValue::Float(number) => ("float", Value::from(number)),
        FieldValue::Integer(number) => ("integer", Value::from(number)),
        FieldValue::Unsigned(number) => ("unsigned", Value::from(number)),
        FieldValue::String(text) => ("string", Value::from(text)),
        FieldValue::Boolean(flag) => ("boolean", Value::from(flag)),
    };
    serde_json::json!({ "type": type_name, "value": json })
}

fn time_utc(nanos: Nanos) -> String {
    chrono::DateTime::from_timestamp_nanos(nanos)
        .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

fn decode_legacy(text: &str, report: &mut DecodeReport) {
    match legacy::parse_legacy(text) {
        Ok(LegacyRecord {
            datapoint,
            time_text,
            timestamp_nanos,
            value,
        }) => {
            report.legacy = Some(LegacyView {
                datapoint,
                time_text,
                timestamp_ns: timestamp_nanos,
                value,
            });
        }
        Err(error) => report.errors.push(ErrorView::reason(error.to_string())),
    }
}

fn decode_json(text: &str, report: &mut DecodeReport) {
    let json_error = match json_values::extract_json_values(text) {
        Ok(_) => return,
        Err(error) => error,
    };
    if let Some((value, unit)) = json_values::parse_number_with_unit(text) {
        report.number = Some(NumberView {
            value,
            unit: unit.to_owned(),
        });
        return;
    }
    report.errors.push(ErrorView {
        line_number: Some(json_error.line()),
        column: Some(json_error.column()),
        ..ErrorView::reason(format!(
            "neither JSON nor a number with an optional unit: {}",
            meta::json_reason(&json_error)
        ))
    });
}

fn decode_meta(payload: &[u8], report: &mut DecodeReport) {
    match meta::parse(payload) {
        Ok(message) => {
            report.format = "meta";
            report.meta = Some(message);
        }
        Err(MetaError::NotJson {
            line,
            column,
            reason,
        }) => report.errors.push(ErrorView {
            line_number: Some(line),
            column: Some(column),
            ..ErrorView::reason(format!("not JSON: {reason}; metadata is one JSON object"))
        }),
        Err(error) => report.errors.push(ErrorView::reason(error.to_string())),
    }
}

fn decode_swop(payload: &[u8], report: &mut DecodeReport) {
    match swop::parse(payload) {
        Ok(message) => {
            report.format = "swop";
            report.swop = Some(message);
        }
        Err(SwopError::NotJson {
            line,
            column,
            reason,
        }) => report.errors.push(ErrorView {
            line_number: Some(line),
            column: Some(column),
            ..ErrorView::reason(format!(
                "not JSON: {reason}; a SWOP message is one JSON object"
            ))
        }),
        Err(SwopError::InvalidNewSetpoint { problems }) => {
            for problem in problems {
                report
                    .errors
                    .push(ErrorView::reason(format!("invalid NEWSPT: {problem}")));
            }
        }
        Err(error) => report.errors.push(ErrorView::reason(error.to_string())),
    }
}

fn excerpt(line: &str) -> String {
    match line.char_indices().nth(EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auto(payload: &str) -> DecodeReport {
        decode(None, payload.as_bytes(), DecoderChoice::Auto)
    }

    #[test]
    fn a_canonical_line_decodes_with_typed_fields_and_time() {
        let report = auto("RoomTemperature value=20.3 1465839830100400200");
        assert!(report.ok);
        assert_eq!(report.format, "influx");
        let lines = report.lines.unwrap();
        assert_eq!(lines[0].measurement, "RoomTemperature");
        assert_eq!(
            Value::Object(lines[0].fields.clone()),
            serde_json::json!({"value": {"type": "float", "value": 20.3}})
        );
        assert_eq!(
            lines[0].time_utc.as_deref(),
            Some("2016-06-13T17:43:50.100400200Z")
        );
        assert_eq!(lines[0].aedifion_fit, AedifionFit::Storable);
    }

    #[test]
    fn a_bad_line_among_good_ones_is_an_error_with_its_position() {
        let report = auto("a value=1 1\nb value=NaN 2\n");
        assert!(!report.ok);
        assert_eq!(report.lines.as_ref().map(Vec::len), Some(1));
        assert_eq!(report.errors[0].line_number, Some(2));
        assert_eq!(report.errors[0].byte_position, Some(8));
    }

    #[test]
    fn invalid_utf8_is_a_json_error_not_a_panic() {
        for choice in DecoderChoice::ALL {
            let report = decode(None, &[0x66, 0xff, 0x00], choice);
            assert!(!report.ok);
            assert_eq!(report.errors[0].byte_position, Some(1));
        }
    }

    #[test]
    fn without_a_topic_json_shape_picks_swop_or_meta() {
        let swop = auto(r#"{"type":"ALIVE","swop_version":"0.2"}"#);
        assert_eq!((swop.ok, swop.format), (true, "swop"));
        let meta = auto(r#"{"name":"x","objtype":"device"}"#);
        assert_eq!((meta.ok, meta.format), (true, "meta"));
        let plain = auto(r#"{"temp": 21.5}"#);
        assert_eq!((plain.ok, plain.format), (true, "json"));
    }

    #[test]
    fn the_topic_family_decides_under_auto() {
        let report = decode(
            Some("META/lbg01/p"),
            br#"{"objtype":"analogInput"}"#,
            DecoderChoice::Auto,
        );
        assert!(!report.ok);
        assert!(report.errors[0].reason.contains("`name` is missing"));
    }

    #[test]
    fn numbers_with_units_decode_as_json_choice() {
        let report = decode(None, "21.5 °C".as_bytes(), DecoderChoice::Json);
        assert!(report.ok);
        assert_eq!(
            report.number,
            Some(NumberView {
                value: 21.5,
                unit: "°C".into()
            })
        );
    }

    #[test]
    fn plain_text_does_not_decode() {
        let report = auto("hello world");
        assert!(!report.ok);
        assert_eq!(report.format, "text");
        assert!(!auto("").ok);
    }
}
