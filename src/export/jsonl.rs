//! JSON Lines message history: one JSON object per message, in the order given.
//!
//! ```json
//! {"time":"2024-05-01T12:00:00.5Z","received_at_nanos":1714564800500000000,"topic":"a/b",
//!  "qos":1,"retain":false,"payload":"RoomTemp value=21.5","payload_encoding":"utf8",
//!  "format":"influx","values":[{"datapoint":"RoomTemp","field":"value","value":21.5,
//!  "time_nanos":1714564800000000000,"unit":"°C"}]}
//! ```
//! (one line per message). `payload` is the text when the payload is valid UTF-8
//! (`payload_encoding` `utf8`), else its standard base64 (`base64`). `datapoint`, `time_nanos`,
//! `unit` and `problem` are left out when unknown.

use std::io::Write;

use base64::Engine as _;
use serde::Serialize;

use crate::model::decode::message::Message;
use crate::model::time::Nanos;

use super::{ExportError, TimeFormat, Units, points_of};

#[derive(Serialize)]
struct Line<'a> {
    time: String,
    received_at_nanos: Nanos,
    topic: &'a str,
    qos: u8,
    retain: bool,
    payload: std::borrow::Cow<'a, str>,
    payload_encoding: &'static str,
    format: &'static str,
    values: Vec<Value<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    problem: Option<&'a str>,
}

#[derive(Serialize)]
struct Value<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    datapoint: Option<String>,
    field: String,
    value: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    time_nanos: Option<Nanos>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit: Option<std::borrow::Cow<'a, str>>,
}

/// Writes one line per message.
pub struct JsonLinesWriter<W: Write> {
    out: W,
    time_format: TimeFormat,
    lines: u64,
}

impl<W: Write> JsonLinesWriter<W> {
    /// A writer whose `time` member uses `time_format` (`received_at_nanos` is always there).
    pub fn new(out: W, time_format: TimeFormat) -> Self {
        Self {
            out,
            time_format,
            lines: 0,
        }
    }

    /// Writes `message`, received on `topic` (a stored message's own topic may be empty).
    pub fn write_message(
        &mut self,
        topic: &str,
        message: &Message,
        units: &Units,
    ) -> Result<(), ExportError> {
        let (payload, payload_encoding) = match std::str::from_utf8(&message.payload) {
            Ok(text) => (std::borrow::Cow::Borrowed(text), "utf8"),
            Err(_) => (
                std::borrow::Cow::Owned(
                    base64::engine::general_purpose::STANDARD.encode(&message.payload),
                ),
                "base64",
            ),
        };
        let values = points_of(topic, message, units)
            .into_iter()
            .zip(&message.decoded.values)
            .map(|(point, extracted)| Value {
                datapoint: point.datapoint,
                field: point.field,
                value: point.value,
                time_nanos: extracted.timestamp_nanos,
                unit: point.unit.map(std::borrow::Cow::Owned),
            })
            .collect();
        let line = Line {
            time: self.time_format.format(message.received_at_nanos),
            received_at_nanos: message.received_at_nanos,
            topic,
            qos: message.qos.level(),
            retain: message.retained,
            payload,
            payload_encoding,
            format: message.decoded.format.name(),
            values,
            problem: message.decoded.problem(),
        };
        let io = |source| ExportError::Io {
            action: "cannot write",
            path: "the export".into(),
            source,
        };
        serde_json::to_writer(&mut self.out, &line).map_err(|error| io(error.into()))?;
        self.out.write_all(b"\n").map_err(io)?;
        self.lines += 1;
        Ok(())
    }

    /// Lines written.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Flushes and returns the output.
    pub fn finish(mut self) -> Result<W, ExportError> {
        self.out.flush().map_err(|source| ExportError::Io {
            action: "cannot write",
            path: "the export".into(),
            source,
        })?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::model::topic::qos::Qos;

    #[test]
    fn text_payloads_stay_text_and_binary_ones_become_base64() {
        let mut writer = JsonLinesWriter::new(Vec::new(), TimeFormat::IsoUtc);
        let units = Units::default();
        let text = Message::new(
            "a".into(),
            Bytes::from_static(b"{\"t\":21.5}"),
            Qos::AtLeastOnce,
            true,
            1_000,
        );
        let binary = Message::new(
            "b".into(),
            Bytes::from_static(&[0xff, 0x00]),
            Qos::AtMostOnce,
            false,
            2_000,
        );
        writer.write_message("a", &text, &units).unwrap();
        writer.write_message("b", &binary, &units).unwrap();
        let out = String::from_utf8(writer.finish().unwrap()).unwrap();
        let lines: Vec<serde_json::Value> = out
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert_eq!(lines[0]["payload"], "{\"t\":21.5}");
        assert_eq!(lines[0]["payload_encoding"], "utf8");
        assert_eq!(lines[0]["qos"], 1);
        assert_eq!(lines[0]["retain"], true);
        assert_eq!(lines[0]["format"], "json");
        assert_eq!(lines[0]["values"][0]["field"], "t");
        assert_eq!(lines[0]["values"][0]["value"], 21.5);
        assert_eq!(lines[0]["time"], "1970-01-01T00:00:00.000001Z");
        assert_eq!(lines[1]["payload"], "/wA=");
        assert_eq!(lines[1]["payload_encoding"], "base64");
        assert_eq!(lines[1]["format"], "binary");
        assert_eq!(lines[1]["values"].as_array().unwrap().len(), 0);
    }
}
