//! Getting data out: long and wide CSV, JSON Lines message history and Parquet (long format).
//!
//! The writers take decoded data ([`Point`]s, [`Message`]s, series) from any source: a recording
//! ([`export_recording`], used by `topicscope export`), or the window's store. Long exports
//! report progress and stop when asked ([`ExportControl`]); they write to `FILE.partial` and
//! rename it at the end, so a cancelled or failed export never leaves half a file under the
//! name asked for, nor destroys an earlier file of that name.
//!
//! Depends on `model` (and `record` for recordings).

pub mod csv;
pub mod jsonl;
pub mod parquet;
pub mod recording;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Local, SecondsFormat, Utc};

use crate::model::aedifion::datapoints::AedifionFacts;
use crate::model::decode::message::Message;
use crate::model::decode::payload::{ExtractedValue, ValueKey};
use crate::model::time::Nanos;

pub use recording::{
    ExportFormat, ExportRequest, ExportSummary, export_messages, export_recording,
};

/// How times are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeFormat {
    /// ISO 8601 / RFC 3339 in UTC: `2024-05-01T12:00:00.5Z`.
    #[default]
    IsoUtc,
    /// ISO 8601 / RFC 3339 in the local time zone with its offset: `2024-05-01T14:00:00.5+02:00`.
    IsoLocal,
    /// Nanoseconds since the Unix epoch: `1714564800500000000`.
    UnixNanos,
}

impl TimeFormat {
    /// The time as text. Fractions of a second use 3, 6 or 9 digits, as many as needed.
    pub fn format(self, at_nanos: Nanos) -> String {
        let at = DateTime::<Utc>::from_timestamp_nanos(at_nanos);
        match self {
            TimeFormat::IsoUtc => at.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            TimeFormat::IsoLocal => at
                .with_timezone(&Local)
                .to_rfc3339_opts(SecondsFormat::AutoSi, false),
            TimeFormat::UnixNanos => at_nanos.to_string(),
        }
    }
}

/// One number to export: when, where from, what, and its unit if known.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Time of the value: the time written in the payload, else the receive time.
    pub at_nanos: Nanos,
    /// The topic it came on.
    pub topic: String,
    /// The datapoint (the Influx measurement) if the payload names one.
    pub datapoint: Option<String>,
    /// The field of the datapoint (`value` for most aedifion lines), the JSON path of a JSON
    /// number, or `value` for a payload that is one number.
    pub field: String,
    /// The number (booleans as 0/1).
    pub value: f64,
    /// Engineering unit from the datapoint's metadata, if seen.
    pub unit: Option<String>,
}

/// The points of a decoded message received on `topic` (a stored message's own topic field
/// may be empty).
pub fn points_of(topic: &str, message: &Message, units: &Units) -> Vec<Point> {
    message
        .decoded
        .values
        .iter()
        .map(|value| point_of(topic, message.received_at_nanos, value, units))
        .collect()
}

fn point_of(topic: &str, received_at_nanos: Nanos, value: &ExtractedValue, units: &Units) -> Point {
    let (datapoint, field) = datapoint_and_field(&value.key);
    let unit = datapoint
        .as_deref()
        .and_then(|datapoint| units.unit(topic, datapoint))
        .map(str::to_owned);
    Point {
        at_nanos: value.timestamp_nanos.unwrap_or(received_at_nanos),
        topic: topic.to_owned(),
        datapoint,
        field,
        value: value.value,
        unit,
    }
}

/// The datapoint (Influx measurement, if any) and field a value key names.
pub fn datapoint_and_field(key: &ValueKey) -> (Option<String>, String) {
    match key {
        ValueKey::Whole => (None, "value".to_owned()),
        ValueKey::JsonPath(path) => (None, path.to_string()),
        ValueKey::InfluxField { measurement, field } => {
            (Some(measurement.to_string()), field.to_string())
        }
    }
}

/// Engineering units learned from aedifion metadata (`META/<lbg>/<project>/…` messages with
/// `name` and `units`), per project and datapoint name.
#[derive(Debug, Clone, Default)]
pub struct Units {
    by_project_and_name: HashMap<(String, String), String>,
}

impl Units {
    /// Takes the unit from `message` if it is datapoint metadata; returns whether it was.
    pub fn learn(&mut self, topic: &str, message: &Message) -> bool {
        let Some(AedifionFacts::Meta(meta)) = message.decoded.aedifion() else {
            return false;
        };
        let (Some(name), Some(units)) = (meta.name.as_deref(), meta.units.as_deref()) else {
            return false;
        };
        let Some(project) = project_of(topic.strip_prefix("META/").unwrap_or(topic)) else {
            return false;
        };
        self.by_project_and_name
            .insert((project.to_owned(), name.to_owned()), units.to_owned());
        true
    }

    /// Sets a unit directly (e.g. from the window's datapoint registry).
    pub fn insert(&mut self, project: &str, datapoint: &str, unit: &str) {
        self.by_project_and_name
            .insert((project.to_owned(), datapoint.to_owned()), unit.to_owned());
    }

    /// The unit of `datapoint` published on `topic` (`<lbg>/<project>/…`), if known.
    pub fn unit(&self, topic: &str, datapoint: &str) -> Option<&str> {
        let project = project_of(topic)?;
        self.by_project_and_name
            .get(&(project.to_owned(), datapoint.to_owned()))
            .map(String::as_str)
    }

    /// Number of datapoints with a unit.
    pub fn len(&self) -> usize {
        self.by_project_and_name.len()
    }

    /// True when no unit is known.
    pub fn is_empty(&self) -> bool {
        self.by_project_and_name.is_empty()
    }
}

/// `<lbg>/<project>` of a topic: its first two levels.
fn project_of(topic: &str) -> Option<&str> {
    let first = topic.find('/')?;
    let second = topic[first + 1..]
        .find('/')
        .map_or(topic.len(), |at| first + 1 + at);
    Some(&topic[..second])
}

/// Where a long export stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExportProgress {
    /// Work done, in the unit of `total` (bytes of input read, or items).
    pub done: u64,
    /// Work in all (0 when unknown).
    pub total: u64,
    /// Messages exported so far.
    pub messages_exported: u64,
}

impl ExportProgress {
    /// Fraction done, 0–1 (0 when the total is unknown).
    pub fn fraction(&self) -> f32 {
        if self.total == 0 {
            0.0
        } else {
            (self.done as f64 / self.total as f64).clamp(0.0, 1.0) as f32
        }
    }
}

/// Progress reports and the cancel flag of a long export (run it off the UI thread; set the
/// flag from the UI to stop it).
pub struct ExportControl<'a> {
    /// Set to stop the export; it returns [`ExportError::Cancelled`] and leaves no file.
    pub cancel: &'a AtomicBool,
    /// Called now and then (not per row) with where the export stands.
    pub progress: &'a mut dyn FnMut(ExportProgress),
}

impl ExportControl<'_> {
    /// True once cancel was asked for.
    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Reading the input or writing the output failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The recording cannot be opened.
    #[error(transparent)]
    Recording(#[from] crate::record::RecordError),
    /// The Parquet library refused (a bug or an I/O error inside it).
    #[error("writing Parquet failed: {0}")]
    Parquet(#[from] ::parquet::errors::ParquetError),
    /// The options do not go together.
    #[error("{0}")]
    Options(String),
    /// The user cancelled; nothing was written.
    #[error("export cancelled; no file was written")]
    Cancelled,
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::model::topic::qos::Qos;

    #[test]
    fn times_are_written_in_each_format() {
        let at = 1_714_564_800_500_000_000;
        assert_eq!(TimeFormat::IsoUtc.format(at), "2024-05-01T12:00:00.500Z");
        assert_eq!(TimeFormat::UnixNanos.format(at), "1714564800500000000");
        assert_eq!(
            TimeFormat::IsoUtc.format(1),
            "1970-01-01T00:00:00.000000001Z"
        );
        let local = TimeFormat::IsoLocal.format(at);
        let parsed = DateTime::parse_from_rfc3339(&local).unwrap();
        assert_eq!(parsed.timestamp_nanos_opt(), Some(at), "{local}");
    }

    #[test]
    fn units_come_from_metadata_of_the_same_project() {
        let meta = Message::new(
            "META/lbg01/proj/abc".into(),
            Bytes::from_static(br#"{"name":"RoomTemp","objtype":"analogInput","units":"degC"}"#),
            Qos::AtLeastOnce,
            true,
            1,
        );
        let mut units = Units::default();
        assert!(units.learn(&meta.topic, &meta));
        assert_eq!(units.unit("lbg01/proj/xyz", "RoomTemp"), Some("degC"));
        assert_eq!(units.unit("lbg01/other/xyz", "RoomTemp"), None);

        let data = Message::new(
            "lbg01/proj/xyz".into(),
            Bytes::from_static(b"RoomTemp value=21.5 1714564800000000000"),
            Qos::AtLeastOnce,
            false,
            5,
        );
        let points = points_of(&data.topic, &data, &units);
        assert_eq!(
            points,
            vec![Point {
                at_nanos: 1_714_564_800_000_000_000,
                topic: "lbg01/proj/xyz".into(),
                datapoint: Some("RoomTemp".into()),
                field: "value".into(),
                value: 21.5,
                unit: Some("degC".into()),
            }]
        );
    }
}
