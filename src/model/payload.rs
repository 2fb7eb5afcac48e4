//! Payload classification and value extraction. Runs on the worker thread, once per message.
//! OWNER: payload-decoding helper. The public API below is the contract other layers use.

use serde::{Deserialize, Serialize};

use super::message::Nanos;

/// What a payload was recognised as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PayloadFormat {
    Empty,
    /// Valid UTF-8 that is nothing more specific.
    Text,
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

/// Which number inside a payload a value (and a plot series) refers to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ValueKey {
    /// The whole payload is the number.
    Whole,
    /// A numeric (or boolean) JSON leaf, addressed like `a.b[2].c`.
    JsonPath(String),
    /// A field of an Influx line, e.g. measurement `RoomTemp`, field `value`.
    InfluxField { measurement: String, field: String },
}

/// One number found in a payload.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtractedValue {
    pub key: ValueKey,
    pub value: f64,
    /// Time written inside the payload (Influx timestamp, legacy ISO time), if any.
    pub timestamp_nanos: Option<Nanos>,
}

/// The result of decoding one payload: cheap to keep next to the raw bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub format: PayloadFormat,
    /// One line, at most [`PREVIEW_CHARS`] characters, for the tree.
    pub preview: String,
    /// Numbers that can be plotted, in payload order (bounded count).
    pub values: Vec<ExtractedValue>,
    /// Why the payload is not what it looked like (e.g. a malformed Influx line), for the UI.
    pub problem: Option<String>,
}

/// Maximum length of [`Decoded::preview`] in characters.
pub const PREVIEW_CHARS: usize = 120;
