//! A received MQTT message as the store sees it: raw bytes plus what the worker
//! decoded from them (so the UI thread never parses payloads).

use bytes::Bytes;

use super::decoder_override::DecoderChoice;
use super::payload::Decoded;

/// Nanoseconds since the Unix epoch (UTC). Used for every point in time in the model.
pub type Nanos = i64;

/// MQTT quality of service, independent of any client library.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub enum Qos {
    #[default]
    AtMostOnce,
    AtLeastOnce,
    ExactlyOnce,
}

impl Qos {
    /// The numeric level (0, 1, 2) as MQTT writes it.
    pub fn level(self) -> u8 {
        match self {
            Qos::AtMostOnce => 0,
            Qos::AtLeastOnce => 1,
            Qos::ExactlyOnce => 2,
        }
    }

    /// Parses 0, 1 or 2.
    pub fn from_level(level: u8) -> Option<Self> {
        match level {
            0 => Some(Qos::AtMostOnce),
            1 => Some(Qos::AtLeastOnce),
            2 => Some(Qos::ExactlyOnce),
            _ => None,
        }
    }
}

/// One received publish, decoded on the worker thread.
#[derive(Debug, Clone)]
pub struct Message {
    /// The concrete topic it was published on. Empty once the store keeps the message (the
    /// topic tree holds the path; see `Store::find_topic` and `TopicTree::path`).
    pub topic: String,
    /// Raw payload bytes (shared, never copied after receipt).
    pub payload: Bytes,
    pub qos: Qos,
    /// The broker delivered it as a retained message.
    pub retained: bool,
    /// Wall-clock time of receipt.
    pub received_at_nanos: Nanos,
    /// Format, preview and numeric values, computed once when the message arrived.
    pub decoded: Decoded,
}

impl Message {
    /// Builds a message and decodes its payload (call this on the worker thread).
    pub fn new(
        topic: String,
        payload: Bytes,
        qos: Qos,
        retained: bool,
        received_at_nanos: Nanos,
    ) -> Self {
        Self::new_as(
            topic,
            payload,
            qos,
            retained,
            received_at_nanos,
            DecoderChoice::Auto,
        )
    }

    /// Like [`Message::new`], decoding with `decoder` (a profile's per-topic override).
    pub fn new_as(
        topic: String,
        payload: Bytes,
        qos: Qos,
        retained: bool,
        received_at_nanos: Nanos,
        decoder: DecoderChoice,
    ) -> Self {
        let decoded = Decoded::from_payload_as(&topic, &payload, decoder);
        Self {
            topic,
            payload,
            qos,
            retained,
            received_at_nanos,
            decoded,
        }
    }
}

/// The current wall-clock time in nanoseconds since the Unix epoch.
pub fn now_nanos() -> Nanos {
    let elapsed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(elapsed.as_nanos()).unwrap_or(i64::MAX)
}
